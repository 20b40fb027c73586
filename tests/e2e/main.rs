//! End-to-end tests of the `proficio` binary: each starts the real server on an ephemeral port
//! with a fresh data directory and talks HTTP to it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod admin_api;
mod bench;
mod capabilities;
mod capability_import;
mod cli;
mod crash;
mod documents;
mod scorm;
mod server;
mod statements_api;
