//! Domains a customer adds to a contract: the customer requests a domain in the menu (validated, not hosted
//! or requested by anyone yet, on an active contract); the registrar step stays with the provider's admins,
//! who complete the order with the auth code the registrar issued or reject it with a reason. The customer
//! sees the request as pending until then and gets a mail at each step.

use hostwerk_domain::AuditAction;
use hostwerk_domain::DomainName;
use hostwerk_store::{Actor, Customer, DomainOrder, PendingDomainOrder, StaffUser};

use crate::i18n::t;
use crate::service::{admin_only, invalid, parse_reason, ServiceError};
use crate::AppState;

/// The customer asks for `domain` on their contract `contract_id`.
pub async fn request_domain(
    state: &AppState,
    customer: &Customer,
    contract_id: i64,
    domain: &str,
) -> Result<DomainOrder, ServiceError> {
    let name = DomainName::parse(domain).map_err(invalid)?;
    let order = state.store.create_domain_order(customer.id, contract_id, &name, None, None).await?;
    state
        .store
        .audit(&Actor::customer(customer), AuditAction::DomainRequested, &customer.number.to_string(), name.as_str())
        .await?;
    let lang = customer.language;
    let body = t(lang, "mail.domain_request.body").replace("{domain}", name.as_str());
    state.mailer.send(customer.email.as_str(), &t(lang, "mail.domain_request.subject"), &body).await?;
    Ok(order)
}

/// The admins' work list: every pending order (domain, customer number, contract; no contact data).
pub async fn pending_orders(state: &AppState, staff: &StaffUser) -> Result<Vec<PendingDomainOrder>, ServiceError> {
    admin_only(staff)?;
    Ok(state.store.pending_domain_orders().await?)
}

/// An auth code as registrars issue them: 6 to 64 printable ASCII characters without spaces.
fn parse_auth_code(s: &str) -> Result<&str, ServiceError> {
    let s = s.trim();
    if (6..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(s)
    } else {
        Err(ServiceError::Invalid(
            "an auth code has 6 to 64 characters: letters, digits and punctuation, no spaces".into(),
        ))
    }
}

/// Completes a pending order after the registrar step: the domain joins the contract.
pub async fn complete_order(
    state: &AppState,
    staff: &StaffUser,
    order_id: i64,
    auth_code: &str,
) -> Result<String, ServiceError> {
    admin_only(staff)?;
    let code = parse_auth_code(auth_code)?;
    let (customer_id, name) = state.store.complete_domain_order(order_id, code).await?;
    let customer = state.store.customer(customer_id).await?;
    state
        .store
        .audit(&Actor::staff(staff), AuditAction::DomainOrderCompleted, &customer.number.to_string(), &name)
        .await?;
    let lang = customer.language;
    let body = t(lang, "mail.domain_ready.body").replace("{domain}", &name);
    state.mailer.send(customer.email.as_str(), &t(lang, "mail.domain_ready.subject"), &body).await?;
    Ok(name)
}

/// Rejects a pending order; the customer is told the reason.
pub async fn reject_order(
    state: &AppState,
    staff: &StaffUser,
    order_id: i64,
    reason: &str,
) -> Result<String, ServiceError> {
    admin_only(staff)?;
    let reason = parse_reason(reason)?;
    let (customer_id, name) = state.store.reject_domain_order(order_id, reason).await?;
    let customer = state.store.customer(customer_id).await?;
    state
        .store
        .audit(
            &Actor::staff(staff),
            AuditAction::DomainOrderRejected,
            &customer.number.to_string(),
            &format!("{name}: {reason}"),
        )
        .await?;
    let lang = customer.language;
    let body = t(lang, "mail.domain_rejected.body").replace("{domain}", &name).replace("{reason}", reason);
    state.mailer.send(customer.email.as_str(), &t(lang, "mail.domain_rejected.subject"), &body).await?;
    Ok(name)
}
