//! The embedded store: one data directory on the local disk, an LSM tree (fjall) underneath.
//!
//! Layout (every key starts with the 4-byte tenant id, big-endian):
//! - `statements`: tenant ‖ seq → flags ‖ statement id ‖ statement JSON. `seq` is the `stored`
//!   time in microseconds since the epoch, strictly increasing across the store, so that the
//!   statement table is ordered by `stored` and `since`/`until` are key ranges.
//! - `ids`: tenant ‖ statement id → seq.
//! - `epochs`: epoch → its first seq (see `epochs`).
//! - `postings`: epoch ‖ term id ‖ seq → ∅, one entry per query filter a statement answers
//!   to; a filtered query is a range scan of one term per epoch plus point look-ups. The term
//!   id is 80 bits of a hash of tenant ‖ term kind ‖ hash(term value), so that a key is 20
//!   bytes (see `statements::TermId`); the epoch keeps new postings apart from old ones (see
//!   `epochs`). Data directories of the first layout kept these entries as
//!   tenant ‖ kind ‖ hash(value) ‖ seq in `terms`; opening one converts them into epoch 0.
//! - `voids`: tenant ‖ target id → voiding statement id. A voiding statement may arrive before
//!   its target (xAPI Data §2.3.2: the LRS must not reject it), so the record is kept either way.
//! - `documents`: tenant ‖ scope kind ‖ hash(activity and/or agent) [‖ registration tag
//!   ‖ registration] ‖ document id → updated ‖ type ‖ etag ‖ body; all State documents of an
//!   agent in an activity share one prefix, whatever their registration.
//! - `registry`: tenants and credentials as JSON.
//! - `activities`: tenant ‖ activity id → canonical definition (JSON), merged at write time.
//! - `agents`: tenant ‖ hash(IFI key) → names statements gave that agent (JSON array).
//! - `attachments`: tenant ‖ SHA-2 ‖ chunk number → up to 1 MiB of attachment data, plus a
//!   completion mark (chunk number `u32::MAX` → chunk count). Chunks are written one at a time
//!   before the statement batch (content-addressed, so rewriting them is harmless); the mark
//!   commits with the statements, so data is visible exactly when its statements are, and the
//!   data of one hash is stored once per tenant.
//! - `records`: tenant ‖ kind ‖ group ‖ id (kind and group length-prefixed) → version ‖ value;
//!   the general-purpose records of the SCORM runtime and the capability engine.
//! - `blobs`: tenant ‖ hash(blob name) ‖ chunk number → chunk; package files and the like.
//!
//! Writes are serialised by one mutex, and each is built and committed as one atomic batch on
//! the store's write thread (`writer`); the journal is handed to the operating system before a
//! write is acknowledged, so an acknowledged write survives the process being killed. With
//! `fsync` on, it also survives power loss.

mod backup;
mod documents;
mod epochs;
mod flusher;
mod health;
mod objects;
mod recent;
mod registry;
mod statements;
mod writer;

pub use backup::{restore_backup, verify_backup};
pub use documents::document_etag;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use fjall::{AbstractTree, Database, Keyspace, KeyspaceCreateOptions, PersistMode};
use parking_lot::{Mutex, RwLock};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    AttachmentData, CredentialRecord, Document, DocumentEntry, DocumentError, DocumentScope,
    DocumentSet, DocumentStore, DocumentWrite, InsertError, NewStatement, Precondition,
    RegistryError, StatementPage, StatementQuery, StatementStore, StorageError, StorageErrorKind,
    StoredStatement, Tenant, TenantId, TenantStore, TermKind, WriteMode, format_stored,
    merge_documents, stamp, statement_from_stored,
};
use crate::clock::Clock;
use health::Disk;

/// Options of the embedded store.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedOptions {
    /// `fsync` the journal on every write (survives power loss, slower).
    pub fsync: bool,
    /// Block cache size in bytes ([`DEFAULT_CACHE_BYTES`] by default).
    pub cache_bytes: u64,
    /// Delete the data when the store is dropped (for tests).
    pub temporary: bool,
    /// Free space, in bytes, kept on the data directory's disk: below it writes are refused
    /// with [`StorageErrorKind::Full`] before anything is written, so that the journal,
    /// flushes and compactions keep room to finish.
    pub reserve_bytes: u64,
    /// The memtables' bytes, every keyspace together, past which the largest is sealed (each
    /// is also sealed at its own size): what unflushed writes may hold in memory, however
    /// they are spread over the keyspaces.
    pub write_buffer_bytes: u64,
}

/// The default of [`EmbeddedOptions::write_buffer_bytes`]: room for the three keyspaces every
/// statement writes (16 + 32 + 32 MiB) and a little for the others.
pub const DEFAULT_WRITE_BUFFER_BYTES: u64 = 96 * 1024 * 1024;

