//! The staff console's administration beyond the basics in `service` (issue 16): the customer search by
//! number, name, e-mail address or domain; an admin's password reset and role change for staff members;
//! new tariffs; moving contracts between webservers. Every change is admin-only and audited; failures the
//! user can fix are [`ConsoleError`]s, whose texts come from the i18n tables.

use hostwerk_domain::AuditAction;
use hostwerk_domain::{
    BillingPeriod, Cents, CustomerNumber, DomainName, EmailAddress, Language, NodeRole, Password, StaffRole, Tariff,
    TariffId,
};
use hostwerk_store::{fold_name, Actor, CustomerSearch, StaffId, StaffUser, StoreError};
use serde::{Deserialize, Serialize};

use crate::i18n::Localized;
use crate::passwords::hash_password;
use crate::service::{find_customer, CustomerSummary, ServiceError};
use crate::AppState;

/// A failure of a console action that the user can correct. The text is looked up by [`Self::key`] in the
/// user's language, with the carried values put in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleError {
    /// The search text is shorter than `min` characters (and no customer number).
    SearchTooShort { min: usize },
    /// The change would leave no active admin.
    LastAdmin,
    /// Admins change their own password with the current one, not by a reset.
    OwnPassword,
    /// The new password and its repetition differ.
    PasswordsDiffer,
    /// A tariff with this id exists already.
    TariffExists { id: String },
    /// The template a new tariff is based on does not exist.
    UnknownTemplate,
    /// A number field holds no whole number in `0..=max`.
    NumberOutOfRange { field: TariffField, max: u32 },
    /// A tariff name of 1 to 80 characters is required.
    TariffName,
    /// No billing period was chosen.
    NoBillingPeriod,
    /// The node still runs `contracts` contracts.
    NodeInUse { contracts: i64 },
    /// Webservers send their backups to this backup server.
    BackupServerInUse { webservers: i64 },
    /// Backup or process records refer to the node.
    NodeHasHistory,
    /// Contracts move to a webserver only.
    NotAWebserver,
    /// No target node was chosen, or it is the node itself.
    ChooseTarget,
    /// The contract number is not a contract on this node.
    ContractNotOnNode,
    /// A destructive action needs its confirmation ticked.
    ConfirmRequired,
}

/// The number fields of the new-tariff form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TariffField {
    MinimumTerm,
    NoticePeriod,
}

impl Localized for ConsoleError {
    fn key(&self) -> &'static str {
        match self {
            Self::SearchTooShort { .. } => "console.error.search_too_short",
            Self::LastAdmin => "console.error.last_admin",
            Self::OwnPassword => "console.error.own_password",
            Self::PasswordsDiffer => "console.error.passwords_differ",
            Self::TariffExists { .. } => "console.error.tariff_exists",
            Self::UnknownTemplate => "console.error.unknown_template",
            Self::NumberOutOfRange { field: TariffField::MinimumTerm, .. } => "console.error.minimum_term_range",
            Self::NumberOutOfRange { field: TariffField::NoticePeriod, .. } => "console.error.notice_period_range",
            Self::TariffName => "console.error.tariff_name",
            Self::NoBillingPeriod => "console.error.no_billing_period",
            Self::NodeInUse { .. } => "console.error.node_in_use",
            Self::BackupServerInUse { .. } => "console.error.backup_server_in_use",
            Self::NodeHasHistory => "console.error.node_has_history",
            Self::NotAWebserver => "console.error.not_a_webserver",
            Self::ChooseTarget => "console.error.choose_target",
            Self::ContractNotOnNode => "console.error.contract_not_on_node",
            Self::ConfirmRequired => "console.error.confirm_required",
        }
    }

    fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::SearchTooShort { min } => vec![("min", min.to_string())],
            Self::TariffExists { id } => vec![("id", id.clone())],
            Self::NumberOutOfRange { max, .. } => vec![("max", max.to_string())],
            Self::NodeInUse { contracts } => vec![("count", contracts.to_string())],
            Self::BackupServerInUse { webservers } => vec![("count", webservers.to_string())],
            Self::LastAdmin
            | Self::OwnPassword
            | Self::PasswordsDiffer
            | Self::UnknownTemplate
            | Self::TariffName
            | Self::NoBillingPeriod
            | Self::NodeHasHistory
            | Self::NotAWebserver
            | Self::ChooseTarget
            | Self::ContractNotOnNode
            | Self::ConfirmRequired => Vec::new(),
        }
    }
}

