//! Tenant isolation as a matrix: tenant A is given data in every part of the server (xAPI
//! statements with an attachment and a voided one, documents, SCORM packages, registrations
//! and sessions, the capability model and a recorded session, audit entries); then every
//! route and method of the server is called with tenant B's credentials (a full-rights one
//! and an admin one) or B's launch link, aimed at A's ids. Every answer must be a refusal or
//! B's own data, and no answer may carry a byte of A's. A scan of the routers' sources makes
//! sure no route is left out of the matrix.
//!
//! Beside it: `statements/read/mine` sees only what its credential stored, and launch links
//! are bound to one registration of one tenant, refuse tampering and expire.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;

use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_KEY, ADMIN_SECRET, Server, encode, remember_secret};

/// Carried by every piece of tenant A's data, so a leak is easy to spot in a failure.
const TAG: &str = "qz7alpha";

const A_TENANT: &str = "isoqz7alpha";
const B_TENANT: &str = "isoqz7bravo";
const A_NAME: &str = "Qz7alpha Learner Name";
const A_MBOX: &str = "mailto:learner.qz7alpha@alpha.example";
const A_MANAGER: &str = "mailto:manager.qz7alpha@alpha.example";
const A_VERB: &str = "http://alpha.example/verbs/qz7alpha-practised";
const A_ACTIVITY: &str = "http://alpha.example/activities/qz7alpha-course";
const A_ACTIVITY_NAME: &str = "Qz7alpha Course Definition Name";
const A_ATTACHMENT: &[u8] = b"QZ7ALPHA-ATTACHMENT-CONTENT";
const A_STATE_ID: &str = "qz7alpha-state";
const A_STATE: &str = "QZ7ALPHA-STATE-DOCUMENT";
const A_ACTIVITY_PROFILE_ID: &str = "qz7alpha-activity-profile";
const A_ACTIVITY_PROFILE: &str = "QZ7ALPHA-ACTIVITY-PROFILE-DOCUMENT";
const A_AGENT_PROFILE_ID: &str = "qz7alpha-agent-profile";
const A_AGENT_PROFILE: &str = "QZ7ALPHA-AGENT-PROFILE-DOCUMENT";
const A_COURSE_TITLE: &str = "Qz7alpha Course Title";
const A_SCO_FILE: &str = "qz7alpha/index.html";
const A_SCO_CONTENT: &str = "QZ7ALPHA-SCO-CONTENT";
const A_LEARNER_ACCOUNT: &str = "qz7alpha-account";
const A_LOCATION_R1: &str = "qz7alpha-location-one";
const A_LOCATION_R2: &str = "qz7alpha-location-two";
const A_FRAMEWORK: &str = "qz7alpha-framework";
const A_FRAMEWORK_NAME: &str = "Qz7alpha Framework Name";
const A_CAPABILITY: &str = "qz7alpha-feedback";
const A_CAPABILITY_NAME: &str = "Qz7alpha Capability Name";
const A_CAPABILITY_IRI: &str = "https://alpha.example/capabilities/QZ7ALPHA";
const A_ROLE: &str = "qz7alpha-role";
const A_ROLE_NAME: &str = "Qz7alpha Role Name";
const A_NOTES: &str = "QZ7ALPHA-RECORDED-NOTES";

/// Where the server's routes are declared, and the prefix their router is mounted under
/// (`lrs/src/http/mod.rs`: `/xapi` and `/admin`; every other router is merged at the root).
const ROUTER_SOURCES: &[&str] = &[
    "lrs/src/http",
    "scorm-player/src/server",
    "capability-service/src",
    "src",
];

/// What tenant A holds, and what B may aim at.
struct World {
    a_key: String,
    a_secret: String,
    /// A second credential of A's, the target of B's attempts to revoke.
    a_spare_key: String,
    a_spare_secret: String,
    b_key: String,
    b_secret: String,
    b_admin_key: String,
    b_admin_secret: String,
    statement: String,
    voided: String,
    attachment: String,
    registration_id: String,
    more: String,
    package: String,
    r1: String,
    r2: String,
    r1_launch: String,
    r2_launch: String,
    r1_session: String,
    r2_session: String,
    b_launch: String,
    b_session: String,
}

/// One request of the matrix.
struct Row {
    method: Method,
    /// The route as its router declares it, prefix included.
    route: &'static str,
    path: String,
    body: Option<(String, Vec<u8>)>,
    /// Statuses allowed for B's full-rights credential (for a launch-link row: without any).
    all: &'static [u16],
    /// Statuses allowed for B's admin credential; empty when the row is not run with it.
    admin: &'static [u16],
    /// A launch-link row: the path carries the link, no credential is sent.
    link: bool,
}

const NOT_FOUND: &[u16] = &[404];
const FORBIDDEN: &[u16] = &[403];
const OK: &[u16] = &[200];

fn row(method: Method, route: &'static str, path: impl Into<String>) -> Row {
    Row {
        method,
        route,
        path: path.into(),
        body: None,
        all: &[],
        admin: &[],
        link: false,
    }
}

impl Row {
    /// The same statuses allowed for both of B's credentials.
    fn expect(mut self, statuses: &'static [u16]) -> Row {
        self.all = statuses;
        self.admin = statuses;
        self
    }

    fn all(mut self, statuses: &'static [u16]) -> Row {
        self.all = statuses;
        self
    }

    fn admin(mut self, statuses: &'static [u16]) -> Row {
        self.admin = statuses;
        self
    }

    fn json(mut self, body: &Value) -> Row {
        self.body = Some(("application/json".to_owned(), body.to_string().into_bytes()));
        self
    }

    fn bytes(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Row {
        self.body = Some((content_type.to_owned(), body.into()));
        self
    }

    fn link(mut self) -> Row {
        self.link = true;
        self.admin = &[];
        self
    }
}

fn agent_json(mbox: &str) -> Value {
    json!({"objectType": "Agent", "mbox": mbox})
}

fn learner() -> Value {
    json!({"objectType": "Agent", "name": A_NAME,
           "account": {"homePage": "https://alpha.example", "name": A_LEARNER_ACCOUNT}})
}

fn basic(key: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}"))
    )
}

/// A SCORM 1.2 course of one SCO whose title, file name and content carry tenant A's tag.
fn alpha_course() -> Vec<u8> {
    let manifest = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="com.example.qz7alpha" version="1.0"
  xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="org">
    <organization identifier="org">
      <title>{A_COURSE_TITLE}</title>
      <item identifier="only" identifierref="r1"><title>{A_COURSE_TITLE} lesson</title></item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="{A_SCO_FILE}"><file href="{A_SCO_FILE}"/></resource>
  </resources>
</manifest>"#
    );
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut writer = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, data) in [
            ("imsmanifest.xml", manifest.into_bytes()),
            (
                A_SCO_FILE,
                format!("<html><body>{A_SCO_CONTENT}</body></html>").into_bytes(),
            ),
        ] {
            writer.start_file(name, options).unwrap();
            writer.write_all(&data).unwrap();
        }
        writer.finish().unwrap();
    }
    out.into_inner()
}

/// An answer: its status, its headers as text and its body.
struct Answer {
    status: u16,
    headers: String,
    body: String,
}

impl Answer {
    /// The status, and the headers and body as one text to search.
    fn pair(self) -> (u16, String) {
        (self.status, format!("{}{}", self.headers, self.body))
    }
}

