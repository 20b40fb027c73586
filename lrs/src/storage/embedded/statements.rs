//! Statements in the embedded store: insert with voiding and StatementRef rules, get, query.

#[allow(clippy::wildcard_imports)]
use super::*;

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

fn term_prefix(tenant: TenantId, kind: TermKind, value: &str) -> [u8; 21] {
    let mut key = [0u8; 21];
    key[..4].copy_from_slice(&tenant.0.to_be_bytes());
    key[4] = kind as u8;
    key[5..].copy_from_slice(&hash16(&[value.as_bytes()]));
    key
}

fn term_key(prefix: &[u8; 21], seq: u64) -> [u8; 29] {
    let mut key = [0u8; 29];
    key[..21].copy_from_slice(prefix);
    key[21..].copy_from_slice(&seq.to_be_bytes());
    key
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

    /// The index prefixes of a stored statement, re-derived from its JSON, including what it
    /// inherits from the statement it references (recursively, xAPI Communication §2.1.3).
    fn stored_terms(&self, tenant: TenantId, seq: u64) -> Result<Vec<[u8; 21]>, StorageError> {
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
            found.extend(
                parsed
                    .terms
                    .0
                    .iter()
                    .map(|(kind, value)| term_prefix(tenant, *kind, value)),
            );
            if let Some(target) = parsed.statement_ref {
                next = self.seq_of(tenant, target)?;
            }
        }
        Ok(found)
    }

    fn insert(&self, tenant: TenantId, batch: Vec<NewStatement>) -> Result<Vec<Uuid>, InsertError> {
        // Attachment data is written chunk by chunk before the write lock is taken, so a large
        // attachment neither sits in memory whole nor holds up other writers; it becomes
        // visible only through its completion mark, which commits with the statements.
        let mut marks = Vec::new();
        for statement in &batch {
            for (sha2, data) in &statement.attachments {
                if let Some(mark) = self.stage_attachment(tenant, sha2, data)? {
                    marks.push(mark);
                }
            }
        }
        let mut state = self.write.lock();
        let mut ids = Vec::with_capacity(batch.len());
        let mut fresh: Vec<NewStatement> = Vec::with_capacity(batch.len());
        let mut batch_ids: HashMap<Uuid, bool> = HashMap::new();
        for statement in batch {
            ids.push(statement.id);
            if let Some(seq) = self.seq_of(tenant, statement.id)? {
                let existing = self
                    .record_at(tenant, seq)?
                    .ok_or_else(|| StorageError::corrupt("id index points at no statement"))?;
                let stored: Map<String, Value> = serde_json::from_slice(&existing.json)
                    .map_err(|e| StorageError::corrupt(e.to_string()))?;
                if !xapi::equivalent(&stored, &statement.json) {
                    return Err(InsertError::Conflict(statement.id));
                }
                continue;
            }
            if batch_ids.contains_key(&statement.id) {
                // The same id twice in one batch: equivalent copies collapse, others conflict.
                let same = fresh
                    .iter()
                    .any(|s| s.id == statement.id && xapi::equivalent(&s.json, &statement.json));
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
        let result = self.write_fresh(tenant, fresh, first_seq, marks);
        self.in_flight.store(u64::MAX, Ordering::SeqCst);
        let last_seq = result?;
        state.last_seq = last_seq;
        Ok(ids)
    }

    fn write_fresh(
        &self,
        tenant: TenantId,
        fresh: Vec<NewStatement>,
        first_seq: u64,
        attachment_marks: Vec<AttachmentMark>,
    ) -> Result<u64, StorageError> {
        let mut batch = self.db.batch();
        for (key, count) in attachment_marks {
            batch.insert(&self.attachments, key, count);
        }
        let mut seq = first_seq;
        let mut new_seqs: HashMap<Uuid, u64> = HashMap::new();
        let mut terms_of: HashMap<u64, Vec<[u8; 21]>> = HashMap::new();
        // Canonical definitions and agent names touched by this batch: (value, changed).
        let mut canonical: HashMap<String, (Option<Map<String, Value>>, bool)> = HashMap::new();
        let mut names: HashMap<String, (Vec<String>, bool)> = HashMap::new();
        for statement in fresh {
            let NewStatement {
                id,
                mut json,
                voids,
                statement_ref,
                terms,
                definitions,
                agent_names,
                may_define,
                attachments: _,
            } = statement;
            for (activity_id, definition) in definitions {
                let entry = match canonical.entry(activity_id) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        let stored = self.activity_definition(tenant, e.key())?;
                        e.insert((stored, false))
                    }
                };
                match &mut entry.0 {
                    None => *entry = (Some(definition), true),
                    Some(existing) if may_define => {
                        let before = existing.clone();
                        crate::statements::merge_definition(existing, &definition);
                        entry.1 |= *existing != before;
                    }
                    Some(_) => {}
                }
            }
            for (key, name) in agent_names {
                let entry = match names.entry(key) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        let stored = self.agent_names(tenant, e.key())?;
                        e.insert((stored, false))
                    }
                };
                if !entry.0.contains(&name) {
                    entry.0.push(name);
                    entry.1 = true;
                }
            }
            stamp(&mut json, seq_to_time(seq));
            let bytes =
                serde_json::to_vec(&json).map_err(|e| StorageError::corrupt(e.to_string()))?;
            batch.insert(
                &self.statements,
                statement_key(tenant, seq),
                encode_record(voids.is_some(), id, &bytes),
            );
            batch.insert(&self.ids, id_key(tenant, id), seq.to_be_bytes());
            let mut prefixes: Vec<[u8; 21]> = terms
                .0
                .iter()
                .map(|(kind, value)| term_prefix(tenant, *kind, value))
                .collect();
            if let Some(target) = statement_ref {
                let inherited = match new_seqs.get(&target) {
                    Some(target_seq) => terms_of.get(target_seq).cloned().unwrap_or_default(),
                    None => match self.seq_of(tenant, target)? {
                        Some(target_seq) => self.stored_terms(tenant, target_seq)?,
                        None => Vec::new(),
                    },
                };
                prefixes.extend(inherited);
            }
            let unique: HashSet<[u8; 21]> = prefixes.into_iter().collect();
            let prefixes: Vec<[u8; 21]> = unique.into_iter().collect();
            for prefix in &prefixes {
                batch.insert(&self.terms, term_key(prefix, seq), []);
            }
            if let Some(target) = voids {
                batch.insert(&self.voids, id_key(tenant, target), id.as_bytes());
            }
            new_seqs.insert(id, seq);
            terms_of.insert(seq, prefixes);
            seq += 1;
        }
        for (activity_id, (definition, changed)) in canonical {
            if let (Some(definition), true) = (definition, changed) {
                let json = serde_json::to_vec(&definition)
                    .map_err(|e| StorageError::corrupt(e.to_string()))?;
                batch.insert(&self.activities, activity_key(tenant, &activity_id), json);
            }
        }
        for (key, (list, changed)) in names {
            if changed {
                let json =
                    serde_json::to_vec(&list).map_err(|e| StorageError::corrupt(e.to_string()))?;
                batch.insert(&self.agents, agent_key(tenant, &key), json);
            }
        }
        self.commit(batch)?;
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
        let mut filters: Vec<(TermKind, [u8; 21])> = query
            .filters
            .iter()
            .map(|(kind, value)| (*kind, term_prefix(tenant, *kind, value)))
            .collect();
        filters.sort_by_key(|(kind, _)| driver_rank(*kind));

        let accept = |seq: u64, page: &mut StatementPage| -> Result<bool, StorageError> {
            for (_, prefix) in filters.iter().skip(1) {
                if !self
                    .terms
                    .contains_key(term_key(prefix, seq))
                    .map_err(map_err)?
                {
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
                let range = self
                    .statements
                    .range(statement_key(tenant, low)..=statement_key(tenant, high));
                let iter: Box<dyn Iterator<Item = fjall::Guard>> = if query.ascending {
                    Box::new(range)
                } else {
                    Box::new(range.rev())
                };
                for guard in iter {
                    let key = guard.key().map_err(map_err)?;
                    if !accept(read_u64(&key, 4)?, &mut page)? {
                        break;
                    }
                }
            }
            Some((_, driver)) => {
                let driver = *driver;
                let range = self
                    .terms
                    .range(term_key(&driver, low)..=term_key(&driver, high));
                let iter: Box<dyn Iterator<Item = fjall::Guard>> = if query.ascending {
                    Box::new(range)
                } else {
                    Box::new(range.rev())
                };
                for guard in iter {
                    let key = guard.key().map_err(map_err)?;
                    if !accept(read_u64(&key, 21)?, &mut page)? {
                        break;
                    }
                }
            }
        }
        Ok(page)
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
        let mut count: u32 = 0;
        data.for_each_chunk(ATTACHMENT_CHUNK, |chunk| {
            if count == COMPLETE {
                return Err(StorageError::corrupt("attachment too large"));
            }
            let key = [&prefix[..], &count.to_be_bytes()[..]].concat();
            self.attachments.insert(key, chunk).map_err(map_err)?;
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
        self.blocking(move |inner| inner.insert(tenant, batch))
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
        Ok(self.inner.consistent_through())
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
