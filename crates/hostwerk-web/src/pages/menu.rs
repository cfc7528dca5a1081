//! The customer menu ("Kundenmenü"): dashboard, contract details, profile, password, mailboxes.

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use hostwerk_domain::calendar::format_date;
use hostwerk_domain::contract::earliest_ordinary_end;
use hostwerk_domain::Language;
use hostwerk_store::Contract;
use minijinja::{context, Value};
use serde::Deserialize;

use super::{
    confirmation_page, confirmed, form_status, redirect_with_cookies, user_message, with_status, Confirmation, Done,
};
use crate::auth::{fresh_session, lang_cookie, Ctx, CurrentCustomer, CUSTOMER_COOKIE};
use crate::csrf::CsrfForm;
use crate::error::PageError;
use crate::i18n::t;
use crate::service;
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/menu", get(dashboard))
        .route("/menu/contracts/{id}", get(contract))
        .route("/menu/profile", get(profile_page).post(profile))
        .route("/menu/password", get(password_page).post(password))
        .route("/menu/mailboxes", post(add_mailbox))
        .route("/menu/domains", post(add_domain))
        .route("/menu/mailboxes/{id}/delete", post(delete_mailbox))
}

/// A contract as the menu shows it.
pub(crate) fn contract_view(c: &Contract, lang: Language) -> Value {
    let today = hostwerk_domain::calendar::berlin_date(chrono::Utc::now());
    let earliest = earliest_ordinary_end(
        c.start_date,
        c.billing_period,
        u32::try_from(c.minimum_term_months).unwrap_or(0),
        u32::try_from(c.notice_period_days).unwrap_or(0),
        today,
    );
    context! {
        id => c.id,
        tariff => c.tariff_name,
        family => c.family.as_str(),
        monthly_price => c.monthly_price.format(lang),
        period_price => c.period_price().format(lang),
        billing => t(lang, if c.billing_period.months() == 1 { "contract.monthly" } else { "contract.yearly" }),
        start => format_date(c.start_date, lang),
        prepaid_until => format_date(c.prepaid_until, lang),
        minimum_term_months => c.minimum_term_months,
        notice_period_days => c.notice_period_days,
        // An ending contract's end is its end date: the earliest ordinary end no longer applies.
        earliest_end => c.end_date.is_none().then(|| format_date(earliest, lang)),
        status => t(lang, &format!("status.{}", c.status.as_str())),
        status_code => c.status.as_str(),
        end_date => c.end_date.map(|d| format_date(d, lang)),
        node => c.node,
        system_user => c.system_user.as_str(),
        webspace => c.webspace_path,
        process_limit => c.process_limit.to_string(),
    }
}

/// The tariff change scheduled on contract `id`, as the menu shows it.
fn scheduled_change(changes: &[hostwerk_store::TariffChange], id: i64, lang: Language) -> Option<Value> {
    changes.iter().rfind(|ch| ch.contract_id == id).map(|ch| {
        context! { to => ch.to_tariff, effective => format_date(ch.effective, lang), price => ch.new_monthly_price.format(lang) }
    })
}

/// Domain requests the customer sees: pending ones and the rejected ones with the reason (set-up ones are
/// domains by then; cancelled ones ended with their contract).
fn order_views(orders: &[hostwerk_store::DomainOrder], lang: Language) -> Vec<Value> {
    orders
        .iter()
        .filter(|o| o.status == "pending" || o.status == "rejected")
        .map(|o| {
            context! {
                name => o.name, contract_id => o.contract_id, status => o.status,
                status_text => t(lang, &format!("domain_order.{}", o.status)), note => o.note,
                since => format_date(hostwerk_domain::calendar::berlin_date(o.created_at), lang),
            }
        })
        .collect()
}

