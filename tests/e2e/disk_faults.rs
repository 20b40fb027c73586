//! Disk trouble under the embedded store, on a real file system: a small ext4 image mounted
//! through a loop device holds the data directory while writers post statements (single and
//! batches, ids chosen by the test) and every answer is recorded.
//!
//! 1. **The disk fills up to the reserve** (`--min-free-mib`): writes get 507
//!    `insufficient-storage` before anything is written, reads go on; once space is freed,
//!    writes are acknowledged again, with no restart.
//! 2. **A write meets a full disk** (no reserve): the journal write fails with ENOSPC, the
//!    answer is 507 and later writes are refused; once space is freed the store reopens itself
//!    and writes resume. A restart afterwards reads the same store.
//! 3. **The file system turns read-only** under the server (ext4 `errors=remount-ro`, set off
//!    with the kernel's `trigger_fs_error`): writes get 503 `read-only`, reads go on; after
//!    a stop, `e2fsck` and a remount, a restarted server holds every acknowledged write. The
//!    server runs with `--fsync` here: a file system that fails drops what the kernel had not
//!    written yet, like a power cut. A write acknowledged in the instant the error is raised
//!    may go with the file system's journal; those are checked as in flight.
//!
//! After each, every acknowledged statement must be readable by id and every batch stored
//! whole or not at all. Mounting needs root and a loop device; without them the tests say
//! loudly that they are skipped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::faults::{
    Attempt, Load, Outcome, Writes, client, print_store_errors, say_skipped, verify, write_loop,
};
use crate::helpers::{Server, Xapi};

const WRITERS: usize = 4;
const LOAD: Load = Load {
    batch: 20,
    rest: Duration::from_millis(2),
    rest_after_failure: Duration::from_millis(100),
};
/// How long the disk may take to fill to the point of refusals, and the store to take writes
/// again once space is freed.
const FILL_BOUND: Duration = Duration::from_secs(90);
const RECOVERY_BOUND: Duration = Duration::from_secs(15);
/// How long the writers go on against a full or read-only disk.
const HOLD: Duration = Duration::from_secs(3);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// An ext4 file system in an image file, mounted on a loop device for one test.
struct LoopFs {
    _dir: tempfile::TempDir,
    image: PathBuf,
    mount: PathBuf,
    mounted: bool,
}

impl LoopFs {
    /// `None` (and a loud note) where this machine cannot mount one.
    fn new(test: &str, mib: u64) -> Option<LoopFs> {
        let missing = ["mkfs.ext4", "e2fsck", "mount", "umount"]
            .into_iter()
            .find(|tool| {
                !Command::new("sh")
                    .args(["-c", &format!("command -v {tool}")])
                    .output()
                    .is_ok_and(|o| o.status.success())
            });
        let why = if !rustix::process::geteuid().is_root() {
            Some("it needs root to mount a file system".to_owned())
        } else if let Some(tool) = missing {
            Some(format!("{tool} is not installed (e2fsprogs)"))
        } else if !Path::new("/dev/loop-control").exists() {
            Some("there is no loop device".to_owned())
        } else {
            None
        };
        if let Some(why) = why {
            say_skipped(&format!("disk_faults::{test} SKIPPED: {why}"));
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("disk.img");
        let mount = dir.path().join("mnt");
        std::fs::create_dir(&mount).unwrap();
        std::fs::File::create(&image)
            .unwrap()
            .set_len(mib * 1024 * 1024)
            .unwrap();
        run("mkfs.ext4", &["-q", "-F", "-m", "0", path(&image)]);
        let mut fs = LoopFs {
            _dir: dir,
            image,
            mount,
            mounted: false,
        };
        fs.mount_it();
        Some(fs)
    }

    fn mount_it(&mut self) {
        run(
            "mount",
            &[
                "-o",
                "loop,errors=remount-ro",
                path(&self.image),
                path(&self.mount),
            ],
        );
        self.mounted = true;
    }

    fn data_dir(&self) -> PathBuf {
        self.mount.join("data")
    }

    fn available(&self) -> u64 {
        let stat = rustix::fs::statvfs(&self.mount).unwrap();
        stat.f_bavail * stat.f_frsize
    }

    /// Writes a file of zeros until about `leave` bytes stay free.
    fn fill_leaving(&self, leave: u64) -> PathBuf {
        let filler = self.mount.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 1024 * 1024];
        while self.available() > leave + chunk.len() as u64 {
            if file.write_all(&chunk).is_err() {
                break;
            }
            let _ = file.sync_data();
        }
        filler
    }

