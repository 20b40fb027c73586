//! The tracking and activity state of one registration (SN tracking model TM and activity
//! state model AM): what the sequencer remembers between requests. Stored as JSON;
//! every field has a default so state written by an older version keeps loading.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::tree::ActivityTree;

/// The format written by this version; older documents load field by field.
pub const STATE_FORMAT: u32 = 1;

/// All tracking and sequencing state of one registration.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SequencingState {
    pub format: u32,
    /// Current Activity (AM.1.2).
    pub(crate) current: Option<String>,
    /// Suspended Activity (AM.1.2).
    pub(crate) suspended: Option<String>,
    pub(crate) activities: BTreeMap<String, ActivityState>,
    /// Global (shared) objectives by target objective id (SN objective maps, SM.6).
    pub(crate) global_objectives: BTreeMap<String, GlobalObjective>,
    /// Where the random choices of selection and randomization (SN SR.1, SR.2) come from:
    /// the same seed gives the same children in the same order on every server.
    pub(crate) seed: u64,
    /// Available Children (SN SR) of each activity whose children are selected or reordered,
    /// by activity id. Absent for every other activity: all children, in manifest order.
    pub(crate) available_children: BTreeMap<String, AvailableChildren>,
}

/// The children an activity offers for one of its attempts, after selection and
/// randomization, in the order flow and choice follow.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct AvailableChildren {
    /// The attempt of the activity this arrangement is for (1 for the first).
    pub attempt: u32,
    pub children: Vec<String>,
}

/// The tracking and state information of one activity.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ActivityState {
    /// Activity Attempt Count (TM.1.2.1); Activity Progress Status is `attempts > 0`.
    pub attempts: u32,
    /// Activity is Active (AM.1.1).
    pub active: bool,
    /// Activity is Suspended (AM.1.1).
    pub suspended: bool,
    /// Attempt Progress Status and Attempt Completion Status (TM.1.2.2): `None` is unknown.
    pub completed: Option<bool>,
    /// Attempt Completion Amount (TM.1.2.2, 4th Edition): the progress measure.
    pub progress_measure: Option<f64>,
    /// Attempt Experienced Duration, in centiseconds, as the content's total time reports it.
    pub duration: Option<u64>,
    /// The parent's attempt count when this activity's attempt began: its information belongs
    /// to the parent's current attempt when the two agree (SN SM.1 useCurrentAttempt*).
    pub parent_attempt: u32,
    /// Objective Progress Information (TM.1.1) by objective id; "" is an anonymous primary.
    pub objectives: BTreeMap<String, ObjectiveState>,
}

/// Objective Progress Information of a local objective (TM.1.1).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ObjectiveState {
    /// Objective Progress Status and Objective Satisfied Status: `None` is unknown.
    pub satisfied: Option<bool>,
    /// Objective Measure Status and Objective Normalized Measure.
    pub measure: Option<f64>,
}

/// A global objective (SN SM.6 maps) with the 4th Edition additions (`adlseq:mapInfo`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct GlobalObjective {
    pub satisfied: Option<bool>,
    pub measure: Option<f64>,
    pub completed: Option<bool>,
    pub progress_measure: Option<f64>,
    pub raw: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Default for SequencingState {
    fn default() -> Self {
        SequencingState {
            format: STATE_FORMAT,
            current: None,
            suspended: None,
            activities: BTreeMap::new(),
            global_objectives: BTreeMap::new(),
            seed: 0,
            available_children: BTreeMap::new(),
        }
    }
}

impl SequencingState {
    /// A registration that has not started: every activity unattempted. Its selection and
    /// randomization seed derives from the tree, so every registration of a course sees the
    /// same arrangement; [`SequencingState::with_seed`] gives each its own.
    pub fn new(tree: &ActivityTree) -> Self {
        SequencingState::with_seed(tree, fnv1a(tree.root().as_bytes()))
    }

    /// A registration that has not started, whose selection and randomization of children
    /// (SN SR.1, SR.2) draw from `seed` (for instance a hash of the registration id).
    pub fn with_seed(tree: &ActivityTree, seed: u64) -> Self {
        SequencingState {
            seed,
            activities: tree
                .activities()
                .map(|id| (id.to_owned(), ActivityState::default()))
                .collect(),
            ..SequencingState::default()
        }
    }

    /// The Current Activity (SN AM.1.2): the leaf whose content is delivered, or that was
    /// delivered last. After an exit that a rule carried up the tree (exit action or
    /// `exitParent`), the cluster the exit stopped at; `None` before a sequencing session and
    /// after it ends.
    pub fn current(&self) -> Option<&str> {
        self.current.as_deref()
    }

    /// The Suspended Activity (SN AM.1.2): what `ResumeAll` delivers.
    pub fn suspended(&self) -> Option<&str> {
        self.suspended.as_deref()
    }

    /// The seed selection and randomization draw from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The Available Children of `id` for its current or next attempt, when its children are
    /// selected or reordered and the sequencer has arranged them.
    pub fn available_children(&self, id: &str) -> Option<&AvailableChildren> {
        self.available_children.get(id)
    }

    pub fn activity(&self, id: &str) -> Option<&ActivityState> {
        self.activities.get(id)
    }

    pub fn global_objective(&self, id: &str) -> Option<&GlobalObjective> {
        self.global_objectives.get(id)
    }

    pub fn global_objectives(&self) -> &BTreeMap<String, GlobalObjective> {
        &self.global_objectives
    }
}

/// FNV-1a: a hash that stays the same across builds and platforms, unlike `std`'s hasher.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
