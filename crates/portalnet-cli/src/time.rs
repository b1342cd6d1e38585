//! Deadlines and timestamps: epoch milliseconds <-> UTC calendar text.
//!
//! Hand-written (Howard Hinnant's civil-date algorithms) because the CLI needs only
//! UTC dates, and a full date crate would cost more build time than these 100 lines.

use serde::{Serialize, Serializer};

const MS_PER_DAY: i64 = 86_400_000;

/// A timestamp from the API: RFC 3339 (or null when unset) in JSON,
/// `YYYY-MM-DD HH:MM` (or `-`) in tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Millis(pub i64);

impl Millis {
    pub fn table(self) -> String {
        format_table(self.0)
    }
}

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match format_rfc3339(self.0) {
            Some(t) => s.serialize_str(&t),
            None => s.serialize_none(),
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 }; // March-based month [0, 11]
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The date (year, month, day) of a count of days since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

pub fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses a deadline: `YYYY-MM-DD` (end of that day, 23:59:59 UTC),
/// `YYYY-MM-DDTHH:MM[:SS]Z`, or epoch milliseconds. The result is always > 0,
/// since the API reserves 0 for "unset" and -1 for "clear".
pub fn parse_when(input: &str) -> Result<i64, String> {
    let s = input.trim();
    const FORMS: &str = "use YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS]Z or epoch milliseconds";
    if s.is_empty() {
        return Err(format!("empty time; {FORMS}"));
    }
    let ms = if s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse::<i64>().map_err(|_| format!("'{s}' is too large for epoch milliseconds"))?
    } else {
        parse_calendar(s).map_err(|why| format!("invalid time '{s}': {why}; {FORMS}"))?
    };
    if ms <= 0 {
        return Err(format!("time '{s}' is not after 1970-01-01T00:00:00Z"));
    }
    Ok(ms)
}

fn parse_calendar(s: &str) -> Result<i64, String> {
    let (date, time) = match s.split_once(['T', 't']) {
        Some((date, time)) => (date, Some(time)),
        None => (s, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    let [y, m, d] = parts[..] else {
        return Err("the date must be YYYY-MM-DD".into());
    };
    let year = fixed_digits(y, 4, "year")?;
    let month = fixed_digits(m, 2, "month")?;
    let day = fixed_digits(d, 2, "day")?;
    if !(1..=12).contains(&month) {
        return Err(format!("month {month} is not 01-12"));
    }
    let max_day = days_in_month(year, month as u32);
    if day < 1 || day > i64::from(max_day) {
        return Err(format!("day {day} is not in 01-{max_day} for {year:04}-{month:02}"));
    }
    let (h, min, sec) = match time {
        None => (23, 59, 59),
        Some(t) => {
            let Some(t) = t.strip_suffix(['Z', 'z']) else {
                return Err("a time of day must end in Z (UTC)".into());
            };
            let parts: Vec<&str> = t.split(':').collect();
            let (h, min, sec) = match parts[..] {
                [h, m] => (h, m, None),
                [h, m, s] => (h, m, Some(s)),
                _ => return Err("the time of day must be HH:MM or HH:MM:SS".into()),
            };
            let h = fixed_digits(h, 2, "hour")?;
            let min = fixed_digits(min, 2, "minute")?;
            let sec = match sec {
                Some(s) => fixed_digits(s, 2, "second")?,
                None => 0,
            };
            if h > 23 || min > 59 || sec > 59 {
                return Err(format!("{h:02}:{min:02}:{sec:02} is not a valid time of day"));
            }
            (h, min, sec)
        }
    };
    let days = days_from_civil(year, month as u32, day as u32);
    Ok(((days * 24 + h) * 60 + min) * 60_000 + sec * 1000)
}

fn fixed_digits(s: &str, len: usize, what: &str) -> Result<i64, String> {
    if s.len() != len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("the {what} must be {len} digits, got '{s}'"));
    }
    s.parse().map_err(|_| format!("bad {what} '{s}'"))
}

