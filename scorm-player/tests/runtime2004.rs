//! The SCORM 2004 run-time data model, table-driven: each element's type, range and access,
//! interactions by type, the dependency and index rules, status evaluation, every error code,
//! resume and server-side replay.

use scorm_player::runtime::{
    ApiCall, CompletionStatus, LmsComment, NavValidity, Navigation, PriorAttempt, ReplayError,
    SharedData, SuccessStatus, replay,
};
use scorm_player::{
    CommitPayload, DataModel, ErrorCode, LaunchData, RuntimeOptions, RuntimeState, ScormVersion,
    Start, XmlLimits, parse_manifest,
};

use crate::helpers::{self, Call, SetCase, check_get, check_set, script, session};

const V3: ScormVersion = ScormVersion::Scorm2004Ed3;
const V4: ScormVersion = ScormVersion::Scorm2004Ed4;

fn launch() -> LaunchData {
    LaunchData {
        learner_id: "urn:example:learner:42".into(),
        learner_name: "{lang=en}Ada Lovelace".into(),
        comments_from_lms: vec![LmsComment {
            comment: "Welcome".into(),
            location: Some("start".into()),
            timestamp: None,
        }],
        ..LaunchData::default()
    }
}

#[test]
fn api_states_and_their_codes() {
    use Call::*;
    let mut state = session(V4, launch());
    script(
        &mut state,
        &[
            (Get("cmi.learner_id"), 122),
            (Set("cmi.location", "p1"), 132),
            (Commit(""), 142),
            (Term(""), 112),
            (Init("x"), 201),
            (Init(""), 0),
            (Init(""), 103),
            (Commit("x"), 201),
            (Commit(""), 0),
            (Term("x"), 201),
            (Get(""), 301),
            (Set("", "x"), 351),
            (Term(""), 0),
            (Get("cmi.learner_id"), 123),
            (Set("cmi.location", "p1"), 133),
            (Commit(""), 143),
            (Term(""), 113),
            (Init(""), 104),
        ],
    );
    assert_eq!(
        state.error_string(ErrorCode(104)),
        "Content Instance Terminated"
    );
    assert_eq!(state.error_string(ErrorCode(999)), "");
}

#[test]
fn lms_side_failures() {
    let mut state = session(V4, launch());
    state.initialize("").expect("initialize");
    for (call, code) in [
        (ApiCall::Initialize, 102),
        (ApiCall::Terminate, 111),
        (ApiCall::GetValue, 301),
        (ApiCall::SetValue, 351),
        (ApiCall::Commit, 391),
        (ApiCall::General, 101),
    ] {
        state.record_failure(call, "the server is unreachable");
        assert_eq!(state.last_error(), ErrorCode(code));
        assert_eq!(
            state.diagnostic(ErrorCode(code)),
            "the server is unreachable"
        );
    }
    state
        .get_value("cmi.mode")
        .expect("a successful call clears the error");
    assert_eq!(state.last_error(), ErrorCode::NO_ERROR);
    let mut old = session(ScormVersion::Scorm12, LaunchData::default());
    old.record_failure(ApiCall::Commit, "down");
    assert_eq!(old.last_error(), ErrorCode(101));
}

