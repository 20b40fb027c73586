//! State, activity profile and agent profile documents in the embedded store.

#[allow(clippy::wildcard_imports)]
use super::*;

// Key layout (every key starts with the tenant):
// - State:            tenant ‖ 1 ‖ hash(activity id, agent) ‖ 0 ‖ document id        (no registration)
//                     tenant ‖ 1 ‖ hash(activity id, agent) ‖ 1 ‖ registration ‖ document id
// - Activity profile: tenant ‖ 2 ‖ hash(activity id) ‖ document id
// - Agent profile:    tenant ‖ 3 ‖ hash(agent) ‖ document id
// so that every State document of an agent in an activity, whatever its registration, is one
// prefix (Communication §2.3, multiple-document GET and DELETE without `registration`).

const KIND_STATE: u8 = 1;
const KIND_ACTIVITY_PROFILE: u8 = 2;
const KIND_AGENT_PROFILE: u8 = 3;
const NO_REGISTRATION: u8 = 0;
const WITH_REGISTRATION: u8 = 1;
/// tenant ‖ kind ‖ hash
const OWNER_LEN: usize = 4 + 1 + HASH_LEN;

fn owner_prefix(tenant: TenantId, kind: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut key = Vec::with_capacity(OWNER_LEN + 17 + 64);
    key.extend_from_slice(&tenant.0.to_be_bytes());
    key.push(kind);
    key.extend_from_slice(&hash16(parts));
    key
}

/// Every key of a scope's documents starts with this; the document id follows it.
fn scope_prefix(tenant: TenantId, scope: &DocumentScope) -> Vec<u8> {
    match scope {
        DocumentScope::State {
            activity_id,
            agent,
            registration,
        } => {
            let mut key = owner_prefix(
                tenant,
                KIND_STATE,
                &[activity_id.as_bytes(), agent.as_bytes()],
            );
            match registration {
                None => key.push(NO_REGISTRATION),
                Some(registration) => {
                    key.push(WITH_REGISTRATION);
                    key.extend_from_slice(registration.as_bytes());
                }
            }
            key
        }
        DocumentScope::ActivityProfile { activity_id } => {
            owner_prefix(tenant, KIND_ACTIVITY_PROFILE, &[activity_id.as_bytes()])
        }
        DocumentScope::AgentProfile { agent } => {
            owner_prefix(tenant, KIND_AGENT_PROFILE, &[agent.as_bytes()])
        }
    }
}

/// Every key of a set's documents starts with this.
fn set_prefix(tenant: TenantId, set: &DocumentSet) -> Vec<u8> {
    match set {
        DocumentSet::Scope(scope) => scope_prefix(tenant, scope),
        DocumentSet::State { activity_id, agent } => owner_prefix(
            tenant,
            KIND_STATE,
            &[activity_id.as_bytes(), agent.as_bytes()],
        ),
    }
}

fn document_key(tenant: TenantId, scope: &DocumentScope, id: &str) -> Vec<u8> {
    let mut key = scope_prefix(tenant, scope);
    key.extend_from_slice(id.as_bytes());
    key
}

/// The document id at the end of a key.
fn id_of_key(key: &[u8]) -> Result<String, StorageError> {
    let short = || StorageError::corrupt("short document key");
    let at = match key.get(4).copied().ok_or_else(short)? {
        KIND_STATE => match key.get(OWNER_LEN).copied().ok_or_else(short)? {
            NO_REGISTRATION => OWNER_LEN + 1,
            WITH_REGISTRATION => OWNER_LEN + 1 + 16,
            other => {
                return Err(StorageError::corrupt(format!(
                    "unknown registration tag {other} in a state document key"
                )));
            }
        },
        KIND_ACTIVITY_PROFILE | KIND_AGENT_PROFILE => OWNER_LEN,
        other => {
            return Err(StorageError::corrupt(format!(
                "unknown document kind {other}"
            )));
        }
    };
    let id = key.get(at..).ok_or_else(short)?;
    String::from_utf8(id.to_vec()).map_err(|e| StorageError::corrupt(e.to_string()))
}

