//! Customer-service cases ("Anfragen"): which queue a case lands in, who may see it, how its status moves,
//! and the guarantee loop's proposals with the transitions a customer and management may make.

use std::fmt;

use serde::Serialize;

use crate::{Cents, StaffRole};

/// Why a case, message or proposal was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("unknown queue")]
    UnknownChannel,
    #[error("unknown category")]
    UnknownCategory,
    #[error("unknown status")]
    UnknownStatus,
    #[error("the subject must be 3 to 200 characters long")]
    Subject,
    #[error("the message must be 1 to 20000 characters long")]
    Text,
    #[error("a credit note must be between 0.01 and 10000.00 euros")]
    CreditAmount,
    #[error("free months must be between 1 and 12")]
    FreeMonths,
    #[error("this proposal has already been accepted")]
    AlreadyAccepted,
    #[error("this proposal has already been declined")]
    AlreadyDeclined,
    #[error("this proposal has been withdrawn")]
    AlreadyWithdrawn,
    #[error("another proposal is still open: withdraw it first or wait for the customer's answer")]
    ProposalOpen,
    #[error("proposals belong to requests to management")]
    NotManagement,
}

/// Where a request goes: ordinary customer service, or the direct line to management.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseChannel {
    Support,
    Management,
}

impl CaseChannel {
    pub fn parse(input: &str) -> Result<Self, CaseError> {
        match input.trim() {
            "support" => Ok(Self::Support),
            "management" => Ok(Self::Management),
            _ => Err(CaseError::UnknownChannel),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Support => "support",
            Self::Management => "management",
        }
    }

    /// Whether staff in `role` may list, search or open cases of this channel. Requests to management never
    /// reach customer service; admins run the platform and see the support queue like support does.
    pub fn visible_to(self, role: StaffRole) -> bool {
        match self {
            Self::Support => true,
            Self::Management => role == StaffRole::Management,
        }
    }

    /// The channels `role` works on.
    pub fn visible_channels(role: StaffRole) -> Vec<CaseChannel> {
        [Self::Support, Self::Management].into_iter().filter(|c| c.visible_to(role)).collect()
    }
}

/// What a request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseCategory {
    Contract,
    Billing,
    Technical,
    Domains,
    Mail,
    Other,
}

impl CaseCategory {
    pub const ALL: [CaseCategory; 6] =
        [Self::Contract, Self::Billing, Self::Technical, Self::Domains, Self::Mail, Self::Other];

    pub fn parse(input: &str) -> Result<Self, CaseError> {
        Self::ALL.into_iter().find(|c| c.as_str() == input.trim()).ok_or(CaseError::UnknownCategory)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contract => "contract",
            Self::Billing => "billing",
            Self::Technical => "technical",
            Self::Domains => "domains",
            Self::Mail => "mail",
            Self::Other => "other",
        }
    }
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    New,
    WaitingForCustomer,
    WaitingForUs,
    Solved,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 4] = [Self::New, Self::WaitingForCustomer, Self::WaitingForUs, Self::Solved];

    pub fn parse(input: &str) -> Result<Self, CaseError> {
        Self::ALL.into_iter().find(|s| s.as_str() == input.trim()).ok_or(CaseError::UnknownStatus)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::WaitingForCustomer => "waiting_for_customer",
            Self::WaitingForUs => "waiting_for_us",
            Self::Solved => "solved",
        }
    }

    /// The status after the customer writes: a new case stays new, anything else (even a solved case) is
    /// ours to answer again.
    pub fn after_customer_message(self) -> Self {
        match self {
            Self::New => Self::New,
            _ => Self::WaitingForUs,
        }
    }
}

/// A case's subject line: 3–200 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseSubject(String);

