//! The charts as SVG text, pure functions of the reports: a heatmap of people × capabilities,
//! a bar chart of a person against a role's requirements and a step chart of a person's levels
//! over time. Colours are presentation attributes
//! (`fill`, `stroke`), which a `style-src` policy does not govern.

use std::fmt::Write as _;

use capability_engine::report::{GapRow, Progression, ProgressionPoint};
use capability_engine::{GapReport, HeatCell, Heatmap, Level, RoleId};
use chrono::{DateTime, Utc};

use super::html::{date, escape, gap_link, level_text, progression_link, shorten};

/// Where a cell stands against what the person's roles require.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellStatus {
    /// The level reached is at or above the requirement.
    Met,
    /// Below the requirement, with some evidence.
    Below,
    /// Required, and nothing counted yet.
    NoEvidence,
    /// None of the person's roles requires the capability.
    NotRequired,
}

/// The heatmap and what its labels need beside it.
#[derive(Debug, Clone, Copy)]
pub struct HeatmapChart<'a> {
    pub map: &'a Heatmap,
    /// The capabilities' names, by column.
    pub names: &'a [String],
    /// What the chart shows, for its `<title>`.
    pub title: &'a str,
    /// The role whose heatmap this is: each person's label links to their gap against it.
    pub role: Option<&'a RoleId>,
}

/// One series of the progression chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Series {
    Achieved,
    Evidence,
    SelfRating,
    ManagerRating,
}

/// The plot area of the progression chart and its scales.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plot {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The top of the level scale (the highest level defined).
    pub top_level: u8,
}

pub const CELL_W: f64 = 92.0;
pub const CELL_H: f64 = 38.0;
const LABEL_W: f64 = 250.0;
const HEADER_H: f64 = 120.0;
const LEGEND_H: f64 = 64.0;
const PERSON_LABEL_CHARS: usize = 34;
const CAPABILITY_LABEL_CHARS: usize = 22;

pub const BAR_H: f64 = 34.0;
pub const BAR_SCALE_W: f64 = 420.0;
const BAR_TOP: f64 = 40.0;
const BAR_LABEL_CHARS: usize = 30;
const REQUIRED_STROKE: &str = "#202124";

pub const CHART_W: f64 = 760.0;
pub const CHART_H: f64 = 340.0;
const MARGIN_LEFT: f64 = 80.0;
const MARGIN_RIGHT: f64 = 24.0;
const MARGIN_TOP: f64 = 20.0;
const MARGIN_BOTTOM: f64 = 90.0;

impl CellStatus {
    pub fn of(cell: &HeatCell) -> CellStatus {
        match (cell.required, cell.gap) {
            (None, _) | (_, None) => CellStatus::NotRequired,
            (Some(_), Some(gap)) if gap <= 0 => CellStatus::Met,
            _ if cell.assessment.last_evidence_at.is_none() => CellStatus::NoEvidence,
            _ => CellStatus::Below,
        }
    }

    /// A gap report's row: always required.
    pub fn of_row(row: &GapRow) -> CellStatus {
        if row.met {
            CellStatus::Met
        } else if row.last_evidence_at.is_none() {
            CellStatus::NoEvidence
        } else {
            CellStatus::Below
        }
    }

    /// The class the cell carries, and the legend's key.
    pub fn class(self) -> &'static str {
        match self {
            CellStatus::Met => "met",
            CellStatus::Below => "below",
            CellStatus::NoEvidence => "no-evidence",
            CellStatus::NotRequired => "not-required",
        }
    }

    /// Colours a reader with impaired colour vision can still tell apart by lightness; the
    /// cell's text and tooltip say the same in words.
    pub fn fill(self) -> &'static str {
        match self {
            CellStatus::Met => "#8fd19e",
            CellStatus::Below => "#f28b82",
            CellStatus::NoEvidence => "#fde293",
            CellStatus::NotRequired => "#e8eaed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CellStatus::Met => "Met",
            CellStatus::Below => "Below the requirement",
            CellStatus::NoEvidence => "No evidence",
            CellStatus::NotRequired => "Not required",
        }
    }

    pub const ALL: [CellStatus; 4] = [
        CellStatus::Met,
        CellStatus::Below,
        CellStatus::NoEvidence,
        CellStatus::NotRequired,
    ];
}

