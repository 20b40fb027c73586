//! The xAPI Learning Record Store: the HTTP API, authentication, and storage behind traits.
//!
//! The binary builds an [`Lrs`] from a store and a config and serves [`Lrs::router`].

pub mod admission;
pub mod auth;
pub mod clock;
pub mod config;
pub mod error;
pub mod http;
pub mod multipart;
pub mod producer;
pub mod registry;
pub mod statements;
pub mod storage;

use std::sync::Arc;

use auth::Authenticator;
use clock::Clock;
use config::LrsConfig;
use storage::Stores;

/// A ready LRS: stores, authentication and limits, wired together.
#[derive(Clone)]
pub struct Lrs {
    state: http::AppState,
}

impl Lrs {
    pub fn new(stores: Stores, config: LrsConfig, clock: Arc<dyn Clock>) -> Lrs {
        let auth = Arc::new(Authenticator::new(
            stores.tenants.clone(),
            config.authority_home_page.clone(),
        ));
        Lrs {
            state: http::AppState {
                stores,
                auth,
                config: Arc::new(config),
                clock,
                check: None,
            },
        }
    }

    /// The same LRS, passing every statement written through the Statement Resource through
    /// `check` after xAPI validation and before storing anything of the request. Meant for
    /// construction, before the router is built.
    pub fn with_check(mut self, check: Arc<dyn admission::StatementCheck>) -> Lrs {
        self.state.check = Some(check);
        self
    }

    pub fn stores(&self) -> &Stores {
        &self.state.stores
    }

    /// The HTTP API.
    pub fn router(&self) -> axum::Router {
        http::router(self.state.clone(), axum::Router::new())
    }

    /// The HTTP API with other parts' routes merged in, under the same request log.
    pub fn router_with(&self, extra: axum::Router) -> axum::Router {
        http::router(self.state.clone(), extra)
    }

    /// Checks credentials, for other parts of the server that take them.
    pub fn authenticator(&self) -> &Arc<Authenticator> {
        &self.state.auth
    }
}
