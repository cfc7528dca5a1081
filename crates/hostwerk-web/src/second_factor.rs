//! The second factor (issue 17, item 5): TOTP codes (RFC 6238, `totp-rs`: SHA-1, 6 digits, 30-second steps,
//! one step of clock skew either way) and ten single-use recovery codes, for customers and staff.
//!
//! A code is accepted once: the store keeps the time step of the last accepted code and takes a new one only
//! if its step is later, in one conditional `UPDATE`. A login with a second factor is pending after the
//! password (no session, the failure counter untouched) until a code or recovery code completes it; a wrong
//! code counts as a failed login of the account, so passwords and codes share one lock-out. Enrolment,
//! use of a recovery code, disabling and every reset are audited; disabling, a recovery code and a staff reset
//! mail a customer (staff accounts have no e-mail address in hostwerk; for them the audit log is the record).

use hostwerk_domain::AuditAction;
use std::net::IpAddr;

use chrono::Utc;
use hostwerk_domain::security::login_lockout_secs;
use hostwerk_domain::StaffRole;
use hostwerk_store::token::{hash_token, new_recovery_code, normalize_code};
use hostwerk_store::{Actor, Customer, StaffId, StaffUser, StoreError, Subject};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};

use crate::passwords::verify_password;
use crate::service::ServiceError;
use crate::AppState;

/// Seconds per TOTP time step.
pub const STEP_SECS: i64 = 30;
/// How many recovery codes an enrolment gives.
pub const RECOVERY_CODES: usize = 10;
/// How long a login waits for its second factor after the password.
pub const PENDING_LOGIN_SECS: i64 = 300;

/// The account a second-factor action is about.
#[derive(Debug, Clone, Copy)]
pub enum Account<'a> {
    Customer(&'a Customer),
    Staff(&'a StaffUser),
}

impl Account<'_> {
    pub fn subject(&self) -> Subject {
        match self {
            Account::Customer(c) => Subject::Customer(c.id),
            Account::Staff(s) => Subject::Staff(s.id),
        }
    }

    fn actor(&self) -> Actor {
        match self {
            Account::Customer(c) => Actor::customer(c),
            Account::Staff(s) => Actor::staff(s),
        }
    }

    /// The name in the audit log and in the authenticator app.
    fn label(&self) -> String {
        match self {
            Account::Customer(c) => c.number.to_string(),
            Account::Staff(s) => s.login.to_string(),
        }
    }

    /// Whether `password` is the account's current password.
    async fn password_is(&self, state: &AppState, password: &str) -> Result<bool, ServiceError> {
        let stored = match self {
            Account::Customer(c) => state.store.customer_password_hash(c.id).await?,
            Account::Staff(s) => state.store.staff_credentials(&s.login).await?.password_hash,
        };
        Ok(verify_password(password, Some(stored)).await)
    }

    /// Mails the owner `key` (`{key}.subject`, `{key}.body`), if the account has an address (customers do).
    async fn mail_owner(&self, state: &AppState, key: &str) -> Result<(), ServiceError> {
        if let Account::Customer(c) = self {
            state.mailer.notify(c.email.as_str(), c.language, key).await?;
        }
        Ok(())
    }
}

/// Whether a staff member of `role` must have a second factor before doing anything in the console.
pub fn required_for(state: &AppState, role: StaffRole) -> bool {
    match role {
        StaffRole::Admin | StaffRole::Management => true,
        StaffRole::Support => state.config.security.second_factor_for_support,
    }
}

/// Whether `staff` still has to enrol before anything else.
pub fn must_enrol(state: &AppState, staff: &StaffUser) -> bool {
    !staff.second_factor && required_for(state, staff.role)
}

fn totp(state: &AppState, secret: &str, label: &str) -> Result<TOTP, ServiceError> {
    let bytes = Secret::Encoded(secret.to_owned())
        .to_bytes()
        .map_err(|e| ServiceError::Internal(format!("stored second-factor secret: {e:?}")))?;
    // The issuer and name appear in the authenticator app; ':' separates them in the URL, so none inside.
    let issuer = state.config.provider_name.replace(':', " ");
    TOTP::new(Algorithm::SHA1, 6, 1, STEP_SECS as u64, bytes, Some(issuer), label.replace(':', " "))
        .map_err(|e| ServiceError::Internal(format!("second-factor secret: {e}")))
}

