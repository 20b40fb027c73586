//! The run-time environment's data model (RTE) for SCORM 1.2 (`cmi.*`, `API`) and SCORM 2004
//! (`cmi.*` and `adl.*`, `API_1484_11`) as a pure state machine: [`RuntimeState`].
//!
//! The browser shim answers the SCO from its own copy of this logic; the server runs this one
//! over what the browser commits ([`replay`]) so that nothing the client says is trusted.

mod commit;
mod error;
mod interaction;
mod model;
mod state;
mod types;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use commit::{
    AttemptSummary, CommitPayload, CompletionStatus, ElementValue, ObjectiveResult, PriorAttempt,
    ReplayError, Score, SuccessStatus, replay,
};
pub use error::{ErrorCode, Fault, RuntimeError, SCORM12_ERRORS, SCORM2004_ERRORS, error_string};
pub use state::{ApiCall, Phase, RuntimeState};
pub use types::{
    Centiseconds, format_cmi_timespan, format_time_interval, parse_cmi_timespan,
    parse_time_interval,
};

use crate::manifest::{Item, Manifest, TimeLimitAction};
use crate::version::ScormVersion;

/// How a session starts, which decides `cmi.entry` and what data it sees.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    /// A new attempt: `entry` is `ab-initio`, no prior data.
    New,
    /// The previous session exited with `suspend`: `entry` is `resume` and its data is back.
    Resume(PriorAttempt),
    /// A later session of the same attempt that was not suspended (`entry` "").
    Continue(PriorAttempt),
}

impl Start {
    /// How the next session starts after `prior`, by the specs' defaults: after
    /// `exit=suspend` it resumes (RTE `cmi.entry` "resume"). A session that never terminated
    /// (the window was closed) is treated as suspended too, so nothing is lost (the runtime's
    /// policy). Otherwise SCORM 1.2 continues the same data with `entry` "" (1.2 has no
    /// attempts), and SCORM 2004 starts a new attempt: a normal exit ends it.
    pub fn after(version: ScormVersion, prior: PriorAttempt) -> Start {
        let exit_element = if version.is_2004() {
            "cmi.exit"
        } else {
            "cmi.core.exit"
        };
        let exit = prior
            .payload
            .values
            .iter()
            .rev()
            .find(|v| v.element == exit_element)
            .map(|v| v.value.as_str());
        if exit == Some("suspend") || !prior.payload.terminated {
            Start::Resume(prior)
        } else if version.is_2004() {
            Start::New
        } else {
            Start::Continue(prior)
        }
    }
}

/// What the LMS tells a SCO: who the learner is, how the SCO is launched, and what the
/// manifest says about it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LaunchData {
    pub learner_id: String,
    pub learner_name: String,
    pub credit: Credit,
    pub mode: Mode,
    /// `adlcp:datafromlms` / `adlcp:dataFromLMS`.
    pub launch_data: Option<String>,
    /// SCORM 1.2 `adlcp:masteryscore`.
    pub mastery_score: Option<f64>,
    /// 1.2: `adlcp:maxtimeallowed` (CMITimespan); 2004: `attemptAbsoluteDurationLimit`.
    pub max_time_allowed: Option<String>,
    pub time_limit_action: Option<TimeLimitAction>,
    /// SCORM 2004 `cmi.completion_threshold`.
    pub completion_threshold: Option<f64>,
    /// SCORM 2004 `cmi.scaled_passing_score`.
    pub scaled_passing_score: Option<f64>,
    /// SCORM 2004: objective ids of the activity, pre-loaded into `cmi.objectives`.
    pub objective_ids: Vec<String>,
    /// SCORM 2004 4th Edition `adl.data` buckets, with their current contents.
    pub shared_data: Vec<SharedData>,
    pub comments_from_lms: Vec<LmsComment>,
    pub learner_preference: Option<LearnerPreference>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Credit {
    #[default]
    Credit,
    NoCredit,
}

