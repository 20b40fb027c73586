//! The statements of a session: the temporal model (profile §5) and the data model mapping
//! (§6), each statement built whole here from the context and the SCORM data.

use serde_json::{Map, Number, Value, json};
use uuid::Uuid;

use super::records::{self, Interaction};
use super::responses;
use super::vocabulary::{ActivityType, PROFILE_ACTIVITY_TYPE, SCORM_PROFILE, Verb};
use super::{ProfileContext, encode_segment};
use crate::runtime::{
    AttemptSummary, CommitPayload, CompletionStatus, Score, SuccessStatus, format_time_interval,
};
use crate::version::DataModel;

/// Statements for the start of a session: `resumed` when `entry` is `resume` (the attempt
/// goes on after a suspend), `initialized` otherwise (a new attempt, or a SCORM 1.2 session
/// that continues a normally exited one) — profile §5 "Initializing an attempt", "Resuming an
/// attempt", §6 "Entry".
pub fn session_started(ctx: &ProfileContext, entry: &str) -> Vec<Value> {
    let verb = if entry == "resume" {
        Verb::Resumed
    } else {
        Verb::Initialized
    };
    let emitter = Emitter::new(ctx, "start".to_owned());
    vec![emitter.about_sco(verb, None)]
}

/// Statements for one accepted commit, by difference with the previous accepted commit of the
/// same attempt (`None` for the first), in this order: `responded` per new or changed
/// interaction that has a response or a result; `progressed`, `scored`, `completed`,
/// `passed`/`failed` per objective and then for the SCO when the value changed; and for the
/// commit of `Terminate`, `suspended` (exit `suspend`) or `terminated` with the SCO's result.
///
/// A value that did not change since `previous` yields nothing, and the same commit yields
/// the same statements (ids included) every time.
pub fn commit_statements(
    ctx: &ProfileContext,
    previous: Option<(&CommitPayload, &AttemptSummary)>,
    payload: &CommitPayload,
    summary: &AttemptSummary,
) -> Vec<Value> {
    let model = summary.data_model;
    let emitter = Emitter::new(ctx, format!("commit/{}", payload.sequence));
    let mut statements = Vec::new();

    let before = previous
        .map(|(p, _)| records::records(p, "cmi.interactions"))
        .unwrap_or_default();
    for (index, fields) in records::records(payload, "cmi.interactions") {
        if before.get(&index) == Some(&fields) {
            continue;
        }
        let Some(interaction) = Interaction::read(model, &fields) else {
            continue;
        };
        // The profile's trigger is the learner's response (§3.2 "responded"); a record that
        // has only its definition so far is not a response yet.
        if interaction.response.is_some() || interaction.result.is_some() {
            statements.push(emitter.responded(model, index, &interaction));
        }
    }

    let before = previous
        .map(|(_, s)| objective_statuses(s))
        .unwrap_or_default();
    for (key, now) in objective_statuses(summary) {
        let prior = before.iter().find(|(k, _)| *k == key).map(|(_, s)| s);
        let (id, occurrence) = &key;
        let description = objective_description(model, payload, id);
        let object = emitter.objective_activity(id, description.as_deref());
        let target = format!("objectives/{occurrence}/{id}");
        for (verb, result) in now.changes(prior) {
            statements.push(emitter.statement(verb, &target, object.clone(), true, result, &[]));
        }
    }

    let now = Status::of_summary(summary);
    let prior = previous.map(|(_, s)| Status::of_summary(s));
    for (verb, result) in now.changes(prior.as_ref()) {
        statements.push(emitter.about_sco(verb, result));
    }

    if payload.terminated {
        statements.push(emitter.exit(summary));
    }
    statements
}

/// Statements when the LMS ends a session the SCO never terminated (the window was closed):
/// `suspended`, with the result the last commit gave, so that the next session resumes the
/// attempt (as `Start::after` decides). Nothing when the last commit was already the
/// terminating one.
pub fn session_abandoned(
    ctx: &ProfileContext,
    last: Option<(&CommitPayload, &AttemptSummary)>,
) -> Vec<Value> {
    let moment = match last {
        Some((payload, _)) => format!("abandoned/{}", payload.sequence),
        None => "abandoned".to_owned(),
    };
    let emitter = Emitter::new(ctx, moment);
    match last {
        Some((payload, _)) if payload.terminated => Vec::new(),
        Some((_, summary)) => vec![emitter.about_sco(Verb::Suspended, outcome(summary))],
        None => vec![emitter.about_sco(Verb::Suspended, None)],
    }
}

