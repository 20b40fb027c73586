//! SCORM 2004 Sequencing and Navigation (SN), and the flow of SCORM 1.2 multi-SCO courses, as
//! pure functions over an [`ActivityTree`] and a registration's [`SequencingState`].
//!
//! - [`ActivityTree::build`] reads one organization of a [`Manifest`](crate::Manifest) into
//!   activities with their sequencing definition (IMS SS defaults applied; SCORM 1.2 courses
//!   get choice and flow everywhere).
//! - [`report`] records what a SCO reported (completion, success, measure, progress,
//!   objectives, suspension) and rolls it up.
//! - [`navigate`] runs the Overall Sequencing Process (SN OP.1): navigation request,
//!   termination of the current attempt (end attempt, exit and post-condition rules, rollup),
//!   sequencing request and delivery.
//! - [`navigation`] and [`outline`] answer what is valid now (`adl.nav.request_valid.*`, the
//!   player's buttons and menu) by running the same processes without changing the state.
//!
//! The processes follow the pseudo code of the SN book (SCORM 2004 4th Edition, Appendix C);
//! each function names the process it implements. Selection and randomization of children
//! (SR.1, SR.2) draw from a seed kept in the state, so a registration sees the same
//! arrangement on every request; availability time windows are not part of this model.

mod engine;
mod prerequisites;
mod process;
mod rollup;
mod selection;
mod state;
mod tree;

use serde::Serialize;

use crate::runtime::{AttemptSummary, CompletionStatus, NavValidity, Navigation, SuccessStatus};
use crate::version::ScormVersion;

pub use state::{
    ActivityState, AvailableChildren, GlobalObjective, ObjectiveState, STATE_FORMAT,
    SequencingState,
};
pub use tree::{ActivityTree, TreeError, TreeWarning};

use engine::Engine;
use process::Outcome;

/// A navigation request (SN NB.2.1; RTE `adl.nav.request` vocabulary).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NavRequest {
    Start,
    ResumeAll,
    Continue,
    Previous,
    Choice(String),
    Jump(String),
    Exit,
    ExitAll,
    SuspendAll,
    Abandon,
    AbandonAll,
    Retry,
    RetryAll,
}

/// What a navigation request led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NavOutcome {
    /// Launch `activity`. `resumed`: the activity was suspended, so its SCO gets
    /// `cmi.entry` = `resume`; `new_attempt`: a new attempt on it began.
    Deliver {
        activity: String,
        resumed: bool,
        new_attempt: bool,
    },
    /// The sequencing session ended (exit all, or flow ran past the last activity).
    Ended,
    /// Suspend all: the registration can be resumed later with `ResumeAll`.
    Suspended,
    /// The current attempt ended and nothing is to be delivered: the session goes on and the
    /// learner chooses from the outline (an exit or abandon outside the root, SN SB.2.11).
    Idle,
}

/// Why a request was refused: the SN exception code (e.g. "NB.2.1-2", "SB.2.12-1") and what
/// it means for this tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct SequencingException {
    pub code: &'static str,
    pub message: String,
}

/// One activity of the outline a player shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutlineEntry {
    pub id: String,
    pub title: String,
    /// 0 for the root (the organization).
    pub depth: usize,
    pub leaf: bool,
    pub completion: CompletionStatus,
    pub success: SuccessStatus,
    /// The normalized measure of the primary objective.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress_measure: Option<f64>,
    pub attempts: u32,
    pub attempted: bool,
    pub suspended: bool,
    pub active: bool,
    pub current: bool,
    /// A `disabled` pre-condition holds, the attempt limit is reached, or (SCORM 1.2) the
    /// prerequisites are not met.
    pub disabled: bool,
    pub hidden_from_choice: bool,
    /// A choice of this activity would be carried out now.
    pub choice: bool,
}

impl NavRequest {
    /// Reads the RTE `adl.nav.request` vocabulary (`continue`, `{target=ID}choice`, `exitAll`,
    /// …) and the requests a player sends (`start`, `resumeAll`, `retry`, `retryAll`).
    /// `_none_`, a choice or jump without a target and anything else give `None`.
    pub fn parse(value: &str) -> Option<NavRequest> {
        let value = value.trim();
        if let Some(rest) = value.strip_prefix("{target=") {
            let (target, request) = rest.split_once('}')?;
            if target.is_empty() {
                return None;
            }
            return match request {
                "choice" => Some(NavRequest::Choice(target.to_owned())),
                "jump" => Some(NavRequest::Jump(target.to_owned())),
                _ => None,
            };
        }
        Some(match value {
            "start" => NavRequest::Start,
            "resumeAll" => NavRequest::ResumeAll,
            "continue" => NavRequest::Continue,
            "previous" => NavRequest::Previous,
            "exit" => NavRequest::Exit,
            "exitAll" => NavRequest::ExitAll,
            "suspendAll" => NavRequest::SuspendAll,
            "abandon" => NavRequest::Abandon,
            "abandonAll" => NavRequest::AbandonAll,
            "retry" => NavRequest::Retry,
            "retryAll" => NavRequest::RetryAll,
            _ => return None,
        })
    }
}

