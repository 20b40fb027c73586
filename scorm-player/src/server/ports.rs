//! What the SCORM server needs from the rest of the system, as small object-safe traits the
//! binary implements: records and blobs to keep packages, registrations and sessions in, a
//! sink for the xAPI statements and documents a session produces, and the authority that
//! checks an API credential. **Nothing here names the LRS.**

use async_trait::async_trait;
use serde_json::Value;
pub use service_ports::{
    AuthFailure, Authority, Blobs, Caller, Expect, PortError, Record, Records, Tenant,
};

use crate::xapi_profile::ProfileDocument;

/// Where the statements and documents of SCORM sessions go: the LRS, in the binary.
#[async_trait]
pub trait StatementSink: Send + Sync {
    /// Stores statements (each with its id) in the tenant's LRS. Storing one again with the
    /// same content is not an error.
    async fn record(&self, tenant: Tenant, statements: Vec<Value>) -> Result<(), PortError>;

    /// Writes a State, Activity Profile or Agent Profile document.
    async fn put_document(
        &self,
        tenant: Tenant,
        document: ProfileDocument,
    ) -> Result<(), PortError>;
}
