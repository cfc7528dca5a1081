//! The JSON API under `/api/v1`: the same use cases and authorization as the pages, for scripts and
//! apps with bearer tokens; described by the OpenAPI document at `/api/v1/openapi.json`.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use hostwerk_domain::{CustomerNumber, Tariff};
use hostwerk_store::{Contract, Customer, Subject};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::auth::{ApiCustomer, ApiStaff, BearerToken, ClientIp};
use crate::error::ApiError;
use crate::service::{self, CustomerSummary, OrderInput, TariffUpdate};
use crate::AppState;

/// A JSON body whose parse errors answer as `{"error": …}`.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub(crate) struct ApiJson<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        ApiError(r.status(), format!("the request body is not valid: {}", r.body_text()))
    }
}

/// Path parameters whose parse errors answer as `{"error": …}` (400), like every other API failure (issue 17:
/// they answered plain text).
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub(crate) struct ApiPath<T>(pub T);

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(r: axum::extract::rejection::PathRejection) -> Self {
        ApiError(StatusCode::BAD_REQUEST, format!("the address is not valid: {}", r.body_text()))
    }
}

/// Query strings whose parse errors answer as `{"error": …}` (400), like path parameters.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub(crate) struct ApiQuery<T>(pub T);

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        ApiError(StatusCode::BAD_REQUEST, format!("the query is not valid: {}", r.body_text()))
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .merge(crate::api_phone::routes())
        .merge(crate::api_limits::routes())
        .merge(crate::api_backups::routes())
        .route("/openapi.json", get(openapi))
        .route("/auth/token", post(customer_token).delete(revoke_token))
        .route("/staff/auth/token", post(staff_token).delete(revoke_token))
        .route("/tariffs", get(list_tariffs))
        .route("/orders", post(order))
        .route("/orders/confirm", post(confirm_order))
        .route("/password-reminder", post(reminder))
        .route("/me", get(me).patch(update_me))
        .route("/me/password", post(change_password))
        .route("/contracts", get(contracts))
        .route("/me/contracts", get(contracts))
        .route("/contracts/{id}", get(contract))
        .route("/domains", get(domains))
        .route("/mailboxes", get(mailboxes).post(add_mailbox))
        .route("/mailboxes/{id}", delete(delete_mailbox))
        .route("/staff/customers", get(search_customers))
        .route("/staff/customers/{number}", get(find_customer))
        .route("/staff/staff-users", get(staff_users).post(create_staff))
        .route("/staff/tariffs/{id}", put(update_tariff))
        .route("/staff/nodes", get(nodes).post(create_node))
        .route("/staff/nodes/{id}", delete(delete_node))
        .route("/staff/outbox", get(outbox))
        .route("/staff/audit", get(audit))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "hostwerk API",
        description = "Customer menu and staff console as JSON. Authenticate with `Authorization: Bearer <token>` from POST /api/v1/auth/token (customers) or /api/v1/staff/auth/token (staff)."
    ),
    paths(
        customer_token,
        staff_token,
        revoke_token,
        list_tariffs,
        order,
        confirm_order,
        reminder,
        me,
        update_me,
        change_password,
        contracts,
        contract,
        domains,
        mailboxes,
        add_mailbox,
        delete_mailbox,
        find_customer,
        search_customers,
        staff_users,
        create_staff,
        update_tariff,
        nodes,
        create_node,
        delete_node,
        outbox,
        audit
    )
)]
struct ApiDoc;

async fn openapi() -> Response {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::api_phone::PhoneApiDoc::openapi());
    doc.merge(crate::api_limits::LimitsApiDoc::openapi());
    doc.merge(crate::api_backups::BackupsApiDoc::openapi());
    document_common_answers(&mut doc);
    Json(doc).into_response()
}

/// Operations anyone may call without a token.
const PUBLIC_PATHS: [&str; 6] = [
    "/api/v1/tariffs",
    "/api/v1/orders",
    "/api/v1/orders/confirm",
    "/api/v1/password-reminder",
    "/api/v1/auth/token",
    "/api/v1/staff/auth/token",
];

