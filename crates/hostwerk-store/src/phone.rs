//! Telephone verification: failed-check counters, temporary PINs, the log of checks, call contexts, and
//! the things support does within a call (tariff changes, domain orders, auth-code disclosures).

use chrono::{DateTime, NaiveDate, Utc};
use hostwerk_domain::{Cents, DomainName};
use serde::Serialize;

use crate::{get_i64, get_opt_i64, get_str, now_ts, ts, CustomerId, StaffId, Store, StoreError};

/// One phone check, as the customer sees it in the menu.
#[derive(Debug, Clone, Serialize)]
pub struct PhoneVerification {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub staff_name: String,
    pub verified: bool,
    /// `password`, `pin`, or empty when the check failed.
    pub method: String,
}

/// A verified call: for `staff`, acting for `customer` until `expires_at` on the strength of `verification_id`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CallContext {
    pub id: i64,
    pub staff_id: StaffId,
    pub customer_id: CustomerId,
    pub verification_id: i64,
    pub opened_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A tariff change scheduled for the next billing period.
#[derive(Debug, Clone, Serialize)]
pub struct TariffChange {
    pub id: i64,
    pub contract_id: i64,
    pub from_tariff: String,
    pub to_tariff: String,
    pub new_monthly_price: Cents,
    pub effective: NaiveDate,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// A domain ordered for a contract, waiting for provisioning.
#[derive(Debug, Clone, Serialize)]
pub struct DomainOrder {
    pub id: i64,
    pub contract_id: i64,
    pub name: String,
    /// `pending` (waiting for the registrar step), `active` (set up), `rejected` (see `note`), `cancelled` (the
    /// contract ended first).
    pub status: String,
    /// Why it was rejected (empty otherwise).
    pub note: String,
    pub created_at: DateTime<Utc>,
}

/// A pending domain order as the admins' work list shows it: what to register, for which customer number and
/// contract — no contact data.
#[derive(Debug, Clone, Serialize)]
pub struct PendingDomainOrder {
    pub id: i64,
    pub customer_number: String,
    pub contract_id: i64,
    pub tariff_id: String,
    pub name: String,
    /// Whether the customer asked in the menu (not support on the phone).
    pub by_customer: bool,
    pub created_at: DateTime<Utc>,
}

/// An auth code told to a caller.
#[derive(Debug, Clone, Serialize)]
pub struct AuthCodeDisclosure {
    pub id: i64,
    pub domain_name: String,
    pub staff_name: String,
    pub reason: String,
    pub verification_id: i64,
    pub at: DateTime<Utc>,
}

/// What a new tariff change records.
#[derive(Debug, Clone)]
pub struct NewTariffChange<'a> {
    pub customer: CustomerId,
    pub contract_id: i64,
    pub from_tariff: &'a str,
    pub to_tariff: &'a str,
    pub new_monthly_price: Cents,
    pub effective: NaiveDate,
    pub staff: StaffId,
    /// The phone verification the change rests on; `None` when the customer accepted it in writing.
    pub verification_id: Option<i64>,
}

