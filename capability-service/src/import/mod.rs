//! Frameworks read from and written to exchange formats: CASE 1.1 packages, a documented CSV
//! layout, and an organisation's own SFIA 9 spreadsheet. Each reader is a pure function from
//! bytes to the engine's [`FrameworkSpec`]; the engine validates the result and its errors are
//! named by the row or item they came from.

mod case;
mod csv;
pub(crate) mod routes;
mod sfia;

pub use routes::ImportOutcome;

use capability_engine::{Framework, FrameworkId, FrameworkSpec};
use sha2::{Digest, Sha256};

/// What a body to import is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// A CASE 1.1 package (`CFDocument`, `CFItems`, `CFAssociations`, `CFRubrics`).
    Case,
    /// The CSV layout of `docs/capabilities.md`.
    Csv,
    /// The skills sheet of the organisation's licensed SFIA 9 workbook (.xlsx).
    Sfia,
}

/// What a framework can be written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Case,
    Csv,
}

/// A framework read from a body, with what the reader left out and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub spec: FrameworkSpec,
    /// Parts of the input with no place in the model (e.g. a CASE `isPeerOf` association).
    pub skipped: Vec<String>,
}

/// Input that cannot become a framework: where (a row, a column, a JSON path), the rule it
/// breaks and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message} ({rule})")]
pub struct ImportError {
    pub field: String,
    pub rule: &'static str,
    pub message: String,
}

impl ImportError {
    pub fn new(field: impl Into<String>, rule: &'static str, message: impl Into<String>) -> Self {
        ImportError {
            field: field.into(),
            rule,
            message: message.into(),
        }
    }
}

impl ImportFormat {
    pub fn parse(text: &str) -> Result<ImportFormat, ImportError> {
        match text {
            "case" => Ok(ImportFormat::Case),
            "csv" => Ok(ImportFormat::Csv),
            "sfia" => Ok(ImportFormat::Sfia),
            other => Err(ImportError::new(
                "format",
                "import-format",
                format!("format is case, csv or sfia, not {other:?}"),
            )),
        }
    }
}

impl ExportFormat {
    pub fn parse(text: &str) -> Result<ExportFormat, ImportError> {
        match text {
            "case" => Ok(ExportFormat::Case),
            "csv" => Ok(ExportFormat::Csv),
            other => Err(ImportError::new(
                "format",
                "export-format",
                format!("format is case or csv, not {other:?}"),
            )),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Case => "application/json",
            ExportFormat::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// Reads `body` as a framework with the id `id`, validated by the engine.
pub fn import(
    format: ImportFormat,
    id: &FrameworkId,
    body: &[u8],
) -> Result<Imported, ImportError> {
    let read = match format {
        ImportFormat::Case => case::read(id, body)?,
        ImportFormat::Csv => csv::read(id, body)?,
        ImportFormat::Sfia => sfia::read(id, body)?,
    };
    validate(&read)?;
    Ok(Imported {
        spec: read.spec,
        skipped: read.skipped,
    })
}

/// Writes a stored framework in `format`.
pub fn export(format: ExportFormat, spec: &FrameworkSpec) -> Result<Vec<u8>, ImportError> {
    if spec.source == capability_engine::FrameworkSource::Sfia {
        // SFIA's licence forbids redistributing its content to any other organisation
        // (sfia-online.org, "Using and licensing SFIA"); an export file is exactly that.
        return Err(ImportError::new(
            "source",
            "licence-export",
            "a framework imported from SFIA is not exported: its licence forbids redistribution",
        ));
    }
    match format {
        ExportFormat::Case => case::write(spec),
        ExportFormat::Csv => csv::write(spec),
    }
}

/// A framework as a reader built it, with where each capability came from.
struct Read {
    spec: FrameworkSpec,
    /// For each capability, in order, where it was read (e.g. `row 4`, `CFItems[2]`).
    origins: Vec<String>,
    /// For each relation, in order, where it was read.
    relation_origins: Vec<String>,
    skipped: Vec<String>,
}

/// Validates with the engine, renaming the spec's fields (`capabilities[3].levels[0].level`)
/// after the input they came from (`row 7: levels[0].level`).
fn validate(read: &Read) -> Result<(), ImportError> {
    let Err(error) = Framework::new(read.spec.clone()) else {
        return Ok(());
    };
    let field = error.field();
    let renamed = rename(field, "capabilities", &read.origins)
        .or_else(|| rename(field, "relations", &read.relation_origins))
        .unwrap_or_else(|| field.to_owned());
    Err(ImportError::new(renamed, error.rule(), error.message()))
}

fn rename(field: &str, list: &str, origins: &[String]) -> Option<String> {
    let rest = field.strip_prefix(list)?.strip_prefix('[')?;
    let (index, tail) = rest.split_once(']')?;
    let origin = origins.get(index.parse::<usize>().ok()?)?;
    let tail = tail.strip_prefix('.').unwrap_or(tail);
    Some(if tail.is_empty() {
        origin.clone()
    } else {
        format!("{origin}: {tail}")
    })
}

/// A UUID that depends only on `parts`, for identifiers an export must keep stable.
pub(crate) fn derived_uuid(parts: &[&str]) -> uuid::Uuid {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests;
