//! The capability service on the real server: the model put over HTTP, statements posted to
//! the LRS, a catch-up of the follower, and reports that follow the statements — including
//! a voided one, past dates, another tenant and refused input.

use serde_json::{Value, json};

use crate::helpers::{Server, encode};

const EXT_SESSION_KIND: &str = "https://example.org/xapi/capability/ext/session-kind";
const EXT_ASSESSMENT_TYPE: &str = "https://example.org/xapi/capability/ext/assessment-type";
const TYPE_COMPETENCY: &str = "https://w3id.org/xapi/tla/activity-types/competency";
const TYPE_MEETING: &str = "http://adlnet.gov/expapi/activities/meeting";
const FEEDBACK_IRI: &str = "https://acme.example/capabilities/FDBK";
const ANA: &str = "mailto:ana@acme.example";

struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
    secret: String,
}

impl Client {
    fn new(server: &Server, (key, secret): (String, String)) -> Client {
        Client {
            http: reqwest::Client::new(),
            base: server.url(""),
            key,
            secret,
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(&self.key, Some(&self.secret));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn sync(&self) -> Value {
        let (status, report) = self
            .send(reqwest::Method::POST, "/capabilities/sync", None)
            .await;
        assert_eq!(status, 200, "sync: {report}");
        report
    }

    /// Posts statements to the LRS; their ids.
    async fn statements(&self, statements: &[Value]) -> Vec<String> {
        let response = self
            .http
            .post(format!("{}/xapi/statements", self.base))
            .basic_auth(&self.key, Some(&self.secret))
            .header("X-Experience-API-Version", "2.0.0")
            .json(&statements)
            .send()
            .await
            .expect("post statements");
        assert_eq!(response.status(), 200);
        let ids: Vec<String> = response.json().await.expect("ids");
        ids
    }
}

fn framework() -> Value {
    json!({
        "id": "leadership",
        "name": "Leadership",
        "version": "1",
        "scale": [
            {"level": 1, "label": "Aware"},
            {"level": 2, "label": "Practising"},
            {"level": 3, "label": "Leading"}
        ],
        "capabilities": [
            {"id": "feedback", "code": "FDBK", "name": "Giving feedback", "iri": FEEDBACK_IRI}
        ]
    })
}

fn role() -> Value {
    json!({
        "id": "team-lead",
        "name": "Team lead",
        "requirements": [{"capability": "feedback", "level": 2, "criticality": "essential"}]
    })
}

fn rules(version: u32) -> Value {
    json!([
        {
            "id": "elearning-passed",
            "version": version,
            "match": {
                "verbs": ["http://adlnet.gov/expapi/verbs/passed"],
                "activity": {"glob": "https://acme.example/elearning/*"},
                "result": {"success": true}
            },
            "emit": {
                "capability": {"from": "grouping"},
                "level": {"scaled-bands": [{"at_least": 0.6, "level": 1}, {"at_least": 0.8, "level": 2}]},
                "weight": 0.4,
                "rater": "e-learning"
            }
        },
        {
            "id": "coaching",
            "version": 1,
            "match": {
                "verbs": ["http://adlnet.gov/expapi/verbs/attended"],
                "activity_types": [TYPE_MEETING],
                "extensions": [{"in": "context", "key": EXT_SESSION_KIND, "equals": "coaching"}]
            },
            "emit": {"capability": {"from": "grouping"}, "level": {"fixed": 1}, "weight": 0.3}
        },
        {
            "id": "manager-assessment",
            "version": 1,
            "match": {
                "verbs": ["https://w3id.org/xapi/tla/verbs/achieved"],
                "activity_types": [TYPE_COMPETENCY],
                "raters": ["manager"]
            },
            "emit": {"capability": {"from": "object"}, "level": "score-raw", "weight": 1.0}
        }
    ])
}

fn agent(mbox: &str) -> Value {
    json!({"objectType": "Agent", "mbox": mbox})
}

fn competency() -> Value {
    json!({"objectType": "Activity", "id": FEEDBACK_IRI, "definition": {"type": TYPE_COMPETENCY}})
}

fn elearning(timestamp: &str) -> Value {
    json!({
        "actor": agent(ANA),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/passed", "display": {"en-US": "passed"}},
        "object": {"objectType": "Activity", "id": "https://acme.example/elearning/feedback-101"},
        "result": {"success": true, "score": {"scaled": 0.85}},
        "context": {"contextActivities": {"grouping": [competency()]}},
        "timestamp": timestamp
    })
}

fn coaching(timestamp: &str) -> Value {
    json!({
        "actor": agent(ANA),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en-US": "attended"}},
        "object": {"objectType": "Activity", "id": "https://acme.example/sessions/coaching/1",
                   "definition": {"type": TYPE_MEETING}},
        "context": {
            "instructor": agent("mailto:cat@coaching.example"),
            "contextActivities": {"grouping": [competency()]},
            "extensions": {EXT_SESSION_KIND: "coaching"}
        },
        "timestamp": timestamp
    })
}

fn manager_assessment(level: u8, timestamp: &str) -> Value {
    json!({
        "actor": agent(ANA),
        "verb": {"id": "https://w3id.org/xapi/tla/verbs/achieved", "display": {"en-US": "achieved"}},
        "object": competency(),
        "result": {"score": {"raw": level, "min": 1, "max": 3}},
        "context": {
            "instructor": agent("mailto:max@acme.example"),
            "extensions": {EXT_ASSESSMENT_TYPE: "manager"}
        },
        "timestamp": timestamp
    })
}

fn voiding(target: &str) -> Value {
    json!({
        "actor": agent("mailto:max@acme.example"),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": target}
    })
}

fn gap_path(as_of: Option<&str>) -> String {
    let mut path = format!(
        "/capabilities/roles/team-lead/gap?agent={}",
        encode(&agent(ANA).to_string())
    );
    if let Some(as_of) = as_of {
        path.push_str(&format!("&as_of={}", encode(as_of)));
    }
    path
}

/// The single row of Ana's gap report: (achieved level, counted statement ids).
async fn feedback_row(client: &Client, as_of: Option<&str>) -> (Value, Vec<String>, Value) {
    let (status, report) = client.get(&gap_path(as_of)).await;
    assert_eq!(status, 200, "gap: {report}");
    let row = &report["rows"][0];
    assert_eq!(row["capability"], json!("feedback"), "{report}");
    let counted = row["assessment"]["explanation"]["contributions"]
        .as_array()
        .expect("contributions")
        .iter()
        .map(|c| c["statement"].as_str().expect("id").to_owned())
        .collect();
    (
        row["achieved"].clone(),
        counted,
        row["assessment"]["explanation"]["excluded"].clone(),
    )
}

#[tokio::test]
async fn reports_follow_the_statement_stream() {
    let server = Server::start();
    let acme = Client::new(&server, server.credential("acme", &["all", "define"]).await);
    let reader = Client::new(
        &server,
        server.credential("acme", &["statements/read"]).await,
    );
    let globex = Client::new(
        &server,
        server.credential("globex", &["all", "define"]).await,
    );

    // The model.
    let (status, body) = acme
        .put("/capabilities/frameworks/leadership", &framework())
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = acme.put("/capabilities/roles/team-lead", &role()).await;
    assert_eq!(status, 201, "{body}");
    let assignments =
        json!([{"person": agent(ANA), "role": "team-lead", "from": "2025-01-01T00:00:00Z"}]);
    let (status, body) = acme.put("/capabilities/assignments", &assignments).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = acme.put("/capabilities/rules", &rules(1)).await;
    assert_eq!(status, 201, "{body}");
    let (status, list) = reader.get("/capabilities/frameworks").await;
    assert_eq!(
        (status, list["frameworks"][0]["id"].clone()),
        (200, json!("leadership"))
    );

    // Evidence of three kinds.
    let ids = acme
        .statements(&[
            elearning("2025-02-01T09:00:00Z"),
            coaching("2025-03-01T09:00:00Z"),
            manager_assessment(2, "2025-06-01T09:00:00Z"),
        ])
        .await;
    // The background follower may have taken some of them already: the explanation below,
    // not this run's count, shows that all three count.
    let report = acme.sync().await;
    assert_eq!(report["unreadable"], json!(0), "{report}");

    // 0.4 (e-learning, level 2) + 1.0 (manager, level 2) reach level 2.
    let (achieved, counted, _) = feedback_row(&reader, None).await;
    assert_eq!(achieved, json!(2));
    for id in &ids {
        assert!(counted.contains(id), "{id} counted: {counted:?}");
    }
    // Before the manager's assessment, only level 1 (0.4 + 0.3 at level 1, 0.4 at level 2).
    let (earlier, counted, _) = feedback_row(&reader, Some("2025-04-01T00:00:00Z")).await;
    assert_eq!(earlier, json!(1));
    assert!(!counted.contains(&ids[2]));

    let (status, assessments) = reader
        .get(&format!(
            "/capabilities/people/assessments?agent={}",
            encode(&agent(ANA).to_string())
        ))
        .await;
    assert_eq!(status, 200, "{assessments}");
    assert_eq!(
        assessments["assessments"][0]["level"],
        json!(2),
        "{assessments}"
    );
    let (status, heatmap) = reader.get("/capabilities/roles/team-lead/heatmap").await;
    assert_eq!(status, 200, "{heatmap}");
    assert_eq!(heatmap["cells"][0][0]["level"], json!(2), "{heatmap}");

    // Voiding the manager's assessment takes it back: level 1, and the explanation says why.
    // (The background follower may run first, so what shows it is the result, not this
    // sync's counts.)
    let voider = acme.statements(&[voiding(&ids[2])]).await;
    acme.sync().await;
    let (achieved, _, excluded) = feedback_row(&reader, None).await;
    assert_eq!(achieved, json!(1));
    assert_eq!(excluded[0]["statement"], json!(ids[2]), "{excluded}");
    assert_eq!(excluded[0]["reason"]["by"], json!(voider[0]), "{excluded}");

    // A rule change derives the ledger again from the stream, where the voided statement is
    // read through the statement that voids it: the same answer.
    let (status, body) = acme.put("/capabilities/rules", &rules(2)).await;
    assert_eq!(status, 200, "{body}");
    acme.sync().await;
    let (achieved, _, excluded) = feedback_row(&reader, None).await;
    assert_eq!(achieved, json!(1));
    assert_eq!(excluded[0]["statement"], json!(ids[2]), "{excluded}");

    // Another tenant sees none of it.
    for path in [
        "/capabilities/frameworks/leadership".to_owned(),
        "/capabilities/roles/team-lead".to_owned(),
        gap_path(None),
    ] {
        let (status, body) = globex.get(&path).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    // A reader may not change the model.
    let (status, _) = reader.put("/capabilities/rules", &rules(3)).await;
    assert_eq!(status, 403);

    // A framework that breaks a rule: 400 naming the field and the rule.
    let mut bad = framework();
    bad["scale"][1]["level"] = json!(5);
    let (status, error) = acme.put("/capabilities/frameworks/leadership", &bad).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["path"], json!("scale[1].level"), "{error}");
    assert_eq!(error["rule"], json!("scale-contiguous"), "{error}");
}

#[tokio::test]
async fn the_follower_catches_up_without_being_asked() {
    let server = Server::start();
    let acme = Client::new(&server, server.credential("acme", &["all", "define"]).await);
    acme.put("/capabilities/frameworks/leadership", &framework())
        .await;
    acme.put("/capabilities/roles/team-lead", &role()).await;
    acme.put("/capabilities/rules", &rules(1)).await;
    acme.statements(&[manager_assessment(3, "2025-06-01T09:00:00Z")])
        .await;
    // The background follower polls every 500 ms; give it a few rounds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, report) = acme.get(&gap_path(None)).await;
        if report["rows"][0]["achieved"] == json!(3) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no catch-up: {report}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A record as someone without an authoring tool sends it.
fn record(kind: &str, by: &str, level: Option<u8>, occurred: &str) -> Value {
    let mut body = json!({
        "kind": kind,
        "learner": {"objectType": "Agent", "name": "Ana Lee", "mbox": ANA},
        "by": agent(by),
        "capability": "leadership/feedback",
        "occurred": occurred,
        "duration": "PT45M",
        "notes": "worked through a difficult conversation",
    });
    if let Some(level) = level {
        body["level"] = json!(level);
    }
    body
}

#[tokio::test]
async fn recorded_sessions_and_assessments_are_evidence() {
    let server = Server::start();
    let acme = Client::new(&server, server.credential("acme", &["all", "define"]).await);
    let reader = Client::new(
        &server,
        server.credential("acme", &["statements/read"]).await,
    );
    let globex = Client::new(
        &server,
        server.credential("globex", &["all", "define"]).await,
    );
    acme.put("/capabilities/frameworks/leadership", &framework())
        .await;
    acme.put("/capabilities/roles/team-lead", &role()).await;
    acme.put(
        "/capabilities/assignments",
        &json!([{"person": agent(ANA), "role": "team-lead", "from": "2025-01-01T00:00:00Z"}]),
    )
    .await;
    let (status, body) = acme.put("/capabilities/rules", &rules(1)).await;
    assert_eq!(status, 201, "{body}");

    // The profile is public and names a template per kind of record.
    let response = reqwest::get(server.url("/capabilities/profile"))
        .await
        .expect("profile");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/ld+json",
        "content type"
    );
    let profile: Value = response.json().await.expect("profile JSON");
    assert_eq!(profile["type"], json!("Profile"));
    assert_eq!(
        profile["@context"],
        json!("https://w3id.org/xapi/profiles/context")
    );
    let templates: Vec<&str> = profile["templates"]
        .as_array()
        .expect("templates")
        .iter()
        .map(|t| t["id"].as_str().expect("template id"))
        .collect();
    assert!(
        templates
            .iter()
            .any(|t| t.ends_with("/templates/coaching-session")),
        "{templates:?}"
    );

    // A coaching session and a manager's assessment, recorded through the endpoint.
    let coaching = record(
        "coaching-session",
        "mailto:cat@coaching.example",
        None,
        "2025-03-01T09:00:00Z",
    );
    let (status, coached) = acme.post("/capabilities/records", &coaching).await;
    assert_eq!(status, 201, "{coached}");
    let (status, assessed) = acme
        .post(
            "/capabilities/records",
            &record(
                "manager-assessment",
                "mailto:max@acme.example",
                Some(2),
                "2025-06-01T09:00:00Z",
            ),
        )
        .await;
    assert_eq!(status, 201, "{assessed}");
    // The background follower may have caught up first; either way both are counted.
    let report = acme.sync().await;
    assert_eq!(report["unreadable"], json!(0), "{report}");

    // The gap report counts both statements, at the manager's level.
    let (achieved, counted, _) = feedback_row(&reader, None).await;
    assert_eq!(achieved, json!(2));
    for id in [&coached["statements"][0], &assessed["statements"][0]] {
        let id = id.as_str().expect("statement id");
        assert!(counted.iter().any(|c| c == id), "{id} counted: {counted:?}");
    }
    // Before the assessment, only the coaching session.
    let (_, counted, _) = feedback_row(&reader, Some("2025-04-01T00:00:00Z")).await;
    assert_eq!(
        counted,
        vec![
            coached["statements"][0]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        ]
    );

    // A retried request stores nothing twice.
    let (status, again) = acme.post("/capabilities/records", &coaching).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["statements"], coached["statements"]);
    let report = acme.sync().await;
    assert_eq!(report["evidence_added"], json!(0), "{report}");

    // A level off the framework's scale: 400 naming the field and the rule.
    let (status, error) = acme
        .post(
            "/capabilities/records",
            &record(
                "manager-assessment",
                "mailto:max@acme.example",
                Some(7),
                "2025-06-01T09:00:00Z",
            ),
        )
        .await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["path"], json!("level"), "{error}");
    assert_eq!(error["rule"], json!("level-on-scale"), "{error}");
    let mut no_kind = coaching.clone();
    no_kind["kind"] = json!("pep-talk");
    let (status, error) = acme.post("/capabilities/records", &no_kind).await;
    assert_eq!(
        (status, error["path"].clone()),
        (400, json!("kind")),
        "{error}"
    );

