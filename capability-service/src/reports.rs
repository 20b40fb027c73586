//! Reports over the persisted ledger, each reading only the people it is about: assessments,
//! a gap report and a person's report over every role held (one person), a role's heatmap
//! (the role's people) and a manager's (their reports), a person's progression in one
//! capability, the stale-evidence and reassessment report (one person, or everyone holding
//! a role). JSON is the engine's types as it serialises them; `format=csv` gives the tabular
//! reports as CSV (RFC 4180).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use capability_engine::report::{Progression, Span};
use capability_engine::{
    Assessment, CapabilityId, Days, Evaluator, GapReport, HeatCell, Heatmap, Ledger, Level,
    PersonKey, Reports, RoleId, RuleSet, StaleReport, Team,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::CapabilityService;
use crate::error::ServiceError;
use crate::http::{as_of, params, person, person_named, reader, role_id, time_param};
use crate::ledger_store::LedgerStore;
use crate::model::Model;
use crate::report_csv::Csv;

/// How far ahead the stale report looks for reassessments when `horizon_days` is absent.
pub const DEFAULT_HORIZON_DAYS: f64 = 90.0;

/// The stale report of everyone holding a role at `as_of`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaleReports {
    pub as_of: DateTime<Utc>,
    pub horizon_days: Days,
    /// One report per person, in person key order.
    pub people: Vec<StaleReport>,
}

/// How a report is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

impl CapabilityService {
    /// The model and the ledger of `people` in the generation reports read. Before a first
    /// generation caught up the ledger is empty.
    async fn view(
        &self,
        tenant: crate::ports::Tenant,
        people: &[&PersonKey],
    ) -> Result<(Arc<Model>, Ledger), ServiceError> {
        let model = self.model(tenant).await?;
        let ledger = self.ledger(tenant, &model, people).await?;
        Ok((model, ledger))
    }

    /// The ledger of `people` in the generation reports read.
    async fn ledger(
        &self,
        tenant: crate::ports::Tenant,
        model: &Model,
        people: &[&PersonKey],
    ) -> Result<Ledger, ServiceError> {
        let rules = rules_or_none(model)?;
        let store = LedgerStore {
            records: self.inner.records.as_ref(),
            tenant,
        };
        let ledger = match store.cursor().await? {
            Some((cursor, _)) => match cursor.serving {
                Some(generation) => store.ledger_of(&generation, people, &rules).await?,
                None => Ledger::new(&rules),
            },
            None => Ledger::new(&rules),
        };
        Ok(ledger)
    }

    /// Every capability `person` has evidence for, assessed as of `as_of`.
    pub async fn assessments(
        &self,
        tenant: crate::ports::Tenant,
        person: &PersonKey,
        as_of: DateTime<Utc>,
    ) -> Result<Vec<Assessment>, ServiceError> {
        let (model, ledger) = self.view(tenant, &[person]).await?;
        let evaluator = Evaluator::new(&model.catalog, &model.config, &ledger);
        let mut out = Vec::new();
        for capability in ledger.capabilities_of(person) {
            // Evidence of a capability since dropped from the catalog, while the generation
            // derived before the change is still served.
            if model.catalog.capability(capability).is_err() {
                continue;
            }
            out.push(
                evaluator
                    .assess(person, capability, as_of)
                    .map_err(|e| ServiceError::engine(e, ""))?,
            );
        }
        Ok(out)
    }

    /// `person` against `role`, reading only that person's evidence.
    pub async fn gap(
        &self,
        tenant: crate::ports::Tenant,
        role: &RoleId,
        person: &PersonKey,
        as_of: DateTime<Utc>,
    ) -> Result<GapReport, ServiceError> {
        let (model, ledger) = self.view(tenant, &[person]).await?;
        model
            .roles
            .get(role)
            .map_err(|_| ServiceError::not_found("role"))?;
        reports(&model, &ledger)
            .gap_report(person, role, as_of)
            .map_err(|e| ServiceError::engine(e, ""))
    }

    /// `person` against the combined requirements of every role they hold at `as_of`.
    pub async fn person_report(
        &self,
        tenant: crate::ports::Tenant,
        person: &PersonKey,
        as_of: DateTime<Utc>,
    ) -> Result<GapReport, ServiceError> {
        let (model, ledger) = self.view(tenant, &[person]).await?;
        reports(&model, &ledger)
            .person_report(person, as_of)
            .map_err(|e| ServiceError::engine(e, ""))
    }