/// A request with Basic auth (when given) and the xAPI version header on `/xapi` paths
/// (1.0.3 for the alternate request syntax, which 2.0.0 removed).
async fn send(
    server: &Server,
    method: Method,
    path: &str,
    auth: Option<&str>,
    body: Option<(&str, Vec<u8>)>,
) -> Answer {
    let mut request = reqwest::Client::new().request(method, server.url(path));
    if let Some(auth) = auth {
        request = request.header("Authorization", auth);
    }
    if path.starts_with("/xapi") {
        let version = if path.contains("method=") {
            "1.0.3"
        } else {
            "2.0.0"
        };
        request = request.header("X-Experience-API-Version", version);
    }
    if let Some((content_type, bytes)) = body {
        request = request.header("Content-Type", content_type).body(bytes);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let mut headers = String::new();
    for (name, value) in response.headers() {
        headers.push_str(&format!(
            "{name}: {}\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    let body = response.bytes().await.expect("body");
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// A JSON request that must answer `expected`; its JSON answer (null when it has none).
async fn call(
    server: &Server,
    method: Method,
    path: &str,
    auth: Option<&str>,
    body: Option<&Value>,
    expected: u16,
) -> Value {
    let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
    let answer = send(server, method.clone(), path, auth, body).await;
    assert_eq!(answer.status, expected, "{method} {path}: {}", answer.body);
    serde_json::from_str(&answer.body).unwrap_or(Value::Null)
}

/// Creates a credential through the admin API (`admin` for an admin one); (key, secret).
async fn issue(server: &Server, tenant: &str, scopes: &[&str], admin: bool) -> (String, String) {
    let root = basic(ADMIN_KEY, ADMIN_SECRET);
    let status = send(
        server,
        Method::POST,
        "/admin/tenants",
        Some(&root),
        Some((
            "application/json",
            json!({"name": tenant}).to_string().into_bytes(),
        )),
    )
    .await
    .status;
    assert!(status == 201 || status == 409, "tenant {tenant}: {status}");
    let issued = call(
        server,
        Method::POST,
        "/admin/credentials",
        Some(&root),
        Some(&json!({"tenant": tenant, "scopes": scopes, "admin": admin})),
        201,
    )
    .await;
    let secret = issued["secret"].as_str().expect("secret").to_owned();
    remember_secret(&secret);
    (issued["key"].as_str().expect("key").to_owned(), secret)
}

/// Starts a SCORM session on a launch link: its session id (from the commit URL).
async fn start_session(server: &Server, launch: &str) -> String {
    let started = call(
        server,
        Method::POST,
        &format!("{launch}/api/navigate"),
        None,
        Some(&json!({"request": "start"})),
        200,
    )
    .await;
    let commit_url = started["delivery"]["commit_url"]
        .as_str()
        .unwrap_or_else(|| panic!("no delivery: {started}"))
        .to_owned();
    commit_url
        .trim_end_matches("/commits")
        .rsplit('/')
        .next()
        .expect("session id")
        .to_owned()
}

fn commit(location: &str) -> Value {
    json!({
        "data_model": "Scorm12",
        "sequence": 1,
        "terminated": false,
        "values": [{"element": "cmi.core.lesson_location", "value": location}],
    })
}

/// Gives tenant A data in every part of the server, and tenant B credentials, a package and a
/// launch link of its own.
async fn seed(server: &Server) -> World {
    let (a_key, a_secret) = issue(server, A_TENANT, &["all"], true).await;
    let (a_spare_key, a_spare_secret) = issue(server, A_TENANT, &["all"], false).await;
    let (b_key, b_secret) = issue(server, B_TENANT, &["all"], false).await;
    let (b_admin_key, b_admin_secret) = issue(server, B_TENANT, &["all"], true).await;
    let a = basic(&a_key, &a_secret);
    let b = basic(&b_key, &b_secret);

    // Statements: one with a definition and a registration, one with an attachment, one
    // voided.
    let registration_id = uuid::Uuid::new_v4().to_string();
    let statement = json!({
        "actor": {"objectType": "Agent", "name": A_NAME, "mbox": A_MBOX},
        "verb": {"id": A_VERB, "display": {"en-US": "qz7alpha practised"}},
        "object": {"objectType": "Activity", "id": A_ACTIVITY,
                   "definition": {"name": {"en-US": A_ACTIVITY_NAME}}},
        "context": {"registration": registration_id,
                    "instructor": agent_json(A_MANAGER),
                    "contextActivities": {"parent": [{"id": format!("{A_ACTIVITY}/parent")}]}}
    });
    let ids = call(
        server,
        Method::POST,
        "/xapi/statements",
        Some(&a),
        Some(&json!([statement.clone(), statement.clone()])),
        200,
    )
    .await;
    let statement_id = ids[0].as_str().expect("id").to_owned();
    let voided = ids[1].as_str().expect("id").to_owned();
    call(
        server,
        Method::POST,
        "/xapi/statements",
        Some(&a),
        Some(&json!({
            "actor": agent_json(A_MANAGER),
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
            "object": {"objectType": "StatementRef", "id": voided}
        })),
        200,
    )
    .await;
    let attachment = uuid::Uuid::new_v4().to_string();
    let hash = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(A_ATTACHMENT))
    };
    let mut with_attachment = statement.clone();
    with_attachment["id"] = json!(attachment);
    with_attachment["attachments"] = json!([{
        "usageType": "http://alpha.example/usage/qz7alpha",
        "display": {"en-US": "qz7alpha attachment"},
        "contentType": "text/plain",
        "length": A_ATTACHMENT.len(),
        "sha2": hash
    }]);
    let mut multipart = b"--xyz\r\nContent-Type: application/json\r\n\r\n".to_vec();
    multipart.extend_from_slice(with_attachment.to_string().as_bytes());
    multipart.extend_from_slice(
        format!(
            "\r\n--xyz\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n\
             X-Experience-API-Hash: {hash}\r\n\r\n"
        )
        .as_bytes(),
    );
    multipart.extend_from_slice(A_ATTACHMENT);
    multipart.extend_from_slice(b"\r\n--xyz--\r\n");
    let (status, text) = send(
        server,
        Method::POST,
        "/xapi/statements",
        Some(&a),
        Some(("multipart/mixed; boundary=xyz", multipart)),
    )
    .await
    .pair();
    assert_eq!(status, 200, "attachment: {text}");
    let page = call(
        server,
        Method::GET,
        "/xapi/statements?limit=1",
        Some(&a),
        None,
        200,
    )
    .await;
    let more = page["more"].as_str().expect("more").to_owned();
    assert!(more.starts_with("/xapi/statements?more="), "{page}");

    // Documents of the three kinds.
    for (path, content) in [
        (
            format!(
                "/xapi/activities/state?activityId={}&agent={}&stateId={A_STATE_ID}&registration={registration_id}",
                encode(A_ACTIVITY),
                encode(&agent_json(A_MBOX).to_string())
            ),
            A_STATE,
        ),
        (
            format!(
                "/xapi/activities/profile?activityId={}&profileId={A_ACTIVITY_PROFILE_ID}",
                encode(A_ACTIVITY)
            ),
            A_ACTIVITY_PROFILE,
        ),
        (
            format!(
                "/xapi/agents/profile?agent={}&profileId={A_AGENT_PROFILE_ID}",
                encode(&agent_json(A_MBOX).to_string())
            ),
            A_AGENT_PROFILE,
        ),
    ] {
        let (status, text) = send(
            server,
            Method::PUT,
            &path,
            Some(&a),
            Some(("text/plain", content.as_bytes().to_vec())),
        )
        .await
        .pair();
        assert_eq!(status, 204, "{path}: {text}");
    }

    // SCORM: a package, two registrations with a session and a commit each.
    let (status, text) = send(
        server,
        Method::POST,
        "/scorm/packages",
        Some(&a),
        Some(("application/zip", alpha_course())),
    )
    .await
    .pair();
    assert_eq!(status, 201, "import: {text}");
    let packages = call(server, Method::GET, "/scorm/packages", Some(&a), None, 200).await;
    let package = packages["packages"][0]["id"]
        .as_str()
        .expect("package id")
        .to_owned();
    let mut registrations = Vec::new();
    for location in [A_LOCATION_R1, A_LOCATION_R2] {
        let registration = call(
            server,
            Method::POST,
            "/scorm/registrations",
            Some(&a),
            Some(&json!({"package": package, "learner": learner()})),
            201,
        )
        .await;
        let launch = registration["launch"]["url"]
            .as_str()
            .expect("launch")
            .to_owned();
        remember_secret(&launch);
        let session = start_session(server, &launch).await;
        let answer = call(
            server,
            Method::POST,
            &format!("{launch}/api/sessions/{session}/commits"),
            None,
            Some(&commit(location)),
            200,
        )
        .await;
        assert_eq!(answer["accepted"], json!(true), "{answer}");
        registrations.push((
            registration["id"].as_str().expect("id").to_owned(),
            launch,
            session,
        ));
    }
    let (r2, r2_launch, r2_session) = registrations.pop().expect("r2");
    let (r1, r1_launch, r1_session) = registrations.pop().expect("r1");

    // The capability model, and a recorded session.
    for (path, body) in [
        (
            format!("/capabilities/frameworks/{A_FRAMEWORK}"),
            json!({
                "id": A_FRAMEWORK, "name": A_FRAMEWORK_NAME, "version": "1",
                "scale": [{"level": 1, "label": "Qz7alpha aware"}, {"level": 2, "label": "Qz7alpha leading"}],
                "capabilities": [{"id": A_CAPABILITY, "code": "QZ7A", "name": A_CAPABILITY_NAME,
                                  "iri": A_CAPABILITY_IRI}]
            }),
        ),
        (
            format!("/capabilities/roles/{A_ROLE}"),
            json!({"id": A_ROLE, "name": A_ROLE_NAME,
                   "requirements": [{"capability": A_CAPABILITY, "level": 2, "criticality": "essential"}]}),
        ),
        (
            "/capabilities/assignments".to_owned(),
            json!([{"person": agent_json(A_MBOX), "role": A_ROLE,
                    "from": "2025-01-01T00:00:00Z", "manager": agent_json(A_MANAGER)}]),
        ),
        (
            "/capabilities/rules".to_owned(),
            json!([{
                "id": "qz7alpha-rule", "version": 1,
                "match": {"verbs": [A_VERB]},
                "emit": {"capability": {"from": "grouping"}, "level": {"fixed": 1}, "weight": 0.5}
            }, {
                "id": "qz7alpha-manager", "version": 1,
                "match": {"verbs": ["https://w3id.org/xapi/tla/verbs/achieved"],
                          "activity_types": ["https://w3id.org/xapi/tla/activity-types/competency"],
                          "raters": ["manager"]},
                "emit": {"capability": {"from": "object"}, "level": "score-raw", "weight": 1.0}
            }]),
        ),
    ] {
        call(server, Method::PUT, &path, Some(&a), Some(&body), 201).await;
    }
    let recorded = call(
        server,
        Method::POST,
        "/capabilities/records",
        Some(&a),
        Some(&json!({
            "kind": "manager-assessment",
            "learner": {"objectType": "Agent", "name": A_NAME, "mbox": A_MBOX},
            "by": agent_json(A_MANAGER),
            "capability": format!("{A_FRAMEWORK}/{A_CAPABILITY}"),
            "occurred": "2025-03-01T09:00:00Z",
            "level": 2,
            "notes": A_NOTES,
        })),
        201,
    )
    .await;
    assert!(recorded["statements"][0].is_string(), "{recorded}");
    call(
        server,
        Method::POST,
        "/capabilities/sync",
        Some(&a),
        None,
        200,
    )
    .await;
    // A's own view of its report has the assessment, so B's empty one means something.
    let report = call(
        server,
        Method::GET,
        &format!(
            "/capabilities/roles/{A_ROLE}/gap?agent={}",
            encode(&agent_json(A_MBOX).to_string())
        ),
        Some(&a),
        None,
        200,
    )
    .await;
    assert_eq!(report["rows"][0]["achieved"], json!(2), "{report}");

    // A's audit log holds its administrative requests.
    let audit = call(server, Method::GET, "/admin/audit", Some(&a), None, 200).await;
    assert!(audit.to_string().contains(A_FRAMEWORK), "{audit}");

    // B: a statement, and a package and launch link of its own.
    call(
        server,
        Method::POST,
        "/xapi/statements",
        Some(&b),
        Some(&crate::helpers::statement(
            "bravo@example.com",
            "did",
            "bravo",
        )),
        200,
    )
    .await;
    let (status, text) = send(
        server,
        Method::POST,
        "/scorm/packages",
        Some(&b),
        Some(("application/zip", crate::scorm::course())),
    )
    .await
    .pair();
    assert_eq!(status, 201, "import: {text}");
    let b_packages = call(server, Method::GET, "/scorm/packages", Some(&b), None, 200).await;
    let b_registration = call(
        server,
        Method::POST,
        "/scorm/registrations",
        Some(&b),
        Some(&json!({"package": b_packages["packages"][0]["id"],
                     "learner": {"objectType": "Agent", "mbox": "mailto:bravo@example.com"}})),
        201,
    )
    .await;
    let b_launch = b_registration["launch"]["url"]
        .as_str()
        .expect("launch")
        .to_owned();
    remember_secret(&b_launch);
    let b_session = start_session(server, &b_launch).await;

    World {
        a_key,
        a_secret,
        a_spare_key,
        a_spare_secret,
        b_key,
        b_secret,
        b_admin_key,
        b_admin_secret,
        statement: statement_id,
        voided,
        attachment,
        registration_id,
        more,
        package,
        r1,
        r2,
        r1_launch,
        r2_launch,
        r1_session,
        r2_session,
        b_launch,
        b_session,
    }
}

impl World {
    /// Everything of tenant A's that no answer to B may contain.
    fn markers(&self) -> Vec<String> {
        let mut markers: Vec<String> = [
            A_TENANT,
            A_NAME,
            A_MBOX,
            A_MANAGER,
            A_VERB,
            A_ACTIVITY,
            A_ACTIVITY_NAME,
            A_STATE_ID,
            A_STATE,
            A_ACTIVITY_PROFILE_ID,
            A_ACTIVITY_PROFILE,
            A_AGENT_PROFILE_ID,
            A_AGENT_PROFILE,
            A_COURSE_TITLE,
            A_SCO_FILE,
            A_SCO_CONTENT,
            A_LEARNER_ACCOUNT,
            A_LOCATION_R1,
            A_LOCATION_R2,
            A_FRAMEWORK,
            A_FRAMEWORK_NAME,
            A_CAPABILITY,
            A_CAPABILITY_NAME,
            A_CAPABILITY_IRI,
            A_ROLE,
            A_ROLE_NAME,
            A_NOTES,
            TAG,
        ]
        .iter()
        .map(|m| (*m).to_owned())
        .collect();
        markers.push(String::from_utf8_lossy(A_ATTACHMENT).into_owned());
        markers.extend(
            [
                &self.a_key,
                &self.a_secret,
                &self.a_spare_key,
                &self.a_spare_secret,
                &self.statement,
                &self.voided,
                &self.attachment,
                &self.registration_id,
                &self.package,
                &self.r1,
                &self.r2,
                &self.r1_session,
                &self.r2_session,
            ]
            .into_iter()
            .cloned(),
        );
        markers.push(
            self.more
                .trim_start_matches("/xapi/statements?more=")
                .to_owned(),
        );
        for launch in [&self.r1_launch, &self.r2_launch] {
            markers.push(launch.trim_start_matches("/scorm/launch/").to_owned());
        }
        markers
    }

    /// One row per route and method of the server, aimed at A's ids.
    fn rows(&self) -> Vec<Row> {
        let agent = encode(&agent_json(A_MBOX).to_string());
        let manager = encode(&agent_json(A_MANAGER).to_string());
        let activity = encode(A_ACTIVITY);
        let state = format!(
            "/xapi/activities/state?activityId={activity}&agent={agent}&stateId={A_STATE_ID}&registration={}",
            self.registration_id
        );
        let states = format!("/xapi/activities/state?activityId={activity}&agent={agent}");
        let activity_profile = format!(
            "/xapi/activities/profile?activityId={activity}&profileId={A_ACTIVITY_PROFILE_ID}"
        );
        let activity_profiles = format!("/xapi/activities/profile?activityId={activity}");
        let agent_profile =
            format!("/xapi/agents/profile?agent={agent}&profileId={A_AGENT_PROFILE_ID}");
        let agent_profiles = format!("/xapi/agents/profile?agent={agent}");
        let b_document = b"bravo's own document".to_vec();
        let b_statement = crate::helpers::statement("bravo@example.com", "did", "bravo");
        let voiding = json!({
            "actor": agent_json("mailto:bravo@example.com"),
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
            "object": {"objectType": "StatementRef", "id": self.statement}
        });
        let b_token = self.b_launch.trim_start_matches("/scorm/launch/");
        let statements = "/xapi/statements";
        let fw = format!("/capabilities/frameworks/{A_FRAMEWORK}");
        let role = format!("/capabilities/roles/{A_ROLE}");
        let progression = format!("person={agent}&capability={A_CAPABILITY}");
        vec![
            // Audit first: B's later writes aimed at A's ids are audited in B's own log.
            row(Method::GET, "/admin/audit", "/admin/audit")
                .expect(FORBIDDEN)
                .admin(OK),
            // xAPI: About and the Statement Resource.
            row(Method::GET, "/xapi/about", "/xapi/about").expect(OK),
            row(
                Method::GET,
                statements,
                format!("{statements}?statementId={}", self.statement),
            )
            .expect(NOT_FOUND),
            row(
                Method::GET,
                statements,
                format!("{statements}?voidedStatementId={}", self.voided),
            )
            .expect(NOT_FOUND),
            row(
                Method::GET,
                statements,
                format!(
                    "{statements}?statementId={}&attachments=true",
                    self.attachment
                ),
            )
            .expect(NOT_FOUND),
            row(
                Method::GET,
                statements,
                format!("{statements}?agent={agent}&related_agents=true"),
            )
            .expect(OK),
            row(
                Method::GET,
                statements,
                format!("{statements}?verb={}", encode(A_VERB)),
            )
            .expect(OK),
            row(
                Method::GET,
                statements,
                format!(
                    "{statements}?activity={activity}&related_activities=true&format=canonical"
                ),
            )
            .expect(OK),
            row(
                Method::GET,
                statements,
                format!("{statements}?registration={}", self.registration_id),
            )
            .expect(OK),
            row(
                Method::GET,
                statements,
                format!("{statements}?attachments=true"),
            )
            .expect(OK),
            row(Method::GET, statements, self.more.clone()).expect(OK),
            // The 1.0.3 alternate request syntax, rewritten before routing.
            row(Method::POST, statements, format!("{statements}?method=GET"))
                .bytes(
                    "application/x-www-form-urlencoded",
                    format!("statementId={}", self.statement),
                )
                .expect(NOT_FOUND),
            // B's own statement under A's id, and B voiding A's: in B's tenant, A's untouched
            // (checked after the matrix). After every read, since B's own statements then
            // name A's id.
            row(
                Method::PUT,
                statements,
                format!("{statements}?statementId={}", self.statement),
            )
            .json(&b_statement)
            .all(&[204])
            .admin(&[204]),
            row(Method::POST, statements, statements)
                .json(&voiding)
                .expect(OK),
            // xAPI: documents.
            row(Method::GET, "/xapi/activities/state", state.clone()).expect(NOT_FOUND),
            row(Method::GET, "/xapi/activities/state", states.clone()).expect(OK),
            // B's admin finds B's own document there, put by the row's first run.
            row(Method::PUT, "/xapi/activities/state", state.clone())
                .bytes("text/plain", b_document.clone())
                .expect(&[204, 409]),
            row(Method::POST, "/xapi/activities/state", state.clone())
                .bytes("text/plain", b_document.clone())
                .expect(&[204, 400]),
            row(Method::DELETE, "/xapi/activities/state", state).expect(&[204]),
            row(Method::DELETE, "/xapi/activities/state", states).expect(&[204]),
            row(
                Method::GET,
                "/xapi/activities/profile",
                activity_profile.clone(),
            )
            .expect(NOT_FOUND),
            row(Method::GET, "/xapi/activities/profile", activity_profiles).expect(OK),
            row(
                Method::PUT,
                "/xapi/activities/profile",
                activity_profile.clone(),
            )
            .bytes("text/plain", b_document.clone())
            .expect(&[204, 409, 412]),
            row(
                Method::POST,
                "/xapi/activities/profile",
                activity_profile.clone(),
            )
            .bytes("text/plain", b_document.clone())
            .expect(&[204, 400, 409, 412]),
            row(Method::DELETE, "/xapi/activities/profile", activity_profile)
                .expect(&[204, 409, 412]),
            row(Method::GET, "/xapi/agents/profile", agent_profile.clone()).expect(NOT_FOUND),
            row(Method::GET, "/xapi/agents/profile", agent_profiles).expect(OK),
            row(Method::PUT, "/xapi/agents/profile", agent_profile.clone())
                .bytes("text/plain", b_document.clone())
                .expect(&[204, 409, 412]),
            row(Method::POST, "/xapi/agents/profile", agent_profile.clone())
                .bytes("text/plain", b_document)
                .expect(&[204, 400, 409, 412]),
            row(Method::DELETE, "/xapi/agents/profile", agent_profile).expect(&[204, 409, 412]),
            // xAPI: the Activities and Agents resources.
            row(
                Method::GET,
                "/xapi/activities",
                format!("/xapi/activities?activityId={activity}"),
            )
            .expect(&[200, 404]),
            row(
                Method::GET,
                "/xapi/agents",
                format!("/xapi/agents?agent={agent}"),
            )
            .expect(OK),
            // Administration, refused to B's full-rights credential; what B's admin credential
            // may do is `an_admin_of_one_tenant_administers_only_its_own`.
            row(Method::GET, "/admin/tenants", "/admin/tenants")
                .expect(FORBIDDEN)
                .admin(&[]),
            row(Method::POST, "/admin/tenants", "/admin/tenants")
                .json(&json!({"name": "isoqz7bravo-second"}))
                .expect(FORBIDDEN)
                .admin(&[]),
            row(Method::GET, "/admin/credentials", "/admin/credentials")
                .expect(FORBIDDEN)
                .admin(&[]),
            // A backup holds every tenant: the server's operator only, never a tenant's admin.
            row(Method::GET, "/admin/backup", "/admin/backup").expect(FORBIDDEN),
            row(Method::POST, "/admin/credentials", "/admin/credentials")
                .json(&json!({"tenant": A_TENANT, "scopes": ["all"]}))
                .expect(FORBIDDEN)
                .admin(&[]),
            row(
                Method::DELETE,
                "/admin/credentials/{key}",
                format!("/admin/credentials/{}", self.a_spare_key),
            )
            .expect(FORBIDDEN)
            .admin(&[]),
            // SCORM administration.
            row(Method::GET, "/scorm/packages", "/scorm/packages").expect(OK),
            row(Method::POST, "/scorm/packages", "/scorm/packages")
                .bytes("application/zip", crate::scorm::course())
                .expect(&[201]),
            row(
                Method::GET,
                "/scorm/packages/{id}",
                format!("/scorm/packages/{}", self.package),
            )
            .expect(NOT_FOUND),
            row(
                Method::DELETE,
                "/scorm/packages/{id}",
                format!("/scorm/packages/{}", self.package),
            )
            .expect(NOT_FOUND),
            row(Method::POST, "/scorm/registrations", "/scorm/registrations")
                .json(&json!({"package": self.package, "learner": learner()}))
                .expect(&[400, 404]),
            row(
                Method::GET,
                "/scorm/registrations/{id}",
                format!("/scorm/registrations/{}", self.r1),
            )
            .expect(NOT_FOUND),
            row(
                Method::POST,
                "/scorm/registrations/{id}/launch",
                format!("/scorm/registrations/{}/launch", self.r1),
            )
            .expect(NOT_FOUND),
            // SCORM under B's own launch link, aimed at A's content and sessions.
            row(Method::GET, "/scorm/launch/{token}", self.b_launch.clone())
                .link()
                .expect(OK),
            row(
                Method::GET,
                "/scorm/launch/{token}/content/{*path}",
                format!("/scorm/launch/{b_token}/content/{A_SCO_FILE}"),
            )
            .link()
            .expect(NOT_FOUND),
            row(
                Method::HEAD,
                "/scorm/launch/{token}/content/{*path}",
                format!("/scorm/launch/{b_token}/content/{A_SCO_FILE}"),
            )
            .link()
            .expect(NOT_FOUND),
            row(
                Method::POST,
                "/scorm/launch/{token}/api/navigate",
                format!("/scorm/launch/{b_token}/api/navigate"),
            )
            .bytes("text/plain", json!({"request": "resumeAll"}).to_string())
            .link()
            .expect(&[200, 400, 409]),
            row(
                Method::POST,
                "/scorm/launch/{token}/api/sessions/{session}/commits",
                format!(
                    "/scorm/launch/{b_token}/api/sessions/{}/commits",
                    self.r1_session
                ),
            )
            .bytes("text/plain", commit("bravo-location").to_string())
            .link()
            .expect(NOT_FOUND),
            row(
                Method::GET,
                "/scorm/assets/{name}",
                "/scorm/assets/player.js",
            )
            .link()
            .expect(&[200, 404]),
            row(Method::GET, "/favicon.ico", "/favicon.ico")
                .link()
                .expect(&[204]),
            // Capabilities: the model.
            row(
                Method::GET,
                "/capabilities/frameworks",
                "/capabilities/frameworks",
            )
            .expect(OK),
            row(Method::GET, "/capabilities/frameworks/{id}", fw.clone()).expect(NOT_FOUND),
            row(Method::PUT, "/capabilities/frameworks/{id}", fw.clone())
                .json(&json!({"id": A_FRAMEWORK}))
                .expect(&[400]),
            row(
                Method::POST,
                "/capabilities/frameworks/{id}/import",
                format!("{fw}/import?format=csv"),
            )
            .bytes("text/csv", "not,a,framework\n")
            .expect(&[400]),
            row(
                Method::GET,
                "/capabilities/frameworks/{id}/export",
                format!("{fw}/export?format=csv"),
            )
            .expect(NOT_FOUND),
            row(
                Method::GET,
                "/capabilities/badges",
                format!("/capabilities/badges?agent={agent}"),
            )
            .expect(&[200, 404]),
            row(Method::GET, "/capabilities/roles", "/capabilities/roles").expect(OK),
            row(Method::GET, "/capabilities/roles/{id}", role.clone()).expect(NOT_FOUND),
            row(Method::PUT, "/capabilities/roles/{id}", role.clone())
                .json(&json!({"id": A_ROLE, "name": "bravo",
                              "requirements": [{"capability": A_CAPABILITY, "level": 2}]}))
                .expect(&[400]),
            row(
                Method::GET,
                "/capabilities/roles/{id}/gap",
                format!("{role}/gap?agent={agent}"),
            )
            .expect(NOT_FOUND),
            row(
                Method::GET,
                "/capabilities/roles/{id}/heatmap",
                format!("{role}/heatmap"),
            )
            .expect(NOT_FOUND),
            row(
                Method::GET,
                "/capabilities/assignments",
                "/capabilities/assignments",
            )
            .expect(&[200, 404]),
            row(
                Method::PUT,
                "/capabilities/assignments",
                "/capabilities/assignments",
            )
            .json(&json!([{"person": agent_json(A_MBOX), "role": A_ROLE,
                               "from": "2025-01-01T00:00:00Z"}]))
            .expect(&[400]),
            row(Method::GET, "/capabilities/rules", "/capabilities/rules").expect(&[200, 404]),
            row(Method::PUT, "/capabilities/rules", "/capabilities/rules")
                .json(&json!([]))
                .expect(&[200, 201]),
            row(Method::GET, "/capabilities/config", "/capabilities/config").expect(&[200, 404]),
            row(Method::PUT, "/capabilities/config", "/capabilities/config")
                .json(&json!({}))
                .expect(&[200, 201, 400]),
            row(Method::POST, "/capabilities/sync", "/capabilities/sync").expect(OK),
            // Capabilities: reports about A's people.
            row(
                Method::GET,
                "/capabilities/people/assessments",
                format!("/capabilities/people/assessments?agent={agent}"),
            )
            .expect(&[200, 404]),
            row(
                Method::GET,
                "/capabilities/people/report",
                format!("/capabilities/people/report?agent={agent}"),
            )
            .expect(&[200, 404]),
            row(
                Method::GET,
                "/capabilities/managers/heatmap",
                format!("/capabilities/managers/heatmap?manager={manager}"),
            )
            .expect(&[200, 404]),
            row(
                Method::GET,
                "/capabilities/people/progression",
                format!("/capabilities/people/progression?{progression}"),
            )
            .expect(&[400, 404]),
            row(
                Method::GET,
                "/capabilities/stale",
                format!("/capabilities/stale?agent={agent}"),
            )
            .expect(OK),
            row(Method::GET, "/capabilities/stale", "/capabilities/stale").expect(OK),
            row(
                Method::GET,
                "/capabilities/profile",
                "/capabilities/profile",
            )
            .expect(OK),
            row(
                Method::POST,
                "/capabilities/records",
                "/capabilities/records",
            )
            .json(&json!({
                "kind": "manager-assessment",
                "learner": agent_json(A_MBOX),
                "by": agent_json(A_MANAGER),
                "capability": format!("{A_FRAMEWORK}/{A_CAPABILITY}"),
                "occurred": "2025-03-01T09:00:00Z",
                "level": 2,
            }))
            .expect(&[400]),
            // Capabilities: the report pages.
            row(
                Method::GET,
                "/capabilities/pages/assets/report.css",
                "/capabilities/pages/assets/report.css",
            )
            .expect(OK),
            row(
                Method::GET,
                "/capabilities/pages/roles/{id}/heatmap",
                format!("/capabilities/pages/roles/{A_ROLE}/heatmap"),
            )
            .expect(NOT_FOUND),
            row(
                Method::GET,
                "/capabilities/pages/roles/{id}/gap",
                format!("/capabilities/pages/roles/{A_ROLE}/gap?person={agent}"),
            )
            .expect(NOT_FOUND),
            row(
                Method::GET,
                "/capabilities/pages/managers/heatmap",
                format!("/capabilities/pages/managers/heatmap?manager={manager}"),
            )
            .expect(&[200, 404]),
            row(
                Method::GET,
                "/capabilities/pages/people/progression",
                format!("/capabilities/pages/people/progression?{progression}"),
            )
            .expect(&[400, 404]),
        ]
    }
}

/// What a request itself names (its decoded path, query and body): an answer may echo it
/// without leaking anything.
fn named_by(path: &str, body: Option<&(String, Vec<u8>)>) -> String {
    let mut text = path.to_owned();
    if let Some((_, query)) = path.split_once('?') {
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            text.push_str(&format!("\n{k}={v}"));
        }
    }
    if let Some((_, bytes)) = body {
        text.push('\n');
        text.push_str(&String::from_utf8_lossy(bytes));
    }
    text
}

/// Runs one row with one credential (none for a launch-link row); a description of what went
/// wrong, if anything.
async fn check_row(
    server: &Server,
    row: &Row,
    who: &str,
    auth: Option<&str>,
    allowed: &[u16],
    markers: &[String],
) -> Option<String> {
    let body = row
        .body
        .as_ref()
        .map(|(content_type, bytes)| (content_type.as_str(), bytes.clone()));
    let (status, text) = send(server, row.method.clone(), &row.path, auth, body)
        .await
        .pair();
    let named = named_by(&row.path, row.body.as_ref());
    let leaked: Vec<&String> = markers
        .iter()
        .filter(|m| !named.contains(m.as_str()) && text.contains(m.as_str()))
        .collect();
    let short = |t: &str| t.chars().take(600).collect::<String>();
    if !allowed.contains(&status) {
        return Some(format!(
            "{} {} as {who}: status {status}, allowed {allowed:?}\n{}",
            row.method,
            row.path,
            short(&text)
        ));
    }
    if !leaked.is_empty() {
        return Some(format!(
            "{} {} as {who}: answer {status} carries tenant A's {leaked:?}\n{}",
            row.method,
            row.path,
            short(&text)
        ));
    }
    None
}

/// Every `(METHOD, route)` the routers declare, read from their sources.
fn declared_routes() -> BTreeSet<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ROUTER_SOURCES {
        collect_rust_files(&root.join(dir), &mut files);
    }
    let sources: Vec<(String, String)> = files
        .iter()
        .map(|path| {
            let relative = path
                .strip_prefix(root)
                .unwrap_or(path)
                .to_string_lossy()
                .into_owned();
            (
                relative,
                std::fs::read_to_string(path).expect("router source"),
            )
        })
        .collect();
    let mut routes = BTreeSet::new();
    for (file, text) in &sources {
        let prefix = match file.as_str() {
            "lrs/src/http/xapi_api.rs"
            | "lrs/src/http/resources.rs"
            | "lrs/src/http/documents.rs" => "/xapi",
            "lrs/src/http/admin.rs" => "/admin",
            _ => "",
        };
        for (path, methods) in routes_in(text, &sources) {
            assert!(
                !methods.is_empty(),
                "{file}: no method found for the route {path}"
            );
            for method in methods {
                routes.insert((method, format!("{prefix}{path}")));
            }
        }
    }
    routes
}

fn collect_rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        panic!("cannot read {}", dir.display());
    };
    for entry in entries.map_while(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            collect_rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs")
            && path.file_name().is_some_and(|n| n != "tests.rs")
        {
            out.push(path);
        }
    }
}