fn now_step() -> i64 {
    Utc::now().timestamp().div_euclid(STEP_SECS)
}

/// The time step (the current one, or one either side for clock skew) whose code `code` is; the latest
/// step first, compared in constant time.
fn matching_step(totp: &TOTP, code: &str, now_step: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    [now_step + 1, now_step, now_step - 1].into_iter().find(|step| {
        let expected = totp.generate(u64::try_from(step * STEP_SECS).unwrap_or(0));
        bool::from(expected.as_bytes().ct_eq(code.as_bytes()))
    })
}

/// What the enrolment page shows: the secret for typing in, the otpauth URL and its QR code as inline SVG.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub secret: String,
    pub url: String,
    pub qr_svg: String,
}

/// The second factor's state for a security page.
#[derive(Debug, Clone)]
pub enum Status {
    /// Not set up: what to show for enrolment.
    Off(Enrolment),
    On {
        recovery_codes_left: i64,
    },
}

/// The account's second factor, or a new secret to enrol (the same one on every visit until confirmed).
pub async fn status(state: &AppState, account: Account<'_>) -> Result<Status, ServiceError> {
    let subject = account.subject();
    if let Some(f) = state.store.second_factor(subject).await? {
        if f.enrolled_at.is_some() {
            return Ok(Status::On { recovery_codes_left: state.store.recovery_codes_left(subject).await? });
        }
    }
    let fresh = match Secret::generate_secret().to_encoded() {
        Secret::Encoded(s) => s,
        Secret::Raw(_) => return Err(ServiceError::Internal("a secret that does not encode".into())),
    };
    let secret = state.store.start_second_factor(subject, &fresh).await?;
    let totp = totp(state, &secret, &account.label())?;
    let url = totp.get_url();
    let qr = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| ServiceError::Internal(format!("QR code: {e}")))?;
    let qr_svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    // The SVG's XML declaration has no place inside HTML.
    let qr_svg = qr_svg.find("<svg").map_or(qr_svg.clone(), |at| qr_svg[at..].to_owned());
    Ok(Status::Off(Enrolment { secret, url, qr_svg }))
}

fn wrong_code() -> ServiceError {
    ServiceError::Invalid("the code is wrong or was used already".into())
}

fn new_codes() -> (Vec<String>, Vec<String>) {
    (0..RECOVERY_CODES).map(|_| new_recovery_code()).map(|c| (c.raw, c.hash)).unzip()
}

/// Confirms the enrolment shown with the account's password and a current code; returns the ten recovery
/// codes, which exist only in this answer.
pub async fn enrol(
    state: &AppState,
    account: Account<'_>,
    password: &str,
    code: &str,
) -> Result<Vec<String>, ServiceError> {
    if !account.password_is(state, password).await? {
        return Err(ServiceError::Invalid("the current password is wrong".into()));
    }
    let subject = account.subject();
    let pending = match state.store.second_factor(subject).await? {
        Some(f) if f.enrolled_at.is_none() => f,
        Some(_) => return Err(ServiceError::Conflict("a second factor is set up already".into())),
        None => return Err(ServiceError::Invalid("please open the security page again".into())),
    };
    let step =
        matching_step(&totp(state, &pending.secret, &account.label())?, code, now_step()).ok_or_else(wrong_code)?;
    let (codes, hashes) = new_codes();
    match state.store.enrol_second_factor(subject, &pending.secret, step, &hashes).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(ServiceError::Conflict("a second factor is set up already".into())),
        Err(e) => return Err(e.into()),
    }
    state.store.audit(&account.actor(), AuditAction::SecondFactorEnrolled, &account.label(), "TOTP").await?;
    Ok(codes)
}

