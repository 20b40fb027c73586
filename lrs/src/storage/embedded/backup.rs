//! Backups of the embedded store: one consistent moment of every keyspace, written while the
//! store serves, and restored into a fresh data directory.
//!
//! The backup is logical, not a copy of files: the store's snapshot (a sequence number every
//! later write is newer than) is taken under the write lock, so no batch is half in it, and
//! every keyspace is read at that snapshot while writes go on. The format, gzip-compressed:
//!
//! ```text
//! "PROFICIO BACKUP\n"  version: u32
//! ( 'K' name-length: u16 name
//!   ( 'E' key-length: u32 key value-length: u32 value )* )*
//! 'Z' entries: u64 sha256(every byte before 'Z'): [u8; 32]
//! ```
//!
//! (integers big-endian). A restore reads the keyspaces in order and bulk-loads each one
//! (keys come sorted) into a new directory beside the target, checks the count and the digest
//! at the end, and only then moves the directory into place: a cut or altered backup leaves
//! nothing behind.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

use super::{EmbeddedOptions, EmbeddedStore, Inner, map_err};
use crate::clock::Clock;
use crate::storage::{BackupSummary, StorageError, StorageErrorKind};

const MAGIC: &[u8; 16] = b"PROFICIO BACKUP\n";
const VERSION: u32 = 1;
const KEYSPACE: u8 = b'K';
const ENTRY: u8 = b'E';
const END: u8 = b'Z';
/// Longest key or value accepted from a backup (fjall's own limits are lower).
const MAX_PART: u32 = 1 << 30;

/// Hashes everything written through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn io(e: std::io::Error) -> StorageError {
    StorageError::new(StorageErrorKind::Unavailable, format!("backup: {e}"))
}

fn corrupt(what: impl std::fmt::Display) -> StorageError {
    StorageError::new(
        StorageErrorKind::Corrupt,
        format!("not a whole Proficio backup: {what}"),
    )
}

impl Inner {
    /// Writes every keyspace as of one moment to `out`.
    pub(super) fn write_backup(&self, out: &mut dyn Write) -> Result<BackupSummary, StorageError> {
        let started = Instant::now();
        let snapshot = {
            let _no_batch_in_flight = self.write.lock();
            self.pins.snapshot(&self.db)
        };
        let mut names: Vec<String> = self
            .db
            .list_keyspace_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        names.sort();
        let gzip = GzEncoder::new(
            BufWriter::with_capacity(256 * 1024, out),
            Compression::fast(),
        );
        let mut w = Hashing {
            inner: gzip,
            hasher: Sha256::new(),
            bytes: 0,
        };
        w.write_all(MAGIC).map_err(io)?;
        w.write_all(&VERSION.to_be_bytes()).map_err(io)?;
        let mut entries: u64 = 0;
        for name in &names {
            let keyspace = self
                .db
                .keyspace(name, fjall::KeyspaceCreateOptions::default)
                .map_err(map_err)?;
            let name_len = u16::try_from(name.len()).map_err(|_| corrupt("keyspace name"))?;
            w.write_all(&[KEYSPACE]).map_err(io)?;
            w.write_all(&name_len.to_be_bytes()).map_err(io)?;
            w.write_all(name.as_bytes()).map_err(io)?;
            for guard in fjall::Readable::iter(&*snapshot, &keyspace) {
                let (key, value) = guard.into_inner().map_err(map_err)?;
                w.write_all(&[ENTRY]).map_err(io)?;
                for part in [&key[..], &value[..]] {
                    let len = u32::try_from(part.len()).map_err(|_| corrupt("entry size"))?;
                    w.write_all(&len.to_be_bytes()).map_err(io)?;
                    w.write_all(part).map_err(io)?;
                }
                entries += 1;
            }
        }
        let raw_bytes = w.bytes;
        let digest = w.hasher.finalize();
        let mut gzip = w.inner;
        gzip.write_all(&[END]).map_err(io)?;
        gzip.write_all(&entries.to_be_bytes()).map_err(io)?;
        gzip.write_all(&digest).map_err(io)?;
        let mut buffered = gzip.finish().map_err(io)?;
        buffered.flush().map_err(io)?;
        Ok(BackupSummary {
            keyspaces: names.len(),
            entries,
            raw_bytes,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

/// Reads a backup item by item, checking it as it goes.
struct Reader<R: Read> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
    entries: u64,
    in_keyspace: bool,
}

/// One item of a backup, in order.
enum Item {
    Keyspace(String),
    Entry(Vec<u8>, Vec<u8>),
    /// The end, its count and checksum checked: the entry count and the uncompressed size.
    End {
        entries: u64,
        bytes: u64,
    },
}

impl<R: Read> Reader<BufReader<GzDecoder<R>>> {
    fn open(input: R) -> Result<Self, StorageError> {
        let mut r = Reader {
            inner: BufReader::with_capacity(256 * 1024, GzDecoder::new(input)),
            hasher: Sha256::new(),
            bytes: 0,
            entries: 0,
            in_keyspace: false,
        };
        let mut magic = [0u8; 16];
        r.exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(corrupt("it does not begin as one"));
        }
        let mut version = [0u8; 4];
        r.exact(&mut version)?;
        let version = u32::from_be_bytes(version);
        if version != VERSION {
            return Err(corrupt(format!(
                "format version {version} (this build reads {VERSION})"
            )));
        }
        Ok(r)
    }
}

impl<R: Read> Reader<R> {
    fn raw(&mut self, buf: &mut [u8]) -> Result<(), StorageError> {
        self.inner.read_exact(buf).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => corrupt("it is cut short"),
            _ => corrupt(e),
        })
    }

