//! Writing HTML and SVG text safely: escaping, links with encoded queries, and the page
//! around a report.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};

/// Where the pages' stylesheet is served; the CSP allows styles from this origin only.
pub const STYLESHEET: &str = "/capabilities/pages/assets/report.css";

/// Text for an HTML or SVG text node or a quoted attribute value: the five characters that
/// could end a node or an attribute are written as references (HTML §13.1.4, XML §2.4).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` cut to `max` characters with an ellipsis, for labels that must fit a column; the
/// full text goes in the tooltip.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// A path segment with everything but RFC 3986 unreserved characters percent-encoded, so an
/// id holding `/`, `?` or `#` stays one segment.
pub fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// `path?name=value&…` with the values form-encoded (not yet HTML-escaped).
pub fn link(path: &str, pairs: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        query.append_pair(name, value);
    }
    let query = query.finish();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// The progression page of one person and capability up to `to`.
pub fn progression_link(person: &str, capability: &str, to: DateTime<Utc>) -> String {
    link(
        "/capabilities/pages/people/progression",
        &[
            ("person", person),
            ("capability", capability),
            ("to", &time(to)),
        ],
    )
}

/// The gap page of one person against a role at `as_of`.
pub fn gap_link(role: &str, person: &str, as_of: DateTime<Utc>) -> String {
    link(
        &format!("/capabilities/pages/roles/{}/gap", segment(role)),
        &[("person", person), ("as_of", &time(as_of))],
    )
}

/// A time as RFC 3339 in UTC.
pub fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A date for axis labels and tables.
pub fn date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// A whole page: `title` (plain text) and `body` (markup already escaped). No script and no
/// inline style, so the page works under `default-src 'none'`.
pub fn document(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<link rel=\"stylesheet\" href=\"{STYLESHEET}\">\n</head>\n\
         <body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        title = escape(title),
    )
}

/// A level for tables and labels: the number, or an en dash for none.
pub fn level_text(level: Option<capability_engine::Level>) -> String {
    level.map_or_else(|| "–".to_owned(), |l| l.to_string())
}
