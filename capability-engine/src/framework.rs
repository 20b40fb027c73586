//! Frameworks of capabilities: level scales, per-level descriptions, relations, and the
//! catalog that holds every framework of a tenant.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::{CapabilityId, FrameworkId, Level};

/// One step of a framework's scale: `{"level": 3, "label": "Proficient", "description": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaleLevel {
    pub level: Level,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// What a capability means at one level of the scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelDescription {
    pub level: Level,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Where a framework came from (for provenance and licence handling on export).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum FrameworkSource {
    #[default]
    Custom,
    Case,
    Ctdl,
    Scd,
    Esco,
    Sfia,
}

/// How two capabilities relate. `source narrows target`: the source is a narrower part of
/// the target (its child). `source requires target`: the source presupposes the target.
/// `equivalent`: the two mean the same and share evidence (see [`Catalog::equivalents`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RelationKind {
    Narrows,
    Requires,
    Equivalent,
}

impl RelationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RelationKind::Narrows => "narrows",
            RelationKind::Requires => "requires",
            RelationKind::Equivalent => "equivalent",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relation {
    pub source: CapabilityId,
    pub kind: RelationKind,
    pub target: CapabilityId,
}

/// A capability as written in input. `levels` absent means every level of the scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapabilitySpec {
    pub id: CapabilityId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The IRI statements use for this capability (a TLA competency activity id); rules that
    /// take the capability from an activity look it up here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels: Option<Vec<LevelDescription>>,
}

/// A validated capability: at least one level, each within the framework's scale, in
/// increasing order (a capability may define only some levels, as SFIA skills do).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Capability {
    id: CapabilityId,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iri: Option<String>,
    levels: Vec<LevelDescription>,
}

/// A framework as written in input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkSpec {
    pub id: FrameworkId,
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub source: FrameworkSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence: Option<String>,
    pub scale: Vec<ScaleLevel>,
    pub capabilities: Vec<CapabilitySpec>,
    #[serde(default)]
    pub relations: Vec<Relation>,
}

/// A validated framework. Relations may point into other frameworks; those ends are
/// checked when frameworks are put together in a [`Catalog`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "FrameworkSpec")]
pub struct Framework {
    id: FrameworkId,
    name: String,
    version: String,
    source: FrameworkSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    licence: Option<String>,
    scale: Vec<ScaleLevel>,
    capabilities: Vec<Capability>,
    relations: Vec<Relation>,
}

