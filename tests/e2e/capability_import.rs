//! Frameworks imported from CSV, CASE 1.1 packages and back out again, and Open Badges 3.0
//! credentials for what a person holds, on the real server.

use serde_json::{Value, json};

use crate::helpers::{Server, encode};

const ANA: &str = "mailto:ana@acme.example";
const BUILD_IRI: &str = "https://acme.example/c/BLD";

pub(crate) const CSV: &str = "\
capability_id,code,name,description,iri,parent,level,level_description
,2026.1,ACME engineering,,,,,
,,Aware,,,,1,Knows the words
,,Practising,,,,2,
,,Leading,,,,3,Sets the direction
build,BLD,Building software,\"Writing, testing, shipping\",https://acme.example/c/BLD,,1,Follows a plan
build,,,,,,2,
build,,,,,,3,\"Plans the work
of others\"
review,REV,Code review,,https://acme.example/c/REV,build,,
";

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

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(&self.key, Some(&self.secret))
    }

    /// Sends and reads the answer: (status, content type, body text).
    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, String, String) {
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().expect("content type").to_owned())
            .unwrap_or_default();
        (status, content_type, response.text().await.expect("body"))
    }

    async fn import(&self, id: &str, format: &str, body: Vec<u8>) -> (u16, Value) {
        let (status, _, text) = self
            .send(
                self.request(
                    reqwest::Method::POST,
                    &format!("/capabilities/frameworks/{id}/import?format={format}"),
                )
                .body(body),
            )
            .await;
        (status, serde_json::from_str(&text).expect("JSON answer"))
    }

    async fn export(&self, id: &str, format: &str) -> (u16, String, String) {
        self.send(self.request(
            reqwest::Method::GET,
            &format!("/capabilities/frameworks/{id}/export?format={format}"),
        ))
        .await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let (status, _, text) = self.send(self.request(reqwest::Method::GET, path)).await;
        (status, serde_json::from_str(&text).expect("JSON answer"))
    }
}

fn case_package() -> Value {
    let link = |id: &str| json!({"title": id, "identifier": id, "uri": format!("https://case.example/uri/{id}")});
    json!({
        "CFDocument": {"identifier": "doc-1", "uri": "https://case.example/uri/doc-1",
                       "title": "Data skills", "version": "1.1"},
        "CFItems": [
            {"identifier": "item-a", "uri": "https://case.example/uri/item-a", "fullStatement": "Analyses data",
             "humanCodingScheme": "DA"},
            {"identifier": "item-b", "uri": "https://case.example/uri/item-b", "fullStatement": "Dashboards"}
        ],
        "CFAssociations": [
            {"identifier": "as-1", "associationType": "isChildOf", "originNodeURI": link("item-a"), "destinationNodeURI": link("doc-1")},
            {"identifier": "as-2", "associationType": "isChildOf", "originNodeURI": link("item-b"), "destinationNodeURI": link("item-a")},
            {"identifier": "as-3", "associationType": "isPeerOf", "originNodeURI": link("item-b"), "destinationNodeURI": link("item-a")}
        ],
        "CFRubrics": [{"identifier": "rub-1", "CFRubricCriteria": [
            {"identifier": "cr-a", "CFItemURI": link("item-a"), "CFRubricCriterionLevels": [
                {"identifier": "l1", "score": 1, "quality": "Aware", "description": "Reads a chart"},
                {"identifier": "l2", "score": 2, "quality": "Practising", "description": "Cleans and joins data"}
            ]}
        ]}]
    })
}

