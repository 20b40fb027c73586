//! `capability-reports`: the fixture organisation of `capability_engine::fixture` loaded over
//! HTTP into a fresh tenant, at `--people` and at ten times as many. For each size: the
//! catch-up of the matcher and ledger over its statements (statements/s, from the rules' PUT
//! until a sync has nothing left), then the latency of gap reports for people drawn across
//! the organisation and of each role's heatmap — each beside the same work in process
//! (`Ledger::derive`, `Reports::gap_report`, `Reports::heatmap`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use capability_engine::fixture::{self, AS_OF, Organisation};
use capability_engine::{Ledger, PersonKey, RoleId, Team};
use serde_json::{Value, json};

use crate::scenarios::{Admin, Body, CatchUp, Client, catch_up, concurrent, progress, truncate};
use crate::{BenchError, Floor, Measurement, measurement};

const SCENARIO: &str = "capability-reports";
/// Requests per report kind and size, at most; a small organisation gets one per person
/// (so that a smoke run on a debug build stays short).
const REQUESTS: usize = 200;
/// Statements per POST while loading (the order of the stream is kept: a voiding statement
/// follows the statement it voids).
const LOAD_BATCH: usize = 500;
/// The generator's seed: the organisation the engine's tests check.
const SEED: u64 = 6;
/// Times each role's heatmap is computed in process for the floor.
const HEATMAP_FLOOR_RUNS: usize = 10;

/// Both sizes, one after the other, each on its own tenant.
pub(crate) async fn run(
    admin: &Admin<'_>,
    people: usize,
    clients: usize,
) -> Result<Vec<Measurement>, BenchError> {
    let mut out = Vec::new();
    for size in [people, people * 10] {
        out.extend(one_size(admin, size, clients).await?);
    }
    Ok(out)
}

/// A person and the role they hold at [`AS_OF`].
struct Holder {
    person: PersonKey,
    role: RoleId,
}