    /// The people holding `role` at `as_of` × its capabilities, reading only those people.
    pub async fn heatmap(
        &self,
        tenant: crate::ports::Tenant,
        role: &RoleId,
        as_of: DateTime<Utc>,
    ) -> Result<Heatmap, ServiceError> {
        let model = self.model(tenant).await?;
        model
            .roles
            .get(role)
            .map_err(|_| ServiceError::not_found("role"))?;
        let people = model.assignments.people_in(role, as_of);
        let ledger = self.ledger(tenant, &model, &people).await?;
        reports(&model, &ledger)
            .heatmap(&Team::Role { role: role.clone() }, as_of)
            .map_err(|e| ServiceError::engine(e, ""))
    }

    /// The people reporting to `manager` at `as_of` × the capabilities their roles require,
    /// reading only those people.
    pub async fn manager_heatmap(
        &self,
        tenant: crate::ports::Tenant,
        manager: &PersonKey,
        as_of: DateTime<Utc>,
    ) -> Result<Heatmap, ServiceError> {
        let model = self.model(tenant).await?;
        let people = model.assignments.reports_of(manager, as_of);
        let ledger = self.ledger(tenant, &model, &people).await?;
        let team = Team::People {
            people: model
                .assignments
                .reports_of(manager, as_of)
                .into_iter()
                .cloned()
                .collect(),
        };
        reports(&model, &ledger)
            .heatmap(&team, as_of)
            .map_err(|e| ServiceError::engine(e, ""))
    }

    /// `person`'s progression in `capability`, reading only that person's evidence.
    pub async fn progression(
        &self,
        tenant: crate::ports::Tenant,
        person: &PersonKey,
        capability: &CapabilityId,
        span: Span,
    ) -> Result<Progression, ServiceError> {
        let (model, ledger) = self.view(tenant, &[person]).await?;
        if model.catalog.capability(capability).is_err() {
            return Err(ServiceError::not_found("capability"));
        }
        reports(&model, &ledger)
            .progression(person, capability, span)
            .map_err(|e| ServiceError::engine(e, ""))
    }

    /// The names of `capabilities` in the tenant's catalog (the id when a capability has
    /// since left it), in the same order.
    pub async fn capability_names(
        &self,
        tenant: crate::ports::Tenant,
        capabilities: &[CapabilityId],
    ) -> Result<Vec<String>, ServiceError> {
        let model = self.model(tenant).await?;
        Ok(capabilities
            .iter()
            .map(|id| {
                model
                    .catalog
                    .capability(id)
                    .map_or_else(|_| id.to_string(), |c| c.name().to_owned())
            })
            .collect())
    }

    /// A role's name, for titles.
    pub async fn role_name(
        &self,
        tenant: crate::ports::Tenant,
        role: &RoleId,
    ) -> Result<String, ServiceError> {
        let model = self.model(tenant).await?;
        model
            .roles
            .get(role)
            .map(|r| r.name().to_owned())
            .map_err(|_| ServiceError::not_found("role"))
    }

    /// The stale report of `person`, or of everyone holding a role at `as_of` when `None`.
    pub async fn stale(
        &self,
        tenant: crate::ports::Tenant,
        person: Option<&PersonKey>,
        as_of: DateTime<Utc>,
        horizon: Days,
    ) -> Result<StaleReports, ServiceError> {
        let model = self.model(tenant).await?;
        let mut people: Vec<&PersonKey> = match person {
            Some(person) => vec![person],
            None => model
                .assignments
                .people()
                .into_iter()
                .filter(|p| !model.assignments.roles_of(p, as_of).is_empty())
                .collect(),
        };
        people.sort();
        people.dedup();
        let ledger = self.ledger(tenant, &model, &people).await?;
        let reports = reports(&model, &ledger);
        let mut out = Vec::with_capacity(people.len());
        for person in people {
            out.push(
                reports
                    .stale_report(person, as_of, horizon)
                    .map_err(|e| ServiceError::engine(e, ""))?,
            );
        }
        Ok(StaleReports {
            as_of,
            horizon_days: horizon,
            people: out,
        })
    }
}

