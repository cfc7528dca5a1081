//! The tariff catalog: products, prices, terms and the policies other parts of hostwerk enforce.
//!
//! A catalog is parsed from TOML text (the provider's file, or the demo catalog built into the binary).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{BillingPeriod, Cents, ProcessLimit};

/// The three product families of the seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TariffFamily {
    SharedHosting,
    ManagedServer,
    ResellerDedicated,
}

impl TariffFamily {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SharedHosting => "SharedHosting",
            Self::ManagedServer => "ManagedServer",
            Self::ResellerDedicated => "ResellerDedicated",
        }
    }

    pub fn parse(input: &str) -> Result<Self, TariffError> {
        match input {
            "SharedHosting" => Ok(Self::SharedHosting),
            "ManagedServer" => Ok(Self::ManagedServer),
            "ResellerDedicated" => Ok(Self::ResellerDedicated),
            other => Err(TariffError::UnknownFamily(other.to_owned())),
        }
    }
}

impl fmt::Display for TariffFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TariffError {
    #[error("a tariff id is 2–40 characters: lower-case letters, digits and hyphens")]
    MalformedId,
    #[error("unknown tariff family {0:?} (SharedHosting, ManagedServer or ResellerDedicated)")]
    UnknownFamily(String),
    #[error("the tariff catalog is not valid TOML: {0}")]
    Toml(String),
    #[error("tariff {id}: {problem}")]
    Invalid { id: String, problem: String },
    #[error("the tariff catalog lists {0} twice")]
    Duplicate(String),
    #[error("the tariff catalog is empty")]
    Empty,
}

/// A tariff's stable identifier, e.g. `shared-m`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TariffId(String);

impl TariffId {
    pub fn parse(input: &str) -> Result<Self, TariffError> {
        let s = input.trim();
        let ok = (2..=40).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(TariffError::MalformedId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TariffId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for TariffId {
    type Error = TariffError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<TariffId> for String {
    fn from(t: TariffId) -> String {
        t.0
    }
}

/// Whether and how customers may change the process limit of their contracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessLimitPolicy {
    /// The limit a new contract starts with.
    pub default: ProcessLimit,
    /// Whether the customer may switch it off or choose another value.
    pub customer_adjustable: bool,
}

/// How long backups are kept, and how many extra backups a customer may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupPolicy {
    pub keep_daily: u32,
    pub keep_monthly: u32,
    /// On-demand backups a customer may start per day (0: none).
    pub on_demand_per_day: u32,
    /// Storage allowance for on-demand snapshots in MiB.
    pub on_demand_quota_mib: u64,
}

/// One product of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tariff {
    pub id: TariffId,
    pub name: String,
    pub family: TariffFamily,
    pub monthly_price: Cents,
    pub billing_periods: Vec<BillingPeriod>,
    pub minimum_term_months: u32,
    pub notice_period_days: u32,
    pub process_limit: ProcessLimitPolicy,
    pub backup: BackupPolicy,
    /// Whether the tariff can be ordered now (retired tariffs stay for existing contracts).
    pub orderable: bool,
}

impl Tariff {
    /// Checks the rules a tariff must satisfy.
    pub fn validate(&self) -> Result<(), TariffError> {
        let invalid = |problem: &str| TariffError::Invalid { id: self.id.to_string(), problem: problem.to_owned() };
        if self.name.trim().is_empty() || self.name.len() > 80 {
            return Err(invalid("the name must have 1–80 characters"));
        }
        if self.monthly_price.get() < 0 {
            return Err(invalid("the price must not be negative"));
        }
        if self.billing_periods.is_empty() {
            return Err(invalid("at least one billing period must be offered"));
        }
        if self.minimum_term_months > 120 || self.notice_period_days > 365 {
            return Err(invalid("minimum term (≤ 120 months) or notice period (≤ 365 days) out of range"));
        }
        if self.family == TariffFamily::SharedHosting && self.process_limit.customer_adjustable {
            return Err(invalid("SharedHosting tariffs have a fixed process limit"));
        }
        Ok(())
    }

    /// Whether `period` can be chosen for this tariff.
    pub fn offers(&self, period: BillingPeriod) -> bool {
        self.billing_periods.contains(&period)
    }
}

/// All tariffs, in catalog order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TariffCatalog {
    #[serde(rename = "tariff")]
    pub tariffs: Vec<Tariff>,
}

/// The demo catalog shipped with hostwerk.
pub const DEMO_CATALOG_TOML: &str = include_str!("tariffs.demo.toml");

impl TariffCatalog {
    /// Parses and validates a catalog in TOML (`[[tariff]]` tables).
    pub fn from_toml(text: &str) -> Result<Self, TariffError> {
        let catalog: TariffCatalog = toml::from_str(text).map_err(|e| TariffError::Toml(e.message().to_owned()))?;
        if catalog.tariffs.is_empty() {
            return Err(TariffError::Empty);
        }
        let mut seen = std::collections::HashSet::new();
        for t in &catalog.tariffs {
            t.validate()?;
            if !seen.insert(t.id.clone()) {
                return Err(TariffError::Duplicate(t.id.to_string()));
            }
        }
        Ok(catalog)
    }

    /// The built-in demo catalog.
    pub fn demo() -> Self {
        // The demo catalog is a compile-time constant checked by a unit test.
        Self::from_toml(DEMO_CATALOG_TOML).unwrap_or(TariffCatalog { tariffs: Vec::new() })
    }

    pub fn get(&self, id: &TariffId) -> Option<&Tariff> {
        self.tariffs.iter().find(|t| &t.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_catalog_is_valid() {
        let c = TariffCatalog::from_toml(DEMO_CATALOG_TOML).unwrap();
        let families: Vec<_> = c.tariffs.iter().map(|t| t.family).collect();
        assert!(families.contains(&TariffFamily::SharedHosting));
        assert!(families.contains(&TariffFamily::ManagedServer));
        assert!(families.contains(&TariffFamily::ResellerDedicated));
        let s = c.get(&TariffId::parse("shared-s").unwrap()).unwrap();
        assert_eq!(s.process_limit.default, ProcessLimit::Seconds(180));
        assert!(!s.process_limit.customer_adjustable);
        assert!(c
            .tariffs
            .iter()
            .filter(|t| t.family != TariffFamily::SharedHosting)
            .all(|t| t.process_limit.customer_adjustable));
    }

    #[test]
    fn rejects_bad_catalogs() {
        assert!(matches!(TariffCatalog::from_toml("tariff = 3"), Err(TariffError::Toml(_))));
        assert!(matches!(TariffCatalog::from_toml("tariff = []"), Err(TariffError::Empty)));
        let twice = format!(
            "{DEMO_CATALOG_TOML}\n{}",
            DEMO_CATALOG_TOML.split("[[tariff]]").nth(1).map(|t| format!("[[tariff]]{t}")).unwrap()
        );
        assert!(matches!(TariffCatalog::from_toml(&twice), Err(TariffError::Duplicate(_))));
        let adjustable_shared =
            DEMO_CATALOG_TOML.replacen("customer_adjustable = false", "customer_adjustable = true", 1);
        assert!(matches!(TariffCatalog::from_toml(&adjustable_shared), Err(TariffError::Invalid { .. })));
    }
}
