//! The SCORM 1.2 run-time data model, table-driven: each element's type, range and access,
//! the keywords, the index rules, every error code, and LMSFinish's status rules.

use scorm_player::runtime::{Credit, Mode, PriorAttempt, replay};
use scorm_player::{LaunchData, RuntimeOptions, RuntimeState, ScormVersion, Start};

use crate::helpers::{Call, SetCase, check_get, check_set, script, session};

const V: ScormVersion = ScormVersion::Scorm12;

fn launch() -> LaunchData {
    LaunchData {
        learner_id: "learner-42".into(),
        learner_name: "Lovelace, Ada".into(),
        launch_data: Some("start=3".into()),
        mastery_score: Some(80.0),
        max_time_allowed: Some("00:30:00".into()),
        ..LaunchData::default()
    }
}

#[test]
fn api_states_and_their_codes() {
    use Call::*;
    let mut state = session(V, launch());
    script(
        &mut state,
        &[
            (Get("cmi.core.student_id"), 301),
            (Set("cmi.core.lesson_location", "p1"), 301),
            (Commit(""), 301),
            (Term(""), 301),
            (Init("x"), 201),
            (Init(""), 0),
            (Init(""), 101),
            (Commit("x"), 201),
            (Commit(""), 0),
            (Term("x"), 201),
            (Get(""), 201),
            (Set("", "x"), 201),
            (Term(""), 0),
            (Get("cmi.core.student_id"), 301),
            (Set("cmi.core.lesson_location", "p1"), 301),
            (Commit(""), 301),
            (Term(""), 301),
            (Init(""), 101),
        ],
    );
    assert_eq!(
        state.error_string(scorm_player::ErrorCode(405)),
        "Incorrect data type"
    );
    assert_eq!(state.error_string(scorm_player::ErrorCode(407)), "");
    state
        .set_value("cmi.core.lesson_status", "x")
        .expect_err("terminated");
    assert!(
        state
            .diagnostic(scorm_player::ErrorCode(301))
            .contains("terminated")
    );
    assert_eq!(
        state.diagnostic(scorm_player::ErrorCode(202)),
        "Element cannot have children"
    );
}

#[test]
fn get_values_and_keywords() {
    let l = launch();
    let cases: &[(&str, Result<&str, u16>)] = &[
        ("cmi._version", Ok("3.4")),
        (
            "cmi._children",
            Ok(
                "core,suspend_data,launch_data,comments,objectives,student_data,student_preference,interactions",
            ),
        ),
        (
            "cmi.core._children",
            Ok(
                "student_id,student_name,lesson_location,credit,lesson_status,entry,score,total_time,lesson_mode,exit,session_time",
            ),
        ),
        ("cmi.core.score._children", Ok("raw,min,max")),
        ("cmi.objectives._children", Ok("id,score,status")),
        (
            "cmi.student_data._children",
            Ok("mastery_score,max_time_allowed,time_limit_action"),
        ),
        (
            "cmi.student_preference._children",
            Ok("audio,language,speed,text"),
        ),
        (
            "cmi.interactions._children",
            Ok(
                "id,objectives,time,type,correct_responses,weighting,student_response,result,latency",
            ),
        ),
        ("cmi.objectives._count", Ok("0")),
        ("cmi.interactions._count", Ok("0")),
        ("cmi.core.student_id", Ok("learner-42")),
        ("cmi.core.student_name", Ok("Lovelace, Ada")),
        ("cmi.core.lesson_location", Ok("")),
        ("cmi.core.credit", Ok("credit")),
        ("cmi.core.lesson_status", Ok("not attempted")),
        ("cmi.core.entry", Ok("ab-initio")),
        ("cmi.core.score.raw", Ok("")),
        ("cmi.core.total_time", Ok("0000:00:00.00")),
        ("cmi.core.lesson_mode", Ok("normal")),
        ("cmi.suspend_data", Ok("")),
        ("cmi.launch_data", Ok("start=3")),
        ("cmi.comments", Ok("")),
        ("cmi.comments_from_lms", Ok("")),
        ("cmi.student_data.mastery_score", Ok("80")),
        ("cmi.student_data.max_time_allowed", Ok("00:30:00")),
        (
            "cmi.student_data.time_limit_action",
            Ok("continue,no message"),
        ),
        ("cmi.student_preference.audio", Ok("0")),
        ("cmi.student_preference.language", Ok("")),
        ("cmi.student_preference.speed", Ok("0")),
        ("cmi.student_preference.text", Ok("0")),
        // write-only
        ("cmi.core.exit", Err(404)),
        ("cmi.core.session_time", Err(404)),
        ("cmi.interactions.0.id", Err(404)),
        ("cmi.interactions.0.correct_responses.0.pattern", Err(404)),
        // keywords where they do not belong
        ("cmi.core.student_id._children", Err(202)),
        ("cmi.objectives.0._children", Err(202)),
        ("cmi.core._count", Err(203)),
        ("cmi.core.score._count", Err(203)),
        ("cmi.core._version", Err(201)),
        // undefined, unimplemented, out of range
        ("cmi.core.bogus", Err(201)),
        ("cmi.learner_id", Err(201)),
        ("cmi.completion_status", Err(201)),
        ("cmi.objectives.0.id", Err(201)),
        ("cmi.objectives.01.id", Err(201)),
        ("cmi.objectives.x.id", Err(201)),
        ("cmi.bogus._children", Err(201)),
        ("cmi.evaluation.comments", Err(401)),
        ("cmi.student_demographics.city", Err(401)),
    ];
    for (element, want) in cases {
        check_get(V, &l, &[], element, *want);
    }
}

