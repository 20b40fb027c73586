//! The run-time API as a state machine over the data-model tables: `Initialize`, `GetValue`,
//! `SetValue`, `Commit`, `Terminate`, and the error bookkeeping behind `GetLastError`.
//!
//! The same code runs for both versions; the tables in `model.rs` and the fault table in
//! `error.rs` make the differences. Values are kept as the strings the SCO sent, keyed by the
//! concrete element name (`cmi.interactions.3.id`); collections keep their record counts.

use std::collections::{HashMap, HashSet};

use super::commit::ObjectiveResult;
use super::error::{Fault, RuntimeError, error_string, fail};
use super::interaction::{self, Rules};
use super::model::{self, Access, Collection, Def, Initial, Kind, Model};
use super::types::{self, Centiseconds, TypeFault};
use super::{
    AttemptSummary, CommitPayload, CompletionStatus, ElementValue, ErrorCode, LaunchData,
    Navigation, RuntimeOptions, Score, Start, SuccessStatus,
};
use crate::version::{DataModel, ScormVersion};

/// Where a session is in its life (SCORM 2004 RTE §3.1.6: not initialized → running →
/// terminated; SCORM 1.2 has the same three states).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    NotInitialized,
    Running,
    Terminated,
}

/// An API method, for [`RuntimeState::record_failure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiCall {
    Initialize,
    Terminate,
    GetValue,
    SetValue,
    Commit,
    /// A failure tied to no one call (both versions: 101 General Exception).
    General,
}

/// One SCO session's run-time data and API state.
#[derive(Debug, Clone)]
pub struct RuntimeState {
    version: ScormVersion,
    data_model: DataModel,
    model: &'static Model,
    options: RuntimeOptions,
    launch: LaunchData,
    phase: Phase,
    values: HashMap<String, String>,
    counts: HashMap<String, usize>,
    /// Elements the SCO set (in this session or the one it resumes), and the status LMSFinish
    /// decided, in first-set order: the commit payload.
    order: Vec<String>,
    in_order: HashSet<String>,
    stored_chars: usize,
    entry: &'static str,
    prior_total: Centiseconds,
    commits: u64,
    navigation: Navigation,
    last_error: ErrorCode,
    last_diagnostic: String,
}

/// What an element name designates.
enum Target {
    Value {
        def: &'static Def,
        key: String,
        levels: Vec<Level>,
    },
    Children {
        value: &'static str,
        levels: Vec<Level>,
    },
    Count {
        key: String,
        levels: Vec<Level>,
    },
    Version,
    NavValid(String),
}

/// One collection index in an element name: `cmi.interactions.2…` is level
/// (`cmi.interactions`, 2).
struct Level {
    collection: &'static Collection,
    key: String,
    index: usize,
}

/// Elements that belong to one session, never carried into the next (RTE: exit, session time
/// and navigation requests describe the session that set them).
const SESSION_ONLY: &[&str] = &[
    "cmi.core.exit",
    "cmi.core.session_time",
    "cmi.exit",
    "cmi.session_time",
    "adl.nav.request",
];

impl RuntimeState {
    /// A session for a SCO of `version`, with what the LMS knows (`launch`) and, for a resumed
    /// or continued attempt, the data the previous session committed.
    pub fn new(
        version: ScormVersion,
        launch: LaunchData,
        start: Start,
        options: RuntimeOptions,
    ) -> Self {
        let data_model = version.data_model();
        let model = match data_model {
            DataModel::Scorm12 => &model::SCORM12,
            DataModel::Scorm2004 => &model::SCORM2004,
        };
        let (entry, prior) = match start {
            Start::New => ("ab-initio", None),
            Start::Resume(prior) => ("resume", Some(prior)),
            Start::Continue(prior) => ("", Some(prior)),
        };
        let mut state = RuntimeState {
            version,
            data_model,
            model,
            options,
            launch,
            phase: Phase::NotInitialized,
            values: HashMap::new(),
            counts: HashMap::new(),
            order: Vec::new(),
            in_order: HashSet::new(),
            stored_chars: 0,
            entry,
            prior_total: prior.as_ref().map_or(0, |p| p.total_time),
            commits: 0,
            navigation: Navigation::default(),
            last_error: ErrorCode::NO_ERROR,
            last_diagnostic: String::new(),
        };
        state.load_launch_data();
        if let Some(prior) = prior {
            for ElementValue { element, value } in &prior.payload.values {
                if !SESSION_ONLY.contains(&element.as_str()) {
                    state.load_prior(element, value);
                }
            }
        }
        state
    }

    pub fn version(&self) -> ScormVersion {
        self.version
    }

    pub fn data_model(&self) -> DataModel {
        self.data_model
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn launch(&self) -> &LaunchData {
        &self.launch
    }

    /// Tells the session what the sequencer allows, for `adl.nav.request_valid.*`.
    pub fn set_navigation(&mut self, navigation: Navigation) {
        self.navigation = navigation;
    }

    // -----------------------------------------------------------------------------------------
    // The API

    /// `Initialize("")` / `LMSInitialize("")`.
    pub fn initialize(&mut self, parameter: &str) -> Result<(), RuntimeError> {
        let result = self.do_initialize(parameter);
        self.record(result)
    }

    /// `Terminate("")` / `LMSFinish("")`: ends the session and commits (RTE: Terminate
    /// implies Commit). Returns the final payload.
    pub fn terminate(&mut self, parameter: &str) -> Result<CommitPayload, RuntimeError> {
        let result = self.do_terminate(parameter);
        self.record(result)
    }

    /// `Commit("")` / `LMSCommit("")`: returns what the server must persist.
    pub fn commit(&mut self, parameter: &str) -> Result<CommitPayload, RuntimeError> {
        let result = self.do_commit(parameter);
        self.record(result)
    }

    /// `GetValue(element)` / `LMSGetValue(element)`.
    pub fn get_value(&mut self, element: &str) -> Result<String, RuntimeError> {
        let result = self.do_get(element);
        self.record(result)
    }

    /// `SetValue(element, value)` / `LMSSetValue(element, value)`.
    pub fn set_value(&mut self, element: &str, value: &str) -> Result<(), RuntimeError> {
        let result = self.do_set(element, value);
        self.record(result)
    }

    /// `GetLastError()`.
    pub fn last_error(&self) -> ErrorCode {
        self.last_error
    }

    /// `GetErrorString(code)`.
    pub fn error_string(&self, code: ErrorCode) -> &'static str {
        error_string(self.data_model, code)
    }

