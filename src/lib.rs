//! Proficio: the LRS, the SCORM runtime and the capability engine composed into one server.
//!
//! [`build`] opens the store and wires the parts; [`run`] serves them until shutdown.

mod backup;
mod capabilities;
pub mod cli;
mod ports;
mod scorm;

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use lrs::clock::SystemClock;
use lrs::config::LrsConfig;
use lrs::storage::Stores;
use lrs::storage::embedded::{EmbeddedOptions, EmbeddedStore};
use lrs::storage::scylla::{ScyllaConfig, ScyllaStore, StoreUriError};
use secrecy::{ExposeSecret as _, SecretString};
use tokio::net::TcpListener;

/// Settings of a server, parsed once.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub store: StoreConfig,
    pub lrs: LrsConfig,
    /// Credentials of the bootstrap admin on tenant `default`, when given.
    pub admin: Option<(String, SecretString)>,
    pub scorm: ScormSettings,
}

/// Settings of the SCORM runtime a deployment chooses.
#[derive(Debug, Clone)]
pub struct ScormSettings {
    /// Largest package (zip) accepted, in bytes.
    pub max_package_bytes: u64,
    /// How long a launch link stays valid.
    pub link_lifetime: std::time::Duration,
}

impl Default for ScormSettings {
    fn default() -> Self {
        let defaults = scorm_player::server::ScormConfig::default();
        ScormSettings {
            max_package_bytes: defaults.limits.max_package_bytes,
            link_lifetime: defaults.link_lifetime,
        }
    }
}

/// Which backend serves the storage ports, and its settings.
#[derive(Debug, Clone)]
pub enum StoreConfig {
    /// One data directory on the local disk (docs/storage.md).
    Embedded {
        data_dir: PathBuf,
        options: EmbeddedOptions,
    },
    /// A ScyllaDB or Apache Cassandra cluster (docs/scylla.md).
    Scylla(Box<ScyllaConfig>),
}

/// The `--store` value: `embedded`, or `scylla://HOST:PORT[,HOST:PORT…]/KEYSPACE[?…]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUri {
    Embedded,
    Scylla(Box<ScyllaConfig>),
}

impl FromStr for StoreUri {
    type Err = StoreUriError;

    fn from_str(text: &str) -> Result<StoreUri, StoreUriError> {
        if text == "embedded" {
            Ok(StoreUri::Embedded)
        } else if text.starts_with("scylla://") {
            ScyllaConfig::from_uri(text).map(|c| StoreUri::Scylla(Box::new(c)))
        } else {
            Err(StoreUriError::UnknownScheme(text.to_owned()))
        }
    }
}

impl fmt::Display for StoreConfig {
    /// For logs: never the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreConfig::Embedded { data_dir, .. } => {
                write!(f, "embedded store in {}", data_dir.display())
            }
            StoreConfig::Scylla(config) => {
                write!(f, "scylla://{}/{}", config.nodes.join(","), config.keyspace)
            }
        }
    }
}

/// A built server: stores open, parts wired, not yet listening.
pub struct App {
    router: axum::Router,
}

/// Opens the configured store and returns its three ports. An unknown or unreachable store is
/// an error that says which, never a panic.
pub async fn open_store(config: &StoreConfig) -> anyhow::Result<Stores> {
    match config {
        StoreConfig::Embedded { data_dir, options } => {
            let store =
                EmbeddedStore::open(data_dir, *options, Arc::new(SystemClock)).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot open the data directory {}: {}",
                        data_dir.display(),
                        e.message
                    )
                })?;
            let store = Arc::new(store);
            Ok(Stores::from_backend(store.clone()).with_backup(store))
        }
        StoreConfig::Scylla(scylla) => {
            let store = ScyllaStore::open(scylla, Arc::new(SystemClock))
                .await
                .map_err(|e| anyhow::anyhow!("cannot open the store {config}: {}", e.message))?;
            Ok(Stores::from_backend(Arc::new(store)))
        }
    }
}

/// Opens the store, makes sure the bootstrap admin exists, and wires the HTTP API.
pub async fn build(config: &ServerConfig) -> anyhow::Result<App> {
    let stores = open_store(&config.store).await?;
    lrs::registry::ensure_tenant(stores.tenants.as_ref(), lrs::registry::DEFAULT_TENANT).await?;
    if let Some((key, secret)) = &config.admin {
        lrs::registry::bootstrap_admin(stores.tenants.as_ref(), key, secret.expose_secret())
            .await?;
        tracing::info!(key = %key, "bootstrap admin credential ready");
    }
    let home_page = config.lrs.authority_home_page.clone();
    let lrs = lrs::Lrs::new(stores.clone(), config.lrs.clone(), Arc::new(SystemClock))
        .with_check(Arc::new(capabilities::ProfileCheck));
    let scorm = scorm::service(
        &stores,
        lrs.authenticator().clone(),
        &home_page,
        scorm_player::server::ScormConfig {
            iri_base: home_page.clone(),
            limits: scorm_player::Limits {
                max_package_bytes: config.scorm.max_package_bytes,
                ..scorm_player::Limits::default()
            },
            link_lifetime: config.scorm.link_lifetime,
            ..Default::default()
        },
    );
    let capabilities = capabilities::service(&stores, lrs.authenticator().clone(), &home_page);
    capabilities.spawn_follower(std::time::Duration::from_millis(500));
    Ok(App {
        router: lrs.router_with(
            scorm_player::server::router(scorm).merge(capability_service::router(capabilities)),
        ),
    })
}

/// Serves the app on `listener` until `shutdown` completes, then drains open requests.
pub async fn run(
    app: App,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // The peer address feeds the throttling of failed authentication.
    let service = app
        .router
        .into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// Completes on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
