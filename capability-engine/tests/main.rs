//! The capability engine's integration tests: one binary, one module per concern.

mod aggregation;
mod helpers;
mod managers;
mod matcher;
mod model;
mod organisation;
mod properties;