impl Credit {
    pub fn as_str(self) -> &'static str {
        match self {
            Credit::Credit => "credit",
            Credit::NoCredit => "no-credit",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Normal,
    Browse,
    Review,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Normal => "normal",
            Mode::Browse => "browse",
            Mode::Review => "review",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedData {
    pub id: String,
    pub store: Option<String>,
    pub readable: bool,
    pub writable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LmsComment {
    pub comment: String,
    pub location: Option<String>,
    pub timestamp: Option<String>,
}

/// The learner's defaults (the xAPI SCORM Profile keeps them in the Agent Profile).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnerPreference {
    pub audio_level: f64,
    pub language: String,
    pub delivery_speed: f64,
    pub audio_captioning: i8,
}

impl LaunchData {
    /// What the manifest says about `item`, for `learner`. The caller fills in credit, mode,
    /// comments, preferences and shared data from its own records.
    pub fn for_item(
        manifest: &Manifest,
        item: &Item,
        learner_id: &str,
        learner_name: &str,
    ) -> Self {
        let is_2004 = manifest.scorm_version.is_none_or(ScormVersion::is_2004);
        let max_time_allowed = if is_2004 {
            item.sequencing
                .as_ref()
                .and_then(|s| s.limit_conditions.as_ref())
                .and_then(|l| l.attempt_absolute_duration_limit.clone())
        } else {
            item.max_time_allowed.clone()
        };
        LaunchData {
            learner_id: learner_id.to_owned(),
            learner_name: learner_name.to_owned(),
            launch_data: item.data_from_lms.clone(),
            mastery_score: item.mastery_score,
            max_time_allowed,
            time_limit_action: item.time_limit_action,
            completion_threshold: item
                .completion_threshold
                .filter(|t| t.completed_by_measure)
                .map(|t| t.min_progress_measure),
            scaled_passing_score: item.scaled_passing_score(),
            objective_ids: item.objective_ids(),
            shared_data: item
                .shared_data
                .iter()
                .map(|map| SharedData {
                    id: map.target_id.clone(),
                    store: None,
                    readable: map.read_shared_data,
                    writable: map.write_shared_data,
                })
                .collect(),
            ..LaunchData::default()
        }
    }
}

/// How strictly values are checked, and how much a session may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeOptions {
    /// Strict ADL mode, for conformance runs: the spec's sizes (CMIString255/4096, CMIFeedback
    /// 255, 2004 SPMs) are ceilings, identifiers may not contain white space, fractional
    /// seconds have at most two digits, and only bracketed delimiters count. Off by default:
    /// an SPM is a floor the LMS may exceed, and real content exceeds it (notes §6.2, §7.3).
    pub strict: bool,
    /// Longest single value, in characters (a 1.2 `suspend_data` of 64k and more is common).
    pub max_value_chars: usize,
    /// Most records in one collection (interactions, objectives, comments, patterns).
    pub max_records: usize,
    /// Most characters the SCO may store in one attempt, all elements together.
    pub max_total_chars: usize,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            strict: false,
            max_value_chars: 256 * 1024,
            max_records: 1024,
            max_total_chars: 4 * 1024 * 1024,
        }
    }
}

impl RuntimeOptions {
    pub fn strict() -> Self {
        Self {
            strict: true,
            ..Self::default()
        }
    }
}

/// `adl.nav.request_valid.*` answers, from the server's sequencer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NavValidity {
    True,
    False,
    #[default]
    Unknown,
}

impl NavValidity {
    pub fn as_str(self) -> &'static str {
        match self {
            NavValidity::True => "true",
            NavValidity::False => "false",
            NavValidity::Unknown => "unknown",
        }
    }
}

/// What the sequencer currently allows; anything not listed is "unknown".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Navigation {
    #[serde(rename = "continue")]
    pub continue_: NavValidity,
    pub previous: NavValidity,
    pub choice: BTreeMap<String, NavValidity>,
    pub jump: BTreeMap<String, NavValidity>,
}

impl Navigation {
    /// `key` is `continue`, `previous`, `choice.ID` or `jump.ID`.
    pub(crate) fn answer(&self, key: &str) -> &'static str {
        let validity = match key {
            "continue" => self.continue_,
            "previous" => self.previous,
            _ => match key.split_once('.') {
                Some(("choice", target)) => self.choice.get(target).copied().unwrap_or_default(),
                Some(("jump", target)) => self.jump.get(target).copied().unwrap_or_default(),
                _ => NavValidity::Unknown,
            },
        };
        validity.as_str()
    }
}
