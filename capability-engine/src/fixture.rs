//! A generated organisation for tests, end-to-end tests over HTTP and benchmarks: a
//! framework of 30 capabilities (plus a partner framework with an equivalent capability),
//! 5 roles, scripted personas whose numbers the tests check by hand, any number of
//! generated people, the evidence rules, and statements of every kind — e-learning results,
//! coaching and mentoring sessions, in-person attendance and practicals, workplace
//! observations, self, manager and peer assessments, and a voiding statement.
//!
//! Everything is deterministic: the same options give the same organisation, statement ids
//! included. Persona timestamps fall at midnight UTC a whole number of days before
//! [`AS_OF`], so decays are powers of one half that a test can write down. Nothing here is
//! SFIA content; the framework is synthetic.
//!
//! The personas' reports are computed by hand in `tests/expected.rs`; `tests/organisation.rs`
//! checks them in process and the root end-to-end test `capability_fixture` over HTTP. The
//! `capability-reports` scenario of `proficio bench` loads the organisation at two sizes.
//!
//! Over HTTP: POST [`Organisation::statement_bodies`] in order (the LRS assigns `stored` and
//! `authority`; aggregation uses `timestamp`, so the numbers do not change), and send the
//! catalog, roles, assignments, rules and configuration as their JSON.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::aggregate::Evaluator;
use crate::config::{
    AggregationConfig, AggregationSpec, Gate, GateRequirement, LevelRules, RatingPolicy,
    ThresholdStep,
};
use crate::framework::{
    CapabilitySpec, Catalog, Framework, FrameworkSource, FrameworkSpec, LevelDescription, Relation,
    RelationKind, ScaleLevel,
};
use crate::ids::{CapabilityId, Days, Level, PersonKey, RoleId, RuleId, Weight};
use crate::ledger::Ledger;
use crate::rater::RaterClass;
use crate::report::Reports;
use crate::role::{Assignment, Assignments, Criticality, Requirement, RoleSpec, Roles};
use crate::rule::{
    ActivityLocation, CapabilityTarget, EmitSpec, ExtensionLocation, ExtensionPredicate, LevelBand,
    LevelSource, MatchSpec, Pattern, Polarity, ResultPredicates, RuleSet, RuleSpec, Subject,
};
use crate::statement::StoredStatement;
use crate::vocab;

/// The date the personas' expectations are computed for: 2026-07-01T00:00:00Z.
pub const AS_OF: &str = "2026-07-01T00:00:00Z";

/// The personas (IFI keys).
pub const ANA: &str = "mbox:mailto:ana@acme.example";
pub const BO: &str = "mbox:mailto:bo@acme.example";
pub const CY: &str = "mbox:mailto:cy@acme.example";
pub const DEE: &str = "mbox:mailto:dee@acme.example";
pub const EVE: &str = "mbox:mailto:eve@acme.example";
pub const FAY: &str = "mbox:mailto:fay@acme.example";

/// Raters who hold no role in the fixture.
pub const LEE_ASSESSOR: &str = "mbox:mailto:lee@acme.example";
pub const MAX_MANAGER: &str = "mbox:mailto:max@acme.example";
pub const TIA_TRAINER: &str = "mbox:mailto:tia@acme.example";
pub const CAT_COACH: &str = "mbox:mailto:cat@coaching.example";
pub const OZ_OPS: &str = "mbox:mailto:oz@acme.example";

/// The IRI prefix of the fixture's capabilities: `<prefix><CODE>`.
pub const CAPABILITY_IRI: &str = "https://acme.example/capabilities/";

/// How big an organisation to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// People generated beside the personas (the fixture has 200 in all).
    pub generated_people: usize,
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            generated_people: 194,
            seed: 6,
        }
    }
}

/// A person of the fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub key: PersonKey,
    pub name: String,
    /// The xAPI Agent.
    pub agent: Value,
}

/// The organisation. See the module documentation.
#[derive(Debug, Clone)]
pub struct Organisation {
    pub as_of: DateTime<Utc>,
    pub catalog: Catalog,
    pub roles: Roles,
    pub assignments: Assignments,
    pub rules: RuleSet,
    pub config: AggregationConfig,
    pub people: Vec<Person>,
    /// In the order they were stored.
    pub statements: Vec<StoredStatement>,
    /// The personas' statements by name (`ana-code-observation`, …).
    pub named: BTreeMap<String, Uuid>,
}

impl Organisation {
    /// The personas only.
    pub fn personas() -> Organisation {
        Organisation::new(Options {
            generated_people: 0,
            seed: 6,
        })
    }

    pub fn new(options: Options) -> Organisation {
        let as_of = at(AS_OF);
        let catalog = catalog();
        let roles = roles(&catalog);
        let rules = rules(&catalog);
        let config = config(&catalog);
        let mut script = Script::default();
        let mut people = Vec::new();
        let mut assignments = Vec::new();
        personas(&mut script, &mut people, &mut assignments);
        generate(
            options,
            &catalog,
            &roles,
            &mut script,
            &mut people,
            &mut assignments,
        );
        let assignments = Assignments::new(assignments, &roles)
            .unwrap_or_else(|e| panic!("fixture assignments: {e}"));
        let mut statements = script.statements;
        statements.sort_by_key(|s| (s.stored(), s.id()));
        Organisation {
            as_of,
            catalog,
            roles,
            assignments,
            rules,
            config,
            people,
            statements,
            named: script.named,
        }
    }