impl ConsoleError {
    /// One of each variant, for the test that every one has its texts.
    #[cfg(test)]
    fn examples() -> Vec<ConsoleError> {
        vec![
            Self::SearchTooShort { min: SEARCH_MIN_CHARS },
            Self::LastAdmin,
            Self::OwnPassword,
            Self::PasswordsDiffer,
            Self::TariffExists { id: "shared-xl".into() },
            Self::UnknownTemplate,
            Self::NumberOutOfRange { field: TariffField::MinimumTerm, max: 36 },
            Self::NumberOutOfRange { field: TariffField::NoticePeriod, max: 12 },
            Self::TariffName,
            Self::NoBillingPeriod,
            Self::NodeInUse { contracts: 3 },
            Self::BackupServerInUse { webservers: 2 },
            Self::NodeHasHistory,
            Self::NotAWebserver,
            Self::ChooseTarget,
            Self::ContractNotOnNode,
            Self::ConfirmRequired,
        ]
    }

    /// Whether the request clashes with the current state (409) rather than being malformed (422).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            Self::LastAdmin
                | Self::TariffExists { .. }
                | Self::NodeInUse { .. }
                | Self::BackupServerInUse { .. }
                | Self::NodeHasHistory
        )
    }
}

impl std::fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Language::En))
    }
}

impl std::error::Error for ConsoleError {}

/// Search texts shorter than this (that are no customer number) are refused: they would list half the base.
pub const SEARCH_MIN_CHARS: usize = 2;
/// At most this many customers are listed.
pub const SEARCH_LIMIT: i64 = 50;

/// What a search found: one customer by number, or a list.
#[derive(Debug, Clone)]
pub enum SearchOutcome {
    Number(CustomerSummary),
    Hits(Vec<CustomerSummary>),
}

/// Finds customers for the console by customer number (exactly), e-mail address (exactly, whatever the case),
/// domain (exactly) or a part of the name (whatever the case). Any staff role may search; like the lookup by
/// number it answers number and name only, and it is audited.
pub async fn search_customers(state: &AppState, staff: &StaffUser, query: &str) -> Result<SearchOutcome, ServiceError> {
    let query = query.trim();
    if let Ok(number) = CustomerNumber::parse(query) {
        return find_customer(state, staff, number.to_string().as_str()).await.map(SearchOutcome::Number);
    }
    if query.chars().count() < SEARCH_MIN_CHARS {
        return Err(ConsoleError::SearchTooShort { min: SEARCH_MIN_CHARS }.into());
    }
    let folded = fold_name(query);
    let email = if query.contains('@') { EmailAddress::parse(query).ok() } else { None };
    let domain = DomainName::parse(query).ok();
    let search = CustomerSearch { name_folded: Some(&folded), email: email.as_ref(), domain: domain.as_ref() };
    let hits = state.store.search_customers(&search, SEARCH_LIMIT).await?;
    state
        .store
        .audit(&Actor::staff(staff), AuditAction::StaffCustomerSearch, query, &format!("{} found", hits.len()))
        .await?;
    Ok(SearchOutcome::Hits(
        hits.into_iter().map(|h| CustomerSummary { number: h.number.to_string(), name: h.name }).collect(),
    ))
}

fn require_admin(staff: &StaffUser) -> Result<(), ServiceError> {
    crate::service::admin_only(staff)
}