    /// Turns the file system read-only the way a failing disk does (ext4's error handling).
    fn fail(&self) {
        let mounts = std::fs::read_to_string("/proc/mounts").unwrap();
        let device = mounts
            .lines()
            .find(|l| l.split(' ').nth(1) == Some(path(&self.mount)))
            .and_then(|l| l.split(' ').next())
            .expect("the loop mount in /proc/mounts");
        let name = device.trim_start_matches("/dev/");
        std::fs::write(
            format!("/sys/fs/ext4/{name}/trigger_fs_error"),
            "disk_faults",
        )
        .unwrap();
    }

    /// Unmounts, checks and repairs the file system, and mounts it again.
    fn repair(&mut self) {
        run("umount", &[path(&self.mount)]);
        self.mounted = false;
        let fsck = Command::new("e2fsck")
            .args(["-f", "-y", path(&self.image)])
            .output()
            .unwrap();
        // 0: clean, 1: errors corrected.
        assert!(
            matches!(fsck.status.code(), Some(0 | 1)),
            "e2fsck: {}",
            String::from_utf8_lossy(&fsck.stdout)
        );
        self.mount_it();
    }
}

impl Drop for LoopFs {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg(&self.mount).status();
        }
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn run(program: &str, args: &[&str]) {
    let output = Command::new(program).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A server on the mounted disk with its writers.
struct Run {
    server: Server,
    xapi: Xapi,
    writes: Arc<Writes>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    key: String,
    secret: String,
}

impl Run {
    async fn start(data_dir: &Path, env: &[(&str, &str)]) -> Run {
        let server = Server::start_on(data_dir, env);
        let (key, secret) = server.credential("disk", &["all"]).await;
        let xapi = client(&server, &key, &secret, REQUEST_TIMEOUT);
        let writes = Arc::new(Writes::default());
        let tasks = (0..WRITERS)
            .map(|writer| tokio::spawn(write_loop(xapi.clone(), writes.clone(), writer, LOAD)))
            .collect();
        Run {
            server,
            xapi,
            writes,
            tasks,
            key,
            secret,
        }
    }

    /// Waits for a write started after `from` to get the refusal; returns when it started.
    async fn first_refusal(&self, from: Instant, status: u16, error: &str) -> Instant {
        let deadline = Instant::now() + FILL_BOUND;
        loop {
            if let Some(first) = self
                .writes
                .since(from)
                .iter()
                .find(|a| a.outcome.refused(status, error))
            {
                return first.started;
            }
            assert!(
                Instant::now() < deadline,
                "no write refused with {status} {error} within {} s; last: {:?}",
                FILL_BOUND.as_secs(),
                self.writes.snapshot().last()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for a write started after `from` to be acknowledged; returns when it ended.
    async fn first_ack(&self, from: Instant) -> Instant {
        let deadline = from + RECOVERY_BOUND;
        loop {
            if let Some(ack) = self
                .writes
                .since(from)
                .iter()
                .find(|a| a.outcome.acknowledged())
            {
                return ack.finished;
            }
            assert!(
                Instant::now() < deadline,
                "no write acknowledged within {} s of the disk's recovery; last: {:?}",
                RECOVERY_BOUND.as_secs(),
                self.writes.snapshot().last()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn stop(&mut self) -> Vec<Attempt> {
        self.writes.stop.store(true, Ordering::SeqCst);
        for task in self.tasks.drain(..) {
            task.await.unwrap();
        }
        self.writes.snapshot()
    }

    /// Reads go on: an acknowledged statement by id, and a filtered query.
    async fn assert_reads(&self, when: &str) {
        let acked = self
            .writes
            .snapshot()
            .into_iter()
            .find(|a| a.outcome.acknowledged())
            .expect("an acknowledged write");
        let by_id = self
            .xapi
            .get(&format!("?statementId={}", acked.ids[0]))
            .await;
        assert_eq!(by_id.status(), 200, "{when}: a read by id");
        let query = self
            .xapi
            .get("?agent=%7B%22mbox%22%3A%22mailto%3Awriter0%40example.com%22%7D&limit=5")
            .await;
        assert_eq!(query.status(), 200, "{when}: a filtered query");
    }

    /// A State document write gets the same refusal as statements.
    async fn assert_document_refused(&self, status: u16, error: &str) {
        let response = self
            .xapi
            .request(
                reqwest::Method::PUT,
                "/activities/state?activityId=http%3A%2F%2Fexample.com%2Fa&agent=%7B%22mbox%22%3A%22mailto%3Aa%40example.com%22%7D&stateId=s",
            )
            .json(&json!({"progress": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "a State document PUT");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], error, "{body}");
    }
}

/// When a disk filled and was freed under the writers, and what they saw.
struct Filled {
    filled: Instant,
    refused_at: Instant,
    freed: Instant,
    back: Instant,
    attempts: Vec<Attempt>,
}

impl Run {
    /// Fills the disk to `leave` bytes free, waits for the 507s, checks that reads go on and
    /// that documents are refused too, frees the space and waits for writes to come back.
    async fn fill_then_free(&mut self, fs: &LoopFs, leave: u64, when: &str) -> Filled {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let filler = fs.fill_leaving(leave);
        let filled = Instant::now();
        let refused_at = self
            .first_refusal(filled, 507, "insufficient-storage")
            .await;
        tokio::time::sleep(HOLD).await;
        self.assert_reads(when).await;
        self.assert_document_refused(507, "insufficient-storage")
            .await;
        std::fs::remove_file(&filler).unwrap();
        let freed = Instant::now();
        let back = self.first_ack(freed).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let attempts = self.stop().await;
        Filled {
            filled,
            refused_at,
            freed,
            back,
            attempts,
        }
    }
}

/// Every outcome is an acknowledgement or one of the refusals named.
fn assert_only(attempts: &[Attempt], refusals: &[(u16, &str)], when: &str) {
    let wrong: Vec<String> = attempts
        .iter()
        .filter(|a| {
            !a.outcome.acknowledged() && !refusals.iter().any(|(s, e)| a.outcome.refused(*s, e))
        })
        .map(|a| a.outcome.describe())
        .collect();
    assert!(
        wrong.is_empty(),
        "{when}: writes answered other than {refusals:?} ({}):\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

fn count(attempts: &[Attempt], status: u16, error: &str) -> usize {
    attempts
        .iter()
        .filter(|a| a.outcome.refused(status, error))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_disk_filling_to_the_reserve_refuses_writes_with_507_and_recovers() {
    let Some(fs) = LoopFs::new("a_disk_filling_to_the_reserve", 256) else {
        return;
    };
    let mut run = Run::start(&fs.data_dir(), &[("PROFICIO_MIN_FREE_MIB", "32")]).await;
    let Filled {
        filled,
        refused_at,
        freed,
        back,
        attempts,
    } = run
        .fill_then_free(&fs, 48 * 1024 * 1024, "with the disk full")
        .await;
    assert_only(&attempts, &[(507, "insufficient-storage")], "disk full");
    let checked = verify(&run.xapi, &attempts).await;
    print_store_errors("disk_faults", &run.server.log());
    println!(
        "disk_faults: reserve: first 507 {:.1} s after the filler, {} refused with 507, \
         writes back {} ms after space was freed; {}",
        refused_at.duration_since(filled).as_secs_f64(),
        count(&attempts, 507, "insufficient-storage"),
        back.duration_since(freed).as_millis(),
        checked.summary()
    );
    checked.assert_clean("after the disk was freed");
    assert!(
        !run.server
            .log()
            .contains("a write to the data directory failed"),
        "the reserve refused writes before any write failed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_meeting_a_full_disk_fails_whole_and_the_store_reopens() {
    let Some(fs) = LoopFs::new("a_write_meeting_a_full_disk", 256) else {
        return;
    };
    let mut run = Run::start(&fs.data_dir(), &[("PROFICIO_MIN_FREE_MIB", "0")]).await;
    let Filled {
        filled,
        refused_at,
        freed,
        back,
        attempts,
    } = run
        .fill_then_free(&fs, 24 * 1024 * 1024, "after a write met a full disk")
        .await;
    // While the store reopens, writes get 503 for a moment.
    assert_only(
        &attempts,
        &[(507, "insufficient-storage"), (503, "unavailable")],
        "a full disk",
    );
    let log = run.server.log();
    assert!(
        log.contains("a write to the data directory failed") && log.contains("the store reopened"),
        "a write failed and the store reopened; log:\n{log}"
    );
    let checked = verify(&run.xapi, &attempts).await;
    println!(
        "disk_faults: no reserve: first 507 {:.1} s after the filler, {} refused with 507, {} \
         with 503 while reopening; writes back {} ms after space was freed; {}",
        refused_at.duration_since(filled).as_secs_f64(),
        count(&attempts, 507, "insufficient-storage"),
        count(&attempts, 503, "unavailable"),
        back.duration_since(freed).as_millis(),
        checked.summary()
    );
    checked.assert_clean("after the store reopened");

    // A restart replays the same journal: the same statements, no more, no fewer.
    run.server.terminate();
    let server = Server::start_on(&fs.data_dir(), &[("PROFICIO_MIN_FREE_MIB", "0")]);
    let xapi = client(&server, &run.key, &run.secret, REQUEST_TIMEOUT);
    let again = verify(&xapi, &attempts).await;
    again.assert_clean("after a restart");
    assert_eq!(
        (again.acknowledged_readable, again.unacknowledged_stored),
        (checked.acknowledged_readable, checked.unacknowledged_stored),
        "a restart shows the store the reopened server showed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_file_system_turning_read_only_refuses_writes_with_503_and_loses_nothing() {
    let Some(mut fs) = LoopFs::new("a_file_system_turning_read_only", 256) else {
        return;
    };
    let env = [("PROFICIO_FSYNC", "true"), ("PROFICIO_MIN_FREE_MIB", "32")];
    let mut run = Run::start(&fs.data_dir(), &env).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let failing = Instant::now();
    fs.fail();
    let refused_at = run.first_refusal(failing, 503, "read-only").await;
    tokio::time::sleep(HOLD).await;
    run.assert_reads("on a read-only file system").await;
    run.assert_document_refused(503, "read-only").await;
    let attempts = run.stop().await;
    let acked_late: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| a.started > refused_at + Duration::from_secs(1) && a.outcome.acknowledged())
        .collect();
    assert!(
        acked_late.is_empty(),
        "writes acknowledged on a read-only file system: {acked_late:?}"
    );
    assert_only(&attempts, &[(503, "read-only")], "a read-only file system");

    let stopping = Instant::now();
    let status = run.server.terminate();
    println!(
        "disk_faults: read-only: first 503 {} ms after the error, {} refused; the server stopped \
         in {} ms ({status})",
        refused_at.duration_since(failing).as_millis(),
        count(&attempts, 503, "read-only"),
        stopping.elapsed().as_millis()
    );
    fs.repair();
    let server = Server::start_on(&fs.data_dir(), &env);
    let xapi = client(&server, &run.key, &run.secret, REQUEST_TIMEOUT);
    // A write acknowledged while the kernel was failing the file system (its sync returned
    // after the error was raised) may be lost with the file system's journal: the guarantee
    // holds for writes acknowledged before the fault began, so those racing it are checked as
    // in flight — whole or absent.
    let racing = attempts
        .iter()
        .filter(|a| a.outcome.acknowledged() && a.finished >= failing)
        .count();
    let attempts: Vec<Attempt> = attempts
        .into_iter()
        .map(|mut a| {
            if a.outcome.acknowledged() && a.finished >= failing {
                a.outcome = Outcome::Other("acknowledged as the file system failed".into());
            }
            a
        })
        .collect();
    let checked = verify(&xapi, &attempts).await;
    println!("disk_faults: read-only: {racing} writes acknowledged as the error was raised");
    println!(
        "disk_faults: read-only, after e2fsck and a restart: {}",
        checked.summary()
    );
    checked.assert_clean("after the file system was repaired");
    let response = xapi
        .post(&crate::helpers::statement("after@example.com", "x", "y"))
        .await;
    assert_eq!(response.status(), 200, "writes resume after the repair");
}