/// Checks a current code or an unused recovery code of the enrolled factor (a recovery code is used up, its
/// owner mailed and the use audited). Returns what was used.
async fn check_code(state: &AppState, account: Account<'_>, code: &str) -> Result<Option<Used>, ServiceError> {
    let subject = account.subject();
    let Some(factor) = state.store.second_factor(subject).await?.filter(|f| f.enrolled_at.is_some()) else {
        return Err(ServiceError::Invalid("no second factor is set up".into()));
    };
    if let Some(step) = matching_step(&totp(state, &factor.secret, &account.label())?, code, now_step()) {
        return Ok(state.store.accept_second_factor_step(subject, step).await?.then_some(Used::Code));
    }
    let typed = normalize_code(code);
    if typed.len() == 32 && state.store.use_recovery_code(subject, &hash_token(&typed)).await? {
        let left = state.store.recovery_codes_left(subject).await?;
        state
            .store
            .audit(
                &account.actor(),
                AuditAction::SecondFactorRecoveryCodeUsed,
                &account.label(),
                &format!("{left} left"),
            )
            .await?;
        account.mail_owner(state, "mail.second_factor_recovery_used").await?;
        return Ok(Some(Used::RecoveryCode));
    }
    Ok(None)
}

/// What completed a second-factor check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Used {
    Code,
    RecoveryCode,
}

impl Used {
    fn as_str(self) -> &'static str {
        match self {
            Used::Code => "TOTP code",
            Used::RecoveryCode => "recovery code",
        }
    }
}

/// Switches the second factor off with the password and a current code (or a recovery code); mails the owner.
pub async fn disable(state: &AppState, account: Account<'_>, password: &str, code: &str) -> Result<(), ServiceError> {
    if !account.password_is(state, password).await? {
        return Err(ServiceError::Invalid("the current password is wrong".into()));
    }
    if let Account::Staff(s) = account {
        if required_for(state, s.role) {
            return Err(ServiceError::Invalid("your role needs a second factor; it cannot be switched off".into()));
        }
    }
    check_code(state, account, code).await?.ok_or_else(wrong_code)?;
    state.store.remove_second_factor(account.subject()).await?;
    state.store.audit(&account.actor(), AuditAction::SecondFactorDisabled, &account.label(), "").await?;
    account.mail_owner(state, "mail.second_factor_disabled").await?;
    Ok(())
}

/// New recovery codes (the old ones stop working), with the password and a current code.
pub async fn new_recovery_codes(
    state: &AppState,
    account: Account<'_>,
    password: &str,
    code: &str,
) -> Result<Vec<String>, ServiceError> {
    if !account.password_is(state, password).await? {
        return Err(ServiceError::Invalid("the current password is wrong".into()));
    }
    check_code(state, account, code).await?.ok_or_else(wrong_code)?;
    let (codes, hashes) = new_codes();
    state.store.replace_recovery_codes(account.subject(), &hashes).await?;
    state.store.audit(&account.actor(), AuditAction::SecondFactorRecoveryCodesRenewed, &account.label(), "").await?;
    Ok(codes)
}

/// Whether the account has an enrolled second factor.
pub async fn enrolled(state: &AppState, subject: Subject) -> Result<bool, ServiceError> {
    Ok(state.store.second_factor(subject).await?.is_some_and(|f| f.enrolled_at.is_some()))
}

