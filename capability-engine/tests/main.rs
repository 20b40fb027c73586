//! The capability engine's integration tests: one binary, one module per concern.

mod aggregation;
mod helpers;
mod matcher;
mod model;
mod organisation;
mod properties;
