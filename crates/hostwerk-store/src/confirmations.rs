//! Links that prove control of an e-mail address: an order, a change of address. Single use, expiring,
//! stored only as a hash.

use hostwerk_domain::EmailAddress;

use crate::token::{hash_token, new_token};
use crate::{get_opt_i64, get_str, now_ts, CustomerId, Store, StoreError};

/// What a confirmation link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmationPurpose {
    /// An order that becomes a customer once the address is confirmed.
    Order,
    /// A customer's new e-mail address.
    EmailChange,
}

impl ConfirmationPurpose {
    fn as_str(self) -> &'static str {
        match self {
            ConfirmationPurpose::Order => "order",
            ConfirmationPurpose::EmailChange => "email_change",
        }
    }
}

/// An open confirmation.
#[derive(Debug, Clone)]
pub struct EmailConfirmation {
    pub customer: Option<CustomerId>,
    pub payload: String,
}

impl Store {
    /// Records a confirmation for `email`; returns the raw token for the link. An earlier open confirmation of
    /// the same purpose for the same customer (a second change of address) is withdrawn.
    pub async fn create_email_confirmation(
        &self,
        purpose: ConfirmationPurpose,
        customer: Option<CustomerId>,
        email: &EmailAddress,
        payload: &str,
        ttl_secs: i64,
    ) -> Result<String, StoreError> {
        let token = new_token();
        let now = now_ts();
        let mut tx = self.write_tx().await?;
        if let Some(c) = customer {
            sqlx::query(
                "UPDATE email_confirmations SET used_at = $1 WHERE customer_id = $2 AND purpose = $3 AND used_at IS NULL",
            )
            .bind(now)
            .bind(c.0)
            .bind(purpose.as_str())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO email_confirmations (token_hash, purpose, customer_id, email_norm, payload, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&token.hash)
        .bind(purpose.as_str())
        .bind(customer.map(|c| c.0))
        .bind(email.normalized())
        .bind(payload)
        .bind(now)
        .bind(now + ttl_secs)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(token.raw)
    }

    /// The open confirmation of `raw` for `purpose`, without using it up (`NotFound` when unknown, used or
    /// expired).
    pub async fn peek_email_confirmation(
        &self,
        raw: &str,
        purpose: ConfirmationPurpose,
    ) -> Result<EmailConfirmation, StoreError> {
        let row = sqlx::query(
            "SELECT customer_id, payload FROM email_confirmations \
             WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(hash_token(raw))
        .bind(purpose.as_str())
        .bind(now_ts())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        confirmation_of(&row)
    }

    /// Uses up the confirmation of `raw` atomically; a second use finds nothing.
    pub async fn consume_email_confirmation(
        &self,
        raw: &str,
        purpose: ConfirmationPurpose,
    ) -> Result<EmailConfirmation, StoreError> {
        let now = now_ts();
        let row = sqlx::query(
            "UPDATE email_confirmations SET used_at = $1 \
             WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
             RETURNING customer_id, payload",
        )
        .bind(now)
        .bind(hash_token(raw))
        .bind(purpose.as_str())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        confirmation_of(&row)
    }
}

fn confirmation_of(row: &sqlx::any::AnyRow) -> Result<EmailConfirmation, StoreError> {
    Ok(EmailConfirmation {
        customer: get_opt_i64(row, "customer_id")?.map(CustomerId),
        payload: get_str(row, "payload")?,
    })
}