#[test]
fn get_values_and_keywords() {
    let l = launch();
    let cases: &[(&str, Result<&str, u16>)] = &[
        ("cmi._version", Ok("1.0")),
        (
            "cmi.comments_from_learner._children",
            Ok("comment,location,timestamp"),
        ),
        (
            "cmi.comments_from_lms._children",
            Ok("comment,location,timestamp"),
        ),
        (
            "cmi.interactions._children",
            Ok(
                "id,type,objectives,timestamp,correct_responses,weighting,learner_response,result,latency,description",
            ),
        ),
        (
            "cmi.objectives._children",
            Ok("id,score,success_status,completion_status,progress_measure,description"),
        ),
        (
            "cmi.learner_preference._children",
            Ok("audio_level,language,delivery_speed,audio_captioning"),
        ),
        ("cmi.score._children", Ok("scaled,raw,min,max")),
        ("adl.data._children", Ok("id,store")),
        ("cmi.comments_from_learner._count", Ok("0")),
        ("cmi.comments_from_lms._count", Ok("1")),
        ("cmi.comments_from_lms.0.comment", Ok("Welcome")),
        ("cmi.comments_from_lms.0.location", Ok("start")),
        ("cmi.comments_from_lms.0.timestamp", Err(403)),
        ("cmi.interactions._count", Ok("0")),
        ("cmi.objectives._count", Ok("0")),
        ("adl.data._count", Ok("0")),
        ("cmi.completion_status", Ok("unknown")),
        ("cmi.success_status", Ok("unknown")),
        ("cmi.credit", Ok("credit")),
        ("cmi.entry", Ok("ab-initio")),
        ("cmi.mode", Ok("normal")),
        ("cmi.learner_id", Ok("urn:example:learner:42")),
        ("cmi.learner_name", Ok("{lang=en}Ada Lovelace")),
        ("cmi.learner_preference.audio_level", Ok("1")),
        ("cmi.learner_preference.language", Ok("")),
        ("cmi.learner_preference.delivery_speed", Ok("1")),
        ("cmi.learner_preference.audio_captioning", Ok("0")),
        ("cmi.time_limit_action", Ok("continue,no message")),
        ("cmi.total_time", Ok("PT0H0M0S")),
        ("adl.nav.request", Ok("_none_")),
        ("adl.nav.request_valid.continue", Ok("unknown")),
        ("adl.nav.request_valid.previous", Ok("unknown")),
        ("adl.nav.request_valid.choice.{target=intro}", Ok("unknown")),
        ("adl.nav.request_valid.jump.{target=intro}", Ok("unknown")),
        // never set, no default: 403
        ("cmi.location", Err(403)),
        ("cmi.suspend_data", Err(403)),
        ("cmi.score.scaled", Err(403)),
        ("cmi.score.raw", Err(403)),
        ("cmi.progress_measure", Err(403)),
        ("cmi.launch_data", Err(403)),
        ("cmi.max_time_allowed", Err(403)),
        ("cmi.completion_threshold", Err(403)),
        ("cmi.scaled_passing_score", Err(403)),
        // write-only
        ("cmi.exit", Err(405)),
        ("cmi.session_time", Err(405)),
        // keywords where they do not belong, and missing records
        ("cmi._children", Err(301)),
        ("cmi.learner_id._children", Err(301)),
        ("cmi.score._count", Err(301)),
        ("cmi.interactions.0.objectives._children", Err(301)),
        ("cmi.interactions.0.id", Err(301)),
        ("cmi.interactions.0.objectives._count", Err(301)),
        ("cmi.comments_from_lms.1.comment", Err(301)),
        // undefined
        ("cmi.core.student_id", Err(401)),
        ("cmi.core._children", Err(401)),
        ("cmi.bogus", Err(401)),
        ("cmi.interactions.00.id", Err(401)),
        ("adl.nav.request_valid.choice", Err(401)),
        ("adl.nav.request_valid.choice.{target=}", Err(401)),
        ("adl.nav.request_valid.retry", Err(401)),
        ("cmi._version._children", Err(401)),
    ];
    for (element, want) in cases {
        check_get(V4, &l, &[], element, *want);
    }
    // adl.data and jump are 4th Edition.
    check_get(V3, &l, &[], "adl.data._count", Err(401));
    check_get(
        V3,
        &l,
        &[],
        "adl.nav.request_valid.jump.{target=intro}",
        Err(401),
    );
}

const INTERACTION: &[(&str, &str)] = &[("cmi.interactions.0.id", "q1")];
const OBJECTIVE: &[(&str, &str)] = &[("cmi.objectives.0.id", "obj1")];

