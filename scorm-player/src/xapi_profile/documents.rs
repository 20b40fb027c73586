//! The profile's documents (Appendix "xAPI SCORM Data Objects", and the JSON schemas of its
//! `document-schemas/`): what a SCO keeps that is not a learning experience.

use serde_json::{Map, Number, Value, json};
use uuid::Uuid;

use super::records;
use super::vocabulary::{
    ACTIVITY_PROFILE_ID, ACTIVITY_STATE_ID, AGENT_PROFILE_ID, ATTEMPT_STATE_ID,
    SUSPEND_DATA_STATE_ID,
};
use super::{DocumentKind, ProfileContext, ProfileDocument, attempt_iri};
use crate::runtime::{
    AttemptSummary, CommitPayload, LaunchData, format_time_interval, parse_cmi_timespan,
    parse_time_interval,
};
use crate::version::{DataModel, ScormVersion};

const JSON: &str = "application/json";
/// Suspend data and shared data are the SCO's own strings, stored as they are.
const TEXT: &str = "text/plain; charset=utf-8";

/// The profile's documents to write after a commit, in this order:
///
/// - the Activity State (SCO IRI, learner): `attempts`, the IRIs of `attempts` (every
///   attempt of this learner on this SCO, oldest first; the current one is added last when
///   missing);
/// - the Attempt State (attempt IRI, learner): credit, mode, location, total time, comments
///   from the LMS, the learner's preferences for this attempt (the LMS's defaults with what
///   the SCO changed) and, in SCORM 2004 4th Edition, where each shared data bucket is kept;
/// - the suspend data (attempt IRI, learner, registration), when the SCO set any;
/// - each `adl.data` bucket the SCO wrote (course IRI, learner, registration; the bucket id is
///   the `stateId`), SCORM 2004 4th Edition;
/// - the Activity Profile (SCO IRI): launch data, max time allowed (seconds), time limit
///   action, completion threshold, scaled passing score (SCORM 1.2: mastery score / 100);
/// - the Agent Profile (learner): learner id and name, default preferences.
///
/// The State documents of the profile are read without a registration (Appendix "Get xAPI
/// SCORM Activity State" and "…Attempt State" list none), so those two are written without.
pub fn documents(
    ctx: &ProfileContext,
    launch: &LaunchData,
    payload: &CommitPayload,
    summary: &AttemptSummary,
    attempts: &[Uuid],
) -> Vec<ProfileDocument> {
    let attempt = ctx.attempt_iri();
    let mut documents = Vec::new();

    let mut attempt_iris: Vec<String> = attempts
        .iter()
        .map(|id| attempt_iri(&ctx.sco.iri, *id))
        .collect();
    if !attempts.contains(&ctx.attempt) {
        attempt_iris.push(attempt.clone());
    }
    documents.push(state(
        ctx,
        &ctx.sco.iri,
        ACTIVITY_STATE_ID,
        &json!({ "attempts": attempt_iris }),
    ));

    documents.push(state(
        ctx,
        &attempt,
        ATTEMPT_STATE_ID,
        &Value::Object(attempt_state(ctx, launch, payload, summary)),
    ));

    if let Some(suspend_data) = &summary.suspend_data {
        documents.push(ProfileDocument {
            kind: DocumentKind::State,
            activity_id: Some(attempt.clone()),
            agent: Some(ctx.actor.clone()),
            registration: Some(ctx.registration),
            id: SUSPEND_DATA_STATE_ID.to_owned(),
            content_type: TEXT.to_owned(),
            content: suspend_data.as_bytes().to_vec(),
        });
    }

    if has_shared_data(ctx) {
        for (index, bucket) in launch.shared_data.iter().enumerate() {
            let written = records::value(payload, &format!("adl.data.{index}.store"));
            if let (true, Some(store)) = (bucket.writable, written) {
                documents.push(ProfileDocument {
                    kind: DocumentKind::State,
                    activity_id: Some(ctx.course.iri.clone()),
                    agent: Some(ctx.actor.clone()),
                    registration: Some(ctx.registration),
                    id: bucket.id.clone(),
                    content_type: TEXT.to_owned(),
                    content: store.as_bytes().to_vec(),
                });
            }
        }
    }

    documents.push(ProfileDocument {
        kind: DocumentKind::ActivityProfile,
        activity_id: Some(ctx.sco.iri.clone()),
        agent: None,
        registration: None,
        id: ACTIVITY_PROFILE_ID.to_owned(),
        content_type: JSON.to_owned(),
        content: to_bytes(&Value::Object(activity_profile(ctx, launch))),
    });

    let mut agent_profile = Map::new();
    agent_profile.insert("learner_id".into(), json!(launch.learner_id));
    agent_profile.insert(
        "learner_name".into(),
        json!(without_language(&launch.learner_name)),
    );
    let defaults = Preferences::defaults(launch);
    if !defaults.is_empty() {
        agent_profile.insert("preferences".into(), Value::Object(defaults.0));
    }
    documents.push(ProfileDocument {
        kind: DocumentKind::AgentProfile,
        activity_id: None,
        agent: Some(ctx.actor.clone()),
        registration: None,
        id: AGENT_PROFILE_ID.to_owned(),
        content_type: JSON.to_owned(),
        content: to_bytes(&Value::Object(agent_profile)),
    });

    documents
}

