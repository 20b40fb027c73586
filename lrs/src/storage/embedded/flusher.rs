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

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use fjall::{AbstractTree, Keyspace};
use parking_lot::{Condvar, Mutex};

use super::health::Disk;
use super::map_err;
use crate::storage::StorageError;

/// How long the thread sleeps between looks when nobody wakes it: fjall also seals memtables
/// itself (to bound its journal), without telling the store.
const IDLE_LOOK: Duration = Duration::from_millis(500);

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
    pub(super) fn start(keyspaces: Vec<Keyspace>, disk: Arc<Disk>) -> std::io::Result<Flusher> {
        let signal = Arc::new(Signal::default());
        let thread = std::thread::Builder::new()
            .name("store-flush".into())
            .spawn({
                let signal = signal.clone();
                move || run(&signal, &keyspaces, &disk)
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

fn run(signal: &Signal, keyspaces: &[Keyspace], disk: &Disk) {
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
            if let Err(error) = flush_sealed(keyspace) {
                disk.fail(error);
                break;
            }
        }
    }
}

/// Writes every sealed memtable of `keyspace` to a table, in the calling thread.
pub(super) fn flush_sealed(keyspace: &Keyspace) -> Result<(), StorageError> {
    if keyspace.sealed_memtable_count() == 0 {
        return Ok(());
    }
    let lock = keyspace.tree.get_flush_lock();
    keyspace
        .tree
        .flush(&lock, 0)
        .map(|_| ())
        .map_err(|error| map_err(fjall::Error::Storage(error)))
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
        let flusher = Flusher::start(vec![keyspace.clone()], disk.clone()).expect("start");
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
        assert_eq!(keyspace.len().expect("len"), 3_000);
        assert_eq!(
            &*keyspace.get("2-0999").expect("get").expect("found"),
            &999u32.to_be_bytes()
        );
        assert!(!disk.failed());
    }

    /// Stopping waits for the thread, so no keyspace handle outlives it.
    #[test]
    fn stopping_ends_the_thread() {
        let (_dir, _db, keyspace, disk) = without_workers();
        let mut flusher = Flusher::start(vec![keyspace.clone()], disk).expect("start");
        flusher.stop();
        assert!(flusher.thread.is_none());
        // Only this test's handle is left.
        assert_eq!(Arc::strong_count(&flusher.signal), 1);
    }
}
