//! The scenarios against the running server, in the order that builds on the last: batch
//! ingest fills the store, then single POSTs, filtered queries, paging, state documents, the
//! capability engine's catch-up over the whole stream, the fixture organisation's reports
//! (`capability_reports`), and SCORM commits.

use std::future::Future;
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use lrs::storage::{StatementQuery, TermKind};
use serde_json::{Value, json};

use crate::floor;
use crate::generate::{self, AGENTS, CAPABILITIES, COACHES, SCORM_VERBS};
use crate::server::{Launch, Server, dir_size};
use crate::{BATCH, BenchError, Floor, Measurement, Options, Report, Scenario, measurement};

/// Requests per query filter.
const QUERIES: usize = 200;
/// Most pages followed through `more`.
const PAGES: usize = 100;

pub async fn run(options: &Options) -> Result<Report, BenchError> {
    let n = options.statements;
    progress(format_args!("generating {n} statements"));
    let bodies: Vec<Vec<u8>> = (0..n.div_ceil(BATCH))
        .map(|b| generate::batch_body(b * BATCH..((b + 1) * BATCH).min(n)))
        .collect();
    let raw_json_bytes: u64 = bodies.iter().map(|b| b.len() as u64).sum();

    progress(format_args!("floor: parsing and writing them in process"));
    let floor_store = floor::ingest(&bodies, n).await?;
    let floor_report = floor_store.report.clone();
    let cases = query_cases(n);
    let mut query_floors = Vec::with_capacity(cases.len());
    for case in &cases {
        query_floors.push(match &case.store_queries {
            Some(queries) => Some(floor::query_p50(floor_store.store.as_ref(), queries).await?),
            None => None,
        });
    }
    drop(floor_store);

    let data = tempfile::tempdir().map_err(|e| BenchError::Io(format!("temp dir: {e}")))?;
    let admin_secret = generated_secret();
    let launch = Launch {
        binary: &options.binary,
        store: &options.store,
        data_dir: data.path(),
        admin_key: "bench-admin",
        admin_secret: &admin_secret,
    };
    progress(format_args!("starting {}", options.binary.display()));
    let server = Server::start(&launch)?;
    let startup_ms = server.started_in.as_secs_f64() * 1e3;
    let client = Client::for_tenant(&server.base, launch.admin_key, &admin_secret, "bench").await?;
    let mut measurements = Vec::new();

    progress(format_args!("ingest: {n} statements in batches of {BATCH}"));
    let (ingest, window) = ingest(&client, bodies, options.clients, n).await?;
    measurements.push(Measurement {
        ratio: Some(floor_report.ingest_per_s / ingest.ops_per_s.max(1e-9)),
        floor: Some(Floor::Throughput {
            what: "parse+prepare+insert".to_owned(),
            ops_per_s: floor_report.ingest_per_s,
        }),
        ..ingest
    });

    note_rss(&server, &mut measurements)?;
    let chosen = |s: Scenario| options.scenarios.contains(&s);
    let mut posted = 0;
    if chosen(Scenario::Post) {
        posted = (n / 10).clamp(1_000, 20_000);
        progress(format_args!(
            "post: {posted} single statements, {} clients",
            options.post_clients
        ));
        let post = post(&client, n, posted, options.post_clients).await?;
        measurements.push(Measurement {
            ratio: Some(floor_report.ingest_per_s / post.ops_per_s.max(1e-9)),
            floor: Some(Floor::Throughput {
                what: "parse+prepare+insert".to_owned(),
                ops_per_s: floor_report.ingest_per_s,
            }),
            ..post
        });
    }
    note_rss(&server, &mut measurements)?;
    if chosen(Scenario::Query) {
        for (case, floor_p50) in cases.iter().zip(&query_floors) {
            progress(format_args!("query: {}", case.name));
            let mut m = query(&client, case, &window).await?;
            if let Some(p50) = floor_p50 {
                m.ratio = Some(m.p50_ms / p50.max(1e-6));
                m.floor = Some(Floor::Latency {
                    what: "store query".to_owned(),
                    p50_ms: *p50,
                });
            }
            measurements.push(m);
        }
    }
    note_rss(&server, &mut measurements)?;
    if chosen(Scenario::More) {
        progress(format_args!("more: paging through verb=passed"));
        measurements.push(paging(&client).await?);
    }
    note_rss(&server, &mut measurements)?;
    if chosen(Scenario::State) {
        let documents = (n / 20).clamp(500, 5_000);
        progress(format_args!("state: {documents} documents"));
        measurements.extend(state(&client, documents, options.clients).await?);
    }
    note_rss(&server, &mut measurements)?;
    if chosen(Scenario::Capability) {
        progress(format_args!(
            "capability: rules put, catch-up over the stream"
        ));
        measurements.push(capability(&client, n + posted).await?);
    }
    note_rss(&server, &mut measurements)?;
    if chosen(Scenario::CapabilityReports) {
        let admin = Admin {
            base: &server.base,
            key: launch.admin_key,
            secret: &admin_secret,
        };
        measurements
            .extend(crate::capability_reports::run(&admin, options.people, options.clients).await?);
    }
    note_rss(&server, &mut measurements)?;
    if chosen(Scenario::Scorm) {
        let commits = (n / 20).clamp(500, 5_000);
        progress(format_args!("scorm: {commits} commits"));
        measurements.push(scorm(&client, commits, options.post_clients).await?);
    }
    note_rss(&server, &mut measurements)?;

    let peak_rss_bytes = server.peak_rss()?;
    server.stop()?;
    let embedded = options.store == "embedded";
    let (data_dir_bytes, restart_ms) = if embedded {
        let bytes = dir_size(data.path());
        let restarted = Server::start(&launch)?;
        let ms = restarted.started_in.as_secs_f64() * 1e3;
        restarted.stop()?;
        (Some(bytes), Some(ms))
    } else {
        (None, None)
    };
    let stored = (n + measurements
        .iter()
        .find(|m| m.scenario == "post")
        .map_or(0, |m| m.ops)) as f64;
    Ok(Report {
        statements: n,
        store: options.store.clone(),
        clients: options.clients,
        cores: std::thread::available_parallelism().map_or(1, |c| c.get()),
        statement_bytes: raw_json_bytes as f64 / n as f64,
        raw_json_bytes,
        startup_ms,
        restart_ms,
        peak_rss_bytes,
        data_dir_bytes,
        data_dir_bytes_per_statement: data_dir_bytes.map(|b| b as f64 / stored),
        // The raw JSON of everything stored, at the generated statements' average size.
        data_dir_to_raw_json: data_dir_bytes
            .map(|b| b as f64 / (raw_json_bytes as f64 / n as f64 * stored)),
        floor: floor_report,
        measurements,
    })
}

