//! Package import validation: from zip bytes to a [`Package`] (manifest + file list) or the
//! list of every problem found, before anything is stored; then [`PackageArchive`] hands the
//! validated files out one by one for a content store.
//!
//! Nothing in the zip is trusted: entry names are checked for zip slip (`..`), absolute paths,
//! drive letters and backslash separators; symlinks, special files, duplicates and encrypted
//! entries are refused; sizes and compression ratios are checked against [`Limits`] from the
//! declared values *and* while decompressing, so a lying header cannot smuggle a bomb through.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Cursor, Read, Seek, SeekFrom};

use serde::Serialize;
use zip::CompressionMethod;
use zip::ZipArchive;
use zip::read::ZipFile;

use crate::diagnostic::{Diagnostic, DiagnosticCode, has_errors};
use crate::manifest::{Manifest, XmlLimits, parse_manifest};

/// The manifest's name; it must sit at the root of the package (CAM, Package Interchange File).
pub const MANIFEST_NAME: &str = "imsmanifest.xml";

/// What a package may weigh. The defaults fit real courses (video included) and refuse
/// archives built to exhaust memory or disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// The zip file itself.
    pub max_package_bytes: u64,
    /// Entries in the central directory, directories included.
    pub max_entries: usize,
    /// One file, uncompressed.
    pub max_file_bytes: u64,
    /// All files together, uncompressed.
    pub max_total_bytes: u64,
    /// Uncompressed ÷ compressed size of one entry; deflate cannot beat ~1032:1, bombs sit
    /// there, text rarely passes 20:1.
    pub max_compression_ratio: u64,
    /// Entries that decompress to less than this are not held to the ratio: a small file of
    /// zeros is harmless.
    pub ratio_threshold_bytes: u64,
    pub xml: XmlLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_package_bytes: 2 * 1024 * 1024 * 1024,
            max_entries: 20_000,
            max_file_bytes: 1024 * 1024 * 1024,
            max_total_bytes: 4 * 1024 * 1024 * 1024,
            max_compression_ratio: 200,
            ratio_threshold_bytes: 1024 * 1024,
            xml: XmlLimits::default(),
        }
    }
}

/// A package that passed validation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Package {
    pub manifest: Manifest,
    /// Every file in the zip (directories left out), sorted by path.
    pub files: Vec<PackageFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageFile {
    /// The entry name, already checked to be a safe relative path with `/` separators.
    pub path: String,
    /// Uncompressed size, as counted while reading (not as declared).
    pub size: u64,
}

/// [`validate_package`] over bytes in memory.
pub fn validate_package_bytes(
    zip: &[u8],
    limits: &Limits,
) -> Result<(Package, Vec<Diagnostic>), Vec<Diagnostic>> {
    validate_package(Cursor::new(zip), limits)
}

/// Validates a zip: every problem is reported, not only the first. `Ok` carries the package
/// and its warnings; `Err` every diagnostic, errors and warnings, when any is an error.
pub fn validate_package<R: Read + Seek>(
    reader: R,
    limits: &Limits,
) -> Result<(Package, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut diagnostics = Vec::new();
    let scan = scan(reader, limits, &mut diagnostics);
    let Some(scan) = scan else {
        return Err(diagnostics);
    };

    let manifest = match &scan.manifest {
        Some(bytes) => {
            let (manifest, manifest_diagnostics) = parse_manifest(bytes, &limits.xml);
            diagnostics.extend(manifest_diagnostics);
            Some(manifest)
        }
        None => {
            if scan.manifest_too_large.is_none() && scan.complete {
                diagnostics.push(missing_manifest(&scan.files));
            }
            None
        }
    };
    if let Some(manifest) = manifest.as_ref().filter(|_| scan.complete) {
        check_references(manifest, &scan.files, &scan.refused, &mut diagnostics);
    }
    match manifest {
        Some(manifest) if !has_errors(&diagnostics) => {
            let files = scan
                .files
                .into_iter()
                .map(|(path, size)| PackageFile { path, size })
                .collect();
            Ok((Package { manifest, files }, diagnostics))
        }
        _ => Err(diagnostics),
    }
}

