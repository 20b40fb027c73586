//! Statements in the embedded store: insert with voiding and StatementRef rules, get, query.

use super::recent::Recent;
#[allow(clippy::wildcard_imports)]
use super::*;
use std::collections::hash_map::Entry;

fn statement_key(tenant: TenantId, seq: u64) -> [u8; 12] {
    let mut key = [0u8; 12];
    key[..4].copy_from_slice(&tenant.0.to_be_bytes());
    key[4..].copy_from_slice(&seq.to_be_bytes());
    key
}

fn id_key(tenant: TenantId, id: Uuid) -> [u8; 20] {
    let mut key = [0u8; 20];
    key[..4].copy_from_slice(&tenant.0.to_be_bytes());
    key[4..].copy_from_slice(id.as_bytes());
    key
}

/// A term's name: tenant ‖ kind ‖ hash(value). Data directories of the first layout keyed
/// the index by it (`terms`: name ‖ seq); [`legacy_posting`] converts those keys.
fn term_name(tenant: TenantId, kind: TermKind, value: &str) -> [u8; 21] {
    let mut name = [0u8; 21];
    name[..4].copy_from_slice(&tenant.0.to_be_bytes());
    name[4] = kind as u8;
    name[5..].copy_from_slice(&hash16(&[value.as_bytes()]));
    name
}

/// What a term is indexed under: 80 bits of a hash of its name, so that a posting key
/// (epoch ‖ term id ‖ seq, see [`super::epochs`]) is 20 bytes. fjall keeps keys of up to 20
/// bytes inline and compares them by their first four bytes before anything else; with the
/// tenant first (the same for every key of a tenant) each comparison of a memtable insert went
/// on to the key's bytes on the heap. Two of ten million terms of one epoch share an id with
/// a chance of about 10⁻¹⁰.
pub(super) type TermId = [u8; TERM_ID_LEN];
pub(super) const TERM_ID_LEN: usize = 10;
const POSTING_KEY_LEN: usize = 2 + TERM_ID_LEN + 8;
const POSTING_SEQ_AT: usize = 2 + TERM_ID_LEN;

fn term_id_of_name(name: &[u8]) -> TermId {
    let digest = Sha256::digest(name);
    let mut id = [0u8; TERM_ID_LEN];
    id.copy_from_slice(&digest[..TERM_ID_LEN]);
    id
}

fn term_id(tenant: TenantId, kind: TermKind, value: &str) -> TermId {
    term_id_of_name(&term_name(tenant, kind, value))
}

fn posting_key(epoch: u16, term: &TermId, seq: u64) -> [u8; POSTING_KEY_LEN] {
    let mut key = [0u8; POSTING_KEY_LEN];
    key[..2].copy_from_slice(&epoch.to_be_bytes());
    key[2..POSTING_SEQ_AT].copy_from_slice(term);
    key[POSTING_SEQ_AT..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// The posting key, in epoch 0, of a key of the first layout's `terms` (name ‖ seq).
pub(super) fn legacy_posting(key: &[u8]) -> Result<[u8; POSTING_KEY_LEN], StorageError> {
    if key.len() != 29 {
        return Err(StorageError::corrupt(format!(
            "a `terms` key of {} bytes (29 expected)",
            key.len()
        )));
    }
    Ok(posting_key(
        0,
        &term_id_of_name(&key[..21]),
        read_u64(key, 21)?,
    ))
}

/// The terms a statement is posted under. Its `related_agents` hold its actor, agent object
/// and authority, and its `related_activities` its activity object (Communication §2.1.3);
/// those are posted once, under the narrower kind, and a related filter looks under every kind
/// that can hold its value ([`filter_ids`]). That is a quarter fewer postings for a statement
/// with context activities, each of them a memtable insert and part of every compaction.
fn posted_terms(tenant: TenantId, terms: &[(TermKind, String)]) -> Vec<TermId> {
    let has = |kind: TermKind, value: &str| terms.iter().any(|(k, v)| *k == kind && v == value);
    terms
        .iter()
        .filter(|(kind, value)| match kind {
            TermKind::RelatedAgent => {
                !has(TermKind::Agent, value) && !has(TermKind::Authority, value)
            }
            TermKind::RelatedActivity => !has(TermKind::Activity, value),
            _ => true,
        })
        .map(|(kind, value)| term_id(tenant, *kind, value))
        .collect()
}

/// The term ids a filter matches under: a statement matches when it is posted under any of
/// them (see [`posted_terms`]).
fn filter_ids(tenant: TenantId, kind: TermKind, value: &str) -> Vec<TermId> {
    let narrower: &[TermKind] = match kind {
        TermKind::RelatedAgent => &[TermKind::Agent, TermKind::Authority],
        TermKind::RelatedActivity => &[TermKind::Activity],
        _ => &[],
    };
    std::iter::once(kind)
        .chain(narrower.iter().copied())
        .map(|kind| term_id(tenant, kind, value))
        .collect()
}

/// Seqs read from postings, in the order of a scan.
type Seqs = Box<dyn Iterator<Item = Result<u64, StorageError>>>;

/// The seqs of several scans in the same order, merged, each once: a statement posted under
/// two of a filter's ids (as every directory written before [`posted_terms`] is) is found once.
struct Merged {
    scans: Vec<std::iter::Peekable<Seqs>>,
    ascending: bool,
}

impl Iterator for Merged {
    type Item = Result<u64, StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut first: Option<u64> = None;
        for scan in &mut self.scans {
            match scan.peek() {
                Some(Err(_)) => return scan.next(),
                Some(&Ok(seq)) => {
                    let before =
                        first.is_none_or(|f| if self.ascending { seq < f } else { seq > f });
                    if before {
                        first = Some(seq);
                    }
                }
                None => {}
            }
        }
        let first = first?;
        for scan in &mut self.scans {
            if matches!(scan.peek(), Some(&Ok(seq)) if seq == first) {
                scan.next();
            }
        }
        Some(Ok(first))
    }
}

/// A range read forwards or backwards.
fn in_order(range: fjall::Iter, ascending: bool) -> Box<dyn Iterator<Item = fjall::Guard>> {
    if ascending {
        Box::new(range)
    } else {
        Box::new(range.rev())
    }
}

/// A decoded `statements` value.
struct Record {
    voiding: bool,
    id: Uuid,
    json: Bytes,
}

fn encode_record(voiding: bool, id: Uuid, json: &[u8]) -> Vec<u8> {
    let mut value = Vec::with_capacity(17 + json.len());
    value.push(if voiding { FLAG_VOIDING } else { 0 });
    value.extend_from_slice(id.as_bytes());
    value.extend_from_slice(json);
    value
}

fn decode_record(value: &[u8]) -> Result<Record, StorageError> {
    let (&flags, rest) = value
        .split_first()
        .ok_or_else(|| StorageError::corrupt("empty statement record"))?;
    let id_bytes = rest
        .get(..16)
        .ok_or_else(|| StorageError::corrupt("short statement record"))?;
    let id = Uuid::from_slice(id_bytes).map_err(|e| StorageError::corrupt(e.to_string()))?;
    Ok(Record {
        voiding: flags & FLAG_VOIDING != 0,
        id,
        json: Bytes::copy_from_slice(&rest[16..]),
    })
}

/// A statement as the write thread takes it: what does not depend on its `stored` time is
/// done in the blocking pool before the batch goes to that thread, since every writer of the
/// store waits for it. Encoding the JSON, hashing a dozen terms and freeing the parsed JSON
/// need no order; the thread only assigns `seq`, checks ids and applies the batch.
struct Encoded {
    id: Uuid,
    id_assigned: bool,
    voids: Option<Uuid>,
    statement_ref: Option<Uuid>,
    definitions: Vec<(String, Map<String, Value>)>,
    agent_names: Vec<(String, String)>,
    may_define: bool,
    body: Body,
    /// The statement's own terms (what it inherits through a StatementRef is looked up under
    /// the lock, as the target may be in this very batch).
    terms: Vec<TermId>,
}

enum Body {
    /// flags ‖ id ‖ the statement JSON without its closing brace, to be completed with
    /// `stored` under the lock.
    Open {
        record: Vec<u8>,
        has_timestamp: bool,
    },
    /// The client sent a `stored` of its own, which [`stamp`] replaces in place as the
    /// statement is written.
    Json(Map<String, Value>),
}

impl Encoded {
    /// The statement as sent, to compare with another of the same id: parsed again from the
    /// open record, which only a repeated id needs.
    fn json(&self) -> Result<std::borrow::Cow<'_, Map<String, Value>>, StorageError> {
        match &self.body {
            Body::Json(json) => Ok(std::borrow::Cow::Borrowed(json)),
            Body::Open { record, .. } => {
                let mut bytes = Vec::with_capacity(record.len() - 16);
                bytes.extend_from_slice(&record[17..]);
                bytes.push(b'}');
                serde_json::from_slice(&bytes)
                    .map(std::borrow::Cow::Owned)
                    .map_err(|e| StorageError::corrupt(e.to_string()))
            }
        }
    }
}

