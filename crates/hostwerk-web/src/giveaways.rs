//! Giveaways' use cases: staff attach one to a post (prize, number of winners, closing time, relatives'
//! addresses) and hostwerk publishes the commitment to a secret seed; after closing, staff draw (optionally
//! with a public beacon): the approved comments are frozen into the numbered entry list (late comments,
//! staff and relatives out, one entry per person), the seed is revealed, the winners are drawn and mailed, and
//! the whole draw is published as JSON that `hostwerk giveaway verify` checks.

use chrono::{NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use hostwerk_domain::giveaway::{self, Announcement, Comment, Commitment, Exclusions, PublishedDraw, Seed};
use hostwerk_domain::AuditAction;
use hostwerk_domain::Language;
use hostwerk_store::{Actor, Post, StaffUser};
use minijinja::{context, Value};
use rand::RngCore;

use crate::i18n::t;
use crate::service::ServiceError;
use crate::AppState;

fn invalid(m: impl std::fmt::Display) -> ServiceError {
    ServiceError::Invalid(m.to_string())
}

/// The raw fields of a new giveaway.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct GiveawayInput {
    #[serde(default)]
    pub prize: String,
    #[serde(default)]
    pub winners: String,
    /// Europe/Berlin local time, `YYYY-MM-DDTHH:MM` (the form's datetime-local).
    #[serde(default)]
    pub closes_at: String,
    /// Relatives' addresses, one per line or comma-separated.
    #[serde(default)]
    pub exclusions: String,
}

