//! Records of coaching, mentoring, attendance, observations and assessments made without an
//! authoring tool: a small body is validated, turned into the statement its profile template
//! describes ([`crate::profile`]) and written to the LRS through the [`StatementSink`] port.
//!
//! Statement ids are derived from the record's content, so a retried request writes the
//! same statements again, which the LRS accepts without storing anything twice (xAPI
//! Communication §2.1.2: a statement with an existing id and the same content).

use async_trait::async_trait;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use capability_engine::{CapabilityId, Catalog, PersonKey, vocab};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::CapabilityService;
use crate::error::ServiceError;
use crate::ports::{PortError, Tenant};
use crate::profile::{EXT_FEEDBACK, RecordKind, TYPE_PROFILE, version_id};

/// Where recorded statements go: the LRS, validated like any client's.
#[async_trait]
pub trait StatementSink: Send + Sync {
    /// Stores the statements in one batch. Statements already stored with the same id and
    /// content are accepted again.
    async fn record(&self, tenant: Tenant, statements: Vec<Value>) -> Result<(), PortError>;
}

/// A validated record: every field in the form the statement needs.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordRequest {
    pub kind: RecordKind,
    /// The learner as an xAPI Agent (`objectType`, `name` when given, the identifier).
    pub learner: Value,
    /// The coach, mentor, instructor, observer or assessor; `None` for a self-assessment.
    pub by: Option<Value>,
    /// The capability and its IRI.
    pub capability: Option<(CapabilityId, String)>,
    /// The level and the ends of the capability's scale.
    pub level: Option<LevelOnScale>,
    pub occurred: DateTime<Utc>,
    /// An ISO 8601 duration, as given.
    pub duration: Option<String>,
    pub notes: Option<String>,
    /// For an observation: whether the performance met the level.
    pub success: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LevelOnScale {
    pub level: u8,
    pub min: u8,
    pub max: u8,
}

const FIELDS: [&str; 9] = [
    "kind",
    "learner",
    "by",
    "capability",
    "level",
    "occurred",
    "duration",
    "notes",
    "success",
];

/// The longest `notes` accepted, in characters.
pub const MAX_NOTES: usize = 4000;