/// Every framework of a tenant, with capability ids unique across them and every relation
/// resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "CatalogSpec")]
pub struct Catalog {
    frameworks: Vec<Framework>,
    #[serde(skip)]
    index: BTreeMap<CapabilityId, (usize, usize)>,
    #[serde(skip)]
    by_iri: BTreeMap<String, CapabilityId>,
    #[serde(skip)]
    equivalents: BTreeMap<CapabilityId, Vec<CapabilityId>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CatalogSpec {
    pub frameworks: Vec<Framework>,
}

impl Capability {
    pub fn id(&self) -> &CapabilityId {
        &self.id
    }
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    pub fn iri(&self) -> Option<&str> {
        self.iri.as_deref()
    }
    /// The levels this capability defines, in increasing order (never empty).
    pub fn levels(&self) -> &[LevelDescription] {
        &self.levels
    }
    pub fn defines(&self, level: Level) -> bool {
        self.levels.iter().any(|l| l.level == level)
    }
    /// The highest defined level at or below `level`: what a rating of `level` means on a
    /// capability that defines only some levels.
    pub fn defined_at_or_below(&self, level: Level) -> Option<Level> {
        self.levels
            .iter()
            .rev()
            .map(|l| l.level)
            .find(|&l| l <= level)
    }
    /// The highest defined level strictly below `level`.
    pub fn defined_below(&self, level: Level) -> Option<Level> {
        self.levels
            .iter()
            .rev()
            .map(|l| l.level)
            .find(|&l| l < level)
    }
}

impl Framework {
    pub fn new(spec: FrameworkSpec) -> Result<Framework> {
        if spec.name.trim().is_empty() {
            return Err(Error::invalid(
                "name",
                "non-empty",
                "a framework has a name",
            ));
        }
        if spec.scale.is_empty() {
            return Err(Error::invalid(
                "scale",
                "non-empty",
                "a scale has at least one level",
            ));
        }
        for (i, step) in spec.scale.iter().enumerate() {
            if usize::from(step.level.get()) != i + 1 {
                return Err(Error::invalid(
                    format!("scale[{i}].level"),
                    "scale-contiguous",
                    format!(
                        "the scale lists levels 1, 2, … in order; expected {} here",
                        i + 1
                    ),
                ));
            }
            if step.label.trim().is_empty() {
                return Err(Error::invalid(
                    format!("scale[{i}].label"),
                    "non-empty",
                    "a level has a label",
                ));
            }
        }
        let mut seen = BTreeSet::new();
        let mut iris = BTreeSet::new();
        let mut capabilities = Vec::with_capacity(spec.capabilities.len());
        for (i, cap) in spec.capabilities.into_iter().enumerate() {
            let at = format!("capabilities[{i}]");
            if !seen.insert(cap.id.clone()) {
                return Err(Error::invalid(
                    format!("{at}.id"),
                    "unique-id",
                    format!("capability {} is defined twice", cap.id),
                ));
            }
            if let Some(iri) = &cap.iri {
                if !xapi::is_absolute_iri(iri) {
                    return Err(Error::invalid(
                        format!("{at}.iri"),
                        "iri",
                        format!("not an absolute IRI: {iri:?}"),
                    ));
                }
                if !iris.insert(iri.clone()) {
                    return Err(Error::invalid(
                        format!("{at}.iri"),
                        "unique-iri",
                        format!("two capabilities use the IRI {iri}"),
                    ));
                }
            }
            capabilities.push(Capability::new(cap, &spec.scale).map_err(|e| e.within(&at))?);
        }
        for (i, relation) in spec.relations.iter().enumerate() {
            if relation.source == relation.target {
                return Err(Error::invalid(
                    format!("relations[{i}]"),
                    "no-self-relation",
                    format!("{} cannot relate to itself", relation.source),
                ));
            }
        }
        Ok(Framework {
            id: spec.id,
            name: spec.name,
            version: spec.version,
            source: spec.source,
            licence: spec.licence,
            scale: spec.scale,
            capabilities,
            relations: spec.relations,
        })
    }