    fn exact(&mut self, buf: &mut [u8]) -> Result<(), StorageError> {
        self.raw(buf)?;
        self.hasher.update(&*buf);
        self.bytes += buf.len() as u64;
        Ok(())
    }

    fn part(&mut self) -> Result<Vec<u8>, StorageError> {
        let mut len = [0u8; 4];
        self.exact(&mut len)?;
        let len = u32::from_be_bytes(len);
        if len > MAX_PART {
            return Err(corrupt("an entry is larger than any the store writes"));
        }
        let mut part = vec![0u8; len as usize];
        self.exact(&mut part)?;
        Ok(part)
    }

    fn next_item(&mut self) -> Result<Item, StorageError> {
        let mut tag = [0u8; 1];
        self.raw(&mut tag)?;
        if tag[0] == END {
            let digest = std::mem::take(&mut self.hasher).finalize();
            let mut count = [0u8; 8];
            self.raw(&mut count)?;
            let mut stored = [0u8; 32];
            self.raw(&mut stored)?;
            if u64::from_be_bytes(count) != self.entries {
                return Err(corrupt("the entry count does not match"));
            }
            if digest[..] != stored[..] {
                return Err(corrupt("the checksum does not match"));
            }
            let mut rest = [0u8; 1];
            if self.inner.read(&mut rest).map_err(corrupt)? != 0 {
                return Err(corrupt("bytes follow its end"));
            }
            return Ok(Item::End {
                entries: self.entries,
                bytes: self.bytes,
            });
        }
        self.hasher.update(tag);
        self.bytes += 1;
        match tag[0] {
            KEYSPACE => {
                let mut len = [0u8; 2];
                self.exact(&mut len)?;
                let mut name = vec![0u8; u16::from_be_bytes(len) as usize];
                self.exact(&mut name)?;
                let name = String::from_utf8(name).map_err(|_| corrupt("a keyspace name"))?;
                self.in_keyspace = true;
                Ok(Item::Keyspace(name))
            }
            ENTRY if self.in_keyspace => {
                let key = self.part()?;
                let value = self.part()?;
                self.entries += 1;
                Ok(Item::Entry(key, value))
            }
            other => Err(corrupt(format!("unexpected tag {other}"))),
        }
    }
}

