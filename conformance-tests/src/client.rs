//! The HTTP side of a case: a per-version context that builds xAPI requests (Basic auth
//! and version header by default, each removable) and a captured reply whose checks turn
//! any surprise into a failure message rather than a panic.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::Value;
use url::Url;

use crate::harness::{CaseResult, XapiVersion};

pub const VERSION_HEADER: &str = "X-Experience-API-Version";
pub const CONSISTENT_THROUGH: &str = "X-Experience-API-Consistent-Through";

/// Everything a case needs: where the LRS is, how to authenticate, which version to speak.
/// Cheap to clone; one per version under test.
#[derive(Clone)]
pub struct Ctx {
    shared: Arc<Shared>,
    pub version: XapiVersion,
    /// Whose credentials [`Auth::Configured`] sends.
    pub identity: Identity,
}

/// The credentials a run may hold. Only [`Identity::Main`] is always there; the others come
/// from optional flags, and the cases that need them are skipped (loudly) without them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Identity {
    /// `--key/--secret`: full access to the tenant under test.
    Main,
    /// `--other-key/--other-secret`: a credential on another tenant of the same LRS.
    OtherTenant,
    /// `--mine-key/--mine-secret`: scopes `statements/write,statements/read/mine` on the
    /// same tenant as `--key`.
    ReadMine,
}

/// An HTTP Basic key and secret.
pub struct Credential {
    pub key: String,
    pub secret: SecretString,
}

/// Settings shared by every case of a run.
pub struct Settings {
    pub endpoint: Url,
    pub key: String,
    pub secret: SecretString,
    pub other: Option<Credential>,
    pub mine: Option<Credential>,
    pub strict_errors: bool,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
}

struct Shared {
    client: reqwest::Client,
    settings: Settings,
}

/// Which credentials a request carries.
#[derive(Clone, Debug)]
pub enum Auth {
    /// The credentials of the context's [`Identity`], as given on the command line.
    Configured,
    /// No `Authorization` header at all.
    Absent,
    /// Basic auth with these credentials.
    Basic(String, String),
    /// This exact `Authorization` header value.
    Raw(String),
}

/// A request being built; nothing is sent until [`Req::send`].
pub struct Req {
    ctx: Ctx,
    method: Method,
    url: Url,
    auth: Auth,
    version: Option<String>,
    headers: Vec<(String, String)>,
    body: Option<(Vec<u8>, String)>,
}