struct Scan {
    files: BTreeMap<String, u64>,
    /// Entries refused (and reported): a reference to one is not reported again as missing.
    refused: BTreeSet<String>,
    manifest: Option<Vec<u8>>,
    manifest_too_large: Option<u64>,
    /// Whether every entry was read; after a bomb stopped the scan, nothing is "missing".
    complete: bool,
}

fn zip_error(code: DiagnosticCode, message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(code, "zip", message)
}

fn entry_error(code: DiagnosticCode, name: &str, message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(code, format!("zip:{name}"), message)
}

/// Reads every entry once: names, types and sizes checked, contents decompressed and counted.
fn scan<R: Read + Seek>(
    mut reader: R,
    limits: &Limits,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Scan> {
    let length = match reader.seek(SeekFrom::End(0)) {
        Ok(length) => length,
        Err(error) => {
            diagnostics.push(zip_error(
                DiagnosticCode::NotZip,
                format!("the package cannot be read: {error}"),
            ));
            return None;
        }
    };
    if length > limits.max_package_bytes {
        diagnostics.push(zip_error(
            DiagnosticCode::PackageTooLarge,
            format!(
                "the package is {length} bytes, more than the limit of {} bytes",
                limits.max_package_bytes
            ),
        ));
        return None;
    }
    if reader.seek(SeekFrom::Start(0)).is_err() {
        diagnostics.push(zip_error(
            DiagnosticCode::NotZip,
            "the package cannot be read",
        ));
        return None;
    }
    // Count and list the entries from the central directory before any index is built: an
    // archive declaring millions of entries is refused without allocating for them.
    let directory = match central_directory_names(&mut reader, limits.max_entries) {
        Ok(directory) => directory,
        Err(DirectoryError::TooMany(declared)) => {
            diagnostics.push(zip_error(
                DiagnosticCode::TooManyEntries,
                format!(
                    "the zip has {declared} entries, more than the limit of {}",
                    limits.max_entries
                ),
            ));
            return None;
        }
        Err(DirectoryError::Unreadable(message)) => {
            diagnostics.push(zip_error(
                DiagnosticCode::NotZip,
                format!("the package is not a readable zip archive: {message}"),
            ));
            return None;
        }
    };
    let mut occurrences: BTreeMap<&str, usize> = BTreeMap::new();
    for name in &directory {
        *occurrences.entry(name.as_str()).or_default() += 1;
    }
    let duplicated: BTreeSet<&str> = occurrences
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(name, _)| *name)
        .collect();
    for name in &duplicated {
        diagnostics.push(entry_error(
            DiagnosticCode::DuplicateEntry,
            name,
            format!(
                "refused: the zip holds this name {} times",
                occurrences[name]
            ),
        ));
    }
    if reader.seek(SeekFrom::Start(0)).is_err() {
        diagnostics.push(zip_error(
            DiagnosticCode::NotZip,
            "the package cannot be read",
        ));
        return None;
    }
    let mut archive = match ZipArchive::new(reader) {
        Ok(archive) => archive,
        Err(error) => {
            diagnostics.push(zip_error(
                DiagnosticCode::NotZip,
                format!("the package is not a readable zip archive: {error}"),
            ));
            return None;
        }
    };

    let mut scan = Scan {
        files: BTreeMap::new(),
        refused: duplicated.iter().map(|n| (*n).to_owned()).collect(),
        manifest: None,
        manifest_too_large: None,
        complete: true,
    };
    let mut folded: BTreeMap<String, String> = BTreeMap::new();
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let entry = match archive.by_index_data(index) {
            Ok(entry) => entry,
            Err(error) => {
                diagnostics.push(zip_error(
                    DiagnosticCode::CorruptEntry,
                    format!(
                        "entry {} of the central directory is corrupt: {error}",
                        index + 1
                    ),
                ));
                continue;
            }
        };
        let name = match entry.name() {
            Ok(name) => name.into_owned(),
            Err(error) => {
                diagnostics.push(zip_error(
                    DiagnosticCode::CorruptEntry,
                    format!("entry {} has an unreadable name: {error}", index + 1),
                ));
                continue;
            }
        };
        if duplicated.contains(name.as_str()) {
            continue;
        }
        // Refused until it proves fine; a refused entry is reported once, not again as missing.
        scan.refused.insert(name.clone());
        if let Some(problem) = unsafe_name(&name) {
            diagnostics.push(entry_error(
                DiagnosticCode::UnsafePath,
                &name,
                format!("refused: the entry name {problem}"),
            ));
            continue;
        }
        if entry.is_symlink() {
            diagnostics.push(entry_error(
                DiagnosticCode::Symlink,
                &name,
                "refused: the entry is a symbolic link",
            ));
            continue;
        }
        if let Some(mode) = entry.unix_mode() {
            let kind = mode & 0o170_000;
            if kind != 0 && kind != 0o100_000 && kind != 0o040_000 {
                diagnostics.push(entry_error(
                    DiagnosticCode::SpecialFile,
                    &name,
                    format!("refused: the entry is a special file (mode {mode:o})"),
                ));
                continue;
            }
        }
        let is_dir = entry.is_dir();
        let key = name.trim_end_matches('/').to_owned();
        if let Some(other) = folded.insert(key.to_lowercase(), key.clone()) {
            diagnostics.push(Diagnostic::warning(
                DiagnosticCode::CaseCollision,
                format!("zip:{name}"),
                format!("differs from \"{other}\" only in letter case; a case-insensitive file system would merge them"),
            ));
        }
        if is_dir {
            scan.refused.remove(&name);
            continue;
        }
        if entry.encrypted() {
            diagnostics.push(entry_error(
                DiagnosticCode::Encrypted,
                &name,
                "refused: the entry is encrypted",
            ));
            continue;
        }
        let method = entry.compression();
        if !matches!(
            method,
            CompressionMethod::Stored | CompressionMethod::Deflated
        ) {
            diagnostics.push(entry_error(
                DiagnosticCode::UnsupportedCompression,
                &name,
                format!("compression method {method} is not supported; use deflate or store"),
            ));
            continue;
        }
        let declared = entry.size();
        let compressed = entry.compressed_size();
        if declared > limits.max_file_bytes {
            diagnostics.push(entry_error(
                DiagnosticCode::EntryTooLarge,
                &name,
                format!(
                    "declares {declared} bytes, more than the limit of {} bytes per file",
                    limits.max_file_bytes
                ),
            ));
            continue;
        }
        if declared > limits.ratio_threshold_bytes
            && declared / compressed.max(1) > limits.max_compression_ratio
        {
            diagnostics.push(entry_error(
                DiagnosticCode::CompressionRatio,
                &name,
                format!(
                    "declares {declared} bytes from {compressed} compressed, a ratio above {}:1 (a zip bomb)",
                    limits.max_compression_ratio
                ),
            ));
            continue;
        }
        let is_manifest = name == MANIFEST_NAME;
        if is_manifest && declared > limits.xml.max_bytes as u64 {
            diagnostics.push(entry_error(
                DiagnosticCode::ManifestTooLarge,
                &name,
                format!(
                    "the manifest declares {declared} bytes, more than the limit of {} bytes",
                    limits.xml.max_bytes
                ),
            ));
            scan.manifest_too_large = Some(declared);
            continue;
        }
        drop(entry);
        let file = match archive.by_index(index) {
            Ok(file) => file,
            Err(error) => {
                diagnostics.push(entry_error(
                    DiagnosticCode::CorruptEntry,
                    &name,
                    format!("cannot be read: {error}"),
                ));
                continue;
            }
        };
        let budget = Budget {
            file: limits.max_file_bytes,
            total: limits.max_total_bytes.saturating_sub(total),
            compressed,
            limits,
        };
        let mut keep = is_manifest.then(Vec::new);
        match measure(file, &budget, keep.as_mut()) {
            Ok(size) => {
                total += size;
                if size != declared {
                    diagnostics.push(entry_error(
                        DiagnosticCode::CorruptEntry,
                        &name,
                        format!("declares {declared} bytes but holds {size}"),
                    ));
                    continue;
                }
                scan.refused.remove(&name);
                scan.files.insert(name.clone(), size);
                if let Some(bytes) = keep {
                    scan.manifest = Some(bytes);
                }
            }
            Err(Overrun::Corrupt(error)) => {
                diagnostics.push(entry_error(
                    DiagnosticCode::CorruptEntry,
                    &name,
                    format!("cannot be decompressed: {error}"),
                ));
            }
            Err(Overrun::File(read)) => {
                diagnostics.push(entry_error(
                    DiagnosticCode::EntryTooLarge,
                    &name,
                    format!("decompresses to more than {read} bytes, the limit per file"),
                ));
            }
            Err(Overrun::Ratio(read)) => {
                diagnostics.push(entry_error(
                    DiagnosticCode::CompressionRatio,
                    &name,
                    format!(
                        "decompresses to more than {read} bytes from {compressed} compressed, a ratio above {}:1 (a zip bomb)",
                        limits.max_compression_ratio
                    ),
                ));
            }
            Err(Overrun::Total) => {
                diagnostics.push(zip_error(
                    DiagnosticCode::TotalTooLarge,
                    format!("the files decompress to more than {} bytes in total; reading stopped at {name}", limits.max_total_bytes),
                ));
                scan.complete = false;
                break;
            }
        }
    }
    Some(scan)
}

