//! An acknowledged write survives `kill -9` of the server.
//!
//! One data directory, killed with SIGKILL at a random moment while writers run concurrently:
//! statement batches, single statements with now and then a voiding statement, statement PUTs
//! with a chosen id, State documents replaced and merged under `If-Match`, Activity and Agent
//! Profile documents replaced under `If-Match`, and SCORM 1.2 commits. After each restart every
//! acknowledged write must be there (a write in flight at the kill may be there or not, a batch
//! whole or not at all) and the statement store must read consistently over HTTP: a full `more`
//! paging lists each statement once in `stored` order, filtered queries agree with it, and
//! voided statements leave queries but stay reachable by `voidedStatementId`.
//!
//! `PROFICIO_CRASH_SEED` replays a run's kill times and write shapes.

mod load;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::helpers::{Server, Xapi, encode};
use load::{
    Acks, Commit, CommitReport, Doc, DocReport, Group, Learner, Rng, Round, StatementReport,
    StatementWrite, Style, Void, Writer,
};

const ROUNDS: usize = 52;
/// The kill comes this long after every writer has had a write acknowledged.
const KILL_DELAY_MS: (u64, u64) = (20, 400);
/// Rests of the writers between writes, in milliseconds (see `load::Writer::rest_ms`).
const STATEMENT_REST_MS: (u64, u64) = (10, 30);
const DOCUMENT_REST_MS: (u64, u64) = (5, 15);
const COMMIT_REST_MS: (u64, u64) = (0, 10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const VOIDING_VERB: &str = "http://adlnet.gov/expapi/verbs/voided";

/// What the test knows of the store: everything acknowledged, everything a restart showed,
/// and what was in flight at the last kill.
#[derive(Default)]
struct Model {
    /// Statement groups known to be stored.
    groups: Vec<Group>,
    /// Where the groups learnt of since the last check begin.
    fresh_groups: usize,
    /// Voiding statements known to be stored.
    voids: Vec<Void>,
    fresh_voids: usize,
    voided: HashSet<Uuid>,
    /// Every statement id ever sent, stored or not.
    attempted: HashSet<Uuid>,
    pending: Vec<StatementWrite>,
    documents: Vec<DocReport>,
    learners: Vec<CommitReport>,
    scorm_registrations: HashSet<Uuid>,
    totals: Totals,
}

#[derive(Default)]
struct Totals {
    kills: usize,
    statements: usize,
    voids: usize,
    documents: usize,
    commits: usize,
    max_recovery: Duration,
    max_listing: usize,
}

/// The handles of one round's writers.
struct Writers {
    statements: Vec<JoinHandle<StatementReport>>,
    documents: Vec<JoinHandle<DocReport>>,
    commits: Vec<JoinHandle<CommitReport>>,
    acks: Vec<Acks>,
}

/// One statement of a full listing.
struct Listed {
    id: Uuid,
    stored: chrono::DateTime<chrono::FixedOffset>,
    registration: Option<Uuid>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_kill_9_mid_ingest() {
    let seed = std::env::var("PROFICIO_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    println!("crash: seed {seed} (replay with PROFICIO_CRASH_SEED={seed})");
    let mut rng = Rng::new(seed);
    let temp = tempfile::tempdir().unwrap();
    let started = Instant::now();

    let mut server = Server::start_on(temp.path(), &[]);
    let (key, secret) = server.credential("crash", &["all", "define"]).await;
    let mut model = Model {
        documents: document_sets(),
        ..Model::default()
    };
    for name in ["ada", "grace"] {
        let learner = start_scorm_session(&server, &key, &secret, name).await;
        model.scorm_registrations.insert(learner.registration);
        model.learners.push(CommitReport {
            learner,
            in_flight: None,
            acknowledged: 0,
            error: None,
        });
    }

    for round in 0..ROUNDS {
        let xapi = client(&server, &key, &secret);
        let shared = Arc::new(Round::default());
        let writers = spawn_writers(&server, &xapi, &shared, &mut model, &mut rng, round);
        wait_for_first_acks(&writers, round).await;
        let delay = rng.between(KILL_DELAY_MS.0, KILL_DELAY_MS.1);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        // The writers rest between writes; the kill waits for the next moment a write is in
        // flight, so that every round dies mid-write.
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        while shared.in_flight.load(Ordering::SeqCst) == 0 {
            assert!(
                Instant::now() < deadline,
                "round {round}: no write in flight (seed {seed})"
            );
            tokio::task::yield_now().await;
        }
        shared.killed.store(true, Ordering::SeqCst);
        server.kill();
        model.totals.kills += 1;
        collect(writers, &mut model, round).await;

        let restarting = Instant::now();
        server = Server::start_on(temp.path(), &[]);
        let xapi = client(&server, &key, &secret);
        let about = xapi.get("?limit=1").await;
        assert_eq!(
            about.status(),
            200,
            "round {round}: first request after restart"
        );
        let recovery = restarting.elapsed();
        model.totals.max_recovery = model.totals.max_recovery.max(recovery);
        verify(&server, &xapi, &key, &secret, &mut model, &mut rng, round).await;
    }

    let totals = &model.totals;
    assert!(totals.kills >= 50, "only {} kills", totals.kills);
    assert!(
        totals.voids >= ROUNDS / 4,
        "too few voiding statements to test voiding: {}",
        totals.voids
    );
    println!(
        "crash: {} kill -9 rounds, acknowledged {} statements ({} voiding), {} document writes, \
         {} SCORM commits; {} statements listed at most; max recovery {} ms; {:.1} s in all",
        totals.kills,
        totals.statements,
        totals.voids,
        totals.documents,
        totals.commits,
        totals.max_listing,
        totals.max_recovery.as_millis(),
        started.elapsed().as_secs_f64()
    );
}

/// An xAPI client with a timeout, so a hung server fails the test instead of stalling CI.
fn client(server: &Server, key: &str, secret: &str) -> Xapi {
    Xapi {
        client: http(),
        ..server.xapi(key, secret)
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .unwrap()
}

/// State documents (replaced and merged) and profiles (replaced), in two writers' sets.
fn document_sets() -> Vec<DocReport> {
    let activity = encode("http://example.com/activities/crash-documents");
    let agent = encode(&json!({"mbox": "mailto:documents@crash.example.com"}).to_string());
    let doc = |path: String, merges: bool| Doc {
        path,
        merges,
        value: None,
        etag: None,
    };
    let states = (0..3)
        .map(|i| {
            doc(
                format!("/activities/state?activityId={activity}&agent={agent}&stateId=s{i}"),
                true,
            )
        })
        .collect();
    let profiles = (0..2)
        .flat_map(|i| {
            [
                doc(
                    format!("/activities/profile?activityId={activity}&profileId=p{i}"),
                    false,
                ),
                doc(
                    format!("/agents/profile?agent={agent}&profileId=p{i}"),
                    false,
                ),
            ]
        })
        .collect();
    [states, profiles]
        .into_iter()
        .map(|docs| DocReport {
            docs,
            in_flight: None,
            acknowledged: 0,
            error: None,
        })
        .collect()
}

/// Imports the SCORM 1.2 course once (the first import makes the package) and launches a
/// session of a new registration for `name`.
async fn start_scorm_session(server: &Server, key: &str, secret: &str, name: &str) -> Learner {
    let http = http();
    let packages: Value = http
        .get(server.url("/scorm/packages"))
        .basic_auth(key, Some(secret))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let package = match packages["packages"].as_array().and_then(|p| p.first()) {
        Some(package) => package["id"].as_str().unwrap().to_owned(),
        None => {
            let imported = http
                .post(server.url("/scorm/packages"))
                .basic_auth(key, Some(secret))
                .header("content-type", "application/zip")
                .body(crate::scorm::course())
                .send()
                .await
                .unwrap();
            assert_eq!(imported.status(), 201);
            let imported: Value = imported.json().await.unwrap();
            imported["id"].as_str().unwrap().to_owned()
        }
    };
    let learner = json!({"objectType": "Agent", "name": name,
        "account": {"homePage": "https://hr.example.org", "name": name}});
    let registered = http
        .post(server.url("/scorm/registrations"))
        .basic_auth(key, Some(secret))
        .json(&json!({"package": package, "learner": learner}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let registration: Value = registered.json().await.unwrap();
    let launch = registration["launch"]["url"].as_str().unwrap();
    let started = server.start_attempt(&http, launch).await;
    let delivery = &started["delivery"];
    Learner {
        registration: registration["id"].as_str().unwrap().parse().unwrap(),
        session: delivery["session"].as_str().unwrap().to_owned(),
        commit_path: delivery["commit_url"].as_str().unwrap().to_owned(),
        acknowledged: None,
        next: 1,
    }
}

fn spawn_writers(
    server: &Server,
    xapi: &Xapi,
    shared: &Arc<Round>,
    model: &mut Model,
    rng: &mut Rng,
    round: usize,
) -> Writers {
    let mut writers = Writers {
        statements: Vec::new(),
        documents: Vec::new(),
        commits: Vec::new(),
        acks: Vec::new(),
    };
    let mut writer = |label: String, rest_ms: (u64, u64)| {
        let acks = Acks::default();
        writers.acks.push(acks.clone());
        Writer {
            round: shared.clone(),
            acks,
            rng: rng.fork(),
            label: format!("{label}-r{round}"),
            rest_ms,
        }
    };
    // Single statements not voided yet are what the voiding writer may void.
    let targets: Vec<Uuid> = model
        .groups
        .iter()
        .filter(|g| g.ids.len() == 1 && g.mbox.starts_with("single"))
        .map(|g| g.ids[0])
        .filter(|id| !model.voided.contains(id))
        .collect();
    let styles = [
        ("batch-a", Style::Batch),
        ("batch-b", Style::Batch),
        ("single", Style::Single { targets }),
        ("put", Style::Put),
    ];
    let mut statement_writers = Vec::new();
    for (name, style) in styles {
        statement_writers.push(tokio::spawn(load::statements(
            xapi.clone(),
            writer(name.to_owned(), STATEMENT_REST_MS),
            style,
        )));
    }
    let mut document_writers = Vec::new();
    for (i, set) in model.documents.iter().enumerate() {
        document_writers.push(tokio::spawn(load::documents(
            xapi.clone(),
            writer(format!("docs{i}"), DOCUMENT_REST_MS),
            set.docs.clone(),
        )));
    }
    let mut commit_writers = Vec::new();
    for (i, learner) in model.learners.iter().enumerate() {
        commit_writers.push(tokio::spawn(load::commits(
            http(),
            server.base.clone(),
            writer(format!("learner{i}"), COMMIT_REST_MS),
            learner.learner.clone(),
        )));
    }
    writers.statements = statement_writers;
    writers.documents = document_writers;
    writers.commits = commit_writers;
    writers
}

/// Waits until every writer has had a write acknowledged, so that each round's kill lands
/// after writes of every kind and the test cannot pass on a round that wrote nothing.
async fn wait_for_first_acks(writers: &Writers, round: usize) {
    let deadline = Instant::now() + REQUEST_TIMEOUT;
    loop {
        if writers.acks.iter().all(|a| a.load(Ordering::SeqCst) > 0) {
            return;
        }
        let finished = writers.statements.iter().any(JoinHandle::is_finished)
            || writers.documents.iter().any(JoinHandle::is_finished)
            || writers.commits.iter().any(JoinHandle::is_finished);
        // A writer that stopped before the kill reports its error once collected.
        if finished {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "round {round}: a writer had nothing acknowledged in {REQUEST_TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Joins the writers of a killed server and takes their reports into the model.
async fn collect(writers: Writers, model: &mut Model, round: usize) {
    model.fresh_groups = model.groups.len();
    model.fresh_voids = model.voids.len();
    for writer in writers.statements {
        let report = writer.await.unwrap();
        assert_eq!(report.error, None, "round {round}: statement writer");
        assert!(
            !report.acknowledged.is_empty(),
            "round {round}: a statement writer had nothing acknowledged"
        );
        for group in &report.acknowledged {
            model.attempted.extend(&group.ids);
            model.totals.statements += group.ids.len();
        }
        for void in &report.voids {
            model.attempted.insert(void.id);
            model.voided.insert(void.target);
        }
        model.totals.statements += report.voids.len();
        model.totals.voids += report.voids.len();
        model.groups.extend(report.acknowledged);
        model.voids.extend(report.voids);
        if let Some(write) = report.in_flight {
            match &write {
                StatementWrite::Group(group) => model.attempted.extend(&group.ids),
                StatementWrite::Void(void) => {
                    model.attempted.insert(void.id);
                }
            }
            model.pending.push(write);
        }
    }
    for (set, writer) in writers.documents.into_iter().enumerate() {
        let report = writer.await.unwrap();
        assert_eq!(report.error, None, "round {round}: document writer");
        assert!(
            report.acknowledged > 0,
            "round {round}: a document writer had nothing acknowledged"
        );
        model.totals.documents += report.acknowledged;
        model.documents[set] = report;
    }
    for (i, writer) in writers.commits.into_iter().enumerate() {
        let report = writer.await.unwrap();
        assert_eq!(report.error, None, "round {round}: SCORM commit writer");
        assert!(
            report.acknowledged > 0,
            "round {round}: a SCORM writer had nothing acknowledged"
        );
        model.totals.commits += report.acknowledged;
        model.learners[i] = report;
    }
}

/// Everything the model says must hold after a restart, and the store's own consistency.
async fn verify(
    server: &Server,
    xapi: &Xapi,
    key: &str,
    secret: &str,
    model: &mut Model,
    rng: &mut Rng,
    round: usize,
) {
    let listing = list_everything(xapi, round).await;
    model.totals.max_listing = model.totals.max_listing.max(listing.len());
    let listed: HashSet<Uuid> = listing.iter().map(|l| l.id).collect();
    resolve_pending(model, &listed, round);
    check_listing(model, &listing, &listed, round);
    check_by_id(xapi, model, rng, round).await;
    check_queries(xapi, model, rng, round).await;
    check_documents(xapi, model, round).await;
    check_scorm(server, key, secret, model, round).await;
}

/// `GET /statements` followed through `more` to the end: each statement once, newest first,
/// `stored` strictly decreasing (it is the statement table's key).
async fn list_everything(xapi: &Xapi, round: usize) -> Vec<Listed> {
    let mut listing: Vec<Listed> = Vec::new();
    let mut seen = HashSet::new();
    let mut query = "?limit=1000&format=ids".to_owned();
    loop {
        let page = xapi.get_json(&query).await;
        for statement in page["statements"].as_array().unwrap() {
            let id: Uuid = statement["id"].as_str().unwrap().parse().unwrap();
            let stored =
                chrono::DateTime::parse_from_rfc3339(statement["stored"].as_str().unwrap())
                    .unwrap();
            assert!(
                seen.insert(id),
                "round {round}: statement {id} listed twice"
            );
            if let Some(previous) = listing.last() {
                assert!(
                    stored < previous.stored,
                    "round {round}: {id} stored {stored} listed after {} stored {}",
                    previous.id,
                    previous.stored
                );
            }
            listing.push(Listed {
                id,
                stored,
                registration: statement["context"]["registration"]
                    .as_str()
                    .and_then(|r| r.parse().ok()),
            });
        }
        let more = page["more"].as_str().unwrap_or_default();
        if more.is_empty() {
            return listing;
        }
        let (_, rest) = more.split_once('?').unwrap();
        query = format!("?{rest}");
    }
}

/// Writes in flight at the kill: each batch is found whole or not at all, and what was found
/// joins the model.
fn resolve_pending(model: &mut Model, listed: &HashSet<Uuid>, round: usize) {
    for write in std::mem::take(&mut model.pending) {
        match write {
            StatementWrite::Group(group) => {
                let found = group.ids.iter().filter(|id| listed.contains(id)).count();
                assert!(
                    found == 0 || found == group.ids.len(),
                    "round {round}: a batch in flight at the kill was stored in part: {found} of {}",
                    group.ids.len()
                );
                if found > 0 {
                    model.groups.push(group);
                }
            }
            StatementWrite::Void(void) => {
                if listed.contains(&void.id) {
                    model.voided.insert(void.target);
                    model.voids.push(void);
                }
            }
        }
    }
}

/// The listing holds exactly the statements known stored and not voided, and nothing this
/// test sent that was never acknowledged nor found; the rest are the SCORM sessions'.
fn check_listing(model: &Model, listing: &[Listed], listed: &HashSet<Uuid>, round: usize) {
    let mut known = HashSet::new();
    for group in &model.groups {
        for id in &group.ids {
            known.insert(*id);
            if model.voided.contains(id) {
                assert!(
                    !listed.contains(id),
                    "round {round}: voided statement {id} is listed"
                );
            } else {
                assert!(
                    listed.contains(id),
                    "round {round}: acknowledged statement {id} ({}) lost",
                    group.mbox
                );
            }
        }
    }
    for void in &model.voids {
        known.insert(void.id);
        assert!(
            listed.contains(&void.id),
            "round {round}: acknowledged voiding statement {} lost",
            void.id
        );
    }
    for statement in listing {
        if model.attempted.contains(&statement.id) {
            assert!(
                known.contains(&statement.id),
                "round {round}: statement {} reappeared after it was found missing",
                statement.id
            );
        } else {
            assert!(
                statement
                    .registration
                    .is_some_and(|r| model.scorm_registrations.contains(&r)),
                "round {round}: statement {} is neither written here nor a SCORM session's",
                statement.id
            );
        }
    }
}

/// Statements learnt of since the last check, and a sample of older ones, read by id; voided
/// ones only by `voidedStatementId` (xAPI Data §2.3.2).
async fn check_by_id(xapi: &Xapi, model: &Model, rng: &mut Rng, round: usize) {
    let older = rng.sample(model.fresh_groups, 20);
    let groups = older
        .into_iter()
        .chain(model.fresh_groups..model.groups.len())
        .map(|i| &model.groups[i]);
    for group in groups {
        for (index, id) in group.ids.iter().enumerate() {
            let parameter = if model.voided.contains(id) {
                let hidden = xapi.get(&format!("?statementId={id}")).await.status();
                assert_eq!(hidden, 404, "round {round}: voided {id} by statementId");
                "voidedStatementId"
            } else {
                "statementId"
            };
            let statement = xapi.get_json(&format!("?{parameter}={id}")).await;
            let expected = group.statement(index);
            for field in ["id", "actor", "verb", "object", "context"] {
                assert_eq!(
                    statement[field], expected[field],
                    "round {round}: {parameter}={id}: {field}"
                );
            }
        }
    }
    let voids = rng
        .sample(model.fresh_voids, 5)
        .into_iter()
        .chain(model.fresh_voids..model.voids.len())
        .map(|i| model.voids[i]);
    for void in voids {
        let statement = xapi.get_json(&format!("?statementId={}", void.id)).await;
        assert_eq!(statement["verb"]["id"], VOIDING_VERB, "round {round}");
        assert_eq!(
            statement["object"]["id"],
            void.target.to_string(),
            "round {round}"
        );
    }
}

/// The filter indexes agree with the statement table: for a sample of groups, the query by
/// each of agent, verb, registration and activity answers exactly the group's statements
/// that are not voided (voiding statements aside: they may match through their target,
/// xAPI Communication §2.1.3).
async fn check_queries(xapi: &Xapi, model: &Model, rng: &mut Rng, round: usize) {
    let fresh = model.groups.len() - model.fresh_groups;
    let mut chosen: Vec<usize> = rng
        .sample(fresh, 6)
        .into_iter()
        .map(|i| model.fresh_groups + i)
        .chain(rng.sample(model.fresh_groups, 3))
        .collect();
    // Groups holding a statement voided since the last check: what voiding must have removed.
    let newly_voided: HashSet<Uuid> = model.voids[model.fresh_voids..]
        .iter()
        .map(|v| v.target)
        .collect();
    chosen.extend(
        model
            .groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.ids.iter().any(|id| newly_voided.contains(id)))
            .map(|(i, _)| i)
            .take(4),
    );
    let voiding: HashSet<Uuid> = model.voids.iter().map(|v| v.id).collect();
    for group in chosen.into_iter().map(|i| &model.groups[i]) {
        let expected: HashSet<Uuid> = group
            .ids
            .iter()
            .filter(|id| !model.voided.contains(id))
            .copied()
            .collect();
        let agent = encode(&json!({"mbox": format!("mailto:{}", group.mbox)}).to_string());
        for query in [
            format!("?agent={agent}"),
            format!("?verb={}", encode(&group.verb)),
            format!("?registration={}", group.registration),
        ] {
            let found = query_ids(xapi, &query, &voiding).await;
            assert_eq!(found, expected, "round {round}: GET /statements{query}");
        }
        let index = rng.index(group.ids.len());
        let query = format!("?activity={}", encode(&group.activities[index]));
        let found = query_ids(xapi, &query, &voiding).await;
        let id = group.ids[index];
        let expected: HashSet<Uuid> = expected.into_iter().filter(|e| *e == id).collect();
        assert_eq!(found, expected, "round {round}: GET /statements{query}");
    }
}

/// The ids a query answers, voiding statements left out.
async fn query_ids(xapi: &Xapi, query: &str, voiding: &HashSet<Uuid>) -> HashSet<Uuid> {
    let page = xapi.get_json(query).await;
    assert!(
        page["more"].as_str().unwrap_or_default().is_empty(),
        "a group fits in one page: {query}"
    );
    page["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().parse().unwrap())
        .filter(|id| !voiding.contains(id))
        .collect()
}

/// Each document holds its last acknowledged content, or the content of the write in flight
/// at the kill; the model then follows what the server holds, ETag included.
async fn check_documents(xapi: &Xapi, model: &mut Model, round: usize) {
    for set in &mut model.documents {
        let in_flight = set.in_flight.take();
        for (index, doc) in set.docs.iter_mut().enumerate() {
            let landing = in_flight
                .as_ref()
                .filter(|(i, _)| *i == index)
                .map(|(_, v)| v);
            let response = xapi
                .request(reqwest::Method::GET, &doc.path)
                .send()
                .await
                .unwrap();
            let status = response.status();
            if status == 404 {
                assert!(
                    doc.value.is_none(),
                    "round {round}: acknowledged document {} lost",
                    doc.path
                );
                continue;
            }
            assert_eq!(status, 200, "round {round}: GET {}", doc.path);
            let etag = response.headers()["etag"].to_str().unwrap().to_owned();
            let value: Value = response.json().await.unwrap();
            assert!(
                doc.value.as_ref() == Some(&value) || landing == Some(&value),
                "round {round}: {} holds {value}; acknowledged {:?}, in flight {:?}",
                doc.path,
                doc.value,
                landing
            );
            if doc.value.as_ref() == Some(&value) {
                // The ETag is the SHA-1 of the stored body: the same content, the same tag.
                assert_eq!(
                    doc.etag.as_ref(),
                    Some(&etag),
                    "round {round}: {} ETag",
                    doc.path
                );
            }
            doc.value = Some(value);
            doc.etag = Some(etag);
        }
    }
}

/// Each session shows its last acknowledged commit, or the one in flight at the kill
/// (commits are idempotent by session and sequence); the next commit goes past both.
async fn check_scorm(server: &Server, key: &str, secret: &str, model: &mut Model, round: usize) {
    let http = http();
    for report in &mut model.learners {
        let learner = &mut report.learner;
        let response = http
            .get(server.url(&format!("/scorm/registrations/{}", learner.registration)))
            .basic_auth(key, Some(secret))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "round {round}: registration");
        let view: Value = response.json().await.unwrap();
        let session = view["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == learner.session.as_str())
            .unwrap_or_else(|| panic!("round {round}: session missing from {view}"));
        assert_eq!(session["ended"], false, "round {round}: {session}");
        let sequence = session["commits"].as_u64().unwrap();
        let shown = (sequence > 0).then(|| Commit {
            sequence,
            location: session["summary"]["location"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            suspend_data: session["summary"]["suspend_data"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        });
        let in_flight = report.in_flight.take();
        assert!(
            shown == learner.acknowledged || (in_flight.is_some() && shown == in_flight),
            "round {round}: registration {} shows {shown:?}; acknowledged {:?}, in flight {:?}",
            learner.registration,
            learner.acknowledged,
            in_flight
        );
        // The registration's record of the attempt is written after the session's, before
        // the answer: it shows the acknowledged commit, or the one in flight if that got
        // that far.
        let activity = view["activities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["item"] == session["item"])
            .unwrap_or_else(|| panic!("round {round}: no activity of {session} in {view}"));
        let recorded = (
            activity["summary"]["location"].as_str(),
            activity["summary"]["suspend_data"].as_str(),
        );
        assert!(
            recorded == values(learner.acknowledged.as_ref())
                || (in_flight.is_some() && recorded == values(in_flight.as_ref())),
            "round {round}: registration {} records {recorded:?} for the attempt; acknowledged \
             {:?}, in flight {:?}",
            learner.registration,
            learner.acknowledged,
            in_flight
        );
        learner.next = sequence.max(in_flight.map_or(0, |c| c.sequence)) + 1;
        // A browser that never saw the answer sends the commit again: the restarted server
        // knows it by its sequence and keeps nothing twice.
        if let Some(kept) = &shown {
            let again: Value = http
                .post(server.url(&learner.commit_path))
                .header("content-type", "text/plain")
                .body(kept.payload().to_string())
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(again["duplicate"], true, "round {round}: {again}");
            assert_eq!(again["sequence"], kept.sequence, "round {round}: {again}");
        }
        learner.acknowledged = shown;
    }
}

/// The values a commit sets, as a registration's summary of the attempt shows them.
fn values(commit: Option<&Commit>) -> (Option<&str>, Option<&str>) {
    commit.map_or((None, None), |c| {
        (Some(c.location.as_str()), Some(c.suspend_data.as_str()))
    })
}
