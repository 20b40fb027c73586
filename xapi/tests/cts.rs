//! Every statement-structure case of the ADL LRS Conformance Test Suite (configs + templates of
//! `test/v1_0_3` and `test/v2_0`, extracted at test time by `tests/cts/extract.js`): statements
//! the suite expects a 400 for must be rejected, the others accepted.
//!
//! The suite is not part of this repository. Point `ADL_CTS_DIR` at a local checkout of
//! `adlnet/lrs-conformance-test-suite` (and have `node` on the PATH) to run these; without it
//! they say loudly that they were skipped.

use serde_json::Value;
use xapi::Version;

use crate::helpers::outcome;

fn run(folder: &str, version: Version) {
    let Ok(suite) = std::env::var("ADL_CTS_DIR") else {
        eprintln!(
            "SKIPPED: ADL conformance-suite statement cases ({folder}): set ADL_CTS_DIR to a checkout of adlnet/lrs-conformance-test-suite to run them"
        );
        return;
    };
    let script = format!("{}/tests/cts/extract.js", env!("CARGO_MANIFEST_DIR"));
    let output = std::process::Command::new("node")
        .arg(script)
        .arg(format!("{suite}/test/{folder}"))
        .output()
        .expect("run node");
    assert!(
        output.status.success(),
        "extract.js failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let cases: Vec<Value> = serde_json::from_slice(&output.stdout).expect("fixture json");
    let mut failures = Vec::new();
    for case in &cases {
        let expect_ok = case["expect"].as_u64() == Some(200);
        let body = serde_json::to_vec(&case["statement"]).expect("serialise");
        let got = outcome(&body, version);
        if got.is_ok() != expect_ok {
            failures.push(format!(
                "{} / {} / {}: expected {}, got {:?}\n    {}",
                case["file"].as_str().unwrap_or_default(),
                case["suite"].as_str().unwrap_or_default(),
                case["name"].as_str().unwrap_or_default(),
                if expect_ok { "accept" } else { "reject" },
                got,
                String::from_utf8_lossy(&body)
            ));
        }
    }
    assert!(
        cases.len() > 900,
        "fixture looks truncated: {} cases",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} CTS cases disagree:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn cts_v1_0_3_statement_cases() {
    run("v1_0_3", Version::V1_0_3);
}

#[test]
fn cts_v2_0_statement_cases() {
    run("v2_0", Version::V2_0_0);
}
