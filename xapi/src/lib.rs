//! The xAPI data model and its validation (xAPI 1.0.3 and 2.0.0): pure, no I/O, no server code.
//!
//! Everything that arrives over the wire is parsed here into types whose constructors validate,
//! so that an invalid statement cannot be represented past the edge.

mod compare;
mod datatypes;
mod format;
mod json;
mod path;
mod signature;
mod terms;
mod time;
mod validate;

use serde_json::{Map, Value};
use uuid::Uuid;

pub use datatypes::{
    is_absolute_iri, is_irl, is_language_tag, is_mbox, is_media_type, is_sha1_hex, is_sha2_hex,
    is_statement_version, is_token_byte, is_uuid,
};
pub use format::{
    context_activities_as_arrays, format_canonical, format_ids, normalize_for_storage,
    parse_accept_language,
};
pub use json::parse_json_strict;
pub use signature::{
    SIGNATURE_CONTENT_TYPE, SIGNATURE_RULES, SIGNATURE_USAGE_TYPE, SignatureAttachment,
    signature_attachments, verify_signature,
};
pub use time::{DurationUnit, IsoDuration, parse_duration, parse_timestamp};
pub use validate::{RULES, VOIDED_VERB};

/// The xAPI version a request speaks, chosen by its `X-Experience-API-Version` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    V1_0_3,
    V2_0_0,
}

impl Version {
    /// Accepts `1.0`, `1.0.0`..`1.0.x` as 1.0.3 and `2.0`, `2.0.x` as 2.0.0; anything else is `None`.
    /// (Communication §3.3: "accept requests with a version header of 1.0 as if the version
    /// header was 1.0.0"; 9274.1.1 §4.1.7 likewise for 2.0.) Surrounding whitespace is ignored.
    pub fn from_header(value: &str) -> Option<Version> {
        let value = value.trim();
        let patch_ok = |rest: &str| {
            rest.is_empty()
                || rest.strip_prefix('.').is_some_and(|patch| {
                    !patch.is_empty()
                        && patch.bytes().all(|b| b.is_ascii_digit())
                        && (patch == "0" || !patch.starts_with('0'))
                })
        };
        if value.strip_prefix("1.0").is_some_and(patch_ok) {
            Some(Version::V1_0_3)
        } else if value.strip_prefix("2.0").is_some_and(patch_ok) {
            Some(Version::V2_0_0)
        } else {
            None
        }
    }

    /// The version string the LRS answers with: `1.0.3` or `2.0.0`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1_0_3 => "1.0.3",
            Version::V2_0_0 => "2.0.0",
        }
    }
}

/// A client error in xAPI input: where it is (a JSON path such as `$[2].actor.mbox`, or a
/// query parameter name) and which rule it breaks (a short stable name such as `one-ifi`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message} ({rule})")]
pub struct ValidationError {
    pub path: String,
    pub rule: &'static str,
    pub message: String,
}

impl ValidationError {
    /// The same error at another path, e.g. a query parameter name for an error from
    /// [`parse_timestamp`] or [`parse_duration`] (which leave the path empty).
    pub fn at(self, path: impl Into<String>) -> ValidationError {
        ValidationError {
            path: path.into(),
            ..self
        }
    }
}

/// Limits applied while parsing JSON.
#[derive(Debug, Clone, Copy)]
pub struct JsonLimits {
    pub max_depth: usize,
}

impl Default for JsonLimits {
    fn default() -> Self {
        JsonLimits { max_depth: 64 }
    }
}

/// A statement that passed validation for the version it arrived with.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    json: Map<String, Value>,
}

/// What a statement can be found by through the query filters of the Statement Resource.
/// Agent values are IFI keys (see [`ifi_key`]); activity values are activity ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexTerms {
    /// The `agent` filter: actor and object when they are an Agent or identified Group, and
    /// members of a Group actor/object.
    pub agents: Vec<String>,
    /// The `agent` filter with `related_agents=true`: everything in `agents`, plus authority,
    /// context instructor and team (with members), 2.0 contextAgents/contextGroups, and the
    /// same places inside a SubStatement object.
    pub related_agents: Vec<String>,
    pub verb: String,
    /// The `activity` filter: the object's id when the object is an Activity.
    pub activity: Option<String>,
    /// The `activity` filter with `related_activities=true`: the object, every context
    /// activity, and the same inside a SubStatement object.
    pub related_activities: Vec<String>,
    pub registration: Option<Uuid>,
}

impl Statement {
    /// Validates one statement (xAPI Data §2.2 "to the letter") for the given version.
    /// Paths in errors start at `path_prefix` (e.g. `$` or `$[3]`).
    pub fn parse(
        value: Value,
        version: Version,
        path_prefix: &str,
    ) -> Result<Statement, ValidationError> {
        validate::validate_statement(&value, &path::Path::root(path_prefix), version)?;
        match value {
            Value::Object(json) => Ok(Statement { json }),
            // validate_statement rejects anything but an object.
            other => Err(ValidationError {
                path: path_prefix.to_owned(),
                rule: "wrong-type",
                message: format!("expected an object, found {other}"),
            }),
        }
    }

    /// The `id` the client sent, if any (the LRS assigns one otherwise).
    pub fn id(&self) -> Option<Uuid> {
        self.json
            .get("id")
            .and_then(Value::as_str)
            .and_then(datatypes::uuid_from_str)
    }

    /// The validated JSON, exactly as sent.
    pub fn json(&self) -> &Map<String, Value> {
        &self.json
    }

    pub fn into_json(self) -> Map<String, Value> {
        self.json
    }

