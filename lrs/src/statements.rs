//! The Statement Resource's rules beyond a statement's shape, as pure functions: what the LRS
//! sets on a statement it stores, which filters find it, how GET parameters are read, and how
//! a `StatementResult` is written.

use std::collections::{HashMap, HashSet};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;
use xapi::{Statement, ValidationError, Version};

use crate::storage::{NewStatement, StatementQuery, StoredStatement, TermKind, Terms};

/// The identity the LRS writes as `authority` on statements sent with one credential
/// (xAPI Data §2.4.9: the LRS SHOULD overwrite the authority based on the credentials used).
#[derive(Debug, Clone, PartialEq)]
pub struct Authority {
    pub agent: Map<String, Value>,
    /// The IFI key of `agent`, the value of its `Authority` filter term.
    pub key: String,
}

impl Authority {
    /// The Agent that stands for a credential: an account on the server's home page.
    pub fn for_credential(home_page: &str, credential_key: &str) -> Authority {
        let mut account = Map::new();
        account.insert("homePage".to_owned(), Value::String(home_page.to_owned()));
        account.insert("name".to_owned(), Value::String(credential_key.to_owned()));
        let mut agent = Map::new();
        agent.insert("objectType".to_owned(), Value::String("Agent".to_owned()));
        agent.insert("account".to_owned(), Value::Object(account));
        let key = format!("account:{home_page}|{credential_key}");
        Authority { agent, key }
    }
}

/// Turns a validated statement into what the store keeps: the id assigned when absent
/// (xAPI Data §2.4.1), the authority overwritten (§2.4.9), the version set when absent (§2.4.10).
/// Nothing else the client sent is altered; `stored` is set by the store.
pub fn prepare(statement: Statement, version: Version, authority: &Authority) -> NewStatement {
    prepare_as(statement, version, authority, false)
}

/// [`prepare`], saying whether the sender may redefine activities (scope `define`).
pub fn prepare_as(
    statement: Statement,
    version: Version,
    authority: &Authority,
    may_define: bool,
) -> NewStatement {
    let sent_id = statement.id();
    let id = sent_id.unwrap_or_else(Uuid::new_v4);
    let voids = statement.voids();
    let statement_ref = statement.statement_ref();
    let mut json = statement.into_json();
    let definitions = definitions_of(&json);
    let agent_names = agent_names_of(&json);
    if !json.contains_key("id") {
        json.insert("id".to_owned(), Value::String(id.to_string()));
    }
    json.insert(
        "authority".to_owned(),
        Value::Object(authority.agent.clone()),
    );
    // After the authority is overwritten: `related_agents` matches the authority the LRS
    // wrote, not one the client sent (Communication §2.1.3).
    let mut terms = terms_of_index(xapi::index_terms_of(&json));
    terms.0.push((TermKind::Authority, authority.key.clone()));
    if !json.contains_key("version") {
        let default = match version {
            Version::V1_0_3 => "1.0.0",
            Version::V2_0_0 => "2.0.0",
        };
        json.insert("version".to_owned(), Value::String(default.to_owned()));
    }
    NewStatement {
        id,
        id_assigned: sent_id.is_none(),
        json,
        voids,
        statement_ref,
        terms,
        definitions,
        agent_names,
        may_define,
        attachments: Vec::new(),
    }
}

/// Calls `f` with every activity in a statement: the object when it is an Activity, every
/// context activity, and the same inside a SubStatement object.
pub fn each_activity(json: &Map<String, Value>, f: &mut dyn FnMut(&Map<String, Value>)) {
    if let Some(Value::Object(object)) = json.get("object") {
        match object.get("objectType").and_then(Value::as_str) {
            None | Some("Activity") => f(object),
            Some("SubStatement") => each_activity(object, f),
            _ => {}
        }
    }
    if let Some(Value::Object(kinds)) = json.get("context").and_then(|c| c.get("contextActivities"))
    {
        for activities in kinds.values() {
            match activities {
                Value::Array(list) => list.iter().filter_map(Value::as_object).for_each(&mut *f),
                Value::Object(single) => f(single),
                _ => {}
            }
        }
    }
}