impl Store {
    /// The argon2id hash of the customer's telephone password.
    pub async fn customer_phone_password_hash(&self, id: CustomerId) -> Result<String, StoreError> {
        sqlx::query_scalar::<_, String>("SELECT phone_password_hash FROM customers WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Replaces the telephone password's hash.
    pub async fn set_customer_phone_password_hash(&self, id: CustomerId, hash: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE customers SET phone_password_hash = $2 WHERE id = $1")
            .bind(id.0)
            .bind(hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Takes one attempt from the phone-check budget of `number` (any string a caller gives; unknown numbers
    /// have a budget too). `lock_after[k]` is how many seconds checks are refused after `k + 1` consecutive
    /// failures (0: not at all); the last entry holds for every count beyond. The attempt counts as failed,
    /// and the lock it would cause is set, in the same statement, before anything is checked: concurrent
    /// guesses cannot slip past the limit, and [`Store::phone_check_succeeded`] lifts both again. Returns the
    /// consecutive failures including this attempt, or `Err(locked_until)` when checks are refused.
    pub async fn take_phone_check_attempt(
        &self,
        number: &str,
        lock_after: &[i64],
    ) -> Result<Result<u32, i64>, StoreError> {
        let now = now_ts();
        sqlx::query(
            "INSERT INTO phone_check_state (customer_number, failures, locked_until, updated_at) VALUES ($1, 0, 0, $2) \
             ON CONFLICT (customer_number) DO NOTHING",
        )
        .bind(number)
        .bind(now)
        .execute(&self.pool)
        .await?;
        // The schedule is a handful of integers from the domain, written into the statement as numbers.
        let mut lock = String::from("CASE");
        for (k, secs) in lock_after.iter().enumerate() {
            lock.push_str(&format!(" WHEN failures + 1 = {} THEN {}", k + 1, secs.max(&0)));
        }
        let last = lock_after.last().copied().unwrap_or(0).max(0);
        lock.push_str(&format!(" ELSE {last} END"));
        let row = sqlx::query(&format!(
            "UPDATE phone_check_state SET failures = failures + 1, updated_at = $2, \
             locked_until = CASE WHEN ({lock}) > 0 THEN $2 + ({lock}) ELSE locked_until END \
             WHERE customer_number = $1 AND locked_until <= $2 RETURNING failures"
        ))
        .bind(number)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => Ok(Ok(u32::try_from(get_i64(&row, "failures")?).unwrap_or(u32::MAX))),
            None => {
                let until: i64 =
                    sqlx::query_scalar("SELECT locked_until FROM phone_check_state WHERE customer_number = $1")
                        .bind(number)
                        .fetch_one(&self.pool)
                        .await?;
                Ok(Err(until))
            }
        }
    }

    /// Refuses further checks for `number` until `locked_until`.
    pub async fn lock_phone_checks(&self, number: &str, locked_until: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE phone_check_state SET locked_until = $2 WHERE customer_number = $1")
            .bind(number)
            .bind(locked_until)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A successful check: the failure count starts again.
    pub async fn phone_check_succeeded(&self, number: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE phone_check_state SET failures = 0, locked_until = 0, updated_at = $2 WHERE customer_number = $1",
        )
        .bind(number)
        .bind(now_ts())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets counters that are neither locked nor touched for a day (housekeeping).
    pub async fn purge_phone_check_state(&self) -> Result<u64, StoreError> {
        let now = now_ts();
        let done = sqlx::query("DELETE FROM phone_check_state WHERE locked_until <= $1 AND updated_at < $2")
            .bind(now)
            .bind(now - 86_400)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Stores a new temporary PIN (hash), replacing any earlier one.
    pub async fn set_phone_pin(&self, customer: CustomerId, pin_hash: &str, ttl_secs: i64) -> Result<(), StoreError> {
        let now = now_ts();
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM phone_pins WHERE customer_id = $1").bind(customer.0).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO phone_pins (customer_id, pin_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(customer.0)
            .bind(pin_hash)
            .bind(now)
            .bind(now + ttl_secs)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The hash of the customer's live temporary PIN and when it expires, if there is one.
    pub async fn phone_pin(&self, customer: CustomerId) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        let row = sqlx::query("SELECT pin_hash, expires_at FROM phone_pins WHERE customer_id = $1 AND expires_at > $2")
            .bind(customer.0)
            .bind(now_ts())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((get_str(&r, "pin_hash")?, ts(get_i64(&r, "expires_at")?)))).transpose()
    }

    /// Removes the temporary PIN (used, or invalidated by a password reset). Returns whether there was one.
    pub async fn delete_phone_pin(&self, customer: CustomerId) -> Result<bool, StoreError> {
        let done =
            sqlx::query("DELETE FROM phone_pins WHERE customer_id = $1").bind(customer.0).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Logs a check; returns its id.
    pub async fn record_phone_verification(
        &self,
        customer: CustomerId,
        staff: StaffId,
        verified: bool,
        method: &str,
    ) -> Result<i64, StoreError> {
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO phone_verifications (customer_id, staff_id, at, verified, method) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(customer.0)
        .bind(staff.0)
        .bind(now_ts())
        .bind(i64::from(verified))
        .bind(method)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// The customer's most recent checks, newest first.
    pub async fn phone_verifications(
        &self,
        customer: CustomerId,
        limit: i64,
    ) -> Result<Vec<PhoneVerification>, StoreError> {
        let rows = sqlx::query(
            "SELECT v.id, v.at, v.verified, v.method, s.display_name FROM phone_verifications v \
             JOIN staff_users s ON s.id = v.staff_id WHERE v.customer_id = $1 ORDER BY v.id DESC LIMIT $2",
        )
        .bind(customer.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PhoneVerification {
                    id: get_i64(r, "id")?,
                    at: ts(get_i64(r, "at")?),
                    staff_name: get_str(r, "display_name")?,
                    verified: get_i64(r, "verified")? != 0,
                    method: get_str(r, "method")?,
                })
            })
            .collect()
    }

    /// Opens a call context (closing any earlier one of the same staff member for the same customer).
    pub async fn open_call_context(
        &self,
        staff: StaffId,
        customer: CustomerId,
        verification_id: i64,
        ttl_secs: i64,
    ) -> Result<CallContext, StoreError> {
        let now = now_ts();
        self.close_call_context(staff, customer).await?;
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO call_contexts (staff_id, customer_id, verification_id, opened_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(staff.0)
        .bind(customer.0)
        .bind(verification_id)
        .bind(now)
        .bind(now + ttl_secs)
        .fetch_one(&self.pool)
        .await?;
        Ok(CallContext {
            id,
            staff_id: staff,
            customer_id: customer,
            verification_id,
            opened_at: ts(now),
            expires_at: ts(now + ttl_secs),
        })
    }

    /// The live call context of `staff` for `customer`, if any.
    pub async fn live_call_context(
        &self,
        staff: StaffId,
        customer: CustomerId,
    ) -> Result<Option<CallContext>, StoreError> {
        let row = sqlx::query(
            "SELECT id, verification_id, opened_at, expires_at FROM call_contexts \
             WHERE staff_id = $1 AND customer_id = $2 AND closed_at IS NULL AND expires_at > $3 ORDER BY id DESC LIMIT 1",
        )
        .bind(staff.0)
        .bind(customer.0)
        .bind(now_ts())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(CallContext {
                id: get_i64(&r, "id")?,
                staff_id: staff,
                customer_id: customer,
                verification_id: get_i64(&r, "verification_id")?,
                opened_at: ts(get_i64(&r, "opened_at")?),
                expires_at: ts(get_i64(&r, "expires_at")?),
            })
        })
        .transpose()
    }

    /// Closes the call contexts of `staff` for `customer`. Returns how many were open.
    pub async fn close_call_context(&self, staff: StaffId, customer: CustomerId) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE call_contexts SET closed_at = $3 WHERE staff_id = $1 AND customer_id = $2 AND closed_at IS NULL",
        )
        .bind(staff.0)
        .bind(customer.0)
        .bind(now_ts())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Records a scheduled tariff change; a contract has at most one scheduled change (a new one replaces it).
    pub async fn schedule_tariff_change(&self, change: &NewTariffChange<'_>) -> Result<TariffChange, StoreError> {
        let now = now_ts();
        let mut tx = self.write_tx().await?;
        let id = insert_tariff_change(&mut tx, change, now).await?;
        tx.commit().await?;
        Ok(TariffChange {
            id,
            contract_id: change.contract_id,
            from_tariff: change.from_tariff.to_owned(),
            to_tariff: change.to_tariff.to_owned(),
            new_monthly_price: change.new_monthly_price,
            effective: change.effective,
            status: "scheduled".into(),
            created_at: ts(now),
        })
    }

    /// The customer's scheduled tariff changes.
    pub async fn tariff_changes(&self, customer: CustomerId) -> Result<Vec<TariffChange>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, contract_id, from_tariff, to_tariff, new_monthly_price_cents, effective_date, status, created_at \
             FROM tariff_changes WHERE customer_id = $1 AND status = 'scheduled' ORDER BY id",
        )
        .bind(customer.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let effective = get_str(r, "effective_date")?;
                Ok(TariffChange {
                    id: get_i64(r, "id")?,
                    contract_id: get_i64(r, "contract_id")?,
                    from_tariff: get_str(r, "from_tariff")?,
                    to_tariff: get_str(r, "to_tariff")?,
                    new_monthly_price: Cents::new(get_i64(r, "new_monthly_price_cents")?),
                    effective: NaiveDate::parse_from_str(&effective, "%Y-%m-%d")
                        .map_err(|e| StoreError::Corrupt(format!("tariff change date: {e}")))?,
                    status: get_str(r, "status")?,
                    created_at: ts(get_i64(r, "created_at")?),
                })
            })
            .collect()
    }