/// Checks a backup whole without restoring it; returns its entry count.
pub fn verify_backup(input: impl Read) -> Result<u64, StorageError> {
    let mut reader = Reader::open(input)?;
    loop {
        if let Item::End { entries, .. } = reader.next_item()? {
            return Ok(entries);
        }
    }
}

/// Restores a backup into `dir`, which must not exist or be empty. The store is built in a
/// directory beside it and moved into place only when the backup has been read whole and its
/// checksum matches.
pub fn restore_backup(
    input: impl Read,
    dir: &Path,
    options: EmbeddedOptions,
    clock: Arc<dyn Clock>,
) -> Result<BackupSummary, StorageError> {
    let started = Instant::now();
    if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(StorageError::new(
            StorageErrorKind::Locked,
            format!(
                "{} is not empty: a backup is restored into a new data directory",
                dir.display()
            ),
        ));
    }
    let staging = staging_dir(dir);
    match restore_into(input, &staging, options, clock) {
        Ok(mut summary) => {
            if dir.exists() {
                std::fs::remove_dir(dir).map_err(io)?;
            }
            std::fs::rename(&staging, dir).map_err(io)?;
            summary.seconds = started.elapsed().as_secs_f64();
            Ok(summary)
        }
        Err(error) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(error)
        }
    }
}

fn staging_dir(dir: &Path) -> PathBuf {
    let name = dir
        .file_name()
        .map_or_else(|| "data".into(), |n| n.to_string_lossy().into_owned());
    dir.with_file_name(format!(".{name}.restoring-{}", std::process::id()))
}

