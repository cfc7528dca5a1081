//! Customer service's use cases, shared by the customer menu, the staff console and the API: requests to
//! support or to management, replies, internal notes, status, assignment, response-time figures, and the
//! guarantee loop — management proposes, the customer accepts or declines, and an accepted proposal books
//! its effect (credit note, free months, tariff change, early contract end with refund).

use chrono::{Duration, NaiveDate, Utc};
use hostwerk_domain::calendar::{berlin_date, format_date};
use hostwerk_domain::contract::quote_tariff_change;
use hostwerk_domain::refund::{early_end, EarlyEnd};
use hostwerk_domain::service_case::{
    credit_amount, free_months, may_propose, response_times, CaseCategory, CaseChannel, CaseStatus, CaseSubject,
    CaseText, ProposalDecision, ProposalKind, ProposalStatus, ResponseTimes,
};
use hostwerk_domain::AuditAction;
use hostwerk_domain::{add_months, Cents, ContractStatus, Language, StaffRole, TariffId};
use hostwerk_store::{
    Actor, Author, CaseDetail, CaseFilter, CaseScope, CaseSummary, Contract, Customer, NewCaseEvent, NewProposal,
    Proposal, ProposalEffect, StaffUser,
};

use crate::i18n::t;
use crate::service::ServiceError;
use crate::AppState;

fn invalid(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Invalid(e.to_string())
}

fn customer_author(customer: &Customer) -> Author<'_> {
    Author { kind: "customer", name: &customer.name }
}

fn staff_author(staff: &StaffUser) -> Author<'_> {
    Author { kind: "staff", name: &staff.display_name }
}

/// The queues a staff member works on.
pub fn channels(staff: &StaffUser) -> Vec<CaseChannel> {
    CaseChannel::visible_channels(staff.role)
}

fn queue_address(state: &AppState, channel: CaseChannel) -> &str {
    match channel {
        CaseChannel::Support => &state.config.support_email,
        CaseChannel::Management => &state.config.management_email,
    }
}

async fn tell_staff(state: &AppState, channel: CaseChannel, case_id: i64, what: &str) -> Result<(), ServiceError> {
    let link = format!("{}/staff/cases/{case_id}", state.config.public_url);
    let subject = format!("[#{case_id}] {what}");
    state.mailer.send(queue_address(state, channel), &subject, &format!("{what}\n\n{link}\n")).await?;
    Ok(())
}

async fn tell_customer(
    state: &AppState,
    customer: &Customer,
    case_id: i64,
    key: &str,
    extra: &str,
) -> Result<(), ServiceError> {
    let lang = customer.language;
    let link = format!("{}/menu/service/{case_id}", state.config.public_url);
    let subject = t(lang, &format!("{key}.subject")).replace("{id}", &case_id.to_string());
    let mut body = t(lang, &format!("{key}.body")).replace("{id}", &case_id.to_string());
    if !extra.is_empty() {
        body.push_str("\n\n");
        body.push_str(extra);
    }
    body.push_str(&format!("\n\n{link}\n"));
    state.mailer.send(customer.email.as_str(), &subject, &body).await?;
    Ok(())
}

// ---------------------------------------------------------------- customer side

/// Opens a request to customer service (`support`) or to management (`management`).
pub async fn open_case(
    state: &AppState,
    customer: &Customer,
    channel: &str,
    category: &str,
    subject: &str,
    text: &str,
) -> Result<i64, ServiceError> {
    let channel = CaseChannel::parse(channel).map_err(invalid)?;
    let category = CaseCategory::parse(category).map_err(invalid)?;
    let subject = CaseSubject::parse(subject).map_err(invalid)?;
    let text = CaseText::parse(text).map_err(invalid)?;
    let first = NewCaseEvent {
        kind: "customer_message",
        author: customer_author(customer),
        body: text.as_str(),
        visible: true,
        status: None,
        answers_customer: false,
    };
    let id = state.store.create_case(customer.id, channel, category, subject.as_str(), &first).await?;
    state
        .store
        .audit(&Actor::customer(customer), AuditAction::CaseOpened, &format!("case #{id}"), channel.as_str())
        .await?;
    tell_staff(state, channel, id, &format!("{} ({}): {}", customer.number, customer.name, subject.as_str())).await?;
    tell_customer(state, customer, id, "mail.case_opened", "").await?;
    Ok(id)
}

