//! The value types of both run-time data models, as pure checks and parsers.
//!
//! SCORM 1.2 RTE §3.4 "Data types" (CMIString255/4096, CMIIdentifier, CMIDecimal, CMISInteger,
//! CMITimespan, CMITime, CMIFeedback) and SCORM 2004 RTE §4.1.1 "Data types" (characterstring,
//! localized_string_type, long/short_identifier_type, real(10,7), timeinterval(second,10,2),
//! time(second,10,0), language_type).

/// Why a value was refused: the wrong shape, or the right shape outside the allowed range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeFault {
    Mismatch,
    Range,
}

pub(crate) type Check = Result<(), TypeFault>;

/// Centiseconds: both versions count time in hundredths of a second.
pub type Centiseconds = u64;

// ---------------------------------------------------------------------------------------------
// Numbers

/// A decimal number without exponent: `-12`, `3.5`, `.5`, `5.` (CMIDecimal, real(10,7)).
pub(crate) fn parse_real(value: &str) -> Option<f64> {
    let digits = value.strip_prefix('-').unwrap_or(value);
    let (whole, fraction) = match digits.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (digits, None),
    };
    let whole_ok = whole.chars().all(|c| c.is_ascii_digit());
    let fraction_ok = fraction.is_none_or(|f| f.chars().all(|c| c.is_ascii_digit()));
    let some_digit = !whole.is_empty() || fraction.is_some_and(|f| !f.is_empty());
    if !(whole_ok && fraction_ok && some_digit) {
        return None;
    }
    value.parse::<f64>().ok().filter(|v| v.is_finite())
}

pub(crate) fn real_in(value: &str, min: Option<f64>, max: Option<f64>) -> Check {
    let number = parse_real(value).ok_or(TypeFault::Mismatch)?;
    if min.is_some_and(|m| number < m) || max.is_some_and(|m| number > m) {
        return Err(TypeFault::Range);
    }
    Ok(())
}

/// CMISInteger: a signed whole number in `min..=max`.
pub(crate) fn integer_in(value: &str, min: i64, max: i64) -> Check {
    let digits = value.strip_prefix('-').unwrap_or(value);
    if digits.is_empty() || digits.len() > 18 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(TypeFault::Mismatch);
    }
    let number: i64 = value.parse().map_err(|_| TypeFault::Mismatch)?;
    if number < min || number > max {
        Err(TypeFault::Range)
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Strings and identifiers

pub(crate) fn chars(value: &str) -> usize {
    value.chars().count()
}

/// SCORM 1.2 CMIIdentifier: "no white space or unprintable characters", at most 255.
pub(crate) fn cmi_identifier(value: &str) -> Check {
    let printable = value.chars().all(|c| !c.is_whitespace() && !c.is_control());
    if value.is_empty() || !printable || chars(value) > 255 {
        Err(TypeFault::Mismatch)
    } else {
        Ok(())
    }
}

/// SCORM 2004 long/short_identifier_type: a URI (RFC 3986); a URN must follow RFC 2141.
/// `strict` also refuses white space, which no URI contains but some content puts in ids.
pub(crate) fn identifier(value: &str, strict: bool) -> Check {
    if value.is_empty() || value.chars().any(char::is_control) {
        return Err(TypeFault::Mismatch);
    }
    if strict && value.chars().any(char::is_whitespace) {
        return Err(TypeFault::Mismatch);
    }
    match value.get(..4) {
        Some(scheme) if scheme.eq_ignore_ascii_case("urn:") => urn(&value[4..]),
        _ => Ok(()),
    }
}

fn urn(rest: &str) -> Check {
    let (nid, nss) = rest.split_once(':').ok_or(TypeFault::Mismatch)?;
    let nid_ok = !nid.is_empty()
        && nid.len() <= 32
        && nid.starts_with(|c: char| c.is_ascii_alphanumeric())
        && nid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !nid.eq_ignore_ascii_case("urn");
    let nss_ok = !nss.is_empty()
        && nss
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "()+,-.:=@;$_!*'%/?#".contains(c));
    if nid_ok && nss_ok {
        Ok(())
    } else {
        Err(TypeFault::Mismatch)
    }
}

/// language_type (RFC 3066 as RTE §4.1.1.x uses it): `en`, `en-US`, `i-klingon`, `x-private`;
/// `allow_empty` for `cmi.learner_preference.language`.
pub(crate) fn language(value: &str, allow_empty: bool) -> Check {
    if value.is_empty() {
        return if allow_empty {
            Ok(())
        } else {
            Err(TypeFault::Mismatch)
        };
    }
    let mut parts = value.split('-');
    let primary = parts.next().unwrap_or_default();
    let primary_ok = (2..=3).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        || primary.eq_ignore_ascii_case("i")
        || primary.eq_ignore_ascii_case("x");
    let rest_ok =
        parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if primary_ok && rest_ok {
        Ok(())
    } else {
        Err(TypeFault::Mismatch)
    }
}

