//! The activity tree of one organization: each item becomes an activity carrying its
//! sequencing definition model (SN SM.1–SM.11) with every IMS SS default filled in, so the
//! processes never look at the manifest again.

use std::collections::HashMap;

use crate::manifest::{
    AdlMapInfo, ControlMode, Item, Manifest, MapInfo, Organization, RandomizationControls,
    RequiredFor, RollupConsiderations, RollupRule, ScormType, Sequencing, SequencingRule,
};
use crate::runtime::{Centiseconds, parse_time_interval};
use crate::version::ScormVersion;

use super::prerequisites::Prerequisite;

/// Why no activity tree could be built from a manifest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("organizations: the manifest has no organization to deliver (CAM: at least one)")]
    NoOrganization,
    #[error("organization: no organization has identifier '{0}'")]
    UnknownOrganization(String),
    #[error("organization '{0}': it has no items, so there is nothing to deliver")]
    EmptyOrganization(String),
    #[error("item identifier '{0}' is used twice; each activity needs a unique identifier")]
    DuplicateIdentifier(String),
}

/// Something in the manifest the sequencer reads in a reduced way, reported rather than refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeWarning {
    pub activity: String,
    pub message: String,
}

/// The activity tree of one organization (the default organization when none is named).
#[derive(Debug, Clone)]
pub struct ActivityTree {
    version: ScormVersion,
    /// Nodes in preorder (document order): index 0 is the root, the organization.
    pub(crate) nodes: Vec<Node>,
    index: HashMap<String, usize>,
    objectives_global_to_system: bool,
    warnings: Vec<TreeWarning>,
}

/// One activity and its sequencing definition.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub id: String,
    pub title: String,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    pub visible: bool,
    pub def: Definition,
}

/// The sequencing definition model of one activity (SN SM) after defaults.
#[derive(Debug, Clone)]
pub(crate) struct Definition {
    pub control: ControlMode,
    pub pre_rules: Vec<SequencingRule>,
    pub exit_rules: Vec<SequencingRule>,
    pub post_rules: Vec<SequencingRule>,
    /// `attemptLimit`. 0, the attribute's default, is read as no limit: it cannot mean that
    /// no attempt at all is allowed.
    pub attempt_limit: Option<u32>,
    /// `attemptAbsoluteDurationLimit`.
    pub duration_limit: Option<Centiseconds>,
    pub rollup_objective_satisfied: bool,
    pub rollup_progress_completion: bool,
    pub objective_measure_weight: f64,
    pub rollup_rules: Vec<RollupRule>,
    /// Primary objective first; an activity without `<imsss:objectives>` has an anonymous one.
    pub objectives: Vec<ObjectiveDef>,
    pub tracked: bool,
    pub completion_set_by_content: bool,
    pub objective_set_by_content: bool,
    pub prevent_activation: bool,
    pub constrain_choice: bool,
    pub considerations: RollupConsiderations,
    pub completed_by_measure: bool,
    pub min_progress_measure: f64,
    pub progress_weight: f64,
    /// SCORM 1.2 `adlcp:prerequisites` (AICC script), when it could be read.
    pub prerequisites: Option<Prerequisite>,
    /// `imsss:randomizationControls` (SN SM.12): how the children are selected and ordered.
    pub randomization: Option<RandomizationControls>,
}

/// An objective of an activity with its maps to global objectives (SN SM.6).
#[derive(Debug, Clone)]
pub(crate) struct ObjectiveDef {
    /// `objectiveID`; empty for an anonymous primary objective.
    pub key: String,
    pub satisfied_by_measure: bool,
    pub min_measure: f64,
    pub maps: Vec<MapInfo>,
    /// `adlseq:objectives` maps of the same objective (4th Edition).
    pub adl_maps: Vec<AdlMapInfo>,
}

/// IMS SS defaults (SN SM.1): choice and choice exit allowed, no flow.
const DEFAULT_CONTROL: ControlMode = ControlMode {
    choice: true,
    choice_exit: true,
    flow: false,
    forward_only: false,
    use_current_attempt_objective_info: true,
    use_current_attempt_progress_info: true,
};

