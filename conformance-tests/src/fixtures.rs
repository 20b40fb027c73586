//! Statement building blocks that never collide: every case makes its own [`Fx`], whose
//! random tag goes into every agent mbox, verb and activity IRI, so cases neither see each
//! other's statements nor the statements of earlier runs against the same LRS.

use serde_json::{Map, Value, json};
use uuid::Uuid;

/// A per-case namespace for identifiers.
pub struct Fx {
    pub tag: String,
}

/// A fresh random UUID in standard string form.
pub fn uuid() -> String {
    Uuid::new_v4().to_string()
}

impl Fx {
    pub fn new() -> Fx {
        let mut tag = Uuid::new_v4().simple().to_string();
        tag.truncate(16);
        Fx { tag }
    }

    /// A `mailto:` IRI unique to this case.
    pub fn mbox(&self, who: &str) -> String {
        format!("mailto:{who}.{}@conformance.example.com", self.tag)
    }

    /// An IRI unique to this case, e.g. `iri("verbs", "did")`.
    pub fn iri(&self, kind: &str, name: &str) -> String {
        format!("http://conformance.example.com/{kind}/{}/{name}", self.tag)
    }

    pub fn agent(&self, who: &str) -> Value {
        json!({ "objectType": "Agent", "name": who, "mbox": self.mbox(who) })
    }

    pub fn verb(&self, name: &str) -> Value {
        json!({ "id": self.iri("verbs", name), "display": { "en-US": name } })
    }

    pub fn verb_id(&self, name: &str) -> String {
        self.iri("verbs", name)
    }

    pub fn activity(&self, name: &str) -> Value {
        json!({
            "objectType": "Activity",
            "id": self.activity_id(name),
            "definition": { "name": { "en-US": name } }
        })
    }

    pub fn activity_id(&self, name: &str) -> String {
        self.iri("activities", name)
    }

    /// A minimal valid statement with an id: actor "actor", verb "did", activity "thing".
    pub fn statement(&self) -> Value {
        json!({
            "id": uuid(),
            "actor": self.agent("actor"),
            "verb": self.verb("did"),
            "object": self.activity("thing")
        })
    }

    /// A minimal valid statement with the given actor, verb and object.
    pub fn statement_with(&self, actor: Value, verb: Value, object: Value) -> Value {
        json!({ "id": uuid(), "actor": actor, "verb": verb, "object": object })
    }

    /// A voiding statement (Data 2.3.2) targeting `target`.
    pub fn voiding(&self, target: &str) -> Value {
        json!({
            "id": uuid(),
            "actor": self.agent("admin"),
            "verb": { "id": VOIDED, "display": { "en-US": "voided" } },
            "object": { "objectType": "StatementRef", "id": target }
        })
    }

    /// A statement exercising most optional properties, for round-trip comparison. Context
    /// activities are arrays already, since an LRS returns them as arrays (Data 2.4.6.2).
    pub fn rich_statement(&self) -> Value {
        json!({
            "id": uuid(),
            "actor": {
                "objectType": "Agent",
                "name": "Rich Actor",
                "account": { "homePage": "http://conformance.example.com/accounts", "name": format!("rich-{}", self.tag) }
            },
            "verb": { "id": self.verb_id("answered"), "display": { "en-US": "answered", "fr-FR": "a répondu" } },
            "object": {
                "objectType": "Activity",
                "id": self.activity_id("question"),
                "definition": {
                    "name": { "en-US": "Question" },
                    "description": { "en-US": "A choice question" },
                    "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                    "interactionType": "choice",
                    "correctResponsesPattern": ["a[,]b"],
                    "choices": [
                        { "id": "a", "description": { "en-US": "Option A" } },
                        { "id": "b", "description": { "en-US": "Option B" } }
                    ],
                    "extensions": { "http://conformance.example.com/ext/difficulty": { "level": 3, "tags": ["x", "y"] } }
                }
            },
            "result": {
                "score": { "scaled": 0.75, "raw": 7.5, "min": 0, "max": 10 },
                "success": true,
                "completion": true,
                "response": "a[,]b",
                "duration": "PT1M30.5S",
                "extensions": { "http://conformance.example.com/ext/attempt": 2 }
            },
            "context": {
                "registration": uuid(),
                "instructor": self.agent("instructor"),
                "contextActivities": {
                    "parent": [self.activity("course")],
                    "grouping": [{ "id": self.activity_id("program"), "objectType": "Activity" }],
                    "category": [{ "id": "http://conformance.example.com/profiles/rich", "objectType": "Activity" }]
                },
                "revision": "r2",
                "platform": "conformance-tests",
                "language": "en-US",
                "statement": { "objectType": "StatementRef", "id": uuid() },
                "extensions": { "http://conformance.example.com/ext/session": "s-1", "http://conformance.example.com/ext/none": null }
            },
            "timestamp": "2024-03-05T10:11:12.345Z"
        })
    }
}

/// The reserved voiding verb (Data 2.3.2).
pub const VOIDED: &str = "http://adlnet.gov/expapi/verbs/voided";

/// Sets `value` at `path` (object keys), creating intermediate objects as needed.
pub fn set(target: &mut Value, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        *target = value;
        return;
    };
    let mut node = target;
    for key in parents {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        // Just made an object if it was not one, so the entry API applies.
        let Value::Object(map) = node else { return };
        node = map
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if let Value::Object(map) = node {
        map.insert((*last).to_owned(), value);
    }
}

/// Removes the property at `path`, if present.
pub fn remove(target: &mut Value, path: &[&str]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = target;
    for key in parents {
        match node.get_mut(*key) {
            Some(child) => node = child,
            None => return,
        }
    }
    if let Value::Object(map) = node {
        map.remove(*last);
    }
}

/// The `id` of a statement built by this module.
pub fn id_of(statement: &Value) -> String {
    statement
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}
