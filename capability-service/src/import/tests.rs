//! Readers and writers of framework files: round trips, and errors that name the row or item
//! and the rule. The SFIA workbook is built here with made-up skills: no SFIA content.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use capability_engine::{FrameworkId, FrameworkSource, FrameworkSpec, RelationKind};
use serde_json::{Value, json};

use super::{ExportFormat, ImportError, ImportFormat, export, import};

fn id() -> FrameworkId {
    FrameworkId::parse("acme").unwrap()
}

const CSV: &str = "\
capability_id,code,name,description,iri,parent,level,level_description
,2026.1,ACME engineering,,,,,
,,Aware,,,,1,Knows the words
,,Practising,,,,2,
,,Leading,,,,3,Sets the direction
build,BLD,Building software,\"Writing, testing, shipping\",https://acme.example/c/BLD,,1,Follows a plan
build,,,,,,2,
build,,,,,,3,\"Plans the work
of others\"
review,REV,Code review,,https://acme.example/c/REV,build,,
ops,OPS,Operations,,,,2,Runs the pager
";

#[test]
fn csv_round_trips_and_reads_every_column() {
    let imported = import(ImportFormat::Csv, &id(), CSV.as_bytes()).unwrap();
    let spec = &imported.spec;
    assert_eq!(spec.name, "ACME engineering");
    assert_eq!(spec.version, "2026.1");
    assert_eq!(spec.source, FrameworkSource::Custom);
    assert_eq!(
        spec.scale
            .iter()
            .map(|s| s.label.as_str())
            .collect::<Vec<_>>(),
        ["Aware", "Practising", "Leading"]
    );
    assert_eq!(spec.capabilities.len(), 3);
    let build = &spec.capabilities[0];
    assert_eq!(
        build.description.as_deref(),
        Some("Writing, testing, shipping")
    );
    let levels = build.levels.as_ref().unwrap();
    assert_eq!(levels.len(), 3);
    assert_eq!(levels[1].description, None);
    assert_eq!(
        levels[2].description.as_deref(),
        Some("Plans the work\nof others")
    );
    assert_eq!(
        spec.capabilities[1].levels, None,
        "an empty level is every level"
    );
    assert_eq!(
        spec.capabilities[2].levels.as_ref().unwrap()[0].level.get(),
        2
    );
    assert_eq!(spec.relations.len(), 1);
    assert_eq!(spec.relations[0].kind, RelationKind::Narrows);
    assert_eq!(spec.relations[0].target.as_str(), "build");

    let written = export(ExportFormat::Csv, spec).unwrap();
    assert_eq!(String::from_utf8(written).unwrap(), CSV);
}

/// Imports `input` as CSV and expects an error at `field` breaking `rule`.
fn check_csv_error(input: &str, field: &str, rule: &str) {
    let error: ImportError = import(ImportFormat::Csv, &id(), input.as_bytes()).unwrap_err();
    assert_eq!((error.field.as_str(), error.rule), (field, rule), "{error}");
}

#[test]
fn csv_errors_name_the_row_column_and_rule() {
    let head = "capability_id,name,level,level_description\n";
    check_csv_error(
        "capability_id,name,colour\n",
        "row 1, column 3",
        "csv-header",
    );
    check_csv_error("capability_id,name\n", "row 1", "csv-header");
    check_csv_error(&format!("{head}a,A,x,\n"), "row 2, column level", "level");
    check_csv_error(
        &format!("{head}a,A,0,\n"),
        "row 2, column level",
        "level-range",
    );
    check_csv_error(&format!("{head}a,,1,\n"), "row 2, column name", "required");
    check_csv_error(
        &format!("{head}a,A,1,\na,B,2,\n"),
        "row 3, column name",
        "csv-consistent",
    );
    check_csv_error(
        &format!("{head}a,A,,\na,,2,\n"),
        "row 3, column level",
        "csv-levels",
    );
    check_csv_error(
        &format!("{head}a b,A,1,\n"),
        "row 2, column capability_id",
        "id-characters",
    );
    check_csv_error(
        &format!("{head}a,A,1,\na,,1,\n"),
        "row 2: levels[1].level",
        "levels-increasing",
    );
    // Scale rows define levels 1–2; a capability at level 3 is off the scale.
    check_csv_error(
        &format!("{head},One,1,\n,Two,2,\na,A,3,\n"),
        "row 4: levels[0].level",
        "level-in-scale",
    );
    check_csv_error(
        "capability_id,name,level,iri\na,A,1,not an iri\n",
        "row 2: iri",
        "iri",
    );
    check_csv_error(&format!("{head}a,A,1\n"), "row 2", "csv");
}

