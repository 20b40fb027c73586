//! Failed authentication, throttled per client address and per credential key: after too many
//! 401 answers in a window, requests from that address, or naming that key, get 429 with
//! `Retry-After` until the window ends, before any credential is checked.
//!
//! Only failures with a key count, so a client whose credentials are right is never slowed
//! by its own traffic, and a client on another address with another key is never slowed by
//! an attack.
//! The client address is the connection's peer, or the last hop of `X-Forwarded-For` when
//! the peer is a proxy the deployment trusts.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// How failed authentication is throttled.
#[derive(Debug, Clone, PartialEq)]
pub struct ThrottleConfig {
    /// Failures from one client address within a window before it is refused.
    pub failures_per_address: u32,
    /// Failures naming one key, from anywhere, within a window before it is refused.
    pub failures_per_key: u32,
    pub window: Duration,
    /// Peers whose `X-Forwarded-For` names the client (a reverse proxy in front).
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            failures_per_address: 20,
            failures_per_key: 50,
            window: Duration::from_secs(60),
            trusted_proxies: Vec::new(),
        }
    }
}

/// Entries kept per map at most; beyond it, windows that ended are dropped, and if that is not
/// enough the map is cleared (an attacker filling it only forgets older failures).
const MAX_ENTRIES: usize = 100_000;
/// Keys longer than this are cut before they are remembered.
const MAX_KEY_BYTES: usize = 128;

/// The failure counters, shared by every request.
#[derive(Debug)]
pub struct Throttle {
    config: ThrottleConfig,
    state: Mutex<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    addresses: HashMap<IpAddr, Window>,
    keys: HashMap<String, Window>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

impl Throttle {
    pub fn new(config: ThrottleConfig) -> Throttle {
        Throttle {
            config,
            state: Mutex::new(Counters::default()),
        }
    }

    /// How long `address` or `key` stays refused, if it is.
    pub fn refused(
        &self,
        address: Option<IpAddr>,
        key: Option<&str>,
        now: Instant,
    ) -> Option<Duration> {
        let counters = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let window = self.config.window;
        let by_address = address
            .and_then(|a| counters.addresses.get(&a))
            .and_then(|w| w.blocked_for(self.config.failures_per_address, window, now));
        let by_key = key
            .and_then(|k| counters.keys.get(k))
            .and_then(|w| w.blocked_for(self.config.failures_per_key, window, now));
        by_address.max(by_key)
    }

    /// Counts one failed authentication.
    pub fn failed(&self, address: Option<IpAddr>, key: Option<&str>, now: Instant) {
        let mut counters = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let window = self.config.window;
        if let Some(address) = address {
            count(&mut counters.addresses, address, window, now);
        }
        if let Some(key) = key {
            count(&mut counters.keys, key.to_owned(), window, now);
        }
    }

    /// The client's address: the peer, or the last `X-Forwarded-For` hop a trusted proxy
    /// added.
    fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?;
        if !self.config.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
            .next_back();
        Some(forwarded.unwrap_or(peer))
    }
}

impl Window {
    fn blocked_for(&self, limit: u32, window: Duration, now: Instant) -> Option<Duration> {
        let ends = self.started + window;
        (self.failures >= limit && now < ends).then(|| ends - now)
    }
}

fn count<K: std::hash::Hash + Eq>(
    map: &mut HashMap<K, Window>,
    key: K,
    window: Duration,
    now: Instant,
) {
    if map.len() >= MAX_ENTRIES {
        map.retain(|_, w| now < w.started + window);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
    }
    let entry = map.entry(key).or_insert(Window {
        started: now,
        failures: 0,
    });
    if now >= entry.started + window {
        *entry = Window {
            started: now,
            failures: 0,
        };
    }
    entry.failures = entry.failures.saturating_add(1);
}

/// The key of an HTTP Basic `Authorization` header, if it has one, cut to
/// [`MAX_KEY_BYTES`].
fn basic_key(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (mut key, _) = crate::auth::parse_basic(value).ok()?;
    let mut end = key.len().min(MAX_KEY_BYTES);
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    key.truncate(end);
    Some(key)
}

