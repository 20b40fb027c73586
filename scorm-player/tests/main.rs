//! Integration tests of the SCORM core: one binary, one module per area.

mod helpers;
mod js_cases;
mod manifests;
mod packages;
mod properties;
mod runtime12;
mod runtime2004;
mod sequencing;
mod xapi_profile;
