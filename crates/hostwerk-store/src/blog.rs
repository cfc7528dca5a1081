//! The blog: posts with categories and tags, comments held for moderation, security advisories with their
//! audience and dismissals, and giveaways (the seed stays here until the draw publishes it).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{get_i64, get_opt_i64, get_opt_str, get_str, now_ts, ts, CustomerId, RowRead, StaffId, Store, StoreError};

/// A published post.
#[derive(Debug, Clone, Serialize)]
pub struct Post {
    pub id: i64,
    pub slug: String,
    pub title: String,
    /// Markdown.
    pub body: String,
    pub category: String,
    pub author_name: String,
    pub published_at: DateTime<Utc>,
    pub tags: Vec<String>,
}

/// A new post.
#[derive(Debug, Clone)]
pub struct NewPost<'a> {
    pub slug: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub category: &'a str,
    pub tags: &'a [String],
    pub author: StaffId,
    pub author_name: &'a str,
}

/// A comment; the e-mail address is never shown.
#[derive(Debug, Clone, Serialize)]
pub struct Comment {
    pub id: i64,
    pub post_id: i64,
    pub name: String,
    #[serde(skip)]
    pub email: String,
    pub body: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// A security advisory.
#[derive(Debug, Clone, Serialize)]
pub struct Advisory {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub severity: String,
    /// Tariff ids it is meant for; empty: every customer.
    pub tariffs: Vec<String>,
    pub post_id: Option<i64>,
    /// The address of its blog post.
    pub post_slug: Option<String>,
    pub published_at: DateTime<Utc>,
}

/// A giveaway attached to a post.
#[derive(Debug, Clone)]
pub struct Giveaway {
    pub id: i64,
    pub post_id: i64,
    pub prize: String,
    pub winners: i64,
    pub closes_at: DateTime<Utc>,
    /// Addresses excluded besides staff (relatives), one per line.
    pub exclusions: String,
    /// The secret seed (hex) until the draw publishes it.
    pub seed_hex: String,
    pub commitment: String,
    /// The published draw (JSON), once drawn.
    pub result_json: Option<String>,
    pub drawn_at: Option<DateTime<Utc>>,
}

/// Which posts to list.
#[derive(Debug, Clone, Copy)]
pub enum PostFilter<'a> {
    All,
    Category(&'a str),
    Tag(&'a str),
}

const POST_COLUMNS: &str = "p.id, p.slug, p.title, p.body, p.category, p.author_name, p.published_at";

fn post_from_row(r: &impl RowRead) -> Result<Post, StoreError> {
    Ok(Post {
        id: get_i64(r, "id")?,
        slug: get_str(r, "slug")?,
        title: get_str(r, "title")?,
        body: get_str(r, "body")?,
        category: get_str(r, "category")?,
        author_name: get_str(r, "author_name")?,
        published_at: ts(get_i64(r, "published_at")?),
        tags: Vec::new(),
    })
}

fn comment_from_row(r: &impl RowRead) -> Result<Comment, StoreError> {
    Ok(Comment {
        id: get_i64(r, "id")?,
        post_id: get_i64(r, "post_id")?,
        name: get_str(r, "name")?,
        email: get_str(r, "email")?,
        body: get_str(r, "body")?,
        status: get_str(r, "status")?,
        created_at: ts(get_i64(r, "created_at")?),
    })
}

/// Advisory columns (`a`) with the post's address (`p`).
const ADVISORY_SELECT: &str = "SELECT a.id, a.title, a.body, a.severity, a.tariffs, a.post_id, p.slug AS post_slug, \
     a.published_at FROM advisories a LEFT JOIN posts p ON p.id = a.post_id";

/// The advisories customer `$1` has not dismissed (newest 20), before filtering by tariff.
pub(crate) const OPEN_ADVISORIES_SELECT: &str = "SELECT a.id, a.title, a.body, a.severity, a.tariffs, a.post_id, \
     p.slug AS post_slug, a.published_at FROM advisories a LEFT JOIN posts p ON p.id = a.post_id \
     WHERE NOT EXISTS (SELECT 1 FROM advisory_dismissals d WHERE d.advisory_id = a.id AND d.customer_id = $1) \
     ORDER BY a.id DESC LIMIT 20";

/// Keeps the advisories meant for everyone or for a tariff of one of the customer's running contracts.
pub(crate) fn for_contracts(advisories: Vec<Advisory>, contracts: &[crate::Contract]) -> Vec<Advisory> {
    advisories
        .into_iter()
        .filter(|a| {
            a.tariffs.is_empty()
                || contracts.iter().any(|c| {
                    c.status != hostwerk_domain::ContractStatus::Terminated
                        && a.tariffs.iter().any(|t| t == c.tariff_id.as_str())
                })
        })
        .collect()
}

pub(crate) fn advisory_from_row(r: &impl RowRead) -> Result<Advisory, StoreError> {
    let tariffs = get_str(r, "tariffs")?;
    Ok(Advisory {
        id: get_i64(r, "id")?,
        title: get_str(r, "title")?,
        body: get_str(r, "body")?,
        severity: get_str(r, "severity")?,
        tariffs: tariffs.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect(),
        post_id: get_opt_i64(r, "post_id")?,
        post_slug: get_opt_str(r, "post_slug")?,
        published_at: ts(get_i64(r, "published_at")?),
    })
}

fn giveaway_from_row(r: &impl RowRead) -> Result<Giveaway, StoreError> {
    Ok(Giveaway {
        id: get_i64(r, "id")?,
        post_id: get_i64(r, "post_id")?,
        prize: get_str(r, "prize")?,
        winners: get_i64(r, "winners")?,
        closes_at: ts(get_i64(r, "closes_at")?),
        exclusions: get_str(r, "exclusions")?,
        seed_hex: get_str(r, "seed_hex")?,
        commitment: get_str(r, "commitment")?,
        result_json: get_opt_str(r, "result_json")?,
        drawn_at: get_opt_i64(r, "drawn_at")?.map(ts),
    })
}

const GIVEAWAY_COLUMNS: &str =
    "id, post_id, prize, winners, closes_at, exclusions, seed_hex, commitment, result_json, drawn_at";

impl Store {
    /// Publishes a post; the slug must be new.
    pub async fn create_post(&self, post: &NewPost<'_>) -> Result<i64, StoreError> {
        let now = now_ts();
        let mut tx = self.write_tx().await?;
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO posts (slug, title, body, category, author_staff_id, author_name, published_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(post.slug)
        .bind(post.title)
        .bind(post.body)
        .bind(post.category)
        .bind(post.author.0)
        .bind(post.author_name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok(id) => id,
            Err(e) if crate::error::is_unique(&e) => {
                return Err(StoreError::Conflict("a post with this address exists already".into()))
            }
            Err(e) => return Err(e.into()),
        };
        for tag in post.tags {
            sqlx::query("INSERT INTO post_tags (post_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(id)
                .bind(tag)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Fills in the tags of `posts` with one query.
    async fn with_tags(&self, mut posts: Vec<Post>) -> Result<Vec<Post>, StoreError> {
        if posts.is_empty() {
            return Ok(posts);
        }
        // Post ids are integers from the database, written into the statement as numbers.
        let ids: Vec<String> = posts.iter().map(|p| p.id.to_string()).collect();
        let rows = sqlx::query(&format!(
            "SELECT post_id, tag FROM post_tags WHERE post_id IN ({}) ORDER BY tag",
            ids.join(", ")
        ))
        .fetch_all(&self.pool)
        .await?;
        for r in &rows {
            let id = get_i64(r, "post_id")?;
            if let Some(p) = posts.iter_mut().find(|p| p.id == id) {
                p.tags.push(get_str(r, "tag")?);
            }
        }
        Ok(posts)
    }

    /// Posts, newest first.
    pub async fn posts(&self, filter: PostFilter<'_>, limit: i64) -> Result<Vec<Post>, StoreError> {
        let limit = limit.clamp(1, 500);
        let rows = match filter {
            PostFilter::All => {
                sqlx::query(&format!("SELECT {POST_COLUMNS} FROM posts p ORDER BY p.published_at DESC, p.id DESC LIMIT {limit}"))
                    .fetch_all(&self.pool)
                    .await?
            }
            PostFilter::Category(c) => {
                sqlx::query(&format!(
                    "SELECT {POST_COLUMNS} FROM posts p WHERE p.category = $1 ORDER BY p.published_at DESC, p.id DESC LIMIT {limit}"
                ))
                .bind(c)
                .fetch_all(&self.pool)
                .await?
            }
            PostFilter::Tag(t) => {
                sqlx::query(&format!(
                    "SELECT {POST_COLUMNS} FROM posts p JOIN post_tags g ON g.post_id = p.id WHERE g.tag = $1 \
                     ORDER BY p.published_at DESC, p.id DESC LIMIT {limit}"
                ))
                .bind(t)
                .fetch_all(&self.pool)
                .await?
            }
        };
        let posts = rows.iter().map(post_from_row).collect::<Result<Vec<_>, _>>()?;
        self.with_tags(posts).await
    }

    /// One post by its address.
    pub async fn post_by_slug(&self, slug: &str) -> Result<Post, StoreError> {
        let row = sqlx::query(&format!("SELECT {POST_COLUMNS} FROM posts p WHERE p.slug = $1"))
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(self.with_tags(vec![post_from_row(&row)?]).await?.remove(0))
    }

    /// One post by id.
    pub async fn post(&self, id: i64) -> Result<Post, StoreError> {
        let row = sqlx::query(&format!("SELECT {POST_COLUMNS} FROM posts p WHERE p.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(self.with_tags(vec![post_from_row(&row)?]).await?.remove(0))
    }

    /// A comment, held for moderation.
    pub async fn add_comment(
        &self,
        post_id: i64,
        name: &str,
        email: &str,
        email_norm: &str,
        body: &str,
        at: i64,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar::<_, i64>(
            "INSERT INTO comments (post_id, name, email, email_norm, body, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'pending', $6) RETURNING id",
        )
        .bind(post_id)
        .bind(name)
        .bind(email)
        .bind(email_norm)
        .bind(body)
        .bind(at)
        .fetch_one(&self.pool)
        .await?)
    }

    /// A post's comments in order; only approved ones unless `all`.
    pub async fn comments(&self, post_id: i64, all: bool) -> Result<Vec<Comment>, StoreError> {
        let only = if all { "" } else { " AND status = 'approved'" };
        let rows = sqlx::query(&format!(
            "SELECT id, post_id, name, email, body, status, created_at FROM comments WHERE post_id = $1{only} \
             ORDER BY created_at, id"
        ))
        .bind(post_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(comment_from_row).collect()
    }

    /// Comments waiting for moderation, oldest first.
    pub async fn pending_comments(&self) -> Result<Vec<Comment>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, post_id, name, email, body, status, created_at FROM comments WHERE status = 'pending' \
             ORDER BY created_at, id LIMIT 500",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(comment_from_row).collect()
    }

    /// Approves or rejects a comment.
    pub async fn moderate_comment(&self, id: i64, approve: bool) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE comments SET status = $2 WHERE id = $1")
            .bind(id)
            .bind(if approve { "approved" } else { "rejected" })
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Publishes an advisory for every customer (`tariffs` empty) or the customers of the given tariffs.
    pub async fn create_advisory(
        &self,
        title: &str,
        body: &str,
        severity: &str,
        tariffs: &[String],
        post_id: Option<i64>,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar::<_, i64>(
            "INSERT INTO advisories (title, body, severity, tariffs, post_id, published_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(title)
        .bind(body)
        .bind(severity)
        .bind(tariffs.join(","))
        .bind(post_id)
        .bind(now_ts())
        .fetch_one(&self.pool)
        .await?)
    }

    /// Every advisory, newest first.
    pub async fn advisories(&self) -> Result<Vec<Advisory>, StoreError> {
        let rows =
            sqlx::query(&format!("{ADVISORY_SELECT} ORDER BY a.id DESC LIMIT 200")).fetch_all(&self.pool).await?;
        rows.iter().map(advisory_from_row).collect()
    }

    /// The customer hides an advisory's banner.
    pub async fn dismiss_advisory(&self, customer: CustomerId, id: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO advisory_dismissals (advisory_id, customer_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(customer.0)
        .bind(now_ts())
        .execute(&self.pool)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound,
            other => other.into(),
        })?;
        Ok(())
    }

    /// Attaches a giveaway to a post (one per post).
    #[allow(clippy::too_many_arguments)]
    pub async fn create_giveaway(
        &self,
        post_id: i64,
        prize: &str,
        winners: i64,
        closes_at: i64,
        exclusions: &str,
        seed_hex: &str,
        commitment: &str,
    ) -> Result<i64, StoreError> {
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO giveaways (post_id, prize, winners, closes_at, exclusions, seed_hex, commitment, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(post_id)
        .bind(prize)
        .bind(winners)
        .bind(closes_at)
        .bind(exclusions)
        .bind(seed_hex)
        .bind(commitment)
        .bind(now_ts())
        .fetch_one(&self.pool)
        .await;
        match inserted {
            Ok(id) => Ok(id),
            Err(e) if crate::error::is_unique(&e) => {
                Err(StoreError::Conflict("this post has a giveaway already".into()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The giveaway of a post, if it has one.
    pub async fn giveaway_of_post(&self, post_id: i64) -> Result<Option<Giveaway>, StoreError> {
        let row = sqlx::query(&format!("SELECT {GIVEAWAY_COLUMNS} FROM giveaways WHERE post_id = $1"))
            .bind(post_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(giveaway_from_row).transpose()
    }

    /// Stores the published draw, once.
    pub async fn set_giveaway_result(&self, id: i64, json: &str) -> Result<(), StoreError> {
        let done =
            sqlx::query("UPDATE giveaways SET result_json = $2, drawn_at = $3 WHERE id = $1 AND result_json IS NULL")
                .bind(id)
                .bind(json)
                .bind(now_ts())
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict("this giveaway has been drawn already".into()));
        }
        Ok(())
    }
}
