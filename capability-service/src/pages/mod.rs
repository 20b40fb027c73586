//! Report pages for people, not programs: a role's or a manager's heatmap, a person's gaps
//! against a role and a person's progression in a capability, as server-rendered HTML with inline SVG and a data table of
//! the same figures. No script runs; every page carries a strict Content Security Policy and
//! is read with the same credentials as the JSON reports (a browser asks for them through
//! HTTP Basic).

mod html;
mod svg;
#[cfg(test)]
mod tests;

use std::fmt::Write as _;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use capability_engine::report::Progression;
use capability_engine::{Contribution, CountsAs, GapReport, Heatmap, RoleId};

use crate::CapabilityService;
use crate::error::ServiceError;
use crate::http::{as_of, params, person_named, reader, role_id};
use crate::reports::{capability, span};

use html::{date, document, escape, gap_link, level_text, link, progression_link, segment, time};

/// The policy of every page: nothing but the stylesheet from this origin; no script, no
/// inline style, no framing (CSP Level 3).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const STYLESHEET: &str = include_str!("report.css");

/// The page routes, merged into the capability router.
pub fn router() -> Router<CapabilityService> {
    Router::new()
        .route(html::STYLESHEET, get(stylesheet))
        .route("/capabilities/pages/roles/{id}/heatmap", get(role_heatmap))
        .route("/capabilities/pages/roles/{id}/gap", get(role_gap))
        .route("/capabilities/pages/managers/heatmap", get(manager_heatmap))
        .route(
            "/capabilities/pages/people/progression",
            get(person_progression),
        )
}

/// How long an answer of the page routes may be kept.
#[derive(Debug, Clone, Copy)]
enum Keep {
    /// Figures about named people, or an error about them: not to be kept by shared caches
    /// or the history.
    Never,
    /// The stylesheet: the same for every tenant.
    Public,
}

