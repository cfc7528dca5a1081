//! The application's use cases, shared by pages and API: ordering, logging in, profile and password,
//! password reminder, and the staff console's administration. Input arrives raw and is parsed here into
//! domain types; every step that changes an account is audited.

use hostwerk_domain::AuditAction;
use std::net::IpAddr;

use chrono::Utc;
use hostwerk_domain::password::AccountWords;
use hostwerk_domain::security::login_lockout_secs;
use hostwerk_domain::{
    BillingPeriod, Cents, CustomerName, CustomerNumber, EmailAddress, Language, NodeAddress, NodeName, NodeRole,
    Password, PostalAddress, StaffLogin, StaffRole, Tariff, TariffId,
};
use hostwerk_store::{
    Actor, ConfirmationPurpose, Customer, Mailbox, NewContract, NewCustomer, StaffId, StaffUser, StoreError, Subject,
};
use serde::{Deserialize, Serialize};

use crate::i18n::t;
use crate::passwords::{hash_password, verify_password};
use crate::AppState;

/// Why a use case did not go through. The message is meant for the user.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the login or the password is wrong")]
    BadCredentials,
    #[error("too many attempts; please wait {retry_after_secs} seconds and try again")]
    Throttled { retry_after_secs: i64 },
    #[error("not found")]
    NotFound,
    /// A link or token that was valid once: used, expired or withdrawn.
    #[error("{0}")]
    Gone(String),
    #[error("you are not allowed to do this")]
    Forbidden,
    #[error("verify the caller first: without a verified call, customer data stays closed")]
    NoCall,
    /// The password was right; the account's second factor is needed too (API logins without `code`).
    #[error("a code from your authenticator app (or a recovery code) is required")]
    SecondFactorRequired,
    /// A second-factor code that is wrong, or that was used already.
    #[error("the code is wrong or was used already")]
    SecondFactorWrong,
    /// A staff member whose role needs a second factor has none yet.
    #[error("set up your second factor first (staff console, Security)")]
    SecondFactorMissing,
    /// A staff-console action the user can correct, with its own i18n text.
    #[error("{0}")]
    Console(#[from] crate::staff_admin::ConsoleError),
    /// A backup request the user can correct, with its own i18n text.
    #[error("{0}")]
    Backup(#[from] crate::backups::BackupError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::NotFound,
            StoreError::Conflict(m) => ServiceError::Conflict(m),
            e @ StoreError::NotThisAttempt { .. } => ServiceError::Conflict(e.to_string()),
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

impl From<crate::passwords::HashError> for ServiceError {
    fn from(e: crate::passwords::HashError) -> Self {
        ServiceError::Internal(e.to_string())
    }
}

pub(crate) fn invalid(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Invalid(e.to_string())
}

/// A staff member's reason for an action the customer is told about (an auth-code disclosure, a rejected
/// domain order): 5 to 500 characters after trimming.
pub(crate) fn parse_reason(reason: &str) -> Result<&str, ServiceError> {
    let reason = reason.trim();
    if (5..=500).contains(&reason.chars().count()) {
        Ok(reason)
    } else {
        Err(ServiceError::Invalid("a reason of 5 to 500 characters is required".into()))
    }
}

/// What the order form (or `POST /api/v1/orders`) sends.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct OrderInput {
    pub tariff: String,
    /// 1 or 12.
    pub billing_months: u32,
    pub name: String,
    pub email: String,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    #[serde(default = "default_country")]
    pub country: String,
    pub password: String,
    pub phone_password: String,
    #[serde(default)]
    pub language: Option<String>,
}

fn default_country() -> String {
    "DE".into()
}

impl std::fmt::Display for OrderInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "order of {} for {}", self.tariff, self.email)
    }
}

/// How long an order's confirmation link works.
pub const ORDER_CONFIRMATION_SECS: i64 = 24 * 3600;

/// A validated order waiting for its e-mail address to be confirmed (stored as JSON; passwords only hashed).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PendingOrder {
    name: String,
    email: String,
    street: String,
    postal_code: String,
    city: String,
    country: String,
    language: String,
    password_hash: String,
    phone_password_hash: String,
    tariff: String,
    billing_months: u32,
}

