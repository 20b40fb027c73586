//! A tenant's model — frameworks, roles, assignments, evidence rules, aggregation settings —
//! kept as the engine's spec types in versioned JSON records, and rebuilt into the engine's
//! validated types on every read.
//!
//! Record layout (all in group [`GROUP`]): kind [`KIND_FRAMEWORK`] with the framework id,
//! kind [`KIND_ROLE`] with the role id, kind [`KIND_MODEL`] with ids `assignments`, `rules`
//! and `config`. A change is validated against the whole model it would produce: a body that
//! breaks a rule itself is refused as invalid, a body that would break another stored part
//! (a role requiring a capability the new framework drops) as a conflict.

use bytes::Bytes;
use capability_engine::{
    AggregationConfig, AggregationSpec, Assignment, Assignments, Catalog, Framework, FrameworkSpec,
    Role, RoleSpec, Roles, RuleSet, RuleSpec,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest as _, Sha256};

use crate::error::{ServiceError, ServiceErrorKind};
use crate::ports::{Expect, Records, Tenant};

pub const GROUP: &str = "capabilities";
pub const KIND_FRAMEWORK: &str = "capability-framework";
pub const KIND_ROLE: &str = "capability-role";
pub const KIND_MODEL: &str = "capability-model";

const ID_ASSIGNMENTS: &str = "assignments";
const ID_RULES: &str = "rules";
const ID_CONFIG: &str = "config";

/// Records read per `list` call.
const PAGE: usize = 200;

/// The validated model of one tenant.
#[derive(Debug, Clone)]
pub struct Model {
    pub catalog: Catalog,
    pub roles: Roles,
    pub assignments: Assignments,
    /// `None` until rules are put: without rules no statement is followed.
    pub rules: Option<RuleSet>,
    pub config: AggregationConfig,
}

/// The model as stored: the spec types, in id order.
#[derive(Debug, Clone, Default)]
pub struct Specs {
    pub frameworks: Vec<FrameworkSpec>,
    pub roles: Vec<RoleSpec>,
    pub assignments: Vec<Assignment>,
    pub rules: Option<Vec<RuleSpec>>,
    pub config: Option<AggregationSpec>,
}

/// The parts of a model, for saying which one a change broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Frameworks,
    Roles,
    Assignments,
    Rules,
    Config,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Frameworks => "frameworks",
            Part::Roles => "roles",
            Part::Assignments => "assignments",
            Part::Rules => "rules",
            Part::Config => "config",
        }
    }
}