/// Sets a new password for another staff member (admin only): it must meet the password rules and be typed
/// twice; the account's lock-out is cleared and all its sessions and API tokens end. The admin hands the
/// password over; it is neither shown nor logged, and the audit entry names the account only.
pub async fn reset_staff_password(
    state: &AppState,
    admin: &StaffUser,
    id: i64,
    new: &str,
    repeat: &str,
) -> Result<(), ServiceError> {
    require_admin(admin)?;
    if admin.id.0 == id {
        return Err(ConsoleError::OwnPassword.into());
    }
    let target = state.store.staff(StaffId(id)).await?;
    // the same rules as everywhere (blocklist, not the member's name)
    let words = hostwerk_domain::password::AccountWords { name: &target.display_name, ..Default::default() };
    let password = Password::parse(new, words).map_err(|e| ServiceError::Invalid(e.to_string()))?;
    if new != repeat {
        return Err(ConsoleError::PasswordsDiffer.into());
    }
    let hash = hash_password(password.expose()).await?;
    state.store.reset_staff_password(target.id, &hash).await?;
    state
        .store
        .audit(&Actor::staff(admin), AuditAction::StaffPasswordReset, target.login.as_str(), "sessions ended")
        .await?;
    Ok(())
}

/// Changes a staff member's role (admin only). The last active admin keeps the admin role.
pub async fn set_staff_role(state: &AppState, admin: &StaffUser, id: i64, role: &str) -> Result<(), ServiceError> {
    require_admin(admin)?;
    let role = StaffRole::parse(role).map_err(|e| ServiceError::Invalid(e.to_string()))?;
    let target = state.store.staff(StaffId(id)).await?;
    if target.role == role {
        return Ok(());
    }
    state.store.set_staff_role(target.id, role).await.map_err(|e| match e {
        StoreError::LastAdmin => ConsoleError::LastAdmin.into(),
        other => ServiceError::from(other),
    })?;
    state
        .store
        .audit(
            &Actor::staff(admin),
            AuditAction::StaffRoleChanged,
            target.login.as_str(),
            &format!("{} -> {}", target.role.as_str(), role.as_str()),
        )
        .await?;
    Ok(())
}

/// The new-tariff form as typed. Family, process-limit and backup policy come from the template tariff.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct NewTariffInput {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub template: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub monthly_price: String,
    #[serde(default)]
    pub monthly: Option<String>,
    #[serde(default)]
    pub yearly: Option<String>,
    #[serde(default)]
    pub minimum_term_months: String,
    #[serde(default)]
    pub notice_period_days: String,
    #[serde(default)]
    pub orderable: Option<String>,
}

fn ticked(v: &Option<String>) -> bool {
    matches!(v.as_deref(), Some("on" | "true" | "1"))
}

fn number_in(input: &str, max: u32, field: TariffField) -> Result<u32, ConsoleError> {
    input.trim().parse::<u32>().ok().filter(|n| *n <= max).ok_or(ConsoleError::NumberOutOfRange { field, max })
}

/// Adds a tariff to the catalog (admin only), based on an existing tariff's family and policies.
pub async fn create_tariff(
    state: &AppState,
    admin: &StaffUser,
    input: &NewTariffInput,
) -> Result<Tariff, ServiceError> {
    require_admin(admin)?;
    let invalid = |e: &dyn std::fmt::Display| ServiceError::Invalid(e.to_string());
    let id = TariffId::parse(&input.id).map_err(|e| invalid(&e))?;
    let template_id = TariffId::parse(&input.template).map_err(|_| ConsoleError::UnknownTemplate)?;
    let template = match state.store.tariff(&template_id).await {
        Ok(t) => t,
        Err(StoreError::NotFound) => return Err(ConsoleError::UnknownTemplate.into()),
        Err(e) => return Err(e.into()),
    };
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(ConsoleError::TariffName.into());
    }
    let monthly_price = Cents::parse_euros(&input.monthly_price).map_err(|e| invalid(&e))?;
    let mut billing_periods = Vec::new();
    if ticked(&input.monthly) {
        billing_periods.push(BillingPeriod::Monthly);
    }
    if ticked(&input.yearly) {
        billing_periods.push(BillingPeriod::Yearly);
    }
    if billing_periods.is_empty() {
        return Err(ConsoleError::NoBillingPeriod.into());
    }
    let tariff = Tariff {
        id: id.clone(),
        name: name.to_owned(),
        family: template.family,
        monthly_price,
        billing_periods,
        minimum_term_months: number_in(&input.minimum_term_months, 120, TariffField::MinimumTerm)?,
        notice_period_days: number_in(&input.notice_period_days, 365, TariffField::NoticePeriod)?,
        process_limit: template.process_limit,
        backup: template.backup,
        orderable: ticked(&input.orderable),
    };
    tariff.validate().map_err(|e| invalid(&e))?;
    state.store.create_tariff(&tariff).await.map_err(|e| match e {
        StoreError::AlreadyExists => ConsoleError::TariffExists { id: id.to_string() }.into(),
        other => ServiceError::from(other),
    })?;
    state
        .store
        .audit(
            &Actor::staff(admin),
            AuditAction::TariffCreated,
            id.as_str(),
            &format!("based on {template_id}, price {} orderable {}", tariff.monthly_price, tariff.orderable),
        )
        .await?;
    Ok(tariff)
}