/// Splits epoch ms into date and time-of-day parts (UTC).
fn split(ms: i64) -> ((i64, u32, u32), i64, i64, i64, i64) {
    let days = ms.div_euclid(MS_PER_DAY);
    let rem = ms.rem_euclid(MS_PER_DAY);
    let (h, m, s, frac) = (rem / 3_600_000, rem / 60_000 % 60, rem / 1000 % 60, rem % 1000);
    (civil_from_days(days), h, m, s, frac)
}

/// `YYYY-MM-DD HH:MM` (UTC) for tables; `-` when unset (0).
pub fn format_table(ms: i64) -> String {
    if ms == 0 {
        return "-".into();
    }
    let ((y, mo, d), h, m, _, _) = split(ms);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02}")
}

/// RFC 3339 in UTC (`2026-12-01T23:59:59Z`, milliseconds only when non-zero);
/// `None` when unset (0), which becomes JSON null.
pub fn format_rfc3339(ms: i64) -> Option<String> {
    if ms == 0 {
        return None;
    }
    let ((y, mo, d), h, m, s, frac) = split(ms);
    let frac = if frac == 0 { String::new() } else { format!(".{frac:03}") };
    Some(format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}{frac}Z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_over_four_centuries() {
        for days in -200_000..200_000 {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn leap_years() {
        assert!(is_leap(2024) && is_leap(2000) && !is_leap(1900) && !is_leap(2023));
        assert_eq!(parse_when("2024-02-29").unwrap(), 1_709_251_199_000);
        assert_eq!(parse_when("2000-02-29T00:00Z").unwrap(), 951_782_400_000);
        assert!(parse_when("2023-02-29").unwrap_err().contains("day 29"));
        assert!(parse_when("1900-02-29").is_err());
    }

    #[test]
    fn date_means_end_of_day() {
        let ms = parse_when("2026-12-01").unwrap();
        assert_eq!(format_rfc3339(ms).unwrap(), "2026-12-01T23:59:59Z");
        assert_eq!(format_table(ms), "2026-12-01 23:59");
    }

    #[test]
    fn date_time_forms() {
        assert_eq!(parse_when("1970-01-01T00:00:01Z").unwrap(), 1000);
        assert_eq!(parse_when("2026-06-15T08:30Z").unwrap(), parse_when("2026-06-15T08:30:00Z").unwrap());
        assert_eq!(
            format_rfc3339(parse_when("2026-06-15T08:30:05Z").unwrap()).unwrap(),
            "2026-06-15T08:30:05Z"
        );
        assert_eq!(parse_when(" 1767225599000 ").unwrap(), 1_767_225_599_000);
    }

    #[test]
    fn bad_input_is_rejected_with_a_reason() {
        for bad in [
            "",
            "tomorrow",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "2026-4-1",
            "26-04-01",
            "2026-04-01T10:00",
            "2026-04-01T24:00Z",
            "2026-04-01T10:60Z",
            "2026-04-01T10:00:60Z",
            "2026-04-01T1:00Z",
            "2026-04-01T10:00:00+02:00",
            "2026-04-01T",
            "-5",
            "0",
            "1960-01-01",
            "99999999999999999999",
            "２０２６-01-01",
        ] {
            assert!(parse_when(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(parse_when("2026-04-31").unwrap_err().contains("01-30"));
    }

    #[test]
    fn formatting() {
        assert_eq!(format_table(0), "-");
        assert_eq!(format_rfc3339(0), None);
        assert_eq!(format_rfc3339(1_500).unwrap(), "1970-01-01T00:00:01.500Z");
        assert_eq!(format_table(-60_000), "1969-12-31 23:59");
        assert_eq!(format_table(951_868_799_999), "2000-02-29 23:59");
    }

    #[test]
    fn millis_serialize_as_rfc3339_or_null() {
        assert_eq!(serde_json::to_string(&Millis(1000)).unwrap(), "\"1970-01-01T00:00:01Z\"");
        assert_eq!(serde_json::to_string(&Millis(0)).unwrap(), "null");
    }
}