/// Every activity in a statement that carries a definition, with that definition.
pub fn definitions_of(json: &Map<String, Value>) -> Vec<(String, Map<String, Value>)> {
    let mut found = Vec::new();
    each_activity(json, &mut |activity| {
        if let (Some(id), Some(Value::Object(definition))) = (
            activity.get("id").and_then(Value::as_str),
            activity.get("definition"),
        ) {
            found.push((id.to_owned(), definition.clone()));
        }
    });
    found
}

/// The names a statement gives identified agents and groups, by IFI key.
pub fn agent_names_of(json: &Map<String, Value>) -> Vec<(String, String)> {
    fn visit(value: &Value, found: &mut Vec<(String, String)>) {
        let Value::Object(agent) = value else {
            return;
        };
        if let (Some(key), Some(name)) = (
            xapi::ifi_key(agent),
            agent.get("name").and_then(Value::as_str),
        ) {
            found.push((key, name.to_owned()));
        }
        if let Some(Value::Array(members)) = agent.get("member") {
            members.iter().for_each(|m| visit(m, found));
        }
    }
    fn statement(json: &Map<String, Value>, found: &mut Vec<(String, String)>) {
        if let Some(actor) = json.get("actor") {
            visit(actor, found);
        }
        if let Some(object) = json.get("object") {
            match object.get("objectType").and_then(Value::as_str) {
                Some("Agent" | "Group") => visit(object, found),
                Some("SubStatement") => {
                    if let Value::Object(sub) = object {
                        statement(sub, found);
                    }
                }
                _ => {}
            }
        }
        if let Some(Value::Object(context)) = json.get("context") {
            for key in ["instructor", "team"] {
                if let Some(agent) = context.get(key) {
                    visit(agent, found);
                }
            }
        }
    }
    let mut found = Vec::new();
    statement(json, &mut found);
    found
}

/// Merges a newer activity definition into the canonical one: language maps merge per
/// language, every other property is replaced by the newer value (xAPI Communication §2.5:
/// the LRS may update its canonical definition from trusted statements). Returns whether the
/// canonical definition changed, so that a store rewrites it only then and need not keep a
/// copy to compare with.
pub fn merge_definition(canonical: &mut Map<String, Value>, newer: &Map<String, Value>) -> bool {
    if !definition_changes(canonical, newer) {
        return false;
    }
    for (key, value) in newer {
        match (canonical.get_mut(key), value) {
            (Some(Value::Object(old)), Value::Object(new)) if merges_per_entry(key) => {
                old.extend(
                    new.iter()
                        .map(|(name, entry)| (name.clone(), entry.clone())),
                );
            }
            _ => {
                canonical.insert(key.clone(), value.clone());
            }
        }
    }
    true
}

/// Whether [`merge_definition`] of `newer` would change `canonical`, without changing it: a
/// store that shares its canonical definitions copies one only when it would.
pub fn definition_changes(canonical: &Map<String, Value>, newer: &Map<String, Value>) -> bool {
    newer
        .iter()
        .any(|(key, value)| match (canonical.get(key), value) {
            (Some(Value::Object(old)), Value::Object(new)) if merges_per_entry(key) => {
                new.iter().any(|(name, entry)| old.get(name) != Some(entry))
            }
            (Some(old), _) => old != value,
            (None, _) => true,
        })
}

/// The definition properties that merge entry by entry (language maps, and extensions by
/// IRI) rather than being replaced whole.
fn merges_per_entry(key: &str) -> bool {
    matches!(key, "name" | "description" | "extensions")
}

/// Replaces the definition of every activity in a statement by its canonical one, where the
/// LRS has one (`format=canonical`, xAPI Communication §2.1.3).
pub fn apply_canonical(
    json: &mut Map<String, Value>,
    canonical: &std::collections::HashMap<String, Map<String, Value>>,
) {
    fn activity(
        value: &mut Value,
        canonical: &std::collections::HashMap<String, Map<String, Value>>,
    ) {
        let Value::Object(activity) = value else {
            return;
        };
        let Some(definition) = activity
            .get("id")
            .and_then(Value::as_str)
            .and_then(|id| canonical.get(id))
        else {
            return;
        };
        activity.insert("definition".to_owned(), Value::Object(definition.clone()));
    }
    if let Some(object) = json.get_mut("object") {
        match object.get("objectType").and_then(Value::as_str) {
            None | Some("Activity") => activity(object, canonical),
            Some("SubStatement") => {
                if let Value::Object(sub) = object {
                    apply_canonical(sub, canonical);
                }
            }
            _ => {}
        }
    }
    if let Some(Value::Object(kinds)) = json
        .get_mut("context")
        .and_then(|c| c.get_mut("contextActivities"))
    {
        for activities in kinds.values_mut() {
            match activities {
                Value::Array(list) => list.iter_mut().for_each(|a| activity(a, canonical)),
                single => activity(single, canonical),
            }
        }
    }
}

