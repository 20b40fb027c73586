//! Whether a statement that claims Proficio's xAPI Profile follows it (xAPI Profiles 1.0,
//! Part Three §2.1, Statement Template validation): pure, so the LRS can ask before it stores
//! anything, through a port the binary implements with [`admit`].
//!
//! A statement claims the profile when its `context.contextActivities.category` holds an
//! activity whose id is the profile version's IRI (Part Two §5.0). Such a statement must
//!
//! 1. give every one of the profile's extensions it uses only in `context`, with a value its
//!    `inlineSchema` accepts (Part Two §7.2);
//! 2. have the determining properties of at least one template — verb, object activity type,
//!    category activity type (Part Two §8.0);
//! 3. follow every rule of one of the templates it has the determining properties of.
//!
//! A statement that does not claim the profile is not looked at: the profile binds only those
//! who say they follow it.

use std::borrow::Cow;
use std::sync::LazyLock;

use jsonschema::Validator;
use serde_json::Value;

use crate::profile::{RecordKind, Template, TemplateViolation, extensions, version_id};

/// No template of the profile has the statement's verb, object activity type and category
/// activity type.
pub const RULE_NO_TEMPLATE: &str = "profile-template";
/// The statement has a template's determining properties and breaks one of its rules.
pub const RULE_TEMPLATE_RULE: &str = "profile-template-rule";
/// An extension's value breaks the extension's `inlineSchema`.
pub const RULE_EXTENSION_SCHEMA: &str = "profile-extension-schema";
/// A context extension of the profile used outside `context`.
pub const RULE_EXTENSION_PLACE: &str = "profile-extension-context";

/// Why a statement that claims the profile is refused: where, which rule, and the template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message} ({rule})")]
pub struct Refusal {
    /// A JSONPath into the statement, starting at `$`.
    pub location: String,
    /// One of the `RULE_*` names of this module.
    pub rule: &'static str,
    /// The IRI of the template whose rule is broken, when one is.
    pub template: Option<String>,
    pub message: String,
}

/// Whether the statement claims the profile version (Part Two §5.0).
pub fn claims_profile(statement: &Value) -> bool {
    let version = VERSION.as_str();
    match statement.pointer("/context/contextActivities/category") {
        Some(Value::Array(activities)) => activities
            .iter()
            .any(|a| a.get("id").and_then(Value::as_str) == Some(version)),
        // xAPI 1.0.3 allows a single activity where 2.0.0 wants an array.
        Some(single @ Value::Object(_)) => {
            single.get("id").and_then(Value::as_str) == Some(version)
        }
        _ => false,
    }
}

/// Admits a statement: `Ok` when it does not claim the profile, or claims it and follows it;
/// otherwise the first thing wrong, with its location in the statement.
pub fn admit(statement: &Value) -> Result<(), Refusal> {
    if !claims_profile(statement) {
        return Ok(());
    }
    // Part Two §8.1: rules are evaluated after contextActivities normalization.
    let statement = normalized(statement);
    check_extensions(&statement)?;
    let templates = TEMPLATES.as_slice();
    let candidates: Vec<&Template> = templates
        .iter()
        .filter(|t| t.determines(&statement))
        .collect();
    if candidates.is_empty() {
        return Err(no_template(&statement, templates));
    }
    let mut closest: Option<(&Template, Vec<TemplateViolation>)> = None;
    for template in &candidates {
        let violations = template.check_rules(&statement);
        if violations.is_empty() {
            return Ok(());
        }
        if closest
            .as_ref()
            .is_none_or(|(_, fewest)| violations.len() < fewest.len())
        {
            closest = Some((template, violations));
        }
    }
    let Some((template, violations)) = closest else {
        return Ok(());
    };
    let first = &violations[0];
    let others: Vec<String> = candidates
        .iter()
        .filter(|t| t.kind != template.kind)
        .map(|t| t.kind.template_id())
        .collect();
    let mut message = format!(
        "the statement claims profile version {} and has the verb and activity types of template {}, whose rule at {} it breaks: {}",
        VERSION.as_str(),
        template.kind.template_id(),
        first.location,
        first.message
    );
    if violations.len() > 1 {
        message.push_str(&format!(" ({} rules broken in all)", violations.len()));
    }
    if !others.is_empty() {
        message.push_str(&format!(
            "; it does not follow {} either",
            others.join(", ")
        ));
    }
    Err(Refusal {
        location: first.location.clone(),
        rule: RULE_TEMPLATE_RULE,
        template: Some(template.kind.template_id()),
        message,
    })
}

