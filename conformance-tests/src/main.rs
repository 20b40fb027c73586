//! `conformance-tests`: a black-box suite of xAPI requirements that runs against any LRS
//! endpoint and reports one line per requirement checked.
//!
//! ```text
//! conformance-tests --endpoint http://127.0.0.1:8080/xapi --key K --secret S \
//!     [--other-key K2 --other-secret S2] [--mine-key K3 --mine-secret S3] [--require-all] \
//!     [--xapi-version 1.0.3|2.0.0|both] [--filter TEXT] [--json] [--strict-errors] \
//!     [--max-body-bytes N] [--concurrency N] [--case-timeout SECS] [--list]
//! ```
//!
//! The isolation and scope cases need the optional credentials: `--other-key` on another
//! tenant of the same LRS, `--mine-key` with scopes `statements/write,statements/read/mine`
//! on the tenant of `--key`. Without them those cases are reported `SKIPPED`, in the lines
//! and in the summary; `--require-all` turns any skip into a failure.
//!
//! Exit status: 0 when every case passed (skips allowed unless `--require-all`), 1 when any
//! failed, 2 when the LRS cannot be reached or the arguments are unusable. Every case makes
//! its own agents, verbs and activities, so the suite can run repeatedly against the same LRS.

mod cases;
mod check;
mod client;
mod docs;
mod fixtures;
mod harness;
mod jws;
mod multipart;
mod ops;
mod rawhttp;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use secrecy::SecretString;
use serde_json::json;
use url::Url;

use crate::client::{Auth, Credential, Ctx, Settings};
use crate::harness::{Outcome, RunOptions, Status, XapiVersion};

