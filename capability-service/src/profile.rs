//! Proficio's xAPI Profile (xAPI Profiles 1.0, Part Two): one statement template per kind of
//! record people make without an authoring tool — coaching, mentoring, in-person attendance,
//! workplace observation and self / manager / peer / assessor assessments — built from the
//! same definitions the recorder writes statements from, and a validator of the subset of
//! template rules the profile uses (Part Three §2.1, Statement Template validation). The
//! profile's own extensions publish their values' JSON Schema (`inlineSchema`, Part Two §7.2);
//! [`crate::admission`] applies both to statements that claim the profile.
//!
//! The verbs, activity types and extensions are the ones `capability-engine`'s `vocab` matches
//! (ADL, Tin Can, TLA and Proficio's namespace); the profile introduces no verb of its own.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use capability_engine::ids::MAX_LEVEL;
use capability_engine::{RaterClass, vocab};
use serde_json::{Map, Value, json};

/// The profile's IRI: Proficio's capability namespace without its trailing slash.
pub fn profile_id() -> String {
    vocab::NS.trim_end_matches('/').to_owned()
}

/// The IRI of version 1 of the profile; statements following it carry it as a `category`
/// activity (xAPI Profiles Part Two §5.0).
pub fn version_id() -> String {
    format!("{}/v1", profile_id())
}

/// When version 1 was published (Part Two §6.1 `generatedAtTime`). Fixed: the document is the
/// same on every server and every request.
pub const VERSION_GENERATED_AT: &str = "2026-11-23T00:00:00Z";

/// The JSON-LD context of every profile (Part Two §10.0).
pub const PROFILES_CONTEXT: &str = "https://w3id.org/xapi/profiles/context";
/// The version of the Profiles specification this document follows (Part Two §6.0).
pub const CONFORMS_TO: &str = "https://w3id.org/xapi/profiles#1.0";
/// The activity type of a profile version used as a `category` activity (Part Two §5.0).
pub const TYPE_PROFILE: &str = "http://adlnet.gov/expapi/activities/profile";
/// Tin Can context extension carrying free-text feedback: the recorder's `notes`.
pub const EXT_FEEDBACK: &str = "http://id.tincanapi.com/extension/feedback";

/// The kinds of record, one statement template each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    CoachingSession,
    MentoringSession,
    Attendance,
    Observation,
    SelfAssessment,
    ManagerAssessment,
    PeerAssessment,
    AssessorAssessment,
}

/// How a template's rule constrains its location (Part Two §8.1 `presence`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Included,
    Excluded,
    Recommended,
}

/// One statement template rule: a JSONPath location, its presence and the values allowed.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateRule {
    pub location: String,
    pub presence: Presence,
    /// At least one value found is one of these.
    pub any: Vec<Value>,
    /// Every value found is one of these.
    pub all: Vec<Value>,
    pub scope_note: &'static str,
}

/// A statement template (Part Two §8.0), restricted to the properties this profile uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub kind: RecordKind,
    pub label: &'static str,
    pub definition: &'static str,
    pub verb: &'static str,
    pub object_activity_type: Option<&'static str>,
    pub context_category_activity_type: Vec<&'static str>,
    pub rules: Vec<TemplateRule>,
}

/// Why a statement does not follow a template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct TemplateViolation {
    /// The template property or rule location that failed.
    pub location: String,
    pub message: String,
}

impl RecordKind {
    pub const ALL: [RecordKind; 8] = [
        RecordKind::CoachingSession,
        RecordKind::MentoringSession,
        RecordKind::Attendance,
        RecordKind::Observation,
        RecordKind::SelfAssessment,
        RecordKind::ManagerAssessment,
        RecordKind::PeerAssessment,
        RecordKind::AssessorAssessment,
    ];

