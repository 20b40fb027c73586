//! The administration commands of the `proficio` binary.

use std::process::Command;

use crate::helpers::{Server, binary, statement};

fn proficio(args: &[&str], data_dir: &std::path::Path) -> std::process::Output {
    Command::new(binary())
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("PROFICIO_ADMIN_KEY")
        .env_remove("PROFICIO_ADMIN_SECRET")
        .output()
        .expect("run proficio")
}

fn stdout(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn tenant_and_credential_commands_work_end_to_end() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    assert!(stdout(&proficio(&["tenant", "create", "acme"], dir)).contains("acme"));
    let duplicate = proficio(&["tenant", "create", "acme"], dir);
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("already exists"));

    let created = stdout(&proficio(
        &[
            "credential",
            "create",
            "--tenant",
            "acme",
            "--scopes",
            "statements/write,statements/read",
        ],
        dir,
    ));
    let field = |name: &str| {
        created
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .expect(name)
    };
    let (key, secret) = (field("key:"), field("secret:"));

    let listed = stdout(&proficio(&["credential", "list"], dir));
    assert!(listed.contains(&key) && listed.contains("acme"));
    assert!(!listed.contains(&secret), "secrets are never listed");

    let bad_scope = proficio(
        &[
            "credential",
            "create",
            "--tenant",
            "acme",
            "--scopes",
            "root",
        ],
        dir,
    );
    assert!(!bad_scope.status.success());
    assert!(String::from_utf8_lossy(&bad_scope.stderr).contains("unknown scope"));

    {
        let server = Server::start_on(dir, &[]);
        let xapi = server.xapi(&key, &secret);
        assert_eq!(
            xapi.post(&statement("cli@example.com", "did", "cli"))
                .await
                .status(),
            200
        );
        let busy = proficio(&["credential", "list"], dir);
        assert!(
            !busy.status.success(),
            "the data directory is held by the server"
        );
        assert!(String::from_utf8_lossy(&busy.stderr).contains("/admin/"));
    }

    assert!(stdout(&proficio(&["credential", "revoke", &key], dir)).contains(&key));
    let server = Server::start_on(dir, &[]);
    assert_eq!(server.xapi(&key, &secret).get("").await.status(), 401);
}

#[tokio::test]
async fn scorm_import_from_the_command_line_lists_the_package_and_refuses_a_bad_one() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    stdout(&proficio(&["tenant", "create", "acme"], dir));
    let zip_path = dir.join("course.zip");
    std::fs::write(&zip_path, crate::scorm::course()).unwrap();
    let zip = zip_path.to_str().unwrap();
    let imported = stdout(&proficio(
        &["scorm", "import", zip, "--tenant", "acme"],
        dir,
    ));
    assert!(imported.contains("Two lessons"), "{imported}");
    let listed = stdout(&proficio(&["scorm", "list", "--tenant", "acme"], dir));
    assert!(listed.contains("Two lessons"), "{listed}");
    let unknown = proficio(&["scorm", "import", zip, "--tenant", "nobody"], dir);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no tenant"));

    let bad_path = dir.join("bad.zip");
    std::fs::write(&bad_path, b"not a zip").unwrap();
    let bad = proficio(
        &[
            "scorm",
            "import",
            bad_path.to_str().unwrap(),
            "--tenant",
            "acme",
        ],
        dir,
    );
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("problem"), "{stderr}");
    let listed = stdout(&proficio(&["scorm", "list", "--tenant", "acme"], dir));
    assert_eq!(listed.lines().count(), 2, "only the good package: {listed}");
}

#[tokio::test]
async fn capability_frameworks_and_records_from_the_command_line() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    stdout(&proficio(&["tenant", "create", "acme"], dir));
    let csv_path = dir.join("eng.csv");
    std::fs::write(&csv_path, crate::capability_import::CSV).unwrap();
    let csv = csv_path.to_str().unwrap();
    let imported = stdout(&proficio(
        &[
            "capabilities",
            "import",
            csv,
            "--framework",
            "eng",
            "--format",
            "csv",
            "--tenant",
            "acme",
        ],
        dir,
    ));
    assert!(
        imported.contains("created framework eng version 1: 2 capabilities"),
        "{imported}"
    );

    // Out again, byte for byte, to a file.
    let out_path = dir.join("out.csv");
    stdout(&proficio(
        &[
            "capabilities",
            "export",
            "--framework",
            "eng",
            "--format",
            "csv",
            "--tenant",
            "acme",
            "--output",
            out_path.to_str().unwrap(),
        ],
        dir,
    ));
    assert_eq!(
        std::fs::read_to_string(&out_path).unwrap(),
        crate::capability_import::CSV
    );

    let record = serde_json::json!({
        "kind": "manager-assessment",
        "learner": {"objectType": "Agent", "name": "Ana Lee", "mbox": "mailto:ana@acme.example"},
        "by": {"objectType": "Agent", "name": "Max", "mbox": "mailto:max@acme.example"},
        "capability": "eng/build",
        "level": 2,
        "occurred": "2026-05-12T09:00:00Z",
    });
    let record_path = dir.join("record.json");
    std::fs::write(&record_path, record.to_string()).unwrap();
    let recorded = stdout(&proficio(
        &[
            "capabilities",
            "record",
            record_path.to_str().unwrap(),
            "--tenant",
            "acme",
        ],
        dir,
    ));
    let recorded: serde_json::Value = serde_json::from_str(&recorded).expect("json out");
    assert_eq!(recorded["kind"], "manager-assessment");
    let id = recorded["statements"][0]
        .as_str()
        .expect("statement id")
        .to_owned();

    // A level the framework's scale does not have is refused, naming the field.
    let mut wrong = record.clone();
    wrong["level"] = serde_json::json!(9);
    std::fs::write(&record_path, wrong.to_string()).unwrap();
    let refused = proficio(
        &[
            "capabilities",
            "record",
            record_path.to_str().unwrap(),
            "--tenant",
            "acme",
        ],
        dir,
    );
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("level"), "{stderr}");
    let unknown_format = proficio(
        &[
            "capabilities",
            "import",
            csv,
            "--framework",
            "x",
            "--format",
            "xml",
            "--tenant",
            "acme",
        ],
        dir,
    );
    assert!(!unknown_format.status.success());
    assert!(String::from_utf8_lossy(&unknown_format.stderr).contains("format"));

    // The server on the same directory has the framework and the statement.
    let server = Server::start_on(dir, &[]);
    let (key, secret) = server.credential("acme", &["all"]).await;
    let xapi = server.xapi(&key, &secret);
    let stored = xapi.get_json(&format!("?statementId={id}")).await;
    assert_eq!(stored["actor"]["mbox"], "mailto:ana@acme.example");
    let framework = reqwest::Client::new()
        .get(server.url("/capabilities/frameworks/eng"))
        .basic_auth(&key, Some(&secret))
        .send()
        .await
        .expect("get framework");
    assert_eq!(framework.status(), 200);
}
