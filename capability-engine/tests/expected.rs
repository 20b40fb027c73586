//! What the fixture organisation's reports must say about its personas, computed by hand from
//! their statements (the script is in `capability_engine::fixture`) — one set of numbers
//! that both the engine's test (in process) and the end-to-end test (over HTTP) check. Both
//! check the reports' JSON, so the two see exactly the same fields.
//!
//! Every persona statement is dated a whole number of days before 2026-07-01, so each decay
//! is 0.5^(age / half-life). Generated people never add evidence for a persona's required
//! capabilities (they only name Bo as a mentor, which is evidence of MENT, not a team-lead
//! requirement), so the numbers hold in the 200-person organisation too.

use serde_json::Value;

pub const ANA: &str = "mbox:mailto:ana@acme.example";
pub const BO: &str = "mbox:mailto:bo@acme.example";
pub const CY: &str = "mbox:mailto:cy@acme.example";
pub const DEE: &str = "mbox:mailto:dee@acme.example";
pub const EVE: &str = "mbox:mailto:eve@acme.example";
pub const FAY: &str = "mbox:mailto:fay@acme.example";

/// The decay of an item `age` days old with a half-life of `half_life` days.
pub fn d(age: f64, half_life: f64) -> f64 {
    0.5_f64.powf(age / half_life)
}

/// One row of a gap report.
pub struct Row {
    pub capability: &'static str,
    pub required: u8,
    pub achieved: Option<u8>,
    /// `met` is `gap <= 0`.
    pub gap: i16,
    pub confidence: f64,
    pub stale: bool,
    /// The persona statements (by script name) the row's explanation counts.
    pub counted: &'static [&'static str],
}

/// A persona's gap report against a role at `fixture::AS_OF`.
pub struct Report {
    pub person: &'static str,
    pub role: &'static str,
    pub rows: Vec<Row>,
    pub fit: f64,
    pub essential_gaps: u64,
}

/// Ana, senior engineer since 2026-04-01 (an engineer before).
pub fn ana_as_senior_engineer() -> Report {
    // CODE: manager 4 (0.6 · ½ = 0.3), e-learning 3 (0.3 · ½ = 0.15), observation 4 by an
    // assessor (0.8 · 0.5^(180/540)); support(4) = 0.3 + 0.635 = 0.935 ≥ 0.9, gates met.
    let observation = 0.8 * d(180.0, 540.0);
    // ARCH (defines 3–5): observation 3 (0.8 · 0.5^(60/540) = 0.741 ≥ 0.6); the coaching
    // session at level 2 supports no level ARCH defines but counts for confidence.
    let arch_observation = 0.8 * d(60.0, 540.0);
    Report {
        person: ANA,
        role: "senior-engineer",
        rows: vec![
            Row {
                capability: "CODE",
                required: 4,
                achieved: Some(4),
                gap: 0,
                confidence: (1.0 - 0.7 * 0.85 * (1.0 - observation)) * (1.0 - 0.2_f64.powi(3)),
                stale: false,
                counted: &[
                    "ana-code-elearning",
                    "ana-code-observation",
                    "ana-code-manager",
                    "ana-code-self",
                ],
            },
            Row {
                capability: "ARCH",
                required: 4,
                achieved: Some(3),
                gap: 1,
                confidence: (1.0 - (1.0 - arch_observation) * 0.9) * 0.96,
                stale: false,
                counted: &["ana-arch-observation", "ana-arch-coaching"],
            },
            // REVW: peer 3 and e-learning 2, each 0.3 · ½: support(2) = 0.3 = θ, support(3) = 0.15.
            Row {
                capability: "REVW",
                required: 3,
                achieved: Some(2),
                gap: 1,
                confidence: (1.0 - 0.85 * 0.85) * 0.96,
                stale: true,
                counted: &["ana-revw-peer", "ana-revw-elearning"],
            },
            // SECU: the one e-learning result was voided.
            Row {
                capability: "SECU",
                required: 3,
                achieved: None,
                gap: 3,
                confidence: 0.0,
                stale: false,
                counted: &[],
            },
            // MENT: mentoring Fay, 0.25 · ½ = 0.125 < 0.3; witnessed by Fay (peer).
            Row {
                capability: "MENT",
                required: 3,
                achieved: None,
                gap: 3,
                confidence: 0.125 * 0.8,
                stale: true,
                counted: &["ana-ment-given"],
            },
            Row {
                capability: "FDBK",
                required: 2,
                achieved: None,
                gap: 2,
                confidence: 0.0,
                stale: false,
                counted: &[],
            },
        ],
        // (1 + 3/4 + 2/3 + 0 + 0.5·0 + 0.5·0) / 5: the desirable rows weigh a half.
        fit: (1.0 + 0.75 + 2.0 / 3.0) / 5.0,
        essential_gaps: 1,
    }
}