    /// The name used in request bodies and in the template's IRI.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::CoachingSession => "coaching-session",
            RecordKind::MentoringSession => "mentoring-session",
            RecordKind::Attendance => "attendance",
            RecordKind::Observation => "observation",
            RecordKind::SelfAssessment => "self-assessment",
            RecordKind::ManagerAssessment => "manager-assessment",
            RecordKind::PeerAssessment => "peer-assessment",
            RecordKind::AssessorAssessment => "assessor-assessment",
        }
    }

    pub fn parse(name: &str) -> Option<RecordKind> {
        RecordKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The value of the `assessment-type` extension for an assessment (the rater class the
    /// engine derives from it, `vocab::EXT_ASSESSMENT_TYPE`); `None` for sessions.
    pub fn assessment_type(self) -> Option<&'static str> {
        match self {
            RecordKind::SelfAssessment => Some("self"),
            RecordKind::ManagerAssessment => Some("manager"),
            RecordKind::PeerAssessment => Some("peer"),
            RecordKind::AssessorAssessment => Some("assessor"),
            _ => None,
        }
    }

    /// The value of the `session-kind` extension, for the kinds whose rater the engine
    /// derives from it (coach, instructor).
    pub fn session_kind(self) -> Option<&'static str> {
        match self {
            RecordKind::CoachingSession => Some("coaching"),
            RecordKind::Attendance => Some("in-person"),
            _ => None,
        }
    }

    /// Whether the record carries a level of the capability's scale.
    pub fn has_level(self) -> bool {
        self == RecordKind::Observation || self.assessment_type().is_some()
    }

    /// Whether the record must name a capability: a level means nothing without one.
    pub fn needs_capability(self) -> bool {
        self.has_level()
    }

    /// Whether someone other than the learner (`by`) is part of the record.
    pub fn needs_other_person(self) -> bool {
        self != RecordKind::SelfAssessment
    }

    pub fn template_id(self) -> String {
        format!("{}/templates/{}", profile_id(), self.as_str())
    }

    pub fn template(self) -> Template {
        let ext = |key: &str| format!("$.context.extensions['{key}']");
        let rule = |location: String,
                    presence: Presence,
                    any: Vec<Value>,
                    all: Vec<Value>,
                    scope_note: &'static str| TemplateRule {
            location,
            presence,
            any,
            all,
            scope_note,
        };
        let timestamp = rule(
            "$.timestamp".to_owned(),
            Presence::Included,
            vec![],
            vec![],
            "when the session or assessment took place",
        );
        let grouping = |presence| {
            rule(
                "$.context.contextActivities.grouping[*].definition.type".to_owned(),
                presence,
                vec![],
                vec![json!(vocab::TYPE_COMPETENCY)],
                "the capability the record is evidence for, as a TLA competency activity whose id is the capability's IRI",
            )
        };
        let instructor = |presence, note| {
            rule(
                "$.context.instructor".to_owned(),
                presence,
                vec![],
                vec![],
                note,
            )
        };
        let duration = rule(
            "$.result.duration".to_owned(),
            Presence::Recommended,
            vec![],
            vec![],
            "how long the session lasted (ISO 8601 duration)",
        );
        let mut rules = vec![timestamp];
        let (label, definition, verb, object_type) = match self {
            RecordKind::CoachingSession => {
                rules.extend([
                    instructor(Presence::Included, "the coach"),
                    rule(
                        ext(vocab::EXT_SESSION_KIND),
                        Presence::Included,
                        vec![],
                        vec![json!("coaching")],
                        "marks the meeting as coaching, which makes the coach the rater",
                    ),
                    grouping(Presence::Recommended),
                    duration,
                ]);
                (
                    "Coaching session attended",
                    "The learner (actor) attended a coaching session with a coach (context.instructor)",
                    vocab::VERB_ATTENDED,
                    Some(vocab::TYPE_MEETING),
                )
            }
            RecordKind::MentoringSession => {
                rules.extend([
                    rule(
                        "$.object.objectType".to_owned(),
                        Presence::Included,
                        vec![],
                        vec![json!("Agent")],
                        "the mentee",
                    ),
                    // The engine derives the rater from the actor when the subject is the
                    // object Agent; a session-kind or instructor would name someone else.
                    instructor(Presence::Excluded, "the mentor is the actor"),
                    rule(
                        ext(vocab::EXT_SESSION_KIND),
                        Presence::Excluded,
                        vec![],
                        vec![],
                        "the verb already says mentoring",
                    ),
                    grouping(Presence::Recommended),
                    duration,
                ]);
                (
                    "Mentoring session held",
                    "The mentor (actor) mentored the mentee (object Agent): evidence of mentoring for the mentor and exposure for the mentee",
                    vocab::VERB_MENTORED,
                    None,
                )
            }
            RecordKind::Attendance => {
                rules.extend([
                    instructor(Presence::Included, "the instructor"),
                    rule(
                        ext(vocab::EXT_SESSION_KIND),
                        Presence::Included,
                        vec![],
                        vec![json!("in-person")],
                        "an in-person or instructor-led session",
                    ),
                    grouping(Presence::Recommended),
                    duration,
                ]);
                (
                    "In-person session attended",
                    "The learner (actor) attended an in-person or instructor-led session given by an instructor (context.instructor)",
                    vocab::VERB_ATTENDED,
                    Some(vocab::TYPE_MEETING),
                )
            }
            RecordKind::Observation => {
                rules.extend([
                    instructor(Presence::Included, "the observer"),
                    rule(
                        ext(vocab::EXT_OBSERVER),
                        Presence::Included,
                        vec![],
                        vec![],
                        "the observer, which makes them the rater (an assessor)",
                    ),
                    rule(
                        ext(vocab::EXT_LEVEL),
                        Presence::Included,
                        vec![],
                        vec![],
                        "the level of the capability's scale observed, an integer",
                    ),
                    rule(
                        "$.result.success".to_owned(),
                        Presence::Included,
                        vec![],
                        vec![json!(true), json!(false)],
                        "whether the performance met the level",
                    ),
                    rule(
                        "$.result.response".to_owned(),
                        Presence::Included,
                        vec![],
                        vec![json!("At Expectation"), json!("Below Expectation")],
                        "the same judgement in the words other systems read",
                    ),
                    grouping(Presence::Included),
                    duration,
                ]);
                (
                    "Workplace performance observed",
                    "The learner (actor) performed a task at work, observed by an observer who judged it against a level of a capability",
                    vocab::VERB_PERFORMED,
                    Some(vocab::TYPE_PERFORMANCE),
                )
            }
            RecordKind::SelfAssessment
            | RecordKind::ManagerAssessment
            | RecordKind::PeerAssessment
            | RecordKind::AssessorAssessment => {
                let kind = self.assessment_type().unwrap_or_default();
                rules.extend([
                    rule(
                        "$.result.score.raw".to_owned(),
                        Presence::Included,
                        vec![],
                        vec![],
                        "the level assessed; min and max are the ends of the capability's scale",
                    ),
                    rule(
                        ext(vocab::EXT_ASSESSMENT_TYPE),
                        Presence::Included,
                        vec![],
                        vec![json!(kind)],
                        "who assessed, as the engine's rater class",
                    ),
                    if self == RecordKind::SelfAssessment {
                        instructor(Presence::Excluded, "nobody but the learner assessed")
                    } else {
                        instructor(Presence::Included, "the assessor")
                    },
                ]);
                (
                    match self {
                        RecordKind::SelfAssessment => "Capability level self-assessed",
                        RecordKind::ManagerAssessment => "Capability level assessed by a manager",
                        RecordKind::PeerAssessment => "Capability level assessed by a peer",
                        _ => "Capability level assessed by an assessor",
                    },
                    "The learner (actor) achieved a level of the capability (object, a TLA competency whose id is the capability's IRI), in the judgement named by the assessment type",
                    vocab::VERB_ACHIEVED,
                    Some(vocab::TYPE_COMPETENCY),
                )
            }
        };
        Template {
            kind: self,
            label,
            definition,
            verb,
            object_activity_type: object_type,
            context_category_activity_type: vec![TYPE_PROFILE],
            rules,
        }
    }
}

