//! Reading a commit payload: single values, and the records of a collection (interactions,
//! objectives) with their fields, as the SCO set them.

use std::collections::BTreeMap;

use crate::runtime::{CommitPayload, parse_cmi_timespan, parse_time_interval};
use crate::version::DataModel;

/// The fields of one collection record, by the element name after `cmi.<collection>.<n>.`.
pub(crate) type Fields = BTreeMap<String, String>;

/// The value the payload gives an element (each element appears once, in first-set order).
pub(crate) fn value<'a>(payload: &'a CommitPayload, element: &str) -> Option<&'a str> {
    payload
        .values
        .iter()
        .rev()
        .find(|v| v.element == element)
        .map(|v| v.value.as_str())
}

/// The records of `collection` (`cmi.interactions`, `cmi.objectives`) in a payload, by index.
pub(crate) fn records(payload: &CommitPayload, collection: &str) -> BTreeMap<usize, Fields> {
    let prefix = format!("{collection}.");
    let mut records: BTreeMap<usize, Fields> = BTreeMap::new();
    for entry in &payload.values {
        let Some(rest) = entry.element.strip_prefix(&prefix) else {
            continue;
        };
        let Some((index, field)) = rest.split_once('.') else {
            continue;
        };
        let Some(index) = parse_index(index) else {
            continue;
        };
        records
            .entry(index)
            .or_default()
            .insert(field.to_owned(), entry.value.clone());
    }
    records
}

/// One `cmi.interactions.n` record (SCORM 2004 RTE §4.2.9, SCORM 1.2 RTE §3.4.2).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Interaction<'a> {
    pub id: &'a str,
    pub kind: Option<&'a str>,
    /// `correct_responses.n.pattern`, by index.
    pub patterns: Vec<&'a str>,
    /// 2004 `learner_response`, 1.2 `student_response`.
    pub response: Option<&'a str>,
    pub result: Option<&'a str>,
    /// In centiseconds.
    pub latency: Option<u64>,
    /// 2004 only: a localized string.
    pub description: Option<&'a str>,
    /// `objectives.n.id`, by index.
    pub objectives: Vec<&'a str>,
}

impl<'a> Interaction<'a> {
    /// `None` without an `id`: a record the statement could not name.
    pub fn read(model: DataModel, fields: &'a Fields) -> Option<Self> {
        let get = |name: &str| fields.get(name).map(String::as_str);
        let response_field = match model {
            DataModel::Scorm12 => "student_response",
            DataModel::Scorm2004 => "learner_response",
        };
        let latency = get("latency").and_then(|text| match model {
            DataModel::Scorm12 => parse_cmi_timespan(text),
            DataModel::Scorm2004 => parse_time_interval(text),
        });
        Some(Interaction {
            id: get("id")?,
            kind: get("type"),
            patterns: indexed(fields, "correct_responses", "pattern"),
            response: get(response_field),
            result: get("result"),
            latency,
            description: get("description"),
            objectives: indexed(fields, "objectives", "id"),
        })
    }
}

/// `<list>.<n>.<field>` values of a record, in index order.
fn indexed<'a>(fields: &'a Fields, list: &str, field: &str) -> Vec<&'a str> {
    let prefix = format!("{list}.");
    let suffix = format!(".{field}");
    let mut found: Vec<(usize, &str)> = fields
        .iter()
        .filter_map(|(name, value)| {
            let index = name.strip_prefix(&prefix)?.strip_suffix(&suffix)?;
            Some((parse_index(index)?, value.as_str()))
        })
        .collect();
    found.sort_by_key(|(index, _)| *index);
    found.into_iter().map(|(_, value)| value).collect()
}

/// A CMIDecimal / real(10,7): digits with an optional sign and point, nothing else (no
/// exponent, no `inf`); "" (1.2 CMIBlank) is no number.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'-' || b == b'.');
    if !plain {
        return None;
    }
    text.parse::<f64>().ok().filter(|n| n.is_finite())
}

fn parse_index(text: &str) -> Option<usize> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}