/// Bo, team lead.
pub fn bo_as_team_lead() -> Report {
    let lead_observation = 0.8 * d(60.0, 540.0);
    Report {
        person: BO,
        role: "team-lead",
        rows: vec![
            // Manager 3 (0.3) + observation 3 (0.741); self 4 is a rating only.
            Row {
                capability: "LEAD",
                required: 3,
                achieved: Some(3),
                gap: 0,
                confidence: (1.0 - 0.7 * (1.0 - lead_observation)) * 0.96,
                stale: false,
                counted: &["bo-lead-manager", "bo-lead-observation", "bo-lead-self"],
            },
            // Manager 2 at 0.3 = θ(2).
            Row {
                capability: "COAC",
                required: 3,
                achieved: Some(2),
                gap: 1,
                confidence: 0.3 * 0.8,
                stale: true,
                counted: &["bo-coac-manager"],
            },
            // Peer 3 today (0.3) + coaching 2 (0.2 · ½): support(2) = 0.4, support(3) = 0.3 < 0.6.
            Row {
                capability: "FDBK",
                required: 3,
                achieved: Some(2),
                gap: 1,
                confidence: (1.0 - 0.7 * 0.9) * 0.96,
                stale: false,
                counted: &["bo-fdbk-peer", "bo-fdbk-coaching"],
            },
            // E-learning two half-lives ago: 0.3 · ¼ = 0.075.
            Row {
                capability: "PLAN",
                required: 3,
                achieved: None,
                gap: 3,
                confidence: 0.075 * 0.8,
                stale: true,
                counted: &["bo-plan-elearning"],
            },
            // Practical 3 (0.5 · ½) + attendance 1 (0.2 · ½): support(1) = 0.35, support(2) = 0.25.
            Row {
                capability: "STKH",
                required: 3,
                achieved: Some(1),
                gap: 2,
                confidence: (1.0 - 0.75 * 0.9) * 0.8,
                stale: true,
                counted: &["bo-stkh-practical", "bo-stkh-attended"],
            },
            Row {
                capability: "DECI",
                required: 3,
                achieved: None,
                gap: 3,
                confidence: 0.0,
                stale: false,
                counted: &[],
            },
        ],
        fit: (1.0 + 2.0 / 3.0 + 2.0 / 3.0 + 0.0 + 1.0 / 3.0 + 0.0) / 6.0,
        // FDBK is essential.
        essential_gaps: 1,
    }
}

/// One cell of a role's heatmap: a persona × a capability.
pub struct Cell {
    pub person: &'static str,
    pub capability: &'static str,
    pub level: Option<u8>,
    pub required: Option<u8>,
    pub gap: Option<i16>,
}

/// What a role's heatmap must show of the personas.
pub struct Heatmap {
    pub role: &'static str,
    /// The personas holding the role at `AS_OF`, in key order (generated people come between
    /// them in the full organisation).
    pub personas: &'static [&'static str],
    /// The role's requirements, in the role's order.
    pub capabilities: &'static [&'static str],
    pub cells: Vec<Cell>,
}

fn cell(person: &'static str, capability: &'static str, level: Option<u8>, required: u8) -> Cell {
    Cell {
        person,
        capability,
        level,
        required: Some(required),
        gap: Some(i16::from(required) - i16::from(level.unwrap_or(0))),
    }
}

/// The cells of a report's rows (the heatmap of the role shows the same levels).
fn cells_of(report: &Report) -> Vec<Cell> {
    report
        .rows
        .iter()
        .map(|r| cell(report.person, r.capability, r.achieved, r.required))
        .collect()
}

