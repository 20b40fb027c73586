//! Document Resource operations the cases share (Communication 2.2): the three resources,
//! the address of one document (owner parameters plus id), and requests that fail with a
//! message naming the request and the response.

use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, TimeDelta};
use reqwest::Method;
use serde_json::{Value, json};

use crate::check::ensure;
use crate::client::{Ctx, Reply, Req};
use crate::fixtures::Fx;
use crate::harness::CaseResult;

/// The three Document Resources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocResource {
    State,
    ActivityProfile,
    AgentProfile,
}

/// Where a document lives: its resource, its owner (Activity and/or Agent, plus the
/// registration for State) and its id. Owners are unique to the case that made them.
#[derive(Clone, Debug)]
pub struct DocAddr {
    pub resource: DocResource,
    pub activity_id: String,
    pub agent: Value,
    pub registration: Option<String>,
    pub id: String,
}

/// A document body with the Content-Type it is sent with.
#[derive(Clone, Debug)]
pub struct Body {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

/// The concurrency header a write carries (Communication 3.1).
#[derive(Clone, Debug)]
pub enum Precondition {
    None,
    IfMatch(String),
    IfNoneMatch(String),
}

/// How long a case waits for the LRS clock to pass a `since` instant.
const CLOCK_TIMEOUT: Duration = Duration::from_secs(5);
const CLOCK_POLL: Duration = Duration::from_millis(100);

impl DocResource {
    pub const ALL: [DocResource; 3] = [
        DocResource::State,
        DocResource::ActivityProfile,
        DocResource::AgentProfile,
    ];

    /// The path below the endpoint.
    pub fn path(self) -> &'static str {
        match self {
            DocResource::State => "activities/state",
            DocResource::ActivityProfile => "activities/profile",
            DocResource::AgentProfile => "agents/profile",
        }
    }

    /// The resource's name in case names.
    pub fn label(self) -> &'static str {
        match self {
            DocResource::State => "State",
            DocResource::ActivityProfile => "Activity Profile",
            DocResource::AgentProfile => "Agent Profile",
        }
    }

    /// The section of Communication that defines the resource.
    pub fn section(self) -> &'static str {
        match self {
            DocResource::State => "2.3",
            DocResource::ActivityProfile => "2.7",
            DocResource::AgentProfile => "2.6",
        }
    }

    /// The parameter naming one document.
    pub fn id_param(self) -> &'static str {
        match self {
            DocResource::State => "stateId",
            DocResource::ActivityProfile | DocResource::AgentProfile => "profileId",
        }
    }

    /// The owner parameters every request to the resource needs.
    pub fn owner_params(self) -> &'static [&'static str] {
        match self {
            DocResource::State => &["activityId", "agent"],
            DocResource::ActivityProfile => &["activityId"],
            DocResource::AgentProfile => &["agent"],
        }
    }

    pub fn takes_agent(self) -> bool {
        self.owner_params().contains(&"agent")
    }

    pub fn takes_activity(self) -> bool {
        self.owner_params().contains(&"activityId")
    }
}

impl DocAddr {
    /// A fresh owner for `resource`, with document id `id`.
    pub fn new(resource: DocResource, fx: &Fx, id: &str) -> DocAddr {
        DocAddr {
            resource,
            activity_id: fx.activity_id("documents"),
            agent: json!({ "objectType": "Agent", "mbox": fx.mbox("owner") }),
            registration: None,
            id: id.to_owned(),
        }
    }

    /// The same owner, another document id.
    pub fn with_id(&self, id: &str) -> DocAddr {
        DocAddr {
            id: id.to_owned(),
            ..self.clone()
        }
    }

    /// The same address under a State registration.
    pub fn with_registration(&self, registration: &str) -> DocAddr {
        DocAddr {
            registration: Some(registration.to_owned()),
            ..self.clone()
        }
    }

    /// The owner parameters (and registration) the resource takes, without the id.
    pub fn owner(&self) -> Vec<(&'static str, String)> {
        let mut params = Vec::new();
        if self.resource.takes_activity() {
            params.push(("activityId", self.activity_id.clone()));
        }
        if self.resource.takes_agent() {
            params.push(("agent", self.agent.to_string()));
        }
        if let Some(registration) = &self.registration {
            params.push(("registration", registration.clone()));
        }
        params
    }

    /// Owner parameters plus the id: the address of this one document.
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let mut params = self.owner();
        params.push((self.resource.id_param(), self.id.clone()));
        params
    }
}

impl Body {
    pub fn json(value: &Value) -> Body {
        Body {
            bytes: value.to_string().into_bytes(),
            content_type: "application/json".to_owned(),
        }
    }

    pub fn new(bytes: impl Into<Vec<u8>>, content_type: &str) -> Body {
        Body {
            bytes: bytes.into(),
            content_type: content_type.to_owned(),
        }
    }
}

impl Ctx {
    /// A request for one document (`params` decides which parameters are sent).
    pub fn doc_request(
        &self,
        method: Method,
        resource: DocResource,
        params: &[(&str, String)],
    ) -> Req {
        self.request(method, self.resource_url(resource.path()))
            .params(params.iter().map(|(k, v)| (*k, v.as_str())))
    }

