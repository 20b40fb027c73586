//! End-to-end tests of the `proficio` binary: each starts the real server on an ephemeral port
//! with a fresh data directory and talks HTTP to it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod admin_api;
mod backup;
mod bench;
mod capabilities;
mod capability_fixture;
mod capability_import;
mod capability_templates;
mod cli;
mod cluster_faults;
mod crash;
mod disk_faults;
mod documents;
mod faults;
mod isolation;
mod limits;
mod scorm;
mod security;
mod server;
mod statements_api;