/// The `.route(PATH, METHODS)` calls of one source file: each path (a literal, or a constant
/// found in `sources`) with its methods (in the call, or in the function it calls).
fn routes_in(text: &str, sources: &[(String, String)]) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices(".route(") {
        let rest = text[at + ".route(".len()..].trim_start();
        let (path, after) = if let Some(literal) = rest.strip_prefix('"') {
            let end = literal.find('"').expect("closing quote");
            (literal[..end].to_owned(), &literal[end + 1..])
        } else {
            let end = rest.find(',').expect("route arguments");
            let name = rest[..end].trim().rsplit("::").next().unwrap_or_default();
            (constant(name, sources), &rest[end..])
        };
        let expression = call_arguments(after);
        let mut methods = methods_in(expression);
        if methods.is_empty() {
            let callee: String = expression
                .trim_start_matches([',', ' ', '\n'])
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if let Some(start) = text.find(&format!("fn {callee}(")) {
                let body = &text[start..];
                let end = body.find("\n}\n").unwrap_or(body.len());
                methods = methods_in(&body[..end]);
            }
        }
        found.push((path, methods));
    }
    found
}

/// The value of a `const NAME: &str = "…";` of the sources that is a path.
fn constant(name: &str, sources: &[(String, String)]) -> String {
    let declaration = format!("const {name}: &str = \"");
    sources
        .iter()
        .flat_map(|(_, text)| {
            text.match_indices(&declaration)
                .map(move |(at, d)| &text[at + d.len()..])
        })
        .filter_map(|rest| rest.split_once('"').map(|(value, _)| value.to_owned()))
        .find(|value| value.starts_with('/'))
        .unwrap_or_else(|| panic!("the route constant {name} is not found"))
}