/// The middleware: refuses throttled clients and keys, and counts every 401 answered.
pub async fn throttle(
    State(throttle): State<Arc<Throttle>>,
    request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let address = throttle.client(peer, request.headers());
    let key = basic_key(request.headers());
    if let Some(wait) = throttle.refused(address, key.as_deref(), Instant::now()) {
        return too_many(wait);
    }
    let response = next.run(request).await;
    // A guess is a request with a key that did not authenticate; a request with none (a
    // browser before its login prompt, a client probing the API) guesses nothing.
    if response.status() == StatusCode::UNAUTHORIZED && key.is_some() {
        throttle.failed(address, key.as_deref(), Instant::now());
    }
    response
}

fn too_many(wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let body = json!({
        "status": 429,
        "error": "too-many-requests",
        "rule": "authentication-rate-limit",
        "message": format!("too many failed authentications from this address or for this key; retry in {seconds} s"),
    });
    let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use base64::Engine as _;

    use super::*;

    fn config() -> ThrottleConfig {
        ThrottleConfig {
            failures_per_address: 3,
            failures_per_key: 5,
            window: Duration::from_secs(60),
            trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        }
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn an_address_is_refused_after_its_failures_until_the_window_ends() {
        let throttle = Throttle::new(config());
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(throttle.refused(ip("10.0.0.1"), Some("k"), t0), None);
            throttle.failed(ip("10.0.0.1"), Some("k"), t0);
        }
        let wait = throttle.refused(ip("10.0.0.1"), Some("other"), t0);
        assert_eq!(wait, Some(Duration::from_secs(60)));
        // Another address with the same key is still let through (the key allows 5).
        assert_eq!(throttle.refused(ip("10.0.0.2"), Some("k"), t0), None);
        let later = t0 + Duration::from_secs(60);
        assert_eq!(throttle.refused(ip("10.0.0.1"), Some("k"), later), None);
        // A new window starts counting from nothing.
        throttle.failed(ip("10.0.0.1"), Some("k"), later);
        assert_eq!(throttle.refused(ip("10.0.0.1"), None, later), None);
    }

    #[test]
    fn a_key_is_refused_after_failures_from_many_addresses() {
        let throttle = Throttle::new(config());
        let t0 = Instant::now();
        for i in 0..5 {
            throttle.failed(ip(&format!("10.0.1.{i}")), Some("victim"), t0);
        }
        assert!(
            throttle
                .refused(ip("10.0.2.1"), Some("victim"), t0)
                .is_some()
        );
        assert_eq!(throttle.refused(ip("10.0.2.1"), Some("someone"), t0), None);
    }

    #[test]
    fn the_client_behind_a_trusted_proxy_is_the_last_forwarded_hop() {
        let throttle = Throttle::new(config());
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("1.1.1.1, 2.2.2.2"),
        );
        assert_eq!(throttle.client(ip("127.0.0.1"), &headers), ip("2.2.2.2"));
        // An untrusted peer cannot name someone else.
        assert_eq!(throttle.client(ip("10.9.9.9"), &headers), ip("10.9.9.9"));
        assert_eq!(
            throttle.client(ip("127.0.0.1"), &HeaderMap::new()),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn the_key_is_read_from_basic_credentials() {
        let mut headers = HeaderMap::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode("key-1:secret");
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).unwrap(),
        );
        assert_eq!(basic_key(&headers).as_deref(), Some("key-1"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        assert_eq!(basic_key(&headers), None);
        let long = "k".repeat(1000);
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{long}:s"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).unwrap(),
        );
        assert_eq!(basic_key(&headers).map(|k| k.len()), Some(MAX_KEY_BYTES));
    }

    #[test]
    fn memory_stays_bounded() {
        let throttle = Throttle::new(config());
        let t0 = Instant::now();
        for i in 0..(MAX_ENTRIES as u32 + 10) {
            throttle.failed(None, Some(&format!("key-{i}")), t0);
        }
        assert!(throttle.state.lock().unwrap().keys.len() <= MAX_ENTRIES);
    }
}
