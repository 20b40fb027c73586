//! Property tests: the time formats of both versions, and "GetValue after a successful
//! SetValue returns the value" across the writable elements of both data models.

use proptest::prelude::*;
use scorm_player::runtime::{
    format_cmi_timespan, format_time_interval, parse_cmi_timespan, parse_time_interval,
};
use scorm_player::{LaunchData, ScormVersion};

use crate::helpers::session;

proptest! {
    #[test]
    fn cmi_timespan_reads_what_it_writes(total in 0u64..(9999 * 360_000 + 359_999)) {
        let text = format_cmi_timespan(total);
        prop_assert_eq!(parse_cmi_timespan(&text), Some(total));
    }

    #[test]
    fn cmi_timespan_components(hours in 0u64..10_000, minutes in 0u64..60, seconds in 0u64..60, centis in 0u64..100, width in 2usize..=4, decimals in 0usize..=2) {
        prop_assume!(hours.to_string().len() <= width);
        let fraction = match decimals {
            0 => String::new(),
            1 => format!(".{}", centis / 10),
            _ => format!(".{centis:02}"),
        };
        let text = format!("{hours:0width$}:{minutes:02}:{seconds:02}{fraction}");
        let expected_centis = match decimals { 0 => 0, 1 => centis / 10 * 10, _ => centis };
        prop_assert_eq!(parse_cmi_timespan(&text), Some(hours * 360_000 + minutes * 6_000 + seconds * 100 + expected_centis));
    }

    #[test]
    fn cmi_timespan_never_panics_and_is_canonical(text in "\\PC{0,20}|[0-9:.]{0,16}") {
        if let Some(total) = parse_cmi_timespan(&text) {
            prop_assert_eq!(parse_cmi_timespan(&format_cmi_timespan(total)), Some(total));
        }
    }

    #[test]
    fn time_interval_reads_what_it_writes(total in 0u64..(1u64 << 40)) {
        prop_assert_eq!(parse_time_interval(&format_time_interval(total)), Some(total));
    }

    #[test]
    fn time_interval_components(
        years in proptest::option::of(0u64..100),
        months in proptest::option::of(0u64..24),
        days in proptest::option::of(0u64..400),
        hours in proptest::option::of(0u64..100),
        minutes in proptest::option::of(0u64..1000),
        seconds in proptest::option::of((0u64..100_000, proptest::option::of(0u64..100))),
    ) {
        let mut text = String::from("P");
        let mut expected = 0u64;
        let mut any = false;
        for (value, unit, scale) in [(years, 'Y', 365 * 8_640_000), (months, 'M', 30 * 8_640_000), (days, 'D', 8_640_000)] {
            if let Some(v) = value {
                text.push_str(&format!("{v}{unit}"));
                expected += v * scale;
                any = true;
            }
        }
        if hours.is_some() || minutes.is_some() || seconds.is_some() {
            text.push('T');
            for (value, unit, scale) in [(hours, 'H', 360_000), (minutes, 'M', 6_000)] {
                if let Some(v) = value {
                    text.push_str(&format!("{v}{unit}"));
                    expected += v * scale;
                }
            }
            if let Some((whole, fraction)) = seconds {
                match fraction {
                    Some(f) => text.push_str(&format!("{whole}.{f:02}S")),
                    None => text.push_str(&format!("{whole}S")),
                }
                expected += whole * 100 + fraction.unwrap_or(0);
            }
            any = true;
        }
        let parsed = parse_time_interval(&text);
        if any {
            prop_assert_eq!(parsed, Some(expected), "{}", text);
        } else {
            prop_assert_eq!(parsed, None);
        }
    }

    #[test]
    fn time_interval_never_panics(text in "\\PC{0,24}|P[0-9YMDTHS.]{0,16}") {
        if let Some(total) = parse_time_interval(&text) {
            prop_assert!(text.starts_with('P'));
            prop_assert!(!text.contains('W'));
            prop_assert_eq!(parse_time_interval(&format_time_interval(total)), Some(total));
        }
    }
}