enum DirectoryError {
    TooMany(u64),
    Unreadable(String),
}

/// The entry names of the central directory, in order, duplicates kept (APPNOTE.TXT §4.3.12,
/// §4.3.14–4.3.16). `ZipArchive` keys entries by name and would hide a second entry of the
/// same name; this walk sees them all, and refuses an oversized directory before reading it.
fn central_directory_names<R: Read + Seek>(
    reader: &mut R,
    max_entries: usize,
) -> Result<Vec<String>, DirectoryError> {
    let unreadable = |what: &str| DirectoryError::Unreadable(what.to_owned());
    let length = reader
        .seek(SeekFrom::End(0))
        .map_err(|e| DirectoryError::Unreadable(e.to_string()))?;
    // The end record is 22 bytes plus a comment of at most 65535.
    let tail_length = length.min(22 + 65_535);
    let tail_start = length - tail_length;
    let tail = read_at(reader, tail_start, tail_length as usize)
        .ok_or_else(|| unreadable("the end of the file cannot be read"))?;
    let end = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|at| tail[*at..*at + 4] == [0x50, 0x4B, 0x05, 0x06])
        .ok_or_else(|| unreadable("no end of central directory record"))?;
    let record = &tail[end..];
    let mut entries = u64::from(le16(record, 10));
    let mut size = u64::from(le32(record, 12));
    let mut offset = u64::from(le32(record, 16));
    let end_position = tail_start + end as u64;
    if entries == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
        // Zip64: the locator sits just before the end record and points at the zip64 record.
        let locator = end_position
            .checked_sub(20)
            .and_then(|at| read_at(reader, at, 20))
            .ok_or_else(|| unreadable("no zip64 locator"))?;
        if locator[..4] != [0x50, 0x4B, 0x06, 0x07] {
            return Err(unreadable("no zip64 locator"));
        }
        let record64 = read_at(reader, le64(&locator, 8), 56)
            .ok_or_else(|| unreadable("no zip64 end record"))?;
        if record64[..4] != [0x50, 0x4B, 0x06, 0x06] {
            return Err(unreadable("no zip64 end record"));
        }
        entries = le64(&record64, 32);
        size = le64(&record64, 40);
        offset = le64(&record64, 48);
    }
    if entries > max_entries as u64 {
        return Err(DirectoryError::TooMany(entries));
    }
    // Self-extracting archives have data before the zip: then the directory ends where the
    // end record starts.
    let start = if read_at(reader, offset, 4).is_some_and(|sig| sig == [0x50, 0x4B, 0x01, 0x02]) {
        offset
    } else {
        end_position
            .checked_sub(size)
            .ok_or_else(|| unreadable("the central directory is out of the file"))?
    };
    let directory_end = start.saturating_add(size);
    let mut names = Vec::new();
    let mut at = start;
    while (names.len() as u64) < entries {
        let header = read_at(reader, at, 46)
            .ok_or_else(|| unreadable("the central directory is truncated"))?;
        if header[..4] != [0x50, 0x4B, 0x01, 0x02] {
            return Err(unreadable("a central directory header is corrupt"));
        }
        let name_length = u64::from(le16(&header, 28));
        let extra_length = u64::from(le16(&header, 30));
        let comment_length = u64::from(le16(&header, 32));
        let name = read_at(reader, at + 46, name_length as usize)
            .ok_or_else(|| unreadable("the central directory is truncated"))?;
        names.push(String::from_utf8_lossy(&name).into_owned());
        at += 46 + name_length + extra_length + comment_length;
        if at > directory_end {
            return Err(unreadable(
                "the central directory overruns its declared size",
            ));
        }
    }
    Ok(names)
}

