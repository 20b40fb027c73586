//! Faults on a three-node Apache Cassandra cluster: replication factor 3, QUORUM reads and writes.
//!
//! A real `proficio serve` writes to the cluster while nodes die. Concurrent writers post
//! single statements and batches, each with ids the test chose, and record every answer:
//!
//! 1. **one node killed** (`kill -9`) mid-ingest: a quorum (two of three) is still there, so
//!    ingest goes on; failures may only be 503s while the cluster notices the death;
//! 2. **a second node killed**: no quorum, so every write started afterwards answers 503 with
//!    the store-unavailable body; reads of stored statements are probed and reported;
//! 3. **both restarted** on their data: writes are acknowledged again, and the time that takes
//!    is measured.
//!
//! Then every acknowledged statement must be readable by id (at QUORUM), and every batch,
//! acknowledged or not, must be stored whole or not at all.
//!
//! Runs only when `PROFICIO_TEST_CLUSTER` is `HOST:PORT,HOST:PORT,HOST:PORT SCRIPT`: the three
//! CQL endpoints (node 1, 2, 3) and the path of `scripts/cassandra/cluster`, whose `kill N` and
//! `restart N` act on the cluster named by `PROFICIO_CASSANDRA_CLUSTER_DIR`.
//! `scripts/cassandra/fault-test` sets both up; three JVMs are too heavy for every CI run.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::faults::{
    Attempt, Load, Outcome, Writes, client, print_store_errors, say_skipped, verify, write_loop,
};
use crate::helpers::{Server, Xapi, binary};

/// Concurrent writers; each alternates a single statement and a batch.
const WRITERS: usize = 4;
const LOAD: Load = Load {
    batch: 5,
    rest: Duration::from_millis(20),
    rest_after_failure: Duration::from_millis(200),
};
const ALL_UP: Duration = Duration::from_secs(15);
const ONE_DOWN: Duration = Duration::from_secs(40);
const TWO_DOWN: Duration = Duration::from_secs(20);
const AFTER_RECOVERY: Duration = Duration::from_secs(20);
/// How long after a node's death the cluster may still fail writes: until the coordinators'
/// failure detector marks it down, requests sent to it time out.
const SETTLE: Duration = Duration::from_secs(20);
/// Writes must be acknowledged again within this long once a second node is back (a quorum).
const RECOVERY_BOUND: Duration = Duration::from_secs(60);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const PROBE_EVERY: Duration = Duration::from_millis(500);

/// The cluster under test, from `PROFICIO_TEST_CLUSTER`.
struct Cluster {
    endpoints: Vec<String>,
    script: PathBuf,
}

/// A read of an acknowledged statement by id while the cluster is in some state.
struct Probe {
    at: Instant,
    status: u16,
}

#[derive(Default)]
struct Shared {
    writes: Arc<Writes>,
    probes: Mutex<Vec<Probe>>,
}

/// When each fault began and ended. A phase begins when its `cluster` command is started (a
/// write started later may already meet the fault); a node is certainly dead once the
/// `kill` command has returned.
struct Timeline {
    start: Instant,
    first_killing: Instant,
    first_killed: Instant,
    second_killing: Instant,
    second_killed: Instant,
    restarting: Instant,
    /// The second node's restart returned: a quorum is back.
    quorum_back: Instant,
    all_back: Instant,
    end: Instant,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quorum_survives_one_node_and_recovers_from_two() {
    let Some(cluster) = Cluster::from_env() else {
        say_skipped(
            "cluster_faults SKIPPED: PROFICIO_TEST_CLUSTER is not set \
             (run scripts/cassandra/fault-test)",
        );
        return;
    };
    let keyspace = format!("proficio_faults_{}", Uuid::new_v4().simple());
    let uri = format!(
        "scylla://{}/{keyspace}?replication=simple:3&consistency=quorum",
        cluster.endpoints.join(",")
    );
    let temp = tempfile::tempdir().unwrap();
    println!("cluster_faults: store {uri}");

    // The schema is created by an admin command first: sixteen tables agreed on by three
    // nodes take longer than a server's start is given.
    let migrating = Instant::now();
    let migrated = Command::new(binary())
        .args(["tenant", "list", "--store", &uri, "--data-dir"])
        .arg(temp.path())
        .output()
        .expect("run proficio tenant list");
    assert!(
        migrated.status.success(),
        "proficio tenant list: {}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    println!(
        "cluster_faults: keyspace created in {:.1} s",
        migrating.elapsed().as_secs_f64()
    );

    let server = Server::start_on(temp.path(), &[("PROFICIO_STORE", &uri)]);
    let (key, secret) = server.credential("faults", &["all"]).await;
    let xapi = client(&server, &key, &secret, REQUEST_TIMEOUT);
    let shared = Arc::new(Shared::default());
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        tasks.push(tokio::spawn(write_loop(
            xapi.clone(),
            shared.writes.clone(),
            writer,
            LOAD,
        )));
    }
    tasks.push(tokio::spawn(probe_loop(xapi.clone(), shared.clone())));