/// Moves the contracts of node `from` (all, or the one numbered `contract`) to the webserver `to` (admin
/// only; `confirmed` is the ticked confirmation). Returns how many moved. The panel's records move; copying the
/// webspace is the operators' job before they confirm.
pub async fn move_contracts(
    state: &AppState,
    admin: &StaffUser,
    from: i64,
    to: Option<i64>,
    contract: Option<i64>,
    confirmed: bool,
) -> Result<u64, ServiceError> {
    require_admin(admin)?;
    let to = to.filter(|t| *t != from).ok_or(ConsoleError::ChooseTarget)?;
    if !confirmed {
        return Err(ConsoleError::ConfirmRequired.into());
    }
    let nodes = state.store.nodes().await?;
    let name_of = |id: i64| nodes.iter().find(|n| n.id == id).map(|n| n.name.to_string());
    let from_name = name_of(from).ok_or(ServiceError::NotFound)?;
    let to_name = name_of(to).ok_or(ConsoleError::ChooseTarget)?;
    if nodes.iter().any(|n| n.id == to && n.role != NodeRole::Webserver) {
        return Err(ConsoleError::NotAWebserver.into());
    }
    let moved = state.store.move_contracts(from, to, contract).await.map_err(|e| match (e, contract) {
        (StoreError::NotAWebserver, _) => ConsoleError::NotAWebserver.into(),
        (StoreError::NotFound, Some(_)) => ConsoleError::ContractNotOnNode.into(),
        (other, _) => ServiceError::from(other),
    })?;
    let detail = match contract {
        Some(c) => format!("contract {c} to {to_name}"),
        None => format!("{moved} contracts to {to_name}"),
    };
    state.store.audit(&Actor::staff(admin), AuditAction::NodeContractsMoved, &from_name, &detail).await?;
    Ok(moved)
}

/// Removes a node that no contract uses (admin only; `confirmed` is the ticked confirmation).
pub async fn delete_node(state: &AppState, admin: &StaffUser, id: i64, confirmed: bool) -> Result<(), ServiceError> {
    require_admin(admin)?;
    if !confirmed {
        return Err(ConsoleError::ConfirmRequired.into());
    }
    let name = state.store.delete_node(id).await.map_err(|e| match e {
        StoreError::NodeInUse { contracts } => ConsoleError::NodeInUse { contracts }.into(),
        StoreError::BackupServerInUse { webservers } => ConsoleError::BackupServerInUse { webservers }.into(),
        StoreError::NodeHasHistory => ConsoleError::NodeHasHistory.into(),
        other => ServiceError::from(other),
    })?;
    state.store.audit(&Actor::staff(admin), AuditAction::NodeDeleted, &name, "").await?;
    Ok(())
}

#[cfg(test)]
mod localized_tests {
    use super::*;

    #[test]
    fn every_console_error_has_its_texts() {
        // `args` matches every variant without a wildcard: a new variant is added there and here.
        let problems = crate::i18n::check_localized(&ConsoleError::examples());
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