    /// The target of a voiding statement (verb `http://adlnet.gov/expapi/verbs/voided` with a
    /// StatementRef object).
    pub fn voids(&self) -> Option<Uuid> {
        let verb = self
            .json
            .get("verb")
            .and_then(|v| v.get("id"))
            .and_then(Value::as_str);
        if verb == Some(VOIDED_VERB) {
            self.statement_ref()
        } else {
            None
        }
    }

    /// The target when the object is a StatementRef (voiding or not).
    pub fn statement_ref(&self) -> Option<Uuid> {
        let object = self.json.get("object")?;
        if object.get("objectType").and_then(Value::as_str) != Some("StatementRef") {
            return None;
        }
        object
            .get("id")
            .and_then(Value::as_str)
            .and_then(datatypes::uuid_from_str)
    }

    /// The values this statement is indexed under for the Statement Resource's filters.
    pub fn index_terms(&self) -> IndexTerms {
        terms::index_terms(&self.json)
    }
}

/// The filter terms of a statement's JSON, once validated (for a statement changed after
/// parsing, such as one whose `authority` the LRS has overwritten).
pub fn index_terms_of(json: &Map<String, Value>) -> IndexTerms {
    terms::index_terms(json)
}

/// Parses a Statement Resource body: one statement object or an array of them.
///
/// A batch is rejected as a whole if any statement is invalid (9274.1.1 §4.1.5), with the
/// error path prefixed `$[i]`; two statements with the same `id` in one batch are rejected
/// with `duplicate-statement-id` (Communication §2.1.2 SHOULD*). An empty array yields no
/// statements.
pub fn parse_statements(
    body: &[u8],
    version: Version,
    limits: JsonLimits,
) -> Result<Vec<Statement>, ValidationError> {
    match parse_json_strict(body, limits)? {
        Value::Array(items) => {
            let mut statements = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                statements.push(Statement::parse(item, version, &format!("$[{i}]"))?);
            }
            let mut ids: Vec<(Uuid, usize)> = statements
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.id().map(|id| (id, i)))
                .collect();
            ids.sort_unstable();
            if let Some(pair) = ids.windows(2).find(|pair| pair[0].0 == pair[1].0) {
                return Err(ValidationError {
                    path: format!("$[{}].id", pair[1].1),
                    rule: "duplicate-statement-id",
                    message: format!("statement id {} is used twice in the batch", pair[1].0),
                });
            }
            Ok(statements)
        }
        value => Ok(vec![Statement::parse(value, version, "$")?]),
    }
}

/// The canonical key of an Agent or identified Group's inverse functional identifier:
/// `mbox:mailto:a@b`, `mbox_sha1sum:<hex>`, `openid:<uri>`, `account:<homePage>|<name>`.
///
/// The `mailto:` scheme and the e-mail domain are lowercased and `mbox_sha1sum` hex is
/// lowercased (Data §2.4.2.3: "The domain portions of email addresses are case insensitive");
/// `None` when the object has no IFI (an anonymous Group).
pub fn ifi_key(agent: &Map<String, Value>) -> Option<String> {
    terms::ifi_key(agent)
}

/// Parses the `agent` query parameter (JSON Agent or identified Group) into its IFI key.
///
/// The value is validated like an Agent or Group in a statement (Data §2.2: "validate parameter
/// values to the same standards"), strictly (duplicate keys rejected). Errors have the path
/// `agent` (or `agent.<property>`); an anonymous Group is `invalid-agent`. The rules are the
/// same in both versions, hence `version` is unused today.
pub fn parse_agent_param(value: &str, version: Version) -> Result<String, ValidationError> {
    let _ = version;
    let relocate = |e: ValidationError| {
        let path = e
            .path
            .strip_prefix('$')
            .map_or_else(|| e.path.clone(), |rest| format!("agent{rest}"));
        e.at(path)
    };
    let json = parse_json_strict(value.as_bytes(), JsonLimits::default()).map_err(relocate)?;
    let identified = validate::validate_agent_param(&json, &path::Path::root("agent"))?;
    let key = json.as_object().and_then(ifi_key);
    match key {
        Some(key) if identified => Ok(key),
        _ => Err(ValidationError {
            path: "agent".to_owned(),
            rule: "invalid-agent",
            message: "the agent parameter must be an agent or an identified group".to_owned(),
        }),
    }
}

/// Whether two statements are the same statement under xAPI's immutability rules
/// (Data §2.3.1), ignoring what the LRS itself sets (id assignment, authority, stored,
/// version, timestamp serialisation) and the listed exceptions.
///
/// See the `compare` module for the full list of what is ignored and why; in short: `id`
/// only when both have one, `authority`/`stored`/`version`/`attachments` never, `timestamp`
/// as an instant when both have one, verb display and activity definitions never, group
/// member order, case of mailto domains/sha1 hex/UUIDs, and duration precision below 0.01 s.
pub fn equivalent(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    compare::equivalent(a, b)
}

/// Parses a UUID as xAPI requires: the standard `8-4-4-4-12` hex string form, either case
/// (Data §4.4 "UUIDs MUST be in the standard string form"; braced, URN and unhyphenated forms
/// are rejected). The error's path is empty (see [`ValidationError::at`]).
pub fn parse_uuid(value: &str) -> Result<Uuid, ValidationError> {
    datatypes::uuid_from_str(value).ok_or_else(|| ValidationError {
        path: String::new(),
        rule: "invalid-uuid",
        message: format!("{value:?} is not a uuid in standard string form"),
    })
}

/// Whether a string is an absolute IRI (has a scheme and only IRI characters), as xAPI
/// requires for ids (Data §2.2, §4.3); same check as [`is_absolute_iri`].
pub fn is_iri(value: &str) -> bool {
    datatypes::is_absolute_iri(value)
}