    /// Records a domain order for one of the customer's contracts. `Conflict` when the domain is already
    /// hosted or ordered.
    pub async fn create_domain_order(
        &self,
        customer: CustomerId,
        contract_id: i64,
        name: &DomainName,
        staff: Option<StaffId>,
        verification_id: Option<i64>,
    ) -> Result<DomainOrder, StoreError> {
        let contract = self.contract(customer, contract_id).await?;
        if contract.status.as_str() != "active" {
            return Err(StoreError::Conflict("this contract is ending: no domains can be added to it".into()));
        }
        let taken: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM domains WHERE name = $1 UNION ALL SELECT 1 FROM domain_orders WHERE name = $1 AND status = 'pending'",
        )
        .bind(name.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let taken_message = || StoreError::Conflict("this domain is already hosted here or ordered".into());
        if taken.is_some() {
            return Err(taken_message());
        }
        let now = now_ts();
        // Two requests at once: the partial unique index on pending names lets one through.
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO domain_orders (customer_id, contract_id, name, status, staff_id, verification_id, created_at) \
             VALUES ($1, $2, $3, 'pending', $4, $5, $6) RETURNING id",
        )
        .bind(customer.0)
        .bind(contract_id)
        .bind(name.as_str())
        .bind(staff.map(|s| s.0))
        .bind(verification_id)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => taken_message(),
            _ => StoreError::from(e),
        })?;
        Ok(DomainOrder {
            id,
            contract_id,
            name: name.to_string(),
            status: "pending".into(),
            note: String::new(),
            created_at: ts(now),
        })
    }

    /// Every pending domain order, oldest first: the admins' work list for the registrar step.
    pub async fn pending_domain_orders(&self) -> Result<Vec<PendingDomainOrder>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.id, c.number, o.contract_id, k.tariff_id, o.name, o.staff_id, o.created_at \
             FROM domain_orders o JOIN customers c ON c.id = o.customer_id JOIN contracts k ON k.id = o.contract_id \
             WHERE o.status = 'pending' ORDER BY o.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PendingDomainOrder {
                    id: get_i64(r, "id")?,
                    customer_number: get_str(r, "number")?,
                    contract_id: get_i64(r, "contract_id")?,
                    tariff_id: get_str(r, "tariff_id")?,
                    name: get_str(r, "name")?,
                    by_customer: get_opt_i64(r, "staff_id")?.is_none(),
                    created_at: ts(get_i64(r, "created_at")?),
                })
            })
            .collect()
    }

    /// Completes a pending domain order after the registrar step: the domain joins the contract with its auth
    /// code, in one transaction with the order's new status. Returns the customer and the domain's name.
    pub async fn complete_domain_order(
        &self,
        order_id: i64,
        auth_code: &str,
    ) -> Result<(CustomerId, String), StoreError> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(
            "SELECT o.customer_id, o.contract_id, o.name FROM domain_orders o JOIN contracts k ON k.id = o.contract_id \
             WHERE o.id = $1 AND o.status = 'pending' AND k.status = 'active'",
        )
        .bind(order_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let (customer, contract, name) =
            (get_i64(&row, "customer_id")?, get_i64(&row, "contract_id")?, get_str(&row, "name")?);
        let now = now_ts();
        sqlx::query("UPDATE domain_orders SET status = 'active', decided_at = $2 WHERE id = $1")
            .bind(order_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO domains (customer_id, contract_id, name, auth_code, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(customer)
        .bind(contract)
        .bind(&name)
        .bind(auth_code)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                StoreError::Conflict("this domain is already hosted here".into())
            }
            _ => StoreError::from(e),
        })?;
        tx.commit().await?;
        Ok((CustomerId(customer), name))
    }

    /// Rejects a pending domain order with the reason the customer is told.
    pub async fn reject_domain_order(&self, order_id: i64, note: &str) -> Result<(CustomerId, String), StoreError> {
        let row = sqlx::query(
            "UPDATE domain_orders SET status = 'rejected', note = $2, decided_at = $3 WHERE id = $1 AND status = 'pending' \
             RETURNING customer_id, name",
        )
        .bind(order_id)
        .bind(note)
        .bind(now_ts())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok((CustomerId(get_i64(&row, "customer_id")?), get_str(&row, "name")?))
    }

    /// The customer's domain orders, newest first.
    pub async fn domain_orders(&self, customer: CustomerId) -> Result<Vec<DomainOrder>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, contract_id, name, status, note, created_at FROM domain_orders WHERE customer_id = $1 ORDER BY id DESC",
        )
        .bind(customer.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DomainOrder {
                    id: get_i64(r, "id")?,
                    contract_id: get_i64(r, "contract_id")?,
                    name: get_str(r, "name")?,
                    status: get_str(r, "status")?,
                    note: get_str(r, "note")?,
                    created_at: ts(get_i64(r, "created_at")?),
                })
            })
            .collect()
    }

    /// A domain's name and auth code, only if it belongs to `customer`.
    pub async fn domain_auth_code(&self, customer: CustomerId, domain_id: i64) -> Result<(String, String), StoreError> {
        let row = sqlx::query("SELECT name, auth_code FROM domains WHERE id = $1 AND customer_id = $2")
            .bind(domain_id)
            .bind(customer.0)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok((get_str(&row, "name")?, get_str(&row, "auth_code")?))
    }

    /// Records that an auth code was told to a caller.
    pub async fn record_auth_code_disclosure(
        &self,
        customer: CustomerId,
        domain_id: i64,
        domain_name: &str,
        staff: StaffId,
        verification_id: i64,
        reason: &str,
    ) -> Result<i64, StoreError> {
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO auth_code_disclosures (customer_id, domain_id, domain_name, staff_id, verification_id, reason, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(customer.0)
        .bind(domain_id)
        .bind(domain_name)
        .bind(staff.0)
        .bind(verification_id)
        .bind(reason)
        .bind(now_ts())
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// The domain of an auth-code disclosure, if `staff` made it on `customer`'s account within the
    /// verification `verification_id` at or after `since` (unix seconds): what the page after the disclosure
    /// may show again without a new disclosure.
    pub async fn recent_auth_code_disclosure(
        &self,
        customer: CustomerId,
        disclosure_id: i64,
        staff: StaffId,
        verification_id: i64,
        since: i64,
    ) -> Result<i64, StoreError> {
        sqlx::query_scalar::<_, i64>(
            "SELECT domain_id FROM auth_code_disclosures WHERE id = $1 AND customer_id = $2 AND staff_id = $3 \
             AND verification_id = $4 AND at >= $5",
        )
        .bind(disclosure_id)
        .bind(customer.0)
        .bind(staff.0)
        .bind(verification_id)
        .bind(since)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)
    }

    /// The auth codes told to callers on the customer's account, newest first.
    pub async fn auth_code_disclosures(&self, customer: CustomerId) -> Result<Vec<AuthCodeDisclosure>, StoreError> {
        let rows = sqlx::query(
            "SELECT d.id, d.domain_name, d.reason, d.verification_id, d.at, s.display_name FROM auth_code_disclosures d \
             JOIN staff_users s ON s.id = d.staff_id WHERE d.customer_id = $1 ORDER BY d.id DESC",
        )
        .bind(customer.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuthCodeDisclosure {
                    id: get_i64(r, "id")?,
                    domain_name: get_str(r, "domain_name")?,
                    staff_name: get_str(r, "display_name")?,
                    reason: get_str(r, "reason")?,
                    verification_id: get_opt_i64(r, "verification_id")?.unwrap_or_default(),
                    at: ts(get_i64(r, "at")?),
                })
            })
            .collect()
    }
}

