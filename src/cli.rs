//! The command line: `serve`, and the administration commands that work on a store directly
//! (on the embedded store's data directory only while no server holds it).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use lrs::auth::{Scope, parse_scopes};
use lrs::config::LrsConfig;
use lrs::storage::embedded::EmbeddedOptions;
use scorm_player::server::ScormServer;
use secrecy::SecretString;

use crate::{
    ScormSettings, ServerConfig, StoreConfig, StoreUri, build, open_store, run as serve_app,
    shutdown_signal,
};

#[derive(Debug, Parser)]
#[command(
    name = "proficio",
    version,
    about = "Learning records, SCORM runtime and capability engine"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage tenants (organisations or portals).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage credentials (HTTP Basic key and secret with scopes).
    #[command(subcommand)]
    Credential(CredentialCommand),
    /// Manage SCORM packages.
    #[command(subcommand)]
    Scorm(ScormCommand),
    /// Record sessions and assessments, import and export capability frameworks.
    #[command(subcommand)]
    Capabilities(CapabilitiesCommand),
    /// Back up the embedded store, consistent as of one moment: from a running server
    /// (`--server`, while it serves) or from a data directory no server runs on.
    Backup(crate::backup::BackupArgs),
    /// Restore a backup into a new data directory.
    Restore(crate::backup::RestoreArgs),
    /// Measure the LRS hot paths end to end on a fresh server started from this executable.
    Bench(proficio_bench::BenchArgs),
}

#[derive(Debug, Subcommand)]
pub enum ScormCommand {
    /// Import a SCORM 1.2 or 2004 package (a zip) into a tenant, with a progress bar.
    Import {
        file: PathBuf,
        #[arg(long)]
        tenant: String,
        #[command(flatten)]
        data: StoreArgs,
    },
    /// List a tenant's packages.
    List {
        #[arg(long)]
        tenant: String,
        #[command(flatten)]
        data: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum CapabilitiesCommand {
    /// Record a coaching or mentoring session, an attendance, an observation or an
    /// assessment: FILE (or `-` for stdin) is the JSON body of `POST /capabilities/records`.
    /// Prints the ids of the statements written.
    Record {
        file: PathBuf,
        #[arg(long)]
        tenant: String,
        #[command(flatten)]
        data: StoreArgs,
    },
    /// Import a framework from a CASE 1.1 package (JSON), the CSV layout of
    /// docs/capabilities.md, or the organisation's own SFIA workbook (.xlsx).
    Import {
        file: PathBuf,
        /// The framework's id in the tenant (replaced when it exists).
        #[arg(long)]
        framework: String,
        /// `case`, `csv` or `sfia`.
        #[arg(long)]
        format: String,
        #[arg(long)]
        tenant: String,
        #[command(flatten)]
        data: StoreArgs,
    },
    /// Write a stored framework as a CASE 1.1 package or CSV to stdout or --output.
    Export {
        #[arg(long)]
        framework: String,
        /// `case` or `csv`.
        #[arg(long)]
        format: String,
        #[arg(long)]
        tenant: String,
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[command(flatten)]
        data: StoreArgs,
    },
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Where the data lives: `embedded` (in --data-dir), or a ScyllaDB/Cassandra cluster,
    /// `scylla://HOST:PORT[,HOST:PORT…]/KEYSPACE[?replication=…&consistency=…]` (docs/scylla.md).
    #[arg(
        long,
        env = "PROFICIO_STORE",
        default_value = "embedded",
        hide_env_values = true
    )]
    pub store: StoreUri,
    /// Where the embedded store keeps its data.
    #[arg(long, env = "PROFICIO_DATA_DIR", default_value = "proficio-data")]
    pub data_dir: PathBuf,
}

