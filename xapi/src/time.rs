//! ISO 8601 timestamps (Data §4.5) and durations (Data §4.6), parsed by hand because xAPI
//! accepts more than RFC 3339 (ISO 8601 basic format, missing seconds) yet must reject forms
//! chrono's parsers accept or reject differently (negative-zero offsets, week mixing).

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};

use crate::ValidationError;

/// Parses an xAPI Timestamp (Data §4.5, 9274.1.1 §4.2.7): an ISO 8601 combined date and time
/// in extended (`2015-11-18T12:17:00.123+01:00`) or basic (`20151118T121700Z`) format.
///
/// - Seconds and their fraction (`.` or `,`, any number of digits, kept to nanoseconds) are
///   optional; a leap second `:60` is accepted.
/// - The zone is `Z`, `±hh`, `±hh:mm` or `±hhmm`. A negative zero offset
///   (`-00`, `-00:00`, `-0000`, RFC 3339 §4.3 "unknown local offset") is rejected, as the
///   CTS expects (XAPI-00123 cases in `timestamps.js`).
/// - A missing zone is accepted (Data §4.5 only says a timestamp "SHOULD* include the time
///   zone") and read as UTC.
/// - A date without a time is not a timestamp and is rejected.
///
/// The error's path is empty: callers put the parameter name or JSON path there (see
/// [`ValidationError::at`]).
pub fn parse_timestamp(s: &str) -> Result<DateTime<FixedOffset>, ValidationError> {
    parse_timestamp_parts(s).map(|parts| parts.instant)
}

/// A parsed timestamp plus what the serialisation looked like, for [`to_utc_string`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimestampParts {
    pub(crate) instant: DateTime<FixedOffset>,
    /// `Z` or `+00:00`-style zone present (as opposed to a local time).
    pub(crate) zone: Zone,
    /// Digits of second fraction as sent (capped at 9 when rendering).
    pub(crate) fraction_digits: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Zone {
    Missing,
    Utc,
    Offset,
}

pub(crate) fn parse_timestamp_parts(s: &str) -> Result<TimestampParts, ValidationError> {
    let invalid = |why: &str| ValidationError {
        path: String::new(),
        rule: "invalid-timestamp",
        message: format!("{s:?} is not an iso 8601 timestamp: {why}"),
    };
    let mut cursor = Cursor {
        bytes: s.as_bytes(),
        at: 0,
    };

    let year = cursor
        .digits(4)
        .ok_or_else(|| invalid("expected a four-digit year"))?;
    let extended = cursor.eat(b'-');
    let month = cursor
        .digits(2)
        .ok_or_else(|| invalid("expected a two-digit month"))?;
    if extended && !cursor.eat(b'-') {
        return Err(invalid("expected '-' after the month"));
    }
    let day = cursor
        .digits(2)
        .ok_or_else(|| invalid("expected a two-digit day"))?;
    let date =
        NaiveDate::from_ymd_opt(year as i32, month, day).ok_or_else(|| invalid("no such date"))?;

    if !(cursor.eat(b'T') || cursor.eat(b't')) {
        return Err(invalid("expected 'T' and a time after the date"));
    }
    let hour = cursor
        .digits(2)
        .ok_or_else(|| invalid("expected a two-digit hour"))?;
    if extended && !cursor.eat(b':') {
        return Err(invalid("expected ':' after the hour"));
    }
    let minute = cursor
        .digits(2)
        .ok_or_else(|| invalid("expected two-digit minutes"))?;
    let mut second = 0;
    let mut nanos = 0;
    let mut fraction_digits = 0;
    let has_seconds = if extended {
        cursor.eat(b':')
    } else {
        cursor.peek().is_some_and(|b| b.is_ascii_digit())
    };
    if has_seconds {
        second = cursor
            .digits(2)
            .ok_or_else(|| invalid("expected two-digit seconds"))?;
        if cursor.eat(b'.') || cursor.eat(b',') {
            let start = cursor.at;
            while cursor.peek().is_some_and(|b| b.is_ascii_digit()) {
                let digit = u32::from(cursor.bytes[cursor.at] - b'0');
                let position = cursor.at - start;
                if position < 9 {
                    nanos += digit * 10u32.pow(8 - position as u32);
                }
                cursor.at += 1;
            }
            fraction_digits = cursor.at - start;
            if fraction_digits == 0 {
                return Err(invalid("expected digits after the decimal sign"));
            }
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err(invalid("time out of range"));
    }
    // chrono represents a leap second as second 59 with nanoseconds past 1e9.
    let time = if second == 60 {
        NaiveTime::from_hms_nano_opt(hour, minute, 59, 1_000_000_000 + nanos)
    } else {
        NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)
    }
    .ok_or_else(|| invalid("time out of range"))?;

    let (zone, offset_seconds) = match cursor.peek() {
        None => (Zone::Missing, 0),
        Some(b'Z' | b'z') => {
            cursor.at += 1;
            (Zone::Utc, 0)
        }
        Some(sign @ (b'+' | b'-')) => {
            cursor.at += 1;
            let hours = cursor
                .digits(2)
                .ok_or_else(|| invalid("expected a two-digit offset hour"))?;
            let minutes = if cursor.at == cursor.bytes.len() {
                0
            } else {
                // `±hh:mm` and `±hhmm` are both taken whatever the date format: clients
                // commonly mix them (e.g. Java's `Z` pattern) and the instant is unambiguous.
                cursor.eat(b':');
                cursor
                    .digits(2)
                    .ok_or_else(|| invalid("expected two-digit offset minutes"))?
            };
            if hours > 23 || minutes > 59 {
                return Err(invalid("offset out of range"));
            }
            if sign == b'-' && hours == 0 && minutes == 0 {
                return Err(invalid(
                    "a negative zero offset means an unknown local offset (rfc 3339 §4.3)",
                ));
            }
            let magnitude = (hours * 3600 + minutes * 60) as i32;
            (
                Zone::Offset,
                if sign == b'-' { -magnitude } else { magnitude },
            )
        }
        Some(_) => return Err(invalid("unexpected characters after the time")),
    };
    if cursor.at != cursor.bytes.len() {
        return Err(invalid("unexpected characters after the zone"));
    }
    let offset =
        FixedOffset::east_opt(offset_seconds).ok_or_else(|| invalid("offset out of range"))?;
    let instant = offset
        .from_local_datetime(&NaiveDateTime::new(date, time))
        .single()
        .ok_or_else(|| invalid("no such instant"))?;
    Ok(TimestampParts {
        instant,
        zone,
        fraction_digits,
    })
}

