//! Statement validation "to the letter" (Data §2.2, §2.4, §4; 9274.1.1 §4.2): every object's
//! keys are checked against its table, every value against its type, and the cross-property
//! rules (one IFI, score ranges, revision/platform only with an Activity, voiding, SubStatement
//! limits, authority shape) are applied. The first problem found is reported.
//!
//! Rule names (the `rule` field of [`ValidationError`]) are listed in [`RULES`].

use serde_json::{Map, Value};

use crate::datatypes::{
    is_absolute_iri, is_irl, is_language_tag, is_mbox, is_media_type, is_sha1_hex, is_sha2_hex,
    is_statement_version, is_uuid,
};
use crate::path::Path;
use crate::time::{parse_duration, parse_timestamp_parts};
use crate::{ValidationError, Version};

/// The verb that voids the statement its StatementRef object points to (Data §2.3.2).
pub const VOIDED_VERB: &str = "http://adlnet.gov/expapi/verbs/voided";

/// Every `rule` name this crate produces, for documentation and exhaustive tests.
pub const RULES: &[(&str, &str)] = &[
    (
        "invalid-json",
        "the body is not well-formed json (RFC 8259)",
    ),
    (
        "duplicate-key",
        "a key appears twice in one object (Data §2.2)",
    ),
    ("max-depth", "json nested deeper than the configured limit"),
    ("wrong-type", "a value has the wrong json type (Data §2.2)"),
    ("null-value", "null outside extensions (Data §2.2)"),
    (
        "unknown-property",
        "a key the spec does not define for this object (Data §2.2)",
    ),
    ("missing-property", "a required property is absent"),
    (
        "invalid-object-type",
        "objectType is not one the spec allows here, case-sensitive",
    ),
    (
        "object-type-required",
        "an Agent or Group used as a statement object lacks objectType (Data §2.4.4.2)",
    ),
    (
        "one-ifi",
        "an Agent or identified Group must carry exactly one IFI (Data §2.4.2.3)",
    ),
    (
        "anonymous-group-member",
        "an anonymous Group must list its members (Data §2.4.2.2)",
    ),
    (
        "group-member-not-agent",
        "a Group's members must be Agents (Data §2.4.2.2)",
    ),
    ("invalid-mbox", "mbox is not a mailto IRI (Data §2.4.2.3)"),
    ("invalid-mbox-sha1sum", "mbox_sha1sum is not 40 hex digits"),
    (
        "invalid-iri",
        "an IRI without a scheme or with illegal characters (Data §2.2, §4.3)",
    ),
    (
        "invalid-irl",
        "an IRL without a scheme or with illegal characters",
    ),
    (
        "invalid-uuid",
        "not a UUID in standard string form (Data §4.4)",
    ),
    ("invalid-timestamp", "not an ISO 8601 timestamp (Data §4.5)"),
    ("invalid-duration", "not an ISO 8601 duration (Data §4.6)"),
    (
        "invalid-language-tag",
        "not an RFC 5646 language tag (Data §4.2)",
    ),
    (
        "invalid-version",
        "statement version not 1.0.x (or 2.0.x under 2.0) (Data §2.4.10)",
    ),
    (
        "invalid-interaction-type",
        "interactionType not one of the ten defined (Data §2.4.4.1)",
    ),
    (
        "interaction-type-required",
        "interaction properties without interactionType (XAPI-00064)",
    ),
    (
        "duplicate-component-id",
        "two interaction components share an id (Data §2.4.4.1)",
    ),
    (
        "score-scaled-range",
        "score.scaled outside [-1, 1] (Data §2.4.5.1)",
    ),
    (
        "score-raw-range",
        "score.raw outside [min, max] (Data §2.4.5.1)",
    ),
    (
        "score-min-max",
        "score.min not less than score.max (Data §2.4.5.1)",
    ),
    (
        "context-requires-activity",
        "revision or platform with a non-Activity object (Data §2.4.6)",
    ),
    (
        "team-not-group",
        "context.team is not a Group (Data §2.4.6)",
    ),
    (
        "empty-relevant-types",
        "relevantTypes present but empty (9274.1.1 §4.2.2.5)",
    ),
    (
        "nested-substatement",
        "a SubStatement inside a SubStatement (Data §2.4.4.3)",
    ),
    (
        "substatement-property",
        "id, stored, version or authority in a SubStatement (Data §2.4.4.3)",
    ),
    (
        "voiding-requires-statement-ref",
        "the voided verb with a non-StatementRef object (Data §2.3.2)",
    ),
    (
        "authority-group",
        "an authority Group that is not two Agents in an anonymous Group (Data §2.4.9)",
    ),
    (
        "invalid-media-type",
        "attachment contentType is not an Internet media type (Data §2.4.11)",
    ),
    (
        "invalid-length",
        "attachment length is not a non-negative integer (Data §2.4.11)",
    ),
    (
        "invalid-sha2",
        "attachment sha2 is not a hex SHA-2 digest (Data §2.4.11)",
    ),
    (
        "duplicate-statement-id",
        "two statements of one batch share an id (Communication §2.1.2)",
    ),
    (
        "invalid-agent",
        "the agent parameter is not an Agent or identified Group (Communication §2.1.3)",
    ),
];

