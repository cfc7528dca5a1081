//! Phone support's use cases, shared by the staff console, the customer menu and the API: the telephone
//! password and temporary PIN (customer side), the caller check with its lock-out, the call context that
//! gates every piece of customer data for staff, and what support may do within a call.

use chrono::{DateTime, Utc};
use hostwerk_domain::calendar::format_date;
use hostwerk_domain::contract::{quote_tariff_change, TariffChangeQuote};
use hostwerk_domain::phone::{
    check_phone_password, lock_secs_after, notify_after, AccountWords, PhonePin, FAILURES_BEFORE_LOCK, PIN_VALID_SECS,
};
use hostwerk_domain::AuditAction;
use hostwerk_domain::{format_berlin_datetime, CustomerNumber, DomainName, TariffId};
use hostwerk_store::{
    Actor, AuthCodeDisclosure, CallContext, Contract, Customer, CustomerOverview, DomainOrder, NewTariffChange,
    PhoneVerification, StaffUser, StoreError, TariffChange,
};
use rand::Rng;

use crate::i18n::t;
use crate::passwords::{hash_password, verify_password};
use crate::service::ServiceError;
use crate::AppState;

fn now() -> i64 {
    Utc::now().timestamp()
}

fn invalid(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Invalid(e.to_string())
}

// ---------------------------------------------------------------- customer side

/// Sets a new telephone password; the customer-menu password is required. The customer gets an e-mail.
pub async fn change_phone_password(
    state: &AppState,
    customer: &Customer,
    current: &str,
    new: &str,
    repeat: &str,
) -> Result<(), ServiceError> {
    let menu_hash = crate::service::check_current_and_repeat(state, customer, current, new, repeat).await?;
    let number = customer.number.to_string();
    let words = AccountWords { customer_number: &number, name: &customer.name, email: customer.email.as_str() };
    let phone = check_phone_password(new, words).map_err(invalid)?;
    if verify_password(phone.expose(), Some(menu_hash)).await {
        return Err(ServiceError::Invalid("the telephone password must differ from the customer-menu password".into()));
    }
    let hash = hash_password(phone.expose()).await?;
    state.store.set_customer_phone_password_hash(customer.id, &hash).await?;
    state.store.audit(&Actor::customer(customer), AuditAction::CustomerPhonePasswordChanged, &number, "").await?;
    state.mailer.notify(customer.email.as_str(), customer.language, "mail.phone_password_changed").await?;
    Ok(())
}

/// A new temporary phone PIN, shown once: nine random digits from the OS RNG, valid two hours, single use.
/// Replaces an earlier PIN. The customer-menu password is required: a stolen session must not become a
/// phone-support identity (issue 17).
pub async fn create_phone_pin(
    state: &AppState,
    customer: &Customer,
    current_password: &str,
) -> Result<(String, DateTime<Utc>), ServiceError> {
    crate::service::check_current_password(state, customer, current_password).await?;
    let mut digits = [0u8; 9];
    let mut rng = rand::rngs::OsRng;
    for d in &mut digits {
        *d = rng.gen_range(0..10);
    }
    let pin = PhonePin::from_digits(digits);
    let hash = hash_password(pin.expose()).await?;
    state.store.set_phone_pin(customer.id, &hash, PIN_VALID_SECS).await?;
    state
        .store
        .audit(&Actor::customer(customer), AuditAction::CustomerPhonePinCreated, &customer.number.to_string(), "")
        .await?;
    Ok((pin.grouped(), Utc::now() + chrono::Duration::seconds(PIN_VALID_SECS)))
}

/// What the customer sees of phone support on the account.
#[derive(Debug, Clone)]
pub struct PhoneActivity {
    pub verifications: Vec<PhoneVerification>,
    pub disclosures: Vec<AuthCodeDisclosure>,
    /// When the live temporary PIN expires, if there is one.
    pub pin_expires: Option<DateTime<Utc>>,
}

/// The recent checks (verified and failed), the auth codes told to callers, and the PIN's state.
pub async fn phone_activity(state: &AppState, customer: &Customer) -> Result<PhoneActivity, ServiceError> {
    Ok(PhoneActivity {
        verifications: state.store.phone_verifications(customer.id, 50).await?,
        disclosures: state.store.auth_code_disclosures(customer.id).await?,
        pin_expires: state.store.phone_pin(customer.id).await?.map(|(_, expires)| expires),
    })
}

