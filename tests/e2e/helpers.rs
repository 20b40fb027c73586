//! Starting the real server and talking to it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

pub const ADMIN_KEY: &str = "test-admin";
pub const ADMIN_SECRET: &str = "test-admin-secret-0123456789";

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_proficio")
}

/// A running server process; killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    /// Everything the server wrote to stderr (its log), collected in the background.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// The thread collecting the log; joined on drop so the scan sees the last lines.
    collector: Option<std::thread::JoinHandle<()>>,
    _temp: Option<tempfile::TempDir>,
}

/// Every secret and launch token the tests have been given, process-wide: no server's log may
/// contain any of them (checked when each `Server` is dropped).
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Shortest string remembered: anything shorter would match by chance.
const MIN_SECRET_LEN: usize = 12;

/// Remembers a credential secret or a launch token (or a launch URL, whose token is taken)
/// so that every server log is checked for it.
pub fn remember_secret(secret: &str) {
    let secret = secret
        .split_once("/scorm/launch/")
        .map_or(secret, |(_, rest)| rest.split('/').next().unwrap_or(rest));
    if secret.len() < MIN_SECRET_LEN {
        return;
    }
    let mut secrets = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    if !secrets.iter().any(|s| s == secret) {
        secrets.push(secret.to_owned());
    }
}

/// The lines of `log` that give away a secret: a remembered secret or token, an
/// `Authorization` header value, Basic credentials, or a launch token in a path (the server
/// logs `/scorm/launch/…` in its place). Each line is returned redacted.
pub fn leaks(log: &[String]) -> Vec<String> {
    let secrets = SECRETS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut found = Vec::new();
    for line in log {
        let mut why = Vec::new();
        let mut redacted = line.clone();
        for secret in &secrets {
            if redacted.contains(secret.as_str()) {
                why.push("a remembered secret or launch token");
                redacted = redacted.replace(secret.as_str(), "<REDACTED>");
            }
        }
        let lower = line.to_ascii_lowercase();
        if lower.contains("authorization: ") || lower.contains("authorization=") {
            why.push("an Authorization header value");
        }
        if basic_credentials(line) {
            why.push("Basic credentials");
        }
        if launch_token_in_path(line) {
            why.push("a launch token in a path");
        }
        if !why.is_empty() {
            why.dedup();
            found.push(format!("{}: {}", why.join(", "), redact_tokens(&redacted)));
        }
    }
    found
}

/// `Basic <base64 of key:secret>` anywhere in the line.
fn basic_credentials(line: &str) -> bool {
    line.match_indices("Basic ").any(|(at, _)| {
        let candidate: String = line[at + 6..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(&candidate)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .is_some_and(|text| text.contains(':'))
    })
}

/// A character of a launch token (base64url, no padding).
fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_')
}

fn launch_token_in_path(line: &str) -> bool {
    line.match_indices("/scorm/launch/")
        .any(|(at, prefix)| line[at + prefix.len()..].starts_with(token_char))
}

/// The line with whatever follows `/scorm/launch/` and `Basic ` cut, so a panic message does
/// not print what it complains about.
fn redact_tokens(line: &str) -> String {
    let mut out = line.to_owned();
    for prefix in ["/scorm/launch/", "Basic "] {
        let mut from = 0;
        while let Some(at) = out[from..].find(prefix).map(|i| i + from + prefix.len()) {
            let end = out[at..]
                .find(|c: char| !(token_char(c) || matches!(c, '+' | '/' | '=')))
                .map_or(out.len(), |i| i + at);
            out.replace_range(at..end, "<REDACTED>");
            from = at;
        }
    }
    out
}

impl Server {
    /// A server on a fresh data directory with the bootstrap admin.
    pub fn start() -> Server {
        let temp = tempfile::tempdir().expect("tempdir");
        let dir = temp.path().to_path_buf();
        let mut server = Server::start_on(&dir, &[]);
        server._temp = Some(temp);
        server
    }