/// A JSON State document of the learner, without registration.
fn state(ctx: &ProfileContext, activity_id: &str, id: &str, content: &Value) -> ProfileDocument {
    ProfileDocument {
        kind: DocumentKind::State,
        activity_id: Some(activity_id.to_owned()),
        agent: Some(ctx.actor.clone()),
        registration: None,
        id: id.to_owned(),
        content_type: JSON.to_owned(),
        content: to_bytes(content),
    }
}

fn to_bytes(value: &Value) -> Vec<u8> {
    // A `Value` always serialises.
    serde_json::to_vec(value).unwrap_or_default()
}

fn has_shared_data(ctx: &ProfileContext) -> bool {
    ctx.version == ScormVersion::Scorm2004Ed4
}

/// Appendix "SCORM Activity Attempt State".
fn attempt_state(
    ctx: &ProfileContext,
    launch: &LaunchData,
    payload: &CommitPayload,
    summary: &AttemptSummary,
) -> Map<String, Value> {
    let mut state = Map::new();
    if !launch.comments_from_lms.is_empty() {
        let comments: Vec<Value> = launch
            .comments_from_lms
            .iter()
            .map(|comment| {
                let mut entry = Map::new();
                entry.insert("comment".into(), json!(comment.comment));
                if let Some(location) = &comment.location {
                    entry.insert("location".into(), json!(location));
                }
                // The schema asks for an RFC 3339 date-time; a SCORM time without a zone
                // (or without a time of day) is not one.
                if let Some(timestamp) = comment.timestamp.as_deref().filter(|t| is_date_time(t)) {
                    entry.insert("timestamp".into(), json!(timestamp));
                }
                Value::Object(entry)
            })
            .collect();
        state.insert("comments_from_lms".into(), Value::Array(comments));
    }
    state.insert("credit".into(), json!(launch.credit.as_str()));
    state.insert("mode".into(), json!(launch.mode.as_str()));
    if let Some(location) = &summary.location {
        state.insert("location".into(), json!(location));
    }
    let preferences = Preferences::of_attempt(launch, payload, summary.data_model);
    if !preferences.is_empty() {
        state.insert("preferences".into(), Value::Object(preferences.0));
    }
    state.insert(
        "total_time".into(),
        json!(format_time_interval(summary.total_time)),
    );
    if has_shared_data(ctx) && !launch.shared_data.is_empty() {
        let buckets: Vec<Value> = launch
            .shared_data
            .iter()
            .map(|bucket| {
                json!({
                    "activityId": ctx.course.iri,
                    "agent": ctx.actor,
                    "stateId": bucket.id,
                    "registration": ctx.registration.to_string(),
                })
            })
            .collect();
        state.insert("adl_data".into(), Value::Array(buckets));
    }
    state
}

