//! `POST /capabilities/frameworks/{id}/import` and `GET …/export`.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use capability_engine::{FrameworkId, FrameworkSpec};
use serde_json::json;

use super::{ExportFormat, ImportError, ImportFormat};
use crate::CapabilityService;
use crate::error::{ServiceError, ServiceErrorKind};
use crate::http::{manager, params, reader};
use crate::model::{KIND_FRAMEWORK, Part, check_framework};

impl From<ImportError> for ServiceError {
    fn from(error: ImportError) -> Self {
        ServiceError::invalid(&error.field, error.rule, error.message)
    }
}

fn format_param(query: Option<String>) -> Result<String, ServiceError> {
    params(query)?
        .remove("format")
        .ok_or_else(|| ServiceError::invalid("format", "required", "format is required"))
}

/// What an import stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ImportOutcome {
    pub id: FrameworkId,
    pub version: u64,
    /// False when an existing framework was replaced.
    pub created: bool,
    pub capabilities: usize,
    pub relations: usize,
    pub skipped: Vec<String>,
}

impl CapabilityService {
    /// Reads a framework from `body` in `format` and stores it as framework `id` of the
    /// tenant, as `PUT /capabilities/frameworks/{id}` would.
    pub async fn import_framework(
        &self,
        tenant: crate::Tenant,
        id: &str,
        format: ImportFormat,
        body: Bytes,
    ) -> Result<ImportOutcome, ServiceError> {
        let framework = FrameworkId::parse(id)
            .map_err(|e| ServiceError::invalid("id", e.rule(), e.message()))?;
        // Unzipping and parsing a workbook is more than a few hundred microseconds of work.
        let imported =
            tokio::task::spawn_blocking(move || super::import(format, &framework, &body))
                .await
                .map_err(|e| ServiceError::internal(format!("import task failed: {e}")))??;
        let spec = imported.spec;
        let (created, version) = save_framework(self, tenant, &spec).await?;
        Ok(ImportOutcome {
            id: spec.id,
            version,
            created,
            capabilities: spec.capabilities.len(),
            relations: spec.relations.len(),
            skipped: imported.skipped,
        })
    }

    /// A stored framework written in `format`.
    pub async fn export_framework(
        &self,
        tenant: crate::Tenant,
        id: &str,
        format: ExportFormat,
    ) -> Result<Vec<u8>, ServiceError> {
        let spec: FrameworkSpec = self
            .store(tenant)
            .get(KIND_FRAMEWORK, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("framework"))?;
        super::export(format, &spec).map_err(|e| ServiceError {
            // The stored framework, not the request, cannot be written in this format.
            kind: ServiceErrorKind::Conflict,
            path: Some(e.field),
            rule: e.rule,
            message: e.message,
        })
    }
}

pub(crate) async fn import(
    State(service): State<CapabilityService>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, ServiceError> {
    let caller = manager(&service, &headers).await?;
    let format = ImportFormat::parse(&format_param(query)?)?;
    let outcome = service
        .import_framework(caller.tenant, &id, format, body)
        .await?;
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        axum::Json(json!({
            "id": outcome.id,
            "version": outcome.version,
            "capabilities": outcome.capabilities,
            "relations": outcome.relations,
            "skipped": outcome.skipped,
        })),
    )
        .into_response())
}

pub(crate) async fn export(
    State(service): State<CapabilityService>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ServiceError> {
    let caller = reader(&service, &headers).await?;
    let format = ExportFormat::parse(&format_param(query)?)?;
    let bytes = service.export_framework(caller.tenant, &id, format).await?;
    Ok(([(header::CONTENT_TYPE, format.content_type())], bytes).into_response())
}

/// Stores a framework as `PUT /capabilities/frameworks/{id}` does: checked on its own, then
/// with the rest of the tenant's model; `(created, version)`.
pub(crate) async fn save_framework(
    service: &CapabilityService,
    tenant: crate::Tenant,
    spec: &FrameworkSpec,
) -> Result<(bool, u64), ServiceError> {
    check_framework(spec)?;
    let store = service.store(tenant);
    let id = spec.id.as_str();
    let version = store.version(KIND_FRAMEWORK, id).await?;
    let mut specs = store.load().await?;
    specs.frameworks.retain(|f| f.id != spec.id);
    specs.frameworks.push(spec.clone());
    specs.frameworks.sort_by(|a, b| a.id.cmp(&b.id));
    let own = specs
        .frameworks
        .iter()
        .position(|f| f.id == spec.id)
        .map(|i| format!("frameworks[{i}]"));
    specs.check_change(Part::Frameworks, own.as_deref())?;
    let new_version = store.put(KIND_FRAMEWORK, id, spec, version).await?;
    Ok((version.is_none(), new_version))
}
