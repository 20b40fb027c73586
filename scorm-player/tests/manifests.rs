//! Manifest parsing: JSON snapshots of every shared sample and of the manifests built here,
//! and table-driven checks of the diagnostics.

use scorm_player::{
    Diagnostic, DiagnosticCode, Limits, Package, Severity, XmlLimits, has_errors, parse_manifest,
    validate_package_bytes,
};
use serde::Serialize;

use crate::helpers::{self, SCORM12_HEAD, SCORM2004_NAMESPACES};

/// What an import returns, in one serializable shape for snapshots.
#[derive(Serialize)]
struct Outcome {
    accepted: bool,
    diagnostics: Vec<Diagnostic>,
    #[serde(skip_serializing_if = "Option::is_none")]
    package: Option<Package>,
}

fn import(zip: &[u8]) -> Outcome {
    match validate_package_bytes(zip, &Limits::default()) {
        Ok((package, diagnostics)) => Outcome {
            accepted: true,
            diagnostics,
            package: Some(package),
        },
        Err(diagnostics) => Outcome {
            accepted: false,
            diagnostics,
            package: None,
        },
    }
}

#[test]
fn every_shared_sample_package() {
    let Some(dir) = helpers::samples_dir() else {
        return;
    };
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("read samples")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".zip"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no zip in {}", dir.display());
    for name in names {
        let bytes = std::fs::read(dir.join(&name)).expect("read sample");
        let outcome = import(&bytes);
        let snapshot = format!("sample_{}", name.trim_end_matches(".zip"));
        insta::assert_json_snapshot!(snapshot, outcome);
    }
}

#[test]
fn shared_samples_are_accepted_or_refused_as_expected() {
    let Some(dir) = helpers::samples_dir() else {
        return;
    };
    for (name, accepted) in [
        ("golf_RuntimeBasicCalls_SCORM12.zip", true),
        ("golf_RuntimeMinimumCalls_SCORM12.zip", true),
        ("golf_RuntimeBasicCalls_SCORM20043rdEdition.zip", true),
        (
            "golf_SequencingForcedSequential_SCORM20043rdEdition.zip",
            true,
        ),
        ("cmi5_catapult_single_au_basic_framed.zip", false),
    ] {
        let path = dir.join(name);
        if !path.exists() {
            eprintln!("SKIPPED {name}: not in {}", dir.display());
            continue;
        }
        let outcome = import(&std::fs::read(path).expect("read sample"));
        let errors: Vec<_> = outcome
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .collect();
        assert_eq!(outcome.accepted, accepted, "{name}: {errors:#?}");
    }
}

#[test]
fn built_scorm12_single_sco() {
    let (manifest, files) = helpers::scorm12_single_sco();
    insta::assert_json_snapshot!(
        "built_scorm12_single_sco",
        import(&helpers::package(&manifest, &files))
    );
}

#[test]
fn built_scorm12_multi_sco() {
    let (manifest, files) = helpers::scorm12_multi_sco();
    insta::assert_json_snapshot!(
        "built_scorm12_multi_sco",
        import(&helpers::package(&manifest, &files))
    );
}

#[test]
fn built_scorm2004_sequencing() {
    let (manifest, files) = helpers::scorm2004_sequencing();
    insta::assert_json_snapshot!(
        "built_scorm2004_sequencing",
        import(&helpers::package(&manifest, &files))
    );
}