/// The default of [`EmbeddedOptions::cache_bytes`]. The Bloom filters that answer the
/// look-ups of every write (`ids`, `records`) are pinned outside the cache, so it holds data
/// and index blocks only: at 32 MiB a 10 M-statement ingest keeps its rate to the end (at
/// 32 MiB with unpinned filters it fell to 7,400/s), and that ingest's peak RSS was 408 MB
/// against 466–490 MB at 64 MiB (docs/performance.md, fifth pass).
pub const DEFAULT_CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// The default of [`EmbeddedOptions::reserve_bytes`]: room for every memtable to flush and a
/// compaction of the first levels to finish.
pub const DEFAULT_RESERVE_BYTES: u64 = 256 * 1024 * 1024;

impl Default for EmbeddedOptions {
    fn default() -> Self {
        EmbeddedOptions {
            fsync: false,
            cache_bytes: DEFAULT_CACHE_BYTES,
            temporary: false,
            reserve_bytes: DEFAULT_RESERVE_BYTES,
            write_buffer_bytes: DEFAULT_WRITE_BUFFER_BYTES,
        }
    }
}

pub struct EmbeddedStore {
    shared: Arc<Shared>,
}

/// The open database and what it takes to open it again after a failed write.
struct Shared {
    dir: PathBuf,
    options: EmbeddedOptions,
    clock: Arc<dyn Clock>,
    disk: Arc<Disk>,
    /// `None` only while the database is being reopened.
    current: RwLock<Option<Arc<Inner>>>,
    /// A recovery thread is running.
    recovering: AtomicBool,
    /// `last_seq` and `last_consistent` of the database closed for a reopen, carried over so
    /// that `stored` times and consistent-through times never go back.
    carried: Mutex<(u64, u64)>,
    /// The thread every write batch is built and committed on (see `writer`).
    writer: writer::Writer,
}

/// How often the recovery thread looks at the disk.
const RECOVERY_POLL: Duration = Duration::from_millis(250);
/// How long a reopen waits for operations in flight to let go of the failed database.
const RECOVERY_DRAIN: Duration = Duration::from_secs(30);

struct Inner {
    disk: Arc<Disk>,
    db: Database,
    statements: Keyspace,
    ids: Keyspace,
    postings: Keyspace,
    /// The `epochs` keyspace.
    epoch_starts: Keyspace,
    /// Its content.
    epochs: RwLock<epochs::Epochs>,
    voids: Keyspace,
    documents: Keyspace,
    registry: Keyspace,
    activities: Keyspace,
    agents: Keyspace,
    attachments: Keyspace,
    records: Keyspace,
    blobs: Keyspace,
    clock: Arc<dyn Clock>,
    /// How far the journal is pushed before a write is acknowledged.
    durability: PersistMode,
    /// Held for every write: assigns `seq` and makes check-then-write atomic.
    write: Mutex<WriteState>,
    /// The first seq of the write being committed, or `u64::MAX` when none is.
    in_flight: AtomicU64,
    /// The last consistent-through time handed out, so that it never goes back.
    last_consistent: AtomicU64,
    /// Every keyspace with the memtable size at which the store seals its memtable.
    memtables: Vec<(Keyspace, u64)>,
    /// See [`EmbeddedOptions::write_buffer_bytes`].
    write_buffer_bytes: u64,
    /// Flushes sealed memtables beside fjall's worker.
    flusher: flusher::Flusher,
    /// The snapshots open (backups), whose versions the flusher keeps.
    pins: Arc<flusher::Pins>,
    /// Delete the data when closed: nothing to flush.
    temporary: bool,
}

impl Drop for Inner {
    /// Flushes every memtable when the store closes, so that the next opening has no journal
    /// to replay (up to the journal bound, 64 MiB, which took most of a second). Skipped when a
    /// write has failed or the reserve is not free: the journal keeps what the memtables held
    /// either way.
    fn drop(&mut self) {
        // First, so that no keyspace handle outlives the database.
        self.flusher.stop();
        if self.temporary || self.disk.failed() || self.disk.admit_write().is_err() {
            return;
        }
        let started = Instant::now();
        for (keyspace, _) in &self.memtables {
            if keyspace.tree.active_memtable().size() > 0
                && let Err(error) = keyspace.rotate_memtable()
            {
                tracing::warn!(%error, "sealing a memtable at close failed");
                return;
            }
            if let Err(error) = flusher::flush_sealed(keyspace, &self.pins) {
                tracing::warn!(error = %error.message, "memtables not flushed at close; the journal keeps them");
                return;
            }
        }
        tracing::debug!(
            seconds = started.elapsed().as_secs_f64(),
            "memtables flushed at close"
        );
    }
}

struct WriteState {
    last_seq: u64,
    /// The epoch postings are written into; `None` until the first write after opening.
    epoch: Option<epochs::Current>,
    known: statements::Known,
}

