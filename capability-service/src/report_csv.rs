//! Reports as CSV (RFC 4180): a header row, CRLF line ends, and a field quoted when it holds
//! a comma, a double quote, CR or LF, with its double quotes doubled (§2 rules 5–7).

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use capability_engine::report::Progression;
use capability_engine::{GapReport, Heatmap, Level};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::reports::StaleReports;

/// A CSV document: the header and the rows, each as long as the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Csv {
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

impl Csv {
    /// One row per requirement (a gap report against one role, or over every role held).
    pub fn gap(report: &GapReport) -> Csv {
        let header = vec![
            "person",
            "as_of",
            "capability",
            "name",
            "required",
            "required_by",
            "criticality",
            "weight",
            "achieved",
            "gap",
            "met",
            "confidence",
            "stale",
            "last_evidence_at",
        ];
        let rows = report
            .rows
            .iter()
            .map(|row| {
                vec![
                    report.person.to_string(),
                    time(report.as_of),
                    row.capability.to_string(),
                    row.name.clone(),
                    row.required.to_string(),
                    join(&row.required_by),
                    name(&row.criticality),
                    row.weight.get().to_string(),
                    level(row.achieved),
                    row.gap.to_string(),
                    row.met.to_string(),
                    row.confidence.to_string(),
                    row.stale.to_string(),
                    row.last_evidence_at.map(time).unwrap_or_default(),
                ]
            })
            .collect();
        Csv { header, rows }
    }

    /// One row per person and capability.
    pub fn heatmap(map: &Heatmap) -> Csv {
        let header = vec![
            "person",
            "as_of",
            "capability",
            "level",
            "evidence_level",
            "required",
            "gap",
            "confidence",
            "stale",
        ];
        let mut rows = Vec::new();
        for (person, cells) in map.people.iter().zip(&map.cells) {
            for (capability, cell) in map.capabilities.iter().zip(cells) {
                rows.push(vec![
                    person.to_string(),
                    time(map.as_of),
                    capability.to_string(),
                    level(cell.level),
                    level(cell.evidence_level),
                    level(cell.required),
                    cell.gap.map(|g| g.to_string()).unwrap_or_default(),
                    cell.confidence.to_string(),
                    cell.stale.to_string(),
                ]);
            }
        }
        Csv { header, rows }
    }

    /// One row per point of the progression (a date where something changed, and the span's
    /// ends).
    pub fn progression(progression: &Progression) -> Csv {
        let header = vec![
            "person",
            "capability",
            "at",
            "level",
            "evidence_level",
            "self_level",
            "manager_level",
            "confidence",
            "stale",
        ];
        let rows = progression
            .points
            .iter()
            .map(|p| {
                vec![
                    progression.person.to_string(),
                    progression.capability.to_string(),
                    time(p.at),
                    level(p.level),
                    level(p.evidence_level),
                    level(p.self_level),
                    level(p.manager_level),
                    p.confidence.to_string(),
                    p.stale.to_string(),
                ]
            })
            .collect();
        Csv { header, rows }
    }

    /// One row per reassessment due (`item` `reassessment`) and per stale evidence item
    /// (`item` `stale-evidence`), person by person.
    pub fn stale(reports: &StaleReports) -> Csv {
        let header = vec![
            "person",
            "as_of",
            "item",
            "capability",
            "reason",
            "due",
            "required",
            "required_by",
            "last_evidence_at",
            "statement",
            "rule",
            "level",
            "observed_at",
        ];
        let mut rows = Vec::new();
        for report in &reports.people {
            for r in &report.reassessments {
                rows.push(vec![
                    report.person.to_string(),
                    time(report.as_of),
                    "reassessment".to_owned(),
                    r.capability.to_string(),
                    name(&r.reason),
                    time(r.due),
                    r.required.to_string(),
                    join(&r.required_by),
                    r.last_evidence_at.map(time).unwrap_or_default(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ]);
            }
            for s in &report.stale_evidence {
                rows.push(vec![
                    report.person.to_string(),
                    time(report.as_of),
                    "stale-evidence".to_owned(),
                    s.capability.to_string(),
                    "stale".to_owned(),
                    time(s.half_life_passed_at),
                    String::new(),
                    String::new(),
                    String::new(),
                    s.statement.to_string(),
                    format!("{}@{}", s.rule.id, s.rule.version),
                    s.level.to_string(),
                    time(s.observed_at),
                ]);
            }
        }
        Csv { header, rows }
    }

    /// The document's text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        line(&mut out, self.header.iter().copied());
        for row in &self.rows {
            line(&mut out, row.iter().map(String::as_str));
        }
        out
    }
}

impl IntoResponse for Csv {
    fn into_response(self) -> Response {
        // RFC 4180 §3: the `text/csv` media type and its `header` parameter.
        let mut response = self.render().into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8; header=present"),
        );
        response
    }
}

fn line<'a>(out: &mut String, fields: impl Iterator<Item = &'a str>) {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&quote(field));
    }
    out.push_str("\r\n");
}

/// A field as RFC 4180 §2 writes it.
pub fn quote(field: &str) -> std::borrow::Cow<'_, str> {
    if field.contains([',', '"', '\r', '\n']) {
        std::borrow::Cow::Owned(format!("\"{}\"", field.replace('"', "\"\"")))
    } else {
        std::borrow::Cow::Borrowed(field)
    }
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn level(level: Option<Level>) -> String {
    level.map(|l| l.to_string()).unwrap_or_default()
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A unit enum's name as it serialises (`essential`, `becomes-stale`).
fn name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}