#[test]
fn the_2004_sequencing_model() {
    let (xml, _) = helpers::scorm2004_sequencing();
    let (manifest, diagnostics) = parse_manifest(xml.as_bytes(), &XmlLimits::default());
    assert!(!has_errors(&diagnostics), "{diagnostics:#?}");
    let pretest = manifest.item("pretest").expect("pretest");
    let sequencing = pretest.sequencing.as_ref().expect("sequencing");
    // Local elements win, the collection fills the rest (IDRef).
    assert_eq!(sequencing.id_ref.as_deref(), Some("common"));
    assert!(sequencing.control_mode.expect("from the collection").flow);
    assert!(
        sequencing
            .delivery_controls
            .expect("from the collection")
            .objective_set_by_content
    );
    assert_eq!(
        sequencing
            .rollup_rules
            .as_ref()
            .expect("from the collection")
            .objective_measure_weight,
        0.0
    );
    assert_eq!(
        sequencing
            .limit_conditions
            .as_ref()
            .and_then(|l| l.attempt_limit),
        Some(3)
    );
    assert_eq!(pretest.objective_ids(), ["obj_pretest", "obj_extra"]);
    assert_eq!(pretest.scaled_passing_score(), Some(0.8));
    assert_eq!(
        pretest.launch.as_deref(),
        Some("content/sco/a/pretest/index.html")
    );
    let lesson2 = manifest.item("lesson2").expect("lesson2");
    assert_eq!(
        lesson2.launch.as_deref(),
        Some("content/sco/lesson2.html?unit=2#part2")
    );
    let lesson1 = manifest.resource("res_lesson1").expect("res_lesson1");
    assert_eq!(lesson1.path.as_deref(), Some("content/sco/lesson 1.html"));
    let closure: Vec<_> = manifest
        .resource_closure("res_pretest")
        .iter()
        .map(|r| r.identifier.as_str())
        .collect();
    assert_eq!(closure, ["res_pretest", "res_common"]);
    assert_eq!(
        manifest
            .resource("res_external")
            .and_then(|r| r.url.as_deref()),
        Some("https://cdn.example.com/video.mp4")
    );
}

/// Parses `xml` and checks the diagnostic codes (errors and warnings, in order).
fn check(xml: &str, expected: &[(Severity, DiagnosticCode)]) {
    let (_, diagnostics) = parse_manifest(xml.as_bytes(), &XmlLimits::default());
    let actual: Vec<_> = diagnostics.iter().map(|d| (d.severity, d.code)).collect();
    assert_eq!(actual, expected, "{xml}\n{diagnostics:#?}");
}

fn manifest12(organizations: &str, resources: &str) -> String {
    format!(
        "{SCORM12_HEAD}<organizations default=\"org\">{organizations}</organizations><resources>{resources}</resources></manifest>"
    )
}

fn manifest2004(version: &str, body: &str) -> String {
    format!(
        "<manifest identifier=\"m\" {SCORM2004_NAMESPACES}><metadata><schema>ADL SCORM</schema><schemaversion>{version}</schemaversion></metadata>{body}</manifest>"
    )
}

const SCO12: &str = r#"<resource identifier="r" type="webcontent" adlcp:scormtype="sco" href="a.html"><file href="a.html"/></resource>"#;
const ORG12: &str = r#"<organization identifier="org"><title>T</title><item identifier="i" identifierref="r"><title>I</title></item></organization>"#;