#[test]
fn set_values_types_ranges_and_access() {
    let l = launch();
    let long = "x".repeat(64_000);
    let cases: &[SetCase<'_>] = &[
        (&[], "cmi.location", "chapter-3", 0),
        (&[], "cmi.location", "", 0),
        (&[], "cmi.suspend_data", &long, 0),
        (&[], "cmi.completion_status", "completed", 0),
        (&[], "cmi.completion_status", "incomplete", 0),
        (&[], "cmi.completion_status", "not attempted", 0),
        (&[], "cmi.completion_status", "unknown", 0),
        (&[], "cmi.completion_status", "done", 406),
        (&[], "cmi.success_status", "passed", 0),
        (&[], "cmi.success_status", "failed", 0),
        (&[], "cmi.success_status", "completed", 406),
        (&[], "cmi.exit", "time-out", 0),
        (&[], "cmi.exit", "suspend", 0),
        (&[], "cmi.exit", "logout", 0),
        (&[], "cmi.exit", "normal", 0),
        (&[], "cmi.exit", "", 0),
        (&[], "cmi.exit", "timeout", 406),
        (&[], "cmi.score.scaled", "0.85", 0),
        (&[], "cmi.score.scaled", "-1", 0),
        (&[], "cmi.score.scaled", "1", 0),
        (&[], "cmi.score.scaled", "1.0000001", 407),
        (&[], "cmi.score.scaled", "-1.5", 407),
        (&[], "cmi.score.scaled", "high", 406),
        (&[], "cmi.score.raw", "-250.5", 0),
        (&[], "cmi.score.raw", "1e3", 406),
        (&[], "cmi.score.min", "0", 0),
        (&[], "cmi.score.max", "1000", 0),
        (&[], "cmi.progress_measure", "0.5", 0),
        (&[], "cmi.progress_measure", "1.1", 407),
        (&[], "cmi.progress_measure", "-0.1", 407),
        (&[], "cmi.session_time", "PT1H5M3.25S", 0),
        (&[], "cmi.session_time", "P1DT2H", 0),
        (&[], "cmi.session_time", "00:10:00", 406),
        (&[], "cmi.session_time", "PT", 406),
        (&[], "cmi.session_time", "P1W", 406),
        (&[], "cmi.learner_preference.audio_level", "0", 0),
        (&[], "cmi.learner_preference.audio_level", "2.5", 0),
        (&[], "cmi.learner_preference.audio_level", "-1", 407),
        (&[], "cmi.learner_preference.delivery_speed", "0.5", 0),
        (&[], "cmi.learner_preference.delivery_speed", "-0.5", 407),
        (&[], "cmi.learner_preference.language", "fr-CA", 0),
        (&[], "cmi.learner_preference.language", "", 0),
        (&[], "cmi.learner_preference.language", "french", 406),
        (&[], "cmi.learner_preference.audio_captioning", "-1", 0),
        (&[], "cmi.learner_preference.audio_captioning", "1", 0),
        (&[], "cmi.learner_preference.audio_captioning", "2", 406),
        (&[], "adl.nav.request", "continue", 0),
        (&[], "adl.nav.request", "previous", 0),
        (&[], "adl.nav.request", "exit", 0),
        (&[], "adl.nav.request", "exitAll", 0),
        (&[], "adl.nav.request", "abandon", 0),
        (&[], "adl.nav.request", "abandonAll", 0),
        (&[], "adl.nav.request", "suspendAll", 0),
        (&[], "adl.nav.request", "_none_", 0),
        (&[], "adl.nav.request", "{target=intro}choice", 0),
        (&[], "adl.nav.request", "{target=intro}jump", 0),
        (&[], "adl.nav.request", "{target=}choice", 406),
        (&[], "adl.nav.request", "start", 406),
        (&[], "adl.nav.request", "retry", 406),
        // read-only
        (&[], "cmi.learner_id", "x", 404),
        (&[], "cmi.learner_name", "x", 404),
        (&[], "cmi.credit", "credit", 404),
        (&[], "cmi.entry", "resume", 404),
        (&[], "cmi.mode", "normal", 404),
        (&[], "cmi.launch_data", "x", 404),
        (&[], "cmi.total_time", "PT1S", 404),
        (&[], "cmi.max_time_allowed", "PT1S", 404),
        (&[], "cmi.time_limit_action", "exit,message", 404),
        (&[], "cmi.completion_threshold", "0.5", 404),
        (&[], "cmi.scaled_passing_score", "0.5", 404),
        (&[], "cmi.comments_from_lms.0.comment", "x", 404),
        (&[], "adl.nav.request_valid.continue", "true", 404),
        // keywords
        (&[], "cmi._version", "1.0", 404),
        (&[], "cmi.interactions._count", "1", 404),
        (&[], "cmi.score._children", "x", 404),
        (&[], "cmi.learner_id._children", "x", 404),
        // undefined
        (&[], "cmi.core.lesson_status", "passed", 401),
        (&[], "cmi.bogus", "x", 401),
        (&[], "cmi.bogus._children", "x", 401),
        // comments from the learner: any field opens a record
        (
            &[],
            "cmi.comments_from_learner.0.comment",
            "{lang=en}Great",
            0,
        ),
        (
            &[],
            "cmi.comments_from_learner.0.comment",
            "{lang=english}Great",
            406,
        ),
        (&[], "cmi.comments_from_learner.0.location", "page 3", 0),
        (
            &[],
            "cmi.comments_from_learner.0.timestamp",
            "2024-05-01T10:11:12Z",
            0,
        ),
        (
            &[],
            "cmi.comments_from_learner.0.timestamp",
            "2024-13-01",
            407,
        ),
        (
            &[],
            "cmi.comments_from_learner.0.timestamp",
            "yesterday",
            406,
        ),
        (&[], "cmi.comments_from_learner.1.comment", "x", 351),
        // objectives: id first (408), unique (351), never changed (351)
        (&[], "cmi.objectives.0.id", "urn:example:obj:1", 0),
        (&[], "cmi.objectives.0.id", "", 406),
        (&[], "cmi.objectives.0.id", "urn:bad", 406),
        (&[], "cmi.objectives.0.score.scaled", "0.5", 408),
        (&[], "cmi.objectives.0.success_status", "passed", 408),
        (&[], "cmi.objectives.1.id", "obj2", 351),
        (OBJECTIVE, "cmi.objectives.0.id", "obj1", 0),
        (OBJECTIVE, "cmi.objectives.0.id", "obj-other", 351),
        (OBJECTIVE, "cmi.objectives.1.id", "obj1", 351),
        (OBJECTIVE, "cmi.objectives.1.id", "obj2", 0),
        (OBJECTIVE, "cmi.objectives.0.score.scaled", "-0.5", 0),
        (OBJECTIVE, "cmi.objectives.0.score.scaled", "2", 407),
        (OBJECTIVE, "cmi.objectives.0.score.raw", "12", 0),
        (OBJECTIVE, "cmi.objectives.0.score.min", "0", 0),
        (OBJECTIVE, "cmi.objectives.0.score.max", "20", 0),
        (OBJECTIVE, "cmi.objectives.0.success_status", "failed", 0),
        (
            OBJECTIVE,
            "cmi.objectives.0.completion_status",
            "completed",
            0,
        ),
        (
            OBJECTIVE,
            "cmi.objectives.0.completion_status",
            "passed",
            406,
        ),
        (OBJECTIVE, "cmi.objectives.0.progress_measure", "0.3", 0),
        (OBJECTIVE, "cmi.objectives.0.progress_measure", "3", 407),
        (
            OBJECTIVE,
            "cmi.objectives.0.description",
            "{lang=de}Ziel",
            0,
        ),
        // interactions: id first, in order; formats by type
        (&[], "cmi.interactions.0.id", "urn:example:q1", 0),
        (&[], "cmi.interactions.0.type", "choice", 408),
        (&[], "cmi.interactions.0.description", "x", 408),
        (&[], "cmi.interactions.1.id", "q2", 351),
        (&[], "cmi.interactions.0.objectives.0.id", "obj1", 408),
        (
            &[],
            "cmi.interactions.1.correct_responses.0.pattern",
            "a",
            351,
        ),
        (&[], "cmi.interactions.0.objectives.0.id", "obj1", 408),
        (
            &[],
            "cmi.interactions.1.correct_responses.0.pattern",
            "a",
            351,
        ),
        (INTERACTION, "cmi.interactions.0.type", "true-false", 0),
        (
            INTERACTION,
            "cmi.interactions.0.type",
            "multiple-choice",
            406,
        ),
        (
            INTERACTION,
            "cmi.interactions.0.timestamp",
            "2024-05-01T10:11:12.5+02:00",
            0,
        ),
        (
            INTERACTION,
            "cmi.interactions.0.timestamp",
            "1969-12-31",
            407,
        ),
        (INTERACTION, "cmi.interactions.0.weighting", "2", 0),
        (INTERACTION, "cmi.interactions.0.weighting", "two", 406),
        (INTERACTION, "cmi.interactions.0.result", "correct", 0),
        (INTERACTION, "cmi.interactions.0.result", "incorrect", 0),
        (INTERACTION, "cmi.interactions.0.result", "unanticipated", 0),
        (INTERACTION, "cmi.interactions.0.result", "neutral", 0),
        (INTERACTION, "cmi.interactions.0.result", "-3.5", 0),
        (INTERACTION, "cmi.interactions.0.result", "wrong", 406),
        (INTERACTION, "cmi.interactions.0.latency", "PT12.5S", 0),
        (INTERACTION, "cmi.interactions.0.latency", "12.5", 406),
        (
            INTERACTION,
            "cmi.interactions.0.description",
            "{lang=en}Which one?",
            0,
        ),
        (
            INTERACTION,
            "cmi.interactions.0.learner_response",
            "true",
            408,
        ),
        (
            INTERACTION,
            "cmi.interactions.0.correct_responses.0.pattern",
            "true",
            408,
        ),
        (INTERACTION, "cmi.interactions.0.objectives.0.id", "obj1", 0),
        (
            INTERACTION,
            "cmi.interactions.0.objectives.1.id",
            "obj1",
            351,
        ),
        (
            &[
                ("cmi.interactions.0.id", "q1"),
                ("cmi.interactions.0.objectives.0.id", "obj1"),
            ],
            "cmi.interactions.0.objectives.1.id",
            "obj1",
            351,
        ),
        (
            &[
                ("cmi.interactions.0.id", "q1"),
                ("cmi.interactions.0.objectives.0.id", "obj1"),
            ],
            "cmi.interactions.0.objectives.1.id",
            "obj2",
            0,
        ),
        (INTERACTION, "cmi.interactions.0.objectives.0.id", "", 406),
    ];
    for (prelude, element, value, code) in cases {
        check_set(V4, &l, prelude, element, value, *code);
    }
}

