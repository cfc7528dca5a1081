//! The phone-support flows of the JSON API: caller checks and everything within a call under
//! `/api/v1/staff/...`, and the customer's telephone password, PIN and activity under `/api/v1/me/...`.
//! Same use cases, same limits as the pages.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::api::{ApiJson, ApiPath, ContractDto, CustomerDto, DomainDto, ErrorBody, MailboxDto};
use crate::auth::{ApiCustomer, ApiStaff};
use crate::error::ApiError;
use crate::phone::{self, CheckOutcome};
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/phone-checks", post(check))
        .route("/staff/calls/{number}", get(call).delete(end_call))
        .route("/staff/calls/{number}/tariff-changes", post(tariff_change))
        .route("/staff/calls/{number}/domain-orders", post(domain_order))
        .route("/staff/calls/{number}/domains/{id}/auth-code", post(auth_code))
        .route("/me/phone-password", post(change_phone_password))
        .route("/me/phone-pin", post(create_pin))
        .route("/me/phone-activity", get(activity))
}

#[derive(OpenApi)]
#[openapi(paths(
    check,
    call,
    end_call,
    tariff_change,
    domain_order,
    auth_code,
    change_phone_password,
    create_pin,
    activity
))]
pub(crate) struct PhoneApiDoc;

#[derive(Debug, Deserialize, ToSchema)]
struct CheckRequest {
    customer_number: String,
    /// The telephone password or temporary PIN the caller says.
    password: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct CheckResponse {
    verified: bool,
    /// The verification a call context rests on (only when verified).
    verification_id: Option<i64>,
    /// RFC 3339 end of the call context (only when verified).
    call_expires_at: Option<String>,
}

/// Checks what a caller says. Answers only verified or not; 429 while the customer or the staff member is
/// throttled.
#[utoipa::path(post, path = "/api/v1/staff/phone-checks", request_body = CheckRequest, responses((status = 200, body = CheckResponse), (status = 429, body = ErrorBody)))]
async fn check(
    State(state): State<AppState>,
    ApiStaff(s): ApiStaff,
    ApiJson(req): ApiJson<CheckRequest>,
) -> Result<Json<CheckResponse>, ApiError> {
    Ok(Json(match phone::verify_caller(&state, &s, &req.customer_number, &req.password).await? {
        CheckOutcome::Verified(call) => CheckResponse {
            verified: true,
            verification_id: Some(call.verification_id),
            call_expires_at: Some(call.expires_at.to_rfc3339()),
        },
        CheckOutcome::NotVerified => CheckResponse { verified: false, verification_id: None, call_expires_at: None },
    }))
}

#[derive(Debug, Serialize, ToSchema)]
struct TariffChangeDto {
    contract_id: i64,
    from_tariff: String,
    to_tariff: String,
    new_monthly_price_cents: i64,
    /// New minus old monthly price (negative when cheaper); only in the answer that schedules the change.
    monthly_difference_cents: Option<i64>,
    /// The difference per billing period; only in the answer that schedules the change.
    period_difference_cents: Option<i64>,
    effective: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct DomainOrderDto {
    contract_id: i64,
    name: String,
    status: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct CallDto {
    verification_id: i64,
    call_expires_at: String,
    customer: CustomerDto,
    contracts: Vec<ContractDto>,
    domains: Vec<DomainDto>,
    mailboxes: Vec<MailboxDto>,
    tariff_changes: Vec<TariffChangeDto>,
    domain_orders: Vec<DomainOrderDto>,
}

/// The account, within a live call context of this staff member; 403 without one.
#[utoipa::path(get, path = "/api/v1/staff/calls/{number}", params(("number" = String, Path)), responses((status = 200, body = CallDto), (status = 403, body = ErrorBody)))]
async fn call(
    State(state): State<AppState>,
    ApiStaff(s): ApiStaff,
    ApiPath(number): ApiPath<String>,
) -> Result<Json<CallDto>, ApiError> {
    let v = phone::call_view(&state, &s, &number).await?;
    Ok(Json(CallDto {
        verification_id: v.call.verification_id,
        call_expires_at: v.call.expires_at.to_rfc3339(),
        customer: CustomerDto::from(&v.customer),
        contracts: v.overview.contracts.iter().map(ContractDto::from).collect(),
        domains: v
            .overview
            .domains
            .iter()
            .map(|d| DomainDto { id: d.id, contract_id: d.contract_id, name: d.name.to_string() })
            .collect(),
        mailboxes: v
            .overview
            .mailboxes
            .iter()
            .map(|m| MailboxDto {
                id: m.id,
                contract_id: m.contract_id,
                domain_id: m.domain_id,
                address: m.address.to_string(),
            })
            .collect(),
        tariff_changes: v.tariff_changes.iter().map(tariff_change_dto).collect(),
        domain_orders: v
            .domain_orders
            .iter()
            .map(|o| DomainOrderDto { contract_id: o.contract_id, name: o.name.clone(), status: o.status.clone() })
            .collect(),
    }))
}

fn tariff_change_dto(c: &hostwerk_store::TariffChange) -> TariffChangeDto {
    TariffChangeDto {
        contract_id: c.contract_id,
        from_tariff: c.from_tariff.clone(),
        to_tariff: c.to_tariff.clone(),
        new_monthly_price_cents: c.new_monthly_price.get(),
        monthly_difference_cents: None,
        period_difference_cents: None,
        effective: c.effective.to_string(),
    }
}

/// Ends this staff member's call context for the customer.
#[utoipa::path(delete, path = "/api/v1/staff/calls/{number}", params(("number" = String, Path)), responses((status = 204)))]
async fn end_call(
    State(state): State<AppState>,
    ApiStaff(s): ApiStaff,
    ApiPath(number): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    phone::end_call(&state, &s, &number).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
struct TariffChangeRequest {
    contract_id: i64,
    /// The new tariff's id, e.g. `shared-l`.
    tariff: String,
}

/// Schedules a tariff change for the next billing period (within a call).
#[utoipa::path(post, path = "/api/v1/staff/calls/{number}/tariff-changes", params(("number" = String, Path)), request_body = TariffChangeRequest, responses((status = 201, body = TariffChangeDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn tariff_change(
    State(state): State<AppState>,
    ApiStaff(s): ApiStaff,
    ApiPath(number): ApiPath<String>,
    ApiJson(req): ApiJson<TariffChangeRequest>,
) -> Result<(StatusCode, Json<TariffChangeDto>), ApiError> {
    let (change, quote) = phone::schedule_tariff_change(&state, &s, &number, req.contract_id, &req.tariff).await?;
    let dto = TariffChangeDto {
        monthly_difference_cents: Some(quote.monthly_difference.get()),
        period_difference_cents: Some(quote.period_difference.get()),
        ..tariff_change_dto(&change)
    };
    Ok((StatusCode::CREATED, Json(dto)))
}

#[derive(Debug, Deserialize, ToSchema)]
struct DomainOrderRequest {
    contract_id: i64,
    domain: String,
}

/// Orders a domain for a contract (within a call): a pending provisioning order.
#[utoipa::path(post, path = "/api/v1/staff/calls/{number}/domain-orders", params(("number" = String, Path)), request_body = DomainOrderRequest, responses((status = 201, body = DomainOrderDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn domain_order(
    State(state): State<AppState>,
    ApiStaff(s): ApiStaff,
    ApiPath(number): ApiPath<String>,
    ApiJson(req): ApiJson<DomainOrderRequest>,
) -> Result<(StatusCode, Json<DomainOrderDto>), ApiError> {
    let o = phone::order_domain(&state, &s, &number, req.contract_id, &req.domain).await?;
    Ok((StatusCode::CREATED, Json(DomainOrderDto { contract_id: o.contract_id, name: o.name, status: o.status })))
}

#[derive(Debug, Deserialize, ToSchema)]
struct AuthCodeRequest {
    /// Why the caller needs it (5 to 500 characters); the customer reads it in the e-mail.
    reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct AuthCodeResponse {
    domain: String,
    auth_code: String,
}

/// Discloses a domain's auth code to the verified caller (within a call); the customer is told by e-mail.
#[utoipa::path(post, path = "/api/v1/staff/calls/{number}/domains/{id}/auth-code", params(("number" = String, Path), ("id" = i64, Path)), request_body = AuthCodeRequest, responses((status = 200, body = AuthCodeResponse), (status = 403, body = ErrorBody)))]
async fn auth_code(
    State(state): State<AppState>,
    ApiStaff(s): ApiStaff,
    ApiPath((number, id)): ApiPath<(String, i64)>,
    ApiJson(req): ApiJson<AuthCodeRequest>,
) -> Result<Json<AuthCodeResponse>, ApiError> {
    let disclosed = phone::disclose_auth_code(&state, &s, &number, id, &req.reason).await?;
    Ok(Json(AuthCodeResponse { domain: disclosed.domain, auth_code: disclosed.code }))
}

#[derive(Debug, Deserialize, ToSchema)]
struct PhonePasswordRequest {
    current_password: String,
    phone_password: String,
}

/// Sets a new telephone password (the customer-menu password is required).
#[utoipa::path(post, path = "/api/v1/me/phone-password", request_body = PhonePasswordRequest, responses((status = 204), (status = 422, body = ErrorBody)))]
async fn change_phone_password(
    State(state): State<AppState>,
    ApiCustomer(c): ApiCustomer,
    ApiJson(req): ApiJson<PhonePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    phone::change_phone_password(&state, &c, &req.current_password, &req.phone_password, &req.phone_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
struct PinResponse {
    /// Shown once; valid two hours, single use.
    pin: String,
    expires_at: String,
}

#[derive(Debug, Deserialize, ToSchema)]
struct PinRequest {
    /// The customer-menu password.
    current_password: String,
}

/// Creates a temporary phone PIN (replacing an earlier one); needs the customer-menu password.
#[utoipa::path(post, path = "/api/v1/me/phone-pin", request_body = PinRequest,
    responses((status = 201, body = PinResponse), (status = 422, body = ErrorBody)))]
async fn create_pin(
    State(state): State<AppState>,
    ApiCustomer(c): ApiCustomer,
    ApiJson(r): ApiJson<PinRequest>,
) -> Result<(StatusCode, Json<PinResponse>), ApiError> {
    let (pin, expires) = phone::create_phone_pin(&state, &c, &r.current_password).await?;
    Ok((StatusCode::CREATED, Json(PinResponse { pin, expires_at: expires.to_rfc3339() })))
}

#[derive(Debug, Serialize, ToSchema)]
struct CheckDto {
    at: String,
    staff: String,
    verified: bool,
    method: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct DisclosureDto {
    at: String,
    staff: String,
    domain: String,
    reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct ActivityDto {
    checks: Vec<CheckDto>,
    disclosures: Vec<DisclosureDto>,
    pin_expires_at: Option<String>,
}

/// Recent phone checks on the account, auth codes told to callers, and the PIN's expiry.
#[utoipa::path(get, path = "/api/v1/me/phone-activity", responses((status = 200, body = ActivityDto)))]
async fn activity(State(state): State<AppState>, ApiCustomer(c): ApiCustomer) -> Result<Json<ActivityDto>, ApiError> {
    let a = phone::phone_activity(&state, &c).await?;
    Ok(Json(ActivityDto {
        checks: a
            .verifications
            .iter()
            .map(|v| CheckDto {
                at: v.at.to_rfc3339(),
                staff: v.staff_name.clone(),
                verified: v.verified,
                method: v.method.clone(),
            })
            .collect(),
        disclosures: a
            .disclosures
            .iter()
            .map(|d| DisclosureDto {
                at: d.at.to_rfc3339(),
                staff: d.staff_name.clone(),
                domain: d.domain_name.clone(),
                reason: d.reason.clone(),
            })
            .collect(),
        pin_expires_at: a.pin_expires.map(|e| e.to_rfc3339()),
    }))
}