/// The text up to the parenthesis closing the `.route(` call.
fn call_arguments(after: &str) -> &str {
    let mut depth = 1;
    let mut in_string = false;
    for (i, c) in after.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '(' if !in_string => depth += 1,
            ')' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    return &after[..i];
                }
            }
            _ => {}
        }
    }
    after
}

/// The HTTP methods routed in an expression: `get(…)`, `.put(…)` and so on.
fn methods_in(expression: &str) -> Vec<String> {
    let mut methods = Vec::new();
    for method in ["get", "put", "post", "delete", "head", "patch", "options"] {
        let call = format!("{method}(");
        let routed = expression.match_indices(&call).any(|(at, _)| {
            expression[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':'))
        });
        if routed {
            methods.push(method.to_uppercase());
        }
    }
    methods
}

/// Whether a concrete path fits a route (`{x}` one segment, `{*x}` the rest).
fn fits(route: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    let mut pattern = route.split('/');
    let mut segments = path.split('/');
    loop {
        match (pattern.next(), segments.next()) {
            (None, None) => return true,
            (Some(p), Some(_)) if p.starts_with("{*") => return true,
            (Some(p), Some(s)) if p.starts_with('{') && !s.is_empty() => {}
            (Some(p), Some(s)) if p == s => {}
            _ => return false,
        }
    }
}

