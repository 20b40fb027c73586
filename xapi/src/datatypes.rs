//! Format checks for xAPI's special string types (Data §4, IEEE 9274.1.1 §4.2.7): IRIs, UUIDs,
//! RFC 5646 language tags, mailto IRIs, SHA hashes, Internet media types and version strings.
//!
//! Each check is a pure `&str -> bool` so that statement validation and query-parameter
//! validation (Data §2.2: "validate parameter values to the same standards") share them.

/// An absolute IRI (RFC 3987 §2.2 `IRI = scheme ":" ihier-part ...`): a scheme, a colon and a
/// non-empty rest made only of characters an IRI may contain.
///
/// Data §2.2 requires rejecting "IRL or IRI values without a scheme" and allows best-effort
/// validation of the rest; this check rejects what can never appear in an IRI (spaces,
/// controls, `<>"{}|\^` and backquote, malformed percent-escapes) without parsing authorities.
pub fn is_absolute_iri(s: &str) -> bool {
    let Some(colon) = s.find(':') else {
        return false;
    };
    is_scheme(&s[..colon]) && !s[colon + 1..].is_empty() && iri_chars_ok(&s[colon + 1..])
}

/// An IRL is an IRI that is also a locator; xAPI gives it no extra syntax (Data §4.3), so the
/// same best-effort check applies.
pub fn is_irl(s: &str) -> bool {
    is_absolute_iri(s)
}

fn is_scheme(scheme: &str) -> bool {
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn iri_chars_ok(rest: &str) -> bool {
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            i += 3;
            continue;
        }
        if b.is_ascii() {
            let allowed = b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'.'
                        | b'_'
                        | b'~'
                        | b':'
                        | b'/'
                        | b'?'
                        | b'#'
                        | b'['
                        | b']'
                        | b'@'
                        | b'!'
                        | b'$'
                        | b'&'
                        | b'\''
                        | b'('
                        | b')'
                        | b'*'
                        | b'+'
                        | b','
                        | b';'
                        | b'='
                );
            if !allowed {
                return false;
            }
            i += 1;
        } else {
            // Non-ASCII: RFC 3987 `ucschar`/`iprivate` cover everything but controls and
            // whitespace-like characters, which no IRI contains.
            let Some(c) = rest[i..].chars().next() else {
                return false;
            };
            if c.is_control() || c.is_whitespace() {
                return false;
            }
            i += c.len_utf8();
        }
    }
    true
}

