//! The store's flush thread: sealed memtables are written to tables as soon as they are sealed.
//!
//! fjall hands flushes and compactions to the same background worker, so a flush waits behind
//! whatever compaction runs, and sealed memtables pile up in memory meanwhile: up to four per
//! keyspace, where fjall pauses writers for 100 ms at a time. At millions of statements a
//! compaction takes seconds, and that pile was most of the server's memory. The flush thread
//! flushes beside the worker instead. Flushes of one keyspace are serialised by the tree's
//! flush lock, which fjall's worker takes too: when the worker reaches a flush request the
//! thread has already served, it finds nothing sealed, and goes on to the compaction that
//! follows every flush.
//!
//! Flushes here pass no garbage-collection watermark, so they drop no overwritten versions a
//! snapshot might still read; compactions do that later with fjall's watermark.
//!
//! Each flush and compaction makes a new version of its tree (memtables and tables), and fjall
//! keeps the older ones for snapshots taken before. It drops them only when a memtable is next
//! sealed, and only those older than every snapshot open at that moment, which an ingest's
//! concurrent reads nearly always hold. Each older version holds the memtables it had, flushed
//! or not: at ten million statements they were up to 145 MiB of memory beside 24 MiB of
//! active memtables. After each flush this thread drops every older version no reader of the
//! store can ask for ([`Pins`]).

use std::ops::Deref;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use fjall::{AbstractTree, Database, Keyspace, SeqNo, Snapshot};
use parking_lot::{Condvar, Mutex};

use super::health::Disk;
use super::map_err;
use crate::storage::StorageError;

/// How long the thread sleeps between looks when nobody wakes it: fjall also seals memtables
/// itself (to bound its journal), without telling the store.
const IDLE_LOOK: Duration = Duration::from_millis(500);

/// The snapshots the store has open, by sequence number.
///
/// The store reads at the latest version (`get`, `range` and `prefix` of a keyspace), which
/// needs no older one: a read holds the version it started with until it ends. Only a
/// snapshot reads an older version, and asks fjall for it again on each read. The store takes
/// snapshots only through [`Pins::snapshot`] (clippy's `disallowed-methods` keeps
/// `Database::snapshot` and `Keyspace::iter` out of the rest of the code), so the versions to
/// keep are known here: the latest older than each pinned snapshot, and every later one.
#[derive(Default)]
pub(super) struct Pins(Mutex<Vec<SeqNo>>);

impl Pins {
    /// A snapshot of `db` whose version is kept while it is open.
    pub(super) fn snapshot(self: &Arc<Self>, db: &Database) -> PinnedSnapshot {
        // Under the lock, so that no version is dropped between the snapshot and its pin.
        let mut pins = self.0.lock();
        #[expect(
            clippy::disallowed_methods,
            reason = "this is the one place to take it"
        )]
        let snapshot = db.snapshot();
        pins.push(snapshot.seqno());
        PinnedSnapshot {
            snapshot,
            pins: self.clone(),
        }
    }

    /// Drops every version of `keyspace`'s tree that neither the latest one nor a pinned
    /// snapshot needs.
    fn drop_old_versions(&self, keyspace: &Keyspace) {
        let pins = self.0.lock();
        let watermark = pins.iter().copied().min().unwrap_or(SeqNo::MAX);
        if let Err(error) = keyspace
            .tree
            .get_version_history_lock()
            .maintenance(keyspace.path(), watermark)
        {
            tracing::warn!(%error, "dropping a keyspace's older versions failed");
        }
    }
}

/// A snapshot taken with [`Pins::snapshot`]; unpinned when dropped.
pub(super) struct PinnedSnapshot {
    snapshot: Snapshot,
    pins: Arc<Pins>,
}

impl Deref for PinnedSnapshot {
    type Target = Snapshot;

    fn deref(&self) -> &Snapshot {
        &self.snapshot
    }
}

impl Drop for PinnedSnapshot {
    fn drop(&mut self) {
        let mut pins = self.pins.0.lock();
        if let Some(at) = pins.iter().position(|&s| s == self.snapshot.seqno()) {
            pins.swap_remove(at);
        }
    }
}