    /// The ledger derived from every statement.
    pub fn ledger(&self) -> Ledger {
        Ledger::derive(&self.rules, &self.catalog, &self.statements).0
    }

    pub fn evaluator<'a>(&'a self, ledger: &'a Ledger) -> Evaluator<'a> {
        Evaluator::new(&self.catalog, &self.config, ledger)
    }

    pub fn reports<'a>(&'a self, ledger: &'a Ledger) -> Reports<'a> {
        Reports::new(self.evaluator(ledger), &self.roles, &self.assignments)
    }

    /// The id of a persona statement by name; panics on an unknown name (a test bug).
    pub fn statement_id(&self, name: &str) -> Uuid {
        *self
            .named
            .get(name)
            .unwrap_or_else(|| panic!("no fixture statement {name}"))
    }

    /// The statements as a client would POST them: without `stored`, `authority` and
    /// `version`, in the order they were stored.
    pub fn statement_bodies(&self) -> Vec<Value> {
        self.statements
            .iter()
            .map(|s| {
                let mut json = s.json().clone();
                for key in ["stored", "authority", "version"] {
                    json.remove(key);
                }
                Value::Object(json)
            })
            .collect()
    }
}

/// A UTC timestamp from RFC 3339 text; panics on bad input (fixture literals only).
pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("fixture timestamp {text}: {e}"))
        .with_timezone(&Utc)
}

/// [`AS_OF`] minus whole days.
pub fn days_before(days: i64) -> DateTime<Utc> {
    at(AS_OF) - Duration::days(days)
}

fn id<T: TryFrom<String>>(s: &str) -> T
where
    T::Error: std::fmt::Display,
{
    T::try_from(s.to_owned()).unwrap_or_else(|e| panic!("fixture id {s}: {e}"))
}

fn level(n: u8) -> Level {
    Level::new(n).unwrap_or_else(|e| panic!("fixture level: {e}"))
}

fn weight(w: f64) -> Weight {
    Weight::new(w).unwrap_or_else(|e| panic!("fixture weight: {e}"))
}

fn days(d: f64) -> Days {
    Days::new(d).unwrap_or_else(|e| panic!("fixture days: {e}"))
}

fn person(key: &str) -> PersonKey {
    PersonKey::parse(key).unwrap_or_else(|e| panic!("fixture person {key}: {e}"))
}

// ---------------------------------------------------------------------------------------
// Frameworks

const SCALE: [(&str, &str); 5] = [
    (
        "Aware",
        "Knows the concepts and recognises them in others' work.",
    ),
    (
        "Practising",
        "Applies it in routine situations, with guidance.",
    ),
    ("Proficient", "Applies it independently in most situations."),
    ("Advanced", "Handles complex situations and guides others."),
    ("Expert", "Shapes how the organisation does it."),
];

/// (code, name, defined levels; empty = all five).
const CAPABILITIES: [(&str, &str, &[u8]); 30] = [
    ("LEAD", "Leading teams", &[2, 3, 4, 5]),
    ("COAC", "Coaching others", &[]),
    ("MENT", "Mentoring", &[]),
    ("FDBK", "Feedback conversations", &[]),
    ("DECI", "Decision making", &[]),
    ("CHNG", "Leading change", &[3, 4, 5]),
    ("PLAN", "Planning", &[]),
    ("RISK", "Risk management", &[]),
    ("STKH", "Stakeholder management", &[]),
    ("NEGO", "Negotiation", &[]),
    ("BUDG", "Budgeting", &[]),
    ("PRIO", "Prioritisation", &[]),
    ("ARCH", "Software architecture", &[3, 4, 5]),
    ("CODE", "Programming", &[]),
    ("TEST", "Testing", &[]),
    ("REVW", "Code review", &[]),
    ("DATA", "Data modelling", &[]),
    ("SECU", "Secure development", &[]),
    ("INCD", "Incident response", &[]),
    ("MONI", "Monitoring", &[]),
    ("RELI", "Reliability engineering", &[]),
    ("CAPA", "Capacity planning", &[2, 3, 4]),
    ("AUTO", "Automation", &[]),
    ("DOCS", "Runbooks and documentation", &[]),
    ("DISC", "Product discovery", &[]),
    ("RSCH", "User research", &[]),
    ("ROAD", "Roadmapping", &[]),
    ("METR", "Product metrics", &[]),
    ("WRIT", "Writing", &[]),
    ("PRES", "Presenting", &[]),
];

/// The partner framework's public-speaking capability, equivalent to PRES.
pub const SPKG_IRI: &str = "https://partner.example/skills/SPKG";

fn scale() -> Vec<ScaleLevel> {
    SCALE
        .iter()
        .enumerate()
        .map(|(i, (label, description))| ScaleLevel {
            level: level(i as u8 + 1),
            label: (*label).to_owned(),
            description: Some((*description).to_owned()),
        })
        .collect()
}

fn capability_spec(code: &str, name: &str, levels: &[u8], iri: String) -> CapabilitySpec {
    let levels = if levels.is_empty() {
        None
    } else {
        Some(
            levels
                .iter()
                .map(|&n| LevelDescription {
                    level: level(n),
                    description: Some(format!(
                        "{name} at level {n}: {}",
                        SCALE[usize::from(n) - 1].1
                    )),
                })
                .collect(),
        )
    };
    CapabilitySpec {
        id: id(code),
        code: Some(code.to_owned()),
        name: name.to_owned(),
        description: None,
        iri: Some(iri),
        levels,
    }
}