/// Splits a localized_string_type into its optional `{lang=…}` and its text; a malformed or
/// unknown language is a mismatch (RTE §4.1.1.x).
pub(crate) fn localized(value: &str) -> Result<(Option<&str>, &str), TypeFault> {
    let Some(rest) = value.strip_prefix("{lang=") else {
        return Ok((None, value));
    };
    let (lang, text) = rest.split_once('}').ok_or(TypeFault::Mismatch)?;
    language(lang, false)?;
    Ok((Some(lang), text))
}

// ---------------------------------------------------------------------------------------------
// SCORM 1.2 time types

/// CMITimespan `HHHH:MM:SS.SS`: 2–4 hour digits, minutes and seconds below 60, up to two
/// decimals. Returns centiseconds.
pub fn parse_cmi_timespan(value: &str) -> Option<Centiseconds> {
    let mut parts = value.split(':');
    let (hours, minutes, seconds) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !(2..=4).contains(&hours.len()) || minutes.len() != 2 {
        return None;
    }
    let hours = digits(hours)?;
    let minutes = digits(minutes)?;
    let seconds = seconds_centis(seconds, 2)?;
    (minutes < 60 && seconds < 6000).then_some(hours * 360_000 + minutes * 6_000 + seconds)
}

/// CMITime `HH:MM:SS.SS`, a time of day.
pub(crate) fn cmi_time(value: &str) -> Check {
    let mut parts = value.split(':');
    let (Some(h), Some(m), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TypeFault::Mismatch);
    };
    if h.len() != 2 || m.len() != 2 {
        return Err(TypeFault::Mismatch);
    }
    let (h, m, s) = (digits(h), digits(m), seconds_centis(s, 2));
    match (h, m, s) {
        (Some(h), Some(m), Some(s)) if h < 24 && m < 60 && s < 6000 => Ok(()),
        (Some(_), Some(_), Some(_)) => Err(TypeFault::Range),
        _ => Err(TypeFault::Mismatch),
    }
}

/// Formats centiseconds as a CMITimespan (`0012:04:05.30`), saturating at 9999 hours.
pub fn format_cmi_timespan(total: Centiseconds) -> String {
    let max = 9999 * 360_000 + 59 * 6_000 + 5_999;
    let total = total.min(max);
    let (hours, rest) = (total / 360_000, total % 360_000);
    let (minutes, rest) = (rest / 6_000, rest % 6_000);
    format!(
        "{hours:04}:{minutes:02}:{:02}.{:02}",
        rest / 100,
        rest % 100
    )
}

fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `SS`, `SS.S`, `SS.SS` (two integer digits), in centiseconds; `max_decimals` bounds the
/// fraction (further digits are truncated when allowed).
fn seconds_centis(text: &str, max_decimals: usize) -> Option<u64> {
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    if whole.len() != 2 {
        return None;
    }
    let whole = digits(whole)?;
    let centis = match fraction {
        None => 0,
        Some(f)
            if !f.is_empty()
                && f.len() <= max_decimals
                && f.chars().all(|c| c.is_ascii_digit()) =>
        {
            fraction_centis(f)
        }
        Some(_) => return None,
    };
    Some(whole * 100 + centis)
}

fn fraction_centis(fraction: &str) -> u64 {
    let mut padded: String = fraction.chars().take(2).collect();
    while padded.len() < 2 {
        padded.push('0');
    }
    padded.parse().unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// SCORM 2004 time types

/// timeinterval(second,10,2): ISO 8601 `P[yY][mM][dD][T[hH][mM][s[.s]S]]`, no weeks, at least
/// one component, `T` only before a time component. Returns centiseconds; years count 365
/// days and months 30 (the RTE gives no calendar to a duration).
pub fn parse_time_interval(value: &str) -> Option<Centiseconds> {
    let rest = value.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((date, time)) => {
            if time.is_empty() {
                return None;
            }
            (date, Some(time))
        }
        None => (rest, None),
    };
    let mut total: u64 = 0;
    let mut any = false;
    let date_units: [(char, u64); 3] = [
        ('Y', 365 * 8_640_000),
        ('M', 30 * 8_640_000),
        ('D', 8_640_000),
    ];
    let time_units: [(char, u64); 3] = [('H', 360_000), ('M', 6_000), ('S', 100)];
    for (part, units, fraction_unit) in [
        (date, &date_units, None),
        (time.unwrap_or(""), &time_units, Some('S')),
    ] {
        let mut remaining = part;
        let mut next_unit = 0;
        while !remaining.is_empty() {
            let end = remaining.find(|c: char| !c.is_ascii_digit() && c != '.')?;
            let (number, tail) = remaining.split_at(end);
            let unit = tail.chars().next()?;
            let position = units.iter().position(|(u, _)| *u == unit)?;
            if position < next_unit || number.is_empty() {
                return None;
            }
            next_unit = position + 1;
            let scale = units[position].1;
            let amount = match number.split_once('.') {
                Some((whole, fraction)) => {
                    if Some(unit) != fraction_unit
                        || whole.is_empty()
                        || fraction.is_empty()
                        || !fraction.chars().all(|c| c.is_ascii_digit())
                    {
                        return None;
                    }
                    saturating_number(whole)
                        .saturating_mul(scale)
                        .saturating_add(fraction_centis(fraction))
                }
                None => saturating_number(number).saturating_mul(scale),
            };
            total = total.saturating_add(amount);
            any = true;
            remaining = &tail[unit.len_utf8()..];
        }
    }
    any.then_some(total)
}

