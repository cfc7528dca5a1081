//! The public blog (`/blog`): index, post with comments, category and tag pages, the Atom feed, and a
//! giveaway's public results; plus the staff console's blog page (`/staff/blog`: posts, advisories, giveaways,
//! comment moderation) and the customer menu's advisory dismissal.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use hostwerk_domain::calendar::format_berlin_datetime;
use hostwerk_domain::Language;
use hostwerk_store::{Post, PostFilter};
use minijinja::{context, Value};

use super::staff::staff_view;
use super::{form_status, user_message, with_status, Done};
use crate::auth::{ClientIp, Ctx, CurrentCustomer, CurrentStaff};
use crate::blog::{self, AdvisoryInput, CommentInput, PostInput};
use crate::csrf::CsrfForm;
use crate::error::PageError;
use crate::giveaways;
use crate::markdown;
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/blog", get(index))
        .route("/blog/feed.atom", get(feed))
        .route("/blog/category/{name}", get(category))
        .route("/blog/tag/{name}", get(tag))
        .route("/blog/{slug}", get(show).post(comment))
        .route("/blog/{slug}/giveaway.json", get(giveaway_json))
        .route("/staff/blog", get(staff_page))
        .route("/staff/blog/posts", post(publish))
        .route("/staff/blog/advisories", post(advisory))
        .route("/staff/blog/comments/{id}/{decision}", post(moderate))
        .route("/staff/blog/{slug}/giveaway", post(create_giveaway))
        .route("/staff/blog/{slug}/giveaway/draw", post(draw))
        .route("/menu/advisories/{id}/dismiss", post(dismiss))
}

fn post_summary(p: &Post, lang: Language) -> Value {
    context! {
        slug => p.slug,
        title => p.title,
        category => p.category,
        author => p.author_name,
        published => format_berlin_datetime(p.published_at, lang),
        excerpt => markdown::excerpt(&p.body, 280),
        tags => p.tags,
    }
}

async fn listing(
    state: &AppState,
    ctx: &Ctx,
    filter: PostFilter<'_>,
    heading: Option<String>,
) -> Result<Html<String>, PageError> {
    let posts: Vec<Value> = state.store.posts(filter, 50).await?.iter().map(|p| post_summary(p, ctx.lang)).collect();
    state.views.render(
        "blog/index.html",
        context! { posts, heading, categories => state.config.blog_categories, ..ctx.base(state) },
    )
}

async fn index(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, PageError> {
    listing(&state, &ctx, PostFilter::All, None).await
}

async fn category(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
) -> Result<Html<String>, PageError> {
    listing(&state, &ctx, PostFilter::Category(&name), Some(name.clone())).await
}

async fn tag(State(state): State<AppState>, ctx: Ctx, Path(name): Path<String>) -> Result<Html<String>, PageError> {
    listing(&state, &ctx, PostFilter::Tag(&name), Some(format!("#{name}"))).await
}

async fn render_post(state: &AppState, ctx: &Ctx, slug: &str, extra: Value) -> Result<Html<String>, PageError> {
    let post = state.store.post_by_slug(slug).await?;
    let comments: Vec<Value> = state
        .store
        .comments(post.id, false)
        .await?
        .iter()
        .map(|c| context! { id => c.id, name => c.name, body => c.body, at => format_berlin_datetime(c.created_at, ctx.lang) })
        .collect();
    let giveaway = giveaways::public_view(state, &post, ctx.lang).await?;
    state.views.render(
        "blog/post.html",
        minijinja::value::merge_maps([
            extra,
            context! {
                post => post_summary(&post, ctx.lang),
                body_html => Value::from_safe_string(markdown::to_html(&post.body)),
                comments,
                giveaway,
            },
            ctx.base(state),
        ]),
    )
}

async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    Query(q): Query<Done>,
) -> Result<Html<String>, PageError> {
    render_post(&state, &ctx, &slug, context! { done => q.done }).await
}

async fn comment(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<CommentInput>,
) -> Result<Response, PageError> {
    match blog::comment(&state, &slug, ip, &form).await {
        Ok(()) => Ok(Redirect::to(&format!("/blog/{slug}?done=comment_held")).into_response()),
        Err(crate::service::ServiceError::NotFound) => Err(PageError::NotFound),
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            let form = context! { name => form.name, email => form.email, text => form.text };
            Ok(with_status(form_status(&e), render_post(&state, &ctx, &slug, context! { error, form }).await?))
        }
    }
}

async fn feed(State(state): State<AppState>, ctx: Ctx) -> Result<Response, PageError> {
    let posts = state.store.posts(PostFilter::All, 30).await?;
    let entries: Vec<Value> = posts
        .iter()
        .map(|p| {
            context! {
                slug => p.slug,
                title => p.title,
                author => p.author_name,
                updated => p.published_at.to_rfc3339(),
                summary => markdown::excerpt(&p.body, 500),
                category => p.category,
            }
        })
        .collect();
    let updated = posts.first().map_or_else(|| chrono::Utc::now().to_rfc3339(), |p| p.published_at.to_rfc3339());
    let xml = state.views.render(
        "blog/feed.xml",
        context! { entries, updated, base_url => state.config.public_url.trim_end_matches('/'), ..ctx.base(&state) },
    )?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/atom+xml; charset=utf-8"))], xml.0)
        .into_response())
}

