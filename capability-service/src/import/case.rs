//! CASE 1.1 packages (1EdTech Competencies and Academic Standards Exchange, `CFPackage`):
//! `CFDocument` is the framework, `CFItems` its capabilities, `CFAssociations` its relations
//! and `CFRubrics` its levels.
//!
//! A rubric criterion with a `CFItemURI` lists the levels that item defines (`score` is the
//! level, `quality` its label, `description` what it means); a criterion without one is the
//! framework's scale, as this module writes it. Without rubrics the scale has one level.

use std::collections::BTreeMap;

use capability_engine::{
    CapabilityId, CapabilitySpec, FrameworkId, FrameworkSource, FrameworkSpec, Level,
    LevelDescription, Relation, RelationKind, ScaleLevel,
};
use serde_json::{Map, Value, json};

use super::{ImportError, Read, derived_uuid};

pub(super) fn read(id: &FrameworkId, body: &[u8]) -> Result<Read, ImportError> {
    let package: Value = serde_json::from_slice(body).map_err(|e| {
        ImportError::new(
            format!("line {} column {}", e.line(), e.column()),
            "json",
            e.to_string(),
        )
    })?;
    let document = object(&package, "CFDocument", "CFDocument")?;
    let name = string(document, "title", "CFDocument")?.to_owned();
    let version = optional(document, "version").unwrap_or_default().to_owned();
    let licence = document
        .get("licenseURI")
        .and_then(|l| l.get("title"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let document_id = optional(document, "identifier").unwrap_or_default();

    let items = array(&package, "CFItems")?;
    let mut capabilities = Vec::with_capacity(items.len());
    let mut origins = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("CFItems[{i}]");
        let Some(item) = item.as_object() else {
            return Err(ImportError::new(at, "case-item", "a CFItem is an object"));
        };
        let identifier = string(item, "identifier", &at)?;
        let cap_id = CapabilityId::parse(identifier)
            .map_err(|e| ImportError::new(format!("{at}.identifier"), e.rule(), e.message()))?;
        let full = string(item, "fullStatement", &at)?.to_owned();
        // The abbreviated statement is the short name; the full statement then describes.
        let (name, description) = match optional(item, "abbreviatedStatement") {
            Some(short) => (short.to_owned(), Some(full)),
            None => (full, None),
        };
        capabilities.push(CapabilitySpec {
            id: cap_id,
            code: optional(item, "humanCodingScheme").map(str::to_owned),
            name,
            description,
            iri: optional(item, "uri").map(str::to_owned),
            levels: None,
        });
        origins.push(at);
    }
    let position: BTreeMap<String, usize> = capabilities
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str().to_owned(), i))
        .collect();

    let mut scale: Option<Vec<ScaleLevel>> = None;
    let mut labels: BTreeMap<Level, String> = BTreeMap::new();
    let mut item_levels: Vec<(usize, Vec<LevelDescription>)> = Vec::new();
    let rubrics = match package.get("CFRubrics") {
        None | Some(Value::Null) => &[][..],
        Some(_) => array(&package, "CFRubrics")?.as_slice(),
    };
    for (r, rubric) in rubrics.iter().enumerate() {
        let criteria = rubric
            .get("CFRubricCriteria")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (c, criterion) in criteria.iter().enumerate() {
            let at = format!("CFRubrics[{r}].CFRubricCriteria[{c}]");
            let mut levels: Vec<(Level, Option<String>, Option<String>)> = Vec::new();
            let listed = criterion
                .get("CFRubricCriterionLevels")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            for (l, level) in listed.iter().enumerate() {
                let field = format!("{at}.CFRubricCriterionLevels[{l}]");
                let n = level
                    .get("score")
                    .or_else(|| level.get("position"))
                    .and_then(Value::as_u64)
                    .and_then(|n| u8::try_from(n).ok())
                    .ok_or_else(|| {
                        ImportError::new(
                            format!("{field}.score"),
                            "case-level",
                            "a criterion level has a whole-number score (or position), the level",
                        )
                    })?;
                let level_n = Level::new(n).map_err(|e| {
                    ImportError::new(format!("{field}.score"), e.rule(), e.message())
                })?;
                let text = |key: &str| {
                    level
                        .get(key)
                        .and_then(Value::as_str)
                        .filter(|s| !s.trim().is_empty())
                        .map(str::to_owned)
                };
                levels.push((level_n, text("quality"), text("description")));
            }
            levels.sort_by_key(|(level, _, _)| *level);
            let item = criterion
                .get("CFItemURI")
                .and_then(|u| u.get("identifier"))
                .and_then(Value::as_str);
            match item {
                None => {
                    scale = Some(
                        levels
                            .into_iter()
                            .map(|(level, quality, description)| ScaleLevel {
                                level,
                                label: quality.unwrap_or_else(|| format!("Level {level}")),
                                description,
                            })
                            .collect(),
                    );
                }
                Some(identifier) => {
                    let Some(&p) = position.get(identifier) else {
                        return Err(ImportError::new(
                            format!("{at}.CFItemURI.identifier"),
                            "known-item",
                            format!("no CFItem {identifier} in the package"),
                        ));
                    };
                    for (level, quality, _) in &levels {
                        if let Some(quality) = quality {
                            labels.entry(*level).or_insert_with(|| quality.clone());
                        }
                    }
                    item_levels.push((
                        p,
                        levels
                            .into_iter()
                            .map(|(level, _, description)| LevelDescription { level, description })
                            .collect(),
                    ));
                }
            }
        }
    }
    for (p, levels) in item_levels {
        capabilities[p].levels = Some(levels);
    }
    let scale = match scale {
        Some(scale) => scale,
        None => {
            let top = capabilities
                .iter()
                .flat_map(|c| c.levels.iter().flatten())
                .map(|l| l.level.get())
                .max()
                .unwrap_or(1);
            (1..=top)
                .filter_map(|n| Level::new(n).ok())
                .map(|level| ScaleLevel {
                    level,
                    label: labels
                        .get(&level)
                        .cloned()
                        .unwrap_or_else(|| format!("Level {level}")),
                    description: None,
                })
                .collect()
        }
    };

    let mut relations = Vec::new();
    let mut relation_origins = Vec::new();
    let mut skipped = Vec::new();
    let associations = match package.get("CFAssociations") {
        None | Some(Value::Null) => &[][..],
        Some(_) => array(&package, "CFAssociations")?.as_slice(),
    };
    for (a, association) in associations.iter().enumerate() {
        let at = format!("CFAssociations[{a}]");
        let kind = association
            .get("associationType")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let end = |key: &str| {
            association
                .get(key)
                .and_then(|u| u.get("identifier"))
                .and_then(Value::as_str)
                .unwrap_or_default()
        };
        let (origin, destination) = (end("originNodeURI"), end("destinationNodeURI"));
        // isChildOf the document itself is how CASE marks a top-level item.
        if kind == "isChildOf" && !destination.is_empty() && destination == document_id {
            continue;
        }
        // CASE 1.1 association types; the model has narrows, requires and equivalent only.
        let mapped = match kind {
            "isChildOf" => Some((origin, RelationKind::Narrows, destination)),
            "exactMatchOf" => Some((origin, RelationKind::Equivalent, destination)),
            // "A precedes B": B presupposes A.
            "precedes" => Some((destination, RelationKind::Requires, origin)),
            _ => None,
        };
        let Some((source, relation, target)) = mapped else {
            skipped.push(format!(
                "{at}: {kind:?} has no counterpart among narrows, requires and equivalent"
            ));
            continue;
        };
        if !position.contains_key(source) || !position.contains_key(target) {
            skipped.push(format!("{at}: {kind} reaches outside the package's items"));
            continue;
        }
        let parse = |id: &str, key: &str| {
            CapabilityId::parse(id)
                .map_err(|e| ImportError::new(format!("{at}.{key}"), e.rule(), e.message()))
        };
        relations.push(Relation {
            source: parse(source, "originNodeURI")?,
            kind: relation,
            target: parse(target, "destinationNodeURI")?,
        });
        relation_origins.push(at);
    }

    Ok(Read {
        spec: FrameworkSpec {
            id: id.clone(),
            name,
            version,
            source: FrameworkSource::Case,
            licence,
            scale,
            capabilities,
            relations,
        },
        origins,
        relation_origins,
        skipped,
    })
}

