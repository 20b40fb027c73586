//! Disk trouble. The store refuses writes before the disk is full (a reserve of free space, so
//! that the journal, memtable flushes and compactions never meet a full disk in the ordinary
//! course) and while its file system is read-only; and when a write fails anyway, it reopens
//! itself once the disk takes writes again.
//!
//! A failed journal write or background flush leaves fjall refusing every later write (it
//! cannot know what reached the disk). The store then answers writes with 507 or 503 and keeps
//! serving reads from the failed database; a recovery thread waits until the file system is
//! writable with the reserve free, closes the database and opens it again, which replays the
//! journal up to its last whole batch. A batch is one journal record, so a write that failed
//! is either whole after the reopen or absent, never in part; an acknowledged one is there.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::{StorageError, StorageErrorKind};

/// How long a reading of the file system's free space stands before it is taken again.
const READING_TTL: Duration = Duration::from_millis(20);
/// Below this much free space a failed write is put down to a full disk, and a failed store
/// is not reopened, whatever the reserve.
const FULL_MARGIN: u64 = 8 * 1024 * 1024;
/// A reading of a read-only file system (other readings are bytes available).
const READ_ONLY: u64 = u64::MAX;

/// What the store's file system allows now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DiskState {
    Writable,
    /// Less than the reserve is free.
    Full {
        available: u64,
    },
    ReadOnly,
}

/// The data directory's file system, read with `statvfs`.
pub(super) struct Disk {
    dir: PathBuf,
    reserve: u64,
    started: Instant,
    /// Microseconds since `started` of the last reading (`u64::MAX`: none), and the reading.
    read_at: AtomicU64,
    reading: AtomicU64,
    /// Set when a write failed and the database refuses writes until it is reopened.
    failed: AtomicBool,
    /// The kind of that failure, while the disk's state does not explain it.
    failure: Mutex<Option<StorageErrorKind>>,
}

impl Disk {
    pub(super) fn new(dir: &Path, reserve: u64) -> Disk {
        Disk {
            dir: dir.to_path_buf(),
            reserve,
            started: Instant::now(),
            read_at: AtomicU64::new(u64::MAX),
            reading: AtomicU64::new(u64::MAX - 1),
            failed: AtomicBool::new(false),
            failure: Mutex::new(None),
        }
    }

