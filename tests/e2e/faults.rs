//! What the fault tests share: writers that post statements with ids they chose and record
//! every answer, and a check of the store after the fault against those answers.
//!
//! A fault may refuse a write, never lose an acknowledged one or store a batch in part: after
//! recovery every acknowledged statement is readable by id, and every batch, acknowledged or
//! not, is stored whole or not at all.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Server, Xapi};

/// Concurrent readers of the check after the fault.
const VERIFIERS: usize = 8;

/// The answer to one write.
#[derive(Clone, Debug)]
pub enum Outcome {
    Acknowledged,
    /// A store refusal: 503 or 507 with `Retry-After` and a JSON body naming the error.
    Refused {
        status: u16,
        error: String,
    },
    /// Anything else: status and body, or the transport error.
    Other(String),
}

impl Outcome {
    pub fn acknowledged(&self) -> bool {
        matches!(self, Outcome::Acknowledged)
    }

    pub fn describe(&self) -> String {
        match self {
            Outcome::Acknowledged => "acknowledged".to_owned(),
            Outcome::Refused { status, error } => format!("{status} {error}"),
            Outcome::Other(what) => what.clone(),
        }
    }

    /// A refusal with this status and error code.
    pub fn refused(&self, status: u16, error: &str) -> bool {
        matches!(self, Outcome::Refused { status: s, error: e } if *s == status && e == error)
    }
}

#[derive(Clone, Debug)]
pub struct Attempt {
    pub ids: Vec<Uuid>,
    pub batch: bool,
    pub started: Instant,
    pub finished: Instant,
    pub outcome: Outcome,
}

/// An xAPI client whose requests give up after `timeout`, so a hung server fails the test
/// instead of stalling the run.
pub fn client(server: &Server, key: &str, secret: &str, timeout: Duration) -> Xapi {
    let mut xapi = server.xapi(key, secret);
    xapi.client = reqwest::Client::builder().timeout(timeout).build().unwrap();
    xapi
}

/// How the writers write.
#[derive(Clone, Copy)]
pub struct Load {
    pub batch: usize,
    /// Rest between two writes of one writer, and after a refused one (so that a server
    /// refusing at once is not hammered).
    pub rest: Duration,
    pub rest_after_failure: Duration,
}

/// What the writers record, and the switch that stops them.
#[derive(Default)]
pub struct Writes {
    pub attempts: Mutex<Vec<Attempt>>,
    pub stop: AtomicBool,
}

impl Writes {
    pub fn snapshot(&self) -> Vec<Attempt> {
        self.attempts.lock().unwrap().clone()
    }

    pub fn since(&self, from: Instant) -> Vec<Attempt> {
        self.attempts
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a.started >= from)
            .cloned()
            .collect()
    }
}

fn statement(id: Uuid, writer: usize, n: usize) -> Value {
    json!({
        "id": id,
        "actor": {"objectType": "Agent", "mbox": format!("mailto:writer{writer}@example.com")},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"en-US": "experienced"}},
        "object": {"objectType": "Activity", "id": format!("http://example.com/faults/{}", n % 20)},
        "result": {"response": "a response long enough to fill the disk at a steady pace; ".repeat(8)}
    })
}

/// Writes until told to stop, alternating a single statement and a batch, each with fresh ids.
pub async fn write_loop(xapi: Xapi, writes: Arc<Writes>, writer: usize, load: Load) {
    let mut n = 0;
    while !writes.stop.load(Ordering::SeqCst) {
        let batch = n % 2 == 1;
        let ids: Vec<Uuid> = (0..if batch { load.batch } else { 1 })
            .map(|_| Uuid::new_v4())
            .collect();
        let body = if batch {
            Value::Array(ids.iter().map(|id| statement(*id, writer, n)).collect())
        } else {
            statement(ids[0], writer, n)
        };
        n += 1;
        let started = Instant::now();
        let outcome = match xapi
            .request(reqwest::Method::POST, "/statements")
            .json(&body)
            .send()
            .await
        {
            Ok(response) => outcome(response, &ids).await,
            Err(e) => Outcome::Other(format!("transport: {e}")),
        };
        let failed = !outcome.acknowledged();
        writes.attempts.lock().unwrap().push(Attempt {
            ids,
            batch,
            started,
            finished: Instant::now(),
            outcome,
        });
        tokio::time::sleep(if failed {
            load.rest_after_failure
        } else {
            load.rest
        })
        .await;
    }
}

async fn outcome(response: reqwest::Response, ids: &[Uuid]) -> Outcome {
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").is_some();
    let text = response.text().await.unwrap_or_default();
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    match status {
        200 => {
            let answered: Vec<Uuid> = serde_json::from_value(body).unwrap_or_default();
            if answered == ids {
                Outcome::Acknowledged
            } else {
                Outcome::Other(format!("200 with ids {answered:?}, sent {ids:?}"))
            }
        }
        503 | 507
            if retry_after
                && body["status"] == json!(status)
                && body["error"].is_string()
                && body["message"].as_str().is_some_and(|m| !m.is_empty())
                && body.as_object().is_some_and(|o| o.len() == 3) =>
        {
            Outcome::Refused {
                status,
                error: body["error"].as_str().unwrap_or_default().to_owned(),
            }
        }
        _ => Outcome::Other(format!("{status} {text}")),
    }
}