type Result<T = ()> = std::result::Result<T, ValidationError>;
type Object = Map<String, Value>;

pub(crate) fn error(
    path: &Path,
    rule: &'static str,
    message: impl Into<String>,
) -> ValidationError {
    ValidationError {
        path: path.render(),
        rule,
        message: message.into(),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong_type(path: &Path, expected: &str, found: &Value) -> ValidationError {
    if found.is_null() {
        return error(path, "null-value", "null is not allowed outside extensions");
    }
    error(
        path,
        "wrong-type",
        format!("expected {expected}, found {}", type_name(found)),
    )
}

fn object<'v>(value: &'v Value, path: &Path) -> Result<&'v Object> {
    value
        .as_object()
        .ok_or_else(|| wrong_type(path, "an object", value))
}

fn array<'v>(value: &'v Value, path: &Path) -> Result<&'v Vec<Value>> {
    value
        .as_array()
        .ok_or_else(|| wrong_type(path, "an array", value))
}

fn string<'v>(value: &'v Value, path: &Path) -> Result<&'v str> {
    value
        .as_str()
        .ok_or_else(|| wrong_type(path, "a string", value))
}

fn boolean(value: &Value, path: &Path) -> Result<bool> {
    value
        .as_bool()
        .ok_or_else(|| wrong_type(path, "a boolean", value))
}

fn number(value: &Value, path: &Path) -> Result<f64> {
    value
        .as_f64()
        .ok_or_else(|| wrong_type(path, "a number", value))
}

fn unknown(path: &Path, key: &str, context: &str) -> ValidationError {
    error(
        path,
        "unknown-property",
        format!("{key:?} is not a property of {context}"),
    )
}

fn missing(path: &Path, key: &str, context: &str) -> ValidationError {
    error(
        path,
        "missing-property",
        format!("{context} must have a {key:?} property"),
    )
}

fn iri(value: &Value, path: &Path) -> Result {
    let s = string(value, path)?;
    if is_absolute_iri(s) {
        Ok(())
    } else {
        Err(error(
            path,
            "invalid-iri",
            format!("{s:?} is not an absolute iri (it needs a scheme)"),
        ))
    }
}

fn irl(value: &Value, path: &Path) -> Result {
    let s = string(value, path)?;
    if is_irl(s) {
        Ok(())
    } else {
        Err(error(
            path,
            "invalid-irl",
            format!("{s:?} is not an absolute irl (it needs a scheme)"),
        ))
    }
}

fn uuid(value: &Value, path: &Path) -> Result {
    let s = string(value, path)?;
    if is_uuid(s) {
        Ok(())
    } else {
        Err(error(
            path,
            "invalid-uuid",
            format!("{s:?} is not a uuid in standard string form"),
        ))
    }
}

fn timestamp(value: &Value, path: &Path) -> Result {
    let s = string(value, path)?;
    parse_timestamp_parts(s)
        .map(|_| ())
        .map_err(|e| e.at(path.render()))
}

fn language_tag(value: &Value, path: &Path) -> Result {
    let s = string(value, path)?;
    if is_language_tag(s) {
        Ok(())
    } else {
        Err(error(
            path,
            "invalid-language-tag",
            format!("{s:?} is not an rfc 5646 language tag"),
        ))
    }
}