/// The objectives of the attempt as the LMS evaluated them, each keyed by its id and how
/// many records before it have the same id (SCORM 2004 ids are unique, SCORM 1.2 ones need
/// not be).
fn objective_statuses(summary: &AttemptSummary) -> Vec<((String, usize), Status)> {
    let mut keyed: Vec<((String, usize), Status)> = Vec::new();
    for objective in &summary.objectives {
        let occurrence = keyed
            .iter()
            .filter(|((id, _), _)| *id == objective.id)
            .count();
        let status = Status {
            completion: objective.completion,
            success: objective.success,
            score: xapi_score(summary.data_model, &objective.score),
            progress: objective.progress_measure,
        };
        keyed.push(((objective.id.clone(), occurrence), status));
    }
    keyed
}

/// The description the SCO gave the objective `id` (SCORM 2004 `cmi.objectives.n.description`).
fn objective_description(model: DataModel, payload: &CommitPayload, id: &str) -> Option<String> {
    if model != DataModel::Scorm2004 {
        return None;
    }
    records::records(payload, "cmi.objectives")
        .into_values()
        .find(|fields| fields.get("id").is_some_and(|v| v == id))
        .and_then(|mut fields| fields.remove("description"))
}

/// What the status verbs report on for one activity (the SCO or an objective).
#[derive(Debug, Clone, PartialEq)]
struct Status {
    completion: CompletionStatus,
    success: SuccessStatus,
    score: Option<Map<String, Value>>,
    progress: Option<f64>,
}

impl Status {
    fn of_summary(summary: &AttemptSummary) -> Status {
        Status {
            completion: summary.completion,
            success: summary.success,
            score: xapi_score(summary.data_model, &summary.score),
            progress: summary.progress_measure,
        }
    }

    /// The statements a change from `before` calls for (§6 "Progress Measure", "Score",
    /// "Completion Status", "Success Status"), each with its result.
    fn changes(&self, before: Option<&Status>) -> Vec<(Verb, Option<Map<String, Value>>)> {
        let mut changes = Vec::new();
        if let Some(progress) = self.progress
            && before.and_then(|b| b.progress) != Some(progress)
            && let Some(scaled) = number(progress).filter(|_| (0.0..=1.0).contains(&progress))
        {
            // Profile §6 "Progress Measure": the measure goes in `result.score.scaled`.
            changes.push((
                Verb::Progressed,
                Some(result([("score", json!({ "scaled": scaled }))])),
            ));
        }
        if let Some(score) = &self.score
            && before.and_then(|b| b.score.as_ref()) != Some(score)
        {
            changes.push((
                Verb::Scored,
                Some(result([("score", Value::Object(score.clone()))])),
            ));
        }
        if self.completion == CompletionStatus::Completed
            && before.map(|b| b.completion) != Some(CompletionStatus::Completed)
        {
            changes.push((Verb::Completed, Some(result([("completion", json!(true))]))));
        }
        let success_changed = before.map(|b| b.success) != Some(self.success);
        match self.success {
            SuccessStatus::Passed if success_changed => {
                changes.push((Verb::Passed, Some(result([("success", json!(true))]))));
            }
            SuccessStatus::Failed if success_changed => {
                changes.push((Verb::Failed, Some(result([("success", json!(false))]))));
            }
            _ => {}
        }
        changes
    }
}

/// The SCO's result for `terminated` and `suspended` (§5 "Terminating an attempt"): success,
/// completion and score when known, and the session time as the duration (§6 "Session Time").
fn outcome(summary: &AttemptSummary) -> Option<Map<String, Value>> {
    let mut map = Map::new();
    match summary.success {
        SuccessStatus::Passed => {
            map.insert("success".into(), json!(true));
        }
        SuccessStatus::Failed => {
            map.insert("success".into(), json!(false));
        }
        SuccessStatus::Unknown => {}
    }
    match summary.completion {
        CompletionStatus::Completed => {
            map.insert("completion".into(), json!(true));
        }
        CompletionStatus::Incomplete | CompletionStatus::NotAttempted => {
            map.insert("completion".into(), json!(false));
        }
        CompletionStatus::Unknown => {}
    }
    if let Some(score) = xapi_score(summary.data_model, &summary.score) {
        map.insert("score".into(), Value::Object(score));
    }
    if let Some(session) = summary.session_time {
        map.insert("duration".into(), json!(format_time_interval(session)));
    }
    (!map.is_empty()).then_some(map)
}