fn encode(tenant: TenantId, statement: NewStatement) -> Result<Encoded, StorageError> {
    let terms = posted_terms(tenant, &statement.terms.0);
    let NewStatement {
        id,
        id_assigned,
        json,
        voids,
        statement_ref,
        terms: _,
        definitions,
        agent_names,
        may_define,
        attachments: _,
    } = statement;
    let body = if json.is_empty() || json.contains_key("stored") {
        Body::Json(json)
    } else {
        let mut record = Vec::with_capacity(17 + 2048);
        record.push(if voids.is_some() { FLAG_VOIDING } else { 0 });
        record.extend_from_slice(id.as_bytes());
        serde_json::to_writer(&mut record, &json)
            .map_err(|e| StorageError::corrupt(e.to_string()))?;
        if record.pop() != Some(b'}') {
            return Err(StorageError::corrupt(
                "a statement did not encode as an object",
            ));
        }
        Body::Open {
            record,
            has_timestamp: json.contains_key("timestamp"),
        }
    };
    Ok(Encoded {
        id,
        id_assigned,
        voids,
        statement_ref,
        definitions,
        agent_names,
        may_define,
        body,
        terms,
    })
}

/// Completes an open record with what [`stamp`] adds, in the order it adds it (a new key goes
/// last), so the stored bytes are those of stamping the map and encoding it whole.
fn close_record(mut record: Vec<u8>, has_timestamp: bool, stored: &str) -> Vec<u8> {
    // `stored` is RFC 3339 text: nothing in it needs escaping in a JSON string.
    if !has_timestamp {
        record.extend_from_slice(b",\"timestamp\":\"");
        record.extend_from_slice(stored.as_bytes());
        record.push(b'"');
    }
    record.extend_from_slice(b",\"stored\":\"");
    record.extend_from_slice(stored.as_bytes());
    record.extend_from_slice(b"\"}");
    record
}

/// A canonical activity definition, shared between the write thread's [`Known`] and a batch.
type Definition = Arc<Map<String, Value>>;
/// The names statements gave an agent.
type Names = Arc<Vec<String>>;

/// Canonical definitions and agent names as the write thread last read or wrote them, so that
/// a batch repeating what is stored reads and parses nothing. Every write of `activities` and
/// `agents` is made by that thread, which learns what it wrote once the batch is committed,
/// so what it knows is what is stored. The amounts are bytes of JSON, which takes a few
/// times as much in memory as a parsed map.
pub(super) struct Known {
    definitions: Recent<Vec<u8>, Option<Definition>>,
    names: Recent<[u8; 20], Names>,
}

const KNOWN_DEFINITION_BYTES: usize = if cfg!(test) {
    4 * 1024
} else {
    2 * 1024 * 1024
};
const KNOWN_NAME_BYTES: usize = if cfg!(test) { 1024 } else { 512 * 1024 };

/// A value a batch looked up: what it is now, and whether the batch changed it.
struct Touched<K, V> {
    key: K,
    value: V,
    changed: bool,
    /// The stored JSON's length, when it was read from the store rather than known.
    read_bytes: Option<usize>,
}

impl<K, V> Touched<K, V> {
    fn known(key: K, value: V) -> Self {
        Touched {
            key,
            value,
            changed: false,
            read_bytes: None,
        }
    }

    fn read_now(key: K, value: V, bytes: usize) -> Self {
        Touched {
            read_bytes: Some(bytes),
            ..Touched::known(key, value)
        }
    }

    /// What the batch wrote, `bytes` of JSON, to be known from now on.
    fn written(self, bytes: usize) -> (K, V, usize) {
        (self.key, self.value, bytes)
    }

    /// What was read from the store, to be known from now on.
    fn read(self) -> Option<(K, V, usize)> {
        let bytes = self.read_bytes?;
        Some((self.key, self.value, bytes))
    }
}

