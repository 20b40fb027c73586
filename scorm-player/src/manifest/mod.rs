//! `imsmanifest.xml` as plain Rust types (CAM), and [`parse_manifest`], the pure function
//! from the manifest's bytes to that model and the diagnostics found on the way.
//!
//! **Manifest parsing is a pure function from bytes to (model, diagnostics).** It never
//! panics: malformed XML, unknown versions and dangling references are diagnostics; the model
//! holds whatever could be read, and a manifest is usable when no diagnostic is an error.

mod parse;
mod sequencing;
mod xml;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

pub use sequencing::{
    AdlMapInfo, AdlObjective, AuxiliaryResource, ChildActivitySet, ConditionCombination,
    ConditionOperator, ConstrainedChoiceConsiderations, ControlMode, DeliveryControls,
    LimitConditions, MapInfo, Objective, Objectives, RandomizationControls, RandomizationTiming,
    RequiredFor, RollupAction, RollupCondition, RollupConditionType, RollupConsiderations,
    RollupRule, RollupRules, RuleAction, RuleCondition, RuleConditionType, Sequencing,
    SequencingRule, SequencingRules,
};
pub use xml::XmlLimits;

use crate::diagnostic::Diagnostic;
use crate::version::ScormVersion;

/// Parses `imsmanifest.xml`. Pure: the same bytes always give the same model and diagnostics.
pub fn parse_manifest(bytes: &[u8], limits: &XmlLimits) -> (Manifest, Vec<Diagnostic>) {
    parse::parse(bytes, limits)
}

/// A content package's manifest.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Manifest {
    pub identifier: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `None` when neither `<schemaversion>` nor the namespaces tell (an error diagnostic says so).
    pub scorm_version: Option<ScormVersion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// `xml:base` of `<manifest>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// `xml:base` of `<resources>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources_base: Option<String>,
    /// The `default` organization, or the first one when the attribute is missing.
    pub default_organization: Option<String>,
    pub organizations: Vec<Organization>,
    pub resources: Vec<Resource>,
    /// `<imsss:sequencingCollection>` (SCORM 2004): shared sequencing, referenced by `IDRef`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sequencing_collection: Vec<Sequencing>,
}

/// An `<organization>`: one tree of items, i.e. one way through the content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Organization {
    pub identifier: String,
    pub title: String,
    /// `adlseq:objectivesGlobalToSystem` (SCORM 2004, default true).
    pub objectives_global_to_system: bool,
    /// `adlcp:sharedDataGlobalToSystem` (SCORM 2004 4th Edition, default true).
    pub shared_data_global_to_system: bool,
    pub items: Vec<Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequencing: Option<Sequencing>,
}

/// An `<item>`: a cluster when it has children, otherwise an activity that launches a resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub identifier: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifierref: Option<String>,
    /// The URL to launch (resource `href` after `xml:base`, with `parameters` appended).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch: Option<String>,
    pub is_visible: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<String>,
    /// `adlcp:prerequisites` (SCORM 1.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prerequisites: Option<Prerequisites>,
    /// `adlcp:maxtimeallowed` (SCORM 1.2), a CMITimespan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_time_allowed: Option<String>,
    /// `adlcp:timelimitaction` (1.2) / `adlcp:timeLimitAction` (2004).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_limit_action: Option<TimeLimitAction>,
    /// `adlcp:datafromlms` (1.2) / `adlcp:dataFromLMS` (2004): becomes `cmi.launch_data`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_from_lms: Option<String>,
    /// `adlcp:masteryscore` (SCORM 1.2), 0–100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mastery_score: Option<f64>,
    /// `adlcp:completionThreshold` (SCORM 2004).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion_threshold: Option<CompletionThreshold>,
    /// `adlcp:data/adlcp:map` (SCORM 2004 4th Edition shared data).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shared_data: Vec<DataMap>,
    /// The effective sequencing: the item's own, merged over the collection entry it names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequencing: Option<Sequencing>,
    /// `adlnav:presentation/adlnav:navigationInterface/adlnav:hideLMSUI`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hide_lms_ui: Vec<HideLmsUi>,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Prerequisites {
    /// The `type` attribute; SCORM 1.2 defines `aicc_script`.
    #[serde(rename = "type")]
    pub kind: String,
    pub expression: String,
}

/// `timelimitaction` / `timeLimitAction` vocabulary (CAM, RTE `cmi.time_limit_action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeLimitAction {
    #[serde(rename = "exit,message")]
    ExitMessage,
    #[serde(rename = "exit,no message")]
    ExitNoMessage,
    #[serde(rename = "continue,message")]
    ContinueMessage,
    #[serde(rename = "continue,no message")]
    ContinueNoMessage,
}

impl TimeLimitAction {
    pub const ALL: [(&'static str, TimeLimitAction); 4] = [
        ("exit,message", TimeLimitAction::ExitMessage),
        ("exit,no message", TimeLimitAction::ExitNoMessage),
        ("continue,message", TimeLimitAction::ContinueMessage),
        ("continue,no message", TimeLimitAction::ContinueNoMessage),
    ];

    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, v)| *v == self)
            .map_or("continue,no message", |(s, _)| s)
    }

    /// Forgives letter case and spaces around the comma, as authoring tools vary.
    pub fn parse(value: &str) -> Option<Self> {
        let normalized: String = value
            .split(',')
            .map(|part| {
                part.split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .to_ascii_lowercase()
            })
            .collect::<Vec<_>>()
            .join(",");
        Self::ALL
            .iter()
            .find(|(s, _)| *s == normalized)
            .map(|(_, v)| *v)
    }
}

