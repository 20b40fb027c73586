//! Each class of bad input and the exact answer it gets, on the real server: the table of
//! `docs/limits.md`, checked row by row. Every row sends one bad request and asserts the
//! status and the rule (or problem code) of the answer; the run prints the table.

use std::io::Write as _;

use serde_json::{Value, json};

use crate::helpers::{ADMIN_KEY, Server};
use crate::scorm::{MANIFEST_12, zip};

/// One row: what was sent, the status, and the rule or code the body names.
struct Row {
    input: &'static str,
    status: u16,
    named: String,
}

struct Table {
    rows: Vec<Row>,
}

impl Table {
    /// Checks an answer against the expected status and a JSON pointer's value, and records
    /// the row.
    async fn check(
        &mut self,
        input: &'static str,
        response: reqwest::Response,
        status: u16,
        pointer: &str,
        named: &str,
    ) -> Value {
        let got = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_eq!(got, status, "{input}: {text}");
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let found = match pointer {
            "" => Value::Null,
            _ => body.pointer(pointer).cloned().unwrap_or(Value::Null),
        };
        if !pointer.is_empty() {
            assert_eq!(found, json!(named), "{input}: {pointer} in {text}");
        }
        self.rows.push(Row {
            input,
            status,
            named: named.to_owned(),
        });
        body
    }

    fn print(&self) {
        println!("| bad input | status | rule, code or field named |");
        println!("|---|---|---|");
        for row in &self.rows {
            println!("| {} | {} | `{}` |", row.input, row.status, row.named);
        }
    }
}

fn statement(n: usize) -> Value {
    json!({
        "actor": {"mbox": format!("mailto:limits{n}@example.com")},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": format!("https://example.com/limits/{n}")},
    })
}

fn deflated(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut writer = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            writer.start_file(*name, options).unwrap();
            writer.write_all(data).unwrap();
        }
        writer.finish().unwrap();
    }
    out.into_inner()
}

/// The course's manifest with the files the package should carry.
fn with_manifest<'a>(manifest: &'a str, extra: &[(&'a str, &'a [u8])]) -> Vec<(&'a str, &'a [u8])> {
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("imsmanifest.xml", manifest.as_bytes()),
        ("one/index.html", b"<html>one</html>"),
        ("one/big.bin", b"small"),
        ("two/index.html", b"<html>two</html>"),
    ];
    entries.extend_from_slice(extra);
    entries
}