#[test]
fn set_values_types_ranges_and_access() {
    let l = launch();
    let long255 = "x".repeat(255);
    let long4096 = "y".repeat(4096);
    let huge = "z".repeat(70_000);
    let interaction = [("cmi.interactions.0.id", "q1")];
    let objective = [("cmi.objectives.0.id", "obj1")];
    let cases: &[SetCase<'_>] = &[
        (&[], "cmi.core.lesson_location", "page-3", 0),
        (&[], "cmi.core.lesson_location", &long255, 0),
        (&[], "cmi.core.lesson_status", "passed", 0),
        (&[], "cmi.core.lesson_status", "completed", 0),
        (&[], "cmi.core.lesson_status", "failed", 0),
        (&[], "cmi.core.lesson_status", "incomplete", 0),
        (&[], "cmi.core.lesson_status", "browsed", 0),
        (&[], "cmi.core.lesson_status", "not attempted", 405),
        (&[], "cmi.core.lesson_status", "Passed", 405),
        (&[], "cmi.core.lesson_status", "", 405),
        (&[], "cmi.core.score.raw", "85", 0),
        (&[], "cmi.core.score.raw", "85.5", 0),
        (&[], "cmi.core.score.raw", "", 0),
        (&[], "cmi.core.score.raw", "0", 0),
        (&[], "cmi.core.score.raw", "100", 0),
        (&[], "cmi.core.score.raw", "100.01", 405),
        (&[], "cmi.core.score.raw", "-1", 405),
        (&[], "cmi.core.score.raw", "eighty", 405),
        (&[], "cmi.core.score.raw", "1e2", 405),
        (&[], "cmi.core.score.min", "0", 0),
        (&[], "cmi.core.score.max", "100", 0),
        (&[], "cmi.core.score.max", "200", 405),
        (&[], "cmi.core.exit", "time-out", 0),
        (&[], "cmi.core.exit", "suspend", 0),
        (&[], "cmi.core.exit", "logout", 0),
        (&[], "cmi.core.exit", "", 0),
        (&[], "cmi.core.exit", "normal", 405),
        (&[], "cmi.core.session_time", "0000:10:00.00", 0),
        (&[], "cmi.core.session_time", "00:10:00", 0),
        (&[], "cmi.core.session_time", "9999:59:59.99", 0),
        (&[], "cmi.core.session_time", "PT10M", 405),
        (&[], "cmi.core.session_time", "00:61:00", 405),
        (&[], "cmi.core.session_time", "0:10:00", 405),
        (&[], "cmi.suspend_data", &long4096, 0),
        (&[], "cmi.suspend_data", &huge, 0),
        (&[], "cmi.comments", "Nice course", 0),
        (&[], "cmi.student_preference.audio", "-1", 0),
        (&[], "cmi.student_preference.audio", "100", 0),
        (&[], "cmi.student_preference.audio", "101", 405),
        (&[], "cmi.student_preference.audio", "-2", 405),
        (&[], "cmi.student_preference.audio", "1.5", 405),
        (&[], "cmi.student_preference.language", "fr", 0),
        (&[], "cmi.student_preference.speed", "-100", 0),
        (&[], "cmi.student_preference.speed", "101", 405),
        (&[], "cmi.student_preference.text", "1", 0),
        (&[], "cmi.student_preference.text", "2", 405),
        // read-only
        (&[], "cmi.core.student_id", "x", 403),
        (&[], "cmi.core.student_name", "x", 403),
        (&[], "cmi.core.credit", "credit", 403),
        (&[], "cmi.core.entry", "resume", 403),
        (&[], "cmi.core.total_time", "00:00:01", 403),
        (&[], "cmi.core.lesson_mode", "normal", 403),
        (&[], "cmi.launch_data", "x", 403),
        (&[], "cmi.comments_from_lms", "x", 403),
        (&[], "cmi.student_data.mastery_score", "50", 403),
        (&[], "cmi.student_data.max_time_allowed", "00:01:00", 403),
        (
            &[],
            "cmi.student_data.time_limit_action",
            "exit,message",
            403,
        ),
        // keywords
        (&[], "cmi._version", "3.4", 402),
        (&[], "cmi.core._children", "x", 402),
        (&[], "cmi.objectives._count", "1", 402),
        (&[], "cmi.core.student_id._children", "x", 402),
        (&[], "cmi.core._count", "1", 402),
        // undefined and unimplemented
        (&[], "cmi.core.bogus", "x", 201),
        (&[], "cmi.location", "x", 201),
        (&[], "cmi.evaluation.comments", "x", 401),
        // objectives: records in order, any field creates the next
        (&[], "cmi.objectives.0.id", "obj1", 0),
        (&[], "cmi.objectives.0.id", "obj 1", 405),
        (&[], "cmi.objectives.1.id", "obj2", 201),
        (&[], "cmi.objectives.0.score.raw", "50", 0),
        (&objective, "cmi.objectives.1.id", "obj2", 0),
        (&objective, "cmi.objectives.0.status", "not attempted", 0),
        (&objective, "cmi.objectives.0.status", "done", 405),
        (&objective, "cmi.objectives.0.score.max", "100", 0),
        (&objective, "cmi.objectives.0.score.min", "-5", 405),
        (&objective, "cmi.objectives.2.status", "passed", 201),
        // interactions: write-only, in order
        (&[], "cmi.interactions.0.id", "q1", 0),
        (&[], "cmi.interactions.1.id", "q2", 201),
        (&interaction, "cmi.interactions.0.type", "choice", 0),
        (&interaction, "cmi.interactions.0.type", "long-fill-in", 405),
        (&interaction, "cmi.interactions.0.time", "12:30:00", 0),
        (&interaction, "cmi.interactions.0.time", "12:30:00.5", 0),
        (&interaction, "cmi.interactions.0.time", "24:00:00", 405),
        (&interaction, "cmi.interactions.0.time", "12:30", 405),
        (&interaction, "cmi.interactions.0.weighting", "1.5", 0),
        (&interaction, "cmi.interactions.0.weighting", "-2", 0),
        (&interaction, "cmi.interactions.0.weighting", "heavy", 405),
        (
            &interaction,
            "cmi.interactions.0.student_response",
            "a,b",
            0,
        ),
        (&interaction, "cmi.interactions.0.result", "correct", 0),
        (&interaction, "cmi.interactions.0.result", "wrong", 0),
        (
            &interaction,
            "cmi.interactions.0.result",
            "unanticipated",
            0,
        ),
        (&interaction, "cmi.interactions.0.result", "neutral", 0),
        (&interaction, "cmi.interactions.0.result", "0.75", 0),
        (&interaction, "cmi.interactions.0.result", "incorrect", 405),
        (&interaction, "cmi.interactions.0.latency", "00:00:05.5", 0),
        (&interaction, "cmi.interactions.0.latency", "5s", 405),
        (
            &interaction,
            "cmi.interactions.0.objectives.0.id",
            "obj1",
            0,
        ),
        (
            &interaction,
            "cmi.interactions.0.objectives.1.id",
            "obj1",
            201,
        ),
        (
            &interaction,
            "cmi.interactions.0.correct_responses.0.pattern",
            "a",
            0,
        ),
        (
            &interaction,
            "cmi.interactions.1.objectives.0.id",
            "obj1",
            201,
        ),
        (&[], "cmi.interactions.0.objectives.0.id", "obj1", 201),
    ];
    for (prelude, element, value, code) in cases {
        check_set(V, &l, prelude, element, value, *code);
    }
}