#[tokio::test]
async fn every_route_refuses_another_tenant_and_leaks_nothing() {
    let server = Server::start();
    let world = seed(&server).await;
    let markers = world.markers();
    let rows = world.rows();

    // The matrix covers every route and method the routers declare, and names no other.
    let declared = declared_routes();
    let covered: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (r.method.to_string(), r.route.to_owned()))
        .collect();
    let missing: Vec<_> = declared.difference(&covered).collect();
    assert!(missing.is_empty(), "routes without a row: {missing:?}");
    let unknown: Vec<_> = covered.difference(&declared).collect();
    assert!(unknown.is_empty(), "rows of no declared route: {unknown:?}");
    for row in &rows {
        assert!(
            fits(row.route, &row.path),
            "{} is not {}",
            row.path,
            row.route
        );
    }

    let b = basic(&world.b_key, &world.b_secret);
    let b_admin = basic(&world.b_admin_key, &world.b_admin_secret);
    let mut failures = Vec::new();
    let mut requests = 0;
    for row in &rows {
        let runs: Vec<(&str, Option<&str>, &[u16])> = if row.link {
            vec![("B's launch link", None, row.all)]
        } else {
            let mut runs = vec![("B (all)", Some(b.as_str()), row.all)];
            if !row.admin.is_empty() {
                runs.push(("B (admin)", Some(b_admin.as_str()), row.admin));
            }
            runs
        };
        for (who, auth, allowed) in runs {
            requests += 1;
            if let Some(failure) = check_row(&server, row, who, auth, allowed, &markers).await {
                failures.push(failure);
            }
        }
    }

    // A's data is all still there and unchanged.
    let a = basic(&world.a_key, &world.a_secret);
    let agent = encode(&agent_json(A_MBOX).to_string());
    let activity = encode(A_ACTIVITY);
    for (path, marker) in [
        (
            format!("/xapi/statements?statementId={}", world.statement),
            A_ACTIVITY_NAME.to_owned(),
        ),
        (
            format!("/xapi/statements?voidedStatementId={}", world.voided),
            A_NAME.to_owned(),
        ),
        (
            format!(
                "/xapi/statements?statementId={}&attachments=true",
                world.attachment
            ),
            String::from_utf8_lossy(A_ATTACHMENT).into_owned(),
        ),
        (
            format!(
                "/xapi/activities/state?activityId={activity}&agent={agent}&stateId={A_STATE_ID}&registration={}",
                world.registration_id
            ),
            A_STATE.to_owned(),
        ),
        (
            format!(
                "/xapi/activities/profile?activityId={activity}&profileId={A_ACTIVITY_PROFILE_ID}"
            ),
            A_ACTIVITY_PROFILE.to_owned(),
        ),
        (
            format!("/xapi/agents/profile?agent={agent}&profileId={A_AGENT_PROFILE_ID}"),
            A_AGENT_PROFILE.to_owned(),
        ),
        (
            format!("/scorm/packages/{}", world.package),
            A_COURSE_TITLE.to_owned(),
        ),
        (
            format!("/scorm/registrations/{}", world.r1),
            A_LOCATION_R1.to_owned(),
        ),
        (
            format!("/capabilities/frameworks/{A_FRAMEWORK}"),
            A_FRAMEWORK_NAME.to_owned(),
        ),
        (
            format!("/capabilities/roles/{A_ROLE}"),
            A_ROLE_NAME.to_owned(),
        ),
        ("/capabilities/assignments".to_owned(), A_MANAGER.to_owned()),
        ("/capabilities/rules".to_owned(), A_VERB.to_owned()),
    ] {
        let (status, text) = send(&server, Method::GET, &path, Some(&a), None)
            .await
            .pair();
        if status != 200 || !text.contains(&marker) {
            failures.push(format!(
                "A's {path} after the matrix: {status}, no {marker:?}"
            ));
        }
    }
    let statement = call(
        &server,
        Method::GET,
        &format!("/xapi/statements?statementId={}", world.statement),
        Some(&a),
        None,
        200,
    )
    .await;
    assert_eq!(
        statement["actor"]["mbox"],
        json!(A_MBOX),
        "not voided nor replaced"
    );
    let spare = basic(&world.a_spare_key, &world.a_spare_secret);
    let (status, _) = send(
        &server,
        Method::GET,
        "/xapi/statements?limit=1",
        Some(&spare),
        None,
    )
    .await
    .pair();
    if status != 200 {
        failures.push(format!("A's spare credential after the matrix: {status}"));
    }

    println!(
        "isolation matrix: {} rows, {} routes and methods, {requests} requests, {} failures",
        rows.len(),
        declared.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} isolation failures:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[tokio::test]