static VERSION: LazyLock<String> = LazyLock::new(version_id);

static TEMPLATES: LazyLock<Vec<Template>> =
    LazyLock::new(|| RecordKind::ALL.iter().map(|k| k.template()).collect());

/// Each extension's IRI and its compiled schema, compiled once. A schema that does not
/// compile is a fault of this crate, caught by its tests; here it is logged and skipped
/// rather than refusing every statement.
static SCHEMAS: LazyLock<Vec<(&'static str, Validator)>> = LazyLock::new(|| {
    extensions()
        .into_iter()
        .filter_map(|e| match jsonschema::validator_for(&e.schema) {
            Ok(validator) => Some((e.id, validator)),
            Err(error) => {
                tracing::error!(extension = e.id, %error, "profile extension schema does not compile");
                None
            }
        })
        .collect()
});

/// The statement with every context activity kind as an array (xAPI Data §2.4.6.2).
fn normalized(statement: &Value) -> Cow<'_, Value> {
    let singles = statement
        .pointer("/context/contextActivities")
        .and_then(Value::as_object)
        .is_some_and(|kinds| kinds.values().any(Value::is_object));
    if !singles {
        return Cow::Borrowed(statement);
    }
    let mut copy = statement.clone();
    if let Some(Value::Object(kinds)) = copy.pointer_mut("/context/contextActivities") {
        for value in kinds.values_mut() {
            if value.is_object() {
                *value = Value::Array(vec![value.take()]);
            }
        }
    }
    Cow::Owned(copy)
}

/// Part Two §7.2: the profile's extensions are context extensions, used only in `context`,
/// and their values follow their schemas.
fn check_extensions(statement: &Value) -> Result<(), Refusal> {
    for (id, validator) in SCHEMAS.iter() {
        for (place, pointer) in [
            ("result.extensions", "/result/extensions"),
            (
                "object.definition.extensions",
                "/object/definition/extensions",
            ),
        ] {
            if statement
                .pointer(pointer)
                .and_then(|e| e.get(*id))
                .is_some()
            {
                return Err(Refusal {
                    location: format!("$.{place}['{id}']"),
                    rule: RULE_EXTENSION_PLACE,
                    template: None,
                    message: format!(
                        "{id} is a context extension of profile version {}; it is used only in context.extensions",
                        VERSION.as_str()
                    ),
                });
            }
        }
        let Some(value) = statement
            .pointer("/context/extensions")
            .and_then(|e| e.get(*id))
        else {
            continue;
        };
        if let Some(error) = validator.iter_errors(value).next() {
            let inner = error.instance_path.to_string();
            return Err(Refusal {
                location: format!("$.context.extensions['{id}']{}", json_path(&inner)),
                rule: RULE_EXTENSION_SCHEMA,
                template: None,
                message: format!(
                    "{value} is not a value of {id} as profile version {} defines it (its inlineSchema): {error}",
                    VERSION.as_str()
                ),
            });
        }
    }
    Ok(())
}

/// A JSON Pointer inside an extension value as the JSONPath steps that follow the extension.
fn json_path(pointer: &str) -> String {
    pointer
        .split('/')
        .skip(1)
        .map(|step| {
            let step = step.replace("~1", "/").replace("~0", "~");
            if step.bytes().all(|b| b.is_ascii_digit()) && !step.is_empty() {
                format!("[{step}]")
            } else {
                format!("['{step}']")
            }
        })
        .collect()
}

/// The refusal of a statement that has no template's determining properties, naming the
/// template it comes closest to.
fn no_template(statement: &Value, templates: &[Template]) -> Refusal {
    // Fewest determining properties missing, then fewest rules broken: a statement with a
    // wrong verb is closest to the template it otherwise follows.
    let closest = templates
        .iter()
        .map(|t| (t, t.check_determining(statement)))
        .min_by_key(|(t, missing)| (missing.len(), t.check_rules(statement).len()));
    let hint = closest
        .map(|(t, missing)| {
            let missing: Vec<String> = missing.iter().map(ToString::to_string).collect();
            format!(
                "; the closest is {} ({})",
                t.kind.template_id(),
                missing.join("; ")
            )
        })
        .unwrap_or_default();
    Refusal {
        location: "$.context.contextActivities.category".to_owned(),
        rule: RULE_NO_TEMPLATE,
        template: None,
        message: format!(
            "the statement claims profile version {} but has the verb, object activity type and category activity type of none of its templates{hint}",
            VERSION.as_str()
        ),
    }
}

