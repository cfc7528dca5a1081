//! Customer-service cases, their timeline, management's proposals, and what an accepted proposal books:
//! ledger entries, refunds, free months, tariff changes, early contract ends.
//!
//! Every read and write names its scope: the signed-in customer's id, or the queues (channels) the staff
//! member's role may see. A case outside the scope is "not found", whichever id a URL carries.

use chrono::{DateTime, NaiveDate, Utc};
use hostwerk_domain::refund::EarlyEnd;
use hostwerk_domain::service_case::{CaseCategory, CaseChannel, CaseStatus, ProposalKind, ProposalStatus};
use hostwerk_domain::{Cents, CustomerNumber};
use serde::Serialize;
use sqlx::{Any, Transaction};

use crate::phone::insert_tariff_change;
use crate::{
    corrupt, get_i64, get_opt_i64, get_opt_str, get_str, now_ts, ts, CustomerId, NewTariffChange, RowRead, StaffId,
    Store, StoreError,
};

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn opt_date(r: &impl RowRead, col: &str) -> Result<Option<NaiveDate>, StoreError> {
    get_opt_str(r, col)?.map(|s| s.parse::<NaiveDate>().map_err(|e| corrupt(col, e))).transpose()
}

/// Whose cases a call may touch.
#[derive(Debug, Clone, Copy)]
pub enum CaseScope<'a> {
    /// The signed-in customer's own cases (timeline without internal notes).
    Customer(CustomerId),
    /// Staff: the cases in these queues (every event).
    Staff(&'a [CaseChannel]),
}

impl CaseScope<'_> {
    /// The condition on `cases` (aliased `k`) and the first free placeholder number.
    fn condition(&self, first: usize) -> String {
        match self {
            CaseScope::Customer(_) => format!("k.customer_id = ${first}"),
            CaseScope::Staff([]) => "1 = 0".to_owned(),
            CaseScope::Staff(channels) => {
                let list: Vec<String> = channels.iter().map(|c| format!("'{}'", c.as_str())).collect();
                format!("k.channel IN ({})", list.join(", "))
            }
        }
    }

    /// The placeholder number after the scope's own parameters.
    fn next_param(&self) -> usize {
        if self.customer().is_some() {
            2
        } else {
            1
        }
    }

    /// Binds the scope's parameter (the customer's id), if it has one.
    fn bind<'q>(
        &self,
        q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
        match self.customer() {
            Some(id) => q.bind(id),
            None => q,
        }
    }

    fn customer(&self) -> Option<i64> {
        match self {
            CaseScope::Customer(id) => Some(id.0),
            CaseScope::Staff(_) => None,
        }
    }

    fn shows_internal(&self) -> bool {
        matches!(self, CaseScope::Staff(_))
    }
}

/// A case as listed in a queue or in the customer's menu.
#[derive(Debug, Clone, Serialize)]
pub struct CaseSummary {
    pub id: i64,
    pub customer_id: CustomerId,
    pub customer_number: CustomerNumber,
    pub customer_name: String,
    pub channel: CaseChannel,
    pub category: CaseCategory,
    pub subject: String,
    pub status: CaseStatus,
    pub assigned_to: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
}

/// One entry of a case's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct CaseEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub author_kind: String,
    pub author_name: String,
    pub body: String,
    /// `false` for internal notes, which the customer never sees.
    pub visible: bool,
    pub proposal_id: Option<i64>,
}

/// A proposal management made in the guarantee loop.
#[derive(Debug, Clone, Serialize)]
pub struct Proposal {
    pub id: i64,
    pub case_id: i64,
    pub kind: ProposalKind,
    pub status: ProposalStatus,
    pub body: String,
    pub amount: Option<Cents>,
    pub months: Option<i64>,
    pub contract_id: Option<i64>,
    pub tariff_id: Option<String>,
    pub last_day: Option<NaiveDate>,
    /// The management member who proposed it.
    pub staff_id: StaffId,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    /// For an accepted early end: whether the customer took the free month.
    pub free_month: Option<bool>,
}