/// (type, learner_response, code) and (type, pattern, code) for each interaction type.
#[test]
fn responses_by_interaction_type() {
    let l = launch();
    let responses: &[(&str, &str, u16)] = &[
        ("true-false", "true", 0),
        ("true-false", "false", 0),
        ("true-false", "t", 406),
        ("choice", "a[,]b", 0),
        ("choice", "a[,]a", 406),
        ("choice", "", 0),
        ("fill-in", "{lang=en}colour[,]color", 0),
        ("fill-in", "{lang=xx-toolongsubtag}x", 406),
        ("long-fill-in", "{lang=en}A paragraph of text.", 0),
        ("matching", "1[.]a[,]2[.]b", 0),
        ("matching", "1[.][,]2[.]b", 406),
        ("performance", "step1[.]ok[,]step2[.]3.5", 0),
        ("performance", "[.]", 406),
        ("sequencing", "c[,]a[,]b", 0),
        ("sequencing", "", 406),
        ("likert", "strongly_agree", 0),
        ("likert", "", 406),
        ("numeric", "42.5", 0),
        ("numeric", "forty", 406),
        ("other", "anything goes", 0),
    ];
    for (kind, value, code) in responses {
        let prelude = [
            ("cmi.interactions.0.id", "q1"),
            ("cmi.interactions.0.type", kind),
        ];
        check_set(
            V4,
            &l,
            &prelude,
            "cmi.interactions.0.learner_response",
            value,
            *code,
        );
    }
    let patterns: &[(&str, &str, u16)] = &[
        ("true-false", "false", 0),
        ("choice", "a[,]c", 0),
        (
            "fill-in",
            "{case_matters=true}{order_matters=false}{lang=en}Paris",
            0,
        ),
        ("fill-in", "{case_matters=perhaps}Paris", 406),
        ("long-fill-in", "{case_matters=false}Long answer", 0),
        ("matching", "1[.]a", 0),
        ("performance", "{order_matters=false}s1[.]1[:]3", 0),
        ("sequencing", "a[,]b[,]c", 0),
        ("likert", "agree", 0),
        ("numeric", "10[:]20", 0),
        ("numeric", "20[:]10", 406),
        ("numeric", "[:]20", 0),
        ("other", "free form", 0),
    ];
    for (kind, value, code) in patterns {
        let prelude = [
            ("cmi.interactions.0.id", "q1"),
            ("cmi.interactions.0.type", kind),
        ];
        check_set(
            V4,
            &l,
            &prelude,
            "cmi.interactions.0.correct_responses.0.pattern",
            value,
            *code,
        );
    }
    // One-pattern types take one; no type takes the same pattern twice.
    let true_false = [
        ("cmi.interactions.0.id", "q1"),
        ("cmi.interactions.0.type", "true-false"),
        ("cmi.interactions.0.correct_responses.0.pattern", "true"),
    ];
    check_set(
        V4,
        &l,
        &true_false,
        "cmi.interactions.0.correct_responses.1.pattern",
        "false",
        351,
    );
    let choice = [
        ("cmi.interactions.0.id", "q1"),
        ("cmi.interactions.0.type", "choice"),
        ("cmi.interactions.0.correct_responses.0.pattern", "a"),
    ];
    check_set(
        V4,
        &l,
        &choice,
        "cmi.interactions.0.correct_responses.1.pattern",
        "b",
        0,
    );
    check_set(
        V4,
        &l,
        &choice,
        "cmi.interactions.0.correct_responses.1.pattern",
        "a",
        351,
    );
    check_set(
        V4,
        &l,
        &choice,
        "cmi.interactions.0.correct_responses.2.pattern",
        "b",
        351,
    );
    check_get(
        V4,
        &l,
        &choice,
        "cmi.interactions.0.correct_responses._count",
        Ok("1"),
    );
    check_get(
        V4,
        &l,
        &choice,
        "cmi.interactions.0.correct_responses.0.pattern",
        Ok("a"),
    );
    check_get(
        V4,
        &l,
        &choice,
        "cmi.interactions.0.learner_response",
        Err(403),
    );
    check_get(V4, &l, &choice, "cmi.interactions.0.timestamp", Err(403));
}