const FLAG_VOIDING: u8 = 1;
/// The journal size at which fjall flushes the memtables that keep its oldest part alive.
const JOURNAL_BYTES: u64 = 64 * 1024 * 1024;
/// Memtable size of the `statements` keyspace (about 14,000 statements of 1 KB). A memtable
/// stays in memory until the next seal after its flush (fjall keeps it for readers of older
/// snapshots), so each keyspace holds about two of them at a time, more when seals are rare.
const STATEMENTS_MEMTABLE_BYTES: u64 = 16 * 1024 * 1024;
/// Memtable size of the `postings` and `ids` keyspaces (about 400,000 entries).
const INDEX_MEMTABLE_BYTES: u64 = 32 * 1024 * 1024;
/// Table size of the keyspaces whose Bloom filters every write asks (`ids`, `records`),
/// against fjall's 64 MiB. A table being written keeps an 8-byte hash of each key for its
/// filter, in a vector grown by doubling: a 64 MiB `ids` table holds about 2.2 million keys,
/// and its compaction held a 32 MiB vector (48 MiB while it grew), the largest single
/// allocation of an ingest (heaptrack, docs/performance.md, sixth pass). At 16 MiB it is at
/// most 8 MiB. Data directories created before keep the table size their keyspaces were
/// created with.
const FILTERED_TABLE_BYTES: u64 = 16 * 1024 * 1024;

/// fjall's leveled compaction with tables of [`FILTERED_TABLE_BYTES`].
fn filtered_tables() -> Arc<fjall::compaction::Leveled> {
    Arc::new(fjall::compaction::Leveled::default().with_table_target_size(FILTERED_TABLE_BYTES))
}

/// Options of the `statements` keyspace.
///
/// Statement JSON compresses well, so its blocks are LZ4-compressed on every level, not only
/// the deeper ones (fjall's default). Every write inserts into the `statements`, `ids` and
/// `postings` memtables under the store's write lock, and an insert into a memtable (a skip
/// list) costs one key comparison per level, most of them cache misses: memtables smaller
/// than fjall's 64 MiB keep the lists shallower and warmer, and hold less memory, for a few
/// more flushes.
///
/// Nothing of a table is kept in memory for good: no Bloom filter, and a partitioned block
/// index, of which only the top level (an entry per partition of the index) stays in memory,
/// the partitions read through the block cache. Statement keys only grow, so each flushed
/// table is moved down the tree as it is, never rewritten, and it keeps what fjall pins at the
/// first level (the filter and the whole index): at 8 M statements that was 17 MiB of filters
/// and 57 MiB of index, growing with every statement until the server restarted
/// (docs/performance.md, eighth pass). A filter would never help here anyway: statements are
/// read by key only once a posting or a page's range has found the key, so a look-up never
/// misses.
fn statements_options() -> KeyspaceCreateOptions {
    KeyspaceCreateOptions::default()
        .max_memtable_size(STATEMENTS_MEMTABLE_BYTES)
        .data_block_compression_policy(fjall::config::CompressionPolicy::all(
            fjall::CompressionType::Lz4,
        ))
        .filter_policy(fjall::config::FilterPolicy::disabled())
        .index_block_partitioning_policy(fjall::config::PartitioningPolicy::all(true))
}

/// Options of the `postings` keyspace.
///
/// Postings are only ever read by range, where a table's Bloom filter is never asked: without
/// filters a flush or compaction hashes no key, and a compaction of the current epoch no
/// longer holds every key's hash in memory until its table is written (64 MiB at the end of
/// an epoch, the largest allocation of an ingest). The block index stays whole, and the
/// tables of past epochs, moved down without being rewritten, keep theirs in memory (9 MiB at
/// 10 M statements): a query seeks its term's range in every epoch, and through a partitioned
/// index those seeks made a `registration` query, one seek per epoch, several times as slow
/// (docs/performance.md, eighth pass).
///
/// The first level gathers [`POSTINGS_L0_TABLES`] flushed tables before they are merged into
/// the next (fjall's default is four). Postings of the current epoch spread over all its
/// terms, so each of those merges rewrites every posting the epoch has so far: with a
/// memtable of about 400,000 postings and an epoch of 8 million, an epoch took five merges
/// at four tables, each posting rewritten three times on average, and takes two at ten. At 2
/// M statements compaction took 40 % less CPU and ingest was 10 % faster (docs/performance.md,
/// ninth pass). A query seeks up to ten tables more in the current epoch, one in the others.
fn postings_options() -> KeyspaceCreateOptions {
    KeyspaceCreateOptions::default()
        .max_memtable_size(INDEX_MEMTABLE_BYTES)
        .filter_policy(fjall::config::FilterPolicy::disabled())
        .compaction_strategy(Arc::new(
            fjall::compaction::Leveled::default().with_l0_threshold(POSTINGS_L0_TABLES),
        ))
}