    /// `GetDiagnostic(code)`: the detail of the last error when asked about it, else the
    /// code's text.
    pub fn diagnostic(&self, code: ErrorCode) -> String {
        if code == self.last_error && !self.last_diagnostic.is_empty() {
            self.last_diagnostic.clone()
        } else {
            self.error_string(code).to_owned()
        }
    }

    /// The LMS could not complete `call` (the server refused or failed to store a commit,
    /// say): `GetLastError` then reports that version's general failure for the call
    /// (2004: 102, 111, 301, 351, 391, 101; 1.2: 101).
    pub fn record_failure(&mut self, call: ApiCall, diagnostic: impl Into<String>) {
        let fault = match call {
            ApiCall::Initialize => Fault::InitializeFailure,
            ApiCall::Terminate => Fault::TerminateFailure,
            ApiCall::GetValue => Fault::GetFailure,
            ApiCall::SetValue => Fault::SetFailure,
            ApiCall::Commit => Fault::CommitFailure,
            ApiCall::General => Fault::GeneralFailure,
        };
        let error = fail(self.data_model, fault, diagnostic);
        self.last_error = error.code;
        self.last_diagnostic = error.diagnostic;
    }

    /// What a commit now would send: every element the SCO set in this attempt, in the order
    /// first set, so that replaying them one by one meets every ordering rule.
    pub fn commit_payload(&self) -> CommitPayload {
        let values = self
            .order
            .iter()
            .filter_map(|key| {
                self.values.get(key).map(|value| ElementValue {
                    element: key.clone(),
                    value: value.clone(),
                })
            })
            .collect();
        CommitPayload {
            data_model: self.data_model,
            sequence: self.commits,
            terminated: self.phase == Phase::Terminated,
            values,
        }
    }

    /// The attempt's state as the LMS evaluates it: statuses after completion threshold,
    /// passing score and mastery score, times accumulated.
    pub fn summary(&self) -> AttemptSummary {
        let (get, real) = (
            |key: &str| self.values.get(key).cloned(),
            |key: &str| self.values.get(key).and_then(|v| types::parse_real(v)),
        );
        match self.data_model {
            DataModel::Scorm12 => {
                let lesson_status =
                    get("cmi.core.lesson_status").unwrap_or_else(|| "not attempted".into());
                let (completion, success) = match lesson_status.as_str() {
                    "passed" => (CompletionStatus::Completed, SuccessStatus::Passed),
                    "failed" => (CompletionStatus::Completed, SuccessStatus::Failed),
                    "completed" => (CompletionStatus::Completed, SuccessStatus::Unknown),
                    "incomplete" => (CompletionStatus::Incomplete, SuccessStatus::Unknown),
                    "not attempted" => (CompletionStatus::NotAttempted, SuccessStatus::Unknown),
                    _ => (CompletionStatus::Unknown, SuccessStatus::Unknown),
                };
                let session_time =
                    get("cmi.core.session_time").and_then(|v| types::parse_cmi_timespan(&v));
                let exit = get("cmi.core.exit");
                AttemptSummary {
                    data_model: self.data_model,
                    entry: self.entry.to_owned(),
                    suspended: exit.as_deref() == Some("suspend"),
                    exit,
                    completion,
                    success,
                    lesson_status: Some(lesson_status),
                    score: Score {
                        scaled: None,
                        raw: real("cmi.core.score.raw"),
                        min: real("cmi.core.score.min"),
                        max: real("cmi.core.score.max"),
                    },
                    progress_measure: None,
                    location: get("cmi.core.lesson_location"),
                    suspend_data: get("cmi.suspend_data"),
                    session_time,
                    total_time: self.total_time(session_time),
                    nav_request: None,
                    terminated: self.phase == Phase::Terminated,
                    objectives: self.objective_results(),
                }
            }
            DataModel::Scorm2004 => {
                let session_time =
                    get("cmi.session_time").and_then(|v| types::parse_time_interval(&v));
                let exit = get("cmi.exit");
                AttemptSummary {
                    data_model: self.data_model,
                    entry: self.entry.to_owned(),
                    suspended: exit.as_deref() == Some("suspend"),
                    exit,
                    completion: CompletionStatus::parse(&self.completion_status()),
                    success: SuccessStatus::parse(&self.success_status()),
                    lesson_status: None,
                    score: Score {
                        scaled: real("cmi.score.scaled"),
                        raw: real("cmi.score.raw"),
                        min: real("cmi.score.min"),
                        max: real("cmi.score.max"),
                    },
                    progress_measure: real("cmi.progress_measure"),
                    location: get("cmi.location"),
                    suspend_data: get("cmi.suspend_data"),
                    session_time,
                    total_time: self.total_time(session_time),
                    nav_request: get("adl.nav.request").filter(|r| r != "_none_"),
                    terminated: self.phase == Phase::Terminated,
                    objectives: self.objective_results(),
                }
            }
        }
    }

