//! Deterministic generation of realistic statements: SCORM-like sessions, coaching and
//! assessments, ~1 KB each, spread over many agents, verbs, activities and registrations.

use serde_json::{Value, json};

/// Distinct learners; agent `i` is `mailto:learner{i}@example.com`.
pub const AGENTS: usize = 5_000;
/// Distinct courses; each has [`SCOS`] modules and its own registrations.
pub const COURSES: usize = 200;
pub const SCOS: usize = 20;
/// Distinct coaches (instructors of coaching sessions and assessments).
pub const COACHES: usize = 50;
pub const SCORM_VERBS: [&str; 6] = [
    "completed",
    "passed",
    "failed",
    "attempted",
    "experienced",
    "answered",
];
pub const COACHING_VERB: &str = "http://adlnet.gov/expapi/verbs/attended";
pub const ASSESSMENT_VERB: &str = "https://w3id.org/xapi/tla/verbs/achieved";
pub const TYPE_MEETING: &str = "http://adlnet.gov/expapi/activities/meeting";
pub const TYPE_COMPETENCY: &str = "https://w3id.org/xapi/tla/activity-types/competency";
pub const EXT_SESSION_KIND: &str = "https://example.org/xapi/capability/ext/session-kind";
pub const EXT_ASSESSMENT_TYPE: &str = "https://example.org/xapi/capability/ext/assessment-type";
/// Capabilities of the generated framework; competency `k` is [`competency_iri`]`(k)`.
pub const CAPABILITIES: usize = 12;

pub fn agent_mbox(agent: usize) -> String {
    format!("mailto:learner{agent}@example.com")
}

pub fn coach_mbox(coach: usize) -> String {
    format!("mailto:coach{coach}@coaching.example")
}

pub fn course_iri(course: usize) -> String {
    format!("http://example.com/courses/{course}")
}

pub fn sco_iri(course: usize, sco: usize) -> String {
    format!("http://example.com/courses/{course}/sco/{sco}")
}

pub fn verb_iri(verb: &str) -> String {
    format!("http://adlnet.gov/expapi/verbs/{verb}")
}

pub fn competency_iri(capability: usize) -> String {
    format!("https://acme.example/capabilities/C{capability}")
}

/// The registration of a learner's attempt at a course; 50,000 attempts per course.
pub fn registration(course: usize, attempt: usize) -> String {
    format!("{course:08x}-0000-4000-8000-{attempt:012x}")
}

/// What statement `i` is about, so queries can ask for values that exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    pub agent: usize,
    pub course: usize,
    pub sco: usize,
    pub attempt: usize,
    pub kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A SCORM session event (7 in 10).
    Scorm,
    /// A coaching session attended, with the coach as instructor (3 in 20).
    Coaching,
    /// A manager's assessment of a competency (3 in 20).
    Assessment,
}

pub fn shape(i: usize) -> Shape {
    // Multiplying by primes spreads neighbouring statements over different keys, as
    // interleaved learners would.
    let course = (i * 104_729) % COURSES;
    Shape {
        agent: (i * 7919) % AGENTS,
        course,
        sco: (i * 31) % SCOS,
        attempt: (i / 20) % 50_000,
        kind: match i % 20 {
            0..=13 => Kind::Scorm,
            14..=16 => Kind::Coaching,
            _ => Kind::Assessment,
        },
    }
}