/// A SCORM score as an xAPI score (Data §2.4.5.1), or `None` when there is neither a scaled
/// nor a raw score. Profile §6 "Score": SCORM 2004 `score.scaled` is `scaled`; SCORM 1.2 has
/// none, and `score.raw / 100` stands for it. xAPI requires `scaled` in [-1, 1] and
/// `min < max` with `raw` between them, so a bound that contradicts the rest is left out
/// rather than making the statement invalid.
fn xapi_score(model: DataModel, score: &Score) -> Option<Map<String, Value>> {
    let finite = |n: Option<f64>| n.filter(|n| n.is_finite());
    let raw = finite(score.raw);
    let scaled = match model {
        DataModel::Scorm2004 => finite(score.scaled),
        DataModel::Scorm12 => raw.map(|raw| raw / 100.0),
    }
    .filter(|s| (-1.0..=1.0).contains(s));
    let (mut min, mut max) = (finite(score.min), finite(score.max));
    if let (Some(low), Some(high)) = (min, max)
        && low >= high
    {
        (min, max) = (None, None);
    }
    if let Some(raw) = raw {
        if min.is_some_and(|low| raw < low) {
            min = None;
        }
        if max.is_some_and(|high| raw > high) {
            max = None;
        }
    }
    if scaled.is_none() && raw.is_none() {
        return None;
    }
    let mut map = Map::new();
    for (key, value) in [("scaled", scaled), ("raw", raw), ("min", min), ("max", max)] {
        if let Some(value) = value.and_then(number) {
            map.insert(key.into(), Value::Number(value));
        }
    }
    Some(map)
}

fn number(value: f64) -> Option<Number> {
    Number::from_f64(value)
}

fn result<const N: usize>(entries: [(&str, Value); N]) -> Map<String, Value> {
    entries
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
}

/// A language map for text whose language nobody stated: `und`, RFC 5646's "undetermined".
fn undetermined(text: &str) -> Value {
    json!({ "und": text })
}

/// A SCORM 2004 localized string (`{lang=fr}Bonjour`) as a language map.
fn localized(text: &str) -> Value {
    if let Some(rest) = text.strip_prefix("{lang=")
        && let Some((lang, body)) = rest.split_once('}')
        && xapi::is_language_tag(lang)
    {
        let mut map = Map::new();
        map.insert(lang.to_owned(), json!(body));
        return Value::Object(map);
    }
    undetermined(text)
}

/// Builds the statements of one moment of a session (its start, a commit, its abandonment).
struct Emitter<'a> {
    ctx: &'a ProfileContext,
    moment: String,
}

impl<'a> Emitter<'a> {
    fn new(ctx: &'a ProfileContext, moment: String) -> Self {
        Emitter { ctx, moment }
    }

    /// A name-based UUID (RFC 4122 §4.3, SHA-1) over the session, the moment, the verb and
    /// the target, in a namespace of the profile's own.
    fn id(&self, verb: Verb, target: &str) -> Uuid {
        let namespace = Uuid::new_v5(&Uuid::NAMESPACE_URL, SCORM_PROFILE.as_bytes());
        let name = format!(
            "{}/{}/{}/{}",
            self.ctx.session,
            self.moment,
            verb.name(),
            target
        );
        Uuid::new_v5(&namespace, name.as_bytes())
    }

    /// A statement with the profile's context (§3.2 "Context Activities", §5): the
    /// registration; the SCO as `parent` for what is inside it; the course and the attempt
    /// as `grouping`; the profile activity as `category`.
    fn statement(
        &self,
        verb: Verb,
        target: &str,
        object: Value,
        inside_sco: bool,
        result: Option<Map<String, Value>>,
        other: &[Value],
    ) -> Value {
        let mut context_activities = Map::new();
        if inside_sco {
            context_activities.insert("parent".into(), json!([self.sco_activity()]));
        }
        context_activities.insert(
            "grouping".into(),
            json!([self.course_activity(), self.attempt_activity()]),
        );
        context_activities.insert(
            "category".into(),
            json!([{ "id": SCORM_PROFILE, "definition": { "type": PROFILE_ACTIVITY_TYPE } }]),
        );
        if !other.is_empty() {
            context_activities.insert("other".into(), Value::Array(other.to_vec()));
        }
        let mut statement = Map::new();
        statement.insert("id".into(), json!(self.id(verb, target).to_string()));
        statement.insert("actor".into(), self.ctx.actor.clone());
        statement.insert(
            "verb".into(),
            json!({ "id": verb.iri(), "display": { "en-US": verb.name() } }),
        );
        statement.insert("object".into(), object);
        if let Some(result) = result {
            statement.insert("result".into(), Value::Object(result));
        }
        statement.insert(
            "context".into(),
            json!({
                "registration": self.ctx.registration.to_string(),
                "contextActivities": context_activities,
            }),
        );
        statement.insert("timestamp".into(), json!(self.ctx.timestamp));
        Value::Object(statement)
    }