    /// Every `cmi.objectives.n` that has an id, in index order.
    fn objective_results(&self) -> Vec<ObjectiveResult> {
        let field =
            |index: usize, name: &str| self.values.get(&format!("cmi.objectives.{index}.{name}"));
        let real = |index: usize, name: &str| field(index, name).and_then(|v| types::parse_real(v));
        (0..self.count("cmi.objectives"))
            .filter_map(|index| {
                let id = field(index, "id")?.clone();
                let (completion, success, scaled, progress_measure) = match self.data_model {
                    DataModel::Scorm12 => {
                        let (completion, success) = match field(index, "status").map(String::as_str)
                        {
                            Some("passed") => (CompletionStatus::Completed, SuccessStatus::Passed),
                            Some("failed") => (CompletionStatus::Completed, SuccessStatus::Failed),
                            Some("completed") => {
                                (CompletionStatus::Completed, SuccessStatus::Unknown)
                            }
                            Some("incomplete" | "browsed") => {
                                (CompletionStatus::Incomplete, SuccessStatus::Unknown)
                            }
                            Some("not attempted") => {
                                (CompletionStatus::NotAttempted, SuccessStatus::Unknown)
                            }
                            _ => (CompletionStatus::Unknown, SuccessStatus::Unknown),
                        };
                        (completion, success, None, None)
                    }
                    DataModel::Scorm2004 => (
                        field(index, "completion_status")
                            .map_or(CompletionStatus::Unknown, |v| CompletionStatus::parse(v)),
                        field(index, "success_status")
                            .map_or(SuccessStatus::Unknown, |v| SuccessStatus::parse(v)),
                        real(index, "score.scaled"),
                        real(index, "progress_measure"),
                    ),
                };
                Some(ObjectiveResult {
                    id,
                    success,
                    completion,
                    score: Score {
                        scaled,
                        raw: real(index, "score.raw"),
                        min: real(index, "score.min"),
                        max: real(index, "score.max"),
                    },
                    progress_measure,
                })
            })
            .collect()
    }

    fn total_time(&self, session: Option<Centiseconds>) -> Centiseconds {
        // The session counts once it is over (RTE: total_time accumulates session_time at the
        // end of the session).
        if self.phase == Phase::Terminated {
            self.prior_total.saturating_add(session.unwrap_or(0))
        } else {
            self.prior_total
        }
    }

    // -----------------------------------------------------------------------------------------
    // Calls

    fn record<T>(&mut self, result: Result<T, RuntimeError>) -> Result<T, RuntimeError> {
        match &result {
            Ok(_) => {
                self.last_error = ErrorCode::NO_ERROR;
                self.last_diagnostic.clear();
            }
            Err(error) => {
                self.last_error = error.code;
                self.last_diagnostic = error.diagnostic.clone();
            }
        }
        result
    }

    fn fail(&self, fault: Fault, diagnostic: impl Into<String>) -> RuntimeError {
        fail(self.data_model, fault, diagnostic)
    }

    fn do_initialize(&mut self, parameter: &str) -> Result<(), RuntimeError> {
        match self.phase {
            Phase::Running => {
                return Err(self.fail(
                    Fault::AlreadyInitialized,
                    "the session is already initialized",
                ));
            }
            Phase::Terminated => {
                return Err(self.fail(
                    Fault::InitializeAfterTerminate,
                    "the session has been terminated",
                ));
            }
            Phase::NotInitialized => {}
        }
        if !parameter.is_empty() {
            return Err(self.fail(
                Fault::ArgumentNotEmpty,
                "the argument must be the empty string",
            ));
        }
        self.phase = Phase::Running;
        Ok(())
    }

    fn do_terminate(&mut self, parameter: &str) -> Result<CommitPayload, RuntimeError> {
        match self.phase {
            Phase::NotInitialized => {
                return Err(self.fail(
                    Fault::TerminateBeforeInitialize,
                    "the session is not initialized",
                ));
            }
            Phase::Terminated => {
                return Err(self.fail(
                    Fault::TerminateAfterTerminate,
                    "the session is already terminated",
                ));
            }
            Phase::Running => {}
        }
        if !parameter.is_empty() {
            return Err(self.fail(
                Fault::ArgumentNotEmpty,
                "the argument must be the empty string",
            ));
        }
        if self.data_model == DataModel::Scorm12 {
            self.finish_scorm12();
        }
        self.phase = Phase::Terminated;
        self.commits += 1;
        Ok(self.commit_payload())
    }

    /// SCORM 1.2 LMSFinish: with credit, a mastery score and a raw score, the LMS decides
    /// passed or failed; a status the SCO never set becomes completed (browsed in browse mode).
    fn finish_scorm12(&mut self) {
        let credit = self
            .values
            .get("cmi.core.credit")
            .is_none_or(|c| c == "credit");
        let raw = self
            .values
            .get("cmi.core.score.raw")
            .and_then(|v| types::parse_real(v));
        let status_set = self.values.contains_key("cmi.core.lesson_status");
        let derived = match (credit, self.launch.mastery_score, raw) {
            (true, Some(mastery), Some(raw)) => {
                Some(if raw >= mastery { "passed" } else { "failed" })
            }
            _ if !status_set => Some(
                if self
                    .values
                    .get("cmi.core.lesson_mode")
                    .is_some_and(|m| m == "browse")
                {
                    "browsed"
                } else {
                    "completed"
                },
            ),
            _ => None,
        };
        if let Some(status) = derived {
            self.values
                .insert("cmi.core.lesson_status".into(), status.into());
            self.note_set("cmi.core.lesson_status");
        }
    }

    fn do_commit(&mut self, parameter: &str) -> Result<CommitPayload, RuntimeError> {
        match self.phase {
            Phase::NotInitialized => {
                return Err(self.fail(
                    Fault::CommitBeforeInitialize,
                    "the session is not initialized",
                ));
            }
            Phase::Terminated => {
                return Err(self.fail(Fault::CommitAfterTerminate, "the session is terminated"));
            }
            Phase::Running => {}
        }
        if !parameter.is_empty() {
            return Err(self.fail(
                Fault::ArgumentNotEmpty,
                "the argument must be the empty string",
            ));
        }
        self.commits += 1;
        Ok(self.commit_payload())
    }

