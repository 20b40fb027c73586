//! `proficio backup` / `proficio restore`: a round trip under load.
//!
//! Writers post single statements and batches (ids chosen by the test) throughout, while
//! `proficio backup --server` takes a backup of the running server; then `proficio restore`
//! builds a new data directory from it and a second server starts there. The restored store
//! must hold every write acknowledged before the backup began and none begun after it ended,
//! every batch whole or absent, and be exactly the original store as of one moment: its full
//! `stored`-ordered listing is a prefix of the original's. Documents and credentials come back
//! too, and a cut backup restores nothing.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use uuid::Uuid;

use crate::faults::{Attempt, Load, Outcome, Writes, verify, write_loop};
use crate::helpers::{ADMIN_KEY, ADMIN_SECRET, Server, Xapi, binary};

const LOAD: Load = Load {
    batch: 10,
    rest: Duration::from_millis(5),
    rest_after_failure: Duration::from_millis(100),
};
const STATE: &str = "/activities/state?activityId=http%3A%2F%2Fexample.com%2Fcourse&agent=%7B%22mbox%22%3A%22mailto%3Aada%40example.com%22%7D&stateId=bookmark";

fn proficio(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(binary());
    command.args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run proficio")
}

/// Every statement id in `stored` order, read through `more`.
async fn listing(server: &Server, xapi: &Xapi) -> Vec<Uuid> {
    let mut ids = Vec::new();
    let mut page = xapi.get_json("?ascending=true&limit=500").await;
    loop {
        for statement in page["statements"].as_array().expect("statements") {
            ids.push(statement["id"].as_str().expect("id").parse().expect("uuid"));
        }
        let more = page["more"].as_str().unwrap_or_default().to_owned();
        if more.is_empty() {
            return ids;
        }
        let response = xapi
            .client
            .get(server.url(&more))
            .header("Authorization", &xapi.auth)
            .header("X-Experience-API-Version", xapi.version)
            .send()
            .await
            .expect("more");
        assert_eq!(response.status(), 200, "GET {more}");
        page = response.json().await.expect("json");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_load_restores_the_store_as_of_one_moment() {
    let temp = tempfile::tempdir().unwrap();
    let original_dir = temp.path().join("original");
    let server = Server::start_on(&original_dir, &[]);
    let (key, secret) = server.credential("backup", &["all"]).await;
    let xapi = server.xapi(&key, &secret);
    let put = xapi
        .request(reqwest::Method::PUT, STATE)
        .json(&json!({"location": "page 7"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 204);

    let writes = Arc::new(Writes::default());
    let tasks: Vec<_> = (0..3)
        .map(|w| tokio::spawn(write_loop(xapi.clone(), writes.clone(), w, LOAD)))
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;

    let backup = temp.path().join("store.backup");
    let began = Instant::now();
    let output = tokio::task::spawn_blocking({
        let (url, backup) = (server.url(""), backup.clone());
        move || {
            proficio(
                &[
                    "backup",
                    "--server",
                    &url,
                    "--out",
                    backup.to_str().unwrap(),
                ],
                &[
                    ("PROFICIO_ADMIN_KEY", ADMIN_KEY),
                    ("PROFICIO_ADMIN_SECRET", ADMIN_SECRET),
                ],
            )
        }
    })
    .await
    .unwrap();
    let ended = Instant::now();
    assert!(
        output.status.success(),
        "proficio backup: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    writes.stop.store(true, Ordering::SeqCst);
    for task in tasks {
        task.await.unwrap();
    }
    let attempts = writes.snapshot();
    assert!(
        attempts.iter().all(|a| a.outcome.acknowledged()),
        "every write is acknowledged while the backup runs: {:?}",
        attempts.iter().find(|a| !a.outcome.acknowledged())
    );
    let original = listing(&server, &xapi).await;

    let restored_dir = temp.path().join("restored");
    let restore = proficio(
        &[
            "restore",
            backup.to_str().unwrap(),
            "--data-dir",
            restored_dir.to_str().unwrap(),
        ],
        &[],
    );
    assert!(
        restore.status.success(),
        "proficio restore: {}",
        String::from_utf8_lossy(&restore.stderr)
    );
    let restored_server = Server::start_on(&restored_dir, &[]);
    // The credential came back with the store.
    let restored_xapi = restored_server.xapi(&key, &secret);
    let restored = listing(&restored_server, &restored_xapi).await;

    // Acknowledged before the backup began: present. Begun after it ended: absent. Between:
    // as the snapshot fell; a batch whole or absent either way.
    let as_of_backup: Vec<Attempt> = attempts
        .iter()
        .cloned()
        .map(|mut a| {
            if a.finished >= began {
                a.outcome = Outcome::Other("acknowledged after the backup began".into());
            }
            a
        })
        .collect();
    let checked = verify(&restored_xapi, &as_of_backup).await;
    checked.assert_clean("in the restored store");
    let restored_set: std::collections::HashSet<Uuid> = restored.iter().copied().collect();
    let missing_before: Vec<Uuid> = attempts
        .iter()
        .filter(|a| a.finished < began)
        .flat_map(|a| a.ids.iter().copied())
        .filter(|id| !restored_set.contains(id))
        .collect();
    assert!(
        missing_before.is_empty(),
        "acknowledged before the backup began but not restored: {missing_before:?}"
    );
    let present_after: Vec<Uuid> = attempts
        .iter()
        .filter(|a| a.started > ended)
        .flat_map(|a| a.ids.iter().copied())
        .filter(|id| restored_set.contains(id))
        .collect();
    assert!(
        present_after.is_empty(),
        "begun after the backup ended but restored: {present_after:?}"
    );
    assert!(
        restored.len() < original.len(),
        "the writers went on after the backup"
    );
    assert_eq!(
        restored[..],
        original[..restored.len()],
        "the restored store is the original as of one moment"
    );
    let state: Value = restored_xapi
        .request(reqwest::Method::GET, STATE)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state, json!({"location": "page 7"}));
    println!(
        "backup: {} statements in the original, {} restored ({} acknowledged before the backup \
         began); backup took {} ms under load; {}",
        original.len(),
        restored.len(),
        attempts
            .iter()
            .filter(|a| a.finished < began)
            .map(|a| a.ids.len())
            .sum::<usize>(),
        ended.duration_since(began).as_millis(),
        checked.summary()
    );
    let offline = temp.path().join("offline.backup");
    let args = [
        "backup",
        "--out",
        offline.to_str().unwrap(),
        "--data-dir",
        restored_dir.to_str().unwrap(),
    ];
    let locked = proficio(&args, &[]);
    assert!(
        !locked.status.success(),
        "the data directory of a running server is not read"
    );
    assert!(
        String::from_utf8_lossy(&locked.stderr).contains("--server"),
        "the refusal says how: {}",
        String::from_utf8_lossy(&locked.stderr)
    );
    assert!(!offline.exists());
    drop(restored_server);
    let stopped = proficio(&args, &[]);
    assert!(
        stopped.status.success(),
        "a stopped server's data directory is backed up: {}",
        String::from_utf8_lossy(&stopped.stderr)
    );
    assert!(offline.exists());

    cut_backup_restores_nothing(&backup, temp.path());
    backup_needs_the_operator(&server).await;
}

fn cut_backup_restores_nothing(backup: &Path, temp: &Path) {
    let bytes = std::fs::read(backup).unwrap();
    let cut = temp.join("cut.backup");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let target = temp.join("from-cut");
    let output = proficio(
        &[
            "restore",
            cut.to_str().unwrap(),
            "--data-dir",
            target.to_str().unwrap(),
        ],
        &[],
    );
    assert!(!output.status.success(), "a cut backup is refused");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cut short"), "{stderr}");
    assert!(!target.exists(), "nothing is left of a refused restore");
}

async fn backup_needs_the_operator(server: &Server) {
    let (key, secret) = server.credential("other", &["all"]).await;
    let client = reqwest::Client::new();
    let response = client
        .get(server.url("/admin/backup"))
        .basic_auth(&key, Some(&secret))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403, "an ordinary credential");
    let audit: Value = client
        .get(server.url("/admin/audit"))
        .basic_auth(ADMIN_KEY, Some(ADMIN_SECRET))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        audit.as_array().is_some_and(|entries| entries
            .iter()
            .any(|e| e["path"] == "/admin/backup" && e["status"] == 200)),
        "the backup is in the audit log: {audit}"
    );
}
