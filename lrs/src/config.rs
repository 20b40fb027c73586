//! Settings of the LRS that are not about where it listens or stores: limits and identity.

/// Limits and identity of the LRS, parsed once by the binary and passed in.
#[derive(Debug, Clone)]
pub struct LrsConfig {
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The most statements one request may carry.
    pub max_batch: usize,
    /// The largest `limit` of a statement query; also what no `limit` or `limit=0` means.
    pub max_query_limit: usize,
    /// The home page of the accounts the LRS writes as statement `authority`.
    pub authority_home_page: String,
    /// How failed authentication is throttled (every route of the server).
    pub auth_throttle: crate::http::throttle::ThrottleConfig,
}

impl Default for LrsConfig {
    fn default() -> Self {
        LrsConfig {
            max_body_bytes: 10 * 1024 * 1024,
            max_batch: 5_000,
            max_query_limit: 1_000,
            authority_home_page: "http://localhost".to_owned(),
            auth_throttle: crate::http::throttle::ThrottleConfig::default(),
        }
    }
}