pub(super) struct Flusher {
    signal: Arc<Signal>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Signal {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    pending: bool,
    stop: bool,
}

impl Flusher {
    /// Starts the thread that flushes the sealed memtables of `keyspaces`. A flush that fails
    /// marks the disk failed, as a failed write does, and the thread flushes nothing more
    /// until the store is reopened (with a new flusher).
    pub(super) fn start(
        keyspaces: Vec<Keyspace>,
        disk: Arc<Disk>,
        pins: Arc<Pins>,
    ) -> std::io::Result<Flusher> {
        let signal = Arc::new(Signal::default());
        let thread = std::thread::Builder::new()
            .name("store-flush".into())
            .spawn({
                let signal = signal.clone();
                move || run(&signal, &keyspaces, &disk, &pins)
            })?;
        Ok(Flusher {
            signal,
            thread: Some(thread),
        })
    }

    /// Asks the thread to look for sealed memtables now.
    pub(super) fn wake(&self) {
        self.signal.state.lock().pending = true;
        self.signal.wake.notify_one();
    }

    /// Stops the thread once its current flush is done, and waits for it.
    pub(super) fn stop(&mut self) {
        self.signal.state.lock().stop = true;
        self.signal.wake.notify_one();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the store's flush thread panicked");
        }
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(signal: &Signal, keyspaces: &[Keyspace], disk: &Disk, pins: &Pins) {
    loop {
        {
            let mut state = signal.state.lock();
            if !state.pending && !state.stop {
                signal.wake.wait_for(&mut state, IDLE_LOOK);
            }
            if state.stop {
                return;
            }
            state.pending = false;
        }
        if disk.failed() {
            continue;
        }
        for keyspace in keyspaces {
            if let Err(error) = flush_sealed(keyspace, pins) {
                disk.fail(error);
                break;
            }
        }
        // fjall's worker makes versions too: each compaction's predecessor holds the tables
        // it replaced, with their pinned filter and index blocks.
        for keyspace in keyspaces {
            pins.drop_old_versions(keyspace);
        }
    }
}

/// Writes every sealed memtable of `keyspace` to a table, in the calling thread, then drops
/// the versions that held them.
pub(super) fn flush_sealed(keyspace: &Keyspace, pins: &Pins) -> Result<(), StorageError> {
    if keyspace.sealed_memtable_count() == 0 {
        return Ok(());
    }
    let lock = keyspace.tree.get_flush_lock();
    keyspace
        .tree
        .flush(&lock, 0)
        .map_err(|error| map_err(fjall::Error::Storage(error)))?;
    drop(lock);
    pins.drop_old_versions(keyspace);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use fjall::{Database, KeyspaceCreateOptions};
    use std::time::Instant;

    /// A database with no fjall worker, one keyspace, and its disk.
    fn without_workers() -> (tempfile::TempDir, Database, Keyspace, Arc<Disk>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Database::builder(dir.path())
            .worker_threads_unchecked(0)
            .open()
            .expect("open");
        let keyspace = db
            .keyspace("items", KeyspaceCreateOptions::default)
            .expect("keyspace");
        let disk = Arc::new(Disk::new(dir.path(), 0));
        (dir, db, keyspace, disk)
    }

    /// With no fjall worker at all, only the flush thread can turn a sealed memtable into a
    /// table.
    #[test]
    fn sealed_memtables_are_flushed_by_the_stores_thread() {
        let (_dir, _db, keyspace, disk) = without_workers();
        let flusher =
            Flusher::start(vec![keyspace.clone()], disk.clone(), Arc::default()).expect("start");
        for round in 0..3u32 {
            for i in 0..1_000u32 {
                keyspace
                    .insert(format!("{round}-{i:04}"), i.to_be_bytes())
                    .expect("works");
            }
            assert!(keyspace.rotate_memtable().expect("rotate"));
            assert_eq!(keyspace.sealed_memtable_count(), 1);
            flusher.wake();
            let deadline = Instant::now() + Duration::from_secs(10);
            while keyspace.sealed_memtable_count() > 0 {
                assert!(Instant::now() < deadline, "the memtable was not flushed");
                std::thread::sleep(Duration::from_millis(5));
            }
            assert_eq!(keyspace.table_count(), round as usize + 1);
        }
        assert_eq!(keyspace.range::<&[u8], _>(..).count(), 3_000);
        assert_eq!(
            &*keyspace.get("2-0999").expect("get").expect("found"),
            &999u32.to_be_bytes()
        );
        assert!(!disk.failed());
    }

    /// Fills a memtable, seals it and flushes it with the store's own call.
    fn fill_seal_flush(keyspace: &Keyspace, pins: &Pins, round: u32) {
        for i in 0..1_000u32 {
            keyspace
                .insert(format!("{round}-{i:04}"), [7u8; 100])
                .expect("works");
        }
        assert!(keyspace.rotate_memtable().expect("rotate"));
        flush_sealed(keyspace, pins).expect("flushed");
    }

    fn held_memtable_bytes(keyspace: &Keyspace) -> u64 {
        keyspace.tree.get_version_history_lock().memtable_size_sum()
    }

    /// fjall keeps each version of a tree until a later seal finds no snapshot that can still
    /// read it, and every older version holds the memtables it had: a flushed memtable stayed
    /// in memory until then. A flush here drops those versions at once.
    #[test]
    fn a_flushed_memtable_is_not_held_by_older_versions() {
        let (_dir, _db, keyspace, _disk) = without_workers();
        let pins = Pins::default();
        for round in 0..3 {
            fill_seal_flush(&keyspace, &pins, round);
            assert_eq!(keyspace.sealed_memtable_count(), 0);
            assert_eq!(held_memtable_bytes(&keyspace), 0, "round {round}");
        }
        keyspace.insert("active", [1u8; 10]).expect("works");
        assert_eq!(
            held_memtable_bytes(&keyspace),
            keyspace.tree.active_memtable().size()
        );
        assert_eq!(keyspace.range::<&[u8], _>(..).count(), 3_001);
    }

    /// A pinned snapshot still reads the version it was taken at after later flushes, and
    /// once it is dropped those versions go at the next flush.
    #[test]
    fn a_pinned_snapshot_keeps_its_version() {
        let (_dir, db, keyspace, _disk) = without_workers();
        let pins = Arc::new(Pins::default());
        fill_seal_flush(&keyspace, &pins, 0);
        keyspace.insert("unflushed", [1u8; 10]).expect("works");
        let snapshot = pins.snapshot(&db);
        for round in 1..4 {
            fill_seal_flush(&keyspace, &pins, round);
        }
        assert!(held_memtable_bytes(&keyspace) > 0);
        let seen = fjall::Readable::iter(&*snapshot, &keyspace).count();
        assert_eq!(seen, 1_001);
        drop(snapshot);
        assert!(pins.0.lock().is_empty());
        fill_seal_flush(&keyspace, &pins, 4);
        assert_eq!(held_memtable_bytes(&keyspace), 0);
        assert_eq!(keyspace.range::<&[u8], _>(..).count(), 5_001);
    }

    /// The version a compaction leaves behind goes at the thread's next pass.
    #[test]
    fn versions_left_by_a_compaction_are_dropped() {
        let (_dir, _db, keyspace, disk) = without_workers();
        let pins = Arc::new(Pins::default());
        let flusher = Flusher::start(vec![keyspace.clone()], disk, pins.clone()).expect("start");
        for round in 0..2 {
            fill_seal_flush(&keyspace, &pins, round);
        }
        keyspace.major_compact().expect("compacted");
        assert!(keyspace.tree.get_version_history_lock().len() > 1);
        flusher.wake();
        let deadline = Instant::now() + Duration::from_secs(10);
        while keyspace.tree.get_version_history_lock().len() > 1 {
            assert!(Instant::now() < deadline, "the older versions were kept");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(keyspace.table_count(), 1);
        assert_eq!(keyspace.range::<&[u8], _>(..).count(), 2_000);
    }

    /// Stopping waits for the thread, so no keyspace handle outlives it.
    #[test]
    fn stopping_ends_the_thread() {
        let (_dir, _db, keyspace, disk) = without_workers();
        let mut flusher =
            Flusher::start(vec![keyspace.clone()], disk, Arc::default()).expect("start");
        flusher.stop();
        assert!(flusher.thread.is_none());
        // Only this test's handle is left.
        assert_eq!(Arc::strong_count(&flusher.signal), 1);
    }
}