#[tokio::test]
async fn frameworks_import_and_export_as_csv_and_case() {
    let server = Server::start();
    let acme = Client::new(&server, server.credential("acme", &["all", "define"]).await);
    let reader = Client::new(
        &server,
        server.credential("acme", &["statements/read"]).await,
    );

    let (status, answer) = acme.import("eng", "csv", CSV.as_bytes().to_vec()).await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["capabilities"], json!(2), "{answer}");
    assert_eq!(answer["relations"], json!(1), "{answer}");
    let (status, framework) = reader.get("/capabilities/frameworks/eng").await;
    assert_eq!(status, 200);
    assert_eq!(framework["name"], json!("ACME engineering"));
    assert_eq!(framework["capabilities"][0]["iri"], json!(BUILD_IRI));

    // CSV out is the file that came in.
    let (status, content_type, text) = reader.export("eng", "csv").await;
    assert_eq!(status, 200, "{text}");
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    assert_eq!(text, CSV);

    // Importing again replaces the framework, like a PUT.
    let (status, answer) = acme.import("eng", "csv", CSV.as_bytes().to_vec()).await;
    assert_eq!(status, 200, "{answer}");

    // Bad input: 400 naming the row, the column and the rule; nothing stored.
    let bad = "capability_id,name,level\nx,Thing,eight\n";
    let (status, error) = acme.import("other", "csv", bad.as_bytes().to_vec()).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["path"], json!("row 2, column level"), "{error}");
    assert_eq!(error["rule"], json!("level"), "{error}");
    let (status, _) = reader.get("/capabilities/frameworks/other").await;
    assert_eq!(status, 404);
    let (status, error) = acme.import("other", "pdf", Vec::new()).await;
    assert_eq!(
        (status, error["rule"].clone()),
        (400, json!("import-format"))
    );
    // Capability ids are unique across a tenant's frameworks: a conflict with `eng`.
    let (status, error) = acme.import("copy", "csv", CSV.as_bytes().to_vec()).await;
    assert_eq!(status, 409, "{error}");
    // Importing changes the model: a reader may not.
    let (status, _) = reader.import("eng", "csv", CSV.as_bytes().to_vec()).await;
    assert_eq!(status, 403);

    // CASE in, CASE out, CASE in again: the same framework.
    let (status, answer) = acme
        .import(
            "data",
            "case",
            serde_json::to_vec(&case_package()).expect("json"),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(
        answer["skipped"].as_array().expect("skipped").len(),
        1,
        "{answer}"
    );
    let (_, first) = reader.get("/capabilities/frameworks/data").await;
    assert_eq!(first["source"], json!("case"));
    let (status, content_type, package) = reader.export("data", "case").await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "application/json"),
        "{package}"
    );
    let (status, answer) = acme.import("data", "case", package.into_bytes()).await;
    assert_eq!(status, 200, "{answer}");
    let (_, second) = reader.get("/capabilities/frameworks/data").await;
    assert_eq!(first, second);
    // Its one relation is a parent, which CSV has a column for.
    let (status, _, text) = reader.export("data", "csv").await;
    assert_eq!(status, 200, "{text}");
    let (status, _, _) = reader.export("nothing", "csv").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn badges_are_open_badges_3_credentials_for_held_capabilities() {
    let server = Server::start();
    let acme = Client::new(&server, server.credential("acme", &["all", "define"]).await);
    let (status, answer) = acme.import("eng", "csv", CSV.as_bytes().to_vec()).await;
    assert_eq!(status, 201, "{answer}");
    let rules = json!([{
        "id": "manager-assessment", "version": 1,
        "match": {"verbs": ["https://w3id.org/xapi/tla/verbs/achieved"],
                  "activity_types": ["https://w3id.org/xapi/tla/activity-types/competency"],
                  "raters": ["manager"]},
        "emit": {"capability": {"from": "object"}, "level": "score-raw", "weight": 1.0}
    }]);
    let (status, _, text) = acme
        .send(
            acme.request(reqwest::Method::PUT, "/capabilities/rules")
                .json(&rules),
        )
        .await;
    assert_eq!(status, 201, "{text}");
    let statement = json!({
        "actor": {"objectType": "Agent", "mbox": ANA},
        "verb": {"id": "https://w3id.org/xapi/tla/verbs/achieved", "display": {"en-US": "achieved"}},
        "object": {"objectType": "Activity", "id": BUILD_IRI,
                   "definition": {"type": "https://w3id.org/xapi/tla/activity-types/competency"}},
        "result": {"score": {"raw": 3, "min": 1, "max": 3}},
        "context": {
            "instructor": {"objectType": "Agent", "mbox": "mailto:max@acme.example"},
            "extensions": {"https://example.org/xapi/capability/ext/assessment-type": "manager"}
        },
        "timestamp": "2025-06-01T09:00:00Z"
    });
    let (status, _, text) = acme
        .send(
            acme.request(reqwest::Method::POST, "/xapi/statements")
                .header("X-Experience-API-Version", "2.0.0")
                .json(&statement),
        )
        .await;
    assert_eq!(status, 200, "{text}");
    let ids: Vec<String> = serde_json::from_str(&text).expect("ids");
    let (status, _, text) = acme
        .send(acme.request(reqwest::Method::POST, "/capabilities/sync"))
        .await;
    assert_eq!(status, 200, "{text}");

    let agent = encode(&json!({"mbox": ANA}).to_string());
    let (status, answer) = acme
        .get(&format!(
            "/capabilities/badges?agent={agent}&as_of=2025-07-01T00:00:00Z"
        ))
        .await;
    assert_eq!(status, 200, "{answer}");
    let credentials = answer["credentials"].as_array().expect("credentials");
    assert_eq!(credentials.len(), 1, "{answer}");
    let credential = &credentials[0];
    assert_eq!(
        credential["@context"],
        json!([
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
        ])
    );
    assert_eq!(
        credential["type"],
        json!(["VerifiableCredential", "OpenBadgeCredential"])
    );
    assert!(
        credential["id"]
            .as_str()
            .expect("id")
            .starts_with("urn:uuid:")
    );
    let issuer = credential["issuer"]["id"].as_str().expect("issuer id");
    assert!(
        issuer.starts_with(&server.url("/capabilities/issuers/")),
        "{issuer}"
    );
    assert_eq!(credential["issuer"]["type"], json!(["Profile"]));
    assert_eq!(credential["validFrom"], json!("2025-06-01T09:00:00Z"));
    let subject = &credential["credentialSubject"];
    assert_eq!(subject["type"], json!(["AchievementSubject"]));
    assert_eq!(
        subject["identifier"][0]["identityHash"],
        json!("ana@acme.example")
    );
    let achievement = &subject["achievement"];
    assert_eq!(achievement["type"], json!(["Achievement"]));
    assert_eq!(achievement["achievementType"], json!("Competency"));
    assert_eq!(achievement["name"], json!("Building software — Leading"));
    assert_eq!(
        achievement["criteria"]["narrative"],
        json!("Plans the work\nof others")
    );
    assert_eq!(achievement["alignment"][0]["targetUrl"], json!(BUILD_IRI));
    assert!(
        subject["result"][0]["achievedLevel"]
            .as_str()
            .expect("achieved level")
            .ends_with("#level-3")
    );
    assert_eq!(
        credential["evidence"][0]["id"],
        json!(server.url(&format!("/xapi/statements?statementId={}", ids[0])))
    );
    assert_eq!(credential["evidence"][0]["type"], json!(["Evidence"]));

    // Before the assessment nothing is held; a bad agent is 400.
    let (status, answer) = acme
        .get(&format!(
            "/capabilities/badges?agent={agent}&as_of=2025-01-01T00:00:00Z"
        ))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["credentials"], json!([]));
    let (status, error) = acme.get("/capabilities/badges?agent=nobody").await;
    assert_eq!(
        (status, error["path"].clone()),
        (400, json!("agent")),
        "{error}"
    );
}
