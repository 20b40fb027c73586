//! SCORM 2004 interaction responses: the format of `correct_responses.n.pattern` and
//! `learner_response` for each `cmi.interactions.n.type` (RTE §4.2.9.1 and §4.2.9.2).
//!
//! Lists are delimited by `[,]`, pairs by `[.]`, numeric ranges by `[:]`. SCORM 2004 2nd
//! Edition content used bare `,` `.` `:`; outside strict mode those are accepted when the
//! value has no bracketed delimiter at all.

use super::types::{Check, TypeFault, identifier, localized, parse_real};

/// `cmi.interactions.n.type` vocabulary.
pub(crate) const TYPES: &[&str] = &[
    "true-false",
    "choice",
    "fill-in",
    "long-fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
    "other",
];

/// How many correct response patterns a type allows; `None` for "a list" (RTE §4.2.9.1: the
/// SPM of those lists is a floor, so only the one-pattern types are capped).
pub(crate) fn max_patterns(kind: &str) -> Option<usize> {
    match kind {
        "true-false" | "likert" | "numeric" | "other" => Some(1),
        _ => None,
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Rules {
    pub strict: bool,
}

/// Checks a correct response pattern for an interaction of type `kind`.
pub(crate) fn check_pattern(kind: &str, value: &str, rules: Rules) -> Check {
    match kind {
        "true-false" => one_of(value, &["true", "false"]),
        "choice" => ids(value, rules, true, true),
        "sequencing" => ids(value, rules, false, false),
        "likert" => short_id(value, rules),
        "matching" => pairs(value, rules),
        "fill-in" => {
            let rest = prefixes(value, &["case_matters", "order_matters"])?;
            localized_list(rest, rules, 250)
        }
        "long-fill-in" => {
            let rest = prefixes(value, &["case_matters"])?;
            localized(rest).map(|_| ())
        }
        "performance" => {
            let rest = prefixes(value, &["order_matters"])?;
            performance(rest, rules, true)
        }
        "numeric" => numeric_range(value, rules),
        "other" => Ok(()),
        _ => Err(TypeFault::Mismatch),
    }
}

/// Checks a learner response for an interaction of type `kind`.
pub(crate) fn check_response(kind: &str, value: &str, rules: Rules) -> Check {
    match kind {
        "true-false" => one_of(value, &["true", "false"]),
        "choice" => ids(value, rules, true, true),
        "sequencing" => ids(value, rules, false, false),
        "likert" => short_id(value, rules),
        "matching" => pairs(value, rules),
        "fill-in" => localized_list(value, rules, 250),
        "long-fill-in" => localized(value).map(|_| ()),
        "performance" => performance(value, rules, false),
        "numeric" => parse_real(value).map(|_| ()).ok_or(TypeFault::Mismatch),
        "other" => Ok(()),
        _ => Err(TypeFault::Mismatch),
    }
}

fn one_of(value: &str, allowed: &[&str]) -> Check {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(TypeFault::Mismatch)
    }
}

fn split<'a>(value: &'a str, bracketed: &str, bare: char, rules: Rules) -> Vec<&'a str> {
    if value.contains(bracketed) || rules.strict {
        value.split(bracketed).collect()
    } else {
        value.split(bare).collect()
    }
}

fn short_id(value: &str, rules: Rules) -> Check {
    identifier(value, rules.strict)
}

/// A `[,]` list of short identifiers; `unique` refuses repeats; `allow_empty` accepts "" (a
/// choice interaction answered with no choice).
fn ids(value: &str, rules: Rules, unique: bool, allow_empty: bool) -> Check {
    if value.is_empty() {
        return if allow_empty {
            Ok(())
        } else {
            Err(TypeFault::Mismatch)
        };
    }
    let items = split(value, "[,]", ',', rules);
    for (index, item) in items.iter().enumerate() {
        short_id(item, rules)?;
        if unique && items[..index].contains(item) {
            return Err(TypeFault::Mismatch);
        }
    }
    Ok(())
}

/// `source[.]target[,]source[.]target…`
fn pairs(value: &str, rules: Rules) -> Check {
    for pair in split(value, "[,]", ',', rules) {
        let parts = split(pair, "[.]", '.', rules);
        let [source, target] = parts.as_slice() else {
            return Err(TypeFault::Mismatch);
        };
        short_id(source, rules)?;
        short_id(target, rules)?;
    }
    Ok(())
}

/// Leading `{case_matters=true}` / `{order_matters=false}` delimiters, each at most once and
/// only those `allowed`; returns what follows them.
fn prefixes<'a>(value: &'a str, allowed: &[&str]) -> Result<&'a str, TypeFault> {
    let mut rest = value;
    let mut seen: Vec<&str> = Vec::new();
    loop {
        let Some(found) = allowed
            .iter()
            .find(|name| rest.starts_with(&format!("{{{name}=")))
        else {
            return Ok(rest);
        };
        if seen.contains(found) {
            return Err(TypeFault::Mismatch);
        }
        seen.push(found);
        let after = &rest[found.len() + 2..];
        let (flag, tail) = after.split_once('}').ok_or(TypeFault::Mismatch)?;
        one_of(flag, &["true", "false"])?;
        rest = tail;
    }
}