/// Appendix "SCORM Activity Profile".
fn activity_profile(ctx: &ProfileContext, launch: &LaunchData) -> Map<String, Value> {
    let model = ctx.version.data_model();
    let mut profile = Map::new();
    if let Some(threshold) = launch
        .completion_threshold
        .filter(|t| (0.0..=1.0).contains(t))
        .and_then(Number::from_f64)
    {
        profile.insert("completion_threshold".into(), Value::Number(threshold));
    }
    if let Some(data) = &launch.launch_data {
        profile.insert("launch_data".into(), json!(data));
    }
    let max_time = launch
        .max_time_allowed
        .as_deref()
        .and_then(|text| match model {
            DataModel::Scorm12 => parse_cmi_timespan(text),
            DataModel::Scorm2004 => parse_time_interval(text),
        });
    if let Some(centis) = max_time {
        // The schema's `max_time_allowed` is a number of seconds.
        let seconds = if centis % 100 == 0 {
            Some(Number::from(centis / 100))
        } else {
            Number::from_f64(centis as f64 / 100.0)
        };
        if let Some(seconds) = seconds {
            profile.insert("max_time_allowed".into(), Value::Number(seconds));
        }
    }
    // Profile §6 "Scaled Passing Score": SCORM 1.2's mastery score (0–100) stands for it.
    let passing = match model {
        DataModel::Scorm2004 => launch.scaled_passing_score,
        DataModel::Scorm12 => launch.mastery_score.map(|m| m / 100.0),
    };
    if let Some(passing) = passing
        .filter(|p| (-1.0..=1.0).contains(p))
        .and_then(Number::from_f64)
    {
        profile.insert("scaled_passing_score".into(), Value::Number(passing));
    }
    if let Some(action) = launch.time_limit_action {
        profile.insert("time_limit_action".into(), json!(action.as_str()));
    }
    profile
}

/// The Preferences Object, holding only values its schema accepts.
struct Preferences(Map<String, Value>);

impl Preferences {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The LMS's defaults for the learner (Appendix "Agent Profile").
    fn defaults(launch: &LaunchData) -> Preferences {
        let mut preferences = Preferences(Map::new());
        if let Some(defaults) = &launch.learner_preference {
            preferences.audio_level(defaults.audio_level);
            preferences.language(&defaults.language);
            preferences.delivery_speed(defaults.delivery_speed);
            preferences.audio_captioning(i64::from(defaults.audio_captioning));
        }
        preferences
    }

    /// The defaults with what the SCO set in this attempt (profile §6 "Learner
    /// Preferences", content specific values). SCORM 1.2's `student_preference` maps element
    /// by element as the profile lists: audio, language, speed, text.
    fn of_attempt(launch: &LaunchData, payload: &CommitPayload, model: DataModel) -> Preferences {
        let mut preferences = Preferences::defaults(launch);
        let (group, audio, speed, captioning) = match model {
            DataModel::Scorm2004 => (
                "cmi.learner_preference",
                "audio_level",
                "delivery_speed",
                "audio_captioning",
            ),
            DataModel::Scorm12 => ("cmi.student_preference", "audio", "speed", "text"),
        };
        let set = |field: &str| records::value(payload, &format!("{group}.{field}"));
        if let Some(level) = set(audio).and_then(records::parse_number) {
            preferences.0.remove("audio_level");
            preferences.audio_level(level);
        }
        if let Some(language) = set("language") {
            preferences.0.remove("language");
            preferences.language(language);
        }
        if let Some(speed) = set(speed).and_then(records::parse_number) {
            preferences.0.remove("delivery_speed");
            preferences.delivery_speed(speed);
        }
        if let Some(captioning) = set(captioning).and_then(|v| v.parse::<i64>().ok()) {
            preferences.0.remove("audio_captioning");
            preferences.audio_captioning(captioning);
        }
        preferences
    }

