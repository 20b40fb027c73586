//! `proficio bench`: starts a real server, loads it over HTTP on loopback with generated
//! statements and measures the LRS hot paths end to end — throughput, latency percentiles,
//! the server's peak RSS and the data directory's size per statement — each beside the floor
//! of the same work done in process (`xapi::parse_statements` and `EmbeddedStore` directly).
//! The capability engine is measured on the fixture organisation of `capability_engine`,
//! beside the same derivation and reports in process.

mod capability_reports;
mod floor;
pub mod generate;
mod scenarios;
mod server;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

pub use server::{dir_size, peak_rss};

/// Statements per request in batch ingest.
pub const BATCH: usize = 100;

/// The fewest people `--people` accepts: the fixture's six personas and a few generated.
pub const MIN_PEOPLE: usize = 10;

/// What can go wrong in a run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("invalid option {option}: {rule}")]
    Option { option: &'static str, rule: String },
    #[error("cannot start the server: {0}")]
    Start(String),
    #[error("{scenario}: {request} answered {status}: {body}")]
    Http {
        scenario: &'static str,
        request: String,
        status: u16,
        body: String,
    },
    #[error("{scenario}: {detail}")]
    Transport {
        scenario: &'static str,
        detail: String,
    },
    #[error("floor: {0}")]
    Floor(String),
    #[error("{0}")]
    Io(String),
}

impl BenchError {
    pub fn kind(&self) -> BenchErrorKind {
        match self {
            BenchError::Option { .. } => BenchErrorKind::Option,
            BenchError::Start(_) => BenchErrorKind::Start,
            BenchError::Http { .. } | BenchError::Transport { .. } => BenchErrorKind::Scenario,
            BenchError::Floor(_) => BenchErrorKind::Floor,
            BenchError::Io(_) => BenchErrorKind::Io,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchErrorKind {
    Option,
    Start,
    Scenario,
    Floor,
    Io,
}

/// A group of measurements that can be chosen with `--scenarios`. Batch ingest always runs:
/// it is what fills the store the others run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    Ingest,
    Post,
    Query,
    More,
    State,
    Scorm,
    Capability,
    #[serde(rename = "capability-reports")]
    CapabilityReports,
}

impl Scenario {
    pub const ALL: [Scenario; 8] = [
        Scenario::Ingest,
        Scenario::Post,
        Scenario::Query,
        Scenario::More,
        Scenario::State,
        Scenario::Scorm,
        Scenario::Capability,
        Scenario::CapabilityReports,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Ingest => "ingest",
            Scenario::Post => "post",
            Scenario::Query => "query",
            Scenario::More => "more",
            Scenario::State => "state",
            Scenario::Scorm => "scorm",
            Scenario::Capability => "capability",
            Scenario::CapabilityReports => "capability-reports",
        }
    }
}

impl FromStr for Scenario {
    type Err = BenchError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scenario::ALL
            .into_iter()
            .find(|scenario| scenario.name() == s)
            .ok_or_else(|| BenchError::Option {
                option: "--scenarios",
                rule: format!(
                    "{s:?} is not one of {}",
                    Scenario::ALL.map(Scenario::name).join(", ")
                ),
            })
    }
}

/// Parses `a,b,…`; the empty list and `all` mean every scenario.
pub fn parse_scenarios(list: &str) -> Result<Vec<Scenario>, BenchError> {
    if list.trim().is_empty() || list.trim() == "all" {
        return Ok(Scenario::ALL.to_vec());
    }
    let mut chosen: Vec<Scenario> = list
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()?;
    chosen.push(Scenario::Ingest);
    chosen.sort();
    chosen.dedup();
    Ok(chosen)
}

#[derive(Debug, Clone)]
pub struct Options {
    /// The `proficio` executable to start as the server.
    pub binary: PathBuf,
    /// Statements loaded by batch ingest; the store the queries run against holds them.
    pub statements: usize,
    /// `embedded`, or a `scylla://…` URI (its keyspace should be a fresh one).
    pub store: String,
    pub scenarios: Vec<Scenario>,
    /// Concurrent clients for batch ingest, state documents and SCORM commits.
    pub clients: usize,
    /// Concurrent clients for single-statement POST.
    pub post_clients: usize,
    /// People of the smaller fixture organisation in `capability-reports`; it also runs at
    /// ten times as many.
    pub people: usize,
    /// Run the embedded store in this (new or empty) directory and leave it there, for a
    /// later look at what the run wrote; `None`: a temporary directory, removed at the end.
    pub keep_data: Option<PathBuf>,
}

impl Options {
    pub fn new(binary: PathBuf) -> Options {
        Options {
            binary,
            statements: 200_000,
            store: "embedded".to_owned(),
            scenarios: Scenario::ALL.to_vec(),
            clients: 4,
            post_clients: 32,
            people: 200,
            keep_data: None,
        }
    }