/// The security headers on a page, an error or the stylesheet: one set, so that no answer
/// goes without.
fn secured(mut response: Response, keep: Keep) -> Response {
    let headers = response.headers_mut();
    let cache = match keep {
        Keep::Never => "no-store",
        Keep::Public => "public, max-age=3600",
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn page(result: Result<String, ServiceError>) -> Response {
    let response = match result {
        Ok(body) => Html(body).into_response(),
        Err(error) => error.into_response(),
    };
    secured(response, Keep::Never)
}

/// Public: it holds no tenant data, and a stylesheet request may come without the page's
/// credentials (they are scoped to the page's path).
async fn stylesheet() -> Response {
    let mut response = STYLESHEET.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    secured(response, Keep::Public)
}

async fn role_heatmap(
    State(service): State<CapabilityService>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    page(role_heatmap_page(&service, id, &headers, query).await)
}

async fn role_heatmap_page(
    service: &CapabilityService,
    id: String,
    headers: &HeaderMap,
    query: Option<String>,
) -> Result<String, ServiceError> {
    let caller = reader(service, headers).await?;
    let params = params(query)?;
    let as_of = as_of(service, &params)?;
    let role = role_id(id)?;
    let map = service.heatmap(caller.tenant, &role, as_of).await?;
    let names = service
        .capability_names(caller.tenant, &map.capabilities)
        .await?;
    let role_name = service.role_name(caller.tenant, &role).await?;
    let title = format!("{role_name}: people × capabilities");
    let data = link(
        &format!("/capabilities/roles/{}/heatmap", segment(role.as_str())),
        &[("as_of", &time(as_of))],
    );
    Ok(heatmap_page(&map, &names, &title, &data, Some(&role)))
}

async fn role_gap(
    State(service): State<CapabilityService>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    page(role_gap_page(&service, id, &headers, query).await)
}

async fn role_gap_page(
    service: &CapabilityService,
    id: String,
    headers: &HeaderMap,
    query: Option<String>,
) -> Result<String, ServiceError> {
    let caller = reader(service, headers).await?;
    let params = params(query)?;
    let person = person_named(&params, "person")?;
    let as_of = as_of(service, &params)?;
    let role = role_id(id)?;
    let report = service.gap(caller.tenant, &role, &person, as_of).await?;
    let role_name = service.role_name(caller.tenant, &role).await?;
    let data = link(
        &format!("/capabilities/roles/{}/gap", segment(role.as_str())),
        &[("agent", person.as_str()), ("as_of", &time(as_of))],
    );
    Ok(gap_page(&report, &role, &role_name, &data))
}

async fn manager_heatmap(
    State(service): State<CapabilityService>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    page(manager_heatmap_page(&service, &headers, query).await)
}

async fn manager_heatmap_page(
    service: &CapabilityService,
    headers: &HeaderMap,
    query: Option<String>,
) -> Result<String, ServiceError> {
    let caller = reader(service, headers).await?;
    let params = params(query)?;
    let manager = person_named(&params, "manager")?;
    let as_of = as_of(service, &params)?;
    let map = service
        .manager_heatmap(caller.tenant, &manager, as_of)
        .await?;
    let names = service
        .capability_names(caller.tenant, &map.capabilities)
        .await?;
    let title = format!("Reports of {manager}: people × capabilities");
    let data = link(
        "/capabilities/managers/heatmap",
        &[("manager", manager.as_str()), ("as_of", &time(as_of))],
    );
    Ok(heatmap_page(&map, &names, &title, &data, None))
}

async fn person_progression(
    State(service): State<CapabilityService>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    page(progression_page_of(&service, &headers, query).await)
}

async fn progression_page_of(
    service: &CapabilityService,
    headers: &HeaderMap,
    query: Option<String>,
) -> Result<String, ServiceError> {
    let caller = reader(service, headers).await?;
    let params = params(query)?;
    let person = person_named(&params, "person")?;
    let capability = capability(&params)?;
    let span = span(service, &params)?;
    let progression = service
        .progression(caller.tenant, &person, &capability, span)
        .await?;
    let mut pairs = vec![
        ("person", person.as_str().to_owned()),
        ("capability", capability.to_string()),
        ("to", time(progression.to)),
    ];
    if let Some(from) = span.from {
        pairs.push(("from", time(from)));
    }
    if let Some(step) = span.step {
        pairs.push(("step", step.get().to_string()));
    }
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let data = link("/capabilities/people/progression", &pairs);
    Ok(progression_page(&progression, &data))
}

/// The heatmap page: the chart, then a table of the same figures (what a screen reader
/// reads, and what one copies into a review), then links to the JSON and CSV. On a role's
/// heatmap each person links to their gap page against the role.
pub fn heatmap_page(
    map: &Heatmap,
    names: &[String],
    title: &str,
    data: &str,
    role: Option<&RoleId>,
) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>{}</h1>\n<p class=\"as-of\">As of <time datetime=\"{}\">{}</time>. Each cell \
         links to the person's progression in the capability.</p>\n<figure class=\"chart\">{}\
         </figure>\n",
        escape(title),
        escape(&time(map.as_of)),
        escape(&time(map.as_of)),
        svg::heatmap(svg::HeatmapChart {
            map,
            names,
            title,
            role
        }),
    );
    let _ = write!(
        body,
        "<table class=\"figures\">\n<caption>{} — achieved / required, confidence</caption>\n\
         <thead><tr><th scope=\"col\">Person</th>",
        escape(title),
    );
    for (capability, name) in map.capabilities.iter().zip(names) {
        let _ = write!(
            body,
            "<th scope=\"col\"><abbr title=\"{}\">{}</abbr></th>",
            escape(capability.as_str()),
            escape(name),
        );
    }
    body.push_str("</tr></thead>\n<tbody>\n");
    for (person, cells) in map.people.iter().zip(&map.cells) {
        let label = match role {
            Some(role) => format!(
                "<a href=\"{}\">{}</a>",
                escape(&gap_link(role.as_str(), person.as_str(), map.as_of)),
                escape(person.as_str())
            ),
            None => escape(person.as_str()),
        };
        let _ = write!(body, "<tr><th scope=\"row\">{label}</th>");
        for (capability, cell) in map.capabilities.iter().zip(cells) {
            let status = svg::CellStatus::of(cell);
            let _ = write!(
                body,
                "<td class=\"{}{}\"><a href=\"{}\">{}</a> <span class=\"confidence\">{:.2}</span>\
                 <span class=\"status\">{}{}</span></td>",
                status.class(),
                if cell.stale { " stale" } else { "" },
                escape(&progression_link(
                    person.as_str(),
                    capability.as_str(),
                    map.as_of
                )),
                escape(&svg::cell_text(cell)),
                cell.confidence,
                status.label(),
                if cell.stale { ", stale" } else { "" },
            );
        }
        body.push_str("</tr>\n");
    }
    body.push_str("</tbody>\n</table>\n");
    data_links(&mut body, data);
    document(title, &body)
}

