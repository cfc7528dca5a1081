//! The rows the store hands out, already parsed into domain types.

use chrono::{DateTime, NaiveDate, Utc};
use hostwerk_domain::{
    BillingPeriod, Cents, ContractStatus, CustomerName, CustomerNumber, DomainName, EmailAddress, Language, NodeName,
    NodeRole, PostalAddress, ProcessLimit, StaffLogin, StaffRole, SystemUser, Tariff, TariffFamily, TariffId,
};
use serde::Serialize;

/// A customer's database id. Only obtained from a signed-in session or a staff lookup, never from a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct CustomerId(pub i64);

/// A staff member's database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct StaffId(pub i64);

#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    pub id: CustomerId,
    pub number: CustomerNumber,
    pub name: String,
    pub email: EmailAddress,
    pub address: PostalAddress,
    pub language: Language,
    pub created_at: DateTime<Utc>,
    /// Versions of what the customer's dashboard shows, read with the customer.
    #[serde(skip)]
    pub data_version: DataVersion,
}

/// Versions of what a customer's dashboard shows, counted up by database triggers on every change: while both
/// are the same, so are the contracts, domains, mailboxes, refunds and advisories the dashboard lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DataVersion {
    /// The customer's own rows (contracts, domains, mailboxes, refunds, dismissed advisories).
    pub own: i64,
    /// What all customers share (tariff definitions, node names, advisories, post addresses).
    pub shared: i64,
}

/// What login needs: never leaves the server.
#[derive(Debug, Clone)]
pub struct CustomerCredentials {
    pub id: CustomerId,
    pub number: CustomerNumber,
    pub password_hash: String,
    pub failed_logins: i64,
    pub locked_until: i64,
}

/// A customer to create, with already-hashed secrets.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub name: CustomerName,
    pub email: EmailAddress,
    pub address: PostalAddress,
    pub language: Language,
    pub password_hash: String,
    pub phone_password_hash: String,
}

/// A contract to create for a customer.
#[derive(Debug, Clone)]
pub struct NewContract {
    pub tariff: Tariff,
    pub period: BillingPeriod,
    pub start: NaiveDate,
    /// Directory under which webspaces live on the node, e.g. `/var/www`.
    pub webspace_root: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Contract {
    pub id: i64,
    pub customer_id: CustomerId,
    pub seq: i64,
    pub tariff_id: TariffId,
    pub tariff_name: String,
    pub family: TariffFamily,
    pub monthly_price: Cents,
    pub billing_period: BillingPeriod,
    pub start_date: NaiveDate,
    pub prepaid_until: NaiveDate,
    pub minimum_term_months: i64,
    pub notice_period_days: i64,
    pub status: ContractStatus,
    pub end_date: Option<NaiveDate>,
    pub node: Option<String>,
    pub system_user: SystemUser,
    pub webspace_path: String,
    pub process_limit: ProcessLimit,
}

impl Contract {
    /// The amount invoiced per billing period.
    pub fn period_price(&self) -> Cents {
        self.billing_period.price(self.monthly_price).unwrap_or(self.monthly_price)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Domain {
    pub id: i64,
    pub contract_id: i64,
    pub name: DomainName,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Mailbox {
    pub id: i64,
    pub contract_id: i64,
    pub domain_id: i64,
    pub address: EmailAddress,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub id: i64,
    pub name: NodeName,
    pub role: NodeRole,
    pub address: String,
    pub created_at: DateTime<Utc>,
    /// When the node's agent last called the panel with its token (recorded at most every 10 s).
    pub agent_seen_at: Option<DateTime<Utc>>,
}

/// A customer as the staff search lists them: number and name, nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerHit {
    pub number: CustomerNumber,
    pub name: String,
}

/// What the staff search looks for; at least one field is set. Every set field is an alternative.
#[derive(Debug, Clone, Default)]
pub struct CustomerSearch<'a> {
    /// A substring of the name, already folded with [`fold_name`].
    pub name_folded: Option<&'a str>,
    pub email: Option<&'a EmailAddress>,
    pub domain: Option<&'a DomainName>,
}

/// The name as the search compares it: Unicode lower case, the same on both engines.
pub fn fold_name(name: &str) -> String {
    name.trim().to_lowercase()
}

#[derive(Debug, Clone, Serialize)]
pub struct StaffUser {
    pub id: StaffId,
    pub login: StaffLogin,
    pub display_name: String,
    pub role: StaffRole,
    pub active: bool,
    /// Whether the account has an enrolled second factor.
    pub second_factor: bool,
    pub created_at: DateTime<Utc>,
}

/// What staff login needs: never leaves the server.
#[derive(Debug, Clone)]
pub struct StaffCredentials {
    pub id: StaffId,
    pub password_hash: String,
    pub active: bool,
    pub failed_logins: i64,
    pub locked_until: i64,
}

/// Who a session or API token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Subject {
    Customer(CustomerId),
    Staff(StaffId),
}

impl Subject {
    pub(crate) fn parts(self) -> (&'static str, i64) {
        match self {
            Subject::Customer(id) => ("customer", id.0),
            Subject::Staff(id) => ("staff", id.0),
        }
    }

    pub(crate) fn from_parts(kind: &str, id: i64) -> Option<Self> {
        match kind {
            "customer" => Some(Subject::Customer(CustomerId(id))),
            "staff" => Some(Subject::Staff(StaffId(id))),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct OutboxMail {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Who did something recorded in the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct Actor {
    pub kind: &'static str,
    pub id: Option<i64>,
    pub name: String,
}

impl Actor {
    pub fn staff(user: &StaffUser) -> Self {
        Self { kind: "staff", id: Some(user.id.0), name: user.login.to_string() }
    }
    pub fn customer(customer: &Customer) -> Self {
        Self { kind: "customer", id: Some(customer.id.0), name: customer.number.to_string() }
    }
    pub fn system(name: &str) -> Self {
        Self { kind: "system", id: None, name: name.to_owned() }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor_name: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// What the customer menu's dashboard shows: every contract, domain and mailbox of one customer.
#[derive(Debug, Clone)]
pub struct CustomerOverview {
    pub contracts: Vec<Contract>,
    pub domains: Vec<Domain>,
    pub mailboxes: Vec<Mailbox>,
    /// Refunds after early contract ends.
    pub refunds: Vec<crate::Refund>,
    /// Security advisories for the customer's tariffs that the customer has not dismissed.
    pub advisories: Vec<crate::Advisory>,
}