/// The customer's requests.
pub async fn customer_cases(state: &AppState, customer: &Customer) -> Result<Vec<CaseSummary>, ServiceError> {
    Ok(state.store.cases(CaseScope::Customer(customer.id), &CaseFilter { limit: 200, ..CaseFilter::default() }).await?)
}

/// One of the customer's requests, without internal notes.
pub async fn customer_case(state: &AppState, customer: &Customer, id: i64) -> Result<CaseDetail, ServiceError> {
    Ok(state.store.case_detail(CaseScope::Customer(customer.id), id).await?)
}

/// The customer writes on a request; a solved request opens again.
pub async fn customer_reply(
    state: &AppState,
    customer: &Customer,
    case_id: i64,
    text: &str,
) -> Result<(), ServiceError> {
    let scope = CaseScope::Customer(customer.id);
    let detail = state.store.case_detail(scope, case_id).await?;
    let text = CaseText::parse(text).map_err(invalid)?;
    let event = NewCaseEvent {
        kind: "customer_message",
        author: customer_author(customer),
        body: text.as_str(),
        visible: true,
        status: Some(detail.case.status.after_customer_message()),
        answers_customer: false,
    };
    state.store.add_case_event(scope, case_id, &event).await?;
    tell_staff(state, detail.case.channel, case_id, &format!("{}: {}", customer.number, detail.case.subject)).await
}

/// The customer's answer to a proposal.
#[derive(Debug, Clone, Copy)]
pub enum CustomerDecision {
    /// Accept; for an early end, whether to take the free month.
    Accept {
        free_month: bool,
    },
    Decline,
}

/// The customer accepts or declines an open proposal; an accepted one is booked at once. Returns the case id.
pub async fn decide_proposal(
    state: &AppState,
    customer: &Customer,
    proposal_id: i64,
    decision: CustomerDecision,
    comment: &str,
) -> Result<i64, ServiceError> {
    let scope = CaseScope::Customer(customer.id);
    let proposal = state.store.proposal(scope, proposal_id).await?;
    let domain_decision = match decision {
        CustomerDecision::Accept { .. } => ProposalDecision::Accept,
        CustomerDecision::Decline => ProposalDecision::Decline,
    };
    let new_status = proposal.status.decide(domain_decision).map_err(|e| ServiceError::Conflict(e.to_string()))?;
    let comment = comment.trim();
    if comment.chars().count() > CaseText::MAX_CHARS {
        return Err(invalid("the message must be 1 to 20000 characters long"));
    }
    let lang = customer.language;
    let (effect, free_month, summary) = match decision {
        CustomerDecision::Decline => (ProposalEffect::Nothing, None, String::new()),
        CustomerDecision::Accept { free_month } => {
            let (effect, summary) = booking(state, customer, &proposal, free_month, lang).await?;
            (effect, (proposal.kind == ProposalKind::EarlyEnd).then_some(free_month), summary)
        }
    };
    let (kind, status, key) = match new_status {
        ProposalStatus::Accepted => ("proposal_accepted", CaseStatus::Solved, "mail.proposal_accepted"),
        _ => ("proposal_declined", CaseStatus::WaitingForUs, "mail.proposal_declined"),
    };
    let mut body = summary.clone();
    if !comment.is_empty() {
        if !body.is_empty() {
            body.push_str("\n\n");
        }
        body.push_str(comment);
    }
    let event = NewCaseEvent {
        kind,
        author: customer_author(customer),
        body: &body,
        visible: true,
        status: Some(status),
        answers_customer: false,
    };
    if let Err(current) =
        state.store.decide_proposal(scope, proposal_id, new_status, free_month, &effect, &event).await?
    {
        // Decided meanwhile (another tab, a double click): say what happened.
        return Err(ServiceError::Conflict(
            current
                .decide(domain_decision)
                .err()
                .map_or_else(|| "this proposal cannot be decided now".to_owned(), |e| e.to_string()),
        ));
    }
    state
        .store
        .audit(
            &Actor::customer(customer),
            if new_status == ProposalStatus::Accepted {
                AuditAction::ProposalAccepted
            } else {
                AuditAction::ProposalDeclined
            },
            &format!("case #{} proposal #{proposal_id}", proposal.case_id),
            &format!(
                "{}{}",
                proposal.kind.as_str(),
                if summary.is_empty() { String::new() } else { format!(": {summary}") }
            ),
        )
        .await?;
    tell_staff(
        state,
        CaseChannel::Management,
        proposal.case_id,
        &format!("{}: {} ({})", customer.number, kind, proposal.kind.as_str()),
    )
    .await?;
    tell_customer(state, customer, proposal.case_id, key, &summary).await?;
    Ok(proposal.case_id)
}