/// The progression page: the chart, a table of its points, and the explanation of the
/// latest assessment (the evidence counted, its weights and rules, and each level's sums).
pub fn progression_page(progression: &Progression, data: &str) -> String {
    let title = format!(
        "{} in {} ({})",
        progression.person, progression.name, progression.capability
    );
    let latest = &progression.latest;
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>{}</h1>\n<p class=\"summary\">On <time datetime=\"{}\">{}</time>: level \
         <strong class=\"latest-level\">{}</strong> (evidence {}, self {}, manager {}), \
         confidence {:.2}{}; last evidence {}.</p>\n<figure class=\"chart\">{}</figure>\n",
        escape(&title),
        escape(&time(progression.to)),
        escape(&date(progression.to)),
        level_text(latest.level),
        level_text(latest.evidence_level),
        level_text(latest.self_rating.as_ref().and_then(|r| r.level)),
        level_text(latest.manager_rating.as_ref().and_then(|r| r.level)),
        latest.confidence,
        if latest.stale { ", stale" } else { "" },
        latest
            .last_evidence_at
            .map_or_else(|| "none".to_owned(), date),
        svg::progression(progression, &title),
    );
    body.push_str(
        "<table class=\"points\">\n<caption>Changes over time</caption>\n<thead><tr>\
         <th scope=\"col\">Date</th><th scope=\"col\">Level</th><th scope=\"col\">Evidence</th>\
         <th scope=\"col\">Self</th><th scope=\"col\">Manager</th>\
         <th scope=\"col\">Confidence</th><th scope=\"col\">Stale</th></tr></thead>\n<tbody>\n",
    );
    for p in &progression.points {
        let _ = writeln!(
            body,
            "<tr><td><time datetime=\"{}\">{}</time></td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{:.2}</td><td>{}</td></tr>",
            escape(&time(p.at)),
            escape(&date(p.at)),
            level_text(p.level),
            level_text(p.evidence_level),
            level_text(p.self_level),
            level_text(p.manager_level),
            p.confidence,
            if p.stale { "yes" } else { "no" },
        );
    }
    body.push_str("</tbody>\n</table>\n");

    let _ = writeln!(
        body,
        "<h2>Evidence on {}</h2>",
        escape(&date(progression.to))
    );
    evidence_table(
        &mut body,
        "Each item counted, its rule and weights",
        &latest.explanation.contributions,
        "No evidence counted at this date.",
    );

    body.push_str(
        "<table class=\"levels\">\n<caption>Each level: support against contrary evidence and \
         the threshold</caption>\n<thead><tr><th scope=\"col\">Level</th>\
         <th scope=\"col\">Support</th><th scope=\"col\">Contrary</th><th scope=\"col\">Net</th>\
         <th scope=\"col\">Threshold</th><th scope=\"col\">Gates met</th>\
         <th scope=\"col\">Reached</th></tr></thead>\n<tbody>\n",
    );
    for l in &latest.explanation.levels {
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{}</td>\
             <td>{}</td></tr>",
            l.level,
            l.support,
            l.contrary,
            l.net,
            l.threshold,
            if l.gates_met { "yes" } else { "no" },
            if l.reached { "yes" } else { "no" },
        );
    }
    body.push_str("</tbody>\n</table>\n");
    data_links(&mut body, data);
    document(&title, &body)
}