const STALE_STROKE: &str = "#5f370e";

/// A cell's text: achieved / required.
pub fn cell_text(cell: &HeatCell) -> String {
    format!("{} / {}", level_text(cell.level), level_text(cell.required))
}

/// A cell's tooltip: everything behind its colour in words.
pub fn cell_tooltip(person: &str, capability: &str, name: &str, cell: &HeatCell) -> String {
    let mut text = format!(
        "{person} — {name} ({capability}): achieved {} of required {}; {}; confidence {:.2}; last evidence {}",
        level_text(cell.level),
        level_text(cell.required),
        CellStatus::of(cell).label().to_lowercase(),
        cell.confidence,
        cell.assessment
            .last_evidence_at
            .map_or_else(|| "none".to_owned(), date),
    );
    if cell.stale {
        text.push_str("; stale (every item past its half-life)");
    }
    text
}

/// The heatmap: a row per person, a column per capability, a legend below. Each cell links
/// to the person's progression in that capability up to the heatmap's date.
pub fn heatmap(chart: HeatmapChart<'_>) -> String {
    let map = chart.map;
    let columns = map.capabilities.len();
    let rows = map.people.len();
    let grid_w = CELL_W * columns as f64;
    let width = (LABEL_W + grid_w + 20.0).max(640.0);
    let height = HEADER_H + CELL_H * rows as f64 + LEGEND_H + 20.0;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"heatmap\" role=\"img\" \
         aria-labelledby=\"heatmap-title heatmap-desc\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"sans-serif\" font-size=\"13\">\
         <title id=\"heatmap-title\">{}</title>\
         <desc id=\"heatmap-desc\">{rows} people by {columns} capabilities; each cell shows the \
         level achieved over the level required, coloured met, below, no evidence or not \
         required; a dashed border marks stale evidence. The table below gives the same \
         figures.</desc>",
        escape(chart.title),
    );
    for (c, capability) in map.capabilities.iter().enumerate() {
        let name = chart
            .names
            .get(c)
            .cloned()
            .unwrap_or_else(|| capability.to_string());
        let x = LABEL_W + CELL_W * c as f64 + CELL_W / 2.0;
        let y = HEADER_H - 10.0;
        let _ = write!(
            out,
            "<text class=\"column-label\" x=\"{x:.1}\" y=\"{y:.1}\" \
             transform=\"rotate(-35 {x:.1} {y:.1})\" fill=\"#202124\"><title>{}</title>{}</text>",
            escape(&format!("{name} ({capability})")),
            escape(&shorten(&name, CAPABILITY_LABEL_CHARS)),
        );
    }
    for (p, person) in map.people.iter().enumerate() {
        let y = HEADER_H + CELL_H * p as f64;
        if let Some(role) = chart.role {
            let _ = write!(
                out,
                "<a class=\"person\" href=\"{}\">",
                escape(&gap_link(role.as_str(), person.as_str(), map.as_of)),
            );
        }
        let _ = write!(
            out,
            "<text class=\"row-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" \
             dominant-baseline=\"middle\" fill=\"#202124\"><title>{}</title>{}</text>",
            LABEL_W - 8.0,
            y + CELL_H / 2.0,
            escape(person.as_str()),
            escape(&shorten(person.as_str(), PERSON_LABEL_CHARS)),
        );
        if chart.role.is_some() {
            out.push_str("</a>");
        }
        for (c, capability) in map.capabilities.iter().enumerate() {
            let Some(cell) = map.cells.get(p).and_then(|row| row.get(c)) else {
                continue;
            };
            let name = chart
                .names
                .get(c)
                .map_or_else(|| capability.to_string(), Clone::clone);
            let x = LABEL_W + CELL_W * c as f64;
            out.push_str(&heat_cell(
                person.as_str(),
                capability.as_str(),
                &name,
                cell,
                map.as_of,
                (x, y),
            ));
        }
    }
    if rows == 0 || columns == 0 {
        let _ = write!(
            out,
            "<text class=\"empty\" x=\"{LABEL_W:.1}\" y=\"{:.1}\" fill=\"#202124\">No one to show \
             at this date.</text>",
            HEADER_H + 20.0,
        );
    }
    legend(
        &mut out,
        HEADER_H + CELL_H * rows as f64 + 24.0,
        &CellStatus::ALL,
        "Cells read achieved / required; – is none.",
    );
    out.push_str("</svg>");
    out
}