impl Presence {
    fn as_str(self) -> &'static str {
        match self {
            Presence::Included => "included",
            Presence::Excluded => "excluded",
            Presence::Recommended => "recommended",
        }
    }
}

impl Template {
    /// The template as a JSON-LD object of the profile (Part Two §8.0).
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("id".into(), json!(self.kind.template_id()));
        out.insert("type".into(), json!("StatementTemplate"));
        out.insert("inScheme".into(), json!(version_id()));
        out.insert("prefLabel".into(), json!({"en": self.label}));
        out.insert("definition".into(), json!({"en": self.definition}));
        // Each record is one statement on its own, with no registration or Pattern: an
        // Implied Pattern, which Part Two §9.0 allows only for templates allowed solo.
        out.insert("allowedSolo".into(), json!(true));
        out.insert("verb".into(), json!(self.verb));
        if let Some(object_type) = self.object_activity_type {
            out.insert("objectActivityType".into(), json!(object_type));
        }
        out.insert(
            "contextCategoryActivityType".into(),
            json!(self.context_category_activity_type),
        );
        let rules: Vec<Value> = self
            .rules
            .iter()
            .map(|rule| {
                let mut r = Map::new();
                r.insert("location".into(), json!(rule.location));
                r.insert("presence".into(), json!(rule.presence.as_str()));
                if !rule.any.is_empty() {
                    r.insert("any".into(), json!(rule.any));
                }
                if !rule.all.is_empty() {
                    r.insert("all".into(), json!(rule.all));
                }
                r.insert("scopeNote".into(), json!({"en": rule.scope_note}));
                Value::Object(r)
            })
            .collect();
        out.insert("rules".into(), Value::Array(rules));
        Value::Object(out)
    }

    /// Checks a statement against the template's determining properties and rules
    /// (Profiles Part Three §2.1): every violation found.
    pub fn check(&self, statement: &Value) -> Vec<TemplateViolation> {
        let mut out = self.check_determining(statement);
        out.extend(self.check_rules(statement));
        out
    }

    /// Whether the statement has every determining property of the template: its verb,
    /// object activity type and context activity types (Part Two §8.0). A statement that has
    /// them and claims the profile version must follow the template's rules.
    pub fn determines(&self, statement: &Value) -> bool {
        self.check_determining(statement).is_empty()
    }

    /// The determining properties the statement lacks.
    pub fn check_determining(&self, statement: &Value) -> Vec<TemplateViolation> {
        let mut out = Vec::new();
        let mut fail = |location: &str, message: String| {
            out.push(TemplateViolation {
                location: location.to_owned(),
                message,
            })
        };
        let verb = statement.pointer("/verb/id").and_then(Value::as_str);
        if verb != Some(self.verb) {
            fail("verb", format!("the verb is {verb:?}, not {}", self.verb));
        }
        if let Some(expected) = self.object_activity_type {
            let found = statement
                .pointer("/object/definition/type")
                .and_then(Value::as_str);
            if found != Some(expected) {
                fail(
                    "objectActivityType",
                    format!("the object's type is {found:?}, not {expected}"),
                );
            }
        }
        let category_types: Vec<&Value> = select(
            "$.context.contextActivities.category[*].definition.type",
            statement,
        )
        .unwrap_or_default();
        for expected in &self.context_category_activity_type {
            if !category_types.iter().any(|t| t.as_str() == Some(expected)) {
                fail(
                    "contextCategoryActivityType",
                    format!("no category activity of type {expected}"),
                );
            }
        }
        out
    }

    /// The template's rules the statement breaks (Part Two §8.1).
    pub fn check_rules(&self, statement: &Value) -> Vec<TemplateViolation> {
        let mut out = Vec::new();
        let mut fail = |location: &str, message: String| {
            out.push(TemplateViolation {
                location: location.to_owned(),
                message,
            })
        };
        for rule in &self.rules {
            let values = match select(&rule.location, statement) {
                Ok(values) => values,
                Err(message) => {
                    fail(&rule.location, message);
                    continue;
                }
            };
            match rule.presence {
                Presence::Included if values.is_empty() => {
                    fail(&rule.location, "required, and absent".to_owned());
                    continue;
                }
                Presence::Excluded if !values.is_empty() => {
                    fail(&rule.location, "must be absent, and is present".to_owned());
                    continue;
                }
                _ => {}
            }
            if values.is_empty() {
                continue;
            }
            if !rule.any.is_empty() && !values.iter().any(|v| rule.any.contains(v)) {
                fail(
                    &rule.location,
                    format!("none of {values:?} is one of {:?}", rule.any),
                );
            }
            if !rule.all.is_empty() && !values.iter().all(|v| rule.all.contains(v)) {
                fail(
                    &rule.location,
                    format!("not every one of {values:?} is one of {:?}", rule.all),
                );
            }
        }
        out
    }
}