/// What accepting `proposal` books, and a sentence saying so in the customer's language.
async fn booking(
    state: &AppState,
    customer: &Customer,
    proposal: &Proposal,
    free_month: bool,
    lang: Language,
) -> Result<(ProposalEffect, String), ServiceError> {
    let case_text = t(lang, "case.from_request").replace("{id}", &proposal.case_id.to_string());
    match proposal.kind {
        ProposalKind::Measure => Ok((ProposalEffect::Nothing, String::new())),
        ProposalKind::CreditNote => {
            let amount = proposal.amount.ok_or_else(|| ServiceError::Internal("credit note without amount".into()))?;
            let text = format!("{} {case_text}", t(lang, "ledger.credit_note"));
            let summary = t(lang, "case.booked_credit").replace("{amount}", &amount.format(lang));
            Ok((ProposalEffect::Credit { amount, text }, summary))
        }
        ProposalKind::FreeMonths => {
            let contract = proposal_contract(state, customer, proposal).await?;
            let months = u32::try_from(proposal.months.unwrap_or(0)).map_err(invalid)?;
            let new_prepaid_until = add_months(contract.prepaid_until, months);
            let summary = t(lang, "case.booked_free_months")
                .replace("{months}", &months.to_string())
                .replace("{date}", &format_date(new_prepaid_until, lang));
            Ok((
                ProposalEffect::ExtendPrepaid {
                    contract_id: contract.id,
                    expected: contract.prepaid_until,
                    new_prepaid_until,
                },
                summary,
            ))
        }
        ProposalKind::TariffChange => {
            let contract = proposal_contract(state, customer, proposal).await?;
            let tariff_id = TariffId::parse(proposal.tariff_id.as_deref().unwrap_or("")).map_err(invalid)?;
            let from = state.store.tariff(&contract.tariff_id).await?;
            let to = state.store.tariff(&tariff_id).await?;
            let quote = quote_tariff_change(
                contract.prepaid_until,
                contract.billing_period,
                contract.monthly_price,
                to.monthly_price,
            )
            .map_err(invalid)?;
            let summary = t(lang, "case.booked_tariff_change")
                .replace("{tariff}", &to.name)
                .replace("{date}", &format_date(quote.effective, lang))
                .replace("{price}", &to.monthly_price.format(lang));
            let effect = ProposalEffect::TariffChange {
                contract_id: contract.id,
                from_tariff: from.id.to_string(),
                to_tariff: to.id.to_string(),
                new_monthly_price: to.monthly_price,
                effective: quote.effective,
                staff: proposal.staff_id,
            };
            Ok((effect, summary))
        }
        ProposalKind::EarlyEnd => {
            let contract = proposal_contract(state, customer, proposal).await?;
            let last_day = proposal.last_day.ok_or_else(|| ServiceError::Internal("early end without date".into()))?;
            let end = compute_early_end(&contract, last_day, free_month)?;
            let summary = early_end_sentence(&contract, &end, lang);
            let text = format!("{} {} – {case_text}", t(lang, "ledger.refund"), contract.tariff_name);
            Ok((ProposalEffect::EndContract { contract_id: contract.id, end, text }, summary))
        }
    }
}

async fn proposal_contract(state: &AppState, customer: &Customer, p: &Proposal) -> Result<Contract, ServiceError> {
    let id = p.contract_id.ok_or_else(|| ServiceError::Internal("proposal without contract".into()))?;
    Ok(state.store.contract(customer.id, id).await?)
}

/// The early end of `contract` with `last_day` as the last paid day.
pub fn compute_early_end(contract: &Contract, last_day: NaiveDate, free_month: bool) -> Result<EarlyEnd, ServiceError> {
    if contract.status == ContractStatus::Terminated {
        return Err(ServiceError::Conflict("the contract has ended already".into()));
    }
    early_end(
        contract.start_date,
        contract.billing_period,
        contract.period_price(),
        contract.prepaid_until,
        last_day,
        free_month,
    )
    .map_err(invalid)
}