const DEFAULT_CONSIDERATIONS: RollupConsiderations = RollupConsiderations {
    required_for_satisfied: RequiredFor::Always,
    required_for_not_satisfied: RequiredFor::Always,
    required_for_completed: RequiredFor::Always,
    required_for_incomplete: RequiredFor::Always,
    measure_satisfaction_if_active: true,
};

impl ActivityTree {
    /// Builds the tree of `organization`, or of the default organization when `None`.
    pub fn build(manifest: &Manifest, organization: Option<&str>) -> Result<Self, TreeError> {
        let org = match organization {
            Some(id) => manifest
                .organization(id)
                .ok_or_else(|| TreeError::UnknownOrganization(id.to_owned()))?,
            None => manifest
                .default_organization()
                .ok_or(TreeError::NoOrganization)?,
        };
        if org.items.is_empty() {
            return Err(TreeError::EmptyOrganization(org.identifier.clone()));
        }
        // A manifest whose version could not be told is read as SCORM 2004, as the run-time
        // data model does (`LaunchData::for_item`).
        let version = manifest.scorm_version.unwrap_or(ScormVersion::Scorm2004Ed4);
        let mut builder = Builder {
            manifest,
            version,
            nodes: Vec::new(),
            index: HashMap::new(),
            warnings: Vec::new(),
        };
        builder.add_root(org)?;
        let Builder {
            nodes,
            index,
            warnings,
            ..
        } = builder;
        Ok(ActivityTree {
            version,
            nodes,
            index,
            objectives_global_to_system: org.objectives_global_to_system,
            warnings,
        })
    }

    pub fn version(&self) -> ScormVersion {
        self.version
    }

    /// The root activity: the organization's identifier.
    pub fn root(&self) -> &str {
        &self.nodes[0].id
    }

    pub fn title(&self, activity: &str) -> Option<&str> {
        self.node(activity).map(|n| n.title.as_str())
    }

    /// Whether `activity` is a leaf (it delivers content); false for clusters and unknown ids.
    pub fn is_leaf(&self, activity: &str) -> bool {
        self.node(activity).is_some_and(|n| n.children.is_empty())
    }

    pub fn contains(&self, activity: &str) -> bool {
        self.index.contains_key(activity)
    }

    /// Every activity, root first, in preorder (the order flow follows).
    pub fn activities(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().map(|n| n.id.as_str())
    }

    pub fn parent(&self, activity: &str) -> Option<&str> {
        let node = self.node(activity)?;
        node.parent.map(|p| self.nodes[p].id.as_str())
    }