/// What a batch read or wrote, for [`Known::learn`] once it is committed.
#[derive(Default)]
struct Learnt {
    definitions: Vec<(Vec<u8>, Option<Definition>, usize)>,
    names: Vec<([u8; 20], Names, usize)>,
}

impl Known {
    pub(super) fn new() -> Known {
        Known {
            definitions: Recent::new(KNOWN_DEFINITION_BYTES),
            names: Recent::new(KNOWN_NAME_BYTES),
        }
    }

    fn definition(
        &mut self,
        inner: &Inner,
        key: Vec<u8>,
    ) -> Result<Touched<Vec<u8>, Option<Definition>>, StorageError> {
        if let Some(value) = self.definitions.get(&key) {
            let value = value.clone();
            return Ok(Touched::known(key, value));
        }
        let (value, bytes) = match read_json::<Map<String, Value>>(&inner.activities, &key)? {
            Some((definition, bytes)) => (Some(Arc::new(definition)), bytes),
            None => (None, 0),
        };
        Ok(Touched::read_now(key, value, bytes))
    }

    fn names(
        &mut self,
        inner: &Inner,
        key: [u8; 20],
    ) -> Result<Touched<[u8; 20], Names>, StorageError> {
        if let Some(value) = self.names.get(&key) {
            let value = value.clone();
            return Ok(Touched::known(key, value));
        }
        let (value, bytes) = read_json::<Vec<String>>(&inner.agents, &key)?.unwrap_or_default();
        Ok(Touched::read_now(key, Arc::new(value), bytes))
    }

    fn learn(&mut self, learnt: Learnt) {
        for (key, value, bytes) in learnt.definitions {
            // The key is moved into the map, so its length is taken first.
            let bytes = bytes + key.len();
            self.definitions.insert(key, value, bytes);
        }
        for (key, value, bytes) in learnt.names {
            self.names.insert(key, value, bytes + key.len());
        }
    }
}

/// A JSON value and its stored length.
fn read_json<T: serde::de::DeserializeOwned>(
    keyspace: &Keyspace,
    key: &[u8],
) -> Result<Option<(T, usize)>, StorageError> {
    match keyspace.get(key).map_err(map_err)? {
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(|value| Some((value, bytes.len())))
            .map_err(|e| StorageError::corrupt(e.to_string())),
        None => Ok(None),
    }
}

impl Inner {
    fn record_at(&self, tenant: TenantId, seq: u64) -> Result<Option<Record>, StorageError> {
        match self
            .statements
            .get(statement_key(tenant, seq))
            .map_err(map_err)?
        {
            Some(value) => decode_record(&value).map(Some),
            None => Ok(None),
        }
    }

    fn seq_of(&self, tenant: TenantId, id: Uuid) -> Result<Option<u64>, StorageError> {
        match self.ids.get(id_key(tenant, id)).map_err(map_err)? {
            Some(value) => read_u64(&value, 0).map(Some),
            None => Ok(None),
        }
    }

    fn is_voided(&self, tenant: TenantId, record: &Record) -> Result<bool, StorageError> {
        if record.voiding {
            return Ok(false);
        }
        self.voids
            .contains_key(id_key(tenant, record.id))
            .map_err(map_err)
    }

    fn stored_statement(
        &self,
        tenant: TenantId,
        seq: u64,
        record: Record,
    ) -> Result<StoredStatement, StorageError> {
        let voided = self.is_voided(tenant, &record)?;
        Ok(StoredStatement {
            id: record.id,
            json: record.json,
            stored: seq_to_time(seq),
            voided,
            voiding: record.voiding,
        })
    }

    /// The terms of a stored statement, re-derived from its JSON, including what it inherits
    /// from the statement it references (recursively, xAPI Communication §2.1.3).
    fn stored_terms(&self, tenant: TenantId, seq: u64) -> Result<Vec<TermId>, StorageError> {
        let mut found = Vec::new();
        let mut next = Some(seq);
        let mut seen = HashSet::new();
        while let Some(seq) = next.take() {
            if !seen.insert(seq) {
                break;
            }
            let Some(record) = self.record_at(tenant, seq)? else {
                break;
            };
            let json: Map<String, Value> = serde_json::from_slice(&record.json)
                .map_err(|e| StorageError::corrupt(e.to_string()))?;
            let parsed = statement_from_stored(json)?;
            found.extend(posted_terms(tenant, &parsed.terms.0));
            if let Some(target) = parsed.statement_ref {
                next = self.seq_of(tenant, target)?;
            }
        }
        Ok(found)
    }

    /// Writes the attachment data of `batch` chunk by chunk, in the calling thread, and
    /// returns the completion marks to commit with the statements. This comes before the
    /// write and outside the write thread, so a large attachment neither sits in memory whole
    /// nor holds up other writers; it becomes visible only through its completion mark.
    fn stage_attachments(
        &self,
        tenant: TenantId,
        batch: &[NewStatement],
    ) -> Result<Vec<AttachmentMark>, StorageError> {
        let mut marks = Vec::new();
        for statement in batch {
            for (sha2, data) in &statement.attachments {
                if let Some(mark) = self.stage_attachment(tenant, sha2, data)? {
                    marks.push(mark);
                }
            }
        }
        Ok(marks)
    }