/// What the confirmation page shows of an order before it is placed.
#[derive(Debug, Clone)]
pub struct OrderSummary {
    pub name: String,
    pub email: String,
    pub tariff: String,
}

/// Takes an order: checks every field, then mails the address a link that places it (the address must be the
/// orderer's). When an account has this address already, its owner gets a mail saying so instead; the
/// answer is the same either way, so the form does not tell who is a customer (issue 17).
pub async fn place_order(state: &AppState, input: &OrderInput, ip: IpAddr) -> Result<(), ServiceError> {
    if state.throttles.order_per_ip.check_key(&ip).is_err() {
        return Err(ServiceError::Throttled { retry_after_secs: 60 });
    }
    let tariff_id = TariffId::parse(&input.tariff).map_err(invalid)?;
    let tariff = orderable_tariff(state, &tariff_id).await?;
    let period = BillingPeriod::from_months(input.billing_months).map_err(invalid)?;
    if !tariff.offers(period) {
        return Err(ServiceError::Invalid(format!("this tariff cannot be billed every {} months", period.months())));
    }
    let name = CustomerName::parse(&input.name).map_err(invalid)?;
    let email = EmailAddress::parse(&input.email).map_err(invalid)?;
    let address =
        PostalAddress::parse(&input.street, &input.postal_code, &input.city, &input.country).map_err(invalid)?;
    // No customer number yet: it is drawn when the customer is created.
    let words = AccountWords { customer_number: "", name: name.as_str(), email: email.as_str() };
    let password = Password::parse(&input.password, words).map_err(invalid)?;
    let phone = hostwerk_domain::phone::check_phone_password(&input.phone_password, words).map_err(invalid)?;
    if phone.expose() == password.expose() {
        return Err(ServiceError::Invalid("the telephone password must differ from the customer-menu password".into()));
    }
    let language = input.language.as_deref().and_then(|l| Language::parse(l).ok()).unwrap_or_default();
    // Hash before looking the address up: both answers take the same time.
    let password_hash = hash_password(password.expose()).await?;
    let phone_password_hash = hash_password(phone.expose()).await?;
    if let Some(owner) = state.store.customer_with_email(&email).await? {
        let lang = owner.language;
        let body = t(lang, "mail.order_address_taken.body")
            .replace("{number}", &owner.number.to_string())
            .replace("{login}", &format!("{}/login", state.config.public_url))
            .replace("{reminder}", &format!("{}/password-reminder", state.config.public_url));
        state.mailer.send(owner.email.as_str(), &t(lang, "mail.order_address_taken.subject"), &body).await?;
        tracing::info!(customer = %owner.number, "an order named an address that has an account; its owner was told");
        return Ok(());
    }
    let pending = PendingOrder {
        name: name.as_str().to_owned(),
        email: email.as_str().to_owned(),
        street: address.street.clone(),
        postal_code: address.postal_code.clone(),
        city: address.city.clone(),
        country: address.country.clone(),
        language: language.code().to_owned(),
        password_hash,
        phone_password_hash,
        tariff: tariff.id.as_str().to_owned(),
        billing_months: period.months(),
    };
    let payload = serde_json::to_string(&pending).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let token = state
        .store
        .create_email_confirmation(ConfirmationPurpose::Order, None, &email, &payload, ORDER_CONFIRMATION_SECS)
        .await?;
    let body = format!(
        "{}\n\n{}/order/confirm?token={token}\n\n{}\n",
        t(language, "mail.order_confirm.body").replace("{name}", name.as_str()).replace("{tariff}", &tariff.name),
        state.config.public_url,
        t(language, "mail.order_confirm.ignore")
    );
    state
        .mailer
        .send_secret(email.as_str(), language, &t(language, "mail.order_confirm.subject"), &body, &token)
        .await?;
    Ok(())
}

