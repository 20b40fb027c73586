//! The case registry and the runner: every case is a named async check tagged with the
//! xAPI versions it applies to and the credentials it needs; the runner expands cases per
//! version and runs them concurrently (bounded), each under a timeout, reporting results in
//! registry order. A case whose credentials were not given is skipped, and says so.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::client::{Ctx, Identity};

/// What a case returns: `Err` carries the failure detail shown to the user.
pub type CaseResult = Result<(), String>;

/// The boxed future a case body produces.
pub type CaseFuture = Pin<Box<dyn Future<Output = CaseResult> + Send>>;

/// A case body; `Arc` so that data-driven cases can capture their input and still be
/// run once per version.
pub type CaseFn = Arc<dyn Fn(Ctx) -> CaseFuture + Send + Sync>;

/// An xAPI version the suite can speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XapiVersion {
    V1_0_3,
    V2_0_0,
}

/// Which versions a case applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Versions {
    Both,
    Only(XapiVersion),
}

/// One requirement check. `name` cites the spec section and, where the ADL conformance
/// suite numbers the requirement, its `XAPI-000nn` id.
pub struct Case {
    pub name: String,
    /// The module (area of the spec) the case belongs to, e.g. `paging`; set by the registry.
    pub area: &'static str,
    pub versions: Versions,
    /// Credentials besides `--key` the case acts with; without them it is skipped.
    pub needs: Vec<Identity>,
    pub run: CaseFn,
}

/// How one case ended under one version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Passed,
    Failed,
    /// Not run: the credentials it needs were not given (`detail` names the flags).
    Skipped,
}

/// The outcome of one case under one version.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: String,
    pub area: &'static str,
    pub version: XapiVersion,
    pub status: Status,
    pub detail: String,
    pub elapsed: Duration,
}

/// How the runner schedules cases.
pub struct RunOptions {
    pub concurrency: usize,
    pub case_timeout: Duration,
}

impl XapiVersion {
    /// The value sent in `X-Experience-API-Version`.
    pub fn header(self) -> &'static str {
        match self {
            XapiVersion::V1_0_3 => "1.0.3",
            XapiVersion::V2_0_0 => "2.0.0",
        }
    }

    /// The prefix every version string of this line starts with (`1.0.` / `2.0.`).
    pub fn line_prefix(self) -> &'static str {
        match self {
            XapiVersion::V1_0_3 => "1.0.",
            XapiVersion::V2_0_0 => "2.0.",
        }
    }

    /// The Statement `version` an LRS assigns when the client sends none
    /// (Data 2.4.10: `1.0.0` for every 1.0.x; 2.0 assigns `2.0.0`).
    pub fn default_statement_version(self) -> &'static str {
        match self {
            XapiVersion::V1_0_3 => "1.0.0",
            XapiVersion::V2_0_0 => "2.0.0",
        }
    }
}

impl Versions {
    pub fn includes(self, version: XapiVersion) -> bool {
        match self {
            Versions::Both => true,
            Versions::Only(only) => only == version,
        }
    }
}

impl Case {
    /// A case from any async function or closure taking the context.
    pub fn new<F, Fut>(name: impl Into<String>, versions: Versions, body: F) -> Case
    where
        F: Fn(Ctx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = CaseResult> + Send + 'static,
    {
        Case {
            name: name.into(),
            area: "",
            versions,
            needs: Vec::new(),
            run: Arc::new(move |ctx| Box::pin(body(ctx))),
        }
    }

    /// Marks the case as acting with `identity` too, so that it is skipped without it.
    pub fn needs(mut self, identity: Identity) -> Case {
        if !self.needs.contains(&identity) {
            self.needs.push(identity);
        }
        self
    }

    /// A case that applies to every version.
    pub fn both<F, Fut>(name: impl Into<String>, body: F) -> Case
    where
        F: Fn(Ctx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = CaseResult> + Send + 'static,
    {
        Case::new(name, Versions::Both, body)
    }
}

/// Runs `cases` once per selected version, at most `options.concurrency` at a time, and
/// hands each outcome to `report` in registry order as soon as all earlier ones are done.
pub async fn run(
    cases: &[Case],
    contexts: &[Ctx],
    options: &RunOptions,
    mut report: impl FnMut(&Outcome),
) -> Vec<Outcome> {
    let semaphore = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    let mut labels: Vec<(String, &'static str, XapiVersion)> = Vec::new();
    for ctx in contexts {
        for case in cases.iter().filter(|c| c.versions.includes(ctx.version)) {
            let index = labels.len();
            labels.push((case.name.clone(), case.area, ctx.version));
            let run = Arc::clone(&case.run);
            let name = case.name.clone();
            let area = case.area;
            let ctx = ctx.clone();
            let semaphore = Arc::clone(&semaphore);
            let timeout = options.case_timeout;
            let missing: Vec<Identity> = case
                .needs
                .iter()
                .copied()
                .filter(|identity| !ctx.has(*identity))
                .collect();
            tasks.spawn(async move {
                if !missing.is_empty() {
                    let outcome = Outcome {
                        name,
                        area,
                        version: ctx.version,
                        status: Status::Skipped,
                        detail: skip_reason(&missing),
                        elapsed: Duration::ZERO,
                    };
                    return (index, outcome);
                }
                // The semaphore is never closed, so acquiring cannot fail; a failure would
                // only lift the bound, never lose the case.
                let _permit = semaphore.acquire_owned().await.ok();
                let version = ctx.version;
                let started = Instant::now();
                let result = match tokio::time::timeout(timeout, run(ctx)).await {
                    Ok(result) => result,
                    Err(_) => Err(format!("timed out after {}s", timeout.as_secs())),
                };
                let outcome = Outcome {
                    name,
                    area,
                    version,
                    status: if result.is_ok() {
                        Status::Passed
                    } else {
                        Status::Failed
                    },
                    detail: result.err().unwrap_or_default(),
                    elapsed: started.elapsed(),
                };
                (index, outcome)
            });
        }
    }

    let total = labels.len();
    let mut slots: Vec<Option<Outcome>> = vec![None; total];
    let mut next = 0usize;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, outcome)) => slots[index] = Some(outcome),
            // A panicking case body is a bug in the suite; it must not take the run down,
            // and its slot is filled below as a failure so the count stays honest.
            Err(error) => eprintln!("a case task ended abnormally: {error}"),
        }
        while let Some(Some(outcome)) = slots.get(next) {
            report(outcome);
            next += 1;
        }
    }

    let mut outcomes = Vec::with_capacity(total);
    for (index, (slot, (name, area, version))) in slots.into_iter().zip(labels).enumerate() {
        let outcome = slot.unwrap_or_else(|| Outcome {
            name,
            area,
            version,
            status: Status::Failed,
            detail: "the case panicked (a bug in the suite)".to_owned(),
            elapsed: Duration::ZERO,
        });
        if index >= next {
            report(&outcome);
        }
        outcomes.push(outcome);
    }
    outcomes
}

/// Why a case was not run: the flags that would have let it run.
pub fn skip_reason(missing: &[Identity]) -> String {
    let flags: Vec<&str> = missing
        .iter()
        .map(|identity| match identity {
            Identity::Main => "--key/--secret",
            Identity::OtherTenant => {
                "--other-key/--other-secret (a credential on another tenant)"
            }
            Identity::ReadMine => {
                "--mine-key/--mine-secret (statements/write,statements/read/mine on the tenant of --key)"
            }
        })
        .collect();
    format!("SKIPPED (needs {})", flags.join(" and "))
}
