//! Registrations: a learner assigned to a package, the launch links that open it, and what
//! the server remembers of each attempt.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::ScormServer;
use super::error::{ScormError, ScormErrorKind};
use super::packages::{require_manage, require_read};
use super::player::SessionRecord;
use super::ports::{Caller, Expect, Tenant};
use super::store::{LAUNCH_KEY, PACKAGE_REGISTRATIONS, REGISTRATION, REGISTRATION_ID, SESSION};
use super::tokens::{self, LaunchGrant, TokenError};
use crate::runtime::{AttemptSummary, PriorAttempt};
use crate::sequencing::SequencingState;

/// `POST /scorm/registrations`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRegistration {
    pub package: Uuid,
    /// An xAPI Agent.
    pub learner: Value,
}

/// What the server keeps of a registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct RegistrationRecord {
    pub id: Uuid,
    pub package: Uuid,
    pub learner: Value,
    /// `cmi.learner_id` / `cmi.core.student_id`.
    pub learner_id: String,
    pub learner_name: String,
    pub created: DateTime<Utc>,
    pub sequencing: SequencingState,
    /// Per item of the package.
    #[serde(default)]
    pub activities: BTreeMap<String, ActivityRecord>,
    /// The session being played, if any (record id in `SESSION`).
    #[serde(default)]
    pub current: Option<String>,
    #[serde(default)]
    pub suspended: bool,
    #[serde(default)]
    pub ended: bool,
}

/// One item's attempts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct ActivityRecord {
    /// Attempt ids, oldest first; the last is the current attempt.
    pub attempts: Vec<Uuid>,
    /// What the last session left, to resume or continue from.
    pub prior: Option<PriorAttempt>,
    pub summary: Option<AttemptSummary>,
    /// The session whose commits update this record.
    pub last_session: Option<String>,
}

/// A registration as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RegistrationView {
    pub id: Uuid,
    pub package: Uuid,
    pub learner: Value,
    pub created: DateTime<Utc>,
    pub suspended: bool,
    pub ended: bool,
    pub current_session: Option<String>,
    pub activities: Vec<ActivityView>,
    pub sessions: Vec<SessionView>,
    /// Present when the view comes with a fresh launch link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch: Option<LaunchLink>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActivityView {
    pub item: String,
    pub attempts: usize,
    pub summary: Option<AttemptSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    pub id: String,
    pub item: String,
    pub attempt: Uuid,
    pub entry: String,
    pub started: DateTime<Utc>,
    pub ended: bool,
    pub commits: u64,
    pub last_commit: Option<DateTime<Utc>>,
    pub summary: Option<AttemptSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LaunchLink {
    /// Path of the launch page on this server, token included.
    pub url: String,
    pub expires: DateTime<Utc>,
}

/// `cmi.learner_id` from an Agent: its account name, else its mailbox, else the rest of its
/// identifier.
fn learner_id_of(agent: &serde_json::Map<String, Value>) -> String {
    if let Some(Value::Object(account)) = agent.get("account")
        && let Some(Value::String(name)) = account.get("name")
    {
        return name.clone();
    }
    for key in ["mbox", "mbox_sha1sum", "openid"] {
        if let Some(Value::String(value)) = agent.get(key) {
            return value.strip_prefix("mailto:").unwrap_or(value).to_owned();
        }
    }
    String::new()
}

/// The sequencing seed of a registration: from its id, so it never needs storing apart.
fn seed_of(id: Uuid) -> u64 {
    let (high, _) = id.as_u64_pair();
    high
}

impl ScormServer {
    pub async fn create_registration(
        &self,
        caller: &Caller,
        request: NewRegistration,
    ) -> Result<RegistrationView, ScormError> {
        require_manage(caller)?;
        let tenant = caller.tenant;
        let learner_text = serde_json::to_string(&request.learner).unwrap_or_default();
        xapi::parse_agent_param(&learner_text, xapi::Version::V2_0_0)
            .map_err(|e| ScormError::invalid("learner", "agent", e.to_string()))?;
        let Value::Object(agent) = &request.learner else {
            return Err(ScormError::invalid(
                "learner",
                "agent",
                "the learner must be an xAPI Agent object",
            ));
        };
        let package = self.package(tenant, request.package).await.map_err(|e| {
            if e.kind == ScormErrorKind::NotFound {
                ScormError::invalid("package", "exists", "no package with this id")
            } else {
                e
            }
        })?;
        let id = Uuid::new_v4();
        let learner_id = learner_id_of(agent);
        let learner_name = agent
            .get("name")
            .and_then(Value::as_str)
            .map_or_else(|| learner_id.clone(), str::to_owned);
        let record = RegistrationRecord {
            id,
            package: request.package,
            learner: request.learner.clone(),
            learner_id,
            learner_name,
            created: self.now(),
            // Each registration draws its own selection and order of children (SN SR.1, SR.2),
            // the same on every server.
            sequencing: SequencingState::with_seed(&package.tree, seed_of(id)),
            activities: BTreeMap::new(),
            current: None,
            suspended: false,
            ended: false,
        };
        let key = id.to_string();
        // The index entry first: a registration is never missing from its package's list.
        self.store(
            tenant,
            (PACKAGE_REGISTRATIONS, &request.package.to_string(), &key),
            &serde_json::json!({}),
            Expect::Absent,
        )
        .await?;
        self.store(
            tenant,
            (REGISTRATION, &key, REGISTRATION_ID),
            &record,
            Expect::Absent,
        )
        .await?
        .ok_or_else(|| ScormError::internal("registration id collision"))?;
        tracing::info!(tenant = tenant.0, registration = %id, package = %request.package, "scorm registration created");
        let mut view = self.view(tenant, &record).await?;
        view.launch = Some(self.launch_link(tenant, id).await?);
        Ok(view)
    }