    /// A server on `data_dir`, with extra environment variables.
    pub fn start_on(data_dir: &Path, env: &[(&str, &str)]) -> Server {
        let mut command = Command::new(binary());
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("PROFICIO_ADMIN_KEY", ADMIN_KEY)
            .env("PROFICIO_ADMIN_SECRET", ADMIN_SECRET)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        remember_secret(ADMIN_SECRET);
        for (k, v) in env {
            command.env(k, v);
            if k.contains("SECRET") {
                remember_secret(v);
            }
        }
        let mut child = command.spawn().expect("spawn proficio");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = log.clone();
        let collector = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("proficio listening on ") {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        let base = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(base) => base,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "server did not start; log:\n{}",
                    log.lock().unwrap().join("\n")
                );
            }
        };
        Server {
            child,
            base,
            log,
            collector: Some(collector),
            _temp: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Starts the attempt behind a launch URL (`POST {launch}/api/navigate`, `start`) and
    /// returns the player's answer: the delivery of the first SCO.
    pub async fn start_attempt(&self, http: &reqwest::Client, launch: &str) -> Value {
        http.post(self.url(&format!("{launch}/api/navigate")))
            .header("content-type", "text/plain")
            .body(json!({"request": "start"}).to_string())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits for the process to exit; returns its exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill -TERM");
        self.child.wait().expect("wait")
    }

    /// Creates a tenant and a credential on it through the admin API; returns (key, secret).
    pub async fn credential(&self, tenant: &str, scopes: &[&str]) -> (String, String) {
        let client = reqwest::Client::new();
        let created = client
            .post(self.url("/admin/tenants"))
            .basic_auth(ADMIN_KEY, Some(ADMIN_SECRET))
            .json(&json!({"name": tenant}))
            .send()
            .await
            .expect("create tenant");
        assert!(
            created.status() == 201 || created.status() == 409,
            "tenant: {}",
            created.status()
        );
        let response = client
            .post(self.url("/admin/credentials"))
            .basic_auth(ADMIN_KEY, Some(ADMIN_SECRET))
            .json(&json!({"tenant": tenant, "scopes": scopes}))
            .send()
            .await
            .expect("create credential");
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.expect("json");
        let secret = body["secret"].as_str().expect("secret").to_owned();
        remember_secret(&secret);
        (body["key"].as_str().expect("key").to_owned(), secret)
    }

    pub fn xapi(&self, key: &str, secret: &str) -> Xapi {
        Xapi {
            client: reqwest::Client::new(),
            base: self.url("/xapi"),
            auth: format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}"))
            ),
            version: "2.0.0",
        }
    }

    pub fn admin_xapi(&self) -> Xapi {
        self.xapi(ADMIN_KEY, ADMIN_SECRET)
    }
}

impl Drop for Server {
    /// Stops the server, then scans its whole log for secrets (unless the test already failed:
    /// a second panic would abort the run and hide the first).
    fn drop(&mut self) {
        self.kill();
        if let Some(collector) = self.collector.take() {
            let _ = collector.join();
        }
        if std::thread::panicking() {
            return;
        }
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let leaks = leaks(&log);
        assert!(
            leaks.is_empty(),
            "the server log gives away secrets ({} lines):\n{}",
            leaks.len(),
            leaks.join("\n")
        );
    }
}

/// An xAPI client: version header and Basic auth on every request.
#[derive(Clone)]
pub struct Xapi {
    pub client: reqwest::Client,
    pub base: String,
    pub auth: String,
    pub version: &'static str,
}

impl Xapi {
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{}", self.base, path))
            .header("Authorization", &self.auth)
            .header("X-Experience-API-Version", self.version)
    }

    pub async fn post(&self, body: &Value) -> reqwest::Response {
        self.request(reqwest::Method::POST, "/statements")
            .json(body)
            .send()
            .await
            .expect("post")
    }

    pub async fn get(&self, query: &str) -> reqwest::Response {
        self.request(reqwest::Method::GET, &format!("/statements{query}"))
            .send()
            .await
            .expect("get")
    }

    pub async fn get_json(&self, query: &str) -> Value {
        let response = self.get(query).await;
        assert_eq!(response.status(), 200, "GET /statements{query}");
        response.json().await.expect("json")
    }
}

pub fn statement(mbox: &str, verb: &str, activity: &str) -> Value {
    json!({
        "actor": {"objectType": "Agent", "mbox": format!("mailto:{mbox}")},
        "verb": {"id": format!("http://example.com/verbs/{verb}"), "display": {"en-US": verb}},
        "object": {"objectType": "Activity", "id": format!("http://example.com/activities/{activity}")}
    })
}

pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