/// The model's rules, or none (a ledger of a tenant without rules is empty).
pub fn rules_or_none(model: &Model) -> Result<RuleSet, ServiceError> {
    match &model.rules {
        Some(rules) => Ok(rules.clone()),
        None => {
            RuleSet::new(Vec::new(), &model.catalog).map_err(|e| ServiceError::engine(e, "rules"))
        }
    }
}

fn reports<'a>(model: &'a Model, ledger: &'a Ledger) -> Reports<'a> {
    Reports::new(
        Evaluator::new(&model.catalog, &model.config, ledger),
        &model.roles,
        &model.assignments,
    )
}

/// A heatmap as the JSON API serves it. Each cell carries its figures; the assessment behind
/// them (its explanation, some 3 KB a cell) only when `explain=true` asks for it: a gap or
/// person report explains one person, and a heatmap of hundreds of people with every
/// explanation runs to megabytes.
#[derive(Serialize)]
struct HeatmapJson<'a> {
    as_of: DateTime<Utc>,
    team: &'a Team,
    people: &'a [PersonKey],
    capabilities: &'a [CapabilityId],
    cells: Vec<Vec<CellJson<'a>>>,
}

#[derive(Serialize)]
struct CellJson<'a> {
    level: Option<Level>,
    evidence_level: Option<Level>,
    required: Option<Level>,
    gap: Option<i16>,
    confidence: f64,
    stale: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    assessment: Option<&'a Assessment>,
    /// Without the assessment, its date of the newest counted evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    last_evidence_at: Option<Option<DateTime<Utc>>>,
}

impl<'a> HeatmapJson<'a> {
    fn new(map: &'a Heatmap, explain: bool) -> HeatmapJson<'a> {
        let cell = |c: &'a HeatCell| CellJson {
            level: c.level,
            evidence_level: c.evidence_level,
            required: c.required,
            gap: c.gap,
            confidence: c.confidence,
            stale: c.stale,
            assessment: explain.then_some(&c.assessment),
            last_evidence_at: (!explain).then_some(c.assessment.last_evidence_at),
        };
        HeatmapJson {
            as_of: map.as_of,
            team: &map.team,
            people: &map.people,
            capabilities: &map.capabilities,
            cells: map
                .cells
                .iter()
                .map(|row| row.iter().map(cell).collect())
                .collect(),
        }
    }
}

/// `explain`: `true` to have each heatmap cell carry its assessment, `false` (the default).
fn explain(params: &HashMap<String, String>) -> Result<bool, ServiceError> {
    match params.get("explain").map(String::as_str) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ServiceError::invalid(
            "explain",
            "boolean",
            format!("explain is true or false, not {other}"),
        )),
    }
}

/// `format`: `json` (the default) or `csv`.
pub(crate) fn format(params: &HashMap<String, String>) -> Result<Format, ServiceError> {
    match params.get("format").map(String::as_str) {
        None | Some("json") => Ok(Format::Json),
        Some("csv") => Ok(Format::Csv),
        Some(other) => Err(ServiceError::invalid(
            "format",
            "report-format",
            format!("format is json or csv, not {other}"),
        )),
    }
}

/// The span of a progression: `from` and `to` (RFC 3339; `to` defaults to now) and `step`
/// (days between regular samples).
pub(crate) fn span(
    service: &CapabilityService,
    params: &HashMap<String, String>,
) -> Result<Span, ServiceError> {
    let from = time_param(params, "from")?;
    let to = time_param(params, "to")?.unwrap_or_else(|| service.now());
    let step = match params.get("step") {
        None => None,
        Some(text) => {
            let days = text.parse::<f64>().map_err(|_| {
                ServiceError::invalid(
                    "step",
                    "days",
                    format!("step is a number of days, not {text}"),
                )
            })?;
            Some(
                Days::new(days)
                    .map_err(|e| ServiceError::invalid("step", e.rule(), e.message().to_owned()))?,
            )
        }
    };
    Ok(Span { from, to, step })
}

/// `capability`: a capability id of the tenant's catalog.
pub(crate) fn capability(params: &HashMap<String, String>) -> Result<CapabilityId, ServiceError> {
    let Some(text) = params.get("capability") else {
        return Err(ServiceError::invalid(
            "capability",
            "required",
            "capability is required",
        ));
    };
    CapabilityId::parse(text.as_str())
        .map_err(|e| ServiceError::invalid("capability", e.rule(), e.message().to_owned()))
}