/// "The contract … ends on …; refund …" in `lang`.
pub fn early_end_sentence(contract: &Contract, end: &EarlyEnd, lang: Language) -> String {
    t(lang, "case.booked_early_end")
        .replace("{tariff}", &contract.tariff_name)
        .replace("{date}", &format_date(end.last_service_day, lang))
        .replace("{refund}", &end.refund.format(lang))
        .replace("{days}", &end.refunded_days.to_string())
}

// ---------------------------------------------------------------- staff side

fn scope(channels: &[CaseChannel]) -> CaseScope<'_> {
    CaseScope::Staff(channels)
}

/// The staff member's queues, filtered by status and a customer number or subject words.
pub async fn queue(
    state: &AppState,
    staff: &StaffUser,
    status: Option<&str>,
    query: Option<&str>,
) -> Result<Vec<CaseSummary>, ServiceError> {
    let status = status.filter(|s| !s.is_empty()).map(CaseStatus::parse).transpose().map_err(invalid)?;
    let channels = channels(staff);
    let filter = CaseFilter { status, query: query.map(str::to_owned), limit: 200 };
    Ok(state.store.cases(scope(&channels), &filter).await?)
}

/// A case the staff member's role may see, with every event.
pub async fn staff_case(state: &AppState, staff: &StaffUser, case_id: i64) -> Result<CaseDetail, ServiceError> {
    let channels = channels(staff);
    Ok(state.store.case_detail(scope(&channels), case_id).await?)
}

/// Staff answer the customer (visible, mailed); the status becomes `status` or "waiting for customer".
pub async fn staff_reply(
    state: &AppState,
    staff: &StaffUser,
    case_id: i64,
    text: &str,
    status: Option<&str>,
) -> Result<(), ServiceError> {
    let channels = channels(staff);
    let detail = state.store.case_detail(scope(&channels), case_id).await?;
    let text = CaseText::parse(text).map_err(invalid)?;
    let status = match status.filter(|s| !s.is_empty()) {
        Some(s) => CaseStatus::parse(s).map_err(invalid)?,
        None => CaseStatus::WaitingForCustomer,
    };
    let event = NewCaseEvent {
        kind: "staff_message",
        author: staff_author(staff),
        body: text.as_str(),
        visible: true,
        status: Some(status),
        answers_customer: true,
    };
    state.store.add_case_event(scope(&channels), case_id, &event).await?;
    state
        .store
        .audit(&Actor::staff(staff), AuditAction::CaseReplied, &format!("case #{case_id}"), status.as_str())
        .await?;
    let customer = state.store.customer(detail.case.customer_id).await?;
    tell_customer(state, &customer, case_id, "mail.case_answered", text.as_str()).await
}

/// An internal note: on the timeline for staff, never shown or mailed to the customer.
pub async fn internal_note(state: &AppState, staff: &StaffUser, case_id: i64, text: &str) -> Result<(), ServiceError> {
    let channels = channels(staff);
    let text = CaseText::parse(text).map_err(invalid)?;
    let event = NewCaseEvent {
        kind: "internal_note",
        author: staff_author(staff),
        body: text.as_str(),
        visible: false,
        status: None,
        answers_customer: false,
    };
    state.store.add_case_event(scope(&channels), case_id, &event).await?;
    state.store.audit(&Actor::staff(staff), AuditAction::CaseNote, &format!("case #{case_id}"), "").await?;
    Ok(())
}

/// Sets a case's status (on the timeline, visible to the customer).
pub async fn set_status(state: &AppState, staff: &StaffUser, case_id: i64, status: &str) -> Result<(), ServiceError> {
    let channels = channels(staff);
    let status = CaseStatus::parse(status).map_err(invalid)?;
    let event = NewCaseEvent {
        kind: "status",
        author: staff_author(staff),
        body: status.as_str(),
        visible: true,
        status: Some(status),
        answers_customer: false,
    };
    state.store.add_case_event(scope(&channels), case_id, &event).await?;
    state
        .store
        .audit(&Actor::staff(staff), AuditAction::CaseStatus, &format!("case #{case_id}"), status.as_str())
        .await?;
    Ok(())
}

