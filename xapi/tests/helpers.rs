//! Shared helpers: a minimal valid statement and a JSON-to-outcome runner.

use serde_json::{Value, json};
use xapi::{JsonLimits, Version, parse_statements};

/// A small statement every rule table starts from.
pub fn base() -> Value {
    json!({
        "actor": {"mbox": "mailto:learner@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted", "display": {"en-US": "attempted"}},
        "object": {"id": "http://example.com/activities/1"}
    })
}

/// Parses a body as the LRS would; `Ok(())` or the error's `(path, rule)`.
pub fn outcome(body: &[u8], version: Version) -> Result<(), (String, &'static str)> {
    parse_statements(body, version, JsonLimits::default())
        .map(|_| ())
        .map_err(|e| (e.path, e.rule))
}