/// The server's peak RSS once each scenario is done (`VmHWM` only grows, so the scenario
/// that raised it shows).
fn note_rss(server: &Server, measurements: &mut [Measurement]) -> Result<(), BenchError> {
    let peak_mb = server.peak_rss()? as f64 / 1_048_576.0;
    for m in measurements.iter_mut() {
        m.notes
            .entry("server_peak_rss_mb_after".to_owned())
            .or_insert_with(|| json!(peak_mb.round()));
    }
    Ok(())
}

pub(crate) fn progress(message: std::fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "bench: {message}");
}

/// A credential secret nobody else knows; the server lives only as long as the run.
fn generated_secret() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("bench-{nanos:x}-{:x}", std::process::id())
}

/// Where the server is and its admin credential, for making tenants.
pub(crate) struct Admin<'a> {
    pub base: &'a str,
    pub key: &'a str,
    pub secret: &'a str,
}

/// An HTTP client of one tenant, with a credential created through the admin API.
#[derive(Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
    secret: String,
}

impl Client {
    pub(crate) async fn for_tenant(
        base: &str,
        admin_key: &str,
        admin_secret: &str,
        tenant: &str,
    ) -> Result<Client, BenchError> {
        let admin = Client {
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .map_err(|e| BenchError::Io(format!("http client: {e}")))?,
            base: base.to_owned(),
            key: admin_key.to_owned(),
            secret: admin_secret.to_owned(),
        };
        let scenario = "setup";
        admin
            .send(
                scenario,
                reqwest::Method::POST,
                "/admin/tenants",
                Body::Json(&json!({"name": tenant})),
                &[201],
            )
            .await?;
        let issued = admin
            .send(
                scenario,
                reqwest::Method::POST,
                "/admin/credentials",
                Body::Json(&json!({"tenant": tenant, "scopes": ["all", "define"]})),
                &[201],
            )
            .await?;
        let field = |name: &str| {
            issued[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| BenchError::Transport {
                    scenario,
                    detail: format!("the issued credential has no {name}"),
                })
        };
        Ok(Client {
            key: field("key")?,
            secret: field("secret")?,
            ..admin
        })
    }