impl Specs {
    /// Builds the validated model; an error says which part broke which rule.
    pub fn build(&self) -> Result<Model, (Part, capability_engine::Error)> {
        let frameworks = self
            .frameworks
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                Framework::new(spec.clone()).map_err(|e| e.within(format!("frameworks[{i}]")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| (Part::Frameworks, e))?;
        let catalog = Catalog::new(frameworks).map_err(|e| (Part::Frameworks, e))?;
        let roles = Roles::new(self.roles.clone(), &catalog).map_err(|e| (Part::Roles, e))?;
        let assignments = Assignments::new(self.assignments.clone(), &roles)
            .map_err(|e| (Part::Assignments, e))?;
        let rules = match &self.rules {
            None => None,
            Some(specs) => {
                Some(RuleSet::new(specs.clone(), &catalog).map_err(|e| (Part::Rules, e))?)
            }
        };
        let config = match &self.config {
            None => AggregationConfig::simple(),
            Some(spec) => {
                AggregationConfig::new(spec.clone(), &catalog).map_err(|e| (Part::Config, e))?
            }
        };
        Ok(Model {
            catalog,
            roles,
            assignments,
            rules,
            config,
        })
    }

    /// Builds the model after a change to `changed`: a failure in that part is the body's
    /// fault (400), a failure elsewhere means the change breaks what is stored (409). For a
    /// part that is a list (frameworks), `own` is the changed item's field prefix (e.g.
    /// `frameworks[2]`): failures of other items are conflicts too, and the body's own
    /// failures are named relative to the body.
    pub fn check_change(&self, changed: Part, own: Option<&str>) -> Result<Model, ServiceError> {
        self.build().map_err(|(part, error)| {
            let relative = match own {
                None => Some(error.field().to_owned()),
                Some(prefix) => error
                    .field()
                    .strip_prefix(prefix)
                    .filter(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
                    .map(|rest| rest.strip_prefix('.').unwrap_or(rest).to_owned()),
            };
            match relative {
                Some(path) if part == changed => ServiceError {
                    kind: ServiceErrorKind::Invalid,
                    path: Some(path),
                    rule: error.rule(),
                    message: error.message().to_owned(),
                },
                _ => ServiceError {
                    kind: ServiceErrorKind::Conflict,
                    path: Some(if error.field().starts_with(part.name()) {
                        error.field().to_owned()
                    } else {
                        format!("{}.{}", part.name(), error.field())
                    }),
                    rule: error.rule(),
                    message: format!(
                        "the change breaks the stored {}: {}",
                        part.name(),
                        error.message()
                    ),
                },
            }
        })
    }
}

impl Model {
    /// What the ledger is derived from: the rules and the catalog they match into. When it
    /// changes, the ledger is derived again from the statements.
    pub fn derivation_key(&self) -> Option<String> {
        let rules = self.rules.as_ref()?;
        let mut hash = Sha256::new();
        hash.update(serde_json::to_vec(rules).unwrap_or_default());
        hash.update(b"\n");
        hash.update(serde_json::to_vec(&self.catalog).unwrap_or_default());
        Some(hex::encode(hash.finalize()))
    }
}

/// The typed record access of the model.
pub struct ModelStore<'a> {
    pub records: &'a dyn Records,
    pub tenant: Tenant,
}

/// The stored records a model is built from, read but not decoded yet.
pub struct StoredModel {
    frameworks: Vec<(String, Bytes)>,
    roles: Vec<(String, Bytes)>,
    assignments: Option<Bytes>,
    rules: Option<Bytes>,
    config: Option<Bytes>,
}

impl StoredModel {
    /// A digest of every record's content: equal digests, equal models.
    pub fn fingerprint(&self) -> [u8; 32] {
        let mut hash = Sha256::new();
        let mut part = |name: &str, id: &str, value: Option<&Bytes>| {
            for field in [name.as_bytes(), id.as_bytes()] {
                hash.update((field.len() as u64).to_be_bytes());
                hash.update(field);
            }
            match value {
                Some(value) => {
                    hash.update([1]);
                    hash.update((value.len() as u64).to_be_bytes());
                    hash.update(value);
                }
                None => hash.update([0]),
            }
        };
        for (id, value) in &self.frameworks {
            part(KIND_FRAMEWORK, id, Some(value));
        }
        for (id, value) in &self.roles {
            part(KIND_ROLE, id, Some(value));
        }
        part(KIND_MODEL, ID_ASSIGNMENTS, self.assignments.as_ref());
        part(KIND_MODEL, ID_RULES, self.rules.as_ref());
        part(KIND_MODEL, ID_CONFIG, self.config.as_ref());
        hash.finalize().into()
    }

    pub fn specs(&self) -> Result<Specs, ServiceError> {
        fn all<T: DeserializeOwned>(
            kind: &str,
            records: &[(String, Bytes)],
        ) -> Result<Vec<T>, ServiceError> {
            records
                .iter()
                .map(|(id, value)| decode(value, kind, id))
                .collect()
        }
        fn one<T: DeserializeOwned>(
            id: &str,
            value: &Option<Bytes>,
        ) -> Result<Option<T>, ServiceError> {
            value
                .as_ref()
                .map(|value| decode(value, KIND_MODEL, id))
                .transpose()
        }
        Ok(Specs {
            frameworks: all(KIND_FRAMEWORK, &self.frameworks)?,
            roles: all(KIND_ROLE, &self.roles)?,
            assignments: one(ID_ASSIGNMENTS, &self.assignments)?.unwrap_or_default(),
            rules: one(ID_RULES, &self.rules)?,
            config: one(ID_CONFIG, &self.config)?,
        })
    }