/// One of the profile's own extensions (Part Two §7.2): all are context extensions, and each
/// says what its values are with a JSON Schema, published as its `inlineSchema`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtensionConcept {
    /// The IRI, used as the extension key in statements.
    pub id: &'static str,
    pub label: &'static str,
    pub definition: &'static str,
    pub schema: Value,
}

/// The dialect of the inline schemas. Part Two §7.2 asks only for "a legal JSON Schema"; naming
/// the draft in `$schema` lets any reader pick the same rules this server applies.
pub const SCHEMA_DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The profile's own extensions, in the order the document lists them.
pub fn extensions() -> Vec<ExtensionConcept> {
    let assessment_types: Vec<&str> = RaterClass::ALL
        .into_iter()
        .filter(|c| *c != RaterClass::ELearning)
        .map(RaterClass::as_str)
        .collect();
    vec![
        ExtensionConcept {
            id: vocab::EXT_SESSION_KIND,
            label: "Session kind",
            definition: "The kind of session: coaching, mentoring, observation or in-person",
            schema: json!({
                "$schema": SCHEMA_DIALECT,
                "type": "string",
                "enum": SESSION_KINDS,
            }),
        },
        ExtensionConcept {
            id: vocab::EXT_ASSESSMENT_TYPE,
            label: "Assessment type",
            definition: "Who assessed the capability level: self, manager, peer, assessor, coach, mentor or instructor",
            schema: json!({
                "$schema": SCHEMA_DIALECT,
                "type": "string",
                "enum": assessment_types,
            }),
        },
        ExtensionConcept {
            id: vocab::EXT_LEVEL,
            label: "Capability level",
            definition: "A level of the capability's scale: an integer, or an IRI ending in /<level>",
            // The two forms the engine reads a level from (`LevelSource::Extension`): a number
            // with no fraction, or a string whose last path segment is the level.
            schema: json!({
                "$schema": SCHEMA_DIALECT,
                "oneOf": [
                    {"type": "integer", "minimum": 1, "maximum": MAX_LEVEL},
                    {"type": "string", "pattern": format!("(^|/)0*[1-{MAX_LEVEL}]$")},
                ],
            }),
        },
    ]
}

