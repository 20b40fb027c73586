//! The skills sheet of an organisation's own, licensed SFIA 9 workbook (.xlsx). Columns are
//! found by their header names (`Code`, `Skill`, `Overall description`, `Level 1
//! description` … `Level 7 description`, optionally `URL`); a skill gets only the levels it
//! has a description for, as SFIA defines each skill at some levels only.
//!
//! SFIA's licence forbids redistributing its content, so nothing of it is in this
//! repository: the scale labels are plain "Level n", and tests build a made-up workbook.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use capability_engine::{
    CapabilityId, CapabilitySpec, FrameworkId, FrameworkSource, FrameworkSpec, Level,
    LevelDescription, ScaleLevel,
};

use super::{ImportError, Read};

/// SFIA's seven levels of responsibility.
const LEVELS: u8 = 7;

/// Where a skill's page is when the sheet has no `URL` column (sfia-online.org's stable
/// per-skill address; a reference, not content).
const SKILL_URL: &str = "https://sfia-online.org/en/skillcode/9/";

struct Columns {
    code: usize,
    skill: usize,
    description: Option<usize>,
    url: Option<usize>,
    /// The column of each level's description, by level.
    levels: Vec<(Level, usize)>,
}

pub(super) fn read(id: &FrameworkId, body: &[u8]) -> Result<Read, ImportError> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(body))
        .map_err(|e| ImportError::new("workbook", "xlsx", format!("not an .xlsx workbook: {e}")))?;
    let names = workbook.sheet_names();
    let sheet = names
        .iter()
        .find(|n| n.trim().eq_ignore_ascii_case("skills"))
        .or_else(|| names.first())
        .cloned()
        .ok_or_else(|| ImportError::new("workbook", "sfia-sheet", "the workbook has no sheet"))?;
    let range = workbook.worksheet_range(&sheet).map_err(|e| {
        ImportError::new(
            format!("sheet {sheet}"),
            "xlsx",
            format!("unreadable sheet: {e}"),
        )
    })?;
    let mut rows = range.rows();
    let header: Vec<String> = rows
        .next()
        .ok_or_else(|| {
            ImportError::new(
                format!("sheet {sheet}"),
                "sfia-header",
                "the sheet is empty",
            )
        })?
        .iter()
        .map(cell)
        .collect();
    let columns = columns(&sheet, &header)?;
    let mut capabilities = Vec::new();
    let mut origins = Vec::new();
    for (i, row) in rows.enumerate() {
        let at = format!("sheet {sheet}, row {}", i + 2);
        let value = |c: usize| row.get(c).map(cell).filter(|s| !s.is_empty());
        let Some(code) = value(columns.code) else {
            // Blank lines and notes under the table are not skills.
            continue;
        };
        let name = value(columns.skill).ok_or_else(|| {
            ImportError::new(
                format!("{at}, column Skill"),
                "required",
                "a skill has a name",
            )
        })?;
        let capability = CapabilityId::parse(code.as_str())
            .map_err(|e| ImportError::new(format!("{at}, column Code"), e.rule(), e.message()))?;
        let levels: Vec<LevelDescription> = columns
            .levels
            .iter()
            .filter_map(|&(level, c)| {
                value(c).map(|text| LevelDescription {
                    level,
                    description: Some(text),
                })
            })
            .collect();
        if levels.is_empty() {
            return Err(ImportError::new(
                at,
                "sfia-levels",
                format!("skill {code} has no level description"),
            ));
        }
        let iri = columns
            .url
            .and_then(value)
            .unwrap_or_else(|| format!("{SKILL_URL}{code}"));
        capabilities.push(CapabilitySpec {
            id: capability,
            code: Some(code),
            name,
            description: columns.description.and_then(value),
            iri: Some(iri),
            levels: Some(levels),
        });
        origins.push(at);
    }
    let scale = (1..=LEVELS)
        .filter_map(|n| Level::new(n).ok())
        .map(|level| ScaleLevel {
            level,
            label: format!("Level {level}"),
            description: None,
        })
        .collect();
    Ok(Read {
        spec: FrameworkSpec {
            id: id.clone(),
            name: "SFIA 9".to_owned(),
            version: "9".to_owned(),
            source: FrameworkSource::Sfia,
            licence: Some(
                "SFIA, under the organisation's own licence from the SFIA Foundation; not for redistribution"
                    .to_owned(),
            ),
            scale,
            capabilities,
            relations: Vec::new(),
        },
        origins,
        relation_origins: Vec::new(),
        skipped: Vec::new(),
    })
}

fn cell(data: &Data) -> String {
    match data {
        Data::Empty => String::new(),
        other => other.to_string().trim().to_owned(),
    }
}

/// Finds the columns by header name, ignoring case and spacing.
fn columns(sheet: &str, header: &[String]) -> Result<Columns, ImportError> {
    let normal: Vec<String> = header
        .iter()
        .map(|h| {
            h.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        })
        .collect();
    let find = |names: &[&str]| normal.iter().position(|h| names.contains(&h.as_str()));
    let need = |names: &[&str]| {
        find(names).ok_or_else(|| {
            ImportError::new(
                format!("sheet {sheet}, row 1"),
                "sfia-header",
                format!("no column {:?}", names[0]),
            )
        })
    };
    let mut levels = Vec::new();
    for n in 1..=LEVELS {
        let long = format!("level {n} description");
        let short = format!("level {n}");
        if let Some(c) = find(&[long.as_str(), short.as_str()]) {
            let level =
                Level::new(n).map_err(|e| ImportError::new("level", e.rule(), e.message()))?;
            levels.push((level, c));
        }
    }
    if levels.is_empty() {
        return Err(ImportError::new(
            format!("sheet {sheet}, row 1"),
            "sfia-header",
            "no column \"Level 1 description\" … \"Level 7 description\"",
        ));
    }
    Ok(Columns {
        code: need(&["code", "skill code"])?,
        skill: need(&["skill", "skill name", "name"])?,
        description: find(&["overall description", "description"]),
        url: find(&["url"]),
        levels,
    })
}