#[test]
fn record_defaults_and_counts() {
    let l = launch();
    let prelude = [
        ("cmi.objectives.0.id", "obj1"),
        ("cmi.interactions.0.id", "q1"),
        ("cmi.comments_from_learner.0.location", "p2"),
    ];
    for (element, want) in [
        ("cmi.objectives._count", Ok("1")),
        ("cmi.objectives.0.success_status", Ok("unknown")),
        ("cmi.objectives.0.completion_status", Ok("unknown")),
        ("cmi.objectives.0.score._children", Ok("scaled,raw,min,max")),
        ("cmi.objectives.0.score.raw", Err(403)),
        ("cmi.objectives.0.progress_measure", Err(403)),
        ("cmi.objectives.0.description", Err(403)),
        ("cmi.interactions._count", Ok("1")),
        ("cmi.interactions.0.type", Err(403)),
        ("cmi.interactions.0.objectives._count", Ok("0")),
        ("cmi.interactions.0.correct_responses._count", Ok("0")),
        ("cmi.comments_from_learner._count", Ok("1")),
        ("cmi.comments_from_learner.0.comment", Err(403)),
        ("cmi.comments_from_learner.0.location", Ok("p2")),
    ] {
        check_get(V4, &l, &prelude, element, want);
    }
}

#[test]
fn strict_mode_enforces_spms_and_uri_identifiers() {
    let mut state = RuntimeState::new(V4, launch(), Start::New, RuntimeOptions::strict());
    state.initialize("").expect("initialize");
    assert_eq!(
        state
            .set_value("cmi.location", &"x".repeat(1001))
            .map_err(|e| e.code.0),
        Err(406)
    );
    assert_eq!(
        state
            .set_value("cmi.interactions.0.id", "has space")
            .map_err(|e| e.code.0),
        Err(406)
    );
    assert_eq!(
        state
            .set_value(
                "cmi.comments_from_learner.0.timestamp",
                "2024-05-01T10:11:12.123Z"
            )
            .map_err(|e| e.code.0),
        Err(406)
    );
    let mut third = RuntimeState::new(V3, launch(), Start::New, RuntimeOptions::strict());
    third.initialize("").expect("initialize");
    assert_eq!(
        third
            .set_value("cmi.suspend_data", &"x".repeat(4001))
            .map_err(|e| e.code.0),
        Err(406)
    );
    let mut lenient = session(V4, launch());
    lenient.initialize("").expect("initialize");
    lenient
        .set_value("cmi.location", &"x".repeat(5000))
        .expect("an SPM is a floor");
    lenient
        .set_value("cmi.interactions.0.id", "has space")
        .expect("lenient ids");
    let too_long = "x".repeat(RuntimeOptions::default().max_value_chars + 1);
    assert_eq!(
        lenient
            .set_value("cmi.suspend_data", &too_long)
            .map_err(|e| e.code.0),
        Err(351)
    );
    let few = RuntimeOptions {
        max_records: 2,
        ..RuntimeOptions::default()
    };
    let mut capped = RuntimeState::new(V4, launch(), Start::New, few);
    capped.initialize("").expect("initialize");
    capped
        .set_value("cmi.interactions.0.id", "a")
        .expect("first");
    capped
        .set_value("cmi.interactions.1.id", "b")
        .expect("second");
    assert_eq!(
        capped
            .set_value("cmi.interactions.2.id", "c")
            .map_err(|e| e.code.0),
        Err(351)
    );
}