fn heat_cell(
    person: &str,
    capability: &str,
    name: &str,
    cell: &HeatCell,
    as_of: DateTime<Utc>,
    (x, y): (f64, f64),
) -> String {
    let status = CellStatus::of(cell);
    let stale = if cell.stale { " stale" } else { "" };
    let border = if cell.stale {
        format!("stroke=\"{STALE_STROKE}\" stroke-width=\"2\" stroke-dasharray=\"5 3\"")
    } else {
        "stroke=\"#ffffff\" stroke-width=\"2\"".to_owned()
    };
    let mut out = format!(
        "<a class=\"cell {class}{stale}\" href=\"{href}\" data-person=\"{person_attr}\" \
         data-capability=\"{capability_attr}\" data-level=\"{level}\" data-required=\"{required}\" \
         data-confidence=\"{confidence}\" data-stale=\"{stale_flag}\">\
         <title>{tooltip}</title>\
         <rect x=\"{rx:.1}\" y=\"{ry:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{fill}\" {border}/>\
         <text x=\"{tx:.1}\" y=\"{ty:.1}\" text-anchor=\"middle\" dominant-baseline=\"middle\" \
         fill=\"#202124\">{text}</text>",
        class = status.class(),
        href = escape(&progression_link(person, capability, as_of)),
        person_attr = escape(person),
        capability_attr = escape(capability),
        level = cell.level.map(|l| l.to_string()).unwrap_or_default(),
        required = cell.required.map(|l| l.to_string()).unwrap_or_default(),
        confidence = cell.confidence,
        stale_flag = cell.stale,
        tooltip = escape(&cell_tooltip(person, capability, name, cell)),
        rx = x + 1.0,
        ry = y + 1.0,
        w = CELL_W - 2.0,
        h = CELL_H - 2.0,
        fill = status.fill(),
        tx = x + CELL_W / 2.0,
        ty = y + CELL_H / 2.0,
        text = escape(&cell_text(cell)),
    );
    if cell.stale {
        // A corner mark as well as the border, so staleness does not rest on one cue.
        let _ = write!(
            out,
            "<path class=\"stale-mark\" d=\"M{:.1} {:.1}h-12l12 12z\" fill=\"{STALE_STROKE}\"/>",
            x + CELL_W - 1.0,
            y + 1.0,
        );
    }
    out.push_str("</a>");
    out
}

fn legend(out: &mut String, top: f64, statuses: &[CellStatus], reading: &str) {
    let _ = write!(out, "<g class=\"legend\">");
    let mut x = 10.0;
    for &status in statuses {
        let _ = write!(
            out,
            "<rect class=\"swatch {}\" x=\"{x:.1}\" y=\"{top:.1}\" width=\"18\" height=\"18\" \
             fill=\"{}\" stroke=\"#5f6368\"/><text x=\"{:.1}\" y=\"{:.1}\" \
             dominant-baseline=\"middle\" fill=\"#202124\">{}</text>",
            status.class(),
            status.fill(),
            x + 24.0,
            top + 9.0,
            status.label(),
        );
        x += 24.0 + 8.0 * status.label().len() as f64 + 24.0;
    }
    let y = top + 30.0;
    let _ = write!(
        out,
        "<rect class=\"swatch stale\" x=\"10\" y=\"{y:.1}\" width=\"18\" height=\"18\" \
         fill=\"#ffffff\" stroke=\"{STALE_STROKE}\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>\
         <text x=\"34\" y=\"{:.1}\" dominant-baseline=\"middle\" fill=\"#202124\">Stale: every \
         evidence item past its half-life. {reading}</text></g>",
        y + 9.0,
    );
}