    /// Sends a request; an answer outside `expect` is an error naming it. Returns the body
    /// as JSON (`null` when empty).
    pub(crate) async fn send(
        &self,
        scenario: &'static str,
        method: reqwest::Method,
        path: &str,
        body: Body<'_>,
        expect: &[u16],
    ) -> Result<Value, BenchError> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .basic_auth(&self.key, Some(&self.secret))
            .header("X-Experience-API-Version", "2.0.0");
        request = match body {
            Body::None => request,
            Body::Json(value) => request.json(value),
            Body::Bytes(bytes, content_type) => {
                request.header("content-type", content_type).body(bytes)
            }
        };
        let transport = |e: reqwest::Error| BenchError::Transport {
            scenario,
            detail: format!("{method} {path}: {e}"),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(transport)?;
        if !expect.contains(&status) {
            return Err(BenchError::Http {
                scenario,
                request: format!("{method} {}", truncate(path)),
                status,
                body: truncate(&String::from_utf8_lossy(&bytes)),
            });
        }
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }
}

pub(crate) enum Body<'a> {
    None,
    Json(&'a Value),
    Bytes(Bytes, &'static str),
}

pub(crate) fn truncate(text: &str) -> String {
    text.chars().take(300).collect()
}

/// Runs `ops` operations over `clients` concurrent tasks; the wall time and each latency.
pub(crate) async fn concurrent<F, Fut>(
    clients: usize,
    ops: usize,
    operation: F,
) -> Result<(Duration, Vec<Duration>), BenchError>
where
    F: Fn(usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), BenchError>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let next = next.clone();
        let operation = operation.clone();
        tasks.spawn(async move {
            let mut times = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= ops {
                    return Ok::<_, BenchError>(times);
                }
                let t = Instant::now();
                operation(i).await?;
                times.push(t.elapsed());
            }
        });
    }
    let mut latencies = Vec::with_capacity(ops);
    while let Some(joined) = tasks.join_next().await {
        let times = joined.map_err(|e| BenchError::Io(format!("a client task failed: {e}")))??;
        latencies.extend(times);
    }
    Ok((started.elapsed(), latencies))
}

