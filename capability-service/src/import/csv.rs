//! The framework CSV layout (RFC 4180, header row required):
//! `capability_id,code,name,description,iri,parent,level,level_description`.
//!
//! - `capability_id` and `level` empty: the framework row (`name`, `code` = version).
//! - `capability_id` empty, `level` n: scale level n (`name` = label, `level_description`).
//! - otherwise one row per capability and level; the first row of a capability carries its
//!   `code`, `name`, `description`, `iri` and `parent` (later rows leave them empty or repeat
//!   them). One row with an empty `level` means every level of the scale. `parent` makes the
//!   capability narrow its parent.

use std::collections::BTreeMap;

use capability_engine::{
    CapabilityId, CapabilitySpec, FrameworkId, FrameworkSource, FrameworkSpec, Level,
    LevelDescription, Relation, RelationKind, ScaleLevel,
};

use super::{ImportError, Read};

pub(super) const COLUMNS: [&str; 8] = [
    "capability_id",
    "code",
    "name",
    "description",
    "iri",
    "parent",
    "level",
    "level_description",
];

const REQUIRED: [&str; 3] = ["capability_id", "name", "level"];

struct Row {
    /// `row n`, counting the header as row 1 as spreadsheets do.
    at: String,
    cells: BTreeMap<&'static str, String>,
}

impl Row {
    fn get(&self, column: &str) -> Option<&str> {
        self.cells
            .get(column)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }
}

pub(super) fn read(id: &FrameworkId, body: &[u8]) -> Result<Read, ImportError> {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(body);
    let headers = reader
        .headers()
        .map_err(|e| ImportError::new("row 1", "csv", e.to_string()))?
        .clone();
    let mut positions: Vec<(&'static str, usize)> = Vec::new();
    for (i, header) in headers.iter().enumerate() {
        let name = header.trim().trim_start_matches('\u{feff}');
        let Some(&column) = COLUMNS.iter().find(|c| **c == name) else {
            return Err(ImportError::new(
                format!("row 1, column {}", i + 1),
                "csv-header",
                format!(
                    "unknown column {name:?}; the columns are {}",
                    COLUMNS.join(",")
                ),
            ));
        };
        if positions.iter().any(|(c, _)| *c == column) {
            return Err(ImportError::new(
                format!("row 1, column {}", i + 1),
                "csv-header",
                format!("column {name} is given twice"),
            ));
        }
        positions.push((column, i));
    }
    for required in REQUIRED {
        if !positions.iter().any(|(c, _)| *c == required) {
            return Err(ImportError::new(
                "row 1",
                "csv-header",
                format!("the column {required} is required"),
            ));
        }
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let at = format!("row {}", i + 2);
        let record = record.map_err(|e| ImportError::new(&at, "csv", e.to_string()))?;
        let cells = positions
            .iter()
            .map(|&(column, p)| (column, record.get(p).unwrap_or_default().to_owned()))
            .collect();
        rows.push(Row { at, cells });
    }
    build(id, &rows)
}

fn build(id: &FrameworkId, rows: &[Row]) -> Result<Read, ImportError> {
    let mut name: Option<String> = None;
    let mut version = String::new();
    let mut scale: Vec<ScaleLevel> = Vec::new();
    let mut capabilities: Vec<CapabilitySpec> = Vec::new();
    let mut origins: Vec<String> = Vec::new();
    let mut parents: Vec<(usize, String, String)> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for row in rows {
        let level = row
            .get("level")
            .map(|text| parse_level(text, &row.at))
            .transpose()?;
        let Some(capability) = row.get("capability_id") else {
            match level {
                None => {
                    if name.is_some() {
                        return Err(ImportError::new(
                            &row.at,
                            "csv-framework-row",
                            "the framework row (no capability_id, no level) is given twice",
                        ));
                    }
                    name = Some(required(row, "name")?.to_owned());
                    version = row.get("code").unwrap_or_default().to_owned();
                }
                Some(level) => scale.push(ScaleLevel {
                    level,
                    label: required(row, "name")?.to_owned(),
                    description: row.get("level_description").map(str::to_owned),
                }),
            }
            continue;
        };
        let position = match index.get(capability) {
            Some(&p) => {
                let existing = &capabilities[p];
                for (column, value) in [
                    ("code", existing.code.as_deref()),
                    ("name", Some(existing.name.as_str())),
                    ("description", existing.description.as_deref()),
                    ("iri", existing.iri.as_deref()),
                ] {
                    if let Some(given) = row.get(column)
                        && Some(given) != value
                    {
                        return Err(ImportError::new(
                            format!("{}, column {column}", row.at),
                            "csv-consistent",
                            format!(
                                "capability {capability} has another {column} on an earlier row"
                            ),
                        ));
                    }
                }
                p
            }
            None => {
                let id = CapabilityId::parse(capability).map_err(|e| {
                    ImportError::new(
                        format!("{}, column capability_id", row.at),
                        e.rule(),
                        e.message(),
                    )
                })?;
                capabilities.push(CapabilitySpec {
                    id,
                    code: row.get("code").map(str::to_owned),
                    name: required(row, "name")?.to_owned(),
                    description: row.get("description").map(str::to_owned),
                    iri: row.get("iri").map(str::to_owned),
                    levels: Some(Vec::new()),
                });
                origins.push(row.at.clone());
                index.insert(capability.to_owned(), capabilities.len() - 1);
                capabilities.len() - 1
            }
        };
        if let Some(parent) = row.get("parent") {
            match parents.iter().find(|(p, _, _)| *p == position) {
                Some((_, known, _)) if known != parent => {
                    return Err(ImportError::new(
                        format!("{}, column parent", row.at),
                        "csv-consistent",
                        format!("capability {capability} has another parent on an earlier row"),
                    ));
                }
                Some(_) => {}
                None => parents.push((position, parent.to_owned(), row.at.clone())),
            }
        }
        let spec = &mut capabilities[position];
        match (level, spec.levels.as_mut()) {
            (None, Some(levels)) if levels.is_empty() => spec.levels = None,
            (Some(level), Some(levels)) => levels.push(LevelDescription {
                level,
                description: row.get("level_description").map(str::to_owned),
            }),
            _ => {
                return Err(ImportError::new(
                    format!("{}, column level", row.at),
                    "csv-levels",
                    format!(
                        "capability {capability} has a row without a level (every level) and rows with one"
                    ),
                ));
            }
        }
    }
    if scale.is_empty() {
        // Without scale rows the scale runs to the highest level any capability uses.
        let top = capabilities
            .iter()
            .flat_map(|c| c.levels.iter().flatten())
            .map(|l| l.level.get())
            .max()
            .unwrap_or(1);
        for n in 1..=top {
            let level =
                Level::new(n).map_err(|e| ImportError::new("level", e.rule(), e.message()))?;
            scale.push(ScaleLevel {
                level,
                label: format!("Level {n}"),
                description: None,
            });
        }
    }
    let mut relations = Vec::new();
    let mut relation_origins = Vec::new();
    for (position, parent, at) in parents {
        let target = CapabilityId::parse(parent.as_str())
            .map_err(|e| ImportError::new(format!("{at}, column parent"), e.rule(), e.message()))?;
        relations.push(Relation {
            source: capabilities[position].id.clone(),
            kind: RelationKind::Narrows,
            target,
        });
        relation_origins.push(format!("{at}, column parent"));
    }
    Ok(Read {
        spec: FrameworkSpec {
            id: id.clone(),
            name: name.unwrap_or_else(|| id.to_string()),
            version,
            source: FrameworkSource::Custom,
            licence: None,
            scale,
            capabilities,
            relations,
        },
        origins,
        relation_origins,
        skipped: Vec::new(),
    })
}

fn required<'a>(row: &'a Row, column: &str) -> Result<&'a str, ImportError> {
    row.get(column).ok_or_else(|| {
        ImportError::new(
            format!("{}, column {column}", row.at),
            "required",
            format!("{column} is required on this row"),
        )
    })
}

