//! IMS Simple Sequencing as SCORM 2004 uses it (`imsss:sequencing` and the `adlseq`
//! extensions): the model, with the spec's defaults applied, and its parser (CAM §5, SN).
//!
//! Each optional child stays an `Option` so that an item's own sequencing can be merged over
//! the `sequencingCollection` entry its `IDRef` names, child element by child element.

use serde::Serialize;

use super::parse::{Ctx, location};
use super::xml::{Element, Ns};
use crate::diagnostic::DiagnosticCode;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Sequencing {
    /// `ID`, on entries of the sequencing collection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `IDRef`: the collection entry this sequencing builds on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control_mode: Option<ControlMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequencing_rules: Option<SequencingRules>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_conditions: Option<LimitConditions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auxiliary_resources: Option<Vec<AuxiliaryResource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollup_rules: Option<RollupRules>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objectives: Option<Objectives>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub randomization_controls: Option<RandomizationControls>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_controls: Option<DeliveryControls>,
    /// `adlseq:constrainedChoiceConsiderations`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constrained_choice_considerations: Option<ConstrainedChoiceConsiderations>,
    /// `adlseq:rollupConsiderations`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollup_considerations: Option<RollupConsiderations>,
    /// `adlseq:objectives` (4th Edition): score, completion and progress on global objectives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adl_objectives: Option<Vec<AdlObjective>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ControlMode {
    pub choice: bool,
    pub choice_exit: bool,
    pub flow: bool,
    pub forward_only: bool,
    pub use_current_attempt_objective_info: bool,
    pub use_current_attempt_progress_info: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SequencingRules {
    pub pre_condition: Vec<SequencingRule>,
    pub exit_condition: Vec<SequencingRule>,
    pub post_condition: Vec<SequencingRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SequencingRule {
    pub condition_combination: ConditionCombination,
    pub conditions: Vec<RuleCondition>,
    pub action: RuleAction,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleCondition {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referenced_objective: Option<String>,
    pub measure_threshold: f64,
    pub operator: ConditionOperator,
    pub condition: RuleConditionType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ConditionCombination {
    All,
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ConditionOperator {
    Not,
    NoOp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RuleConditionType {
    Satisfied,
    ObjectiveStatusKnown,
    ObjectiveMeasureKnown,
    ObjectiveMeasureGreaterThan,
    ObjectiveMeasureLessThan,
    Completed,
    ActivityProgressKnown,
    Attempted,
    AttemptLimitExceeded,
    TimeLimitExceeded,
    OutsideAvailableTimeRange,
    Always,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RuleAction {
    Skip,
    Disabled,
    HiddenFromChoice,
    StopForwardTraversal,
    Exit,
    ExitParent,
    ExitAll,
    Retry,
    RetryAll,
    Continue,
    Previous,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LimitConditions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt_limit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt_absolute_duration_limit: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuxiliaryResource {
    pub auxiliary_resource_id: String,
    pub purpose: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RollupRules {
    pub rollup_objective_satisfied: bool,
    pub rollup_progress_completion: bool,
    pub objective_measure_weight: f64,
    pub rules: Vec<RollupRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RollupRule {
    pub child_activity_set: ChildActivitySet,
    pub minimum_count: u32,
    pub minimum_percent: f64,
    pub condition_combination: ConditionCombination,
    pub conditions: Vec<RollupCondition>,
    pub action: RollupAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RollupCondition {
    pub operator: ConditionOperator,
    pub condition: RollupConditionType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ChildActivitySet {
    All,
    Any,
    None,
    AtLeastCount,
    AtLeastPercent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RollupConditionType {
    Satisfied,
    ObjectiveStatusKnown,
    ObjectiveMeasureKnown,
    Completed,
    ActivityProgressKnown,
    Attempted,
    AttemptLimitExceeded,
    TimeLimitExceeded,
    OutsideAvailableTimeRange,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RollupAction {
    Satisfied,
    NotSatisfied,
    Completed,
    Incomplete,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Objectives {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary: Option<Objective>,
    pub objectives: Vec<Objective>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Objective {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objective_id: Option<String>,
    pub satisfied_by_measure: bool,
    pub min_normalized_measure: f64,
    pub map_info: Vec<MapInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MapInfo {
    pub target_objective_id: String,
    pub read_satisfied_status: bool,
    pub read_normalized_measure: bool,
    pub write_satisfied_status: bool,
    pub write_normalized_measure: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RandomizationControls {
    pub randomization_timing: RandomizationTiming,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub select_count: Option<u32>,
    pub reorder_children: bool,
    pub selection_timing: RandomizationTiming,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RandomizationTiming {
    Never,
    Once,
    OnEachNewAttempt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeliveryControls {
    pub tracked: bool,
    pub completion_set_by_content: bool,
    pub objective_set_by_content: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ConstrainedChoiceConsiderations {
    pub prevent_activation: bool,
    pub constrain_choice: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RollupConsiderations {
    pub required_for_satisfied: RequiredFor,
    pub required_for_not_satisfied: RequiredFor,
    pub required_for_completed: RequiredFor,
    pub required_for_incomplete: RequiredFor,
    pub measure_satisfaction_if_active: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RequiredFor {
    Always,
    IfAttempted,
    IfNotSkipped,
    IfNotSuspended,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdlObjective {
    pub objective_id: String,
    pub map_info: Vec<AdlMapInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdlMapInfo {
    pub target_objective_id: String,
    pub read_raw_score: bool,
    pub read_min_score: bool,
    pub read_max_score: bool,
    pub read_completion_status: bool,
    pub read_progress_measure: bool,
    pub write_raw_score: bool,
    pub write_min_score: bool,
    pub write_max_score: bool,
    pub write_completion_status: bool,
    pub write_progress_measure: bool,
}

// Vocabularies, as written in the manifest.

const COMBINATIONS: &[(&str, ConditionCombination)] = &[
    ("all", ConditionCombination::All),
    ("any", ConditionCombination::Any),
];
const OPERATORS: &[(&str, ConditionOperator)] = &[
    ("not", ConditionOperator::Not),
    ("noOp", ConditionOperator::NoOp),
];
const RULE_CONDITIONS: &[(&str, RuleConditionType)] = &[
    ("satisfied", RuleConditionType::Satisfied),
    (
        "objectiveStatusKnown",
        RuleConditionType::ObjectiveStatusKnown,
    ),
    (
        "objectiveMeasureKnown",
        RuleConditionType::ObjectiveMeasureKnown,
    ),
    (
        "objectiveMeasureGreaterThan",
        RuleConditionType::ObjectiveMeasureGreaterThan,
    ),
    (
        "objectiveMeasureLessThan",
        RuleConditionType::ObjectiveMeasureLessThan,
    ),
    ("completed", RuleConditionType::Completed),
    (
        "activityProgressKnown",
        RuleConditionType::ActivityProgressKnown,
    ),
    ("attempted", RuleConditionType::Attempted),
    (
        "attemptLimitExceeded",
        RuleConditionType::AttemptLimitExceeded,
    ),
    ("timeLimitExceeded", RuleConditionType::TimeLimitExceeded),
    (
        "outsideAvailableTimeRange",
        RuleConditionType::OutsideAvailableTimeRange,
    ),
    ("always", RuleConditionType::Always),
];
/// The actions each kind of sequencing rule may take (SN §3.4.x, IMS SS).
const PRE_ACTIONS: &[(&str, RuleAction)] = &[
    ("skip", RuleAction::Skip),
    ("disabled", RuleAction::Disabled),
    ("hiddenFromChoice", RuleAction::HiddenFromChoice),
    ("stopForwardTraversal", RuleAction::StopForwardTraversal),
];
const EXIT_ACTIONS: &[(&str, RuleAction)] = &[("exit", RuleAction::Exit)];
const POST_ACTIONS: &[(&str, RuleAction)] = &[
    ("exitParent", RuleAction::ExitParent),
    ("exitAll", RuleAction::ExitAll),
    ("retry", RuleAction::Retry),
    ("retryAll", RuleAction::RetryAll),
    ("continue", RuleAction::Continue),
    ("previous", RuleAction::Previous),
];
const CHILD_SETS: &[(&str, ChildActivitySet)] = &[
    ("all", ChildActivitySet::All),
    ("any", ChildActivitySet::Any),
    ("none", ChildActivitySet::None),
    ("atLeastCount", ChildActivitySet::AtLeastCount),
    ("atLeastPercent", ChildActivitySet::AtLeastPercent),
];
const ROLLUP_CONDITIONS: &[(&str, RollupConditionType)] = &[
    ("satisfied", RollupConditionType::Satisfied),
    (
        "objectiveStatusKnown",
        RollupConditionType::ObjectiveStatusKnown,
    ),
    (
        "objectiveMeasureKnown",
        RollupConditionType::ObjectiveMeasureKnown,
    ),
    ("completed", RollupConditionType::Completed),
    (
        "activityProgressKnown",
        RollupConditionType::ActivityProgressKnown,
    ),
    ("attempted", RollupConditionType::Attempted),
    (
        "attemptLimitExceeded",
        RollupConditionType::AttemptLimitExceeded,
    ),
    ("timeLimitExceeded", RollupConditionType::TimeLimitExceeded),
    (
        "outsideAvailableTimeRange",
        RollupConditionType::OutsideAvailableTimeRange,
    ),
];
const ROLLUP_ACTIONS: &[(&str, RollupAction)] = &[
    ("satisfied", RollupAction::Satisfied),
    ("notSatisfied", RollupAction::NotSatisfied),
    ("completed", RollupAction::Completed),
    ("incomplete", RollupAction::Incomplete),
];
const TIMINGS: &[(&str, RandomizationTiming)] = &[
    ("never", RandomizationTiming::Never),
    ("once", RandomizationTiming::Once),
    ("onEachNewAttempt", RandomizationTiming::OnEachNewAttempt),
];
const REQUIRED_FOR: &[(&str, RequiredFor)] = &[
    ("always", RequiredFor::Always),
    ("ifAttempted", RequiredFor::IfAttempted),
    ("ifNotSkipped", RequiredFor::IfNotSkipped),
    ("ifNotSuspended", RequiredFor::IfNotSuspended),
];

impl Sequencing {
    /// This sequencing over the collection entry it references: each child element defined
    /// here replaces the collection's one; the others come from the collection (CAM
    /// `<imsss:sequencing IDRef>`).
    pub fn merged_over(&self, base: &Sequencing) -> Sequencing {
        Sequencing {
            id: None,
            id_ref: self.id_ref.clone(),
            control_mode: self.control_mode.or(base.control_mode),
            sequencing_rules: self
                .sequencing_rules
                .clone()
                .or_else(|| base.sequencing_rules.clone()),
            limit_conditions: self
                .limit_conditions
                .clone()
                .or_else(|| base.limit_conditions.clone()),
            auxiliary_resources: self
                .auxiliary_resources
                .clone()
                .or_else(|| base.auxiliary_resources.clone()),
            rollup_rules: self
                .rollup_rules
                .clone()
                .or_else(|| base.rollup_rules.clone()),
            objectives: self.objectives.clone().or_else(|| base.objectives.clone()),
            randomization_controls: self.randomization_controls.or(base.randomization_controls),
            delivery_controls: self.delivery_controls.or(base.delivery_controls),
            constrained_choice_considerations: self
                .constrained_choice_considerations
                .or(base.constrained_choice_considerations),
            rollup_considerations: self.rollup_considerations.or(base.rollup_considerations),
            adl_objectives: self
                .adl_objectives
                .clone()
                .or_else(|| base.adl_objectives.clone()),
        }
    }
}

/// Reads one `<imsss:sequencing>` element.
pub(super) fn parse_sequencing(ctx: &mut Ctx<'_>, el: &Element, at: &str) -> Sequencing {
    let mut sequencing = Sequencing {
        id: el.plain("ID").map(str::to_owned),
        id_ref: el.plain("IDRef").map(str::to_owned),
        ..Sequencing::default()
    };
    for child in &el.children {
        let child_at = location(at, child, None);
        match (child.ns, child.name.as_str()) {
            (Ns::Imsss, "controlMode") => {
                sequencing.control_mode = Some(control_mode(ctx, child, &child_at))
            }
            (Ns::Imsss, "sequencingRules") => {
                sequencing.sequencing_rules = Some(sequencing_rules(ctx, child, &child_at))
            }
            (Ns::Imsss, "limitConditions") => {
                sequencing.limit_conditions = Some(LimitConditions {
                    attempt_limit: ctx.count(child, Ns::None, "attemptLimit", &child_at),
                    attempt_absolute_duration_limit: child
                        .plain("attemptAbsoluteDurationLimit")
                        .map(str::to_owned),
                });
            }
            (Ns::Imsss, "auxiliaryResources") => {
                let resources = child
                    .children_named(Ns::Imsss, "auxiliaryResource")
                    .map(|aux| AuxiliaryResource {
                        auxiliary_resource_id: aux
                            .plain("auxiliaryResourceID")
                            .unwrap_or_default()
                            .to_owned(),
                        purpose: aux.plain("purpose").unwrap_or_default().to_owned(),
                    })
                    .collect();
                sequencing.auxiliary_resources = Some(resources);
            }
            (Ns::Imsss, "rollupRules") => {
                sequencing.rollup_rules = Some(rollup_rules(ctx, child, &child_at))
            }
            (Ns::Imsss, "objectives") => {
                sequencing.objectives = Some(objectives(ctx, child, &child_at))
            }
            (Ns::Imsss, "randomizationControls") => {
                sequencing.randomization_controls = Some(RandomizationControls {
                    randomization_timing: ctx.token(
                        child,
                        "randomizationTiming",
                        TIMINGS,
                        RandomizationTiming::Never,
                        &child_at,
                    ),
                    select_count: ctx.count(child, Ns::None, "selectCount", &child_at),
                    reorder_children: ctx.boolean(
                        child,
                        Ns::None,
                        "reorderChildren",
                        false,
                        &child_at,
                    ),
                    selection_timing: ctx.token(
                        child,
                        "selectionTiming",
                        TIMINGS,
                        RandomizationTiming::Never,
                        &child_at,
                    ),
                });
            }
            (Ns::Imsss, "deliveryControls") => {
                sequencing.delivery_controls = Some(DeliveryControls {
                    tracked: ctx.boolean(child, Ns::None, "tracked", true, &child_at),
                    completion_set_by_content: ctx.boolean(
                        child,
                        Ns::None,
                        "completionSetByContent",
                        false,
                        &child_at,
                    ),
                    objective_set_by_content: ctx.boolean(
                        child,
                        Ns::None,
                        "objectiveSetByContent",
                        false,
                        &child_at,
                    ),
                });
            }
            (Ns::Adlseq, "constrainedChoiceConsiderations") => {
                sequencing.constrained_choice_considerations =
                    Some(ConstrainedChoiceConsiderations {
                        prevent_activation: ctx.boolean(
                            child,
                            Ns::None,
                            "preventActivation",
                            false,
                            &child_at,
                        ),
                        constrain_choice: ctx.boolean(
                            child,
                            Ns::None,
                            "constrainChoice",
                            false,
                            &child_at,
                        ),
                    });
            }
            (Ns::Adlseq, "rollupConsiderations") => {
                sequencing.rollup_considerations = Some(RollupConsiderations {
                    required_for_satisfied: ctx.token(
                        child,
                        "requiredForSatisfied",
                        REQUIRED_FOR,
                        RequiredFor::Always,
                        &child_at,
                    ),
                    required_for_not_satisfied: ctx.token(
                        child,
                        "requiredForNotSatisfied",
                        REQUIRED_FOR,
                        RequiredFor::Always,
                        &child_at,
                    ),
                    required_for_completed: ctx.token(
                        child,
                        "requiredForCompleted",
                        REQUIRED_FOR,
                        RequiredFor::Always,
                        &child_at,
                    ),
                    required_for_incomplete: ctx.token(
                        child,
                        "requiredForIncomplete",
                        REQUIRED_FOR,
                        RequiredFor::Always,
                        &child_at,
                    ),
                    measure_satisfaction_if_active: ctx.boolean(
                        child,
                        Ns::None,
                        "measureSatisfactionIfActive",
                        true,
                        &child_at,
                    ),
                });
            }
            (Ns::Adlseq, "objectives") => {
                sequencing.adl_objectives = Some(adl_objectives(ctx, child, &child_at))
            }
            _ => ctx.unexpected(child, &child_at),
        }
    }
    if let (Some(adl), Some(ims)) = (&sequencing.adl_objectives, &sequencing.objectives) {
        let known: Vec<&str> = ims
            .primary
            .iter()
            .chain(&ims.objectives)
            .filter_map(|o| o.objective_id.as_deref())
            .collect();
        for objective in adl {
            if !known.contains(&objective.objective_id.as_str()) {
                ctx.error(
                    DiagnosticCode::UnknownReference,
                    at,
                    el,
                    format!(
                        "adlseq:objective '{}' names no imsss objective of this activity (CAM: the objectiveID must match one)",
                        objective.objective_id
                    ),
                );
            }
        }
    }
    sequencing
}

fn control_mode(ctx: &mut Ctx<'_>, el: &Element, at: &str) -> ControlMode {
    ControlMode {
        choice: ctx.boolean(el, Ns::None, "choice", true, at),
        choice_exit: ctx.boolean(el, Ns::None, "choiceExit", true, at),
        flow: ctx.boolean(el, Ns::None, "flow", false, at),
        forward_only: ctx.boolean(el, Ns::None, "forwardOnly", false, at),
        use_current_attempt_objective_info: ctx.boolean(
            el,
            Ns::None,
            "useCurrentAttemptObjectiveInfo",
            true,
            at,
        ),
        use_current_attempt_progress_info: ctx.boolean(
            el,
            Ns::None,
            "useCurrentAttemptProgressInfo",
            true,
            at,
        ),
    }
}

fn sequencing_rules(ctx: &mut Ctx<'_>, el: &Element, at: &str) -> SequencingRules {
    let mut rules = SequencingRules::default();
    let mut index = 0;
    for child in &el.children {
        index += 1;
        let child_at = location(at, child, Some(index));
        let (target, actions) = match (child.ns, child.name.as_str()) {
            (Ns::Imsss, "preConditionRule") => (&mut rules.pre_condition, PRE_ACTIONS),
            (Ns::Imsss, "exitConditionRule") => (&mut rules.exit_condition, EXIT_ACTIONS),
            (Ns::Imsss, "postConditionRule") => (&mut rules.post_condition, POST_ACTIONS),
            _ => {
                ctx.unexpected(child, &child_at);
                continue;
            }
        };
        if let Some(rule) = sequencing_rule(ctx, child, &child_at, actions) {
            target.push(rule);
        }
    }
    rules
}

fn sequencing_rule(
    ctx: &mut Ctx<'_>,
    el: &Element,
    at: &str,
    actions: &[(&str, RuleAction)],
) -> Option<SequencingRule> {
    let Some(conditions_el) = el.child(Ns::Imsss, "ruleConditions") else {
        ctx.error(
            DiagnosticCode::MissingElement,
            at,
            el,
            "a sequencing rule needs <imsss:ruleConditions>",
        );
        return None;
    };
    let conditions_at = location(at, conditions_el, None);
    let combination = ctx.token(
        conditions_el,
        "conditionCombination",
        COMBINATIONS,
        ConditionCombination::All,
        &conditions_at,
    );
    let mut conditions = Vec::new();
    for (index, condition) in conditions_el
        .children_named(Ns::Imsss, "ruleCondition")
        .enumerate()
    {
        let condition_at = location(&conditions_at, condition, Some(index + 1));
        let Some(kind) = ctx.required_token(condition, "condition", RULE_CONDITIONS, &condition_at)
        else {
            continue;
        };
        conditions.push(RuleCondition {
            referenced_objective: condition.plain("referencedObjective").map(str::to_owned),
            measure_threshold: ctx.number(
                condition,
                Ns::None,
                "measureThreshold",
                0.0,
                (-1.0, 1.0),
                &condition_at,
            ),
            operator: ctx.token(
                condition,
                "operator",
                OPERATORS,
                ConditionOperator::NoOp,
                &condition_at,
            ),
            condition: kind,
        });
    }
    if conditions.is_empty() {
        ctx.error(
            DiagnosticCode::MissingElement,
            &conditions_at,
            conditions_el,
            "<imsss:ruleConditions> needs at least one <imsss:ruleCondition>",
        );
    }
    let Some(action_el) = el.child(Ns::Imsss, "ruleAction") else {
        ctx.error(
            DiagnosticCode::MissingElement,
            at,
            el,
            "a sequencing rule needs <imsss:ruleAction>",
        );
        return None;
    };
    let action_at = location(at, action_el, None);
    let action = ctx.required_token(action_el, "action", actions, &action_at)?;
    Some(SequencingRule {
        condition_combination: combination,
        conditions,
        action,
    })
}

fn rollup_rules(ctx: &mut Ctx<'_>, el: &Element, at: &str) -> RollupRules {
    let mut rules = Vec::new();
    for (index, rule_el) in el.children_named(Ns::Imsss, "rollupRule").enumerate() {
        let rule_at = location(at, rule_el, Some(index + 1));
        let Some(conditions_el) = rule_el.child(Ns::Imsss, "rollupConditions") else {
            ctx.error(
                DiagnosticCode::MissingElement,
                &rule_at,
                rule_el,
                "a rollup rule needs <imsss:rollupConditions>",
            );
            continue;
        };
        let conditions_at = location(&rule_at, conditions_el, None);
        let combination = ctx.token(
            conditions_el,
            "conditionCombination",
            COMBINATIONS,
            ConditionCombination::Any,
            &conditions_at,
        );
        let mut conditions = Vec::new();
        for (n, condition) in conditions_el
            .children_named(Ns::Imsss, "rollupCondition")
            .enumerate()
        {
            let condition_at = location(&conditions_at, condition, Some(n + 1));
            let Some(kind) =
                ctx.required_token(condition, "condition", ROLLUP_CONDITIONS, &condition_at)
            else {
                continue;
            };
            conditions.push(RollupCondition {
                operator: ctx.token(
                    condition,
                    "operator",
                    OPERATORS,
                    ConditionOperator::NoOp,
                    &condition_at,
                ),
                condition: kind,
            });
        }
        let Some(action_el) = rule_el.child(Ns::Imsss, "rollupAction") else {
            ctx.error(
                DiagnosticCode::MissingElement,
                &rule_at,
                rule_el,
                "a rollup rule needs <imsss:rollupAction>",
            );
            continue;
        };
        let action_at = location(&rule_at, action_el, None);
        let Some(action) = ctx.required_token(action_el, "action", ROLLUP_ACTIONS, &action_at)
        else {
            continue;
        };
        rules.push(RollupRule {
            child_activity_set: ctx.token(
                rule_el,
                "childActivitySet",
                CHILD_SETS,
                ChildActivitySet::All,
                &rule_at,
            ),
            minimum_count: ctx
                .count(rule_el, Ns::None, "minimumCount", &rule_at)
                .unwrap_or(0),
            minimum_percent: ctx.number(
                rule_el,
                Ns::None,
                "minimumPercent",
                0.0,
                (0.0, 1.0),
                &rule_at,
            ),
            condition_combination: combination,
            conditions,
            action,
        });
    }
    RollupRules {
        rollup_objective_satisfied: ctx.boolean(el, Ns::None, "rollupObjectiveSatisfied", true, at),
        rollup_progress_completion: ctx.boolean(el, Ns::None, "rollupProgressCompletion", true, at),
        objective_measure_weight: ctx.number(
            el,
            Ns::None,
            "objectiveMeasureWeight",
            1.0,
            (0.0, 1.0),
            at,
        ),
        rules,
    }
}

fn objectives(ctx: &mut Ctx<'_>, el: &Element, at: &str) -> Objectives {
    let mut result = Objectives::default();
    let mut index = 0;
    for child in &el.children {
        let child_at = location(at, child, None);
        match (child.ns, child.name.as_str()) {
            (Ns::Imsss, "primaryObjective") => {
                if result.primary.is_some() {
                    ctx.error(
                        DiagnosticCode::ItemStructure,
                        &child_at,
                        child,
                        "only one <imsss:primaryObjective> is allowed",
                    );
                }
                result.primary = Some(objective(ctx, child, &child_at, true));
            }
            (Ns::Imsss, "objective") => {
                index += 1;
                let child_at = location(at, child, Some(index));
                result
                    .objectives
                    .push(objective(ctx, child, &child_at, false));
            }
            _ => ctx.unexpected(child, &child_at),
        }
    }
    if result.primary.is_none() {
        ctx.error(
            DiagnosticCode::MissingElement,
            at,
            el,
            "<imsss:objectives> needs a <imsss:primaryObjective>",
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    for id in result
        .primary
        .iter()
        .chain(&result.objectives)
        .filter_map(|o| o.objective_id.as_deref())
    {
        if !seen.insert(id) {
            ctx.error(
                DiagnosticCode::DuplicateIdentifier,
                at,
                el,
                format!("objectiveID '{id}' is used twice in one activity"),
            );
        }
    }
    result
}

fn objective(ctx: &mut Ctx<'_>, el: &Element, at: &str, primary: bool) -> Objective {
    let objective_id = el.plain("objectiveID").map(str::to_owned);
    let mut map_info = Vec::new();
    for (index, info) in el.children_named(Ns::Imsss, "mapInfo").enumerate() {
        let info_at = location(at, info, Some(index + 1));
        let Some(target) = ctx.required(info, "targetObjectiveID", &info_at) else {
            continue;
        };
        map_info.push(MapInfo {
            target_objective_id: target,
            read_satisfied_status: ctx.boolean(
                info,
                Ns::None,
                "readSatisfiedStatus",
                true,
                &info_at,
            ),
            read_normalized_measure: ctx.boolean(
                info,
                Ns::None,
                "readNormalizedMeasure",
                true,
                &info_at,
            ),
            write_satisfied_status: ctx.boolean(
                info,
                Ns::None,
                "writeSatisfiedStatus",
                false,
                &info_at,
            ),
            write_normalized_measure: ctx.boolean(
                info,
                Ns::None,
                "writeNormalizedMeasure",
                false,
                &info_at,
            ),
        });
    }
    if objective_id.is_none() && (!primary || !map_info.is_empty()) {
        let message = if primary {
            "a primary objective with <imsss:mapInfo> needs an objectiveID"
        } else {
            "an <imsss:objective> needs an objectiveID"
        };
        ctx.error(DiagnosticCode::MissingAttribute, at, el, message);
    }
    let min_measure_el = el.child(Ns::Imsss, "minNormalizedMeasure");
    let min_normalized_measure = match min_measure_el {
        Some(child) => ctx.number_text(child, 1.0, (-1.0, 1.0), &location(at, child, None)),
        None => 1.0,
    };
    Objective {
        objective_id,
        satisfied_by_measure: ctx.boolean(el, Ns::None, "satisfiedByMeasure", false, at),
        min_normalized_measure,
        map_info,
    }
}

fn adl_objectives(ctx: &mut Ctx<'_>, el: &Element, at: &str) -> Vec<AdlObjective> {
    let mut result = Vec::new();
    for (index, objective_el) in el.children_named(Ns::Adlseq, "objective").enumerate() {
        let objective_at = location(at, objective_el, Some(index + 1));
        let Some(objective_id) = ctx.required(objective_el, "objectiveID", &objective_at) else {
            continue;
        };
        let mut map_info = Vec::new();
        for (n, info) in objective_el
            .children_named(Ns::Adlseq, "mapInfo")
            .enumerate()
        {
            let info_at = location(&objective_at, info, Some(n + 1));
            let Some(target) = ctx.required(info, "targetObjectiveID", &info_at) else {
                continue;
            };
            let mut flag =
                |name: &str, default: bool| ctx.boolean(info, Ns::None, name, default, &info_at);
            map_info.push(AdlMapInfo {
                target_objective_id: target,
                read_raw_score: flag("readRawScore", true),
                read_min_score: flag("readMinScore", true),
                read_max_score: flag("readMaxScore", true),
                read_completion_status: flag("readCompletionStatus", true),
                read_progress_measure: flag("readProgressMeasure", true),
                write_raw_score: flag("writeRawScore", false),
                write_min_score: flag("writeMinScore", false),
                write_max_score: flag("writeMaxScore", false),
                write_completion_status: flag("writeCompletionStatus", false),
                write_progress_measure: flag("writeProgressMeasure", false),
            });
        }
        result.push(AdlObjective {
            objective_id,
            map_info,
        });
    }
    result
}