/// The `stored` window the `since`/`until` case asks for: the second quarter of the ingest.
#[derive(Debug, Clone, Default)]
struct Window {
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

async fn ingest(
    client: &Client,
    bodies: Vec<Vec<u8>>,
    clients: usize,
    statements: usize,
) -> Result<(Measurement, Window), BenchError> {
    let batches = bodies.len();
    let bodies: Arc<Vec<Bytes>> = Arc::new(bodies.into_iter().map(Bytes::from).collect());
    let marks = Arc::new(std::sync::Mutex::new(Window::default()));
    let (quarter, half) = (batches / 4, batches / 2);
    let (elapsed, latencies) = {
        let client = client.clone();
        let marks = marks.clone();
        concurrent(clients, batches, move |i| {
            let client = client.clone();
            let body = bodies[i].clone();
            let marks = marks.clone();
            async move {
                if i == quarter || i == half {
                    let now = Utc::now();
                    if let Ok(mut w) = marks.lock() {
                        if i == quarter {
                            w.since = Some(now)
                        } else {
                            w.until = Some(now)
                        }
                    }
                }
                let ids = client
                    .send(
                        "ingest",
                        reqwest::Method::POST,
                        "/xapi/statements",
                        Body::Bytes(body, "application/json"),
                        &[200],
                    )
                    .await?;
                check_ids("ingest", &ids, BATCH.min(statements - i * BATCH))
            }
        })
        .await?
    };
    let mut m = measurement("ingest (batches of 100)", statements, elapsed, latencies);
    m.notes.insert("requests".to_owned(), json!(batches));
    m.notes.insert("clients".to_owned(), json!(clients));
    let window = marks.lock().map(|w| w.clone()).unwrap_or_default();
    Ok((m, window))
}

fn check_ids(scenario: &'static str, ids: &Value, expected: usize) -> Result<(), BenchError> {
    match ids.as_array() {
        Some(ids) if ids.len() == expected => Ok(()),
        _ => Err(BenchError::Transport {
            scenario,
            detail: format!(
                "expected {expected} statement ids, got {}",
                truncate(&ids.to_string())
            ),
        }),
    }
}

async fn post(
    client: &Client,
    first: usize,
    ops: usize,
    clients: usize,
) -> Result<Measurement, BenchError> {
    let bodies: Arc<Vec<Bytes>> = Arc::new(
        (first..first + ops)
            .map(|i| Bytes::from(generate::statement(i).to_string()))
            .collect(),
    );
    let client = client.clone();
    let (elapsed, latencies) = concurrent(clients, ops, move |i| {
        let client = client.clone();
        let body = bodies[i].clone();
        async move {
            let ids = client
                .send(
                    "post",
                    reqwest::Method::POST,
                    "/xapi/statements",
                    Body::Bytes(body, "application/json"),
                    &[200],
                )
                .await?;
            check_ids("post", &ids, 1)
        }
    })
    .await?;
    let mut m = measurement(
        &format!("post (1 statement, {clients} clients)"),
        ops,
        elapsed,
        latencies,
    );
    m.scenario = "post".to_owned();
    m.notes.insert("clients".to_owned(), json!(clients));
    Ok(m)
}

/// One query filter: the requests to send and, where the store can run the same query
/// directly, those queries for the floor.
struct QueryCase {
    name: &'static str,
    params: Vec<Vec<(String, String)>>,
    store_queries: Option<Vec<StatementQuery>>,
}

fn agent_param(mbox: &str) -> String {
    json!({"objectType": "Agent", "mbox": mbox}).to_string()
}

fn query_cases(n: usize) -> Vec<QueryCase> {
    // Values drawn from statements that exist, so every query finds something: the first
    // statement of the wanted kind from a spread starting point.
    let sample_where = |k: usize, wanted: &dyn Fn(generate::Kind) -> bool| {
        let start = (k * 7_919 + 13) % n;
        (0..n)
            .map(|step| generate::shape((start + step) % n))
            .find(|s| wanted(s.kind))
            .unwrap_or_else(|| generate::shape(start))
    };
    let sample = |k: usize| sample_where(k, &|_| true);
    let scorm = |k: usize| sample_where(k, &|kind| kind == generate::Kind::Scorm);
    let coached = |k: usize| sample_where(k, &|kind| kind != generate::Kind::Scorm);
    let store = |kind: TermKind, value: String| StatementQuery {
        filters: vec![(kind, value)],
        limit: 100,
        ..StatementQuery::default()
    };
    let case =
        |name: &'static str,
         build: &dyn Fn(usize) -> (Vec<(String, String)>, Option<StatementQuery>)| {
            let (params, queries): (Vec<_>, Vec<_>) = (0..QUERIES).map(build).unzip();
            QueryCase {
                name,
                params,
                store_queries: queries.into_iter().collect(),
            }
        };
    let limit = || ("limit".to_owned(), "100".to_owned());
    vec![
        case("agent", &|k| {
            let mbox = generate::agent_mbox(sample(k).agent % AGENTS);
            (
                vec![("agent".to_owned(), agent_param(&mbox)), limit()],
                Some(store(TermKind::Agent, format!("mbox:{mbox}"))),
            )
        }),
        case("verb", &|k| {
            let verb = generate::verb_iri(SCORM_VERBS[k % SCORM_VERBS.len()]);
            (
                vec![("verb".to_owned(), verb.clone()), limit()],
                Some(store(TermKind::Verb, verb)),
            )
        }),
        case("activity", &|k| {
            let s = scorm(k);
            let iri = generate::sco_iri(s.course, s.sco);
            (
                vec![("activity".to_owned(), iri.clone()), limit()],
                Some(store(TermKind::Activity, iri)),
            )
        }),
        case("registration", &|k| {
            let s = sample(k);
            let registration = generate::registration(s.course, s.attempt);
            (
                vec![("registration".to_owned(), registration.clone()), limit()],
                Some(store(TermKind::Registration, registration)),
            )
        }),
        case("related_activities", &|k| {
            let iri = generate::course_iri(sample(k).course);
            (
                vec![
                    ("activity".to_owned(), iri.clone()),
                    ("related_activities".to_owned(), "true".to_owned()),
                    limit(),
                ],
                Some(store(TermKind::RelatedActivity, iri)),
            )
        }),
        case("related_agents", &|k| {
            // Coaches appear only as instructors: found through related_agents alone.
            let mbox = generate::coach_mbox(coached(k).agent % COACHES);
            (
                vec![
                    ("agent".to_owned(), agent_param(&mbox)),
                    ("related_agents".to_owned(), "true".to_owned()),
                    limit(),
                ],
                Some(store(TermKind::RelatedAgent, format!("mbox:{mbox}"))),
            )
        }),
        QueryCase {
            // The window is known only once the server has stored the statements.
            name: "since_until",
            params: vec![vec![limit()]; QUERIES],
            store_queries: None,
        },
    ]
}

fn query_string(params: &[(String, String)]) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        serializer.append_pair(k, v);
    }
    serializer.finish()
}