impl std::fmt::Display for NavRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NavRequest::Start => f.write_str("start"),
            NavRequest::ResumeAll => f.write_str("resumeAll"),
            NavRequest::Continue => f.write_str("continue"),
            NavRequest::Previous => f.write_str("previous"),
            NavRequest::Choice(target) => write!(f, "{{target={target}}}choice"),
            NavRequest::Jump(target) => write!(f, "{{target={target}}}jump"),
            NavRequest::Exit => f.write_str("exit"),
            NavRequest::ExitAll => f.write_str("exitAll"),
            NavRequest::SuspendAll => f.write_str("suspendAll"),
            NavRequest::Abandon => f.write_str("abandon"),
            NavRequest::AbandonAll => f.write_str("abandonAll"),
            NavRequest::Retry => f.write_str("retry"),
            NavRequest::RetryAll => f.write_str("retryAll"),
        }
    }
}

/// Records what the SCO reported for `activity` (on each commit and at termination, before
/// the next navigation request) and rolls it up. A report for anything but an active, tracked
/// leaf is ignored: an attempt's data cannot change once it has ended (SN TM).
pub fn report(
    tree: &ActivityTree,
    state: &mut SequencingState,
    activity: &str,
    summary: &AttemptSummary,
) {
    let Some(a) = tree.idx(activity) else {
        return;
    };
    let mut engine = Engine::load(tree, state);
    if !engine.is_leaf(a) || !engine.acts[a].active || !engine.def(a).tracked {
        return;
    }
    engine.record(a, summary);
    engine.store(state);
}

/// Processes a navigation request (SN OP.1). A request refused before the current attempt is
/// terminated leaves the state as it was; one refused later (for instance a continue whose
/// next activity is disabled) keeps the termination, as the SN prescribes.
pub fn navigate(
    tree: &ActivityTree,
    state: &mut SequencingState,
    request: &NavRequest,
) -> Result<NavOutcome, SequencingException> {
    let mut engine = Engine::load(tree, state);
    let result = engine.overall(request);
    engine.store(state);
    result.map(|outcome| match outcome {
        Outcome::Deliver {
            activity,
            resumed,
            new_attempt,
        } => NavOutcome::Deliver {
            activity: tree.nodes[activity].id.clone(),
            resumed,
            new_attempt,
        },
        Outcome::Ended => NavOutcome::Ended,
        Outcome::Suspended => NavOutcome::Suspended,
        Outcome::Idle => NavOutcome::Idle,
    })
}

/// What is valid now, for `adl.nav.request_valid.*` and the player's buttons: each request is
/// evaluated as if the current content terminated now, without changing anything. Continue and
/// previous are valid when they deliver or end the session; a choice or jump when it delivers.
pub fn navigation(tree: &ActivityTree, state: &SequencingState) -> Navigation {
    let engine = Engine::load(tree, state);
    let mut terminated = Vec::new();
    let mut outcome = |request: NavRequest| engine.look_ahead(&request, &mut terminated);
    let validity = |valid: bool| {
        if valid {
            NavValidity::True
        } else {
            NavValidity::False
        }
    };
    let flows = |result: Result<Outcome, SequencingException>| {
        validity(matches!(
            result,
            Ok(Outcome::Deliver { .. } | Outcome::Ended)
        ))
    };
    let delivers = |result: Result<Outcome, SequencingException>| {
        validity(matches!(result, Ok(Outcome::Deliver { .. })))
    };
    let mut navigation = Navigation {
        continue_: flows(outcome(NavRequest::Continue)),
        previous: flows(outcome(NavRequest::Previous)),
        ..Navigation::default()
    };
    let jump = tree.version() == ScormVersion::Scorm2004Ed4;
    // Activities left out by selection (SN SR.1) stay in the map, never valid.
    for node in &tree.nodes {
        let choice = delivers(outcome(NavRequest::Choice(node.id.clone())));
        navigation.choice.insert(node.id.clone(), choice);
        if jump {
            let jump = delivers(outcome(NavRequest::Jump(node.id.clone())));
            navigation.jump.insert(node.id.clone(), jump);
        }
    }
    navigation
}

/// The outline to show: each visible activity (`isvisible`) of the available tree (children
/// selected and ordered, SN SR.1, SR.2) in flow order with its status and whether choosing it
/// is valid now.
pub fn outline(tree: &ActivityTree, state: &SequencingState) -> Vec<OutlineEntry> {
    let engine = Engine::load(tree, state);
    let choices = navigation(tree, state).choice;
    let mut entries = Vec::new();
    for a in engine.preorder() {
        let node = &tree.nodes[a];
        if !node.visible {
            continue;
        }
        let act = &engine.acts[a];
        let completion = match engine.completed(a) {
            Some(true) => CompletionStatus::Completed,
            Some(false) => CompletionStatus::Incomplete,
            None if act.attempts == 0 => CompletionStatus::NotAttempted,
            None => CompletionStatus::Unknown,
        };
        let success = match engine.satisfied(a, 0) {
            Some(true) => SuccessStatus::Passed,
            Some(false) => SuccessStatus::Failed,
            None => SuccessStatus::Unknown,
        };
        // Depth among what is shown: a hidden cluster does not indent its children.
        let depth = engine
            .path_to_root(a)
            .into_iter()
            .skip(1)
            .filter(|&x| tree.nodes[x].visible)
            .count();
        entries.push(OutlineEntry {
            id: node.id.clone(),
            title: node.title.clone(),
            depth,
            leaf: node.children.is_empty(),
            completion,
            success,
            score: engine.measure(a, 0),
            progress_measure: engine.progress(a),
            attempts: act.attempts,
            attempted: act.attempts > 0,
            suspended: act.suspended,
            active: act.active,
            current: engine.current == Some(a),
            disabled: engine.check_activity(a),
            hidden_from_choice: engine.pre_rule(a, crate::manifest::RuleAction::HiddenFromChoice),
            choice: choices.get(&node.id) == Some(&NavValidity::True),
        });
    }
    entries
}