    fn do_get(&mut self, element: &str) -> Result<String, RuntimeError> {
        match self.phase {
            Phase::NotInitialized => {
                return Err(self.fail(Fault::GetBeforeInitialize, "the session is not initialized"));
            }
            Phase::Terminated => {
                return Err(self.fail(Fault::GetAfterTerminate, "the session is terminated"));
            }
            Phase::Running => {}
        }
        if element.is_empty() {
            return Err(self.fail(Fault::GetEmptyElement, "the element name is empty"));
        }
        let target = self.resolve(element)?;
        match target {
            Target::Version => Ok(self.model.version.to_owned()),
            Target::NavValid(key) => Ok(self.navigation.answer(&key).to_owned()),
            Target::Children { value, levels } => {
                self.check_existing(element, &levels)?;
                Ok(value.to_owned())
            }
            Target::Count { key, levels } => {
                self.check_existing(element, &levels)?;
                Ok(self.count(&key).to_string())
            }
            Target::Value { def, key, levels } => {
                if def.access == Access::WriteOnly
                    || self
                        .shared_data_access(&key, &levels)
                        .is_some_and(|(read, _)| !read)
                {
                    return Err(self.fail(Fault::WriteOnly, format!("{element} is write-only")));
                }
                self.check_existing(element, &levels)?;
                if let Some(value) = self.computed(def) {
                    return Ok(value);
                }
                if let Some(value) = self.values.get(&key) {
                    return Ok(value.clone());
                }
                match (def.initial, self.data_model) {
                    (Initial::Value(value), _) => Ok(value.to_owned()),
                    (Initial::Unset, DataModel::Scorm12) => Ok(String::new()),
                    (Initial::Unset, DataModel::Scorm2004) => Err(self.fail(
                        Fault::ValueNotInitialized,
                        format!("{element} has no value yet"),
                    )),
                }
            }
        }
    }

    fn do_set(&mut self, element: &str, value: &str) -> Result<(), RuntimeError> {
        match self.phase {
            Phase::NotInitialized => {
                return Err(self.fail(Fault::SetBeforeInitialize, "the session is not initialized"));
            }
            Phase::Terminated => {
                return Err(self.fail(Fault::SetAfterTerminate, "the session is terminated"));
            }
            Phase::Running => {}
        }
        if element.is_empty() {
            return Err(self.fail(Fault::SetEmptyElement, "the element name is empty"));
        }
        let target = match self.resolve(element) {
            Ok(target) => target,
            Err(error) if matches!(error.fault, Fault::NoChildren | Fault::NoCount) => {
                return Err(self.fail(
                    Fault::KeywordSet,
                    format!("{element} is a keyword and cannot be set"),
                ));
            }
            Err(error) => return Err(error),
        };
        let (def, key, levels) = match target {
            Target::Value { def, key, levels } => (def, key, levels),
            Target::NavValid(_) => {
                return Err(self.fail(Fault::ReadOnly, format!("{element} is read-only")));
            }
            Target::Version | Target::Children { .. } | Target::Count { .. } => {
                return Err(self.fail(
                    Fault::KeywordSet,
                    format!("{element} is a keyword and cannot be set"),
                ));
            }
        };
        if def.access == Access::ReadOnly
            || self
                .shared_data_access(&key, &levels)
                .is_some_and(|(_, write)| !write)
        {
            return Err(self.fail(Fault::ReadOnly, format!("{element} is read-only")));
        }
        let creating = self.check_settable_index(element, def, &levels)?;
        self.check_value(element, def, &key, &levels, value)?;
        self.check_relations(element, def, &key, &levels, value, creating)?;
        let previous = self.values.get(&key).map_or(0, |v| types::chars(v));
        let total = self.stored_chars.saturating_sub(previous) + types::chars(value);
        if total > self.options.max_total_chars {
            return Err(self.fail(
                Fault::SetFailure,
                format!(
                    "the run-time data would exceed {} characters",
                    self.options.max_total_chars
                ),
            ));
        }
        self.stored_chars = total;
        if creating && let Some(level) = levels.last() {
            self.counts.insert(level.key.clone(), level.index + 1);
        }
        self.values.insert(key.clone(), value.to_owned());
        self.note_set(&key);
        Ok(())
    }

    fn note_set(&mut self, key: &str) {
        if self.in_order.insert(key.to_owned()) {
            self.order.push(key.to_owned());
        }
    }

    // -----------------------------------------------------------------------------------------
    // Element names

    fn count(&self, key: &str) -> usize {
        self.counts.get(key).copied().unwrap_or(0)
    }

    fn has_adl_data(&self) -> bool {
        self.version == ScormVersion::Scorm2004Ed4
    }

    fn in_edition(&self, path: &str) -> bool {
        !model::is_4th_edition_only(path) || self.has_adl_data()
    }

