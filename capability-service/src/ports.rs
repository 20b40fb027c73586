//! What the capability service needs from the rest of the system, as small object-safe traits
//! the binary implements: versioned records to keep the model and the ledger in, the stream
//! of stored statements, and the authority that checks an API credential. **Nothing here
//! names the LRS.**

use async_trait::async_trait;
use serde_json::Value;
pub use service_ports::{
    AuthFailure, Authority, Caller, Expect, PortError, Record, Records, Tenant,
};

/// One read of the statement stream.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Batch {
    /// Stored statements (xAPI Data §2.4.8 `stored` set) in `stored` order. The target of a
    /// voiding statement in the batch comes before it even when it was stored earlier, so
    /// that its evidence can be recorded as retracted.
    pub statements: Vec<Value>,
    /// The position after this batch, to pass to the next call; `None` only while nothing
    /// has been read and nothing is visible yet.
    pub cursor: Option<String>,
    /// Whether statements may follow right away (the batch was cut at `limit`). When false
    /// the reader is caught up with every statement the store can guarantee is visible.
    pub more: bool,
}

/// The tenant's stored statements in `stored` order, read by a follower.
#[async_trait]
pub trait StatementSource: Send + Sync {
    /// Statements stored strictly after `cursor` (from the start when `None`), at most
    /// `limit` of them from the stream, and only up to the point through which the store is
    /// consistent, so that no statement stored later can land behind the returned cursor.
    async fn after(
        &self,
        tenant: Tenant,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<Batch, PortError>;

    /// Every tenant, for the follower to visit.
    async fn tenants(&self) -> Result<Vec<Tenant>, PortError>;
}