    /// Stores `batch`, [`encode`]d, whose attachments `stage_attachments` has written
    /// (`marks`).
    fn insert(
        &self,
        tenant: TenantId,
        batch: Vec<Encoded>,
        marks: Vec<AttachmentMark>,
    ) -> Result<Vec<Uuid>, InsertError> {
        let mut state = self.write.lock();
        let mut ids = Vec::with_capacity(batch.len());
        let mut fresh: Vec<Encoded> = Vec::with_capacity(batch.len());
        let mut batch_ids: HashMap<Uuid, bool> = HashMap::new();
        for statement in batch {
            ids.push(statement.id);
            let stored_seq = if statement.id_assigned {
                None
            } else {
                self.seq_of(tenant, statement.id)?
            };
            if let Some(seq) = stored_seq {
                let existing = self
                    .record_at(tenant, seq)?
                    .ok_or_else(|| StorageError::corrupt("id index points at no statement"))?;
                let stored: Map<String, Value> = serde_json::from_slice(&existing.json)
                    .map_err(|e| StorageError::corrupt(e.to_string()))?;
                if !xapi::equivalent(&stored, &*statement.json()?) {
                    return Err(InsertError::Conflict(statement.id));
                }
                continue;
            }
            if batch_ids.contains_key(&statement.id) {
                // The same id twice in one batch: equivalent copies collapse, others conflict.
                let json = statement.json()?;
                let mut same = false;
                for other in fresh.iter().filter(|s| s.id == statement.id) {
                    same |= xapi::equivalent(&*other.json()?, &json);
                }
                if same {
                    continue;
                }
                return Err(InsertError::Conflict(statement.id));
            }
            batch_ids.insert(statement.id, statement.voids.is_some());
            fresh.push(statement);
        }
        // A voiding statement may not target a voiding statement (xAPI Data §2.3.2).
        for statement in &fresh {
            let Some(target) = statement.voids else {
                continue;
            };
            let target_voiding = match batch_ids.get(&target) {
                Some(&voiding) => voiding,
                None => match self.seq_of(tenant, target)? {
                    Some(seq) => self.record_at(tenant, seq)?.is_some_and(|r| r.voiding),
                    None => false,
                },
            };
            if target_voiding {
                return Err(InsertError::VoidsVoiding {
                    voiding: statement.id,
                    target,
                });
            }
        }
        if fresh.is_empty() {
            return Ok(ids);
        }

        let now = time_to_seq(self.clock.now());
        let first_seq = now.max(state.last_seq + 1);
        self.in_flight.store(first_seq, Ordering::SeqCst);
        let result = self.write_fresh(tenant, fresh, first_seq, marks, &mut state);
        self.in_flight.store(u64::MAX, Ordering::SeqCst);
        let last_seq = result?;
        state.last_seq = last_seq;
        Ok(ids)
    }

