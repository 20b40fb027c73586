//! Strict JSON parsing: serde_json's tokenizer with a visitor that rejects duplicate keys and
//! over-deep nesting, which `serde_json::from_slice::<Value>` silently accepts.
//!
//! xAPI Data §2.2 says "A Statement MUST use each property no more than one time" and the CTS
//! (XAPI-00021) expects a 400 for a repeated key, but serde_json keeps the last duplicate. The
//! visitor here builds the same `Value` serde_json would (so the speed is that of
//! `serde_json::from_slice`), checking each key against the map being built.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::{JsonLimits, ValidationError};

/// Parses JSON, rejecting duplicate keys in any object and nesting deeper than the limit.
///
/// Errors: `invalid-json` (syntax, trailing data, invalid UTF-8), `duplicate-key`, `max-depth`.
/// The path names where the problem is, e.g. `$.actor.mbox` for a second `mbox` key.
/// serde_json's own recursion limit (128 levels) caps `max_depth` from above.
pub fn parse_json_strict(bytes: &[u8], limits: JsonLimits) -> Result<Value, ValidationError> {
    let failure = RefCell::new(Failure::default());
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let seed = Seed {
        depth: 0,
        limits,
        failure: &failure,
    };
    let parsed = seed
        .deserialize(&mut de)
        .and_then(|value| de.end().map(|()| value));
    match parsed {
        Ok(value) => Ok(value),
        Err(error) => {
            let failure = failure.into_inner();
            let path = render_path(&failure.segments);
            Err(match failure.rule {
                Some((rule, message)) => ValidationError {
                    path,
                    rule,
                    message,
                },
                None => ValidationError {
                    path,
                    rule: "invalid-json",
                    message: format!("the body is not valid json: {error}"),
                },
            })
        }
    }
}

/// What went wrong, recorded on the way down and completed (path segments) on the way up.
#[derive(Default)]
struct Failure {
    rule: Option<(&'static str, String)>,
    /// Innermost first.
    segments: Vec<Segment>,
}

enum Segment {
    Key(String),
    Index(usize),
}

fn render_path(segments: &[Segment]) -> String {
    let mut path = String::from("$");
    for segment in segments.iter().rev() {
        match segment {
            Segment::Key(key) => crate::path::push_key(&mut path, key),
            Segment::Index(index) => {
                path.push('[');
                path.push_str(&index.to_string());
                path.push(']');
            }
        }
    }
    path
}

#[derive(Clone, Copy)]
struct Seed<'a> {
    depth: usize,
    limits: JsonLimits,
    failure: &'a RefCell<Failure>,
}

impl Seed<'_> {
    fn fail<E: de::Error>(&self, rule: &'static str, message: String) -> E {
        let mut failure = self.failure.borrow_mut();
        failure.rule = Some((rule, message.clone()));
        E::custom(message)
    }

    fn child(&self) -> Self {
        Seed {
            depth: self.depth + 1,
            ..*self
        }
    }

    fn enter<E: de::Error>(&self) -> Result<(), E> {
        if self.depth >= self.limits.max_depth {
            return Err(self.fail(
                "max-depth",
                format!(
                    "json nesting is deeper than {} levels",
                    self.limits.max_depth
                ),
            ));
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any json value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        // serde_json never hands out non-finite floats, but stay total.
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| self.fail("invalid-json", "numbers must be finite".to_owned()))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.enter()?;
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        loop {
            match seq.next_element_seed(self.child()) {
                Ok(Some(item)) => items.push(item),
                Ok(None) => break,
                Err(error) => {
                    self.failure
                        .borrow_mut()
                        .segments
                        .push(Segment::Index(items.len()));
                    return Err(error);
                }
            }
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        self.enter()?;
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                let error = self.fail(
                    "duplicate-key",
                    format!("the key {key:?} appears more than once in the same object"),
                );
                self.failure.borrow_mut().segments.push(Segment::Key(key));
                return Err(error);
            }
            match access.next_value_seed(self.child()) {
                Ok(value) => {
                    map.insert(key, value);
                }
                Err(error) => {
                    self.failure.borrow_mut().segments.push(Segment::Key(key));
                    return Err(error);
                }
            }
        }
        Ok(Value::Object(map))
    }
}