fn case_package() -> Value {
    let link = |id: &str| json!({"title": id, "identifier": id, "uri": format!("https://case.example/uri/{id}")});
    json!({
        "CFDocument": {
            "identifier": "doc-1", "uri": "https://case.example/uri/doc-1",
            "title": "Data skills", "version": "1.1", "creator": "Case Example",
            "licenseURI": {"title": "CC BY 4.0", "identifier": "lic", "uri": "https://creativecommons.org/licenses/by/4.0/"}
        },
        "CFItems": [
            {"identifier": "item-a", "uri": "https://case.example/uri/item-a", "fullStatement": "Analyses data",
             "humanCodingScheme": "DA", "CFItemType": "Skill"},
            {"identifier": "item-b", "uri": "https://case.example/uri/item-b",
             "fullStatement": "Builds dashboards people use to decide", "abbreviatedStatement": "Dashboards"},
            {"identifier": "item-c", "uri": "https://case.example/uri/item-c", "fullStatement": "Data analysis"}
        ],
        "CFAssociations": [
            {"identifier": "as-1", "associationType": "isChildOf", "originNodeURI": link("item-a"), "destinationNodeURI": link("doc-1")},
            {"identifier": "as-2", "associationType": "isChildOf", "originNodeURI": link("item-b"), "destinationNodeURI": link("item-a")},
            {"identifier": "as-3", "associationType": "exactMatchOf", "originNodeURI": link("item-c"), "destinationNodeURI": link("item-a")},
            {"identifier": "as-4", "associationType": "isRelatedTo", "originNodeURI": link("item-c"), "destinationNodeURI": link("item-b")},
            {"identifier": "as-5", "associationType": "precedes", "originNodeURI": link("item-a"), "destinationNodeURI": link("item-b")},
            {"identifier": "as-6", "associationType": "isChildOf", "originNodeURI": link("item-c"), "destinationNodeURI": link("elsewhere")}
        ],
        "CFRubrics": [{
            "identifier": "rub-1", "title": "Levels",
            "CFRubricCriteria": [
                {"identifier": "cr-a", "CFItemURI": link("item-a"), "CFRubricCriterionLevels": [
                    {"identifier": "l2", "score": 2, "quality": "Practising", "description": "Cleans and joins data"},
                    {"identifier": "l1", "score": 1, "quality": "Aware", "description": "Reads a chart"},
                    {"identifier": "l4", "score": 4, "quality": "Expert"}
                ]}
            ]
        }]
    })
}

#[test]
fn case_package_becomes_a_framework() {
    let body = serde_json::to_vec(&case_package()).unwrap();
    let imported = import(ImportFormat::Case, &id(), &body).unwrap();
    let spec = &imported.spec;
    assert_eq!(spec.name, "Data skills");
    assert_eq!(spec.version, "1.1");
    assert_eq!(spec.source, FrameworkSource::Case);
    assert_eq!(spec.licence.as_deref(), Some("CC BY 4.0"));
    // Levels 1–4 from the rubric; level 3 has no criterion level, so no label of its own.
    assert_eq!(
        spec.scale
            .iter()
            .map(|s| s.label.as_str())
            .collect::<Vec<_>>(),
        ["Aware", "Practising", "Level 3", "Expert"]
    );
    let a = &spec.capabilities[0];
    assert_eq!(a.id.as_str(), "item-a");
    assert_eq!(a.code.as_deref(), Some("DA"));
    assert_eq!(a.iri.as_deref(), Some("https://case.example/uri/item-a"));
    let levels = a.levels.as_ref().unwrap();
    assert_eq!(
        levels.iter().map(|l| l.level.get()).collect::<Vec<_>>(),
        [1, 2, 4]
    );
    assert_eq!(
        levels[1].description.as_deref(),
        Some("Cleans and joins data")
    );
    let b = &spec.capabilities[1];
    assert_eq!(b.name, "Dashboards");
    assert_eq!(
        b.description.as_deref(),
        Some("Builds dashboards people use to decide")
    );
    assert_eq!(b.levels, None);
    let relations: Vec<(&str, RelationKind, &str)> = spec
        .relations
        .iter()
        .map(|r| (r.source.as_str(), r.kind, r.target.as_str()))
        .collect();
    assert_eq!(
        relations,
        [
            ("item-b", RelationKind::Narrows, "item-a"),
            ("item-c", RelationKind::Equivalent, "item-a"),
            ("item-b", RelationKind::Requires, "item-a"),
        ]
    );
    assert_eq!(imported.skipped.len(), 2, "{:?}", imported.skipped);
    assert!(imported.skipped[0].starts_with("CFAssociations[3]"));
    assert!(imported.skipped[1].starts_with("CFAssociations[5]"));
}