    fn write_fresh(
        &self,
        tenant: TenantId,
        fresh: Vec<Encoded>,
        first_seq: u64,
        attachment_marks: Vec<AttachmentMark>,
        state: &mut WriteState,
    ) -> Result<u64, StorageError> {
        let mut batch = self.db.batch();
        let (mut current, new_epoch) = self.epochs.read().next(state.epoch);
        if new_epoch {
            batch.insert(
                &self.epoch_starts,
                current.epoch.to_be_bytes(),
                first_seq.to_be_bytes(),
            );
        }
        for (key, count) in attachment_marks {
            batch.insert(&self.attachments, key, count);
        }
        // Only statements that a later one of this batch references need their terms kept.
        let referenced: HashSet<Uuid> = fresh.iter().filter_map(|s| s.statement_ref).collect();
        let mut batch_terms: HashMap<Uuid, Vec<TermId>> = HashMap::new();
        let mut seq = first_seq;
        // Canonical definitions and agent names touched by this batch.
        let mut canonical: HashMap<String, Touched<Vec<u8>, Option<Definition>>> = HashMap::new();
        let mut names: HashMap<String, Touched<[u8; 20], Names>> = HashMap::new();
        for statement in fresh {
            let Encoded {
                id,
                id_assigned: _,
                voids,
                statement_ref,
                definitions,
                agent_names,
                may_define,
                body,
                mut terms,
            } = statement;
            for (activity_id, definition) in definitions {
                let entry = match canonical.entry(activity_id) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(e) => {
                        let key = activity_key(tenant, e.key());
                        e.insert(state.known.definition(self, key)?)
                    }
                };
                match &mut entry.value {
                    None => {
                        entry.value = Some(Arc::new(definition));
                        entry.changed = true;
                    }
                    Some(stored)
                        if may_define
                            && crate::statements::definition_changes(stored, &definition) =>
                    {
                        crate::statements::merge_definition(Arc::make_mut(stored), &definition);
                        entry.changed = true;
                    }
                    Some(_) => {}
                }
            }
            for (ifi_key, name) in agent_names {
                let entry = match names.entry(ifi_key) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(e) => {
                        let key = agent_key(tenant, e.key());
                        e.insert(state.known.names(self, key)?)
                    }
                };
                if !entry.value.contains(&name) {
                    Arc::make_mut(&mut entry.value).push(name);
                    entry.changed = true;
                }
            }
            let stored = seq_to_time(seq);
            let record = match body {
                Body::Open {
                    record,
                    has_timestamp,
                } => close_record(record, has_timestamp, &format_stored(stored)),
                Body::Json(mut json) => {
                    stamp(&mut json, stored);
                    let bytes = serde_json::to_vec(&json)
                        .map_err(|e| StorageError::corrupt(e.to_string()))?;
                    encode_record(voids.is_some(), id, &bytes)
                }
            };
            batch.insert(&self.statements, statement_key(tenant, seq), record);
            batch.insert(&self.ids, id_key(tenant, id), seq.to_be_bytes());
            if let Some(target) = statement_ref {
                let inherited = match batch_terms.get(&target) {
                    Some(target_terms) => target_terms.clone(),
                    None => match self.seq_of(tenant, target)? {
                        Some(target_seq) => self.stored_terms(tenant, target_seq)?,
                        None => Vec::new(),
                    },
                };
                terms.extend(inherited);
                terms.sort_unstable();
                terms.dedup();
            }
            for term in &terms {
                batch.insert(&self.postings, posting_key(current.epoch, term, seq), []);
            }
            current.postings += terms.len() as u64;
            if let Some(target) = voids {
                batch.insert(&self.voids, id_key(tenant, target), id.as_bytes());
            }
            if referenced.contains(&id) {
                batch_terms.insert(id, terms);
            }
            seq += 1;
        }
        // What the batch changed is written with it, and known once the batch is committed.
        let mut learnt = Learnt::default();
        for touched in canonical.into_values() {
            if let (Some(definition), true) = (&touched.value, touched.changed) {
                let json = serde_json::to_vec(&**definition)
                    .map_err(|e| StorageError::corrupt(e.to_string()))?;
                batch.insert(&self.activities, touched.key.clone(), json.as_slice());
                learnt.definitions.push(touched.written(json.len()));
            } else if let Some(read) = touched.read() {
                learnt.definitions.push(read);
            }
        }
        for touched in names.into_values() {
            if touched.changed {
                let json = serde_json::to_vec(&*touched.value)
                    .map_err(|e| StorageError::corrupt(e.to_string()))?;
                batch.insert(&self.agents, touched.key, json.as_slice());
                learnt.names.push(touched.written(json.len()));
            } else if let Some(read) = touched.read() {
                learnt.names.push(read);
            }
        }
        // Queries may see the new epoch before its postings: they find none there yet.
        if new_epoch {
            self.epochs.write().push(current.epoch, first_seq);
        }
        if let Err(error) = self.commit(batch) {
            if new_epoch {
                self.epochs.write().pop();
            }
            return Err(error);
        }
        state.known.learn(learnt);
        state.epoch = Some(current);
        Ok(seq - 1)
    }

    fn get(&self, tenant: TenantId, id: Uuid) -> Result<Option<StoredStatement>, StorageError> {
        let Some(seq) = self.seq_of(tenant, id)? else {
            return Ok(None);
        };
        let Some(record) = self.record_at(tenant, seq)? else {
            return Ok(None);
        };
        self.stored_statement(tenant, seq, record).map(Some)
    }

    fn query(
        &self,
        tenant: TenantId,
        query: &StatementQuery,
    ) -> Result<StatementPage, StorageError> {
        let mut low = query.since.map_or(0, |t| time_to_seq(t).saturating_add(1));
        let mut high = query.until.map_or(u64::MAX - 1, time_to_seq);
        if let Some(after) = &query.after {
            let position = read_u64(after, 0)?;
            if query.ascending {
                low = low.max(position.saturating_add(1));
            } else {
                high = high.min(position.saturating_sub(1));
            }
        }
        let mut page = StatementPage::default();
        if low > high || query.limit == 0 {
            return Ok(page);
        }
        let mut filters: Vec<(TermKind, Vec<TermId>)> = query
            .filters
            .iter()
            .map(|(kind, value)| (*kind, filter_ids(tenant, *kind, value)))
            .collect();
        filters.sort_by_key(|(kind, _)| driver_rank(*kind));

        // A statement's postings are all in the epoch it was written in.
        let posted = |epoch: u16, ids: &[TermId], seq: u64| -> Result<bool, StorageError> {
            for id in ids {
                if self
                    .postings
                    .contains_key(posting_key(epoch, id, seq))
                    .map_err(map_err)?
                {
                    return Ok(true);
                }
            }
            Ok(false)
        };
        let accept =
            |epoch: u16, seq: u64, page: &mut StatementPage| -> Result<bool, StorageError> {
                for (_, ids) in filters.iter().skip(1) {
                    if !posted(epoch, ids, seq)? {
                        return Ok(true);
                    }
                }
                let Some(record) = self.record_at(tenant, seq)? else {
                    return Ok(true);
                };
                if self.is_voided(tenant, &record)? {
                    return Ok(true);
                }
                if page.statements.len() == query.limit {
                    page.next = Some(
                        page.statements
                            .last()
                            .map(|s| time_to_seq(s.stored).to_be_bytes().to_vec())
                            .unwrap_or_default(),
                    );
                    return Ok(false);
                }
                page.statements.push(StoredStatement {
                    id: record.id,
                    json: record.json,
                    stored: seq_to_time(seq),
                    voided: false,
                    voiding: record.voiding,
                });
                Ok(true)
            };

        match filters.first() {
            None => {
                let iter = in_order(
                    self.statements
                        .range(statement_key(tenant, low)..=statement_key(tenant, high)),
                    query.ascending,
                );
                // No filter: the epoch is not looked at.
                for guard in iter {
                    let key = guard.key().map_err(map_err)?;
                    if !accept(0, read_u64(&key, 4)?, &mut page)? {
                        break;
                    }
                }
            }
            Some((_, driver)) => {
                let mut spans = self.epochs.read().spans(low, high);
                if !query.ascending {
                    spans.reverse();
                }
                'epochs: for (epoch, lo, hi) in spans {
                    for seq in self.posted_seqs(epoch, driver, lo, hi, query.ascending) {
                        if !accept(epoch, seq?, &mut page)? {
                            break 'epochs;
                        }
                    }
                }
            }
        }
        Ok(page)
    }

    /// The seqs posted under any of `ids` in `epoch`, from `lo` to `hi`, in order.
    fn posted_seqs(&self, epoch: u16, ids: &[TermId], lo: u64, hi: u64, ascending: bool) -> Seqs {
        let scan = |id: &TermId| -> Seqs {
            let range = self
                .postings
                .range(posting_key(epoch, id, lo)..=posting_key(epoch, id, hi));
            Box::new(in_order(range, ascending).map(|guard| {
                let key = guard.key().map_err(map_err)?;
                read_u64(&key, POSTING_SEQ_AT)
            }))
        };
        match ids {
            [id] => scan(id),
            _ => Box::new(Merged {
                scans: ids.iter().map(|id| scan(id).peekable()).collect(),
                ascending,
            }),
        }
    }

    fn consistent_through(&self) -> DateTime<Utc> {
        let now = time_to_seq(self.clock.now());
        let in_flight = self.in_flight.load(Ordering::SeqCst);
        let candidate = now.min(in_flight.saturating_sub(1));
        let previous = self.last_consistent.fetch_max(candidate, Ordering::SeqCst);
        seq_to_time(previous.max(candidate))
    }
}

fn activity_key(tenant: TenantId, activity_id: &str) -> Vec<u8> {
    [&tenant.0.to_be_bytes()[..], activity_id.as_bytes()].concat()
}

fn agent_key(tenant: TenantId, ifi_key: &str) -> [u8; 20] {
    let mut key = [0u8; 20];
    key[..4].copy_from_slice(&tenant.0.to_be_bytes());
    key[4..].copy_from_slice(&hash16(&[ifi_key.as_bytes()]));
    key
}

impl Inner {
    fn activity_definition(
        &self,
        tenant: TenantId,
        activity_id: &str,
    ) -> Result<Option<Map<String, Value>>, StorageError> {
        self.get_json(&self.activities, &activity_key(tenant, activity_id))
    }

    fn agent_names(&self, tenant: TenantId, ifi_key: &str) -> Result<Vec<String>, StorageError> {
        Ok(self
            .get_json(&self.agents, &agent_key(tenant, ifi_key))?
            .unwrap_or_default())
    }
}

const ATTACHMENT_CHUNK: usize = 1024 * 1024;

fn attachment_prefix(tenant: TenantId, sha2: &str) -> Vec<u8> {
    [&tenant.0.to_be_bytes()[..], sha2.as_bytes()].concat()
}