impl RecordRequest {
    /// Reads and validates a request body against the tenant's catalog. Errors name the
    /// field and the rule.
    pub fn parse(body: &[u8], catalog: &Catalog) -> Result<RecordRequest, ServiceError> {
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            ServiceError::invalid(
                &format!("line {} column {}", e.line(), e.column()),
                "json",
                e.to_string(),
            )
        })?;
        let Value::Object(body) = value else {
            return Err(ServiceError::invalid(
                "",
                "record-object",
                "a record is a JSON object",
            ));
        };
        if let Some(unknown) = body.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(ServiceError::invalid(
                unknown,
                "unknown-field",
                format!("{unknown} is not a field of a record; the fields are {FIELDS:?}"),
            ));
        }
        let text = |field: &str| -> Result<Option<&str>, ServiceError> {
            match body.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(ServiceError::invalid(
                    field,
                    "string",
                    format!("{field} is a string"),
                )),
            }
        };
        let kind_name =
            text("kind")?.ok_or_else(|| required("kind", "the kind of record is required"))?;
        let kind = RecordKind::parse(kind_name).ok_or_else(|| {
            let names: Vec<&str> = RecordKind::ALL.iter().map(|k| k.as_str()).collect();
            ServiceError::invalid(
                "kind",
                "record-kind",
                format!("{kind_name:?} is not a kind of record; the kinds are {names:?}"),
            )
        })?;
        let learner = agent(&body, "learner")?.ok_or_else(|| {
            required(
                "learner",
                "the learner (an xAPI Agent with an identifier) is required",
            )
        })?;
        let learner_key = key_of(&learner);
        let by = agent(&body, "by")?;
        let by = match (kind.needs_other_person(), by) {
            (true, None) => {
                return Err(required(
                    "by",
                    format!(
                        "a {} names who held or made it (an xAPI Agent)",
                        kind.as_str()
                    ),
                ));
            }
            (true, Some(by)) if key_of(&by) == learner_key => {
                return Err(ServiceError::invalid(
                    "by",
                    "by-not-learner",
                    "the coach, mentor, instructor or assessor is someone other than the learner; use self-assessment for the learner's own rating",
                ));
            }
            (true, by) => by,
            (false, Some(by)) if key_of(&by) != learner_key => {
                return Err(ServiceError::invalid(
                    "by",
                    "self-is-learner",
                    "a self-assessment is made by the learner",
                ));
            }
            (false, _) => None,
        };

        let capability = match text("capability")? {
            None if kind.needs_capability() => {
                return Err(required(
                    "capability",
                    format!("a {} is about a capability", kind.as_str()),
                ));
            }
            None => None,
            Some(reference) => Some(capability(reference, catalog)?),
        };
        let level = match body.get("level") {
            None | Some(Value::Null) if kind.has_level() => {
                return Err(required(
                    "level",
                    format!("a {} gives a level", kind.as_str()),
                ));
            }
            None | Some(Value::Null) => None,
            Some(_) if !kind.has_level() => {
                return Err(ServiceError::invalid(
                    "level",
                    "level-not-used",
                    format!(
                        "a {} has no level; levels come with observations and assessments",
                        kind.as_str()
                    ),
                ));
            }
            Some(value) => {
                // `needs_capability` holds for every kind with a level.
                let Some((id, _)) = &capability else {
                    return Err(required("capability", "a level is of a capability"));
                };
                Some(level_on_scale(value, id, catalog)?)
            }
        };
        let occurred_text = text("occurred")?.ok_or_else(|| {
            required(
                "occurred",
                "when it took place is required (RFC 3339 timestamp)",
            )
        })?;
        let occurred = DateTime::parse_from_rfc3339(occurred_text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                ServiceError::invalid(
                    "occurred",
                    "rfc3339",
                    format!("occurred is not an RFC 3339 timestamp: {e}"),
                )
            })?;
        let duration = text("duration")?.map(str::to_owned);
        if let Some(d) = &duration {
            xapi::parse_duration(d).map_err(|e| {
                ServiceError::invalid(
                    "duration",
                    "iso8601-duration",
                    format!("duration is not an ISO 8601 duration: {}", e.message),
                )
            })?;
        }
        let notes = text("notes")?.map(str::to_owned);
        if notes
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NOTES)
        {
            return Err(ServiceError::invalid(
                "notes",
                "max-length",
                format!("notes are at most {MAX_NOTES} characters"),
            ));
        }
        let success = match body.get("success") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(_)) if kind != RecordKind::Observation => {
                return Err(ServiceError::invalid(
                    "success",
                    "success-not-used",
                    "only an observation says whether the performance met the level",
                ));
            }
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(ServiceError::invalid(
                    "success",
                    "boolean",
                    "success is true or false",
                ));
            }
        };
        Ok(RecordRequest {
            kind,
            learner,
            by,
            capability,
            level,
            occurred,
            duration,
            notes,
            success,
        })
    }

    /// The statements of the record, as its template describes them, with ids derived from
    /// the record's content.
    pub fn statements(&self) -> Vec<Value> {
        let digest = self.digest();
        let object_id = format!(
            "{}/records/{}/{}",
            crate::profile::profile_id(),
            self.kind.as_str(),
            hex::encode(&digest[..16])
        );
        let template = self.kind.template();
        let by = self.by.clone().unwrap_or(Value::Null);
        let competency = |iri: &str| json!({"objectType": "Activity", "id": iri, "definition": {"type": vocab::TYPE_COMPETENCY}});
        let activity = |name: &str, activity_type: &str| {
            json!({"objectType": "Activity", "id": object_id,
                   "definition": {"type": activity_type, "name": {"en": name}}})
        };

        let mut context = Map::new();
        let mut extensions = Map::new();
        let mut result = Map::new();
        let mut activities = Map::new();
        activities.insert(
            "category".into(),
            json!([{"objectType": "Activity", "id": version_id(), "definition": {"type": TYPE_PROFILE}}]),
        );
        let (actor, object) = match self.kind {
            RecordKind::MentoringSession => (by.clone(), self.learner.clone()),
            RecordKind::CoachingSession | RecordKind::Attendance => {
                context.insert("instructor".into(), by.clone());
                result.insert("completion".into(), json!(true));
                (
                    self.learner.clone(),
                    activity(template.label, vocab::TYPE_MEETING),
                )
            }
            RecordKind::Observation => {
                context.insert("instructor".into(), by.clone());
                extensions.insert(vocab::EXT_OBSERVER.into(), by.clone());
                result.insert("success".into(), json!(self.success));
                result.insert(
                    "response".into(),
                    json!(if self.success {
                        "At Expectation"
                    } else {
                        "Below Expectation"
                    }),
                );
                (
                    self.learner.clone(),
                    activity(template.label, vocab::TYPE_PERFORMANCE),
                )
            }
            RecordKind::SelfAssessment
            | RecordKind::ManagerAssessment
            | RecordKind::PeerAssessment
            | RecordKind::AssessorAssessment => {
                if let Some(by) = &self.by {
                    context.insert("instructor".into(), by.clone());
                }
                let iri = self
                    .capability
                    .as_ref()
                    .map(|(_, iri)| iri.as_str())
                    .unwrap_or_default();
                (self.learner.clone(), competency(iri))
            }
        };
        if let Some(kind) = self.kind.session_kind() {
            extensions.insert(vocab::EXT_SESSION_KIND.into(), json!(kind));
        }
        if let Some(kind) = self.kind.assessment_type() {
            extensions.insert(vocab::EXT_ASSESSMENT_TYPE.into(), json!(kind));
        }
        if let Some(level) = self.level {
            if self.kind == RecordKind::Observation {
                extensions.insert(vocab::EXT_LEVEL.into(), json!(level.level));
            } else {
                // xAPI Data §2.4.5.1: raw between min and max.
                result.insert(
                    "score".into(),
                    json!({"raw": level.level, "min": level.min, "max": level.max}),
                );
            }
        }
        if let Some((_, iri)) = &self.capability
            && object.get("id").and_then(Value::as_str) != Some(iri)
        {
            activities.insert("grouping".into(), json!([competency(iri)]));
        }
        if let Some(duration) = &self.duration {
            result.insert("duration".into(), json!(duration));
        }
        if let Some(notes) = &self.notes {
            extensions.insert(EXT_FEEDBACK.into(), json!(notes));
        }
        context.insert("contextActivities".into(), Value::Object(activities));
        if !extensions.is_empty() {
            context.insert("extensions".into(), Value::Object(extensions));
        }
        let mut statement = json!({
            "id": statement_id(&digest, 0).to_string(),
            "actor": actor,
            "verb": {"id": template.verb, "display": {"en": verb_display(template.verb)}},
            "object": object,
            "context": context,
            "timestamp": self.occurred.to_rfc3339_opts(SecondsFormat::Millis, true),
        });
        if !result.is_empty() {
            statement["result"] = Value::Object(result);
        }
        vec![statement]
    }

    /// A digest of everything the statements say.
    fn digest(&self) -> [u8; 32] {
        let canonical = json!({
            "kind": self.kind.as_str(),
            "learner": self.learner,
            "by": self.by,
            "capability": self.capability.as_ref().map(|(id, iri)| (id.as_str(), iri)),
            "level": self.level,
            "occurred": self.occurred.to_rfc3339_opts(SecondsFormat::Millis, true),
            "duration": self.duration,
            "notes": self.notes,
            "success": self.success,
        });
        Sha256::digest(canonical.to_string().as_bytes()).into()
    }
}