/// Tables on the first level of `postings` before they are merged down. fjall holds writes
/// back at 20.
const POSTINGS_L0_TABLES: u8 = 10;

/// fjall's background threads (flushes and compactions); see `Inner::open`.
const BACKGROUND_WORKERS: usize = 1;
/// Memtable size of the other keyspaces: written far less than the three above, so a
/// memtable of theirs would otherwise sit in memory for long, up to fjall's default of 64 MiB.
const OTHER_MEMTABLE_BYTES: u64 = 16 * 1024 * 1024;
const HASH_LEN: usize = 16;

impl EmbeddedStore {
    /// Opens (or creates) the store in `dir`.
    pub fn open(
        dir: &Path,
        options: EmbeddedOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<EmbeddedStore, StorageError> {
        std::fs::create_dir_all(dir).map_err(|e| io_error(&e))?;
        let disk = Arc::new(Disk::new(dir, options.reserve_bytes));
        let inner = Inner::open(dir, options, clock.clone(), disk.clone())?;
        Ok(EmbeddedStore {
            shared: Arc::new(Shared {
                dir: dir.to_path_buf(),
                options,
                clock,
                disk,
                current: RwLock::new(Some(Arc::new(inner))),
                recovering: AtomicBool::new(false),
                carried: Mutex::new((0, 0)),
                writer: writer::Writer::start().map_err(|e| io_error(&e))?,
            }),
        })
    }

    async fn blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Inner) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
    {
        let inner = self.shared.current()?;
        let result = match tokio::task::spawn_blocking(move || f(&inner)).await {
            Ok(value) => value,
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        };
        self.recover_if_failed();
        result
    }

    /// Runs a write on the store's write thread (see `writer`), as `blocking` runs a read.
    async fn writing<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Inner) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
    {
        let inner = self.shared.current()?;
        let result = self.shared.writer.run(move || f(&inner)).await;
        self.recover_if_failed();
        result
    }

    /// Starts reopening the database if the operation just run found the disk failed.
    fn recover_if_failed(&self) {
        if self.shared.disk.failed() {
            Shared::start_recovery(&self.shared);
        }
    }
}

impl super::Backup for EmbeddedStore {
    fn write_backup(
        &self,
        out: &mut dyn std::io::Write,
    ) -> Result<super::BackupSummary, StorageError> {
        self.shared.current()?.write_backup(out)
    }
}

impl Shared {
    fn current(&self) -> Result<Arc<Inner>, StorageError> {
        self.current.read().clone().ok_or_else(|| {
            StorageError::new(
                StorageErrorKind::Unavailable,
                "the store is reopening after a failed write",
            )
        })
    }

    /// Starts the recovery thread unless one runs. A temporary store is not reopened: closing
    /// it deletes its data.
    fn start_recovery(shared: &Arc<Shared>) {
        if shared.options.temporary || shared.recovering.swap(true, Ordering::AcqRel) {
            return;
        }
        tracing::error!(
            dir = %shared.dir.display(),
            "a write to the data directory failed; writes are refused until the disk takes \
             writes again and the store has reopened"
        );
        let weak = Arc::downgrade(shared);
        let spawned = std::thread::Builder::new()
            .name("store-recovery".into())
            .spawn(move || Shared::recover(weak));
        if spawned.is_err() {
            shared.recovering.store(false, Ordering::Release);
        }
    }

    /// Waits for the disk to take writes, then reopens the database; ends with the store.
    fn recover(weak: Weak<Shared>) {
        loop {
            std::thread::sleep(RECOVERY_POLL);
            let Some(shared) = weak.upgrade() else {
                return;
            };
            if !shared.disk.can_write() {
                continue;
            }
            match shared.reopen() {
                Ok(()) => {
                    tracing::info!(dir = %shared.dir.display(), "the store reopened; writes resume");
                    shared.recovering.store(false, Ordering::Release);
                    return;
                }
                Err(error) => {
                    tracing::warn!(dir = %shared.dir.display(), %error, "reopening the store failed; trying again");
                }
            }
        }
    }