/// Data §4.2: keys are RFC 5646 tags, values strings.
fn language_map(value: &Value, path: &Path) -> Result {
    for (tag, text) in object(value, path)? {
        let tag_path = path.key(tag);
        if !is_language_tag(tag) {
            return Err(error(
                &tag_path,
                "invalid-language-tag",
                format!("language map key {tag:?} is not an rfc 5646 language tag"),
            ));
        }
        string(text, &tag_path)?;
    }
    Ok(())
}

/// Data §4.1: keys are IRIs; values are anything, null included, and never rejected.
fn extensions(value: &Value, path: &Path) -> Result {
    for key in object(value, path)?.keys() {
        if !is_absolute_iri(key) {
            return Err(error(
                &path.key(key),
                "invalid-iri",
                format!("extension key {key:?} is not an absolute iri"),
            ));
        }
    }
    Ok(())
}

/// Where an Agent or Group appears; it changes which objectType rules apply.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AgentRole {
    /// actor, instructor, authority, a contextAgent's agent: objectType optional.
    Plain,
    /// A statement's object: objectType required (Data §2.4.4.2).
    Object,
}

const IFIS: [&str; 4] = ["mbox", "mbox_sha1sum", "openid", "account"];

/// Validates one IFI property and counts it.
fn ifi(key: &str, value: &Value, path: &Path) -> Result {
    match key {
        "mbox" => {
            let s = string(value, path)?;
            if !is_mbox(s) {
                return Err(error(
                    path,
                    "invalid-mbox",
                    format!("{s:?} is not a mailto iri with one e-mail address"),
                ));
            }
        }
        "mbox_sha1sum" => {
            let s = string(value, path)?;
            if !is_sha1_hex(s) {
                return Err(error(
                    path,
                    "invalid-mbox-sha1sum",
                    format!("{s:?} is not 40 hex digits"),
                ));
            }
        }
        "openid" => iri(value, path)?,
        _ => account(value, path)?,
    }
    Ok(())
}

/// Data §2.4.2.4: `{homePage: IRL, name: string}`, both required.
fn account(value: &Value, path: &Path) -> Result {
    let map = object(value, path)?;
    for (key, v) in map {
        let p = path.key(key);
        match key.as_str() {
            "homePage" => irl(v, &p)?,
            "name" => {
                string(v, &p)?;
            }
            _ => return Err(unknown(&p, key, "an account")),
        }
    }
    for key in ["homePage", "name"] {
        if !map.contains_key(key) {
            return Err(missing(path, key, "an account"));
        }
    }
    Ok(())
}

/// Data §2.4.2.1: an Agent carries exactly one IFI; objectType, when present, is `Agent`.
fn agent(map: &Object, path: &Path) -> Result {
    let mut ifis = 0;
    for (key, v) in map {
        let p = path.key(key);
        match key.as_str() {
            "objectType" => {
                if string(v, &p)? != "Agent" {
                    return Err(error(
                        &p,
                        "invalid-object-type",
                        "an agent's objectType must be \"Agent\"",
                    ));
                }
            }
            "name" => {
                string(v, &p)?;
            }
            k if IFIS.contains(&k) => {
                ifi(k, v, &p)?;
                ifis += 1;
            }
            _ => return Err(unknown(&p, key, "an agent")),
        }
    }
    if ifis != 1 {
        return Err(error(
            path,
            "one-ifi",
            format!(
                "an agent must have exactly one of mbox, mbox_sha1sum, openid, account; found {ifis}"
            ),
        ));
    }
    Ok(())
}