#[test]
fn strict_mode_enforces_the_spec_sizes() {
    let mut state = RuntimeState::new(V, launch(), Start::New, RuntimeOptions::strict());
    state.initialize("").expect("initialize");
    assert_eq!(
        state
            .set_value("cmi.suspend_data", &"x".repeat(4097))
            .map_err(|e| e.code.0),
        Err(405)
    );
    assert_eq!(
        state
            .set_value("cmi.core.lesson_location", &"x".repeat(256))
            .map_err(|e| e.code.0),
        Err(405)
    );
    state.set_value("cmi.interactions.0.id", "q1").expect("id");
    assert_eq!(
        state
            .set_value("cmi.interactions.0.student_response", &"x".repeat(256))
            .map_err(|e| e.code.0),
        Err(405)
    );
    let mut lenient = session(V, launch());
    lenient.initialize("").expect("initialize");
    lenient
        .set_value("cmi.suspend_data", &"x".repeat(100_000))
        .expect("lenient accepts large suspend_data");
    let too_long = "x".repeat(RuntimeOptions::default().max_value_chars + 1);
    assert_eq!(
        lenient
            .set_value("cmi.suspend_data", &too_long)
            .map_err(|e| e.code.0),
        Err(405)
    );
}

#[test]
fn counts_follow_the_records() {
    use Call::*;
    let mut state = session(V, launch());
    script(
        &mut state,
        &[
            (Init(""), 0),
            (Set("cmi.interactions.0.id", "q1"), 0),
            (Set("cmi.interactions.0.objectives.0.id", "o1"), 0),
            (Set("cmi.interactions.0.objectives.1.id", "o2"), 0),
            (
                Set("cmi.interactions.0.correct_responses.0.pattern", "a"),
                0,
            ),
            (Set("cmi.interactions.1.type", "true-false"), 0),
            (GetIs("cmi.interactions._count", "2"), 0),
            (GetIs("cmi.interactions.0.objectives._count", "2"), 0),
            (GetIs("cmi.interactions.0.correct_responses._count", "1"), 0),
            (GetIs("cmi.interactions.1.objectives._count", "0"), 0),
            (GetIs("cmi.interactions.0.objectives._children", "id"), 0),
            (Get("cmi.interactions.5.objectives._count"), 201),
            (Set("cmi.objectives.0.score.raw", "10"), 0),
            (GetIs("cmi.objectives.0.id", ""), 0),
            (GetIs("cmi.objectives.0.score.raw", "10"), 0),
            (GetIs("cmi.objectives.0.score._children", "raw,min,max"), 0),
            (GetIs("cmi.objectives.0.status", "not attempted"), 0),
            (GetIs("cmi.objectives._count", "1"), 0),
        ],
    );
}