/// A case with its timeline and proposals.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDetail {
    pub case: CaseSummary,
    pub events: Vec<CaseEvent>,
    pub proposals: Vec<Proposal>,
}

/// A booking on the customer's account; a positive amount is owed to the customer.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerEntry {
    pub id: i64,
    pub contract_id: Option<i64>,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub amount: Cents,
    pub text: String,
    pub case_id: Option<i64>,
}

/// A refund of prepaid amounts after an early contract end.
#[derive(Debug, Clone, Serialize)]
pub struct Refund {
    pub id: i64,
    pub contract_id: i64,
    pub amount: Cents,
    pub refunded_days: i64,
    pub last_paid_day: NaiveDate,
    pub last_service_day: NaiveDate,
    pub free_month: bool,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// Who writes an event.
#[derive(Debug, Clone, Copy)]
pub struct Author<'a> {
    /// `customer`, `staff` or `system`.
    pub kind: &'static str,
    pub name: &'a str,
}

/// A new event and what it changes on the case.
#[derive(Debug, Clone, Copy)]
pub struct NewCaseEvent<'a> {
    pub kind: &'static str,
    pub author: Author<'a>,
    pub body: &'a str,
    pub visible: bool,
    /// The case's new status, if it changes.
    pub status: Option<CaseStatus>,
    /// A staff answer the customer sees: the first one sets the case's first-response time.
    pub answers_customer: bool,
}

/// A proposal to record.
#[derive(Debug, Clone)]
pub struct NewProposal {
    pub kind: ProposalKind,
    pub body: String,
    pub amount: Option<Cents>,
    pub months: Option<i64>,
    pub contract_id: Option<i64>,
    pub tariff_id: Option<String>,
    pub last_day: Option<NaiveDate>,
    pub staff: StaffId,
}

/// What accepting a proposal books, computed by the use case from the proposal and the contract.
#[derive(Debug, Clone)]
pub enum ProposalEffect {
    /// Nothing beyond the decision (a measure in words).
    Nothing,
    Credit {
        amount: Cents,
        text: String,
    },
    /// Moves a contract's prepaid-until date (free months); `expected` guards against a concurrent change.
    ExtendPrepaid {
        contract_id: i64,
        expected: NaiveDate,
        new_prepaid_until: NaiveDate,
    },
    /// Schedules a tariff change for the next billing period, on the strength of the accepted proposal.
    TariffChange {
        contract_id: i64,
        from_tariff: String,
        to_tariff: String,
        new_monthly_price: Cents,
        effective: NaiveDate,
        /// The management member who proposed it.
        staff: StaffId,
    },
    /// Ends a contract early: status `terminating` until the last day of service, and the refund.
    EndContract {
        contract_id: i64,
        end: EarlyEnd,
        text: String,
    },
}

const CASE_SELECT: &str = "SELECT k.id, k.customer_id, c.number, c.name, k.channel, k.category, k.subject, k.status, \
     s.display_name AS assigned_name, k.created_at, k.updated_at, k.first_response_at \
     FROM cases k JOIN customers c ON c.id = k.customer_id LEFT JOIN staff_users s ON s.id = k.assigned_staff_id";

fn case_from_row(r: &impl RowRead) -> Result<CaseSummary, StoreError> {
    Ok(CaseSummary {
        id: get_i64(r, "id")?,
        customer_id: CustomerId(get_i64(r, "customer_id")?),
        customer_number: CustomerNumber::parse(&get_str(r, "number")?).map_err(|e| corrupt("customer number", e))?,
        customer_name: get_str(r, "name")?,
        channel: CaseChannel::parse(&get_str(r, "channel")?).map_err(|e| corrupt("channel", e))?,
        category: CaseCategory::parse(&get_str(r, "category")?).map_err(|e| corrupt("category", e))?,
        subject: get_str(r, "subject")?,
        status: CaseStatus::parse(&get_str(r, "status")?).map_err(|e| corrupt("case status", e))?,
        assigned_to: get_opt_str(r, "assigned_name")?,
        created_at: ts(get_i64(r, "created_at")?),
        updated_at: ts(get_i64(r, "updated_at")?),
        first_response_at: get_opt_i64(r, "first_response_at")?.map(ts),
    })
}

