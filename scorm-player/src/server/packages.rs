//! Package import, listing and deletion. A package is checked whole before anything is kept
//! (`validate_package`), its files go to the blob store chunk by chunk, and its record is
//! written last: a package is visible exactly when all of it is stored.

use std::collections::BTreeMap;
use std::io::{Read, Seek};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::ScormServer;
use super::error::{ScormError, ScormErrorKind};
use super::ports::{Caller, Expect, Tenant};
use super::store::PACKAGE;
use crate::manifest::{Item, Manifest, parse_manifest};
use crate::package::{MANIFEST_NAME, PackageArchive, validate_package};
use crate::sequencing::ActivityTree;
use crate::version::ScormVersion;

/// Chunk size of package files in the blob store: small enough for any backend's partition,
/// large enough that a range read touches few chunks.
pub(super) const CHUNK: usize = 256 * 1024;

/// What the server keeps about an imported package.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct PackageRecord {
    pub id: Uuid,
    pub title: String,
    pub identifier: String,
    /// `<schemaversion>` spelling of the SCORM version.
    pub schema_version: String,
    pub created: DateTime<Utc>,
    /// Bytes of the uploaded zip.
    pub zip_bytes: u64,
    /// `imsmanifest.xml` as uploaded, base64; parsed again when the package is loaded.
    pub manifest_xml: String,
    pub files: BTreeMap<String, FileMeta>,
    /// Warnings found at import (JSON of the diagnostics).
    pub warnings: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct FileMeta {
    pub size: u64,
    /// SHA-256 of the file, hex; the ETag.
    pub sha256: String,
}

impl FileMeta {
    pub fn chunks(&self) -> u32 {
        u32::try_from(self.size.div_ceil(CHUNK as u64)).unwrap_or(u32::MAX)
    }
}

/// A package ready to play: its record, the parsed manifest and its activity tree.
pub(super) struct LoadedPackage {
    pub record: PackageRecord,
    pub manifest: Manifest,
    pub version: ScormVersion,
    pub tree: ActivityTree,
}

/// How far an import has come, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportProgress {
    pub files_done: usize,
    pub files_total: usize,
    pub bytes_done: u64,
    pub bytes_total: u64,
}

