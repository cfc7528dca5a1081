//! Calendar arithmetic on dates (month steps that clamp to the month's end) and display in Europe/Berlin.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Europe::Berlin;

use crate::Language;

/// Adds whole months, clamping the day to the target month's length (31 Jan + 1 month = 28/29 Feb).
pub fn add_months(date: NaiveDate, months: u32) -> NaiveDate {
    let total = date.year() * 12 + date.month0() as i32 + months as i32;
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12) as u32);
    let last = last_day_of_month(year, month0 + 1);
    NaiveDate::from_ymd_opt(year, month0 + 1, date.day().min(last)).unwrap_or(date)
}

/// The number of days in a month (28–31).
pub fn last_day_of_month(year: i32, month: u32) -> u32 {
    let (ny, nm) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    NaiveDate::from_ymd_opt(ny, nm, 1).and_then(|d| d.pred_opt()).map(|d| d.day()).unwrap_or(28)
}

/// A date in the reader's format: `31.12.2026` or `2026-12-31`.
pub fn format_date(date: NaiveDate, lang: Language) -> String {
    match lang {
        Language::De => date.format("%d.%m.%Y").to_string(),
        Language::En => date.format("%Y-%m-%d").to_string(),
    }
}

/// The Berlin calendar date of an instant.
pub fn berlin_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Berlin).date_naive()
}

/// An instant's Berlin date, formatted for the reader.
pub fn format_berlin_date(at: DateTime<Utc>, lang: Language) -> String {
    format_date(berlin_date(at), lang)
}

/// An instant in Berlin local time, formatted for the reader (with the zone abbreviation).
pub fn format_berlin_datetime(at: DateTime<Utc>, lang: Language) -> String {
    let local = at.with_timezone(&Berlin);
    match lang {
        Language::De => local.format("%d.%m.%Y %H:%M %Z").to_string(),
        Language::En => local.format("%Y-%m-%d %H:%M %Z").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn month_steps_clamp() {
        assert_eq!(add_months(d(2026, 1, 31), 1), d(2026, 2, 28));
        assert_eq!(add_months(d(2028, 1, 31), 1), d(2028, 2, 29));
        assert_eq!(add_months(d(2026, 11, 15), 2), d(2027, 1, 15));
        assert_eq!(add_months(d(2026, 3, 1), 12), d(2027, 3, 1));
        assert_eq!(add_months(d(2028, 2, 29), 12), d(2029, 2, 28));
    }

    #[test]
    fn berlin_display() {
        let winter = Utc.with_ymd_and_hms(2026, 12, 31, 23, 30, 0).unwrap();
        assert_eq!(format_berlin_date(winter, Language::De), "01.01.2027");
        assert_eq!(format_berlin_datetime(winter, Language::En), "2027-01-01 00:30 CET");
        let summer = Utc.with_ymd_and_hms(2026, 7, 1, 10, 0, 0).unwrap();
        assert_eq!(format_berlin_datetime(summer, Language::De), "01.07.2026 12:00 CEST");
    }
}