/// Statement `i` of the generated stream (no id: the server assigns it).
pub fn statement(i: usize) -> Value {
    let s = shape(i);
    let actor = json!({"objectType": "Agent", "name": format!("Learner {}", s.agent), "mbox": agent_mbox(s.agent)});
    let capability = (s.course + s.sco) % CAPABILITIES;
    let competency = json!({"objectType": "Activity", "id": competency_iri(capability),
        "definition": {"type": TYPE_COMPETENCY, "name": {"en-US": format!("Capability {capability}")}}});
    let timestamp = format!(
        "2026-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
        1 + i % 12,
        1 + i % 28,
        i % 24,
        i % 60,
        (i / 60) % 60
    );
    match s.kind {
        Kind::Scorm => {
            let verb = SCORM_VERBS[i % SCORM_VERBS.len()];
            let raw = 40 + (i % 61);
            json!({
                "actor": actor,
                "verb": {"id": verb_iri(verb), "display": {"en-US": verb}},
                "object": {
                    "objectType": "Activity",
                    "id": sco_iri(s.course, s.sco),
                    "definition": {
                        "name": {"en-US": format!("Course {} module {}", s.course, s.sco)},
                        "description": {"en-US": "A module of a course about working safely with electrical installations."},
                        "type": "http://adlnet.gov/expapi/activities/module"
                    }
                },
                "result": {"score": {"scaled": raw as f64 / 100.0, "raw": raw, "min": 0, "max": 100},
                           "success": raw >= 60, "completion": true, "duration": "PT12M30S"},
                "context": {
                    "registration": registration(s.course, s.attempt),
                    "platform": "Proficio SCORM player",
                    "language": "en-US",
                    "contextActivities": {
                        "parent": [{"objectType": "Activity", "id": course_iri(s.course)}],
                        "grouping": [competency, {"objectType": "Activity", "id": "http://example.com/programmes/safety"}],
                        "category": [{"objectType": "Activity", "id": "https://w3id.org/xapi/scorm"}]
                    }
                },
                "timestamp": timestamp
            })
        }
        Kind::Coaching => json!({
            "actor": actor,
            "verb": {"id": COACHING_VERB, "display": {"en-US": "attended"}},
            "object": {
                "objectType": "Activity",
                "id": format!("https://acme.example/sessions/coaching/{}", i % 10_000),
                "definition": {"type": TYPE_MEETING, "name": {"en-US": "Coaching session"},
                    "description": {"en-US": "A one-to-one coaching conversation about giving and receiving feedback at work."}}
            },
            "result": {"duration": "PT45M", "response": "Agreed to practise structured feedback in the next two team meetings."},
            "context": {
                "registration": registration(s.course, s.attempt),
                "instructor": {"objectType": "Agent", "name": format!("Coach {}", s.agent % COACHES), "mbox": coach_mbox(s.agent % COACHES)},
                "contextActivities": {
                    "parent": [{"objectType": "Activity", "id": course_iri(s.course)}],
                    "grouping": [competency]
                },
                "extensions": {EXT_SESSION_KIND: "coaching"}
            },
            "timestamp": timestamp
        }),
        Kind::Assessment => json!({
            "actor": actor,
            "verb": {"id": ASSESSMENT_VERB, "display": {"en-US": "achieved"}},
            "object": competency,
            "result": {"score": {"raw": 1 + i % 3, "min": 1, "max": 3},
                       "response": "Observed in two project reviews; gives specific, timely feedback."},
            "context": {
                "registration": registration(s.course, s.attempt),
                "instructor": {"objectType": "Agent", "name": format!("Manager {}", s.agent % COACHES), "mbox": coach_mbox(s.agent % COACHES)},
                "contextActivities": {
                    "parent": [{"objectType": "Activity", "id": course_iri(s.course)}],
                    "category": [{"objectType": "Activity", "id": "https://acme.example/assessments/annual-review"}]
                },
                "extensions": {EXT_ASSESSMENT_TYPE: "manager"}
            },
            "timestamp": timestamp
        }),
    }
}

/// Statements `range` as the JSON array a client POSTs.
pub fn batch_body(range: std::ops::Range<usize>) -> Vec<u8> {
    let batch: Vec<Value> = range.map(statement).collect();
    serde_json::to_vec(&batch).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_validate_and_weigh_about_a_kilobyte() {
        let body = batch_body(0..200);
        let parsed =
            xapi::parse_statements(&body, xapi::Version::V2_0_0, xapi::JsonLimits::default())
                .expect("generated statements are valid xAPI 2.0.0");
        assert_eq!(parsed.len(), 200);
        let average = body.len() / 200;
        assert!(
            (700..=1_400).contains(&average),
            "{average} bytes per statement"
        );
    }

    #[test]
    fn the_mix_covers_every_kind() {
        let kinds: Vec<Kind> = (0..20).map(|i| shape(i).kind).collect();
        assert_eq!(kinds.iter().filter(|k| **k == Kind::Scorm).count(), 14);
        assert_eq!(kinds.iter().filter(|k| **k == Kind::Coaching).count(), 3);
        assert_eq!(kinds.iter().filter(|k| **k == Kind::Assessment).count(), 3);
    }
}
