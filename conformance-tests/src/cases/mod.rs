//! The requirement cases, one module per area of the spec. A new resource (documents,
//! state, agents, activities, attachments) becomes a new module listed in [`all`].

mod about;
mod authentication;
mod get_single;
mod headers;
mod limits;
mod paging;
mod post;
mod put;
mod query_filters;
mod validation;
mod versioning;
mod voiding;

use crate::harness::Case;

/// Every case, in the order they are reported.
pub fn all() -> Vec<Case> {
    [
        about::cases(),
        versioning::cases(),
        authentication::cases(),
        headers::cases(),
        put::cases(),
        post::cases(),
        get_single::cases(),
        query_filters::cases(),
        paging::cases(),
        voiding::cases(),
        validation::cases(),
        limits::cases(),
    ]
    .into_iter()
    .flatten()
    .collect()
}