/// The second step of a login whose password was right: a current code or a recovery code. The per-client
/// limit and the account's lock-out apply as to passwords, and a wrong code counts as a failed login.
/// Success resets the failure count and audits the login.
pub async fn complete_login(state: &AppState, subject: Subject, code: &str, ip: IpAddr) -> Result<Used, ServiceError> {
    if state.throttles.login_per_ip.check_key(&ip).is_err() {
        return Err(ServiceError::Throttled { retry_after_secs: 60 });
    }
    let now = Utc::now().timestamp();
    match subject {
        Subject::Customer(id) => {
            let customer = state.store.customer(id).await?;
            let creds = state.store.customer_credentials(&customer.number.to_string()).await?;
            if creds.locked_until > now {
                return Err(ServiceError::Throttled { retry_after_secs: creds.locked_until - now });
            }
            let account = Account::Customer(&customer);
            match check_code(state, account, code).await? {
                Some(used) => {
                    state.store.customer_login_succeeded(id).await?;
                    state
                        .store
                        .audit(&account.actor(), AuditAction::CustomerLogin, &account.label(), used.as_str())
                        .await?;
                    Ok(used)
                }
                None => {
                    let lockout = login_lockout_secs(creds.failed_logins + 1);
                    state.store.customer_login_failed(id, now + lockout).await?;
                    tracing::info!(customer = %customer.number, "wrong second-factor code at login");
                    Err(ServiceError::SecondFactorWrong)
                }
            }
        }
        Subject::Staff(id) => {
            let user = state.store.staff(id).await?;
            let creds = state.store.staff_credentials(&user.login).await?;
            if creds.locked_until > now {
                return Err(ServiceError::Throttled { retry_after_secs: creds.locked_until - now });
            }
            if !user.active {
                return Err(ServiceError::BadCredentials);
            }
            let account = Account::Staff(&user);
            match check_code(state, account, code).await? {
                Some(used) => {
                    state.store.staff_login_succeeded(id).await?;
                    state
                        .store
                        .audit(&account.actor(), AuditAction::StaffLogin, &account.label(), used.as_str())
                        .await?;
                    Ok(used)
                }
                None => {
                    state.store.staff_login_failed(id, now + login_lockout_secs(creds.failed_logins + 1)).await?;
                    tracing::info!(staff = %user.login, "wrong second-factor code at login");
                    Err(ServiceError::SecondFactorWrong)
                }
            }
        }
    }
}

/// Removes a customer's second factor for them, only within a verified call of `staff` with that customer
/// (the caller lost the device and the recovery codes). Audited with the verification; the customer is mailed.
pub async fn reset_for_customer(state: &AppState, staff: &StaffUser, number: &str) -> Result<(), ServiceError> {
    let (customer, call) = crate::phone::require_call(state, staff, number).await?;
    if !state.store.remove_second_factor(Subject::Customer(customer.id)).await? {
        return Err(ServiceError::Invalid("this customer has no second factor".into()));
    }
    state
        .store
        .audit(
            &Actor::staff(staff),
            AuditAction::PhoneSecondFactorReset,
            &customer.number.to_string(),
            &format!("verification #{}", call.verification_id),
        )
        .await?;
    state.mailer.notify(customer.email.as_str(), customer.language, "mail.second_factor_reset").await?;
    Ok(())
}

/// Removes another staff member's second factor (admin only; who needs one enrols anew at the next page).
pub async fn reset_for_staff(state: &AppState, admin: &StaffUser, id: i64) -> Result<StaffUser, ServiceError> {
    crate::service::admin_only(admin)?;
    if admin.id.0 == id {
        return Err(ServiceError::Invalid("use your own security page for your second factor".into()));
    }
    let target = state.store.staff(StaffId(id)).await?;
    if !state.store.remove_second_factor(Subject::Staff(target.id)).await? {
        return Err(ServiceError::Invalid("this staff member has no second factor".into()));
    }
    state.store.audit(&Actor::staff(admin), AuditAction::StaffSecondFactorReset, target.login.as_str(), "").await?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_matches_its_step_and_the_neighbours_only() {
        let secret = Secret::Raw(b"12345678901234567890".to_vec()).to_bytes().unwrap_or_default();
        let totp = TOTP::new(Algorithm::SHA1, 6, 1, 30, secret, None, "t".into()).expect("a valid secret");
        let now = 1_000_000_i64;
        let code = |step: i64| totp.generate(u64::try_from(step * 30).unwrap_or(0));
        assert_eq!(matching_step(&totp, &code(now), now), Some(now));
        assert_eq!(matching_step(&totp, &code(now - 1), now), Some(now - 1));
        assert_eq!(matching_step(&totp, &code(now + 1), now), Some(now + 1));
        assert_eq!(matching_step(&totp, &code(now - 2), now), None);
        assert_eq!(matching_step(&totp, "12345", now), None);
        assert_eq!(matching_step(&totp, "abcdef", now), None);
    }

    #[test]
    fn rfc_6238_test_vector() {
        // RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits); the 6-digit code is its last six.
        let totp = TOTP::new(Algorithm::SHA1, 8, 1, 30, b"12345678901234567890".to_vec(), None, "t".into())
            .expect("a valid secret");
        assert_eq!(totp.generate(59), "94287082");
    }
}