/// The top of a gap chart's scale: the highest level defined for any of its capabilities,
/// required, achieved or rated.
pub fn gap_top_level(report: &GapReport) -> u8 {
    report
        .rows
        .iter()
        .flat_map(|r| {
            let levels = r
                .assessment
                .explanation
                .levels
                .iter()
                .map(|t| Some(t.level));
            levels.chain([
                Some(r.required),
                r.achieved,
                r.evidence_level,
                r.self_level,
                r.manager_level,
            ])
        })
        .flatten()
        .map(Level::get)
        .max()
        .unwrap_or(1)
        .max(1)
}

/// The x of a level on a gap chart whose scale ends at `top`; no level is the scale's start.
pub fn bar_x(level: Option<Level>, top: u8) -> f64 {
    let value = f64::from(level.map_or(0, Level::get));
    LABEL_W + BAR_SCALE_W * value / f64::from(top.max(1))
}

/// A gap row's text: achieved / required.
pub fn row_text(row: &GapRow) -> String {
    format!(
        "{} / {}",
        level_text(row.achieved),
        level_text(Some(row.required))
    )
}

/// A bar's tooltip: everything behind its length and colour in words.
pub fn row_tooltip(row: &GapRow) -> String {
    let mut text = format!(
        "{} ({}): achieved {} of required {}; {}; evidence {}, self {}, manager {}; confidence \
         {:.2}; last evidence {}",
        row.name,
        row.capability,
        level_text(row.achieved),
        level_text(Some(row.required)),
        CellStatus::of_row(row).label().to_lowercase(),
        level_text(row.evidence_level),
        level_text(row.self_level),
        level_text(row.manager_level),
        row.confidence,
        row.last_evidence_at.map_or_else(|| "none".to_owned(), date),
    );
    if row.stale {
        text.push_str("; stale (every item past its half-life)");
    }
    text
}

/// The gap report as horizontal bars: a row per requirement, the bar to the level achieved,
/// a marker at the level required. Each bar links to the person's progression in the
/// capability up to the report's date.
pub fn gap(report: &GapReport, title: &str) -> String {
    let top = gap_top_level(report);
    let rows = report.rows.len();
    let width = LABEL_W + BAR_SCALE_W + 120.0;
    let height = BAR_TOP + BAR_H * rows.max(1) as f64 + LEGEND_H + 30.0;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"gap\" role=\"img\" \
         aria-labelledby=\"gap-title gap-desc\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"sans-serif\" font-size=\"13\">\
         <title id=\"gap-title\">{}</title>\
         <desc id=\"gap-desc\">{rows} required capabilities; each bar runs to the level \
         achieved and a dark marker stands at the level required; bars are coloured met, below \
         or no evidence, and a dashed border marks stale evidence. The table below gives the \
         same figures.</desc>",
        escape(title),
    );
    let bottom = BAR_TOP + BAR_H * rows.max(1) as f64;
    let _ = write!(out, "<g class=\"axis x\">");
    for value in 0..=top {
        let level = Level::new(value).ok();
        let x = bar_x(level, top);
        let label = level.map_or_else(|| "none".to_owned(), |l| format!("level {l}"));
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\" stroke=\"#dadce0\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#3c4043\">{label}</text>",
            BAR_TOP - 6.0,
            BAR_TOP - 12.0,
        );
    }
    out.push_str("</g>");
    for (i, row) in report.rows.iter().enumerate() {
        let y = BAR_TOP + BAR_H * i as f64;
        let _ = write!(
            out,
            "<text class=\"row-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" \
             dominant-baseline=\"middle\" fill=\"#202124\"><title>{}</title>{}</text>",
            LABEL_W - 8.0,
            y + BAR_H / 2.0,
            escape(&format!("{} ({})", row.name, row.capability)),
            escape(&shorten(&row.name, BAR_LABEL_CHARS)),
        );
        out.push_str(&gap_bar(report, row, top, y));
    }
    if rows == 0 {
        let _ = write!(
            out,
            "<text class=\"empty\" x=\"{LABEL_W:.1}\" y=\"{:.1}\" fill=\"#202124\">The role \
             requires nothing at this date.</text>",
            BAR_TOP + BAR_H / 2.0,
        );
    }
    legend(
        &mut out,
        bottom + 24.0,
        &[CellStatus::Met, CellStatus::Below, CellStatus::NoEvidence],
        "Bars read achieved / required; the dark marker is the level required.",
    );
    out.push_str("</svg>");
    out
}