/// Inserts a scheduled tariff change in `tx`, replacing an earlier scheduled one of the same contract.
pub(crate) async fn insert_tariff_change(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    change: &NewTariffChange<'_>,
    now: i64,
) -> Result<i64, StoreError> {
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM contracts WHERE id = $1 AND customer_id = $2")
        .bind(change.contract_id)
        .bind(change.customer.0)
        .fetch_optional(&mut **tx)
        .await?;
    match status.as_deref() {
        None => return Err(StoreError::NotFound),
        Some("active") => {}
        Some(_) => {
            return Err(StoreError::Conflict("this contract is ending: no tariff change can be scheduled on it".into()))
        }
    }
    sqlx::query(
        "UPDATE tariff_changes SET status = 'replaced' WHERE customer_id = $1 AND contract_id = $2 AND status = 'scheduled'",
    )
    .bind(change.customer.0)
    .bind(change.contract_id)
    .execute(&mut **tx)
    .await?;
    Ok(sqlx::query_scalar::<_, i64>(
        "INSERT INTO tariff_changes (customer_id, contract_id, from_tariff, to_tariff, new_monthly_price_cents, \
         effective_date, status, staff_id, verification_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'scheduled', $7, $8, $9) RETURNING id",
    )
    .bind(change.customer.0)
    .bind(change.contract_id)
    .bind(change.from_tariff)
    .bind(change.to_tariff)
    .bind(change.new_monthly_price.get())
    .bind(change.effective.format("%Y-%m-%d").to_string())
    .bind(change.staff.0)
    .bind(change.verification_id)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?)
}