/// The two frameworks.
pub fn catalog() -> Catalog {
    let relation = |source: &str, kind, target: &str| Relation {
        source: id(source),
        kind,
        target: id(target),
    };
    let acme = FrameworkSpec {
        id: id("acme-capabilities"),
        name: "ACME capability framework".into(),
        version: "2026.1".into(),
        source: FrameworkSource::Custom,
        licence: Some("CC0-1.0".into()),
        scale: scale(),
        capabilities: CAPABILITIES
            .iter()
            .map(|(code, name, levels)| {
                capability_spec(code, name, levels, format!("{CAPABILITY_IRI}{code}"))
            })
            .collect(),
        relations: vec![
            relation("REVW", RelationKind::Narrows, "CODE"),
            relation("TEST", RelationKind::Narrows, "CODE"),
            relation("SECU", RelationKind::Requires, "CODE"),
            relation("COAC", RelationKind::Narrows, "LEAD"),
            relation("MENT", RelationKind::Narrows, "LEAD"),
            relation("FDBK", RelationKind::Narrows, "LEAD"),
            relation("INCD", RelationKind::Requires, "MONI"),
        ],
    };
    let partner = FrameworkSpec {
        id: id("partner-skills"),
        name: "Partner skills".into(),
        version: "1".into(),
        source: FrameworkSource::Custom,
        licence: None,
        scale: scale(),
        capabilities: vec![
            capability_spec("SPKG", "Public speaking", &[], SPKG_IRI.to_owned()),
            capability_spec(
                "XLNG",
                "Languages",
                &[],
                "https://partner.example/skills/XLNG".to_owned(),
            ),
        ],
        relations: vec![relation("SPKG", RelationKind::Equivalent, "PRES")],
    };
    let frameworks: Vec<Framework> = [acme, partner]
        .into_iter()
        .map(|spec| Framework::new(spec).unwrap_or_else(|e| panic!("fixture framework: {e}")))
        .collect();
    Catalog::new(frameworks).unwrap_or_else(|e| panic!("fixture catalog: {e}"))
}

// ---------------------------------------------------------------------------------------
// Roles

/// (role, name, [(capability, level, criticality, weight)]).
type RoleTable = [(
    &'static str,
    &'static str,
    &'static [(&'static str, u8, Criticality, f64)],
); 5];

const E: Criticality = Criticality::Essential;
const I: Criticality = Criticality::Important;
const D: Criticality = Criticality::Desirable;

pub const ROLES: RoleTable = [
    (
        "engineer",
        "Engineer",
        &[
            ("CODE", 3, E, 1.0),
            ("TEST", 3, I, 1.0),
            ("REVW", 2, I, 1.0),
            ("DATA", 2, I, 1.0),
            ("SECU", 2, I, 1.0),
            ("ARCH", 3, D, 0.5),
        ],
    ),
    (
        "senior-engineer",
        "Senior engineer",
        &[
            ("CODE", 4, E, 1.0),
            ("ARCH", 4, E, 1.0),
            ("REVW", 3, I, 1.0),
            ("SECU", 3, I, 1.0),
            ("MENT", 3, I, 0.5),
            ("FDBK", 2, D, 0.5),
        ],
    ),
    (
        "team-lead",
        "Team lead",
        &[
            ("LEAD", 3, E, 1.0),
            ("COAC", 3, I, 1.0),
            ("FDBK", 3, E, 1.0),
            ("PLAN", 3, I, 1.0),
            ("STKH", 3, I, 1.0),
            ("DECI", 3, I, 1.0),
        ],
    ),
    (
        "product-owner",
        "Product owner",
        &[
            ("DISC", 3, E, 1.0),
            ("RSCH", 2, I, 1.0),
            ("ROAD", 3, I, 1.0),
            ("STKH", 3, I, 1.0),
            ("NEGO", 2, D, 0.5),
            ("METR", 2, I, 1.0),
            ("PRES", 3, I, 1.0),
        ],
    ),
    (
        "incident-manager",
        "Incident manager",
        &[
            ("INCD", 4, E, 1.0),
            ("MONI", 3, I, 1.0),
            ("RELI", 3, I, 1.0),
            ("DOCS", 3, I, 1.0),
            ("DECI", 3, I, 1.0),
            ("PRES", 2, D, 0.5),
        ],
    ),
];

pub fn roles(catalog: &Catalog) -> Roles {
    let specs = ROLES
        .iter()
        .map(|(role, name, requirements)| RoleSpec {
            id: id(role),
            name: (*name).to_owned(),
            description: None,
            requirements: requirements
                .iter()
                .map(|(cap, n, criticality, w)| Requirement {
                    capability: id(cap),
                    level: level(*n),
                    weight: weight(*w),
                    criticality: *criticality,
                })
                .collect(),
        })
        .collect();
    Roles::new(specs, catalog).unwrap_or_else(|e| panic!("fixture roles: {e}"))
}

// ---------------------------------------------------------------------------------------
// Rules and configuration

fn rule(rule_id: &str, description: &str, matching: MatchSpec, emit: EmitSpec) -> RuleSpec {
    RuleSpec {
        id: id::<RuleId>(rule_id),
        version: 1,
        description: Some(description.to_owned()),
        matching,
        emit,
    }
}