/// A captured response.
#[derive(Debug)]
pub struct Reply {
    pub method: Method,
    pub url: Url,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Ctx {
    pub fn new(settings: Settings, version: XapiVersion) -> anyhow::Result<Ctx> {
        let client = reqwest::Client::builder()
            .timeout(settings.request_timeout)
            // Paging links and every other URL are followed explicitly.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Ctx {
            shared: Arc::new(Shared { client, settings }),
            version,
            identity: Identity::Main,
        })
    }

    /// The same settings speaking another version.
    pub fn with_version(&self, version: XapiVersion) -> Ctx {
        Ctx {
            shared: Arc::clone(&self.shared),
            version,
            identity: self.identity,
        }
    }

    /// Whether the run was given the credentials of `identity`.
    pub fn has(&self, identity: Identity) -> bool {
        let settings = &self.shared.settings;
        match identity {
            Identity::Main => true,
            Identity::OtherTenant => settings.other.is_some(),
            Identity::ReadMine => settings.mine.is_some(),
        }
    }

    /// The same context acting as `identity`; a failure when the run lacks its credentials
    /// (the runner skips cases that need them, so this only guards against suite bugs).
    pub fn acting_as(&self, identity: Identity) -> Result<Ctx, String> {
        if !self.has(identity) {
            return Err(format!("the run has no credentials for {identity:?}"));
        }
        Ok(Ctx {
            shared: Arc::clone(&self.shared),
            version: self.version,
            identity,
        })
    }

    /// The `Authorization` value [`Auth::Configured`] sends (for the Alternate Request
    /// Syntax, which carries it as a form field).
    pub fn basic_auth(&self) -> String {
        let (key, secret) = self.credentials();
        basic(key, secret)
    }

    /// The key and secret [`Auth::Configured`] sends for this context.
    fn credentials(&self) -> (&str, &str) {
        let settings = &self.shared.settings;
        let chosen = match self.identity {
            Identity::Main => None,
            Identity::OtherTenant => settings.other.as_ref(),
            Identity::ReadMine => settings.mine.as_ref(),
        };
        match chosen {
            Some(credential) => (&credential.key, credential.secret.expose_secret()),
            None => (&settings.key, settings.secret.expose_secret()),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.shared.settings
    }

    /// `<endpoint>/<resource>`; the endpoint is given without a trailing slash.
    pub fn resource_url(&self, resource: &str) -> Url {
        let mut url = self.shared.settings.endpoint.clone();
        {
            // An endpoint that cannot be a base was rejected when parsing the flags.
            if let Ok(mut segments) = url.path_segments_mut() {
                segments.pop_if_empty();
                for part in resource.split('/') {
                    segments.push(part);
                }
            }
        }
        url
    }

    /// Resolves a `more` IRL, which is relative to the LRS host (Data 2.5: "including the
    /// full path ... but excluding scheme, host, and port").
    pub fn resolve(&self, more: &str) -> Result<Url, String> {
        self.shared
            .settings
            .endpoint
            .join(more)
            .map_err(|e| format!("cannot resolve more IRL {more:?}: {e}"))
    }

    pub fn request(&self, method: Method, url: Url) -> Req {
        Req {
            ctx: self.clone(),
            method,
            url,
            auth: Auth::Configured,
            version: Some(self.version.header().to_owned()),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn get(&self, resource: &str) -> Req {
        self.request(Method::GET, self.resource_url(resource))
    }

    pub fn head(&self, resource: &str) -> Req {
        self.request(Method::HEAD, self.resource_url(resource))
    }

    pub fn post(&self, resource: &str) -> Req {
        self.request(Method::POST, self.resource_url(resource))
    }

    pub fn put(&self, resource: &str) -> Req {
        self.request(Method::PUT, self.resource_url(resource))
    }
}

impl Req {
    pub fn query(self, pairs: &[(&str, &str)]) -> Req {
        self.params(pairs.iter().copied())
    }

    /// Appends query parameters from any list of name/value pairs.
    pub fn params<K, V>(mut self, pairs: impl IntoIterator<Item = (K, V)>) -> Req
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        {
            let mut query = self.url.query_pairs_mut();
            for (name, value) in pairs {
                query.append_pair(name.as_ref(), value.as_ref());
            }
        }
        // An empty list leaves a bare `?`; drop it so the URL stays as given.
        if self.url.query() == Some("") {
            self.url.set_query(None);
        }
        self
    }

    pub fn auth(mut self, auth: Auth) -> Req {
        self.auth = auth;
        self
    }

    /// Sends `value` as the version header, or no version header at all for `None`.
    pub fn version(mut self, value: Option<&str>) -> Req {
        self.version = value.map(str::to_owned);
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// A body of `application/x-www-form-urlencoded` fields (the Alternate Request Syntax).
    pub fn form<K, V>(self, fields: impl IntoIterator<Item = (K, V)>) -> Req
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in fields {
            form.append_pair(name.as_ref(), value.as_ref());
        }
        self.raw_body(
            form.finish().into_bytes(),
            "application/x-www-form-urlencoded",
        )
    }

    pub fn json(self, value: &Value) -> Req {
        self.raw_body(value.to_string().into_bytes(), "application/json")
    }

    /// A body sent byte for byte (for malformed JSON, duplicate keys, oversize bodies).
    pub fn raw_body(mut self, body: Vec<u8>, content_type: &str) -> Req {
        self.body = Some((body, content_type.to_owned()));
        self
    }

    /// Sends the request so that a reply the server gives before reading the whole body
    /// (e.g. 413 for an oversized body) is still seen. Plain HTTP only; other schemes fall
    /// back to [`Req::send`].
    pub async fn send_allowing_early_reply(self) -> Result<Reply, String> {
        if self.url.scheme() != "http" {
            return self.send().await;
        }
        let settings = &self.ctx.shared.settings;
        let mut headers = Vec::new();
        match &self.auth {
            Auth::Configured => {
                let (key, secret) = self.ctx.credentials();
                headers.push(("Authorization".to_owned(), basic(key, secret)));
            }
            Auth::Absent => {}
            Auth::Basic(key, secret) => {
                headers.push(("Authorization".to_owned(), basic(key, secret)));
            }
            Auth::Raw(value) => headers.push(("Authorization".to_owned(), value.clone())),
        }
        if let Some(version) = &self.version {
            headers.push((VERSION_HEADER.to_owned(), version.clone()));
        }
        headers.extend(self.headers.iter().cloned());
        let body = match self.body {
            Some((body, content_type)) => {
                headers.push(("Content-Type".to_owned(), content_type));
                body
            }
            None => Vec::new(),
        };
        crate::rawhttp::exchange(
            self.method,
            self.url,
            &headers,
            body,
            settings.request_timeout,
        )
        .await
    }

    /// Sends the request; a transport failure is a failure message naming the request.
    pub async fn send(self) -> Result<Reply, String> {
        let mut builder = self
            .ctx
            .shared
            .client
            .request(self.method.clone(), self.url.clone());
        match &self.auth {
            Auth::Configured => {
                let (key, secret) = self.ctx.credentials();
                builder = builder.header(reqwest::header::AUTHORIZATION, basic(key, secret));
            }
            Auth::Absent => {}
            Auth::Basic(key, secret) => {
                builder = builder.header(reqwest::header::AUTHORIZATION, basic(key, secret));
            }
            Auth::Raw(value) => {
                builder = builder.header(reqwest::header::AUTHORIZATION, value.as_str());
            }
        }
        if let Some(version) = &self.version {
            builder = builder.header(VERSION_HEADER, version.as_str());
        }
        for (name, value) in &self.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| format!("bad header name {name:?} in the suite: {e}"))?;
            let value = HeaderValue::from_str(value)
                .map_err(|e| format!("bad header value {value:?} in the suite: {e}"))?;
            builder = builder.header(name, value);
        }
        if let Some((body, content_type)) = self.body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body);
        }
        let response = builder.send().await.map_err(|e| {
            format!(
                "{} {}: request failed: {}",
                self.method,
                self.url,
                chain(&e)
            )
        })?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| {
                format!(
                    "{} {}: reading the body failed: {}",
                    self.method,
                    self.url,
                    chain(&e)
                )
            })?
            .to_vec();
        Ok(Reply {
            method: self.method,
            url: self.url,
            status,
            headers,
            body,
        })
    }
}

