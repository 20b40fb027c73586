//! `proficio backup` and `proficio restore`: a consistent copy of the embedded store, taken
//! from a running server over its admin API or from a data directory no server runs on, and
//! restored into a new data directory (lrs/src/storage/embedded/backup.rs has the format).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use lrs::clock::SystemClock;
use lrs::storage::embedded::{EmbeddedOptions, EmbeddedStore, restore_backup, verify_backup};
use lrs::storage::{Backup, BackupSummary};

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The file to write; written beside it first and moved into place once checked whole.
    #[arg(long, short)]
    pub out: PathBuf,
    /// A running server to back up (`http://HOST:PORT`), with the operator's credential from
    /// PROFICIO_ADMIN_KEY and PROFICIO_ADMIN_SECRET. Without it, the data directory is read
    /// directly, and no server may be running on it.
    #[arg(long)]
    pub server: Option<String>,
    /// The embedded store's data directory, when no server is given.
    #[arg(long, env = "PROFICIO_DATA_DIR", default_value = "proficio-data")]
    pub data_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A file written by `proficio backup`.
    pub file: PathBuf,
    /// The new data directory: it must not exist or be empty.
    #[arg(long, env = "PROFICIO_DATA_DIR")]
    pub data_dir: PathBuf,
}

pub async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let partial = partial_path(&args.out);
    let written = match &args.server {
        Some(server) => download(server, &partial).await,
        None => {
            let (dir, partial) = (args.data_dir.clone(), partial.clone());
            tokio::task::spawn_blocking(move || write_local(&dir, &partial)).await?
        }
    };
    let checked = written.and_then(|()| {
        let file = std::fs::File::open(&partial)?;
        verify_backup(std::io::BufReader::new(file))
            .map_err(|e| anyhow::anyhow!("the backup written is not whole: {}", e.message))
    });
    let entries = match checked {
        Ok(entries) => entries,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
    };
    std::fs::rename(&partial, &args.out)
        .with_context(|| format!("moving the backup to {}", args.out.display()))?;
    let bytes = std::fs::metadata(&args.out)?.len();
    println!(
        "backup written to {}: {entries} entries, {:.1} MiB, checked whole",
        args.out.display(),
        bytes as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}

pub async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("opening {}", args.file.display()))?;
    let dir = args.data_dir.clone();
    let summary: BackupSummary = tokio::task::spawn_blocking(move || {
        restore_backup(
            std::io::BufReader::new(file),
            &dir,
            EmbeddedOptions::default(),
            Arc::new(SystemClock),
        )
    })
    .await?
    .map_err(|e| anyhow::anyhow!("restore refused: {}", e.message))?;
    println!(
        "restored {} entries in {} keyspaces into {} in {:.1} s",
        summary.entries,
        summary.keyspaces,
        args.data_dir.display(),
        summary.seconds
    );
    Ok(())
}

fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    out.with_file_name(name)
}

fn write_local(dir: &Path, partial: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        bail!("there is no data directory at {}", dir.display());
    }
    let store = EmbeddedStore::open(dir, EmbeddedOptions::default(), Arc::new(SystemClock))
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot open {}: {}\n(hint: while a server runs on it, back it up with --server)",
                dir.display(),
                e.message
            )
        })?;
    let mut file = std::fs::File::create(partial)?;
    store
        .write_backup(&mut file)
        .map_err(|e| anyhow::anyhow!("backup failed: {}", e.message))?;
    file.sync_all()?;
    Ok(())
}

async fn download(server: &str, partial: &Path) -> anyhow::Result<()> {
    let (Ok(key), Ok(secret)) = (
        std::env::var("PROFICIO_ADMIN_KEY"),
        std::env::var("PROFICIO_ADMIN_SECRET"),
    ) else {
        bail!(
            "set PROFICIO_ADMIN_KEY and PROFICIO_ADMIN_SECRET to the server operator's credential"
        );
    };
    let url = format!("{}/admin/backup", server.trim_end_matches('/'));
    let mut response = reqwest::Client::new()
        .get(&url)
        .basic_auth(key, Some(secret))
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    if !response.status().is_success() {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        bail!("GET {url}: {status} {body}");
    }
    let mut file = std::fs::File::create(partial)?;
    while let Some(chunk) = response
        .chunk()
        .await
        .context("the server stopped sending the backup")?
    {
        file.write_all(&chunk)?;
    }
    file.sync_all()?;
    Ok(())
}