fn gap_bar(report: &GapReport, row: &GapRow, top: u8, y: f64) -> String {
    let status = CellStatus::of_row(row);
    let stale = if row.stale { " stale" } else { "" };
    let border = if row.stale {
        format!("stroke=\"{STALE_STROKE}\" stroke-width=\"2\" stroke-dasharray=\"5 3\"")
    } else {
        "stroke=\"#dadce0\" stroke-width=\"1\"".to_owned()
    };
    let start = bar_x(None, top);
    let end = bar_x(row.achieved, top);
    let required = bar_x(Some(row.required), top);
    let (bar_y, bar_h) = (y + 6.0, BAR_H - 12.0);
    let mut out = format!(
        "<a class=\"bar {class}{stale}\" href=\"{href}\" data-capability=\"{capability}\" \
         data-level=\"{level}\" data-required=\"{required_level}\" data-gap=\"{gap}\" \
         data-met=\"{met}\" data-confidence=\"{confidence}\" data-stale=\"{stale_flag}\">\
         <title>{tooltip}</title>\
         <rect class=\"track\" x=\"{start:.1}\" y=\"{bar_y:.1}\" width=\"{track_w:.1}\" \
         height=\"{bar_h:.1}\" fill=\"#f8f9fa\" {border}/>\
         <rect class=\"achieved\" x=\"{start:.1}\" y=\"{bar_y:.1}\" width=\"{achieved_w:.1}\" \
         height=\"{bar_h:.1}\" fill=\"{fill}\"/>\
         <line class=\"required\" x1=\"{required:.1}\" y1=\"{y1:.1}\" x2=\"{required:.1}\" \
         y2=\"{y2:.1}\" stroke=\"{REQUIRED_STROKE}\" stroke-width=\"3\"/>\
         <text x=\"{tx:.1}\" y=\"{ty:.1}\" dominant-baseline=\"middle\" \
         fill=\"#202124\">{text}</text>",
        class = status.class(),
        href = escape(&progression_link(
            report.person.as_str(),
            row.capability.as_str(),
            report.as_of
        )),
        capability = escape(row.capability.as_str()),
        level = row.achieved.map(|l| l.to_string()).unwrap_or_default(),
        required_level = row.required,
        gap = row.gap,
        met = row.met,
        confidence = row.confidence,
        stale_flag = row.stale,
        tooltip = escape(&row_tooltip(row)),
        track_w = BAR_SCALE_W,
        achieved_w = end - start,
        fill = status.fill(),
        y1 = y + 2.0,
        y2 = y + BAR_H - 2.0,
        tx = start + BAR_SCALE_W + 12.0,
        ty = y + BAR_H / 2.0,
        text = escape(&row_text(row)),
    );
    if row.stale {
        let _ = write!(
            out,
            "<path class=\"stale-mark\" d=\"M{:.1} {bar_y:.1}h-12l12 12z\" fill=\"{STALE_STROKE}\"/>",
            start + BAR_SCALE_W,
        );
    }
    out.push_str("</a>");
    out
}

impl Plot {
    pub fn of(progression: &Progression) -> Plot {
        Plot {
            from: progression.from,
            to: progression.to,
            top_level: progression
                .levels
                .iter()
                .map(|l| l.get())
                .max()
                .unwrap_or(1)
                .max(1),
        }
    }

    /// The x of a date: `from` at the left of the plot, `to` at its right (the middle when
    /// they are the same instant).
    pub fn x(&self, at: DateTime<Utc>) -> f64 {
        let width = CHART_W - MARGIN_LEFT - MARGIN_RIGHT;
        let span = (self.to - self.from).num_milliseconds();
        if span <= 0 {
            return MARGIN_LEFT + width / 2.0;
        }
        let offset = (at - self.from).num_milliseconds().clamp(0, span);
        MARGIN_LEFT + width * offset as f64 / span as f64
    }