/// Runs xAPI conformance cases against an LRS.
#[derive(Debug, Parser)]
#[command(name = "conformance-tests", version)]
struct Cli {
    /// The LRS endpoint without a trailing slash, e.g. http://127.0.0.1:8080/xapi.
    #[arg(long, env = "CONFORMANCE_ENDPOINT")]
    endpoint: String,
    /// HTTP Basic key (user name).
    #[arg(long, env = "CONFORMANCE_KEY")]
    key: String,
    /// HTTP Basic secret (password).
    #[arg(long, env = "CONFORMANCE_SECRET", hide_env_values = true)]
    secret: SecretString,
    /// Key of a credential on ANOTHER tenant of the same LRS, for the isolation cases.
    #[arg(long, env = "CONFORMANCE_OTHER_KEY", requires = "other_secret")]
    other_key: Option<String>,
    /// Secret of the --other-key credential.
    #[arg(
        long,
        env = "CONFORMANCE_OTHER_SECRET",
        hide_env_values = true,
        requires = "other_key"
    )]
    other_secret: Option<SecretString>,
    /// Key of a credential with scopes statements/write,statements/read/mine on the tenant
    /// of --key, for the scope cases.
    #[arg(long, env = "CONFORMANCE_MINE_KEY", requires = "mine_secret")]
    mine_key: Option<String>,
    /// Secret of the --mine-key credential.
    #[arg(
        long,
        env = "CONFORMANCE_MINE_SECRET",
        hide_env_values = true,
        requires = "mine_key"
    )]
    mine_secret: Option<SecretString>,
    /// Fail the run when any case is skipped for want of credentials.
    #[arg(long)]
    require_all: bool,
    /// Which xAPI version(s) to test.
    #[arg(long, value_enum, default_value = "both")]
    xapi_version: VersionChoice,
    /// Run only cases whose name or area (about, versioning, authentication, headers, put,
    /// post, get-single, query-filters, paging, voiding, validation, limits, documents,
    /// concurrency, agents, activities, attachments, signed-statements, alternate-syntax,
    /// error-codes, isolation) contains this text (case-insensitive).
    #[arg(long)]
    filter: Option<String>,
    /// Print one JSON document with every result instead of text lines.
    #[arg(long)]
    json: bool,
    /// Also require error responses to carry a JSON body with a non-empty "message".
    #[arg(long)]
    strict_errors: bool,
    /// The LRS's request body limit; the limits cases send one byte more.
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    max_body_bytes: usize,
    /// How many cases run at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Seconds before a case is failed as hung.
    #[arg(long, default_value_t = 60)]
    case_timeout: u64,
    /// List the selected case names without running them.
    #[arg(long)]
    list: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum VersionChoice {
    #[value(name = "1.0.3")]
    V1_0_3,
    #[value(name = "2.0.0")]
    V2_0_0,
    Both,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> ExitCode {
    let versions: Vec<XapiVersion> = match cli.xapi_version {
        VersionChoice::V1_0_3 => vec![XapiVersion::V1_0_3],
        VersionChoice::V2_0_0 => vec![XapiVersion::V2_0_0],
        VersionChoice::Both => vec![XapiVersion::V1_0_3, XapiVersion::V2_0_0],
    };

    let filter = cli.filter.as_deref().map(str::to_lowercase);
    let cases: Vec<harness::Case> = cases::all()
        .into_iter()
        .filter(|case| {
            filter
                .as_deref()
                .is_none_or(|f| case.name.to_lowercase().contains(f) || case.area.contains(f))
        })
        .filter(|case| versions.iter().any(|v| case.versions.includes(*v)))
        .collect();
    if cases.is_empty() {
        eprintln!("no case matches the filter");
        return ExitCode::from(2);
    }
    if cli.list {
        for version in &versions {
            for case in cases.iter().filter(|c| c.versions.includes(*version)) {
                println!("[{}] {}: {}", version.header(), case.area, case.name);
            }
        }
        return ExitCode::SUCCESS;
    }

    let endpoint = match Url::parse(cli.endpoint.trim_end_matches('/')) {
        Ok(url) if !url.cannot_be_a_base() && matches!(url.scheme(), "http" | "https") => url,
        Ok(url) => {
            eprintln!("the endpoint must be an http(s) URL, got {url}");
            return ExitCode::from(2);
        }
        Err(error) => {
            eprintln!("the endpoint is not a URL: {error}");
            return ExitCode::from(2);
        }
    };
    let credential = |key: Option<String>, secret: Option<SecretString>| match (key, secret) {
        (Some(key), Some(secret)) => Some(Credential { key, secret }),
        _ => None,
    };
    let settings = Settings {
        endpoint,
        key: cli.key,
        secret: cli.secret,
        other: credential(cli.other_key, cli.other_secret),
        mine: credential(cli.mine_key, cli.mine_secret),
        strict_errors: cli.strict_errors,
        max_body_bytes: cli.max_body_bytes,
        request_timeout: Duration::from_secs(cli.case_timeout),
    };
    let base = match Ctx::new(settings, versions[0]) {
        Ok(ctx) => ctx,
        Err(error) => {
            eprintln!("cannot build the HTTP client: {error}");
            return ExitCode::from(2);
        }
    };

    // Any answer at all proves the endpoint is reachable; the about cases judge it.
    let probe = base
        .get("about")
        .auth(Auth::Absent)
        .version(None)
        .send()
        .await;
    if let Err(error) = probe {
        eprintln!("cannot reach the LRS: {error}");
        return ExitCode::from(2);
    }

    let contexts: Vec<Ctx> = versions.iter().map(|v| base.with_version(*v)).collect();
    let options = RunOptions {
        concurrency: cli.concurrency,
        case_timeout: Duration::from_secs(cli.case_timeout),
    };
    let text = !cli.json;
    let outcomes = harness::run(&cases, &contexts, &options, |outcome| {
        if text {
            print_line(outcome);
        }
    })
    .await;

    let count = |status: Status| outcomes.iter().filter(|o| o.status == status).count();
    let (passed, failed, skipped) = (
        count(Status::Passed),
        count(Status::Failed),
        count(Status::Skipped),
    );
    if cli.json {
        let results: Vec<_> = outcomes
            .iter()
            .map(|o| {
                json!({
                    "name": o.name,
                    "area": o.area,
                    "version": o.version.header(),
                    "passed": o.status == Status::Passed,
                    "status": match o.status {
                        Status::Passed => "passed",
                        Status::Failed => "failed",
                        Status::Skipped => "skipped",
                    },
                    "detail": o.detail,
                    "elapsed_ms": o.elapsed.as_millis() as u64,
                })
            })
            .collect();
        let document = json!({
            "passed": passed,
            "failed": failed,
            "skipped": skipped,
            "require_all": cli.require_all,
            "cases": results,
        });
        println!("{document:#}");
    } else {
        println!("{passed} passed, {failed} failed, {skipped} skipped");
    }
    if skipped > 0 {
        let mut reasons: Vec<&str> = outcomes
            .iter()
            .filter(|o| o.status == Status::Skipped)
            .map(|o| o.detail.as_str())
            .collect();
        reasons.sort_unstable();
        reasons.dedup();
        let warning = format!(
            "WARNING: {skipped} case(s) were SKIPPED and checked nothing: {}{}",
            reasons.join("; "),
            if cli.require_all {
                " (--require-all: the run fails)"
            } else {
                ""
            }
        );
        // In text mode the warning ends the report itself; JSON keeps stdout parseable.
        if cli.json {
            eprintln!("{warning}");
        } else {
            println!("{warning}");
        }
    }
    if failed == 0 && (skipped == 0 || !cli.require_all) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn print_line(outcome: &Outcome) {
    let version = outcome.version.header();
    match outcome.status {
        Status::Passed => println!("ok   [{version}] {}", outcome.name),
        Status::Failed => println!("FAIL [{version}] {}: {}", outcome.name, outcome.detail),
        Status::Skipped => println!("SKIP [{version}] {}: {}", outcome.name, outcome.detail),
    }
}
