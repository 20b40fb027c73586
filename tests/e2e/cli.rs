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