    /// The y of a level; no level sits on the baseline.
    pub fn y(&self, level: Option<Level>) -> f64 {
        let height = CHART_H - MARGIN_TOP - MARGIN_BOTTOM;
        let value = f64::from(level.map_or(0, Level::get));
        MARGIN_TOP + height - height * value / f64::from(self.top_level)
    }
}

impl Series {
    pub const ALL: [Series; 4] = [
        Series::Achieved,
        Series::Evidence,
        Series::SelfRating,
        Series::ManagerRating,
    ];

    pub fn level(self, point: &ProgressionPoint) -> Option<Level> {
        match self {
            Series::Achieved => point.level,
            Series::Evidence => point.evidence_level,
            Series::SelfRating => point.self_level,
            Series::ManagerRating => point.manager_level,
        }
    }

    pub fn class(self) -> &'static str {
        match self {
            Series::Achieved => "achieved",
            Series::Evidence => "evidence",
            Series::SelfRating => "self",
            Series::ManagerRating => "manager",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Series::Achieved => "Achieved level",
            Series::Evidence => "Evidence level",
            Series::SelfRating => "Self-assessment",
            Series::ManagerRating => "Manager's assessment",
        }
    }

    /// Colour and dash pattern, so the lines differ in more than hue.
    fn stroke(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Series::Achieved => ("#1a73e8", "3", "none"),
            Series::Evidence => ("#188038", "2", "6 4"),
            Series::SelfRating => ("#a142f4", "2", "2 3"),
            Series::ManagerRating => ("#e37400", "2", "10 3 2 3"),
        }
    }
}

/// The points of a series in chart coordinates, one per progression point.
pub fn series_points(plot: &Plot, points: &[ProgressionPoint], series: Series) -> Vec<(f64, f64)> {
    points
        .iter()
        .map(|p| (plot.x(p.at), plot.y(series.level(p))))
        .collect()
}

/// A step line through `points`: a level holds until the next change, then moves to it.
pub fn step_path(points: &[(f64, f64)]) -> String {
    let mut d = String::new();
    for (i, (x, y)) in points.iter().enumerate() {
        if i == 0 {
            let _ = write!(d, "M{x:.1} {y:.1}");
        } else {
            let _ = write!(d, "H{x:.1}V{y:.1}");
        }
    }
    d
}

/// A point's tooltip.
pub fn point_tooltip(point: &ProgressionPoint) -> String {
    let mut text = format!(
        "{}: level {} (evidence {}, self {}, manager {}); confidence {:.2}",
        date(point.at),
        level_text(point.level),
        level_text(point.evidence_level),
        level_text(point.self_level),
        level_text(point.manager_level),
        point.confidence,
    );
    if point.stale {
        text.push_str("; stale");
    }
    text
}

/// The progression as a step chart: levels on the y axis, dates on the x axis, one marker per
/// point of the achieved level, and the evidence level and ratings where there are any.
pub fn progression(progression: &Progression, title: &str) -> String {
    let plot = Plot::of(progression);
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"progression\" role=\"img\" \
         aria-labelledby=\"progression-title progression-desc\" width=\"{CHART_W:.0}\" \
         height=\"{CHART_H:.0}\" viewBox=\"0 0 {CHART_W:.0} {CHART_H:.0}\" \
         font-family=\"sans-serif\" font-size=\"12\">\
         <title id=\"progression-title\">{}</title>\
         <desc id=\"progression-desc\">Level over time from {} to {}: {} points where the level, \
         a rating or staleness changed. The table below gives the same figures.</desc>",
        escape(title),
        date(progression.from),
        date(progression.to),
        progression.points.len(),
    );
    axes(&mut out, &plot, progression);
    for series in Series::ALL {
        let shown = series == Series::Achieved
            || progression.points.iter().any(|p| series.level(p).is_some());
        if !shown {
            continue;
        }
        let points = series_points(&plot, &progression.points, series);
        let (colour, width, dash) = series.stroke();
        let _ = write!(
            out,
            "<path class=\"series {}\" d=\"{}\" fill=\"none\" stroke=\"{colour}\" \
             stroke-width=\"{width}\" stroke-dasharray=\"{dash}\"/>",
            series.class(),
            step_path(&points),
        );
    }
    let achieved = series_points(&plot, &progression.points, Series::Achieved);
    let _ = write!(out, "<g class=\"points achieved\">");
    for (point, (x, y)) in progression.points.iter().zip(&achieved) {
        let _ = write!(
            out,
            "<circle class=\"point\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"5\" fill=\"#1a73e8\" \
             stroke=\"#ffffff\" stroke-width=\"1.5\" data-at=\"{}\" data-level=\"{}\">\
             <title>{}</title></circle>",
            escape(&super::html::time(point.at)),
            point.level.map(|l| l.to_string()).unwrap_or_default(),
            escape(&point_tooltip(point)),
        );
    }
    out.push_str("</g>");
    series_legend(&mut out, progression);
    out.push_str("</svg>");
    out
}