async fn read_mine_sees_only_what_its_credential_stored() {
    let server = Server::start();
    let (mine_key, mine_secret) = issue(
        &server,
        A_TENANT,
        &["statements/write", "statements/read/mine"],
        false,
    )
    .await;
    let (other_key, other_secret) = issue(
        &server,
        A_TENANT,
        &["statements/write", "statements/read/mine"],
        false,
    )
    .await;
    let mine = server.xapi(&mine_key, &mine_secret);
    let other = server.xapi(&other_key, &other_secret);
    let mut ids: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (who, xapi) in [("mine", &mine), ("other", &other)] {
        for n in 0..3 {
            let response = xapi
                .post(&crate::helpers::statement(
                    "shared.qz7@example.com",
                    "did",
                    &format!("shared-{n}"),
                ))
                .await;
            assert_eq!(response.status(), 200);
            let stored: Vec<String> = response.json().await.unwrap();
            ids.entry(who).or_default().extend(stored);
        }
    }
    let voiding = json!({
        "actor": agent_json("mailto:other.qz7@example.com"),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": ids["other"][0]}
    });
    assert_eq!(other.post(&voiding).await.status(), 200);

    // By id: its own come back, the other credential's are not found.
    for id in &ids["mine"] {
        assert_eq!(mine.get(&format!("?statementId={id}")).await.status(), 200);
    }
    for id in &ids["other"][1..] {
        assert_eq!(mine.get(&format!("?statementId={id}")).await.status(), 404);
    }
    let voided = &ids["other"][0];
    assert_eq!(
        other
            .get(&format!("?voidedStatementId={voided}"))
            .await
            .status(),
        200
    );
    assert_eq!(
        mine.get(&format!("?voidedStatementId={voided}"))
            .await
            .status(),
        404
    );

    // Queries, paged one statement at a time, list exactly its own; so does the other
    // credential's `more` link followed with this one.
    let pages = |xapi: crate::helpers::Xapi, first: String| async move {
        let mut seen = Vec::new();
        let mut next = first;
        while !next.is_empty() {
            let response = xapi
                .request(Method::GET, next.trim_start_matches("/xapi"))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{next}");
            let page: Value = response.json().await.unwrap();
            for s in page["statements"].as_array().unwrap() {
                seen.push(s["id"].as_str().unwrap().to_owned());
            }
            next = page["more"].as_str().unwrap_or_default().to_owned();
            assert!(seen.len() <= 10, "paging does not end");
        }
        seen.sort();
        seen
    };
    let mut expected = ids["mine"].clone();
    expected.sort();
    let agent = encode(&agent_json("mailto:shared.qz7@example.com").to_string());
    for query in [
        "/statements?limit=1".to_owned(),
        format!("/statements?limit=1&agent={agent}"),
    ] {
        assert_eq!(
            pages(mine.clone(), query.clone()).await,
            expected,
            "{query}"
        );
    }
    let other_page = other.get_json("?limit=1").await;
    let other_more = other_page["more"].as_str().unwrap().to_owned();
    assert!(!other_more.is_empty());
    let followed = pages(mine.clone(), other_more).await;
    assert!(
        followed.iter().all(|id| expected.contains(id)),
        "another credential's more link: {followed:?}"
    );
}