fn saturating_number(digits: &str) -> u64 {
    digits.bytes().fold(0u64, |acc, d| {
        acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    })
}

/// Formats centiseconds as a timeinterval: `PT1H2M3.45S`, `PT0H0M0S`.
pub fn format_time_interval(total: Centiseconds) -> String {
    let (hours, rest) = (total / 360_000, total % 360_000);
    let (minutes, rest) = (rest / 6_000, rest % 6_000);
    let (seconds, centis) = (rest / 100, rest % 100);
    if centis == 0 {
        format!("PT{hours}H{minutes}M{seconds}S")
    } else {
        format!("PT{hours}H{minutes}M{seconds}.{centis:02}S")
    }
}

/// time(second,10,0): `YYYY[-MM[-DD[Thh[:mm[:ss[.s][TZD]]]]]]`, years 1970–2038 (RTE
/// §4.1.1.x). `TZD` is `Z`, `±hh` or `±hh:mm`. Fractional seconds may have any number of
/// digits unless `strict` (then one or two, as the RTE writes `s[.s]`).
pub(crate) fn time(value: &str, strict: bool) -> Check {
    let bytes = value.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let slice = value.get(from..from + len)?;
        if slice.bytes().all(|b| b.is_ascii_digit()) {
            slice.parse().ok()
        } else {
            None
        }
    };
    let year = num(0, 4).ok_or(TypeFault::Mismatch)?;
    let mut at = 4;
    let mut range_ok = (1970..=2038).contains(&year);
    let mut month = 1;
    let mut fields = 0;
    // Date: -MM, -DD; time: Thh, :mm, :ss
    for (separator, max) in [
        (b'-', 12u32),
        (b'-', 31),
        (b'T', 23),
        (b':', 59),
        (b':', 59),
    ] {
        if at == bytes.len() {
            return if range_ok {
                Ok(())
            } else {
                Err(TypeFault::Range)
            };
        }
        if bytes[at] != separator {
            break;
        }
        let field = num(at + 1, 2).ok_or(TypeFault::Mismatch)?;
        fields += 1;
        range_ok &= match fields {
            1 => {
                month = field;
                (1..=12).contains(&field)
            }
            2 => (1..=days_in_month(year, month)).contains(&field),
            _ => field <= max,
        };
        at += 3;
    }
    let mut rest = &value[at..];
    if fields == 5
        && let Some(fraction) = rest.strip_prefix('.')
    {
        let end = fraction
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(fraction.len());
        if end == 0 || (strict && end > 2) {
            return Err(TypeFault::Mismatch);
        }
        rest = &fraction[end..];
    }
    if !rest.is_empty() {
        // A time zone designator only follows a time of day.
        if fields < 3 {
            return Err(TypeFault::Mismatch);
        }
        range_ok &= time_zone(rest)?;
    }
    if range_ok {
        Ok(())
    } else {
        Err(TypeFault::Range)
    }
}