/// The filter terms of a statement, deduplicated, without the authority.
pub fn terms_of(statement: &Statement) -> Terms {
    terms_of_index(statement.index_terms())
}

fn terms_of_index(index: xapi::IndexTerms) -> Terms {
    // A dozen terms: a scan of them costs less than hashing a copy of each.
    let mut terms: Vec<(TermKind, String)> = Vec::with_capacity(16);
    let mut add = |kind: TermKind, value: String| {
        if !terms.iter().any(|(k, v)| *k == kind && *v == value) {
            terms.push((kind, value));
        }
    };
    for agent in index.agents {
        add(TermKind::Agent, agent);
    }
    for agent in index.related_agents {
        add(TermKind::RelatedAgent, agent);
    }
    add(TermKind::Verb, index.verb);
    if let Some(activity) = index.activity {
        add(TermKind::Activity, activity);
    }
    for activity in index.related_activities {
        add(TermKind::RelatedActivity, activity);
    }
    if let Some(registration) = index.registration {
        add(TermKind::Registration, registration.to_string());
    }
    Terms(terms)
}

/// Rebuilds the write-time view of a stored statement (its terms and references).
pub fn from_stored(json: Map<String, Value>) -> Result<NewStatement, ValidationError> {
    let version = match json.get("version").and_then(Value::as_str) {
        Some(v) if v.starts_with("2.") => Version::V2_0_0,
        _ => Version::V1_0_3,
    };
    let authority_key = json
        .get("authority")
        .and_then(Value::as_object)
        .and_then(xapi::ifi_key);
    // The `version` property says which version the statement claims, not which the request
    // that stored it spoke: a 2.0.0 request may store a statement claiming 1.0.0 that uses
    // 2.0 properties. What was accepted under either version reads back.
    let other = match version {
        Version::V1_0_3 => Version::V2_0_0,
        Version::V2_0_0 => Version::V1_0_3,
    };
    let value = Value::Object(json);
    let statement = match Statement::parse(value.clone(), version, "$") {
        Ok(statement) => statement,
        Err(error) => Statement::parse(value, other, "$").map_err(|_| error)?,
    };
    let id = statement.id().unwrap_or_default();
    let voids = statement.voids();
    let statement_ref = statement.statement_ref();
    let mut terms = terms_of(&statement);
    if let Some(key) = authority_key {
        terms.0.push((TermKind::Authority, key));
    }
    let json = statement.into_json();
    Ok(NewStatement {
        id,
        id_assigned: false,
        definitions: definitions_of(&json),
        agent_names: agent_names_of(&json),
        json,
        voids,
        statement_ref,
        terms,
        may_define: false,
        attachments: Vec::new(),
    })
}

/// `format` of a statement GET (xAPI Communication §2.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    Ids,
    #[default]
    Exact,
    Canonical,
}

/// A parsed statement GET.
#[derive(Debug, Clone, PartialEq)]
pub enum StatementGet {
    /// `statementId` or (`voided` = true) `voidedStatementId`.
    Single {
        id: Uuid,
        voided: bool,
        format: Format,
        attachments: bool,
    },
    Query {
        query: StatementQuery,
        format: Format,
        attachments: bool,
        /// The parameters as given, to be carried by the `more` link.
        params: Vec<(String, String)>,
    },
}

/// Limits that apply to statement queries.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    /// The largest `limit` a client may ask for; also what `limit=0` or no `limit` means.
    pub max_limit: usize,
}

fn bad(path: &str, rule: &'static str, message: impl Into<String>) -> ValidationError {
    ValidationError {
        path: path.to_owned(),
        rule,
        message: message.into(),
    }
}

fn parse_bool(name: &str, value: &str) -> Result<bool, ValidationError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad(name, "boolean", "must be true or false")),
    }
}