#[test]
fn manifest_diagnostics() {
    use DiagnosticCode as C;
    use Severity::{Error as E, Warning as W};
    check(&manifest12(ORG12, SCO12), &[]);
    check("<manifest", &[(E, C::XmlSyntax)]);
    check("<html><body/></html>", &[(E, C::ManifestRoot)]);
    check(
        "<manifest identifier=\"m\"><organizations/><resources/></manifest>",
        &[
            (W, C::XmlNamespace),
            (E, C::UnknownSchemaVersion),
            (E, C::NoOrganization),
        ],
    );
    check(
        &manifest12(ORG12, SCO12).replace(">1.2<", ">1.3<"),
        &[(E, C::UnknownSchemaVersion)],
    );
    check(
        &manifest12(ORG12, SCO12).replace(
            "<metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>",
            "",
        ),
        &[(W, C::UnknownSchemaVersion)],
    );
    let no_slash = manifest12(
        ORG12,
        &format!("{SCO12}{}", SCO12.replace("\"r\"", "\"r2\"")),
    )
    .replace("<resources>", "<resources xml:base=\"dir\">");
    check(&no_slash, &[(W, C::XmlBase)]);
    check(
        &manifest12(ORG12, SCO12).replace("ADL SCORM", "IMS CP"),
        &[(W, C::InvalidValue)],
    );
    check(
        &manifest12(
            &ORG12.replace("identifierref=\"r\"", "identifierref=\"nope\""),
            SCO12,
        ),
        &[(E, C::UnknownReference)],
    );
    check(
        &manifest12(ORG12, &SCO12.replace("scormtype", "scormType")),
        &[(W, C::AttributeCase)],
    );
    check(
        &manifest12(ORG12, &SCO12.replace(" adlcp:scormtype=\"sco\"", "")),
        &[(W, C::MissingAttribute)],
    );
    check(
        &manifest12(ORG12, &SCO12.replace("\"sco\"", "\"lesson\"")),
        &[(E, C::InvalidValue)],
    );
    check(
        &manifest12(ORG12, &SCO12.replace(" href=\"a.html\">", ">")),
        &[(E, C::MissingAttribute), (E, C::ItemStructure)],
    );
    check(
        &manifest12(
            ORG12,
            &SCO12.replace("<file href=\"a.html\"/>", "<file href=\"../a.html\"/>"),
        ),
        &[(E, C::InvalidHref)],
    );
    check(
        &manifest12(
            ORG12,
            &SCO12.replace("<file href=\"a.html\"/>", "<file href=\"/a.html\"/>"),
        ),
        &[(E, C::InvalidHref)],
    );
    check(
        &manifest12(
            ORG12,
            &SCO12.replace(
                "<file href=\"a.html\"/>",
                "<dependency identifierref=\"ghost\"/>",
            ),
        ),
        &[(E, C::UnknownReference)],
    );
    check(
        &manifest12(ORG12, &format!("{SCO12}{SCO12}")),
        &[(E, C::DuplicateIdentifier)],
    );
    check(
        &manifest12(
            ORG12,
            &SCO12.replace("identifier=\"r\"", "identifier=\"r\" xml:base=\"dir\""),
        ),
        &[(W, C::XmlBase)],
    );
    check(
        &manifest12(
            ORG12,
            &SCO12.replace("href=\"a.html\">", "href=\"dir\\a.html\">"),
        ),
        &[(W, C::InvalidHref)],
    );
    check(
        &manifest12(
            &ORG12.replace(
                "</title><item",
                "</title><adlcp:masteryscore>x</adlcp:masteryscore><item",
            ),
            SCO12,
        ),
        &[],
    );
    check(
        &manifest12(
            &ORG12.replace(
                "<title>I</title>",
                "<title>I</title><adlcp:masteryscore>101</adlcp:masteryscore>",
            ),
            SCO12,
        ),
        &[(W, C::InvalidValue)],
    );
    check(
        &manifest12(
            &ORG12.replace(
                "<title>I</title>",
                "<title>I</title><adlcp:timelimitaction>stop</adlcp:timelimitaction>",
            ),
            SCO12,
        ),
        &[(W, C::InvalidValue)],
    );
    check(
        &manifest12(
            &ORG12.replace(
                "<title>I</title>",
                "<title>I</title><adlcp:maxtimeallowed>1h</adlcp:maxtimeallowed>",
            ),
            SCO12,
        ),
        &[(W, C::InvalidValue)],
    );
    check(
        &manifest12(&ORG12.replace("identifierref=\"r\"", ""), SCO12),
        &[(W, C::ItemStructure)],
    );
    check(
        &manifest12(&ORG12.replace("<title>T</title>", ""), SCO12),
        &[(W, C::MissingElement)],
    );
    check(&manifest12("", SCO12), &[(E, C::NoOrganization)]);
    check(
        &manifest12(ORG12, SCO12).replace("default=\"org\"", "default=\"other\""),
        &[(E, C::UnknownDefaultOrganization)],
    );
    check(
        &manifest12(ORG12, SCO12).replace(" default=\"org\"", ""),
        &[(W, C::MissingAttribute)],
    );
    check(
        &manifest12(
            &format!("{ORG12}{}", ORG12.replace("\"org\"", "\"org2\"")),
            SCO12,
        ),
        &[(E, C::DuplicateIdentifier)],
    );
    check(
        &manifest12(
            &ORG12.replace("identifier=\"i\"", "identifier=\"r\""),
            SCO12,
        ),
        &[(W, C::DuplicateIdentifier)],
    );

    let org = r#"<organizations default="o"><organization identifier="o"><title>T</title><item identifier="i" identifierref="r"><title>I</title>SEQ</item></organization></organizations>"#;
    let res = r#"<resources><resource identifier="r" type="webcontent" adlcp:scormType="sco" href="a.html"><file href="a.html"/></resource></resources>"#;
    let seq = |sequencing: &str| {
        manifest2004(
            "2004 3rd Edition",
            &format!("{}{res}", org.replace("SEQ", sequencing)),
        )
    };
    check(&seq(""), &[]);
    check(
        &seq("<imsss:sequencing IDRef=\"missing\"/>"),
        &[(E, C::UnknownSequencingReference)],
    );
    check(
        &seq("<imsss:sequencing><imsss:controlMode choice=\"yes\"/></imsss:sequencing>"),
        &[(E, C::InvalidValue)],
    );
    check(
        &seq(
            "<imsss:sequencing><imsss:sequencingRules><imsss:preConditionRule><imsss:ruleConditions><imsss:ruleCondition condition=\"satisfied\"/></imsss:ruleConditions><imsss:ruleAction action=\"exitAll\"/></imsss:preConditionRule></imsss:sequencingRules></imsss:sequencing>",
        ),
        &[(E, C::InvalidValue)],
    );
    check(
        &seq(
            "<imsss:sequencing><imsss:sequencingRules><imsss:exitConditionRule><imsss:ruleAction action=\"exit\"/></imsss:exitConditionRule></imsss:sequencingRules></imsss:sequencing>",
        ),
        &[(E, C::MissingElement)],
    );
    check(
        &seq(
            "<imsss:sequencing><imsss:sequencingRules><imsss:postConditionRule><imsss:ruleConditions><imsss:ruleCondition condition=\"bogus\"/></imsss:ruleConditions><imsss:ruleAction action=\"retry\"/></imsss:postConditionRule></imsss:sequencingRules></imsss:sequencing>",
        ),
        &[(E, C::InvalidValue), (E, C::MissingElement)],
    );
    check(
        &seq(
            "<imsss:sequencing><imsss:objectives><imsss:objective objectiveID=\"x\"/></imsss:objectives></imsss:sequencing>",
        ),
        &[(E, C::MissingElement)],
    );
    check(
        &seq(
            "<imsss:sequencing><imsss:objectives><imsss:primaryObjective><imsss:mapInfo targetObjectiveID=\"g\"/></imsss:primaryObjective></imsss:objectives></imsss:sequencing>",
        ),
        &[(E, C::MissingAttribute)],
    );
    check(
        &seq(
            "<imsss:sequencing><imsss:objectives><imsss:primaryObjective objectiveID=\"p\"><imsss:minNormalizedMeasure>2</imsss:minNormalizedMeasure></imsss:primaryObjective></imsss:objectives></imsss:sequencing>",
        ),
        &[(E, C::InvalidValue)],
    );
    check(
        &seq(
            "<imsss:sequencing><imsss:rollupRules objectiveMeasureWeight=\"1.5\"/><imsss:limitConditions attemptLimit=\"-1\"/></imsss:sequencing>",
        ),
        &[(E, C::InvalidValue), (E, C::InvalidValue)],
    );
    check(
        &seq("<imsss:sequencing><imsss:controlMod/></imsss:sequencing>"),
        &[(W, C::ItemStructure)],
    );
    check(
        &seq("<adlcp:completionThreshold>1.5</adlcp:completionThreshold>"),
        &[(E, C::InvalidValue)],
    );
    check(
        &seq(
            "<adlnav:presentation><adlnav:navigationInterface><adlnav:hideLMSUI>help</adlnav:hideLMSUI></adlnav:navigationInterface></adlnav:presentation>",
        ),
        &[(E, C::InvalidValue)],
    );
    check(
        &seq("<item identifier=\"child\" identifierref=\"r\"><title>C</title></item>"),
        &[(E, C::ItemStructure)],
    );
    check(
        &manifest2004(
            "2004 3rd Edition",
            &format!(
                "{}{res}",
                org.replace(" identifierref=\"r\"", "").replace("SEQ", "")
            ),
        ),
        &[(E, C::ItemStructure)],
    );
    check(
        &manifest2004("1.2", &format!("{}{}", org.replace("SEQ", ""), res)),
        &[(W, C::SchemaVersionMismatch), (W, C::AttributeCase)],
    );
    let unqualified = manifest12(ORG12, SCO12).replace(
        "xmlns:adlcp=\"http://www.adlnet.org/xsd/adlcp_rootv1p2\"",
        "",
    );
    check(&unqualified, &[(W, C::XmlNamespace)]);
}