    fn resolve(&self, element: &str) -> Result<Target, RuntimeError> {
        let undefined = || {
            self.fail(
                Fault::Undefined,
                format!(
                    "{element} is not an element of the SCORM {} data model",
                    self.data_model_name()
                ),
            )
        };
        if self.data_model == DataModel::Scorm2004
            && let Some(query) = element.strip_prefix("adl.nav.request_valid.")
        {
            return self
                .nav_query(query)
                .map(Target::NavValid)
                .ok_or_else(undefined);
        }
        if let Some(node) = element.strip_suffix("._version") {
            return if node == "cmi" {
                Ok(Target::Version)
            } else {
                Err(undefined())
            };
        }
        if let Some(node) = element.strip_suffix("._children") {
            let segments: Vec<&str> = node.split('.').collect();
            for group in self.model.groups {
                if let Some(levels) = self.match_pattern(group.path, &segments) {
                    return Ok(Target::Children {
                        value: group.children,
                        levels,
                    });
                }
            }
            for collection in self
                .model
                .collections
                .iter()
                .filter(|c| self.in_edition(c.path))
            {
                if let Some(levels) = self.match_pattern(collection.path, &segments) {
                    return match collection.children {
                        Some(value) => Ok(Target::Children { value, levels }),
                        None => {
                            Err(self.fail(Fault::NoChildren, format!("{node} has no _children")))
                        }
                    };
                }
            }
            return if self.is_known_node(&segments) {
                Err(self.fail(Fault::NoChildren, format!("{node} has no children")))
            } else {
                Err(undefined())
            };
        }
        if let Some(node) = element.strip_suffix("._count") {
            let segments: Vec<&str> = node.split('.').collect();
            for collection in self
                .model
                .collections
                .iter()
                .filter(|c| self.in_edition(c.path))
            {
                if let Some(levels) = self.match_pattern(collection.path, &segments) {
                    return Ok(Target::Count {
                        key: node.to_owned(),
                        levels,
                    });
                }
            }
            return if self.is_known_node(&segments) {
                Err(self.fail(
                    Fault::NoCount,
                    format!("{node} is not a collection and has no _count"),
                ))
            } else {
                Err(undefined())
            };
        }
        let segments: Vec<&str> = element.split('.').collect();
        for def in self.model.defs.iter().filter(|d| self.in_edition(d.path)) {
            if let Some(levels) = self.match_pattern(def.path, &segments) {
                return Ok(Target::Value {
                    def,
                    key: element.to_owned(),
                    levels,
                });
            }
        }
        if self
            .model
            .unimplemented
            .iter()
            .any(|prefix| element == *prefix || element.starts_with(&format!("{prefix}.")))
        {
            return Err(self.fail(
                Fault::NotImplemented,
                format!("{element} is not implemented by this LMS"),
            ));
        }
        Err(undefined())
    }