#[tokio::test]
async fn every_class_of_bad_input_gets_its_exact_answer() {
    let temp = tempfile::tempdir().unwrap();
    let server = Server::start_on(
        temp.path(),
        &[
            ("PROFICIO_MAX_BODY_BYTES", "65536"),
            ("PROFICIO_MAX_BATCH", "50"),
            ("PROFICIO_SCORM_MAX_PACKAGE_BYTES", "4000000"),
        ],
    );
    let (key, secret) = server.credential("acme", &["all", "define"]).await;
    let http = reqwest::Client::new();
    let xapi = |method: reqwest::Method, path: &str| {
        http.request(method, server.url(&format!("/xapi{path}")))
            .basic_auth(&key, Some(&secret))
            .header("X-Experience-API-Version", "2.0.0")
    };
    let mut table = Table { rows: Vec::new() };

    // ---- xAPI request bodies
    let big = format!("[{}]", vec![statement(0).to_string(); 600].join(","));
    assert!(big.len() > 65536);
    let r = xapi(reqwest::Method::POST, "/statements")
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    table
        .check(
            "statement body over `--max-body-bytes`",
            r,
            413,
            "/error",
            "too-large",
        )
        .await;

    let batch: Vec<Value> = (0..51).map(statement).collect();
    let r = xapi(reqwest::Method::POST, "/statements")
        .json(&batch)
        .send()
        .await
        .unwrap();
    table
        .check(
            "batch over `--max-batch` statements",
            r,
            413,
            "/error",
            "too-large",
        )
        .await;

    let mut deep = json!("leaf");
    for _ in 0..80 {
        deep = json!({"x": deep});
    }
    let mut nested = statement(1);
    nested["context"] = json!({"extensions": {"https://example.com/deep": deep}});
    let r = xapi(reqwest::Method::POST, "/statements")
        .json(&nested)
        .send()
        .await
        .unwrap();
    table
        .check(
            "JSON nested deeper than 64 levels",
            r,
            400,
            "/rule",
            "max-depth",
        )
        .await;

    let duplicate = r#"{"actor": {"mbox": "mailto:a@example.com"}, "actor": {"mbox": "mailto:b@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"}, "object": {"id": "https://example.com/a"}}"#;
    let r = xapi(reqwest::Method::POST, "/statements")
        .header("content-type", "application/json")
        .body(duplicate)
        .send()
        .await
        .unwrap();
    table
        .check(
            "a key twice in one JSON object",
            r,
            400,
            "/rule",
            "duplicate-key",
        )
        .await;

    let r = xapi(reqwest::Method::POST, "/statements")
        .header("content-type", "application/json")
        .body("{\"actor\": ")
        .send()
        .await
        .unwrap();
    table
        .check("JSON that does not parse", r, 400, "/error", "invalid")
        .await;

    let mut no_actor = statement(2);
    no_actor.as_object_mut().unwrap().remove("actor");
    let r = xapi(reqwest::Method::POST, "/statements")
        .json(&no_actor)
        .send()
        .await
        .unwrap();
    table
        .check(
            "a statement without a required property",
            r,
            400,
            "/rule",
            "missing-property",
        )
        .await;

    let r = xapi(reqwest::Method::GET, "/statements?limit=5000")
        .send()
        .await
        .unwrap();
    table
        .check("`limit` over `--max-query-limit`", r, 400, "/path", "limit")
        .await;

    let r = xapi(reqwest::Method::GET, "/statements?colour=blue")
        .send()
        .await
        .unwrap();
    table
        .check("an unknown query parameter", r, 400, "/path", "colour")
        .await;

    let r = xapi(reqwest::Method::POST, "/statements")
        .header("content-type", "multipart/mixed; boundary=abc")
        .body("--abc\r\nContent-Type: text/plain\r\n\r\nhello\r\n--abc--\r\n")
        .send()
        .await
        .unwrap();
    let body = table
        .check(
            "multipart body whose first part is not the statements (JSON)",
            r,
            400,
            "/error",
            "invalid",
        )
        .await;
    assert!(body["rule"].is_string(), "{body}");

    let state_url = format!(
        "/activities/state?activityId={}&agent={}&stateId=big",
        crate::helpers::encode("https://example.com/limits"),
        crate::helpers::encode(r#"{"mbox":"mailto:limits@example.com"}"#)
    );
    let r = xapi(reqwest::Method::PUT, &state_url)
        .header("content-type", "application/octet-stream")
        .body(vec![7u8; 70_000])
        .send()
        .await
        .unwrap();
    table
        .check(
            "document body over `--max-body-bytes`",
            r,
            413,
            "/error",
            "too-large",
        )
        .await;

    // ---- SCORM packages
    let scorm = |body: Vec<u8>| {
        http.post(server.url("/scorm/packages"))
            .basic_auth(&key, Some(&secret))
            .header("content-type", "application/zip")
            .body(body)
            .send()
    };
    let r = scorm(vec![0u8; 4_100_000]).await.unwrap();
    table
        .check(
            "package over `--scorm-max-package-bytes`",
            r,
            413,
            "/rule",
            "package-size",
        )
        .await;

    let r = scorm(b"not a zip".to_vec()).await.unwrap();
    table
        .check(
            "a body that is not a zip",
            r,
            400,
            "/problems/0/code",
            "not-zip",
        )
        .await;

    let r = scorm(zip(&with_manifest(MANIFEST_12, &[("../evil.html", b"x")])))
        .await
        .unwrap();
    table
        .check(
            "a zip entry outside the package (`../evil.html`)",
            r,
            400,
            "/problems/0/code",
            "unsafe-path",
        )
        .await;

    let zeros = vec![0u8; 3 * 1024 * 1024];
    let r = scorm(deflated(&with_manifest(
        MANIFEST_12,
        &[("bomb.bin", &zeros)],
    )))
    .await
    .unwrap();
    table
        .check(
            "an entry compressed more than 200:1 (above 1 MiB)",
            r,
            400,
            "/problems/0/code",
            "compression-ratio",
        )
        .await;

    let names: Vec<String> = (0..20_001).map(|i| format!("many/{i}.txt")).collect();
    let mut many: Vec<(&str, &[u8])> = with_manifest(MANIFEST_12, &[]);
    many.extend(names.iter().map(|n| (n.as_str(), &b""[..])));
    let r = scorm(zip(&many)).await.unwrap();
    table
        .check(
            "more than 20,000 zip entries",
            r,
            400,
            "/problems/0/code",
            "too-many-entries",
        )
        .await;

    let mut deep_xml = String::from(MANIFEST_12);
    let nest = "<x>".repeat(130) + &"</x>".repeat(130);
    deep_xml = deep_xml.replace("<metadata>", &format!("<metadata>{nest}"));
    let r = scorm(zip(&with_manifest(&deep_xml, &[]))).await.unwrap();
    table
        .check(
            "a manifest nested deeper than 128 elements",
            r,
            400,
            "/problems/0/code",
            "xml-limit",
        )
        .await;

    let xxe = MANIFEST_12.replace(
        "<manifest ",
        "<!DOCTYPE manifest [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<manifest ",
    );
    let xxe = xxe.replace("<title>Two lessons</title>", "<title>&xxe;</title>");
    let r = scorm(zip(&with_manifest(&xxe, &[]))).await.unwrap();
    let body = table
        .check(
            "a manifest with a DTD and an external entity",
            r,
            400,
            "",
            "xml-doctype (warning) + xml-syntax: the entity is never expanded",
        )
        .await;
    assert!(!body.to_string().contains("root:"), "{body}");
    assert_eq!(body["problems"][0]["code"], "xml-doctype", "{body}");
    assert_eq!(body["problems"][1]["code"], "xml-syntax", "{body}");

    let r = scorm(zip(&with_manifest(MANIFEST_12, &[])[..1]))
        .await
        .unwrap();
    table
        .check(
            "a file the manifest names is missing",
            r,
            400,
            "/problems/0/code",
            "missing-file",
        )
        .await;

    // ---- content under a launch link, and commits
    let imported: Value = scorm(zip(&with_manifest(MANIFEST_12, &[])))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let registration: Value = http
        .post(server.url("/scorm/registrations"))
        .basic_auth(&key, Some(&secret))
        .json(&json!({"package": imported["id"], "learner": {"mbox": "mailto:limits@example.com"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let launch = registration["launch"]["url"].as_str().unwrap().to_owned();
    crate::helpers::remember_secret(&launch);
    for traversal in [
        "/content/../../../etc/passwd",
        "/content/one/%2e%2e/%2e%2e/imsmanifest.xml",
        "/content/%2e%2e%2f%2e%2e%2fetc/passwd",
    ] {
        let r = http
            .get(server.url(&format!("{launch}{traversal}")))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        assert!(status == 404 || status == 400, "{traversal}: {status}");
        let text = r.text().await.unwrap();
        assert!(
            !text.contains("root:") && !text.contains("<manifest"),
            "{traversal}"
        );
    }
    table.rows.push(Row {
        input: "a content path that climbs out of the package (`..`, encoded or not)",
        status: 404,
        named: "nothing served".to_owned(),
    });

    let started = server.start_attempt(&http, &launch).await;
    let commit_url = started["delivery"]["commit_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let commit = json!({
        "data_model": "Scorm12",
        "sequence": 1,
        "terminated": false,
        "values": [
            {"element": "cmi.core.lesson_location", "value": "p1"},
            {"element": "cmi.core.score.raw", "value": "a lot"},
        ],
    });
    let r = http
        .post(server.url(&commit_url))
        .header("content-type", "text/plain")
        .body(commit.to_string())
        .send()
        .await
        .unwrap();
    table
        .check(
            "a commit with a value the data model refuses",
            r,
            400,
            "/path",
            "values[1]",
        )
        .await;

    // ---- capabilities
    let r = http
        .put(server.url("/capabilities/frameworks/eng"))
        .basic_auth(&key, Some(&secret))
        .json(&json!({
            "id": "eng", "name": "Engineering", "version": "1",
            "scale": [{"level": 1, "label": "Aware"}, {"level": 3, "label": "Leading"}],
            "capabilities": [{"id": "build", "code": "BLD", "name": "Building", "iri": "https://example.com/c/BLD"}],
        }))
        .send()
        .await
        .unwrap();
    let body = table
        .check(
            "a framework whose scale skips a level",
            r,
            400,
            "/rule",
            "scale-contiguous",
        )
        .await;
    assert!(body.to_string().contains("scale"), "{body}");

    // ---- authentication
    let r = http
        .get(server.url("/xapi/statements"))
        .basic_auth(ADMIN_KEY, Some("wrong"))
        .header("X-Experience-API-Version", "2.0.0")
        .send()
        .await
        .unwrap();
    table.check("a wrong secret", r, 401, "", "").await;

    table.print();
}