fn event_from_row(r: &impl RowRead) -> Result<CaseEvent, StoreError> {
    Ok(CaseEvent {
        id: get_i64(r, "id")?,
        at: ts(get_i64(r, "at")?),
        kind: get_str(r, "kind")?,
        author_kind: get_str(r, "author_kind")?,
        author_name: get_str(r, "author_name")?,
        body: get_str(r, "body")?,
        visible: get_i64(r, "visible")? != 0,
        proposal_id: get_opt_i64(r, "proposal_id")?,
    })
}

const PROPOSAL_COLUMNS: &str = "p.id, p.case_id, p.kind, p.status, p.body, p.amount_cents, p.months, p.contract_id, \
     p.tariff_id, p.last_day, p.staff_id, p.created_at, p.decided_at, p.free_month";

fn proposal_from_row(r: &impl RowRead) -> Result<Proposal, StoreError> {
    Ok(Proposal {
        id: get_i64(r, "id")?,
        case_id: get_i64(r, "case_id")?,
        kind: ProposalKind::parse(&get_str(r, "kind")?).map_err(|e| corrupt("proposal kind", e))?,
        status: ProposalStatus::parse(&get_str(r, "status")?).map_err(|e| corrupt("proposal status", e))?,
        body: get_str(r, "body")?,
        amount: get_opt_i64(r, "amount_cents")?.map(Cents::new),
        months: get_opt_i64(r, "months")?,
        contract_id: get_opt_i64(r, "contract_id")?,
        tariff_id: get_opt_str(r, "tariff_id")?,
        last_day: opt_date(r, "last_day")?,
        staff_id: StaffId(get_i64(r, "staff_id")?),
        created_at: ts(get_i64(r, "created_at")?),
        decided_at: get_opt_i64(r, "decided_at")?.map(ts),
        free_month: get_opt_i64(r, "free_month")?.map(|v| v != 0),
    })
}

fn ledger_from_row(r: &impl RowRead) -> Result<LedgerEntry, StoreError> {
    Ok(LedgerEntry {
        id: get_i64(r, "id")?,
        contract_id: get_opt_i64(r, "contract_id")?,
        at: ts(get_i64(r, "at")?),
        kind: get_str(r, "kind")?,
        amount: Cents::new(get_i64(r, "amount_cents")?),
        text: get_str(r, "text")?,
        case_id: get_opt_i64(r, "case_id")?,
    })
}

pub(crate) const REFUNDS_SELECT: &str = "SELECT id, contract_id, amount_cents, refunded_days, last_paid_day, \
     last_service_day, free_month, status, created_at FROM refunds WHERE customer_id = $1 ORDER BY id";

pub(crate) fn refund_from_row(r: &impl RowRead) -> Result<Refund, StoreError> {
    Ok(Refund {
        id: get_i64(r, "id")?,
        contract_id: get_i64(r, "contract_id")?,
        amount: Cents::new(get_i64(r, "amount_cents")?),
        refunded_days: get_i64(r, "refunded_days")?,
        last_paid_day: opt_date(r, "last_paid_day")?.ok_or_else(|| corrupt("refund", "no last paid day"))?,
        last_service_day: opt_date(r, "last_service_day")?.ok_or_else(|| corrupt("refund", "no last day"))?,
        free_month: get_i64(r, "free_month")? != 0,
        status: get_str(r, "status")?,
        created_at: ts(get_i64(r, "created_at")?),
    })
}

