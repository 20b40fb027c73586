//! Roles (the capability levels a job requires) and assignments of people to roles over time.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::framework::Catalog;
use crate::ids::{CapabilityId, Level, PersonKey, RoleId, Weight};

/// How much a requirement matters to the role.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "kebab-case")]
pub enum Criticality {
    /// The role cannot be done without it.
    Essential,
    #[default]
    Important,
    Desirable,
}

/// One capability level a role requires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Requirement {
    pub capability: CapabilityId,
    pub level: Level,
    /// Relative weight within the role, for the role's overall fit (see `report`).
    #[serde(default = "one")]
    pub weight: Weight,
    #[serde(default)]
    pub criticality: Criticality,
}

fn one() -> Weight {
    Weight::ONE
}

/// A role as written in input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleSpec {
    pub id: RoleId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub requirements: Vec<Requirement>,
}

/// A validated role: each required capability exists, appears once, and defines the
/// required level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Role {
    id: RoleId,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    requirements: Vec<Requirement>,
}

/// Every role of a tenant, by id. Serialised as a list of roles (what [`Roles::new`] reads
/// back as `Vec<RoleSpec>`).
#[derive(Debug, Clone, PartialEq)]
pub struct Roles {
    roles: BTreeMap<RoleId, Role>,
}

impl Serialize for Roles {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.roles.values())
    }
}

/// A person holds a role from `from` (inclusive) until `until` (exclusive; open-ended when
/// absent). A person may hold several roles at once. `manager` is who the person reports to
/// in that role over the same interval, so a change of manager is a new assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub person: PersonKey,
    pub role: RoleId,
    pub from: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<PersonKey>,
}

/// Every assignment of a tenant; intervals of one person in one role never overlap.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Assignments {
    assignments: Vec<Assignment>,
}

impl Role {
    pub fn new(spec: RoleSpec, catalog: &Catalog) -> Result<Role> {
        if spec.name.trim().is_empty() {
            return Err(Error::invalid("name", "non-empty", "a role has a name"));
        }
        let mut seen = BTreeSet::new();
        for (i, req) in spec.requirements.iter().enumerate() {
            let at = format!("requirements[{i}]");
            let capability = catalog.capability(&req.capability).map_err(|_| {
                Error::invalid(
                    format!("{at}.capability"),
                    "known-capability",
                    format!("no capability {}", req.capability),
                )
            })?;
            if !capability.defines(req.level) {
                return Err(Error::invalid(
                    format!("{at}.level"),
                    "level-defined",
                    format!(
                        "capability {} does not define level {}",
                        req.capability, req.level
                    ),
                ));
            }
            if !seen.insert(&req.capability) {
                return Err(Error::invalid(
                    format!("{at}.capability"),
                    "unique-requirement",
                    format!("capability {} is required twice", req.capability),
                ));
            }
        }
        Ok(Role {
            id: spec.id,
            name: spec.name,
            description: spec.description,
            requirements: spec.requirements,
        })
    }

    pub fn id(&self) -> &RoleId {
        &self.id
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }
    pub fn requirement(&self, capability: &CapabilityId) -> Option<&Requirement> {
        self.requirements
            .iter()
            .find(|r| &r.capability == capability)
    }
}

impl Roles {
    pub fn new(specs: Vec<RoleSpec>, catalog: &Catalog) -> Result<Roles> {
        let mut roles = BTreeMap::new();
        for (i, spec) in specs.into_iter().enumerate() {
            let at = format!("roles[{i}]");
            let role = Role::new(spec, catalog).map_err(|e| e.within(&at))?;
            if roles.contains_key(&role.id) {
                return Err(Error::invalid(
                    format!("{at}.id"),
                    "unique-id",
                    format!("role {} is defined twice", role.id),
                ));
            }
            roles.insert(role.id.clone(), role);
        }
        Ok(Roles { roles })
    }

    pub fn get(&self, id: &RoleId) -> Result<&Role> {
        self.roles
            .get(id)
            .ok_or_else(|| Error::not_found("role", "known-role", format!("no role {id}")))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Role> {
        self.roles.values()
    }
}

impl Assignment {
    /// Whether the assignment holds at `at`.
    pub fn holds_at(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && self.until.is_none_or(|until| at < until)
    }
}

impl Assignments {
    pub fn new(assignments: Vec<Assignment>, roles: &Roles) -> Result<Assignments> {
        for (i, a) in assignments.iter().enumerate() {
            let at = format!("assignments[{i}]");
            if roles.get(&a.role).is_err() {
                return Err(Error::invalid(
                    format!("{at}.role"),
                    "known-role",
                    format!("no role {}", a.role),
                ));
            }
            if a.manager.as_ref() == Some(&a.person) {
                return Err(Error::invalid(
                    format!("{at}.manager"),
                    "not-own-manager",
                    format!("{} cannot be their own manager", a.person),
                ));
            }
            if let Some(until) = a.until
                && until <= a.from
            {
                return Err(Error::invalid(
                    format!("{at}.until"),
                    "until-after-from",
                    "an assignment ends after it starts",
                ));
            }
            let overlapping = assignments[..i].iter().position(|b| {
                b.person == a.person
                    && b.role == a.role
                    && b.until.is_none_or(|end| a.from < end)
                    && a.until.is_none_or(|end| b.from < end)
            });
            if let Some(j) = overlapping {
                return Err(Error::invalid(
                    at,
                    "no-overlap",
                    format!(
                        "{} holds role {} twice at once (see assignments[{j}])",
                        a.person, a.role
                    ),
                ));
            }
        }
        Ok(Assignments { assignments })
    }

    pub fn iter(&self) -> impl Iterator<Item = &Assignment> {
        self.assignments.iter()
    }

    /// The roles `person` holds at `at`, sorted by id.
    pub fn roles_of(&self, person: &PersonKey, at: DateTime<Utc>) -> Vec<&RoleId> {
        let set: BTreeSet<&RoleId> = self
            .assignments
            .iter()
            .filter(|a| &a.person == person && a.holds_at(at))
            .map(|a| &a.role)
            .collect();
        set.into_iter().collect()
    }

    /// The people holding `role` at `at`, sorted by key.
    pub fn people_in(&self, role: &RoleId, at: DateTime<Utc>) -> Vec<&PersonKey> {
        let set: BTreeSet<&PersonKey> = self
            .assignments
            .iter()
            .filter(|a| &a.role == role && a.holds_at(at))
            .map(|a| &a.person)
            .collect();
        set.into_iter().collect()
    }

    /// The people whose assignment current at `at` names `manager`, sorted by key, each
    /// once (someone may report to the same manager in two roles).
    pub fn reports_of(&self, manager: &PersonKey, at: DateTime<Utc>) -> Vec<&PersonKey> {
        let set: BTreeSet<&PersonKey> = self
            .assignments
            .iter()
            .filter(|a| a.manager.as_ref() == Some(manager) && a.holds_at(at))
            .map(|a| &a.person)
            .collect();
        set.into_iter().collect()
    }

    /// Everyone with any assignment, sorted by key.
    pub fn people(&self) -> Vec<&PersonKey> {
        let set: BTreeSet<&PersonKey> = self.assignments.iter().map(|a| &a.person).collect();
        set.into_iter().collect()
    }
}
