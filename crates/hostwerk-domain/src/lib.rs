//! hostwerk-domain: the types and rules of a hosting provider's business, free of I/O and async.
//!
//! Every value that enters from outside (a form, a config file, the database) is parsed into one of these
//! types; once constructed, a value is valid. Storage, HTTP and the backup engine live in other crates.

pub mod audit;
pub mod backup_job;
pub mod calendar;
pub mod contract;
pub mod customer;
pub mod email;
pub mod giveaway;
pub mod hostname;
pub mod language;
pub mod money;
pub mod node;
pub mod password;
pub mod phone;
pub mod process_limit;
pub mod refund;
pub mod remote_support;
pub mod security;
pub mod service_case;
pub mod staff;
pub mod tariff;

pub use audit::AuditAction;
pub use calendar::{add_months, format_berlin_date, format_berlin_datetime};
pub use contract::{BillingPeriod, ContractStatus, SystemUser};
pub use customer::{CustomerName, CustomerNumber, PostalAddress};
pub use email::{EmailAddress, MailboxName};
pub use hostname::DomainName;
pub use language::Language;
pub use money::Cents;
pub use node::{AgentStatus, NodeAddress, NodeName, NodeRole};
pub use password::{Password, PhonePassword};
pub use process_limit::ProcessLimit;
pub use staff::{StaffLogin, StaffRole};
pub use tariff::{Tariff, TariffCatalog, TariffFamily, TariffId};