fn evaluated(
    threshold: Option<f64>,
    passing: Option<f64>,
    version: ScormVersion,
    sets: &[(&str, &str)],
) -> (String, String) {
    let launch = LaunchData {
        completion_threshold: threshold,
        scaled_passing_score: passing,
        ..launch()
    };
    let mut state = session(version, launch);
    state.initialize("").expect("initialize");
    for (e, v) in sets {
        state.set_value(e, v).expect("set");
    }
    (
        state
            .get_value("cmi.completion_status")
            .expect("completion"),
        state.get_value("cmi.success_status").expect("success"),
    )
}

#[test]
fn status_evaluation_against_threshold_and_passing_score() {
    let pm = |v| ("cmi.progress_measure", v);
    let scaled = |v| ("cmi.score.scaled", v);
    // RTE §4.2.4.1: the measure decides when there is a threshold.
    assert_eq!(evaluated(Some(0.8), None, V4, &[pm("0.8")]).0, "completed");
    assert_eq!(
        evaluated(
            Some(0.8),
            None,
            V4,
            &[pm("0.5"), ("cmi.completion_status", "completed")]
        )
        .0,
        "incomplete"
    );
    assert_eq!(
        evaluated(
            Some(0.8),
            None,
            V4,
            &[("cmi.completion_status", "completed")]
        )
        .0,
        "unknown"
    );
    assert_eq!(
        evaluated(
            Some(0.8),
            None,
            V3,
            &[("cmi.completion_status", "completed")]
        )
        .0,
        "completed"
    );
    assert_eq!(
        evaluated(
            None,
            None,
            V4,
            &[pm("0.1"), ("cmi.completion_status", "completed")]
        )
        .0,
        "completed"
    );
    assert_eq!(evaluated(None, None, V4, &[]).0, "unknown");
    // RTE §4.2.22.1: score.scaled against the passing score.
    assert_eq!(evaluated(None, Some(0.7), V4, &[scaled("0.7")]).1, "passed");
    assert_eq!(
        evaluated(
            None,
            Some(0.7),
            V4,
            &[scaled("0.69"), ("cmi.success_status", "passed")]
        )
        .1,
        "failed"
    );
    assert_eq!(
        evaluated(None, Some(0.7), V4, &[("cmi.success_status", "passed")]).1,
        "unknown"
    );
    assert_eq!(
        evaluated(None, None, V4, &[("cmi.success_status", "failed")]).1,
        "failed"
    );
}

#[test]
fn navigation_requests_and_validity() {
    let mut state = session(V4, launch());
    let mut navigation = Navigation {
        continue_: NavValidity::True,
        previous: NavValidity::False,
        ..Navigation::default()
    };
    navigation.choice.insert("intro".into(), NavValidity::True);
    navigation.jump.insert("quiz".into(), NavValidity::False);
    state.set_navigation(navigation);
    script(
        &mut state,
        &[
            (Call::Init(""), 0),
            (Call::GetIs("adl.nav.request_valid.continue", "true"), 0),
            (Call::GetIs("adl.nav.request_valid.previous", "false"), 0),
            (
                Call::GetIs("adl.nav.request_valid.choice.{target=intro}", "true"),
                0,
            ),
            (
                Call::GetIs("adl.nav.request_valid.choice.{target=other}", "unknown"),
                0,
            ),
            (
                Call::GetIs("adl.nav.request_valid.jump.{target=quiz}", "false"),
                0,
            ),
            (Call::Set("adl.nav.request", "{target=intro}choice"), 0),
            (Call::GetIs("adl.nav.request", "{target=intro}choice"), 0),
            (Call::Term(""), 0),
        ],
    );
    assert_eq!(
        state.summary().nav_request.as_deref(),
        Some("{target=intro}choice")
    );
    let mut third = session(V3, launch());
    third.initialize("").expect("initialize");
    assert_eq!(
        third
            .set_value("adl.nav.request", "{target=intro}jump")
            .map_err(|e| e.code.0),
        Err(406)
    );
}

