//! Ending a contract early under the satisfaction guarantee: the last day of service (with or without the
//! free month to move away) and the refund of prepaid amounts, pro rata by day, to the cent.
//!
//! Billing periods are anchored on the contract's start date: period `k` runs from `start + k·m months` to the
//! day before `start + (k+1)·m months` (month steps clamp to the month's end, see [`add_months`]). Every period
//! up to `prepaid_until` has been paid at `period_price`.
//!
//! **Rounding rule.** A period the customer no longer uses at all is refunded in full. The period that contains
//! the last day of service is refunded for its unused days: `period_price × unused_days / days_in_period`, rounded
//! half up to the cent (kaufmännisch). The used part is the rest of the period's price, so the used and the
//! refunded part of every period add up to exactly what was paid for it.

use chrono::{Days, NaiveDate};

use crate::{add_months, BillingPeriod, Cents};

/// Why an early end cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefundError {
    #[error("the contract cannot end before it started")]
    BeforeStart,
    #[error("the amount is too large")]
    Overflow,
}

/// An early end: when service stops and what is paid back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EarlyEnd {
    /// The last day the customer pays for (the chosen date, or the prepaid end if that is earlier).
    pub last_paid_day: NaiveDate,
    /// The last day of service: `last_paid_day`, or one month later with the free month.
    pub last_service_day: NaiveDate,
    /// The refund of prepaid amounts for the days after `last_paid_day`.
    pub refund: Cents,
    /// Prepaid days after `last_paid_day` that are refunded.
    pub refunded_days: i64,
}

/// One paid billing period: first and last day (inclusive).
fn period(start: NaiveDate, billing: BillingPeriod, k: u32) -> (NaiveDate, NaiveDate) {
    let m = billing.months();
    let first = add_months(start, k * m);
    let last = add_months(start, (k + 1) * m).pred_opt().unwrap_or(first);
    (first, last)
}

fn days_between(first: NaiveDate, last: NaiveDate) -> i64 {
    (last - first).num_days() + 1
}

/// `amount × part / whole`, rounded half up; `part ≤ whole`, `whole > 0`.
fn pro_rata(amount: Cents, part: i64, whole: i64) -> Result<Cents, RefundError> {
    let scaled = i128::from(amount.get()) * i128::from(part);
    let whole = i128::from(whole);
    let rounded = (scaled * 2 + whole) / (whole * 2);
    i64::try_from(rounded).map(Cents::new).map_err(|_| RefundError::Overflow)
}

