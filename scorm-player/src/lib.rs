//! The SCORM runtime's pure core: manifest parsing, package validation and the run-time data
//! model of SCORM 1.2 and SCORM 2004 (2nd, 3rd and 4th Editions).
//!
//! Nothing here does I/O beyond reading the bytes it is handed, and nothing depends on the
//! server: **`scorm-player` depends on neither `lrs`, axum, tokio nor scylla.**
//!
//! - [`parse_manifest`] is a pure function from `imsmanifest.xml` bytes to a [`Manifest`] and
//!   the [`Diagnostic`]s found on the way (CAM).
//! - [`validate_package`] checks a zip before anything is stored: the manifest at the root,
//!   every referenced file present, no unsafe paths, symlinks, encrypted entries or zip bombs;
//!   it returns every problem, not only the first. [`PackageArchive`] then hands the files out
//!   one by one for a content store.
//! - [`RuntimeState`] is the run-time data model (RTE) as a state machine: `Initialize`,
//!   `GetValue`, `SetValue`, `Commit`, `Terminate` with the exact error codes of each version,
//!   and a [`CommitPayload`] the server replays to validate what a browser sends.

mod diagnostic;
mod href;
pub mod manifest;
mod package;
pub mod runtime;
pub mod sequencing;
pub mod server;
mod version;
pub mod xapi_profile;

pub use diagnostic::{Diagnostic, DiagnosticCode, Severity, has_errors};
pub use manifest::{Manifest, XmlLimits, parse_manifest};
pub use package::{
    BoundedReader, ExtractError, ExtractErrorKind, Limits, MANIFEST_NAME, Package, PackageArchive,
    PackageFile, validate_package, validate_package_bytes,
};
pub use runtime::{
    CommitPayload, ErrorCode, LaunchData, RuntimeError, RuntimeOptions, RuntimeState, Start,
};
pub use sequencing::{ActivityTree, NavOutcome, NavRequest, SequencingException, SequencingState};
pub use version::{DataModel, ScormVersion};
pub use xapi_profile::{ActivityRef, DocumentKind, ProfileContext, ProfileDocument, ProfileError};