#[derive(Default)]
pub struct Checked {
    pub acknowledged_readable: usize,
    pub batches_whole: usize,
    pub batches_acknowledged: usize,
    pub batches_absent: usize,
    pub unacknowledged_stored: usize,
    pub problems: Vec<String>,
}

impl Checked {
    pub fn summary(&self) -> String {
        format!(
            "{} acknowledged statements readable by id; {} batches whole ({} acknowledged), \
             {} absent; {} unacknowledged statements stored anyway",
            self.acknowledged_readable,
            self.batches_whole,
            self.batches_acknowledged,
            self.batches_absent,
            self.unacknowledged_stored
        )
    }

    pub fn assert_clean(&self, when: &str) {
        assert!(
            self.problems.is_empty(),
            "{when} ({} problems):\n{}",
            self.problems.len(),
            self.problems.join("\n")
        );
    }
}

/// Reads every statement ever sent by id: acknowledged ones must be there with their content,
/// batches whole or absent.
pub async fn verify(xapi: &Xapi, attempts: &[Attempt]) -> Checked {
    let queue: Arc<Mutex<Vec<(usize, Uuid)>>> = Arc::new(Mutex::new(
        attempts
            .iter()
            .enumerate()
            .flat_map(|(i, a)| a.ids.iter().map(move |id| (i, *id)))
            .collect(),
    ));
    let found: Arc<Mutex<HashMap<Uuid, Result<bool, String>>>> = Arc::default();
    let mut readers = Vec::new();
    for _ in 0..VERIFIERS {
        let (queue, found, xapi) = (queue.clone(), found.clone(), xapi.clone());
        readers.push(tokio::spawn(async move {
            loop {
                let Some((_, id)) = queue.lock().unwrap().pop() else {
                    return;
                };
                let response = xapi.get(&format!("?statementId={id}")).await;
                let status = response.status().as_u16();
                let result = match status {
                    200 => {
                        let body: Value = response.json().await.unwrap_or(Value::Null);
                        if body["id"] == json!(id) {
                            Ok(true)
                        } else {
                            Err(format!("{id}: GET answered another statement: {body}"))
                        }
                    }
                    404 => Ok(false),
                    _ => Err(format!("{id}: GET answered {status}")),
                };
                found.lock().unwrap().insert(id, result);
            }
        }));
    }
    for reader in readers {
        reader.await.unwrap();
    }
    let found = found.lock().unwrap();
    let mut checked = Checked::default();
    for attempt in attempts {
        let mut present = 0;
        for id in &attempt.ids {
            match &found[id] {
                Ok(true) => present += 1,
                Ok(false) => {}
                Err(problem) => checked.problems.push(problem.clone()),
            }
        }
        let acknowledged = attempt.outcome.acknowledged();
        if acknowledged {
            if present == attempt.ids.len() {
                checked.acknowledged_readable += present;
            } else {
                checked.problems.push(format!(
                    "acknowledged write of {:?} ({:?}): {present} of {} readable",
                    attempt.ids,
                    attempt.outcome,
                    attempt.ids.len()
                ));
            }
        } else {
            checked.unacknowledged_stored += present;
        }
        if attempt.batch {
            if present == attempt.ids.len() {
                checked.batches_whole += 1;
                checked.batches_acknowledged += usize::from(acknowledged);
            } else if present == 0 {
                checked.batches_absent += 1;
            } else {
                checked.problems.push(format!(
                    "batch {:?} ({:?}) is partly stored: {present} of {}",
                    attempt.ids,
                    attempt.outcome,
                    attempt.ids.len()
                ));
            }
        }
    }
    checked
}

/// The distinct causes of the server's store failures, as it logged them, with how often each
/// came.
pub fn print_store_errors(test: &str, log: &str) {
    let mut causes: Vec<(String, usize)> = Vec::new();
    for line in log.lines().filter(|l| l.contains("store failed")) {
        // Timestamps differ; the rest says what failed.
        let cause: String = line
            .split_once(' ')
            .map_or(line, |(_, rest)| rest)
            .trim()
            .chars()
            .take(300)
            .collect();
        match causes.iter_mut().find(|(c, _)| *c == cause) {
            Some((_, n)) => *n += 1,
            None => causes.push((cause, 1)),
        }
    }
    println!(
        "{test}: the server logged {} distinct store failures",
        causes.len()
    );
    for (cause, n) in causes.iter().take(12) {
        println!("  {n:>5} × {cause}");
    }
}

/// Straight to stderr, not through eprintln!: the test harness captures the print macros,
/// and a skip must show in a plain `cargo test` too.
pub fn say_skipped(why: &str) {
    let line = "#".repeat(80);
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("\n{line}\nNOTE: {why}\n{line}\n").as_bytes(),
    );
}