    /// `audio_level`: a number from 0 (SCORM 1.2's -1, "off", has no place in it).
    fn audio_level(&mut self, level: f64) {
        if let Some(level) = Some(level).filter(|l| *l >= 0.0).and_then(Number::from_f64) {
            self.0.insert("audio_level".into(), Value::Number(level));
        }
    }

    /// `language`: the schema's `xx[-YY[-Zzzz]]`; letter case is normalised (RFC 5646 §2.1.1:
    /// tags are case-insensitive), other tags are left out.
    fn language(&mut self, language: &str) {
        if let Some(language) = schema_language(language) {
            self.0.insert("language".into(), json!(language));
        }
    }

    /// `delivery_speed`: a number from 0 (SCORM 1.2's negative speeds have no place in it).
    fn delivery_speed(&mut self, speed: f64) {
        if let Some(speed) = Some(speed).filter(|s| *s >= 0.0).and_then(Number::from_f64) {
            self.0.insert("delivery_speed".into(), Value::Number(speed));
        }
    }

    /// `audio_captioning`: -1 (off), 0 (no change), 1 (on).
    fn audio_captioning(&mut self, captioning: i64) {
        if (-1..=1).contains(&captioning) {
            self.0.insert("audio_captioning".into(), json!(captioning));
        }
    }
}

/// A language tag in the form the profile's schemas accept,
/// `^[a-z]{2,3}(?:-[A-Z]{2,3}(?:-[a-zA-Z]{4})?)?$`.
fn schema_language(tag: &str) -> Option<String> {
    let parts: Vec<&str> = tag.split('-').collect();
    let letters = |part: &str, lengths: std::ops::RangeInclusive<usize>| {
        lengths.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphabetic())
    };
    let ok = match parts.as_slice() {
        [primary] => letters(primary, 2..=3),
        [primary, region] => letters(primary, 2..=3) && letters(region, 2..=3),
        [primary, region, script] => {
            letters(primary, 2..=3) && letters(region, 2..=3) && letters(script, 4..=4)
        }
        _ => false,
    };
    if !ok {
        return None;
    }
    let normalised: Vec<String> = parts
        .iter()
        .enumerate()
        .map(|(i, part)| match i {
            0 => part.to_ascii_lowercase(),
            1 => part.to_ascii_uppercase(),
            _ => (*part).to_owned(),
        })
        .collect();
    Some(normalised.join("-"))
}

/// A SCORM 2004 localized string without its `{lang=…}` delimiter (the profile's
/// `learner_name` is a plain string).
fn without_language(text: &str) -> &str {
    text.strip_prefix("{lang=")
        .and_then(|rest| rest.split_once('}'))
        .map_or(text, |(_, body)| body)
}

/// An RFC 3339 date-time (the schema's `format: date-time`): `YYYY-MM-DDThh:mm:ss[.f]` and
/// `Z` or `±hh:mm`, which xAPI also reads as a timestamp.
fn is_date_time(text: &str) -> bool {
    let Some((date, time)) = text.split_once('T') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let shape = |s: &str, lengths: &[usize], separator: char| {
        let parts: Vec<&str> = s.split(separator).collect();
        parts.len() == lengths.len()
            && parts
                .iter()
                .zip(lengths)
                .all(|(part, length)| part.len() == *length && digits(part))
    };
    let (clock, zone) = if let Some(clock) = time.strip_suffix('Z') {
        (clock, None)
    } else if time.len() > 6 && time.is_char_boundary(time.len() - 6) {
        let (clock, zone) = time.split_at(time.len() - 6);
        (clock, Some(zone))
    } else {
        return false;
    };
    let zone_ok = zone.is_none_or(|zone| {
        zone.strip_prefix(['+', '-'])
            .is_some_and(|offset| shape(offset, &[2, 2], ':'))
    });
    let (whole, fraction) = clock.split_once('.').unwrap_or((clock, "0"));
    shape(date, &[4, 2, 2], '-')
        && shape(whole, &[2, 2, 2], ':')
        && digits(fraction)
        && zone_ok
        && xapi::parse_timestamp(text).is_ok()
}