/// Attaches a giveaway to the post and publishes the seed's commitment.
pub async fn create(
    state: &AppState,
    staff: &StaffUser,
    slug: &str,
    input: &GiveawayInput,
) -> Result<(), ServiceError> {
    crate::blog::may_publish(staff)?;
    let post = state.store.post_by_slug(slug).await?;
    let prize = input.prize.trim();
    if prize.is_empty() || prize.chars().count() > 200 {
        return Err(invalid("the prize must be 1 to 200 characters long"));
    }
    let winners: u32 = input.winners.trim().parse().map_err(|_| invalid("the number of winners is 1 to 100"))?;
    if !(1..=100).contains(&winners) {
        return Err(invalid("the number of winners is 1 to 100"));
    }
    let local = NaiveDateTime::parse_from_str(input.closes_at.trim(), "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(input.closes_at.trim(), "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| invalid("the closing time is written YYYY-MM-DDTHH:MM"))?;
    let closes = Berlin
        .from_local_datetime(&local)
        .latest()
        .ok_or_else(|| invalid("the closing time is written YYYY-MM-DDTHH:MM"))?
        .with_timezone(&Utc);
    let mut exclusions = Vec::new();
    for a in input.exclusions.split([',', '\n', ';']).map(str::trim).filter(|a| !a.is_empty()) {
        let email = hostwerk_domain::EmailAddress::parse(a).map_err(invalid)?;
        exclusions.push(email.as_str().to_owned());
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let seed = Seed::from_bytes(bytes);
    let commitment = Commitment::of(&seed);
    Announcement::announce(&post.title, closes, winners, commitment, Utc::now()).map_err(invalid)?;
    state
        .store
        .create_giveaway(
            post.id,
            prize,
            i64::from(winners),
            closes.timestamp(),
            &exclusions.join("\n"),
            &seed.to_hex(),
            &commitment.to_hex(),
        )
        .await?;
    state.store.audit(&Actor::staff(staff), AuditAction::GiveawayCreated, slug, &commitment.to_hex()).await?;
    Ok(())
}

/// After closing: freezes the entries, reveals the seed, draws, publishes and mails the winners.
pub async fn draw(state: &AppState, staff: &StaffUser, slug: &str, beacon: &str) -> Result<(), ServiceError> {
    crate::blog::may_publish(staff)?;
    let post = state.store.post_by_slug(slug).await?;
    let Some(g) = state.store.giveaway_of_post(post.id).await? else {
        return Err(invalid("this post has no giveaway to draw"));
    };
    if g.result_json.is_some() {
        return Err(ServiceError::Conflict("this giveaway has been drawn already".into()));
    }
    if Utc::now() <= g.closes_at {
        return Err(ServiceError::Conflict("the giveaway is still open".into()));
    }
    if beacon.chars().count() > 200 {
        return Err(invalid("the beacon must be at most 200 characters long"));
    }
    let seed = Seed::parse_hex(&g.seed_hex).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let commitment = Commitment::of(&seed);
    let winners = u32::try_from(g.winners).map_err(invalid)?;
    let announcement = Announcement::new(&post.title, g.closes_at, winners, commitment).map_err(invalid)?;
    let comments = state.store.comments(post.id, false).await?;
    let input: Vec<Comment> = comments
        .iter()
        .map(|c| Comment::new(u64::try_from(c.id).unwrap_or(0), c.name.clone(), c.email.clone(), c.created_at))
        .collect();
    let exclusions = Exclusions::new()
        .with_relatives(g.exclusions.lines().filter(|l| !l.trim().is_empty()))
        .with_domains(state.config.staff_email_domains.iter());
    let entries = giveaway::freeze_entries(&announcement, &input, &exclusions).map_err(invalid)?;
    let published = giveaway::draw(&announcement, &entries, &seed, beacon).map_err(invalid)?;
    let json = published.to_json().map_err(|e| ServiceError::Internal(e.to_string()))?;
    state.store.set_giveaway_result(g.id, &json).await?;
    state
        .store
        .audit(&Actor::staff(staff), AuditAction::GiveawayDrawn, slug, &format!("winners {:?}", published.winners))
        .await?;
    // Each winner is mailed at the address of their first comment.
    for winner in published.winner_entries() {
        let Some(c) = comments.iter().find(|c| giveaway::email_hash(&commitment, &c.email) == winner.email_hash) else {
            continue;
        };
        let body = t(Language::De, "mail.giveaway_won.body")
            .replace("{name}", &winner.display_name)
            .replace("{prize}", &g.prize)
            .replace("{title}", &post.title);
        let link = format!("{}/blog/{}#giveaway", state.config.public_url, post.slug);
        state
            .mailer
            .send(&c.email, &t(Language::De, "mail.giveaway_won.subject"), &format!("{body}\n\n{link}\n"))
            .await?;
    }
    Ok(())
}

/// The published draw of a post's giveaway (JSON), once drawn.
pub async fn published_json(state: &AppState, slug: &str) -> Result<Option<String>, ServiceError> {
    let post = state.store.post_by_slug(slug).await?;
    Ok(state.store.giveaway_of_post(post.id).await?.and_then(|g| g.result_json))
}

/// What the post page shows of its giveaway: the rules and the commitment, and whether it still takes
/// entries (`open`: before the closing time and not drawn); after the draw the numbered entries with merge
/// notes, the winners and the inputs.
pub async fn public_view(state: &AppState, post: &Post, lang: Language) -> Result<Option<Value>, ServiceError> {
    let Some(g) = state.store.giveaway_of_post(post.id).await? else { return Ok(None) };
    let result = match &g.result_json {
        Some(json) => {
            let d = PublishedDraw::from_json(json).map_err(|e| ServiceError::Internal(e.to_string()))?;
            let entries: Vec<Value> = d
                .entries
                .iter()
                .map(|e| context! { number => e.number, name => e.display_name, note => e.merge_note(lang) })
                .collect();
            let winners: Vec<Value> =
                d.winner_entries().iter().map(|e| context! { number => e.number, name => e.display_name }).collect();
            Some(context! {
                entries,
                winners,
                seed => d.seed.to_hex(),
                beacon => d.beacon,
                list_hash => d.entry_list_hash.to_hex(),
            })
        }
        None => None,
    };
    Ok(Some(context! {
        prize => g.prize,
        winners => g.winners,
        closes => hostwerk_domain::calendar::format_berlin_datetime(g.closes_at, lang),
        commitment => g.commitment,
        open => result.is_none() && Utc::now() <= g.closes_at,
        result,
    }))
}

/// What the staff blog page shows of a post's giveaway: `None` without one; else its prize, closing time,
/// whether it is still open, and whether it has been drawn (then only the result link remains).
pub async fn staff_view(state: &AppState, post: &Post, lang: Language) -> Result<Option<Value>, ServiceError> {
    let Some(g) = state.store.giveaway_of_post(post.id).await? else { return Ok(None) };
    Ok(Some(context! {
        prize => g.prize,
        winners => g.winners,
        closes => hostwerk_domain::calendar::format_berlin_datetime(g.closes_at, lang),
        open => Utc::now() <= g.closes_at,
        drawn => g.drawn_at.map(|at| hostwerk_domain::calendar::format_berlin_datetime(at, lang)),
    }))
}