/// A queue listing's filter.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub status: Option<CaseStatus>,
    /// A customer number (exact) or words in the subject.
    pub query: Option<String>,
    pub limit: i64,
}

async fn insert_event(
    tx: &mut Transaction<'static, Any>,
    case_id: i64,
    event: &NewCaseEvent<'_>,
    proposal_id: Option<i64>,
    now: i64,
) -> Result<i64, StoreError> {
    let id = sqlx::query_scalar::<_, i64>(
        "INSERT INTO case_events (case_id, at, kind, author_kind, author_name, body, visible, proposal_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(case_id)
    .bind(now)
    .bind(event.kind)
    .bind(event.author.kind)
    .bind(event.author.name)
    .bind(event.body)
    .bind(i64::from(event.visible))
    .bind(proposal_id)
    .fetch_one(&mut **tx)
    .await?;
    let status = event.status.map(|s| s.as_str());
    sqlx::query(
        "UPDATE cases SET updated_at = $2, status = COALESCE($3, status), \
         first_response_at = CASE WHEN $4 = 1 AND first_response_at IS NULL THEN $2 ELSE first_response_at END, \
         solved_at = CASE WHEN $3 = 'solved' THEN $2 WHEN $3 IS NULL THEN solved_at ELSE NULL END \
         WHERE id = $1",
    )
    .bind(case_id)
    .bind(now)
    .bind(status)
    .bind(i64::from(event.answers_customer))
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

/// A booking to write.
struct NewLedgerEntry<'a> {
    customer: i64,
    contract_id: Option<i64>,
    kind: &'a str,
    amount: Cents,
    text: &'a str,
    case_id: i64,
}

async fn insert_ledger(
    tx: &mut Transaction<'static, Any>,
    entry: &NewLedgerEntry<'_>,
    now: i64,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar::<_, i64>(
        "INSERT INTO ledger_entries (customer_id, contract_id, at, kind, amount_cents, text, case_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(entry.customer)
    .bind(entry.contract_id)
    .bind(now)
    .bind(entry.kind)
    .bind(entry.amount.get())
    .bind(entry.text)
    .bind(entry.case_id)
    .fetch_one(&mut **tx)
    .await?)
}

impl Store {
    /// Opens a case for `customer` with its first message; returns the case id.
    pub async fn create_case(
        &self,
        customer: CustomerId,
        channel: CaseChannel,
        category: CaseCategory,
        subject: &str,
        first: &NewCaseEvent<'_>,
    ) -> Result<i64, StoreError> {
        let now = now_ts();
        let mut tx = self.write_tx().await?;
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO cases (customer_id, channel, category, subject, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'new', $5, $5) RETURNING id",
        )
        .bind(customer.0)
        .bind(channel.as_str())
        .bind(category.as_str())
        .bind(subject)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        insert_event(&mut tx, id, first, None, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The cases in `scope`, most recently updated first.
    pub async fn cases(&self, scope: CaseScope<'_>, filter: &CaseFilter) -> Result<Vec<CaseSummary>, StoreError> {
        let mut sql = format!("{CASE_SELECT} WHERE {}", scope.condition(1));
        let mut next = scope.next_param();
        if filter.status.is_some() {
            sql.push_str(&format!(" AND k.status = ${next}"));
            next += 1;
        }
        let query = filter.query.as_deref().map(str::trim).filter(|q| !q.is_empty());
        let number = query.and_then(|q| CustomerNumber::parse(q).ok());
        if number.is_some() {
            sql.push_str(&format!(" AND c.number = ${next}"));
        } else if query.is_some() {
            sql.push_str(&format!(" AND LOWER(k.subject) LIKE ${next}"));
        }
        sql.push_str(&format!(" ORDER BY k.updated_at DESC, k.id DESC LIMIT {}", filter.limit.clamp(1, 500)));
        let mut q = scope.bind(sqlx::query(&sql));
        if let Some(status) = filter.status {
            q = q.bind(status.as_str());
        }
        if let Some(n) = number {
            q = q.bind(n.to_string());
        } else if let Some(text) = query {
            let escaped = text.to_lowercase().replace(['%', '_'], " ");
            q = q.bind(format!("%{escaped}%"));
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(case_from_row).collect()
    }

    /// One case in `scope` with its timeline (internal notes only for staff) and proposals.
    pub async fn case_detail(&self, scope: CaseScope<'_>, case_id: i64) -> Result<CaseDetail, StoreError> {
        let first = scope.next_param();
        let sql = format!("{CASE_SELECT} WHERE {} AND k.id = ${first}", scope.condition(1));
        let row = scope
            .bind(sqlx::query(&sql))
            .bind(case_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        let case = case_from_row(&row)?;
        let visible = if scope.shows_internal() { "" } else { " AND visible = 1" };
        let events = sqlx::query(&format!(
            "SELECT id, at, kind, author_kind, author_name, body, visible, proposal_id FROM case_events \
             WHERE case_id = $1{visible} ORDER BY id"
        ))
        .bind(case.id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(event_from_row)
        .collect::<Result<Vec<_>, _>>()?;
        let proposals =
            sqlx::query(&format!("SELECT {PROPOSAL_COLUMNS} FROM proposals p WHERE p.case_id = $1 ORDER BY p.id"))
                .bind(case.id)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(proposal_from_row)
                .collect::<Result<Vec<_>, _>>()?;
        Ok(CaseDetail { case, events, proposals })
    }

    /// Whether `case_id` is in `scope`; `NotFound` otherwise.
    async fn case_in_scope(
        tx: &mut Transaction<'static, Any>,
        scope: CaseScope<'_>,
        case_id: i64,
    ) -> Result<(CustomerId, CaseChannel), StoreError> {
        let first = scope.next_param();
        let sql =
            format!("SELECT k.customer_id, k.channel FROM cases k WHERE {} AND k.id = ${first}", scope.condition(1));
        let row =
            scope.bind(sqlx::query(&sql)).bind(case_id).fetch_optional(&mut **tx).await?.ok_or(StoreError::NotFound)?;
        Ok((
            CustomerId(get_i64(&row, "customer_id")?),
            CaseChannel::parse(&get_str(&row, "channel")?).map_err(|e| corrupt("channel", e))?,
        ))
    }

    /// Adds an event to a case in `scope` and applies its status change.
    pub async fn add_case_event(
        &self,
        scope: CaseScope<'_>,
        case_id: i64,
        event: &NewCaseEvent<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        Self::case_in_scope(&mut tx, scope, case_id).await?;
        insert_event(&mut tx, case_id, event, None, now_ts()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Assigns a case in `scope` to a staff member, with a timeline entry.
    pub async fn assign_case(
        &self,
        scope: CaseScope<'_>,
        case_id: i64,
        staff: StaffId,
        event: &NewCaseEvent<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        Self::case_in_scope(&mut tx, scope, case_id).await?;
        sqlx::query("UPDATE cases SET assigned_staff_id = $2 WHERE id = $1")
            .bind(case_id)
            .bind(staff.0)
            .execute(&mut *tx)
            .await?;
        insert_event(&mut tx, case_id, event, None, now_ts()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a proposal on a case in `scope` with its timeline entry. Two open proposals on one case are
    /// refused by a unique index (`Conflict`).
    pub async fn create_proposal(
        &self,
        scope: CaseScope<'_>,
        case_id: i64,
        proposal: &NewProposal,
        event: &NewCaseEvent<'_>,
    ) -> Result<i64, StoreError> {
        let now = now_ts();
        let mut tx = self.write_tx().await?;
        let (customer, _) = Self::case_in_scope(&mut tx, scope, case_id).await?;
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO proposals (case_id, customer_id, kind, status, body, amount_cents, months, contract_id, \
             tariff_id, last_day, staff_id, created_at) VALUES ($1, $2, $3, 'open', $4, $5, $6, $7, $8, $9, $10, $11) \
             RETURNING id",
        )
        .bind(case_id)
        .bind(customer.0)
        .bind(proposal.kind.as_str())
        .bind(&proposal.body)
        .bind(proposal.amount.map(Cents::get))
        .bind(proposal.months)
        .bind(proposal.contract_id)
        .bind(proposal.tariff_id.as_deref())
        .bind(proposal.last_day.map(iso))
        .bind(proposal.staff.0)
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok(id) => id,
            Err(e) if crate::error::is_unique(&e) => {
                return Err(StoreError::Conflict(
                    "another proposal is still open: withdraw it first or wait for the customer's answer".into(),
                ))
            }
            Err(e) => return Err(e.into()),
        };
        insert_event(&mut tx, case_id, event, Some(id), now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// One proposal of a case in `scope`.
    pub async fn proposal(&self, scope: CaseScope<'_>, proposal_id: i64) -> Result<Proposal, StoreError> {
        let first = scope.next_param();
        let sql = format!(
            "SELECT {PROPOSAL_COLUMNS} FROM proposals p JOIN cases k ON k.id = p.case_id WHERE {} AND p.id = ${first}",
            scope.condition(1)
        );
        let row = scope
            .bind(sqlx::query(&sql))
            .bind(proposal_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        proposal_from_row(&row)
    }

    /// Decides an open proposal in `scope` and books its effect, all in one transaction. Returns
    /// `Ok(Err(current))` when the proposal is no longer open (decided meanwhile), so the caller can say why.
    pub async fn decide_proposal(
        &self,
        scope: CaseScope<'_>,
        proposal_id: i64,
        new_status: ProposalStatus,
        free_month: Option<bool>,
        effect: &ProposalEffect,
        event: &NewCaseEvent<'_>,
    ) -> Result<Result<(), ProposalStatus>, StoreError> {
        let now = now_ts();
        let mut tx = self.write_tx().await?;
        let first = scope.next_param();
        let sql = format!(
            "SELECT p.case_id, p.customer_id, p.status FROM proposals p JOIN cases k ON k.id = p.case_id \
             WHERE {} AND p.id = ${first}",
            scope.condition(1)
        );
        let row = scope
            .bind(sqlx::query(&sql))
            .bind(proposal_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let case_id = get_i64(&row, "case_id")?;
        let customer = get_i64(&row, "customer_id")?;
        let updated = sqlx::query(
            "UPDATE proposals SET status = $2, decided_at = $3, free_month = $4 WHERE id = $1 AND status = 'open'",
        )
        .bind(proposal_id)
        .bind(new_status.as_str())
        .bind(now)
        .bind(free_month.map(i64::from))
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            let current = ProposalStatus::parse(&get_str(&row, "status")?).map_err(|e| corrupt("proposal", e))?;
            return Ok(Err(current));
        }
        match effect {
            ProposalEffect::Nothing => {}
            ProposalEffect::Credit { amount, text } => {
                let entry =
                    NewLedgerEntry { customer, contract_id: None, kind: "credit_note", amount: *amount, text, case_id };
                insert_ledger(&mut tx, &entry, now).await?;
            }
            ProposalEffect::ExtendPrepaid { contract_id, expected, new_prepaid_until } => {
                let done = sqlx::query(
                    "UPDATE contracts SET prepaid_until = $4 WHERE id = $1 AND customer_id = $2 \
                     AND prepaid_until = $3 AND status = 'active'",
                )
                .bind(contract_id)
                .bind(customer)
                .bind(iso(*expected))
                .bind(iso(*new_prepaid_until))
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Conflict("the contract changed meanwhile: please ask us again".into()));
                }
            }
            ProposalEffect::TariffChange {
                contract_id,
                from_tariff,
                to_tariff,
                new_monthly_price,
                effective,
                staff,
            } => {
                let change = NewTariffChange {
                    customer: CustomerId(customer),
                    contract_id: *contract_id,
                    from_tariff,
                    to_tariff,
                    new_monthly_price: *new_monthly_price,
                    effective: *effective,
                    staff: *staff,
                    verification_id: None,
                };
                insert_tariff_change(&mut tx, &change, now).await?;
            }
            ProposalEffect::EndContract { contract_id, end, text } => {
                let done = sqlx::query(
                    "UPDATE contracts SET status = 'terminating', end_date = $3 WHERE id = $1 AND customer_id = $2 \
                     AND status <> 'terminated'",
                )
                .bind(contract_id)
                .bind(customer)
                .bind(iso(end.last_service_day))
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Conflict("the contract has ended already".into()));
                }
                // What was scheduled on the contract ends with it.
                for statement in [
                    "UPDATE tariff_changes SET status = 'cancelled' WHERE contract_id = $1 AND customer_id = $2 \
                     AND status = 'scheduled'",
                    "UPDATE domain_orders SET status = 'cancelled' WHERE contract_id = $1 AND customer_id = $2 \
                     AND status = 'pending'",
                ] {
                    sqlx::query(statement).bind(contract_id).bind(customer).execute(&mut *tx).await?;
                }
                let entry = NewLedgerEntry {
                    customer,
                    contract_id: Some(*contract_id),
                    kind: "refund",
                    amount: end.refund,
                    text,
                    case_id,
                };
                let ledger = insert_ledger(&mut tx, &entry, now).await?;
                sqlx::query(
                    "INSERT INTO refunds (customer_id, contract_id, amount_cents, refunded_days, last_paid_day, \
                     last_service_day, free_month, status, ledger_entry_id, case_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10)",
                )
                .bind(customer)
                .bind(contract_id)
                .bind(end.refund.get())
                .bind(end.refunded_days)
                .bind(iso(end.last_paid_day))
                .bind(iso(end.last_service_day))
                .bind(i64::from(end.last_service_day > end.last_paid_day))
                .bind(ledger)
                .bind(case_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        insert_event(&mut tx, case_id, event, Some(proposal_id), now).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Ends the contracts whose last day of service lies before `today`: `terminating` becomes `terminated`.
    /// Returns how many ended.
    pub async fn end_due_contracts(&self, today: NaiveDate) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE contracts SET status = 'terminated' WHERE status = 'terminating' AND end_date IS NOT NULL \
             AND end_date < $1",
        )
        .bind(iso(today))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// The customer's ledger, newest first.
    pub async fn ledger(&self, customer: CustomerId) -> Result<Vec<LedgerEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, contract_id, at, kind, amount_cents, text, case_id FROM ledger_entries \
             WHERE customer_id = $1 ORDER BY at DESC, id DESC",
        )
        .bind(customer.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ledger_from_row).collect()
    }

    /// The customer's refunds, oldest first.
    pub async fn refunds(&self, customer: CustomerId) -> Result<Vec<Refund>, StoreError> {
        let rows = sqlx::query(REFUNDS_SELECT).bind(customer.0).fetch_all(&self.pool).await?;
        rows.iter().map(refund_from_row).collect()
    }

    /// Seconds from opening to the first answer, for cases of `channel` opened since `since`; and how many
    /// of those cases are still unanswered.
    pub async fn first_response_times(
        &self,
        channel: CaseChannel,
        since: DateTime<Utc>,
    ) -> Result<(Vec<i64>, i64), StoreError> {
        let rows =
            sqlx::query("SELECT created_at, first_response_at FROM cases WHERE channel = $1 AND created_at >= $2")
                .bind(channel.as_str())
                .bind(since.timestamp())
                .fetch_all(&self.pool)
                .await?;
        let mut answered = Vec::new();
        let mut open = 0;
        for r in &rows {
            match get_opt_i64(r, "first_response_at")? {
                Some(at) => answered.push(at - get_i64(r, "created_at")?),
                None => open += 1,
            }
        }
        Ok((answered, open))
    }
}