fn restore_into(
    input: impl Read,
    staging: &Path,
    options: EmbeddedOptions,
    clock: Arc<dyn Clock>,
) -> Result<BackupSummary, StorageError> {
    let _ = std::fs::remove_dir_all(staging);
    let store = EmbeddedStore::open(staging, options, clock)?;
    let inner = store.shared.current()?;
    let mut reader = Reader::open(input)?;
    let mut keyspaces = 0;
    let mut item = reader.next_item()?;
    let (entries, raw_bytes) = loop {
        match item {
            Item::Keyspace(name) => {
                let keyspace = inner
                    .db
                    .keyspace(&name, fjall::KeyspaceCreateOptions::default)
                    .map_err(map_err)?;
                if keyspace.first_key_value().is_some() {
                    return Err(corrupt(format!("keyspace {name} appears twice")));
                }
                keyspaces += 1;
                // Keys come sorted, so each keyspace is bulk-loaded into tables directly.
                let mut ingestion = None;
                let mut last_key: Option<Vec<u8>> = None;
                item = loop {
                    match reader.next_item()? {
                        Item::Entry(key, value) => {
                            if last_key.as_ref().is_some_and(|last| *last >= key) {
                                return Err(corrupt("keys are out of order"));
                            }
                            let ingest = match ingestion.as_mut() {
                                Some(ingest) => ingest,
                                None => {
                                    ingestion.insert(keyspace.start_ingestion().map_err(map_err)?)
                                }
                            };
                            ingest.write(key.clone(), value).map_err(map_err)?;
                            last_key = Some(key);
                        }
                        next => break next,
                    }
                };
                if let Some(done) = ingestion {
                    done.finish().map_err(map_err)?;
                }
            }
            Item::End { entries, bytes } => break (entries, bytes),
            Item::Entry(..) => return Err(corrupt("an entry outside a keyspace")),
        }
    };
    inner
        .db
        .persist(fjall::PersistMode::SyncAll)
        .map_err(map_err)?;
    drop(inner);
    drop(store);
    Ok(BackupSummary {
        keyspaces,
        entries,
        raw_bytes,
        seconds: 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::storage::{Backup, Expect, RecordKey, RecordStore, TenantId};
    use bytes::Bytes;

    fn temporary() -> EmbeddedOptions {
        EmbeddedOptions {
            reserve_bytes: 0,
            ..EmbeddedOptions::default()
        }
    }

    async fn store_with_records(dir: &Path, count: usize) -> EmbeddedStore {
        let store = EmbeddedStore::open(dir, temporary(), Arc::new(SystemClock)).expect("open");
        for i in 0..count {
            let key = RecordKey::new("kind", "group", &format!("{i:05}"));
            store
                .put_record(
                    TenantId(7),
                    &key,
                    Bytes::from(format!("value {i}")),
                    Expect::Absent,
                )
                .await
                .expect("put");
        }
        store
    }

    fn backup_of(store: &EmbeddedStore) -> Vec<u8> {
        let mut out = Vec::new();
        let summary = store.write_backup(&mut out).expect("backup");
        assert!(summary.entries > 0);
        out
    }

    #[tokio::test]
    async fn a_backup_restores_into_a_store_that_reads_the_same() {
        let temp = tempfile::tempdir().expect("tempdir");
        let store = store_with_records(&temp.path().join("a"), 500).await;
        let backup = backup_of(&store);
        assert_eq!(
            verify_backup(&backup[..]).expect("verify"),
            backup_entries(&backup)
        );
        let target = temp.path().join("b");
        let summary = restore_backup(&backup[..], &target, temporary(), Arc::new(SystemClock))
            .expect("restore");
        assert_eq!(summary.entries, backup_entries(&backup));
        let restored =
            EmbeddedStore::open(&target, temporary(), Arc::new(SystemClock)).expect("open");
        for i in [0, 250, 499] {
            let key = RecordKey::new("kind", "group", &format!("{i:05}"));
            let record = restored
                .get_record(TenantId(7), &key)
                .await
                .expect("get")
                .expect("restored");
            assert_eq!(record.value, format!("value {i}").as_bytes());
        }
        assert_eq!(
            backup_of(&restored),
            backup,
            "a backup of the restored store is the same"
        );
    }

    fn backup_entries(backup: &[u8]) -> u64 {
        verify_backup(backup).expect("verify")
    }

    #[tokio::test]
    async fn a_cut_or_altered_backup_restores_nothing() {
        let temp = tempfile::tempdir().expect("tempdir");
        let store = store_with_records(&temp.path().join("a"), 200).await;
        let backup = backup_of(&store);
        let mut raw = Vec::new();
        GzDecoder::new(&backup[..])
            .read_to_end(&mut raw)
            .expect("gunzip");
        let mut altered_raw = raw.clone();
        let middle = altered_raw.len() / 2;
        altered_raw[middle] ^= 0x20;
        let mut altered = GzEncoder::new(Vec::new(), Compression::fast());
        altered.write_all(&altered_raw).expect("gzip");
        let altered = altered.finish().expect("gzip");
        for (what, bytes, rule) in [
            ("cut", &backup[..backup.len() / 2], "cut short"),
            ("altered", &altered[..], ""),
            ("not a backup", &b"PK\x03\x04 not a backup"[..], ""),
        ] {
            let target = temp.path().join(what);
            let error =
                restore_backup(bytes, &target, temporary(), Arc::new(SystemClock)).expect_err(what);
            assert_eq!(error.kind(), StorageErrorKind::Corrupt, "{what}: {error}");
            assert!(error.message.contains(rule), "{what}: {}", error.message);
            assert!(!target.exists(), "{what}: nothing is left at the target");
            let leftovers: Vec<_> = std::fs::read_dir(temp.path())
                .expect("list")
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().contains("restoring"))
                .collect();
            assert!(
                leftovers.is_empty(),
                "{what}: the staging directory is removed"
            );
        }
    }

    #[tokio::test]
    async fn a_backup_is_never_restored_over_a_store() {
        let temp = tempfile::tempdir().expect("tempdir");
        let dir = temp.path().join("a");
        let store = store_with_records(&dir, 10).await;
        let backup = backup_of(&store);
        drop(store);
        let error = restore_backup(&backup[..], &dir, temporary(), Arc::new(SystemClock))
            .expect_err("refused");
        assert!(error.message.contains("not empty"), "{}", error.message);
    }
}