/// updated ‖ u16 length ‖ content type ‖ u16 length ‖ ETag ‖ body. The content type is cut
/// at 65 535 bytes (the trait's limit; the HTTP layer refuses far shorter ones).
fn encode_document(document: &Document) -> Vec<u8> {
    let field = |text: &str| -> Vec<u8> {
        let mut end = text.len().min(usize::from(u16::MAX));
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let bytes = &text.as_bytes()[..end];
        let mut out = Vec::with_capacity(2 + bytes.len());
        out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
        out.extend_from_slice(bytes);
        out
    };
    let content_type = field(&document.content_type);
    let etag = field(&document.etag);
    let mut value = Vec::with_capacity(8 + content_type.len() + etag.len() + document.body.len());
    value.extend_from_slice(&time_to_seq(document.updated).to_be_bytes());
    value.extend_from_slice(&content_type);
    value.extend_from_slice(&etag);
    value.extend_from_slice(&document.body);
    value
}

fn decode_document(value: &[u8]) -> Result<Document, StorageError> {
    let short = || StorageError::corrupt("short document record");
    let updated = read_u64(value, 0)?;
    let mut at = 8;
    let field = |at: &mut usize| -> Result<String, StorageError> {
        let len_bytes = value.get(*at..*at + 2).ok_or_else(short)?;
        let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        let bytes = value.get(*at + 2..*at + 2 + len).ok_or_else(short)?;
        *at += 2 + len;
        String::from_utf8(bytes.to_vec()).map_err(|e| StorageError::corrupt(e.to_string()))
    };
    let content_type = field(&mut at)?;
    let etag = field(&mut at)?;
    Ok(Document {
        content_type,
        body: Bytes::copy_from_slice(value.get(at..).ok_or_else(short)?),
        etag,
        updated: seq_to_time(updated),
    })
}

/// The entity tag of a document body: its SHA-1 in hex (xAPI 1.0.3 Communication §3.1).
pub fn document_etag(body: &[u8]) -> String {
    use sha1::Digest as _;
    hex::encode(sha1::Sha1::digest(body))
}

/// A document's key and when it was last updated, as a scan finds them.
struct KeyUpdated {
    key: Vec<u8>,
    updated: DateTime<Utc>,
}