    /// The file system's state against `floor` bytes free, read at most once per
    /// [`READING_TTL`].
    fn state_against(&self, floor: u64) -> DiskState {
        let now = u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX - 1);
        let read_at = self.read_at.load(Ordering::Acquire);
        let fresh =
            read_at != u64::MAX && now.saturating_sub(read_at) < READING_TTL.as_micros() as u64;
        let reading = if fresh {
            self.reading.load(Ordering::Acquire)
        } else {
            let reading = self.read();
            self.reading.store(reading, Ordering::Release);
            self.read_at.store(now, Ordering::Release);
            reading
        };
        match reading {
            READ_ONLY => DiskState::ReadOnly,
            available if available < floor => DiskState::Full { available },
            _ => DiskState::Writable,
        }
    }

    /// The state against the reserve.
    pub(super) fn state(&self) -> DiskState {
        self.state_against(self.reserve)
    }

    /// Reads the file system now. An unreadable `statvfs` does not stop writes: the write
    /// itself then says what is wrong.
    fn read(&self) -> u64 {
        let Ok(stat) = rustix::fs::statvfs(&self.dir) else {
            return READ_ONLY - 1;
        };
        if stat.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY) {
            return READ_ONLY;
        }
        stat.f_bavail
            .saturating_mul(stat.f_frsize)
            .min(READ_ONLY - 1)
    }

    /// Forgets the last reading, so that the next one is taken now.
    fn reread(&self) {
        self.read_at.store(u64::MAX, Ordering::Release);
    }

    /// Refuses a write the disk cannot take, before anything of it is written.
    pub(super) fn admit_write(&self) -> Result<(), StorageError> {
        match self.state() {
            DiskState::Writable => Ok(()),
            state => Err(self.refusal(state)),
        }
    }

    /// The error of a failed write: what the disk's state explains, or the write's own.
    fn explain(&self, error: StorageError) -> StorageError {
        self.reread();
        match self.state_against(self.reserve.max(FULL_MARGIN)) {
            // `statvfs` does not show every read-only file system (ext4 turned read-only by
            // an error still reads as mounted read-write): a file created says.
            DiskState::Writable => match self.try_write() {
                Err(e) if e.kind() == std::io::ErrorKind::ReadOnlyFilesystem => {
                    self.refusal(DiskState::ReadOnly)
                }
                Err(e) if e.kind() == std::io::ErrorKind::StorageFull => {
                    self.refusal(DiskState::Full { available: 0 })
                }
                _ => error,
            },
            state => self.refusal(state),
        }
    }

    /// Writes, syncs and removes a small file in the data directory.
    fn try_write(&self) -> std::io::Result<()> {
        let probe = self.dir.join(".proficio-write-probe");
        let written = std::fs::File::create(&probe).and_then(|mut file| {
            file.write_all(&[0u8; 4096])?;
            file.sync_all()
        });
        let removed = std::fs::remove_file(&probe);
        written.and(removed)
    }

    fn refusal(&self, state: DiskState) -> StorageError {
        match state {
            DiskState::Full { available } => StorageError::new(
                StorageErrorKind::Full,
                format!(
                    "the data directory's disk has {} MiB free, less than the {} MiB kept for \
                     the store; writes resume when space is freed",
                    available / (1024 * 1024),
                    self.reserve.max(FULL_MARGIN).div_ceil(1024 * 1024)
                ),
            ),
            DiskState::ReadOnly => StorageError::new(
                StorageErrorKind::ReadOnly,
                "the data directory's file system is read-only; reads go on, writes are refused",
            ),
            DiskState::Writable => StorageError::new(
                StorageErrorKind::Unavailable,
                "the store is reopening after a failed write",
            ),
        }
    }

    /// A write reached the database and failed: from now on the database refuses writes
    /// until it is reopened. Returns the error to answer, what the disk's state explains.
    pub(super) fn fail(&self, error: StorageError) -> StorageError {
        tracing::warn!(error = %error.message, "a write to the data directory failed");
        let explained = self.explain(error);
        self.failure.lock().get_or_insert(explained.kind());
        self.failed.store(true, Ordering::Release);
        explained
    }

    pub(super) fn failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    pub(super) fn recovered(&self) {
        *self.failure.lock() = None;
        self.failed.store(false, Ordering::Release);
    }

    /// The error of a write while the database is failed, before it is reopened: what the
    /// disk's state explains now, or else the kind of the failure.
    pub(super) fn failed_error(&self) -> StorageError {
        let kind = self.failure.lock().unwrap_or(StorageErrorKind::Unavailable);
        let unexplained = match kind {
            StorageErrorKind::Full => StorageError::new(
                kind,
                "a write met a full disk; writes resume when space is freed and the store has \
                 reopened",
            ),
            _ => StorageError::new(
                kind,
                "a write to the data directory failed; writes resume when the store has reopened",
            ),
        };
        self.explain(unexplained)
    }

    /// True when the file system is writable with the reserve (and some margin) free, tried
    /// with a real write: a small file written, synced and removed.
    pub(super) fn can_write(&self) -> bool {
        self.reread();
        if self.state_against(self.reserve.max(FULL_MARGIN)) != DiskState::Writable {
            return false;
        }
        self.try_write().is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reserve_larger_than_the_disk_refuses_writes_and_says_why() {
        let dir = tempfile::tempdir().expect("tempdir");
        let disk = Disk::new(dir.path(), u64::MAX / 2);
        let refused = disk.admit_write().expect_err("refused");
        assert_eq!(refused.kind(), StorageErrorKind::Full);
        assert!(
            refused.message.contains("kept for the store"),
            "{}",
            refused.message
        );
        assert!(!disk.can_write());
    }

    #[test]
    fn a_disk_with_room_admits_writes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let disk = Disk::new(dir.path(), 0);
        disk.admit_write().expect("admitted");
        assert!(disk.can_write());
        assert!(
            !dir.path().join(".proficio-write-probe").exists(),
            "the probe is removed"
        );
        let error = disk.fail(StorageError::new(StorageErrorKind::Full, "no space"));
        assert_eq!(error.kind(), StorageErrorKind::Full);
        assert!(disk.failed());
        assert_eq!(
            disk.failed_error().kind(),
            StorageErrorKind::Full,
            "later writes are refused for the failure's cause"
        );
        disk.recovered();
        assert!(!disk.failed());
        disk.admit_write().expect("admitted");
    }
}