fn statements_in(page: &Value) -> usize {
    page["statements"].as_array().map_or(0, Vec::len)
}

async fn query(
    client: &Client,
    case: &QueryCase,
    window: &Window,
) -> Result<Measurement, BenchError> {
    let stamp =
        |t: &Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true));
    let mut latencies = Vec::with_capacity(case.params.len());
    let mut found = 0;
    let mut empty = 0;
    let started = Instant::now();
    for params in &case.params {
        let mut params = params.clone();
        if case.name == "since_until"
            && let (Some(since), Some(until)) = (stamp(&window.since), stamp(&window.until))
        {
            params.push(("since".to_owned(), since));
            params.push(("until".to_owned(), until));
        }
        let path = format!("/xapi/statements?{}", query_string(&params));
        let t = Instant::now();
        let page = client
            .send("query", reqwest::Method::GET, &path, Body::None, &[200])
            .await?;
        latencies.push(t.elapsed());
        let count = statements_in(&page);
        found += count;
        if count == 0 {
            empty += 1;
        }
    }
    let ops = latencies.len();
    let mut m = measurement(
        &format!("query {} (limit 100)", case.name),
        ops,
        started.elapsed(),
        latencies,
    );
    m.notes.insert(
        "statements_per_page".to_owned(),
        json!(found as f64 / ops as f64),
    );
    m.notes.insert("empty_pages".to_owned(), json!(empty));
    Ok(m)
}

/// Follows `more` through a large result; each page should cost what the first does.
async fn paging(client: &Client) -> Result<Measurement, BenchError> {
    let first_path = format!(
        "/xapi/statements?{}",
        query_string(&[
            ("verb".to_owned(), generate::verb_iri("passed")),
            ("limit".to_owned(), "100".to_owned())
        ])
    );
    let mut firsts = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        client
            .send(
                "more",
                reqwest::Method::GET,
                &first_path,
                Body::None,
                &[200],
            )
            .await?;
        firsts.push(t.elapsed());
    }
    firsts.sort_unstable();
    let first_p50 = crate::percentile_ms(&firsts, 0.5);

    let mut latencies = Vec::new();
    let mut statements = 0;
    let mut path = first_path;
    let started = Instant::now();
    while latencies.len() < PAGES {
        let t = Instant::now();
        let page = client
            .send("more", reqwest::Method::GET, &path, Body::None, &[200])
            .await?;
        latencies.push(t.elapsed());
        statements += statements_in(&page);
        match page["more"].as_str() {
            Some(more) if !more.is_empty() => path = more.to_owned(),
            _ => break,
        }
    }
    let pages = latencies.len();
    let last_ms = latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3);
    let mut m = measurement(
        "more (pages of 100, verb)",
        pages,
        started.elapsed(),
        latencies,
    );
    m.ratio = Some(m.p50_ms / first_p50.max(1e-6));
    m.floor = Some(Floor::Latency {
        what: "first page".to_owned(),
        p50_ms: first_p50,
    });
    m.notes.insert("pages".to_owned(), json!(pages));
    m.notes.insert("statements".to_owned(), json!(statements));
    m.notes.insert("last_page_ms".to_owned(), json!(last_ms));
    Ok(m)
}

