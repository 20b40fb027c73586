//! Rollup (SN processes RB.1.1–RB.1.5): measure, completion measure, objective
//! (by measure or by rules), and activity progress, from children to parents.

use crate::manifest::{
    ChildActivitySet, ConditionCombination, ConditionOperator, RequiredFor, RollupAction,
    RollupCondition, RollupConditionType, RollupRule,
};

use super::engine::{Engine, combine};

impl Engine<'_> {
    /// Overall Rollup Process (RB.1.5) from `a` to the root. When a global objective changed
    /// on the way, the activities that read it elsewhere in the tree are rolled up as well,
    /// children before parents.
    pub fn overall_rollup(&mut self, a: usize) {
        for x in self.path_to_root(a) {
            self.rollup_activity(x);
        }
        // Each pass can only move a status along a read map; the bound keeps a cycle of maps
        // (activity A reads what B writes and the other way round) from spinning.
        let mut passes = 0;
        while self.globals_changed && passes < 4 {
            self.globals_changed = false;
            passes += 1;
            for x in (0..self.tree.len()).rev() {
                self.rollup_activity(x);
            }
        }
        self.globals_changed = false;
    }

    fn rollup_activity(&mut self, a: usize) {
        let cluster = !self.is_leaf(a);
        if cluster {
            self.measure_rollup(a);
            self.completion_measure_rollup(a);
        }
        if self.def(a).objectives[0].satisfied_by_measure {
            self.objective_rollup_using_measure(a);
        } else if cluster {
            self.objective_rollup_using_rules(a);
        }
        if self.def(a).completed_by_measure {
            self.progress_rollup_using_measure(a);
        } else if cluster {
            self.progress_rollup_using_rules(a);
        }
    }

    /// Measure Rollup Process (RB.1.1 a): the weighted average of the children's measures.
    fn measure_rollup(&mut self, a: usize) {
        let use_current = self.def(a).control.use_current_attempt_objective_info;
        let mut total = 0.0;
        let mut counted = 0.0;
        let mut valid = false;
        for child in self.rollup_children(a) {
            if !self.def(child).tracked {
                continue;
            }
            let weight = self.def(child).objective_measure_weight;
            counted += weight;
            let with_local = !use_current || self.in_current_attempt(a, child);
            if let Some(measure) = self.measure_from(child, 0, with_local) {
                total += measure * weight;
                valid = true;
            }
        }
        let measure = (valid && counted > 0.0).then(|| total / counted);
        self.set_measure(a, 0, measure);
    }

    /// Completion Measure Rollup Process (RB.1.1 b, 4th Edition): the weighted average of the
    /// children's progress measures.
    fn completion_measure_rollup(&mut self, a: usize) {
        let use_current = self.def(a).control.use_current_attempt_progress_info;
        let mut total = 0.0;
        let mut counted = 0.0;
        let mut valid = false;
        for child in self.rollup_children(a) {
            if !self.def(child).tracked {
                continue;
            }
            let weight = self.def(child).progress_weight;
            counted += weight;
            let with_local = !use_current || self.in_current_attempt(a, child);
            if let Some(progress) = self.progress_from(child, with_local) {
                total += progress * weight;
                valid = true;
            }
        }
        let progress = (valid && counted > 0.0).then(|| total / counted);
        self.set_progress(a, progress);
    }

    /// Objective Rollup Using Measure Process (RB.1.2 a). On a leaf the content's own report
    /// stands until it gives a measure.
    fn objective_rollup_using_measure(&mut self, a: usize) {
        let Some(measure) = self.measure(a, 0) else {
            if !self.is_leaf(a) {
                self.set_satisfied(a, 0, None);
            }
            return;
        };
        let active = self.acts[a].active;
        if !active || self.def(a).considerations.measure_satisfaction_if_active {
            let passing = self.def(a).objectives[0].min_measure;
            self.set_satisfied(a, 0, Some(measure >= passing));
        } else {
            self.set_satisfied(a, 0, None);
        }
    }

    /// Objective Rollup Using Rules Process (RB.1.2 b), with the default rules when the
    /// activity defines none for satisfaction (all children satisfied → satisfied;
    /// all children's status known → not satisfied).
    fn objective_rollup_using_rules(&mut self, a: usize) {
        if self.rollup_rule_check(a, RollupAction::NotSatisfied) {
            self.set_satisfied(a, 0, Some(false));
        }
        if self.rollup_rule_check(a, RollupAction::Satisfied) {
            self.set_satisfied(a, 0, Some(true));
        }
    }

    /// Activity Progress Rollup Using Measure Process (RB.1.3 a, 4th Edition). On a leaf the
    /// content's own report stands until it gives a progress measure.
    fn progress_rollup_using_measure(&mut self, a: usize) {
        match self.progress(a) {
            Some(progress) => {
                let threshold = self.def(a).min_progress_measure;
                self.set_completed(a, Some(progress >= threshold));
            }
            None if !self.is_leaf(a) => self.set_completed(a, None),
            None => {}
        }
    }

    /// Activity Progress Rollup Using Rules Process (RB.1.3 b), with the default rules when
    /// the activity defines none for completion (all children completed → completed; all
    /// children's progress known → incomplete).
    fn progress_rollup_using_rules(&mut self, a: usize) {
        if self.rollup_rule_check(a, RollupAction::Incomplete) {
            self.set_completed(a, Some(false));
        }
        if self.rollup_rule_check(a, RollupAction::Completed) {
            self.set_completed(a, Some(true));
        }
    }

    /// Rollup Rule Check Subprocess (RB.1.4): whether a rule for `action` fires.
    fn rollup_rule_check(&self, a: usize, action: RollupAction) -> bool {
        let rules = &self.def(a).rollup_rules;
        let (pair_one, pair_two) = match action {
            RollupAction::Satisfied | RollupAction::NotSatisfied => {
                (RollupAction::Satisfied, RollupAction::NotSatisfied)
            }
            RollupAction::Completed | RollupAction::Incomplete => {
                (RollupAction::Completed, RollupAction::Incomplete)
            }
        };
        let defined = rules
            .iter()
            .any(|r| r.action == pair_one || r.action == pair_two);
        let default_rule;
        let applicable: Vec<&RollupRule> = if defined {
            rules.iter().filter(|r| r.action == action).collect()
        } else {
            default_rule = default_rollup_rule(action);
            vec![&default_rule]
        };
        for rule in applicable {
            let mut bag = Vec::new();
            for child in self.rollup_children(a) {
                if self.def(child).tracked && self.check_child_for_rollup(child, action) {
                    bag.push(self.evaluate_rollup_conditions(a, child, rule));
                }
            }
            // Nothing contributed: no status change from this rule.
            if bag.is_empty() {
                continue;
            }
            let trues = bag.iter().filter(|v| **v == Some(true)).count();
            let fires = match rule.child_activity_set {
                ChildActivitySet::All => bag.iter().all(|v| *v == Some(true)),
                ChildActivitySet::Any => trues > 0,
                ChildActivitySet::None => bag.iter().all(|v| *v == Some(false)),
                ChildActivitySet::AtLeastCount => trues >= rule.minimum_count as usize,
                ChildActivitySet::AtLeastPercent => {
                    trues as f64 / bag.len() as f64 >= rule.minimum_percent
                }
            };
            if fires {
                return true;
            }
        }
        false
    }

    /// Evaluate Rollup Conditions Subprocess (RB.1.4.1) on `child` for a rule of `parent`.
    fn evaluate_rollup_conditions(
        &self,
        parent: usize,
        child: usize,
        rule: &RollupRule,
    ) -> Option<bool> {
        let values: Vec<Option<bool>> = rule
            .conditions
            .iter()
            .map(|c| {
                let value = self.rollup_condition(parent, child, c.condition);
                match c.operator {
                    ConditionOperator::Not => value.map(|v| !v),
                    ConditionOperator::NoOp => value,
                }
            })
            .collect();
        combine(rule.condition_combination, &values)
    }

    fn rollup_condition(
        &self,
        parent: usize,
        child: usize,
        condition: RollupConditionType,
    ) -> Option<bool> {
        let control = self.def(parent).control;
        let objective_local =
            !control.use_current_attempt_objective_info || self.in_current_attempt(parent, child);
        let progress_local =
            !control.use_current_attempt_progress_info || self.in_current_attempt(parent, child);
        match condition {
            RollupConditionType::Satisfied => self.satisfied_from(child, 0, objective_local),
            RollupConditionType::ObjectiveStatusKnown => {
                Some(self.satisfied_from(child, 0, objective_local).is_some())
            }
            RollupConditionType::ObjectiveMeasureKnown => {
                Some(self.measure_from(child, 0, objective_local).is_some())
            }
            RollupConditionType::Completed => self.completed_from(child, progress_local),
            RollupConditionType::ActivityProgressKnown => {
                Some(self.attempted(child) && self.completed_from(child, progress_local).is_some())
            }
            RollupConditionType::Attempted => Some(self.attempted(child)),
            RollupConditionType::AttemptLimitExceeded => Some(self.limit_exceeded(child)),
            RollupConditionType::TimeLimitExceeded => Some(self.time_limit_exceeded(child)),
            RollupConditionType::OutsideAvailableTimeRange => Some(false),
        }
    }

    /// Check Child for Rollup Subprocess (RB.1.4.2): whether `child` counts for `action`,
    /// after `rollupObjectiveSatisfied` / `rollupProgressCompletion` and the `adlseq`
    /// requiredFor* considerations.
    fn check_child_for_rollup(&self, child: usize, action: RollupAction) -> bool {
        let def = self.def(child);
        let considerations = def.considerations;
        let (contributes, required) = match action {
            RollupAction::Satisfied => (
                def.rollup_objective_satisfied,
                considerations.required_for_satisfied,
            ),
            RollupAction::NotSatisfied => (
                def.rollup_objective_satisfied,
                considerations.required_for_not_satisfied,
            ),
            RollupAction::Completed => (
                def.rollup_progress_completion,
                considerations.required_for_completed,
            ),
            RollupAction::Incomplete => (
                def.rollup_progress_completion,
                considerations.required_for_incomplete,
            ),
        };
        if !contributes {
            return false;
        }
        let act = &self.acts[child];
        match required {
            RequiredFor::Always => true,
            RequiredFor::IfNotSuspended => !(act.attempts > 0 && act.suspended),
            RequiredFor::IfAttempted => act.attempts > 0,
            RequiredFor::IfNotSkipped => !self.pre_rule(child, crate::manifest::RuleAction::Skip),
        }
    }
}

/// The rules an activity uses when it defines none for an action's pair (SN RB.1.2 b,
/// RB.1.3 b).
fn default_rollup_rule(action: RollupAction) -> RollupRule {
    let condition = match action {
        RollupAction::Satisfied => RollupConditionType::Satisfied,
        RollupAction::NotSatisfied => RollupConditionType::ObjectiveStatusKnown,
        RollupAction::Completed => RollupConditionType::Completed,
        RollupAction::Incomplete => RollupConditionType::ActivityProgressKnown,
    };
    RollupRule {
        child_activity_set: ChildActivitySet::All,
        minimum_count: 0,
        minimum_percent: 0.0,
        condition_combination: ConditionCombination::All,
        conditions: vec![RollupCondition {
            operator: ConditionOperator::NoOp,
            condition,
        }],
        action,
    }
}