impl StoreArgs {
    fn store_config(&self, options: EmbeddedOptions) -> StoreConfig {
        match &self.store {
            StoreUri::Embedded => StoreConfig::Embedded {
                data_dir: self.data_dir.clone(),
                options,
            },
            StoreUri::Scylla(config) => StoreConfig::Scylla(config.clone()),
        }
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PROFICIO_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub data: StoreArgs,
    /// fsync the journal on every write, so acknowledged writes also survive power loss.
    #[arg(long, env = "PROFICIO_FSYNC")]
    pub fsync: bool,
    /// Free space kept on the data directory's disk, in MiB: below it writes get 507 before
    /// anything is written (embedded store), so that the store always has room to finish its
    /// own work. Reads go on; writes resume when space is freed.
    #[arg(long, env = "PROFICIO_MIN_FREE_MIB", default_value_t = lrs::storage::embedded::DEFAULT_RESERVE_BYTES / (1024 * 1024))]
    pub min_free_mib: u64,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "PROFICIO_MAX_BODY_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Most statements in one request.
    #[arg(long, env = "PROFICIO_MAX_BATCH", default_value_t = 5_000)]
    pub max_batch: usize,
    /// Largest `limit` of a statement query.
    #[arg(long, env = "PROFICIO_MAX_QUERY_LIMIT", default_value_t = 1_000)]
    pub max_query_limit: usize,
    /// The server's public base URL; the home page of the accounts written as `authority`.
    /// Defaults to http://LISTEN.
    #[arg(long, env = "PROFICIO_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Largest SCORM package (zip) accepted, in bytes.
    #[arg(long, env = "PROFICIO_SCORM_MAX_PACKAGE_BYTES", default_value_t = 2 * 1024 * 1024 * 1024)]
    pub scorm_max_package_bytes: u64,
    /// How long a SCORM launch link stays valid, in hours.
    #[arg(long, env = "PROFICIO_SCORM_LINK_HOURS", default_value_t = 24)]
    pub scorm_link_hours: u64,
    /// Failed authentications from one client address within a window before its requests
    /// get 429.
    #[arg(long, env = "PROFICIO_AUTH_FAILURES_PER_ADDRESS", default_value_t = 20)]
    pub auth_failures_per_address: u32,
    /// Failed authentications naming one key within a window before requests naming it get
    /// 429.
    #[arg(long, env = "PROFICIO_AUTH_FAILURES_PER_KEY", default_value_t = 50)]
    pub auth_failures_per_key: u32,
    /// The window of the two limits above, in seconds.
    #[arg(long, env = "PROFICIO_AUTH_FAILURE_WINDOW_SECS", default_value_t = 60)]
    pub auth_failure_window_secs: u64,
    /// A reverse proxy's address whose `X-Forwarded-For` names the client (repeatable, or
    /// comma-separated in the environment variable).
    #[arg(long, env = "PROFICIO_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxy: Vec<std::net::IpAddr>,
    /// Key of the bootstrap admin credential (scope `all`, tenant `default`).
    #[arg(long, env = "PROFICIO_ADMIN_KEY", hide_env_values = true)]
    pub admin_key: Option<String>,
    /// Secret of the bootstrap admin credential.
    #[arg(long, env = "PROFICIO_ADMIN_SECRET", hide_env_values = true)]
    pub admin_secret: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant.
    Create {
        name: String,
        #[command(flatten)]
        data: StoreArgs,
    },
    /// List tenants.
    List {
        #[command(flatten)]
        data: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum CredentialCommand {
    /// Create a credential and print its key and secret (the secret is shown only once).
    Create {
        #[arg(long)]
        tenant: String,
        /// Comma-separated: statements/write, statements/read, statements/read/mine, all/read,
        /// all, profile, define, state.
        #[arg(long)]
        scopes: String,
        /// May use the /admin/ API.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        data: StoreArgs,
    },
    /// List credentials (never their secrets).
    List {
        #[command(flatten)]
        data: StoreArgs,
    },
    /// Revoke a credential.
    Revoke {
        key: String,
        #[command(flatten)]
        data: StoreArgs,
    },
}

/// Threads of the runtime's blocking pool, where store reads and writes, argon2 and SCORM
/// imports run (tokio's default allows 512). The allocator keeps freed memory per thread:
/// with the pool grown to a thread per concurrent request, the capability-reports bench
/// scenario peaked at 310–322 MB of RSS, against 196 MB with 8 threads and as many reports a
/// second (docs/performance.md). Code that waits in the pool for other work of the pool
/// must bound itself below this (SCORM imports: `scorm_player::server::IMPORTS_AT_ONCE`).
const BLOCKING_THREADS: usize = 8;

/// Runs a command; errors are printed, and the exit code says whether it worked.
pub fn run(cli: Cli) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(BLOCKING_THREADS)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        // The server's future is large (its whole configuration); it lives on the heap.
        Command::Serve(args) => Box::pin(serve(args)).await,
        Command::Tenant(command) => tenant(command).await,
        Command::Credential(command) => credential(command).await,
        Command::Scorm(command) => scorm(command).await,
        Command::Capabilities(command) => capabilities(command).await,
        Command::Backup(args) => crate::backup::backup(args).await,
        Command::Restore(args) => crate::backup::restore(args).await,
        Command::Bench(args) => Ok(proficio_bench::command(args, std::env::current_exe()?).await?),
    }
}

/// The SCORM service on a store opened by the command line, acting for `tenant` with full
/// rights (whoever can open the store can do anything to it).
async fn scorm_for(
    data: &StoreArgs,
    tenant: &str,
) -> anyhow::Result<(ScormServer, scorm_player::server::Caller)> {
    let stores = open_for_admin(data).await?;
    let found = stores
        .tenants
        .tenant_by_name(tenant)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no tenant named {tenant:?}"))?;
    let lrs = lrs::Lrs::new(
        stores.clone(),
        LrsConfig::default(),
        std::sync::Arc::new(lrs::clock::SystemClock),
    );
    let home_page = LrsConfig::default().authority_home_page;
    let server = crate::scorm::service(
        &stores,
        lrs.authenticator().clone(),
        &home_page,
        scorm_player::server::ScormConfig {
            iri_base: home_page.clone(),
            ..Default::default()
        },
    );
    let caller = scorm_player::server::Caller {
        tenant: scorm_player::server::Tenant(found.id.0),
        manage: true,
        read: true,
    };
    Ok((server, caller))
}

/// The capability service on a store opened by the command line, acting for `tenant`.
async fn capabilities_for(
    data: &StoreArgs,
    tenant: &str,
) -> anyhow::Result<(
    capability_service::CapabilityService,
    capability_service::Tenant,
)> {
    let stores = open_for_admin(data).await?;
    let found = stores
        .tenants
        .tenant_by_name(tenant)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no tenant named {tenant:?}"))?;
    let lrs = lrs::Lrs::new(
        stores.clone(),
        LrsConfig::default(),
        std::sync::Arc::new(lrs::clock::SystemClock),
    );
    let home_page = LrsConfig::default().authority_home_page;
    let service = crate::capabilities::service(&stores, lrs.authenticator().clone(), &home_page);
    Ok((service, capability_service::Tenant(found.id.0)))
}

/// A refused request as the HTTP API would name it: field, rule and message.
fn service_error(error: capability_service::ServiceError) -> anyhow::Error {
    match &error.path {
        Some(path) => anyhow::anyhow!("{path}: {} ({})", error.message, error.rule),
        None => anyhow::anyhow!("{} ({})", error.message, error.rule),
    }
}

fn read_input(file: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    if file == std::path::Path::new("-") {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)?;
        return Ok(bytes);
    }
    std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))
}