fn state_path(i: usize) -> String {
    let s = generate::shape(i);
    format!(
        "/xapi/activities/state?{}",
        query_string(&[
            ("activityId".to_owned(), generate::sco_iri(s.course, s.sco)),
            (
                "agent".to_owned(),
                agent_param(&generate::agent_mbox(i % AGENTS))
            ),
            (
                "registration".to_owned(),
                generate::registration(s.course, s.attempt)
            ),
            (
                "stateId".to_owned(),
                format!("https://example.com/state/bookmark-{i}")
            ),
        ])
    )
}

async fn state(
    client: &Client,
    documents: usize,
    clients: usize,
) -> Result<Vec<Measurement>, BenchError> {
    let document = Bytes::from(
        json!({
            "location": "page-12",
            "suspend_data": "q1=a;q2=c;q3=b;".repeat(40),
            "progress": 0.4,
        })
        .to_string(),
    );
    let put = {
        let client = client.clone();
        concurrent(clients, documents, move |i| {
            let client = client.clone();
            let body = document.clone();
            async move {
                client
                    .send(
                        "state",
                        reqwest::Method::PUT,
                        &state_path(i),
                        Body::Bytes(body, "application/json"),
                        &[204],
                    )
                    .await
                    .map(drop)
            }
        })
        .await?
    };
    let get = {
        let client = client.clone();
        concurrent(clients, documents, move |i| {
            let client = client.clone();
            async move {
                let value = client
                    .send(
                        "state",
                        reqwest::Method::GET,
                        &state_path(i),
                        Body::None,
                        &[200],
                    )
                    .await?;
                if value["location"] != "page-12" {
                    return Err(BenchError::Transport {
                        scenario: "state",
                        detail: format!(
                            "document {i} came back as {}",
                            truncate(&value.to_string())
                        ),
                    });
                }
                Ok(())
            }
        })
        .await?
    };
    Ok(vec![
        measurement("state PUT", documents, put.0, put.1),
        measurement("state GET", documents, get.0, get.1),
    ])
}

fn rules() -> Value {
    json!([
        {
            "id": "elearning-passed", "version": 1,
            "match": {"verbs": [generate::verb_iri("passed")], "activity": {"glob": "http://example.com/courses/*"}, "result": {"success": true}},
            "emit": {"capability": {"from": "grouping"}, "level": {"scaled-bands": [{"at_least": 0.6, "level": 1}, {"at_least": 0.8, "level": 2}]}, "weight": 0.4, "rater": "e-learning"}
        },
        {
            "id": "coaching", "version": 1,
            "match": {"verbs": [generate::COACHING_VERB], "activity_types": [generate::TYPE_MEETING],
                      "extensions": [{"in": "context", "key": generate::EXT_SESSION_KIND, "equals": "coaching"}]},
            "emit": {"capability": {"from": "grouping"}, "level": {"fixed": 1}, "weight": 0.3}
        },
        {
            "id": "manager-assessment", "version": 1,
            "match": {"verbs": [generate::ASSESSMENT_VERB], "activity_types": [generate::TYPE_COMPETENCY], "raters": ["manager"]},
            "emit": {"capability": {"from": "object"}, "level": "score-raw", "weight": 1.0}
        }
    ])
}

