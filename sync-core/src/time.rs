//! Instants and the handful of text formats the two APIs use for them.
//!
//! sync-core never reads a clock: every instant here came in as input (the caller's `now`, a
//! `Date` header, a `Modified_Time` value). Formats:
//! - DAS data service: `2019-03-02T11:30:15Z` (UTC, second precision).
//! - Zoho CRM: `2026-11-25T17:36:00+09:00` (ISO 8601 with the API user's offset).
//! - HTTP: `Wed, 25 Nov 2026 08:36:31 GMT` (RFC 1123, the `Date` header).

use std::fmt;

use serde::{Deserialize, Serialize};

/// An instant: milliseconds since the Unix epoch, UTC.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The instant `ms` milliseconds later (saturating).
    #[must_use]
    pub fn plus_ms(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms))
    }

    /// Whole seconds since the epoch (floor).
    #[must_use]
    pub fn seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// Parses ISO 8601 / RFC 3339 with `Z` or a `±HH:MM` offset and optional fraction.
    #[must_use]
    pub fn parse_iso(s: &str) -> Option<Self> {
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() < 19 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return None;
        }
        if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') {
            return None;
        }
        let year = num(s, 0, 4)?;
        let month = num(s, 5, 7)?;
        let day = num(s, 8, 10)?;
        let hour = num(s, 11, 13)?;
        let minute = num(s, 14, 16)?;
        let second = num(s, 17, 19)?;
        let mut rest = &s[19..];
        let mut millis = 0i64;
        if let Some(frac) = rest.strip_prefix('.') {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            let padded = format!("{:0<3}", &frac[..digits.min(3)]);
            millis = padded.parse().ok()?;
            rest = &frac[digits..];
        }
        let offset_min = match rest {
            "Z" | "z" => 0,
            _ if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) => {
                let sign = if rest.starts_with('-') { -1 } else { 1 };
                let h = num(rest, 1, 3)?;
                let m = num(rest, 4, 6)?;
                if rest.as_bytes().get(3) != Some(&b':') {
                    return None;
                }
                sign * (h * 60 + m)
            }
            _ => return None,
        };
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_min * 60;
        Some(Self(secs * 1000 + millis))
    }

    /// Parses an RFC 1123 HTTP date (`Wed, 25 Nov 2026 08:36:31 GMT`).
    #[must_use]
    pub fn parse_http_date(s: &str) -> Option<Self> {
        let mut parts = s.split_whitespace();
        let _weekday = parts.next()?;
        let day: i64 = parts.next()?.parse().ok()?;
        let month_name = parts.next()?;
        let year: i64 = parts.next()?.parse().ok()?;
        let clock = parts.next()?;
        if parts.next()? != "GMT" {
            return None;
        }
        let month = MONTHS
            .iter()
            .position(|m| m.eq_ignore_ascii_case(month_name))? as i64
            + 1;
        let iso = format!("{year:04}-{month:02}-{day:02}T{clock}Z");
        Self::parse_iso(&iso)
    }

    /// `2019-03-02T11:30:15Z`: the DAS data-service format (second precision).
    #[must_use]
    pub fn to_das(self) -> String {
        self.to_offset(0).replace("+00:00", "Z")
    }

    /// ISO 8601 at a fixed offset in minutes, second precision: `2026-11-25T17:36:00+09:00`.
    #[must_use]
    pub fn to_offset(self, offset_min: i32) -> String {
        let local = self.seconds() + i64::from(offset_min) * 60;
        let (y, mo, d) = civil_from_days(local.div_euclid(86_400));
        let sod = local.rem_euclid(86_400);
        let sign = if offset_min < 0 { '-' } else { '+' };
        let off = offset_min.unsigned_abs();
        format!(
            "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
            sod / 3600,
            sod % 3600 / 60,
            sod % 60,
            off / 60,
            off % 60
        )
    }

    /// The RFC 1123 form used by HTTP headers.
    #[must_use]
    pub fn to_http_date(self) -> String {
        let secs = self.seconds();
        let days = secs.div_euclid(86_400);
        let (y, mo, d) = civil_from_days(days);
        let sod = secs.rem_euclid(86_400);
        // 1970-01-01 was a Thursday.
        let weekday = WEEKDAYS[usize::try_from((days + 4).rem_euclid(7)).unwrap_or(0)];
        let month = MONTHS[usize::try_from(mo - 1).unwrap_or(0)];
        format!(
            "{weekday}, {d:02} {month} {y:04} {:02}:{:02}:{:02} GMT",
            sod / 3600,
            sod % 3600 / 60,
            sod % 60
        )
    }

    /// The UTC calendar date, `YYYY-MM-DD`.
    #[must_use]
    pub fn date_utc(self) -> String {
        let (y, mo, d) = civil_from_days(self.seconds().div_euclid(86_400));
        format!("{y:04}-{mo:02}-{d:02}")
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_das())
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

fn num(s: &str, from: usize, to: usize) -> Option<i64> {
    let part = s.get(from..to)?;
    if !part.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
#[must_use]
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
#[must_use]
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_das_and_zoho_forms_to_the_same_instant() {
        let das = Timestamp::parse_iso("2026-11-25T08:36:00Z").unwrap();
        let zoho = Timestamp::parse_iso("2026-11-25T17:36:00+09:00").unwrap();
        let ny = Timestamp::parse_iso("2026-11-25T03:36:00-05:00").unwrap();
        assert_eq!(das, zoho);
        assert_eq!(das, ny);
        assert_eq!(das.to_das(), "2026-11-25T08:36:00Z");
        assert_eq!(das.to_offset(540), "2026-11-25T17:36:00+09:00");
        assert_eq!(das.to_offset(-300), "2026-11-25T03:36:00-05:00");
    }

    #[test]
    fn http_dates_round_trip() {
        let t = Timestamp::parse_http_date("Wed, 25 Nov 2026 08:36:31 GMT").unwrap();
        assert_eq!(t.to_das(), "2026-11-25T08:36:31Z");
        assert_eq!(t.to_http_date(), "Wed, 25 Nov 2026 08:36:31 GMT");
        assert_eq!(Timestamp(0).to_http_date(), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn rejects_malformed_input() {
        for bad in [
            "",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-11-25 08:36",
            "x",
        ] {
            assert_eq!(Timestamp::parse_iso(bad), None, "{bad}");
        }
        assert_eq!(
            Timestamp::parse_http_date("Wed, 25 Nov 2026 08:36:31 PST"),
            None
        );
    }

    #[test]
    fn fractions_and_leap_days() {
        let t = Timestamp::parse_iso("2024-02-29T23:59:59.5Z").unwrap();
        assert_eq!(t.0 % 1000, 500);
        assert_eq!(t.date_utc(), "2024-02-29");
    }
}