fn matching(verbs: &[&str]) -> MatchSpec {
    MatchSpec {
        verbs: verbs.iter().map(|v| (*v).to_owned()).collect(),
        activity_types: Vec::new(),
        activity: None,
        context_activities: Vec::new(),
        result: ResultPredicates::default(),
        extensions: Vec::new(),
        raters: Vec::new(),
        subject: Subject::Actor,
    }
}

fn emit(capability: CapabilityTarget, level: LevelSource, w: f64, half_life: f64) -> EmitSpec {
    EmitSpec {
        capability,
        level,
        weight: weight(w),
        polarity: Polarity::Supporting,
        half_life_days: Some(days(half_life)),
        expires_after_days: None,
        rater: None,
    }
}

fn session_kind(kind: &str) -> ExtensionPredicate {
    ExtensionPredicate {
        location: ExtensionLocation::Context,
        key: vocab::EXT_SESSION_KIND.to_owned(),
        equals: Some(Value::String(kind.to_owned())),
    }
}

const ELEARNING_GLOB: &str = "https://acme.example/elearning/*";
const ILT_GLOB: &str = "https://acme.example/ilt/*";

/// The rule specs (all version 1).
pub fn rule_specs() -> Vec<RuleSpec> {
    let grouping = || CapabilityTarget::From(ActivityLocation::Grouping);
    let elearning_bands = LevelSource::ScaledBands(vec![
        LevelBand {
            at_least: 0.6,
            level: level(1),
        },
        LevelBand {
            at_least: 0.8,
            level: level(2),
        },
        LevelBand {
            at_least: 0.95,
            level: level(3),
        },
    ]);
    let level_extension = LevelSource::Extension {
        location: ExtensionLocation::Context,
        key: vocab::EXT_LEVEL.to_owned(),
    };
    let assessment = |rule_id: &str, description: &str, class: RaterClass, w: f64| {
        let mut m = matching(&[vocab::VERB_ACHIEVED]);
        m.activity_types = vec![vocab::TYPE_COMPETENCY.to_owned()];
        m.raters = vec![class];
        rule(
            rule_id,
            description,
            m,
            emit(
                CapabilityTarget::From(ActivityLocation::Object),
                LevelSource::ScoreRaw,
                w,
                365.0,
            ),
        )
    };

    let mut elearning_passed = matching(&[vocab::VERB_PASSED]);
    elearning_passed.activity = Some(Pattern::Glob(ELEARNING_GLOB.to_owned()));
    elearning_passed.result.success = Some(true);
    let mut elearning_passed_emit = emit(grouping(), elearning_bands, 0.3, 365.0);
    elearning_passed_emit.rater = Some(RaterClass::ELearning);

    let mut elearning_failed = matching(&[vocab::VERB_FAILED]);
    elearning_failed.activity = Some(Pattern::Glob(ELEARNING_GLOB.to_owned()));
    let mut elearning_failed_emit = emit(grouping(), LevelSource::Fixed(level(2)), 0.2, 365.0);
    elearning_failed_emit.polarity = Polarity::Contrary;
    elearning_failed_emit.rater = Some(RaterClass::ELearning);

    let mut coaching = matching(&[vocab::VERB_ATTENDED]);
    coaching.activity_types = vec![vocab::TYPE_MEETING.to_owned()];
    coaching.extensions = vec![session_kind("coaching")];

    let mentoring_given = matching(&[vocab::VERB_MENTORED]);
    let mut mentoring_received = matching(&[vocab::VERB_MENTORED]);
    mentoring_received.subject = Subject::ObjectAgent;

    let mut practical = matching(&[vocab::VERB_PASSED]);
    practical.activity_types = vec![vocab::TYPE_ASSESSMENT.to_owned()];
    practical.activity = Some(Pattern::Glob(ILT_GLOB.to_owned()));
    let practical_bands = LevelSource::ScaledBands(vec![
        LevelBand {
            at_least: 0.5,
            level: level(2),
        },
        LevelBand {
            at_least: 0.8,
            level: level(3),
        },
    ]);

    let mut attended = matching(&[vocab::VERB_ATTENDED]);
    attended.activity_types = vec![vocab::TYPE_MEETING.to_owned()];
    attended.extensions = vec![session_kind("in-person")];

    let mut observed = matching(&[vocab::VERB_PERFORMED]);
    observed.activity_types = vec![vocab::TYPE_PERFORMANCE.to_owned()];
    observed.result.success = Some(true);
    let mut observed_below = observed.clone();
    observed_below.result.success = Some(false);
    let mut observed_below_emit = emit(grouping(), level_extension.clone(), 0.6, 540.0);
    observed_below_emit.polarity = Polarity::Contrary;

    vec![
        rule(
            "elearning-passed",
            "A passed e-learning assessment; the scaled score sets the level",
            elearning_passed,
            elearning_passed_emit,
        ),
        rule(
            "elearning-failed",
            "A failed e-learning assessment speaks against level 2 and up",
            elearning_failed,
            elearning_failed_emit,
        ),
        rule(
            "coaching-session",
            "A coaching session attended (exposure)",
            coaching,
            emit(grouping(), LevelSource::Fixed(level(2)), 0.2, 180.0),
        ),
        rule(
            "mentoring-given",
            "Mentoring someone is practice of mentoring",
            mentoring_given,
            emit(
                CapabilityTarget::Id(id("MENT")),
                LevelSource::Fixed(level(3)),
                0.25,
                365.0,
            ),
        ),
        rule(
            "mentoring-received",
            "Being mentored in a capability (exposure)",
            mentoring_received,
            emit(grouping(), LevelSource::Fixed(level(2)), 0.15, 180.0),
        ),
        rule(
            "ilt-practical",
            "A practical assessed by an instructor in a classroom session",
            practical,
            emit(grouping(), practical_bands, 0.5, 365.0),
        ),
        rule(
            "ilt-attended",
            "In-person session attended",
            attended,
            emit(grouping(), LevelSource::Fixed(level(1)), 0.2, 365.0),
        ),
        rule(
            "workplace-observation",
            "Observed performing at a level",
            observed,
            emit(grouping(), level_extension, 0.8, 540.0),
        ),
        rule(
            "workplace-observation-below",
            "Observed not performing at a level",
            observed_below,
            observed_below_emit,
        ),
        assessment(
            "manager-assessment",
            "A manager's rating",
            RaterClass::Manager,
            0.6,
        ),
        assessment("peer-assessment", "A peer's rating", RaterClass::Peer, 0.3),
        assessment(
            "self-assessment",
            "The person's own rating",
            RaterClass::SelfAssessment,
            0.3,
        ),
    ]
}