/// Staff who may work on a case of `channel` (for the assignment choice).
pub async fn assignable(state: &AppState, channel: CaseChannel) -> Result<Vec<StaffUser>, ServiceError> {
    Ok(state.store.list_staff().await?.into_iter().filter(|u| u.active && channel.visible_to(u.role)).collect())
}

/// Assigns a case to a staff member whose role may see its queue.
pub async fn assign(
    state: &AppState,
    staff: &StaffUser,
    case_id: i64,
    assignee: hostwerk_domain::StaffLogin,
) -> Result<(), ServiceError> {
    let channels = channels(staff);
    let detail = state.store.case_detail(scope(&channels), case_id).await?;
    let target = state.store.staff_by_login(&assignee).await?;
    if !target.active || !detail.case.channel.visible_to(target.role) {
        return Err(ServiceError::Invalid("this staff member cannot work on this queue".into()));
    }
    let body = format!("→ {}", target.display_name);
    let event = NewCaseEvent {
        kind: "assigned",
        author: staff_author(staff),
        body: &body,
        visible: false,
        status: None,
        answers_customer: false,
    };
    state.store.assign_case(scope(&channels), case_id, target.id, &event).await?;
    state
        .store
        .audit(&Actor::staff(staff), AuditAction::CaseAssigned, &format!("case #{case_id}"), target.login.as_str())
        .await?;
    Ok(())
}

/// A proposal as management enters it: raw form fields.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ProposalInput {
    pub kind: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub months: String,
    #[serde(default)]
    pub contract_id: String,
    #[serde(default)]
    pub tariff_id: String,
    #[serde(default)]
    pub last_day: String,
}

/// Management proposes a solution on a management case; the customer gets an e-mail.
pub async fn propose(
    state: &AppState,
    staff: &StaffUser,
    case_id: i64,
    input: &ProposalInput,
) -> Result<i64, ServiceError> {
    if staff.role != StaffRole::Management {
        return Err(ServiceError::Forbidden);
    }
    let channels = channels(staff);
    let detail = state.store.case_detail(scope(&channels), case_id).await?;
    let statuses: Vec<ProposalStatus> = detail.proposals.iter().map(|p| p.status).collect();
    may_propose(detail.case.channel, &statuses).map_err(|e| ServiceError::Conflict(e.to_string()))?;
    let customer = state.store.customer(detail.case.customer_id).await?;
    let lang = customer.language;
    let kind = ProposalKind::parse(&input.kind).map_err(|_| invalid("choose what you propose"))?;
    let text = input.text.trim();
    let contract = || async {
        let id: i64 = input.contract_id.trim().parse().map_err(|_| invalid("choose a contract"))?;
        Ok::<_, ServiceError>(state.store.contract(customer.id, id).await?)
    };
    let mut proposal = NewProposal {
        kind,
        body: String::new(),
        amount: None,
        months: None,
        contract_id: None,
        tariff_id: None,
        last_day: None,
        staff: staff.id,
    };
    let described = match kind {
        ProposalKind::CreditNote => {
            let amount = credit_amount(Cents::parse_euros(&input.amount).map_err(invalid)?).map_err(invalid)?;
            proposal.amount = Some(amount);
            t(lang, "proposal.credit_note").replace("{amount}", &amount.format(lang))
        }
        ProposalKind::FreeMonths => {
            let c = contract().await?;
            if c.status != ContractStatus::Active {
                return Err(ServiceError::Conflict("free months need an active contract".into()));
            }
            let months =
                free_months(input.months.trim().parse().map_err(|_| invalid("free months must be between 1 and 12"))?)
                    .map_err(invalid)?;
            proposal.contract_id = Some(c.id);
            proposal.months = Some(i64::from(months));
            t(lang, "proposal.free_months").replace("{months}", &months.to_string()).replace("{tariff}", &c.tariff_name)
        }
        ProposalKind::TariffChange => {
            let c = contract().await?;
            let tariff = state.store.tariff(&TariffId::parse(&input.tariff_id).map_err(invalid)?).await?;
            if tariff.id == c.tariff_id {
                return Err(ServiceError::Invalid("the contract has this tariff already".into()));
            }
            if c.status != ContractStatus::Active {
                return Err(ServiceError::Conflict("a tariff change needs an active contract".into()));
            }
            proposal.contract_id = Some(c.id);
            proposal.tariff_id = Some(tariff.id.to_string());
            t(lang, "proposal.tariff_change")
                .replace("{from}", &c.tariff_name)
                .replace("{to}", &tariff.name)
                .replace("{price}", &tariff.monthly_price.format(lang))
        }
        ProposalKind::Measure => {
            if text.is_empty() {
                return Err(ServiceError::Invalid("describe the measure you propose".into()));
            }
            String::new()
        }
        ProposalKind::EarlyEnd => {
            let c = contract().await?;
            let last_day = match input.last_day.trim() {
                "" => berlin_date(Utc::now()),
                s => NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| invalid("a date is written YYYY-MM-DD"))?,
            };
            // Checks the date against the contract now, so the customer never sees an offer that cannot be booked.
            let end = compute_early_end(&c, last_day, false)?;
            proposal.contract_id = Some(c.id);
            proposal.last_day = Some(end.last_paid_day);
            t(lang, "proposal.early_end")
                .replace("{tariff}", &c.tariff_name)
                .replace("{date}", &format_date(end.last_paid_day, lang))
                .replace("{refund}", &end.refund.format(lang))
        }
    };
    if text.chars().count() > CaseText::MAX_CHARS {
        return Err(invalid("the message must be 1 to 20000 characters long"));
    }
    proposal.body = match (described.is_empty(), text.is_empty()) {
        (false, false) => format!("{described}\n\n{text}"),
        (false, true) => described,
        _ => text.to_owned(),
    };
    let event = NewCaseEvent {
        kind: "proposal",
        author: staff_author(staff),
        body: &proposal.body,
        visible: true,
        status: Some(CaseStatus::WaitingForCustomer),
        answers_customer: true,
    };
    let id = state.store.create_proposal(scope(&channels), case_id, &proposal, &event).await?;
    state
        .store
        .audit(
            &Actor::staff(staff),
            AuditAction::ProposalMade,
            &format!("case #{case_id} proposal #{id}"),
            kind.as_str(),
        )
        .await?;
    tell_customer(state, &customer, case_id, "mail.proposal", &proposal.body).await?;
    Ok(id)
}

