//! Statement equivalence under xAPI's immutability rules (Data §2.3.1; 9274.1.1 §4.2
//! "Statement Immutability"), used for re-sent ids (Communication §2.1.1/§2.1.2) and signed
//! statements (Data §2.6).
//!
//! Both statements are reduced to a canonical form in which every difference the rules say to
//! ignore has been erased, and the forms are compared for equality:
//!
//! - `id`: compared (case-insensitively) only when both sides have one; the LRS assigns it.
//! - `authority`, `stored`, `version`: ignored; the LRS sets or overwrites them (§2.3.1 first
//!   exception; 9274.1.1 lists Authority, Stored and Version as not considered).
//! - `timestamp`: compared as an instant when both sides have one, ignored otherwise (the LRS
//!   fills it in; "serialization of timestamp data" is an exception). Inside a SubStatement it
//!   is the sender's, so it is always compared, as an instant.
//! - `attachments`: ignored (9274.1.1 "Any attachments"; a signed statement's JWS payload
//!   lacks the signature attachment the received statement carries, Data §2.6).
//! - Verb `display` and every Activity `definition` (object, context activities, SubStatement):
//!   ignored (§2.3.1 second and third exceptions).
//! - Group `member` order: ignored. Case-insensitive parts: the `mailto:` scheme and e-mail
//!   domain, `mbox_sha1sum` hex and UUIDs are lowercased.
//! - Defaults made explicit: a missing objectType is `Agent` for agents and `Activity` for an
//!   object; a single context activity equals an array of one (the LRS returns arrays, §2.4.6.2).
//! - `result.duration`: compared component by component (no unit conversion: "considered a
//!   string", §2.3.1), with seconds truncated to hundredths (Data §4.6, 9274.1.1 §4.2.7).
//! - Numbers: compared by value, so `1` equals `1.0`.

use serde_json::{Map, Number, Value};

use crate::terms::normalize_mbox;
use crate::time::{parse_duration, parse_timestamp_parts, to_utc_string};

pub(crate) fn equivalent(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    if let (Some(x), Some(y)) = (
        a.get("id").and_then(Value::as_str),
        b.get("id").and_then(Value::as_str),
    ) && !x.eq_ignore_ascii_case(y)
    {
        return false;
    }
    if let (Some(x), Some(y)) = (a.get("timestamp"), b.get("timestamp"))
        && canonical_timestamp(x) != canonical_timestamp(y)
    {
        return false;
    }
    canonical_statement(a, true) == canonical_statement(b, true)
}

fn canonical_timestamp(value: &Value) -> Value {
    match value.as_str().map(parse_timestamp_parts) {
        Some(Ok(mut parts)) => {
            parts.fraction_digits = 9;
            Value::String(to_utc_string(&parts))
        }
        _ => value.clone(),
    }
}

fn canonical_statement(stmt: &Map<String, Value>, top: bool) -> Value {
    let mut out = Map::new();
    for (key, value) in stmt {
        let canonical = match key.as_str() {
            "id" | "authority" | "stored" | "version" | "attachments" => continue,
            "timestamp" if top => continue,
            "timestamp" => canonical_timestamp(value),
            "actor" => canonical_agent(value),
            "verb" => keep_only(value, &["id"]),
            "object" => canonical_object(value),
            "result" => canonical_result(value),
            "context" => canonical_context(value),
            _ => canonical_numbers(value),
        };
        out.insert(key.clone(), canonical);
    }
    Value::Object(out)
}

fn keep_only(value: &Value, keys: &[&str]) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| keys.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn canonical_agent(value: &Value) -> Value {
    let Value::Object(map) = value else {
        return value.clone();
    };
    let mut out = Map::new();
    out.insert("objectType".to_owned(), Value::String("Agent".to_owned()));
    for (key, v) in map {
        let canonical = match (key.as_str(), v) {
            ("mbox", Value::String(s)) => Value::String(normalize_mbox(s)),
            ("mbox_sha1sum", Value::String(s)) => Value::String(s.to_ascii_lowercase()),
            ("member", Value::Array(members)) => {
                let mut list: Vec<Value> = members.iter().map(canonical_agent).collect();
                list.sort_by_cached_key(Value::to_string);
                Value::Array(list)
            }
            _ => canonical_numbers(v),
        };
        out.insert(key.clone(), canonical);
    }
    Value::Object(out)
}