/// A UUID in the standard string form (Data §4.4 "UUIDs MUST be in the standard string form"):
/// `8-4-4-4-12` hex digits, either case. Variant and version are not enforced (the variant is
/// only recommended), and the braced, URN and simple forms `uuid::Uuid::parse_str` also
/// accepts are rejected.
pub fn is_uuid(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Parses a UUID in the standard string form.
pub(crate) fn uuid_from_str(s: &str) -> Option<uuid::Uuid> {
    if is_uuid(s) {
        uuid::Uuid::parse_str(s).ok()
    } else {
        None
    }
}

/// RFC 5646 irregular and regular grandfathered tags (§2.2.8), matched case-insensitively.
const GRANDFATHERED: &[&str] = &[
    "en-GB-oed",
    "i-ami",
    "i-bnn",
    "i-default",
    "i-enochian",
    "i-hak",
    "i-klingon",
    "i-lux",
    "i-mingo",
    "i-navajo",
    "i-pwn",
    "i-tao",
    "i-tay",
    "i-tsu",
    "sgn-BE-FR",
    "sgn-BE-NL",
    "sgn-CH-DE",
    "art-lojban",
    "cel-gaulish",
    "no-bok",
    "no-nyn",
    "zh-guoyu",
    "zh-hakka",
    "zh-min",
    "zh-min-nan",
    "zh-xiang",
];

/// An RFC 5646 language tag (`Language-Tag = langtag / privateuse / grandfathered`).
///
/// Data §2.2: "The LRS MUST at least validate that the sequence of token lengths for language
/// map keys matches the RFC 5646 standard". This follows the ABNF of RFC 5646 §2.1 (subtag
/// kinds, lengths and order); it does not consult the IANA registry.
pub fn is_language_tag(s: &str) -> bool {
    if s.is_empty() || !s.is_ascii() {
        return false;
    }
    if GRANDFATHERED.iter().any(|g| g.eq_ignore_ascii_case(s)) {
        return true;
    }
    let tags: Vec<&str> = s.split('-').collect();
    if tags
        .iter()
        .any(|t| t.is_empty() || t.len() > 8 || !t.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return false;
    }
    let alpha = |t: &str| t.bytes().all(|b| b.is_ascii_alphabetic());
    let digit = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let n = tags.len();
    if tags[0].eq_ignore_ascii_case("x") {
        return n > 1; // privateuse: "x" 1*("-" (1*8alphanum))
    }
    // language = 2*3ALPHA ["-" extlang] / 4ALPHA / 5*8ALPHA
    if !alpha(tags[0]) || tags[0].len() < 2 {
        return false;
    }
    let mut i = 1;
    if tags[0].len() <= 3 {
        // extlang = 3ALPHA *2("-" 3ALPHA)
        let mut extlangs = 0;
        while i < n && extlangs < 3 && tags[i].len() == 3 && alpha(tags[i]) {
            i += 1;
            extlangs += 1;
        }
    }
    // script = 4ALPHA
    if i < n && tags[i].len() == 4 && alpha(tags[i]) {
        i += 1;
    }
    // region = 2ALPHA / 3DIGIT
    if i < n && ((tags[i].len() == 2 && alpha(tags[i])) || (tags[i].len() == 3 && digit(tags[i]))) {
        i += 1;
    }
    // variant = 5*8alphanum / (DIGIT 3alphanum)
    while i < n
        && (tags[i].len() >= 5 || (tags[i].len() == 4 && tags[i].as_bytes()[0].is_ascii_digit()))
    {
        i += 1;
    }
    // extension = singleton 1*("-" (2*8alphanum))
    while i < n && tags[i].len() == 1 && !tags[i].eq_ignore_ascii_case("x") {
        i += 1;
        let start = i;
        while i < n && tags[i].len() >= 2 {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    // privateuse = "x" 1*("-" (1*8alphanum))
    if i < n && tags[i].eq_ignore_ascii_case("x") {
        return n > i + 1;
    }
    i == n
}

/// A `mailto:` IRI holding one e-mail address (Data §2.4.2.3: "The required format is
/// 'mailto:email address'"). The scheme must be written `mailto:` in lowercase as the spec
/// shows it; the address needs a non-empty local part and domain around a single `@`.
pub fn is_mbox(s: &str) -> bool {
    let Some(address) = s.strip_prefix("mailto:") else {
        return false;
    };
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !address.contains('?')
        && iri_chars_ok(address)
}

/// 40 hex digits: the SHA-1 of a mailto IRI (Data §2.4.2.3 `mbox_sha1sum`).
pub fn is_sha1_hex(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A hex SHA-2 digest (Data §2.4.11 `sha2`; Communication §1.5.2 matches attachment parts to
/// it): SHA-224, SHA-256, SHA-384 or SHA-512 length.
pub fn is_sha2_hex(s: &str) -> bool {
    matches!(s.len(), 56 | 64 | 96 | 128) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// An Internet media type (RFC 2046 / RFC 7231 §3.1.1.1): `type/subtype *(; name=value)`.
pub fn is_media_type(s: &str) -> bool {
    let mut parts = s.split(';');
    let Some(essence) = parts.next() else {
        return false;
    };
    let Some((kind, subtype)) = essence.trim_end().split_once('/') else {
        return false;
    };
    if !is_token(kind) || !is_token(subtype) {
        return false;
    }
    parts.all(|parameter| {
        let parameter = parameter.trim_matches(|c| c == ' ' || c == '\t');
        let Some((name, value)) = parameter.split_once('=') else {
            return false;
        };
        is_token(name) && (is_token(value) || is_quoted_string(value))
    })
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_byte)
}

/// A `tchar` of an HTTP token (RFC 9110 §5.6.2), as in media types and their parameters.
pub fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

fn is_quoted_string(s: &str) -> bool {
    s.len() >= 2
        && s.starts_with('"')
        && s.ends_with('"')
        && !s[1..s.len() - 1].chars().any(char::is_control)
}

/// A statement `version` property: `1.0` or `1.0.x` always (Data §2.4.10), and `2.0` or
/// `2.0.x` when the request speaks 2.0 (9274.1.1 §4.2.4.3 "shall retain the version they are
/// accepted with"; the 2.0 CTS accepts `1.0`, `1.0.9` and `2.0.0`, rejects `0.9.9`, `1.1.0`).
pub fn is_statement_version(s: &str, version: crate::Version) -> bool {
    let allowed_majors: &[&str] = match version {
        crate::Version::V1_0_3 => &["1.0"],
        crate::Version::V2_0_0 => &["1.0", "2.0"],
    };
    allowed_majors
        .iter()
        .any(|major| match s.strip_prefix(major) {
            Some("") => true,
            Some(rest) => rest.strip_prefix('.').is_some_and(is_number),
            None => false,
        })
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}