/// The capability engine over the whole stream: rules put, then catch-up until the follower
/// has nothing left; per statement of the tenant.
async fn capability(client: &Client, statements: usize) -> Result<Measurement, BenchError> {
    let framework = json!({
        "id": "workplace", "name": "Workplace", "version": "1",
        "scale": [{"level": 1, "label": "Aware"}, {"level": 2, "label": "Practising"}, {"level": 3, "label": "Leading"}],
        "capabilities": (0..CAPABILITIES).map(|k| json!({
            "id": format!("c{k}"), "code": format!("C{k}"), "name": format!("Capability {k}"), "iri": generate::competency_iri(k)
        })).collect::<Vec<_>>()
    });
    let role = json!({
        "id": "electrician", "name": "Electrician",
        "requirements": (0..CAPABILITIES).map(|k| json!({"capability": format!("c{k}"), "level": 2, "criticality": "essential"})).collect::<Vec<_>>()
    });
    let scenario = "capability";
    client
        .send(
            scenario,
            reqwest::Method::PUT,
            "/capabilities/frameworks/workplace",
            Body::Json(&framework),
            &[200, 201],
        )
        .await?;
    client
        .send(
            scenario,
            reqwest::Method::PUT,
            "/capabilities/roles/electrician",
            Body::Json(&role),
            &[200, 201],
        )
        .await?;
    let started = Instant::now();
    client
        .send(
            scenario,
            reqwest::Method::PUT,
            "/capabilities/rules",
            Body::Json(&rules()),
            &[200, 201],
        )
        .await?;
    let CatchUp {
        syncs,
        read,
        evidence,
        ..
    } = catch_up(client, scenario).await?;
    let elapsed = started.elapsed();
    let requests = syncs.len();
    let mut m = measurement(
        "capability catch-up (per statement)",
        statements,
        elapsed,
        syncs,
    );
    m.notes.insert("sync_requests".to_owned(), json!(requests));
    m.notes
        .insert("statements_read_by_sync".to_owned(), json!(read));
    m.notes
        .insert("evidence_added_by_sync".to_owned(), json!(evidence));
    m.notes.insert(
        "latency_is".to_owned(),
        json!("one POST /capabilities/sync"),
    );
    Ok(m)
}

/// What `POST /capabilities/sync` did until the follower had nothing left.
pub(crate) struct CatchUp {
    /// The latency of each sync request.
    pub syncs: Vec<Duration>,
    /// Statements read by these requests (the background follower may have read others).
    pub read: u64,
    pub evidence: u64,
    /// Evidence items of the generation reports read, when done.
    pub ledger_items: u64,
}

/// Syncs until a request reads nothing, was not contended and the tenant is followed.
pub(crate) async fn catch_up(
    client: &Client,
    scenario: &'static str,
) -> Result<CatchUp, BenchError> {
    let mut syncs = Vec::new();
    let mut evidence = 0;
    let mut read = 0;
    loop {
        let t = Instant::now();
        let report = client
            .send(
                scenario,
                reqwest::Method::POST,
                "/capabilities/sync",
                Body::None,
                &[200],
            )
            .await?;
        syncs.push(t.elapsed());
        if report["unreadable"].as_u64().unwrap_or(0) > 0 {
            return Err(BenchError::Transport {
                scenario,
                detail: format!(
                    "the engine could not read statements: {}",
                    truncate(&report.to_string())
                ),
            });
        }
        let count = report["statements"].as_u64().unwrap_or(0);
        read += count;
        evidence += report["evidence_added"].as_u64().unwrap_or(0);
        let contended = report["contended"].as_bool().unwrap_or(false);
        if count == 0 && !contended && report["following"].as_bool().unwrap_or(false) {
            return Ok(CatchUp {
                syncs,
                read,
                evidence,
                ledger_items: report["ledger_items"].as_u64().unwrap_or(0),
            });
        }
        if syncs.len() > 100_000 {
            return Err(BenchError::Transport {
                scenario,
                detail: "the follower never caught up".to_owned(),
            });
        }
    }
}

const MANIFEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="com.example.bench" version="1.0"
  xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="org">
    <organization identifier="org">
      <title>Working safely</title>
      <item identifier="one" identifierref="r1"><title>Lesson one</title><adlcp:masteryscore>80</adlcp:masteryscore></item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="one/index.html"><file href="one/index.html"/></resource>
  </resources>