// ---------------------------------------------------------------- the caller check

/// The answer to a check: only "verified" (with the call context it opened) or "not verified".
#[derive(Debug, Clone)]
pub enum CheckOutcome {
    Verified(CallContext),
    NotVerified,
}

/// Checks what the caller says (the telephone password or a live temporary PIN) for `number`.
///
/// Limits: per staff member a sliding window of checks; per customer number (known or not) five consecutive
/// failures lock further checks for a growing time, and the customer gets an e-mail. Every answer takes two
/// argon2 verifications, whether the number exists, has a PIN, or neither, so timing tells nothing.
pub async fn verify_caller(
    state: &AppState,
    staff: &StaffUser,
    number: &str,
    said: &str,
) -> Result<CheckOutcome, ServiceError> {
    if let Err(wait) = state.throttles.phone_checks_per_staff.check(staff.id.0) {
        tracing::warn!(staff = %staff.login, "phone checks throttled for this staff member");
        return Err(ServiceError::Throttled { retry_after_secs: wait });
    }
    let number = CustomerNumber::parse(number).map_err(invalid)?;
    let key = number.to_string();
    // The lock this attempt would cause is set with it, before the check runs: parallel guesses are
    // refused at once, and a success lifts it again.
    let schedule: Vec<i64> = (1..=FAILURES_BEFORE_LOCK + 8).map(lock_secs_after).collect();
    let failures = match state.store.take_phone_check_attempt(&key, &schedule).await? {
        Ok(n) => n,
        Err(locked_until) => return Err(ServiceError::Throttled { retry_after_secs: (locked_until - now()).max(1) }),
    };
    let customer = match state.store.customer_by_number(number).await {
        Ok(c) => Some(c),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let (phone_hash, pin_hash) = match &customer {
        Some(c) => (
            Some(state.store.customer_phone_password_hash(c.id).await?),
            state.store.phone_pin(c.id).await?.map(|(hash, _)| hash),
        ),
        None => (None, None),
    };
    let pin = PhonePin::parse(said);
    let password_ok = verify_password(said, phone_hash).await;
    let pin_ok = verify_password(pin.as_ref().map_or(said, PhonePin::expose), pin_hash).await && pin.is_some();
    let Some(customer) = customer else {
        tracing::info!(number = %key, "phone check for an unknown customer number");
        return Ok(CheckOutcome::NotVerified);
    };
    if password_ok || pin_ok {
        let method = if password_ok { "password" } else { "pin" };
        state.store.phone_check_succeeded(&key).await?;
        if pin_ok && !password_ok {
            state.store.delete_phone_pin(customer.id).await?;
        }
        let verification = state.store.record_phone_verification(customer.id, staff.id, true, method).await?;
        let call =
            state.store.open_call_context(staff.id, customer.id, verification, state.config.call_context_secs).await?;
        state
            .store
            .audit(
                &Actor::staff(staff),
                AuditAction::PhoneVerified,
                &key,
                &format!("verification #{verification} by {method}"),
            )
            .await?;
        return Ok(CheckOutcome::Verified(call));
    }
    let verification = state.store.record_phone_verification(customer.id, staff.id, false, "").await?;
    state
        .store
        .audit(
            &Actor::staff(staff),
            AuditAction::PhoneCheckFailed,
            &key,
            &format!("verification #{verification}, {failures} consecutive failures"),
        )
        .await?;
    if notify_after(failures) {
        let lang = customer.language;
        let minutes = (lock_secs_after(failures) + 59) / 60;
        let body = t(lang, "mail.phone_locked.body")
            .replace("{failures}", &failures.to_string())
            .replace("{minutes}", &minutes.to_string());
        state.mailer.send(customer.email.as_str(), &t(lang, "mail.phone_locked.subject"), &body).await?;
    }
    Ok(CheckOutcome::NotVerified)
}

/// The customer behind `number` and the live call context `staff` has for them; `NoCall` without one.
/// Every staff route that shows or changes customer data goes through here, whatever the role.
pub async fn require_call(
    state: &AppState,
    staff: &StaffUser,
    number: &str,
) -> Result<(Customer, CallContext), ServiceError> {
    let number = CustomerNumber::parse(number).map_err(invalid)?;
    let customer = state.store.customer_by_number(number).await?;
    match state.store.live_call_context(staff.id, customer.id).await? {
        Some(call) => Ok((customer, call)),
        None => Err(ServiceError::NoCall),
    }
}

/// Ends the call context of `staff` for `number`.
pub async fn end_call(state: &AppState, staff: &StaffUser, number: &str) -> Result<(), ServiceError> {
    let number = CustomerNumber::parse(number).map_err(invalid)?;
    let customer = state.store.customer_by_number(number).await?;
    if state.store.close_call_context(staff.id, customer.id).await? > 0 {
        state.store.audit(&Actor::staff(staff), AuditAction::PhoneCallClosed, &number.to_string(), "").await?;
    }
    Ok(())
}

// ---------------------------------------------------------------- within a call

/// Everything support may see within a call.
#[derive(Debug, Clone)]
pub struct CallView {
    pub customer: Customer,
    pub call: CallContext,
    pub overview: CustomerOverview,
    pub tariff_changes: Vec<TariffChange>,
    pub domain_orders: Vec<DomainOrder>,
}

/// The account details, within a live call only.
pub async fn call_view(state: &AppState, staff: &StaffUser, number: &str) -> Result<CallView, ServiceError> {
    let (customer, call) = require_call(state, staff, number).await?;
    let overview = state.store.overview(customer.id).await?;
    let tariff_changes = state.store.tariff_changes(customer.id).await?;
    let domain_orders = state.store.domain_orders(customer.id).await?;
    state
        .store
        .audit(
            &Actor::staff(staff),
            AuditAction::PhoneAccountViewed,
            &customer.number.to_string(),
            &format!("verification #{}", call.verification_id),
        )
        .await?;
    Ok(CallView { customer, call, overview, tariff_changes, domain_orders })
}

fn own_contract(overview_contracts: Vec<Contract>, contract_id: i64) -> Result<Contract, ServiceError> {
    overview_contracts.into_iter().find(|c| c.id == contract_id).ok_or(ServiceError::NotFound)
}

/// Schedules a tariff change for the next billing period; the customer gets a confirmation e-mail.
pub async fn schedule_tariff_change(
    state: &AppState,
    staff: &StaffUser,
    number: &str,
    contract_id: i64,
    tariff: &str,
) -> Result<(TariffChange, TariffChangeQuote), ServiceError> {
    let (customer, call) = require_call(state, staff, number).await?;
    let contract = own_contract(state.store.contracts(customer.id).await?, contract_id)?;
    let tariff_id = TariffId::parse(tariff).map_err(invalid)?;
    let new = match state.store.tariff(&tariff_id).await {
        Ok(t) if t.orderable => t,
        Ok(_) | Err(StoreError::NotFound) => return Err(ServiceError::Invalid("this tariff cannot be ordered".into())),
        Err(e) => return Err(e.into()),
    };
    if new.id == contract.tariff_id {
        return Err(ServiceError::Invalid("the contract already has this tariff".into()));
    }
    if !new.offers(contract.billing_period) {
        return Err(ServiceError::Invalid(format!(
            "this tariff cannot be billed every {} months",
            contract.billing_period.months()
        )));
    }
    let quote =
        quote_tariff_change(contract.prepaid_until, contract.billing_period, contract.monthly_price, new.monthly_price)
            .map_err(invalid)?;
    let change = state
        .store
        .schedule_tariff_change(&NewTariffChange {
            customer: customer.id,
            contract_id: contract.id,
            from_tariff: &contract.tariff_name,
            to_tariff: &new.name,
            new_monthly_price: new.monthly_price,
            effective: quote.effective,
            staff: staff.id,
            verification_id: Some(call.verification_id),
        })
        .await?;
    let detail = format!(
        "verification #{}: contract {} {} -> {} from {}, {} per month",
        call.verification_id, contract.id, contract.tariff_name, new.name, quote.effective, quote.monthly_difference
    );
    state
        .store
        .audit(&Actor::staff(staff), AuditAction::PhoneTariffChangeScheduled, &customer.number.to_string(), &detail)
        .await?;
    let lang = customer.language;
    let body = t(lang, "mail.tariff_change.body")
        .replace("{from}", &contract.tariff_name)
        .replace("{to}", &new.name)
        .replace("{date}", &format_date(quote.effective, lang))
        .replace("{price}", &new.monthly_price.format(lang))
        .replace("{difference}", &quote.monthly_difference.format(lang));
    state.mailer.send(customer.email.as_str(), &t(lang, "mail.tariff_change.subject"), &body).await?;
    Ok((change, quote))
}

/// Orders a domain for one of the customer's contracts (a pending provisioning order); the customer gets
/// a confirmation e-mail.
pub async fn order_domain(
    state: &AppState,
    staff: &StaffUser,
    number: &str,
    contract_id: i64,
    domain: &str,
) -> Result<DomainOrder, ServiceError> {
    let (customer, call) = require_call(state, staff, number).await?;
    let name = DomainName::parse(domain).map_err(invalid)?;
    let order = state
        .store
        .create_domain_order(customer.id, contract_id, &name, Some(staff.id), Some(call.verification_id))
        .await?;
    state
        .store
        .audit(
            &Actor::staff(staff),
            AuditAction::PhoneDomainOrdered,
            &customer.number.to_string(),
            &format!("verification #{}: {} for contract {}", call.verification_id, name, contract_id),
        )
        .await?;
    let lang = customer.language;
    let body = t(lang, "mail.domain_order.body").replace("{domain}", name.as_str());
    state.mailer.send(customer.email.as_str(), &t(lang, "mail.domain_order.subject"), &body).await?;
    Ok(order)
}

/// An auth code told to a caller: the disclosure's id, the domain and the code.
#[derive(Debug, Clone)]
pub struct AuthCodeDisclosed {
    pub id: i64,
    pub domain: String,
    pub code: String,
}

/// Tells the caller a domain's auth code. A reason is required; the customer gets an e-mail saying so.
pub async fn disclose_auth_code(
    state: &AppState,
    staff: &StaffUser,
    number: &str,
    domain_id: i64,
    reason: &str,
) -> Result<AuthCodeDisclosed, ServiceError> {
    let (customer, call) = require_call(state, staff, number).await?;
    let reason = crate::service::parse_reason(reason)?;
    let (domain, code) = state.store.domain_auth_code(customer.id, domain_id).await?;
    let id = state
        .store
        .record_auth_code_disclosure(customer.id, domain_id, &domain, staff.id, call.verification_id, reason)
        .await?;
    state
        .store
        .audit(
            &Actor::staff(staff),
            AuditAction::PhoneAuthCodeDisclosed,
            &customer.number.to_string(),
            &format!("verification #{}: {domain}; reason: {reason}", call.verification_id),
        )
        .await?;
    let lang = customer.language;
    let body = t(lang, "mail.auth_code_disclosed.body")
        .replace("{domain}", &domain)
        .replace("{staff}", &staff.display_name)
        .replace("{when}", &format_berlin_datetime(Utc::now(), lang))
        .replace("{reason}", reason);
    state.mailer.send(customer.email.as_str(), &t(lang, "mail.auth_code_disclosed.subject"), &body).await?;
    Ok(AuthCodeDisclosed { id, domain, code })
}

/// How long the page after a disclosure shows the code again (a reload, a second look) without a new
/// disclosure, audit entry and mail.
pub const AUTH_CODE_SHOWN_SECONDS: i64 = 10 * 60;

/// The code of a disclosure this staff member made within the current call in the last
/// [`AUTH_CODE_SHOWN_SECONDS`]: the page the disclosure redirects to shows it from here. Anything else
/// (another staff member's disclosure, an earlier call, an old one) is "not found".
pub async fn disclosed_auth_code(
    state: &AppState,
    staff: &StaffUser,
    number: &str,
    disclosure_id: i64,
) -> Result<(String, String), ServiceError> {
    let (customer, call) = require_call(state, staff, number).await?;
    let since = Utc::now().timestamp() - AUTH_CODE_SHOWN_SECONDS;
    let domain_id = state
        .store
        .recent_auth_code_disclosure(customer.id, disclosure_id, staff.id, call.verification_id, since)
        .await?;
    Ok(state.store.domain_auth_code(customer.id, domain_id).await?)
}
