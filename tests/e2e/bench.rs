//! `proficio bench` runs end to end on a small store: every scenario is measured and the
//! figures are sane. Not a performance assertion; it proves the command works.

use std::process::Command;

use serde_json::Value;

use crate::helpers::binary;

#[test]
fn bench_measures_every_scenario() {
    let temp = tempfile::tempdir().expect("tempdir");
    let kept = temp.path().join("kept");
    let output = Command::new(binary())
        // The fixture organisation at 10 people and 100 keeps the capability reports short.
        .args([
            "bench",
            "--statements",
            "2000",
            "--people",
            "10",
            "--json",
            "-",
            "--keep-data",
        ])
        .arg(&kept)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run proficio bench");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "bench failed:\n{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).expect("the report is JSON");
    // The table goes to stderr when the JSON takes stdout.
    assert!(stderr.contains("| scenario | ops | ops/s |"), "{stderr}");

    assert_eq!(report["statements"], 2000);
    let bytes = report["statement_bytes"].as_f64().expect("statement_bytes");
    assert!(
        (700.0..1400.0).contains(&bytes),
        "{bytes} bytes per statement"
    );
    let rss = report["peak_rss_bytes"].as_u64().expect("peak_rss_bytes");
    assert!(rss > 1 << 20 && rss < 4 << 30, "peak RSS {rss}");
    assert!(report["data_dir_bytes"].as_u64().expect("data_dir_bytes") > 2000 * 100);
    assert!(report["restart_ms"].as_f64().expect("restart_ms") > 0.0);
    let restart_rss = report["restart_rss_bytes"]
        .as_u64()
        .expect("restart_rss_bytes");
    assert!(
        restart_rss > 1 << 20 && restart_rss < 4 << 30,
        "{restart_rss}"
    );
    // `--keep-data` leaves the store where it was asked to be.
    assert!(kept.join("keyspaces").is_dir(), "{}", kept.display());
    for floor in [
        "parse_per_s",
        "prepare_per_s",
        "insert_per_s",
        "ingest_per_s",
    ] {
        assert!(
            report["floor"][floor].as_f64().expect(floor) > 0.0,
            "{floor}"
        );
    }

    let measurements = report["measurements"].as_array().expect("measurements");
    let find = |prefix: &str| {
        measurements
            .iter()
            .find(|m| {
                m["scenario"]
                    .as_str()
                    .is_some_and(|s| s.starts_with(prefix))
            })
            .unwrap_or_else(|| panic!("no {prefix} in {report:#}"))
    };
    let expected = [
        ("ingest", 2000),
        ("post", 1000),
        ("query agent ", 200),
        ("query verb ", 200),
        ("query activity ", 200),
        ("query registration ", 200),
        ("query related_activities ", 200),
        ("query related_agents ", 200),
        ("query since_until ", 200),
        ("state PUT", 500),
        ("state GET", 500),
        ("capability catch-up", 3000),
        ("scorm commit", 512),
        ("capability-reports gap, 10 people", 10),
        ("capability-reports heatmap, 10 people", 10),
        ("capability-reports gap, 100 people", 100),
        ("capability-reports heatmap, 100 people", 100),
    ];
    for (prefix, ops) in expected {
        let m = find(prefix);
        assert_eq!(m["ops"], ops, "{m}");
        let (p50, p95, p99) = (
            m["p50_ms"].as_f64().expect("p50"),
            m["p95_ms"].as_f64().expect("p95"),
            m["p99_ms"].as_f64().expect("p99"),
        );
        assert!(m["ops_per_s"].as_f64().expect("ops/s") > 0.0, "{m}");
        assert!(0.0 < p50 && p50 <= p95 && p95 <= p99, "{m}");
        if prefix.starts_with("query") {
            // Every filter is asked for values that exist.
            assert_eq!(m["notes"]["empty_pages"], 0, "{m}");
            assert!(
                m["ratio"].is_number() || prefix == "query since_until ",
                "{m}"
            );
        }
    }
    let more = find("more");
    assert!(
        more["notes"]["pages"].as_u64().expect("pages") >= 3,
        "{more}"
    );
    assert!(
        more["floor"]["p50_ms"].as_f64().expect("first page") > 0.0,
        "{more}"
    );
    for throughput in ["ingest", "post"] {
        assert!(find(throughput)["ratio"].as_f64().expect("ratio") > 0.0);
    }
    // The background follower may read part of the stream first; the requests are ours.
    assert!(
        find("capability catch-up")["notes"]["sync_requests"]
            .as_u64()
            .expect("syncs")
            >= 1
    );
    // The fixture organisation: every statement through matcher and ledger at both sizes,
    // each figure beside its in-process floor.
    for people in [10, 100] {
        let m = find(&format!("capability-reports catch-up, {people} people"));
        assert_eq!(m["notes"]["people"], people, "{m}");
        // The personas alone have 30 statements.
        assert!(m["ops"].as_u64().expect("statements") >= 30, "{m}");
        assert!(
            m["notes"]["ledger_items"].as_u64().expect("items") > 0,
            "{m}"
        );
        assert_eq!(m["floor"]["what"], "Ledger::derive", "{m}");
        assert!(m["ratio"].as_f64().expect("ratio") > 0.0, "{m}");
        for kind in ["gap", "heatmap"] {
            let m = find(&format!("capability-reports {kind}, {people} people"));
            assert!(m["floor"]["p50_ms"].as_f64().expect("floor") > 0.0, "{m}");
            assert!(m["ratio"].as_f64().expect("ratio") > 0.0, "{m}");
        }
    }
}
