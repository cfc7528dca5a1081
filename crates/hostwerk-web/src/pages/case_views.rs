//! Template values of cases, timelines and proposals, shared by the customer menu and the staff console.

use hostwerk_domain::calendar::{format_berlin_datetime, format_date};
use hostwerk_domain::service_case::{format_duration, CaseCategory, CaseStatus, ProposalKind, ProposalStatus};
use hostwerk_domain::Language;
use hostwerk_store::{CaseDetail, CaseSummary, Contract, Proposal};
use minijinja::{context, Value};

use crate::casework::compute_early_end;

pub(crate) fn summary_view(c: &CaseSummary, lang: Language) -> Value {
    context! {
        id => c.id,
        number => c.customer_number.to_string(),
        customer_name => c.customer_name,
        channel => c.channel.as_str(),
        category => c.category.as_str(),
        subject => c.subject,
        status => c.status.as_str(),
        assigned_to => c.assigned_to,
        created => format_berlin_datetime(c.created_at, lang),
        updated => format_berlin_datetime(c.updated_at, lang),
        first_response => c.first_response_at.map(|at| format_duration((at - c.created_at).num_seconds())),
    }
}

/// A proposal, with the early end's two options computed from the contract when it is still open.
pub(crate) fn proposal_view(p: &Proposal, contract: Option<&Contract>, lang: Language) -> Value {
    let early = match (p.kind, p.status, contract, p.last_day) {
        (ProposalKind::EarlyEnd, ProposalStatus::Open, Some(c), Some(day)) => {
            match (compute_early_end(c, day, false), compute_early_end(c, day, true)) {
                (Ok(without), Ok(with)) => Some(context! {
                    tariff => c.tariff_name,
                    refund => without.refund.format(lang),
                    refunded_days => without.refunded_days,
                    last_paid => format_date(without.last_paid_day, lang),
                    end_without => format_date(without.last_service_day, lang),
                    end_with => format_date(with.last_service_day, lang),
                }),
                _ => None,
            }
        }
        _ => None,
    };
    context! {
        id => p.id,
        kind => p.kind.as_str(),
        status => p.status.as_str(),
        open => p.status == ProposalStatus::Open,
        body => p.body,
        created => format_berlin_datetime(p.created_at, lang),
        decided => p.decided_at.map(|at| format_berlin_datetime(at, lang)),
        free_month => p.free_month,
        early,
    }
}

/// The case, its timeline and proposals; `contracts` are the customer's (for early-end previews).
pub(crate) fn detail_view(d: &CaseDetail, contracts: &[Contract], lang: Language) -> Value {
    let events: Vec<Value> = d
        .events
        .iter()
        .map(|e| {
            context! {
                id => e.id,
                at => format_berlin_datetime(e.at, lang),
                kind => e.kind,
                author_kind => e.author_kind,
                author => e.author_name,
                body => e.body,
                internal => !e.visible,
                status_label => (e.kind == "status").then(|| CaseStatus::parse(&e.body).ok().map(|s| s.as_str())).flatten(),
            }
        })
        .collect();
    let proposals: Vec<Value> = d
        .proposals
        .iter()
        .map(|p| proposal_view(p, p.contract_id.and_then(|id| contracts.iter().find(|c| c.id == id)), lang))
        .collect();
    let open_proposal = d.proposals.iter().any(|p| p.status == ProposalStatus::Open);
    context! { case => summary_view(&d.case, lang), events, proposals, open_proposal }
}

pub(crate) fn categories() -> Vec<&'static str> {
    CaseCategory::ALL.iter().map(|c| c.as_str()).collect()
}

pub(crate) fn statuses() -> Vec<&'static str> {
    CaseStatus::ALL.iter().map(|s| s.as_str()).collect()
}

pub(crate) fn contract_choice(c: &Contract, lang: Language) -> Value {
    context! {
        id => c.id,
        tariff => c.tariff_name,
        tariff_id => c.tariff_id.as_str(),
        prepaid_until => format_date(c.prepaid_until, lang),
        status => c.status.as_str(),
    }
}