    fn data_model_name(&self) -> &'static str {
        match self.data_model {
            DataModel::Scorm12 => "1.2",
            DataModel::Scorm2004 => "2004",
        }
    }

    /// Matches concrete `segments` against a table path with `n` for indices; returns the
    /// collection levels crossed.
    fn match_pattern(&self, pattern: &str, segments: &[&str]) -> Option<Vec<Level>> {
        let parts: Vec<&str> = pattern.split('.').collect();
        if parts.len() != segments.len() {
            return None;
        }
        let mut levels = Vec::new();
        for (at, (part, segment)) in parts.iter().zip(segments).enumerate() {
            if *part == "n" {
                let index = parse_index(segment)?;
                let collection_path = parts[..at].join(".");
                let collection = self
                    .model
                    .collections
                    .iter()
                    .find(|c| c.path == collection_path)?;
                levels.push(Level {
                    collection,
                    key: segments[..at].join("."),
                    index,
                });
            } else if part != segment {
                return None;
            }
        }
        Some(levels)
    }

    /// Whether `segments` name a node of the model: an element, or a prefix of one.
    fn is_known_node(&self, segments: &[&str]) -> bool {
        let paths = self
            .model
            .defs
            .iter()
            .map(|d| d.path)
            .chain(self.model.groups.iter().map(|g| g.path));
        paths.filter(|p| self.in_edition(p)).any(|path| {
            let parts: Vec<&str> = path.split('.').collect();
            parts.len() >= segments.len()
                && parts.iter().zip(segments).all(|(part, segment)| {
                    if *part == "n" {
                        parse_index(segment).is_some()
                    } else {
                        part == segment
                    }
                })
        })
    }

    /// `continue`, `previous`, `choice.{target=ID}`, `jump.{target=ID}` (4th Edition).
    fn nav_query(&self, query: &str) -> Option<String> {
        match query {
            "continue" | "previous" => Some(query.to_owned()),
            _ => {
                let (kind, rest) = query.split_once('.')?;
                if !(kind == "choice"
                    || (kind == "jump" && self.version == ScormVersion::Scorm2004Ed4))
                {
                    return None;
                }
                let target = rest.strip_prefix("{target=")?.strip_suffix('}')?;
                (!target.is_empty()).then(|| format!("{kind}.{target}"))
            }
        }
    }

    /// GetValue (and keywords): every index must name an existing record.
    fn check_existing(&self, element: &str, levels: &[Level]) -> Result<(), RuntimeError> {
        for level in levels {
            let count = self.count(&level.key);
            if level.index >= count {
                return Err(self.fail(
                    Fault::GetIndexOutOfRange,
                    format!(
                        "{element}: {} has {count} records, there is no index {}",
                        level.key, level.index
                    ),
                ));
            }
        }
        Ok(())
    }

    /// SetValue: outer indices must exist, the last may be the next new record. Returns
    /// whether the call creates a record.
    fn check_settable_index(
        &self,
        element: &str,
        def: &Def,
        levels: &[Level],
    ) -> Result<bool, RuntimeError> {
        let Some((last, outer)) = levels.split_last() else {
            return Ok(false);
        };
        for level in outer {
            let count = self.count(&level.key);
            if level.index < count {
                continue;
            }
            // The enclosing record does not exist: if it would be the next one, what is
            // missing is its creating field (2004: 408); past that, the index is wrong.
            if let (true, Some(created_by)) = (level.index == count, level.collection.created_by) {
                return Err(self.fail(
                    Fault::DependencyNotEstablished,
                    format!(
                        "{element}: set {}.{}.{created_by} first",
                        level.key, level.index
                    ),
                ));
            }
            return Err(self.fail(
                Fault::SetIndexOutOfRange,
                format!(
                    "{element}: {} has {count} records, there is no index {}",
                    level.key, level.index
                ),
            ));
        }
        let count = self.count(&last.key);
        if last.index < count {
            return Ok(false);
        }
        if last.index > count || !last.collection.writable {
            return Err(self.fail(
                Fault::SetIndexOutOfRange,
                format!(
                    "{element}: {} has {count} records; the next one is index {count}",
                    last.key
                ),
            ));
        }
        let field = &def.path[last.collection.path.len() + 3..];
        if let Some(created_by) = last.collection.created_by
            && field != created_by
        {
            return Err(self.fail(
                Fault::DependencyNotEstablished,
                format!(
                    "{element}: set {}.{}.{created_by} first",
                    last.key, last.index
                ),
            ));
        }
        if count >= self.options.max_records {
            return Err(self.fail(
                Fault::SetFailure,
                format!(
                    "{element}: {} holds at most {} records",
                    last.key, self.options.max_records
                ),
            ));
        }
        Ok(true)
    }

    /// `adl.data.n.store` access from the manifest's `readSharedData`/`writeSharedData`.
    fn shared_data_access(&self, key: &str, levels: &[Level]) -> Option<(bool, bool)> {
        if !key.starts_with("adl.data.") || !key.ends_with(".store") {
            return None;
        }
        let index = levels.first()?.index;
        let id = self.values.get(&format!("adl.data.{index}.id"))?;
        let bucket = self.launch.shared_data.iter().find(|b| &b.id == id)?;
        Some((bucket.readable, bucket.writable))
    }

    // -----------------------------------------------------------------------------------------
    // Values

    fn check_value(
        &self,
        element: &str,
        def: &Def,
        key: &str,
        levels: &[Level],
        value: &str,
    ) -> Result<(), RuntimeError> {
        let strict = self.options.strict;
        let rules = Rules { strict };
        if types::chars(value) > self.options.max_value_chars {
            let fault = if self.data_model == DataModel::Scorm12 {
                Fault::TypeMismatch
            } else {
                Fault::SetFailure
            };
            return Err(self.fail(
                fault,
                format!(
                    "{element}: the value is longer than {} characters",
                    self.options.max_value_chars
                ),
            ));
        }
        let spm = |limit: usize| -> Result<(), TypeFault> {
            if strict && types::chars(value) > limit {
                Err(TypeFault::Mismatch)
            } else {
                Ok(())
            }
        };
        let checked: Result<(), TypeFault> = match def.kind {
            Kind::CmiString(limit) => spm(limit),
            Kind::SuspendData12 => spm(4096),
            Kind::CmiIdentifier => types::cmi_identifier(value),
            Kind::CmiDecimal { min, max, blank } => {
                if blank && value.is_empty() {
                    Ok(())
                } else {
                    types::real_in(value, Some(min), Some(max))
                }
            }
            Kind::CmiDecimalAny => types::real_in(value, None, None),
            Kind::CmiSInteger { min, max } => types::integer_in(value, min, max),
            Kind::CmiTimespan => types::parse_cmi_timespan(value)
                .map(|_| ())
                .ok_or(TypeFault::Mismatch),
            Kind::CmiTime => types::cmi_time(value),
            Kind::CmiFeedback => spm(255),
            Kind::Result12 => {
                if model::RESULT_12.contains(&value) {
                    Ok(())
                } else {
                    types::real_in(value, None, None)
                }
            }
            Kind::Vocabulary(words) => {
                if words.contains(&value) {
                    Ok(())
                } else {
                    Err(TypeFault::Mismatch)
                }
            }
            Kind::CharString(limit) => {
                let limit =
                    if key == "cmi.suspend_data" && self.version < ScormVersion::Scorm2004Ed4 {
                        model::SUSPEND_DATA_SPM_3RD
                    } else {
                        limit
                    };
                spm(limit)
            }
            Kind::Localized(limit) => types::localized(value).and_then(|(_, text)| {
                if strict && types::chars(text) > limit {
                    Err(TypeFault::Mismatch)
                } else {
                    Ok(())
                }
            }),
            Kind::LongIdentifier => types::identifier(value, strict).and_then(|()| spm(4000)),
            Kind::Real { min, max } => types::real_in(value, min, max),
            Kind::TimeInterval => types::parse_time_interval(value)
                .map(|_| ())
                .ok_or(TypeFault::Mismatch),
            Kind::Time => types::time(value, strict),
            Kind::Language => types::language(value, true),
            Kind::Result2004 => {
                if model::RESULT_2004.contains(&value) {
                    Ok(())
                } else {
                    types::real_in(value, None, None)
                }
            }
            Kind::Pattern | Kind::LearnerResponse => {
                let interaction = levels.first().map_or(0, |l| l.index);
                let Some(kind) = self
                    .values
                    .get(&format!("cmi.interactions.{interaction}.type"))
                else {
                    return Err(self.fail(
                        Fault::DependencyNotEstablished,
                        format!("{element}: set cmi.interactions.{interaction}.type first, the format depends on it"),
                    ));
                };
                if def.kind == Kind::Pattern {
                    interaction::check_pattern(kind, value, rules)
                } else {
                    interaction::check_response(kind, value, rules)
                }
            }
            Kind::NavRequest => self.check_nav_request(value),
            Kind::Captioning => {
                if ["-1", "0", "1"].contains(&value) {
                    Ok(())
                } else {
                    Err(TypeFault::Mismatch)
                }
            }
        };
        checked.map_err(|fault| match fault {
            TypeFault::Mismatch => self.fail(
                Fault::TypeMismatch,
                format!("{element}: \"{}\" is not a valid value", preview(value)),
            ),
            TypeFault::Range => self.fail(
                Fault::OutOfRange,
                format!("{element}: \"{}\" is out of range", preview(value)),
            ),
        })
    }

    fn check_nav_request(&self, value: &str) -> Result<(), TypeFault> {
        if model::NAV_REQUESTS.contains(&value) {
            return Ok(());
        }
        let rest = value.strip_prefix("{target=").ok_or(TypeFault::Mismatch)?;
        let (target, request) = rest.split_once('}').ok_or(TypeFault::Mismatch)?;
        let allowed = request == "choice"
            || (request == "jump" && self.version == ScormVersion::Scorm2004Ed4);
        if !allowed {
            return Err(TypeFault::Mismatch);
        }
        types::identifier(target, true)
    }

    /// Rules between values (SCORM 2004 RTE §4.2.9, §4.2.17): objective ids are unique and
    /// never change; an interaction's objective ids are unique; the one-pattern interaction
    /// types take one correct response and no pattern repeats; (both versions) an
    /// interaction's type does not change once responses depend on it.
    fn check_relations(
        &self,
        element: &str,
        def: &Def,
        key: &str,
        levels: &[Level],
        value: &str,
        creating: bool,
    ) -> Result<(), RuntimeError> {
        // An interaction's patterns and response were checked against its type: a different
        // type once they exist would leave values the type refuses, which no replay of the
        // attempt could rebuild. Both versions.
        if def.path == "cmi.interactions.n.type"
            && let Some(current) = self.values.get(key)
            && current != value
            && let Some(first) = levels.first()
        {
            let prefix = format!("cmi.interactions.{}.", first.index);
            let answered = self.values.keys().any(|k| {
                k.strip_prefix(&prefix).is_some_and(|rest| {
                    rest.starts_with("correct_responses.")
                        || rest == "learner_response"
                        || rest == "student_response"
                })
            });
            if answered {
                return Err(self.fail(
                    Fault::SetFailure,
                    format!(
                        "{element}: the type cannot change from \"{current}\" once correct responses or a response are set; record the new type as a new interaction"
                    ),
                ));
            }
        }
        if self.data_model != DataModel::Scorm2004 {
            return Ok(());
        }
        let Some(last) = levels.last() else {
            return Ok(());
        };
        let siblings = |field: &str| -> Vec<(usize, &String)> {
            (0..self.count(&last.key))
                .filter(|i| *i != last.index)
                .filter_map(|i| {
                    self.values
                        .get(&format!("{}.{i}.{field}", last.key))
                        .map(|v| (i, v))
                })
                .collect()
        };
        match def.path {
            "cmi.objectives.n.id" => {
                if let Some(current) = self.values.get(key)
                    && current != value
                {
                    return Err(self.fail(Fault::SetFailure, format!("{element}: an objective id cannot change once set (it is \"{current}\")")));
                }
                if siblings("id").iter().any(|(_, v)| v.as_str() == value) {
                    return Err(self.fail(
                        Fault::SetFailure,
                        format!("{element}: objective id \"{value}\" is already used"),
                    ));
                }
            }
            "cmi.interactions.n.objectives.n.id"
                if siblings("id").iter().any(|(_, v)| v.as_str() == value) =>
            {
                return Err(self.fail(
                    Fault::SetFailure,
                    format!("{element}: the interaction already lists objective \"{value}\""),
                ));
            }
            "cmi.interactions.n.correct_responses.n.pattern" => {
                let interaction = levels[0].index;
                let kind = self
                    .values
                    .get(&format!("cmi.interactions.{interaction}.type"))
                    .map_or("", String::as_str);
                if creating && interaction::max_patterns(kind).is_some_and(|max| last.index >= max)
                {
                    return Err(self.fail(
                        Fault::SetFailure,
                        format!("{element}: a {kind} interaction has one correct response pattern"),
                    ));
                }
                if siblings("pattern").iter().any(|(_, v)| v.as_str() == value) {
                    return Err(self.fail(
                        Fault::SetFailure,
                        format!("{element}: the same pattern is already a correct response"),
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Values the LMS works out rather than stores (SCORM 2004 RTE §4.2.4.1, §4.2.22.1).
    fn computed(&self, def: &Def) -> Option<String> {
        if self.data_model != DataModel::Scorm2004 {
            return None;
        }
        match def.path {
            "cmi.completion_status" => Some(self.completion_status()),
            "cmi.success_status" => Some(self.success_status()),
            _ => None,
        }
    }

    /// RTE §4.2.4.1: with a completion threshold and a progress measure, the measure decides;
    /// with a threshold and no measure, 4th Edition answers "unknown" and earlier editions
    /// what the SCO set; without a threshold, what the SCO set, "unknown" by default.
    fn completion_status(&self) -> String {
        let progress = self
            .values
            .get("cmi.progress_measure")
            .and_then(|v| types::parse_real(v));
        let reported = || {
            self.values
                .get("cmi.completion_status")
                .cloned()
                .unwrap_or_else(|| "unknown".into())
        };
        match (self.launch.completion_threshold, progress) {
            (Some(threshold), Some(progress)) => if progress >= threshold {
                "completed"
            } else {
                "incomplete"
            }
            .into(),
            (Some(_), None) if self.version == ScormVersion::Scorm2004Ed4 => "unknown".into(),
            _ => reported(),
        }
    }

    /// RTE §4.2.22.1: with a scaled passing score, `score.scaled` decides ("unknown" without
    /// one); otherwise what the SCO set.
    fn success_status(&self) -> String {
        let scaled = self
            .values
            .get("cmi.score.scaled")
            .and_then(|v| types::parse_real(v));
        match (self.launch.scaled_passing_score, scaled) {
            (Some(passing), Some(scaled)) => if scaled >= passing {
                "passed"
            } else {
                "failed"
            }
            .into(),
            (Some(_), None) => "unknown".into(),
            _ => self
                .values
                .get("cmi.success_status")
                .cloned()
                .unwrap_or_else(|| "unknown".into()),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Loading

    fn put_lms(&mut self, key: &str, value: impl Into<String>) {
        self.values.insert(key.to_owned(), value.into());
    }

    fn put_record(
        &mut self,
        collection: &str,
        index: usize,
        field: &str,
        value: impl Into<String>,
    ) {
        self.values
            .insert(format!("{collection}.{index}.{field}"), value.into());
        let count = self.counts.entry(collection.to_owned()).or_default();
        *count = (*count).max(index + 1);
    }

    fn load_launch_data(&mut self) {
        let launch = self.launch.clone();
        let time_limit_action = launch.time_limit_action.map(|a| a.as_str().to_owned());
        match self.data_model {
            DataModel::Scorm12 => {
                self.put_lms("cmi.core.student_id", launch.learner_id.clone());
                self.put_lms("cmi.core.student_name", launch.learner_name.clone());
                self.put_lms("cmi.core.credit", launch.credit.as_str());
                self.put_lms("cmi.core.lesson_mode", launch.mode.as_str());
                self.put_lms("cmi.core.entry", self.entry);
                self.put_lms(
                    "cmi.core.total_time",
                    types::format_cmi_timespan(self.prior_total),
                );
                if let Some(data) = &launch.launch_data {
                    self.put_lms("cmi.launch_data", data.clone());
                }
                if !launch.comments_from_lms.is_empty() {
                    let text: Vec<&str> = launch
                        .comments_from_lms
                        .iter()
                        .map(|c| c.comment.as_str())
                        .collect();
                    self.put_lms("cmi.comments_from_lms", text.join("\n"));
                }
                if let Some(mastery) = launch.mastery_score {
                    self.put_lms("cmi.student_data.mastery_score", mastery.to_string());
                }
                if let Some(max) = &launch.max_time_allowed {
                    self.put_lms("cmi.student_data.max_time_allowed", max.clone());
                }
                if let Some(action) = time_limit_action {
                    self.put_lms("cmi.student_data.time_limit_action", action);
                }
                if let Some(preference) = &launch.learner_preference {
                    self.put_lms(
                        "cmi.student_preference.language",
                        preference.language.clone(),
                    );
                }
            }
            DataModel::Scorm2004 => {
                self.put_lms("cmi.learner_id", launch.learner_id.clone());
                self.put_lms("cmi.learner_name", launch.learner_name.clone());
                self.put_lms("cmi.credit", launch.credit.as_str());
                self.put_lms("cmi.mode", launch.mode.as_str());
                self.put_lms("cmi.entry", self.entry);
                self.put_lms(
                    "cmi.total_time",
                    types::format_time_interval(self.prior_total),
                );
                if let Some(data) = &launch.launch_data {
                    self.put_lms("cmi.launch_data", data.clone());
                }
                if let Some(max) = &launch.max_time_allowed {
                    self.put_lms("cmi.max_time_allowed", max.clone());
                }
                if let Some(action) = time_limit_action {
                    self.put_lms("cmi.time_limit_action", action);
                }
                if let Some(threshold) = launch.completion_threshold {
                    self.put_lms("cmi.completion_threshold", threshold.to_string());
                }
                if let Some(passing) = launch.scaled_passing_score {
                    self.put_lms("cmi.scaled_passing_score", passing.to_string());
                }
                for (index, comment) in launch.comments_from_lms.iter().enumerate() {
                    self.put_record(
                        "cmi.comments_from_lms",
                        index,
                        "comment",
                        comment.comment.clone(),
                    );
                    if let Some(location) = &comment.location {
                        self.put_record(
                            "cmi.comments_from_lms",
                            index,
                            "location",
                            location.clone(),
                        );
                    }
                    if let Some(timestamp) = &comment.timestamp {
                        self.put_record(
                            "cmi.comments_from_lms",
                            index,
                            "timestamp",
                            timestamp.clone(),
                        );
                    }
                }
                for (index, id) in launch.objective_ids.iter().enumerate() {
                    self.put_record("cmi.objectives", index, "id", id.clone());
                }
                if self.has_adl_data() {
                    for (index, bucket) in launch.shared_data.iter().enumerate() {
                        self.put_record("adl.data", index, "id", bucket.id.clone());
                        if let Some(store) = &bucket.store {
                            self.put_record("adl.data", index, "store", store.clone());
                        }
                    }
                }
                if let Some(preference) = &launch.learner_preference {
                    self.put_lms(
                        "cmi.learner_preference.audio_level",
                        preference.audio_level.to_string(),
                    );
                    self.put_lms(
                        "cmi.learner_preference.language",
                        preference.language.clone(),
                    );
                    self.put_lms(
                        "cmi.learner_preference.delivery_speed",
                        preference.delivery_speed.to_string(),
                    );
                    self.put_lms(
                        "cmi.learner_preference.audio_captioning",
                        preference.audio_captioning.to_string(),
                    );
                }
            }
        }
    }

    /// Loads a value the previous session committed: only elements the SCO can write, with
    /// record counts rebuilt; anything that does not resolve is dropped.
    fn load_prior(&mut self, element: &str, value: &str) {
        let Ok(Target::Value { def, key, levels }) = self.resolve(element) else {
            return;
        };
        if def.access == Access::ReadOnly || types::chars(value) > self.options.max_value_chars {
            return;
        }
        for level in &levels {
            let count = self.counts.entry(level.key.clone()).or_default();
            *count = (*count).max(level.index + 1);
        }
        self.stored_chars += types::chars(value);
        self.values.insert(key.clone(), value.to_owned());
        self.note_set(&key);
    }
}

/// A record index: digits without a leading zero (`0`, `7`, `12`), small enough to be real.
fn parse_index(segment: &str) -> Option<usize> {
    let canonical =
        segment == "0" || (!segment.starts_with('0') && !segment.is_empty() && segment.len() <= 9);
    if canonical && segment.bytes().all(|b| b.is_ascii_digit()) {
        segment.parse().ok()
    } else {
        None
    }
}

fn preview(value: &str) -> String {
    const MAX: usize = 80;
    if value.chars().count() <= MAX {
        value.to_owned()
    } else {
        format!("{}…", value.chars().take(MAX).collect::<String>())
    }
}
