//! The writers of the crash test. Each sends one kind of write in a loop until the server is
//! killed under it, and reports what was acknowledged and what was still in flight, so that
//! the test knows exactly which outcomes a restart may show.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::Xapi;

/// What the writers of one round share with the test that kills the server.
#[derive(Default)]
pub struct Round {
    /// Set just before the kill: a transport error after it is the kill, before it a failure.
    pub killed: AtomicBool,
    /// Requests sent and not yet answered; read at the kill to show it landed mid-write.
    pub in_flight: AtomicUsize,
}

/// A writer's count of acknowledged writes, watched by the test to time the kill.
pub type Acks = Arc<AtomicUsize>;

/// What every writer is given: the round it writes in, its count of acknowledged writes, its
/// own generator, a label that makes its writes unique, and how long it rests between writes.
pub struct Writer {
    pub round: Arc<Round>,
    pub acks: Acks,
    pub rng: Rng,
    pub label: String,
    /// Milliseconds, low and high. The rest keeps the data a round leaves small (a restart
    /// replays the journal, so recovery time grows with it) while the writers, together,
    /// almost always have a request in flight.
    pub rest_ms: (u64, u64),
}

/// SplitMix64: seeded, so that a failing run's kill times and write shapes can be replayed.
pub struct Rng(u64);

/// Statements stored together: a batch or a single statement. Actor, verb and registration
/// are unique to the group and each statement has its own activity, so the exact answer of a
/// filtered query is known.
#[derive(Debug, Clone)]
pub struct Group {
    pub ids: Vec<Uuid>,
    pub mbox: String,
    pub verb: String,
    pub registration: Uuid,
    pub activities: Vec<String>,
}

/// A voiding statement and the statement it voids.
#[derive(Debug, Clone, Copy)]
pub struct Void {
    pub id: Uuid,
    pub target: Uuid,
}

#[derive(Debug, Clone)]
pub enum StatementWrite {
    Group(Group),
    Void(Void),
}

/// How a statement writer sends.
pub enum Style {
    /// POST of an array of statements, all or nothing.
    Batch,
    /// POST of one statement, and now and then a voiding statement for one of `targets`
    /// (statements known to be stored and not voided yet).
    Single { targets: Vec<Uuid> },
    /// PUT with an id chosen by the client.
    Put,
}

#[derive(Debug, Default)]
pub struct StatementReport {
    pub acknowledged: Vec<Group>,
    pub voids: Vec<Void>,
    pub in_flight: Option<StatementWrite>,
    pub error: Option<String>,
}

/// One document and what its writer knows of it.
#[derive(Debug, Clone)]
pub struct Doc {
    /// Path and query under `/xapi`.
    pub path: String,
    /// State documents are also written by POST (merge); profiles here only by PUT.
    pub merges: bool,
    /// The last acknowledged content, or what a restart showed; `None` while there is none.
    pub value: Option<Value>,
    /// The ETag of `value`, quoted as the server sends it.
    pub etag: Option<String>,
}

#[derive(Debug)]
pub struct DocReport {
    pub docs: Vec<Doc>,
    /// The document written when the server died, and its content had the write landed.
    pub in_flight: Option<(usize, Value)>,
    pub acknowledged: usize,
    pub error: Option<String>,
}

/// A SCORM session that a writer commits to, and the last commit known to be kept.
#[derive(Debug, Clone)]
pub struct Learner {
    pub registration: Uuid,
    pub session: String,
    /// `/scorm/launch/{token}/api/sessions/{session}/commits`; the token outlives restarts.
    pub commit_path: String,
    pub acknowledged: Option<Commit>,
    pub next: u64,
}

/// The values a commit sets, which the session's summary shows once it is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub sequence: u64,
    pub location: String,
    pub suspend_data: String,
}

#[derive(Debug)]
pub struct CommitReport {
    pub learner: Learner,
    pub in_flight: Option<Commit>,
    pub acknowledged: usize,
    pub error: Option<String>,
}