async fn orderable_tariff(state: &AppState, id: &TariffId) -> Result<hostwerk_domain::Tariff, ServiceError> {
    match state.store.tariff(id).await {
        Ok(t) if t.orderable => Ok(t),
        Ok(_) | Err(StoreError::NotFound) => Err(ServiceError::Invalid("this tariff cannot be ordered".into())),
        Err(e) => Err(e.into()),
    }
}

/// A failed lookup of an order's link: unknown, used or expired is "gone".
fn order_link(e: StoreError) -> ServiceError {
    match e {
        StoreError::NotFound => {
            ServiceError::Gone("this link is invalid, already used or expired; please order again".into())
        }
        other => other.into(),
    }
}

fn pending_order(payload: &str) -> Result<PendingOrder, ServiceError> {
    serde_json::from_str(payload).map_err(|e| ServiceError::Internal(format!("stored order: {e}")))
}

/// The order behind a confirmation link, for the page that asks to place it.
pub async fn order_summary(state: &AppState, token: &str) -> Result<OrderSummary, ServiceError> {
    let open = state.store.peek_email_confirmation(token, ConfirmationPurpose::Order).await.map_err(order_link)?;
    let order = pending_order(&open.payload)?;
    let tariff = TariffId::parse(&order.tariff).map_err(invalid)?;
    let tariff = orderable_tariff(state, &tariff).await?;
    Ok(OrderSummary { name: order.name, email: order.email, tariff: tariff.name })
}

/// Places a confirmed order: a new customer with a first contract. Sends the customer number by e-mail.
pub async fn confirm_order(state: &AppState, token: &str) -> Result<Customer, ServiceError> {
    let open = state.store.consume_email_confirmation(token, ConfirmationPurpose::Order).await.map_err(order_link)?;
    let order = pending_order(&open.payload)?;
    let tariff = orderable_tariff(state, &TariffId::parse(&order.tariff).map_err(invalid)?).await?;
    let period = BillingPeriod::from_months(order.billing_months).map_err(invalid)?;
    let language = Language::parse(&order.language).unwrap_or_default();
    let new = NewCustomer {
        name: CustomerName::parse(&order.name).map_err(invalid)?,
        email: EmailAddress::parse(&order.email).map_err(invalid)?,
        address: PostalAddress::parse(&order.street, &order.postal_code, &order.city, &order.country)
            .map_err(invalid)?,
        language,
        password_hash: order.password_hash,
        phone_password_hash: order.phone_password_hash,
    };
    let contract = NewContract {
        tariff: tariff.clone(),
        period,
        start: hostwerk_domain::calendar::berlin_date(Utc::now()),
        webspace_root: state.config.webspace_root.clone(),
    };
    // The address proved to be the orderer's: if an account took it meanwhile, saying so is no leak.
    let customer = state.store.create_customer(&new, &contract).await?;
    state
        .store
        .audit(&Actor::customer(&customer), AuditAction::OrderPlaced, &customer.number.to_string(), tariff.id.as_str())
        .await?;
    let body = format!(
        "{}\n\n{}: {}\n{}: {}\n\n{}: {}/login\n",
        t(language, "mail.order.greeting").replace("{name}", &customer.name),
        t(language, "common.customer_number"),
        customer.number,
        t(language, "common.tariff"),
        tariff.name,
        t(language, "mail.order.login_at"),
        state.config.public_url
    );
    state.mailer.send(customer.email.as_str(), &t(language, "mail.order.subject"), &body).await?;
    Ok(customer)
}

fn now() -> i64 {
    Utc::now().timestamp()
}

