//! The two data models as tables: every element with its access and type, the collections
//! with their `_children` and creation rules, the groups with `_children`, and the vocabularies.
//! The state machine in `state.rs` interprets these tables; it knows no element by name except
//! the few whose value the LMS computes.
//!
//! Sources: SCORM 1.2 RTE §3.4 (data model) and SCORM 2004 3rd/4th Edition RTE §4.2.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    ReadOnly,
    WriteOnly,
    ReadWrite,
}

/// The value type of an element, i.e. which check `SetValue` applies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    // SCORM 1.2
    /// CMIString255 / CMIString4096 (a ceiling only in strict mode).
    CmiString(usize),
    /// `cmi.suspend_data`: CMIString4096 in strict mode, [`RuntimeOptions::max_value_chars`]
    /// otherwise — real content stores far more (pain point §6.2).
    SuspendData12,
    CmiIdentifier,
    /// CMIDecimal in a range, optionally CMIBlank ("").
    CmiDecimal {
        min: f64,
        max: f64,
        blank: bool,
    },
    /// CMIDecimal without range (`weighting`).
    CmiDecimalAny,
    CmiSInteger {
        min: i64,
        max: i64,
    },
    CmiTimespan,
    CmiTime,
    /// CMIFeedback: at most 255 characters in strict mode.
    CmiFeedback,
    /// `cmi.interactions.n.result` in 1.2: a vocabulary or a CMIDecimal.
    Result12,
    /// A closed vocabulary, refused values are type mismatches.
    Vocabulary(&'static [&'static str]),

    // SCORM 2004
    /// characterstring with its SPM.
    CharString(usize),
    /// localized_string_type with its SPM.
    Localized(usize),
    /// long_identifier_type (SPM 4000).
    LongIdentifier,
    /// real(10,7) with an optional range.
    Real {
        min: Option<f64>,
        max: Option<f64>,
    },
    TimeInterval,
    Time,
    /// language_type, "" allowed.
    Language,
    /// `cmi.interactions.n.result` in 2004.
    Result2004,
    /// `cmi.interactions.n.correct_responses.n.pattern`, by interaction type.
    Pattern,
    /// `cmi.interactions.n.learner_response`, by interaction type.
    LearnerResponse,
    /// `adl.nav.request`.
    NavRequest,
    /// `cmi.learner_preference.audio_captioning`: -1, 0, 1.
    Captioning,
}