/// `horizon_days`: a non-negative number of days.
fn horizon(params: &HashMap<String, String>) -> Result<Days, ServiceError> {
    let days = match params.get("horizon_days") {
        None => DEFAULT_HORIZON_DAYS,
        Some(text) => text.parse::<f64>().map_err(|_| {
            ServiceError::invalid(
                "horizon_days",
                "days",
                format!("horizon_days is a number of days, not {text}"),
            )
        })?,
    };
    Days::new(days)
        .map_err(|e| ServiceError::invalid("horizon_days", e.rule(), e.message().to_owned()))
}

pub(crate) async fn assessments(
    State(service): State<CapabilityService>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ServiceError> {
    let caller = reader(&service, &headers).await?;
    let params = params(query)?;
    let person = person(&params)?;
    let as_of = as_of(&service, &params)?;
    let assessments = service.assessments(caller.tenant, &person, as_of).await?;
    Ok(Json(json!({
        "person": person,
        "as_of": as_of,
        "assessments": assessments,
    }))
    .into_response())
}

pub(crate) async fn gap(
    State(service): State<CapabilityService>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ServiceError> {
    let caller = reader(&service, &headers).await?;
    let params = params(query)?;
    let format = format(&params)?;
    let person = person(&params)?;
    let as_of = as_of(&service, &params)?;
    let role = role_id(id)?;
    let report = service.gap(caller.tenant, &role, &person, as_of).await?;
    Ok(match format {
        Format::Json => Json(report).into_response(),
        Format::Csv => Csv::gap(&report).into_response(),
    })
}

pub(crate) async fn person_report(
    State(service): State<CapabilityService>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ServiceError> {
    let caller = reader(&service, &headers).await?;
    let params = params(query)?;
    let format = format(&params)?;
    let person = person(&params)?;
    let as_of = as_of(&service, &params)?;
    let report = service.person_report(caller.tenant, &person, as_of).await?;
    Ok(match format {
        Format::Json => Json(report).into_response(),
        Format::Csv => Csv::gap(&report).into_response(),
    })
}

pub(crate) async fn heatmap(
    State(service): State<CapabilityService>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ServiceError> {
    let caller = reader(&service, &headers).await?;
    let params = params(query)?;
    let format = format(&params)?;
    let as_of = as_of(&service, &params)?;
    let role = role_id(id)?;
    let explain = explain(&params)?;
    let map = service.heatmap(caller.tenant, &role, as_of).await?;
    Ok(match format {
        Format::Json => Json(HeatmapJson::new(&map, explain)).into_response(),
        Format::Csv => Csv::heatmap(&map).into_response(),
    })
}

pub(crate) async fn stale(
    State(service): State<CapabilityService>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ServiceError> {
    let caller = reader(&service, &headers).await?;
    let params = params(query)?;
    let format = format(&params)?;
    let person = match params.contains_key("agent") {
        true => Some(person(&params)?),
        false => None,
    };
    let as_of = as_of(&service, &params)?;
    let horizon = horizon(&params)?;
    let reports = service
        .stale(caller.tenant, person.as_ref(), as_of, horizon)
        .await?;
    Ok(match format {
        Format::Json => Json(reports).into_response(),
        Format::Csv => Csv::stale(&reports).into_response(),
    })
}

pub(crate) async fn manager_heatmap(
    State(service): State<CapabilityService>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ServiceError> {
    let caller = reader(&service, &headers).await?;
    let params = params(query)?;
    let format = format(&params)?;
    let manager = person_named(&params, "manager")?;
    let as_of = as_of(&service, &params)?;
    let explain = explain(&params)?;
    let map = service
        .manager_heatmap(caller.tenant, &manager, as_of)
        .await?;
    Ok(match format {
        Format::Json => Json(HeatmapJson::new(&map, explain)).into_response(),
        Format::Csv => Csv::heatmap(&map).into_response(),
    })
}

pub(crate) async fn progression(
    State(service): State<CapabilityService>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ServiceError> {
    let caller = reader(&service, &headers).await?;
    let params = params(query)?;
    let format = format(&params)?;
    let person = person_named(&params, "person")?;
    let capability = capability(&params)?;
    let span = span(&service, &params)?;
    let progression = service
        .progression(caller.tenant, &person, &capability, span)
        .await?;
    Ok(match format {
        Format::Json => Json(progression).into_response(),
        Format::Csv => Csv::progression(&progression).into_response(),
    })
}