    /// Closes the failed database once no operation holds it, and opens it again.
    fn reopen(&self) -> Result<(), StorageError> {
        let taken = self.current.write().take();
        if let Some(mut old) = taken {
            let deadline = Instant::now() + RECOVERY_DRAIN;
            let inner = loop {
                match Arc::try_unwrap(old) {
                    Ok(inner) => break inner,
                    Err(still_held) if Instant::now() >= deadline => {
                        *self.current.write() = Some(still_held);
                        return Err(StorageError::new(
                            StorageErrorKind::Unavailable,
                            "operations in flight held the failed database",
                        ));
                    }
                    Err(still_held) => {
                        old = still_held;
                        std::thread::sleep(Duration::from_millis(5));
                    }
                }
            };
            *self.carried.lock() = (
                inner.write.lock().last_seq,
                inner.last_consistent.load(Ordering::SeqCst),
            );
            drop(inner);
        }
        let inner = Inner::open(
            &self.dir,
            self.options,
            self.clock.clone(),
            self.disk.clone(),
        )?;
        let (last_seq, last_consistent) = *self.carried.lock();
        {
            let mut write = inner.write.lock();
            write.last_seq = write.last_seq.max(last_seq);
        }
        inner
            .last_consistent
            .fetch_max(last_consistent, Ordering::SeqCst);
        self.disk.recovered();
        *self.current.write() = Some(Arc::new(inner));
        Ok(())
    }
}

impl Inner {
    fn open(
        dir: &Path,
        options: EmbeddedOptions,
        clock: Arc<dyn Clock>,
        disk: Arc<Disk>,
    ) -> Result<Inner, StorageError> {
        // The journal is kept until every memtable holding part of it is flushed, and replayed
        // whole at start-up. fjall's default lets it grow to 512 MiB, which a keyspace written
        // rarely (activities, agents, registry) would pin: the data directory carried that
        // much besides the tables and start-up took seconds. At this bound the rarely written
        // memtables are flushed instead.
        //
        // One background worker flushes and compacts. With two (fjall's choice on two cores),
        // the first hands every compaction request it receives back to the queue while the
        // second compacts, and receives it again at once: a busy loop for as long as a
        // compaction runs, a core's worth of CPU at ten million statements (docs/performance.md).
        // The store seals memtables itself (`seal_full_memtables`), so a flush waiting behind a
        // compaction holds writers back rather than letting memtables grow.
        let db = Database::builder(dir)
            .worker_threads(BACKGROUND_WORKERS)
            .cache_size(options.cache_bytes)
            .max_journaling_size(JOURNAL_BYTES)
            .temporary(options.temporary)
            .open()
            .map_err(map_err)?;
        let open = |name: &str| {
            db.keyspace(name, KeyspaceCreateOptions::default)
                .map_err(map_err)
        };
        // Options are recorded when a keyspace is created; an existing one keeps its own.
        let statements = db
            .keyspace("statements", statements_options)
            .map_err(map_err)?;
        // Every insert looks its statement ids up in `ids`, and nearly every lookup misses: the
        // tables' Bloom filters answer it, so they are kept in memory on every level (fjall
        // pins only the first level's and reads the others through the block cache, where
        // each new table's filter must first be read back). About 1.2 bytes per statement.
        // Writing a table holds the hash of each of its keys until the filter is built, so
        // its tables are smaller than fjall's 64 MiB (see `FILTERED_TABLE_BYTES`).
        let ids = db
            .keyspace("ids", || {
                KeyspaceCreateOptions::default()
                    .max_memtable_size(INDEX_MEMTABLE_BYTES)
                    .filter_block_pinning_policy(fjall::config::PinningPolicy::all(true))
                    .compaction_strategy(filtered_tables())
            })
            .map_err(map_err)?;
        let postings = db.keyspace("postings", postings_options).map_err(map_err)?;
        let epoch_starts = open("epochs")?;
        if db.keyspace_exists(LEGACY_TERMS) {
            convert_legacy_terms(&db, &postings, &epoch_starts)?;
        }
        let mut starts = Vec::new();
        for guard in epoch_starts.range::<&[u8], _>(..) {
            let (key, value) = guard.into_inner().map_err(map_err)?;
            let epoch = <[u8; 2]>::try_from(&key[..])
                .map(u16::from_be_bytes)
                .map_err(|_| StorageError::corrupt("an epoch key is not 2 bytes"))?;
            starts.push((epoch, read_u64(&value, 0)?));
        }
        let voids = open("voids")?;
        let documents = open("documents")?;
        let registry = open("registry")?;
        let activities = open("activities")?;
        let agents = open("agents")?;
        let attachments = open("attachments")?;
        // Records are read by key, and a write with an expectation reads its key first: for
        // a new key (every item of the capability ledger) the tables' Bloom filters answer,
        // so they are kept in memory on every level, as for `ids`; otherwise each look-up
        // read filter blocks through a block cache that statement scans keep emptying.
        let records = db
            .keyspace("records", || {
                KeyspaceCreateOptions::default()
                    .filter_block_pinning_policy(fjall::config::PinningPolicy::all(true))
                    .compaction_strategy(filtered_tables())
            })
            .map_err(map_err)?;
        let blobs = open("blobs")?;
        let last_seq = match statements.last_key_value() {
            Some(guard) => {
                let key = guard.key().map_err(map_err)?;
                read_u64(&key, 4)?
            }
            None => 0,
        };
        let memtables = vec![
            (statements.clone(), STATEMENTS_MEMTABLE_BYTES),
            (ids.clone(), INDEX_MEMTABLE_BYTES),
            (postings.clone(), INDEX_MEMTABLE_BYTES),
            (epoch_starts.clone(), OTHER_MEMTABLE_BYTES),
            (voids.clone(), OTHER_MEMTABLE_BYTES),
            (documents.clone(), OTHER_MEMTABLE_BYTES),
            (registry.clone(), OTHER_MEMTABLE_BYTES),
            (activities.clone(), OTHER_MEMTABLE_BYTES),
            (agents.clone(), OTHER_MEMTABLE_BYTES),
            (attachments.clone(), OTHER_MEMTABLE_BYTES),
            (records.clone(), OTHER_MEMTABLE_BYTES),
            (blobs.clone(), OTHER_MEMTABLE_BYTES),
        ];
        let pins = Arc::new(flusher::Pins::default());
        let flusher = flusher::Flusher::start(
            memtables
                .iter()
                .map(|(keyspace, _)| keyspace.clone())
                .collect(),
            disk.clone(),
            pins.clone(),
        )
        .map_err(|e| io_error(&e))?;
        Ok(Inner {
            memtables,
            write_buffer_bytes: options.write_buffer_bytes,
            flusher,
            pins,
            temporary: options.temporary,
            disk,
            db,
            statements,
            ids,
            postings,
            epoch_starts,
            epochs: RwLock::new(epochs::Epochs::new(starts)),
            voids,
            documents,
            registry,
            activities,
            agents,
            attachments,
            records,
            blobs,
            clock,
            // Buffer: handed to the OS, survives the process dying; SyncData: on the disk.
            durability: if options.fsync {
                PersistMode::SyncData
            } else {
                PersistMode::Buffer
            },
            write: Mutex::new(WriteState {
                last_seq,
                epoch: None,
                known: statements::Known::new(),
            }),
            in_flight: AtomicU64::new(u64::MAX),
            last_consistent: AtomicU64::new(0),
        })
    }

