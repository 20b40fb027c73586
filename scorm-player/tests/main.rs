//! Integration tests of the SCORM core: one binary, one module per area.

mod helpers;
mod manifests;
mod packages;
mod properties;
mod runtime12;
mod runtime2004;