#[cfg(test)]
mod tests {
    use capability_engine::{fixture, vocab};
    use serde_json::json;

    use super::*;
    use crate::profile::document;
    use crate::recording::RecordRequest;

    fn recorded(kind: RecordKind) -> Value {
        let mut body = json!({
            "kind": kind.as_str(),
            "learner": {"mbox": "mailto:ana@acme.example", "name": "Ana Lee"},
            "occurred": "2026-05-12T09:00:00Z",
            "duration": "PT45M",
            "notes": "talked through the quarter",
        });
        if kind.needs_other_person() {
            body["by"] = json!({"mbox": "mailto:cat@coaching.example"});
        }
        if kind.needs_capability() {
            body["capability"] = json!("acme-capabilities/FDBK");
        }
        if kind.has_level() {
            body["level"] = json!(2);
        }
        RecordRequest::parse(body.to_string().as_bytes(), &fixture::catalog())
            .expect("a valid record")
            .statements()
            .remove(0)
    }

    fn refusal(statement: &Value) -> Refusal {
        admit(statement).expect_err(&format!("refused: {statement:#}"))
    }

    #[test]
    fn every_recorded_statement_is_admitted() {
        for kind in RecordKind::ALL {
            let statement = recorded(kind);
            assert!(claims_profile(&statement), "{}", kind.as_str());
            assert_eq!(admit(&statement), Ok(()), "{}", kind.as_str());
        }
    }

    #[test]
    fn a_statement_that_claims_no_template_is_refused() {
        let mut statement = recorded(RecordKind::ManagerAssessment);
        statement["verb"]["id"] = json!(vocab::VERB_COMPLETED);
        let refused = refusal(&statement);
        assert_eq!(refused.rule, RULE_NO_TEMPLATE);
        assert_eq!(refused.location, "$.context.contextActivities.category");
        assert!(
            refused
                .message
                .contains(&RecordKind::ManagerAssessment.template_id()),
            "{refused}"
        );
        // The category activity of the profile version has its type (a determining property).
        let mut untyped = recorded(RecordKind::CoachingSession);
        untyped["context"]["contextActivities"]["category"] = json!([{"id": version_id()}]);
        assert_eq!(refusal(&untyped).rule, RULE_NO_TEMPLATE);
    }

    /// A recorded statement of a kind, a change to it, and the location refused.
    type Case = (RecordKind, fn(&mut Value), String);

    #[test]
    fn a_broken_rule_is_named_by_its_location_and_template() {
        let cases: [Case; 4] = [
            (
                RecordKind::Observation,
                |s| {
                    s["result"]
                        .as_object_mut()
                        .expect("result")
                        .remove("success");
                },
                "$.result.success".to_owned(),
            ),
            (
                RecordKind::SelfAssessment,
                |s| s["context"]["instructor"] = json!({"mbox": "mailto:boss@acme.example"}),
                "$.context.instructor".to_owned(),
            ),
            (
                RecordKind::PeerAssessment,
                // Every assessment template misses the score; the peer one misses nothing else.
                |s| {
                    s.as_object_mut().expect("statement").remove("result");
                },
                "$.result.score.raw".to_owned(),
            ),
            (
                RecordKind::MentoringSession,
                |s| {
                    s.as_object_mut().expect("statement").remove("timestamp");
                },
                "$.timestamp".to_owned(),
            ),
        ];
        for (kind, change, location) in cases {
            let mut statement = recorded(kind);
            change(&mut statement);
            let refused = refusal(&statement);
            assert_eq!(
                (refused.rule, refused.location.as_str(), refused.template),
                (
                    RULE_TEMPLATE_RULE,
                    location.as_str(),
                    Some(kind.template_id())
                ),
                "{}: {}",
                kind.as_str(),
                refused.message
            );
        }
    }

    #[test]
    fn two_templates_with_the_same_determining_properties_each_admit_their_own() {
        // Coaching and in-person attendance share verb and activity types; the session kind
        // tells them apart, and a statement that follows neither names the closer one.
        let mut statement = recorded(RecordKind::Attendance);
        statement["context"]
            .as_object_mut()
            .expect("context")
            .remove("instructor");
        let refused = refusal(&statement);
        assert_eq!(refused.location, "$.context.instructor");
        assert_eq!(refused.template, Some(RecordKind::Attendance.template_id()));
        assert!(
            refused
                .message
                .contains(&RecordKind::CoachingSession.template_id()),
            "{refused}"
        );
    }