    /// Reads a JSON value stored under `key`.
    fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        keyspace: &Keyspace,
        key: &[u8],
    ) -> Result<Option<T>, StorageError> {
        match keyspace.get(key).map_err(map_err)? {
            Some(value) => serde_json::from_slice(&value)
                .map(Some)
                .map_err(|e| StorageError::corrupt(e.to_string())),
            None => Ok(None),
        }
    }

    /// Commits one atomic batch, pushing the journal as far as the durability setting asks.
    fn commit(&self, batch: fjall::OwnedWriteBatch) -> Result<(), StorageError> {
        self.admit_write()?;
        batch
            .durability(Some(self.durability))
            .commit()
            .map_err(|e| self.write_failed(e))?;
        self.seal_full_memtables();
        Ok(())
    }

    /// Seals every memtable past its size, in the writer's thread, and has the flush thread
    /// write it out. fjall asks its background worker to seal, and that worker also compacts:
    /// behind a long compaction the request waits, the memtable grows without bound, and so
    /// do the journal and the next start-up's replay.
    fn seal_full_memtables(&self) {
        let sizes: Vec<(u64, u64)> = self
            .memtables
            .iter()
            .map(|(keyspace, limit)| (keyspace.tree.active_memtable().size(), *limit))
            .collect();
        let mut sealed = false;
        for i in memtables_to_seal(&sizes, self.write_buffer_bytes) {
            match self.memtables[i].0.rotate_memtable() {
                Ok(rotated) => sealed |= rotated,
                Err(error) => tracing::warn!(%error, "sealing a memtable failed"),
            }
        }
        if sealed {
            self.flusher.wake();
        }
    }

    /// Refuses a write before anything of it is written: the database refuses writes after a
    /// failed one until it is reopened, and the disk must be writable with the reserve free.
    fn admit_write(&self) -> Result<(), StorageError> {
        if self.disk.failed() {
            return Err(self.disk.failed_error());
        }
        self.disk.admit_write()
    }

    /// A write that reached fjall and failed: fjall refuses every later write, so the store
    /// marks itself for a reopen, and the answer says what the disk's state explains.
    fn write_failed(&self, error: fjall::Error) -> StorageError {
        self.disk.fail(map_err(error))
    }
}

/// Which memtables to seal, given each one's `(size, limit)`: every one past its limit, then,
/// while the rest together are past `budget`, the largest of them.
fn memtables_to_seal(sizes: &[(u64, u64)], budget: u64) -> Vec<usize> {
    let mut seal: Vec<usize> = (0..sizes.len())
        .filter(|&i| sizes[i].0 > sizes[i].1)
        .collect();
    let mut kept: u64 = (0..sizes.len())
        .filter(|i| !seal.contains(i))
        .map(|i| sizes[i].0)
        .sum();
    while kept > budget {
        let Some(largest) = (0..sizes.len())
            .filter(|i| !seal.contains(i) && sizes[*i].0 > 0)
            .max_by_key(|&i| sizes[i].0)
        else {
            break;
        };
        seal.push(largest);
        kept -= sizes[largest].0;
    }
    seal
}