/// Data §2.4.2.2: a Group has objectType `Group`, at most one IFI, members that are Agents,
/// and (when anonymous) a member list. Returns (is identified, member count).
fn group(map: &Object, path: &Path) -> Result<(bool, usize)> {
    let mut ifis = 0;
    let mut members = None;
    for (key, v) in map {
        let p = path.key(key);
        match key.as_str() {
            "objectType" => {
                if string(v, &p)? != "Group" {
                    return Err(error(
                        &p,
                        "invalid-object-type",
                        "a group's objectType must be \"Group\"",
                    ));
                }
            }
            "name" => {
                string(v, &p)?;
            }
            "member" => {
                let list = array(v, &p)?;
                for (i, member) in list.iter().enumerate() {
                    let mp = p.index(i);
                    let member_map = object(member, &mp)?;
                    if let Some(kind) = member_map.get("objectType")
                        && kind.as_str() == Some("Group")
                    {
                        return Err(error(
                            &mp,
                            "group-member-not-agent",
                            "a group's members must be agents, not groups",
                        ));
                    }
                    agent(member_map, &mp)?;
                }
                members = Some(list.len());
            }
            k if IFIS.contains(&k) => {
                ifi(k, v, &p)?;
                ifis += 1;
            }
            _ => return Err(unknown(&p, key, "a group")),
        }
    }
    if !map.contains_key("objectType") {
        return Err(missing(path, "objectType", "a group"));
    }
    if ifis > 1 {
        return Err(error(
            path,
            "one-ifi",
            format!("an identified group must have exactly one ifi; found {ifis}"),
        ));
    }
    if ifis == 0 && members.is_none_or(|n| n == 0) {
        return Err(error(
            path,
            "anonymous-group-member",
            "an anonymous group must list its members in \"member\"",
        ));
    }
    Ok((ifis == 1, members.unwrap_or(0)))
}

/// An Agent or a Group, told apart by objectType (absent means Agent, Data §2.4.2.1).
fn actor(value: &Value, path: &Path, role: AgentRole) -> Result<Option<(bool, usize)>> {
    let map = object(value, path)?;
    match map.get("objectType") {
        None if role == AgentRole::Object => Err(error(
            path,
            "object-type-required",
            "an agent or group used as an object must state its objectType",
        )),
        None => agent(map, path).map(|()| None),
        Some(kind) => match string(kind, &path.key("objectType"))? {
            "Agent" => agent(map, path).map(|()| None),
            "Group" => group(map, path).map(Some),
            other => Err(error(
                &path.key("objectType"),
                "invalid-object-type",
                format!("{other:?} is not \"Agent\" or \"Group\""),
            )),
        },
    }
}

/// Data §2.4.3: `{id: IRI, display: language map}`.
fn verb(value: &Value, path: &Path) -> Result<()> {
    let map = object(value, path)?;
    for (key, v) in map {
        let p = path.key(key);
        match key.as_str() {
            "id" => iri(v, &p)?,
            "display" => language_map(v, &p)?,
            _ => return Err(unknown(&p, key, "a verb")),
        }
    }
    if !map.contains_key("id") {
        return Err(missing(path, "id", "a verb"));
    }
    Ok(())
}

const INTERACTION_TYPES: [&str; 10] = [
    "true-false",
    "choice",
    "fill-in",
    "long-fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
    "other",
];

const COMPONENT_LISTS: [&str; 5] = ["choices", "scale", "source", "target", "steps"];

/// Data §2.4.4.1: an Activity object or context activity.
fn activity(map: &Object, path: &Path) -> Result {
    for (key, v) in map {
        let p = path.key(key);
        match key.as_str() {
            "objectType" => {
                if string(v, &p)? != "Activity" {
                    return Err(error(
                        &p,
                        "invalid-object-type",
                        "an activity's objectType must be \"Activity\"",
                    ));
                }
            }
            "id" => iri(v, &p)?,
            "definition" => definition(v, &p)?,
            _ => return Err(unknown(&p, key, "an activity")),
        }
    }
    if !map.contains_key("id") {
        return Err(missing(path, "id", "an activity"));
    }
    Ok(())
}

fn activity_value(value: &Value, path: &Path) -> Result {
    activity(object(value, path)?, path)
}

/// Data §2.4.4.1 Activity Definition, including the interaction properties.
fn definition(value: &Value, path: &Path) -> Result {
    let map = object(value, path)?;
    let mut interaction_property = None;
    for (key, v) in map {
        let p = path.key(key);
        match key.as_str() {
            "name" | "description" => language_map(v, &p)?,
            "type" => iri(v, &p)?,
            "moreInfo" => irl(v, &p)?,
            "extensions" => extensions(v, &p)?,
            "interactionType" => {
                let kind = string(v, &p)?;
                if !INTERACTION_TYPES.contains(&kind) {
                    return Err(error(
                        &p,
                        "invalid-interaction-type",
                        format!("{kind:?} is not an interaction type defined by xapi"),
                    ));
                }
            }
            "correctResponsesPattern" => {
                for (i, pattern) in array(v, &p)?.iter().enumerate() {
                    string(pattern, &p.index(i))?;
                }
                interaction_property.get_or_insert(key.as_str());
            }
            k if COMPONENT_LISTS.contains(&k) => {
                components(v, &p)?;
                interaction_property.get_or_insert(key.as_str());
            }
            _ => return Err(unknown(&p, key, "an activity definition")),
        }
    }
    // "Interaction Activities MUST have a valid interactionType"; the CTS (XAPI-00064) rejects
    // interaction properties without one. Mismatched component lists are only a MAY, accepted.
    if let Some(property) = interaction_property
        && !map.contains_key("interactionType")
    {
        return Err(error(
            &path.key(property),
            "interaction-type-required",
            format!("{property:?} is only allowed with an interactionType"),
        ));
    }
    Ok(())
}

