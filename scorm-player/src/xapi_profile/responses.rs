//! SCORM interaction responses as xAPI response patterns (xAPI Data §2.4.4.1 "Response
//! Patterns", which were built on SCORM 2004 RTE §4.2.9.1): the same `[,]`, `[.]`, `[:]`
//! delimiters, so SCORM 2004 values carry over, bare legacy delimiters are bracketed, and
//! SCORM 1.2's formats (RTE §3.4.2: `t`/`f`/`0`/`1`, comma lists in optional braces, `1.a`
//! pairs) are rewritten. The components xAPI lists beside a pattern (`choices`, `scale`,
//! `source`/`target`, `steps`) are the ids the values name: SCORM keeps no list of options.

use crate::version::DataModel;

/// An interaction as xAPI describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mapped {
    pub interaction_type: &'static str,
    pub patterns: Vec<String>,
    pub response: Option<String>,
    /// Component lists by property name, each without repeats.
    pub components: Vec<(&'static str, Vec<String>)>,
}

/// One converted value and the component ids it names, by component list.
struct Converted {
    text: String,
    ids: Vec<Vec<String>>,
}

/// Maps an interaction's type, correct patterns and learner response. Values that do not
/// read as their type (possible in SCORM 1.2, whose responses are free text to the LMS) make
/// it an `other` interaction, whose values xAPI takes in any format, with the values as sent.
pub(crate) fn map(
    model: DataModel,
    kind: Option<&str>,
    patterns: &[&str],
    response: Option<&str>,
) -> Mapped {
    let other = || Mapped {
        interaction_type: "other",
        patterns: patterns.iter().map(|p| (*p).to_owned()).collect(),
        response: response.map(str::to_owned),
        components: Vec::new(),
    };
    let Some((interaction_type, lists)) = kind.and_then(xapi_type) else {
        return other();
    };
    let convert = |value: &str| match model {
        DataModel::Scorm2004 => convert_2004(interaction_type, value),
        DataModel::Scorm12 => convert_12(interaction_type, value),
    };
    // SCORM 1.2 RTE §3.4.2: an empty likert pattern means any response is right, which xAPI
    // says by leaving the pattern out.
    let kept: Vec<&str> = patterns
        .iter()
        .copied()
        .filter(|p| !(model == DataModel::Scorm12 && interaction_type == "likert" && p.is_empty()))
        .collect();
    let mut converted = Vec::with_capacity(kept.len() + 1);
    for pattern in &kept {
        match convert(pattern) {
            Some(value) => converted.push(value),
            None => return other(),
        }
    }
    let response = match response.map(convert) {
        Some(None) => return other(),
        Some(Some(value)) => Some(value),
        None => None,
    };
    let mut components: Vec<(&'static str, Vec<String>)> =
        lists.iter().map(|name| (*name, Vec::new())).collect();
    for value in converted.iter().chain(response.iter()) {
        for ((_, list), ids) in components.iter_mut().zip(&value.ids) {
            for id in ids {
                if !list.contains(id) {
                    list.push(id.clone());
                }
            }
        }
    }
    components.retain(|(_, list)| !list.is_empty());
    Mapped {
        interaction_type,
        patterns: converted.into_iter().map(|c| c.text).collect(),
        response: response.map(|c| c.text),
        components,
    }
}

/// The xAPI interaction type of a SCORM one (the ten are the same words) and its component
/// lists.
fn xapi_type(kind: &str) -> Option<(&'static str, &'static [&'static str])> {
    Some(match kind {
        "true-false" => ("true-false", &[]),
        "choice" => ("choice", &["choices"]),
        "fill-in" => ("fill-in", &[]),
        "long-fill-in" => ("long-fill-in", &[]),
        "matching" => ("matching", &["source", "target"]),
        "performance" => ("performance", &["steps"]),
        "sequencing" => ("sequencing", &["choices"]),
        "likert" => ("likert", &["scale"]),
        "numeric" => ("numeric", &[]),
        "other" => ("other", &[]),
        _ => return None,
    })
}

fn plain(text: &str) -> Option<Converted> {
    Some(Converted {
        text: text.to_owned(),
        ids: Vec::new(),
    })
}

/// SCORM 2004: the run-time already checked the value against its type, bracketed
/// delimiters or, for content written to 2nd Edition, bare ones when no bracketed one is
/// present (the same reading as `runtime::interaction`).
fn convert_2004(kind: &str, value: &str) -> Option<Converted> {
    match kind {
        "true-false" => matches!(value, "true" | "false").then(|| plain(value))?,
        "choice" | "sequencing" => {
            let ids = if value.is_empty() && kind == "choice" {
                Vec::new()
            } else {
                identifiers(split(value, "[,]", ','))?
            };
            Some(list_of(ids))
        }
        "likert" => (!value.is_empty()).then(|| Converted {
            text: value.to_owned(),
            ids: vec![vec![value.to_owned()]],
        }),
        "matching" => {
            let pairs = split(value, "[,]", ',')
                .into_iter()
                .map(|pair| match split(pair, "[.]", '.').as_slice() {
                    [source, target] if !source.is_empty() && !target.is_empty() => {
                        Some(((*source).to_owned(), (*target).to_owned()))
                    }
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?;
            Some(pairs_of(pairs))
        }
        "performance" => {
            let (prefix, rest) = order_prefix(value);
            let steps = split(rest, "[,]", ',')
                .into_iter()
                .map(|step| {
                    let (name, answer) = match step.split_once("[.]") {
                        Some(parts) => parts,
                        None => step.split_once('.')?,
                    };
                    (!(name.is_empty() && answer.is_empty()))
                        .then(|| (name.to_owned(), answer.to_owned()))
                })
                .collect::<Option<Vec<_>>>()?;
            Some(steps_of(prefix, steps))
        }
        "numeric" => numeric(value),
        _ => plain(value),
    }
}

/// SCORM 1.2 (RTE §3.4.2, `correct_responses.n.pattern` and `student_response`): values the
/// LMS stores as CMIFeedback, read here by type.
fn convert_12(kind: &str, value: &str) -> Option<Converted> {
    let value = value.trim();
    match kind {
        // "0, 1, t, f": the first character decides; content also writes "true"/"false".
        "true-false" => match value.chars().next()? {
            't' | 'T' | '1' => plain("true"),
            'f' | 'F' | '0' => plain("false"),
            _ => None,
        },
        // Single characters (or longer ids) separated by commas; braces around the list
        // ("all of these, in any order") add nothing an xAPI list does not say.
        "choice" | "sequencing" => {
            let inner = unbrace(value);
            let ids = if inner.is_empty() {
                Vec::new()
            } else {
                identifiers(split(inner, "[,]", ','))?
            };
            Some(list_of(ids))
        }
        "likert" => (!value.is_empty()).then(|| Converted {
            text: value.to_owned(),
            ids: vec![vec![value.to_owned()]],
        }),
        "matching" => {
            let pairs = split(unbrace(value), "[,]", ',')
                .into_iter()
                .map(|pair| match split(pair, "[.]", '.').as_slice() {
                    [source, target] => {
                        let (source, target) = (source.trim(), target.trim());
                        (!source.is_empty() && !target.is_empty())
                            .then(|| (source.to_owned(), target.to_owned()))
                    }
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?;
            Some(pairs_of(pairs))
        }
        "numeric" => numeric(value),
        "fill-in" => plain(value),
        // 1.2 leaves a performance response free-form; only one already written as xAPI
        // steps reads as steps.
        "performance" if value.contains("[.]") => convert_2004("performance", value),
        _ => None,
    }
}

/// Splits on the bracketed delimiter when present, else on the bare one.
fn split<'a>(value: &'a str, bracketed: &str, bare: char) -> Vec<&'a str> {
    if value.contains(bracketed) {
        value.split(bracketed).collect()
    } else {
        value.split(bare).collect()
    }
}

fn identifiers(items: Vec<&str>) -> Option<Vec<String>> {
    items
        .into_iter()
        .map(|item| {
            let item = item.trim();
            (!item.is_empty()).then(|| item.to_owned())
        })
        .collect()
}

fn unbrace(value: &str) -> &str {
    value
        .strip_prefix('{')
        .and_then(|v| v.strip_suffix('}'))
        .unwrap_or(value)
}

/// `{order_matters=true}` or `{order_matters=false}` at the start of a performance pattern.
fn order_prefix(value: &str) -> (&str, &str) {
    for prefix in ["{order_matters=true}", "{order_matters=false}"] {
        if let Some(rest) = value.strip_prefix(prefix) {
            return (prefix, rest);
        }
    }
    ("", value)
}

fn list_of(ids: Vec<String>) -> Converted {
    Converted {
        text: ids.join("[,]"),
        ids: vec![ids],
    }
}

fn pairs_of(pairs: Vec<(String, String)>) -> Converted {
    let text = pairs
        .iter()
        .map(|(source, target)| format!("{source}[.]{target}"))
        .collect::<Vec<_>>()
        .join("[,]");
    let (sources, targets) = pairs.into_iter().unzip();
    Converted {
        text,
        ids: vec![sources, targets],
    }
}

fn steps_of(prefix: &str, steps: Vec<(String, String)>) -> Converted {
    let text = steps
        .iter()
        .map(|(name, answer)| format!("{name}[.]{answer}"))
        .collect::<Vec<_>>()
        .join("[,]");
    let names = steps
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| !name.is_empty())
        .collect();
    Converted {
        text: format!("{prefix}{text}"),
        ids: vec![names],
    }
}

/// A number, or a `min[:]max` range with either side left out (bare `min:max` in legacy
/// content).
fn numeric(value: &str) -> Option<Converted> {
    let is_number = |text: &str| super::records::parse_number(text).is_some();
    let range = value.split_once("[:]").or_else(|| value.split_once(':'));
    match range {
        None => is_number(value).then(|| plain(value))?,
        Some((min, max)) => {
            let side_ok = |side: &str| side.is_empty() || is_number(side);
            (side_ok(min) && side_ok(max) && !(min.is_empty() && max.is_empty()))
                .then(|| plain(&format!("{min}[:]{max}")))?
        }
    }
}
