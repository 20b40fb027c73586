//! Diagnostics: what the manifest parser and the package validator found, where, and how bad.

use serde::Serialize;

/// One problem found in a package or a manifest.
///
/// `location` is path-like: `imsmanifest.xml:/manifest/resources/resource[RES1]/file[2]` for
/// manifest content, `zip:Etiquette/Course.html` for zip entries, `zip` for the archive itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: DiagnosticCode,
    pub location: String,
    /// 1-based line in `imsmanifest.xml`, when the problem is there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub message: String,
}

/// Errors make a package unusable; warnings are kept with an accepted package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// The rule a diagnostic is about; stable names for callers and API clients to match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiagnosticCode {
    // XML
    XmlSyntax,
    XmlEncoding,
    XmlDoctype,
    XmlLimit,
    XmlNamespace,
    // manifest structure and values (CAM)
    ManifestRoot,
    MissingElement,
    MissingAttribute,
    InvalidValue,
    UnknownSchemaVersion,
    SchemaVersionMismatch,
    NoOrganization,
    UnknownDefaultOrganization,
    DuplicateIdentifier,
    UnknownReference,
    UnknownSequencingReference,
    ItemStructure,
    InvalidHref,
    XmlBase,
    AttributeCase,
    // package (zip)
    NotZip,
    PackageTooLarge,
    TooManyEntries,
    EntryTooLarge,
    TotalTooLarge,
    CompressionRatio,
    UnsafePath,
    Symlink,
    SpecialFile,
    DuplicateEntry,
    CaseCollision,
    Encrypted,
    UnsupportedCompression,
    CorruptEntry,
    ManifestMissing,
    ManifestTooLarge,
    MissingFile,
}

impl Diagnostic {
    pub(crate) fn error(
        code: DiagnosticCode,
        location: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Error,
            code,
            location: location.into(),
            line: None,
            message: message.into(),
        }
    }

    pub(crate) fn warning(
        code: DiagnosticCode,
        location: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Warning,
            code,
            location: location.into(),
            line: None,
            message: message.into(),
        }
    }

    pub(crate) fn at_line(mut self, line: u32) -> Self {
        self.line = (line > 0).then_some(line);
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Whether any diagnostic is an error.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(Diagnostic::is_error)
}
