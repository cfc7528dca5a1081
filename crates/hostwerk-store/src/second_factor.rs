//! Second factors (TOTP secrets with the last accepted time step), recovery codes (SHA-256 only) and logins
//! waiting for their second factor (token hash only). Every method names the account as a [`Subject`].

use crate::token::{hash_token, new_token};
use crate::{get_i64, get_opt_i64, get_opt_str, get_str, now_ts, ts, Store, StoreError, Subject};

/// An account's second factor: enrolled, or shown for enrolment and not yet confirmed.
#[derive(Clone)]
pub struct SecondFactor {
    /// The shared secret, base32.
    pub secret: String,
    pub enrolled_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The time step of the last accepted code (0: none yet).
    pub last_step: i64,
}

impl std::fmt::Debug for SecondFactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecondFactor")
            .field("enrolled_at", &self.enrolled_at)
            .field("last_step", &self.last_step)
            .finish_non_exhaustive()
    }
}

/// A login whose password was right, waiting for its second factor.
#[derive(Debug, Clone)]
pub struct PendingLogin {
    pub subject: Subject,
    pub next_path: Option<String>,
    pub resume_form: Option<String>,
}

impl Store {
    /// The account's second factor, enrolled or only shown; `None` without one.
    pub async fn second_factor(&self, subject: Subject) -> Result<Option<SecondFactor>, StoreError> {
        let (kind, id) = subject.parts();
        let row = sqlx::query(
            "SELECT secret, enrolled_at, last_step FROM second_factors WHERE kind = $1 AND subject_id = $2",
        )
        .bind(kind)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(SecondFactor {
                secret: get_str(&r, "secret")?,
                enrolled_at: get_opt_i64(&r, "enrolled_at")?.map(ts),
                last_step: get_i64(&r, "last_step")?,
            })
        })
        .transpose()
    }

    /// The secret an enrolment shows: the one shown before while it is not confirmed, else `secret` (stored
    /// now). `Conflict` when the account has an enrolled factor.
    pub async fn start_second_factor(&self, subject: Subject, secret: &str) -> Result<String, StoreError> {
        let (kind, id) = subject.parts();
        let inserted = sqlx::query(
            "INSERT INTO second_factors (kind, subject_id, secret, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (kind, subject_id) DO NOTHING",
        )
        .bind(kind)
        .bind(id)
        .bind(secret)
        .bind(now_ts())
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(secret.to_owned());
        }
        match self.second_factor(subject).await? {
            Some(f) if f.enrolled_at.is_none() => Ok(f.secret),
            Some(_) => Err(StoreError::Conflict("a second factor is set up already".into())),
            None => Err(StoreError::NotFound),
        }
    }

    /// Confirms the shown secret as the account's second factor, accepting the code of time step `step`, with
    /// the recovery codes `code_hashes` (earlier ones are removed). `NotFound` when nothing waits for
    /// confirmation (enrolled meanwhile, say).
    pub async fn enrol_second_factor(
        &self,
        subject: Subject,
        secret: &str,
        step: i64,
        code_hashes: &[String],
    ) -> Result<(), StoreError> {
        let (kind, id) = subject.parts();
        let now = now_ts();
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE second_factors SET enrolled_at = $1, last_step = $2 \
             WHERE kind = $3 AND subject_id = $4 AND secret = $5 AND enrolled_at IS NULL",
        )
        .bind(now)
        .bind(step)
        .bind(kind)
        .bind(id)
        .bind(secret)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Err(StoreError::NotFound);
        }
        Self::insert_recovery_codes(&mut tx, subject, code_hashes).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn insert_recovery_codes(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        subject: Subject,
        code_hashes: &[String],
    ) -> Result<(), StoreError> {
        let (kind, id) = subject.parts();
        sqlx::query("DELETE FROM recovery_codes WHERE kind = $1 AND subject_id = $2")
            .bind(kind)
            .bind(id)
            .execute(&mut **tx)
            .await?;
        for hash in code_hashes {
            sqlx::query("INSERT INTO recovery_codes (kind, subject_id, code_hash, created_at) VALUES ($1, $2, $3, $4)")
                .bind(kind)
                .bind(id)
                .bind(hash)
                .bind(now_ts())
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Replaces the account's recovery codes (the old ones stop working).
    pub async fn replace_recovery_codes(&self, subject: Subject, code_hashes: &[String]) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        Self::insert_recovery_codes(&mut tx, subject, code_hashes).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes the code of time step `step`: true only when the account has an enrolled factor whose last
    /// accepted step is earlier, in one conditional `UPDATE` (so a code works once, also for two requests at
    /// the same moment).
    pub async fn accept_second_factor_step(&self, subject: Subject, step: i64) -> Result<bool, StoreError> {
        let (kind, id) = subject.parts();
        let done = sqlx::query(
            "UPDATE second_factors SET last_step = $1 \
             WHERE kind = $2 AND subject_id = $3 AND enrolled_at IS NOT NULL AND last_step < $1",
        )
        .bind(step)
        .bind(kind)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Uses up the unused recovery code with the hash `code_hash`; false when there is none.
    pub async fn use_recovery_code(&self, subject: Subject, code_hash: &str) -> Result<bool, StoreError> {
        let (kind, id) = subject.parts();
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 \
             WHERE kind = $2 AND subject_id = $3 AND code_hash = $4 AND used_at IS NULL",
        )
        .bind(now_ts())
        .bind(kind)
        .bind(id)
        .bind(code_hash)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// How many unused recovery codes the account has.
    pub async fn recovery_codes_left(&self, subject: Subject) -> Result<i64, StoreError> {
        let (kind, id) = subject.parts();
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM recovery_codes WHERE kind = $1 AND subject_id = $2 AND used_at IS NULL",
        )
        .bind(kind)
        .bind(id)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Removes the account's second factor and recovery codes; returns whether an enrolled factor was removed.
    pub async fn remove_second_factor(&self, subject: Subject) -> Result<bool, StoreError> {
        let (kind, id) = subject.parts();
        let mut tx = self.write_tx().await?;
        let removed =
            sqlx::query("DELETE FROM second_factors WHERE kind = $1 AND subject_id = $2 AND enrolled_at IS NOT NULL")
                .bind(kind)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM second_factors WHERE kind = $1 AND subject_id = $2")
            .bind(kind)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE kind = $1 AND subject_id = $2")
            .bind(kind)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM pending_logins WHERE kind = $1 AND subject_id = $2")
            .bind(kind)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(removed.rows_affected() == 1)
    }

    /// Starts a login that waits for its second factor; returns the raw token for the browser.
    pub async fn create_pending_login(
        &self,
        subject: Subject,
        next_path: Option<&str>,
        resume_form: Option<&str>,
        ttl_secs: i64,
    ) -> Result<String, StoreError> {
        let token = new_token();
        let (kind, id) = subject.parts();
        let now = now_ts();
        sqlx::query(
            "INSERT INTO pending_logins (token_hash, kind, subject_id, next_path, resume_form, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&token.hash)
        .bind(kind)
        .bind(id)
        .bind(next_path)
        .bind(resume_form)
        .bind(now)
        .bind(now + ttl_secs)
        .execute(&self.pool)
        .await?;
        Ok(token.raw)
    }

    /// The live pending login of `raw`, without using it up.
    pub async fn pending_login(&self, raw: &str) -> Result<PendingLogin, StoreError> {
        let row = sqlx::query(
            "SELECT kind, subject_id, next_path, resume_form FROM pending_logins WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(hash_token(raw))
        .bind(now_ts())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(PendingLogin {
            subject: Subject::from_parts(&get_str(&row, "kind")?, get_i64(&row, "subject_id")?)
                .ok_or_else(|| StoreError::Corrupt("unknown pending login kind".into()))?,
            next_path: get_opt_str(&row, "next_path")?,
            resume_form: get_opt_str(&row, "resume_form")?,
        })
    }

    /// Ends a pending login (used up by its success, or abandoned); true when it was live.
    pub async fn end_pending_login(&self, raw: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM pending_logins WHERE token_hash = $1 AND expires_at > $2")
            .bind(hash_token(raw))
            .bind(now_ts())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