</manifest>"#;

fn package() -> Result<Vec<u8>, BenchError> {
    let fail =
        |e: zip::result::ZipError| BenchError::Io(format!("building the SCORM package: {e}"));
    let mut out = std::io::Cursor::new(Vec::new());
    let mut writer = zip::ZipWriter::new(&mut out);
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in [
        ("imsmanifest.xml", MANIFEST.as_bytes()),
        (
            "one/index.html",
            b"<html><body>one</body></html>".as_slice(),
        ),
    ] {
        writer.start_file(name, options).map_err(fail)?;
        writer
            .write_all(data)
            .map_err(|e| BenchError::Io(format!("building the SCORM package: {e}")))?;
    }
    writer.finish().map_err(fail)?;
    Ok(out.into_inner())
}

/// SCORM 1.2 commits (RTE 3.4.3.4 `LMSCommit`) from `learners` sessions at once, each session
/// committing in sequence as a browser does.
async fn scorm(
    client: &Client,
    commits: usize,
    learners: usize,
) -> Result<Measurement, BenchError> {
    let scenario = "scorm";
    let imported = client
        .send(
            scenario,
            reqwest::Method::POST,
            "/scorm/packages",
            Body::Bytes(Bytes::from(package()?), "application/zip"),
            &[201],
        )
        .await?;
    let package_id = imported["id"].as_str().unwrap_or_default().to_owned();
    let mut sessions = Vec::with_capacity(learners);
    for l in 0..learners {
        let learner = json!({"objectType": "Agent", "name": format!("Learner {l}"), "account": {"homePage": "https://hr.example.org", "name": format!("learner{l}")}});
        let registration = client
            .send(
                scenario,
                reqwest::Method::POST,
                "/scorm/registrations",
                Body::Json(&json!({"package": package_id, "learner": learner})),
                &[201],
            )
            .await?;
        let launch = registration["launch"]["url"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let started = client
            .send(
                scenario,
                reqwest::Method::POST,
                &format!("{launch}/api/navigate"),
                Body::Bytes(
                    Bytes::from(json!({"request": "start"}).to_string()),
                    "text/plain",
                ),
                &[200],
            )
            .await?;
        let commit_url =
            started["delivery"]["commit_url"]
                .as_str()
                .ok_or_else(|| BenchError::Transport {
                    scenario,
                    detail: format!("no commit_url in {}", truncate(&started.to_string())),
                })?;
        sessions.push(commit_url.to_owned());
    }
    let per_session = commits.div_ceil(learners);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for commit_url in sessions {
        let client = client.clone();
        tasks.spawn(async move {
            let mut times = Vec::with_capacity(per_session);
            for sequence in 1..=per_session {
                let body = json!({
                    "data_model": "Scorm12",
                    "sequence": sequence,
                    "terminated": false,
                    "values": [
                        {"element": "cmi.core.lesson_location", "value": format!("page-{sequence}")},
                        {"element": "cmi.core.score.raw", "value": format!("{}", 50 + sequence % 50)},
                        {"element": "cmi.suspend_data", "value": format!("q{sequence}=a;").repeat(20)},
                    ]
                });
                let t = Instant::now();
                let answer = client
                    .send(scenario, reqwest::Method::POST, &commit_url, Body::Bytes(Bytes::from(body.to_string()), "text/plain"), &[200])
                    .await?;
                times.push(t.elapsed());
                if answer["accepted"] != true {
                    return Err(BenchError::Transport { scenario, detail: format!("commit refused: {}", truncate(&answer.to_string())) });
                }
            }
            Ok::<_, BenchError>(times)
        });
    }
    let mut latencies = Vec::with_capacity(per_session * learners);
    while let Some(joined) = tasks.join_next().await {
        latencies
            .extend(joined.map_err(|e| BenchError::Io(format!("a session task failed: {e}")))??);
    }
    let mut m = measurement(
        "scorm commit",
        latencies.len(),
        started.elapsed(),
        latencies,
    );
    m.notes.insert("sessions".to_owned(), json!(learners));
    Ok(m)
}
