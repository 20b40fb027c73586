//! The IRIs the engine recognises in statements: ADL, community and Proficio's own.
//!
//! Proficio's own terms live under [`NS`]. The namespace is provisional (it is the one the
//! design notes use) and becomes final with the xAPI Profile document that will define these
//! templates; change it here and only here.

/// Proficio's capability vocabulary (provisional; see the module documentation).
pub const NS: &str = "https://example.org/xapi/capability/";

/// Context extension naming the kind of assessment: `self`, `manager`, `peer`, `assessor`,
/// `coach`, `mentor` or `instructor`.
pub const EXT_ASSESSMENT_TYPE: &str = "https://example.org/xapi/capability/ext/assessment-type";
/// Context extension naming the kind of session: `coaching`, `mentoring`, `observation`,
/// `in-person`.
pub const EXT_SESSION_KIND: &str = "https://example.org/xapi/capability/ext/session-kind";
/// Context extension carrying a level (an integer or an IRI ending in `/<n>`).
pub const EXT_LEVEL: &str = "https://example.org/xapi/capability/ext/level";

/// `contextAgents[].relevantTypes` values (xAPI 2.0 §2.4.6) that name a rater's role.
pub const ROLE_ASSESSOR: &str = "https://example.org/xapi/capability/roles/assessor";
pub const ROLE_OBSERVER: &str = "https://example.org/xapi/capability/roles/observer";
pub const ROLE_MANAGER: &str = "https://example.org/xapi/capability/roles/manager";
pub const ROLE_COACH: &str = "https://example.org/xapi/capability/roles/coach";
pub const ROLE_MENTOR: &str = "https://example.org/xapi/capability/roles/mentor";
pub const ROLE_INSTRUCTOR: &str = "https://example.org/xapi/capability/roles/instructor";
pub const ROLE_PEER: &str = "https://example.org/xapi/capability/roles/peer";

/// Tin Can context extension: the Agent who observed the performance.
pub const EXT_OBSERVER: &str = "http://id.tincanapi.com/extension/observer";
/// ADL Learner Competency Management context extension: when an assertion expires.
pub const EXT_EXPIRES: &str = "https://w3id.org/xapi/comp/contextextensions/expires";

pub const VERB_ATTENDED: &str = "http://adlnet.gov/expapi/verbs/attended";
pub const VERB_PASSED: &str = "http://adlnet.gov/expapi/verbs/passed";
pub const VERB_FAILED: &str = "http://adlnet.gov/expapi/verbs/failed";
pub const VERB_COMPLETED: &str = "http://adlnet.gov/expapi/verbs/completed";
pub const VERB_MENTORED: &str = "http://id.tincanapi.com/verb/mentored";
pub const VERB_COACHED: &str = "https://w3id.org/xapi/adb/verbs/coached";
pub const VERB_PERFORMED: &str = "https://w3id.org/xapi/dod-isd/verbs/performed";
pub const VERB_ACHIEVED: &str = "https://w3id.org/xapi/tla/verbs/achieved";

pub const TYPE_MEETING: &str = "http://adlnet.gov/expapi/activities/meeting";
pub const TYPE_PERFORMANCE: &str = "http://adlnet.gov/expapi/activities/performance";
pub const TYPE_ASSESSMENT: &str = "http://adlnet.gov/expapi/activities/assessment";
pub const TYPE_COURSE: &str = "http://adlnet.gov/expapi/activities/course";
pub const TYPE_COMPETENCY: &str = "https://w3id.org/xapi/tla/activity-types/competency";