    pub async fn get_registration(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<RegistrationView, ScormError> {
        require_read(caller)?;
        let record = self.registration(caller.tenant, id).await?;
        self.view(caller.tenant, &record.value).await
    }

    /// A new launch link for an existing registration.
    pub async fn relaunch(&self, caller: &Caller, id: Uuid) -> Result<LaunchLink, ScormError> {
        require_manage(caller)?;
        self.registration(caller.tenant, id).await?;
        self.launch_link(caller.tenant, id).await
    }

    pub(super) async fn registration(
        &self,
        tenant: Tenant,
        id: Uuid,
    ) -> Result<super::store::Versioned<RegistrationRecord>, ScormError> {
        self.load(tenant, REGISTRATION, &id.to_string(), REGISTRATION_ID)
            .await?
            .ok_or_else(|| ScormError::not_found("registration"))
    }

    async fn view(
        &self,
        tenant: Tenant,
        record: &RegistrationRecord,
    ) -> Result<RegistrationView, ScormError> {
        let sessions = self
            .list::<SessionRecord>(tenant, SESSION, &record.id.to_string(), 1_000)
            .await?;
        Ok(RegistrationView {
            id: record.id,
            package: record.package,
            learner: record.learner.clone(),
            created: record.created,
            suspended: record.suspended,
            ended: record.ended,
            current_session: record.current.clone(),
            activities: record
                .activities
                .iter()
                .map(|(item, activity)| ActivityView {
                    item: item.clone(),
                    attempts: activity.attempts.len(),
                    summary: activity.summary.clone(),
                })
                .collect(),
            sessions: sessions.into_iter().map(|s| s.value.view()).collect(),
            launch: None,
        })
    }

    async fn launch_link(
        &self,
        tenant: Tenant,
        registration: Uuid,
    ) -> Result<LaunchLink, ScormError> {
        let key = self
            .launch_key(tenant, true)
            .await?
            .ok_or_else(|| ScormError::internal("launch key not made"))?;
        let lifetime = chrono::Duration::from_std(self.inner.config.link_lifetime)
            .unwrap_or(chrono::Duration::hours(24));
        let expires = self.now() + lifetime;
        let token = tokens::sign(
            &key,
            &LaunchGrant {
                tenant,
                registration,
                expires: expires.timestamp(),
            },
        );
        Ok(LaunchLink {
            url: format!("/scorm/launch/{token}"),
            expires,
        })
    }

    /// The tenant's launch-link key, made on first use. Two servers making it at once agree:
    /// the second create fails and reads the first's.
    async fn launch_key(
        &self,
        tenant: Tenant,
        create: bool,
    ) -> Result<Option<std::sync::Arc<Vec<u8>>>, ScormError> {
        if let Some(key) = self.inner.launch_keys.lock().get(&tenant) {
            return Ok(Some(key.clone()));
        }
        #[derive(Serialize, Deserialize)]
        struct KeyRecord {
            key: String,
        }
        let (kind, group, id) = LAUNCH_KEY;
        let existing = self.load::<KeyRecord>(tenant, kind, group, id).await?;
        let text = match existing {
            Some(found) => found.value.key,
            // A token naming a tenant that never made a link is refused, not given a key.
            None if !create => return Ok(None),
            None => {
                let mut bytes = [0u8; 32];
                rand::rng().fill_bytes(&mut bytes);
                let fresh = KeyRecord {
                    key: hex::encode(bytes),
                };
                match self
                    .store(tenant, (kind, group, id), &fresh, Expect::Absent)
                    .await?
                {
                    Some(_) => fresh.key,
                    None => {
                        self.load::<KeyRecord>(tenant, kind, group, id)
                            .await?
                            .ok_or_else(|| ScormError::internal("launch key vanished"))?
                            .value
                            .key
                    }
                }
            }
        };
        let key = std::sync::Arc::new(
            hex::decode(text).map_err(|_| ScormError::internal("launch key is not hex"))?,
        );
        self.inner.launch_keys.lock().insert(tenant, key.clone());
        Ok(Some(key))
    }

    /// Checks a launch token: signature under its tenant's key, then expiry.
    pub(super) async fn grant(&self, token: &str) -> Result<LaunchGrant, ScormError> {
        let refuse = |e: TokenError| {
            let kind = if e == TokenError::Expired {
                ScormErrorKind::Forbidden
            } else {
                ScormErrorKind::NotFound
            };
            ScormError::new(kind, "launch-link", e.to_string())
        };
        let tenant = tokens::peek_tenant(token).map_err(refuse)?;
        let key = self
            .launch_key(tenant, false)
            .await?
            .ok_or_else(|| refuse(TokenError::BadSignature))?;
        tokens::verify(&key, token, self.now().timestamp()).map_err(refuse)
    }
}