async fn giveaway_json(State(state): State<AppState>, Path(slug): Path<String>) -> Result<Response, PageError> {
    let json = giveaways::published_json(&state, &slug).await?.ok_or(PageError::NotFound)?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], json).into_response())
}

// ---------------------------------------------------------------- staff

async fn render_staff(
    state: &AppState,
    ctx: &Ctx,
    me: &hostwerk_store::StaffUser,
    extra: Value,
) -> Result<Html<String>, PageError> {
    let mut posts: Vec<Value> = Vec::new();
    for p in state.store.posts(PostFilter::All, 100).await? {
        let giveaway = giveaways::staff_view(state, &p, ctx.lang).await?;
        posts.push(minijinja::value::merge_maps([post_summary(&p, ctx.lang), context! { giveaway }]));
    }
    let pending: Vec<Value> = state
        .store
        .pending_comments()
        .await?
        .iter()
        .map(|c| context! { id => c.id, name => c.name, email => c.email, body => c.body, at => format_berlin_datetime(c.created_at, ctx.lang) })
        .collect();
    let tariffs: Vec<Value> =
        state.store.tariffs().await?.iter().map(|t| context! { id => t.id.as_str(), name => t.name }).collect();
    state.views.render(
        "staff/blog.html",
        minijinja::value::merge_maps([
            extra,
            context! { me => staff_view(me), posts, pending, tariffs, categories => state.config.blog_categories },
            ctx.base(state),
        ]),
    )
}

async fn staff_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Query(q): Query<Done>,
) -> Result<Html<String>, PageError> {
    blog::may_publish(&me)?;
    render_staff(&state, &ctx, &me, context! { done => q.done }).await
}

/// After a staff blog form: back to the page with the notice, or the page again with the error and, in
/// `entered`, what the form held (under the form's name: `post_form`, `advisory_form`, `giveaway_form`).
async fn staff_result(
    state: &AppState,
    ctx: &Ctx,
    me: &hostwerk_store::StaffUser,
    result: Result<String, crate::service::ServiceError>,
    entered: Value,
) -> Result<Response, PageError> {
    match result {
        Ok(done) => Ok(Redirect::to(&format!("/staff/blog?done={done}")).into_response()),
        Err(crate::service::ServiceError::NotFound) => Err(PageError::NotFound),
        Err(crate::service::ServiceError::Forbidden) => Err(PageError::Forbidden),
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            let extra = minijinja::value::merge_maps([context! { error }, entered]);
            Ok(with_status(form_status(&e), render_staff(state, ctx, me, extra).await?))
        }
    }
}

async fn publish(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    CsrfForm(form): CsrfForm<PostInput>,
) -> Result<Response, PageError> {
    let result = blog::publish_post(&state, &me, &form).await.map(|_| "post_published".to_owned());
    let entered = context! { post_form => context! {
        title => form.title, category => form.category, tags => form.tags, body => form.body,
    } };
    staff_result(&state, &ctx, &me, result, entered).await
}

async fn advisory(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    CsrfForm(form): CsrfForm<AdvisoryInput>,
) -> Result<Response, PageError> {
    let result = blog::publish_advisory(&state, &me, &form).await.map(|_| "advisory_published".to_owned());
    let entered = context! { advisory_form => context! {
        title => form.title, severity => form.severity, tariffs => form.tariffs, body => form.body,
    } };
    staff_result(&state, &ctx, &me, result, entered).await
}

async fn moderate(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path((id, decision)): Path<(i64, String)>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, PageError> {
    let approve = match decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(PageError::NotFound),
    };
    let result = blog::moderate(&state, &me, id, approve).await.map(|()| "comment_moderated".to_owned());
    staff_result(&state, &ctx, &me, result, context! {}).await
}

async fn create_giveaway(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<giveaways::GiveawayInput>,
) -> Result<Response, PageError> {
    let result = giveaways::create(&state, &me, &slug, &form).await.map(|()| "giveaway_created".to_owned());
    let entered = context! { giveaway_form => context! {
        slug, prize => form.prize, winners => form.winners, closes_at => form.closes_at, exclusions => form.exclusions,
    } };
    staff_result(&state, &ctx, &me, result, entered).await
}

#[derive(serde::Deserialize)]
struct DrawForm {
    #[serde(default)]
    beacon: String,
}

async fn draw(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<DrawForm>,
) -> Result<Response, PageError> {
    match giveaways::draw(&state, &me, &slug, &form.beacon).await {
        Ok(()) => Ok(Redirect::to(&format!("/blog/{slug}?done=giveaway_drawn#giveaway")).into_response()),
        Err(e) => {
            let entered = context! { draw_form => context! { slug, beacon => form.beacon } };
            staff_result(&state, &ctx, &me, Err(e), entered).await
        }
    }
}

async fn dismiss(
    State(state): State<AppState>,
    CurrentCustomer(customer): CurrentCustomer,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, PageError> {
    state.store.dismiss_advisory(customer.id, id).await?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, "/menu")]).into_response())
}