fn parse_uuid(name: &str, value: &str) -> Result<Uuid, ValidationError> {
    xapi::parse_uuid(value).map_err(|_| bad(name, "uuid", "must be a UUID"))
}

fn parse_iri(name: &str, value: &str) -> Result<String, ValidationError> {
    if xapi::is_iri(value) {
        Ok(value.to_owned())
    } else {
        Err(bad(name, "iri", "must be an absolute IRI"))
    }
}

fn parse_time(name: &str, value: &str) -> Result<DateTime<Utc>, ValidationError> {
    xapi::parse_timestamp(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            bad(
                name,
                "timestamp",
                "must be an ISO 8601 timestamp with a time zone",
            )
        })
}

const QUERY_PARAMS: [&str; 14] = [
    "statementId",
    "voidedStatementId",
    "agent",
    "verb",
    "activity",
    "registration",
    "related_activities",
    "related_agents",
    "since",
    "until",
    "limit",
    "format",
    "attachments",
    "ascending",
];

/// Reads the parameters of a statement GET (xAPI Communication §2.1.3). A `more` cursor is
/// resolved before this, into the parameters it carries plus a position.
pub fn parse_get(
    params: &[(String, String)],
    version: Version,
    limits: QueryLimits,
) -> Result<StatementGet, ValidationError> {
    let mut seen = HashSet::new();
    for (name, _) in params {
        if !QUERY_PARAMS.contains(&name.as_str()) {
            return Err(bad(
                name,
                "unknown-parameter",
                "is not a parameter of this resource",
            ));
        }
        if !seen.insert(name.as_str()) {
            return Err(bad(name, "duplicate-parameter", "is given more than once"));
        }
    }
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let format = match get("format") {
        None | Some("exact") => Format::Exact,
        Some("ids") => Format::Ids,
        Some("canonical") => Format::Canonical,
        Some(_) => return Err(bad("format", "format", "must be ids, exact or canonical")),
    };
    let attachments = get("attachments")
        .map(|v| parse_bool("attachments", v))
        .transpose()?
        .unwrap_or(false);

    let single = match (get("statementId"), get("voidedStatementId")) {
        (Some(_), Some(_)) => {
            return Err(bad(
                "voidedStatementId",
                "single-statement-parameters",
                "cannot be combined with statementId",
            ));
        }
        (Some(id), None) => Some((parse_uuid("statementId", id)?, false, "statementId")),
        (None, Some(id)) => Some((
            parse_uuid("voidedStatementId", id)?,
            true,
            "voidedStatementId",
        )),
        (None, None) => None,
    };
    if let Some((id, voided, name)) = single {
        if let Some((other, _)) = params
            .iter()
            .find(|(n, _)| n != name && n != "format" && n != "attachments")
        {
            return Err(bad(
                other,
                "single-statement-parameters",
                format!("cannot be combined with {name}"),
            ));
        }
        return Ok(StatementGet::Single {
            id,
            voided,
            format,
            attachments,
        });
    }

    let mut query = StatementQuery::default();
    let related_agents = get("related_agents")
        .map(|v| parse_bool("related_agents", v))
        .transpose()?
        .unwrap_or(false);
    let related_activities = get("related_activities")
        .map(|v| parse_bool("related_activities", v))
        .transpose()?
        .unwrap_or(false);
    if let Some(agent) = get("agent") {
        let key = xapi::parse_agent_param(agent, version).map_err(|e| ValidationError {
            path: format!("agent{}", e.path.trim_start_matches('$')),
            ..e
        })?;
        let kind = if related_agents {
            TermKind::RelatedAgent
        } else {
            TermKind::Agent
        };
        query.filters.push((kind, key));
    }
    if let Some(verb) = get("verb") {
        query
            .filters
            .push((TermKind::Verb, parse_iri("verb", verb)?));
    }
    if let Some(activity) = get("activity") {
        let kind = if related_activities {
            TermKind::RelatedActivity
        } else {
            TermKind::Activity
        };
        query.filters.push((kind, parse_iri("activity", activity)?));
    }
    if let Some(registration) = get("registration") {
        let id = parse_uuid("registration", registration)?;
        query.filters.push((TermKind::Registration, id.to_string()));
    }
    query.since = get("since").map(|v| parse_time("since", v)).transpose()?;
    query.until = get("until").map(|v| parse_time("until", v)).transpose()?;
    query.ascending = get("ascending")
        .map(|v| parse_bool("ascending", v))
        .transpose()?
        .unwrap_or(false);
    query.limit = match get("limit") {
        None => limits.max_limit,
        Some(text) => {
            let limit: usize = text.parse().map_err(|_| {
                bad(
                    "limit",
                    "non-negative-integer",
                    "must be a non-negative integer",
                )
            })?;
            if limit > limits.max_limit {
                return Err(bad(
                    "limit",
                    "max-limit",
                    format!("must be at most {}", limits.max_limit),
                ));
            }
            if limit == 0 { limits.max_limit } else { limit }
        }
    };
    Ok(StatementGet::Query {
        query,
        format,
        attachments,
        params: params.to_vec(),
    })
}