impl Inner {
    fn get_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
    ) -> Result<Option<Document>, StorageError> {
        match self
            .documents
            .get(document_key(tenant, scope, id))
            .map_err(map_err)?
        {
            Some(value) => decode_document(&value).map(Some),
            None => Ok(None),
        }
    }

    fn put_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
        write: DocumentWrite,
    ) -> Result<Document, DocumentError> {
        let DocumentWrite {
            content_type,
            body,
            mode,
            precondition,
        } = write;
        let _state = self.write.lock();
        let existing = self.get_document(tenant, scope, id)?;
        if !precondition.holds(existing.as_ref()) {
            return Err(DocumentError::PreconditionFailed);
        }
        let (content_type, body) = match (mode, &existing) {
            (WriteMode::Create, Some(_)) => return Err(DocumentError::Exists),
            (WriteMode::MergeJson, Some(old)) => {
                let merged = merge_documents(old, &content_type, &body)
                    .ok_or(DocumentError::NotMergeable)?;
                (old.content_type.clone(), Bytes::from(merged))
            }
            _ => (content_type, body),
        };
        let now = self.clock.now();
        // A document's `updated` moves forward on every write, even within one clock tick, so
        // that `since` and Last-Modified see every change.
        let updated = match &existing {
            Some(old) if old.updated >= now => old.updated + chrono::Duration::microseconds(1),
            _ => now,
        };
        let document = Document {
            etag: document_etag(&body),
            content_type,
            body,
            updated,
        };
        let mut batch = self.db.batch();
        batch.insert(
            &self.documents,
            document_key(tenant, scope, id),
            encode_document(&document),
        );
        self.commit(batch)?;
        Ok(document)
    }

    fn delete_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
        precondition: &Precondition,
    ) -> Result<bool, DocumentError> {
        let _state = self.write.lock();
        let existing = self.get_document(tenant, scope, id)?;
        if !precondition.holds(existing.as_ref()) {
            return Err(DocumentError::PreconditionFailed);
        }
        if existing.is_none() {
            return Ok(false);
        }
        let mut batch = self.db.batch();
        batch.remove(&self.documents, document_key(tenant, scope, id));
        self.commit(batch)?;
        Ok(true)
    }

    /// The keys of a set's documents with their `updated` times.
    fn scan_documents(
        &self,
        tenant: TenantId,
        set: &DocumentSet,
    ) -> Result<Vec<KeyUpdated>, StorageError> {
        let mut found = Vec::new();
        for guard in self.documents.prefix(set_prefix(tenant, set)) {
            let (key, value) = guard.into_inner().map_err(map_err)?;
            let updated = seq_to_time(read_u64(&value, 0)?);
            found.push(KeyUpdated {
                key: key.to_vec(),
                updated,
            });
        }
        Ok(found)
    }

    fn list_documents(
        &self,
        tenant: TenantId,
        set: &DocumentSet,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<DocumentEntry>, StorageError> {
        // One id may be stored under several registrations; it is listed once.
        let mut ids: std::collections::BTreeMap<String, DateTime<Utc>> =
            std::collections::BTreeMap::new();
        for KeyUpdated { key, updated } in self.scan_documents(tenant, set)? {
            if since.is_some_and(|since| updated <= since) {
                continue;
            }
            let latest = ids.entry(id_of_key(&key)?).or_insert(updated);
            *latest = (*latest).max(updated);
        }
        Ok(ids
            .into_iter()
            .map(|(id, updated)| DocumentEntry { id, updated })
            .collect())
    }

    fn delete_documents(&self, tenant: TenantId, set: &DocumentSet) -> Result<usize, StorageError> {
        let _state = self.write.lock();
        let found = self.scan_documents(tenant, set)?;
        if found.is_empty() {
            return Ok(0);
        }
        let mut batch = self.db.batch();
        for found in &found {
            batch.remove(&self.documents, found.key.clone());
        }
        self.commit(batch)?;
        Ok(found.len())
    }
}

#[async_trait]
impl DocumentStore for EmbeddedStore {
    async fn get_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
    ) -> Result<Option<Document>, StorageError> {
        let (scope, id) = (scope.clone(), id.to_owned());
        self.blocking(move |inner| inner.get_document(tenant, &scope, &id))
            .await
    }

    async fn put_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
        write: DocumentWrite,
    ) -> Result<Document, DocumentError> {
        let (scope, id) = (scope.clone(), id.to_owned());
        self.writing(move |inner| inner.put_document(tenant, &scope, &id, write))
            .await
    }

    async fn delete_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
        precondition: &Precondition,
    ) -> Result<bool, DocumentError> {
        let (scope, id, precondition) = (scope.clone(), id.to_owned(), precondition.clone());
        self.writing(move |inner| inner.delete_document(tenant, &scope, &id, &precondition))
            .await
    }

    async fn list_documents(
        &self,
        tenant: TenantId,
        set: &DocumentSet,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<DocumentEntry>, StorageError> {
        let set = set.clone();
        self.blocking(move |inner| inner.list_documents(tenant, &set, since))
            .await
    }

    async fn delete_documents(
        &self,
        tenant: TenantId,
        set: &DocumentSet,
    ) -> Result<usize, StorageError> {
        let set = set.clone();
        self.writing(move |inner| inner.delete_documents(tenant, &set))
            .await
    }
}