#[tokio::test]
async fn launch_links_are_bound_to_one_registration_of_one_tenant() {
    let server = Server::start();
    let world = seed(&server).await;
    let r1_token = world
        .r1_launch
        .trim_start_matches("/scorm/launch/")
        .to_owned();
    let b_token = world
        .b_launch
        .trim_start_matches("/scorm/launch/")
        .to_owned();
    let a = basic(&world.a_key, &world.a_secret);

    // R1's link resumes R1's data only.
    let (status, text) = send(
        &server,
        Method::POST,
        &format!("{}/api/navigate", world.r1_launch),
        None,
        Some((
            "text/plain",
            json!({"request": "resumeAll"}).to_string().into_bytes(),
        )),
    )
    .await
    .pair();
    assert_eq!(status, 200, "{text}");
    assert!(
        !text.contains(A_LOCATION_R2),
        "R1's link shows R2's data: {text}"
    );
    assert!(!text.contains(&world.r2_session), "{text}");

    // R1's link cannot commit to R2's session, nor A's link to B's, nor B's to A's.
    for (token, session) in [
        (&r1_token, &world.r2_session),
        (&r1_token, &world.b_session),
        (&b_token, &world.r2_session),
    ] {
        let (status, text) = send(
            &server,
            Method::POST,
            &format!("/scorm/launch/{token}/api/sessions/{session}/commits"),
            None,
            Some((
                "text/plain",
                commit("qz7-intruder").to_string().into_bytes(),
            )),
        )
        .await
        .pair();
        assert_eq!(status, 404, "{text}");
    }
    let view = call(
        &server,
        Method::GET,
        &format!("/scorm/registrations/{}", world.r2),
        Some(&a),
        None,
        200,
    )
    .await;
    assert!(!view.to_string().contains("qz7-intruder"), "{view}");
    assert!(view.to_string().contains(A_LOCATION_R2), "{view}");

    // A changed byte anywhere in the token, or a token cut short, opens nothing.
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&r1_token)
        .expect("token is base64url");
    for index in [0, 1, 4, 5, 20, 21, 28, bytes.len() - 1] {
        let mut forged = bytes.clone();
        forged[index] ^= 0x01;
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged);
        for path in [
            format!("/scorm/launch/{forged}"),
            format!("/scorm/launch/{forged}/content/{A_SCO_FILE}"),
        ] {
            let (status, text) = send(&server, Method::GET, &path, None, None).await.pair();
            assert!(
                status == 404 || status == 403,
                "byte {index} changed: {status} {text}"
            );
            assert!(!text.contains(A_SCO_CONTENT) && !text.contains(A_COURSE_TITLE));
        }
    }
    let cut = &r1_token[..r1_token.len() - 2];
    let (status, _) = send(
        &server,
        Method::GET,
        &format!("/scorm/launch/{cut}"),
        None,
        None,
    )
    .await
    .pair();
    assert_eq!(status, 404);
    // A Basic credential is no launch link.
    let (status, _) = send(
        &server,
        Method::GET,
        &format!("/scorm/launch/{}", world.a_key),
        Some(&a),
        None,
    )
    .await
    .pair();
    assert_eq!(status, 404);
    let (status, text) = send(
        &server,
        Method::GET,
        &format!("/scorm/launch/{r1_token}/content/{A_SCO_FILE}"),
        None,
        None,
    )
    .await
    .pair();
    assert_eq!(status, 200, "the genuine link still works");
    assert!(text.contains(A_SCO_CONTENT));
}