/// `adlcp:completionThreshold`: a number (3rd Edition) or attributes (4th Edition).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CompletionThreshold {
    /// 4th Edition `completedByMeasure`; the 3rd Edition element value always applies.
    pub completed_by_measure: bool,
    /// 4th Edition `minProgressMeasure` or the 3rd Edition element value, 0–1.
    pub min_progress_measure: f64,
    /// 4th Edition `progressWeight`, 0–1.
    pub progress_weight: f64,
}

/// `adlcp:map` (4th Edition): a shared data bucket the SCO sees as `adl.data.n`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataMap {
    pub target_id: String,
    pub read_shared_data: bool,
    pub write_shared_data: bool,
}

/// `adlnav:hideLMSUI` vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum HideLmsUi {
    Previous,
    Continue,
    Exit,
    ExitAll,
    Abandon,
    AbandonAll,
    SuspendAll,
}

/// A `<resource>`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resource {
    pub identifier: String,
    #[serde(rename = "type")]
    pub resource_type: String,
    pub scorm_type: ScormType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// `href` as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    /// `href` resolved against every `xml:base`, query and fragment kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The zip entry `url` names (percent-decoded, no query); `None` for external URLs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub files: Vec<FileRef>,
    pub dependencies: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScormType {
    Sco,
    Asset,
}

/// A `<file href>` of a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileRef {
    pub href: String,
    /// The zip entry it names after `xml:base` and percent-decoding; `None` when external or
    /// when the reference is invalid (a diagnostic says why).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl Manifest {
    pub fn resource(&self, identifier: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.identifier == identifier)
    }

    pub fn organization(&self, identifier: &str) -> Option<&Organization> {
        self.organizations
            .iter()
            .find(|o| o.identifier == identifier)
    }

    /// The organization a learner gets unless told otherwise.
    pub fn default_organization(&self) -> Option<&Organization> {
        self.default_organization
            .as_deref()
            .and_then(|id| self.organization(id))
            .or(self.organizations.first())
    }

    /// Every item of every organization, depth first in document order.
    pub fn items(&self) -> impl Iterator<Item = &Item> {
        let mut all = Vec::new();
        for organization in &self.organizations {
            collect_items(&organization.items, &mut all);
        }
        all.into_iter()
    }

    pub fn item(&self, identifier: &str) -> Option<&Item> {
        self.items().find(|i| i.identifier == identifier)
    }

    /// A resource and everything it depends on, transitively, each once (cycles are cut).
    pub fn resource_closure(&self, identifier: &str) -> Vec<&Resource> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        let mut pending = vec![identifier];
        while let Some(id) = pending.pop() {
            if !seen.insert(id) {
                continue;
            }
            if let Some(resource) = self.resource(id) {
                out.push(resource);
                pending.extend(resource.dependencies.iter().rev().map(String::as_str));
            }
        }
        out
    }

    /// Every package path the manifest needs, with where each is referenced from.
    pub fn referenced_paths(&self) -> BTreeMap<String, Vec<String>> {
        let mut paths: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for resource in &self.resources {
            let at = format!("resource[{}]", resource.identifier);
            if let Some(path) = &resource.path {
                paths
                    .entry(path.clone())
                    .or_default()
                    .push(format!("{at}/@href"));
            }
            for (index, file) in resource.files.iter().enumerate() {
                if let Some(path) = &file.path {
                    paths
                        .entry(path.clone())
                        .or_default()
                        .push(format!("{at}/file[{}]", index + 1));
                }
            }
        }
        paths
    }
}

fn collect_items<'a>(items: &'a [Item], out: &mut Vec<&'a Item>) {
    for item in items {
        out.push(item);
        collect_items(&item.items, out);
    }
}

impl Item {
    /// Whether the item launches something (a leaf with a resource).
    pub fn is_launchable(&self) -> bool {
        self.launch.is_some()
    }

    /// The objective identifiers of the item's sequencing, primary first: these initialise
    /// `cmi.objectives` (SCORM 2004 RTE §4.2.17).
    pub fn objective_ids(&self) -> Vec<String> {
        let Some(objectives) = self.sequencing.as_ref().and_then(|s| s.objectives.as_ref()) else {
            return Vec::new();
        };
        objectives
            .primary
            .iter()
            .chain(&objectives.objectives)
            .filter_map(|o| o.objective_id.clone())
            .collect()
    }

    /// `cmi.scaled_passing_score`: the primary objective's `minNormalizedMeasure` when it is
    /// satisfied by measure (SCORM 2004 RTE §4.2.19).
    pub fn scaled_passing_score(&self) -> Option<f64> {
        let primary = self
            .sequencing
            .as_ref()?
            .objectives
            .as_ref()?
            .primary
            .as_ref()?;
        primary
            .satisfied_by_measure
            .then_some(primary.min_normalized_measure)
    }
}
