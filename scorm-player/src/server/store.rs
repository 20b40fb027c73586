//! The service's records as typed JSON over the [`Records`](super::ports::Records) port, and
//! their keys in one place.

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ScormServer;
use super::error::ScormError;
use super::ports::{Expect, Tenant};

/// A tenant's packages: one group, listed together.
pub(super) const PACKAGE: (&str, &str) = ("scorm-package", "all");
/// A registration: its own group (id [`REGISTRATION_ID`]), with its sessions beside it.
pub(super) const REGISTRATION: &str = "scorm-registration";
pub(super) const REGISTRATION_ID: &str = "registration";
/// A registration's sessions: group = registration id, id = start time ‖ session id.
pub(super) const SESSION: &str = "scorm-session";
/// The registrations of a package: group = package id, id = registration id.
pub(super) const PACKAGE_REGISTRATIONS: &str = "scorm-package-registrations";
/// The tenant's launch-link key.
pub(super) const LAUNCH_KEY: (&str, &str, &str) = ("scorm-launch-key", "hmac", "sha256");

/// A record and the version to write it back at.
#[derive(Debug, Clone)]
pub(super) struct Versioned<T> {
    pub version: u64,
    pub value: T,
}

impl ScormServer {
    pub(super) async fn load<T: DeserializeOwned>(
        &self,
        tenant: Tenant,
        kind: &str,
        group: &str,
        id: &str,
    ) -> Result<Option<Versioned<T>>, ScormError> {
        let Some(record) = self.inner.records.get(tenant, kind, group, id).await? else {
            return Ok(None);
        };
        let value = serde_json::from_slice(&record.value)
            .map_err(|e| ScormError::internal(format!("{kind} record {group}/{id}: {e}")))?;
        Ok(Some(Versioned {
            version: record.version,
            value,
        }))
    }

    /// Writes when `expect` holds; the new version, or `None` when another write came first.
    pub(super) async fn store<T: Serialize>(
        &self,
        tenant: Tenant,
        (kind, group, id): (&str, &str, &str),
        value: &T,
        expect: Expect,
    ) -> Result<Option<u64>, ScormError> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| ScormError::internal(format!("{kind} record: {e}")))?;
        Ok(self
            .inner
            .records
            .put(tenant, kind, group, id, Bytes::from(bytes), expect)
            .await?)
    }

    pub(super) async fn list<T: DeserializeOwned>(
        &self,
        tenant: Tenant,
        kind: &str,
        group: &str,
        limit: usize,
    ) -> Result<Vec<Versioned<T>>, ScormError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .inner
                .records
                .list(tenant, kind, group, after.as_deref(), 500)
                .await?;
            let done = page.len() < 500;
            for (id, record) in page {
                let value = serde_json::from_slice(&record.value)
                    .map_err(|e| ScormError::internal(format!("{kind} record {id}: {e}")))?;
                out.push(Versioned {
                    version: record.version,
                    value,
                });
                after = Some(id);
                if out.len() == limit {
                    return Ok(out);
                }
            }
            if done {
                return Ok(out);
            }
        }
    }
}