    /// Writes `body` to `addr` with `method` (PUT or POST) under `precondition`; returns the
    /// reply unchecked.
    pub async fn doc_write(
        &self,
        method: Method,
        addr: &DocAddr,
        body: &Body,
        precondition: &Precondition,
    ) -> Result<Reply, String> {
        let mut request = self
            .doc_request(method, addr.resource, &addr.params())
            .raw_body(body.bytes.clone(), &body.content_type);
        match precondition {
            Precondition::None => {}
            Precondition::IfMatch(tag) => request = request.header("If-Match", tag),
            Precondition::IfNoneMatch(tag) => request = request.header("If-None-Match", tag),
        }
        request.send().await
    }

    /// Creates a document that does not exist yet: PUT with `If-None-Match: *`, which every
    /// resource in both versions accepts for a new document (Communication 3.1); expects 204.
    pub async fn doc_create(&self, addr: &DocAddr, body: &Body) -> CaseResult {
        let reply = self
            .doc_write(
                Method::PUT,
                addr,
                body,
                &Precondition::IfNoneMatch("*".to_owned()),
            )
            .await?;
        reply
            .expect(204)
            .map_err(|e| format!("creating the document: {e}"))
    }

    /// GET one document; expects 200.
    pub async fn doc_get(&self, addr: &DocAddr) -> Result<Reply, String> {
        let reply = self
            .doc_request(Method::GET, addr.resource, &addr.params())
            .send()
            .await?;
        reply.expect(200)?;
        Ok(reply)
    }

    /// GET one document and its ETag (Communication 3.1: quoted; returned as sent).
    pub async fn doc_etag(&self, addr: &DocAddr) -> Result<String, String> {
        let reply = self.doc_get(addr).await?;
        Ok(reply.header("etag")?.to_owned())
    }

    /// Fails unless the document at `addr` is `expected`, byte for byte.
    pub async fn doc_is(&self, addr: &DocAddr, expected: &[u8]) -> CaseResult {
        let reply = self.doc_get(addr).await?;
        ensure(reply.body == expected, || {
            format!(
                "the document is not the expected {:?}: {}",
                String::from_utf8_lossy(expected),
                reply.describe()
            )
        })
    }

    /// Fails unless the document at `addr` is the JSON value `expected`.
    pub async fn doc_json_is(&self, addr: &DocAddr, expected: &Value) -> CaseResult {
        let reply = self.doc_get(addr).await?;
        let got = reply.json()?;
        ensure(&got == expected, || {
            format!("expected the document {expected}, got {got}")
        })
    }

    /// Fails unless GET of the document answers 404.
    pub async fn doc_absent(&self, addr: &DocAddr) -> CaseResult {
        let reply = self
            .doc_request(Method::GET, addr.resource, &addr.params())
            .send()
            .await?;
        reply
            .expect(404)
            .map_err(|e| format!("the document should not exist: {e}"))
    }

    /// GET the ids of the documents of `addr`'s owner, with optional extra parameters
    /// (`since`); expects 200 and a JSON array of strings.
    pub async fn doc_ids(
        &self,
        addr: &DocAddr,
        extra: &[(&str, String)],
    ) -> Result<Vec<String>, String> {
        let mut params = addr.owner();
        params.extend(extra.iter().cloned());
        let reply = self
            .doc_request(Method::GET, addr.resource, &params)
            .send()
            .await?;
        reply.expect(200)?;
        ids_array(&reply)
    }

    /// The LRS's clock, as the `Date` header of a response (RFC 7231 7.1.1.2; whole seconds).
    pub async fn server_date(&self) -> Result<DateTime<FixedOffset>, String> {
        let reply = self.get("about").send().await?;
        http_date(&reply)
    }

    /// Waits until the LRS's `Date` is at or past `instant`, so that whatever is written
    /// next is stored after it.
    pub async fn wait_for_server_time(&self, instant: DateTime<FixedOffset>) -> CaseResult {
        let started = Instant::now();
        loop {
            let now = self.server_date().await?;
            if now >= instant {
                return Ok(());
            }
            if started.elapsed() > CLOCK_TIMEOUT {
                return Err(format!(
                    "the LRS Date header did not reach {instant} within {}s (last {now})",
                    CLOCK_TIMEOUT.as_secs()
                ));
            }
            tokio::time::sleep(CLOCK_POLL).await;
        }
    }
}

/// The `Date` header of a reply as an instant.
pub fn http_date(reply: &Reply) -> Result<DateTime<FixedOffset>, String> {
    let text = reply.header("date")?;
    DateTime::parse_from_rfc2822(text)
        .map_err(|e| format!("the Date header {text:?} is not an HTTP date: {e}"))
}

/// The instant one second after `date`, as an ISO 8601 timestamp for `since`: everything
/// stored before a response dated `date` was sent is before it.
pub fn second_after(date: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    date + TimeDelta::seconds(1)
}

/// A JSON array of strings, as multiple-document GETs return (Communication 2.3, 2.6, 2.7).
pub fn ids_array(reply: &Reply) -> Result<Vec<String>, String> {
    let body = reply.json()?;
    let Some(items) = body.as_array() else {
        return Err(format!(
            "expected a JSON array of ids: {}",
            reply.describe()
        ));
    };
    items
        .iter()
        .map(|item| {
            item.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("{item} is not a string id: {}", reply.describe()))
        })
        .collect()
}