/// Renders the same instant in UTC (`…Z`), RFC 3339 extended format, keeping as many
/// fraction digits as were sent (up to nanoseconds).
pub(crate) fn to_utc_string(parts: &TimestampParts) -> String {
    let utc = parts.instant.naive_utc();
    let mut out = utc.format("%Y-%m-%dT%H:%M:%S").to_string();
    let digits = parts.fraction_digits.min(9);
    if digits > 0 {
        let nanos = parts.instant.timestamp_subsec_nanos() % 1_000_000_000;
        let all = format!("{nanos:09}");
        out.push('.');
        out.push_str(&all[..digits]);
    }
    out.push('Z');
    out
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn digits(&mut self, count: usize) -> Option<u32> {
        let slice = self.bytes.get(self.at..self.at + count)?;
        if !slice.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.at += count;
        Some(slice.iter().fold(0, |n, b| n * 10 + u32::from(b - b'0')))
    }
}

/// A component of an ISO 8601 duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DurationUnit {
    Years,
    Months,
    Weeks,
    Days,
    Hours,
    Minutes,
    Seconds,
}

/// An ISO 8601:2004 §4.4.3.2 duration (`PnYnMnDTnHnMnS` or `PnW`), component by component:
/// xAPI compares durations as written, not converted between units (Data §2.3.1 "the Result
/// Duration is considered a string"), except that precision beyond 0.01 s is ignored
/// (Data §4.6, 9274.1.1 §4.2.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct IsoDuration {
    pub years: u64,
    pub months: u64,
    pub weeks: u64,
    pub days: u64,
    pub hours: u64,
    pub minutes: u64,
    pub seconds: u64,
    /// The decimal fraction of the lowest-order component, in billionths (truncated).
    pub fraction_nanos: u32,
    /// Which component carries the fraction, if any.
    pub fraction_unit: Option<DurationUnit>,
}

impl IsoDuration {
    /// The same duration with the seconds fraction truncated to hundredths, which is what
    /// comparisons look at (9274.1.1 §4.2.7: "any precision beyond 0.01 second precision
    /// shall not be included in the comparison").
    pub fn truncated_to_hundredths(mut self) -> IsoDuration {
        if self.fraction_unit == Some(DurationUnit::Seconds) {
            self.fraction_nanos -= self.fraction_nanos % 10_000_000;
            if self.fraction_nanos == 0 {
                self.fraction_unit = None;
            }
        }
        self
    }

    /// An approximate length in seconds (a year is 365.25 days, a month 30.4375 days), for
    /// analytics only; xAPI itself never converts between units.
    pub fn approx_seconds(&self) -> f64 {
        const DAY: f64 = 86_400.0;
        let unit_seconds = |unit: DurationUnit| match unit {
            DurationUnit::Years => 365.25 * DAY,
            DurationUnit::Months => 30.4375 * DAY,
            DurationUnit::Weeks => 7.0 * DAY,
            DurationUnit::Days => DAY,
            DurationUnit::Hours => 3600.0,
            DurationUnit::Minutes => 60.0,
            DurationUnit::Seconds => 1.0,
        };
        let whole = self.years as f64 * unit_seconds(DurationUnit::Years)
            + self.months as f64 * unit_seconds(DurationUnit::Months)
            + self.weeks as f64 * unit_seconds(DurationUnit::Weeks)
            + self.days as f64 * DAY
            + self.hours as f64 * 3600.0
            + self.minutes as f64 * 60.0
            + self.seconds as f64;
        let fraction = self.fraction_unit.map_or(0.0, |unit| {
            f64::from(self.fraction_nanos) / 1e9 * unit_seconds(unit)
        });
        whole + fraction
    }
}