#[test]
fn shared_data_buckets() {
    let shared = vec![
        SharedData {
            id: "notes".into(),
            store: Some("hello".into()),
            readable: true,
            writable: true,
        },
        SharedData {
            id: "scores".into(),
            store: None,
            readable: true,
            writable: false,
        },
        SharedData {
            id: "drop".into(),
            store: None,
            readable: false,
            writable: true,
        },
    ];
    let mut state = session(
        V4,
        LaunchData {
            shared_data: shared,
            ..launch()
        },
    );
    script(
        &mut state,
        &[
            (Call::Init(""), 0),
            (Call::GetIs("adl.data._count", "3"), 0),
            (Call::GetIs("adl.data.0.id", "notes"), 0),
            (Call::GetIs("adl.data.0.store", "hello"), 0),
            (Call::Set("adl.data.0.store", "updated"), 0),
            (Call::GetIs("adl.data.0.store", "updated"), 0),
            (Call::Set("adl.data.0.id", "renamed"), 404),
            (Call::Get("adl.data.1.store"), 403),
            (Call::Set("adl.data.1.store", "x"), 404),
            (Call::Get("adl.data.2.store"), 405),
            (Call::Set("adl.data.2.store", "x"), 0),
            (Call::Set("adl.data.3.store", "x"), 351),
            (Call::Set("adl.data.3.id", "new"), 404),
        ],
    );
}

#[test]
fn launch_data_from_the_manifest() {
    let (xml, _) = helpers::scorm2004_sequencing();
    let (manifest, _) = parse_manifest(xml.as_bytes(), &XmlLimits::default());
    let item = manifest.item("pretest").expect("pretest");
    let launch = LaunchData::for_item(&manifest, item, "urn:example:learner:7", "Grace");
    assert_eq!(launch.completion_threshold, Some(0.75));
    assert_eq!(launch.scaled_passing_score, Some(0.8));
    assert_eq!(launch.max_time_allowed.as_deref(), Some("PT1H"));
    assert_eq!(launch.objective_ids, ["obj_pretest", "obj_extra"]);
    let mut state = session(V4, launch);
    script(
        &mut state,
        &[
            (Call::Init(""), 0),
            (Call::GetIs("cmi.launch_data", "mode=pretest"), 0),
            (Call::GetIs("cmi.completion_threshold", "0.75"), 0),
            (Call::GetIs("cmi.scaled_passing_score", "0.8"), 0),
            (Call::GetIs("cmi.max_time_allowed", "PT1H"), 0),
            (
                Call::GetIs("cmi.time_limit_action", "continue,no message"),
                0,
            ),
            (Call::GetIs("cmi.objectives._count", "2"), 0),
            (Call::GetIs("cmi.objectives.1.id", "obj_extra"), 0),
            (Call::Set("cmi.objectives.0.id", "obj_pretest"), 0),
            (Call::Set("cmi.objectives.2.id", "obj_pretest"), 351),
            (Call::GetIs("adl.data.0.id", "com.example.notes"), 0),
        ],
    );
}

fn first_session() -> (RuntimeState, CommitPayload) {
    let mut state = session(V4, launch());
    state.initialize("").expect("initialize");
    for (e, v) in [
        ("cmi.location", "page-9"),
        ("cmi.suspend_data", "{\"v\":1}"),
        ("cmi.interactions.0.id", "q1"),
        ("cmi.interactions.0.type", "choice"),
        ("cmi.interactions.0.correct_responses.0.pattern", "a"),
        ("cmi.interactions.0.learner_response", "b"),
        ("cmi.interactions.0.result", "incorrect"),
        ("cmi.objectives.0.id", "obj1"),
        ("cmi.objectives.0.success_status", "failed"),
        ("cmi.score.scaled", "0.4"),
        ("cmi.progress_measure", "0.6"),
        ("cmi.completion_status", "incomplete"),
        ("cmi.exit", "suspend"),
        ("cmi.session_time", "PT20M"),
    ] {
        state.set_value(e, v).expect("set");
    }
    let payload = state.terminate("").expect("terminate");
    (state, payload)
}