    // A reader may not record; another tenant's credential records only into its own
    // tenant, where acme's capability does not exist, and sees none of acme's statements.
    let (status, _) = reader.post("/capabilities/records", &coaching).await;
    assert_eq!(status, 403);
    let (status, error) = globex.post("/capabilities/records", &coaching).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["rule"], json!("known-capability"), "{error}");
    let id = coached["statements"][0].as_str().expect("id");
    let response = globex
        .http
        .get(format!("{}/xapi/statements?statementId={id}", globex.base))
        .basic_auth(&globex.key, Some(&globex.secret))
        .header("X-Experience-API-Version", "2.0.0")
        .send()
        .await
        .expect("get statement");
    assert_eq!(response.status(), 404);
    let response = acme
        .http
        .get(format!("{}/xapi/statements?statementId={id}", acme.base))
        .basic_auth(&acme.key, Some(&acme.secret))
        .header("X-Experience-API-Version", "2.0.0")
        .send()
        .await
        .expect("get statement");
    assert_eq!(response.status(), 200);
    let stored: Value = response.json().await.expect("statement");
    assert_eq!(
        stored["context"]["instructor"]["mbox"],
        json!("mailto:cat@coaching.example")
    );
}

/// RFC 4180 text back into rows of fields (quoted fields, doubled quotes, CRLF line ends).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {
                assert_eq!(chars.next(), Some('\n'), "CR without LF");
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        row.is_empty() && field.is_empty(),
        "the last line has no CRLF"
    );
    rows
}

