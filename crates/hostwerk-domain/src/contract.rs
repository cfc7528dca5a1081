//! Contracts ("Verträge"): billing periods, prepaid periods, status and the system user on the webserver.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{add_months, Cents, CustomerNumber};

/// How many months are invoiced (and prepaid) at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub enum BillingPeriod {
    Monthly,
    Yearly,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractError {
    #[error("the billing period is 1 or 12 months")]
    UnknownBillingPeriod,
    #[error("this tariff cannot be billed every {0} months")]
    PeriodNotOffered(u32),
    #[error("the status must be active, terminating or terminated")]
    UnknownStatus,
    #[error("the price is too large")]
    Overflow,
}

impl BillingPeriod {
    pub fn from_months(months: u32) -> Result<Self, ContractError> {
        match months {
            1 => Ok(Self::Monthly),
            12 => Ok(Self::Yearly),
            _ => Err(ContractError::UnknownBillingPeriod),
        }
    }

    pub fn months(self) -> u32 {
        match self {
            Self::Monthly => 1,
            Self::Yearly => 12,
        }
    }

    /// The amount invoiced per period at a monthly price.
    pub fn price(self, monthly: Cents) -> Result<Cents, ContractError> {
        monthly.checked_mul(i64::from(self.months())).ok_or(ContractError::Overflow)
    }

    /// The last day (inclusive) covered by a payment for the period starting on `start`.
    pub fn period_end(self, start: NaiveDate) -> NaiveDate {
        add_months(start, self.months()).pred_opt().unwrap_or(start)
    }
}

impl TryFrom<u32> for BillingPeriod {
    type Error = ContractError;
    fn try_from(m: u32) -> Result<Self, Self::Error> {
        Self::from_months(m)
    }
}

impl From<BillingPeriod> for u32 {
    fn from(p: BillingPeriod) -> u32 {
        p.months()
    }
}

/// Where a contract stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContractStatus {
    Active,
    /// Ended by notice or agreement, still running until its end date.
    Terminating,
    Terminated,
}

impl ContractStatus {
    pub fn parse(input: &str) -> Result<Self, ContractError> {
        match input {
            "active" => Ok(Self::Active),
            "terminating" => Ok(Self::Terminating),
            "terminated" => Ok(Self::Terminated),
            _ => Err(ContractError::UnknownStatus),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Terminating => "terminating",
            Self::Terminated => "terminated",
        }
    }
}

impl fmt::Display for ContractStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The Unix user a contract's webspace and processes belong to on its webserver, e.g. `k1000001c1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SystemUser(String);

impl SystemUser {
    /// The user for the `seq`-th contract (1-based) of a customer.
    pub fn for_contract(customer: CustomerNumber, seq: u32) -> Self {
        Self(format!("k{:07}c{seq}", customer.sequence()))
    }

    /// Accepts an existing name: 1–32 characters, lower-case letters, digits, `_`, `-`, starting with a letter.
    pub fn parse(input: &str) -> Option<Self> {
        let ok = (1..=32).contains(&input.len())
            && input.starts_with(|c: char| c.is_ascii_lowercase())
            && input.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        ok.then(|| Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SystemUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A tariff change as support quotes it on the phone: it takes effect with the next billing period, and
/// the customer pays the difference of the monthly prices from then on (negative when the new tariff is cheaper).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TariffChangeQuote {
    /// The first day of the next billing period: the day after the prepaid period.
    pub effective: NaiveDate,
    pub monthly_difference: Cents,
    /// The difference per billing period (monthly difference × months of the period).
    pub period_difference: Cents,
}

/// Quotes a change from `old_monthly` to `new_monthly` for a contract paid up to `prepaid_until`.
pub fn quote_tariff_change(
    prepaid_until: NaiveDate,
    period: BillingPeriod,
    old_monthly: Cents,
    new_monthly: Cents,
) -> Result<TariffChangeQuote, ContractError> {
    let monthly_difference = new_monthly.checked_sub(old_monthly).ok_or(ContractError::Overflow)?;
    Ok(TariffChangeQuote {
        effective: prepaid_until.succ_opt().ok_or(ContractError::Overflow)?,
        monthly_difference,
        period_difference: period.price(monthly_difference)?,
    })
}

/// The earliest date a contract can end by ordinary notice given today: after the minimum term, and
/// at least `notice_days` after today, at the end of a billing period.
pub fn earliest_ordinary_end(
    start: NaiveDate,
    period: BillingPeriod,
    minimum_term_months: u32,
    notice_days: u32,
    today: NaiveDate,
) -> NaiveDate {
    let min_end = add_months(start, minimum_term_months).pred_opt().unwrap_or(start);
    let notice_floor = today + chrono::Days::new(u64::from(notice_days));
    let floor = min_end.max(notice_floor);
    let mut periods = 1u32;
    loop {
        let end = add_months(start, period.months() * periods).pred_opt().unwrap_or(start);
        if end >= floor || periods > 10_000 {
            return end;
        }
        periods += 1;
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn tariff_change_quotes() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let q = quote_tariff_change(d(2026, 12, 31), BillingPeriod::Yearly, Cents::new(899), Cents::new(1499)).unwrap();
        assert_eq!(q.effective, d(2027, 1, 1));
        assert_eq!((q.monthly_difference, q.period_difference), (Cents::new(600), Cents::new(7200)));
        let down =
            quote_tariff_change(d(2028, 2, 28), BillingPeriod::Monthly, Cents::new(1499), Cents::new(499)).unwrap();
        assert_eq!(down.effective, d(2028, 2, 29), "leap day");
        assert_eq!(down.period_difference, Cents::new(-1000));
    }
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn periods() {
        assert_eq!(BillingPeriod::Monthly.period_end(d(2026, 1, 31)), d(2026, 2, 27));
        assert_eq!(BillingPeriod::Monthly.period_end(d(2026, 3, 1)), d(2026, 3, 31));
        assert_eq!(BillingPeriod::Yearly.period_end(d(2026, 3, 1)), d(2027, 2, 28));
        assert_eq!(BillingPeriod::Yearly.price(Cents::new(499)).unwrap(), Cents::new(5988));
        assert!(BillingPeriod::from_months(6).is_err());
    }

    #[test]
    fn system_user() {
        let n = CustomerNumber::parse("K1000001").unwrap();
        assert_eq!(SystemUser::for_contract(n, 2).as_str(), "k1000001c2");
        assert!(SystemUser::parse("root!").is_none());
    }

    #[test]
    fn ordinary_end() {
        // 12-month minimum term, 30 days notice, monthly billing from 1 Jan 2026.
        let end = earliest_ordinary_end(d(2026, 1, 1), BillingPeriod::Monthly, 12, 30, d(2026, 3, 10));
        assert_eq!(end, d(2026, 12, 31));
        let end = earliest_ordinary_end(d(2026, 1, 1), BillingPeriod::Monthly, 1, 30, d(2026, 3, 10));
        assert_eq!(end, d(2026, 4, 30));
    }
}