fn canonical_activity(value: &Value) -> Value {
    let mut out = Map::new();
    out.insert(
        "objectType".to_owned(),
        Value::String("Activity".to_owned()),
    );
    if let Some(id) = value.get("id") {
        out.insert("id".to_owned(), id.clone());
    }
    Value::Object(out)
}

fn canonical_statement_ref(value: &Value) -> Value {
    let mut out = Map::new();
    out.insert(
        "objectType".to_owned(),
        Value::String("StatementRef".to_owned()),
    );
    if let Some(id) = value.get("id") {
        let id = id
            .as_str()
            .map_or_else(|| id.clone(), |s| Value::String(s.to_ascii_lowercase()));
        out.insert("id".to_owned(), id);
    }
    Value::Object(out)
}

fn canonical_object(value: &Value) -> Value {
    match value.get("objectType").and_then(Value::as_str) {
        None | Some("Activity") => canonical_activity(value),
        Some("Agent" | "Group") => canonical_agent(value),
        Some("StatementRef") => canonical_statement_ref(value),
        Some("SubStatement") => match value {
            Value::Object(map) => canonical_statement(map, false),
            other => other.clone(),
        },
        Some(_) => value.clone(),
    }
}

fn canonical_result(value: &Value) -> Value {
    let Value::Object(map) = value else {
        return value.clone();
    };
    let mut out = Map::new();
    for (key, v) in map {
        let canonical = match (key.as_str(), v) {
            ("duration", Value::String(s)) => match parse_duration(s) {
                Ok(duration) => Value::String(format!("{:?}", duration.truncated_to_hundredths())),
                Err(_) => v.clone(),
            },
            _ => canonical_numbers(v),
        };
        out.insert(key.clone(), canonical);
    }
    Value::Object(out)
}

fn canonical_context(value: &Value) -> Value {
    let Value::Object(map) = value else {
        return value.clone();
    };
    let mut out = Map::new();
    for (key, v) in map {
        let canonical = match (key.as_str(), v) {
            ("registration", Value::String(s)) => Value::String(s.to_ascii_lowercase()),
            ("instructor" | "team", _) => canonical_agent(v),
            ("statement", _) => canonical_statement_ref(v),
            ("contextActivities", Value::Object(kinds)) => Value::Object(
                kinds
                    .iter()
                    .map(|(kind, activities)| {
                        let list: Vec<Value> = match activities {
                            Value::Array(list) => list.iter().map(canonical_activity).collect(),
                            single => vec![canonical_activity(single)],
                        };
                        (kind.clone(), Value::Array(list))
                    })
                    .collect(),
            ),
            ("contextAgents" | "contextGroups", Value::Array(items)) => Value::Array(
                items
                    .iter()
                    .map(|item| match item {
                        Value::Object(entry) => Value::Object(
                            entry
                                .iter()
                                .map(|(k, x)| {
                                    let c = if k == "agent" || k == "group" {
                                        canonical_agent(x)
                                    } else {
                                        x.clone()
                                    };
                                    (k.clone(), c)
                                })
                                .collect(),
                        ),
                        other => other.clone(),
                    })
                    .collect(),
            ),
            _ => canonical_numbers(v),
        };
        out.insert(key.clone(), canonical);
    }
    Value::Object(out)
}

/// Every number as an f64, so that `1`, `1.0` and `1e0` compare equal.
fn canonical_numbers(value: &Value) -> Value {
    match value {
        Value::Number(n) => n
            .as_f64()
            .and_then(Number::from_f64)
            .map_or_else(|| value.clone(), Value::Number),
        Value::Array(list) => Value::Array(list.iter().map(canonical_numbers).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), canonical_numbers(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}
