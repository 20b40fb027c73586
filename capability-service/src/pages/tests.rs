//! The pages' pure parts (escaping, colours, coordinates) against hand-worked values, and the
//! manager heatmap, the progression and the pages over HTTP on the fixture organisation,
//! against the engine.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use capability_engine::fixture::{self, Organisation};
use capability_engine::report::{Progression, ProgressionPoint, Span};
use capability_engine::{
    Assignment, Assignments, CapabilityId, Evaluator, HeatCell, Heatmap, Ledger, Level, PersonKey,
    Reports, Team,
};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use tower::ServiceExt as _;

use super::html::{escape, link, segment, shorten};
use super::svg::{self, CellStatus, Plot, Series};
use crate::ports::*;
use crate::tests::MemoryRecords;
use crate::{CapabilityService, Ports};

// ---------------------------------------------------------------- pure parts

#[test]
fn text_is_escaped_for_nodes_and_attributes() {
    fn check(text: &str, expected: &str) {
        assert_eq!(escape(text), expected, "{text:?}");
    }
    check("plain", "plain");
    check(
        "<script>alert('x')</script>",
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;",
    );
    check("a & b \"c\"", "a &amp; b &quot;c&quot;");
    check("&amp;", "&amp;amp;");
    check("Zoë ✓", "Zoë ✓");
}

#[test]
fn links_encode_their_parts() {
    assert_eq!(segment("team-lead_2.x~"), "team-lead_2.x~");
    assert_eq!(segment("a/b?c#d é"), "a%2Fb%3Fc%23d%20%C3%A9");
    assert_eq!(
        link(
            "/p",
            &[("person", "account:https://x.example|a&b"), ("n", "1 2")]
        ),
        "/p?person=account%3Ahttps%3A%2F%2Fx.example%7Ca%26b&n=1+2"
    );
    assert_eq!(link("/p", &[]), "/p");
    assert_eq!(shorten("abcdef", 6), "abcdef");
    assert_eq!(shorten("abcdefg", 6), "abcde…");
}

fn at(text: &str) -> DateTime<Utc> {
    fixture::at(text)
}

/// A cell of `ana` in `CODE` with the figures given; `evidence` says whether anything counted.
fn cell(level: Option<u8>, required: Option<u8>, evidence: bool, stale: bool) -> HeatCell {
    let org = Organisation::personas();
    let ledger = Ledger::new(&org.rules);
    let mut assessment = Evaluator::new(&org.catalog, &org.config, &ledger)
        .assess(&key(fixture::ANA), &cap("CODE"), org.as_of)
        .unwrap();
    let level = level.map(|n| Level::new(n).unwrap());
    let required = required.map(|n| Level::new(n).unwrap());
    assessment.level = level;
    assessment.stale = stale;
    assessment.confidence = if evidence { 0.625 } else { 0.0 };
    assessment.last_evidence_at = evidence.then(|| at("2026-03-04T05:06:07Z"));
    HeatCell {
        level,
        evidence_level: level,
        required,
        gap: required.map(|r| i16::from(r.get()) - i16::from(level.map_or(0, Level::get))),
        confidence: assessment.confidence,
        stale,
        assessment,
    }
}

fn key(text: &str) -> PersonKey {
    PersonKey::parse(text).unwrap()
}

fn cap(text: &str) -> CapabilityId {
    CapabilityId::parse(text).unwrap()
}

#[test]
fn cells_are_coloured_by_their_gap() {
    fn check(cell: HeatCell, expected: CellStatus) {
        assert_eq!(CellStatus::of(&cell), expected, "{:?}", cell.gap);
    }
    check(cell(Some(3), Some(3), true, false), CellStatus::Met);
    check(cell(Some(4), Some(3), true, false), CellStatus::Met);
    check(cell(Some(2), Some(3), true, false), CellStatus::Below);
    check(cell(None, Some(3), true, false), CellStatus::Below);
    check(cell(None, Some(3), false, false), CellStatus::NoEvidence);
    check(cell(Some(2), None, true, false), CellStatus::NotRequired);
    check(cell(None, None, false, false), CellStatus::NotRequired);
    let fills: std::collections::BTreeSet<_> = CellStatus::ALL.iter().map(|s| s.fill()).collect();
    assert_eq!(fills.len(), 4, "each status has its own colour");

    let tooltip = svg::cell_tooltip("ana", "CODE", "Coding", &cell(Some(2), Some(3), true, true));
    assert_eq!(
        tooltip,
        "ana — Coding (CODE): achieved 2 of required 3; below the requirement; confidence 0.62; \
         last evidence 2026-03-04; stale (every item past its half-life)"
    );
    assert_eq!(svg::cell_text(&cell(None, Some(3), false, false)), "– / 3");
}