impl Inner {
    /// Writes an attachment's chunks unless the tenant has that hash complete already, and
    /// returns the completion mark to commit with the statements. Chunks are content-addressed,
    /// so concurrent or repeated staging of the same hash writes the same bytes.
    fn stage_attachment(
        &self,
        tenant: TenantId,
        sha2: &str,
        data: &AttachmentData,
    ) -> Result<Option<AttachmentMark>, StorageError> {
        let prefix = attachment_prefix(tenant, sha2);
        let mark = [&prefix[..], &COMPLETE.to_be_bytes()[..]].concat();
        if self.attachments.contains_key(&mark).map_err(map_err)? {
            return Ok(None);
        }
        self.admit_write()?;
        let mut count: u32 = 0;
        data.for_each_chunk(ATTACHMENT_CHUNK, |chunk| {
            if count == COMPLETE {
                return Err(StorageError::corrupt("attachment too large"));
            }
            let key = [&prefix[..], &count.to_be_bytes()[..]].concat();
            self.attachments
                .insert(key, chunk)
                .map_err(|e| self.write_failed(e))?;
            count += 1;
            Ok(())
        })?;
        Ok(Some((mark, count.to_be_bytes())))
    }

    fn attachment(&self, tenant: TenantId, sha2: &str) -> Result<Option<Bytes>, StorageError> {
        let prefix = attachment_prefix(tenant, sha2);
        let mark = [&prefix[..], &COMPLETE.to_be_bytes()[..]].concat();
        let Some(count) = self.attachments.get(&mark).map_err(map_err)? else {
            return Ok(None);
        };
        let count = <[u8; 4]>::try_from(&*count)
            .map(u32::from_be_bytes)
            .map_err(|_| StorageError::corrupt("bad attachment mark"))?;
        let mut data = Vec::new();
        for n in 0..count {
            let key = [&prefix[..], &n.to_be_bytes()[..]].concat();
            let chunk = self
                .attachments
                .get(&key)
                .map_err(map_err)?
                .ok_or_else(|| StorageError::corrupt("attachment chunk missing"))?;
            data.extend_from_slice(&chunk);
        }
        Ok(Some(Bytes::from(data)))
    }
}

/// The chunk number of an attachment's completion mark (its value: the number of chunks).
const COMPLETE: u32 = u32::MAX;

/// An attachment's completion mark: its key and the chunk count, committed with the statements.
type AttachmentMark = (Vec<u8>, [u8; 4]);

/// Which filter drives a scan: the one likely to match the fewest statements.
fn driver_rank(kind: TermKind) -> u8 {
    match kind {
        TermKind::Registration => 0,
        TermKind::Activity => 1,
        TermKind::Agent => 2,
        TermKind::RelatedActivity => 3,
        TermKind::RelatedAgent => 4,
        TermKind::Authority => 5,
        TermKind::Verb => 6,
    }
}

#[async_trait]
impl StatementStore for EmbeddedStore {
    async fn insert(
        &self,
        tenant: TenantId,
        batch: Vec<NewStatement>,
    ) -> Result<Vec<Uuid>, InsertError> {
        // Encoding a batch of 100 takes about a millisecond: too long for an async thread.
        let (encoded, marks) = self
            .blocking(move |inner| {
                let marks = inner.stage_attachments(tenant, &batch)?;
                let encoded = batch
                    .into_iter()
                    .map(|statement| encode(tenant, statement))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok::<_, StorageError>((encoded, marks))
            })
            .await?;
        self.writing(move |inner| inner.insert(tenant, encoded, marks))
            .await
    }

