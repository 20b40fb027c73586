//! The player's API behind a launch link: the launch page, navigation (the sequencer decides),
//! sessions and their commits (the run-time data model decides), and the xAPI statements each
//! step produces.
//!
//! A commit is replayed through [`runtime::replay`](crate::runtime::replay) before anything is
//! kept, so nothing the browser says is trusted. Commits are idempotent by (session, sequence):
//! a session keeps its last accepted commit and the last one its statements were emitted
//! for, and statement ids are derived from both, so a retried commit, or one whose statements
//! were cut short by a crash, emits the same statements again and the LRS keeps them once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::ScormServer;
use super::error::{ScormError, ScormErrorKind};
use super::packages::LoadedPackage;
use super::ports::{Expect, Tenant};
use super::registrations::RegistrationRecord;
use super::store::{REGISTRATION, REGISTRATION_ID, SESSION, Versioned};
use crate::runtime::{
    AttemptSummary, CommitPayload, LaunchData, Navigation, PriorAttempt, ReplayError, Start, replay,
};
use crate::sequencing::{self, NavOutcome, NavRequest};
use crate::xapi_profile::{self, ActivityRef, ProfileContext};

/// How many times a step is retried when another request changed the same record meanwhile.
const ATTEMPTS: usize = 16;

/// One delivery of a SCO: its launch data, how it started, and its commits.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct SessionRecord {
    pub key: String,
    pub session: Uuid,
    pub registration: Uuid,
    pub item: String,
    pub attempt: Uuid,
    pub started: DateTime<Utc>,
    pub launch: LaunchData,
    /// `cmi.entry` of the session: "ab-initio", "resume" or "".
    pub entry: String,
    pub prior: Option<PriorAttempt>,
    /// The last accepted commit.
    pub last: Option<CommitRecord>,
    /// The commit statements were last emitted for.
    pub emitted: Option<CommitRecord>,
    /// The SCO terminated, or the player moved on without it.
    pub ended: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct CommitRecord {
    pub payload: CommitPayload,
    pub summary: AttemptSummary,
    pub at: DateTime<Utc>,
    /// Every value of the attempt after this commit, those the session started with included
    /// (the browser sends only what its SCO set): what a later session resumes from.
    #[serde(default)]
    pub attempt_data: Option<CommitPayload>,
}

/// Puts a session's last commit on its registration: the data to resume from and the summary.
/// Only the item's latest session may do so. Both the commit (after storing the session) and
/// a navigation (which may overtake the commit's own update, e.g. a page reloaded right after
/// its closing beacon) call it; the session record is written first, so neither misses it.
fn apply_commit(registration: &mut RegistrationRecord, session: &SessionRecord) -> bool {
    let Some(last) = &session.last else {
        return false;
    };
    let activity = registration
        .activities
        .entry(session.item.clone())
        .or_default();
    if activity.last_session.as_deref() != Some(session.key.as_str()) {
        return false;
    }
    let payload = last
        .attempt_data
        .clone()
        .unwrap_or_else(|| last.payload.clone());
    let mut total_time = last.summary.total_time;
    if !payload.terminated {
        total_time += last.summary.session_time.unwrap_or_default();
    }
    activity.prior = Some(PriorAttempt {
        payload,
        total_time,
    });
    activity.summary = Some(last.summary.clone());
    true
}

impl SessionRecord {
    pub fn view(&self) -> super::registrations::SessionView {
        super::registrations::SessionView {
            id: self.key.clone(),
            item: self.item.clone(),
            attempt: self.attempt,
            entry: self.entry.clone(),
            started: self.started,
            ended: self.ended,
            commits: self.last.as_ref().map_or(0, |c| c.payload.sequence),
            last_commit: self.last.as_ref().map(|c| c.at),
            summary: self.last.as_ref().map(|c| c.summary.clone()),
        }
    }

    fn start(&self) -> Start {
        match (&self.prior, self.entry.as_str()) {
            (Some(prior), "resume") => Start::Resume(prior.clone()),
            (Some(prior), "") => Start::Continue(prior.clone()),
            _ => Start::New,
        }
    }
}