impl Reply {
    /// `METHOD url -> status` plus the start of the body, for failure messages.
    pub fn describe(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let mut snippet: String = text.chars().take(300).collect();
        if text.chars().count() > 300 {
            snippet.push('…');
        }
        let target = self.url.as_str();
        if snippet.is_empty() {
            format!("{} {} -> {}", self.method, target, self.status)
        } else {
            format!(
                "{} {} -> {} {}",
                self.method,
                target,
                self.status,
                snippet.trim()
            )
        }
    }

    /// Fails unless the status is `expected`.
    pub fn expect(&self, expected: u16) -> CaseResult {
        if self.status == expected {
            Ok(())
        } else {
            Err(format!("expected {expected}, got: {}", self.describe()))
        }
    }

    /// Fails unless the status is one of `expected`.
    pub fn expect_any(&self, expected: &[u16]) -> CaseResult {
        if expected.contains(&self.status) {
            Ok(())
        } else {
            Err(format!(
                "expected one of {expected:?}, got: {}",
                self.describe()
            ))
        }
    }

    /// Fails unless the status is `expected`; with `--strict-errors`, an error status must
    /// also come with a JSON body whose `message` is a non-empty string (Communication 3.2:
    /// the LRS SHOULD return a message explaining the cause of the error).
    pub fn expect_error(&self, ctx: &Ctx, expected: u16) -> CaseResult {
        self.expect(expected)?;
        if ctx.settings().strict_errors {
            let body = self.json()?;
            let message = body.get("message").and_then(Value::as_str).unwrap_or("");
            if message.trim().is_empty() {
                return Err(format!(
                    "--strict-errors: the error body has no non-empty \"message\": {}",
                    self.describe()
                ));
            }
        }
        Ok(())
    }

    pub fn json(&self) -> Result<Value, String> {
        serde_json::from_slice(&self.body)
            .map_err(|e| format!("the body is not JSON ({e}): {}", self.describe()))
    }

    /// The single value of a header; absent, repeated or non-ASCII values are failures.
    pub fn header(&self, name: &str) -> Result<&str, String> {
        let mut values = self.headers.get_all(name).iter();
        let first = values
            .next()
            .ok_or_else(|| format!("no {name} header: {}", self.describe()))?;
        if values.next().is_some() {
            return Err(format!("more than one {name} header: {}", self.describe()));
        }
        first.to_str().map_err(|_| {
            format!(
                "the {name} header is not visible ASCII: {}",
                self.describe()
            )
        })
    }

    /// The media type of the `Content-Type` header, lowercased and without parameters.
    pub fn media_type(&self) -> Result<String, String> {
        let value = self.header("content-type")?;
        Ok(value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase())
    }

    pub fn header_count(&self, name: &str) -> usize {
        self.headers.get_all(name).iter().count()
    }
}

fn basic(key: &str, secret: &str) -> String {
    format!("Basic {}", BASE64.encode(format!("{key}:{secret}")))
}

/// An error with its sources, so "connection refused" is not hidden behind "error sending request".
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}