fn axes(out: &mut String, plot: &Plot, progression: &Progression) {
    let left = MARGIN_LEFT;
    let right = CHART_W - MARGIN_RIGHT;
    let bottom = CHART_H - MARGIN_BOTTOM;
    let _ = write!(out, "<g class=\"axis y\">");
    let mut ticks: Vec<Option<Level>> = vec![None];
    ticks.extend(progression.levels.iter().copied().map(Some));
    for level in ticks {
        let y = plot.y(level);
        let label = level.map_or_else(|| "none".to_owned(), |l| format!("level {l}"));
        let _ = write!(
            out,
            "<line x1=\"{left:.1}\" y1=\"{y:.1}\" x2=\"{right:.1}\" y2=\"{y:.1}\" \
             stroke=\"#dadce0\"/><text x=\"{:.1}\" y=\"{y:.1}\" text-anchor=\"end\" \
             dominant-baseline=\"middle\" fill=\"#3c4043\">{label}</text>",
            left - 8.0,
        );
    }
    out.push_str("</g><g class=\"axis x\">");
    let _ = write!(
        out,
        "<line x1=\"{left:.1}\" y1=\"{bottom:.1}\" x2=\"{right:.1}\" y2=\"{bottom:.1}\" \
         stroke=\"#5f6368\"/>"
    );
    let ticks = date_ticks(plot);
    for (i, &at) in ticks.iter().enumerate() {
        let x = plot.x(at);
        // The last label ends at its tick, so it stays inside the chart's right edge.
        let anchor = if ticks.len() > 1 && i == ticks.len() - 1 {
            "end"
        } else {
            "middle"
        };
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{bottom:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#5f6368\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" fill=\"#3c4043\">{}</text>",
            bottom + 5.0,
            bottom + 18.0,
            date(at),
        );
    }
    out.push_str("</g>");
}

/// Up to five dates spread evenly from `from` to `to` (one when they coincide).
pub fn date_ticks(plot: &Plot) -> Vec<DateTime<Utc>> {
    let span = (plot.to - plot.from).num_milliseconds();
    if span <= 0 {
        return vec![plot.from];
    }
    (0..5)
        .map(|i| plot.from + chrono::Duration::milliseconds(span / 4 * i))
        .map(|at| if at > plot.to { plot.to } else { at })
        .collect()
}

fn series_legend(out: &mut String, progression: &Progression) {
    let top = CHART_H - 40.0;
    let _ = write!(out, "<g class=\"legend\">");
    let mut x = MARGIN_LEFT;
    for series in Series::ALL {
        let shown = series == Series::Achieved
            || progression.points.iter().any(|p| series.level(p).is_some());
        if !shown {
            continue;
        }
        let (colour, width, dash) = series.stroke();
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{top:.1}\" x2=\"{:.1}\" y2=\"{top:.1}\" stroke=\"{colour}\" \
             stroke-width=\"{width}\" stroke-dasharray=\"{dash}\"/><text x=\"{:.1}\" \
             y=\"{top:.1}\" dominant-baseline=\"middle\" fill=\"#202124\">{}</text>",
            x + 24.0,
            x + 30.0,
            series.label(),
        );
        x += 30.0 + 7.0 * series.label().len() as f64 + 20.0;
    }
    out.push_str("</g>");
}