impl CaseSubject {
    pub fn parse(input: &str) -> Result<Self, CaseError> {
        let s: String = input.trim().chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        let n = s.chars().count();
        if (3..=200).contains(&n) {
            Ok(Self(s))
        } else {
            Err(CaseError::Subject)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The text of a message or note: 1–20,000 characters after trimming; line breaks kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseText(String);

impl CaseText {
    pub const MAX_CHARS: usize = 20_000;

    pub fn parse(input: &str) -> Result<Self, CaseError> {
        let s = input.trim().replace("\r\n", "\n");
        let n = s.chars().count();
        if (1..=Self::MAX_CHARS).contains(&n) {
            Ok(Self(s))
        } else {
            Err(CaseError::Text)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CaseText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A credit note's amount: 0.01 to 10,000.00 euros.
pub fn credit_amount(amount: Cents) -> Result<Cents, CaseError> {
    if (1..=1_000_000).contains(&amount.get()) {
        Ok(amount)
    } else {
        Err(CaseError::CreditAmount)
    }
}

/// Free months granted on a contract: 1 to 12.
pub fn free_months(months: u32) -> Result<u32, CaseError> {
    if (1..=12).contains(&months) {
        Ok(months)
    } else {
        Err(CaseError::FreeMonths)
    }
}

/// What management proposes in the guarantee loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalKind {
    /// A credit note ("Gutschrift") booked on the customer's ledger.
    CreditNote,
    /// Months without charge: the contract's prepaid period grows.
    FreeMonths,
    /// A change to another tariff from the next billing period.
    TariffChange,
    /// A measure described in words.
    Measure,
    /// Ending a contract regardless of minimum term and notice, with the refund of prepaid amounts.
    EarlyEnd,
}

impl ProposalKind {
    pub const ALL: [ProposalKind; 5] =
        [Self::CreditNote, Self::FreeMonths, Self::TariffChange, Self::Measure, Self::EarlyEnd];

    pub fn parse(input: &str) -> Result<Self, CaseError> {
        Self::ALL.into_iter().find(|k| k.as_str() == input.trim()).ok_or(CaseError::UnknownStatus)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreditNote => "credit_note",
            Self::FreeMonths => "free_months",
            Self::TariffChange => "tariff_change",
            Self::Measure => "measure",
            Self::EarlyEnd => "early_end",
        }
    }
}

/// Where a proposal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    Open,
    Accepted,
    Declined,
    Withdrawn,
}

/// What someone does with a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalDecision {
    /// The customer accepts.
    Accept,
    /// The customer declines.
    Decline,
    /// Management takes it back.
    Withdraw,
}

impl ProposalStatus {
    pub fn parse(input: &str) -> Result<Self, CaseError> {
        match input {
            "open" => Ok(Self::Open),
            "accepted" => Ok(Self::Accepted),
            "declined" => Ok(Self::Declined),
            "withdrawn" => Ok(Self::Withdrawn),
            _ => Err(CaseError::UnknownStatus),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// The status after `decision`; only an open proposal can be decided, and only once.
    pub fn decide(self, decision: ProposalDecision) -> Result<Self, CaseError> {
        match self {
            Self::Open => Ok(match decision {
                ProposalDecision::Accept => Self::Accepted,
                ProposalDecision::Decline => Self::Declined,
                ProposalDecision::Withdraw => Self::Withdrawn,
            }),
            Self::Accepted => Err(CaseError::AlreadyAccepted),
            Self::Declined => Err(CaseError::AlreadyDeclined),
            Self::Withdrawn => Err(CaseError::AlreadyWithdrawn),
        }
    }
}

/// Whether management may make a new proposal on a case of `channel` whose proposals stand at `existing`.
pub fn may_propose(channel: CaseChannel, existing: &[ProposalStatus]) -> Result<(), CaseError> {
    if channel != CaseChannel::Management {
        return Err(CaseError::NotManagement);
    }
    if existing.contains(&ProposalStatus::Open) {
        return Err(CaseError::ProposalOpen);
    }
    Ok(())
}

/// Response-time figures over a set of first-response times in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ResponseTimes {
    pub answered: usize,
    pub median_secs: Option<i64>,
    pub p90_secs: Option<i64>,
    pub max_secs: Option<i64>,
}

/// Median, 90th percentile (nearest rank) and maximum of `secs`.
pub fn response_times(secs: &[i64]) -> ResponseTimes {
    let mut v: Vec<i64> = secs.iter().copied().filter(|s| *s >= 0).collect();
    v.sort_unstable();
    let rank = |p: usize| -> Option<i64> {
        if v.is_empty() {
            return None;
        }
        let idx = (p * v.len()).div_ceil(100).max(1) - 1;
        v.get(idx).copied()
    };
    ResponseTimes { answered: v.len(), median_secs: rank(50), p90_secs: rank(90), max_secs: v.last().copied() }
}

/// A duration in seconds as "2 h 05 min", "12 min" or "40 s".
pub fn format_duration(secs: i64) -> String {
    let secs = secs.max(0);
    if secs < 60 {
        format!("{secs} s")
    } else if secs < 3600 {
        format!("{} min", secs / 60)
    } else if secs < 86_400 {
        format!("{} h {:02} min", secs / 3600, (secs % 3600) / 60)
    } else {
        format!("{} d {} h", secs / 86_400, (secs % 86_400) / 3600)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn management_cases_reach_management_only() {
        assert!(CaseChannel::Support.visible_to(StaffRole::Support));
        assert!(CaseChannel::Support.visible_to(StaffRole::Management));
        assert!(CaseChannel::Support.visible_to(StaffRole::Admin));
        assert!(!CaseChannel::Management.visible_to(StaffRole::Support));
        assert!(!CaseChannel::Management.visible_to(StaffRole::Admin));
        assert!(CaseChannel::Management.visible_to(StaffRole::Management));
        assert_eq!(CaseChannel::visible_channels(StaffRole::Support), vec![CaseChannel::Support]);
    }

    #[test]
    fn proposal_transitions() {
        use ProposalDecision::*;
        assert_eq!(ProposalStatus::Open.decide(Accept), Ok(ProposalStatus::Accepted));
        assert_eq!(ProposalStatus::Open.decide(Decline), Ok(ProposalStatus::Declined));
        assert_eq!(ProposalStatus::Open.decide(Withdraw), Ok(ProposalStatus::Withdrawn));
        for d in [Accept, Decline, Withdraw] {
            assert_eq!(ProposalStatus::Accepted.decide(d), Err(CaseError::AlreadyAccepted));
            assert_eq!(ProposalStatus::Declined.decide(d), Err(CaseError::AlreadyDeclined));
            assert_eq!(ProposalStatus::Withdrawn.decide(d), Err(CaseError::AlreadyWithdrawn));
        }
        assert_eq!(may_propose(CaseChannel::Support, &[]), Err(CaseError::NotManagement));
        assert_eq!(
            may_propose(CaseChannel::Management, &[ProposalStatus::Declined, ProposalStatus::Open]),
            Err(CaseError::ProposalOpen)
        );
        assert_eq!(may_propose(CaseChannel::Management, &[ProposalStatus::Declined]), Ok(()));
    }

    #[test]
    fn status_after_customer_message() {
        assert_eq!(CaseStatus::New.after_customer_message(), CaseStatus::New);
        assert_eq!(CaseStatus::Solved.after_customer_message(), CaseStatus::WaitingForUs);
        assert_eq!(CaseStatus::WaitingForCustomer.after_customer_message(), CaseStatus::WaitingForUs);
    }

    #[test]
    fn parsing() {
        assert_eq!(CaseSubject::parse("  Hi  "), Err(CaseError::Subject));
        assert_eq!(CaseSubject::parse("Rechnung\tfalsch").unwrap().as_str(), "Rechnung falsch");
        assert!(CaseText::parse(" \n ").is_err());
        assert_eq!(CaseText::parse("a\r\nb").unwrap().as_str(), "a\nb");
        assert!(CaseText::parse(&"x".repeat(20_001)).is_err());
        assert_eq!(credit_amount(Cents::new(0)), Err(CaseError::CreditAmount));
        assert_eq!(credit_amount(Cents::new(1_000_001)), Err(CaseError::CreditAmount));
        assert!(free_months(0).is_err() && free_months(13).is_err() && free_months(12).is_ok());
        for c in CaseCategory::ALL {
            assert_eq!(CaseCategory::parse(c.as_str()), Ok(c));
        }
        for s in CaseStatus::ALL {
            assert_eq!(CaseStatus::parse(s.as_str()), Ok(s));
        }
        for k in ProposalKind::ALL {
            assert_eq!(ProposalKind::parse(k.as_str()), Ok(k));
        }
    }

    #[test]
    fn figures() {
        let r = response_times(&[600, 60, 3600, 120, 30]);
        assert_eq!((r.answered, r.median_secs, r.p90_secs, r.max_secs), (5, Some(120), Some(3600), Some(3600)));
        assert_eq!(response_times(&[]).median_secs, None);
        assert_eq!(format_duration(40), "40 s");
        assert_eq!(format_duration(7500), "2 h 05 min");
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC*") {
            let _ = CaseSubject::parse(&s);
            let _ = CaseText::parse(&s);
            let _ = CaseCategory::parse(&s);
            let _ = CaseStatus::parse(&s);
        }

        #[test]
        fn percentiles_are_members_and_ordered(v in proptest::collection::vec(0i64..1_000_000, 1..200)) {
            let r = response_times(&v);
            prop_assert!(v.contains(&r.median_secs.unwrap()));
            prop_assert!(r.median_secs <= r.p90_secs && r.p90_secs <= r.max_secs);
        }
    }
}
