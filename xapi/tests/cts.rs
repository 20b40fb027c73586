//! Every statement-structure case of the ADL LRS Conformance Test Suite (configs + templates of
//! `test/v1_0_3` and `test/v2_0`, extracted by `tests/cts/extract.js`): statements the suite
//! expects a 400 for must be rejected, the others accepted.

use serde_json::Value;
use xapi::Version;

use crate::helpers::outcome;

fn run(file: &str, version: Version) {
    let path = format!("{}/tests/cts/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture file");
    let cases: Vec<Value> = serde_json::from_str(&text).expect("fixture json");
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
    run("cts_v1_0_3.json", Version::V1_0_3);
}

#[test]
fn cts_v2_0_statement_cases() {
    run("cts_v2_0.json", Version::V2_0_0);
}