/// Management takes back an open proposal. Returns the case id.
pub async fn withdraw(state: &AppState, staff: &StaffUser, proposal_id: i64) -> Result<i64, ServiceError> {
    if staff.role != StaffRole::Management {
        return Err(ServiceError::Forbidden);
    }
    let channels = channels(staff);
    let proposal = state.store.proposal(scope(&channels), proposal_id).await?;
    let new_status =
        proposal.status.decide(ProposalDecision::Withdraw).map_err(|e| ServiceError::Conflict(e.to_string()))?;
    let event = NewCaseEvent {
        kind: "proposal_withdrawn",
        author: staff_author(staff),
        body: "",
        visible: true,
        status: None,
        answers_customer: false,
    };
    match state
        .store
        .decide_proposal(scope(&channels), proposal_id, new_status, None, &ProposalEffect::Nothing, &event)
        .await?
    {
        Ok(()) => {}
        Err(current) => {
            return Err(ServiceError::Conflict(
                current.decide(ProposalDecision::Withdraw).err().map_or_else(String::new, |e| e.to_string()),
            ))
        }
    }
    state
        .store
        .audit(
            &Actor::staff(staff),
            AuditAction::ProposalWithdrawn,
            &format!("case #{} proposal #{proposal_id}", proposal.case_id),
            "",
        )
        .await?;
    Ok(proposal.case_id)
}

/// Response-time figures of one queue over the last 30 days.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QueueFigures {
    pub channel: CaseChannel,
    pub times: ResponseTimes,
    pub unanswered: i64,
}

/// First-response figures for the staff member's queues (cases opened in the last 30 days).
pub async fn figures(state: &AppState, staff: &StaffUser) -> Result<Vec<QueueFigures>, ServiceError> {
    let since = Utc::now() - Duration::days(30);
    let mut out = Vec::new();
    for channel in channels(staff) {
        let (answered, unanswered) = state.store.first_response_times(channel, since).await?;
        out.push(QueueFigures { channel, times: response_times(&answered), unanswered });
    }
    Ok(out)
}