async fn customer_context(
    state: &AppState,
    customer: &hostwerk_store::Customer,
    lang: Language,
) -> Result<Value, PageError> {
    let hostwerk_store::CustomerOverview { contracts, domains, mailboxes, refunds, advisories } =
        state.store.overview(customer.id).await?;
    // Both count in the customer's data version (migration 9), so a kept dashboard shows them too.
    let changes = state.store.tariff_changes(customer.id).await?;
    let orders = state.store.domain_orders(customer.id).await?;
    let advisories: Vec<Value> = advisories
        .iter()
        .map(|a| context! { id => a.id, title => a.title, severity => a.severity, slug => a.post_slug })
        .collect();
    let domain_views: Vec<_> = domains
        .iter()
        .map(|d| context! { id => d.id, name => d.name.as_str(), contract_id => d.contract_id })
        .collect();
    let mailbox_views: Vec<_> = mailboxes
        .iter()
        .map(|m| context! { id => m.id, address => m.address.as_str(), contract_id => m.contract_id })
        .collect();
    Ok(context! {
        customer => context! { number => customer.number.to_string(), name => customer.name, email => customer.email.as_str() },
        contracts => contracts
            .iter()
            .map(|c| {
                let refund = refunds.iter().rfind(|r| r.contract_id == c.id).map(|r| r.amount.format(lang));
                let scheduled = scheduled_change(&changes, c.id, lang);
                context! { refund, scheduled, ..contract_view(c, lang) }
            })
            .collect::<Vec<_>>(),
        active_contracts => contracts
            .iter()
            .filter(|c| c.status.as_str() == "active")
            .map(|c| context! { id => c.id, tariff => c.tariff_name, system_user => c.system_user.as_str() })
            .collect::<Vec<_>>(),
        domain_orders => order_views(&orders, lang),
        domains => domain_views,
        mailboxes => mailbox_views,
        advisories,
    })
}

async fn dashboard(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    Query(q): Query<Done>,
) -> Result<Html<String>, PageError> {
    // The dashboard shows dates relative to today (in Berlin): a kept page is for one day.
    let today = hostwerk_domain::calendar::berlin_date(chrono::Utc::now());
    if q.done.is_none() {
        if let Some(page) = state.dashboards.get(&customer, ctx.lang, today, &ctx.csrf) {
            return Ok(Html(page));
        }
    }
    let data = customer_context(&state, &customer, ctx.lang).await?;
    let page = state.views.render(
        "menu/dashboard.html",
        context! { done => q.done, ..minijinja::value::merge_maps([data, ctx.base(&state)]) },
    )?;
    if q.done.is_none() {
        state.dashboards.put(&customer, ctx.lang, today, &ctx.csrf, &page.0);
    }
    Ok(page)
}

async fn contract(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    Path(id): Path<i64>,
    Query(q): Query<Done>,
) -> Result<Html<String>, PageError> {
    let c = state.store.contract(customer.id, id).await?;
    let scheduled = scheduled_change(&state.store.tariff_changes(customer.id).await?, c.id, ctx.lang);
    let orders: Vec<_> =
        state.store.domain_orders(customer.id).await?.into_iter().filter(|o| o.contract_id == c.id).collect();
    let domain_orders = order_views(&orders, ctx.lang);
    let domains: Vec<_> = state
        .store
        .domains(customer.id)
        .await?
        .into_iter()
        .filter(|d| d.contract_id == c.id)
        .map(|d| d.name.to_string())
        .collect();
    let customer_view = context! { number => customer.number.to_string(), name => customer.name };
    state.views.render(
        "menu/contract.html",
        context! {
            contract => contract_view(&c, ctx.lang), domains, domain_orders, scheduled, done => q.done,
            active => c.status.as_str() == "active", customer => customer_view, ..ctx.base(&state)
        },
    )
}

async fn profile_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    Query(q): Query<Done>,
) -> Result<Html<String>, PageError> {
    render_profile(&state, &ctx, &customer, None, q.done).await
}

async fn render_profile(
    state: &AppState,
    ctx: &Ctx,
    customer: &hostwerk_store::Customer,
    error: Option<String>,
    done: Option<String>,
) -> Result<Html<String>, PageError> {
    let view = context! {
        number => customer.number.to_string(), name => customer.name, email => customer.email.as_str(),
        language => customer.language.code(), street => customer.address.street, postal_code => customer.address.postal_code,
        city => customer.address.city, country => customer.address.country,
    };
    state.views.render("menu/profile.html", context! { customer => view, error, done, ..ctx.base(state) })
}

#[derive(Deserialize)]
struct ProfileForm {
    email: String,
    language: String,
    /// Needed when the e-mail address changes.
    #[serde(default)]
    current_password: String,
}