    pub fn children(&self, activity: &str) -> Vec<&str> {
        self.node(activity)
            .map(|n| {
                n.children
                    .iter()
                    .map(|&c| self.nodes[c].id.as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `adlseq:objectivesGlobalToSystem`: whether global objectives may be shared beyond this
    /// registration. The sequencer keeps them per registration either way.
    pub fn objectives_global_to_system(&self) -> bool {
        self.objectives_global_to_system
    }

    /// What the sequencer reads in a reduced way (for instance an AICC prerequisite script it
    /// cannot parse, which is then not enforced).
    pub fn warnings(&self) -> &[TreeWarning] {
        &self.warnings
    }

    pub(crate) fn node(&self, activity: &str) -> Option<&Node> {
        self.index.get(activity).map(|&i| &self.nodes[i])
    }

    pub(crate) fn idx(&self, activity: &str) -> Option<usize> {
        self.index.get(activity).copied()
    }

    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }
}

struct Builder<'m> {
    manifest: &'m Manifest,
    version: ScormVersion,
    nodes: Vec<Node>,
    index: HashMap<String, usize>,
    warnings: Vec<TreeWarning>,
}

impl Builder<'_> {
    fn add_root(&mut self, org: &Organization) -> Result<(), TreeError> {
        let def = self.definition(org.sequencing.as_ref(), None, None);
        self.push(&org.identifier, &org.title, None, true, def)?;
        for item in &org.items {
            self.add_item(item, 0)?;
        }
        self.check_prerequisite_identifiers();
        Ok(())
    }

    fn add_item(&mut self, item: &Item, parent: usize) -> Result<(), TreeError> {
        let scorm_type = item
            .identifierref
            .as_deref()
            .and_then(|r| self.manifest.resource(r))
            .map(|r| r.scorm_type);
        let prerequisites = self.prerequisites(item);
        let def = self.definition(item.sequencing.as_ref(), Some(item), scorm_type);
        let def = Definition {
            prerequisites,
            ..def
        };
        let me = self.push(
            &item.identifier,
            &item.title,
            Some(parent),
            item.is_visible,
            def,
        )?;
        for child in &item.items {
            self.add_item(child, me)?;
        }
        Ok(())
    }

    fn push(
        &mut self,
        id: &str,
        title: &str,
        parent: Option<usize>,
        visible: bool,
        def: Definition,
    ) -> Result<usize, TreeError> {
        let me = self.nodes.len();
        if self.index.insert(id.to_owned(), me).is_some() {
            return Err(TreeError::DuplicateIdentifier(id.to_owned()));
        }
        self.nodes.push(Node {
            id: id.to_owned(),
            title: title.to_owned(),
            parent,
            children: Vec::new(),
            visible,
            def,
        });
        if let Some(p) = parent {
            self.nodes[p].children.push(me);
        }
        Ok(me)
    }

    fn prerequisites(&mut self, item: &Item) -> Option<Prerequisite> {
        if self.version.is_2004() {
            return None;
        }
        let prerequisites = item.prerequisites.as_ref()?;
        if !prerequisites.kind.eq_ignore_ascii_case("aicc_script") {
            self.warn(
                &item.identifier,
                format!(
                    "adlcp:prerequisites type '{}' is not aicc_script; not enforced",
                    prerequisites.kind
                ),
            );
            return None;
        }
        match Prerequisite::parse(&prerequisites.expression) {
            Ok(parsed) => Some(parsed),
            Err(error) => {
                self.warn(
                    &item.identifier,
                    format!("adlcp:prerequisites: {error}; not enforced"),
                );
                None
            }
        }
    }

    /// A prerequisite naming no item can never hold the learner back; say so.
    fn check_prerequisite_identifiers(&mut self) {
        let mut unknown = Vec::new();
        for node in &self.nodes {
            let Some(prerequisite) = &node.def.prerequisites else {
                continue;
            };
            for id in prerequisite.identifiers() {
                if !self.index.contains_key(id) {
                    unknown.push((node.id.clone(), id.to_owned()));
                }
            }
        }
        for (activity, id) in unknown {
            self.warn(
                &activity,
                format!("adlcp:prerequisites names '{id}', which is no item; it counts as met"),
            );
        }
    }

    fn warn(&mut self, activity: &str, message: String) {
        self.warnings.push(TreeWarning {
            activity: activity.to_owned(),
            message,
        });
    }

    /// The definition model of one activity. SCORM 1.2 has no IMS SS: every cluster allows
    /// choice and flow so multi-SCO courses run through their items in order, and a SCO
    /// reports its own status (an asset is completed by being delivered, SN UP.4).
    fn definition(
        &self,
        sequencing: Option<&Sequencing>,
        item: Option<&Item>,
        scorm_type: Option<ScormType>,
    ) -> Definition {
        if !self.version.is_2004() {
            let set_by_content = scorm_type == Some(ScormType::Sco);
            return Definition {
                control: ControlMode {
                    flow: true,
                    ..DEFAULT_CONTROL
                },
                completion_set_by_content: set_by_content,
                objective_set_by_content: set_by_content,
                ..Definition::defaults()
            };
        }
        let mut def = Definition::defaults();
        if let Some(threshold) = item.and_then(|i| i.completion_threshold) {
            def.completed_by_measure = threshold.completed_by_measure;
            def.min_progress_measure = threshold.min_progress_measure;
            def.progress_weight = threshold.progress_weight;
        }
        let Some(seq) = sequencing else {
            return def;
        };
        if let Some(control) = seq.control_mode {
            def.control = control;
        }
        if let Some(rules) = &seq.sequencing_rules {
            def.pre_rules = rules.pre_condition.clone();
            def.exit_rules = rules.exit_condition.clone();
            def.post_rules = rules.post_condition.clone();
        }
        if let Some(limits) = &seq.limit_conditions {
            def.attempt_limit = limits.attempt_limit.filter(|&n| n > 0);
            def.duration_limit = limits
                .attempt_absolute_duration_limit
                .as_deref()
                .and_then(parse_time_interval);
        }
        if let Some(rollup) = &seq.rollup_rules {
            def.rollup_objective_satisfied = rollup.rollup_objective_satisfied;
            def.rollup_progress_completion = rollup.rollup_progress_completion;
            def.objective_measure_weight = rollup.objective_measure_weight;
            def.rollup_rules = rollup.rules.clone();
        }
        if let Some(objectives) = &seq.objectives {
            let adl = seq.adl_objectives.as_deref().unwrap_or_default();
            let mut defs = Vec::new();
            let primary = objectives.primary.as_ref();
            defs.push(match primary {
                Some(o) => objective_def(o, adl),
                None => ObjectiveDef::anonymous(),
            });
            defs.extend(objectives.objectives.iter().map(|o| objective_def(o, adl)));
            def.objectives = defs;
        }
        if let Some(delivery) = seq.delivery_controls {
            def.tracked = delivery.tracked;
            def.completion_set_by_content = delivery.completion_set_by_content;
            def.objective_set_by_content = delivery.objective_set_by_content;
        }
        def.randomization = seq.randomization_controls;
        if let Some(constrained) = seq.constrained_choice_considerations {
            def.prevent_activation = constrained.prevent_activation;
            def.constrain_choice = constrained.constrain_choice;
        }
        if let Some(considerations) = seq.rollup_considerations {
            def.considerations = considerations;
        }
        def
    }
}

fn objective_def(
    objective: &crate::manifest::Objective,
    adl: &[crate::manifest::AdlObjective],
) -> ObjectiveDef {
    let key = objective.objective_id.clone().unwrap_or_default();
    let adl_maps = adl
        .iter()
        .filter(|a| !key.is_empty() && a.objective_id == key)
        .flat_map(|a| a.map_info.iter().cloned())
        .collect();
    ObjectiveDef {
        key,
        satisfied_by_measure: objective.satisfied_by_measure,
        min_measure: objective.min_normalized_measure,
        maps: objective.map_info.clone(),
        adl_maps,
    }
}

impl ObjectiveDef {
    fn anonymous() -> Self {
        ObjectiveDef {
            key: String::new(),
            satisfied_by_measure: false,
            min_measure: 1.0,
            maps: Vec::new(),
            adl_maps: Vec::new(),
        }
    }
}

impl Definition {
    fn defaults() -> Self {
        Definition {
            control: DEFAULT_CONTROL,
            pre_rules: Vec::new(),
            exit_rules: Vec::new(),
            post_rules: Vec::new(),
            attempt_limit: None,
            duration_limit: None,
            rollup_objective_satisfied: true,
            rollup_progress_completion: true,
            objective_measure_weight: 1.0,
            rollup_rules: Vec::new(),
            objectives: vec![ObjectiveDef::anonymous()],
            tracked: true,
            completion_set_by_content: false,
            objective_set_by_content: false,
            prevent_activation: false,
            constrain_choice: false,
            considerations: DEFAULT_CONSIDERATIONS,
            completed_by_measure: false,
            min_progress_measure: 1.0,
            progress_weight: 1.0,
            prerequisites: None,
            randomization: None,
        }
    }
}
