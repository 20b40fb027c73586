//! The working copy the processes run on: the tree's definitions beside the registration's
//! state, indexed by activity position. Tracking reads and writes (with global objective
//! maps, SN SM.6), sequencing rule conditions (UP.2, UP.2.1), limit conditions (UP.1), the
//! Check Activity Process (UP.5), End Attempt (UP.4) and Terminate Descendent Attempts (UP.3).

use std::collections::BTreeMap;

use crate::manifest::{
    ConditionCombination, ConditionOperator, RuleAction, RuleCondition, RuleConditionType,
    SequencingRule,
};

use crate::runtime::{AttemptSummary, CompletionStatus, SuccessStatus};
use crate::version::DataModel;

use super::prerequisites::Status12;
use super::state::{ActivityState, GlobalObjective, ObjectiveState, SequencingState};
use super::tree::{ActivityTree, Definition, Node};

#[derive(Clone)]
pub(crate) struct Engine<'t> {
    pub tree: &'t ActivityTree,
    pub acts: Vec<ActivityState>,
    pub globals: BTreeMap<String, GlobalObjective>,
    pub current: Option<usize>,
    pub suspended: Option<usize>,
    /// A global objective changed since the last full rollup: activities elsewhere in the tree
    /// that read it may need rolling up too.
    pub globals_changed: bool,
    /// The seed of selection and randomization (SN SR.1, SR.2).
    pub seed: u64,
    /// Available Children of each activity for its current attempt, or its next one once
    /// the current has ended: what flow, choice and the outline follow.
    pub available: Vec<Vec<usize>>,
    /// The attempt each entry of `available` was arranged for; 0 when it is the manifest's
    /// children because no selection or randomization applies.
    pub arranged_for: Vec<u32>,
}

/// Which rules of an activity a check looks at (SN UP.2).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum RuleSet {
    Pre,
    Exit,
    Post,
}

impl<'t> Engine<'t> {
    pub fn load(tree: &'t ActivityTree, state: &SequencingState) -> Self {
        let mut engine = Engine {
            tree,
            acts: tree
                .nodes
                .iter()
                .map(|n| state.activities.get(&n.id).cloned().unwrap_or_default())
                .collect(),
            globals: state.global_objectives.clone(),
            current: state.current.as_deref().and_then(|id| tree.idx(id)),
            suspended: state.suspended.as_deref().and_then(|id| tree.idx(id)),
            globals_changed: false,
            seed: state.seed,
            available: tree.nodes.iter().map(|n| n.children.clone()).collect(),
            arranged_for: vec![0; tree.len()],
        };
        engine.load_available_children(state);
        engine
    }

    pub fn store(self, state: &mut SequencingState) {
        let Engine {
            tree,
            acts,
            globals,
            current,
            suspended,
            available,
            arranged_for,
            ..
        } = self;
        for (node, act) in tree.nodes.iter().zip(acts) {
            state.activities.insert(node.id.clone(), act);
        }
        state.global_objectives = globals;
        state.available_children.clear();
        for (a, node) in tree.nodes.iter().enumerate() {
            if arranged_for[a] == 0 {
                continue;
            }
            let children = available[a]
                .iter()
                .map(|&c| tree.nodes[c].id.clone())
                .collect();
            state.available_children.insert(
                node.id.clone(),
                super::state::AvailableChildren {
                    attempt: arranged_for[a],
                    children,
                },
            );
        }
        state.current = current.map(|i| tree.nodes[i].id.clone());
        state.suspended = suspended.map(|i| tree.nodes[i].id.clone());
        state.format = super::state::STATE_FORMAT;
    }

    // -----------------------------------------------------------------------------------------
    // The tree

