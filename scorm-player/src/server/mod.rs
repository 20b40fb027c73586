//! The SCORM runtime as a service: package import and content, registrations and launch
//! links, the player's API (navigation and commits), and the HTTP routes for all of it.
//!
//! This is the one part of `scorm-player` that does I/O, and it does it only through the
//! [`ports`] the binary provides; the decisions are made by the pure modules beside it
//! (manifest and package validation, the run-time data model, sequencing, the xAPI mapping).

mod content;
mod error;
mod http;
mod packages;
mod player;
pub mod ports;
mod registrations;
mod store;
pub mod tokens;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;

pub use error::{ScormError, ScormErrorKind};
pub use http::router;
pub use packages::{ImportProgress, PackageSummary};
pub use ports::{
    AuthFailure, Authority, Blobs, Caller, Expect, PortError, Record, Records, StatementSink,
    Tenant,
};
pub use registrations::{NewRegistration, RegistrationView};

use crate::package::Limits;
use crate::runtime::RuntimeOptions;

/// Settings of the SCORM service.
#[derive(Debug, Clone)]
pub struct ScormConfig {
    /// Limits on uploaded packages (size, entries, ratios, XML).
    pub limits: Limits,
    /// How long a launch link stays valid.
    pub link_lifetime: Duration,
    /// Base of the IRIs of courses and SCOs in xAPI statements, e.g. `https://lms.example.org`.
    pub iri_base: String,
    /// Sizes and strictness of the run-time data model, on the server and in the browser.
    pub runtime: RuntimeOptions,
    /// How often the browser commits changed data on its own.
    pub commit_interval: Duration,
    /// Where temporary upload files go (the system's temp dir when `None`).
    pub spool_dir: Option<std::path::PathBuf>,
}

impl Default for ScormConfig {
    fn default() -> Self {
        ScormConfig {
            limits: Limits::default(),
            link_lifetime: Duration::from_secs(24 * 3600),
            iri_base: "http://localhost".to_owned(),
            runtime: RuntimeOptions::default(),
            commit_interval: Duration::from_secs(30),
            spool_dir: None,
        }
    }
}

/// The source of "now", injectable for tests.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The SCORM service: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct ScormServer {
    inner: Arc<Inner>,
}

struct Inner {
    records: Arc<dyn Records>,
    blobs: Arc<dyn Blobs>,
    sink: Arc<dyn StatementSink>,
    authority: Arc<dyn Authority>,
    config: ScormConfig,
    clock: Clock,
    /// Parsed packages by (tenant, id); a package never changes once imported.
    packages: Mutex<HashMap<(Tenant, uuid::Uuid), Arc<packages::LoadedPackage>>>,
    /// Each tenant's launch-link key.
    launch_keys: Mutex<HashMap<Tenant, Arc<Vec<u8>>>>,
    /// Imports running; see [`IMPORTS_AT_ONCE`].
    imports: tokio::sync::Semaphore,
}

/// How many package imports run at once; the others wait their turn. An import reads the zip
/// in the runtime's blocking pool and, from there, waits on the blob store, whose writes may
/// need the pool too: were as many imports running as the pool has threads, each would wait
/// for a thread none of them gives back. The server's pool has 8 threads (`src/cli.rs`).
pub const IMPORTS_AT_ONCE: usize = 2;

/// The ports a [`ScormServer`] runs on.
pub struct Ports {
    pub records: Arc<dyn Records>,
    pub blobs: Arc<dyn Blobs>,
    pub sink: Arc<dyn StatementSink>,
    pub authority: Arc<dyn Authority>,
}

impl ScormServer {
    pub fn new(ports: Ports, config: ScormConfig, clock: Clock) -> ScormServer {
        ScormServer {
            inner: Arc::new(Inner {
                records: ports.records,
                blobs: ports.blobs,
                sink: ports.sink,
                authority: ports.authority,
                config,
                clock,
                packages: Mutex::new(HashMap::new()),
                launch_keys: Mutex::new(HashMap::new()),
                imports: tokio::sync::Semaphore::new(IMPORTS_AT_ONCE),
            }),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        (self.inner.clock)()
    }

    pub fn config(&self) -> &ScormConfig {
        &self.inner.config
    }
}