    async fn get(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<StoredStatement>, StorageError> {
        self.blocking(move |inner| inner.get(tenant, id)).await
    }

    async fn query(
        &self,
        tenant: TenantId,
        query: &StatementQuery,
    ) -> Result<StatementPage, StorageError> {
        let query = query.clone();
        self.blocking(move |inner| inner.query(tenant, &query))
            .await
    }

    async fn consistent_through(&self) -> Result<DateTime<Utc>, StorageError> {
        Ok(self.shared.current()?.consistent_through())
    }

    async fn activity_definition(
        &self,
        tenant: TenantId,
        activity_id: &str,
    ) -> Result<Option<Map<String, Value>>, StorageError> {
        let activity_id = activity_id.to_owned();
        self.blocking(move |inner| inner.activity_definition(tenant, &activity_id))
            .await
    }

    async fn attachment(
        &self,
        tenant: TenantId,
        sha2: &str,
    ) -> Result<Option<Bytes>, StorageError> {
        let sha2 = sha2.to_ascii_lowercase();
        self.blocking(move |inner| inner.attachment(tenant, &sha2))
            .await
    }

    async fn agent_names(
        &self,
        tenant: TenantId,
        ifi_key: &str,
    ) -> Result<Vec<String>, StorageError> {
        let ifi_key = ifi_key.to_owned();
        self.blocking(move |inner| inner.agent_names(tenant, &ifi_key))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn new_statement(json: Value) -> NewStatement {
        let Value::Object(json) = json else {
            panic!("a statement is an object");
        };
        NewStatement {
            id: Uuid::from_u128(7),
            id_assigned: false,
            json,
            voids: None,
            statement_ref: None,
            terms: crate::storage::Terms::default(),
            definitions: Vec::new(),
            agent_names: Vec::new(),
            may_define: false,
            attachments: Vec::new(),
        }
    }

    /// The record completed under the write lock holds the bytes of stamping the statement and
    /// encoding it whole, as the store wrote them before the encoding moved out of the lock.
    fn check(statement: Value) {
        let statement = new_statement(statement);
        let stored = seq_to_time(1_700_000_000_123_456);
        let encoded = encode(TenantId(1), statement.clone()).expect("encodes");
        assert_eq!(*encoded.json().expect("parses"), statement.json);
        let Body::Open {
            record,
            has_timestamp,
        } = encoded.body
        else {
            panic!("no `stored` was sent");
        };
        let record = close_record(record, has_timestamp, &format_stored(stored));
        let mut stamped = statement.json.clone();
        stamp(&mut stamped, stored);
        let expected = encode_record(
            false,
            statement.id,
            &serde_json::to_vec(&stamped).expect("encodes"),
        );
        assert_eq!(
            String::from_utf8_lossy(&record[17..]),
            String::from_utf8_lossy(&expected[17..])
        );
        assert_eq!(record, expected);
    }

    #[test]
    fn a_closed_record_is_the_stamped_statement() {
        check(json!({"actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "http://v"}}));
        check(
            json!({"id": "x", "timestamp": "2020-01-01T00:00:00Z", "result": {"score": {"scaled": 0.5}}}),
        );
        check(
            json!({"object": {"id": "http://a", "definition": {"name": {"en": "\"quoted\" é"}}}}),
        );
    }

    #[test]
    fn a_stored_sent_by_the_client_is_stamped_in_place() {
        let statement = new_statement(json!({"stored": "1999-01-01T00:00:00Z", "verb": {}}));
        let encoded = encode(TenantId(1), statement.clone()).expect("encodes");
        assert!(matches!(&encoded.body, Body::Json(json) if *json == statement.json));
    }

    fn prepared(n: u32) -> NewStatement {
        let value = json!({
            "actor": {"mbox": format!("mailto:learner{}@example.com", n % 7)},
            "verb": {"id": format!("http://example.com/verbs/v{}", n % 3)},
            "object": {"id": format!("http://example.com/activities/a{}", n % 5)},
            "context": {
                "registration": Uuid::from_u128(u128::from(n % 4) + 1).to_string(),
                "contextActivities": {"parent": [{"id": "http://example.com/courses/c"}]}
            }
        });
        let parsed = xapi::Statement::parse(value, xapi::Version::V2_0_0, "$").expect("valid");
        crate::statements::prepare(
            parsed,
            xapi::Version::V2_0_0,
            &crate::statements::Authority::for_credential("http://localhost", "key"),
        )
    }

    /// The write thread keeps what it knows of definitions and names within a few KiB in
    /// tests, so that these run past it: what it has forgotten is read again, and what it
    /// knows is what is stored.
    #[tokio::test]
    async fn definitions_and_names_merge_past_what_the_write_thread_keeps() {
        let (_temp, dir, options, clock) = reopenable();
        let store = EmbeddedStore::open(&dir, options, clock).expect("open");
        let authority = crate::statements::Authority::for_credential("http://localhost", "key");
        let tenant = TenantId(1);
        const LANGUAGES: [&str; 4] = ["en", "fr", "de", "es"];
        let defining = |n: u32, round: usize| {
            let value = json!({
                "actor": {"mbox": format!("mailto:learner{n}@example.com"), "name": format!("L{n}/{round}")},
                "verb": {"id": "http://example.com/verbs/did"},
                "object": {"id": format!("http://example.com/activities/a{n}"), "definition": {
                    "name": {LANGUAGES[round]: format!("activity {n}, round {round}")}
                }}
            });
            let parsed = xapi::Statement::parse(value, xapi::Version::V2_0_0, "$").expect("valid");
            crate::statements::prepare_as(parsed, xapi::Version::V2_0_0, &authority, true)
        };
        const ACTIVITIES: u32 = 300;
        let batch = |first: u32, count: u32, round: usize| -> Vec<NewStatement> {
            (first..first + count).map(|n| defining(n, round)).collect()
        };
        // Rounds over each ten activities in a row, known from the round before: the first
        // defines them, the second changes nothing, the others add a language each. Then one
        // more over all of them, forgotten since and read again.
        for first in (0..ACTIVITIES).step_by(10) {
            for round in [0, 0, 1, 2] {
                store
                    .insert(tenant, batch(first, 10, round))
                    .await
                    .expect("insert");
            }
        }
        for first in (0..ACTIVITIES).step_by(100) {
            store
                .insert(tenant, batch(first, 100, 3))
                .await
                .expect("insert");
        }
        for n in 0..ACTIVITIES {
            let id = format!("http://example.com/activities/a{n}");
            let definition = store
                .activity_definition(tenant, &id)
                .await
                .expect("read")
                .expect("defined");
            let expected = json!({"name": {
                "en": format!("activity {n}, round 0"),
                "fr": format!("activity {n}, round 1"),
                "de": format!("activity {n}, round 2"),
                "es": format!("activity {n}, round 3"),
            }});
            assert_eq!(Value::Object(definition), expected, "{id}");
            let names = store
                .agent_names(tenant, &format!("mbox:mailto:learner{n}@example.com"))
                .await
                .expect("names");
            let expected: Vec<String> = (0..4).map(|round| format!("L{n}/{round}")).collect();
            assert_eq!(names, expected);
        }
    }

    /// A store directory to open and reopen, with its options and clock.
    fn reopenable() -> (
        tempfile::TempDir,
        std::path::PathBuf,
        EmbeddedOptions,
        Arc<dyn Clock>,
    ) {
        let temp = tempfile::tempdir().expect("tempdir");
        let dir = temp.path().join("store");
        let options = EmbeddedOptions {
            reserve_bytes: 0,
            ..EmbeddedOptions::default()
        };
        (temp, dir, options, Arc::new(crate::clock::SystemClock))
    }

    /// A data directory of the first layout (index entries tenant ‖ kind ‖ hash ‖ seq in
    /// `terms`) answers the same queries once opened, and keeps no `terms`.
    #[tokio::test]
    async fn a_first_layout_index_is_converted_when_opened() {
        let (_temp, dir, options, clock) = reopenable();
        let batch: Vec<NewStatement> = (0..60).map(prepared).collect();
        let filters: Vec<Vec<(TermKind, String)>> = batch[0]
            .terms
            .0
            .iter()
            .chain(&batch[1].terms.0)
            .map(|term| vec![term.clone()])
            .chain([vec![
                batch[0].terms.0[0].clone(),
                (TermKind::Verb, "http://example.com/verbs/v0".to_owned()),
            ]])
            .collect();
        let mut expected = Vec::new();
        {
            let store = EmbeddedStore::open(&dir, options, clock.clone()).expect("open");
            let terms: Vec<(Uuid, Vec<(TermKind, String)>)> =
                batch.iter().map(|s| (s.id, s.terms.0.clone())).collect();
            StatementStore::insert(&store, TenantId(3), batch)
                .await
                .expect("insert");
            for query in &filters {
                let ids = all_pages(&store, query, false, 1000).await;
                assert!(!ids.is_empty(), "{query:?}");
                expected.push(ids);
            }
            // Put the index back as the first layout kept it.
            let inner = store.shared.current().expect("open");
            let legacy = inner
                .db
                .keyspace(LEGACY_TERMS, KeyspaceCreateOptions::default)
                .expect("keyspace");
            for (id, terms) in terms {
                let seq = inner
                    .seq_of(TenantId(3), id)
                    .expect("read")
                    .expect("stored");
                for (kind, value) in terms {
                    let mut key = term_name(TenantId(3), kind, &value).to_vec();
                    key.extend_from_slice(&seq.to_be_bytes());
                    legacy.insert(key, []).expect("insert");
                }
            }
            inner.postings.clear().expect("clear");
        }
        let store = EmbeddedStore::open(&dir, options, clock).expect("reopen");
        for (query, ids) in filters.iter().zip(&expected) {
            assert_eq!(
                &all_pages(&store, query, false, 1000).await,
                ids,
                "{query:?}"
            );
        }
        let inner = store.shared.current().expect("open");
        assert!(!inner.db.keyspace_exists(LEGACY_TERMS));
    }

    /// Every page of `filters`, followed through `next`, `limit` at a time.
    async fn all_pages(
        store: &EmbeddedStore,
        filters: &[(TermKind, String)],
        ascending: bool,
        limit: usize,
    ) -> Vec<Uuid> {
        let mut found = Vec::new();
        let mut after = None;
        loop {
            let query = StatementQuery {
                filters: filters.to_vec(),
                ascending,
                limit,
                after,
                ..StatementQuery::default()
            };
            let page = StatementStore::query(store, TenantId(3), &query)
                .await
                .expect("query");
            found.extend(page.statements.iter().map(|s| s.id));
            match page.next {
                Some(next) => after = Some(next),
                None => return found,
            }
        }
    }

    /// Statements reach the write thread encoded, without their parsed JSON: an id repeated
    /// within a batch, or already stored, is compared with the JSON read back from the
    /// encoding.
    #[tokio::test]
    async fn a_repeated_id_is_compared_with_what_was_sent() {
        let (_temp, dir, options, clock) = reopenable();
        let store = EmbeddedStore::open(&dir, options, clock).expect("open");
        let id = Uuid::from_u128(42);
        let sent = |n: u32| {
            let mut statement = prepared(n);
            statement.id = id;
            statement.id_assigned = false;
            statement
                .json
                .insert("id".to_owned(), json!(id.to_string()));
            statement
        };
        let twice = vec![sent(1), sent(1)];
        assert_eq!(
            StatementStore::insert(&store, TenantId(3), twice)
                .await
                .expect("equivalent copies collapse"),
            vec![id, id]
        );
        let differing = vec![prepared(5), sent(1), sent(2)];
        assert!(matches!(
            StatementStore::insert(&store, TenantId(3), differing).await,
            Err(InsertError::Conflict(conflict)) if conflict == id
        ));
        assert_eq!(
            StatementStore::insert(&store, TenantId(3), vec![sent(1)])
                .await
                .expect("the stored statement again"),
            vec![id]
        );
        assert!(matches!(
            StatementStore::insert(&store, TenantId(3), vec![sent(2)]).await,
            Err(InsertError::Conflict(conflict)) if conflict == id
        ));
        assert_eq!(all_pages(&store, &[], true, 10).await, vec![id]);
    }

    /// A statement's related agents and activities that are also its actor, authority or
    /// activity are posted once, and related filters still find it by each of them.
    #[tokio::test]
    async fn related_terms_are_posted_once() {
        let (_temp, dir, options, clock) = reopenable();
        let store = EmbeddedStore::open(&dir, options, clock).expect("open");
        let statement = prepared(2);
        let terms = statement.terms.0.clone();
        let related = |kind: TermKind| terms.iter().filter(|(k, _)| *k == kind).count();
        // Actor and authority; object and parent.
        assert_eq!(related(TermKind::RelatedAgent), 2, "{terms:?}");
        assert_eq!(related(TermKind::RelatedActivity), 2, "{terms:?}");
        StatementStore::insert(&store, TenantId(3), vec![statement.clone()])
            .await
            .expect("insert");
        let inner = store.shared.current().expect("open");
        assert_eq!(
            inner.postings.range::<&[u8], _>(..).count(),
            terms.len() - 3
        );
        for term in &terms {
            assert_eq!(
                all_pages(&store, std::slice::from_ref(term), true, 10).await,
                vec![statement.id],
                "{term:?}"
            );
        }
    }

    /// Each opening begins an epoch: queries and their pages run across all of them, in both
    /// orders, with one filter or two, and see each statement once.
    #[tokio::test]
    async fn queries_and_pages_run_across_epochs() {
        let (_temp, dir, options, clock) = reopenable();
        let mut written: Vec<(Uuid, Vec<(TermKind, String)>)> = Vec::new();
        for round in 0..3u32 {
            let store = EmbeddedStore::open(&dir, options, clock.clone()).expect("open");
            let batch: Vec<NewStatement> = (round * 20..round * 20 + 20).map(prepared).collect();
            written.extend(batch.iter().map(|s| (s.id, s.terms.0.clone())));
            StatementStore::insert(&store, TenantId(3), batch)
                .await
                .expect("insert");
        }
        let store = EmbeddedStore::open(&dir, options, clock).expect("open");
        assert_eq!(
            store
                .shared
                .current()
                .expect("open")
                .epochs
                .read()
                .spans(0, u64::MAX)
                .len(),
            3
        );
        let term = |kind: TermKind, value: &str| (kind, value.to_owned());
        let learner = term(TermKind::Agent, "mbox:mailto:learner0@example.com");
        let verb = term(TermKind::Verb, "http://example.com/verbs/v1");
        let related_learner = term(TermKind::RelatedAgent, "mbox:mailto:learner0@example.com");
        let related_authority = term(TermKind::RelatedAgent, "account:http://localhost|key");
        let related_activity = term(
            TermKind::RelatedActivity,
            "http://example.com/activities/a2",
        );
        let related_course = term(TermKind::RelatedActivity, "http://example.com/courses/c");
        for filters in [
            vec![learner.clone()],
            vec![verb.clone()],
            vec![learner, verb.clone()],
            vec![related_learner.clone()],
            vec![related_authority.clone()],
            vec![related_activity.clone()],
            vec![related_activity, verb.clone()],
            vec![verb, related_learner, related_course],
        ] {
            let expected: Vec<Uuid> = written
                .iter()
                .filter(|(_, terms)| filters.iter().all(|f| terms.contains(f)))
                .map(|(id, _)| *id)
                .collect();
            assert!(expected.len() >= 2, "{filters:?}");
            for limit in [1, 3, 100] {
                assert_eq!(all_pages(&store, &filters, true, limit).await, expected);
                let mut descending = expected.clone();
                descending.reverse();
                assert_eq!(all_pages(&store, &filters, false, limit).await, descending);
            }
        }
    }
}