#[test]
fn xml_limits_and_doctype() {
    let (_, diagnostics) = parse_manifest(
        manifest12(ORG12, SCO12).as_bytes(),
        &XmlLimits {
            max_depth: 3,
            ..XmlLimits::default()
        },
    );
    assert_eq!(diagnostics[0].code, DiagnosticCode::XmlLimit);
    let (_, diagnostics) = parse_manifest(
        manifest12(ORG12, SCO12).as_bytes(),
        &XmlLimits {
            max_elements: 5,
            ..XmlLimits::default()
        },
    );
    assert_eq!(diagnostics[0].code, DiagnosticCode::XmlLimit);
    let (_, diagnostics) = parse_manifest(
        manifest12(ORG12, SCO12).as_bytes(),
        &XmlLimits {
            max_bytes: 100,
            ..XmlLimits::default()
        },
    );
    assert_eq!(diagnostics[0].code, DiagnosticCode::XmlLimit);
    // A billion-laughs DOCTYPE: ignored, and its entities are never expanded.
    let laughs = manifest12(ORG12, SCO12).replacen(
        "<manifest",
        "<!DOCTYPE manifest [<!ENTITY a \"lol\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><manifest",
        1,
    );
    let (manifest, diagnostics) = parse_manifest(laughs.as_bytes(), &XmlLimits::default());
    assert_eq!(
        diagnostics.iter().map(|d| d.code).collect::<Vec<_>>(),
        [DiagnosticCode::XmlDoctype]
    );
    assert_eq!(manifest.organizations.len(), 1);
    let used = laughs.replace("<title>I</title>", "<title>&b;</title>");
    let (_, diagnostics) = parse_manifest(used.as_bytes(), &XmlLimits::default());
    assert!(
        diagnostics
            .iter()
            .any(|d| d.code == DiagnosticCode::XmlSyntax && d.message.contains("&b;")),
        "{diagnostics:#?}"
    );
}

#[test]
fn garbage_never_panics() {
    let (xml, _) = helpers::scorm2004_sequencing();
    let bytes = xml.as_bytes();
    // Every prefix of a rich manifest, and every byte flipped in its first kilobyte.
    for end in (0..bytes.len()).step_by(7) {
        let _ = parse_manifest(&bytes[..end], &XmlLimits::default());
    }
    for at in 0..bytes.len().min(1024) {
        let mut copy = bytes.to_vec();
        copy[at] ^= 0x5A;
        let _ = parse_manifest(&copy, &XmlLimits::default());
    }
}