/// Parses an xAPI Duration (Data §4.6): ISO 8601:2004 §4.4.3.2 `PnYnMnDTnHnMnS`, with each
/// component optional but at least one present, components in order, a `T` only before time
/// components, a decimal fraction (`.` or `,`) only on the last component, or `PnW` alone
/// (Data §4.6: "weeks cannot be combined with other time periods. 'P4W1D' is not valid").
/// The §4.4.3.3 alternative format (`P0003-01-29T04:35:59`) and negative durations are
/// rejected. The error's path is empty (see [`ValidationError::at`]).
pub fn parse_duration(s: &str) -> Result<IsoDuration, ValidationError> {
    let invalid = |why: &str| ValidationError {
        path: String::new(),
        rule: "invalid-duration",
        message: format!("{s:?} is not an iso 8601 duration: {why}"),
    };
    let bytes = s.as_bytes();
    if bytes.first() != Some(&b'P') {
        return Err(invalid("it must start with 'P'"));
    }
    let mut duration = IsoDuration::default();
    let mut at = 1;
    let mut in_time = false;
    // Index of the last designator used, to enforce order: Y M W D | H M S.
    let mut last_rank = 0;
    let mut components = 0;
    let mut used_weeks = false;
    while at < bytes.len() {
        if bytes[at] == b'T' {
            if in_time {
                return Err(invalid("'T' appears twice"));
            }
            in_time = true;
            at += 1;
            if at == bytes.len() {
                return Err(invalid("'T' must be followed by a time component"));
            }
            continue;
        }
        if duration.fraction_unit.is_some() {
            return Err(invalid(
                "only the last component may have a decimal fraction",
            ));
        }
        let start = at;
        let mut whole: u64 = 0;
        while at < bytes.len() && bytes[at].is_ascii_digit() {
            whole = whole
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(bytes[at] - b'0')))
                .ok_or_else(|| invalid("a component is too large"))?;
            at += 1;
        }
        if at == start {
            return Err(invalid("expected a number"));
        }
        let mut fraction: Option<u32> = None;
        if at < bytes.len() && (bytes[at] == b'.' || bytes[at] == b',') {
            at += 1;
            let fraction_start = at;
            let mut nanos = 0u32;
            while at < bytes.len() && bytes[at].is_ascii_digit() {
                let position = at - fraction_start;
                if position < 9 {
                    nanos += u32::from(bytes[at] - b'0') * 10u32.pow(8 - position as u32);
                }
                at += 1;
            }
            if at == fraction_start {
                return Err(invalid("expected digits after the decimal sign"));
            }
            fraction = Some(nanos);
        }
        let Some(&designator) = bytes.get(at) else {
            return Err(invalid("a number must be followed by a designator"));
        };
        at += 1;
        let (rank, unit) = match (in_time, designator) {
            (false, b'Y') => (1, DurationUnit::Years),
            (false, b'M') => (2, DurationUnit::Months),
            (false, b'W') => (3, DurationUnit::Weeks),
            (false, b'D') => (4, DurationUnit::Days),
            (true, b'H') => (5, DurationUnit::Hours),
            (true, b'M') => (6, DurationUnit::Minutes),
            (true, b'S') => (7, DurationUnit::Seconds),
            _ => return Err(invalid("unexpected designator")),
        };
        if rank <= last_rank {
            return Err(invalid("components are out of order or repeated"));
        }
        last_rank = rank;
        components += 1;
        used_weeks |= unit == DurationUnit::Weeks;
        let slot = match unit {
            DurationUnit::Years => &mut duration.years,
            DurationUnit::Months => &mut duration.months,
            DurationUnit::Weeks => &mut duration.weeks,
            DurationUnit::Days => &mut duration.days,
            DurationUnit::Hours => &mut duration.hours,
            DurationUnit::Minutes => &mut duration.minutes,
            DurationUnit::Seconds => &mut duration.seconds,
        };
        *slot = whole;
        if let Some(nanos) = fraction {
            duration.fraction_nanos = nanos;
            duration.fraction_unit = Some(unit);
        }
    }
    if components == 0 {
        return Err(invalid("it has no components"));
    }
    if used_weeks && components > 1 {
        return Err(invalid("weeks cannot be combined with other components"));
    }
    Ok(duration)
}