    let start = Instant::now();
    tokio::time::sleep(ALL_UP).await;
    let first_killing = Instant::now();
    cluster.run(&["kill", "3"]).await;
    let first_killed = Instant::now();
    tokio::time::sleep(ONE_DOWN).await;
    let second_killing = Instant::now();
    cluster.run(&["kill", "2"]).await;
    let second_killed = Instant::now();
    tokio::time::sleep(TWO_DOWN).await;
    let restarting = Instant::now();
    cluster.run(&["restart", "2"]).await;
    let quorum_back = Instant::now();
    cluster.run(&["restart", "3"]).await;
    let all_back = Instant::now();
    tokio::time::sleep(AFTER_RECOVERY).await;
    shared.writes.stop.store(true, Ordering::SeqCst);
    for task in tasks {
        task.await.unwrap();
    }
    let timeline = Timeline {
        start,
        first_killing,
        first_killed,
        second_killing,
        second_killed,
        restarting,
        quorum_back,
        all_back,
        end: Instant::now(),
    };
    let attempts = shared.writes.snapshot();
    let probes = std::mem::take(&mut *shared.probes.lock().unwrap());

    let report = Report::new(&attempts, &timeline);
    report.print(&timeline, &probes);
    print_store_errors("cluster_faults", &server.log());

    // Anything but a 503 with the store-unavailable body is wrong in every phase.
    let others: Vec<String> = attempts
        .iter()
        .filter(|a| !a.outcome.acknowledged() && !a.outcome.refused(503, "unavailable"))
        .map(|a| {
            format!(
                "{} s: {:?}",
                secs(a.started.duration_since(timeline.start)),
                a.outcome
            )
        })
        .collect();
    assert!(
        others.is_empty(),
        "writes failed other than with 503 store-unavailable ({}):\n{}",
        others.len(),
        others.join("\n")
    );

    assert!(
        report.phases[0].acknowledged > 0,
        "nothing acknowledged with all nodes up"
    );
    // One node down: after the failure detector settled, ingest goes on and nothing fails.
    // (Writes still in flight when the second node died are that phase's.)
    let settled = timeline.first_killed + SETTLE;
    let after_settle = |a: &&Attempt| a.started >= settled && a.finished < timeline.second_killing;
    let settled_acks = attempts
        .iter()
        .filter(after_settle)
        .filter(|a| a.outcome.acknowledged())
        .count();
    let settled_failures = attempts
        .iter()
        .filter(after_settle)
        .filter(|a| !a.outcome.acknowledged())
        .count();
    assert!(settled_acks > 0, "no write acknowledged with one node down");
    assert_eq!(
        settled_failures,
        0,
        "writes still failed {} s after one node died",
        SETTLE.as_secs()
    );
    // Two nodes down: no quorum, so no write started then can be acknowledged.
    let two_down =
        |a: &&Attempt| a.started >= timeline.second_killed && a.started < timeline.restarting;
    let acked_without_quorum: Vec<&Attempt> = attempts
        .iter()
        .filter(two_down)
        .filter(|a| a.outcome.acknowledged())
        .collect();
    assert!(
        acked_without_quorum.is_empty(),
        "writes acknowledged with two of three nodes down: {acked_without_quorum:?}"
    );
    assert!(
        attempts
            .iter()
            .filter(two_down)
            .any(|a| a.outcome.refused(503, "unavailable")),
        "no write answered 503 with two nodes down"
    );
    // Both back: writes are acknowledged again, soon after a quorum is.
    let recovered = report
        .first_ack_after(timeline.restarting)
        .expect("no write acknowledged after the nodes came back");
    assert!(
        recovered.saturating_duration_since(timeline.quorum_back) <= RECOVERY_BOUND,
        "writes came back {} s after a quorum did",
        secs(recovered.saturating_duration_since(timeline.quorum_back))
    );
    assert!(
        attempts
            .iter()
            .any(|a| a.started >= timeline.all_back && a.outcome.acknowledged()),
        "nothing acknowledged once all three nodes were back"
    );