/// The body of `POST …/api/navigate`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NavigateBody {
    pub request: String,
    #[serde(default)]
    pub target: Option<String>,
}

/// What the player is told after a navigation request or a commit.
#[derive(Debug, Clone, Serialize)]
pub struct PlayerState {
    pub delivery: Option<Delivery>,
    pub ended: bool,
    pub suspended: bool,
    /// Said to the learner when nothing was delivered and the outline is the way on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub outline: Vec<OutlineItem>,
    pub controls: Controls,
}

/// One line of the outline the player shows.
#[derive(Debug, Clone, Serialize)]
pub struct OutlineItem {
    pub id: String,
    pub title: String,
    pub depth: usize,
    pub leaf: bool,
    pub current: bool,
    /// The learner may choose it now.
    pub choosable: bool,
    pub visible: bool,
    pub disabled: bool,
    pub completion: crate::runtime::CompletionStatus,
    pub success: crate::runtime::SuccessStatus,
    pub suspended: bool,
    pub attempts: u32,
}

impl From<sequencing::OutlineEntry> for OutlineItem {
    fn from(entry: sequencing::OutlineEntry) -> Self {
        OutlineItem {
            id: entry.id,
            title: entry.title,
            depth: entry.depth,
            leaf: entry.leaf,
            current: entry.current,
            choosable: entry.choice,
            visible: !entry.hidden_from_choice,
            disabled: entry.disabled,
            completion: entry.completion,
            success: entry.success,
            suspended: entry.suspended,
            attempts: entry.attempts,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub item: String,
    pub title: String,
    pub url: String,
    pub session: String,
    pub commit_url: String,
    pub launch: LaunchData,
    pub start: StartView,
    pub navigation: Navigation,
}

#[derive(Debug, Clone, Serialize)]
pub struct StartView {
    pub entry: String,
    pub values: Vec<crate::runtime::ElementValue>,
    pub total_time: u64,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Controls {
    #[serde(rename = "continue")]
    pub continue_: bool,
    pub previous: bool,
    pub exit: bool,
    pub suspend: bool,
}

/// The answer to a commit.
#[derive(Debug, Clone, Serialize)]
pub struct CommitAnswer {
    pub accepted: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
    pub sequence: u64,
    pub navigation: Navigation,
    pub controls: Controls,
    /// A commit can complete or satisfy an activity: the outline as it now stands.
    pub outline: Vec<OutlineItem>,
}

/// The launch page's configuration, handed to `player.js`.
#[derive(Debug, Clone, Serialize)]
pub struct LaunchConfig {
    pub registration: Uuid,
    /// `ScormVersion`'s name ("1.2", "2004 3rd Edition", …): the editions' data models differ.
    pub version: crate::version::ScormVersion,
    pub title: String,
    pub api: String,
    pub commit_interval_ms: u64,
    pub limits: Value,
    pub initial_request: &'static str,
}

fn parse_request(body: &NavigateBody) -> Result<NavRequest, ScormError> {
    let text = match (&body.target, body.request.as_str()) {
        (Some(target), "choice") => format!("{{target={target}}}choice"),
        (Some(target), "jump") => format!("{{target={target}}}jump"),
        (_, other) => other.to_owned(),
    };
    NavRequest::parse(&text).ok_or_else(|| {
        ScormError::invalid(
            "request",
            "navigation-request",
            format!("unknown navigation request {:?}", body.request),
        )
    })
}

fn percent_encode_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl ScormServer {
    fn course_iri(&self, package: Uuid) -> String {
        format!(
            "{}/scorm/courses/{package}",
            self.inner.config.iri_base.trim_end_matches('/')
        )
    }

    fn profile_context(
        &self,
        package: &LoadedPackage,
        registration: &RegistrationRecord,
        session: &SessionRecord,
        at: DateTime<Utc>,
    ) -> ProfileContext {
        let course = self.course_iri(package.record.id);
        ProfileContext {
            actor: registration.learner.clone(),
            registration: registration.id,
            sco: ActivityRef {
                iri: format!("{course}/{}", percent_encode_segment(&session.item)),
                title: package
                    .tree
                    .title(&session.item)
                    .unwrap_or(&session.item)
                    .to_owned(),
            },
            course: ActivityRef {
                iri: course,
                title: package.record.title.clone(),
            },
            attempt: session.attempt,
            session: session.session,
            version: package.version,
            timestamp: at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        }
    }

    /// The package of a registration; a deleted package is 410 Gone.
    async fn playable(
        &self,
        tenant: Tenant,
        registration: &RegistrationRecord,
    ) -> Result<std::sync::Arc<LoadedPackage>, ScormError> {
        self.package(tenant, registration.package)
            .await
            .map_err(|e| match e.kind {
                ScormErrorKind::NotFound => ScormError::new(
                    ScormErrorKind::Gone,
                    "package-deleted",
                    "the course of this registration has been deleted",
                ),
                _ => e,
            })
    }

    /// The launch page's configuration. A session left open (the window was closed without
    /// Terminate) is closed here as if suspended, so the learner resumes where they were.
    pub async fn launch(&self, token: &str) -> Result<LaunchConfig, ScormError> {
        let grant = self.grant(token).await?;
        let tenant = grant.tenant;
        let mut registration = self.registration(tenant, grant.registration).await?;
        let package = self.playable(tenant, &registration.value).await?;
        if registration.value.current.is_some() {
            if let Err(e) = self
                .navigate_with(tenant, grant.registration, &NavRequest::SuspendAll)
                .await
            {
                if e.kind == ScormErrorKind::Unavailable {
                    return Err(e);
                }
                tracing::warn!(registration = %grant.registration, rule = e.rule, error = %e.message, "open session not suspended at relaunch");
            }
            registration = self.registration(tenant, grant.registration).await?;
        }
        let record = &registration.value;
        let initial_request = if record.sequencing.suspended().is_some() {
            "resumeAll"
        } else {
            "start"
        };
        let options = &self.inner.config.runtime;
        Ok(LaunchConfig {
            registration: record.id,
            version: package.version,
            title: package.record.title.clone(),
            api: format!("/scorm/launch/{token}/api"),
            commit_interval_ms: u64::try_from(self.inner.config.commit_interval.as_millis())
                .unwrap_or(30_000),
            limits: json!({
                "max_value_chars": options.max_value_chars,
                "max_records": options.max_records,
                "max_total_chars": options.max_total_chars,
            }),
            initial_request,
        })
    }

    /// `POST …/api/navigate`.
    pub async fn navigate(
        &self,
        token: &str,
        body: &NavigateBody,
    ) -> Result<PlayerState, ScormError> {
        let grant = self.grant(token).await?;
        let request = parse_request(body)?;
        let state = match self
            .navigate_with(grant.tenant, grant.registration, &request)
            .await
        {
            Ok(state) => state,
            // A course whose root does not allow flow cannot be started by Start or Resume
            // All (SN SB.2.2, SB.2.6); the learner begins by choosing from the outline.
            Err(e)
                if e.kind == ScormErrorKind::Refused
                    && matches!(request, NavRequest::Start | NavRequest::ResumeAll) =>
            {
                let registration = self.registration(grant.tenant, grant.registration).await?;
                let package = self.playable(grant.tenant, &registration.value).await?;
                let mut state = player_state(&package, &registration.value, None);
                state.message = Some("Choose where to begin from the outline.".to_owned());
                state
            }
            Err(e) => return Err(e),
        };
        Ok(state.with_token(token))
    }

    /// Ends the current session (if any), runs the sequencer and starts the delivered SCO's
    /// session; retried from the top when the registration changed meanwhile.
    async fn navigate_with(
        &self,
        tenant: Tenant,
        registration_id: Uuid,
        request: &NavRequest,
    ) -> Result<PlayerState, ScormError> {
        for _ in 0..ATTEMPTS {
            let Versioned {
                version,
                value: mut registration,
            } = self.registration(tenant, registration_id).await?;
            let package = self.playable(tenant, &registration).await?;
            // The session being left: its last data goes to the sequencer, and a SCO that
            // never terminated is closed as suspended (nothing the learner did is lost).
            let mut closing: Option<SessionRecord> = None;
            let mut request = request.clone();
            if let Some(key) = registration.current.clone()
                && let Some(session) = self
                    .load::<SessionRecord>(tenant, SESSION, &registration_id.to_string(), &key)
                    .await?
            {
                let session = session.value;
                // The session's last commit may not be on the registration yet (its commit is
                // still finishing): it is now, before anything is delivered.
                apply_commit(&mut registration, &session);
                if let Some(last) = &session.last {
                    sequencing::report(
                        &package.tree,
                        &mut registration.sequencing,
                        &session.item,
                        &last.summary,
                    );
                    // RTE cmi.exit: a SCO that exits by "time-out" or "logout" ends the whole
                    // session (SN: the LMS processes an Exit All), whatever comes next.
                    if last.summary.terminated
                        && matches!(last.summary.exit.as_deref(), Some("time-out" | "logout"))
                    {
                        request = NavRequest::ExitAll;
                    }
                }
                if !session.ended {
                    closing = Some(session);
                }
            }
            let mut sequencing_state = registration.sequencing.clone();
            let outcome = sequencing::navigate(&package.tree, &mut sequencing_state, &request)
                .map_err(|e| ScormError::new(ScormErrorKind::Refused, e.code, e.message.clone()))?;
            registration.sequencing = sequencing_state;
            let now = self.now();
            let mut started: Option<SessionRecord> = None;
            match &outcome {
                NavOutcome::Deliver {
                    activity,
                    resumed,
                    new_attempt,
                } => {
                    let session = self.new_session(
                        &package,
                        &mut registration,
                        activity,
                        *resumed,
                        *new_attempt,
                        now,
                    )?;
                    registration.current = Some(session.key.clone());
                    registration.suspended = false;
                    registration.ended = false;
                    started = Some(session);
                }
                NavOutcome::Ended => {
                    registration.current = None;
                    registration.suspended = false;
                    registration.ended = true;
                }
                NavOutcome::Suspended => {
                    registration.current = None;
                    registration.suspended = true;
                }
                NavOutcome::Idle => {
                    registration.current = None;
                }
            }
            if let Some(session) = &started {
                self.store(
                    tenant,
                    (SESSION, &registration_id.to_string(), &session.key),
                    session,
                    Expect::Absent,
                )
                .await?
                .ok_or_else(|| ScormError::internal("session id collision"))?;
            }
            let key = registration_id.to_string();
            let written = self
                .store(
                    tenant,
                    (REGISTRATION, &key, REGISTRATION_ID),
                    &registration,
                    Expect::Version(version),
                )
                .await?;
            if written.is_none() {
                continue;
            }
            if let Some(session) = closing {
                self.close_session(tenant, &package, &registration, session, now)
                    .await?;
            }
            return Ok(player_state(&package, &registration, started.as_ref()));
        }
        Err(ScormError::new(
            ScormErrorKind::Unavailable,
            "contention",
            "the registration is changing too fast; try again",
        ))
    }

    /// A session for `item`: a new attempt, a resumed one or a continued one, with the data
    /// the SCO will see.
    fn new_session(
        &self,
        package: &LoadedPackage,
        registration: &mut RegistrationRecord,
        item_id: &str,
        resumed: bool,
        new_attempt: bool,
        now: DateTime<Utc>,
    ) -> Result<SessionRecord, ScormError> {
        let item = package.manifest.item(item_id).ok_or_else(|| {
            ScormError::internal(format!("delivered item {item_id} not in the manifest"))
        })?;
        let activity = registration
            .activities
            .entry(item_id.to_owned())
            .or_default();
        let start = match (&activity.prior, resumed) {
            (Some(prior), true) => Start::Resume(prior.clone()),
            (Some(_), false) if new_attempt && package.version.is_2004() => Start::New,
            (Some(prior), false) => Start::after(package.version, prior.clone()),
            (None, _) => Start::New,
        };
        let (entry, prior) = match start {
            Start::New => ("ab-initio", None),
            Start::Resume(prior) => ("resume", Some(prior)),
            Start::Continue(prior) => ("", Some(prior)),
        };
        if entry == "ab-initio" || activity.attempts.is_empty() {
            activity.attempts.push(Uuid::new_v4());
        }
        let attempt = *activity
            .attempts
            .last()
            .ok_or_else(|| ScormError::internal("no attempt"))?;
        let session = Uuid::new_v4();
        let key = format!("{:016x}-{}", now.timestamp_micros(), session.simple());
        activity.last_session = Some(key.clone());
        let mut launch = LaunchData::for_item(
            &package.manifest,
            item,
            &registration.learner_id,
            &registration.learner_name,
        );
        if entry == "ab-initio" {
            launch.shared_data.iter_mut().for_each(|d| d.store = None);
        }
        // Statements are emitted by difference with what was already said of the attempt, so
        // a resumed or continued attempt starts from what its previous session emitted.
        let emitted = prior
            .as_ref()
            .zip(activity.summary.clone())
            .map(|(prior, summary)| CommitRecord {
                payload: CommitPayload {
                    sequence: 0,
                    ..prior.payload.clone()
                },
                summary,
                at: now,
                attempt_data: None,
            });
        Ok(SessionRecord {
            key,
            session,
            registration: registration.id,
            item: item_id.to_owned(),
            attempt,
            started: now,
            launch,
            entry: entry.to_owned(),
            prior,
            last: None,
            emitted,
            ended: false,
        })
    }

    /// Closes a session the SCO never terminated: a suspended statement (its data is already
    /// kept for the resume).
    async fn close_session(
        &self,
        tenant: Tenant,
        package: &LoadedPackage,
        registration: &RegistrationRecord,
        session: SessionRecord,
        now: DateTime<Utc>,
    ) -> Result<(), ScormError> {
        let group = registration.id.to_string();
        for _ in 0..ATTEMPTS {
            let Some(found) = self
                .load::<SessionRecord>(tenant, SESSION, &group, &session.key)
                .await?
            else {
                return Ok(());
            };
            let mut record = found.value;
            if record.ended {
                return Ok(());
            }
            record.ended = true;
            if self
                .store(
                    tenant,
                    (SESSION, &group, &record.key),
                    &record,
                    Expect::Version(found.version),
                )
                .await?
                .is_none()
            {
                continue;
            }
            // A session that never committed may never have been initialized: nothing to say.
            if let Some(last) = &record.last {
                let context = self.profile_context(package, registration, &record, now);
                let statements =
                    xapi_profile::session_abandoned(&context, Some((&last.payload, &last.summary)));
                self.inner.sink.record(tenant, statements).await?;
            }
            return Ok(());
        }
        Err(ScormError::new(
            ScormErrorKind::Unavailable,
            "contention",
            "the session is changing too fast; try again",
        ))
    }

    /// `POST …/api/sessions/{session}/commits`.
    pub async fn commit(
        &self,
        token: &str,
        session_key: &str,
        payload: CommitPayload,
    ) -> Result<CommitAnswer, ScormError> {
        let grant = self.grant(token).await?;
        let tenant = grant.tenant;
        let group = grant.registration.to_string();
        let registration = self.registration(tenant, grant.registration).await?;
        let package = self.playable(tenant, &registration.value).await?;
        for _ in 0..ATTEMPTS {
            let found = self
                .load::<SessionRecord>(tenant, SESSION, &group, session_key)
                .await?
                .ok_or_else(|| ScormError::not_found("session"))?;
            let mut session = found.value;
            let last_sequence = session.last.as_ref().map_or(0, |c| c.payload.sequence);
            if payload.sequence <= last_sequence {
                // A retry, or a commit overtaken by a later one: nothing new to keep, but the
                // statements of the last commit may still be owed.
                self.emit(tenant, &package, &registration.value, &group, session_key)
                    .await?;
                let (navigation, controls, outline) =
                    self.current_navigation(tenant, grant.registration).await?;
                return Ok(CommitAnswer {
                    accepted: false,
                    duplicate: true,
                    sequence: last_sequence,
                    navigation,
                    controls,
                    outline,
                });
            }
            let state = replay(
                package.version,
                session.launch.clone(),
                session.start(),
                self.inner.config.runtime,
                &payload,
            )
            .map_err(replay_error)?;
            let summary = state.summary();
            // What a later session resumes from: every value of the attempt, those this session
            // was started with included (the browser sends only what its SCO set).
            let mut attempt_data = state.commit_payload();
            attempt_data.sequence = payload.sequence;
            attempt_data.terminated = payload.terminated;
            session.last = Some(CommitRecord {
                payload: payload.clone(),
                summary: summary.clone(),
                at: self.now(),
                attempt_data: Some(attempt_data.clone()),
            });
            if payload.terminated {
                session.ended = true;
            }
            if self
                .store(
                    tenant,
                    (SESSION, &group, session_key),
                    &session,
                    Expect::Version(found.version),
                )
                .await?
                .is_none()
            {
                continue;
            }
            self.emit(tenant, &package, &registration.value, &group, session_key)
                .await?;
            self.record_attempt(tenant, &package, grant.registration, &session)
                .await?;
            let (navigation, controls, outline) =
                self.current_navigation(tenant, grant.registration).await?;
            return Ok(CommitAnswer {
                accepted: true,
                duplicate: false,
                sequence: payload.sequence,
                navigation,
                controls,
                outline,
            });
        }
        Err(ScormError::new(
            ScormErrorKind::Unavailable,
            "contention",
            "the session is changing too fast; try again",
        ))
    }

    /// Emits the statements and documents owed for a session's last commit, then marks them
    /// emitted.
    async fn emit(
        &self,
        tenant: Tenant,
        package: &LoadedPackage,
        registration: &RegistrationRecord,
        group: &str,
        session_key: &str,
    ) -> Result<(), ScormError> {
        for _ in 0..ATTEMPTS {
            let Some(found) = self
                .load::<SessionRecord>(tenant, SESSION, group, session_key)
                .await?
            else {
                return Ok(());
            };
            let mut session = found.value;
            let Some(last) = session.last.clone() else {
                return Ok(());
            };
            let emitted_sequence = session.emitted.as_ref().map(|c| c.payload.sequence);
            if emitted_sequence == Some(last.payload.sequence) {
                return Ok(());
            }
            let context = self.profile_context(package, registration, &session, last.at);
            let previous = session.emitted.as_ref().map(|c| (&c.payload, &c.summary));
            // The SCO's first commit shows it called Initialize: initialized (or resumed)
            // goes first, stamped with the session's start.
            let mut statements = Vec::new();
            if session
                .emitted
                .as_ref()
                .is_none_or(|e| e.payload.sequence == 0)
            {
                let start = self.profile_context(package, registration, &session, session.started);
                statements.extend(xapi_profile::session_started(&start, &session.entry));
            }
            statements.extend(xapi_profile::commit_statements(
                &context,
                previous,
                &last.payload,
                &last.summary,
            ));
            if !statements.is_empty() {
                self.inner.sink.record(tenant, statements).await?;
            }
            let attempts = registration
                .activities
                .get(&session.item)
                .map(|a| a.attempts.clone())
                .unwrap_or_default();
            for document in xapi_profile::documents(
                &context,
                &session.launch,
                &last.payload,
                &last.summary,
                &attempts,
            ) {
                self.inner.sink.put_document(tenant, document).await?;
            }
            session.emitted = Some(last);
            if self
                .store(
                    tenant,
                    (SESSION, group, session_key),
                    &session,
                    Expect::Version(found.version),
                )
                .await?
                .is_some()
            {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Keeps a commit's result on the registration: the data to resume from (`attempt_data`,
    /// every value of the attempt), the summary, and what the sequencer knows of the activity.
    async fn record_attempt(
        &self,
        tenant: Tenant,
        package: &LoadedPackage,
        registration_id: Uuid,
        session: &SessionRecord,
    ) -> Result<(), ScormError> {
        let key = registration_id.to_string();
        for _ in 0..ATTEMPTS {
            let Versioned {
                version,
                value: mut registration,
            } = self.registration(tenant, registration_id).await?;
            if !apply_commit(&mut registration, session) {
                // A later session of the item took over; this late commit stays in its session.
                return Ok(());
            }
            if let Some(last) = &session.last {
                sequencing::report(
                    &package.tree,
                    &mut registration.sequencing,
                    &session.item,
                    &last.summary,
                );
            }
            if self
                .store(
                    tenant,
                    (REGISTRATION, &key, REGISTRATION_ID),
                    &registration,
                    Expect::Version(version),
                )
                .await?
                .is_some()
            {
                return Ok(());
            }
        }
        Err(ScormError::new(
            ScormErrorKind::Unavailable,
            "contention",
            "the registration is changing too fast; try again",
        ))
    }

    async fn current_navigation(
        &self,
        tenant: Tenant,
        registration_id: Uuid,
    ) -> Result<(Navigation, Controls, Vec<OutlineItem>), ScormError> {
        let registration = self.registration(tenant, registration_id).await?;
        let package = self.playable(tenant, &registration.value).await?;
        let navigation = sequencing::navigation(&package.tree, &registration.value.sequencing);
        let controls = controls(&navigation, registration.value.current.is_some());
        let outline = sequencing::outline(&package.tree, &registration.value.sequencing)
            .into_iter()
            .map(OutlineItem::from)
            .collect();
        Ok((navigation, controls, outline))
    }
}

fn controls(navigation: &Navigation, playing: bool) -> Controls {
    use crate::runtime::NavValidity;
    Controls {
        continue_: navigation.continue_ == NavValidity::True,
        previous: navigation.previous == NavValidity::True,
        exit: playing,
        suspend: playing,
    }
}

fn player_state(
    package: &LoadedPackage,
    registration: &RegistrationRecord,
    started: Option<&SessionRecord>,
) -> PlayerState {
    let navigation = sequencing::navigation(&package.tree, &registration.sequencing);
    let delivery = started.map(|session| {
        let item = package.manifest.item(&session.item);
        let launch_path = item.and_then(|i| i.launch.clone()).unwrap_or_default();
        let (values, total_time) = match &session.prior {
            Some(prior) if session.entry != "ab-initio" => {
                (prior.payload.values.clone(), prior.total_time)
            }
            _ => (Vec::new(), 0),
        };
        Delivery {
            item: session.item.clone(),
            title: package
                .tree
                .title(&session.item)
                .unwrap_or(&session.item)
                .to_owned(),
            // Completed by `with_token`: the token is not known here.
            url: launch_path,
            session: session.key.clone(),
            commit_url: String::new(),
            launch: session.launch.clone(),
            start: StartView {
                entry: session.entry.clone(),
                values,
                total_time,
            },
            navigation: navigation.clone(),
        }
    });
    PlayerState {
        delivery,
        ended: registration.ended,
        suspended: registration.suspended,
        message: None,
        outline: sequencing::outline(&package.tree, &registration.sequencing)
            .into_iter()
            .map(OutlineItem::from)
            .collect(),
        controls: controls(&navigation, registration.current.is_some()),
    }
}

impl PlayerState {
    /// Absolute paths under the launch link.
    fn with_token(mut self, token: &str) -> PlayerState {
        if let Some(delivery) = &mut self.delivery {
            let launch = std::mem::take(&mut delivery.url);
            delivery.url = if launch.contains("://") {
                launch
            } else {
                format!("/scorm/launch/{token}/content/{launch}")
            };
            delivery.commit_url = format!(
                "/scorm/launch/{token}/api/sessions/{}/commits",
                delivery.session
            );
        }
        self
    }
}

fn replay_error(error: ReplayError) -> ScormError {
    match error {
        ReplayError::DataModel { .. } => {
            ScormError::invalid("data_model", "data-model", error.to_string())
        }
        ReplayError::Value {
            index,
            ref element,
            ref error,
        } => ScormError::invalid(
            &format!("values[{index}]"),
            "cmi-value",
            format!("{element}: {error}"),
        ),
        ReplayError::Terminate(_) => {
            ScormError::invalid("terminated", "terminate", error.to_string())
        }
    }
}