fn read_at<R: Read + Seek>(reader: &mut R, at: u64, length: usize) -> Option<Vec<u8>> {
    reader.seek(SeekFrom::Start(at)).ok()?;
    let mut buffer = vec![0u8; length];
    reader.read_exact(&mut buffer).ok()?;
    Some(buffer)
}

fn le16(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn le32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn le64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(std::array::from_fn(|i| bytes[at + i]))
}

/// How far one entry may go while it is read.
struct Budget<'l> {
    file: u64,
    total: u64,
    compressed: u64,
    limits: &'l Limits,
}

enum Overrun {
    File(u64),
    Total,
    Ratio(u64),
    Corrupt(io::Error),
}

/// Decompresses `file` chunk by chunk, stopping as soon as a limit is passed; keeps the
/// bytes only when asked (the manifest).
fn measure<R: Read>(
    mut file: ZipFile<'_, R>,
    budget: &Budget<'_>,
    mut keep: Option<&mut Vec<u8>>,
) -> Result<u64, Overrun> {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size: u64 = 0;
    loop {
        let read = match file.read(&mut buffer) {
            Ok(0) => return Ok(size),
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(Overrun::Corrupt(error)),
        };
        size += read as u64;
        if size > budget.file {
            return Err(Overrun::File(budget.file));
        }
        if size > budget.total {
            return Err(Overrun::Total);
        }
        if size > budget.limits.ratio_threshold_bytes
            && size / budget.compressed.max(1) > budget.limits.max_compression_ratio
        {
            return Err(Overrun::Ratio(size));
        }
        if let Some(bytes) = keep.as_deref_mut() {
            bytes.extend_from_slice(&buffer[..read]);
        }
    }
}

