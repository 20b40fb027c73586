//! The requirement cases, one module per area of the spec, listed in [`all`]: the Statement
//! Resource (put … limits), the Document Resources and their concurrency, the Agents and
//! Activities Resources, attachments, signed statements, the alternate request syntax, error
//! codes, and tenant isolation and scopes (which need the optional credentials).

mod about;
mod activities;
mod agents;
mod alternate;
mod attachments;
mod authentication;
mod concurrency;
mod documents;
mod errors;
mod get_single;
mod headers;
mod isolation;
mod limits;
mod paging;
mod post;
mod put;
mod query_filters;
mod signed;
mod validation;
mod versioning;
mod voiding;

use crate::harness::Case;

/// Every case, in the order they are reported, tagged with its area (module name).
pub fn all() -> Vec<Case> {
    let areas: [(&'static str, Vec<Case>); 21] = [
        ("about", about::cases()),
        ("versioning", versioning::cases()),
        ("authentication", authentication::cases()),
        ("headers", headers::cases()),
        ("put", put::cases()),
        ("post", post::cases()),
        ("get-single", get_single::cases()),
        ("query-filters", query_filters::cases()),
        ("paging", paging::cases()),
        ("voiding", voiding::cases()),
        ("validation", validation::cases()),
        ("limits", limits::cases()),
        ("documents", documents::cases()),
        ("concurrency", concurrency::cases()),
        ("agents", agents::cases()),
        ("activities", activities::cases()),
        ("attachments", attachments::cases()),
        ("signed-statements", signed::cases()),
        ("alternate-syntax", alternate::cases()),
        ("error-codes", errors::cases()),
        ("isolation", isolation::cases()),
    ];
    areas
        .into_iter()
        .flat_map(|(area, cases)| {
            cases.into_iter().map(move |mut case| {
                case.area = area;
                case
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::all;

    /// Names identify cases in reports and `--filter`, so they must be unique, and each
    /// must cite where in the spec its requirement lives.
    #[test]
    fn names_are_unique_and_cite_the_spec() {
        let cases = all();
        let mut seen = HashSet::new();
        for case in &cases {
            assert!(
                seen.insert(case.name.as_str()),
                "duplicate case name: {}",
                case.name
            );
            let cites = ["Communication ", "Data ", "RFC ", "xAPI 2.0 "]
                .iter()
                .any(|prefix| case.name.starts_with(prefix));
            assert!(
                cites,
                "case name does not start with a spec reference: {}",
                case.name
            );
        }
    }
}
