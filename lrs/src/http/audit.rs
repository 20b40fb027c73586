//! The audit log: every administrative request that a credential made — tenants and
//! credentials, SCORM packages, capability frameworks, roles, assignments, rules and
//! configuration, recorded sessions, erasures of documents and packages — kept per tenant
//! in the store, and readable by its administrators at `GET /admin/audit`.
//!
//! An entry says who (the credential's key), when, what (method and path, launch tokens
//! redacted) and how it ended (the status). Never a body, a header or a secret. Entries are
//! records of kind [`KIND`], one group per tenant and UTC day, ids in time order.

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::{Admin, AppState, redact_path};
use crate::error::ApiError;
use crate::storage::{Expect, RecordKey, StorageError, TenantId};

/// The records' kind.
pub const KIND: &str = "audit";
/// Days one `GET /admin/audit` reads at most.
const MAX_DAYS: i64 = 31;
/// Entries one day's group is read in pages of.
const PAGE: usize = 500;

/// One administrative action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub at: DateTime<Utc>,
    /// The key of the credential that made the request.
    pub key: String,
    pub method: String,
    pub path: String,
    pub status: u16,
}

/// Whether a request is an administrative action: anything under `/admin/` but reading (a
/// backup excepted), and
/// every change to packages, the capability model and recorded sessions. Statements, state
/// and learners' own data are the LRS's business, not administration.
pub fn is_administrative(method: &Method, path: &str) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        // A backup reads every tenant's data out of the server: that is kept.
        return *method == Method::GET && path == "/admin/backup";
    }
    const PREFIXES: [&str; 8] = [
        "/admin/",
        "/scorm/packages",
        "/capabilities/frameworks",
        "/capabilities/roles",
        "/capabilities/assignments",
        "/capabilities/rules",
        "/capabilities/config",
        "/capabilities/records",
    ];
    PREFIXES.iter().any(|p| path.starts_with(p))
        || (*method == Method::DELETE && path.starts_with("/xapi/"))
}

fn group(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// Stores one entry under its tenant.
async fn append(state: &AppState, tenant: TenantId, entry: &Entry) -> Result<(), ApiError> {
    let value = serde_json::to_vec(entry)
        .map_err(|e| StorageError::corrupt(format!("audit entry: {e}")))?;
    // Time order, and a random tail so two entries of one microsecond both stay.
    let id = format!(
        "{}-{}",
        entry.at.to_rfc3339_opts(SecondsFormat::Micros, true),
        uuid::Uuid::new_v4().simple()
    );
    let key = RecordKey::new(KIND, &group(entry.at.date_naive()), &id);
    state
        .stores
        .records
        .put_record(tenant, &key, Bytes::from(value), Expect::Absent)
        .await?;
    Ok(())
}

/// The middleware: administrative requests with a credential the server knows are written to
/// the audit log of the credential's tenant once answered, whatever the answer.
pub async fn audit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !is_administrative(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    let header = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    // Who is asked before the request runs: a credential revoking itself is still named.
    // Requests without a valid credential do nothing; the throttle counts those.
    let principal = match state.auth.authenticate(header).await {
        Ok(Ok(principal)) => Some(principal),
        _ => None,
    };
    let method = request.method().to_string();
    let path = redact_path(request.uri().path());
    let response = next.run(request).await;
    let Some(principal) = principal else {
        return response;
    };
    let entry = Entry {
        at: state.clock.now(),
        key: principal.key.clone(),
        method,
        path,
        status: response.status().as_u16(),
    };
    tracing::info!(
        target: "audit",
        tenant = %principal.tenant_name,
        key = %entry.key,
        method = %entry.method,
        path = %entry.path,
        status = entry.status,
        "administrative action"
    );
    if let Err(error) = append(&state, principal.tenant, &entry).await {
        tracing::error!(%error, "audit entry not stored");
    }
    response
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AuditQuery {
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

/// `GET /admin/audit[?since=&until=]`: the administrator's tenant's entries, oldest first,
/// by default of the last day; at most [`MAX_DAYS`] days per request.
pub(super) async fn read(
    State(state): State<AppState>,
    Admin(admin): Admin,
    query: Result<axum::extract::Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let axum::extract::Query(query) =
        query.map_err(|e| ApiError::invalid("query", "audit-query", e.body_text()))?;
    let until = query.until.unwrap_or_else(|| state.clock.now());
    let since = query.since.unwrap_or(until - Duration::days(1));
    if since > until {
        return Err(ApiError::invalid(
            "since",
            "since-before-until",
            "since is after until",
        ));
    }
    if (until.date_naive() - since.date_naive()).num_days() >= MAX_DAYS {
        return Err(ApiError::invalid(
            "since",
            "audit-range",
            format!("at most {MAX_DAYS} days per request"),
        ));
    }
    let mut entries = Vec::new();
    let mut day = since.date_naive();
    while day <= until.date_naive() {
        let mut after: Option<String> = None;
        loop {
            let page = state
                .stores
                .records
                .list_records(admin.tenant, KIND, &group(day), after.as_deref(), PAGE)
                .await?;
            for (_, record) in &page {
                let entry: Entry = serde_json::from_slice(&record.value)
                    .map_err(|e| StorageError::corrupt(format!("audit entry: {e}")))?;
                if entry.at >= since && entry.at <= until {
                    entries.push(entry);
                }
            }
            match page.last() {
                Some((id, _)) if page.len() == PAGE => after = Some(id.clone()),
                _ => break,
            }
        }
        day = day.succ_opt().unwrap_or(day);
        if day == NaiveDate::MAX {
            break;
        }
    }
    Ok(axum::Json(entries).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn administrative_requests_are_told_apart() {
        let check = |method: Method, path: &str, expected: bool| {
            assert_eq!(
                is_administrative(&method, path),
                expected,
                "{method} {path}"
            );
        };
        check(Method::POST, "/admin/tenants", true);
        check(Method::DELETE, "/admin/credentials/k", true);
        check(Method::GET, "/admin/credentials", false);
        check(Method::POST, "/scorm/packages", true);
        check(Method::DELETE, "/scorm/packages/p", true);
        check(Method::PUT, "/capabilities/frameworks/eng", true);
        check(Method::POST, "/capabilities/frameworks/eng/import", true);
        check(Method::PUT, "/capabilities/rules", true);
        check(Method::POST, "/capabilities/records", true);
        check(Method::POST, "/capabilities/sync", false);
        check(Method::POST, "/xapi/statements", false);
        check(Method::PUT, "/xapi/activities/state", false);
        check(Method::DELETE, "/xapi/activities/state", true);
        check(Method::POST, "/scorm/registrations", false);
    }
}