async fn capabilities(command: CapabilitiesCommand) -> anyhow::Result<()> {
    use capability_service::import::{ExportFormat, ImportFormat};
    match command {
        CapabilitiesCommand::Record { file, tenant, data } => {
            let body = read_input(&file)?;
            let (service, tenant) = capabilities_for(&data, &tenant).await?;
            let recorded = service.record(tenant, &body).await.map_err(service_error)?;
            println!("{}", serde_json::to_string_pretty(&recorded)?);
            Ok(())
        }
        CapabilitiesCommand::Import {
            file,
            framework,
            format,
            tenant,
            data,
        } => {
            let format = ImportFormat::parse(&format).map_err(|e| anyhow::anyhow!("{e}"))?;
            let body = read_input(&file)?;
            let (service, tenant) = capabilities_for(&data, &tenant).await?;
            let outcome = service
                .import_framework(tenant, &framework, format, body.into())
                .await
                .map_err(service_error)?;
            println!(
                "{} framework {} version {}: {} capabilities, {} relations",
                if outcome.created {
                    "created"
                } else {
                    "replaced"
                },
                outcome.id,
                outcome.version,
                outcome.capabilities,
                outcome.relations
            );
            for skipped in &outcome.skipped {
                println!("  skipped: {skipped}");
            }
            Ok(())
        }
        CapabilitiesCommand::Export {
            framework,
            format,
            tenant,
            output,
            data,
        } => {
            let format = ExportFormat::parse(&format).map_err(|e| anyhow::anyhow!("{e}"))?;
            let (service, tenant) = capabilities_for(&data, &tenant).await?;
            let bytes = service
                .export_framework(tenant, &framework, format)
                .await
                .map_err(service_error)?;
            match output {
                Some(path) => std::fs::write(&path, bytes)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
                None => std::io::Write::write_all(&mut std::io::stdout(), &bytes)?,
            }
            Ok(())
        }
    }
}