fn finish(launch: LaunchData, sets: &[(&str, &str)]) -> String {
    let mut state = session(V, launch);
    state.initialize("").expect("initialize");
    for (e, v) in sets {
        state.set_value(e, v).expect("set");
    }
    state.terminate("").expect("terminate");
    state.summary().lesson_status.expect("1.2 status")
}

#[test]
fn lms_finish_decides_status() {
    // Mastery score with credit: the raw score decides.
    assert_eq!(finish(launch(), &[("cmi.core.score.raw", "85")]), "passed");
    assert_eq!(
        finish(
            launch(),
            &[
                ("cmi.core.score.raw", "79"),
                ("cmi.core.lesson_status", "completed")
            ]
        ),
        "failed"
    );
    // Without credit the SCO's status stands.
    let no_credit = LaunchData {
        credit: Credit::NoCredit,
        ..launch()
    };
    assert_eq!(
        finish(
            no_credit,
            &[
                ("cmi.core.score.raw", "10"),
                ("cmi.core.lesson_status", "incomplete")
            ]
        ),
        "incomplete"
    );
    // Never set: completed, or browsed in browse mode.
    assert_eq!(finish(launch(), &[]), "completed");
    assert_eq!(
        finish(
            LaunchData {
                mode: Mode::Browse,
                ..launch()
            },
            &[]
        ),
        "browsed"
    );
    assert_eq!(
        finish(
            LaunchData {
                mastery_score: None,
                ..launch()
            },
            &[("cmi.core.lesson_status", "incomplete")]
        ),
        "incomplete"
    );
}