    /// The model these records make, validated.
    pub fn build(&self) -> Result<Model, ServiceError> {
        self.specs()?.build().map_err(|(part, e)| {
            ServiceError::internal(format!("the stored {} are invalid: {e}", part.name()))
        })
    }
}

impl ModelStore<'_> {
    /// The model's records as stored.
    pub async fn stored(&self) -> Result<StoredModel, ServiceError> {
        let value = |record: Option<crate::ports::Record>| record.map(|r| r.value);
        Ok(StoredModel {
            frameworks: self.list_raw(KIND_FRAMEWORK).await?,
            roles: self.list_raw(KIND_ROLE).await?,
            assignments: value(
                self.records
                    .get(self.tenant, KIND_MODEL, GROUP, ID_ASSIGNMENTS)
                    .await?,
            ),
            rules: value(
                self.records
                    .get(self.tenant, KIND_MODEL, GROUP, ID_RULES)
                    .await?,
            ),
            config: value(
                self.records
                    .get(self.tenant, KIND_MODEL, GROUP, ID_CONFIG)
                    .await?,
            ),
        })
    }

    pub async fn load(&self) -> Result<Specs, ServiceError> {
        self.stored().await?.specs()
    }

    pub async fn model(&self) -> Result<Model, ServiceError> {
        self.stored().await?.build()
    }

    pub async fn version(&self, kind: &str, id: &str) -> Result<Option<u64>, ServiceError> {
        Ok(self
            .records
            .get(self.tenant, kind, GROUP, id)
            .await?
            .map(|r| r.version))
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        kind: &str,
        id: &str,
    ) -> Result<Option<T>, ServiceError> {
        match self.records.get(self.tenant, kind, GROUP, id).await? {
            None => Ok(None),
            Some(record) => decode(&record.value, kind, id).map(Some),
        }
    }

    pub async fn list<T: DeserializeOwned>(&self, kind: &str) -> Result<Vec<T>, ServiceError> {
        self.list_raw(kind)
            .await?
            .iter()
            .map(|(id, value)| decode(value, kind, id))
            .collect()
    }

    async fn list_raw(&self, kind: &str) -> Result<Vec<(String, Bytes)>, ServiceError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .records
                .list(self.tenant, kind, GROUP, after.as_deref(), PAGE)
                .await?;
            let full = page.len() == PAGE;
            let last = page.last().map(|(id, _)| id.clone());
            out.extend(page.into_iter().map(|(id, record)| (id, record.value)));
            match last {
                Some(id) if full => after = Some(id),
                _ => return Ok(out),
            }
        }
    }

    /// Writes a record if it is still at `expected` (read before the change was checked);
    /// the new version, or a conflict when another writer got there first.
    pub async fn put<T: Serialize>(
        &self,
        kind: &str,
        id: &str,
        value: &T,
        expected: Option<u64>,
    ) -> Result<u64, ServiceError> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| ServiceError::internal(format!("encoding {kind} {id}: {e}")))?;
        let expect = expected.map_or(Expect::Absent, Expect::Version);
        self.records
            .put(self.tenant, kind, GROUP, id, Bytes::from(bytes), expect)
            .await?
            .ok_or_else(|| {
                ServiceError::new(
                    ServiceErrorKind::Conflict,
                    "concurrent-change",
                    format!("{kind} {id} was changed by another request; read it and try again"),
                )
            })
    }
}

fn decode<T: DeserializeOwned>(bytes: &[u8], kind: &str, id: &str) -> Result<T, ServiceError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ServiceError::internal(format!("stored {kind} {id} is unreadable: {e}")))
}

pub fn assignments_id() -> &'static str {
    ID_ASSIGNMENTS
}

pub fn rules_id() -> &'static str {
    ID_RULES
}

pub fn config_id() -> &'static str {
    ID_CONFIG
}

/// Validates one framework on its own, so that errors name fields of the body.
pub fn check_framework(spec: &FrameworkSpec) -> Result<(), ServiceError> {
    Framework::new(spec.clone())
        .map(|_| ())
        .map_err(|e| ServiceError::engine(e, ""))
}

/// Validates one role against the stored catalog, so that errors name fields of the body.
pub fn check_role(spec: &RoleSpec, catalog: &Catalog) -> Result<(), ServiceError> {
    Role::new(spec.clone(), catalog)
        .map(|_| ())
        .map_err(|e| ServiceError::engine(e, ""))
}
