//! Tenants and credentials in the ScyllaDB store: JSON records in `registry`, one partition per
//! kind of record, every write a lightweight transaction (uniqueness of names and keys, the
//! tenant id counter, revocation) so that several servers agree.

#[allow(clippy::wildcard_imports)]
use super::*;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::storage::{CredentialRecord, RegistryError, Tenant, TenantStore};

const TENANT_BY_NAME: &str = "tenant-name";
const TENANT_BY_ID: &str = "tenant-id";
const CREDENTIAL: &str = "credential";
const COUNTER: &str = "counter";
const NEXT_TENANT: &str = "next-tenant";
const ATTEMPTS: usize = 32;

/// Tenant ids as clustering keys that sort like the numbers.
fn id_name(id: TenantId) -> String {
    format!("{:010}", id.0)
}

fn to_json(value: &impl Serialize) -> Result<String, StorageError> {
    serde_json::to_string(value).map_err(|e| StorageError::corrupt(e.to_string()))
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, StorageError> {
    serde_json::from_str(text).map_err(|e| StorageError::corrupt(e.to_string()))
}

impl Inner {
    async fn record(&self, kind: &str, name: &str) -> Result<Option<String>, StorageError> {
        let row: Option<(String,)> = self
            .select_one(&self.cql.registry_get, (kind, name), "registry")
            .await?;
        Ok(row.map(|(record,)| record))
    }

    async fn records<T: DeserializeOwned>(&self, kind: &str) -> Result<Vec<T>, StorageError> {
        let rows: Vec<(String,)> = self
            .select_all(&self.cql.registry_list, (kind,), "registry")
            .await?;
        rows.iter().map(|(record,)| from_json(record)).collect()
    }

    /// Stores a record unless one exists; whether it did.
    async fn create_record(
        &self,
        kind: &str,
        name: &str,
        record: &str,
    ) -> Result<bool, StorageError> {
        Ok(self
            .lwt(&self.cql.registry_create, (kind, name, record), "registry")
            .await?
            .applied)
    }

    /// The next tenant id, from a counter moved by compare-and-set.
    async fn next_tenant_id(&self) -> Result<TenantId, StorageError> {
        for _ in 0..ATTEMPTS {
            let current = self.record(COUNTER, NEXT_TENANT).await?;
            let (next, applied) = match &current {
                None => (1, self.create_record(COUNTER, NEXT_TENANT, "2").await?),
                Some(text) => {
                    let next: u32 = text
                        .parse()
                        .map_err(|_| StorageError::corrupt("tenant counter is not a number"))?;
                    let after = next
                        .checked_add(1)
                        .ok_or_else(|| StorageError::corrupt("tenant counter out of range"))?;
                    let lwt = self
                        .lwt(
                            &self.cql.registry_update,
                            (after.to_string(), COUNTER, NEXT_TENANT, text.as_str()),
                            "registry",
                        )
                        .await?;
                    (next, lwt.applied)
                }
            };
            if applied {
                return Ok(TenantId(next));
            }
        }
        Err(StorageError::new(
            StorageErrorKind::Unavailable,
            "too many tenants created at once; try again",
        ))
    }

    async fn create_tenant(&self, name: &str) -> Result<Tenant, RegistryError> {
        if self.record(TENANT_BY_NAME, name).await?.is_some() {
            return Err(RegistryError::AlreadyExists(format!("tenant {name:?}")));
        }
        let tenant = Tenant {
            id: self.next_tenant_id().await?,
            name: name.to_owned(),
            created: self.clock.now(),
        };
        let json = to_json(&tenant)?;
        // The name is the uniqueness point; a race lost here burns an id, which is harmless.
        if !self.create_record(TENANT_BY_NAME, name, &json).await? {
            return Err(RegistryError::AlreadyExists(format!("tenant {name:?}")));
        }
        self.create_record(TENANT_BY_ID, &id_name(tenant.id), &json)
            .await?;
        Ok(tenant)
    }

    async fn revoke_credential(&self, key: &str) -> Result<(), RegistryError> {
        for _ in 0..ATTEMPTS {
            let Some(text) = self.record(CREDENTIAL, key).await? else {
                return Err(RegistryError::NotFound("credential".to_owned()));
            };
            let mut credential: CredentialRecord = from_json(&text)?;
            credential.revoked = true;
            let lwt = self
                .lwt(
                    &self.cql.registry_update,
                    (to_json(&credential)?, CREDENTIAL, key, text.as_str()),
                    "registry",
                )
                .await?;
            if lwt.applied {
                return Ok(());
            }
        }
        Err(StorageError::new(StorageErrorKind::Unavailable, "credential busy; try again").into())
    }

    async fn replace_credential(&self, credential: &CredentialRecord) -> Result<(), StorageError> {
        let json = to_json(credential)?;
        for _ in 0..ATTEMPTS {
            if self
                .create_record(CREDENTIAL, &credential.key, &json)
                .await?
            {
                return Ok(());
            }
            let lwt = self
                .lwt(
                    &self.cql.registry_overwrite,
                    (json.as_str(), CREDENTIAL, credential.key.as_str()),
                    "registry",
                )
                .await?;
            if lwt.applied {
                return Ok(());
            }
        }
        Err(StorageError::new(
            StorageErrorKind::Unavailable,
            "credential busy; try again",
        ))
    }
}

#[async_trait::async_trait]
impl TenantStore for ScyllaStore {
    async fn create_tenant(&self, name: &str) -> Result<Tenant, RegistryError> {
        self.inner.create_tenant(name).await
    }

    async fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>, StorageError> {
        match self.inner.record(TENANT_BY_NAME, name).await? {
            Some(text) => from_json(&text).map(Some),
            None => Ok(None),
        }
    }

    async fn tenant(&self, id: TenantId) -> Result<Option<Tenant>, StorageError> {
        match self.inner.record(TENANT_BY_ID, &id_name(id)).await? {
            Some(text) => from_json(&text).map(Some),
            None => Ok(None),
        }
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>, StorageError> {
        self.inner.records(TENANT_BY_ID).await
    }

    async fn create_credential(&self, credential: CredentialRecord) -> Result<(), RegistryError> {
        let json = to_json(&credential)?;
        if self
            .inner
            .create_record(CREDENTIAL, &credential.key, &json)
            .await?
        {
            Ok(())
        } else {
            Err(RegistryError::AlreadyExists("credential".to_owned()))
        }
    }

    async fn replace_credential(&self, credential: CredentialRecord) -> Result<(), StorageError> {
        self.inner.replace_credential(&credential).await
    }

    async fn credential(&self, key: &str) -> Result<Option<CredentialRecord>, StorageError> {
        match self.inner.record(CREDENTIAL, key).await? {
            Some(text) => from_json(&text).map(Some),
            None => Ok(None),
        }
    }

    async fn list_credentials(&self) -> Result<Vec<CredentialRecord>, StorageError> {
        self.inner.records(CREDENTIAL).await
    }

    async fn revoke_credential(&self, key: &str) -> Result<(), RegistryError> {
        self.inner.revoke_credential(key).await
    }
}