/// With a lifetime of zero hours a link expires as it is made: its signature is valid, its
/// expiry is past, and the server refuses it (403) on every route under it.
#[tokio::test]
async fn an_expired_launch_link_opens_nothing() {
    let temp = tempfile::tempdir().expect("tempdir");
    let server = Server::start_on(temp.path(), &[("PROFICIO_SCORM_LINK_HOURS", "0")]);
    let (key, secret) = issue(&server, A_TENANT, &["all"], false).await;
    let a = basic(&key, &secret);
    let (status, text) = send(
        &server,
        Method::POST,
        "/scorm/packages",
        Some(&a),
        Some(("application/zip", alpha_course())),
    )
    .await
    .pair();
    assert_eq!(status, 201, "{text}");
    let packages = call(&server, Method::GET, "/scorm/packages", Some(&a), None, 200).await;
    let registration = call(
        &server,
        Method::POST,
        "/scorm/registrations",
        Some(&a),
        Some(&json!({"package": packages["packages"][0]["id"], "learner": learner()})),
        201,
    )
    .await;
    let launch = registration["launch"]["url"]
        .as_str()
        .expect("launch")
        .to_owned();
    remember_secret(&launch);
    let relaunched = call(
        &server,
        Method::POST,
        &format!(
            "/scorm/registrations/{}/launch",
            registration["id"].as_str().expect("id")
        ),
        Some(&a),
        None,
        200,
    )
    .await;
    let relaunch = relaunched["url"]
        .as_str()
        .or_else(|| relaunched["launch"]["url"].as_str())
        .unwrap_or_else(|| panic!("no link: {relaunched}"))
        .to_owned();
    remember_secret(&relaunch);
    for link in [&launch, &relaunch] {
        for (method, path, body) in [
            (Method::GET, link.to_string(), None),
            (Method::GET, format!("{link}/content/{A_SCO_FILE}"), None),
            (
                Method::POST,
                format!("{link}/api/navigate"),
                Some(json!({"request": "start"})),
            ),
        ] {
            let body = body.map(|b| ("text/plain", b.to_string().into_bytes()));
            let (status, text) = send(&server, method.clone(), &path, None, body)
                .await
                .pair();
            assert_eq!(status, 403, "{method} under an expired link: {text}");
            assert!(!text.contains(A_SCO_CONTENT), "{text}");
        }
    }
}

/// The log scan itself finds what it must: a remembered secret, Basic credentials, an
/// `Authorization` header and a launch token in a path; and passes a clean request line.
#[test]
fn the_log_scan_finds_secrets_and_tokens() {
    let secret = "qz7-log-scan-secret-0123456789";
    remember_secret(secret);
    let basic = base64::engine::general_purpose::STANDARD.encode("key:qz7-other-secret");
    let clean = "INFO request method=GET path=/scorm/launch/…/content/a.html status=200".to_owned();
    assert!(crate::helpers::leaks(std::slice::from_ref(&clean)).is_empty());
    for line in [
        format!("WARN something failed secret={secret}"),
        format!("DEBUG header Basic {basic}"),
        "DEBUG authorization: Bearer abc".to_owned(),
        "INFO request path=/scorm/launch/AQAAAAEx/api/navigate".to_owned(),
    ] {
        let found = crate::helpers::leaks(std::slice::from_ref(&line));
        assert_eq!(found.len(), 1, "{line}");
        assert!(
            !found[0].contains(secret) && !found[0].contains(&basic),
            "{found:?}"
        );
    }
}

/// An admin credential is an admin of its own tenant: it does not list, create or revoke
/// another tenant's credentials, nor list other tenants.
#[tokio::test]
async fn an_admin_of_one_tenant_administers_only_its_own() {
    let server = Server::start();
    let (a_key, a_secret) = issue(&server, A_TENANT, &["all"], false).await;
    let (b_key, b_secret) = issue(&server, B_TENANT, &["all"], true).await;
    let b_admin = basic(&b_key, &b_secret);
    let mut failures = Vec::new();

    let (status, text) = send(&server, Method::GET, "/admin/tenants", Some(&b_admin), None)
        .await
        .pair();
    if status != 403 && text.contains(A_TENANT) {
        failures.push(format!("GET /admin/tenants lists tenant A: {status}"));
    }
    let (status, text) = send(
        &server,
        Method::GET,
        "/admin/credentials",
        Some(&b_admin),
        None,
    )
    .await
    .pair();
    if status != 403 && text.contains(&a_key) {
        failures.push(format!("GET /admin/credentials lists A's key: {status}"));
    }
    let (status, text) = send(
        &server,
        Method::POST,
        "/admin/credentials",
        Some(&b_admin),
        Some((
            "application/json",
            json!({"tenant": A_TENANT, "scopes": ["all"]})
                .to_string()
                .into_bytes(),
        )),
    )
    .await
    .pair();
    if status == 201 {
        // Whatever was issued is a credential on A: it is remembered for the log scan.
        if let Some(secret) = text
            .split("\"secret\":\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
        {
            remember_secret(secret);
        }
        failures.push("POST /admin/credentials issues a credential on tenant A: 201".to_owned());
    }
    let (status, _) = send(
        &server,
        Method::DELETE,
        &format!("/admin/credentials/{a_key}"),
        Some(&b_admin),
        None,
    )
    .await
    .pair();
    if status == 204 {
        failures.push("DELETE /admin/credentials/{A's key} revokes it: 204".to_owned());
    }
    let (status, _) = send(
        &server,
        Method::GET,
        "/xapi/statements?limit=1",
        Some(&basic(&a_key, &a_secret)),
        None,
    )
    .await
    .pair();
    if status != 200 {
        failures.push(format!("A's credential after B's admin: {status}"));
    }
    assert!(
        failures.is_empty(),
        "tenant B's admin credential reaches tenant A:\n{}",
        failures.join("\n")
    );

    // Its own tenant it administers in full; tenants are the default tenant's to make.
    let (status, issued) = send(
        &server,
        Method::POST,
        "/admin/credentials",
        Some(&b_admin),
        Some((
            "application/json",
            json!({"tenant": B_TENANT, "scopes": ["statements/read"]})
                .to_string()
                .into_bytes(),
        )),
    )
    .await
    .pair();
    assert_eq!(status, 201, "{issued}");
    let issued: Value = serde_json::from_str(&issued[issued.find('{').unwrap()..]).unwrap();
    remember_secret(issued["secret"].as_str().unwrap());
    let own_key = issued["key"].as_str().unwrap().to_owned();
    let (status, listed) = send(
        &server,
        Method::GET,
        "/admin/credentials",
        Some(&b_admin),
        None,
    )
    .await
    .pair();
    assert_eq!(status, 200);
    assert!(
        listed.contains(&own_key) && listed.contains(&b_key),
        "{listed}"
    );
    let (status, tenants) = send(&server, Method::GET, "/admin/tenants", Some(&b_admin), None)
        .await
        .pair();
    assert_eq!(status, 200);
    assert!(
        tenants.contains(B_TENANT) && !tenants.contains(A_TENANT),
        "{tenants}"
    );
    let (status, _) = send(
        &server,
        Method::POST,
        "/admin/tenants",
        Some(&b_admin),
        Some((
            "application/json",
            json!({"name": "b-made-this"}).to_string().into_bytes(),
        )),
    )
    .await
    .pair();
    assert_eq!(status, 403);
    let (status, _) = send(
        &server,
        Method::DELETE,
        &format!("/admin/credentials/{own_key}"),
        Some(&b_admin),
        None,
    )
    .await
    .pair();
    assert_eq!(status, 204);
}