/// Values of every shape the data models know, and noise.
fn any_value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "passed",
            "completed",
            "failed",
            "incomplete",
            "browsed",
            "not attempted",
            "unknown",
            "suspend",
            "logout",
            "time-out",
            "normal",
            "",
            "credit",
            "true",
            "false",
            "choice",
            "correct",
            "wrong",
            "incorrect",
            "neutral",
            "continue",
            "previous",
            "exitAll",
            "_none_",
            "-1",
            "0",
            "1",
            "en",
            "fr-CA",
        ])
        .prop_map(str::to_owned),
        "-?[0-9]{1,3}(\\.[0-9]{1,3})?",
        "[0-9]{2,4}:[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,2})?",
        "PT[0-9]{1,2}H[0-9]{1,2}M[0-9]{1,2}(\\.[0-9]{1,2})?S",
        "(19[7-9][0-9]|20[0-3][0-9])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T[01][0-9]:[0-5][0-9]:[0-5][0-9]Z?",
        "(\\{lang=[a-z]{2}\\})?[a-zA-Z0-9 ,.:_-]{0,24}",
        "urn:[a-z]{1,8}:[a-z0-9.-]{1,12}",
        "\\PC{0,16}",
    ]
}

const RW_12: &[&str] = &[
    "cmi.core.lesson_location",
    "cmi.core.lesson_status",
    "cmi.core.score.raw",
    "cmi.core.score.min",
    "cmi.core.score.max",
    "cmi.suspend_data",
    "cmi.comments",
    "cmi.student_preference.audio",
    "cmi.student_preference.language",
    "cmi.student_preference.speed",
    "cmi.student_preference.text",
    "cmi.objectives.0.id",
    "cmi.objectives.0.score.raw",
    "cmi.objectives.0.status",
];

const RW_2004: &[&str] = &[
    "cmi.location",
    "cmi.suspend_data",
    "cmi.completion_status",
    "cmi.success_status",
    "cmi.progress_measure",
    "cmi.score.scaled",
    "cmi.score.raw",
    "cmi.score.min",
    "cmi.score.max",
    "cmi.learner_preference.audio_level",
    "cmi.learner_preference.language",
    "cmi.learner_preference.delivery_speed",
    "cmi.learner_preference.audio_captioning",
    "adl.nav.request",
    "cmi.comments_from_learner.0.comment",
    "cmi.comments_from_learner.0.location",
    "cmi.comments_from_learner.0.timestamp",
    "cmi.objectives.0.id",
    "cmi.interactions.0.id",
    "cmi.interactions.0.type",
    "cmi.interactions.0.timestamp",
    "cmi.interactions.0.weighting",
    "cmi.interactions.0.result",
    "cmi.interactions.0.latency",
    "cmi.interactions.0.description",
    "cmi.interactions.0.learner_response",
    "cmi.interactions.0.correct_responses.0.pattern",
];

proptest! {
    #[test]
    fn scorm12_get_after_set_returns_the_value(element in prop::sample::select(RW_12), value in any_value()) {
        let mut state = session(ScormVersion::Scorm12, LaunchData::default());
        state.initialize("").expect("initialize");
        if state.set_value(element, &value).is_ok() {
            prop_assert_eq!(state.get_value(element).map_err(|e| e.code), Ok(value));
        } else {
            prop_assert_ne!(state.last_error().0, 0);
        }
    }

    #[test]
    fn scorm2004_get_after_set_returns_the_value(
        element in prop::sample::select(RW_2004),
        value in any_value(),
        kind in prop::sample::select(vec!["true-false", "choice", "fill-in", "long-fill-in", "matching", "performance", "sequencing", "likert", "numeric", "other"]),
    ) {
        let mut state = session(ScormVersion::Scorm2004Ed4, LaunchData::default());
        state.initialize("").expect("initialize");
        if element.starts_with("cmi.interactions.0.") && element != "cmi.interactions.0.id" {
            state.set_value("cmi.interactions.0.id", "q1").expect("id");
            if element != "cmi.interactions.0.type" {
                state.set_value("cmi.interactions.0.type", kind).expect("type");
            }
        }
        if state.set_value(element, &value).is_ok() {
            prop_assert_eq!(state.get_value(element).map_err(|e| e.code), Ok(value));
        } else {
            prop_assert_ne!(state.last_error().0, 0);
        }
    }

    #[test]
    fn any_element_name_gets_an_answer(name in "(cmi|adl)\\.[a-z_.0-9{}=]{0,30}", value in "\\PC{0,8}") {
        for version in [ScormVersion::Scorm12, ScormVersion::Scorm2004Ed3, ScormVersion::Scorm2004Ed4] {
            let mut state = session(version, LaunchData::default());
            state.initialize("").expect("initialize");
            let _ = state.get_value(&name);
            let _ = state.set_value(&name, &value);
        }
    }
}