fn object<'a>(
    value: &'a Value,
    key: &str,
    field: &str,
) -> Result<&'a Map<String, Value>, ImportError> {
    value.get(key).and_then(Value::as_object).ok_or_else(|| {
        ImportError::new(
            field,
            "required",
            format!("{key} is required and is an object"),
        )
    })
}

fn array<'a>(value: &'a Value, key: &str) -> Result<&'a Vec<Value>, ImportError> {
    value.get(key).and_then(Value::as_array).ok_or_else(|| {
        ImportError::new(
            key,
            "required",
            format!("{key} is required and is an array"),
        )
    })
}

fn string<'a>(map: &'a Map<String, Value>, key: &str, at: &str) -> Result<&'a str, ImportError> {
    optional(map, key).ok_or_else(|| {
        ImportError::new(
            format!("{at}.{key}"),
            "required",
            format!("{key} is required and is a non-empty string"),
        )
    })
}

fn optional<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// Writes the framework as a CASE package that [`read`] turns back into the same spec.
/// Item identifiers are the capability ids; a capability without an IRI gets a `urn:uuid:`
/// URI, since CASE requires one.
pub(super) fn write(spec: &FrameworkSpec) -> Result<Vec<u8>, ImportError> {
    let framework = spec.id.as_str();
    let document_id = derived_uuid(&["case-document", framework]).to_string();
    let document_uri = format!("urn:uuid:{document_id}");
    let link = |title: &str, identifier: &str, uri: &str| json!({"title": title, "identifier": identifier, "uri": uri});
    let document_link = link(&spec.name, &document_id, &document_uri);
    let item_uri = |capability: &CapabilitySpec| {
        capability.iri.clone().unwrap_or_else(|| {
            format!(
                "urn:uuid:{}",
                derived_uuid(&["case-item", framework, capability.id.as_str()])
            )
        })
    };
    let mut document = json!({
        "identifier": document_id,
        "uri": document_uri,
        "title": spec.name,
        "creator": "Proficio",
    });
    if !spec.version.is_empty() {
        document["version"] = json!(spec.version);
    }
    if let Some(licence) = &spec.licence {
        let licence_id = derived_uuid(&["case-licence", framework]).to_string();
        document["licenseURI"] = link(licence, &licence_id, &format!("urn:uuid:{licence_id}"));
    }
    let mut items = Vec::new();
    let mut links = BTreeMap::new();
    for capability in &spec.capabilities {
        let uri = item_uri(capability);
        let mut item = json!({
            "identifier": capability.id.as_str(),
            "uri": uri,
            "CFDocumentURI": document_link,
        });
        match &capability.description {
            Some(description) => {
                item["fullStatement"] = json!(description);
                item["abbreviatedStatement"] = json!(capability.name);
            }
            None => item["fullStatement"] = json!(capability.name),
        }
        if let Some(code) = &capability.code {
            item["humanCodingScheme"] = json!(code);
        }
        links.insert(
            capability.id.as_str(),
            link(&capability.name, capability.id.as_str(), &uri),
        );
        items.push(item);
    }
    let mut associations = Vec::new();
    let association = |n: usize, kind: &str, origin: &Value, destination: &Value| {
        json!({
            "identifier": derived_uuid(&["case-association", framework, &n.to_string()]).to_string(),
            "uri": format!("urn:uuid:{}", derived_uuid(&["case-association", framework, &n.to_string()])),
            "associationType": kind,
            "originNodeURI": origin,
            "destinationNodeURI": destination,
            "sequenceNumber": n + 1,
            "CFDocumentURI": document_link,
        })
    };
    // Items without a parent in the framework are children of the document (the CASE tree).
    for capability in &spec.capabilities {
        let has_parent = spec
            .relations
            .iter()
            .any(|r| r.kind == RelationKind::Narrows && r.source == capability.id);
        if !has_parent && let Some(origin) = links.get(capability.id.as_str()) {
            associations.push(association(
                associations.len(),
                "isChildOf",
                origin,
                &document_link,
            ));
        }
    }
    for (i, relation) in spec.relations.iter().enumerate() {
        let end = |id: &CapabilityId| {
            links.get(id.as_str()).cloned().ok_or_else(|| {
                ImportError::new(
                    format!("relations[{i}]"),
                    "case-expressible",
                    format!("{id} is in another framework; a CASE package holds its own items"),
                )
            })
        };
        let (source, target) = (end(&relation.source)?, end(&relation.target)?);
        let (kind, origin, destination) = match relation.kind {
            RelationKind::Narrows => ("isChildOf", source, target),
            RelationKind::Equivalent => ("exactMatchOf", source, target),
            RelationKind::Requires => ("precedes", target, source),
        };
        associations.push(association(associations.len(), kind, &origin, &destination));
    }
    let level_json = |scope: &str,
                      level: Level,
                      quality: Option<&str>,
                      description: Option<&str>| {
        let mut out = json!({
            "identifier": derived_uuid(&["case-level", framework, scope, &level.to_string()]).to_string(),
            "score": level.get(),
            "position": level.get(),
        });
        if let Some(quality) = quality {
            out["quality"] = json!(quality);
        }
        if let Some(description) = description {
            out["description"] = json!(description);
        }
        out
    };
    let mut criteria = vec![json!({
        "identifier": derived_uuid(&["case-scale", framework]).to_string(),
        "position": 0,
        "CFRubricCriterionLevels": spec.scale.iter()
            .map(|s| level_json("", s.level, Some(&s.label), s.description.as_deref()))
            .collect::<Vec<_>>(),
    })];
    for (i, capability) in spec.capabilities.iter().enumerate() {
        let Some(levels) = &capability.levels else {
            continue;
        };
        let label = |level: Level| {
            spec.scale
                .iter()
                .find(|s| s.level == level)
                .map(|s| s.label.as_str())
        };
        criteria.push(json!({
            "identifier": derived_uuid(&["case-criterion", framework, capability.id.as_str()]).to_string(),
            "CFItemURI": links.get(capability.id.as_str()),
            "position": i + 1,
            "CFRubricCriterionLevels": levels.iter()
                .map(|l| level_json(capability.id.as_str(), l.level, label(l.level), l.description.as_deref()))
                .collect::<Vec<_>>(),
        }));
    }
    let package = json!({
        "CFDocument": document,
        "CFItems": items,
        "CFAssociations": associations,
        "CFRubrics": [{
            "identifier": derived_uuid(&["case-rubric", framework]).to_string(),
            "uri": format!("urn:uuid:{}", derived_uuid(&["case-rubric", framework])),
            "title": format!("{} levels", spec.name),
            "CFRubricCriteria": criteria,
        }],
    });
    serde_json::to_vec_pretty(&package).map_err(|e| ImportError::new("", "json", e.to_string()))
}