    pub fn node(&self, a: usize) -> &'t Node {
        &self.tree.nodes[a]
    }

    pub fn def(&self, a: usize) -> &'t Definition {
        &self.tree.nodes[a].def
    }

    pub fn parent(&self, a: usize) -> Option<usize> {
        self.tree.nodes[a].parent
    }

    pub fn is_leaf(&self, a: usize) -> bool {
        self.tree.nodes[a].children.is_empty()
    }

    pub fn is_root(&self, a: usize) -> bool {
        a == 0
    }

    /// The Available Children of `a` (SN SR): selected and ordered as its sequencing
    /// definition asks, otherwise all children in manifest order.
    pub fn children(&self, a: usize) -> &[usize] {
        &self.available[a]
    }

    /// `a`, its parent, … the root.
    pub fn path_to_root(&self, a: usize) -> Vec<usize> {
        let mut path = vec![a];
        let mut at = a;
        while let Some(p) = self.parent(at) {
            path.push(p);
            at = p;
        }
        path
    }

    pub fn is_ancestor_or_self(&self, ancestor: usize, a: usize) -> bool {
        let mut at = Some(a);
        while let Some(x) = at {
            if x == ancestor {
                return true;
            }
            at = self.parent(x);
        }
        false
    }

    pub fn common_ancestor(&self, a: usize, b: usize) -> usize {
        let mut at = Some(a);
        while let Some(x) = at {
            if self.is_ancestor_or_self(x, b) {
                return x;
            }
            at = self.parent(x);
        }
        0
    }

    pub fn siblings(&self, a: usize) -> &[usize] {
        match self.parent(a) {
            Some(p) => self.children(p),
            None => &[],
        }
    }

    pub fn is_first_child(&self, a: usize) -> bool {
        self.siblings(a).first() == Some(&a)
    }

    pub fn is_last_child(&self, a: usize) -> bool {
        self.siblings(a).last() == Some(&a)
    }

    /// The sibling `step` places away (+1 next, -1 previous).
    pub fn sibling(&self, a: usize, forward: bool) -> Option<usize> {
        let siblings = self.siblings(a);
        let at = siblings.iter().position(|&s| s == a)?;
        if forward {
            siblings.get(at + 1).copied()
        } else {
            at.checked_sub(1).and_then(|i| siblings.get(i).copied())
        }
    }

    /// The last activity of a preorder traversal of the available tree.
    pub fn is_last_overall(&self, a: usize) -> bool {
        let mut last = 0;
        while let Some(&child) = self.available[last].last() {
            last = child;
        }
        a == last
    }

    /// The activities of the available tree in preorder: the order flow follows.
    pub fn preorder(&self) -> Vec<usize> {
        let mut order = Vec::with_capacity(self.tree.len());
        let mut stack = vec![0];
        while let Some(a) = stack.pop() {
            order.push(a);
            stack.extend(self.available[a].iter().rev());
        }
        order
    }

    /// Whether `a` lies in the available tree: each activity on its path is among its
    /// parent's Available Children.
    pub fn is_available(&self, a: usize) -> bool {
        let mut at = a;
        while let Some(p) = self.parent(at) {
            if !self.available[p].contains(&at) {
                return false;
            }
            at = p;
        }
        true
    }

    // -----------------------------------------------------------------------------------------
    // Tracking reads. A read map takes the global objective's value when it is known (SN
    // objective maps, SM.6); otherwise the local value stands.

    fn local(&self, a: usize, o: usize) -> Option<&ObjectiveState> {
        let key = &self.def(a).objectives.get(o)?.key;
        self.acts[a].objectives.get(key)
    }

    pub fn satisfied(&self, a: usize, o: usize) -> Option<bool> {
        self.satisfied_from(a, o, true)
    }

    pub fn satisfied_from(&self, a: usize, o: usize, with_local: bool) -> Option<bool> {
        let def = self.def(a).objectives.get(o)?;
        for map in def.maps.iter().filter(|m| m.read_satisfied_status) {
            if let Some(v) = self
                .globals
                .get(&map.target_objective_id)
                .and_then(|g| g.satisfied)
            {
                return Some(v);
            }
        }
        if with_local {
            self.local(a, o).and_then(|s| s.satisfied)
        } else {
            None
        }
    }

    pub fn measure(&self, a: usize, o: usize) -> Option<f64> {
        self.measure_from(a, o, true)
    }

    pub fn measure_from(&self, a: usize, o: usize, with_local: bool) -> Option<f64> {
        let def = self.def(a).objectives.get(o)?;
        for map in def.maps.iter().filter(|m| m.read_normalized_measure) {
            if let Some(v) = self
                .globals
                .get(&map.target_objective_id)
                .and_then(|g| g.measure)
            {
                return Some(v);
            }
        }
        if with_local {
            self.local(a, o).and_then(|s| s.measure)
        } else {
            None
        }
    }

    pub fn completed(&self, a: usize) -> Option<bool> {
        self.completed_from(a, true)
    }

    /// Attempt completion, read through `adlseq:mapInfo readCompletionStatus` of the primary
    /// objective (SN 4th Edition, `adlseq:objectives`).
    pub fn completed_from(&self, a: usize, with_local: bool) -> Option<bool> {
        for map in self.def(a).objectives[0]
            .adl_maps
            .iter()
            .filter(|m| m.read_completion_status)
        {
            if let Some(v) = self
                .globals
                .get(&map.target_objective_id)
                .and_then(|g| g.completed)
            {
                return Some(v);
            }
        }
        if with_local {
            self.acts[a].completed
        } else {
            None
        }
    }

    pub fn progress(&self, a: usize) -> Option<f64> {
        self.progress_from(a, true)
    }

    pub fn progress_from(&self, a: usize, with_local: bool) -> Option<f64> {
        for map in self.def(a).objectives[0]
            .adl_maps
            .iter()
            .filter(|m| m.read_progress_measure)
        {
            if let Some(v) = self
                .globals
                .get(&map.target_objective_id)
                .and_then(|g| g.progress_measure)
            {
                return Some(v);
            }
        }
        if with_local {
            self.acts[a].progress_measure
        } else {
            None
        }
    }

    pub fn attempted(&self, a: usize) -> bool {
        self.acts[a].attempts > 0
    }

    /// Whether `child`'s information belongs to `parent`'s current attempt.
    pub fn in_current_attempt(&self, parent: usize, child: usize) -> bool {
        self.acts[child].attempts > 0
            && self.acts[child].parent_attempt == self.acts[parent].attempts
    }

    // -----------------------------------------------------------------------------------------
    // Tracking writes. A write map copies a known local value to the global objective (SN
    // objective maps, SM.6); an unknown value never erases what a global objective holds.

    fn objective_mut(&mut self, a: usize, o: usize) -> Option<&mut ObjectiveState> {
        let key = self.def(a).objectives.get(o)?.key.clone();
        Some(self.acts[a].objectives.entry(key).or_default())
    }

    fn global_mut(&mut self, target: &str) -> &mut GlobalObjective {
        self.globals.entry(target.to_owned()).or_default()
    }

    pub fn set_satisfied(&mut self, a: usize, o: usize, value: Option<bool>) {
        let Some(local) = self.objective_mut(a, o) else {
            return;
        };
        local.satisfied = value;
        let Some(value) = value else {
            return;
        };
        let targets: Vec<&str> = self.def(a).objectives[o]
            .maps
            .iter()
            .filter(|m| m.write_satisfied_status)
            .map(|m| m.target_objective_id.as_str())
            .collect();
        for target in targets {
            let global = self.global_mut(target);
            if global.satisfied != Some(value) {
                global.satisfied = Some(value);
                self.globals_changed = true;
            }
        }
    }

    pub fn set_measure(&mut self, a: usize, o: usize, value: Option<f64>) {
        let Some(local) = self.objective_mut(a, o) else {
            return;
        };
        local.measure = value;
        let Some(value) = value else {
            return;
        };
        let targets: Vec<&str> = self.def(a).objectives[o]
            .maps
            .iter()
            .filter(|m| m.write_normalized_measure)
            .map(|m| m.target_objective_id.as_str())
            .collect();
        for target in targets {
            let global = self.global_mut(target);
            if global.measure != Some(value) {
                global.measure = Some(value);
                self.globals_changed = true;
            }
        }
    }

    pub fn set_completed(&mut self, a: usize, value: Option<bool>) {
        self.acts[a].completed = value;
        let Some(value) = value else {
            return;
        };
        let targets: Vec<&str> = self.def(a).objectives[0]
            .adl_maps
            .iter()
            .filter(|m| m.write_completion_status)
            .map(|m| m.target_objective_id.as_str())
            .collect();
        for target in targets {
            let global = self.global_mut(target);
            if global.completed != Some(value) {
                global.completed = Some(value);
                self.globals_changed = true;
            }
        }
    }

    pub fn set_progress(&mut self, a: usize, value: Option<f64>) {
        self.acts[a].progress_measure = value;
        let Some(value) = value else {
            return;
        };
        let targets: Vec<&str> = self.def(a).objectives[0]
            .adl_maps
            .iter()
            .filter(|m| m.write_progress_measure)
            .map(|m| m.target_objective_id.as_str())
            .collect();
        for target in targets {
            let global = self.global_mut(target);
            if global.progress_measure != Some(value) {
                global.progress_measure = Some(value);
                self.globals_changed = true;
            }
        }
    }

    /// 4th Edition `writeRawScore` / `writeMinScore` / `writeMaxScore` of objective `o`.
    pub fn write_scores(
        &mut self,
        a: usize,
        o: usize,
        raw: Option<f64>,
        min: Option<f64>,
        max: Option<f64>,
    ) {
        let maps = &self.def(a).objectives[o].adl_maps;
        for map in maps {
            let global = self
                .globals
                .entry(map.target_objective_id.clone())
                .or_default();
            if map.write_raw_score && raw.is_some() {
                global.raw = raw;
            }
            if map.write_min_score && min.is_some() {
                global.min = min;
            }
            if map.write_max_score && max.is_some() {
                global.max = max;
            }
        }
    }

    /// Everything a new attempt starts without (SN DB.2: "initialize Objective Progress
    /// Information and Attempt Progress Information for the new attempt").
    pub fn reset_attempt_information(&mut self, a: usize) {
        let act = &mut self.acts[a];
        act.completed = None;
        act.progress_measure = None;
        act.duration = None;
        act.objectives.clear();
    }

    /// What the content reported for its attempt, in the tracking model (SCORM 2004 RTE
    /// §4.2.4.1, §4.2.22.1, §4.2.17 and SN TM.1.1, TM.1.2; SCORM 1.2 `lesson_status`: completed and
    /// passed are completion, passed and failed are satisfaction).
    pub fn record(&mut self, a: usize, summary: &AttemptSummary) {
        let (completed, satisfied, measure) = match summary.data_model {
            DataModel::Scorm12 => {
                let status = summary.lesson_status.as_deref().unwrap_or("not attempted");
                let completed = match status {
                    "completed" | "passed" => Some(true),
                    "failed" | "incomplete" | "browsed" | "not attempted" => Some(false),
                    _ => None,
                };
                let satisfied = match status {
                    "passed" => Some(true),
                    "failed" => Some(false),
                    _ => None,
                };
                (completed, satisfied, None)
            }
            DataModel::Scorm2004 => (
                completion_of(summary.completion),
                success_of(summary.success),
                summary.score.scaled.map(|m| m.clamp(-1.0, 1.0)),
            ),
        };
        for result in &summary.objectives {
            let Some(o) = self
                .def(a)
                .objectives
                .iter()
                .position(|d| !d.key.is_empty() && d.key == result.id)
            else {
                continue;
            };
            if o == 0 {
                // The primary objective is what cmi.success_status and cmi.score.scaled
                // report; they are applied below.
                continue;
            }
            self.set_satisfied(a, o, success_of(result.success));
            self.set_measure(a, o, result.score.scaled.map(|m| m.clamp(-1.0, 1.0)));
            self.write_scores(a, o, result.score.raw, result.score.min, result.score.max);
        }
        self.set_completed(a, completed);
        self.set_satisfied(a, 0, satisfied);
        self.set_measure(a, 0, measure);
        self.set_progress(a, summary.progress_measure.map(|p| p.clamp(0.0, 1.0)));
        self.write_scores(
            a,
            0,
            summary.score.raw,
            summary.score.min,
            summary.score.max,
        );
        // The attempt's duration so far: cmi.total_time holds the earlier sessions, and this
        // session's cmi.session_time until termination adds it (RTE §4.2.28, §4.2.30).
        let duration = if summary.terminated {
            summary.total_time
        } else {
            summary
                .total_time
                .saturating_add(summary.session_time.unwrap_or(0))
        };
        let act = &mut self.acts[a];
        act.duration = Some(duration);
        // cmi.exit = suspend: the attempt is suspended, not ended (SN AM.1.1).
        act.suspended = summary.suspended;
        self.overall_rollup(a);
    }

    // -----------------------------------------------------------------------------------------
    // Conditions

    /// The objective a rule condition refers to: `referencedObjective`, else the primary.
    fn referenced(&self, a: usize, condition: &RuleCondition) -> Option<usize> {
        match condition.referenced_objective.as_deref() {
            None | Some("") => Some(0),
            Some(id) => self.def(a).objectives.iter().position(|o| o.key == id),
        }
    }

    pub fn limit_exceeded(&self, a: usize) -> bool {
        self.def(a)
            .attempt_limit
            .is_some_and(|limit| self.attempted(a) && self.acts[a].attempts >= limit)
    }

    pub fn time_limit_exceeded(&self, a: usize) -> bool {
        match (self.def(a).duration_limit, self.acts[a].duration) {
            (Some(limit), Some(duration)) => duration >= limit,
            _ => false,
        }
    }

    /// One sequencing rule condition (SN UP.2.1): `None` when it cannot be evaluated.
    fn rule_condition(&self, a: usize, condition: &RuleCondition) -> Option<bool> {
        let objective = self.referenced(a, condition);
        let value = match condition.condition {
            RuleConditionType::Satisfied => objective.and_then(|o| self.satisfied(a, o)),
            RuleConditionType::ObjectiveStatusKnown => {
                Some(objective.is_some_and(|o| self.satisfied(a, o).is_some()))
            }
            RuleConditionType::ObjectiveMeasureKnown => {
                Some(objective.is_some_and(|o| self.measure(a, o).is_some()))
            }
            RuleConditionType::ObjectiveMeasureGreaterThan => objective
                .and_then(|o| self.measure(a, o))
                .map(|m| m > condition.measure_threshold),
            RuleConditionType::ObjectiveMeasureLessThan => objective
                .and_then(|o| self.measure(a, o))
                .map(|m| m < condition.measure_threshold),
            RuleConditionType::Completed => self.completed(a),
            RuleConditionType::ActivityProgressKnown => {
                Some(self.attempted(a) && self.completed(a).is_some())
            }
            RuleConditionType::Attempted => Some(self.attempted(a)),
            RuleConditionType::AttemptLimitExceeded => Some(self.limit_exceeded(a)),
            RuleConditionType::TimeLimitExceeded => Some(self.time_limit_exceeded(a)),
            // No availability window is part of the model this sequencer reads.
            RuleConditionType::OutsideAvailableTimeRange => Some(false),
            RuleConditionType::Always => Some(true),
        };
        match condition.operator {
            ConditionOperator::Not => value.map(|v| !v),
            ConditionOperator::NoOp => value,
        }
    }

    /// Sequencing Rule Check Subprocess (UP.2.1): true only when the combination is true.
    fn rule_applies(&self, a: usize, rule: &SequencingRule) -> bool {
        let values: Vec<Option<bool>> = rule
            .conditions
            .iter()
            .map(|c| self.rule_condition(a, c))
            .collect();
        combine(rule.condition_combination, &values) == Some(true)
    }

    /// Sequencing Rules Check Process (UP.2): the action of the first rule of `set` whose
    /// action is one of `actions` and whose conditions hold.
    pub fn rules_check(
        &self,
        a: usize,
        set: RuleSet,
        actions: &[RuleAction],
    ) -> Option<RuleAction> {
        let def = self.def(a);
        let rules = match set {
            RuleSet::Pre => &def.pre_rules,
            RuleSet::Exit => &def.exit_rules,
            RuleSet::Post => &def.post_rules,
        };
        rules
            .iter()
            .filter(|r| actions.contains(&r.action))
            .find(|r| self.rule_applies(a, r))
            .map(|r| r.action)
    }

    pub fn pre_rule(&self, a: usize, action: RuleAction) -> bool {
        self.rules_check(a, RuleSet::Pre, &[action]).is_some()
    }

    /// Limit Conditions Check Process (UP.1), run before a new attempt begins: the attempt
    /// limit, and the attempt duration limit against the experienced duration of the last
    /// attempt (UP.1 step 6; the content also sees the limit as `cmi.max_time_allowed`).
    /// Availability windows (begin and end time limits) are not part of the model.
    pub fn limit_conditions_violated(&self, a: usize) -> bool {
        let act = &self.acts[a];
        if !self.def(a).tracked || act.active || act.suspended {
            return false;
        }
        self.limit_exceeded(a) || (self.attempted(a) && self.time_limit_exceeded(a))
    }

    /// Check Activity Process (UP.5): true when the activity may not be delivered — a
    /// `disabled` pre-condition holds, a limit is reached, or (SCORM 1.2) its prerequisites
    /// are not met.
    pub fn check_activity(&self, a: usize) -> bool {
        self.pre_rule(a, RuleAction::Disabled)
            || self.limit_conditions_violated(a)
            || !self.prerequisites_met(a)
    }

    pub fn prerequisites_met(&self, a: usize) -> bool {
        let Some(prerequisite) = &self.def(a).prerequisites else {
            return true;
        };
        prerequisite.is_met(&|id| self.tree.idx(id).map(|i| self.status12(i)))
    }

    /// An activity's status in SCORM 1.2 terms, for prerequisite scripts.
    pub fn status12(&self, a: usize) -> Status12 {
        match (self.satisfied(a, 0), self.completed(a)) {
            (Some(true), _) => Status12::Passed,
            (Some(false), _) => Status12::Failed,
            (None, Some(true)) => Status12::Completed,
            (None, Some(false)) => Status12::Incomplete,
            (None, None) if self.attempted(a) => Status12::Incomplete,
            (None, None) => Status12::NotAttempted,
        }
    }

    // -----------------------------------------------------------------------------------------
    // Attempts

    /// End Attempt Process (UP.4).
    pub fn end_attempt(&mut self, a: usize) {
        let def = self.def(a);
        if self.is_leaf(a) {
            if def.tracked && !self.acts[a].suspended {
                // Content that does not report its own status is completed and satisfied by
                // being experienced.
                if !def.completion_set_by_content && self.acts[a].completed.is_none() {
                    self.set_completed(a, Some(true));
                }
                if !def.objective_set_by_content
                    && self.local(a, 0).and_then(|s| s.satisfied).is_none()
                {
                    self.set_satisfied(a, 0, Some(true));
                }
            }
        } else {
            let any_suspended = self.children(a).iter().any(|&c| self.acts[c].suspended);
            self.acts[a].suspended = any_suspended;
        }
        self.acts[a].active = false;
        self.overall_rollup(a);
        if !self.acts[a].suspended {
            self.arrange_for_next_attempt(a);
        }
    }

    /// Terminate Descendent Attempts Process (UP.3): ends the attempts between the Current
    /// Activity and its common ancestor with `a`, both excluded (the current activity's own
    /// attempt has already been ended by the termination request).
    pub fn terminate_descendent_attempts(&mut self, a: usize) {
        let Some(current) = self.current else {
            return;
        };
        let ancestor = self.common_ancestor(current, a);
        let path: Vec<usize> = self
            .path_to_root(current)
            .into_iter()
            .take_while(|&x| x != ancestor)
            .skip(1)
            .collect();
        for x in path {
            self.end_attempt(x);
        }
    }
}

/// Three-valued `and` / `or` of condition values (SN UP.2.1, RB.1.4.1): unknown stays unknown
/// unless a definite value decides.
pub(crate) fn combine(combination: ConditionCombination, values: &[Option<bool>]) -> Option<bool> {
    if values.is_empty() {
        return None;
    }
    let (decisive, otherwise) = match combination {
        ConditionCombination::All => (false, true),
        ConditionCombination::Any => (true, false),
    };
    if values.contains(&Some(decisive)) {
        Some(decisive)
    } else if values.contains(&None) {
        None
    } else {
        Some(otherwise)
    }
}

fn completion_of(status: CompletionStatus) -> Option<bool> {
    match status {
        CompletionStatus::Completed => Some(true),
        CompletionStatus::Incomplete | CompletionStatus::NotAttempted => Some(false),
        CompletionStatus::Unknown => None,
    }
}

fn success_of(status: SuccessStatus) -> Option<bool> {
    match status {
        SuccessStatus::Passed => Some(true),
        SuccessStatus::Failed => Some(false),
        SuccessStatus::Unknown => None,
    }
}