/// What `GetValue` answers for an element nobody set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Initial {
    /// SCORM 1.2: "" ; SCORM 2004: error 403 (RTE §3.1.7.x, ADL DMB).
    Unset,
    /// A default value.
    Value(&'static str),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Def {
    pub path: &'static str,
    pub access: Access,
    pub kind: Kind,
    pub initial: Initial,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Collection {
    pub path: &'static str,
    /// The `_children` keyword's value, if the collection has one.
    pub children: Option<&'static str>,
    /// The field that creates a record; `None`: any field does (SCORM 2004 §4.2 dependencies:
    /// `id` before anything else of an interaction or objective, else 408).
    pub created_by: Option<&'static str>,
    /// Whether the SCO can add records (not `comments_from_lms` nor `adl.data`).
    pub writable: bool,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Group {
    pub path: &'static str,
    pub children: &'static str,
}

#[derive(Debug)]
pub(crate) struct Model {
    pub version: &'static str,
    pub defs: &'static [Def],
    pub collections: &'static [Collection],
    pub groups: &'static [Group],
    /// Element families that exist in the wider data model but not in this implementation:
    /// SCORM 1.2 answers 401 "not implemented" for the AICC CMI groups SCORM 1.2 left out.
    pub unimplemented: &'static [&'static str],
}

use Access::{ReadOnly as RO, ReadWrite as RW, WriteOnly as WO};
use Initial::{Unset, Value};

const fn def(path: &'static str, access: Access, kind: Kind, initial: Initial) -> Def {
    Def {
        path,
        access,
        kind,
        initial,
    }
}

// ---------------------------------------------------------------------------------------------
// Vocabularies

pub(crate) const LESSON_STATUS_SET: &[&str] =
    &["passed", "completed", "failed", "incomplete", "browsed"];
pub(crate) const OBJECTIVE_STATUS_12: &[&str] = &[
    "passed",
    "completed",
    "failed",
    "incomplete",
    "browsed",
    "not attempted",
];
pub(crate) const EXIT_12: &[&str] = &["time-out", "suspend", "logout", ""];
pub(crate) const INTERACTION_TYPES_12: &[&str] = &[
    "true-false",
    "choice",
    "fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
];
pub(crate) const RESULT_12: &[&str] = &["correct", "wrong", "unanticipated", "neutral"];
pub(crate) const COMPLETION_STATUS: &[&str] =
    &["completed", "incomplete", "not attempted", "unknown"];
pub(crate) const SUCCESS_STATUS: &[&str] = &["passed", "failed", "unknown"];
pub(crate) const EXIT_2004: &[&str] = &["time-out", "suspend", "logout", "normal", ""];
pub(crate) const RESULT_2004: &[&str] = &["correct", "incorrect", "unanticipated", "neutral"];
pub(crate) const NAV_REQUESTS: &[&str] = &[
    "continue",
    "previous",
    "exit",
    "exitAll",
    "abandon",
    "abandonAll",
    "suspendAll",
    "_none_",
];
/// Read-only vocabularies the LMS fills in; listed for completeness of the tables.
pub(crate) const CREDIT: &[&str] = &["credit", "no-credit"];
pub(crate) const ENTRY: &[&str] = &["ab-initio", "resume", ""];
pub(crate) const MODE: &[&str] = &["normal", "browse", "review"];

// ---------------------------------------------------------------------------------------------
// SCORM 1.2 (RTE 1.2 §3.4)

pub(crate) static SCORM12: Model = Model {
    version: "3.4",
    defs: &[
        def("cmi.core.student_id", RO, Kind::CmiIdentifier, Unset),
        def("cmi.core.student_name", RO, Kind::CmiString(255), Unset),
        def("cmi.core.lesson_location", RW, Kind::CmiString(255), Unset),
        def(
            "cmi.core.credit",
            RO,
            Kind::Vocabulary(CREDIT),
            Value("credit"),
        ),
        def(
            "cmi.core.lesson_status",
            RW,
            Kind::Vocabulary(LESSON_STATUS_SET),
            Value("not attempted"),
        ),
        def(
            "cmi.core.entry",
            RO,
            Kind::Vocabulary(ENTRY),
            Value("ab-initio"),
        ),
        def(
            "cmi.core.score.raw",
            RW,
            Kind::CmiDecimal {
                min: 0.0,
                max: 100.0,
                blank: true,
            },
            Unset,
        ),
        def(
            "cmi.core.score.min",
            RW,
            Kind::CmiDecimal {
                min: 0.0,
                max: 100.0,
                blank: true,
            },
            Unset,
        ),
        def(
            "cmi.core.score.max",
            RW,
            Kind::CmiDecimal {
                min: 0.0,
                max: 100.0,
                blank: true,
            },
            Unset,
        ),
        def(
            "cmi.core.total_time",
            RO,
            Kind::CmiTimespan,
            Value("0000:00:00.00"),
        ),
        def(
            "cmi.core.lesson_mode",
            RO,
            Kind::Vocabulary(MODE),
            Value("normal"),
        ),
        def("cmi.core.exit", WO, Kind::Vocabulary(EXIT_12), Unset),
        def("cmi.core.session_time", WO, Kind::CmiTimespan, Unset),
        def("cmi.suspend_data", RW, Kind::SuspendData12, Unset),
        def("cmi.launch_data", RO, Kind::CmiString(4096), Unset),
        def("cmi.comments", RW, Kind::CmiString(4096), Unset),
        def("cmi.comments_from_lms", RO, Kind::CmiString(4096), Unset),
        def("cmi.objectives.n.id", RW, Kind::CmiIdentifier, Unset),
        def(
            "cmi.objectives.n.score.raw",
            RW,
            Kind::CmiDecimal {
                min: 0.0,
                max: 100.0,
                blank: true,
            },
            Unset,
        ),
        def(
            "cmi.objectives.n.score.min",
            RW,
            Kind::CmiDecimal {
                min: 0.0,
                max: 100.0,
                blank: true,
            },
            Unset,
        ),
        def(
            "cmi.objectives.n.score.max",
            RW,
            Kind::CmiDecimal {
                min: 0.0,
                max: 100.0,
                blank: true,
            },
            Unset,
        ),
        def(
            "cmi.objectives.n.status",
            RW,
            Kind::Vocabulary(OBJECTIVE_STATUS_12),
            Value("not attempted"),
        ),
        def(
            "cmi.student_data.mastery_score",
            RO,
            Kind::CmiDecimal {
                min: 0.0,
                max: 100.0,
                blank: true,
            },
            Unset,
        ),
        def(
            "cmi.student_data.max_time_allowed",
            RO,
            Kind::CmiTimespan,
            Unset,
        ),
        def(
            "cmi.student_data.time_limit_action",
            RO,
            Kind::CmiString(255),
            Value("continue,no message"),
        ),
        def(
            "cmi.student_preference.audio",
            RW,
            Kind::CmiSInteger { min: -1, max: 100 },
            Value("0"),
        ),
        def(
            "cmi.student_preference.language",
            RW,
            Kind::CmiString(255),
            Unset,
        ),
        def(
            "cmi.student_preference.speed",
            RW,
            Kind::CmiSInteger {
                min: -100,
                max: 100,
            },
            Value("0"),
        ),
        def(
            "cmi.student_preference.text",
            RW,
            Kind::CmiSInteger { min: -1, max: 1 },
            Value("0"),
        ),
        def("cmi.interactions.n.id", WO, Kind::CmiIdentifier, Unset),
        def(
            "cmi.interactions.n.objectives.n.id",
            WO,
            Kind::CmiIdentifier,
            Unset,
        ),
        def("cmi.interactions.n.time", WO, Kind::CmiTime, Unset),
        def(
            "cmi.interactions.n.type",
            WO,
            Kind::Vocabulary(INTERACTION_TYPES_12),
            Unset,
        ),
        def(
            "cmi.interactions.n.correct_responses.n.pattern",
            WO,
            Kind::CmiFeedback,
            Unset,
        ),
        def(
            "cmi.interactions.n.weighting",
            WO,
            Kind::CmiDecimalAny,
            Unset,
        ),
        def(
            "cmi.interactions.n.student_response",
            WO,
            Kind::CmiFeedback,
            Unset,
        ),
        def("cmi.interactions.n.result", WO, Kind::Result12, Unset),
        def("cmi.interactions.n.latency", WO, Kind::CmiTimespan, Unset),
    ],
    collections: &[
        Collection {
            path: "cmi.objectives",
            children: Some("id,score,status"),
            created_by: None,
            writable: true,
        },
        Collection {
            path: "cmi.interactions",
            children: Some(
                "id,objectives,time,type,correct_responses,weighting,student_response,result,latency",
            ),
            created_by: None,
            writable: true,
        },
        Collection {
            path: "cmi.interactions.n.objectives",
            children: Some("id"),
            created_by: None,
            writable: true,
        },
        Collection {
            path: "cmi.interactions.n.correct_responses",
            children: Some("pattern"),
            created_by: None,
            writable: true,
        },
    ],
    groups: &[
        Group {
            path: "cmi",
            children: "core,suspend_data,launch_data,comments,objectives,student_data,student_preference,interactions",
        },
        Group {
            path: "cmi.core",
            children: "student_id,student_name,lesson_location,credit,lesson_status,entry,score,total_time,lesson_mode,exit,session_time",
        },
        Group {
            path: "cmi.core.score",
            children: "raw,min,max",
        },
        Group {
            path: "cmi.objectives.n.score",
            children: "raw,min,max",
        },
        Group {
            path: "cmi.student_data",
            children: "mastery_score,max_time_allowed,time_limit_action",
        },
        Group {
            path: "cmi.student_preference",
            children: "audio,language,speed,text",
        },
    ],
    unimplemented: &[
        "cmi.evaluation",
        "cmi.paths",
        "cmi.student_demographics",
        "cmi.core.output_file",
    ],
};

// ---------------------------------------------------------------------------------------------
// SCORM 2004 (RTE 3rd/4th Edition §4.2)

pub(crate) static SCORM2004: Model = Model {
    version: "1.0",
    defs: &[
        def(
            "cmi.comments_from_learner.n.comment",
            RW,
            Kind::Localized(4000),
            Unset,
        ),
        def(
            "cmi.comments_from_learner.n.location",
            RW,
            Kind::CharString(250),
            Unset,
        ),
        def(
            "cmi.comments_from_learner.n.timestamp",
            RW,
            Kind::Time,
            Unset,
        ),
        def(
            "cmi.comments_from_lms.n.comment",
            RO,
            Kind::Localized(4000),
            Unset,
        ),
        def(
            "cmi.comments_from_lms.n.location",
            RO,
            Kind::CharString(250),
            Unset,
        ),
        def("cmi.comments_from_lms.n.timestamp", RO, Kind::Time, Unset),
        def(
            "cmi.completion_status",
            RW,
            Kind::Vocabulary(COMPLETION_STATUS),
            Value("unknown"),
        ),
        def(
            "cmi.completion_threshold",
            RO,
            Kind::Real {
                min: Some(0.0),
                max: Some(1.0),
            },
            Unset,
        ),
        def("cmi.credit", RO, Kind::Vocabulary(CREDIT), Value("credit")),
        def("cmi.entry", RO, Kind::Vocabulary(ENTRY), Value("ab-initio")),
        def("cmi.exit", WO, Kind::Vocabulary(EXIT_2004), Unset),
        def("cmi.interactions.n.id", RW, Kind::LongIdentifier, Unset),
        def(
            "cmi.interactions.n.type",
            RW,
            Kind::Vocabulary(super::interaction::TYPES),
            Unset,
        ),
        def(
            "cmi.interactions.n.objectives.n.id",
            RW,
            Kind::LongIdentifier,
            Unset,
        ),
        def("cmi.interactions.n.timestamp", RW, Kind::Time, Unset),
        def(
            "cmi.interactions.n.correct_responses.n.pattern",
            RW,
            Kind::Pattern,
            Unset,
        ),
        def(
            "cmi.interactions.n.weighting",
            RW,
            Kind::Real {
                min: None,
                max: None,
            },
            Unset,
        ),
        def(
            "cmi.interactions.n.learner_response",
            RW,
            Kind::LearnerResponse,
            Unset,
        ),
        def("cmi.interactions.n.result", RW, Kind::Result2004, Unset),
        def("cmi.interactions.n.latency", RW, Kind::TimeInterval, Unset),
        def(
            "cmi.interactions.n.description",
            RW,
            Kind::Localized(250),
            Unset,
        ),
        def("cmi.launch_data", RO, Kind::CharString(4000), Unset),
        def("cmi.learner_id", RO, Kind::LongIdentifier, Unset),
        def("cmi.learner_name", RO, Kind::Localized(250), Unset),
        def(
            "cmi.learner_preference.audio_level",
            RW,
            Kind::Real {
                min: Some(0.0),
                max: None,
            },
            Value("1"),
        ),
        def(
            "cmi.learner_preference.language",
            RW,
            Kind::Language,
            Value(""),
        ),
        def(
            "cmi.learner_preference.delivery_speed",
            RW,
            Kind::Real {
                min: Some(0.0),
                max: None,
            },
            Value("1"),
        ),
        def(
            "cmi.learner_preference.audio_captioning",
            RW,
            Kind::Captioning,
            Value("0"),
        ),
        def("cmi.location", RW, Kind::CharString(1000), Unset),
        def("cmi.max_time_allowed", RO, Kind::TimeInterval, Unset),
        def("cmi.mode", RO, Kind::Vocabulary(MODE), Value("normal")),
        def("cmi.objectives.n.id", RW, Kind::LongIdentifier, Unset),
        def(
            "cmi.objectives.n.score.scaled",
            RW,
            Kind::Real {
                min: Some(-1.0),
                max: Some(1.0),
            },
            Unset,
        ),
        def(
            "cmi.objectives.n.score.raw",
            RW,
            Kind::Real {
                min: None,
                max: None,
            },
            Unset,
        ),
        def(
            "cmi.objectives.n.score.min",
            RW,
            Kind::Real {
                min: None,
                max: None,
            },
            Unset,
        ),
        def(
            "cmi.objectives.n.score.max",
            RW,
            Kind::Real {
                min: None,
                max: None,
            },
            Unset,
        ),
        def(
            "cmi.objectives.n.success_status",
            RW,
            Kind::Vocabulary(SUCCESS_STATUS),
            Value("unknown"),
        ),
        def(
            "cmi.objectives.n.completion_status",
            RW,
            Kind::Vocabulary(COMPLETION_STATUS),
            Value("unknown"),
        ),
        def(
            "cmi.objectives.n.progress_measure",
            RW,
            Kind::Real {
                min: Some(0.0),
                max: Some(1.0),
            },
            Unset,
        ),
        def(
            "cmi.objectives.n.description",
            RW,
            Kind::Localized(250),
            Unset,
        ),
        def(
            "cmi.progress_measure",
            RW,
            Kind::Real {
                min: Some(0.0),
                max: Some(1.0),
            },
            Unset,
        ),
        def(
            "cmi.scaled_passing_score",
            RO,
            Kind::Real {
                min: Some(-1.0),
                max: Some(1.0),
            },
            Unset,
        ),
        def(
            "cmi.score.scaled",
            RW,
            Kind::Real {
                min: Some(-1.0),
                max: Some(1.0),
            },
            Unset,
        ),
        def(
            "cmi.score.raw",
            RW,
            Kind::Real {
                min: None,
                max: None,
            },
            Unset,
        ),
        def(
            "cmi.score.min",
            RW,
            Kind::Real {
                min: None,
                max: None,
            },
            Unset,
        ),
        def(
            "cmi.score.max",
            RW,
            Kind::Real {
                min: None,
                max: None,
            },
            Unset,
        ),
        def("cmi.session_time", WO, Kind::TimeInterval, Unset),
        def(
            "cmi.success_status",
            RW,
            Kind::Vocabulary(SUCCESS_STATUS),
            Value("unknown"),
        ),
        def("cmi.suspend_data", RW, Kind::CharString(64000), Unset),
        def(
            "cmi.time_limit_action",
            RO,
            Kind::CharString(250),
            Value("continue,no message"),
        ),
        def("cmi.total_time", RO, Kind::TimeInterval, Value("PT0H0M0S")),
        def("adl.nav.request", RW, Kind::NavRequest, Value("_none_")),
        def("adl.data.n.id", RO, Kind::LongIdentifier, Unset),
        def("adl.data.n.store", RW, Kind::CharString(64000), Unset),
    ],
    collections: &[
        Collection {
            path: "cmi.comments_from_learner",
            children: Some("comment,location,timestamp"),
            created_by: None,
            writable: true,
        },
        Collection {
            path: "cmi.comments_from_lms",
            children: Some("comment,location,timestamp"),
            created_by: None,
            writable: false,
        },
        Collection {
            path: "cmi.interactions",
            children: Some(
                "id,type,objectives,timestamp,correct_responses,weighting,learner_response,result,latency,description",
            ),
            created_by: Some("id"),
            writable: true,
        },
        Collection {
            path: "cmi.interactions.n.objectives",
            children: None,
            created_by: Some("id"),
            writable: true,
        },
        Collection {
            path: "cmi.interactions.n.correct_responses",
            children: None,
            created_by: Some("pattern"),
            writable: true,
        },
        Collection {
            path: "cmi.objectives",
            children: Some(
                "id,score,success_status,completion_status,progress_measure,description",
            ),
            created_by: Some("id"),
            writable: true,
        },
        Collection {
            path: "adl.data",
            children: Some("id,store"),
            created_by: None,
            writable: false,
        },
    ],
    groups: &[
        Group {
            path: "cmi.learner_preference",
            children: "audio_level,language,delivery_speed,audio_captioning",
        },
        Group {
            path: "cmi.score",
            children: "scaled,raw,min,max",
        },
        Group {
            path: "cmi.objectives.n.score",
            children: "scaled,raw,min,max",
        },
    ],
    unimplemented: &[],
};

/// SCORM 2004 3rd Edition and earlier have no `adl.data` (added in the 4th Edition).
pub(crate) fn is_4th_edition_only(path: &str) -> bool {
    path.starts_with("adl.data")
}

/// The SPM of `cmi.suspend_data` before the 4th Edition raised it to 64000 (RTE 3rd Ed.).
pub(crate) const SUSPEND_DATA_SPM_3RD: usize = 4000;