#[test]
fn suspend_and_resume() {
    let mut first = session(V, launch());
    first.initialize("").expect("initialize");
    for (e, v) in [
        ("cmi.core.lesson_location", "page-7"),
        ("cmi.suspend_data", "A1B2"),
        ("cmi.core.lesson_status", "incomplete"),
        ("cmi.interactions.0.id", "q1"),
        ("cmi.core.exit", "suspend"),
        ("cmi.core.session_time", "00:12:30"),
    ] {
        first.set_value(e, v).expect("set");
    }
    let payload = first.terminate("").expect("terminate");
    let summary = first.summary();
    assert!(summary.suspended);
    assert_eq!(summary.total_time, 75_000);

    let prior = PriorAttempt {
        payload: payload.clone(),
        total_time: summary.total_time,
    };
    let mut second = RuntimeState::new(
        V,
        launch(),
        Start::Resume(prior.clone()),
        RuntimeOptions::default(),
    );
    script(
        &mut second,
        &[
            (Call::Init(""), 0),
            (Call::GetIs("cmi.core.entry", "resume"), 0),
            (Call::GetIs("cmi.core.lesson_location", "page-7"), 0),
            (Call::GetIs("cmi.suspend_data", "A1B2"), 0),
            (Call::GetIs("cmi.core.lesson_status", "incomplete"), 0),
            (Call::GetIs("cmi.core.total_time", "0000:12:30.00"), 0),
            (Call::GetIs("cmi.interactions._count", "1"), 0),
            (Call::Set("cmi.core.session_time", "00:02:30"), 0),
            (Call::Term(""), 0),
        ],
    );
    let summary = second.summary();
    assert_eq!(summary.total_time, 90_000);
    assert_eq!(
        summary.exit, None,
        "exit belongs to the session that set it"
    );

    let continued = RuntimeState::new(
        V,
        launch(),
        Start::Continue(prior),
        RuntimeOptions::default(),
    );
    assert_eq!(continued.summary().entry, "");

    // The server replays what the browser sent and gets the same answer.
    let replayed =
        replay(V, launch(), Start::New, RuntimeOptions::default(), &payload).expect("replay");
    assert_eq!(replayed.summary(), first.summary());
}