    fn about_sco(&self, verb: Verb, result: Option<Map<String, Value>>) -> Value {
        self.statement(verb, "sco", self.sco_activity(), false, result, &[])
    }

    /// §5 "Terminating an attempt", "Suspending an attempt".
    fn exit(&self, summary: &AttemptSummary) -> Value {
        let verb = if summary.suspended {
            Verb::Suspended
        } else {
            Verb::Terminated
        };
        self.about_sco(verb, outcome(summary))
    }

    /// §6 "Interactions": `responded`, the response in `result.response`, the interaction
    /// described as xAPI interaction activities are (Data §2.4.4.1).
    fn responded(&self, model: DataModel, index: usize, interaction: &Interaction<'_>) -> Value {
        let mapped = responses::map(
            model,
            interaction.kind,
            &interaction.patterns,
            interaction.response,
        );
        let mut definition = Map::new();
        definition.insert("name".into(), undetermined(interaction.id));
        if let Some(description) = interaction.description {
            definition.insert("description".into(), localized(description));
        }
        definition.insert("type".into(), json!(ActivityType::Interaction.iri()));
        definition.insert("interactionType".into(), json!(mapped.interaction_type));
        if !mapped.patterns.is_empty() {
            definition.insert("correctResponsesPattern".into(), json!(mapped.patterns));
        }
        for (list, ids) in &mapped.components {
            let components: Vec<Value> = ids.iter().map(|id| json!({ "id": id })).collect();
            definition.insert((*list).into(), Value::Array(components));
        }
        let object = json!({
            "id": format!("{}/interactions/{}", self.ctx.sco.iri, encode_segment(interaction.id)),
            "definition": definition,
        });

        let mut outcome = Map::new();
        if let Some(response) = mapped.response {
            outcome.insert("response".into(), json!(response));
        }
        match interaction.result {
            Some("correct") => {
                outcome.insert("success".into(), json!(true));
            }
            // 2004 `incorrect`, 1.2 `wrong`.
            Some("incorrect" | "wrong") => {
                outcome.insert("success".into(), json!(false));
            }
            // A numeric result is the score the SCO gave the response (RTE §4.2.9).
            Some(other) => {
                if let Some(raw) = records::parse_number(other).and_then(number) {
                    outcome.insert("score".into(), json!({ "raw": raw }));
                }
            }
            None => {}
        }
        if let Some(latency) = interaction.latency {
            outcome.insert("duration".into(), json!(format_time_interval(latency)));
        }
        let objectives: Vec<Value> = interaction
            .objectives
            .iter()
            .map(|id| self.objective_activity(id, None))
            .collect();
        let result = (!outcome.is_empty()).then_some(outcome);
        self.statement(
            Verb::Responded,
            &format!("interactions/{index}"),
            object,
            true,
            result,
            &objectives,
        )
    }

    fn sco_activity(&self) -> Value {
        activity(
            &self.ctx.sco.iri,
            named(&self.ctx.sco.title),
            ActivityType::Lesson,
        )
    }

    fn course_activity(&self) -> Value {
        activity(
            &self.ctx.course.iri,
            named(&self.ctx.course.title),
            ActivityType::Course,
        )
    }

    fn attempt_activity(&self) -> Value {
        let name = if self.ctx.sco.title.is_empty() {
            "Attempt".to_owned()
        } else {
            format!("Attempt of {}", self.ctx.sco.title)
        };
        activity(
            &self.ctx.attempt_iri(),
            Some(json!({ "en-US": name })),
            ActivityType::Attempt,
        )
    }

    /// An objective of the SCO: `<SCO IRI>/objectives/<id>` (§3.2 "Activity IRI"). SCORM
    /// does not say whether a local objective maps to a global one, so all are the SCO's.
    fn objective_activity(&self, id: &str, description: Option<&str>) -> Value {
        let mut definition = Map::new();
        definition.insert("name".into(), undetermined(id));
        if let Some(description) = description {
            definition.insert("description".into(), localized(description));
        }
        definition.insert("type".into(), json!(ActivityType::Objective.iri()));
        json!({
            "id": format!("{}/objectives/{}", self.ctx.sco.iri, encode_segment(id)),
            "definition": definition,
        })
    }
}

fn named(title: &str) -> Option<Value> {
    (!title.is_empty()).then(|| undetermined(title))
}

fn activity(id: &str, name: Option<Value>, kind: ActivityType) -> Value {
    let mut definition = Map::new();
    if let Some(name) = name {
        definition.insert("name".into(), name);
    }
    definition.insert("type".into(), json!(kind.iri()));
    json!({ "id": id, "definition": definition })
}
