//! Proficio: the LRS, the SCORM runtime and the capability engine composed into one server.
//!
//! [`build`] opens the store and wires the parts; [`run`] serves them until shutdown.

pub mod cli;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use lrs::clock::SystemClock;
use lrs::config::LrsConfig;
use lrs::storage::Stores;
use lrs::storage::embedded::{EmbeddedOptions, EmbeddedStore};
use secrecy::{ExposeSecret as _, SecretString};
use tokio::net::TcpListener;

/// Settings of a server, parsed once.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub store: EmbeddedOptions,
    pub lrs: LrsConfig,
    /// Credentials of the bootstrap admin on tenant `default`, when given.
    pub admin: Option<(String, SecretString)>,
}

/// A built server: stores open, parts wired, not yet listening.
pub struct App {
    router: axum::Router,
}

/// Opens the embedded store in `data_dir` and returns its three ports.
pub fn open_store(data_dir: &std::path::Path, options: EmbeddedOptions) -> anyhow::Result<Stores> {
    let store = EmbeddedStore::open(data_dir, options, Arc::new(SystemClock)).map_err(|e| {
        anyhow::anyhow!(
            "cannot open the data directory {}: {}",
            data_dir.display(),
            e.message
        )
    })?;
    Ok(Stores::from_backend(Arc::new(store)))
}

/// Opens the store, makes sure the bootstrap admin exists, and wires the HTTP API.
pub async fn build(config: &ServerConfig) -> anyhow::Result<App> {
    let stores = open_store(&config.data_dir, config.store)?;
    lrs::registry::ensure_tenant(stores.tenants.as_ref(), lrs::registry::DEFAULT_TENANT).await?;
    if let Some((key, secret)) = &config.admin {
        lrs::registry::bootstrap_admin(stores.tenants.as_ref(), key, secret.expose_secret())
            .await?;
        tracing::info!(key = %key, "bootstrap admin credential ready");
    }
    let lrs = lrs::Lrs::new(stores, config.lrs.clone(), Arc::new(SystemClock));
    Ok(App {
        router: lrs.router(),
    })
}

/// Serves the app on `listener` until `shutdown` completes, then drains open requests.
pub async fn run(
    app: App,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    axum::serve(listener, app.router)
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