fn time_zone(tzd: &str) -> Result<bool, TypeFault> {
    if tzd == "Z" {
        return Ok(true);
    }
    let sign_less = tzd.strip_prefix(['+', '-']).ok_or(TypeFault::Mismatch)?;
    let (hours, minutes) = match sign_less.split_once(':') {
        Some((h, m)) => (h, Some(m)),
        None => (sign_less, None),
    };
    if hours.len() != 2 || minutes.is_some_and(|m| m.len() != 2) {
        return Err(TypeFault::Mismatch);
    }
    let hours = digits(hours).ok_or(TypeFault::Mismatch)?;
    let minutes = match minutes {
        Some(m) => digits(m).ok_or(TypeFault::Mismatch)?,
        None => 0,
    };
    Ok(hours <= 23 && minutes <= 59)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmi_timespans() {
        assert_eq!(parse_cmi_timespan("00:00:00"), Some(0));
        assert_eq!(parse_cmi_timespan("0001:02:03.4"), Some(372_340));
        assert_eq!(
            parse_cmi_timespan("9999:59:59.99"),
            Some(9999 * 360_000 + 359_999)
        );
        for bad in [
            "0:00:00",
            "00000:00:00",
            "00:60:00",
            "00:00:60",
            "00:00:00.123",
            "00:00",
            "aa:bb:cc",
            "00:00:00.",
        ] {
            assert_eq!(parse_cmi_timespan(bad), None, "{bad}");
        }
        assert_eq!(format_cmi_timespan(372_340), "0001:02:03.40");
    }

    #[test]
    fn time_intervals() {
        assert_eq!(
            parse_time_interval("PT1H5M3.25S"),
            Some(360_000 + 30_000 + 325)
        );
        assert_eq!(parse_time_interval("P1D"), Some(8_640_000));
        assert_eq!(parse_time_interval("PT75M"), Some(450_000));
        assert_eq!(parse_time_interval("P0Y0M0DT0H0M0S"), Some(0));
        for bad in [
            "", "P", "PT", "P1W", "PT1.5M", "P1H", "PT1D", "1H", "PT-1S", "PT1S2M", "P1Y1Y", "PTS",
            "PT1.S",
        ] {
            assert_eq!(parse_time_interval(bad), None, "{bad}");
        }
        assert_eq!(format_time_interval(360_000 + 30_000 + 325), "PT1H5M3.25S");
        assert_eq!(format_time_interval(0), "PT0H0M0S");
    }

    #[test]
    fn times() {
        for good in [
            "2005",
            "2005-10",
            "2005-10-11",
            "2005-10-11T10",
            "2005-10-11T10:11",
            "2005-10-11T10:11:12",
            "2005-10-11T10:11:12.5",
            "2005-10-11T10:11:12.123Z",
            "2005-10-11T10:11:12+05:30",
            "2005-10-11T10-05",
            "2004-02-29",
        ] {
            assert_eq!(time(good, false), Ok(()), "{good}");
        }
        assert_eq!(
            time("2005-10-11T10:11:12.123Z", true),
            Err(TypeFault::Mismatch)
        );
        for (bad, fault) in [
            ("1969-01-01", TypeFault::Range),
            ("2039", TypeFault::Range),
            ("2005-13", TypeFault::Range),
            ("2005-02-29", TypeFault::Range),
            ("2005-10-11T24", TypeFault::Range),
            ("05-10-11", TypeFault::Mismatch),
            ("2005/10/11", TypeFault::Mismatch),
            ("2005-10-11Z", TypeFault::Mismatch),
            ("2005-10-11T10:11:12.", TypeFault::Mismatch),
            ("", TypeFault::Mismatch),
        ] {
            assert_eq!(time(bad, false), Err(fault), "{bad}");
        }
    }

    #[test]
    fn identifiers_and_languages() {
        assert_eq!(identifier("urn:ADL:interaction-id-0001", true), Ok(()));
        assert_eq!(identifier("Question_1", true), Ok(()));
        assert_eq!(identifier("urn:", false), Err(TypeFault::Mismatch));
        assert_eq!(identifier("urn:x", false), Err(TypeFault::Mismatch));
        assert_eq!(identifier("urn:bad nid:x", false), Err(TypeFault::Mismatch));
        assert_eq!(identifier("", false), Err(TypeFault::Mismatch));
        assert_eq!(identifier("has space", false), Ok(()));
        assert_eq!(identifier("has space", true), Err(TypeFault::Mismatch));
        // Found by the property tests: a multi-byte character across byte 4.
        assert_eq!(identifier("abc\u{e9}d", true), Ok(()));
        assert_eq!(language("en-US", false), Ok(()));
        assert_eq!(language("i-klingon", false), Ok(()));
        assert_eq!(language("english", false), Err(TypeFault::Mismatch));
        assert_eq!(localized("{lang=fr}Bonjour"), Ok((Some("fr"), "Bonjour")));
        assert_eq!(localized("{lang=}x"), Err(TypeFault::Mismatch));
        assert_eq!(localized("{other}x"), Ok((None, "{other}x")));
        assert_eq!(parse_real(".5"), Some(0.5));
        assert_eq!(parse_real("1e5"), None);
        assert_eq!(parse_real("-"), None);
        assert_eq!(parse_real("."), None);
        assert_eq!(integer_in("-1", -1, 100), Ok(()));
        assert_eq!(integer_in("101", -1, 100), Err(TypeFault::Range));
        assert_eq!(integer_in("1.5", -1, 100), Err(TypeFault::Mismatch));
    }
}