    fn validate(&self) -> Result<(), BenchError> {
        if self.statements < 1_000 {
            return Err(BenchError::Option {
                option: "--statements",
                rule: "must be at least 1000".to_owned(),
            });
        }
        if self.people < MIN_PEOPLE {
            return Err(BenchError::Option {
                option: "--people",
                rule: format!("must be at least {MIN_PEOPLE}"),
            });
        }
        if self.clients == 0 || self.post_clients == 0 {
            return Err(BenchError::Option {
                option: "--clients",
                rule: "must be at least 1".to_owned(),
            });
        }
        if self.store != "embedded" && !self.store.starts_with("scylla://") {
            return Err(BenchError::Option {
                option: "--store",
                rule: "must be `embedded` or a scylla:// URI".to_owned(),
            });
        }
        if let Some(dir) = &self.keep_data {
            if self.store != "embedded" {
                return Err(BenchError::Option {
                    option: "--keep-data",
                    rule: "applies to the embedded store only".to_owned(),
                });
            }
            let empty = match std::fs::read_dir(dir) {
                Ok(mut entries) => entries.next().is_none(),
                Err(e) => e.kind() == std::io::ErrorKind::NotFound,
            };
            if !empty {
                return Err(BenchError::Option {
                    option: "--keep-data",
                    rule: format!("{} must be a new or empty directory", dir.display()),
                });
            }
        }
        Ok(())
    }
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Measurement {
    pub scenario: String,
    pub ops: usize,
    pub seconds: f64,
    pub ops_per_s: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// The in-process floor of the same work, when there is one.
    pub floor: Option<Floor>,
    /// How many times the floor this figure is: throughput floor ÷ throughput, or
    /// latency ÷ latency floor.
    pub ratio: Option<f64>,
    /// Scenario-specific facts (statements found, pages, first/last page, …).
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub notes: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Floor {
    /// Statements per second in process.
    Throughput { what: String, ops_per_s: f64 },
    /// Median latency in process.
    Latency { what: String, p50_ms: f64 },
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub statements: usize,
    pub store: String,
    pub clients: usize,
    pub cores: usize,
    /// Average size of a generated statement in the batch bodies.
    pub statement_bytes: f64,
    pub raw_json_bytes: u64,
    pub startup_ms: f64,
    /// Start-up on the data directory the run left behind (embedded store only).
    pub restart_ms: Option<f64>,
    /// The restarted server's resident memory once it serves: what opening the data
    /// directory holds, before any request.
    pub restart_rss_bytes: Option<u64>,
    pub peak_rss_bytes: u64,
    pub data_dir_bytes: Option<u64>,
    pub data_dir_bytes_per_statement: Option<f64>,
    pub data_dir_to_raw_json: Option<f64>,
    pub floor: FloorReport,
    pub measurements: Vec<Measurement>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FloorReport {
    pub parse_per_s: f64,
    pub prepare_per_s: f64,
    pub insert_per_s: f64,
    /// Parse, prepare and insert one after the other: what one core does per statement.
    pub ingest_per_s: f64,
}

/// Runs the benchmark: the floor first, then the server and the scenarios chosen.
pub async fn run(options: Options) -> Result<Report, BenchError> {
    options.validate()?;
    scenarios::run(&options).await
}

/// Latencies → the figures of one line.
pub(crate) fn measurement(
    scenario: &str,
    ops: usize,
    elapsed: Duration,
    mut latencies: Vec<Duration>,
) -> Measurement {
    latencies.sort_unstable();
    let seconds = elapsed.as_secs_f64();
    Measurement {
        scenario: scenario.to_owned(),
        ops,
        seconds,
        ops_per_s: if seconds > 0.0 {
            ops as f64 / seconds
        } else {
            0.0
        },
        p50_ms: percentile_ms(&latencies, 0.50),
        p95_ms: percentile_ms(&latencies, 0.95),
        p99_ms: percentile_ms(&latencies, 0.99),
        floor: None,
        ratio: None,
        notes: serde_json::Map::new(),
    }
}

/// Nearest-rank percentile of sorted latencies, in milliseconds; 0 for none.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1e3
}

impl Report {
    /// The report as a Markdown table with the totals under it.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} statements ({:.0} bytes each), store {}, {} cores",
            self.statements, self.statement_bytes, self.store, self.cores
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| scenario | ops | ops/s | p50 ms | p95 ms | p99 ms | floor | ratio |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---|---:|");
        for m in &self.measurements {
            let floor = match &m.floor {
                Some(Floor::Throughput { what, ops_per_s }) => format!("{ops_per_s:.0}/s {what}"),
                Some(Floor::Latency { what, p50_ms }) => format!("{p50_ms:.2} ms {what}"),
                None => "-".to_owned(),
            };
            let ratio = m.ratio.map_or("-".to_owned(), |r| format!("{r:.1}×"));
            let _ = writeln!(
                out,
                "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {} |",
                m.scenario, m.ops, m.ops_per_s, m.p50_ms, m.p95_ms, m.p99_ms, floor, ratio
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "floor (1 core, in process): parse+validate {:.0}/s, prepare {:.0}/s, embedded insert {:.0}/s, all three {:.0}/s",
            self.floor.parse_per_s,
            self.floor.prepare_per_s,
            self.floor.insert_per_s,
            self.floor.ingest_per_s
        );
        let _ = writeln!(
            out,
            "server peak RSS {:.0} MB; start-up {:.0} ms{}",
            self.peak_rss_bytes as f64 / 1048576.0,
            self.startup_ms,
            match (self.restart_ms, self.restart_rss_bytes) {
                (Some(ms), Some(rss)) => format!(
                    ", restart on the full data dir {ms:.0} ms (RSS then {:.0} MB)",
                    rss as f64 / 1048576.0
                ),
                _ => String::new(),
            }
        );
        if let (Some(bytes), Some(per), Some(ratio)) = (
            self.data_dir_bytes,
            self.data_dir_bytes_per_statement,
            self.data_dir_to_raw_json,
        ) {
            let _ = writeln!(
                out,
                "data dir {:.1} MB, {per:.0} bytes per statement, {ratio:.2}× the raw JSON",
                bytes as f64 / 1048576.0
            );
        }
        out
    }
}

/// The command line of `proficio bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Statements loaded by batch ingest (the store the queries run on holds them).
    #[arg(long, default_value_t = 200_000)]
    pub statements: usize,
    /// `embedded` (a temporary data directory) or `scylla://HOST:PORT/KEYSPACE` (use a fresh
    /// keyspace: the run does not drop it).
    #[arg(long, default_value = "embedded")]
    pub store: String,
    /// Comma-separated: ingest, post, query, more, state, scorm, capability,
    /// capability-reports (default: all).
    #[arg(long, default_value = "all")]
    pub scenarios: String,
    /// Where to write the report as JSON; `-` for standard output (the table then goes to
    /// standard error).
    #[arg(long)]
    pub json: Option<String>,
    /// Concurrent clients for batch ingest, state documents and SCORM commits.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// People of the fixture organisation in `capability-reports` (also run at 10×).
    #[arg(long, default_value_t = 200)]
    pub people: usize,
    /// Keep the embedded store's data in this new or empty directory instead of a temporary
    /// one (to profile a restart on it, say).
    #[arg(long)]
    pub keep_data: Option<PathBuf>,
}

/// Runs `proficio bench` with `binary` as the server: prints the table and writes the JSON.
pub async fn command(args: BenchArgs, binary: PathBuf) -> Result<(), BenchError> {
    let options = Options {
        statements: args.statements,
        store: args.store,
        scenarios: parse_scenarios(&args.scenarios)?,
        clients: args.clients,
        people: args.people,
        keep_data: args.keep_data,
        ..Options::new(binary)
    };
    let report = run(options).await?;
    let json = serde_json::to_string_pretty(&report)
        .map_err(|e| BenchError::Io(format!("cannot write the report: {e}")))?;
    match args.json.as_deref() {
        Some("-") => {
            eprintln!("{}", report.table());
            println!("{json}");
        }
        Some(path) => {
            println!("{}", report.table());
            std::fs::write(path, json + "\n")
                .map_err(|e| BenchError::Io(format!("cannot write {path}: {e}")))?;
        }
        None => println!("{}", report.table()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile_ms(&sorted, 0.50), 50.0);
        assert_eq!(percentile_ms(&sorted, 0.95), 95.0);
        assert_eq!(percentile_ms(&sorted, 0.99), 99.0);
        assert_eq!(percentile_ms(&[], 0.5), 0.0);
        assert_eq!(percentile_ms(&[Duration::from_millis(3)], 0.99), 3.0);
    }

    #[test]
    fn scenarios_parse_and_always_include_ingest() {
        assert_eq!(parse_scenarios("all").expect("all"), Scenario::ALL.to_vec());
        assert_eq!(
            parse_scenarios("query,post").expect("two"),
            vec![Scenario::Ingest, Scenario::Post, Scenario::Query]
        );
        assert_eq!(
            parse_scenarios("capability-reports").expect("one"),
            vec![Scenario::Ingest, Scenario::CapabilityReports]
        );
        let error = parse_scenarios("query,fast").expect_err("unknown");
        assert_eq!(error.kind(), BenchErrorKind::Option);
        assert!(error.to_string().contains("\"fast\""), "{error}");
    }

    #[test]
    fn small_runs_are_refused() {
        let mut options = Options::new(PathBuf::from("proficio"));
        options.statements = 10;
        assert_eq!(
            options.validate().map_err(|e| e.kind()),
            Err(BenchErrorKind::Option)
        );
        options.statements = 1_000;
        options.people = 6;
        assert_eq!(
            options.validate().map_err(|e| e.kind()),
            Err(BenchErrorKind::Option)
        );
        options.people = MIN_PEOPLE;
        options.store = "postgres://x".to_owned();
        assert_eq!(
            options.validate().map_err(|e| e.kind()),
            Err(BenchErrorKind::Option)
        );
    }
}