    let checked = verify(&xapi, &attempts).await;
    println!("cluster_faults: verified at QUORUM: {}", checked.summary());
    checked.assert_clean("after recovery");
    drop(server);
}

impl Cluster {
    fn from_env() -> Option<Cluster> {
        let value = std::env::var("PROFICIO_TEST_CLUSTER")
            .ok()
            .filter(|v| !v.trim().is_empty())?;
        let (endpoints, script) = value
            .trim()
            .split_once(char::is_whitespace)
            .expect("PROFICIO_TEST_CLUSTER: expected 'HOST:PORT,HOST:PORT,HOST:PORT SCRIPT'");
        let endpoints: Vec<String> = endpoints.split(',').map(str::to_owned).collect();
        assert_eq!(
            endpoints.len(),
            3,
            "PROFICIO_TEST_CLUSTER names {} endpoints, not 3",
            endpoints.len()
        );
        Some(Cluster {
            endpoints,
            script: PathBuf::from(script.trim()),
        })
    }

    /// Runs the cluster script (`kill N`, `restart N`) and fails the test if it fails.
    async fn run(&self, args: &[&str]) {
        let started = Instant::now();
        let status = tokio::process::Command::new(&self.script)
            .args(args)
            .status()
            .await
            .expect("run the cluster script");
        assert!(
            status.success(),
            "{} {args:?}: {status}",
            self.script.display()
        );
        println!(
            "cluster_faults: cluster {} took {:.1} s",
            args.join(" "),
            started.elapsed().as_secs_f64()
        );
    }
}

/// Reads an acknowledged statement by id now and then, to record what reads do in each phase.
async fn probe_loop(xapi: Xapi, shared: Arc<Shared>) {
    let mut n = 0usize;
    while !shared.writes.stop.load(Ordering::SeqCst) {
        tokio::time::sleep(PROBE_EVERY).await;
        let target = {
            let attempts = shared.writes.attempts.lock().unwrap();
            let acked: Vec<Uuid> = attempts
                .iter()
                .filter(|a| a.outcome.acknowledged())
                .take(200)
                .map(|a| a.ids[0])
                .collect();
            if acked.is_empty() {
                continue;
            }
            n += 1;
            acked[n % acked.len()]
        };
        let at = Instant::now();
        // 0 stands for no answer at all (the request timed out or the connection failed).
        let status = xapi
            .request(
                reqwest::Method::GET,
                &format!("/statements?statementId={target}"),
            )
            .send()
            .await
            .map_or(0, |response| response.status().as_u16());
        shared.probes.lock().unwrap().push(Probe { at, status });
    }
}

/// Counts per phase.
#[derive(Default, Clone, Copy)]
struct PhaseCounts {
    attempts: usize,
    acknowledged: usize,
    statements_acknowledged: usize,
    unavailable: usize,
    other: usize,
}

struct Report<'a> {
    attempts: &'a [Attempt],
    /// All up, one down, two down, restarting, all back.
    phases: [PhaseCounts; 5],
    last_failure_one_down: Option<Instant>,
}

const PHASES: [&str; 5] = [
    "all three up",
    "node 3 killed",
    "nodes 3 and 2 killed",
    "restarting 2 and 3",
    "all three back",
];

