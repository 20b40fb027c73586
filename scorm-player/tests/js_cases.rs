//! The browser shim and the Rust data model agree: the call sequences in
//! `js-tests/cases/*.json` (which `node --test` plays through `assets/api.js`) played here
//! through `RuntimeState`, call by call, with the same expected answers and error codes.

use std::path::PathBuf;

use scorm_player::runtime::{CommitPayload, ElementValue, ErrorCode, Navigation, PriorAttempt};
use scorm_player::{LaunchData, RuntimeOptions, RuntimeState, ScormVersion, Start};
use serde_json::Value;

fn cases() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("js-tests/cases");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("js-tests/cases")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no cases in {}", dir.display());
    files
        .into_iter()
        .flat_map(|path| {
            let text = std::fs::read_to_string(&path).expect("read case file");
            let cases: Vec<Value> = serde_json::from_str(&text).expect("case JSON");
            let file = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            cases.into_iter().map(move |c| (file.clone(), c))
        })
        .collect()
}

fn version(name: &str) -> ScormVersion {
    ScormVersion::SCHEMA_VERSIONS
        .iter()
        .map(|(_, v)| *v)
        .find(|v| {
            serde_json::to_value(v)
                .ok()
                .and_then(|j| j.as_str().map(str::to_owned))
                .as_deref()
                == Some(name)
        })
        .unwrap_or_else(|| panic!("unknown version {name}"))
}

/// A serde value over its type's default: a field the case leaves out is the default's.
fn over_default<T: Default + serde::Serialize + serde::de::DeserializeOwned>(
    value: Option<&Value>,
) -> T {
    let mut base = serde_json::to_value(T::default()).expect("default");
    if let (Some(Value::Object(fields)), Value::Object(target)) = (value, &mut base) {
        for (k, v) in fields {
            target.insert(k.clone(), v.clone());
        }
    }
    serde_json::from_value(base).expect("case field")
}

fn start(version: ScormVersion, value: Option<&Value>) -> Start {
    let Some(start) = value else {
        return Start::New;
    };
    let values = start["values"]
        .as_array()
        .map(|values| {
            values
                .iter()
                .map(|v| ElementValue {
                    element: v["element"].as_str().unwrap_or_default().to_owned(),
                    value: v["value"].as_str().unwrap_or_default().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    let prior = PriorAttempt {
        payload: CommitPayload {
            data_model: version.data_model(),
            sequence: 0,
            terminated: false,
            values,
        },
        total_time: start["total_time"].as_u64().unwrap_or(0),
    };
    match start["entry"].as_str() {
        Some("resume") => Start::Resume(prior),
        Some("") => Start::Continue(prior),
        _ => Start::New,
    }
}

fn parse_code(text: &str) -> Option<ErrorCode> {
    text.trim().parse::<u16>().ok().map(ErrorCode)
}

/// One call through the Rust API, answered as the browser's API object answers.
fn call(state: &mut RuntimeState, method: &str, args: &[&str]) -> String {
    let arg = |i: usize| args.get(i).copied().unwrap_or("");
    let name = method.strip_prefix("LMS").unwrap_or(method);
    let flag = |ok: bool| if ok { "true" } else { "false" }.to_owned();
    match name {
        "Initialize" => flag(state.initialize(arg(0)).is_ok()),
        "Finish" | "Terminate" => flag(state.terminate(arg(0)).is_ok()),
        "Commit" => flag(state.commit(arg(0)).is_ok()),
        "GetValue" => state.get_value(arg(0)).unwrap_or_default(),
        "SetValue" => flag(state.set_value(arg(0), arg(1)).is_ok()),
        "GetLastError" => state.last_error().0.to_string(),
        "GetErrorString" => parse_code(arg(0))
            .map(|code| state.error_string(code).to_owned())
            .unwrap_or_default(),
        "GetDiagnostic" => {
            let code = if arg(0).is_empty() {
                Some(state.last_error())
            } else {
                parse_code(arg(0))
            };
            code.map(|code| state.diagnostic(code)).unwrap_or_default()
        }
        other => panic!("unknown API method {other}"),
    }
}

#[test]
fn every_shim_case_gives_the_same_answers_in_rust() {
    let mut calls = 0;
    let mut failures = Vec::new();
    for (file, case) in cases() {
        let name = case["name"].as_str().unwrap_or("?").to_owned();
        let version = version(case["version"].as_str().expect("version"));
        let launch: LaunchData = over_default(case.get("launch"));
        let options: RuntimeOptions = over_default(case.get("options"));
        let mut state =
            RuntimeState::new(version, launch, start(version, case.get("start")), options);
        if let Some(navigation) = case.get("navigation") {
            state.set_navigation(over_default::<Navigation>(Some(navigation)));
        }
        let steps = case["calls"].as_array().expect("calls");
        let expected = case["expect"].as_array().expect("expect");
        assert_eq!(
            steps.len(),
            expected.len(),
            "{file} {name}: calls and expect differ in length"
        );
        for (i, (step, want)) in steps.iter().zip(expected).enumerate() {
            let parts: Vec<&str> = step
                .as_array()
                .expect("call")
                .iter()
                .map(|v| v.as_str().unwrap_or_default())
                .collect();
            let answer = call(&mut state, parts[0], &parts[1..]);
            let code = state.last_error().0;
            let want_answer = want[0].as_str().unwrap_or_default();
            let want_code = want[1].as_u64().unwrap_or(u64::MAX);
            calls += 1;
            if answer != want_answer || u64::from(code) != want_code {
                failures.push(format!(
                    "{file} {name} #{i} {parts:?}: rust ({answer:?}, {code}), case ({want_answer:?}, {want_code})"
                ));
            }
        }
        if let (Some(payload), None) = (case.get("payload"), case.get("start")) {
            let actual = state.commit_payload();
            let want: Vec<(String, String)> = payload["values"]
                .as_array()
                .expect("payload values")
                .iter()
                .map(|pair| {
                    (
                        pair[0].as_str().unwrap_or_default().to_owned(),
                        pair[1].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            let got: Vec<(String, String)> = actual
                .values
                .iter()
                .map(|v| (v.element.clone(), v.value.clone()))
                .collect();
            if got != want || Some(actual.terminated) != payload["terminated"].as_bool() {
                failures.push(format!(
                    "{file} {name}: payload differs: rust {got:?}, case {want:?}"
                ));
            }
        }
    }
    assert!(calls >= 150, "only {calls} calls in the shared cases");
    assert!(
        failures.is_empty(),
        "{} of {calls} calls disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
