//! Administration of tenants and credentials, shared by the CLI and the `/admin/` API.

use std::collections::BTreeSet;

use chrono::Utc;
use serde::Serialize;

use crate::auth::{Scope, generate_key, generate_secret, hash_secret};
use crate::storage::{CredentialRecord, RegistryError, StorageError, Tenant, TenantStore};

/// The tenant every server has; the bootstrap admin credential belongs to it.
pub const DEFAULT_TENANT: &str = "default";

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        rule: &'static str,
        message: String,
    },
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

impl From<StorageError> for AdminError {
    fn from(error: StorageError) -> Self {
        AdminError::Registry(RegistryError::Storage(error))
    }
}

/// A credential as shown to administrators: never the secret or its hash.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialView {
    pub key: String,
    pub tenant: String,
    pub scopes: Vec<String>,
    pub admin: bool,
    pub created: chrono::DateTime<Utc>,
    pub revoked: bool,
}

/// A credential just created: the only time its secret is shown.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedCredential {
    #[serde(flatten)]
    pub credential: CredentialView,
    pub secret: String,
}

/// Tenant names: 1–64 of lowercase letters, digits, `-`, `_` and `.`, starting with a letter
/// or digit, so they are safe in paths, logs and URLs.
pub fn validate_tenant_name(name: &str) -> Result<(), AdminError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    if valid {
        Ok(())
    } else {
        Err(AdminError::Invalid {
            field: "name",
            rule: "tenant-name",
            message: "must be 1-64 characters of a-z, 0-9, '-', '_' or '.', starting with a letter or digit".to_owned(),
        })
    }
}

pub async fn create_tenant(store: &dyn TenantStore, name: &str) -> Result<Tenant, AdminError> {
    validate_tenant_name(name)?;
    Ok(store.create_tenant(name).await?)
}

async fn tenant_named(store: &dyn TenantStore, name: &str) -> Result<Tenant, AdminError> {
    store
        .tenant_by_name(name)
        .await?
        .ok_or_else(|| AdminError::Invalid {
            field: "tenant",
            rule: "tenant-exists",
            message: format!("no tenant is named {name:?}"),
        })
}

/// Makes sure a tenant exists, creating it when it does not.
pub async fn ensure_tenant(store: &dyn TenantStore, name: &str) -> Result<Tenant, AdminError> {
    if let Some(tenant) = store.tenant_by_name(name).await? {
        return Ok(tenant);
    }
    match store.create_tenant(name).await {
        Ok(tenant) => Ok(tenant),
        // Created concurrently by someone else: fine.
        Err(RegistryError::AlreadyExists(_)) => tenant_named(store, name).await,
        Err(e) => Err(e.into()),
    }
}

fn view(record: &CredentialRecord, tenant: &str) -> CredentialView {
    CredentialView {
        key: record.key.clone(),
        tenant: tenant.to_owned(),
        scopes: record.scopes.clone(),
        admin: record.admin,
        created: record.created,
        revoked: record.revoked,
    }
}

async fn hash(secret: String) -> Result<String, AdminError> {
    tokio::task::spawn_blocking(move || hash_secret(&secret))
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| AdminError::Invalid {
            field: "secret",
            rule: "hashable",
            message: "could not be hashed".to_owned(),
        })
}

/// Issues a new credential with a random key and secret.
pub async fn create_credential(
    store: &dyn TenantStore,
    tenant: &str,
    scopes: &BTreeSet<Scope>,
    admin: bool,
) -> Result<IssuedCredential, AdminError> {
    if scopes.is_empty() {
        return Err(AdminError::Invalid {
            field: "scopes",
            rule: "non-empty",
            message: "at least one scope is required".to_owned(),
        });
    }
    let tenant = tenant_named(store, tenant).await?;
    let secret = generate_secret();
    let record = CredentialRecord {
        key: generate_key(),
        tenant: tenant.id,
        scopes: scopes.iter().map(|s| s.as_str().to_owned()).collect(),
        admin,
        secret_hash: hash(secret.clone()).await?,
        created: Utc::now(),
        revoked: false,
    };
    store.create_credential(record.clone()).await?;
    Ok(IssuedCredential {
        credential: view(&record, &tenant.name),
        secret,
    })
}

/// Makes the bootstrap admin credential exist with exactly this key and secret, scope `all`,
/// on the default tenant.
pub async fn bootstrap_admin(
    store: &dyn TenantStore,
    key: &str,
    secret: &str,
) -> Result<(), AdminError> {
    if key.is_empty() || key.contains(':') {
        return Err(AdminError::Invalid {
            field: "PROFICIO_ADMIN_KEY",
            rule: "credential-key",
            message: "must be non-empty and contain no ':'".to_owned(),
        });
    }
    if secret.is_empty() {
        return Err(AdminError::Invalid {
            field: "PROFICIO_ADMIN_SECRET",
            rule: "non-empty",
            message: "must not be empty".to_owned(),
        });
    }
    let tenant = ensure_tenant(store, DEFAULT_TENANT).await?;
    let existing = store.credential(key).await?;
    let up_to_date = existing.as_ref().is_some_and(|c| {
        c.tenant == tenant.id
            && c.admin
            && !c.revoked
            && c.scopes == [Scope::All.as_str()]
            && crate::auth::verify_secret(secret, &c.secret_hash)
    });
    if up_to_date {
        return Ok(());
    }
    let record = CredentialRecord {
        key: key.to_owned(),
        tenant: tenant.id,
        scopes: vec![Scope::All.as_str().to_owned()],
        admin: true,
        secret_hash: hash(secret.to_owned()).await?,
        created: existing.map_or_else(Utc::now, |c| c.created),
        revoked: false,
    };
    store.replace_credential(record).await?;
    Ok(())
}

pub async fn list_credentials(store: &dyn TenantStore) -> Result<Vec<CredentialView>, AdminError> {
    let tenants = store.list_tenants().await?;
    let name_of = |id| {
        tenants
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.name.clone())
            .unwrap_or_default()
    };
    let mut views: Vec<CredentialView> = store
        .list_credentials()
        .await?
        .iter()
        .map(|c| view(c, &name_of(c.tenant)))
        .collect();
    views.sort_by(|a, b| (&a.tenant, a.created).cmp(&(&b.tenant, b.created)));
    Ok(views)
}

pub async fn revoke_credential(store: &dyn TenantStore, key: &str) -> Result<(), AdminError> {
    Ok(store.revoke_credential(key).await?)
}