#[test]
fn case_export_imports_as_the_same_spec() {
    let body = serde_json::to_vec(&case_package()).unwrap();
    let spec = import(ImportFormat::Case, &id(), &body).unwrap().spec;
    let package = export(ExportFormat::Case, &spec).unwrap();
    let again = import(ImportFormat::Case, &id(), &package).unwrap();
    assert_eq!(again.spec, spec);
    assert!(again.skipped.is_empty(), "{:?}", again.skipped);
    // A CSV-made framework goes through CASE unchanged too (it has IRIs on every capability
    // but `ops`, which gets a `urn:uuid:` URI since CASE requires one).
    let mut csv = import(ImportFormat::Csv, &id(), CSV.as_bytes())
        .unwrap()
        .spec;
    csv.source = FrameworkSource::Case;
    let through = import(
        ImportFormat::Case,
        &id(),
        &export(ExportFormat::Case, &csv).unwrap(),
    )
    .unwrap()
    .spec;
    assert!(
        through.capabilities[2]
            .iri
            .as_deref()
            .unwrap()
            .starts_with("urn:uuid:")
    );
    let mut expected = csv.clone();
    expected.capabilities[2].iri = through.capabilities[2].iri.clone();
    assert_eq!(through, expected);
}

fn check_case_error(package: Value, field: &str, rule: &str) {
    let body = serde_json::to_vec(&package).unwrap();
    let error = import(ImportFormat::Case, &id(), &body).unwrap_err();
    assert_eq!((error.field.as_str(), error.rule), (field, rule), "{error}");
}

#[test]
fn case_errors_name_the_item_and_rule() {
    let mut no_title = case_package();
    no_title["CFDocument"]
        .as_object_mut()
        .unwrap()
        .remove("title");
    check_case_error(no_title, "CFDocument.title", "required");
    let mut no_statement = case_package();
    no_statement["CFItems"][1]
        .as_object_mut()
        .unwrap()
        .remove("fullStatement");
    check_case_error(no_statement, "CFItems[1].fullStatement", "required");
    let mut bad_uri = case_package();
    bad_uri["CFItems"][2]["uri"] = json!("item c");
    check_case_error(bad_uri, "CFItems[2]: iri", "iri");
    let mut twice = case_package();
    twice["CFItems"][2]["identifier"] = json!("item-a");
    check_case_error(twice, "CFItems[2]: id", "unique-id");
    let mut self_relation = case_package();
    self_relation["CFAssociations"][1]["destinationNodeURI"]["identifier"] = json!("item-b");
    check_case_error(self_relation, "CFAssociations[1]", "no-self-relation");
    let mut score = case_package();
    score["CFRubrics"][0]["CFRubricCriteria"][0]["CFRubricCriterionLevels"][0]["score"] = json!(12);
    check_case_error(
        score,
        "CFRubrics[0].CFRubricCriteria[0].CFRubricCriterionLevels[0].score",
        "level-range",
    );
    check_case_error(json!({"CFItems": []}), "CFDocument", "required");
    let error = import(ImportFormat::Case, &id(), b"{").unwrap_err();
    assert_eq!(error.rule, "json");
}

/// A made-up workbook shaped like the SFIA 9 skills sheet: a header row by name (in an order
/// of its own), two skills defined at some levels only, a blank row.
fn sfia_shaped_workbook(header: &[&str], rows: &[&[&str]]) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Skills").unwrap();
    for (c, name) in header.iter().enumerate() {
        sheet
            .write_string(0, u16::try_from(c).unwrap(), *name)
            .unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            if !value.is_empty() {
                sheet
                    .write_string(
                        u32::try_from(r + 1).unwrap(),
                        u16::try_from(c).unwrap(),
                        *value,
                    )
                    .unwrap();
            }
        }
    }
    workbook.save_to_buffer().unwrap()
}

