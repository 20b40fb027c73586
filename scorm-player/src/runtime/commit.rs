//! What leaves a session: the commit payload the browser sends and the server replays, and
//! the attempt summary the server derives from it (never from the client's say-so).

use serde::{Deserialize, Serialize};

use super::error::RuntimeError;
use super::state::RuntimeState;
use super::types::Centiseconds;
use super::{LaunchData, RuntimeOptions, Start};
use crate::version::{DataModel, ScormVersion};

/// One commit: every element the SCO set in this attempt, in the order first set.
///
/// Commits of a session are numbered (`sequence`) so the server can make them idempotent and
/// ignore one that arrives after a later one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitPayload {
    pub data_model: DataModel,
    pub sequence: u64,
    /// Whether this is the commit of `Terminate`/`LMSFinish`.
    pub terminated: bool,
    pub values: Vec<ElementValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementValue {
    pub element: String,
    pub value: String,
}

/// The data a previous session left, to resume or continue from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriorAttempt {
    pub payload: CommitPayload,
    /// The attempt's accumulated time, session times included.
    pub total_time: Centiseconds,
}

/// Why the server refused a commit: the first value its own data model rejects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("the payload is for the {payload:?} data model, the SCO speaks {expected:?}")]
    DataModel {
        payload: DataModel,
        expected: DataModel,
    },
    #[error("value {index} ({element}): {error}")]
    Value {
        index: usize,
        element: String,
        error: RuntimeError,
    },
    #[error("terminate: {0}")]
    Terminate(RuntimeError),
}

/// Validates a payload the way the SCO's calls were validated: a fresh session with the same
/// launch data, `Initialize`, each `SetValue` in order, and `Terminate` if the payload says
/// so. Returns the resulting state, whose [`RuntimeState::summary`] is what the server keeps.
pub fn replay(
    version: ScormVersion,
    launch: LaunchData,
    start: Start,
    options: RuntimeOptions,
    payload: &CommitPayload,
) -> Result<RuntimeState, ReplayError> {
    let expected = version.data_model();
    if payload.data_model != expected {
        return Err(ReplayError::DataModel {
            payload: payload.data_model,
            expected,
        });
    }
    let mut state = RuntimeState::new(version, launch, start, options);
    state.initialize("").map_err(ReplayError::Terminate)?;
    for (index, ElementValue { element, value }) in payload.values.iter().enumerate() {
        state
            .set_value(element, value)
            .map_err(|error| ReplayError::Value {
                index,
                element: element.clone(),
                error,
            })?;
    }
    if payload.terminated {
        state.terminate("").map_err(ReplayError::Terminate)?;
    }
    Ok(state)
}

/// Completion, normalised across versions (1.2 `lesson_status` folds into it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CompletionStatus {
    Completed,
    Incomplete,
    NotAttempted,
    Unknown,
}

impl CompletionStatus {
    pub(crate) fn parse(value: &str) -> Self {
        match value {
            "completed" => CompletionStatus::Completed,
            "incomplete" => CompletionStatus::Incomplete,
            "not attempted" => CompletionStatus::NotAttempted,
            _ => CompletionStatus::Unknown,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SuccessStatus {
    Passed,
    Failed,
    Unknown,
}

impl SuccessStatus {
    pub(crate) fn parse(value: &str) -> Self {
        match value {
            "passed" => SuccessStatus::Passed,
            "failed" => SuccessStatus::Failed,
            _ => SuccessStatus::Unknown,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub scaled: Option<f64>,
    pub raw: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// The attempt as the LMS sees it after a commit: what to store, report and turn into xAPI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptSummary {
    pub data_model: DataModel,
    pub entry: String,
    pub exit: Option<String>,
    pub suspended: bool,
    pub completion: CompletionStatus,
    pub success: SuccessStatus,
    /// SCORM 1.2 `cmi.core.lesson_status` after LMSFinish's rules.
    pub lesson_status: Option<String>,
    pub score: Score,
    pub progress_measure: Option<f64>,
    pub location: Option<String>,
    pub suspend_data: Option<String>,
    pub session_time: Option<Centiseconds>,
    /// Accumulated time of the attempt, this session included once it is terminated.
    pub total_time: Centiseconds,
    /// SCORM 2004 `adl.nav.request` when not `_none_`.
    pub nav_request: Option<String>,
    pub terminated: bool,
    /// `cmi.objectives.n` with an id, in index order: what the sequencer maps onto the
    /// activity's objectives (SCORM 2004 RTE §4.2.17, SN §4.8).
    #[serde(default)]
    pub objectives: Vec<ObjectiveResult>,
}

/// One `cmi.objectives.n` record as the LMS evaluates it. SCORM 1.2 `status` folds into
/// completion and success the way `lesson_status` does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveResult {
    pub id: String,
    pub success: SuccessStatus,
    pub completion: CompletionStatus,
    pub score: Score,
    pub progress_measure: Option<f64>,
}