/// One answer, read whole.
struct Answer {
    status: StatusCode,
    etag: Option<String>,
    body: Vec<u8>,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`; the modulo bias is irrelevant for test inputs.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low + 1)
    }

    pub fn index(&mut self, len: usize) -> usize {
        self.between(0, len as u64 - 1) as usize
    }

    /// Up to `count` distinct indices below `len`.
    pub fn sample(&mut self, len: usize, count: usize) -> Vec<usize> {
        let mut all: Vec<usize> = (0..len).collect();
        let take = count.min(len);
        for i in 0..take {
            let j = i + self.index(len - i);
            all.swap(i, j);
        }
        all.truncate(take);
        all
    }

    pub fn uuid(&mut self) -> Uuid {
        let high = u128::from(self.next_u64()) << 64;
        let low = u128::from(self.next_u64());
        uuid::Builder::from_random_bytes((high | low).to_le_bytes()).into_uuid()
    }

    /// A generator of its own for a writer task.
    pub fn fork(&mut self) -> Rng {
        Rng::new(self.next_u64())
    }
}

impl Writer {
    async fn acknowledged(&mut self) {
        self.acks.fetch_add(1, Ordering::SeqCst);
        let rest = self.rng.between(self.rest_ms.0, self.rest_ms.1);
        tokio::time::sleep(std::time::Duration::from_millis(rest)).await;
    }
}

impl Group {
    fn new(rng: &mut Rng, label: &str, n: u64, size: usize) -> Group {
        Group {
            ids: (0..size).map(|_| rng.uuid()).collect(),
            mbox: format!("{label}.{n}@crash.example.com"),
            verb: format!("http://example.com/verbs/crash/{label}/{n}"),
            registration: rng.uuid(),
            activities: (0..size)
                .map(|i| format!("http://example.com/activities/crash/{label}/{n}/{i}"))
                .collect(),
        }
    }

    pub fn statement(&self, index: usize) -> Value {
        json!({
            "id": self.ids[index],
            "actor": {"objectType": "Agent", "mbox": format!("mailto:{}", self.mbox)},
            "verb": {"id": self.verb, "display": {"en-US": "wrote under fire"}},
            "object": {"objectType": "Activity", "id": self.activities[index]},
            "context": {"registration": self.registration},
        })
    }
}

impl Void {
    fn statement(&self) -> Value {
        json!({
            "id": self.id,
            "actor": {"objectType": "Agent", "mbox": "mailto:voider@crash.example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
            "object": {"objectType": "StatementRef", "id": self.target},
        })
    }
}

impl Commit {
    fn new(label: &str, sequence: u64) -> Commit {
        // suspend_data changes length too, so a torn write could not pass for a whole one.
        Commit {
            sequence,
            location: format!("{label}-page-{sequence}"),
            suspend_data: format!(
                "{label};seq={sequence};{}",
                "s".repeat((sequence % 97) as usize)
            ),
        }
    }

    pub fn payload(&self) -> Value {
        json!({
            "data_model": "Scorm12",
            "sequence": self.sequence,
            "terminated": false,
            "values": [
                {"element": "cmi.core.lesson_location", "value": self.location},
                {"element": "cmi.suspend_data", "value": self.suspend_data},
            ],
        })
    }
}

/// Sends one write and reads its answer whole. `Ok(None)`: the server was killed under it.
async fn send(round: &Round, request: RequestBuilder) -> Result<Option<Answer>, String> {
    round.in_flight.fetch_add(1, Ordering::SeqCst);
    let answer = async {
        let response = request.send().await?;
        let status = response.status();
        let etag = response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.bytes().await?.to_vec();
        Ok::<_, reqwest::Error>(Answer { status, etag, body })
    }
    .await;
    round.in_flight.fetch_sub(1, Ordering::SeqCst);
    match answer {
        Ok(answer) => Ok(Some(answer)),
        Err(_) if round.killed.load(Ordering::SeqCst) => Ok(None),
        Err(error) => Err(format!("transport error before the kill: {error}")),
    }
}

fn unexpected(what: &str, answer: &Answer) -> String {
    format!(
        "{what}: {} {}",
        answer.status,
        String::from_utf8_lossy(&answer.body)
    )
}

/// Writes statements until the server dies.
pub async fn statements(xapi: Xapi, mut writer: Writer, mut style: Style) -> StatementReport {
    let mut report = StatementReport::default();
    for n in 0.. {
        let rng = &mut writer.rng;
        let label = &writer.label;
        let write = match &mut style {
            Style::Single { targets } if n % 4 == 3 && !targets.is_empty() => {
                let target = targets.swap_remove(rng.index(targets.len()));
                StatementWrite::Void(Void {
                    id: rng.uuid(),
                    target,
                })
            }
            Style::Batch => {
                let size = rng.between(2, 6) as usize;
                StatementWrite::Group(Group::new(rng, label, n, size))
            }
            Style::Single { .. } | Style::Put => {
                StatementWrite::Group(Group::new(rng, label, n, 1))
            }
        };
        let (request, expected) = match (&style, &write) {
            (Style::Put, StatementWrite::Group(group)) => (
                xapi.request(
                    Method::PUT,
                    &format!("/statements?statementId={}", group.ids[0]),
                )
                .json(&group.statement(0)),
                StatusCode::NO_CONTENT,
            ),
            (Style::Batch, StatementWrite::Group(group)) => {
                let batch: Vec<Value> = (0..group.ids.len()).map(|i| group.statement(i)).collect();
                (
                    xapi.request(Method::POST, "/statements").json(&batch),
                    StatusCode::OK,
                )
            }
            (_, StatementWrite::Group(group)) => (
                xapi.request(Method::POST, "/statements")
                    .json(&group.statement(0)),
                StatusCode::OK,
            ),
            (_, StatementWrite::Void(void)) => (
                xapi.request(Method::POST, "/statements")
                    .json(&void.statement()),
                StatusCode::OK,
            ),
        };
        report.in_flight = Some(write.clone());
        let answer = match send(&writer.round, request).await {
            Ok(Some(answer)) => answer,
            Ok(None) => return report,
            Err(error) => {
                report.error = Some(error);
                return report;
            }
        };
        if answer.status != expected {
            report.error = Some(unexpected("statement write refused", &answer));
            return report;
        }
        let sent: Vec<Uuid> = match &write {
            StatementWrite::Group(group) => group.ids.clone(),
            StatementWrite::Void(void) => vec![void.id],
        };
        if expected == StatusCode::OK {
            let returned: Result<Vec<Uuid>, _> = serde_json::from_slice(&answer.body);
            if returned.as_ref().ok() != Some(&sent) {
                report.error = Some(unexpected("POST answered other ids", &answer));
                return report;
            }
        }
        report.in_flight = None;
        match write {
            StatementWrite::Group(group) => {
                if let Style::Single { targets } = &mut style {
                    targets.push(group.ids[0]);
                }
                report.acknowledged.push(group);
            }
            StatementWrite::Void(void) => report.voids.push(void),
        }
        writer.acknowledged().await;
    }
    report
}

/// Replaces and merges documents until the server dies, each write conditional on the ETag of
/// the content it replaces (xAPI Communication §3.1), so a lost update could not go unseen.
pub async fn documents(xapi: Xapi, mut writer: Writer, docs: Vec<Doc>) -> DocReport {
    let mut report = DocReport {
        docs,
        in_flight: None,
        acknowledged: 0,
        error: None,
    };
    for n in 0u64.. {
        let index = (n % report.docs.len() as u64) as usize;
        let doc = &report.docs[index];
        let merge = doc.merges && doc.value.is_some() && writer.rng.between(0, 1) == 1;
        let label = &writer.label;
        let (method, body, content) = if merge {
            let body = json!({"n": n, format!("key{}", n % 5): label});
            let mut merged = doc.value.clone().unwrap_or_else(|| json!({}));
            if let (Some(into), Some(from)) = (merged.as_object_mut(), body.as_object()) {
                into.extend(from.clone());
            }
            (Method::POST, body, merged)
        } else {
            let body = json!({"writer": label, "n": n, "pad": "d".repeat((n % 61) as usize)});
            (Method::PUT, body.clone(), body)
        };
        let condition = match (&doc.value, &doc.etag) {
            (None, _) => ("If-None-Match", "*".to_owned()),
            (Some(_), Some(etag)) => ("If-Match", etag.clone()),
            (Some(_), None) => {
                report.error = Some(format!("{}: content known but no ETag", doc.path));
                return report;
            }
        };
        let request = xapi
            .request(method, &doc.path)
            .header(condition.0, condition.1)
            .header("Content-Type", "application/json")
            .body(body.to_string());
        report.in_flight = Some((index, content.clone()));
        let answer = match send(&writer.round, request).await {
            Ok(Some(answer)) => answer,
            Ok(None) => return report,
            Err(error) => {
                report.error = Some(error);
                return report;
            }
        };
        if answer.status != StatusCode::NO_CONTENT || answer.etag.is_none() {
            report.error = Some(unexpected(&format!("document write {}", doc.path), &answer));
            return report;
        }
        report.in_flight = None;
        let doc = &mut report.docs[index];
        doc.value = Some(content);
        doc.etag = answer.etag;
        report.acknowledged += 1;
        writer.acknowledged().await;
    }
    report
}

/// Commits to one SCORM session until the server dies, with strictly increasing sequence
/// numbers, as the player's API does between LMSInitialize and LMSFinish.
pub async fn commits(
    http: reqwest::Client,
    base: String,
    mut writer: Writer,
    learner: Learner,
) -> CommitReport {
    let mut report = CommitReport {
        learner,
        in_flight: None,
        acknowledged: 0,
        error: None,
    };
    loop {
        let commit = Commit::new(&writer.label, report.learner.next);
        let request = http
            .post(format!("{base}{}", report.learner.commit_path))
            .header("Content-Type", "text/plain")
            .body(commit.payload().to_string());
        report.in_flight = Some(commit.clone());
        let answer = match send(&writer.round, request).await {
            Ok(Some(answer)) => answer,
            Ok(None) => return report,
            Err(error) => {
                report.error = Some(error);
                return report;
            }
        };
        let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        if answer.status != StatusCode::OK
            || body["accepted"] != true
            || body["sequence"] != commit.sequence
        {
            report.error = Some(unexpected("SCORM commit", &answer));
            return report;
        }
        report.in_flight = None;
        report.learner.next = commit.sequence + 1;
        report.learner.acknowledged = Some(commit);
        report.acknowledged += 1;
        writer.acknowledged().await;
    }
}