/// The gap page: the person and role, the bars, a table of the same figures as the JSON gap
/// report, then each requirement's explanation (the statements counted, their rules and
/// weights).
pub fn gap_page(report: &GapReport, role: &RoleId, role_name: &str, data: &str) -> String {
    let title = format!("{} against {} ({})", report.person, role_name, role);
    let met = report.rows.iter().filter(|r| r.met).count();
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>{}</h1>\n<p class=\"summary\">On <time datetime=\"{}\">{}</time>: {} of {} \
         requirements met, fit <strong class=\"fit\">{:.2}</strong>, essential gaps \
         <strong class=\"essential-gaps\">{}</strong>{}. Each capability links to the person's \
         progression in it.</p>\n<figure class=\"chart\">{}</figure>\n",
        escape(&title),
        escape(&time(report.as_of)),
        escape(&date(report.as_of)),
        met,
        report.rows.len(),
        report.fit,
        report.essential_gaps,
        if report.assigned {
            ""
        } else {
            "; the person does not hold the role at this date"
        },
        svg::gap(report, &title),
    );
    body.push_str(
        "<table class=\"figures gap\">\n<caption>Each requirement: achieved against required, \
         the levels behind it, confidence and the last evidence</caption>\n<thead><tr>\
         <th scope=\"col\">Capability</th><th scope=\"col\">Criticality</th>\
         <th scope=\"col\">Required</th><th scope=\"col\">Achieved</th>\
         <th scope=\"col\">Gap</th><th scope=\"col\">Status</th>\
         <th scope=\"col\">Evidence</th><th scope=\"col\">Self</th>\
         <th scope=\"col\">Manager</th><th scope=\"col\">Confidence</th>\
         <th scope=\"col\">Last evidence</th><th scope=\"col\">Explanation</th></tr></thead>\n\
         <tbody>\n",
    );
    for (i, row) in report.rows.iter().enumerate() {
        let status = svg::CellStatus::of_row(row);
        let _ = writeln!(
            body,
            "<tr class=\"{}{}\" data-capability=\"{}\"><th scope=\"row\"><a href=\"{}\">{}</a> \
             <code>{}</code></th><td>{}</td><td class=\"required\">{}</td>\
             <td class=\"achieved\">{}</td><td class=\"gap\">{}</td>\
             <td class=\"{}{}\">{}{}</td><td class=\"evidence\">{}</td>\
             <td class=\"self\">{}</td><td class=\"manager\">{}</td>\
             <td class=\"confidence\"><data value=\"{}\">{:.2}</data></td>\
             <td class=\"last-evidence\">{}</td><td><a href=\"#explanation-{i}\">{} counted</a>\
             </td></tr>",
            status.class(),
            if row.stale { " stale" } else { "" },
            escape(row.capability.as_str()),
            escape(&progression_link(
                report.person.as_str(),
                row.capability.as_str(),
                report.as_of
            )),
            escape(&row.name),
            escape(row.capability.as_str()),
            name(&row.criticality),
            row.required,
            level_text(row.achieved),
            row.gap,
            status.class(),
            if row.stale { " stale" } else { "" },
            status.label(),
            if row.stale { ", stale" } else { "" },
            level_text(row.evidence_level),
            level_text(row.self_level),
            level_text(row.manager_level),
            row.confidence,
            row.confidence,
            row.last_evidence_at.map_or_else(
                || "none".to_owned(),
                |at| format!(
                    "<time datetime=\"{}\">{}</time>",
                    escape(&time(at)),
                    escape(&date(at))
                )
            ),
            row.assessment.explanation.contributions.len(),
        );
    }
    if report.rows.is_empty() {
        body.push_str("<tr><td colspan=\"12\">The role requires nothing at this date.</td></tr>\n");
    }
    body.push_str("</tbody>\n</table>\n");
    for (i, row) in report.rows.iter().enumerate() {
        let _ = writeln!(
            body,
            "<h2 id=\"explanation-{i}\">Why {} is at {}</h2>",
            escape(&row.name),
            match row.achieved {
                Some(level) => format!("level {level}"),
                None => "no level".to_owned(),
            },
        );
        evidence_table(
            &mut body,
            &format!(
                "{} ({}): each item counted, its rule and weights",
                row.name, row.capability
            ),
            &row.assessment.explanation.contributions,
            "No evidence counted at this date.",
        );
    }
    data_links(&mut body, data);
    document(&title, &body)
}

/// The contributions of an assessment: each statement counted, its rule and version, rater,
/// level, polarity and weights. `caption` is plain text.
fn evidence_table(body: &mut String, caption: &str, contributions: &[Contribution], none: &str) {
    let _ = write!(
        body,
        "<table class=\"evidence\">\n<caption>{}</caption>\n<thead><tr>\
         <th scope=\"col\">Observed</th>\
         <th scope=\"col\">Statement</th><th scope=\"col\">Rule</th>\
         <th scope=\"col\">Capability</th><th scope=\"col\">Rater</th>\
         <th scope=\"col\">Level</th><th scope=\"col\">Polarity</th>\
         <th scope=\"col\">Weight</th><th scope=\"col\">Decay</th>\
         <th scope=\"col\">Effective weight</th><th scope=\"col\">Counts as</th></tr></thead>\n\
         <tbody>\n",
        escape(caption),
    );
    for c in contributions {
        let _ = writeln!(
            body,
            "<tr><td><time datetime=\"{}\">{}</time></td><td><code>{}</code></td>\
             <td><code>{}@{}</code></td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td>\
             <td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{}</td></tr>",
            escape(&time(c.observed_at)),
            escape(&date(c.observed_at)),
            c.statement,
            escape(c.rule.id.as_str()),
            c.rule.version,
            escape(c.capability.as_str()),
            escape(c.rater.class.as_str()),
            c.rater
                .agent
                .as_ref()
                .map_or_else(String::new, |a| format!(" ({})", escape(a.as_str()))),
            c.level,
            name(&c.polarity),
            c.weight,
            c.decay,
            c.effective_weight,
            match c.counts_as {
                CountsAs::Evidence => "evidence",
                CountsAs::RatingOnly => "rating only",
            },
        );
    }
    if contributions.is_empty() {
        let _ = writeln!(body, "<tr><td colspan=\"11\">{}</td></tr>", escape(none));
    }
    body.push_str("</tbody>\n</table>\n");
}

fn data_links(body: &mut String, data: &str) {
    let json = escape(data);
    let csv = escape(&format!(
        "{data}{}format=csv",
        if data.contains('?') { "&" } else { "?" }
    ));
    let _ = writeln!(
        body,
        "<p class=\"data\">The same figures as <a href=\"{json}\">JSON</a> or \
         <a href=\"{csv}\">CSV</a>.</p>"
    );
}

/// A unit enum's name as it serialises (`supporting`, `contrary`).
fn name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => escape(&text),
        _ => String::new(),
    }
}