#[test]
fn commit_payloads_and_summary() {
    let mut state = session(V4, launch());
    state.initialize("").expect("initialize");
    state.set_value("cmi.location", "a").expect("set");
    let first = state.commit("").expect("commit");
    state.set_value("cmi.location", "b").expect("set");
    let second = state.commit("").expect("commit");
    assert_eq!((first.sequence, second.sequence), (1, 2));
    assert!(!second.terminated);
    assert_eq!(second.values.len(), 1);
    assert_eq!(second.values[0].value, "b");

    let (state, payload) = first_session();
    assert!(payload.terminated);
    assert_eq!(payload.sequence, 1);
    let summary = state.summary();
    assert_eq!(summary.completion, CompletionStatus::Incomplete);
    assert_eq!(summary.success, SuccessStatus::Unknown);
    assert_eq!(summary.score.scaled, Some(0.4));
    assert_eq!(summary.progress_measure, Some(0.6));
    assert_eq!(summary.session_time, Some(120_000));
    assert_eq!(summary.total_time, 120_000);
    assert!(summary.suspended);
    let json = serde_json::to_value(&payload).expect("json");
    assert_eq!(json["data_model"], "Scorm2004");
    assert_eq!(
        json["values"][0],
        serde_json::json!({"element": "cmi.location", "value": "page-9"})
    );
    let back: CommitPayload = serde_json::from_value(json).expect("deserialize");
    assert_eq!(back, payload);
}

#[test]
fn resume_restores_the_attempt() {
    let (first, payload) = first_session();
    let prior = PriorAttempt {
        payload,
        total_time: first.summary().total_time,
    };
    let mut second = RuntimeState::new(
        V4,
        launch(),
        Start::Resume(prior),
        RuntimeOptions::default(),
    );
    script(
        &mut second,
        &[
            (Call::Init(""), 0),
            (Call::GetIs("cmi.entry", "resume"), 0),
            (Call::GetIs("cmi.location", "page-9"), 0),
            (Call::GetIs("cmi.suspend_data", "{\"v\":1}"), 0),
            (Call::GetIs("cmi.total_time", "PT0H20M0S"), 0),
            (Call::GetIs("cmi.interactions._count", "1"), 0),
            (Call::GetIs("cmi.interactions.0.learner_response", "b"), 0),
            (Call::GetIs("cmi.objectives.0.success_status", "failed"), 0),
            (Call::GetIs("adl.nav.request", "_none_"), 0),
            (Call::Set("cmi.interactions.1.id", "q2"), 0),
            (Call::Set("cmi.session_time", "PT5M"), 0),
            (Call::Set("cmi.exit", "normal"), 0),
            (Call::Term(""), 0),
        ],
    );
    let summary = second.summary();
    assert_eq!(summary.total_time, 150_000);
    assert_eq!(summary.entry, "resume");
    assert!(!summary.suspended);
}

#[test]
fn the_next_start_follows_the_exit() {
    let (first, payload) = first_session();
    let total_time = first.summary().total_time;
    let prior = |payload: CommitPayload| PriorAttempt {
        payload,
        total_time,
    };
    assert!(matches!(
        Start::after(V4, prior(payload.clone())),
        Start::Resume(_)
    ));
    let mut normal = payload.clone();
    normal.values.retain(|v| v.element != "cmi.exit");
    assert_eq!(Start::after(V4, prior(normal.clone())), Start::New);
    assert!(matches!(
        Start::after(ScormVersion::Scorm12, prior(normal.clone())),
        Start::Continue(_)
    ));
    // A window closed without Terminate counts as a suspend.
    let closed = CommitPayload {
        terminated: false,
        ..normal
    };
    assert!(matches!(Start::after(V4, prior(closed)), Start::Resume(_)));
}

#[test]
fn the_server_replays_and_refuses_tampering() {
    let (state, payload) = first_session();
    let replayed = replay(
        V4,
        launch(),
        Start::New,
        RuntimeOptions::default(),
        &payload,
    )
    .expect("replay");
    assert_eq!(replayed.summary(), state.summary());
    assert_eq!(replayed.commit_payload().values, payload.values);

    let mut forged = payload.clone();
    forged.values.insert(
        0,
        scorm_player::runtime::ElementValue {
            element: "cmi.learner_id".into(),
            value: "someone-else".into(),
        },
    );
    match replay(V4, launch(), Start::New, RuntimeOptions::default(), &forged) {
        Err(ReplayError::Value {
            index: 0, error, ..
        }) => assert_eq!(error.code, ErrorCode(404)),
        other => panic!("forged learner id accepted: {other:?}"),
    }
    let mut out_of_range = payload.clone();
    out_of_range
        .values
        .push(scorm_player::runtime::ElementValue {
            element: "cmi.score.scaled".into(),
            value: "7".into(),
        });
    assert!(matches!(
        replay(V4, launch(), Start::New, RuntimeOptions::default(), &out_of_range),
        Err(ReplayError::Value { error, .. }) if error.code == ErrorCode(407)
    ));
    let mut reordered = payload.clone();
    reordered.values.swap(2, 3);
    assert!(matches!(
        replay(V4, launch(), Start::New, RuntimeOptions::default(), &reordered),
        Err(ReplayError::Value { error, .. }) if error.code == ErrorCode(408)
    ));
    let wrong_model = CommitPayload {
        data_model: DataModel::Scorm12,
        ..payload
    };
    assert!(matches!(
        replay(
            V4,
            launch(),
            Start::New,
            RuntimeOptions::default(),
            &wrong_model
        ),
        Err(ReplayError::DataModel { .. })
    ));
}