/// The heatmaps of the five roles.
pub fn heatmaps() -> Vec<Heatmap> {
    let engineer = ["CODE", "TEST", "REVW", "DATA", "SECU", "ARCH"];
    let required = [3, 3, 2, 2, 2, 3];
    // Eve started a month ago with nothing; Fay was only mentored in TEST, a year ago
    // (0.15 · 0.5^(365/180) < 0.3): no level anywhere. Ana moved on to senior engineer.
    let engineers = [EVE, FAY]
        .into_iter()
        .flat_map(|p| {
            engineer
                .iter()
                .zip(required)
                .map(move |(c, r)| cell(p, c, None, r))
        })
        .collect();
    vec![
        Heatmap {
            role: "engineer",
            personas: &[EVE, FAY],
            capabilities: &["CODE", "TEST", "REVW", "DATA", "SECU", "ARCH"],
            cells: engineers,
        },
        Heatmap {
            role: "senior-engineer",
            personas: &[ANA],
            capabilities: &["CODE", "ARCH", "REVW", "SECU", "MENT", "FDBK"],
            cells: cells_of(&ana_as_senior_engineer()),
        },
        Heatmap {
            role: "team-lead",
            personas: &[BO],
            capabilities: &["LEAD", "COAC", "FDBK", "PLAN", "STKH", "DECI"],
            cells: cells_of(&bo_as_team_lead()),
        },
        Heatmap {
            role: "product-owner",
            personas: &[CY],
            capabilities: &["DISC", "RSCH", "ROAD", "STKH", "NEGO", "METR", "PRES"],
            cells: vec![
                // Two e-learning results at 3 (0.3 each): support(3) = 0.6 = θ(3), but
                // level 3 needs an assessor, manager or instructor.
                cell(CY, "DISC", Some(2), 3),
                // Being mentored half a year ago: 0.15 · ½ = 0.075 < 0.3.
                cell(CY, "RSCH", None, 2),
                // An observation at 3 of the partner framework's equivalent SPKG (0.741).
                cell(CY, "PRES", Some(3), 3),
            ],
        },
        Heatmap {
            role: "incident-manager",
            personas: &[DEE],
            capabilities: &["INCD", "MONI", "RELI", "DOCS", "DECI", "PRES"],
            cells: vec![
                // Manager 4 two years ago (0.6 · ¼), observation 4 one half-life ago
                // (0.8 · ½), an observation below 4 today (0.6): net(4) = −0.05,
                // net(3) = 0.55 < 0.6, and the policy counts evidence only.
                cell(DEE, "INCD", Some(2), 4),
                // E-learning at 2 two years ago: 0.3 · ¼ = 0.075.
                cell(DEE, "MONI", None, 3),
            ],
        },
    ]
}

fn close(got: &Value, want: f64, what: &str) {
    let got = got
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: {got} is not a number"));
    assert!((got - want).abs() < 1e-9, "{what}: {got}, want {want}");
}

/// Checks a gap report (as JSON) against `want`; `statement_id` gives the id of a persona
/// statement by its script name.
pub fn check_report(report: &Value, want: &Report, statement_id: &dyn Fn(&str) -> String) {
    let who = format!("{} as {}", want.person, want.role);
    assert_eq!(report["person"], want.person, "{who}");
    let rows = report["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("{who}: no rows in {report}"));
    assert_eq!(rows.len(), want.rows.len(), "{who}: {report}");
    for (got, row) in rows.iter().zip(&want.rows) {
        let name = format!("{who}, {}", row.capability);
        assert_eq!(got["capability"], row.capability, "{name}");
        assert_eq!(got["required"], row.required, "{name}");
        assert_eq!(
            got["achieved"].as_u64(),
            row.achieved.map(u64::from),
            "{name}"
        );
        assert_eq!(got["gap"], row.gap, "{name}");
        assert_eq!(got["met"], row.gap <= 0, "{name}");
        close(&got["confidence"], row.confidence, &name);
        assert_eq!(got["stale"], row.stale, "{name}");
        let mut counted: Vec<String> = got["assessment"]["explanation"]["contributions"]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: no contributions"))
            .iter()
            .map(|c| c["statement"].as_str().unwrap_or_default().to_owned())
            .collect();
        counted.sort();
        counted.dedup();
        let mut expected: Vec<String> = row.counted.iter().map(|s| statement_id(s)).collect();
        expected.sort();
        assert_eq!(counted, expected, "{name}: statements counted");
    }
    close(&report["fit"], want.fit, &format!("{who}: fit"));
    assert_eq!(report["essential_gaps"], want.essential_gaps, "{who}");
}

/// Checks a role's heatmap (as JSON) against `want`: the personas among its people, its
/// columns, and the personas' cells.
pub fn check_heatmap(map: &Value, want: &Heatmap) {
    let role = want.role;
    let people: Vec<&str> = map["people"]
        .as_array()
        .unwrap_or_else(|| panic!("{role}: no people in {map}"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let personas: Vec<&str> = people
        .iter()
        .copied()
        .filter(|p| [ANA, BO, CY, DEE, EVE, FAY].contains(p))
        .collect();
    assert_eq!(personas, want.personas, "{role}: personas");
    let capabilities: Vec<&str> = map["capabilities"]
        .as_array()
        .unwrap_or_else(|| panic!("{role}: no capabilities"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(capabilities, want.capabilities, "{role}: columns");
    for c in &want.cells {
        let name = format!("{role}: {} × {}", c.person, c.capability);
        let row = people
            .iter()
            .position(|p| *p == c.person)
            .unwrap_or_else(|| panic!("{name}: no such row"));
        let column = capabilities
            .iter()
            .position(|x| *x == c.capability)
            .unwrap_or_else(|| panic!("{name}: no such column"));
        let got = &map["cells"][row][column];
        assert_eq!(got["level"].as_u64(), c.level.map(u64::from), "{name}");
        assert_eq!(
            got["required"].as_u64(),
            c.required.map(u64::from),
            "{name}"
        );
        assert_eq!(got["gap"].as_i64(), c.gap.map(i64::from), "{name}");
    }
}