fn required(field: &str, message: impl Into<String>) -> ServiceError {
    ServiceError::invalid(field, "required", message)
}

/// An Agent field: validated as xAPI requires (Data §2.4.2.1), then rebuilt with its keys in
/// one order so that the same person always gives the same statement.
fn agent(body: &Map<String, Value>, field: &str) -> Result<Option<Value>, ServiceError> {
    let value = match body.get(field) {
        None | Some(Value::Null) => return Ok(None),
        Some(v) => v,
    };
    let Value::Object(map) = value else {
        return Err(ServiceError::invalid(
            field,
            "agent",
            format!("{field} is an xAPI Agent object"),
        ));
    };
    if map.get("objectType").is_some_and(|t| t != "Agent") {
        return Err(ServiceError::invalid(
            &format!("{field}.objectType"),
            "agent",
            format!("{field} is an Agent, not a Group"),
        ));
    }
    xapi::parse_agent_param(&value.to_string(), xapi::Version::V1_0_3).map_err(|e| {
        let path = e
            .path
            .strip_prefix("agent")
            .map_or_else(|| field.to_owned(), |rest| format!("{field}{rest}"));
        ServiceError::invalid(&path, e.rule, e.message)
    })?;
    let mut out = Map::new();
    out.insert("objectType".into(), json!("Agent"));
    for key in ["name", "mbox", "mbox_sha1sum", "openid", "account"] {
        if let Some(v) = map.get(key) {
            let v = match (key, v) {
                ("account", Value::Object(account)) => json!({
                    "homePage": account.get("homePage"),
                    "name": account.get("name"),
                }),
                _ => v.clone(),
            };
            out.insert(key.into(), v);
        }
    }
    Ok(Some(Value::Object(out)))
}

