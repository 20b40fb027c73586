//! Tenants and credentials in the embedded store.

#[allow(clippy::wildcard_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------
// Tenants and credentials

const NEXT_TENANT: &[u8] = b"next-tenant";

fn tenant_name_key(name: &str) -> Vec<u8> {
    [b"tenant-name/".as_slice(), name.as_bytes()].concat()
}

fn tenant_id_key(id: TenantId) -> Vec<u8> {
    [b"tenant-id/".as_slice(), &id.0.to_be_bytes()].concat()
}

fn credential_key(key: &str) -> Vec<u8> {
    [b"credential/".as_slice(), key.as_bytes()].concat()
}

impl Inner {
    fn registry_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &[u8],
    ) -> Result<Option<T>, StorageError> {
        self.get_json(&self.registry, key)
    }

    fn registry_scan<T: serde::de::DeserializeOwned>(
        &self,
        prefix: &[u8],
    ) -> Result<Vec<T>, StorageError> {
        let mut found = Vec::new();
        for guard in self.registry.prefix(prefix) {
            let value = guard.value().map_err(map_err)?;
            found.push(
                serde_json::from_slice(&value).map_err(|e| StorageError::corrupt(e.to_string()))?,
            );
        }
        Ok(found)
    }

    fn put_registry(&self, entries: Vec<(Vec<u8>, Vec<u8>)>) -> Result<(), StorageError> {
        let mut batch = self.db.batch();
        for (key, value) in entries {
            batch.insert(&self.registry, key, value);
        }
        self.commit(batch)
    }

    fn create_tenant(&self, name: &str) -> Result<Tenant, RegistryError> {
        let _state = self.write.lock();
        if self
            .registry
            .contains_key(tenant_name_key(name))
            .map_err(map_err)?
        {
            return Err(RegistryError::AlreadyExists(format!("tenant {name:?}")));
        }
        let next = match self.registry.get(NEXT_TENANT).map_err(map_err)? {
            Some(value) => u32::try_from(read_u64(&value, 0)?)
                .map_err(|_| StorageError::corrupt("tenant counter out of range"))?,
            None => 1,
        };
        let tenant = Tenant {
            id: TenantId(next),
            name: name.to_owned(),
            created: self.clock.now(),
        };
        let json = serde_json::to_vec(&tenant).map_err(|e| StorageError::corrupt(e.to_string()))?;
        self.put_registry(vec![
            (
                NEXT_TENANT.to_vec(),
                u64::from(next + 1).to_be_bytes().to_vec(),
            ),
            (tenant_name_key(name), next.to_be_bytes().to_vec()),
            (tenant_id_key(tenant.id), json),
        ])?;
        Ok(tenant)
    }

    fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>, StorageError> {
        let Some(value) = self.registry.get(tenant_name_key(name)).map_err(map_err)? else {
            return Ok(None);
        };
        let id = <[u8; 4]>::try_from(&*value)
            .map(u32::from_be_bytes)
            .map_err(|_| StorageError::corrupt("bad tenant id"))?;
        self.registry_json(&tenant_id_key(TenantId(id)))
    }

    fn write_credential(&self, credential: &CredentialRecord) -> Result<(), StorageError> {
        let json =
            serde_json::to_vec(credential).map_err(|e| StorageError::corrupt(e.to_string()))?;
        self.put_registry(vec![(credential_key(&credential.key), json)])
    }

    fn create_credential(&self, credential: &CredentialRecord) -> Result<(), RegistryError> {
        let _state = self.write.lock();
        if self
            .registry
            .contains_key(credential_key(&credential.key))
            .map_err(map_err)?
        {
            return Err(RegistryError::AlreadyExists("credential".to_owned()));
        }
        Ok(self.write_credential(credential)?)
    }

    fn revoke_credential(&self, key: &str) -> Result<(), RegistryError> {
        let _state = self.write.lock();
        let Some(mut credential) = self.registry_json::<CredentialRecord>(&credential_key(key))?
        else {
            return Err(RegistryError::NotFound("credential".to_owned()));
        };
        credential.revoked = true;
        Ok(self.write_credential(&credential)?)
    }
}

#[async_trait]
impl TenantStore for EmbeddedStore {
    async fn create_tenant(&self, name: &str) -> Result<Tenant, RegistryError> {
        let name = name.to_owned();
        self.writing(move |inner| inner.create_tenant(&name)).await
    }

    async fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>, StorageError> {
        let name = name.to_owned();
        self.blocking(move |inner| inner.tenant_by_name(&name))
            .await
    }

    async fn tenant(&self, id: TenantId) -> Result<Option<Tenant>, StorageError> {
        self.blocking(move |inner| inner.registry_json(&tenant_id_key(id)))
            .await
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>, StorageError> {
        self.blocking(|inner| inner.registry_scan(b"tenant-id/"))
            .await
    }

    async fn create_credential(&self, credential: CredentialRecord) -> Result<(), RegistryError> {
        self.writing(move |inner| inner.create_credential(&credential))
            .await
    }

    async fn replace_credential(&self, credential: CredentialRecord) -> Result<(), StorageError> {
        self.writing(move |inner| {
            let _state = inner.write.lock();
            inner.write_credential(&credential)
        })
        .await
    }

    async fn credential(&self, key: &str) -> Result<Option<CredentialRecord>, StorageError> {
        let key = credential_key(key);
        self.blocking(move |inner| inner.registry_json(&key)).await
    }

    async fn list_credentials(&self) -> Result<Vec<CredentialRecord>, StorageError> {
        self.blocking(|inner| inner.registry_scan(b"credential/"))
            .await
    }

    async fn revoke_credential(&self, key: &str) -> Result<(), RegistryError> {
        let key = key.to_owned();
        self.writing(move |inner| inner.revoke_credential(&key))
            .await
    }
}