/// The part every password login shares: the per-client limit, the per-account lock-out, and a check that
/// takes as long and answers the same for an unknown login as for a known one (issue 17): the password is
/// always verified first, and names without an account are locked out on the same schedule as accounts.
/// `name` is the login as typed; `account` is (locked until, hash). Returns whether the password is right.
async fn check_login(
    state: &AppState,
    ip: IpAddr,
    name: &str,
    account: Option<(i64, String)>,
    password: &str,
) -> Result<bool, ServiceError> {
    if state.throttles.login_per_ip.check_key(&ip).is_err() {
        return Err(ServiceError::Throttled { retry_after_secs: 60 });
    }
    let key = unknown_login_key(name);
    let locked_until = match &account {
        Some((until, _)) => *until,
        None => state.throttles.unknown_logins.get(&key).1,
    };
    let known = account.is_some();
    let ok = verify_password(password, account.map(|(_, hash)| hash)).await;
    let now = now();
    if locked_until > now {
        return Err(ServiceError::Throttled { retry_after_secs: locked_until - now });
    }
    if !known {
        state.throttles.unknown_logins.failed(&key, now, login_lockout_secs);
    }
    Ok(ok)
}

/// How a login name without an account is remembered: as typed, trimmed and in lower case (the forms a
/// real account's login would also match).
fn unknown_login_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Where a right password leads: in, or to the second factor (the login is pending: no session, no audit,
/// and the failure count stays, so guessing codes cannot be reset by the password).
#[derive(Debug, Clone)]
pub enum LoginStep<T> {
    Done(T),
    SecondFactor(T),
}

/// Checks a customer's login (customer number or e-mail) and password, with throttling per client and per account.
pub async fn customer_login(
    state: &AppState,
    login: &str,
    password: &str,
    ip: IpAddr,
) -> Result<LoginStep<Customer>, ServiceError> {
    let creds = match state.store.customer_credentials(login).await {
        Ok(c) => Some(c),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let ok = check_login(
        state,
        ip,
        &format!("customer:{}", login.trim()),
        creds.as_ref().map(|c| (c.locked_until, c.password_hash.clone())),
        password,
    )
    .await?;
    match creds {
        Some(c) if ok => {
            let customer = state.store.customer(c.id).await?;
            if crate::second_factor::enrolled(state, Subject::Customer(c.id)).await? {
                return Ok(LoginStep::SecondFactor(customer));
            }
            state.store.customer_login_succeeded(c.id).await?;
            state
                .store
                .audit(&Actor::customer(&customer), AuditAction::CustomerLogin, &customer.number.to_string(), "")
                .await?;
            Ok(LoginStep::Done(customer))
        }
        Some(c) => {
            let lockout = login_lockout_secs(c.failed_logins + 1);
            state.store.customer_login_failed(c.id, now() + lockout).await?;
            tracing::info!(customer = %c.number, failures = c.failed_logins + 1, "failed customer login");
            Err(ServiceError::BadCredentials)
        }
        None => Err(ServiceError::BadCredentials),
    }
}

/// Checks a staff login, with the same throttling as customers.
pub async fn staff_login(
    state: &AppState,
    login: &str,
    password: &str,
    ip: IpAddr,
) -> Result<LoginStep<StaffUser>, ServiceError> {
    let creds = match StaffLogin::parse(login) {
        Ok(l) => match state.store.staff_credentials(&l).await {
            Ok(c) => Some(c),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        Err(_) => None,
    };
    let ok = check_login(
        state,
        ip,
        &format!("staff:{}", login.trim()),
        creds.as_ref().map(|c| (c.locked_until, c.password_hash.clone())),
        password,
    )
    .await?;
    match creds {
        Some(c) if ok && c.active => {
            let user = state.store.staff(c.id).await?;
            if user.second_factor {
                return Ok(LoginStep::SecondFactor(user));
            }
            state.store.staff_login_succeeded(c.id).await?;
            state.store.audit(&Actor::staff(&user), AuditAction::StaffLogin, user.login.as_str(), "").await?;
            Ok(LoginStep::Done(user))
        }
        Some(c) => {
            state.store.staff_login_failed(c.id, now() + login_lockout_secs(c.failed_logins + 1)).await?;
            Err(ServiceError::BadCredentials)
        }
        None => Err(ServiceError::BadCredentials),
    }
}

/// The customer's menu password must be `current` (before a sensitive change: a stolen session alone must
/// not be enough). Returns the stored hash.
pub(crate) async fn check_current_password(
    state: &AppState,
    customer: &Customer,
    current: &str,
) -> Result<String, ServiceError> {
    let stored = state.store.customer_password_hash(customer.id).await?;
    if verify_password(current, Some(stored.clone())).await {
        Ok(stored)
    } else {
        Err(ServiceError::Invalid("the current password is wrong".into()))
    }
}

/// The checks before a customer sets a new secret: the current menu password must be right and the new value
/// typed twice the same. Returns the stored menu-password hash.
pub(crate) async fn check_current_and_repeat(
    state: &AppState,
    customer: &Customer,
    current: &str,
    new: &str,
    repeat: &str,
) -> Result<String, ServiceError> {
    let stored = check_current_password(state, customer, current).await?;
    if new != repeat {
        return Err(ServiceError::Invalid("the two new passwords differ".into()));
    }
    Ok(stored)
}

/// Changes the customer-menu password; the current one is required. Other sessions end.
pub async fn change_password(
    state: &AppState,
    customer: &Customer,
    current: &str,
    new: &str,
    repeat: &str,
) -> Result<(), ServiceError> {
    check_current_and_repeat(state, customer, current, new, repeat).await?;
    let password = parse_customer_password(customer, new)?;
    let hash = hash_password(password.expose()).await?;
    store_new_password(state, customer, &hash, AuditAction::CustomerPasswordChanged).await
}

/// A new customer-menu password for `customer`: the domain's rules, with the customer's own words.
fn parse_customer_password(customer: &Customer, new: &str) -> Result<Password, ServiceError> {
    let number = customer.number.to_string();
    let words = AccountWords { customer_number: &number, name: &customer.name, email: customer.email.as_str() };
    Password::parse(new, words).map_err(invalid)
}

/// Stores a new password hash, ends every session and API token of the customer, audits the change and
/// tells the customer by e-mail.
async fn store_new_password(
    state: &AppState,
    customer: &Customer,
    hash: &str,
    action: AuditAction,
) -> Result<(), ServiceError> {
    state.store.set_customer_password_hash(customer.id, hash).await?;
    state.store.end_all_sessions(Subject::Customer(customer.id)).await?;
    state.store.audit(&Actor::customer(customer), action, &customer.number.to_string(), "").await?;
    state.mailer.notify(customer.email.as_str(), customer.language, "mail.password_changed").await?;
    Ok(())
}

/// How long the link that confirms a new e-mail address works.
pub const EMAIL_CONFIRMATION_SECS: i64 = 24 * 3600;

/// What a profile change did.
#[derive(Debug, Clone)]
pub struct ProfileChange {
    pub customer: Customer,
    /// A new address was asked for: a link went to it, and the address changes when it is opened.
    pub confirmation_sent: bool,
}

/// Updates the language, and asks for a new e-mail address: that needs the current password (a stolen
/// session must not move the account's mail elsewhere), and the new address gets a link that makes the change
/// (it must be the customer's). If another account has the address, its owner is told instead; the answer
/// is the same either way (issue 17).
pub async fn update_profile(
    state: &AppState,
    customer: &Customer,
    email: &str,
    language: &str,
    current_password: &str,
) -> Result<ProfileChange, ServiceError> {
    let email = EmailAddress::parse(email).map_err(invalid)?;
    let language = Language::parse(language).map_err(invalid)?;
    let new_address = email.normalized() != customer.email.normalized();
    if new_address {
        check_current_password(state, customer, current_password).await?;
    }
    if language != customer.language {
        state.store.update_customer_profile(customer.id, &customer.email, language).await?;
        state
            .store
            .audit(
                &Actor::customer(customer),
                AuditAction::CustomerProfileChanged,
                &customer.number.to_string(),
                &format!("language {language}"),
            )
            .await?;
    }
    if new_address {
        match state.store.customer_with_email(&email).await? {
            Some(owner) => {
                let lang = owner.language;
                state.mailer.notify(owner.email.as_str(), lang, "mail.email_change_taken").await?;
                tracing::info!(customer = %customer.number, "a new address that another account has was asked for");
            }
            None => {
                let token = state
                    .store
                    .create_email_confirmation(
                        ConfirmationPurpose::EmailChange,
                        Some(customer.id),
                        &email,
                        email.as_str(),
                        EMAIL_CONFIRMATION_SECS,
                    )
                    .await?;
                let body = format!(
                    "{}\n\n{}/email-confirm?token={token}\n\n{}\n",
                    t(language, "mail.email_confirm.body").replace("{number}", &customer.number.to_string()),
                    state.config.public_url,
                    t(language, "mail.email_confirm.ignore")
                );
                let subject = t(language, "mail.email_confirm.subject");
                state.mailer.send_secret(email.as_str(), language, &subject, &body, &token).await?;
            }
        }
        state
            .store
            .audit(
                &Actor::customer(customer),
                AuditAction::CustomerEmailChangeRequested,
                &customer.number.to_string(),
                "",
            )
            .await?;
    }
    Ok(ProfileChange { customer: state.store.customer(customer.id).await?, confirmation_sent: new_address })
}

/// Makes the change of address that the link mailed to the new address confirms. The old address is told.
pub async fn confirm_email_change(state: &AppState, token: &str) -> Result<Customer, ServiceError> {
    let open = match state.store.consume_email_confirmation(token, ConfirmationPurpose::EmailChange).await {
        Ok(o) => o,
        Err(StoreError::NotFound) => {
            return Err(ServiceError::Gone("this link is invalid, already used or expired".into()))
        }
        Err(e) => return Err(e.into()),
    };
    let id = open.customer.ok_or_else(|| ServiceError::Internal("an address confirmation without customer".into()))?;
    let customer = state.store.customer(id).await?;
    let email = EmailAddress::parse(&open.payload).map_err(invalid)?;
    // The address proved to be the customer's: if an account took it meanwhile, saying so is no leak.
    state.store.update_customer_profile(id, &email, customer.language).await?;
    state
        .store
        .audit(
            &Actor::customer(&customer),
            AuditAction::CustomerProfileChanged,
            &customer.number.to_string(),
            "e-mail changed",
        )
        .await?;
    // The old address learns of the change, so a taken-over account is noticed.
    state.mailer.notify(customer.email.as_str(), customer.language, "mail.email_changed").await?;
    Ok(state.store.customer(id).await?)
}

/// Whether an address-confirmation link still works (for the page that asks to confirm it).
pub async fn email_change_valid(state: &AppState, token: &str) -> bool {
    state.store.peek_email_confirmation(token, ConfirmationPurpose::EmailChange).await.is_ok()
}

/// Reset tokens live one hour.
pub const RESET_TOKEN_SECS: i64 = 3600;

/// Sends a password-reset link if `login` names a customer. Always answers the same way.
pub async fn request_password_reminder(state: &AppState, login: &str, ip: IpAddr) -> Result<(), ServiceError> {
    if state.throttles.reminder_per_ip.check_key(&ip).is_err() {
        return Err(ServiceError::Throttled { retry_after_secs: 60 });
    }
    // What was typed must be a customer number or an e-mail address (an empty form is not a request); the
    // answer to either is the same whether or not an account exists.
    let customer = if let Ok(n) = CustomerNumber::parse(login) {
        state.store.customer_by_number(n).await
    } else if let Ok(e) = EmailAddress::parse(login) {
        state.store.customer_by_email(&e).await
    } else {
        return Err(ServiceError::Invalid(
            "please enter your customer number (K and 7 digits) or your e-mail address".into(),
        ));
    };
    let customer = match customer {
        Ok(c) => c,
        Err(StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if state.throttles.reminder_per_account.check_key(&customer.id.0).is_err() {
        tracing::info!(customer = %customer.number, "password reminder suppressed: too many for this account");
        return Ok(());
    }
    let token = state.store.create_reset_token(customer.id, RESET_TOKEN_SECS).await?;
    let lang = customer.language;
    let body = format!(
        "{}\n\n{}/password-reset?token={token}\n\n{}\n",
        t(lang, "mail.reminder.body"),
        state.config.public_url,
        t(lang, "mail.reminder.ignore")
    );
    state.mailer.send_secret(customer.email.as_str(), lang, &t(lang, "mail.reminder.subject"), &body, &token).await?;
    state
        .store
        .audit(
            &Actor::system("password-reminder"),
            AuditAction::CustomerResetRequested,
            &customer.number.to_string(),
            "",
        )
        .await?;
    Ok(())
}

/// Whether a reset link is still valid.
pub async fn reset_token_valid(state: &AppState, token: &str) -> bool {
    state.store.peek_reset_token(token).await.is_ok()
}

/// Sets a new password with a reset token; the token is used up and every session of the customer ends.
pub async fn reset_password(state: &AppState, token: &str, new: &str, repeat: &str) -> Result<Customer, ServiceError> {
    if new != repeat {
        return Err(ServiceError::Invalid("the two new passwords differ".into()));
    }
    let link_gone = |e: StoreError| match e {
        StoreError::NotFound => {
            ServiceError::Invalid("this link is invalid, used or expired; please request a new one".into())
        }
        other => other.into(),
    };
    // The new password is checked against the account's own words before the token is used up.
    let id = state.store.peek_reset_token(token).await.map_err(link_gone)?;
    let customer = state.store.customer(id).await?;
    let password = parse_customer_password(&customer, new)?;
    let hash = hash_password(password.expose()).await?;
    if state.store.consume_reset_token(token).await.map_err(link_gone)? != id {
        return Err(ServiceError::Internal("a reset token changed its customer".into()));
    }
    store_new_password(state, &customer, &hash, AuditAction::CustomerPasswordReset).await?;
    // Whoever could reset the menu password must not also hold a PIN that opens phone support.
    if state.store.delete_phone_pin(customer.id).await? {
        state
            .store
            .audit(
                &Actor::customer(&customer),
                AuditAction::CustomerPhonePinInvalidated,
                &customer.number.to_string(),
                "password reset",
            )
            .await?;
    }
    Ok(customer)
}

/// Adds a mailbox on one of the customer's domains.
pub async fn add_mailbox(
    state: &AppState,
    customer: &Customer,
    domain_id: i64,
    local_part: &str,
) -> Result<(), ServiceError> {
    let local_part = hostwerk_domain::MailboxName::parse(local_part).map_err(invalid)?;
    let mailbox = state.store.add_mailbox(customer.id, domain_id, &local_part).await?;
    state.store.audit(&Actor::customer(customer), AuditAction::MailboxCreated, mailbox.address.as_str(), "").await?;
    Ok(())
}

/// Deletes one of the customer's mailboxes.
/// One of the customer's mailboxes ("not found" for anyone else's).
pub async fn mailbox_of(state: &AppState, customer: &Customer, mailbox_id: i64) -> Result<Mailbox, ServiceError> {
    state.store.mailboxes(customer.id).await?.into_iter().find(|m| m.id == mailbox_id).ok_or(ServiceError::NotFound)
}

pub async fn delete_mailbox(state: &AppState, customer: &Customer, mailbox_id: i64) -> Result<(), ServiceError> {
    let address = state.store.delete_mailbox(customer.id, mailbox_id).await?;
    state.store.audit(&Actor::customer(customer), AuditAction::MailboxDeleted, &address, "").await?;
    Ok(())
}

/// What support may see of a customer before the caller is verified: number and name, nothing else.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CustomerSummary {
    pub number: String,
    pub name: String,
}

/// Finds a customer by number for the staff console.
pub async fn find_customer(state: &AppState, staff: &StaffUser, number: &str) -> Result<CustomerSummary, ServiceError> {
    let number = CustomerNumber::parse(number).map_err(invalid)?;
    let customer = state.store.customer_by_number(number).await?;
    state.store.audit(&Actor::staff(staff), AuditAction::StaffCustomerLookup, &number.to_string(), "").await?;
    Ok(CustomerSummary { number: customer.number.to_string(), name: customer.name })
}

fn require_admin(staff: &StaffUser) -> Result<(), ServiceError> {
    if staff.role.is_admin() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden)
    }
}

/// Creates a staff account (admin only).
pub async fn create_staff(
    state: &AppState,
    admin: &StaffUser,
    login: &str,
    display_name: &str,
    role: &str,
    password: &str,
) -> Result<StaffUser, ServiceError> {
    require_admin(admin)?;
    let login = StaffLogin::parse(login).map_err(invalid)?;
    let role = StaffRole::parse(role).map_err(invalid)?;
    let display_name = CustomerName::parse(display_name).map_err(invalid)?;
    let words = AccountWords { name: display_name.as_str(), ..AccountWords::default() };
    let password = Password::parse(password, words).map_err(invalid)?;
    let user =
        state.store.create_staff(&login, display_name.as_str(), role, &hash_password(password.expose()).await?).await?;
    state.store.audit(&Actor::staff(admin), AuditAction::StaffCreated, login.as_str(), role.as_str()).await?;
    Ok(user)
}

/// Enables or disables a staff account (admin only; nobody disables themselves).
pub async fn set_staff_active(state: &AppState, admin: &StaffUser, id: i64, active: bool) -> Result<(), ServiceError> {
    require_admin(admin)?;
    if admin.id.0 == id && !active {
        return Err(ServiceError::Invalid("you cannot disable your own account".into()));
    }
    let target = state.store.staff(StaffId(id)).await?;
    state.store.set_staff_active(StaffId(id), active).await?;
    let action = if active { AuditAction::StaffEnabled } else { AuditAction::StaffDisabled };
    state.store.audit(&Actor::staff(admin), action, target.login.as_str(), "").await?;
    Ok(())
}

/// The fields of a tariff an admin edits.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct TariffUpdate {
    pub name: String,
    /// Monthly price in euros, e.g. `8,99`.
    pub monthly_price: String,
    pub minimum_term_months: u32,
    pub notice_period_days: u32,
    #[serde(default)]
    pub orderable: Option<String>,
}

/// Changes a tariff (admin only). Existing contracts keep the price they were ordered at.
pub async fn update_tariff(
    state: &AppState,
    admin: &StaffUser,
    id: &str,
    update: &TariffUpdate,
) -> Result<Tariff, ServiceError> {
    require_admin(admin)?;
    let id = TariffId::parse(id).map_err(invalid)?;
    let mut tariff = state.store.tariff(&id).await?;
    tariff.name = update.name.trim().to_owned();
    tariff.monthly_price = Cents::parse_euros(&update.monthly_price).map_err(invalid)?;
    tariff.minimum_term_months = update.minimum_term_months;
    tariff.notice_period_days = update.notice_period_days;
    tariff.orderable = matches!(update.orderable.as_deref(), Some("on" | "true" | "1"));
    tariff.validate().map_err(invalid)?;
    state.store.update_tariff(&tariff).await?;
    state
        .store
        .audit(
            &Actor::staff(admin),
            AuditAction::TariffUpdated,
            id.as_str(),
            &format!("price {} orderable {}", tariff.monthly_price, tariff.orderable),
        )
        .await?;
    Ok(tariff)
}

/// Registers a node (admin only).
pub async fn create_node(
    state: &AppState,
    admin: &StaffUser,
    name: &str,
    role: &str,
    address: &str,
) -> Result<(), ServiceError> {
    require_admin(admin)?;
    let name = NodeName::parse(name).map_err(invalid)?;
    let role = NodeRole::parse(role).map_err(invalid)?;
    let address = NodeAddress::parse(address).map_err(invalid)?;
    state.store.create_node(&name, role, &address).await?;
    state.store.audit(&Actor::staff(admin), AuditAction::NodeCreated, name.as_str(), role.as_str()).await?;
    Ok(())
}

/// Removes a node that no contract uses (admin only). The API's `DELETE` is its own confirmation.
pub async fn delete_node(state: &AppState, admin: &StaffUser, id: i64) -> Result<(), ServiceError> {
    crate::staff_admin::delete_node(state, admin, id, true).await
}

/// Guards admin-only reads.
pub fn admin_only(staff: &StaffUser) -> Result<(), ServiceError> {
    require_admin(staff)
}
