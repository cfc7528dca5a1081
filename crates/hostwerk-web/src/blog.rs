//! The blog's use cases: staff publish posts (Markdown, category, tags) and security advisories (a banner in
//! the customer menu until dismissed, and a post on the blog); visitors comment (held for moderation, with a
//! honeypot and a rate limit); staff moderate. Giveaways live in `giveaways`.

use hostwerk_domain::AuditAction;
use std::net::IpAddr;

use chrono::Utc;
use hostwerk_domain::{EmailAddress, StaffRole};
use hostwerk_store::{Actor, NewPost, StaffUser};

use crate::service::ServiceError;
use crate::AppState;

fn invalid(m: &str) -> ServiceError {
    ServiceError::Invalid(m.to_owned())
}

/// Staff who may publish: management and admin.
pub fn may_publish(staff: &StaffUser) -> Result<(), ServiceError> {
    match staff.role {
        StaffRole::Management | StaffRole::Admin => Ok(()),
        StaffRole::Support => Err(ServiceError::Forbidden),
    }
}

fn text(input: &str, min: usize, max: usize, message: &str) -> Result<String, ServiceError> {
    let s = input.trim().replace("\r\n", "\n");
    let n = s.chars().count();
    if (min..=max).contains(&n) {
        Ok(s)
    } else {
        Err(invalid(message))
    }
}

/// A post's address: from the title, lower-case ASCII letters, digits and dashes.
pub fn slug_of(title: &str) -> String {
    let mut out = String::new();
    for c in title.trim().to_lowercase().chars() {
        let mapped = match c {
            'ä' => "ae",
            'ö' => "oe",
            'ü' => "ue",
            'ß' => "ss",
            c if c.is_ascii_alphanumeric() => {
                out.push(c);
                continue;
            }
            _ => "-",
        };
        out.push_str(mapped);
    }
    let parts: Vec<&str> = out.split('-').filter(|p| !p.is_empty()).collect();
    let joined = parts.join("-");
    joined.chars().take(80).collect::<String>().trim_end_matches('-').to_owned()
}

/// The raw fields of a new post.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct PostInput {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub category: String,
    /// Comma-separated.
    #[serde(default)]
    pub tags: String,
}

/// Publishes a post; returns its address.
pub async fn publish_post(state: &AppState, staff: &StaffUser, input: &PostInput) -> Result<String, ServiceError> {
    may_publish(staff)?;
    let title = text(&input.title, 3, 200, "the title must be 3 to 200 characters long")?;
    let body = text(&input.body, 1, 100_000, "the text must be 1 to 100000 characters long")?;
    let category = input.category.trim();
    if !state.config.blog_categories.iter().any(|c| c == category) {
        return Err(invalid("unknown category"));
    }
    let mut tags = Vec::new();
    for tag in input.tags.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let tag = text(tag, 1, 40, "a tag is 1 to 40 characters long")?;
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    let slug = slug_of(&title);
    if slug.is_empty() {
        return Err(invalid("the title needs letters or digits"));
    }
    let post = NewPost {
        slug: &slug,
        title: &title,
        body: &body,
        category,
        tags: &tags,
        author: staff.id,
        author_name: &staff.display_name,
    };
    state.store.create_post(&post).await?;
    state.store.audit(&Actor::staff(staff), AuditAction::BlogPublished, &slug, "").await?;
    Ok(slug)
}

/// The raw fields of a comment.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct CommentInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub text: String,
    /// The honeypot: a field people never see and bots fill in.
    #[serde(default)]
    pub website: String,
}

/// A visitor's comment on a post, held for moderation. A filled honeypot is accepted silently and dropped.
pub async fn comment(state: &AppState, slug: &str, ip: IpAddr, input: &CommentInput) -> Result<(), ServiceError> {
    let post = state.store.post_by_slug(slug).await?;
    if state.throttles.comments_per_ip.check_key(&ip).is_err() {
        return Err(ServiceError::Throttled { retry_after_secs: 60 });
    }
    let name = text(&input.name, 1, 80, "the name must be 1 to 80 characters long")?;
    let email = EmailAddress::parse(&input.email).map_err(|e| ServiceError::Invalid(e.to_string()))?;
    let body = text(&input.text, 1, 5000, "the comment must be 1 to 5000 characters long")?;
    if !input.website.trim().is_empty() {
        tracing::info!(post = %slug, "comment with a filled honeypot dropped");
        return Ok(());
    }
    state.store.add_comment(post.id, &name, email.as_str(), &email.normalized(), &body, Utc::now().timestamp()).await?;
    Ok(())
}

/// Approves or rejects a comment.
pub async fn moderate(state: &AppState, staff: &StaffUser, id: i64, approve: bool) -> Result<(), ServiceError> {
    may_publish(staff)?;
    state.store.moderate_comment(id, approve).await?;
    let action = if approve { AuditAction::CommentApproved } else { AuditAction::CommentRejected };
    state.store.audit(&Actor::staff(staff), action, &format!("comment #{id}"), "").await?;
    Ok(())
}

/// The raw fields of an advisory.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AdvisoryInput {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub severity: String,
    /// Tariff ids, comma-separated; empty: every customer.
    #[serde(default)]
    pub tariffs: String,
}

/// Publishes a security advisory: a banner for its audience and a post in the category "Sicherheit" (or the
/// last configured category).
pub async fn publish_advisory(
    state: &AppState,
    staff: &StaffUser,
    input: &AdvisoryInput,
) -> Result<String, ServiceError> {
    may_publish(staff)?;
    let severity = input.severity.trim();
    if !["low", "medium", "high", "critical"].contains(&severity) {
        return Err(invalid("the severity is low, medium, high or critical"));
    }
    let mut tariffs = Vec::new();
    for id in input.tariffs.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let id = hostwerk_domain::TariffId::parse(id).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        match state.store.tariff(&id).await {
            Ok(_) => tariffs.push(id.to_string()),
            Err(hostwerk_store::StoreError::NotFound) => {
                return Err(invalid("the audience names a tariff that does not exist; use the tariff ids shown"))
            }
            Err(e) => return Err(e.into()),
        }
    }
    let category = state
        .config
        .blog_categories
        .iter()
        .find(|c| c.as_str() == "Sicherheit")
        .or(state.config.blog_categories.last())
        .cloned()
        .unwrap_or_default();
    let post = PostInput { title: input.title.clone(), body: input.body.clone(), category, tags: "Sicherheit".into() };
    let slug = publish_post(state, staff, &post).await?;
    let post = state.store.post_by_slug(&slug).await?;
    state.store.create_advisory(&post.title, &post.body, severity, &tariffs, Some(post.id)).await?;
    state.store.audit(&Actor::staff(staff), AuditAction::AdvisoryPublished, &slug, severity).await?;
    Ok(slug)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug_of("Die Gewinner der Tickets stehen fest!"), "die-gewinner-der-tickets-stehen-fest");
        assert_eq!(slug_of("SSL-Lücke in OS X"), "ssl-luecke-in-os-x");
        assert_eq!(slug_of("!!!"), "");
    }
}
