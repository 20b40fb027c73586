//! State, activity profile and agent profile documents in the embedded store.

#[allow(clippy::wildcard_imports)]
use super::*;

// ---------------------------------------------------------------------------------------------
// Documents

fn scope_prefix(tenant: TenantId, scope: &DocumentScope) -> [u8; 21] {
    let mut key = [0u8; 21];
    key[..4].copy_from_slice(&tenant.0.to_be_bytes());
    let registration;
    let (kind, hash) = match scope {
        DocumentScope::State {
            activity_id,
            agent,
            registration: reg,
        } => {
            registration = reg.map(|r| r.to_string()).unwrap_or_default();
            (
                1u8,
                hash16(&[
                    activity_id.as_bytes(),
                    agent.as_bytes(),
                    registration.as_bytes(),
                ]),
            )
        }
        DocumentScope::ActivityProfile { activity_id } => (2, hash16(&[activity_id.as_bytes()])),
        DocumentScope::AgentProfile { agent } => (3, hash16(&[agent.as_bytes()])),
    };
    key[4] = kind;
    key[5..].copy_from_slice(&hash);
    key
}

fn document_key(prefix: &[u8; 21], id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(21 + id.len());
    key.extend_from_slice(prefix);
    key.extend_from_slice(id.as_bytes());
    key
}

fn encode_document(document: &Document) -> Vec<u8> {
    let content_type = document.content_type.as_bytes();
    let etag = document.etag.as_bytes();
    let mut value =
        Vec::with_capacity(8 + 4 + content_type.len() + etag.len() + document.body.len());
    value.extend_from_slice(&time_to_seq(document.updated).to_be_bytes());
    value.extend_from_slice(&(content_type.len() as u16).to_be_bytes());
    value.extend_from_slice(content_type);
    value.extend_from_slice(&(etag.len() as u16).to_be_bytes());
    value.extend_from_slice(etag);
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

fn precondition_holds(precondition: &Precondition, existing: Option<&Document>) -> bool {
    match (precondition, existing) {
        (Precondition::None, _) => true,
        (Precondition::IfNoneMatchAny, existing) => existing.is_none(),
        (Precondition::IfMatch(_), None) => false,
        (Precondition::IfMatch(tags), Some(document)) => {
            tags.iter().any(|tag| tag == "*" || tag == &document.etag)
        }
    }
}

/// The entity tag of a document body: its SHA-1 in hex (xAPI 1.0.3 Communication §3.1).
pub fn document_etag(body: &[u8]) -> String {
    use sha1::Digest as _;
    hex::encode(sha1::Sha1::digest(body))
}

impl Inner {
    fn get_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
    ) -> Result<Option<Document>, StorageError> {
        let key = document_key(&scope_prefix(tenant, scope), id);
        match self.documents.get(key).map_err(map_err)? {
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
        if !precondition_holds(&precondition, existing.as_ref()) {
            return Err(DocumentError::PreconditionFailed);
        }
        let (content_type, body) = match (mode, &existing) {
            (WriteMode::MergeJson, Some(old)) => {
                let merged = merge_documents(old, &content_type, &body)
                    .ok_or(DocumentError::NotMergeable)?;
                (old.content_type.clone(), Bytes::from(merged))
            }
            _ => (content_type, body),
        };
        let now = self.clock.now();
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
            document_key(&scope_prefix(tenant, scope), id),
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
        if !precondition_holds(precondition, existing.as_ref()) {
            return Err(DocumentError::PreconditionFailed);
        }
        if existing.is_none() {
            return Ok(false);
        }
        let mut batch = self.db.batch();
        batch.remove(
            &self.documents,
            document_key(&scope_prefix(tenant, scope), id),
        );
        self.commit(batch)?;
        Ok(true)
    }

    fn scan_documents(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
    ) -> Result<Vec<(Vec<u8>, Document)>, StorageError> {
        let prefix = scope_prefix(tenant, scope);
        let mut found = Vec::new();
        for guard in self.documents.prefix(prefix) {
            let (key, value) = guard.into_inner().map_err(map_err)?;
            found.push((key.to_vec(), decode_document(&value)?));
        }
        Ok(found)
    }

    fn list_documents(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<String>, StorageError> {
        let mut ids = Vec::new();
        for (key, document) in self.scan_documents(tenant, scope)? {
            if since.is_some_and(|since| document.updated <= since) {
                continue;
            }
            let id = String::from_utf8(key[21..].to_vec())
                .map_err(|e| StorageError::corrupt(e.to_string()))?;
            ids.push(id);
        }
        Ok(ids)
    }

    fn delete_documents(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
    ) -> Result<usize, StorageError> {
        let _state = self.write.lock();
        let found = self.scan_documents(tenant, scope)?;
        let mut batch = self.db.batch();
        for (key, _) in &found {
            batch.remove(&self.documents, key.clone());
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
        self.blocking(move |inner| inner.put_document(tenant, &scope, &id, write))
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
        self.blocking(move |inner| inner.delete_document(tenant, &scope, &id, &precondition))
            .await
    }

    async fn list_documents(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<String>, StorageError> {
        let scope = scope.clone();
        self.blocking(move |inner| inner.list_documents(tenant, &scope, since))
            .await
    }

    async fn delete_documents(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
    ) -> Result<usize, StorageError> {
        let scope = scope.clone();
        self.blocking(move |inner| inner.delete_documents(tenant, &scope))
            .await
    }
}