/// A `more` cursor: the query's parameters and where the next page starts. Opaque to clients.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cursor {
    pub params: Vec<(String, String)>,
    #[serde(with = "hex_bytes")]
    pub after: Vec<u8>,
}

mod hex_bytes {
    pub fn serialize<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text: String = serde::Deserialize::deserialize(d)?;
        hex::decode(text).map_err(serde::de::Error::custom)
    }
}

impl Cursor {
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    pub fn decode(text: &str) -> Result<Cursor, ValidationError> {
        let invalid = || bad("more", "cursor", "is not a cursor this server issued");
        let json = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        serde_json::from_slice(&json).map_err(|_| invalid())
    }
}

/// How statements are written in a response: the `format`, the client's languages, and the
/// canonical activity definitions (used by `format=canonical`).
#[derive(Debug, Clone, Copy)]
pub struct Rendering<'a> {
    pub format: Format,
    pub accept_language: &'a [String],
    pub canonical: &'a HashMap<String, Map<String, Value>>,
}

/// Every activity id a statement mentions (object, context activities, SubStatement).
pub fn activity_ids(json: &[u8]) -> Vec<String> {
    let Ok(json) = serde_json::from_slice::<Map<String, Value>>(json) else {
        return Vec::new();
    };
    let mut ids = Vec::new();
    each_activity(&json, &mut |activity| {
        if let Some(id) = activity.get("id").and_then(Value::as_str) {
            ids.push(id.to_owned());
        }
    });
    ids.sort();
    ids.dedup();
    ids
}

/// Writes one stored statement in the requested format.
pub fn render(statement: &StoredStatement, rendering: &Rendering<'_>) -> Vec<u8> {
    if rendering.format == Format::Exact {
        return statement.json.to_vec();
    }
    let Ok(mut json) = serde_json::from_slice::<Map<String, Value>>(&statement.json) else {
        return statement.json.to_vec();
    };
    let shaped = match rendering.format {
        Format::Ids => xapi::format_ids(&json),
        Format::Canonical => {
            apply_canonical(&mut json, rendering.canonical);
            xapi::format_canonical(&json, rendering.accept_language)
        }
        Format::Exact => json,
    };
    serde_json::to_vec(&shaped).unwrap_or_default()
}

