//! Integration tests of the xapi crate: the CTS statement cases, rule tables per area, output
//! formats, equivalence, index terms, and property tests.

#![allow(clippy::unwrap_used)]

mod compare;
mod cts;
mod datatypes;
mod helpers;
mod output;
mod props;
mod rules;
mod terms;