/// Ends a contract that started on `start`, billed per `billing` at `period_price` and paid up to
/// `prepaid_until`, with `chosen_last_day` as the last paid day of service. With `free_month` the service runs one
/// more month at no charge. Ending on or after `prepaid_until` refunds nothing.
pub fn early_end(
    start: NaiveDate,
    billing: BillingPeriod,
    period_price: Cents,
    prepaid_until: NaiveDate,
    chosen_last_day: NaiveDate,
    free_month: bool,
) -> Result<EarlyEnd, RefundError> {
    // The day before the start means "never used": everything paid comes back.
    if chosen_last_day < start.pred_opt().unwrap_or(start) {
        return Err(RefundError::BeforeStart);
    }
    let last_paid_day = chosen_last_day.min(prepaid_until);
    let mut refund = Cents::ZERO;
    let mut refunded_days = 0;
    for k in 0.. {
        let (first, last) = period(start, billing, k);
        if first > prepaid_until || k > 12 * 1000 {
            break;
        }
        if last <= last_paid_day {
            continue;
        }
        let days = days_between(first, last);
        let unused = if first > last_paid_day { days } else { (last - last_paid_day).num_days() };
        let part = if unused == days { period_price } else { pro_rata(period_price, unused, days)? };
        refund = refund.checked_add(part).ok_or(RefundError::Overflow)?;
        refunded_days += unused;
    }
    let last_service_day = if free_month {
        let next = last_paid_day.checked_add_days(Days::new(1)).unwrap_or(last_paid_day);
        add_months(next, 1).pred_opt().unwrap_or(next)
    } else {
        last_paid_day
    };
    Ok(EarlyEnd { last_paid_day, last_service_day, refund, refunded_days })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn table() {
        use BillingPeriod::{Monthly, Yearly};
        // (start, billing, price, prepaid until, last day, free month) -> (refund, last service day)
        let cases = [
            // yearly 107.88 € from 1 Jan 2026, ending 31 Mar: 275 of 365 days back = 81.28 €
            ((d(2026, 1, 1), Yearly, 10788, d(2026, 12, 31), d(2026, 3, 31), false), (8128, d(2026, 3, 31))),
            // the same with the free month: service until 30 April, the refund unchanged
            ((d(2026, 1, 1), Yearly, 10788, d(2026, 12, 31), d(2026, 3, 31), true), (8128, d(2026, 4, 30))),
            // leap year: 366 days; ending on 29 Feb leaves 306 days: 107.88 × 306 / 366 = 90.194… → 90.19 €
            ((d(2028, 1, 1), Yearly, 10788, d(2028, 12, 31), d(2028, 2, 29), false), (9019, d(2028, 2, 29))),
            // ending on the first day of a period: the rest of it comes back
            ((d(2026, 1, 1), Monthly, 899, d(2026, 3, 31), d(2026, 3, 1), false), (870, d(2026, 3, 1))),
            // ending on the last day of a period: nothing of it, but the later paid periods in full
            ((d(2026, 1, 1), Monthly, 899, d(2026, 3, 31), d(2026, 1, 31), false), (1798, d(2026, 1, 31))),
            // ending on the prepaid end or later: nothing
            ((d(2026, 1, 1), Monthly, 899, d(2026, 3, 31), d(2026, 3, 31), false), (0, d(2026, 3, 31))),
            ((d(2026, 1, 1), Monthly, 899, d(2026, 3, 31), d(2026, 5, 10), false), (0, d(2026, 3, 31))),
            // never used: ending the day before the start returns everything
            ((d(2026, 1, 1), Yearly, 10788, d(2026, 12, 31), d(2025, 12, 31), false), (10788, d(2025, 12, 31))),
            // a start on the 31st: the first period runs 31 Jan–27 Feb (28 days); ending on 13 Feb leaves 14 of
            // them (14.00 €), the second period (28 Feb–30 Mar) comes back in full (28.00 €)
            ((d(2026, 1, 31), Monthly, 2800, d(2026, 3, 30), d(2026, 2, 13), false), (4200, d(2026, 2, 13))),
            // the same start, ending on 14 Mar: 16 of the second period's 31 days, 28.00 × 16 / 31 = 14.451… → 14.45 €
            ((d(2026, 1, 31), Monthly, 2800, d(2026, 3, 30), d(2026, 3, 14), false), (1445, d(2026, 3, 14))),
            // the free month from 31 January ends on the last of February
            ((d(2026, 1, 1), Monthly, 899, d(2026, 1, 31), d(2026, 1, 31), true), (0, d(2026, 2, 28))),
        ];
        for ((start, billing, price, prepaid, last, free), (refund, service)) in cases {
            let e = early_end(start, billing, Cents::new(price), prepaid, last, free).unwrap();
            assert_eq!((e.refund.get(), e.last_service_day), (refund, service), "{start} {billing:?} {last} {free}");
        }
        assert_eq!(
            early_end(d(2026, 1, 1), BillingPeriod::Monthly, Cents::new(899), d(2026, 1, 31), d(2025, 12, 30), false),
            Err(RefundError::BeforeStart)
        );
    }

    fn date_strategy() -> impl Strategy<Value = NaiveDate> {
        (2020i32..2040, 1u32..=12, 1u32..=31).prop_map(|(y, m, day)| {
            NaiveDate::from_ymd_opt(y, m, day.min(crate::calendar::last_day_of_month(y, m))).unwrap()
        })
    }

    proptest! {
        /// Never negative, never more than was paid in all, and monotonic: a later end never refunds more.
        #[test]
        fn bounded_and_monotonic(
            start in date_strategy(),
            yearly in any::<bool>(),
            price in 0i64..1_000_000,
            periods in 1u32..6,
            offset in -1i64..2200,
            step in 0i64..400,
            free in any::<bool>(),
        ) {
            let billing = if yearly { BillingPeriod::Yearly } else { BillingPeriod::Monthly };
            let prepaid = period(start, billing, periods - 1).1;
            let day = |off: i64| if off < 0 { start.pred_opt().unwrap() } else { start + Days::new(off as u64) };
            let a = early_end(start, billing, Cents::new(price), prepaid, day(offset), free).unwrap();
            let b = early_end(start, billing, Cents::new(price), prepaid, day(offset + step), free).unwrap();
            let paid = price * i64::from(periods);
            prop_assert!(a.refund.get() >= 0 && a.refund.get() <= paid);
            prop_assert!(b.refund <= a.refund);
            prop_assert!(a.last_service_day >= a.last_paid_day);
            prop_assert!(a.last_paid_day <= prepaid);
        }

        /// Sums over periods add up: ending on a period's last day refunds exactly the later periods, and the
        /// used part plus the refund of any day in a period is what that period cost.
        #[test]
        fn periods_add_up(
            start in date_strategy(),
            yearly in any::<bool>(),
            price in 0i64..1_000_000,
            periods in 1u32..6,
            k in 0u32..6,
            into in 0i64..366,
        ) {
            let billing = if yearly { BillingPeriod::Yearly } else { BillingPeriod::Monthly };
            let k = k % periods;
            let prepaid = period(start, billing, periods - 1).1;
            let (first, last) = period(start, billing, k);
            let at_end = early_end(start, billing, Cents::new(price), prepaid, last, false).unwrap();
            prop_assert_eq!(at_end.refund.get(), price * i64::from(periods - 1 - k));
            let day = (first + Days::new(into as u64)).min(last);
            let within = early_end(start, billing, Cents::new(price), prepaid, day, false).unwrap();
            let this_period = within.refund.get() - at_end.refund.get();
            prop_assert!(this_period >= 0 && this_period <= price);
            prop_assert_eq!(within.refunded_days - at_end.refunded_days, (last - day).num_days());
        }
    }
}
