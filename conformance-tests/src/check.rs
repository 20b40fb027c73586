//! Assertions over xAPI data shared by the cases: timestamps, UUIDs, id sets and the
//! statement comparison rules of Data 2.3.1.

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use crate::harness::CaseResult;

/// Fails with `message` unless `condition` holds.
pub fn ensure(condition: bool, message: impl FnOnce() -> String) -> CaseResult {
    if condition { Ok(()) } else { Err(message()) }
}

/// Parses an ISO 8601 combined date and time. The suite reads the RFC 3339 profile of
/// ISO 8601, which every example in the spec uses.
pub fn timestamp(text: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(text)
        .map_err(|e| format!("{text:?} is not an ISO 8601 combined date and time: {e}"))
}

/// The `stored` property of a statement as an instant.
pub fn stored_of(statement: &Value) -> Result<DateTime<FixedOffset>, String> {
    let text = statement
        .get("stored")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("statement has no string \"stored\" (Data 2.4.8): {statement}"))?;
    timestamp(text)
}

/// The `stored` text of a statement, exactly as the LRS returned it.
pub fn stored_text(statement: &Value) -> Result<String, String> {
    statement
        .get("stored")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("statement has no string \"stored\" (Data 2.4.8): {statement}"))
}

/// Standard-form UUID: 8-4-4-4-12 hex digits (Data 4.4; RFC 4122).
pub fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    groups.len() == lengths.len()
        && groups
            .iter()
            .zip(lengths)
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Fails unless `got` holds exactly the ids in `expected`, in that order.
pub fn same_ids_in_order(what: &str, got: &[String], expected: &[String]) -> CaseResult {
    ensure(got == expected, || {
        format!("{what}: expected ids {expected:?}, got {got:?}")
    })
}

/// Fails unless `got` holds exactly the ids in `expected`, each once, in any order.
pub fn same_id_set(what: &str, got: &[String], expected: &[String]) -> CaseResult {
    let mut got_sorted = got.to_vec();
    got_sorted.sort();
    let mut expected_sorted = expected.to_vec();
    expected_sorted.sort();
    ensure(got_sorted == expected_sorted, || {
        format!("{what}: expected exactly {expected:?} (any order), got {got:?}")
    })
}

/// Compares a statement the client sent with the one the LRS returned, applying the
/// immutability exceptions of Data 2.3.1: `id`, `authority`, `stored`, `timestamp` and
/// `version` may be assigned by the LRS; timestamps compare as instants; Group members are
/// unordered; numbers compare by value. Everything else must come back unaltered.
pub fn statement_round_trip(sent: &Value, got: &Value) -> CaseResult {
    let (Some(sent_map), Some(got_map)) = (sent.as_object(), got.as_object()) else {
        return Err(format!("expected statement objects, got {got}"));
    };
    const ASSIGNED: [&str; 5] = ["id", "authority", "stored", "timestamp", "version"];
    for (key, value) in got_map {
        if !sent_map.contains_key(key) && !ASSIGNED.contains(&key.as_str()) {
            return Err(format!("the LRS added property {key:?} = {value}"));
        }
    }
    for (key, sent_value) in sent_map {
        let Some(got_value) = got_map.get(key) else {
            return Err(format!("property {key:?} was dropped (sent {sent_value})"));
        };
        match key.as_str() {
            // Only the submitted authority may be replaced (Data 2.4.9) and stored is
            // always overwritten (Data 2.4.8).
            "authority" | "stored" => {}
            "timestamp" => same_instant("timestamp", sent_value, got_value)?,
            _ => equivalent(&format!("/{key}"), sent_value, got_value)?,
        }
    }
    Ok(())
}

fn same_instant(path: &str, sent: &Value, got: &Value) -> CaseResult {
    let (Some(sent_text), Some(got_text)) = (sent.as_str(), got.as_str()) else {
        return Err(format!(
            "{path}: expected timestamp strings, sent {sent}, got {got}"
        ));
    };
    let sent_time = timestamp(sent_text)?;
    let got_time = timestamp(got_text)?;
    ensure(sent_time == got_time, || {
        format!("{path}: sent {sent_text}, got {got_text} (a different instant)")
    })
}

/// Deep JSON equivalence: numbers by value, `member` arrays as multisets, nested
/// `timestamp`s (in SubStatements) as instants, everything else exactly.
pub fn equivalent(path: &str, sent: &Value, got: &Value) -> CaseResult {
    match (sent, got) {
        (Value::Number(a), Value::Number(b)) => {
            let same = match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => x == y,
                _ => a == b,
            };
            ensure(same, || format!("{path}: sent {a}, got {b}"))
        }
        (Value::Object(a), Value::Object(b)) => {
            for key in b.keys() {
                if !a.contains_key(key) {
                    return Err(format!("{path}: the LRS added property {key:?}"));
                }
            }
            for (key, a_value) in a {
                let child = format!("{path}/{key}");
                let Some(b_value) = b.get(key) else {
                    return Err(format!("{child}: dropped (sent {a_value})"));
                };
                if key == "timestamp" && a_value.is_string() {
                    same_instant(&child, a_value, b_value)?;
                } else if key == "member" {
                    same_multiset(&child, a_value, b_value)?;
                } else {
                    equivalent(&child, a_value, b_value)?;
                }
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(b)) => {
            ensure(a.len() == b.len(), || {
                format!("{path}: sent {} items, got {} ({got})", a.len(), b.len())
            })?;
            for (index, (x, y)) in a.iter().zip(b).enumerate() {
                equivalent(&format!("{path}/{index}"), x, y)?;
            }
            Ok(())
        }
        _ => ensure(sent == got, || format!("{path}: sent {sent}, got {got}")),
    }
}

fn same_multiset(path: &str, sent: &Value, got: &Value) -> CaseResult {
    let (Some(a), Some(b)) = (sent.as_array(), got.as_array()) else {
        return equivalent(path, sent, got);
    };
    ensure(a.len() == b.len(), || {
        format!("{path}: sent {} members, got {} ({got})", a.len(), b.len())
    })?;
    let mut unused: Vec<&Value> = b.iter().collect();
    for item in a {
        let position = unused
            .iter()
            .position(|candidate| equivalent(path, item, candidate).is_ok());
        match position {
            Some(index) => {
                unused.swap_remove(index);
            }
            None => return Err(format!("{path}: member {item} missing from {got}")),
        }
    }
    Ok(())
}