/// Data §2.4.4.1 Interaction Components: `[{id: string, description: language map}]` with
/// distinct ids.
fn components(value: &Value, path: &Path) -> Result {
    let list = array(value, path)?;
    let mut seen: Vec<&str> = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let ip = path.index(i);
        let map = object(item, &ip)?;
        let mut id = None;
        for (key, v) in map {
            let p = ip.key(key);
            match key.as_str() {
                "id" => id = Some(string(v, &p)?),
                "description" => language_map(v, &p)?,
                _ => return Err(unknown(&p, key, "an interaction component")),
            }
        }
        let Some(id) = id else {
            return Err(missing(&ip, "id", "an interaction component"));
        };
        if seen.contains(&id) {
            return Err(error(
                &ip.key("id"),
                "duplicate-component-id",
                format!("interaction component id {id:?} is used twice in the same list"),
            ));
        }
        seen.push(id);
    }
    Ok(())
}

/// Data §2.4.4.3: `{objectType: "StatementRef", id: UUID}`.
fn statement_ref(map: &Object, path: &Path) -> Result {
    for (key, v) in map {
        let p = path.key(key);
        match key.as_str() {
            "objectType" => {
                if string(v, &p)? != "StatementRef" {
                    return Err(error(
                        &p,
                        "invalid-object-type",
                        "a statement reference's objectType must be \"StatementRef\"",
                    ));
                }
            }
            "id" => uuid(v, &p)?,
            _ => return Err(unknown(&p, key, "a statement reference")),
        }
    }
    for key in ["objectType", "id"] {
        if !map.contains_key(key) {
            return Err(missing(path, key, "a statement reference"));
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Statement,
    SubStatement,
}

/// What a statement's object is, as far as other rules care.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ObjectKind {
    Activity,
    Other,
    StatementRef,
}

fn object_kind(statement: &Object) -> ObjectKind {
    match statement
        .get("object")
        .and_then(Value::as_object)
        .map(|o| o.get("objectType"))
    {
        Some(None) => ObjectKind::Activity,
        Some(Some(Value::String(kind))) if kind == "Activity" => ObjectKind::Activity,
        Some(Some(Value::String(kind))) if kind == "StatementRef" => ObjectKind::StatementRef,
        _ => ObjectKind::Other,
    }
}

/// Data §2.4.4: the object of a statement or SubStatement.
fn statement_object(value: &Value, path: &Path, version: Version, level: Level) -> Result {
    let map = object(value, path)?;
    let kind = match map.get("objectType") {
        None => {
            // No objectType means Activity (Data §2.4.4); an IFI here means the sender forgot
            // that an Agent object needs one, which deserves the precise message.
            if (!map.contains_key("id") && IFIS.iter().any(|k| map.contains_key(*k)))
                || map.contains_key("member")
            {
                return Err(error(
                    path,
                    "object-type-required",
                    "an agent or group used as an object must state its objectType",
                ));
            }
            "Activity"
        }
        Some(kind) => string(kind, &path.key("objectType"))?,
    };
    match kind {
        "Activity" => activity(map, path),
        "Agent" | "Group" => actor(value, path, AgentRole::Object).map(|_| ()),
        "StatementRef" => statement_ref(map, path),
        "SubStatement" if level == Level::SubStatement => Err(error(
            &path.key("objectType"),
            "nested-substatement",
            "a substatement cannot contain another substatement",
        )),
        "SubStatement" => statement_body(map, path, version, Level::SubStatement),
        other => Err(error(
            &path.key("objectType"),
            "invalid-object-type",
            format!(
                "{other:?} is not an object type (Activity, Agent, Group, StatementRef, SubStatement)"
            ),
        )),
    }
}

/// Data §2.4.5.
fn result(value: &Value, path: &Path) -> Result {
    for (key, v) in object(value, path)? {
        let p = path.key(key);
        match key.as_str() {
            "score" => score(v, &p)?,
            "success" | "completion" => {
                boolean(v, &p)?;
            }
            "response" => {
                string(v, &p)?;
            }
            "duration" => {
                let s = string(v, &p)?;
                parse_duration(s).map_err(|e| e.at(p.render()))?;
            }
            "extensions" => extensions(v, &p)?,
            _ => return Err(unknown(&p, key, "a result")),
        }
    }
    Ok(())
}

/// Data §2.4.5.1: scaled in [-1, 1]; min < max; raw within [min, max].
fn score(value: &Value, path: &Path) -> Result {
    let map = object(value, path)?;
    let (mut scaled, mut raw, mut min, mut max) = (None, None, None, None);
    for (key, v) in map {
        let p = path.key(key);
        let slot = match key.as_str() {
            "scaled" => &mut scaled,
            "raw" => &mut raw,
            "min" => &mut min,
            "max" => &mut max,
            _ => return Err(unknown(&p, key, "a score")),
        };
        *slot = Some(number(v, &p)?);
    }
    if let Some(scaled) = scaled
        && !(-1.0..=1.0).contains(&scaled)
    {
        return Err(error(
            &path.key("scaled"),
            "score-scaled-range",
            format!("scaled {scaled} is outside [-1, 1]"),
        ));
    }
    if let (Some(min), Some(max)) = (min, max)
        && min >= max
    {
        return Err(error(
            &path.key("min"),
            "score-min-max",
            format!("min {min} must be less than max {max}"),
        ));
    }
    if let Some(raw) = raw {
        if let Some(min) = min
            && raw < min
        {
            return Err(error(
                &path.key("raw"),
                "score-raw-range",
                format!("raw {raw} is less than min {min}"),
            ));
        }
        if let Some(max) = max
            && raw > max
        {
            return Err(error(
                &path.key("raw"),
                "score-raw-range",
                format!("raw {raw} is greater than max {max}"),
            ));
        }
    }
    Ok(())
}

const CONTEXT_ACTIVITY_TYPES: [&str; 4] = ["parent", "grouping", "category", "other"];

/// Data §2.4.6 (+ 9274.1.1 §4.2.2.5 contextAgents/contextGroups under 2.0).
fn context(value: &Value, path: &Path, version: Version, object_kind: ObjectKind) -> Result {
    for (key, v) in object(value, path)? {
        let p = path.key(key);
        match key.as_str() {
            "registration" => uuid(v, &p)?,
            "instructor" => {
                actor(v, &p, AgentRole::Plain)?;
            }
            "team" => {
                let map = object(v, &p)?;
                if map.get("objectType").and_then(Value::as_str) != Some("Group") {
                    return Err(error(
                        &p,
                        "team-not-group",
                        "context.team must be a group (objectType \"Group\")",
                    ));
                }
                group(map, &p)?;
            }
            "contextActivities" => {
                for (kind, activities) in object(v, &p)? {
                    let kp = p.key(kind);
                    if !CONTEXT_ACTIVITY_TYPES.contains(&kind.as_str()) {
                        return Err(error(
                            &kp,
                            "unknown-property",
                            format!(
                                "{kind:?} is not a context activity type (parent, grouping, category, other)"
                            ),
                        ));
                    }
                    // "either a single Activity Object or an array of Activity Objects".
                    match activities {
                        Value::Array(list) => {
                            for (i, item) in list.iter().enumerate() {
                                activity_value(item, &kp.index(i))?;
                            }
                        }
                        single => activity_value(single, &kp)?,
                    }
                }
            }
            "revision" | "platform" => {
                string(v, &p)?;
                if object_kind != ObjectKind::Activity {
                    return Err(error(
                        &p,
                        "context-requires-activity",
                        format!("context.{key} may only be used when the object is an activity"),
                    ));
                }
            }
            "language" => language_tag(v, &p)?,
            "statement" => statement_ref(object(v, &p)?, &p)?,
            "extensions" => extensions(v, &p)?,
            "contextAgents" if version == Version::V2_0_0 => {
                for (i, item) in array(v, &p)?.iter().enumerate() {
                    context_agent(item, &p.index(i))?;
                }
            }
            "contextGroups" if version == Version::V2_0_0 => {
                for (i, item) in array(v, &p)?.iter().enumerate() {
                    context_group(item, &p.index(i))?;
                }
            }
            "contextAgents" | "contextGroups" => {
                return Err(error(
                    &p,
                    "unknown-property",
                    format!("{key:?} is only defined in xapi 2.0"),
                ));
            }
            _ => return Err(unknown(&p, key, "a context")),
        }
    }
    Ok(())
}

fn relevant_types(value: &Value, path: &Path) -> Result {
    let list = array(value, path)?;
    if list.is_empty() {
        return Err(error(
            path,
            "empty-relevant-types",
            "relevantTypes must hold at least one activity type iri",
        ));
    }
    for (i, item) in list.iter().enumerate() {
        iri(item, &path.index(i))?;
    }
    Ok(())
}

/// 9274.1.1 §4.2.2.5 Context Agents table: `{objectType: "contextAgent", agent: Agent,
/// relevantTypes?: [IRI, ...] (1 or more)}`.
fn context_agent(value: &Value, path: &Path) -> Result {
    let map = object(value, path)?;
    for (key, v) in map {
        let p = path.key(key);
        match key.as_str() {
            "objectType" => {
                if string(v, &p)? != "contextAgent" {
                    return Err(error(
                        &p,
                        "invalid-object-type",
                        "a context agent's objectType must be \"contextAgent\"",
                    ));
                }
            }
            "agent" => {
                let agent_map = object(v, &p)?;
                if let Some(kind) = agent_map.get("objectType")
                    && kind.as_str() == Some("Group")
                {
                    return Err(error(
                        &p,
                        "invalid-object-type",
                        "a context agent's agent must be an agent, not a group",
                    ));
                }
                agent(agent_map, &p)?;
            }
            "relevantTypes" => relevant_types(v, &p)?,
            _ => return Err(unknown(&p, key, "a context agent")),
        }
    }
    for key in ["objectType", "agent"] {
        if !map.contains_key(key) {
            return Err(missing(path, key, "a context agent"));
        }
    }
    Ok(())
}

/// 9274.1.1 §4.2.2.5 Context Group table: `{objectType: "contextGroup", group: Group,
/// relevantTypes?: [IRI, ...] (1 or more)}`.
fn context_group(value: &Value, path: &Path) -> Result {
    let map = object(value, path)?;
    for (key, v) in map {
        let p = path.key(key);
        match key.as_str() {
            "objectType" => {
                if string(v, &p)? != "contextGroup" {
                    return Err(error(
                        &p,
                        "invalid-object-type",
                        "a context group's objectType must be \"contextGroup\"",
                    ));
                }
            }
            "group" => {
                group(object(v, &p)?, &p)?;
            }
            "relevantTypes" => relevant_types(v, &p)?,
            _ => return Err(unknown(&p, key, "a context group")),
        }
    }
    for key in ["objectType", "group"] {
        if !map.contains_key(key) {
            return Err(missing(path, key, "a context group"));
        }
    }
    Ok(())
}

/// Data §2.4.9: an Agent, or for 3-legged OAuth an anonymous Group of exactly two Agents
/// (the CTS rejects identified groups and groups of one or three, `authorities.js`).
fn authority(value: &Value, path: &Path) -> Result {
    if let Some((identified, members)) = actor(value, path, AgentRole::Plain)? {
        if identified {
            return Err(error(
                path,
                "authority-group",
                "an authority group must be anonymous (an oauth consumer and a user)",
            ));
        }
        if members != 2 {
            return Err(error(
                path,
                "authority-group",
                format!("an authority group must have exactly two members; found {members}"),
            ));
        }
    }
    Ok(())
}

/// Data §2.4.11.
fn attachments(value: &Value, path: &Path) -> Result {
    for (i, item) in array(value, path)?.iter().enumerate() {
        let ip = path.index(i);
        let map = object(item, &ip)?;
        for (key, v) in map {
            let p = ip.key(key);
            match key.as_str() {
                "usageType" => iri(v, &p)?,
                "display" | "description" => language_map(v, &p)?,
                "contentType" => {
                    let s = string(v, &p)?;
                    if !is_media_type(s) {
                        return Err(error(
                            &p,
                            "invalid-media-type",
                            format!("{s:?} is not an internet media type"),
                        ));
                    }
                }
                "length" => {
                    let ok = match v {
                        Value::Number(n) => {
                            n.is_u64() || n.as_f64().is_some_and(|f| f >= 0.0 && f.fract() == 0.0)
                        }
                        other => return Err(wrong_type(&p, "an integer", other)),
                    };
                    if !ok {
                        return Err(error(
                            &p,
                            "invalid-length",
                            "length must be a non-negative integer",
                        ));
                    }
                }
                "sha2" => {
                    let s = string(v, &p)?;
                    if !is_sha2_hex(s) {
                        return Err(error(
                            &p,
                            "invalid-sha2",
                            format!("{s:?} is not a hex sha-2 digest"),
                        ));
                    }
                }
                "fileUrl" => irl(v, &p)?,
                _ => return Err(unknown(&p, key, "an attachment")),
            }
        }
        for key in ["usageType", "display", "contentType", "length", "sha2"] {
            if !map.contains_key(key) {
                return Err(missing(&ip, key, "an attachment"));
            }
        }
    }
    Ok(())
}

/// Validates a statement (Data §2.4) or the body of a SubStatement (Data §2.4.4.3: "validated
/// as a Statement in addition to other SubStatement requirements").
fn statement_body(map: &Object, path: &Path, version: Version, level: Level) -> Result {
    let kind = object_kind(map);
    let top = level == Level::Statement;
    for (key, v) in map {
        let p = path.key(key);
        match key.as_str() {
            "actor" => {
                actor(v, &p, AgentRole::Plain)?;
            }
            "verb" => verb(v, &p)?,
            "object" => statement_object(v, &p, version, level)?,
            "result" => result(v, &p)?,
            "context" => context(v, &p, version, kind)?,
            "timestamp" => timestamp(v, &p)?,
            "attachments" => attachments(v, &p)?,
            "id" if top => uuid(v, &p)?,
            "stored" if top => timestamp(v, &p)?,
            "authority" if top => authority(v, &p)?,
            "version" if top => {
                let s = string(v, &p)?;
                if !is_statement_version(s, version) {
                    let allowed = match version {
                        Version::V1_0_3 => "\"1.0\" or \"1.0.x\"",
                        Version::V2_0_0 => "\"1.0\", \"1.0.x\", \"2.0\" or \"2.0.x\"",
                    };
                    return Err(error(
                        &p,
                        "invalid-version",
                        format!("version {s:?} is not {allowed}"),
                    ));
                }
            }
            "objectType" if !top => {
                // Reached only through objectType "SubStatement"; re-checked for the type.
                string(v, &p)?;
            }
            "id" | "stored" | "authority" | "version" => {
                return Err(error(
                    &p,
                    "substatement-property",
                    format!("a substatement must not have {key:?}"),
                ));
            }
            _ => {
                let context = if top { "a statement" } else { "a substatement" };
                return Err(unknown(&p, key, context));
            }
        }
    }
    for key in ["actor", "verb", "object"] {
        if !map.contains_key(key) {
            let context = if top { "a statement" } else { "a substatement" };
            return Err(missing(path, key, context));
        }
    }
    // Data §2.3.2 / 9274.1.1 §4.2.5: a voiding statement's object must be a StatementRef. A
    // SubStatement never happened, so it voids nothing and is not held to this.
    let voiding = map
        .get("verb")
        .and_then(|v| v.get("id"))
        .and_then(Value::as_str)
        == Some(VOIDED_VERB);
    if top && voiding && kind != ObjectKind::StatementRef {
        return Err(error(
            &path.key("object"),
            "voiding-requires-statement-ref",
            "a statement with the voided verb must have a statementref object",
        ));
    }
    Ok(())
}

/// Validates one statement for the version it arrived with.
pub(crate) fn validate_statement(value: &Value, path: &Path, version: Version) -> Result {
    let map = object(value, path)?;
    statement_body(map, path, version, Level::Statement)
}

/// Validates an Agent or identified Group given as a query parameter (Communication §2.1.3
/// `agent`, the document resources' `agent`).
pub(crate) fn validate_agent_param(value: &Value, path: &Path) -> Result<bool> {
    actor(value, path, AgentRole::Plain).map(|group| group.is_none_or(|(identified, _)| identified))
}