/// The answers every operation can give besides its own (issue 17: 23 status codes were undocumented): a
/// request that cannot be read (400: a path parameter that does not parse, a body that is not JSON), no or a
/// wrong token (401), the wrong role (403), a body of another type (415) or with missing or invalid fields
/// (422), and a path naming nothing the caller may see (404).
fn document_common_answers(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, ResponseBuilder, Type};
    let error = |what: &str| {
        ResponseBuilder::new()
            .description(what)
            .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
            .build()
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let public = PUBLIC_PATHS.contains(&path.as_str());
        let has_params = path.contains('{');
        for op in
            [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten()
        {
            let mut add = |code: &str, what: &str| {
                op.responses.responses.entry(code.to_owned()).or_insert_with(|| error(what).into());
            };
            add("400", "The request cannot be read (a path parameter or the body does not parse).");
            if !public {
                add("401", "No token, or the token is unknown or expired.");
                add("403", "The token's role may not do this.");
            }
            if has_params {
                add("404", "Nothing by this name that the caller may see.");
            }
            if op.request_body.is_some() {
                add("415", "The body is not `application/json`.");
                add("422", "A field is missing or not valid.");
            }
            if path.contains("{number}") {
                add("422", "A customer number is K and 7 digits.");
            }
            // The rule of CustomerNumber::parse, so that generated clients and checkers know it.
            for p in op.parameters.iter_mut().flatten() {
                if p.name == "number" && p.parameter_in == ParameterIn::Path {
                    let number = ObjectBuilder::new().schema_type(Type::String).pattern(Some(r"^\s*[Kk][0-9]{7}\s*$"));
                    p.schema = Some(number.into());
                }
            }
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
struct Credentials {
    /// Customer number, e-mail address, or staff login.
    login: String,
    password: String,
    /// The current code of the account's second factor (6 digits) or one of its recovery codes; needed when
    /// the account has a second factor.
    #[serde(default)]
    code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
struct TokenResponse {
    token: String,
    token_type: &'static str,
    expires_in: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    pub(crate) error: String,
}

/// Why a token was refused at login (401): wrong login or password (`error` only), or — the password was
/// right — the account's second factor is needed.
#[derive(Debug, Serialize, ToSchema)]
struct LoginErrorBody {
    error: String,
    /// `required`: send `code` too; `invalid`: the code was wrong or used already (it counts as a failed login).
    #[serde(skip_serializing_if = "Option::is_none")]
    second_factor: Option<SecondFactorNeed>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum SecondFactorNeed {
    Required,
    Invalid,
}

/// A login failure as the token operations answer it: second-factor failures typed, the rest as usual.
fn login_error(e: service::ServiceError) -> Response {
    let need = match e {
        service::ServiceError::SecondFactorRequired => SecondFactorNeed::Required,
        service::ServiceError::SecondFactorWrong => SecondFactorNeed::Invalid,
        other => return ApiError::from(other).into_response(),
    };
    (StatusCode::UNAUTHORIZED, Json(LoginErrorBody { error: e_text(&need), second_factor: Some(need) })).into_response()
}

fn e_text(need: &SecondFactorNeed) -> String {
    match need {
        SecondFactorNeed::Required => service::ServiceError::SecondFactorRequired.to_string(),
        SecondFactorNeed::Invalid => service::ServiceError::SecondFactorWrong.to_string(),
    }
}

/// The second step of an API login whose password was right: `code` must complete it.
async fn second_step(
    state: &AppState,
    subject: Subject,
    code: Option<&str>,
    ip: std::net::IpAddr,
) -> Result<(), Response> {
    let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
        return Err(login_error(service::ServiceError::SecondFactorRequired));
    };
    crate::second_factor::complete_login(state, subject, code, ip).await.map(|_| ()).map_err(login_error)
}

async fn issue_token(state: &AppState, subject: Subject) -> Result<Json<TokenResponse>, ApiError> {
    let ttl = state.config.api_token_days * 86_400;
    let token = state.store.create_api_token(subject, ttl).await?;
    Ok(Json(TokenResponse { token, token_type: "Bearer", expires_in: ttl }))
}

/// Exchanges a customer's login and password (and, with a second factor, its code) for a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/token", request_body = Credentials,
    responses((status = 200, body = TokenResponse), (status = 401, body = LoginErrorBody), (status = 429, body = ErrorBody)))]
async fn customer_token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(c): ApiJson<Credentials>,
) -> Result<Json<TokenResponse>, Response> {
    let customer = match service::customer_login(&state, &c.login, &c.password, ip).await.map_err(login_error)? {
        service::LoginStep::Done(customer) => customer,
        service::LoginStep::SecondFactor(customer) => {
            second_step(&state, Subject::Customer(customer.id), c.code.as_deref(), ip).await?;
            customer
        }
    };
    issue_token(&state, Subject::Customer(customer.id)).await.map_err(IntoResponse::into_response)
}

/// Exchanges a staff login and password (and the second factor's code) for a bearer token. A role that needs
/// a second factor gets no token before it has one (403).
#[utoipa::path(post, path = "/api/v1/staff/auth/token", request_body = Credentials,
    responses((status = 200, body = TokenResponse), (status = 401, body = LoginErrorBody), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn staff_token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(c): ApiJson<Credentials>,
) -> Result<Json<TokenResponse>, Response> {
    let user = match service::staff_login(&state, &c.login, &c.password, ip).await.map_err(login_error)? {
        service::LoginStep::Done(user) => user,
        service::LoginStep::SecondFactor(user) => {
            second_step(&state, Subject::Staff(user.id), c.code.as_deref(), ip).await?;
            user
        }
    };
    if crate::second_factor::must_enrol(&state, &user) {
        return Err(ApiError::from(service::ServiceError::SecondFactorMissing).into_response());
    }
    issue_token(&state, Subject::Staff(user.id)).await.map_err(IntoResponse::into_response)
}

/// Revokes the bearer token of the request.
#[utoipa::path(delete, path = "/api/v1/auth/token", responses((status = 204), (status = 401, body = ErrorBody)))]
async fn revoke_token(State(state): State<AppState>, BearerToken(token): BearerToken) -> Result<StatusCode, ApiError> {
    state.store.revoke_api_token(&token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
struct TariffDto {
    id: String,
    name: String,
    family: String,
    monthly_price_cents: i64,
    billing_months: Vec<u32>,
    minimum_term_months: u32,
    notice_period_days: u32,
    orderable: bool,
    process_limit: String,
    process_limit_adjustable: bool,
    backup_keep_daily: u32,
    backup_keep_monthly: u32,
    on_demand_backups_per_day: u32,
}

impl From<&Tariff> for TariffDto {
    fn from(t: &Tariff) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name.clone(),
            family: t.family.to_string(),
            monthly_price_cents: t.monthly_price.get(),
            billing_months: t.billing_periods.iter().map(|p| p.months()).collect(),
            minimum_term_months: t.minimum_term_months,
            notice_period_days: t.notice_period_days,
            orderable: t.orderable,
            process_limit: t.process_limit.default.to_string(),
            process_limit_adjustable: t.process_limit.customer_adjustable,
            backup_keep_daily: t.backup.keep_daily,
            backup_keep_monthly: t.backup.keep_monthly,
            on_demand_backups_per_day: t.backup.on_demand_per_day,
        }
    }
}

/// The tariff catalog (public).
#[utoipa::path(get, path = "/api/v1/tariffs", responses((status = 200, body = Vec<TariffDto>)))]
async fn list_tariffs(State(state): State<AppState>) -> Result<Json<Vec<TariffDto>>, ApiError> {
    Ok(Json(state.store.tariffs().await?.iter().map(TariffDto::from).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
struct OrderResponse {
    customer_number: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct OrderAccepted {
    /// Always `confirmation_sent`: the address gets a mail (a link that places the order, or, where the
    /// address has an account already, a note to its owner). The answer does not say which.
    status: &'static str,
}

/// Takes an order as a new customer (public); it is placed when the link mailed to the address is confirmed.
#[utoipa::path(post, path = "/api/v1/orders", request_body = OrderInput,
    responses((status = 202, body = OrderAccepted), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn order(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(input): ApiJson<OrderInput>,
) -> Result<(StatusCode, Json<OrderAccepted>), ApiError> {
    service::place_order(&state, &input, ip).await?;
    Ok((StatusCode::ACCEPTED, Json(OrderAccepted { status: "confirmation_sent" })))
}

#[derive(Debug, Deserialize, ToSchema)]
struct OrderConfirmation {
    /// The token of the link in the order's mail.
    token: String,
}

/// Places an order whose address was confirmed: the token from the mailed link.
#[utoipa::path(post, path = "/api/v1/orders/confirm", request_body = OrderConfirmation,
    responses((status = 201, body = OrderResponse), (status = 409, body = ErrorBody), (status = 410, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn confirm_order(
    State(state): State<AppState>,
    ApiJson(c): ApiJson<OrderConfirmation>,
) -> Result<(StatusCode, Json<OrderResponse>), ApiError> {
    let customer = service::confirm_order(&state, &c.token).await?;
    Ok((StatusCode::CREATED, Json(OrderResponse { customer_number: customer.number.to_string() })))
}

#[derive(Debug, Deserialize, ToSchema)]
struct ReminderRequest {
    /// Customer number or e-mail address.
    login: String,
}

/// Sends a password-reset link if the account exists; the answer is the same either way.
#[utoipa::path(post, path = "/api/v1/password-reminder", request_body = ReminderRequest, responses((status = 202), (status = 429, body = ErrorBody)))]
async fn reminder(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(r): ApiJson<ReminderRequest>,
) -> Result<StatusCode, ApiError> {
    service::request_password_reminder(&state, &r.login, ip).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CustomerDto {
    number: String,
    name: String,
    email: String,
    language: String,
    street: String,
    postal_code: String,
    city: String,
    country: String,
}

impl From<&Customer> for CustomerDto {
    fn from(c: &Customer) -> Self {
        Self {
            number: c.number.to_string(),
            name: c.name.clone(),
            email: c.email.to_string(),
            language: c.language.to_string(),
            street: c.address.street.clone(),
            postal_code: c.address.postal_code.clone(),
            city: c.address.city.clone(),
            country: c.address.country.clone(),
        }
    }
}

/// The signed-in customer.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = CustomerDto), (status = 401, body = ErrorBody)))]
async fn me(ApiCustomer(c): ApiCustomer) -> Json<CustomerDto> {
    Json(CustomerDto::from(&c))
}

#[derive(Debug, Deserialize, ToSchema)]
struct ProfileUpdate {
    /// A new address is not set at once: it gets a link that makes the change (`email_confirmation_sent`).
    email: Option<String>,
    language: Option<String>,
    /// The current password; required when `email` changes.
    current_password: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
struct ProfileChanged {
    #[serde(flatten)]
    customer: CustomerDto,
    /// Whether a confirmation link went to the new address.
    email_confirmation_sent: bool,
}

/// Changes e-mail address and/or language.
#[utoipa::path(patch, path = "/api/v1/me", request_body = ProfileUpdate, responses((status = 200, body = ProfileChanged), (status = 422, body = ErrorBody)))]
async fn update_me(
    State(state): State<AppState>,
    ApiCustomer(c): ApiCustomer,
    ApiJson(u): ApiJson<ProfileUpdate>,
) -> Result<Json<ProfileChanged>, ApiError> {
    let email = u.email.unwrap_or_else(|| c.email.to_string());
    let language = u.language.unwrap_or_else(|| c.language.to_string());
    let current = u.current_password.unwrap_or_default();
    let change = service::update_profile(&state, &c, &email, &language, &current).await?;
    Ok(Json(ProfileChanged {
        customer: CustomerDto::from(&change.customer),
        email_confirmation_sent: change.confirmation_sent,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
struct PasswordChange {
    current: String,
    password: String,
}

/// Changes the customer-menu password; ends all sessions and tokens.
#[utoipa::path(post, path = "/api/v1/me/password", request_body = PasswordChange, responses((status = 204), (status = 422, body = ErrorBody)))]
async fn change_password(
    State(state): State<AppState>,
    ApiCustomer(c): ApiCustomer,
    ApiJson(p): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    service::change_password(&state, &c, &p.current, &p.password, &p.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ContractDto {
    id: i64,
    tariff_id: String,
    tariff: String,
    family: String,
    monthly_price_cents: i64,
    period_price_cents: i64,
    billing_months: u32,
    start_date: String,
    prepaid_until: String,
    minimum_term_months: i64,
    notice_period_days: i64,
    status: String,
    end_date: Option<String>,
    node: Option<String>,
    system_user: String,
    webspace_path: String,
    process_limit: String,
}

impl From<&Contract> for ContractDto {
    fn from(c: &Contract) -> Self {
        Self {
            id: c.id,
            tariff_id: c.tariff_id.to_string(),
            tariff: c.tariff_name.clone(),
            family: c.family.to_string(),
            monthly_price_cents: c.monthly_price.get(),
            period_price_cents: c.period_price().get(),
            billing_months: c.billing_period.months(),
            start_date: c.start_date.to_string(),
            prepaid_until: c.prepaid_until.to_string(),
            minimum_term_months: c.minimum_term_months,
            notice_period_days: c.notice_period_days,
            status: c.status.to_string(),
            end_date: c.end_date.map(|d| d.to_string()),
            node: c.node.clone(),
            system_user: c.system_user.to_string(),
            webspace_path: c.webspace_path.clone(),
            process_limit: c.process_limit.to_string(),
        }
    }
}

/// The customer's contracts.
#[utoipa::path(get, path = "/api/v1/contracts", responses((status = 200, body = Vec<ContractDto>)))]
async fn contracts(
    State(state): State<AppState>,
    ApiCustomer(c): ApiCustomer,
) -> Result<Json<Vec<ContractDto>>, ApiError> {
    Ok(Json(state.store.contracts(c.id).await?.iter().map(ContractDto::from).collect()))
}

/// One of the customer's contracts (404 for anyone else's).
#[utoipa::path(get, path = "/api/v1/contracts/{id}", params(("id" = i64, Path)), responses((status = 200, body = ContractDto), (status = 404, body = ErrorBody)))]
async fn contract(
    State(state): State<AppState>,
    ApiCustomer(c): ApiCustomer,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ContractDto>, ApiError> {
    Ok(Json(ContractDto::from(&state.store.contract(c.id, id).await?)))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DomainDto {
    pub(crate) id: i64,
    pub(crate) contract_id: i64,
    pub(crate) name: String,
}

/// The customer's domains.
#[utoipa::path(get, path = "/api/v1/domains", responses((status = 200, body = Vec<DomainDto>)))]
async fn domains(State(state): State<AppState>, ApiCustomer(c): ApiCustomer) -> Result<Json<Vec<DomainDto>>, ApiError> {
    let list = state.store.domains(c.id).await?;
    Ok(Json(
        list.iter().map(|d| DomainDto { id: d.id, contract_id: d.contract_id, name: d.name.to_string() }).collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MailboxDto {
    pub(crate) id: i64,
    pub(crate) contract_id: i64,
    pub(crate) domain_id: i64,
    pub(crate) address: String,
}

/// The customer's mailboxes.
#[utoipa::path(get, path = "/api/v1/mailboxes", responses((status = 200, body = Vec<MailboxDto>)))]
async fn mailboxes(
    State(state): State<AppState>,
    ApiCustomer(c): ApiCustomer,
) -> Result<Json<Vec<MailboxDto>>, ApiError> {
    let list = state.store.mailboxes(c.id).await?;
    Ok(Json(
        list.iter()
            .map(|m| MailboxDto {
                id: m.id,
                contract_id: m.contract_id,
                domain_id: m.domain_id,
                address: m.address.to_string(),
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
struct NewMailbox {
    domain_id: i64,
    /// The part before the @: 1 to 64 letters, digits and `. _ - +`, not starting or ending with a dot and
    /// without two dots in a row (stored in lower case). The API takes it exactly as sent: no spaces around it.
    #[schema(max_length = 64, pattern = r"^[A-Za-z0-9_+-]+(\.[A-Za-z0-9_+-]+)*$")]
    local_part: String,
}

/// Creates a mailbox on one of the customer's domains.
#[utoipa::path(post, path = "/api/v1/mailboxes", request_body = NewMailbox, responses((status = 201), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_mailbox(
    State(state): State<AppState>,
    ApiCustomer(c): ApiCustomer,
    ApiJson(m): ApiJson<NewMailbox>,
) -> Result<StatusCode, ApiError> {
    // A form field is trimmed by the page; a JSON value that is not the name itself is a client's mistake.
    if m.local_part.trim() != m.local_part {
        return Err(service::ServiceError::Invalid("a mailbox name has no spaces around it".into()).into());
    }
    service::add_mailbox(&state, &c, m.domain_id, &m.local_part).await?;
    Ok(StatusCode::CREATED)
}

/// Deletes one of the customer's mailboxes.
#[utoipa::path(delete, path = "/api/v1/mailboxes/{id}", params(("id" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_mailbox(
    State(state): State<AppState>,
    ApiCustomer(c): ApiCustomer,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    service::delete_mailbox(&state, &c, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Finds a customer by number: number and name only (staff).
#[utoipa::path(get, path = "/api/v1/staff/customers/{number}", params(("number" = String, Path)), responses((status = 200, body = CustomerSummary), (status = 404, body = ErrorBody)))]
async fn find_customer(
    State(state): State<AppState>,
    ApiStaff(s): ApiStaff,
    ApiPath(number): ApiPath<String>,
) -> Result<Json<CustomerSummary>, ApiError> {
    CustomerNumber::parse(&number).map_err(|e| ApiError(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    Ok(Json(service::find_customer(&state, &s, &number).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchQuery {
    /// What to look for: a customer number, or at least two characters (spaces around them do not count).
    #[param(pattern = r"\S[\s\S]*\S")]
    q: String,
}

/// Searches customers by number, e-mail address, domain (each exactly) or part of the name: number and name
/// only (staff). The same use case as the console's search.
#[utoipa::path(get, path = "/api/v1/staff/customers", params(SearchQuery), responses((status = 200, body = Vec<CustomerSummary>), (status = 422, body = ErrorBody)))]
async fn search_customers(
    State(state): State<AppState>,
    ApiStaff(s): ApiStaff,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Json<Vec<CustomerSummary>>, ApiError> {
    match crate::staff_admin::search_customers(&state, &s, &query.q).await {
        Ok(crate::staff_admin::SearchOutcome::Number(found)) => Ok(Json(vec![found])),
        Ok(crate::staff_admin::SearchOutcome::Hits(hits)) => Ok(Json(hits)),
        Err(service::ServiceError::NotFound) => Ok(Json(Vec::new())),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Serialize, ToSchema)]
struct StaffDto {
    id: i64,
    login: String,
    display_name: String,
    role: String,
    active: bool,
}

/// Staff accounts (admin).
#[utoipa::path(get, path = "/api/v1/staff/staff-users", responses((status = 200, body = Vec<StaffDto>), (status = 403, body = ErrorBody)))]
async fn staff_users(State(state): State<AppState>, ApiStaff(s): ApiStaff) -> Result<Json<Vec<StaffDto>>, ApiError> {
    service::admin_only(&s)?;
    let users = state.store.list_staff().await?;
    Ok(Json(
        users
            .iter()
            .map(|u| StaffDto {
                id: u.id.0,
                login: u.login.to_string(),
                display_name: u.display_name.clone(),
                role: u.role.to_string(),
                active: u.active,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
struct NewStaff {
    login: String,
    display_name: String,
    /// support, management or admin
    role: String,
    password: String,
}

/// Creates a staff account (admin).
#[utoipa::path(post, path = "/api/v1/staff/staff-users", request_body = NewStaff, responses((status = 201, body = StaffDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_staff(
    State(state): State<AppState>,
    ApiStaff(s): ApiStaff,
    ApiJson(n): ApiJson<NewStaff>,
) -> Result<(StatusCode, Json<StaffDto>), ApiError> {
    let u = service::create_staff(&state, &s, &n.login, &n.display_name, &n.role, &n.password).await?;
    Ok((
        StatusCode::CREATED,
        Json(StaffDto {
            id: u.id.0,
            login: u.login.to_string(),
            display_name: u.display_name,
            role: u.role.to_string(),
            active: u.active,
        }),
    ))
}

/// Changes a tariff (admin).
#[utoipa::path(put, path = "/api/v1/staff/tariffs/{id}", params(("id" = String, Path)), request_body = TariffUpdate, responses((status = 200, body = TariffDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_tariff(
    State(state): State<AppState>,
    ApiStaff(s): ApiStaff,
    ApiPath(id): ApiPath<String>,
    ApiJson(u): ApiJson<TariffUpdate>,
) -> Result<Json<TariffDto>, ApiError> {
    Ok(Json(TariffDto::from(&service::update_tariff(&state, &s, &id, &u).await?)))
}

#[derive(Debug, Serialize, ToSchema)]
struct NodeDto {
    id: i64,
    name: String,
    role: String,
    address: String,
}

/// Registered nodes (admin).
#[utoipa::path(get, path = "/api/v1/staff/nodes", responses((status = 200, body = Vec<NodeDto>), (status = 403, body = ErrorBody)))]
async fn nodes(State(state): State<AppState>, ApiStaff(s): ApiStaff) -> Result<Json<Vec<NodeDto>>, ApiError> {
    service::admin_only(&s)?;
    let nodes = state.store.nodes().await?;
    Ok(Json(
        nodes
            .iter()
            .map(|n| NodeDto {
                id: n.id,
                name: n.name.to_string(),
                role: n.role.to_string(),
                address: n.address.clone(),
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
struct NewNode {
    name: String,
    /// webserver or backup_server
    role: String,
    address: String,
}

/// Registers a node (admin).
#[utoipa::path(post, path = "/api/v1/staff/nodes", request_body = NewNode, responses((status = 201), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_node(
    State(state): State<AppState>,
    ApiStaff(s): ApiStaff,
    ApiJson(n): ApiJson<NewNode>,
) -> Result<StatusCode, ApiError> {
    service::create_node(&state, &s, &n.name, &n.role, &n.address).await?;
    Ok(StatusCode::CREATED)
}

/// Removes a node no contract uses (admin).
#[utoipa::path(delete, path = "/api/v1/staff/nodes/{id}", params(("id" = i64, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete_node(
    State(state): State<AppState>,
    ApiStaff(s): ApiStaff,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    service::delete_node(&state, &s, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
struct MailDto {
    id: i64,
    recipient: String,
    subject: String,
    body: String,
    status: String,
    error: Option<String>,
    created_at: String,
}

/// The mail outbox (admin).
#[utoipa::path(get, path = "/api/v1/staff/outbox", responses((status = 200, body = Vec<MailDto>), (status = 403, body = ErrorBody)))]
async fn outbox(State(state): State<AppState>, ApiStaff(s): ApiStaff) -> Result<Json<Vec<MailDto>>, ApiError> {
    service::admin_only(&s)?;
    let mails = state.store.outbox(500).await?;
    Ok(Json(
        mails
            .into_iter()
            .map(|m| MailDto {
                id: m.id,
                recipient: m.recipient,
                subject: m.subject,
                body: m.body,
                status: m.status,
                error: m.error,
                created_at: m.created_at.to_rfc3339(),
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
struct AuditDto {
    id: i64,
    at: String,
    actor: String,
    action: String,
    target: String,
    detail: String,
}

/// The audit log, newest first (admin).
#[utoipa::path(get, path = "/api/v1/staff/audit", responses((status = 200, body = Vec<AuditDto>), (status = 403, body = ErrorBody)))]
async fn audit(State(state): State<AppState>, ApiStaff(s): ApiStaff) -> Result<Json<Vec<AuditDto>>, ApiError> {
    service::admin_only(&s)?;
    let entries = state.store.audit_log(1000).await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|a| AuditDto {
                id: a.id,
                at: a.at.to_rfc3339(),
                actor: format!("{} {}", a.actor_kind, a.actor_name),
                action: a.action,
                target: a.target,
                detail: a.detail,
            })
            .collect(),
    ))
}