fn parse_level(text: &str, at: &str) -> Result<Level, ImportError> {
    let field = format!("{at}, column level");
    let n: u8 = text.parse().map_err(|_| {
        ImportError::new(
            &field,
            "level",
            format!("a level is a whole number, not {text:?}"),
        )
    })?;
    Level::new(n).map_err(|e| ImportError::new(&field, e.rule(), e.message()))
}

/// Writes a framework in the layout [`read`] reads; the same file comes back from a round
/// trip. Only `narrows` relations from one of the framework's capabilities to a single
/// parent have a column.
pub(super) fn write(spec: &FrameworkSpec) -> Result<Vec<u8>, ImportError> {
    let mut parents: BTreeMap<&CapabilityId, &CapabilityId> = BTreeMap::new();
    for (i, relation) in spec.relations.iter().enumerate() {
        let field = format!("relations[{i}]");
        if relation.kind != RelationKind::Narrows {
            return Err(ImportError::new(
                field,
                "csv-expressible",
                format!(
                    "a {} relation has no CSV column; export as case",
                    relation.kind.as_str()
                ),
            ));
        }
        if !spec.capabilities.iter().any(|c| c.id == relation.source)
            || parents.insert(&relation.source, &relation.target).is_some()
        {
            return Err(ImportError::new(
                field,
                "csv-expressible",
                "CSV holds one parent per capability of the framework; export as case",
            ));
        }
    }
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    let fail = |e: ::csv::Error| ImportError::new("", "csv", e.to_string());
    writer.write_record(COLUMNS).map_err(fail)?;
    writer
        .write_record(["", &spec.version, &spec.name, "", "", "", "", ""])
        .map_err(fail)?;
    for step in &spec.scale {
        writer
            .write_record([
                "",
                "",
                &step.label,
                "",
                "",
                "",
                &step.level.to_string(),
                step.description.as_deref().unwrap_or_default(),
            ])
            .map_err(fail)?;
    }
    for capability in &spec.capabilities {
        let parent = parents
            .get(&capability.id)
            .map(|p| p.to_string())
            .unwrap_or_default();
        let head = [
            capability.id.to_string(),
            capability.code.clone().unwrap_or_default(),
            capability.name.clone(),
            capability.description.clone().unwrap_or_default(),
            capability.iri.clone().unwrap_or_default(),
            parent,
        ];
        match &capability.levels {
            None => {
                let mut record = head.to_vec();
                record.extend([String::new(), String::new()]);
                writer.write_record(&record).map_err(fail)?;
            }
            Some(levels) => {
                for (i, level) in levels.iter().enumerate() {
                    let mut record = if i == 0 {
                        head.to_vec()
                    } else {
                        let mut only_id = vec![capability.id.to_string()];
                        only_id.extend(std::iter::repeat_n(String::new(), 5));
                        only_id
                    };
                    record.push(level.level.to_string());
                    record.push(level.description.clone().unwrap_or_default());
                    writer.write_record(&record).map_err(fail)?;
                }
            }
        }
    }
    writer
        .into_inner()
        .map_err(|e| ImportError::new("", "csv", e.to_string()))
}