/// The values of the `session-kind` extension the engine gives a meaning to (`rater.rs`).
pub const SESSION_KINDS: [&str; 4] = ["coaching", "mentoring", "observation", "in-person"];

// The level pattern names the levels as one digit.
const _: () = assert!(MAX_LEVEL <= 9);

/// The whole profile document (Part Two §6.0).
pub fn document() -> Value {
    let version = version_id();
    let concepts: Vec<Value> = extensions()
        .into_iter()
        .map(|extension| {
            json!({
                "id": extension.id,
                "type": "ContextExtension",
                "inScheme": version,
                "prefLabel": {"en": extension.label},
                "definition": {"en": extension.definition},
                // Part Two §7.2: "a string that contains a legal JSON Schema".
                "inlineSchema": extension.schema.to_string(),
            })
        })
        .collect();
    json!({
        "@context": PROFILES_CONTEXT,
        "id": profile_id(),
        "type": "Profile",
        "conformsTo": CONFORMS_TO,
        "prefLabel": {"en": "Proficio capability evidence"},
        "definition": {"en": "Statements Proficio counts as evidence of capabilities and that people record without an authoring tool: coaching and mentoring sessions, in-person attendance, workplace observations and self, manager, peer and assessor assessments. Verbs and activity types are those of ADL, Tin Can and the TLA competency profiles."},
        "author": {"type": "Organization", "name": "Proficio"},
        "versions": [{"id": version, "generatedAtTime": VERSION_GENERATED_AT}],
        "concepts": concepts,
        "templates": RecordKind::ALL.iter().map(|k| k.template().to_json()).collect::<Vec<_>>(),
    })
}

/// `GET /capabilities/profile`: public, like any published profile.
pub(crate) async fn serve() -> Response {
    (
        [(header::CONTENT_TYPE, "application/ld+json")],
        document().to_string(),
    )
        .into_response()
}

/// Evaluates the JSONPath subset the profile's rules use: `$`, `.name`, `['key']` and
/// `[*]`. The values found, in document order; an error for any other syntax.
pub fn select<'a>(path: &str, root: &'a Value) -> Result<Vec<&'a Value>, String> {
    let Some(mut rest) = path.strip_prefix('$') else {
        return Err(format!("{path}: a location starts with $"));
    };
    let mut current = vec![root];
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("[*]") {
            current = current
                .into_iter()
                .flat_map(|v| match v {
                    Value::Array(items) => items.iter().collect::<Vec<_>>(),
                    Value::Object(map) => map.values().collect(),
                    _ => Vec::new(),
                })
                .collect();
            rest = after;
        } else if let Some(after) = rest.strip_prefix("['") {
            let Some(end) = after.find("']") else {
                return Err(format!("{path}: an unclosed ['…']"));
            };
            let key = &after[..end];
            current = current.into_iter().filter_map(|v| v.get(key)).collect();
            rest = &after[end + 2..];
        } else if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let key = &after[..end];
            if key.is_empty() {
                return Err(format!("{path}: an empty name"));
            }
            current = current.into_iter().filter_map(|v| v.get(key)).collect();
            rest = &after[end..];
        } else {
            return Err(format!("{path}: unsupported syntax at {rest:?}"));
        }
    }
    // JSON null is no value (Part Three §2.1: a matchable value).
    Ok(current.into_iter().filter(|v| !v.is_null()).collect())
}