/// Writes a `StatementResult` (xAPI Data §2.5) without re-encoding stored statements.
pub fn statement_result(
    statements: &[StoredStatement],
    rendering: &Rendering<'_>,
    more: Option<&str>,
) -> Vec<u8> {
    let size: usize = statements.iter().map(|s| s.json.len() + 1).sum();
    let mut out = Vec::with_capacity(size + 64);
    out.extend_from_slice(b"{\"statements\":[");
    for (i, statement) in statements.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&render(statement, rendering));
    }
    out.extend_from_slice(b"],\"more\":");
    let more = Value::String(more.unwrap_or_default().to_owned());
    out.extend_from_slice(more.to_string().as_bytes());
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: QueryLimits = QueryLimits { max_limit: 100 };

    #[test]
    fn definition_changes_answers_what_a_merge_would_do() {
        fn check(canonical: Value, newer: Value, changes: bool) {
            let (Value::Object(canonical), Value::Object(newer)) = (canonical, newer) else {
                panic!("objects expected");
            };
            let mut merged = canonical.clone();
            assert_eq!(merge_definition(&mut merged, &newer), changes, "{newer:?}");
            assert_eq!(definition_changes(&canonical, &newer), changes, "{newer:?}");
            // What was merged in is then no change.
            assert!(!definition_changes(&merged, &newer), "{newer:?}");
        }
        let canonical = serde_json::json!({
            "name": {"en": "Fire safety", "fr": "Sécurité incendie"},
            "type": "http://adlnet.gov/expapi/activities/module",
            "extensions": {"http://example.com/x": 1}
        });
        let same_language = serde_json::json!({"name": {"en": "Fire safety"}});
        check(canonical.clone(), same_language, false);
        check(canonical.clone(), serde_json::json!({}), false);
        let renamed = serde_json::json!({"name": {"en": "Fire drill"}});
        check(canonical.clone(), renamed, true);
        let new_language = serde_json::json!({"name": {"de": "Brandschutz"}});
        check(canonical.clone(), new_language, true);
        let new_property = serde_json::json!({"moreInfo": "http://example.com/more"});
        check(canonical.clone(), new_property, true);
        let other_type = serde_json::json!({"type": "http://adlnet.gov/expapi/activities/course"});
        check(canonical.clone(), other_type, true);
        let same_extension = serde_json::json!({"extensions": {"http://example.com/x": 1}});
        check(canonical.clone(), same_extension, false);
        let new_extension = serde_json::json!({"extensions": {"http://example.com/y": 2}});
        check(canonical.clone(), new_extension, true);
        let not_a_map = serde_json::json!({"name": "Fire safety"});
        check(canonical, not_a_map, true);
    }

    fn params(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn check_err(list: &[(&str, &str)], path: &str, rule: &str) {
        match parse_get(&params(list), Version::V2_0_0, LIMITS) {
            Err(e) => {
                assert_eq!((e.path.as_str(), e.rule), (path, rule), "{list:?}");
            }
            Ok(other) => panic!("{list:?} accepted as {other:?}"),
        }
    }

    #[test]
    fn related_agents_match_the_authority_the_lrs_wrote_not_the_clients() {
        let json = serde_json::json!({
            "actor": {"mbox": "mailto:ada@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
            "object": {"id": "http://example.com/a"},
            "authority": {"mbox": "mailto:claimed@example.com"}
        });
        let statement = Statement::parse(json, Version::V2_0_0, "$").expect("valid");
        let authority = Authority::for_credential("https://lrs.example.org", "key-1");
        let prepared = prepare(statement, Version::V2_0_0, &authority);
        let related: Vec<&str> = prepared
            .terms
            .0
            .iter()
            .filter(|(kind, _)| *kind == TermKind::RelatedAgent)
            .map(|(_, value)| value.as_str())
            .collect();
        assert!(related.contains(&authority.key.as_str()), "{related:?}");
        assert!(
            !related.iter().any(|r| r.contains("claimed@example.com")),
            "{related:?}"
        );
    }

    /// Stores post a statement's related terms only where they add to its narrower ones, so
    /// every agent, authority and activity term must also be a related one.
    #[test]
    fn related_terms_hold_the_agent_authority_and_activity_terms() {
        let authority = Authority::for_credential("https://lrs.example.org", "key-1");
        let statements = [
            serde_json::json!({
                "actor": {"mbox": "mailto:ada@example.com"},
                "verb": {"id": "http://example.com/v"},
                "object": {"id": "http://example.com/a"},
                "context": {"contextActivities": {"parent": {"id": "http://example.com/p"}}}
            }),
            serde_json::json!({
                "actor": {"objectType": "Group", "mbox": "mailto:team@example.com",
                          "member": [{"mbox": "mailto:bo@example.com"}]},
                "verb": {"id": "http://example.com/v"},
                "object": {"objectType": "Agent", "account": {"homePage": "http://h", "name": "n"}}
            }),
            serde_json::json!({
                "actor": {"mbox": "mailto:ada@example.com"},
                "verb": {"id": "http://example.com/v"},
                "object": {"objectType": "SubStatement",
                           "actor": {"mbox": "mailto:cy@example.com"},
                           "verb": {"id": "http://example.com/w"},
                           "object": {"id": "http://example.com/b"}}
            }),
        ];
        for json in statements {
            let statement = Statement::parse(json, Version::V2_0_0, "$").expect("valid");
            let prepared = prepare(statement, Version::V2_0_0, &authority);
            let terms = &prepared.terms.0;
            for (kind, value) in terms {
                let related = match kind {
                    TermKind::Agent | TermKind::Authority => TermKind::RelatedAgent,
                    TermKind::Activity => TermKind::RelatedActivity,
                    _ => continue,
                };
                assert!(
                    terms.contains(&(related, value.clone())),
                    "{kind:?} {value} in {terms:?}"
                );
            }
        }
    }

    #[test]
    fn an_id_is_assigned_only_to_a_statement_sent_without_one() {
        let authority = Authority::for_credential("https://lrs.example.org", "key-1");
        let sent = "e3b0c442-98fc-4c14-9afb-f4c8996fb924";
        let mut json = serde_json::json!({
            "actor": {"mbox": "mailto:ada@example.com"},
            "verb": {"id": "http://example.com/v"},
            "object": {"id": "http://example.com/a"}
        });
        let statement = Statement::parse(json.clone(), Version::V2_0_0, "$").expect("valid");
        let assigned = prepare(statement, Version::V2_0_0, &authority);
        assert!(assigned.id_assigned);
        assert_eq!(assigned.json["id"], assigned.id.to_string());
        json["id"] = sent.into();
        let statement = Statement::parse(json, Version::V2_0_0, "$").expect("valid");
        let kept = prepare(statement, Version::V2_0_0, &authority);
        assert!(!kept.id_assigned);
        assert_eq!(kept.id.to_string(), sent);
        let stored = from_stored(kept.json).expect("reads back");
        assert!(!stored.id_assigned);
    }

    #[test]
    fn rejects_bad_parameters() {
        let id = "e3b0c442-98fc-4c14-9afb-f4c8996fb924";
        check_err(
            &[("statementId", id), ("voidedStatementId", id)],
            "voidedStatementId",
            "single-statement-parameters",
        );
        check_err(
            &[("statementId", id), ("limit", "1")],
            "limit",
            "single-statement-parameters",
        );
        check_err(&[("statementId", "nope")], "statementId", "uuid");
        check_err(&[("limit", "-1")], "limit", "non-negative-integer");
        check_err(&[("limit", "101")], "limit", "max-limit");
        check_err(&[("format", "full")], "format", "format");
        check_err(&[("ascending", "yes")], "ascending", "boolean");
        check_err(&[("verb", "not an iri")], "verb", "iri");
        check_err(&[("since", "yesterday")], "since", "timestamp");
        check_err(&[("bogus", "1")], "bogus", "unknown-parameter");
        check_err(
            &[("limit", "1"), ("limit", "2")],
            "limit",
            "duplicate-parameter",
        );
    }

    #[test]
    fn single_statement_allows_format_and_attachments() {
        let id = "e3b0c442-98fc-4c14-9afb-f4c8996fb924";
        let parsed = parse_get(
            &params(&[
                ("statementId", id),
                ("format", "ids"),
                ("attachments", "false"),
            ]),
            Version::V1_0_3,
            LIMITS,
        );
        assert_eq!(
            parsed,
            Ok(StatementGet::Single {
                id: Uuid::parse_str(id).expect("uuid"),
                voided: false,
                format: Format::Ids,
                attachments: false
            })
        );
    }

    #[test]
    fn limit_zero_means_server_maximum() {
        let Ok(StatementGet::Query { query, .. }) =
            parse_get(&params(&[("limit", "0")]), Version::V2_0_0, LIMITS)
        else {
            panic!("not a query");
        };
        assert_eq!(query.limit, 100);
    }

    #[test]
    fn related_flags_choose_the_term_kind() {
        let Ok(StatementGet::Query { query, .. }) = parse_get(
            &params(&[
                ("activity", "http://example.com/a"),
                ("related_activities", "true"),
                ("verb", "http://example.com/v"),
            ]),
            Version::V2_0_0,
            LIMITS,
        ) else {
            panic!("not a query");
        };
        assert_eq!(
            query.filters,
            vec![
                (TermKind::Verb, "http://example.com/v".to_owned()),
                (TermKind::RelatedActivity, "http://example.com/a".to_owned()),
            ]
        );
    }

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let cursor = Cursor {
            params: params(&[("verb", "http://example.com/v")]),
            after: vec![1, 2, 3],
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Ok(cursor));
        assert_eq!(Cursor::decode("%%%").map_err(|e| e.rule), Err("cursor"));
    }
}