    pub fn id(&self) -> &FrameworkId {
        &self.id
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn version(&self) -> &str {
        &self.version
    }
    pub fn source(&self) -> FrameworkSource {
        self.source
    }
    pub fn licence(&self) -> Option<&str> {
        self.licence.as_deref()
    }
    pub fn scale(&self) -> &[ScaleLevel] {
        &self.scale
    }
    pub fn capabilities(&self) -> &[Capability] {
        &self.capabilities
    }
    pub fn relations(&self) -> &[Relation] {
        &self.relations
    }
}

impl TryFrom<FrameworkSpec> for Framework {
    type Error = Error;
    fn try_from(spec: FrameworkSpec) -> Result<Framework> {
        Framework::new(spec)
    }
}

impl Capability {
    fn new(spec: CapabilitySpec, scale: &[ScaleLevel]) -> Result<Capability> {
        if spec.name.trim().is_empty() {
            return Err(Error::invalid(
                "name",
                "non-empty",
                "a capability has a name",
            ));
        }
        let max = scale.len();
        let levels = match spec.levels {
            None => scale
                .iter()
                .map(|s| LevelDescription {
                    level: s.level,
                    description: s.description.clone(),
                })
                .collect(),
            Some(levels) => {
                if levels.is_empty() {
                    return Err(Error::invalid(
                        "levels",
                        "non-empty",
                        "a capability defines at least one level",
                    ));
                }
                for (i, l) in levels.iter().enumerate() {
                    if usize::from(l.level.get()) > max {
                        return Err(Error::invalid(
                            format!("levels[{i}].level"),
                            "level-in-scale",
                            format!("level {} is above the scale's highest level {max}", l.level),
                        ));
                    }
                    if i > 0 && levels[i - 1].level >= l.level {
                        return Err(Error::invalid(
                            format!("levels[{i}].level"),
                            "levels-increasing",
                            "levels are listed once each, in increasing order",
                        ));
                    }
                }
                levels
            }
        };
        Ok(Capability {
            id: spec.id,
            code: spec.code,
            name: spec.name,
            description: spec.description,
            iri: spec.iri,
            levels,
        })
    }
}

impl Catalog {
    pub fn new(frameworks: Vec<Framework>) -> Result<Catalog> {
        let mut index = BTreeMap::new();
        let mut by_iri = BTreeMap::new();
        let mut framework_ids = BTreeSet::new();
        for (f, framework) in frameworks.iter().enumerate() {
            if !framework_ids.insert(framework.id.clone()) {
                return Err(Error::invalid(
                    format!("frameworks[{f}].id"),
                    "unique-id",
                    format!("framework {} is defined twice", framework.id),
                ));
            }
            for (c, cap) in framework.capabilities.iter().enumerate() {
                if index.insert(cap.id.clone(), (f, c)).is_some() {
                    return Err(Error::invalid(
                        format!("frameworks[{f}].capabilities[{c}].id"),
                        "unique-id",
                        format!("capability {} is defined in two frameworks", cap.id),
                    ));
                }
                if let Some(iri) = &cap.iri
                    && by_iri.insert(iri.clone(), cap.id.clone()).is_some()
                {
                    return Err(Error::invalid(
                        format!("frameworks[{f}].capabilities[{c}].iri"),
                        "unique-iri",
                        format!("two capabilities use the IRI {iri}"),
                    ));
                }
            }
        }
        let mut catalog = Catalog {
            frameworks,
            index,
            by_iri,
            equivalents: BTreeMap::new(),
        };
        catalog.check_relations()?;
        catalog.equivalents = catalog.equivalence_classes();
        Ok(catalog)
    }

    fn check_relations(&self) -> Result<()> {
        let mut edges: BTreeMap<RelationKind, BTreeMap<&CapabilityId, Vec<&CapabilityId>>> =
            BTreeMap::new();
        for (f, framework) in self.frameworks.iter().enumerate() {
            for (r, relation) in framework.relations.iter().enumerate() {
                let at = format!("frameworks[{f}].relations[{r}]");
                for (end, id) in [("source", &relation.source), ("target", &relation.target)] {
                    if !self.index.contains_key(id) {
                        return Err(Error::invalid(
                            format!("{at}.{end}"),
                            "known-capability",
                            format!("no capability {id} in any framework"),
                        ));
                    }
                }
                if relation.kind == RelationKind::Equivalent
                    && self.scale_len(&relation.source) != self.scale_len(&relation.target)
                {
                    return Err(Error::invalid(
                        at,
                        "equivalent-scales",
                        "equivalent capabilities share evidence level for level, so their scales must have the same length",
                    ));
                }
                edges
                    .entry(relation.kind)
                    .or_default()
                    .entry(&relation.source)
                    .or_default()
                    .push(&relation.target);
            }
        }
        for kind in [RelationKind::Narrows, RelationKind::Requires] {
            if let Some(graph) = edges.get(&kind)
                && let Some(at) = find_cycle(graph)
            {
                return Err(Error::invalid(
                    "relations",
                    "acyclic",
                    format!("the {} relations form a cycle through {at}", kind.as_str()),
                ));
            }
        }
        Ok(())
    }

    fn scale_len(&self, id: &CapabilityId) -> usize {
        self.index
            .get(id)
            .map_or(0, |&(f, _)| self.frameworks[f].scale.len())
    }