const HOSTILE: &str = "account:https://hr.example.org|<script>alert(1)</script>";

fn hand_heatmap() -> Heatmap {
    Heatmap {
        as_of: at("2026-07-01T00:00:00Z"),
        team: Team::People {
            people: vec![key(HOSTILE), key(fixture::ANA)],
        },
        people: vec![key(HOSTILE), key(fixture::ANA)],
        capabilities: vec![cap("CODE"), cap("TEST"), cap("OPS")],
        cells: vec![
            vec![
                cell(Some(3), Some(3), true, false),
                cell(Some(1), Some(3), true, true),
                cell(None, Some(2), false, false),
            ],
            vec![
                cell(None, None, false, false),
                cell(Some(4), Some(3), true, false),
                cell(Some(2), Some(2), true, false),
            ],
        ],
    }
}

#[test]
fn the_heatmap_has_a_linked_cell_per_person_and_capability_and_escapes_names() {
    let map = hand_heatmap();
    let names = vec![
        "Coding".to_owned(),
        "<b>Testing</b>".to_owned(),
        "Ops & run".to_owned(),
    ];
    let out = svg::heatmap(svg::HeatmapChart {
        map: &map,
        names: &names,
        title: "Team <x>",
        role: None,
    });
    assert!(out.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(out.contains("role=\"img\""));
    assert!(out.contains("<title id=\"heatmap-title\">Team &lt;x&gt;</title>"));
    assert!(out.contains("<desc id=\"heatmap-desc\">2 people by 3 capabilities"));
    assert_eq!(out.matches("<a class=\"cell ").count(), 6);
    for status in CellStatus::ALL {
        assert!(
            out.contains(&format!("class=\"cell {}", status.class())),
            "{status:?}"
        );
    }
    // One stale cell: its class, dashed border and corner mark.
    assert_eq!(out.matches("class=\"cell below stale\"").count(), 1);
    assert_eq!(out.matches("class=\"stale-mark\"").count(), 1);
    // Names never reach the markup as tags.
    assert!(!out.contains("<script>") && !out.contains("<b>"));
    assert!(out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(out.contains("&lt;b&gt;Testing&lt;/b&gt;"));
    assert!(out.contains("Ops &amp; run"));
    // The link of the hostile person's first cell: the query encoded, then escaped.
    let href = escape(&super::html::progression_link(HOSTILE, "CODE", map.as_of));
    assert!(href.contains("person=account%3Ahttps%3A%2F%2Fhr.example.org%7C%3Cscript%3E"));
    assert!(href.contains("&amp;capability=CODE&amp;to=2026-07-01T00%3A00%3A00Z"));
    assert!(out.contains(&format!("href=\"{href}\"")));
    // The legend names every status.
    for status in CellStatus::ALL {
        assert!(out.contains(status.label()), "{status:?}");
    }
}

#[test]
fn an_empty_heatmap_says_so() {
    let map = Heatmap {
        people: Vec::new(),
        cells: Vec::new(),
        team: Team::People { people: Vec::new() },
        ..hand_heatmap()
    };
    let out = svg::heatmap(svg::HeatmapChart {
        map: &map,
        names: &[],
        title: "Nobody",
        role: None,
    });
    assert_eq!(out.matches("<a class=\"cell ").count(), 0);
    assert!(out.contains("No one to show"));
}

fn point(at_text: &str, level: Option<u8>) -> ProgressionPoint {
    ProgressionPoint {
        at: at(at_text),
        level: level.map(|n| Level::new(n).unwrap()),
        evidence_level: level.map(|n| Level::new(n).unwrap()),
        self_level: None,
        manager_level: None,
        confidence: 0.5,
        stale: false,
    }
}

#[test]
fn progression_points_are_placed_by_date_and_level() {
    let plot = Plot {
        from: at("2026-01-01T00:00:00Z"),
        to: at("2026-01-11T00:00:00Z"),
        top_level: 5,
    };
    // The plot runs from x 80 to 736 (760 less margins of 80 and 24) and from y 250 (no
    // level; 340 less a bottom margin of 90) up to 20 (level 5): 46 a level.
    let points = [
        point("2026-01-01T00:00:00Z", None),
        point("2026-01-06T00:00:00Z", Some(2)),
        point("2026-01-11T00:00:00Z", Some(5)),
    ];
    assert_eq!(
        svg::series_points(&plot, &points, Series::Achieved),
        [(80.0, 250.0), (408.0, 158.0), (736.0, 20.0)]
    );
    assert_eq!(
        svg::step_path(&[(80.0, 250.0), (408.0, 158.0), (736.0, 20.0)]),
        "M80.0 250.0H408.0V158.0H736.0V20.0"
    );
    // Outside the span is clamped; a span of one instant sits in the middle.
    assert_eq!(plot.x(at("2025-01-01T00:00:00Z")), 80.0);
    let instant = Plot {
        to: plot.from,
        ..plot
    };
    assert_eq!(instant.x(plot.from), 408.0);
    assert_eq!(svg::date_ticks(&instant), [plot.from]);
    assert_eq!(svg::date_ticks(&plot).len(), 5);
    assert_eq!(svg::date_ticks(&plot)[4], plot.to);
}

fn fixture_progression(capability: &str, to: DateTime<Utc>) -> Progression {
    let org = Organisation::personas();
    let ledger = org.ledger();
    org.reports(&ledger)
        .progression(
            &key(fixture::ANA),
            &cap(capability),
            Span {
                from: None,
                to,
                step: None,
            },
        )
        .unwrap()
}

#[test]
fn the_progression_chart_has_a_marker_per_point_ending_at_the_latest_level() {
    let progression = fixture_progression("CODE", fixture::at(fixture::AS_OF));
    assert!(progression.points.len() >= 2, "{:?}", progression.points);
    let out = svg::progression(&progression, "Ana <in> code");
    assert!(out.contains("role=\"img\""));
    assert!(out.contains("<title id=\"progression-title\">Ana &lt;in&gt; code</title>"));
    assert_eq!(
        out.matches("<circle class=\"point\"").count(),
        progression.points.len()
    );
    assert_eq!(out.matches("class=\"series achieved\"").count(), 1);
    let plot = Plot::of(&progression);
    let last = progression.points.last().unwrap();
    assert_eq!(last.level, progression.latest.level);
    let marker = format!(
        "cx=\"{:.1}\" cy=\"{:.1}\"",
        plot.x(last.at),
        plot.y(last.level)
    );
    assert!(out.contains(&marker), "{marker} in {out}");
    // A y label per defined level plus "none".
    assert_eq!(
        out.matches("dominant-baseline=\"middle\" fill=\"#3c4043\">level ")
            .count(),
        progression.levels.len()
    );
}

#[test]
fn the_progression_page_explains_the_latest_assessment() {
    let progression = fixture_progression("CODE", fixture::at(fixture::AS_OF));
    let page = super::progression_page(&progression, "/data?x=1");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(!page.contains("<script") && !page.contains("style="));
    assert!(
        page.contains("<link rel=\"stylesheet\" href=\"/capabilities/pages/assets/report.css\">")
    );
    let rows = page.matches("<tr><td><time").count();
    assert_eq!(
        rows,
        progression.points.len() + progression.latest.explanation.contributions.len(),
        "a row per point and per contribution"
    );
    for c in &progression.latest.explanation.contributions {
        assert!(page.contains(&c.statement.to_string()));
        assert!(page.contains(&format!("{}@{}", c.rule.id, c.rule.version)));
    }
    assert!(page.contains("href=\"/data?x=1&amp;format=csv\""));
}

// ---------------------------------------------------------------- over HTTP

/// The fixture's statements, all visible at once.
struct FixtureSource(Vec<Value>);

#[async_trait]
impl StatementSource for FixtureSource {
    async fn after(
        &self,
        _tenant: Tenant,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Batch, PortError> {
        let from: usize = cursor.as_deref().map_or(0, |c| c.parse().unwrap());
        let to = (from + limit).min(self.0.len());
        Ok(Batch {
            statements: self.0[from..to].to_vec(),
            cursor: Some(to.to_string()),
            more: to < self.0.len(),
        })
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, PortError> {
        Ok(vec![TENANT])
    }
}

struct OneKey;

#[async_trait]
impl Authority for OneKey {
    async fn authorize(&self, authorization: Option<&str>) -> Result<Caller, AuthFailure> {
        match authorization {
            Some(AUTH) => Ok(Caller {
                tenant: TENANT,
                manage: true,
                read: true,
            }),
            _ => Err(AuthFailure::Unauthenticated),
        }
    }
}

const TENANT: Tenant = Tenant(7);
const AUTH: &str = "Basic pages";

struct Harness {
    service: CapabilityService,
    org: Organisation,
    /// The fixture's assignments with Max as the manager of Ana's and Bo's.
    assignments: Assignments,
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }
}

/// The fixture organisation put through the API and synced, with managers on its
/// assignments.
async fn harness() -> Harness {
    let org = Organisation::personas();
    let statements = org
        .statements
        .iter()
        .map(|s| Value::Object(s.json().clone()))
        .collect();
    let as_of = org.as_of;
    let service = CapabilityService::new(
        Ports {
            records: Arc::new(MemoryRecords::default()),
            source: Arc::new(FixtureSource(statements)),
            authority: Arc::new(OneKey),
        },
        Arc::new(move || as_of),
    );
    let managed: Vec<Assignment> = org
        .assignments
        .iter()
        .map(|a| {
            let mut a = a.clone();
            if [fixture::ANA, fixture::BO].contains(&a.person.as_str()) {
                a.manager = Some(key(fixture::MAX_MANAGER));
            }
            a
        })
        .collect();
    let assignments = Assignments::new(managed.clone(), &org.roles).unwrap();
    let h = Harness {
        service,
        org,
        assignments,
    };
    for framework in h.org.catalog.frameworks() {
        let path = format!("/capabilities/frameworks/{}", framework.id());
        h.put(&path, serde_json::to_value(framework).unwrap()).await;
    }
    for role in h.org.roles.iter() {
        let path = format!("/capabilities/roles/{}", role.id());
        h.put(&path, serde_json::to_value(role).unwrap()).await;
    }
    h.put("/capabilities/assignments", json!(managed)).await;
    h.put(
        "/capabilities/rules",
        serde_json::to_value(fixture::rule_specs()).unwrap(),
    )
    .await;
    h.put(
        "/capabilities/config",
        serde_json::to_value(fixture::config_spec()).unwrap(),
    )
    .await;
    let synced = h.call("POST", "/capabilities/sync", Some(AUTH), None).await;
    assert_eq!(synced.status, StatusCode::OK, "{}", synced.text);
    h
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

impl Harness {
    async fn call(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        let request = request
            .header("Content-Type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        let response = crate::router(self.service.clone())
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        Answer {
            status,
            headers,
            text: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.call("GET", path, Some(AUTH), None).await
    }

    async fn put(&self, path: &str, body: Value) {
        let answer = self.call("PUT", path, Some(AUTH), Some(body)).await;
        assert!(answer.status.is_success(), "{path}: {}", answer.text);
    }

    fn reports<'a>(&'a self, ledger: &'a Ledger) -> Reports<'a> {
        Reports::new(
            self.org.evaluator(ledger),
            &self.org.roles,
            &self.assignments,
        )
    }
}

#[tokio::test]
async fn a_managers_heatmap_is_the_engines_heatmap_of_their_reports() {
    let h = harness().await;
    let ledger = h.org.ledger();
    let reports = h.reports(&ledger);
    let max = key(fixture::MAX_MANAGER);
    let people: Vec<PersonKey> = h
        .assignments
        .reports_of(&max, h.org.as_of)
        .into_iter()
        .cloned()
        .collect();
    assert!(!people.is_empty());
    let expected = reports
        .heatmap(&Team::People { people }, h.org.as_of)
        .unwrap();

    let path = format!(
        "/capabilities/managers/heatmap?manager={}&explain=true",
        encode(fixture::MAX_MANAGER)
    );
    let answer = h.get(&path).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json(), serde_json::to_value(&expected).unwrap());

    // As an Agent object, and as CSV: a row per person and capability.
    let agent = json!({"objectType": "Agent", "mbox": "mailto:max@acme.example"}).to_string();
    let answer = h
        .get(&format!(
            "/capabilities/managers/heatmap?manager={}&format=csv",
            encode(&agent)
        ))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert!(
        answer.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let lines: Vec<&str> = answer.text.split_terminator("\r\n").collect();
    assert_eq!(
        lines.len(),
        1 + expected.people.len() * expected.capabilities.len()
    );
    assert!(lines[0].starts_with("person,as_of,capability,level"));

    // Before anyone reported to Max: nobody.
    let answer = h.get(&format!("{path}&as_of=2000-01-01T00:00:00Z")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json()["people"], json!([]));
}

#[tokio::test]
async fn the_progression_is_the_engines_over_http() {
    let h = harness().await;
    let ledger = h.org.ledger();
    let expected = h
        .reports(&ledger)
        .progression(
            &key(fixture::ANA),
            &cap("CODE"),
            Span {
                from: None,
                to: h.org.as_of,
                step: None,
            },
        )
        .unwrap();
    let path = format!(
        "/capabilities/people/progression?person={}&capability=CODE",
        encode(fixture::ANA)
    );
    let answer = h.get(&path).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json(), serde_json::to_value(&expected).unwrap());

    let answer = h.get(&format!("{path}&format=csv")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.text.split_terminator("\r\n").count(),
        1 + expected.points.len()
    );

    // With a step: regular samples between the ends, still one point per change.
    let from = h.org.as_of - Duration::days(365);
    let answer = h
        .get(&format!(
            "{path}&from={}&step=7",
            encode(&from.to_rfc3339())
        ))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json()["from"], json!(from));
    assert_eq!(answer.json()["step_days"], json!(7.0));
}

#[tokio::test]
async fn bad_parameters_name_the_field_and_the_rule() {
    let h = harness().await;
    let ana = encode(fixture::ANA);
    let cases = [
        ("/capabilities/managers/heatmap", 400, "manager", "required"),
        (
            "/capabilities/managers/heatmap?manager=nobody",
            400,
            "manager",
            "agent-ifi",
        ),
        (
            "/capabilities/managers/heatmap?manager=%7Bbad",
            400,
            "manager",
            "json",
        ),
        (
            "/capabilities/managers/heatmap?manager=mbox%3Amailto%3Amax%40acme.example&as_of=yesterday",
            400,
            "as_of",
            "rfc3339",
        ),
        (
            "/capabilities/people/progression?capability=CODE",
            400,
            "person",
            "required",
        ),
        (
            &format!("/capabilities/people/progression?person={ana}"),
            400,
            "capability",
            "required",
        ),
        (
            &format!("/capabilities/people/progression?person={ana}&capability=CODE&step=0"),
            400,
            "step",
            "positive-days",
        ),
        (
            &format!("/capabilities/people/progression?person={ana}&capability=CODE&step=x"),
            400,
            "step",
            "days",
        ),
        (
            &format!(
                "/capabilities/people/progression?person={ana}&capability=CODE&from=2027-01-01T00:00:00Z"
            ),
            400,
            "from",
            "from-before-to",
        ),
        (
            &format!(
                "/capabilities/people/progression?person={ana}&capability=CODE&from=1990-01-01T00:00:00Z&step=1"
            ),
            400,
            "step",
            "too-many-points",
        ),
        (
            &format!("/capabilities/people/progression?person={ana}&capability=CODE&format=xml"),
            400,
            "format",
            "report-format",
        ),
        (
            &format!("/capabilities/pages/people/progression?person={ana}&capability=CODE&to=soon"),
            400,
            "to",
            "rfc3339",
        ),
        (
            "/capabilities/pages/managers/heatmap?manager=x&manager=y",
            400,
            "manager",
            "single-parameter",
        ),
    ];
    for (path, status, field, rule) in cases {
        let answer = h.get(path).await;
        assert_eq!(answer.status.as_u16(), status, "{path}: {}", answer.text);
        let body = answer.json();
        assert_eq!(
            (body["path"].as_str(), body["rule"].as_str()),
            (Some(field), Some(rule)),
            "{path}: {body}"
        );
    }
    let unknown = h
        .get(&format!(
            "/capabilities/people/progression?person={ana}&capability=NOPE"
        ))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
    let unknown = h.get("/capabilities/pages/roles/astronaut/heatmap").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
}

#[tokio::test]
async fn an_assignment_naming_its_person_as_manager_is_refused() {
    let h = harness().await;
    let answer = h
        .call(
            "PUT",
            "/capabilities/assignments",
            Some(AUTH),
            Some(json!([{
                "person": fixture::ANA, "role": "engineer",
                "from": "2026-01-01T00:00:00Z", "manager": {"mbox": "mailto:ana@acme.example"}
            }])),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["rule"], "not-own-manager", "{body}");
    assert!(
        body["path"].as_str().unwrap().ends_with("[0].manager"),
        "{body}"
    );
}

fn assert_secured(answer: &Answer) {
    assert_eq!(
        answer.headers["content-security-policy"],
        super::CONTENT_SECURITY_POLICY
    );
    assert_eq!(answer.headers["x-content-type-options"], "nosniff");
    assert_eq!(answer.headers["referrer-policy"], "no-referrer");
}

#[tokio::test]
async fn pages_carry_the_reports_figures_under_a_strict_policy() {
    let h = harness().await;
    let ledger = h.org.ledger();
    let reports = h.reports(&ledger);

    let role = h.org.assignments.iter().next().unwrap().role.clone();
    let map = reports
        .heatmap(&Team::Role { role: role.clone() }, h.org.as_of)
        .unwrap();
    let page = h
        .get(&format!("/capabilities/pages/roles/{role}/heatmap"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_secured(&page);
    assert_eq!(page.headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(page.headers["cache-control"], "no-store");
    let cells = map.people.len() * map.capabilities.len();
    assert!(cells > 0);
    assert_eq!(page.text.matches("<a class=\"cell ").count(), cells);
    for (person, row) in map.people.iter().zip(&map.cells) {
        for (capability, cell) in map.capabilities.iter().zip(row) {
            let status = CellStatus::of(cell);
            let attributes = format!(
                "data-person=\"{}\" data-capability=\"{capability}\" data-level=\"{}\" \
                 data-required=\"{}\" data-confidence=\"{}\"",
                escape(person.as_str()),
                cell.level.map(|l| l.to_string()).unwrap_or_default(),
                cell.required.map(|l| l.to_string()).unwrap_or_default(),
                cell.confidence,
            );
            assert!(page.text.contains(&attributes), "{attributes}");
            assert!(page.text.contains(&format!("fill=\"{}\"", status.fill())));
        }
    }
    assert!(page.text.contains("<table class=\"figures\">"));

    let page = h
        .get(&format!(
            "/capabilities/pages/managers/heatmap?manager={}",
            encode(fixture::MAX_MANAGER)
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_secured(&page);
    assert!(
        page.text
            .contains("Reports of mbox:mailto:max@acme.example")
    );

    let page = h
        .get(&format!(
            "/capabilities/pages/people/progression?person={}&capability=CODE",
            encode(fixture::ANA)
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_secured(&page);
    assert!(
        page.text
            .contains("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"progression\"")
    );

    // Without a credential: 401 with the Basic challenge a browser answers, still secured.
    let page = h
        .call(
            "GET",
            &format!("/capabilities/pages/roles/{role}/heatmap"),
            None,
            None,
        )
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert_eq!(page.headers["www-authenticate"], "Basic realm=\"proficio\"");
    assert_secured(&page);

    // The stylesheet: public, CSS, nothing sniffed.
    let css = h
        .call("GET", "/capabilities/pages/assets/report.css", None, None)
        .await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.headers["content-type"], "text/css; charset=utf-8");
    assert_secured(&css);
    assert!(css.text.contains("figure.chart"));
}

// ---------------------------------------------------------------- gap page

/// Ana's first role in the fixture, and the engine's gap report of her against it.
fn fixture_gap(h: &Harness) -> (capability_engine::RoleId, capability_engine::GapReport) {
    let ledger = h.org.ledger();
    let role = h
        .org
        .assignments
        .iter()
        .find(|a| a.person.as_str() == fixture::ANA)
        .unwrap()
        .role
        .clone();
    let report = h
        .reports(&ledger)
        .gap_report(&key(fixture::ANA), &role, h.org.as_of)
        .unwrap();
    (role, report)
}

#[tokio::test]
async fn the_gap_page_carries_the_gap_reports_figures() {
    let h = harness().await;
    let (role, expected) = fixture_gap(&h);
    assert!(!expected.rows.is_empty());
    let json = h
        .get(&format!(
            "/capabilities/roles/{role}/gap?agent={}",
            encode(fixture::ANA)
        ))
        .await;
    assert_eq!(json.status, StatusCode::OK, "{}", json.text);
    assert_eq!(json.json(), serde_json::to_value(&expected).unwrap());

    let page = h
        .get(&format!(
            "/capabilities/pages/roles/{role}/gap?person={}",
            encode(fixture::ANA)
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_secured(&page);
    assert_eq!(page.headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(page.headers["cache-control"], "no-store");
    let role_name = h.org.roles.get(&role).unwrap().name().to_owned();
    assert!(page.text.contains(&format!(
        "<h1>{} against {} ({role})</h1>",
        escape(fixture::ANA),
        escape(&role_name)
    )));
    assert_eq!(
        page.text.matches("<a class=\"bar ").count(),
        expected.rows.len()
    );
    for (i, row) in expected.rows.iter().enumerate() {
        let status = CellStatus::of_row(row);
        let bar = format!(
            "<a class=\"bar {}{}\" href=\"{}\" data-capability=\"{}\" data-level=\"{}\" \
             data-required=\"{}\" data-gap=\"{}\" data-met=\"{}\" data-confidence=\"{}\" \
             data-stale=\"{}\">",
            status.class(),
            if row.stale { " stale" } else { "" },
            escape(&super::html::progression_link(
                fixture::ANA,
                row.capability.as_str(),
                expected.as_of
            )),
            row.capability,
            row.achieved.map(|l| l.to_string()).unwrap_or_default(),
            row.required,
            row.gap,
            row.met,
            row.confidence,
            row.stale,
        );
        assert!(page.text.contains(&bar), "{bar}");
        assert!(page.text.contains(&format!("fill=\"{}\"", status.fill())));
        // The table: the same levels, the exact confidence, the last evidence.
        let cells = format!(
            "<td class=\"required\">{}</td><td class=\"achieved\">{}</td><td class=\"gap\">{}</td>",
            row.required,
            super::html::level_text(row.achieved),
            row.gap,
        );
        assert!(page.text.contains(&cells), "{cells}");
        let levels = format!(
            "<td class=\"evidence\">{}</td><td class=\"self\">{}</td><td class=\"manager\">{}</td>\
             <td class=\"confidence\"><data value=\"{}\">{:.2}</data></td>",
            super::html::level_text(row.evidence_level),
            super::html::level_text(row.self_level),
            super::html::level_text(row.manager_level),
            row.confidence,
            row.confidence,
        );
        assert!(page.text.contains(&levels), "{levels}");
        if let Some(last) = row.last_evidence_at {
            assert!(page.text.contains(&format!(
                "<td class=\"last-evidence\"><time datetime=\"{}\">",
                super::html::time(last)
            )));
        }
        // The explanation: every statement counted, with its rule.
        assert!(page.text.contains(&format!("id=\"explanation-{i}\"")));
        for c in &row.assessment.explanation.contributions {
            assert!(page.text.contains(&format!("<code>{}</code>", c.statement)));
            assert!(
                page.text
                    .contains(&format!("<code>{}@{}</code>", c.rule.id, c.rule.version))
            );
        }
    }
    assert!(page.text.contains(&format!(
        "fit <strong class=\"fit\">{:.2}</strong>",
        expected.fit
    )));
    // The data links name the JSON report of the same person and date.
    assert!(page.text.contains(&escape(&link(
        &format!("/capabilities/roles/{role}/gap"),
        &[
            ("agent", fixture::ANA),
            ("as_of", &super::html::time(expected.as_of))
        ],
    ))));

    // The role's heatmap links each person to their gap page.
    let heatmap = h
        .get(&format!("/capabilities/pages/roles/{role}/heatmap"))
        .await;
    assert_eq!(heatmap.status, StatusCode::OK);
    let ledger = h.org.ledger();
    let map = h
        .reports(&ledger)
        .heatmap(&Team::Role { role: role.clone() }, h.org.as_of)
        .unwrap();
    assert!(!map.people.is_empty());
    for person in &map.people {
        let href = escape(&super::html::gap_link(
            role.as_str(),
            person.as_str(),
            h.org.as_of,
        ));
        assert!(
            heatmap
                .text
                .contains(&format!("<a class=\"person\" href=\"{href}\">")),
            "{href}"
        );
        assert!(
            heatmap
                .text
                .contains(&format!("<th scope=\"row\"><a href=\"{href}\">")),
            "{href}"
        );
    }
    // The manager's heatmap spans roles: no such link.
    let manager = h
        .get(&format!(
            "/capabilities/pages/managers/heatmap?manager={}",
            encode(fixture::MAX_MANAGER)
        ))
        .await;
    assert!(!manager.text.contains("<a class=\"person\""));
}

#[test]
fn the_gap_page_escapes_names_and_marks_stale_rows() {
    let org = Organisation::personas();
    let ledger = org.ledger();
    let role = org
        .assignments
        .iter()
        .find(|a| a.person.as_str() == fixture::ANA)
        .unwrap()
        .role
        .clone();
    let mut report = Reports::new(org.evaluator(&ledger), &org.roles, &org.assignments)
        .gap_report(&key(fixture::ANA), &role, org.as_of)
        .unwrap();
    report.person = key(HOSTILE);
    report.rows[0].name = "<b>Coding</b> & more".to_owned();
    report.rows[0].stale = true;
    let out = super::gap_page(&report, &role, "<i>Lead</i>", "/data?x=1");
    assert!(!out.contains("<script>") && !out.contains("<b>") && !out.contains("<i>"));
    assert!(out.contains("&lt;script&gt;alert(1)&lt;/script&gt; against &lt;i&gt;Lead&lt;/i&gt;"));
    assert!(out.contains("&lt;b&gt;Coding&lt;/b&gt; &amp; more"));
    assert_eq!(out.matches("<a class=\"bar ").count(), report.rows.len());
    assert_eq!(
        out.matches("class=\"stale-mark\"").count(),
        report.rows.iter().filter(|r| r.stale).count()
    );
    assert!(out.contains("stroke-dasharray=\"5 3\""));
    let href = escape(&super::html::progression_link(
        HOSTILE,
        report.rows[0].capability.as_str(),
        report.as_of,
    ));
    assert!(href.contains("person=account%3Ahttps%3A%2F%2Fhr.example.org%7C%3Cscript%3E"));
    assert!(out.contains(&format!("href=\"{href}\"")));
    // A bar runs from the scale's start to the level achieved; the marker stands at the
    // level required.
    let top = svg::gap_top_level(&report);
    assert!(top >= report.rows[0].required.get());
    assert_eq!(svg::bar_x(None, 4), 250.0);
    assert_eq!(
        svg::bar_x(Some(Level::new(2).unwrap()), 4),
        250.0 + svg::BAR_SCALE_W / 2.0
    );
    assert_eq!(
        svg::bar_x(Some(Level::new(4).unwrap()), 4),
        250.0 + svg::BAR_SCALE_W
    );
    // The legend shows only what a requirement can be.
    assert!(!out.contains("swatch not-required"));
}

#[tokio::test]
async fn the_gap_page_refuses_a_missing_person_and_an_unknown_role() {
    let h = harness().await;
    let (role, _) = fixture_gap(&h);
    let missing = h
        .get(&format!("/capabilities/pages/roles/{role}/gap"))
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.text);
    assert_secured(&missing);
    let body = missing.json();
    assert_eq!(
        (body["path"].as_str(), body["rule"].as_str()),
        (Some("person"), Some("required")),
        "{body}"
    );
    let bad_date = h
        .get(&format!(
            "/capabilities/pages/roles/{role}/gap?person={}&as_of=soon",
            encode(fixture::ANA)
        ))
        .await;
    assert_eq!(bad_date.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_date.json()["path"], "as_of");
    let unknown = h
        .get(&format!(
            "/capabilities/pages/roles/astronaut/gap?person={}",
            encode(fixture::ANA)
        ))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
    assert_secured(&unknown);
    let anonymous = h
        .call(
            "GET",
            &format!(
                "/capabilities/pages/roles/{role}/gap?person={}",
                encode(fixture::ANA)
            ),
            None,
            None,
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_secured(&anonymous);
}