pub fn rules(catalog: &Catalog) -> RuleSet {
    RuleSet::new(rule_specs(), catalog).unwrap_or_else(|e| panic!("fixture rules: {e}"))
}

/// Thresholds 0.3 (levels 1–2), 0.6 (3), 0.9 (4–5); level 3+ needs an assessor, manager or
/// instructor item; level 4+ needs an assessor item and two distinct raters; evidence-only.
pub fn config_spec() -> AggregationSpec {
    let step = |from, at_least| ThresholdStep {
        from_level: level(from),
        at_least,
    };
    AggregationSpec {
        levels: LevelRules {
            thresholds: vec![step(1, 0.3), step(3, 0.6), step(4, 0.9)],
            gates: vec![
                Gate {
                    from_level: level(3),
                    requirement: GateRequirement::RaterClasses {
                        classes: vec![
                            RaterClass::Assessor,
                            RaterClass::Manager,
                            RaterClass::Instructor,
                        ],
                        min_items: 1,
                    },
                },
                Gate {
                    from_level: level(4),
                    requirement: GateRequirement::RaterClasses {
                        classes: vec![RaterClass::Assessor],
                        min_items: 1,
                    },
                },
                Gate {
                    from_level: level(4),
                    requirement: GateRequirement::DistinctRaters { min: 2 },
                },
            ],
        },
        overrides: BTreeMap::new(),
        evidence_excludes: [RaterClass::SelfAssessment].into(),
        policy: RatingPolicy::EvidenceOnly,
        class_doubt: 0.2,
    }
}

pub fn config(catalog: &Catalog) -> AggregationConfig {
    AggregationConfig::new(config_spec(), catalog).unwrap_or_else(|e| panic!("fixture config: {e}"))
}

// ---------------------------------------------------------------------------------------
// Statements

/// Builds statements; every statement is stored a minute after its timestamp unless said
/// otherwise.
#[derive(Default)]
struct Script {
    statements: Vec<StoredStatement>,
    named: BTreeMap<String, Uuid>,
}

impl Script {
    fn add(&mut self, name: &str, body: Value, timestamp: DateTime<Utc>) -> Uuid {
        self.add_stored(name, body, timestamp, timestamp + Duration::minutes(1))
    }