/// Why an entry name is unsafe to use as a path, if it is.
fn unsafe_name(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("is empty");
    }
    if name.len() > 1024 {
        return Some("is longer than 1024 bytes");
    }
    if name.chars().any(char::is_control) {
        return Some("contains control characters");
    }
    if name.contains('\\') {
        return Some("contains '\\', which Windows tools read as a directory separator");
    }
    if name.starts_with('/') {
        return Some("is an absolute path");
    }
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Some("starts with a drive letter");
    }
    let segments: Vec<&str> = name.trim_end_matches('/').split('/').collect();
    if segments.contains(&"..") {
        return Some("climbs out of the package with '..' (zip slip)");
    }
    if segments.iter().any(|s| s.is_empty() || *s == ".") {
        return Some("has an empty or '.' path segment");
    }
    None
}

/// Why there is no manifest, with a hint when the cause is a usual one.
fn missing_manifest(files: &BTreeMap<String, u64>) -> Diagnostic {
    let nested = files
        .keys()
        .find(|p| p.ends_with(&format!("/{MANIFEST_NAME}")));
    let wrong_case = files.keys().find(|p| p.eq_ignore_ascii_case(MANIFEST_NAME));
    let message = if let Some(path) = wrong_case {
        format!(
            "no {MANIFEST_NAME} at the root; \"{path}\" differs only in letter case and names are case-sensitive"
        )
    } else if let Some(path) = nested {
        let folder = path.trim_end_matches(MANIFEST_NAME);
        format!(
            "no {MANIFEST_NAME} at the root; one is in \"{folder}\": zip the contents of that folder, not the folder"
        )
    } else if files.contains_key("cmi5.xml") {
        format!(
            "no {MANIFEST_NAME} at the root; cmi5.xml is there: this is a cmi5 course, not a SCORM package"
        )
    } else {
        format!("no {MANIFEST_NAME} at the root of the package")
    };
    zip_error(DiagnosticCode::ManifestMissing, message)
}