fn localized_list(value: &str, rules: Rules, spm: usize) -> Check {
    for item in split(value, "[,]", ',', rules) {
        let (_, text) = localized(item)?;
        if rules.strict && text.chars().count() > spm {
            return Err(TypeFault::Mismatch);
        }
    }
    Ok(())
}

/// `step_name[.]step_answer[,]…`; a step name may be empty, an answer is a string, a number
/// or (in a pattern) a `min[:]max` range.
fn performance(value: &str, rules: Rules, pattern: bool) -> Check {
    for step in split(value, "[,]", ',', rules) {
        let parts: Vec<&str> = step.splitn(2, "[.]").collect();
        let (name, answer) = match parts.as_slice() {
            [name, answer] => (*name, *answer),
            _ if !rules.strict => match step.split_once('.') {
                Some((name, answer)) => (name, answer),
                None => return Err(TypeFault::Mismatch),
            },
            _ => return Err(TypeFault::Mismatch),
        };
        if !name.is_empty() {
            short_id(name, rules)?;
        }
        if name.is_empty() && answer.is_empty() {
            return Err(TypeFault::Mismatch);
        }
        if pattern && answer.contains("[:]") {
            numeric_range(answer, rules)?;
        }
    }
    Ok(())
}

/// `min[:]max`, either side optional, min ≤ max when both are given.
fn numeric_range(value: &str, rules: Rules) -> Check {
    let parts = split(value, "[:]", ':', rules);
    let bound = |text: &str| -> Result<Option<f64>, TypeFault> {
        if text.is_empty() {
            Ok(None)
        } else {
            parse_real(text).map(Some).ok_or(TypeFault::Mismatch)
        }
    };
    match parts.as_slice() {
        [single] if !single.is_empty() => bound(single).map(|_| ()),
        [min, max] => match (bound(min)?, bound(max)?) {
            (Some(min), Some(max)) if min > max => Err(TypeFault::Mismatch),
            _ => Ok(()),
        },
        _ => Err(TypeFault::Mismatch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LENIENT: Rules = Rules { strict: false };
    const STRICT: Rules = Rules { strict: true };

    #[test]
    fn patterns_by_type() {
        let good = [
            ("true-false", "true"),
            ("choice", "a[,]b[,]c"),
            ("choice", ""),
            ("sequencing", "a[,]b[,]a"),
            ("likert", "agree"),
            ("matching", "a[.]1[,]b[.]2"),
            (
                "fill-in",
                "{case_matters=true}{order_matters=false}{lang=en}one[,]two",
            ),
            (
                "long-fill-in",
                "{case_matters=false}{lang=de}Ein langer Text",
            ),
            (
                "performance",
                "{order_matters=true}step1[.]answer[,][.]42[,]s3[.]1[:]5",
            ),
            ("numeric", "1.5[:]3"),
            ("numeric", "[:]3"),
            ("numeric", "7"),
            ("other", "anything at all"),
        ];
        for (kind, value) in good {
            assert_eq!(check_pattern(kind, value, STRICT), Ok(()), "{kind} {value}");
        }
        let bad = [
            ("true-false", "yes"),
            ("choice", "a[,]a"),
            ("choice", "a[,]"),
            ("matching", "a[.]"),
            ("matching", "a"),
            ("fill-in", "{case_matters=maybe}x"),
            ("fill-in", "{case_matters=true}{case_matters=true}x"),
            ("fill-in", "{lang=toolonglanguage}x"),
            ("numeric", "3[:]1"),
            ("numeric", "x"),
            ("numeric", ""),
            ("performance", "[.]"),
            ("unknown", "x"),
        ];
        for (kind, value) in bad {
            assert_eq!(
                check_pattern(kind, value, STRICT),
                Err(TypeFault::Mismatch),
                "{kind} {value}"
            );
        }
    }

    #[test]
    fn bare_delimiters_only_outside_strict_mode() {
        assert_eq!(check_response("matching", "a.1,b.2", LENIENT), Ok(()));
        assert_eq!(
            check_response("matching", "a.1,b.2", STRICT),
            Err(TypeFault::Mismatch)
        );
        assert_eq!(check_response("choice", "a,b", LENIENT), Ok(()));
        assert_eq!(check_response("numeric", "3.25", STRICT), Ok(()));
        assert_eq!(
            check_response("numeric", "1[:]2", STRICT),
            Err(TypeFault::Mismatch)
        );
    }
}