fn key_of(agent: &Value) -> Option<PersonKey> {
    agent.as_object().and_then(PersonKey::from_agent)
}

/// `framework/capability` or a bare capability id; the capability needs an IRI, because the
/// engine finds capabilities in statements by IRI.
fn capability(reference: &str, catalog: &Catalog) -> Result<(CapabilityId, String), ServiceError> {
    let (framework, id) = match reference.split_once('/') {
        Some((framework, id)) => (Some(framework), id),
        None => (None, reference),
    };
    let unknown = || {
        ServiceError::invalid(
            "capability",
            "known-capability",
            format!("no capability {reference} in the tenant's frameworks"),
        )
    };
    let id = CapabilityId::parse(id).map_err(|_| unknown())?;
    let found = catalog.capability(&id).map_err(|_| unknown())?;
    if let Some(framework) = framework {
        let owner = catalog.framework_of(&id).map_err(|_| unknown())?;
        if owner.id().as_str() != framework {
            return Err(ServiceError::invalid(
                "capability",
                "capability-framework",
                format!(
                    "capability {} belongs to framework {}, not {framework}",
                    id.as_str(),
                    owner.id().as_str()
                ),
            ));
        }
    }
    let iri = found.iri().ok_or_else(|| {
        ServiceError::invalid(
            "capability",
            "capability-iri",
            format!(
                "capability {} has no iri; statements name capabilities by IRI",
                id.as_str()
            ),
        )
    })?;
    Ok((id, iri.to_owned()))
}

fn level_on_scale(
    value: &Value,
    id: &CapabilityId,
    catalog: &Catalog,
) -> Result<LevelOnScale, ServiceError> {
    let scale = catalog
        .framework_of(id)
        .map_err(|e| ServiceError::engine(e, "capability"))?
        .scale();
    let levels: Vec<u8> = scale.iter().map(|s| s.level.get()).collect();
    let (Some(&min), Some(&max)) = (levels.iter().min(), levels.iter().max()) else {
        return Err(ServiceError::invalid(
            "capability",
            "scale",
            "the capability's framework has no scale",
        ));
    };
    let level = value
        .as_u64()
        .and_then(|n| u8::try_from(n).ok())
        .filter(|n| levels.contains(n))
        .ok_or_else(|| {
            ServiceError::invalid(
                "level",
                "level-on-scale",
                format!("level is an integer of the capability's scale, {min} to {max}"),
            )
        })?;
    Ok(LevelOnScale { level, min, max })
}

/// A name-based UUID (RFC 9562 version 8) from the record's digest and the statement's
/// position in the record.
fn statement_id(digest: &[u8; 32], index: u8) -> Uuid {
    let mut hasher = Sha256::new();
    hasher.update(digest);
    hasher.update([index]);
    let bytes: [u8; 32] = hasher.finalize().into();
    let mut first = [0u8; 16];
    first.copy_from_slice(&bytes[..16]);
    uuid::Builder::from_custom_bytes(first).into_uuid()
}

fn verb_display(verb: &str) -> &'static str {
    match verb {
        vocab::VERB_ATTENDED => "attended",
        vocab::VERB_MENTORED => "mentored",
        vocab::VERB_PERFORMED => "performed",
        vocab::VERB_ACHIEVED => "achieved",
        _ => "recorded",
    }
}

/// What recording a session or assessment wrote.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Recorded {
    pub kind: &'static str,
    /// The profile template the statements follow.
    pub template: String,
    /// The ids of the statements written.
    pub statements: Vec<Value>,
}

impl CapabilityService {
    /// Parses a record request (the body of `POST /capabilities/records`) against the tenant's
    /// catalog and writes its statements to the sink.
    pub async fn record(&self, tenant: Tenant, body: &[u8]) -> Result<Recorded, ServiceError> {
        let model = self.model(tenant).await?;
        let record = RecordRequest::parse(body, &model.catalog)?;
        let statements = record.statements();
        let ids = statements
            .iter()
            .filter_map(|s| s.get("id").cloned())
            .collect();
        self.record_statements(tenant, statements).await?;
        Ok(Recorded {
            kind: record.kind.as_str(),
            template: record.kind.template_id(),
            statements: ids,
        })
    }
}