impl<'a> Report<'a> {
    fn new(attempts: &'a [Attempt], timeline: &Timeline) -> Report<'a> {
        let mut phases = [PhaseCounts::default(); 5];
        let mut last_failure_one_down = None;
        for attempt in attempts {
            let phase = timeline.phase(attempt.started);
            let counts = &mut phases[phase];
            counts.attempts += 1;
            match attempt.outcome {
                Outcome::Acknowledged => {
                    counts.acknowledged += 1;
                    counts.statements_acknowledged += attempt.ids.len();
                }
                Outcome::Refused { .. } if attempt.outcome.refused(503, "unavailable") => {
                    counts.unavailable += 1;
                }
                Outcome::Refused { .. } | Outcome::Other(_) => counts.other += 1,
            }
            if phase == 1 && !attempt.outcome.acknowledged() {
                last_failure_one_down = last_failure_one_down.max(Some(attempt.finished));
            }
        }
        Report {
            attempts,
            phases,
            last_failure_one_down,
        }
    }

    /// When the first write started at or after `from` was acknowledged.
    fn first_ack_after(&self, from: Instant) -> Option<Instant> {
        self.attempts
            .iter()
            .filter(|a| a.started >= from && a.outcome.acknowledged())
            .map(|a| a.finished)
            .min()
    }

    fn print(&self, timeline: &Timeline, probes: &[Probe]) {
        let at = |t: Instant| secs(t.duration_since(timeline.start));
        println!(
            "cluster_faults: timeline (s): node 3 killed {}–{}, node 2 killed {}–{}, restarts from {}, \
             quorum back {}, all back {}, end {}",
            at(timeline.first_killing),
            at(timeline.first_killed),
            at(timeline.second_killing),
            at(timeline.second_killed),
            at(timeline.restarting),
            at(timeline.quorum_back),
            at(timeline.all_back),
            at(timeline.end)
        );
        for (phase, counts) in self.phases.iter().enumerate() {
            let mut statuses: HashMap<u16, usize> = HashMap::new();
            for probe in probes.iter().filter(|p| timeline.phase(p.at) == phase) {
                *statuses.entry(probe.status).or_default() += 1;
            }
            let mut statuses: Vec<_> = statuses.into_iter().collect();
            statuses.sort_unstable();
            println!(
                "cluster_faults: {:<22} writes {:>5}: acknowledged {:>5} ({:>5} statements), \
                 503 {:>4}, other {:>3}; reads by id: {statuses:?}",
                PHASES[phase],
                counts.attempts,
                counts.acknowledged,
                counts.statements_acknowledged,
                counts.unavailable,
                counts.other
            );
        }
        if let Some(last) = self.last_failure_one_down {
            println!(
                "cluster_faults: with one node down the last failed write ended {} s after the kill",
                signed_secs(last, timeline.first_killed)
            );
        }
        let failures_at = |from: Instant, until: Instant| -> Vec<String> {
            self.attempts
                .iter()
                .filter(|a| a.started >= from && a.started < until)
                .filter(|a| !a.outcome.acknowledged())
                .map(|a| format!("{}–{}", at(a.started), at(a.finished)))
                .collect()
        };
        println!(
            "cluster_faults: failed writes (started–ended, s) with all up: {:?}; with one down: {:?}",
            failures_at(timeline.start, timeline.first_killing),
            failures_at(timeline.first_killing, timeline.second_killing)
        );
        if let Some(first) = self.first_ack_after(timeline.restarting) {
            let failed_later = self
                .attempts
                .iter()
                .filter(|a| a.started >= first && !a.outcome.acknowledged())
                .count();
            println!(
                "cluster_faults: recovery: first write acknowledged {} s after the restarts began, \
                 {} s after node 2's restart returned; {failed_later} writes failed after it",
                secs(first.duration_since(timeline.restarting)),
                signed_secs(first, timeline.quorum_back)
            );
        }
    }
}

impl Timeline {
    fn phase(&self, at: Instant) -> usize {
        if at < self.first_killing {
            0
        } else if at < self.second_killing {
            1
        } else if at < self.restarting {
            2
        } else if at < self.all_back {
            3
        } else {
            4
        }
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64())
}

/// `a - b` in seconds, negative when `a` came first.
fn signed_secs(a: Instant, b: Instant) -> String {
    if a >= b {
        secs(a - b)
    } else {
        format!("-{}", secs(b - a))
    }
}