/// A package as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PackageSummary {
    pub id: Uuid,
    pub title: String,
    pub identifier: String,
    pub version: ScormVersion,
    pub created: DateTime<Utc>,
    pub size: u64,
    pub files: usize,
    pub default_organization: Option<String>,
    pub organizations: Vec<OrganizationView>,
    pub warnings: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrganizationView {
    pub identifier: String,
    pub title: String,
    pub items: Vec<ItemView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemView {
    pub identifier: String,
    pub title: String,
    /// Whether the item launches content (a SCO or an asset).
    pub launchable: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<ItemView>,
}

fn item_view(item: &Item) -> ItemView {
    ItemView {
        identifier: item.identifier.clone(),
        title: item.title.clone(),
        launchable: item.launch.is_some(),
        items: item.items.iter().map(item_view).collect(),
    }
}

pub(super) fn version_of(manifest: &Manifest) -> ScormVersion {
    // A manifest without a recognised version was refused at import; the 2004 default only
    // matters for records written by hand.
    manifest.scorm_version.unwrap_or(ScormVersion::Scorm2004Ed4)
}

impl LoadedPackage {
    fn from_record(record: PackageRecord) -> Result<LoadedPackage, ScormError> {
        let xml = BASE64
            .decode(&record.manifest_xml)
            .map_err(|e| ScormError::internal(format!("package {}: manifest: {e}", record.id)))?;
        let (manifest, _) = parse_manifest(&xml, &Default::default());
        let version = version_of(&manifest);
        let tree = ActivityTree::build(&manifest, None).map_err(|e| {
            ScormError::internal(format!("package {}: activity tree: {e}", record.id))
        })?;
        Ok(LoadedPackage {
            record,
            manifest,
            version,
            tree,
        })
    }

    pub fn summary(&self) -> PackageSummary {
        let record = &self.record;
        PackageSummary {
            id: record.id,
            title: record.title.clone(),
            identifier: record.identifier.clone(),
            version: self.version,
            created: record.created,
            size: record.zip_bytes,
            files: record.files.len(),
            default_organization: self
                .manifest
                .default_organization()
                .map(|o| o.identifier.clone()),
            organizations: self
                .manifest
                .organizations
                .iter()
                .map(|o| OrganizationView {
                    identifier: o.identifier.clone(),
                    title: o.title.clone(),
                    items: o.items.iter().map(item_view).collect(),
                })
                .collect(),
            warnings: record.warnings.clone(),
        }
    }
}

fn blob_name(package: Uuid, path: &str) -> String {
    format!("scorm/{package}/{path}")
}

impl ScormServer {
    /// Imports a zip already on disk. Nothing is visible until every file is stored.
    pub async fn import_package(
        &self,
        caller: &Caller,
        zip: std::fs::File,
        progress: Option<Arc<dyn Fn(ImportProgress) + Send + Sync>>,
    ) -> Result<PackageSummary, ScormError> {
        require_manage(caller)?;
        let tenant = caller.tenant;
        let id = Uuid::new_v4();
        let _turn = self
            .inner
            .imports
            .acquire()
            .await
            .map_err(|e| ScormError::internal(format!("import queue: {e}")))?;
        let server = self.clone();
        let handle = tokio::runtime::Handle::current();
        let record = tokio::task::spawn_blocking(move || {
            server.import_blocking(&handle, tenant, id, zip, progress.as_deref())
        })
        .await
        .map_err(|e| ScormError::internal(format!("import task: {e}")))?;
        let record = match record {
            Ok(record) => record,
            Err((error, written)) => {
                self.delete_files(tenant, id, &written).await;
                return Err(error);
            }
        };
        let files = record.files.clone();
        if let Err(e) = self
            .store(
                tenant,
                (PACKAGE.0, PACKAGE.1, &id.to_string()),
                &record,
                Expect::Absent,
            )
            .await
        {
            self.delete_files(tenant, id, &files).await;
            return Err(e);
        }
        tracing::info!(tenant = tenant.0, package = %id, files = files.len(), "scorm package imported");
        let loaded = LoadedPackage::from_record(record)?;
        let summary = loaded.summary();
        self.inner
            .packages
            .lock()
            .insert((tenant, id), Arc::new(loaded));
        Ok(summary)
    }

    /// Validates and stores the files; on failure, the files already written, for clean-up.
    #[allow(clippy::type_complexity)]
    fn import_blocking(
        &self,
        handle: &tokio::runtime::Handle,
        tenant: Tenant,
        id: Uuid,
        mut zip: std::fs::File,
        progress: Option<&(dyn Fn(ImportProgress) + Send + Sync)>,
    ) -> Result<PackageRecord, (ScormError, BTreeMap<String, FileMeta>)> {
        let mut written = BTreeMap::new();
        let fail = |e: ScormError, written: &BTreeMap<String, FileMeta>| (e, written.clone());
        let zip_bytes = zip
            .seek(std::io::SeekFrom::End(0))
            .and_then(|len| zip.rewind().map(|()| len))
            .map_err(|e| fail(ScormError::internal(format!("upload: {e}")), &written))?;
        let limits = &self.inner.config.limits;
        let (package, warnings) = validate_package(&mut zip, limits)
            .map_err(|problems| fail(ScormError::package(problems), &written))?;
        zip.rewind()
            .map_err(|e| fail(ScormError::internal(format!("upload: {e}")), &written))?;
        let mut archive = PackageArchive::open(zip, &package)
            .map_err(|e| fail(ScormError::internal(e.message), &written))?;
        let manifest_xml = archive
            .read(MANIFEST_NAME)
            .map_err(|e| fail(ScormError::internal(e.message), &written))?;
        // Kept as uploaded (it may be UTF-16 or Latin-1; the parser transcodes).
        let manifest_xml = BASE64.encode(manifest_xml);
        let total: u64 = package.files.iter().map(|f| f.size).sum();
        let mut done = ImportProgress {
            files_done: 0,
            files_total: package.files.len(),
            bytes_done: 0,
            bytes_total: total,
        };
        for file in &package.files {
            let meta = self
                .store_file(
                    handle,
                    tenant,
                    id,
                    &mut archive,
                    &file.path,
                    &mut done,
                    progress,
                )
                .map_err(|e| fail(e, &written))?;
            written.insert(file.path.clone(), meta);
            done.files_done += 1;
            if let Some(progress) = progress {
                progress(done);
            }
        }
        let manifest = &package.manifest;
        let title = manifest
            .default_organization()
            .map(|o| o.title.clone())
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| manifest.identifier.clone());
        Ok(PackageRecord {
            id,
            title,
            identifier: manifest.identifier.clone(),
            schema_version: version_of(manifest).schema_version().to_owned(),
            created: self.now(),
            zip_bytes,
            manifest_xml,
            files: written,
            warnings: serde_json::to_value(&warnings).unwrap_or_default(),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn store_file<R: Read + Seek>(
        &self,
        handle: &tokio::runtime::Handle,
        tenant: Tenant,
        id: Uuid,
        archive: &mut PackageArchive<R>,
        path: &str,
        done: &mut ImportProgress,
        progress: Option<&(dyn Fn(ImportProgress) + Send + Sync)>,
    ) -> Result<FileMeta, ScormError> {
        let blob = blob_name(id, path);
        let mut reader = archive
            .reader(path)
            .map_err(|e| ScormError::internal(format!("{path}: {}", e.message)))?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut index = 0u32;
        loop {
            let mut chunk = vec![0u8; CHUNK];
            let mut filled = 0;
            while filled < CHUNK {
                let n = reader
                    .read(&mut chunk[filled..])
                    .map_err(|e| ScormError::internal(format!("{path}: {e}")))?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            if filled == 0 && index > 0 {
                break;
            }
            chunk.truncate(filled);
            hasher.update(&chunk);
            size += filled as u64;
            let last = filled < CHUNK;
            handle.block_on(self.inner.blobs.put_chunk(
                tenant,
                &blob,
                index,
                Bytes::from(chunk),
            ))?;
            index += 1;
            done.bytes_done += filled as u64;
            if let Some(progress) = progress {
                progress(*done);
            }
            if last {
                break;
            }
        }
        Ok(FileMeta {
            size,
            sha256: hex::encode(hasher.finalize()),
        })
    }

    async fn delete_files(&self, tenant: Tenant, id: Uuid, files: &BTreeMap<String, FileMeta>) {
        for (path, meta) in files {
            // An empty file still wrote chunk 0.
            let chunks = meta.chunks().max(1);
            if let Err(e) = self
                .inner
                .blobs
                .delete_blob(tenant, &blob_name(id, path), chunks)
                .await
            {
                tracing::warn!(tenant = tenant.0, package = %id, error = %e, "package file not deleted");
            }
        }
    }

    /// A package, parsed, from the cache or the store.
    pub(super) async fn package(
        &self,
        tenant: Tenant,
        id: Uuid,
    ) -> Result<Arc<LoadedPackage>, ScormError> {
        if let Some(found) = self.inner.packages.lock().get(&(tenant, id)) {
            return Ok(found.clone());
        }
        let record = self
            .load::<PackageRecord>(tenant, PACKAGE.0, PACKAGE.1, &id.to_string())
            .await?
            .ok_or_else(|| ScormError::not_found("package"))?;
        let loaded = Arc::new(LoadedPackage::from_record(record.value)?);
        self.inner
            .packages
            .lock()
            .insert((tenant, id), loaded.clone());
        Ok(loaded)
    }

    pub async fn get_package(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<PackageSummary, ScormError> {
        require_read(caller)?;
        Ok(self.package(caller.tenant, id).await?.summary())
    }

    pub async fn list_packages(&self, caller: &Caller) -> Result<Vec<PackageSummary>, ScormError> {
        require_read(caller)?;
        let records = self
            .list::<PackageRecord>(caller.tenant, PACKAGE.0, PACKAGE.1, usize::MAX)
            .await?;
        records
            .into_iter()
            .map(|r| LoadedPackage::from_record(r.value).map(|p| p.summary()))
            .collect()
    }

    /// Deletes a package and its files. Its registrations stay (their history is the
    /// learners'); launching one answers 410 Gone.
    pub async fn delete_package(&self, caller: &Caller, id: Uuid) -> Result<(), ScormError> {
        require_manage(caller)?;
        let tenant = caller.tenant;
        let key = id.to_string();
        let record = self
            .load::<PackageRecord>(tenant, PACKAGE.0, PACKAGE.1, &key)
            .await?
            .ok_or_else(|| ScormError::not_found("package"))?;
        if !self
            .inner
            .records
            .delete(tenant, PACKAGE.0, PACKAGE.1, &key, record.version)
            .await?
        {
            return Err(ScormError::new(
                ScormErrorKind::Refused,
                "concurrent-change",
                "the package changed meanwhile; try again",
            ));
        }
        self.inner.packages.lock().remove(&(tenant, id));
        self.delete_files(tenant, id, &record.value.files).await;
        tracing::info!(tenant = tenant.0, package = %id, "scorm package deleted");
        Ok(())
    }

    /// Reads `len` bytes of a package file from `offset`, chunk by chunk.
    pub(super) async fn read_file_range(
        &self,
        tenant: Tenant,
        package: Uuid,
        path: &str,
        offset: u64,
        len: u64,
    ) -> Result<Vec<Bytes>, ScormError> {
        let blob = blob_name(package, path);
        let chunk = CHUNK as u64;
        let mut out = Vec::new();
        if len == 0 {
            return Ok(out);
        }
        let end = offset + len;
        let first = offset / chunk;
        let last = (end - 1) / chunk;
        for index in first..=last {
            let index32 = u32::try_from(index)
                .map_err(|_| ScormError::internal("file offset out of range"))?;
            let data = self
                .inner
                .blobs
                .get_chunk(tenant, &blob, index32)
                .await?
                .ok_or_else(|| ScormError::internal(format!("{path}: chunk {index} missing")))?;
            let start = index * chunk;
            let from = usize::try_from(offset.saturating_sub(start)).unwrap_or(0);
            let to = usize::try_from((end - start).min(data.len() as u64)).unwrap_or(0);
            if from < to {
                out.push(data.slice(from..to));
            }
        }
        Ok(out)
    }
}

pub(super) fn require_manage(caller: &Caller) -> Result<(), ScormError> {
    if caller.manage {
        Ok(())
    } else {
        Err(ScormError::new(
            ScormErrorKind::Forbidden,
            "scope",
            "importing packages and creating registrations needs an admin credential or the define scope",
        ))
    }
}

pub(super) fn require_read(caller: &Caller) -> Result<(), ScormError> {
    if caller.read || caller.manage {
        Ok(())
    } else {
        Err(ScormError::new(
            ScormErrorKind::Forbidden,
            "scope",
            "reading packages needs a credential with read access",
        ))
    }
}