async fn scorm(command: ScormCommand) -> anyhow::Result<()> {
    match command {
        ScormCommand::Import { file, tenant, data } => {
            let (server, caller) = scorm_for(&data, &tenant).await?;
            let zip = std::fs::File::open(&file)
                .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?;
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{bar:40}] {bytes}/{total_bytes} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            let progress_bar = bar.clone();
            let progress = std::sync::Arc::new(move |p: scorm_player::server::ImportProgress| {
                progress_bar.set_length(p.bytes_total);
                progress_bar.set_position(p.bytes_done);
                progress_bar.set_message(format!("{}/{} files", p.files_done, p.files_total));
            });
            let result = server.import_package(&caller, zip, Some(progress)).await;
            bar.finish_and_clear();
            match result {
                Ok(summary) => {
                    println!(
                        "imported {} ({}, {:?}, {} files)",
                        summary.id, summary.title, summary.version, summary.files
                    );
                    Ok(())
                }
                Err(error) => {
                    for problem in &error.problems {
                        eprintln!(
                            "  {}: {} ({:?})",
                            problem.location, problem.message, problem.code
                        );
                    }
                    Err(anyhow::anyhow!("{}", error.message))
                }
            }
        }
        ScormCommand::List { tenant, data } => {
            let (server, caller) = scorm_for(&data, &tenant).await?;
            println!("id\ttitle\tversion\tfiles\tcreated");
            for p in server
                .list_packages(&caller)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))?
            {
                println!(
                    "{}\t{}\t{:?}\t{}\t{}",
                    p.id,
                    p.title,
                    p.version,
                    p.files,
                    p.created.to_rfc3339()
                );
            }
            Ok(())
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let admin = match (args.admin_key, args.admin_secret) {
        (Some(key), Some(secret)) => Some((key, SecretString::from(secret))),
        (None, None) => None,
        _ => anyhow::bail!("PROFICIO_ADMIN_KEY and PROFICIO_ADMIN_SECRET must be set together"),
    };
    let config = ServerConfig {
        listen: args.listen,
        store: args.data.store_config(EmbeddedOptions {
            fsync: args.fsync,
            reserve_bytes: args.min_free_mib.saturating_mul(1024 * 1024),
            ..EmbeddedOptions::default()
        }),
        lrs: LrsConfig {
            max_body_bytes: args.max_body_bytes,
            max_batch: args.max_batch,
            max_query_limit: args.max_query_limit,
            authority_home_page: args
                .public_url
                .unwrap_or_else(|| format!("http://{}", args.listen)),
            auth_throttle: lrs::http::throttle::ThrottleConfig {
                failures_per_address: args.auth_failures_per_address,
                failures_per_key: args.auth_failures_per_key,
                window: std::time::Duration::from_secs(args.auth_failure_window_secs.max(1)),
                trusted_proxies: args.trusted_proxy,
            },
        },
        admin,
        scorm: ScormSettings {
            max_package_bytes: args.scorm_max_package_bytes,
            link_lifetime: std::time::Duration::from_secs(
                args.scorm_link_hours.saturating_mul(3600),
            ),
        },
    };
    let app = build(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
    let local = listener.local_addr()?;
    tracing::info!(addr = %local, store = %config.store, "listening");
    // A line on stdout that scripts and tests can wait for.
    println!("proficio listening on http://{local}");
    serve_app(app, listener, shutdown_signal()).await
}

/// The administration commands open the store themselves. The embedded store's data directory
/// is locked by a running server, so they need it stopped; with a server running, use the
/// `/admin/` API. A ScyllaDB/Cassandra store can be administered beside running servers.
async fn open_for_admin(data: &StoreArgs) -> anyhow::Result<lrs::storage::Stores> {
    let config = data.store_config(EmbeddedOptions::default());
    open_store(&config).await.map_err(|e| match config {
        StoreConfig::Embedded { .. } => anyhow::anyhow!(
            "{e:#}\n(hint: while a server runs on this data directory, use its /admin/ API instead)"
        ),
        StoreConfig::Scylla(_) => e,
    })
}

async fn tenant(command: TenantCommand) -> anyhow::Result<()> {
    match command {
        TenantCommand::Create { name, data } => {
            let stores = open_for_admin(&data).await?;
            let tenant = lrs::registry::create_tenant(stores.tenants.as_ref(), &name).await?;
            println!("created tenant {}", tenant.name);
        }
        TenantCommand::List { data } => {
            let stores = open_for_admin(&data).await?;
            for tenant in stores.tenants.list_tenants().await? {
                println!("{}\t{}", tenant.name, tenant.created.to_rfc3339());
            }
        }
    }
    Ok(())
}

async fn credential(command: CredentialCommand) -> anyhow::Result<()> {
    match command {
        CredentialCommand::Create {
            tenant,
            scopes,
            admin,
            data,
        } => {
            let scopes: BTreeSet<Scope> = parse_scopes(&scopes)?;
            let stores = open_for_admin(&data).await?;
            let issued =
                lrs::registry::create_credential(stores.tenants.as_ref(), &tenant, &scopes, admin)
                    .await?;
            println!("key: {}", issued.credential.key);
            println!("secret: {}", issued.secret);
        }
        CredentialCommand::List { data } => {
            let stores = open_for_admin(&data).await?;
            println!("key\ttenant\tscopes\tadmin\trevoked\tcreated");
            for c in lrs::registry::list_credentials(stores.tenants.as_ref()).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    c.key,
                    c.tenant,
                    c.scopes.join(","),
                    c.admin,
                    c.revoked,
                    c.created.to_rfc3339()
                );
            }
        }
        CredentialCommand::Revoke { key, data } => {
            let stores = open_for_admin(&data).await?;
            lrs::registry::revoke_credential(stores.tenants.as_ref(), &key).await?;
            println!("revoked {key}");
        }
    }
    Ok(())
}