const SFIA_HEADER: [&str; 12] = [
    "Code",
    "URL",
    "Skill",
    "Category",
    "Subcategory",
    "Overall description",
    "Level 1 description",
    "Level 2 description",
    "Level 3 description",
    "Level 4 description",
    "Level 5 description",
    "Level 6 description",
];

#[test]
fn sfia_shaped_workbook_gives_only_the_levels_a_skill_defines() {
    let body = sfia_shaped_workbook(
        &SFIA_HEADER,
        &[
            &[
                "TST1",
                "",
                "Testing widgets",
                "Cat A",
                "Sub A",
                "Makes sure widgets work",
                "",
                "Runs given checks",
                "Designs checks",
                "",
                "",
                "",
            ],
            &[],
            &[
                "TST2",
                "https://skills.example/TST2",
                "Tuning gadgets",
                "Cat B",
                "Sub B",
                "",
                "",
                "",
                "",
                "Tunes gadgets",
                "Leads tuning",
                "Sets gadget policy",
            ],
        ],
    );
    let imported = import(ImportFormat::Sfia, &id(), &body).unwrap();
    let spec = &imported.spec;
    assert_eq!(spec.source, FrameworkSource::Sfia);
    assert_eq!(spec.scale.len(), 7);
    assert!(spec.licence.is_some());
    assert_eq!(spec.capabilities.len(), 2);
    let one = &spec.capabilities[0];
    assert_eq!(
        (one.id.as_str(), one.name.as_str()),
        ("TST1", "Testing widgets")
    );
    assert_eq!(
        one.iri.as_deref(),
        Some("https://sfia-online.org/en/skillcode/9/TST1")
    );
    assert_eq!(one.description.as_deref(), Some("Makes sure widgets work"));
    let levels = one.levels.as_ref().unwrap();
    assert_eq!(
        levels.iter().map(|l| l.level.get()).collect::<Vec<_>>(),
        [2, 3]
    );
    assert_eq!(levels[0].description.as_deref(), Some("Runs given checks"));
    let two = &spec.capabilities[1];
    assert_eq!(two.iri.as_deref(), Some("https://skills.example/TST2"));
    assert_eq!(two.description, None);
    assert_eq!(
        two.levels
            .as_ref()
            .unwrap()
            .iter()
            .map(|l| l.level.get())
            .collect::<Vec<_>>(),
        [4, 5, 6]
    );
    // Its licence forbids redistribution: no export.
    let error = export(ExportFormat::Csv, spec).unwrap_err();
    assert_eq!(error.rule, "licence-export");
}

#[test]
fn sfia_errors_name_the_sheet_row_and_rule() {
    let no_levels = sfia_shaped_workbook(
        &SFIA_HEADER,
        &[&[
            "TST1",
            "",
            "Testing widgets",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ]],
    );
    let error = import(ImportFormat::Sfia, &id(), &no_levels).unwrap_err();
    assert_eq!(
        (error.field.as_str(), error.rule),
        ("sheet Skills, row 2", "sfia-levels")
    );
    let no_code = sfia_shaped_workbook(&["Skill", "Level 1 description"], &[&["A", "a"]]);
    let error = import(ImportFormat::Sfia, &id(), &no_code).unwrap_err();
    assert_eq!(
        (error.field.as_str(), error.rule),
        ("sheet Skills, row 1", "sfia-header")
    );
    let twice = sfia_shaped_workbook(
        &["Code", "Skill", "Level 3 description"],
        &[&["TST1", "A", "a"], &["TST1", "B", "b"]],
    );
    let error = import(ImportFormat::Sfia, &id(), &twice).unwrap_err();
    assert_eq!(
        (error.field.as_str(), error.rule),
        ("sheet Skills, row 3: id", "unique-id")
    );
    let error = import(ImportFormat::Sfia, &id(), b"not a zip").unwrap_err();
    assert_eq!((error.field.as_str(), error.rule), ("workbook", "xlsx"));
}

#[test]
fn csv_export_refuses_what_csv_cannot_hold() {
    let body = serde_json::to_vec(&case_package()).unwrap();
    let spec: FrameworkSpec = import(ImportFormat::Case, &id(), &body).unwrap().spec;
    let error = export(ExportFormat::Csv, &spec).unwrap_err();
    assert_eq!(
        (error.field.as_str(), error.rule),
        ("relations[1]", "csv-expressible")
    );
}