async fn one_size(
    admin: &Admin<'_>,
    people: usize,
    clients: usize,
) -> Result<Vec<Measurement>, BenchError> {
    let personas = Organisation::personas().people.len();
    let org = Organisation::new(fixture::Options {
        generated_people: people.saturating_sub(personas),
        seed: SEED,
    });
    let statements = org.statements.len();
    progress(format_args!(
        "capability-reports: {people} people, {statements} statements"
    ));
    let client = Client::for_tenant(
        admin.base,
        admin.key,
        admin.secret,
        &format!("fixture-{people}"),
    )
    .await?;
    put_model(&client, &org).await?;
    post_statements(&client, &org).await?;

    // The catch-up: the ledger is derived from every statement once the rules arrive.
    let started = Instant::now();
    put(
        &client,
        "/capabilities/rules",
        &to_json(&fixture::rule_specs())?,
    )
    .await?;
    let CatchUp {
        syncs,
        read,
        evidence,
        ledger_items,
    } = catch_up(&client, SCENARIO).await?;
    let elapsed = started.elapsed();
    let (ledger, derive_per_s) = derive_floor(&org);
    if ledger_items != ledger.len() as u64 {
        return Err(BenchError::Transport {
            scenario: SCENARIO,
            detail: format!(
                "the server's ledger holds {ledger_items} items, the engine's {}",
                ledger.len()
            ),
        });
    }
    let sync_requests = syncs.len();
    let mut derive = measurement(
        &format!("capability-reports catch-up, {people} people"),
        statements,
        elapsed,
        syncs,
    );
    derive.ratio = Some(derive_per_s / derive.ops_per_s.max(1e-9));
    derive.floor = Some(Floor::Throughput {
        what: "Ledger::derive".to_owned(),
        ops_per_s: derive_per_s,
    });
    derive.notes.insert("people".to_owned(), json!(people));
    derive
        .notes
        .insert("ledger_items".to_owned(), json!(ledger.len()));
    derive
        .notes
        .insert("sync_requests".to_owned(), json!(sync_requests));
    derive
        .notes
        .insert("statements_read_by_sync".to_owned(), json!(read));
    derive
        .notes
        .insert("evidence_added_by_sync".to_owned(), json!(evidence));
    derive.notes.insert(
        "latency_is".to_owned(),
        json!("one POST /capabilities/sync"),
    );

    let as_of = fixture::at(AS_OF);
    let holders: Vec<Holder> = org
        .roles
        .iter()
        .flat_map(|role| {
            org.assignments
                .people_in(role.id(), as_of)
                .into_iter()
                .map(|person| Holder {
                    person: person.clone(),
                    role: role.id().clone(),
                })
        })
        .collect();
    // People drawn across the organisation: a stride prime to any size here.
    let requests = people.clamp(crate::MIN_PEOPLE, REQUESTS);
    let drawn: Vec<usize> = (0..requests)
        .map(|i| (i * 7_919 + 13) % holders.len().max(1))
        .collect();
    let reports = org.reports(&ledger);

    let gap_floor = {
        let mut times = Vec::with_capacity(drawn.len());
        for &h in &drawn {
            let t = Instant::now();
            reports
                .gap_report(&holders[h].person, &holders[h].role, as_of)
                .map_err(|e| BenchError::Floor(format!("gap report: {e}")))?;
            times.push(t.elapsed());
        }
        p50(times)
    };
    let gap = gap_latency(&client, &org, &holders, &drawn, clients).await?;
    let gap = Measurement {
        ratio: Some(gap.p50_ms / gap_floor.max(1e-6)),
        floor: Some(Floor::Latency {
            what: "Reports::gap_report".to_owned(),
            p50_ms: gap_floor,
        }),
        ..gap
    };

    let roles: Vec<RoleId> = org.roles.iter().map(|r| r.id().clone()).collect();
    let mut heatmap_times = Vec::new();
    let mut team_sizes = serde_json::Map::new();
    for role in &roles {
        let team = Team::Role { role: role.clone() };
        for _ in 0..HEATMAP_FLOOR_RUNS {
            let t = Instant::now();
            let map = reports
                .heatmap(&team, as_of)
                .map_err(|e| BenchError::Floor(format!("heatmap: {e}")))?;
            heatmap_times.push(t.elapsed());
            team_sizes.insert(role.to_string(), json!(map.people.len()));
        }
    }
    let heatmap_floor = p50(heatmap_times);
    let mut heatmap = heatmap_latency(
        &client,
        org.people.len(),
        requests,
        &roles,
        &team_sizes,
        clients,
    )
    .await?;
    heatmap.ratio = Some(heatmap.p50_ms / heatmap_floor.max(1e-6));
    heatmap.floor = Some(Floor::Latency {
        what: "Reports::heatmap".to_owned(),
        p50_ms: heatmap_floor,
    });
    heatmap
        .notes
        .insert("people_per_role".to_owned(), Value::Object(team_sizes));

    Ok(vec![derive, gap, heatmap])
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Value, BenchError> {
    serde_json::to_value(value)
        .map_err(|e| BenchError::Io(format!("cannot write the fixture as JSON: {e}")))
}

async fn put(client: &Client, path: &str, body: &Value) -> Result<(), BenchError> {
    client
        .send(
            SCENARIO,
            reqwest::Method::PUT,
            path,
            Body::Json(body),
            &[200, 201],
        )
        .await
        .map(drop)
}

/// The frameworks, roles, assignments and configuration; the rules come last, timed.
async fn put_model(client: &Client, org: &Organisation) -> Result<(), BenchError> {
    for framework in org.catalog.frameworks() {
        let path = format!("/capabilities/frameworks/{}", framework.id());
        put(client, &path, &to_json(framework)?).await?;
    }
    for role in org.roles.iter() {
        let path = format!("/capabilities/roles/{}", role.id());
        put(client, &path, &to_json(role)?).await?;
    }
    put(
        client,
        "/capabilities/assignments",
        &to_json(&org.assignments)?,
    )
    .await?;
    put(
        client,
        "/capabilities/config",
        &to_json(&fixture::config_spec())?,
    )
    .await
}

/// The statements in the order they were stored, one batch after another.
async fn post_statements(client: &Client, org: &Organisation) -> Result<(), BenchError> {
    for batch in org.statement_bodies().chunks(LOAD_BATCH) {
        let body = serde_json::to_vec(batch)
            .map_err(|e| BenchError::Io(format!("cannot write statements: {e}")))?;
        let ids = client
            .send(
                SCENARIO,
                reqwest::Method::POST,
                "/xapi/statements",
                Body::Bytes(Bytes::from(body), "application/json"),
                &[200],
            )
            .await?;
        if ids.as_array().map(Vec::len) != Some(batch.len()) {
            return Err(BenchError::Transport {
                scenario: SCENARIO,
                detail: format!(
                    "expected {} statement ids, got {}",
                    batch.len(),
                    truncate(&ids.to_string())
                ),
            });
        }
    }
    Ok(())
}

/// The in-process floor of the catch-up: the ledger derived from the same statements, and
/// statements per second (the best of three, as the server's figure is one run on a warm
/// process).
fn derive_floor(org: &Organisation) -> (Ledger, f64) {
    let mut best = Duration::MAX;
    let mut ledger = None;
    for _ in 0..3 {
        let t = Instant::now();
        let (derived, _) = Ledger::derive(&org.rules, &org.catalog, &org.statements);
        best = best.min(t.elapsed());
        ledger = Some(derived);
    }
    let per_s = org.statements.len() as f64 / best.as_secs_f64().max(1e-9);
    (ledger.unwrap_or_else(|| Ledger::new(&org.rules)), per_s)
}

fn p50(mut times: Vec<Duration>) -> f64 {
    times.sort_unstable();
    crate::percentile_ms(&times, 0.5)
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// `GET /capabilities/roles/{role}/gap` for the drawn people, `clients` at once; each answer
/// must have a row per requirement of the role.
async fn gap_latency(
    client: &Client,
    org: &Organisation,
    holders: &[Holder],
    drawn: &[usize],
    clients: usize,
) -> Result<Measurement, BenchError> {
    let requests: Arc<Vec<(String, usize)>> = Arc::new(
        drawn
            .iter()
            .map(|&h| {
                let holder = &holders[h];
                let rows = org
                    .roles
                    .get(&holder.role)
                    .map_or(0, |r| r.requirements().len());
                let path = format!(
                    "/capabilities/roles/{}/gap?agent={}&as_of={}",
                    holder.role,
                    encode(holder.person.as_str()),
                    encode(AS_OF)
                );
                (path, rows)
            })
            .collect(),
    );
    let people = org.people.len();
    let (elapsed, latencies) = {
        let client = client.clone();
        concurrent(clients, requests.len(), move |i| {
            let client = client.clone();
            let requests = requests.clone();
            async move {
                let (path, rows) = &requests[i];
                let report = client
                    .send(SCENARIO, reqwest::Method::GET, path, Body::None, &[200])
                    .await?;
                if report["rows"].as_array().map(Vec::len) != Some(*rows) {
                    return Err(BenchError::Transport {
                        scenario: SCENARIO,
                        detail: format!(
                            "{path}: expected {rows} rows, got {}",
                            truncate(&report.to_string())
                        ),
                    });
                }
                Ok(())
            }
        })
        .await?
    };
    let mut m = measurement(
        &format!("capability-reports gap, {people} people"),
        drawn.len(),
        elapsed,
        latencies,
    );
    m.notes.insert("clients".to_owned(), json!(clients));
    Ok(m)
}

/// `GET /capabilities/roles/{role}/heatmap` for each role in turn, `clients` at once; each
/// answer must hold the people the engine puts in the role.
async fn heatmap_latency(
    client: &Client,
    people: usize,
    requests: usize,
    roles: &[RoleId],
    team_sizes: &serde_json::Map<String, Value>,
    clients: usize,
) -> Result<Measurement, BenchError> {
    let requests: Arc<Vec<(String, u64)>> = Arc::new(
        (0..requests)
            .map(|i| {
                let role = &roles[i % roles.len()];
                let people = team_sizes
                    .get(role.as_str())
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                (
                    format!("/capabilities/roles/{role}/heatmap?as_of={}", encode(AS_OF)),
                    people,
                )
            })
            .collect(),
    );
    let (elapsed, latencies) = {
        let client = client.clone();
        let requests = requests.clone();
        concurrent(clients, requests.len(), move |i| {
            let client = client.clone();
            let requests = requests.clone();
            async move {
                let (path, people) = &requests[i];
                let map = client
                    .send(SCENARIO, reqwest::Method::GET, path, Body::None, &[200])
                    .await?;
                if map["people"].as_array().map(|p| p.len() as u64) != Some(*people) {
                    return Err(BenchError::Transport {
                        scenario: SCENARIO,
                        detail: format!(
                            "{path}: expected {people} people, got {}",
                            truncate(&map["people"].to_string())
                        ),
                    });
                }
                Ok(())
            }
        })
        .await?
    };
    let mut m = measurement(
        &format!("capability-reports heatmap, {people} people"),
        requests.len(),
        elapsed,
        latencies,
    );
    m.notes.insert("roles".to_owned(), json!(roles.len()));
    m.notes.insert("clients".to_owned(), json!(clients));
    Ok(m)
}