/// The index keyspace of the first layout.
const LEGACY_TERMS: &str = "terms";
/// Entries converted per write batch when a first-layout index is converted.
const CONVERSION_BATCH: usize = 100_000;

/// Converts the index of a first-layout data directory (`terms`: tenant ‖ kind ‖ hash ‖ seq)
/// into epoch 0 of `postings`, then drops `terms`. Each posting key is computed from the old
/// key alone, so no statement is read. A conversion cut short leaves `terms` in place and
/// starts over at the next opening; nothing is served until it is done.
fn convert_legacy_terms(
    db: &Database,
    postings: &Keyspace,
    epoch_starts: &Keyspace,
) -> Result<(), StorageError> {
    let legacy = db
        .keyspace(LEGACY_TERMS, KeyspaceCreateOptions::default)
        .map_err(map_err)?;
    tracing::warn!(
        entries = legacy.approximate_len(),
        "converting the query index of a data directory of the first layout; this runs once"
    );
    let started = Instant::now();
    postings.clear().map_err(map_err)?;
    epoch_starts.clear().map_err(map_err)?;
    let mut batch = db.batch();
    batch.insert(epoch_starts, 0u16.to_be_bytes(), 0u64.to_be_bytes());
    let mut pending = 0;
    let mut converted = 0u64;
    for guard in legacy.range::<&[u8], _>(..) {
        let key = guard.key().map_err(map_err)?;
        batch.insert(postings, statements::legacy_posting(&key)?, []);
        pending += 1;
        if pending == CONVERSION_BATCH {
            batch.commit().map_err(map_err)?;
            batch = db.batch();
            converted += pending as u64;
            pending = 0;
        }
    }
    batch.commit().map_err(map_err)?;
    converted += pending as u64;
    db.persist(PersistMode::SyncAll).map_err(map_err)?;
    db.delete_keyspace(legacy).map_err(map_err)?;
    tracing::warn!(
        converted,
        seconds = started.elapsed().as_secs_f64(),
        "query index converted"
    );
    Ok(())
}

fn map_err(error: fjall::Error) -> StorageError {
    match error {
        fjall::Error::Io(e) => io_error(&e),
        fjall::Error::Storage(fjall::LsmError::Io(e)) => io_error(&e),
        fjall::Error::Locked => StorageError::new(
            StorageErrorKind::Locked,
            "the data directory is in use by another process",
        ),
        fjall::Error::Poisoned => StorageError::new(
            StorageErrorKind::Unavailable,
            "a write to the data directory failed; writes resume when the store has reopened",
        ),
        other => StorageError::corrupt(other.to_string()),
    }
}

fn io_error(error: &std::io::Error) -> StorageError {
    let kind = match error.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
            StorageErrorKind::Full
        }
        std::io::ErrorKind::ReadOnlyFilesystem => StorageErrorKind::ReadOnly,
        _ => StorageErrorKind::Unavailable,
    };
    StorageError::new(kind, error.to_string())
}

fn read_u64(bytes: &[u8], at: usize) -> Result<u64, StorageError> {
    bytes
        .get(at..at + 8)
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| StorageError::corrupt("short key"))
}

fn hash16(parts: &[&[u8]]) -> [u8; HASH_LEN] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let mut out = [0u8; HASH_LEN];
    out.copy_from_slice(&digest[..HASH_LEN]);
    out
}

fn seq_to_time(seq: u64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(i64::try_from(seq).unwrap_or(i64::MAX)).unwrap_or_default()
}