async fn profile(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    CsrfForm(form): CsrfForm<ProfileForm>,
) -> Result<Response, PageError> {
    match service::update_profile(&state, &customer, &form.email, &form.language, &form.current_password).await {
        Ok(change) => {
            let to = if change.confirmation_sent {
                "/menu/profile?done=email_confirmation_sent"
            } else {
                "/menu/profile?done=profile_saved"
            };
            Ok(redirect_with_cookies(to, &[lang_cookie(&state, change.customer.language)]))
        }
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            let page = render_profile(&state, &ctx, &customer, Some(error), None).await?;
            Ok(with_status(form_status(&e), page))
        }
    }
}

async fn password_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(_): CurrentCustomer,
) -> Result<Html<String>, PageError> {
    state.views.render("menu/password.html", context! { ..ctx.base(&state) })
}

#[derive(Deserialize)]
struct PasswordForm {
    current: String,
    password: String,
    password_repeat: String,
}

async fn password(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    headers: axum::http::HeaderMap,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, PageError> {
    match service::change_password(&state, &customer, &form.current, &form.password, &form.password_repeat).await {
        Ok(()) => {
            // All sessions ended with the change; this browser gets a fresh one.
            let session =
                fresh_session(&state, &headers, CUSTOMER_COOKIE, hostwerk_store::Subject::Customer(customer.id))
                    .await?;
            Ok(redirect_with_cookies("/menu?done=password_changed", &[session]))
        }
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            let page = state.views.render("menu/password.html", context! { error, ..ctx.base(&state) })?;
            Ok(with_status(form_status(&e), page))
        }
    }
}

#[derive(Deserialize)]
struct MailboxForm {
    domain_id: i64,
    local_part: String,
}

async fn add_mailbox(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    CsrfForm(form): CsrfForm<MailboxForm>,
) -> Result<Response, PageError> {
    match service::add_mailbox(&state, &customer, form.domain_id, &form.local_part).await {
        Ok(()) => Ok(Redirect::to("/menu?done=mailbox_created").into_response()),
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            let data = customer_context(&state, &customer, ctx.lang).await?;
            let page = state.views.render(
                "menu/dashboard.html",
                context! { error, ..minijinja::value::merge_maps([data, ctx.base(&state)]) },
            )?;
            Ok(with_status(form_status(&e), page))
        }
    }
}

async fn delete_mailbox(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    Path(id): Path<i64>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    if !confirmed(&fields) {
        let mailbox = service::mailbox_of(&state, &customer, id).await?;
        let lang = ctx.lang;
        return confirmation_page(
            &state,
            &ctx,
            Confirmation {
                action: &format!("/menu/mailboxes/{id}/delete"),
                fields: &fields,
                title: t(lang, "confirm.mailbox_title"),
                question: t(lang, "confirm.mailbox_question").replace("{address}", mailbox.address.as_str()),
                detail: Some(t(lang, "confirm.mailbox_detail")),
                button: t(lang, "confirm.mailbox_button"),
                cancel: "/menu#mailboxes-h",
            },
        );
    }
    service::delete_mailbox(&state, &customer, id).await?;
    Ok(Redirect::to("/menu?done=mailbox_deleted").into_response())
}

#[derive(Deserialize)]
struct DomainForm {
    contract_id: i64,
    #[serde(default)]
    domain: String,
    /// Where the form was: `contract` (the contract's page) or the dashboard.
    #[serde(default)]
    from: String,
}

async fn add_domain(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    CsrfForm(form): CsrfForm<DomainForm>,
) -> Result<Response, PageError> {
    match crate::domains::request_domain(&state, &customer, form.contract_id, &form.domain).await {
        Ok(_) if form.from == "contract" => {
            Ok(Redirect::to(&format!("/menu/contracts/{}?done=domain_requested", form.contract_id)).into_response())
        }
        Ok(_) => Ok(Redirect::to("/menu?done=domain_requested").into_response()),
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            let data = customer_context(&state, &customer, ctx.lang).await?;
            let entered = context! { domain => form.domain, contract_id => form.contract_id };
            let page = state.views.render(
                "menu/dashboard.html",
                context! { error, entered, ..minijinja::value::merge_maps([data, ctx.base(&state)]) },
            )?;
            Ok(with_status(form_status(&e), page))
        }
    }
}