/// The CSV rows as (header → field) lookups.
fn csv_column(rows: &[Vec<String>], name: &str) -> Vec<String> {
    let at = rows[0]
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}: {:?}", rows[0]));
    rows[1..]
        .iter()
        .map(|row| {
            assert_eq!(row.len(), rows[0].len(), "{row:?}");
            row[at].clone()
        })
        .collect()
}

#[tokio::test]
async fn person_and_stale_reports_and_csv() {
    let server = Server::start();
    let acme = Client::new(&server, server.credential("acme", &["all", "define"]).await);
    let reader = Client::new(
        &server,
        server.credential("acme", &["statements/read"]).await,
    );
    acme.put("/capabilities/frameworks/leadership", &framework())
        .await;
    acme.put("/capabilities/roles/team-lead", &role()).await;
    let assignments =
        json!([{"person": agent(ANA), "role": "team-lead", "from": "2025-01-01T00:00:00Z"}]);
    acme.put("/capabilities/assignments", &assignments).await;
    let (status, body) = acme.put("/capabilities/rules", &rules(1)).await;
    assert_eq!(status, 201, "{body}");
    acme.statements(&[
        elearning("2025-02-01T09:00:00Z"),
        manager_assessment(2, "2025-06-01T09:00:00Z"),
    ])
    .await;
    acme.sync().await;
    let who = encode(&agent(ANA).to_string());

    // Every role Ana holds: team lead, feedback at level 2.
    let (status, report) = reader
        .get(&format!(
            "/capabilities/people/report?agent={who}&as_of=2025-07-01T00:00:00Z"
        ))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["roles"], json!(["team-lead"]), "{report}");
    assert_eq!(report["rows"][0]["achieved"], json!(2), "{report}");
    assert_eq!(report["rows"][0]["met"], json!(true), "{report}");

    // Before any evidence, feedback needs assessing: no evidence, due at as_of.
    let (status, stale) = reader
        .get("/capabilities/stale?as_of=2025-01-15T00:00:00Z")
        .await;
    assert_eq!(status, 200, "{stale}");
    let ana = &stale["people"][0];
    assert_eq!(ana["person"], json!(format!("mbox:{ANA}")), "{stale}");
    assert_eq!(ana["reassessments"][0]["reason"], json!("no-evidence"));
    assert_eq!(ana["reassessments"][0]["capability"], json!("feedback"));

    // The same reports as CSV.
    let (status, text) = reader
        .get(&format!(
            "/capabilities/roles/team-lead/gap?agent={who}&as_of=2025-07-01T00:00:00Z&format=csv"
        ))
        .await;
    assert_eq!(status, 200, "{text}");
    let rows = csv_rows(text.as_str().expect("csv text"));
    assert_eq!(csv_column(&rows, "capability"), ["feedback"]);
    assert_eq!(csv_column(&rows, "name"), ["Giving feedback"]);
    assert_eq!(csv_column(&rows, "achieved"), ["2"]);
    assert_eq!(csv_column(&rows, "gap"), ["0"]);

    let (status, text) = reader
        .get("/capabilities/roles/team-lead/heatmap?as_of=2025-07-01T00:00:00Z&format=csv")
        .await;
    assert_eq!(status, 200, "{text}");
    let rows = csv_rows(text.as_str().expect("csv text"));
    assert_eq!(csv_column(&rows, "person"), [format!("mbox:{ANA}")]);
    assert_eq!(csv_column(&rows, "level"), ["2"]);

    let (status, text) = reader
        .get("/capabilities/stale?as_of=2025-01-15T00:00:00Z&format=csv")
        .await;
    assert_eq!(status, 200, "{text}");
    let rows = csv_rows(text.as_str().expect("csv text"));
    assert_eq!(csv_column(&rows, "item"), ["reassessment"]);
    assert_eq!(csv_column(&rows, "reason"), ["no-evidence"]);
    assert_eq!(csv_column(&rows, "due"), ["2025-01-15T00:00:00Z"]);

    let (status, error) = reader.get("/capabilities/stale?format=pdf").await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(
        (error["path"].clone(), error["rule"].clone()),
        (json!("format"), json!("report-format"))
    );
}