    fn extension_refusal(kind: RecordKind, key: &str, value: Value) -> Refusal {
        let mut statement = recorded(kind);
        statement["context"]["extensions"][key] = value;
        refusal(&statement)
    }

    #[test]
    fn extension_values_follow_their_inline_schemas() {
        let level = format!("$.context.extensions['{}']", vocab::EXT_LEVEL);
        for bad in [
            json!("high"),
            json!(0),
            json!(10),
            json!(2.5),
            json!(null),
            json!([2]),
        ] {
            let refused = extension_refusal(RecordKind::Observation, vocab::EXT_LEVEL, bad.clone());
            assert_eq!(
                (refused.rule, refused.location.as_str()),
                (RULE_EXTENSION_SCHEMA, level.as_str()),
                "{bad}: {refused}"
            );
        }
        for good in [
            json!(1),
            json!(9),
            json!(3.0),
            json!("https://acme.example/levels/4"),
            json!("7"),
        ] {
            let mut statement = recorded(RecordKind::Observation);
            statement["context"]["extensions"][vocab::EXT_LEVEL] = good.clone();
            assert_eq!(admit(&statement), Ok(()), "{good}");
        }
        let refused = extension_refusal(
            RecordKind::CoachingSession,
            vocab::EXT_SESSION_KIND,
            json!("pep-talk"),
        );
        assert_eq!(refused.rule, RULE_EXTENSION_SCHEMA);
        let refused = extension_refusal(
            RecordKind::ManagerAssessment,
            vocab::EXT_ASSESSMENT_TYPE,
            json!("e-learning"),
        );
        assert_eq!(refused.rule, RULE_EXTENSION_SCHEMA);
        // A context extension of the profile in the result is out of place.
        let mut statement = recorded(RecordKind::Observation);
        statement["result"]["extensions"] = json!({vocab::EXT_LEVEL: 3});
        let refused = refusal(&statement);
        assert_eq!(
            (refused.rule, refused.location),
            (
                RULE_EXTENSION_PLACE,
                format!("$.result.extensions['{}']", vocab::EXT_LEVEL)
            )
        );
    }

    #[test]
    fn a_statement_without_the_profile_is_not_looked_at() {
        let mut statement = recorded(RecordKind::Observation);
        statement["context"]["extensions"][vocab::EXT_LEVEL] = json!("high");
        statement["context"]
            .as_object_mut()
            .expect("context")
            .remove("instructor");
        assert!(admit(&statement).is_err());
        statement["context"]["contextActivities"]["category"] =
            json!([{"id": "https://w3id.org/xapi/scorm/v1.0"}]);
        assert!(!claims_profile(&statement));
        assert_eq!(admit(&statement), Ok(()));
        statement["context"]
            .as_object_mut()
            .expect("context")
            .remove("contextActivities");
        assert_eq!(admit(&statement), Ok(()));
        assert_eq!(admit(&json!("not even a statement")), Ok(()));
    }

    #[test]
    fn a_single_category_activity_claims_the_profile_too() {
        // xAPI 1.0.3 allows one activity without the array; it is the same claim.
        let mut statement = recorded(RecordKind::CoachingSession);
        let category = statement["context"]["contextActivities"]["category"][0].clone();
        statement["context"]["contextActivities"]["category"] = category;
        assert!(claims_profile(&statement));
        assert_eq!(admit(&statement), Ok(()));
        statement["context"]["extensions"][vocab::EXT_SESSION_KIND] = json!("mentoring");
        assert_eq!(refusal(&statement).rule, RULE_TEMPLATE_RULE);
    }

    #[test]
    fn the_document_publishes_the_schemas_it_applies() {
        assert_eq!(SCHEMAS.len(), extensions().len(), "every schema compiles");
        let profile = document();
        let concepts = profile["concepts"].as_array().expect("concepts");
        assert_eq!(concepts.len(), extensions().len());
        for (concept, extension) in concepts.iter().zip(extensions()) {
            assert_eq!(concept["id"], json!(extension.id));
            assert_eq!(concept["type"], json!("ContextExtension"));
            let text = concept["inlineSchema"]
                .as_str()
                .expect("a string (Part Two §7.2)");
            let schema: Value = serde_json::from_str(text).expect("JSON");
            assert_eq!(schema, extension.schema);
            assert!(jsonschema::meta::is_valid(&schema), "{}", extension.id);
        }
    }
}
