//! The profile's identifiers: verbs, activity types, and the ids of its documents.

/// The xAPI SCORM Profile activity, in `context.contextActivities.category` of every statement
/// (§3.2 "Context Activities").
pub const SCORM_PROFILE: &str = "https://w3id.org/xapi/scorm";
/// The type of the profile activity.
pub const PROFILE_ACTIVITY_TYPE: &str = "http://adlnet.gov/expapi/activities/profile";

/// State document: the attempt IRIs of a SCO, oldest first (Appendix "SCORM Activity State").
pub const ACTIVITY_STATE_ID: &str = "https://w3id.org/xapi/scorm/activity-state";
/// State document of one attempt (Appendix "SCORM Activity Attempt State").
pub const ATTEMPT_STATE_ID: &str = "https://w3id.org/xapi/scorm/attempt-state";
/// State document holding `cmi.suspend_data` (§6 "Suspend Data").
pub const SUSPEND_DATA_STATE_ID: &str = "https://w3id.org/xapi/scorm/types/adl-suspend-data";
/// Activity Profile document (Appendix "SCORM Activity Profile").
pub const ACTIVITY_PROFILE_ID: &str = "https://w3id.org/xapi/scorm/activity-profile";
/// Agent Profile document (Appendix "Agent Profile").
pub const AGENT_PROFILE_ID: &str = "https://w3id.org/xapi/scorm/agent-profile";

/// The ADL verbs the profile gives a SCORM meaning (§3.2 "Verb"), plus `progressed` for
/// `progress_measure` (§6 "Progress Measure").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    Initialized,
    Resumed,
    Suspended,
    Terminated,
    Responded,
    Progressed,
    Scored,
    Completed,
    Passed,
    Failed,
}

impl Verb {
    /// The word after `http://adlnet.gov/expapi/verbs/`, also the `en-US` display.
    pub fn name(self) -> &'static str {
        match self {
            Verb::Initialized => "initialized",
            Verb::Resumed => "resumed",
            Verb::Suspended => "suspended",
            Verb::Terminated => "terminated",
            Verb::Responded => "responded",
            Verb::Progressed => "progressed",
            Verb::Scored => "scored",
            Verb::Completed => "completed",
            Verb::Passed => "passed",
            Verb::Failed => "failed",
        }
    }

    pub fn iri(self) -> String {
        format!("http://adlnet.gov/expapi/verbs/{}", self.name())
    }
}

/// Activity types for the SCORM concepts (§3.2 "Activity Types").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActivityType {
    Course,
    /// A SCO.
    Lesson,
    Attempt,
    Interaction,
    Objective,
}

impl ActivityType {
    pub fn iri(self) -> &'static str {
        match self {
            ActivityType::Course => "http://adlnet.gov/expapi/activities/course",
            ActivityType::Lesson => "http://adlnet.gov/expapi/activities/lesson",
            ActivityType::Attempt => "http://adlnet.gov/expapi/activities/attempt",
            ActivityType::Interaction => "http://adlnet.gov/expapi/activities/interaction",
            ActivityType::Objective => "http://adlnet.gov/expapi/activities/objective",
        }
    }
}
