//! The ADL "Experience API SCORM Profile": what a SCORM session says in xAPI. Statements for
//! the temporal model (initialized, resumed, suspended, terminated) and for the data model
//! (responded, progressed, scored, completed, passed, failed), and the State and Profile
//! documents that keep what is not a learning experience (attempts, location, suspend data,
//! launch data, preferences).
//!
//! Everything here is a pure function of what the server hands it: no clock, no randomness.
//! Statement ids are name-based UUIDs over the session, the commit's sequence number, the
//! verb and what the statement is about, so re-sending a commit yields the same statements and
//! the LRS sees duplicates, not new experiences. With a context that passes
//! [`ProfileContext::validate`], every statement is valid xAPI 1.0.3 and 2.0.0.
//!
//! Profile sections cited: §3.2 (IRIs, verbs, activity types, context), §5 (temporal model),
//! §6 (data model mapping) and the Appendix (state and profile documents).

mod documents;
mod records;
mod responses;
mod statements;
mod vocabulary;

use serde_json::Value;
use uuid::Uuid;

use crate::version::ScormVersion;

pub use documents::documents;
pub use statements::{commit_statements, session_abandoned, session_started};
pub use vocabulary::{
    ACTIVITY_PROFILE_ID, ACTIVITY_STATE_ID, AGENT_PROFILE_ID, ATTEMPT_STATE_ID, ActivityType,
    PROFILE_ACTIVITY_TYPE, SCORM_PROFILE, SUSPEND_DATA_STATE_ID, Verb,
};

/// Who, what and when, provided by the server for one SCO session.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileContext {
    /// The learner, an xAPI Agent.
    pub actor: Value,
    pub registration: Uuid,
    /// The course activity: IRI and title.
    pub course: ActivityRef,
    /// The SCO: IRI (the course IRI, `/`, the percent-encoded item identifier) and title.
    pub sco: ActivityRef,
    /// The attempt; its activity IRI is [`attempt_iri`] of the SCO IRI and this id.
    pub attempt: Uuid,
    pub session: Uuid,
    pub version: ScormVersion,
    /// RFC 3339, from the server's clock. For a commit, the time the server first accepted
    /// it: a re-sent commit must get the same timestamp to yield the same statements.
    pub timestamp: String,
}

/// An activity the server names: its IRI and its title (from the manifest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityRef {
    pub iri: String,
    pub title: String,
}

/// A document the profile keeps beside the statements (Appendix, "xAPI SCORM Data Objects").
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileDocument {
    pub kind: DocumentKind,
    /// The `activityId` parameter (State and Activity Profile).
    pub activity_id: Option<String>,
    /// The `agent` parameter (State and Agent Profile).
    pub agent: Option<Value>,
    /// The `registration` parameter (State only, optional).
    pub registration: Option<Uuid>,
    /// The `stateId` or `profileId`.
    pub id: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// Which xAPI document resource a [`ProfileDocument`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    State,
    ActivityProfile,
    AgentProfile,
}

/// A [`ProfileContext`] that would make statements or documents invalid: the field and the
/// rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message} ({rule})")]
pub struct ProfileError {
    pub field: &'static str,
    pub rule: &'static str,
    pub message: String,
    kind: ProfileErrorKind,
}

/// What is wrong with a [`ProfileContext`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileErrorKind {
    /// `actor` is not an Agent or identified Group (Data §2.4.2).
    Actor,
    /// `course.iri` or `sco.iri` is not an absolute IRI (Data §2.4.4.1).
    Iri,
    /// `timestamp` is not an xAPI timestamp (Data §2.4.7, §4.5).
    Timestamp,
}

impl ProfileError {
    pub fn kind(&self) -> ProfileErrorKind {
        self.kind
    }
}

impl ProfileContext {
    /// Checks what the statements and documents take from the context unchanged: the actor,
    /// the IRIs and the timestamp. Everything else they contain is built here and valid by
    /// construction.
    pub fn validate(&self) -> Result<(), ProfileError> {
        let actor = xapi::parse_agent_param(&self.actor.to_string(), xapi::Version::V2_0_0);
        if let Err(error) = actor {
            return Err(ProfileError {
                field: "actor",
                rule: error.rule,
                message: error.message,
                kind: ProfileErrorKind::Actor,
            });
        }
        for (field, iri) in [("course.iri", &self.course.iri), ("sco.iri", &self.sco.iri)] {
            if !xapi::is_iri(iri) {
                return Err(ProfileError {
                    field,
                    rule: "invalid-iri",
                    message: format!("{iri:?} is not an absolute iri"),
                    kind: ProfileErrorKind::Iri,
                });
            }
        }
        if let Err(error) = xapi::parse_timestamp(&self.timestamp) {
            return Err(ProfileError {
                field: "timestamp",
                rule: error.rule,
                message: error.message,
                kind: ProfileErrorKind::Timestamp,
            });
        }
        Ok(())
    }

    /// The attempt activity's IRI.
    pub fn attempt_iri(&self) -> String {
        attempt_iri(&self.sco.iri, self.attempt)
    }
}

/// The IRI of an attempt on a SCO. The profile only asks that it be unique (§5 "Initializing
/// an attempt"); this is the form of its examples, `<SCO IRI>?attemptId=<uuid>`, which keeps
/// every attempt under the SCO it belongs to.
pub fn attempt_iri(sco_iri: &str, attempt: Uuid) -> String {
    let separator = if sco_iri.contains('?') { '&' } else { '?' };
    format!("{sco_iri}{separator}attemptId={attempt}")
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so that any SCORM
/// identifier (which may hold `:`, `/`, spaces or any Unicode) becomes one IRI path segment.
pub(crate) fn encode_segment(text: &str) -> String {
    // A segment of dots alone would be a dot-segment, which IRI resolution removes (RFC 3986
    // §5.2.4), so those dots are encoded too.
    let dots_only = text.bytes().all(|b| b == b'.');
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let unreserved = byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'_' | b'~')
            || (byte == b'.' && !dots_only);
        if unreserved {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
