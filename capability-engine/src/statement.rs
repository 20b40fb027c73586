//! A statement as the LRS stores it (with `id`, `stored` and `timestamp`), read-only, with
//! the accessors the matcher needs.
//!
//! The LRS has validated the statement (xAPI Data §2.2) before storing it; this type only
//! checks what the engine relies on, so that a malformed input gets an error, not a panic.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::ids::PersonKey;

/// A stored statement: its JSON plus the three values every derivation needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Map<String, Value>", into = "Map<String, Value>")]
pub struct StoredStatement {
    id: Uuid,
    stored: DateTime<Utc>,
    /// When the experience happened (xAPI Data §2.4.7); the LRS sets it to `stored` when the
    /// client did not send one, and so does [`StoredStatement::parse`].
    timestamp: DateTime<Utc>,
    json: Map<String, Value>,
}

/// The kinds of `context.contextActivities` (xAPI Data §2.4.6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContextKind {
    Parent,
    Grouping,
    Category,
    Other,
}

impl ContextKind {
    pub const ALL: [ContextKind; 4] = [
        ContextKind::Parent,
        ContextKind::Grouping,
        ContextKind::Category,
        ContextKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ContextKind::Parent => "parent",
            ContextKind::Grouping => "grouping",
            ContextKind::Category => "category",
            ContextKind::Other => "other",
        }
    }
}

impl StoredStatement {
    /// Reads a stored statement. Errors name the field (`statement.id`, `statement.stored`,
    /// …) and the rule.
    pub fn parse(json: Map<String, Value>) -> Result<StoredStatement> {
        let id = json
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| {
                Error::invalid(
                    "statement.id",
                    "stored-statement",
                    "a stored statement has a UUID id",
                )
            })?;
        let stored = json
            .get("stored")
            .and_then(Value::as_str)
            .and_then(|s| xapi::parse_timestamp(s).ok())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| {
                Error::invalid(
                    "statement.stored",
                    "stored-statement",
                    "a stored statement has a stored timestamp",
                )
            })?;
        let timestamp = match json.get("timestamp") {
            None => stored,
            Some(value) => value
                .as_str()
                .and_then(|s| xapi::parse_timestamp(s).ok())
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| {
                    Error::invalid(
                        "statement.timestamp",
                        "timestamp",
                        "not an ISO 8601 timestamp",
                    )
                })?,
        };
        if !json.get("actor").is_some_and(Value::is_object) {
            return Err(Error::invalid(
                "statement.actor",
                "stored-statement",
                "a statement has an actor",
            ));
        }
        if !json
            .get("verb")
            .and_then(|v| v.get("id"))
            .is_some_and(Value::is_string)
        {
            return Err(Error::invalid(
                "statement.verb.id",
                "stored-statement",
                "a statement has a verb id",
            ));
        }
        if !json.get("object").is_some_and(Value::is_object) {
            return Err(Error::invalid(
                "statement.object",
                "stored-statement",
                "a statement has an object",
            ));
        }
        Ok(StoredStatement {
            id,
            stored,
            timestamp,
            json,
        })
    }

    pub fn id(&self) -> Uuid {
        self.id
    }
    pub fn stored(&self) -> DateTime<Utc> {
        self.stored
    }
    pub fn timestamp(&self) -> DateTime<Utc> {
        self.timestamp
    }
    pub fn json(&self) -> &Map<String, Value> {
        &self.json
    }

    /// The target of a voiding statement (verb `…/voided` with a StatementRef object, xAPI
    /// Data §2.3.2).
    pub fn voids(&self) -> Option<Uuid> {
        if self.verb_id() != xapi::VOIDED_VERB {
            return None;
        }
        let object = self.object();
        if object.get("objectType").and_then(Value::as_str) != Some("StatementRef") {
            return None;
        }
        object
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
    }

    pub fn verb_id(&self) -> &str {
        self.json
            .get("verb")
            .and_then(|v| v.get("id"))
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    pub fn actor(&self) -> &Map<String, Value> {
        self.json
            .get("actor")
            .and_then(Value::as_object)
            .unwrap_or(empty())
    }

    pub fn object(&self) -> &Map<String, Value> {
        self.json
            .get("object")
            .and_then(Value::as_object)
            .unwrap_or(empty())
    }

    /// The object when it is an Activity (`objectType` absent or `Activity`).
    pub fn object_activity(&self) -> Option<&Map<String, Value>> {
        let object = self.object();
        match object.get("objectType").and_then(Value::as_str) {
            None | Some("Activity") => Some(object),
            _ => None,
        }
    }

    pub fn result(&self) -> Option<&Map<String, Value>> {
        self.json.get("result").and_then(Value::as_object)
    }

    pub fn context(&self) -> Option<&Map<String, Value>> {
        self.json.get("context").and_then(Value::as_object)
    }

    pub fn authority(&self) -> Option<&Map<String, Value>> {
        self.json.get("authority").and_then(Value::as_object)
    }

    pub fn context_extension(&self, key: &str) -> Option<&Value> {
        self.context()?.get("extensions")?.get(key)
    }

    pub fn result_extension(&self, key: &str) -> Option<&Value> {
        self.result()?.get("extensions")?.get(key)
    }

    /// The context activities of one kind, whether stored as an array or (1.0.3 as sent) a
    /// single object.
    pub fn context_activities(&self, kind: ContextKind) -> Vec<&Map<String, Value>> {
        let value = self
            .context()
            .and_then(|c| c.get("contextActivities"))
            .and_then(|c| c.get(kind.as_str()));
        match value {
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_object).collect(),
            Some(Value::Object(single)) => vec![single],
            _ => Vec::new(),
        }
    }

    pub fn instructor(&self) -> Option<&Map<String, Value>> {
        self.context()?.get("instructor")?.as_object()
    }

    /// xAPI 2.0 `context.contextAgents` (IEEE 9274.1.1 §4.2.2.6): each agent with its
    /// `relevantTypes`.
    pub fn context_agents(&self) -> Vec<(&Map<String, Value>, Vec<&str>)> {
        let Some(Value::Array(list)) = self.context().and_then(|c| c.get("contextAgents")) else {
            return Vec::new();
        };
        list.iter()
            .filter_map(Value::as_object)
            .filter_map(|entry| {
                let agent = entry.get("agent")?.as_object()?;
                let types = match entry.get("relevantTypes") {
                    Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).collect(),
                    _ => Vec::new(),
                };
                Some((agent, types))
            })
            .collect()
    }
}