/// Every file a resource names (`href`, `<file>`; dependencies are resources checked in
/// their own right) must be in the zip, letter case included.
fn check_references(
    manifest: &Manifest,
    files: &BTreeMap<String, u64>,
    refused: &BTreeSet<String>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let folded: BTreeMap<String, &String> = files.keys().map(|p| (p.to_lowercase(), p)).collect();
    for (path, referrers) in manifest.referenced_paths() {
        if files.contains_key(&path) || refused.contains(&path) {
            continue;
        }
        let hint = if path.is_empty() || path.ends_with('/') {
            " (it names a directory, not a file)".to_owned()
        } else if let Some(actual) = folded.get(&path.to_lowercase()) {
            format!(" (the zip has \"{actual}\": names are case-sensitive)")
        } else {
            String::new()
        };
        for referrer in referrers {
            diagnostics.push(Diagnostic::error(
                DiagnosticCode::MissingFile,
                format!("{MANIFEST_NAME}:/manifest/resources/{referrer}"),
                format!("\"{path}\" is not in the package{hint}"),
            ));
        }
    }
}

/// A validated package's zip, handing out its files one at a time.
pub struct PackageArchive<R: Read + Seek> {
    archive: ZipArchive<R>,
    sizes: BTreeMap<String, u64>,
}

/// Why a file could not be extracted.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ExtractError {
    pub kind: ExtractErrorKind,
    pub path: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtractErrorKind {
    /// The path is not a file of the validated package.
    NotFound,
    /// The zip changed since validation, or its data is corrupt.
    Corrupt,
    Io,
}

impl ExtractError {
    pub fn kind(&self) -> ExtractErrorKind {
        self.kind
    }
}

impl<R: Read + Seek> PackageArchive<R> {
    /// Opens the zip a [`Package`] was validated from. Only the package's files can be read,
    /// each at most the size it had when validated.
    pub fn open(reader: R, package: &Package) -> Result<Self, ExtractError> {
        let archive = ZipArchive::new(reader).map_err(|error| ExtractError {
            kind: ExtractErrorKind::Corrupt,
            path: String::new(),
            message: format!("the zip cannot be opened: {error}"),
        })?;
        let sizes = package
            .files
            .iter()
            .map(|f| (f.path.clone(), f.size))
            .collect();
        Ok(Self { archive, sizes })
    }

    /// The package's files and sizes, sorted by path.
    pub fn files(&self) -> impl Iterator<Item = (&str, u64)> {
        self.sizes.iter().map(|(path, size)| (path.as_str(), *size))
    }

    /// A reader over one file's contents; it fails rather than yield more than the validated
    /// size.
    pub fn reader(&mut self, path: &str) -> Result<BoundedReader<'_, R>, ExtractError> {
        let Some(&size) = self.sizes.get(path) else {
            return Err(ExtractError {
                kind: ExtractErrorKind::NotFound,
                path: path.to_owned(),
                message: "not a file of the package".into(),
            });
        };
        let file = self.archive.by_name(path).map_err(|error| ExtractError {
            kind: ExtractErrorKind::Corrupt,
            path: path.to_owned(),
            message: error.to_string(),
        })?;
        Ok(BoundedReader {
            file,
            remaining: size,
        })
    }

    /// One file's contents.
    pub fn read(&mut self, path: &str) -> Result<Vec<u8>, ExtractError> {
        let mut reader = self.reader(path)?;
        let mut bytes = Vec::with_capacity(
            usize::try_from(reader.remaining)
                .unwrap_or(0)
                .min(16 * 1024 * 1024),
        );
        reader
            .read_to_end(&mut bytes)
            .map_err(|error| ExtractError {
                kind: if error.kind() == io::ErrorKind::InvalidData {
                    ExtractErrorKind::Corrupt
                } else {
                    ExtractErrorKind::Io
                },
                path: path.to_owned(),
                message: error.to_string(),
            })?;
        Ok(bytes)
    }
}

/// Reads one entry, refusing to produce more bytes than validation counted.
pub struct BoundedReader<'a, R: Read> {
    file: ZipFile<'a, R>,
    remaining: u64,
}

impl<R: Read> Read for BoundedReader<'_, R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.file.read(buffer)?;
        let read_u64 = read as u64;
        if read_u64 > self.remaining {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the entry is larger than when it was validated",
            ));
        }
        self.remaining -= read_u64;
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names() {
        for (name, safe) in [
            ("a/b.html", true),
            ("dir/", true),
            ("../evil", false),
            ("a/../../evil", false),
            ("/etc/passwd", false),
            ("C:/x", false),
            ("a\\..\\b", false),
            ("a//b", false),
            ("./a", false),
            ("a\u{0}b", false),
            ("", false),
        ] {
            assert_eq!(unsafe_name(name).is_none(), safe, "{name:?}");
        }
    }
}