    fn add_stored(
        &mut self,
        name: &str,
        body: Value,
        timestamp: DateTime<Utc>,
        stored: DateTime<Utc>,
    ) -> Uuid {
        let id = uuid_from(name);
        let Value::Object(mut json) = body else {
            panic!("fixture statement {name} is not an object");
        };
        json.insert("id".into(), Value::String(id.to_string()));
        json.insert("timestamp".into(), Value::String(rfc3339(timestamp)));
        json.insert("stored".into(), Value::String(rfc3339(stored)));
        json.insert(
            "authority".into(),
            json!({"objectType": "Agent", "name": "Proficio fixture", "mbox": "mailto:plms@acme.example"}),
        );
        json.insert("version".into(), Value::String("1.0.0".into()));
        let statement = StoredStatement::parse(json)
            .unwrap_or_else(|e| panic!("fixture statement {name}: {e}"));
        assert!(
            self.named.insert(name.to_owned(), id).is_none(),
            "fixture statement {name} twice"
        );
        self.statements.push(statement);
        id
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A UUID (version 4 layout) from the SHA-256 of a name: stable across runs.
fn uuid_from(name: &str) -> Uuid {
    let digest = Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// An xAPI Agent for an `mbox:` key.
pub fn agent(key: &str, name: &str) -> Value {
    let mbox = key.strip_prefix("mbox:").unwrap_or(key);
    json!({"objectType": "Agent", "name": name, "mbox": mbox})
}

fn capability_activity(iri: &str) -> Value {
    json!({"id": iri, "objectType": "Activity", "definition": {"type": vocab::TYPE_COMPETENCY}})
}

fn cap_iri(code: &str) -> String {
    if code == "SPKG" || code == "XLNG" {
        format!("https://partner.example/skills/{code}")
    } else {
        format!("{CAPABILITY_IRI}{code}")
    }
}

fn profile_category() -> Value {
    json!({"id": vocab::NS.trim_end_matches('/').to_owned() + "/v1", "definition": {"type": "http://adlnet.gov/expapi/activities/profile"}})
}

/// Statement templates, as JSON without id, timestamp and stored. Public so that the session
/// endpoints' tests and the benchmark can make more of the same.
pub mod templates {
    use super::*;

    /// An e-learning assessment passed or failed (SCORM/cmi5-style result).
    pub fn elearning(actor: &Value, course: &str, capability: &str, scaled: f64) -> Value {
        let passed = scaled >= 0.6;
        json!({
            "actor": actor,
            "verb": {"id": if passed { vocab::VERB_PASSED } else { vocab::VERB_FAILED },
                     "display": {"en-US": if passed { "passed" } else { "failed" }}},
            "object": {"objectType": "Activity", "id": format!("https://acme.example/elearning/{course}"),
                       "definition": {"type": vocab::TYPE_ASSESSMENT}},
            "result": {"success": passed, "completion": true, "score": {"scaled": scaled}},
            "context": {"contextActivities": {"grouping": [capability_activity(&cap_iri(capability))]}}
        })
    }

    /// A coaching session attended; the coach in `instructor` and (xAPI 2.0) `contextAgents`.
    pub fn coaching(actor: &Value, coach: &Value, capability: &str, session: &str) -> Value {
        json!({
            "actor": actor,
            "verb": {"id": vocab::VERB_ATTENDED, "display": {"en-US": "attended"}},
            "object": {"objectType": "Activity", "id": format!("https://acme.example/sessions/coaching/{session}"),
                       "definition": {"type": vocab::TYPE_MEETING, "name": {"en-US": "Coaching session"}}},
            "result": {"completion": true, "duration": "PT1H"},
            "context": {
                "instructor": coach,
                "contextAgents": [{"objectType": "contextAgent", "agent": coach, "relevantTypes": [vocab::ROLE_COACH]}],
                "contextActivities": {"category": [profile_category()], "grouping": [capability_activity(&cap_iri(capability))]},
                "extensions": {vocab::EXT_SESSION_KIND: "coaching"}
            }
        })
    }

    /// A mentoring session: the mentor is the actor, the mentee the object.
    pub fn mentoring(mentor: &Value, mentee: &Value, capability: &str) -> Value {
        json!({
            "actor": mentor,
            "verb": {"id": vocab::VERB_MENTORED, "display": {"en-US": "mentored"}},
            "object": mentee,
            "result": {"duration": "PT45M"},
            "context": {"contextActivities": {"grouping": [capability_activity(&cap_iri(capability))]}}
        })
    }

    /// An instructor-led practical with a scaled score.
    pub fn practical(
        actor: &Value,
        instructor: &Value,
        course: &str,
        capability: &str,
        scaled: f64,
    ) -> Value {
        json!({
            "actor": actor,
            "verb": {"id": vocab::VERB_PASSED, "display": {"en-US": "passed"}},
            "object": {"objectType": "Activity", "id": format!("https://acme.example/ilt/{course}/practical"),
                       "definition": {"type": vocab::TYPE_ASSESSMENT}},
            "result": {"success": true, "score": {"scaled": scaled}},
            "context": {"instructor": instructor,
                        "contextActivities": {"grouping": [capability_activity(&cap_iri(capability))]}}
        })
    }

    /// In-person attendance.
    pub fn attended(actor: &Value, instructor: &Value, course: &str, capability: &str) -> Value {
        json!({
            "actor": actor,
            "verb": {"id": vocab::VERB_ATTENDED, "display": {"en-US": "attended"}},
            "object": {"objectType": "Activity", "id": format!("https://acme.example/ilt/{course}/session"),
                       "definition": {"type": vocab::TYPE_MEETING}},
            "result": {"completion": true},
            "context": {"instructor": instructor,
                        "contextActivities": {"grouping": [capability_activity(&cap_iri(capability))]},
                        "extensions": {vocab::EXT_SESSION_KIND: "in-person"}}
        })
    }

    /// A workplace observation at a level, by an observer.
    pub fn observation(
        actor: &Value,
        observer: &Value,
        task: &str,
        capability: &str,
        level: u8,
        success: bool,
    ) -> Value {
        json!({
            "actor": actor,
            "verb": {"id": vocab::VERB_PERFORMED, "display": {"en-US": "performed"}},
            "object": {"objectType": "Activity", "id": format!("https://acme.example/tasks/{task}"),
                       "definition": {"type": vocab::TYPE_PERFORMANCE}},
            "result": {"success": success, "response": if success { "At Expectation" } else { "Below Expectation" }},
            "context": {"instructor": observer,
                        "extensions": {vocab::EXT_OBSERVER: observer,
                                       vocab::EXT_LEVEL: format!("https://acme.example/levels/{level}")},
                        "contextActivities": {"grouping": [capability_activity(&cap_iri(capability))]}}
        })
    }

    /// A self, manager or peer assessment of a capability level (ADL "achieved" on the
    /// competency). `rater` is the manager or peer; none for self.
    pub fn assessment(
        actor: &Value,
        rater: Option<&Value>,
        kind: &str,
        capability: &str,
        level: u8,
    ) -> Value {
        let mut context = Map::new();
        if let Some(rater) = rater {
            context.insert("instructor".into(), rater.clone());
        }
        context.insert(
            "extensions".into(),
            json!({vocab::EXT_ASSESSMENT_TYPE: kind}),
        );
        json!({
            "actor": actor,
            "verb": {"id": vocab::VERB_ACHIEVED, "display": {"en-US": "achieved"}},
            "object": capability_activity(&cap_iri(capability)),
            "result": {"score": {"raw": level, "min": 1, "max": 5}},
            "context": context
        })
    }

    /// A voiding statement.
    pub fn voiding(actor: &Value, target: Uuid) -> Value {
        json!({
            "actor": actor,
            "verb": {"id": xapi::VOIDED_VERB, "display": {"en-US": "voided"}},
            "object": {"objectType": "StatementRef", "id": target.to_string()}
        })
    }
}

use templates::*;

fn personas(script: &mut Script, people: &mut Vec<Person>, assignments: &mut Vec<Assignment>) {
    let mut add_person = |key: &str, name: &str| {
        let a = agent(key, name);
        people.push(Person {
            key: person(key),
            name: name.to_owned(),
            agent: a.clone(),
        });
        a
    };
    let ana = add_person(ANA, "Ana Lee");
    let bo = add_person(BO, "Bo Coach");
    let cy = add_person(CY, "Cy Park");
    let dee = add_person(DEE, "Dee Ops");
    let eve = add_person(EVE, "Eve New");
    let fay = add_person(FAY, "Fay Peer");
    let lee = agent(LEE_ASSESSOR, "Lee Assessor");
    let max = agent(MAX_MANAGER, "Max Manager");
    let tia = agent(TIA_TRAINER, "Tia Trainer");
    let cat = agent(CAT_COACH, "Cat Coach");
    let oz = agent(OZ_OPS, "Oz Ops");

    let mut assign = |key: &str, role: &str, from: &str, until: Option<&str>| {
        assignments.push(Assignment {
            person: person(key),
            role: id(role),
            from: at(from),
            until: until.map(at),
            manager: None,
        });
    };
    assign(
        ANA,
        "engineer",
        "2025-01-01T00:00:00Z",
        Some("2026-04-01T00:00:00Z"),
    );
    assign(ANA, "senior-engineer", "2026-04-01T00:00:00Z", None);
    assign(BO, "team-lead", "2024-06-01T00:00:00Z", None);
    assign(CY, "product-owner", "2025-09-01T00:00:00Z", None);
    assign(DEE, "incident-manager", "2024-01-01T00:00:00Z", None);
    assign(EVE, "engineer", "2026-06-01T00:00:00Z", None);
    assign(FAY, "engineer", "2025-03-01T00:00:00Z", None);

    let d = days_before;
    // Ana: engineer, then senior engineer.
    script.add(
        "ana-code-elearning",
        elearning(&ana, "CODE/quiz", "CODE", 0.97),
        d(365),
    );
    script.add(
        "ana-code-observation",
        observation(&ana, &lee, "refactor-payments", "CODE", 4, true),
        d(180),
    );
    script.add(
        "ana-code-manager",
        assessment(&ana, Some(&max), "manager", "CODE", 4),
        d(365),
    );
    script.add(
        "ana-code-self",
        assessment(&ana, None, "self", "CODE", 5),
        d(180),
    );
    script.add(
        "ana-arch-observation",
        observation(&ana, &lee, "design-review", "ARCH", 3, true),
        d(60),
    );
    script.add(
        "ana-arch-coaching",
        coaching(&ana, &bo, "ARCH", "2026-01-02/ana"),
        d(180),
    );
    script.add(
        "ana-revw-peer",
        assessment(&ana, Some(&fay), "peer", "REVW", 3),
        d(365),
    );
    script.add(
        "ana-revw-elearning",
        elearning(&ana, "REVW/quiz", "REVW", 0.85),
        d(365),
    );
    script.add("ana-ment-given", mentoring(&ana, &fay, "TEST"), d(365));
    let secu = script.add(
        "ana-secu-elearning",
        elearning(&ana, "SECU/quiz", "SECU", 0.99),
        d(60),
    );
    script.add_stored(
        "ana-secu-voided",
        voiding(&ana, secu),
        d(59),
        d(59) + Duration::hours(2),
    );
    script.add(
        "ana-test-failed",
        elearning(&ana, "TEST/quiz", "TEST", 0.4),
        d(180),
    );
    script.add(
        "ana-test-passed",
        elearning(&ana, "TEST/quiz", "TEST", 0.9),
        d(0),
    );

    // Bo: team lead.
    // The manager's rating carries its own expiry (ADL competency `expires` extension).
    let mut lead_rating = assessment(&bo, Some(&max), "manager", "LEAD", 3);
    lead_rating["context"]["extensions"][vocab::EXT_EXPIRES] = json!("2026-08-01T00:00:00Z");
    script.add("bo-lead-manager", lead_rating, d(365));
    script.add(
        "bo-lead-observation",
        observation(&bo, &lee, "run-retrospective", "LEAD", 3, true),
        d(60),
    );
    script.add(
        "bo-lead-self",
        assessment(&bo, None, "self", "LEAD", 4),
        d(60),
    );
    script.add(
        "bo-coac-manager",
        assessment(&bo, Some(&max), "manager", "COAC", 2),
        d(365),
    );
    script.add(
        "bo-fdbk-peer",
        assessment(&bo, Some(&fay), "peer", "FDBK", 3),
        d(0),
    );
    script.add(
        "bo-fdbk-coaching",
        coaching(&bo, &cat, "FDBK", "2026-01-02/bo"),
        d(180),
    );
    script.add(
        "bo-plan-elearning",
        elearning(&bo, "PLAN/quiz", "PLAN", 0.82),
        d(730),
    );
    script.add(
        "bo-stkh-practical",
        practical(&bo, &tia, "stakeholders-101", "STKH", 0.85),
        d(365),
    );
    script.add(
        "bo-stkh-attended",
        attended(&bo, &tia, "stakeholders-101", "STKH"),
        d(365),
    );

    // Cy: product owner, mostly e-learning.
    script.add(
        "cy-disc-quiz",
        elearning(&cy, "DISC/quiz", "DISC", 0.97),
        d(0),
    );
    script.add(
        "cy-disc-advanced",
        elearning(&cy, "DISC/advanced", "DISC", 0.96),
        d(0),
    );
    script.add("cy-rsch-mentoring", mentoring(&bo, &cy, "RSCH"), d(180));
    script.add(
        "cy-spkg-observation",
        observation(&cy, &lee, "quarterly-review-talk", "SPKG", 3, true),
        d(60),
    );

    // Dee: incident manager with old evidence and a recent failure.
    script.add(
        "dee-incd-observation",
        observation(&dee, &lee, "major-incident", "INCD", 4, true),
        d(540),
    );
    script.add(
        "dee-incd-manager",
        assessment(&dee, Some(&max), "manager", "INCD", 4),
        d(730),
    );
    script.add(
        "dee-incd-below",
        observation(&dee, &oz, "game-day", "INCD", 4, false),
        d(0),
    );
    script.add(
        "dee-moni-elearning",
        elearning(&dee, "MONI/quiz", "MONI", 0.9),
        d(730),
    );

    // Eve has just started: nothing yet. Fay is mentored by Ana (above).
    let _ = eve;
}

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn generate(
    options: Options,
    catalog: &Catalog,
    roles: &Roles,
    script: &mut Script,
    people: &mut Vec<Person>,
    assignments: &mut Vec<Assignment>,
) {
    let mut rng = Rng(options.seed);
    let raters = [
        agent(LEE_ASSESSOR, "Lee Assessor"),
        agent(MAX_MANAGER, "Max Manager"),
        agent(TIA_TRAINER, "Tia Trainer"),
        agent(CAT_COACH, "Cat Coach"),
        agent(BO, "Bo Coach"),
    ];
    let all_capabilities: Vec<&CapabilityId> = catalog.capabilities().map(|c| c.id()).collect();
    let start = at("2024-07-01T00:00:00Z");
    let span_minutes = (at(AS_OF) - start).num_minutes();
    for i in 0..options.generated_people {
        let key = format!("mbox:mailto:person{i:04}@acme.example");
        let name = format!("Person {i:04}");
        let actor = agent(&key, &name);
        people.push(Person {
            key: person(&key),
            name,
            agent: actor.clone(),
        });
        let (role_id, ..) = ROLES[rng.below(ROLES.len())];
        let from = at("2024-01-01T00:00:00Z") + Duration::days(rng.below(800) as i64);
        assignments.push(Assignment {
            person: person(&key),
            role: id::<RoleId>(role_id),
            from,
            until: None,
            manager: None,
        });
        let role = roles
            .get(&id(role_id))
            .unwrap_or_else(|e| panic!("fixture role {role_id}: {e}"));
        let statements = rng.below(13);
        let mut made: Vec<Uuid> = Vec::new();
        for n in 0..statements {
            let capability = if rng.below(5) == 0 {
                all_capabilities[rng.below(all_capabilities.len())]
                    .as_str()
                    .to_owned()
            } else {
                let reqs = role.requirements();
                reqs[rng.below(reqs.len())].capability.as_str().to_owned()
            };
            let when = start + Duration::minutes((rng.unit() * span_minutes as f64) as i64);
            let rater = &raters[rng.below(raters.len())];
            let level = rng.below(5) as u8 + 1;
            let scaled = ((0.3 + rng.unit() * 0.7) * 100.0).round() / 100.0;
            let body = match rng.below(10) {
                0 | 1 => elearning(&actor, &format!("{capability}/quiz"), &capability, scaled),
                2 => coaching(&actor, &raters[3], &capability, &format!("gen-{i}-{n}")),
                3 => mentoring(&raters[4], &actor, &capability),
                4 => practical(
                    &actor,
                    &raters[2],
                    &format!("course-{capability}"),
                    &capability,
                    scaled,
                ),
                5 => attended(
                    &actor,
                    &raters[2],
                    &format!("course-{capability}"),
                    &capability,
                ),
                6 => observation(
                    &actor,
                    &raters[0],
                    &format!("task-{i}-{n}"),
                    &capability,
                    level,
                    rng.below(4) != 0,
                ),
                7 => assessment(&actor, Some(&raters[1]), "manager", &capability, level),
                8 => assessment(&actor, None, "self", &capability, level),
                _ => assessment(&actor, Some(rater), "peer", &capability, level),
            };
            made.push(script.add(&format!("gen-{i}-{n}"), body, when));
        }
        // Now and then a statement is voided a day later.
        if !made.is_empty() && rng.below(25) == 0 {
            let target = made[rng.below(made.len())];
            let stored = script
                .statements
                .iter()
                .find(|s| s.id() == target)
                .map(|s| s.stored())
                .unwrap_or(start);
            script.add_stored(
                &format!("gen-{i}-void"),
                voiding(&actor, target),
                stored + Duration::days(1),
                stored + Duration::days(1),
            );
        }
    }
}