/// The people an Agent or Group stands for: an Agent's key; a Group's identified members,
/// or the Group's own key when it lists none.
pub fn people_of(agent_or_group: &Map<String, Value>) -> Vec<PersonKey> {
    if agent_or_group.get("objectType").and_then(Value::as_str) == Some("Group") {
        let members: Vec<PersonKey> = match agent_or_group.get("member") {
            Some(Value::Array(members)) => members
                .iter()
                .filter_map(Value::as_object)
                .filter_map(PersonKey::from_agent)
                .collect(),
            _ => Vec::new(),
        };
        if !members.is_empty() {
            let mut members = members;
            members.sort();
            members.dedup();
            return members;
        }
    }
    PersonKey::from_agent(agent_or_group).into_iter().collect()
}

/// Every IFI key an Agent or Group carries: its own and its members'.
pub(crate) fn keys_of(agent_or_group: &Map<String, Value>) -> Vec<PersonKey> {
    let mut keys: Vec<PersonKey> = PersonKey::from_agent(agent_or_group).into_iter().collect();
    if let Some(Value::Array(members)) = agent_or_group.get("member") {
        keys.extend(
            members
                .iter()
                .filter_map(Value::as_object)
                .filter_map(PersonKey::from_agent),
        );
    }
    keys
}

fn empty() -> &'static Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(Map::new)
}

impl TryFrom<Map<String, Value>> for StoredStatement {
    type Error = Error;
    fn try_from(json: Map<String, Value>) -> Result<StoredStatement> {
        StoredStatement::parse(json)
    }
}

impl From<StoredStatement> for Map<String, Value> {
    fn from(statement: StoredStatement) -> Map<String, Value> {
        statement.json
    }
}