fn time_to_seq(time: DateTime<Utc>) -> u64 {
    u64::try_from(time.timestamp_micros()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::storage::{Expect, RecordKey, RecordStore, TenantId};

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn memtables_past_their_size_are_sealed() {
        let sizes = [(17 * MIB, 16 * MIB), (10 * MIB, 32 * MIB), (0, 16 * MIB)];
        assert_eq!(memtables_to_seal(&sizes, 96 * MIB), vec![0]);
        assert!(memtables_to_seal(&[(16 * MIB, 16 * MIB)], 96 * MIB).is_empty());
    }

    #[test]
    fn past_the_budget_the_largest_are_sealed_until_the_rest_fit() {
        // 15 + 30 + 31 + 15 = 91 MiB, each under its size: over a budget of 50 the two
        // largest go (31, then 30: 30 MiB left), over 64 only the largest (60 left).
        let sizes = [
            (15 * MIB, 16 * MIB),
            (30 * MIB, 32 * MIB),
            (31 * MIB, 32 * MIB),
            (15 * MIB, 16 * MIB),
        ];
        assert_eq!(memtables_to_seal(&sizes, 50 * MIB), vec![2, 1]);
        assert_eq!(memtables_to_seal(&sizes, 64 * MIB), vec![2]);
        assert!(memtables_to_seal(&sizes, 91 * MIB).is_empty());
        // One past its own size counts as sealed already.
        let sizes = [
            (40 * MIB, 32 * MIB),
            (30 * MIB, 32 * MIB),
            (5 * MIB, 16 * MIB),
        ];
        assert_eq!(memtables_to_seal(&sizes, 32 * MIB), vec![0, 1]);
        assert_eq!(memtables_to_seal(&sizes, 35 * MIB), vec![0]);
        // Empty memtables are never sealed, whatever the budget.
        assert!(memtables_to_seal(&[(0, 16 * MIB), (0, 16 * MIB)], 0).is_empty());
    }

    /// Flushes four tables of 1 KB values under increasing keys (as `statements` receives
    /// them) into a keyspace made with `options`, checks that every value reads back, and
    /// returns what the tables keep in memory: (filters, block index).
    fn pinned_after_flushes(
        db: &Database,
        name: &str,
        options: fn() -> KeyspaceCreateOptions,
    ) -> (usize, usize) {
        let keyspace = db.keyspace(name, options).expect("keyspace");
        let pins = flusher::Pins::default();
        for table in 0..4u64 {
            for i in 0..1_000u64 {
                let value: Vec<u8> = (0..1_000u64).map(|b| (b * 7 + i) as u8).collect();
                keyspace
                    .insert((table * 1_000 + i).to_be_bytes(), value)
                    .expect("insert");
            }
            assert!(keyspace.rotate_memtable().expect("rotate"));
            flusher::flush_sealed(&keyspace, &pins).expect("flush");
        }
        assert_eq!(keyspace.table_count(), 4);
        for key in (0..4_000u64).step_by(37) {
            let value = keyspace
                .get(key.to_be_bytes())
                .expect("get")
                .expect("found");
            assert_eq!(value[1], (7 + key % 1_000) as u8);
        }
        assert_eq!(keyspace.range::<&[u8], _>(..).count(), 4_000);
        (
            keyspace.tree.pinned_filter_size(),
            keyspace.tree.pinned_block_index_size(),
        )
    }

    /// fjall keeps a flushed table's Bloom filter and whole block index in memory, and a
    /// table moved down later (every table of `statements`) keeps them: memory that grew with
    /// every statement stored. A `statements` table keeps only the top level of a
    /// partitioned index.
    #[test]
    fn statement_tables_keep_only_the_top_of_their_index_in_memory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Database::builder(dir.path())
            .worker_threads_unchecked(0)
            .open()
            .expect("open");
        let (filters, index) =
            pinned_after_flushes(&db, "defaults", KeyspaceCreateOptions::default);
        // About a thousand 4 KiB blocks, an index entry each.
        assert!(
            filters > 4_000 && index > 8_000,
            "fjall's defaults pin {filters} bytes of filters and {index} of index"
        );
        let (filters, top) = pinned_after_flushes(&db, "statements", statements_options);
        assert_eq!(filters, 0);
        assert!(top * 10 < index, "{top} bytes of index against {index}");
    }

    /// Records written far below the records memtable's own size, but past the store's
    /// write buffer: the memtable is sealed at the budget and flushed, and memory stays
    /// bounded by the budget rather than by the memtable sizes.
    #[tokio::test]
    async fn the_write_buffer_bounds_every_memtable_together() {
        let temp = tempfile::tempdir().expect("tempdir");
        let options = EmbeddedOptions {
            reserve_bytes: 0,
            write_buffer_bytes: MIB,
            ..EmbeddedOptions::default()
        };
        let store = EmbeddedStore::open(temp.path(), options, Arc::new(SystemClock)).expect("open");
        let value = Bytes::from(vec![b'x'; 4096]);
        for i in 0..1_000 {
            let key = RecordKey::new("kind", "group", &format!("{i:04}"));
            store
                .put_record(TenantId(1), &key, value.clone(), Expect::Absent)
                .await
                .expect("put");
        }
        let inner = store.shared.current().expect("open");
        let active = inner.records.tree.active_memtable().size();
        assert!(
            active <= MIB + 16 * 1024,
            "{active} bytes still in the active memtable"
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while inner.records.sealed_memtable_count() > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "sealed memtables not flushed"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        // Flushed to tables (which compactions may have merged since).
        assert!(inner.records.table_count() >= 1);
        // Everything is still there.
        let listed = store
            .list_records(TenantId(1), "kind", "group", None, 2_000)
            .await
            .expect("list");
        assert_eq!(listed.len(), 1_000);
    }
}