    fn equivalence_classes(&self) -> BTreeMap<CapabilityId, Vec<CapabilityId>> {
        // Union-find over the `equivalent` relations; classes of one are left out.
        let mut parent: BTreeMap<&CapabilityId, &CapabilityId> = BTreeMap::new();
        fn root<'a>(
            parent: &BTreeMap<&'a CapabilityId, &'a CapabilityId>,
            mut id: &'a CapabilityId,
        ) -> &'a CapabilityId {
            while let Some(&p) = parent.get(id) {
                if p == id {
                    break;
                }
                id = p;
            }
            id
        }
        for framework in &self.frameworks {
            for relation in framework
                .relations
                .iter()
                .filter(|r| r.kind == RelationKind::Equivalent)
            {
                let a = root(&parent, &relation.source);
                let b = root(&parent, &relation.target);
                if a != b {
                    let (low, high) = if a < b { (a, b) } else { (b, a) };
                    parent.insert(high, low);
                    parent.entry(low).or_insert(low);
                }
            }
        }
        let mut classes: BTreeMap<&CapabilityId, Vec<CapabilityId>> = BTreeMap::new();
        for &id in parent.keys() {
            classes
                .entry(root(&parent, id))
                .or_default()
                .push(id.clone());
        }
        let mut out = BTreeMap::new();
        for members in classes.into_values() {
            for id in &members {
                out.insert(id.clone(), members.clone());
            }
        }
        out
    }

    pub fn frameworks(&self) -> &[Framework] {
        &self.frameworks
    }

    /// Every capability, framework by framework, in the order they were defined.
    pub fn capabilities(&self) -> impl Iterator<Item = &Capability> {
        self.frameworks.iter().flat_map(|f| f.capabilities.iter())
    }

    pub fn capability(&self, id: &CapabilityId) -> Result<&Capability> {
        self.index
            .get(id)
            .map(|&(f, c)| &self.frameworks[f].capabilities[c])
            .ok_or_else(|| {
                Error::not_found(
                    "capability",
                    "known-capability",
                    format!("no capability {id}"),
                )
            })
    }

    pub fn framework_of(&self, id: &CapabilityId) -> Result<&Framework> {
        self.index
            .get(id)
            .map(|&(f, _)| &self.frameworks[f])
            .ok_or_else(|| {
                Error::not_found(
                    "capability",
                    "known-capability",
                    format!("no capability {id}"),
                )
            })
    }

    /// The capability whose `iri` is exactly `iri`.
    pub fn by_iri(&self, iri: &str) -> Option<&CapabilityId> {
        self.by_iri.get(iri)
    }

    /// The capabilities whose evidence counts for `id`: itself and everything connected to
    /// it by `equivalent` relations (transitively), sorted by id.
    pub fn equivalents(&self, id: &CapabilityId) -> Vec<CapabilityId> {
        self.equivalents
            .get(id)
            .cloned()
            .unwrap_or_else(|| vec![id.clone()])
    }

    /// Every relation of every framework.
    pub fn relations(&self) -> impl Iterator<Item = &Relation> {
        self.frameworks.iter().flat_map(|f| f.relations.iter())
    }
}

impl TryFrom<CatalogSpec> for Catalog {
    type Error = Error;
    fn try_from(spec: CatalogSpec) -> Result<Catalog> {
        Catalog::new(spec.frameworks)
    }
}

/// A node on a cycle of a directed graph, if there is one (iterative depth-first search).
fn find_cycle(graph: &BTreeMap<&CapabilityId, Vec<&CapabilityId>>) -> Option<CapabilityId> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    let mut marks: BTreeMap<&CapabilityId, Mark> = BTreeMap::new();
    for &start in graph.keys() {
        if marks.contains_key(start) {
            continue;
        }
        let mut stack: Vec<(&CapabilityId, usize)> = vec![(start, 0)];
        marks.insert(start, Mark::Open);
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            let children = graph.get(node).map(Vec::as_slice).unwrap_or(&[]);
            if let Some(&child) = children.get(*next) {
                *next += 1;
                match marks.get(child) {
                    Some(Mark::Open) => return Some(child.clone()),
                    Some(Mark::Done) => {}
                    None => {
                        marks.insert(child, Mark::Open);
                        stack.push((child, 0));
                    }
                }
            } else {
                marks.insert(node, Mark::Done);
                stack.pop();
            }
        }
    }
    None
}
