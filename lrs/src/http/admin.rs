//! The administration API under `/admin/`: tenants and credentials, for admin credentials only.
//!
//! An admin credential of the `default` tenant operates the server: every tenant and every
//! credential. An admin credential of any other tenant administers that tenant only: it sees
//! its own tenant and credentials, issues and revokes credentials on it, and creates no
//! tenant; another tenant's credentials are, to it, not there.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde::Deserialize;

use super::{Admin, AppState, method_not_allowed, read_body};
use crate::auth::{Principal, parse_scopes};
use crate::error::ApiError;
use crate::registry;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/tenants",
            get(list_tenants)
                .post(create_tenant)
                .fallback(method_not_allowed),
        )
        .route(
            "/credentials",
            get(list_credentials)
                .post(create_credential)
                .fallback(method_not_allowed),
        )
        .route(
            "/credentials/{key}",
            delete(revoke_credential).fallback(method_not_allowed),
        )
        .route(
            "/audit",
            get(super::audit::read).fallback(method_not_allowed),
        )
        .route("/backup", get(backup).fallback(method_not_allowed))
}

/// Streams a backup of the whole store as of one moment, while the server goes on serving
/// (`proficio backup --server`). Only the server's operator: a backup holds every tenant.
async fn backup(State(state): State<AppState>, Admin(admin): Admin) -> Result<Response, ApiError> {
    if !operates_server(&admin) {
        return Err(ApiError::Forbidden("an admin of the default tenant"));
    }
    let Some(backup) = state.stores.backup.clone() else {
        return Err(ApiError::invalid(
            "store",
            "backup-embedded-store",
            "the server backs up the embedded store only; back up a ScyllaDB or Cassandra \
             cluster with the cluster's own tools (nodetool snapshot)",
        ));
    };
    let (sender, receiver) = tokio::sync::mpsc::channel::<std::io::Result<bytes::Bytes>>(8);
    let by = admin.key.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter {
            sender: sender.clone(),
            buffer: Vec::with_capacity(BACKUP_CHUNK),
        };
        // The backup flushes its writer at the end, which sends the last chunk.
        match backup.write_backup(&mut out) {
            Ok(summary) => tracing::info!(
                by = %by,
                entries = summary.entries,
                raw_bytes = summary.raw_bytes,
                seconds = summary.seconds,
                "backup written"
            ),
            Err(error) => {
                tracing::error!(by = %by, error = %error.message, "backup failed");
                // The stream ends in an error: the client sees the body cut short, and a cut
                // backup never restores.
                let _ = sender.blocking_send(Err(std::io::Error::other("backup failed")));
            }
        }
    });
    let stream = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    let name = format!(
        "attachment; filename=\"proficio-{}.backup\"",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    );
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/octet-stream".to_owned(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, name),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

const BACKUP_CHUNK: usize = 256 * 1024;

/// Hands what a blocking writer writes to the response body, a chunk at a time.
struct ChannelWriter {
    sender: tokio::sync::mpsc::Sender<std::io::Result<bytes::Bytes>>,
    buffer: Vec<u8>,
}

impl ChannelWriter {
    fn flush_chunk(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = bytes::Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(BACKUP_CHUNK),
        ));
        self.sender
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client left"))
    }
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        if self.buffer.len() >= BACKUP_CHUNK {
            self.flush_chunk()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.flush_chunk()
    }
}

/// Reads a JSON body into `T`, naming the field that does not fit.
async fn json_body<T: serde::de::DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<T, ApiError> {
    let bytes = read_body(body, headers, state.config.max_body_bytes).await?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::invalid("body", "json-shape", format!("not the expected JSON: {e}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTenant {
    name: String,
}

/// Whether an admin credential operates the whole server rather than its own tenant.
fn operates_server(admin: &Principal) -> bool {
    admin.tenant_name == registry::DEFAULT_TENANT
}

async fn list_tenants(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<Response, ApiError> {
    let mut tenants = state.stores.tenants.list_tenants().await?;
    if !operates_server(&admin) {
        tenants.retain(|t| t.id == admin.tenant);
    }
    Ok(axum::Json(tenants).into_response())
}

async fn create_tenant(
    State(state): State<AppState>,
    Admin(admin): Admin,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if !operates_server(&admin) {
        return Err(ApiError::Forbidden("an admin of the default tenant"));
    }
    let request: NewTenant = json_body(&state, &headers, body).await?;
    let tenant = registry::create_tenant(state.stores.tenants.as_ref(), &request.name).await?;
    tracing::info!(by = %admin.key, tenant = %tenant.name, "tenant created");
    Ok((StatusCode::CREATED, axum::Json(tenant)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewCredential {
    tenant: String,
    scopes: Vec<String>,
    #[serde(default)]
    admin: bool,
}

async fn list_credentials(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<Response, ApiError> {
    let mut credentials = registry::list_credentials(state.stores.tenants.as_ref()).await?;
    if !operates_server(&admin) {
        credentials.retain(|c| c.tenant == admin.tenant_name);
    }
    Ok(axum::Json(credentials).into_response())
}

async fn create_credential(
    State(state): State<AppState>,
    Admin(admin): Admin,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let request: NewCredential = json_body(&state, &headers, body).await?;
    if !operates_server(&admin) && request.tenant != admin.tenant_name {
        return Err(ApiError::invalid(
            "tenant",
            "own-tenant",
            "an admin of a tenant issues credentials on that tenant only",
        ));
    }
    let scopes = parse_scopes(&request.scopes.join(","))
        .map_err(|e| ApiError::invalid("scopes", "known-scope", e.to_string()))?;
    let issued = registry::create_credential(
        state.stores.tenants.as_ref(),
        &request.tenant,
        &scopes,
        request.admin,
    )
    .await?;
    tracing::info!(by = %admin.key, key = %issued.credential.key, tenant = %issued.credential.tenant, "credential created");
    Ok((StatusCode::CREATED, axum::Json(issued)).into_response())
}

async fn revoke_credential(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    if !operates_server(&admin) {
        let own = registry::list_credentials(state.stores.tenants.as_ref())
            .await?
            .into_iter()
            .any(|c| c.key == key && c.tenant == admin.tenant_name);
        if !own {
            return Err(ApiError::NotFound);
        }
    }
    registry::revoke_credential(state.stores.tenants.as_ref(), &key).await?;
    state.auth.forget(&key);
    tracing::info!(by = %admin.key, key = %key, "credential revoked");
    Ok(StatusCode::NO_CONTENT.into_response())
}