/// `POST /capabilities/records`.
pub(crate) async fn post_record(
    State(service): State<CapabilityService>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ServiceError> {
    let caller = crate::http::manager(&service, &headers).await?;
    let recorded = service.record(caller.tenant, &body).await?;
    Ok((StatusCode::CREATED, Json(recorded)).into_response())
}

#[cfg(test)]
mod tests {
    use capability_engine::fixture;
    use capability_engine::{Derivation, RaterClass, StoredStatement, match_statement};

    use super::*;
    use crate::profile::{document, select};

    const ANA: &str = "mailto:ana@acme.example";
    const CAT: &str = "mailto:cat@coaching.example";

    fn body(kind: RecordKind) -> Value {
        let mut body = json!({
            "kind": kind.as_str(),
            "learner": {"mbox": ANA, "name": "Ana Lee"},
            "occurred": "2026-05-12T09:00:00+02:00",
            "duration": "PT1H",
            "notes": "agreed to try a pre-mortem",
        });
        if kind.needs_other_person() {
            body["by"] = json!({"objectType": "Agent", "mbox": CAT});
        }
        if kind != RecordKind::Attendance {
            body["capability"] = json!("acme-capabilities/FDBK");
        }
        if kind.has_level() {
            body["level"] = json!(3);
        }
        body
    }

    fn record(body: &Value) -> Result<RecordRequest, ServiceError> {
        RecordRequest::parse(body.to_string().as_bytes(), &fixture::catalog())
    }

    fn statements(kind: RecordKind) -> Vec<Value> {
        record(&body(kind)).expect("valid record").statements()
    }

    #[test]
    fn every_template_holds_for_what_the_recorder_emits() {
        for kind in RecordKind::ALL {
            for statement in statements(kind) {
                assert_eq!(
                    kind.template().check(&statement),
                    Vec::new(),
                    "{}: {statement:#}",
                    kind.as_str()
                );
                xapi::Statement::parse(statement.clone(), xapi::Version::V1_0_3, "$")
                    .unwrap_or_else(|e| panic!("{}: not valid xAPI: {e}", kind.as_str()));
                // No other template accepts it: each kind is recognisable on its own.
                for other in RecordKind::ALL.into_iter().filter(|o| *o != kind) {
                    assert!(
                        !other.template().check(&statement).is_empty(),
                        "{} also passes as {}",
                        kind.as_str(),
                        other.as_str()
                    );
                }
            }
        }
    }

    #[test]
    fn a_template_refuses_a_statement_that_breaks_its_rules() {
        let template = RecordKind::CoachingSession.template();
        let mut statement = statements(RecordKind::CoachingSession).remove(0);
        statement["context"]
            .as_object_mut()
            .expect("context")
            .remove("instructor");
        statement["context"]["extensions"][vocab::EXT_SESSION_KIND] = json!("mentoring");
        let locations: Vec<String> = template
            .check(&statement)
            .into_iter()
            .map(|v| v.location)
            .collect();
        assert_eq!(
            locations,
            vec![
                "$.context.instructor".to_owned(),
                format!("$.context.extensions['{}']", vocab::EXT_SESSION_KIND)
            ]
        );
        let mut wrong_verb = statements(RecordKind::ManagerAssessment).remove(0);
        wrong_verb["verb"]["id"] = json!(vocab::VERB_PASSED);
        wrong_verb["context"]["contextActivities"]["category"] = json!([]);
        let locations: Vec<String> = RecordKind::ManagerAssessment
            .template()
            .check(&wrong_verb)
            .into_iter()
            .map(|v| v.location)
            .collect();
        assert_eq!(locations, ["verb", "contextCategoryActivityType"]);
    }

    /// (rule, person, capability, level, rater class).
    type Expected<'a> = (&'a str, String, &'a str, u8, RaterClass);

    /// What the engine's default rules (the fixture organisation's) make of each record:
    /// (rule, person, capability, level, rater class).
    #[test]
    fn the_default_rules_count_what_is_recorded() {
        let catalog = fixture::catalog();
        let rules = fixture::rules(&catalog);
        let ana = || format!("mbox:{ANA}");
        let cat = || format!("mbox:{CAT}");
        let cases: [(RecordKind, Vec<Expected>); 8] = [
            (
                RecordKind::CoachingSession,
                vec![("coaching-session", ana(), "FDBK", 2, RaterClass::Coach)],
            ),
            (
                RecordKind::MentoringSession,
                vec![
                    ("mentoring-given", cat(), "MENT", 3, RaterClass::Peer),
                    ("mentoring-received", ana(), "FDBK", 2, RaterClass::Mentor),
                ],
            ),
            (
                RecordKind::Attendance,
                // Attendance without a capability: the rule needs a grouping capability.
                vec![],
            ),
            (
                RecordKind::Observation,
                vec![(
                    "workplace-observation",
                    ana(),
                    "FDBK",
                    3,
                    RaterClass::Assessor,
                )],
            ),
            (
                RecordKind::SelfAssessment,
                vec![(
                    "self-assessment",
                    ana(),
                    "FDBK",
                    3,
                    RaterClass::SelfAssessment,
                )],
            ),
            (
                RecordKind::ManagerAssessment,
                vec![("manager-assessment", ana(), "FDBK", 3, RaterClass::Manager)],
            ),
            (
                RecordKind::PeerAssessment,
                vec![("peer-assessment", ana(), "FDBK", 3, RaterClass::Peer)],
            ),
            // The default rules have no assessor assessment rule.
            (RecordKind::AssessorAssessment, vec![]),
        ];
        for (kind, expected) in cases {
            let mut found = Vec::new();
            for mut statement in statements(kind) {
                statement["stored"] = json!("2026-05-13T00:00:00.000Z");
                let stored = StoredStatement::parse(statement.as_object().expect("object").clone())
                    .expect("stored statement");
                let Derivation::Evidence { items, .. } = match_statement(&stored, &rules, &catalog)
                else {
                    panic!("{}: a retraction", kind.as_str());
                };
                for item in items {
                    found.push((
                        item.rule.id.as_str().to_owned(),
                        item.person.as_str().to_owned(),
                        item.capability.as_str().to_owned(),
                        item.level.get(),
                        item.rater.class,
                    ));
                }
            }
            let expected: Vec<_> = expected
                .into_iter()
                .map(|(r, p, c, l, class)| (r.to_owned(), p, c.to_owned(), l, class))
                .collect();
            assert_eq!(found, expected, "{}", kind.as_str());
        }
        // Attendance for a capability is counted by the in-person rule.
        let mut attendance = body(RecordKind::Attendance);
        attendance["capability"] = json!("FDBK");
        let mut statement = record(&attendance).expect("valid").statements().remove(0);
        statement["stored"] = json!("2026-05-13T00:00:00.000Z");
        let stored =
            StoredStatement::parse(statement.as_object().expect("object").clone()).expect("stored");
        let Derivation::Evidence { items, .. } = match_statement(&stored, &rules, &catalog) else {
            panic!("a retraction");
        };
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].rule.id.as_str(), "ilt-attended");
        assert_eq!(items[0].rater.class, RaterClass::Instructor);
    }

    #[test]
    fn a_retried_record_gives_the_same_statements() {
        let first = statements(RecordKind::ManagerAssessment);
        // The same record with the learner's keys in another order and the time in UTC.
        let mut again = body(RecordKind::ManagerAssessment);
        again["learner"] = json!({"name": "Ana Lee", "mbox": ANA});
        again["occurred"] = json!("2026-05-12T07:00:00Z");
        assert_eq!(record(&again).expect("valid").statements(), first);
        // Any change of content is another statement.
        let mut other = body(RecordKind::ManagerAssessment);
        other["level"] = json!(2);
        let other = record(&other).expect("valid").statements();
        assert_ne!(other[0]["id"], first[0]["id"]);
        let mut ids: Vec<String> = RecordKind::ALL
            .iter()
            .map(|k| statements(*k)[0]["id"].to_string())
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), RecordKind::ALL.len());
    }

    fn check(change: impl Fn(&mut Value), path: &str, rule: &str) {
        let mut bad = body(RecordKind::ManagerAssessment);
        change(&mut bad);
        let error = record(&bad).expect_err(&format!("{bad} is refused"));
        assert_eq!(
            (error.path.as_deref(), error.rule),
            (Some(path), rule),
            "{bad}: {error}"
        );
    }

    #[test]
    fn bad_records_name_the_field_and_the_rule() {
        check(|b| b["kind"] = json!("pep-talk"), "kind", "record-kind");
        check(
            |b| {
                b.as_object_mut().expect("object").remove("kind");
            },
            "kind",
            "required",
        );
        check(|b| b["colour"] = json!("red"), "colour", "unknown-field");
        check(
            |b| {
                b.as_object_mut().expect("object").remove("learner");
            },
            "learner",
            "required",
        );
        check(|b| b["learner"] = json!("ana"), "learner", "agent");
        check(
            |b| b["learner"] = json!({"mbox": "ana@acme.example"}),
            "learner.mbox",
            "invalid-mbox",
        );
        check(
            |b| b["learner"] = json!({"objectType": "Group", "mbox": ANA}),
            "learner.objectType",
            "agent",
        );
        check(
            |b| {
                b.as_object_mut().expect("object").remove("by");
            },
            "by",
            "required",
        );
        check(|b| b["by"] = json!({"mbox": ANA}), "by", "by-not-learner");
        check(
            |b| b["capability"] = json!("acme-capabilities/NOPE"),
            "capability",
            "known-capability",
        );
        check(
            |b| b["capability"] = json!("other-framework/FDBK"),
            "capability",
            "capability-framework",
        );
        check(|b| b["level"] = json!(9), "level", "level-on-scale");
        check(|b| b["level"] = json!("3"), "level", "level-on-scale");
        check(
            |b| {
                b.as_object_mut().expect("object").remove("level");
            },
            "level",
            "required",
        );
        check(
            |b| b["occurred"] = json!("12 May 2026"),
            "occurred",
            "rfc3339",
        );
        check(
            |b| b["duration"] = json!("an hour"),
            "duration",
            "iso8601-duration",
        );
        check(
            |b| b["notes"] = json!("x".repeat(MAX_NOTES + 1)),
            "notes",
            "max-length",
        );
        check(
            |b| b["success"] = json!(true),
            "success",
            "success-not-used",
        );
        check(
            |b| {
                b["kind"] = json!("coaching-session");
            },
            "level",
            "level-not-used",
        );
        check(
            |b| {
                b["kind"] = json!("self-assessment");
            },
            "by",
            "self-is-learner",
        );
        let error = record(&json!([1])).expect_err("an array is refused");
        assert_eq!(error.rule, "record-object");
    }

    #[test]
    fn the_profile_document_is_a_profile() {
        let profile = document();
        for property in [
            "@context",
            "id",
            "type",
            "conformsTo",
            "prefLabel",
            "definition",
            "author",
            "versions",
            "concepts",
            "templates",
        ] {
            assert!(profile.get(property).is_some(), "{property}");
        }
        assert_eq!(profile["type"], json!("Profile"));
        let templates = profile["templates"].as_array().expect("templates");
        assert_eq!(templates.len(), RecordKind::ALL.len());
        for (template, kind) in templates.iter().zip(RecordKind::ALL) {
            assert_eq!(template["id"], json!(kind.template_id()));
            assert_eq!(template["inScheme"], profile["versions"][0]["id"]);
            assert_eq!(template["verb"], json!(kind.template().verb));
            for rule in template["rules"].as_array().expect("rules") {
                let location = rule["location"].as_str().expect("location");
                select(location, &Value::Null)
                    .unwrap_or_else(|e| panic!("{location} is in the subset: {e}"));
            }
        }
    }

    #[test]
    fn select_reads_the_jsonpath_subset() {
        let doc = json!({"a": {"b c": [1, null, {"d": 2}], "e": "x"}});
        let check = |path: &str, expected: Vec<Value>| {
            let found: Vec<Value> = select(path, &doc)
                .expect("valid path")
                .into_iter()
                .cloned()
                .collect();
            assert_eq!(found, expected, "{path}");
        };
        check("$.a.e", vec![json!("x")]);
        check("$.a['b c'][*]", vec![json!(1), json!({"d": 2})]);
        check("$.a['b c'][*].d", vec![json!(2)]);
        check("$.missing.e", vec![]);
        assert!(select("a.e", &doc).is_err());
        assert!(select("$.a[0]", &doc).is_err());
        assert!(select("$.a['e", &doc).is_err());
    }
}
