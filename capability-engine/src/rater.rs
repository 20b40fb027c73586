//! Who vouches for a piece of evidence: the rater class, derived from the statement.
//!
//! # Derivation
//!
//! The first step that applies decides the class (and, where there is one, the rater agent):
//!
//! 1. The evidence rule fixes the class (`emit.rater`), e.g. `e-learning` for SCORM results.
//!    The rater agent is still read from the statement (steps 2–7) for distinct-rater gates.
//! 2. xAPI 2.0 `context.contextAgents[]` whose `relevantTypes` name a Proficio role
//!    ([`crate::vocab`] `roles/…`): assessor or observer → assessor, then manager, coach,
//!    mentor, instructor, peer, in that priority when several agents are named.
//! 3. The context extension `…/ext/assessment-type` (`self`, `manager`, `peer`, `assessor`,
//!    `coach`, `mentor`, `instructor`); the rater agent is `context.instructor`.
//! 4. The Tin Can `observer` context extension → assessor; the observer is the rater.
//! 5. The context extension `…/ext/session-kind`: `coaching` → coach, `mentoring` → mentor,
//!    `observation` → assessor, `in-person` → instructor; the rater is `context.instructor`.
//! 6. The rule's subject is the object Agent, not the actor (the mentor's statement about a
//!    mentee): the actor is the rater — `mentored` → mentor, `coached` → coach, else peer.
//!    Conversely, when the subject is the actor and the object is an Agent (the mentor's own
//!    evidence from the same statement), the object Agent witnessed it → peer.
//! 7. `context.instructor` is present → instructor.
//! 8. The `authority` (an Agent, or a member of an OAuth Group) is the subject → self: the
//!    person vouched for their own statement.
//! 9. Otherwise → e-learning: a system (LMS, SCORM player, cmi5 AU) reported the result.
//!
//! Finally, whatever the step, **a rater agent who is the subject makes the class `self`**:
//! nobody is their own manager or assessor.
//!
//! The class says who vouches, not whether they may: permissions per rater class (who may
//! send a manager assessment) belong to the credential that sent the statement, a later
//! slice.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::PersonKey;
use crate::statement::{StoredStatement, keys_of};
use crate::vocab;

/// Who vouches for evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RaterClass {
    /// The person the evidence is about.
    #[serde(rename = "self")]
    SelfAssessment,
    Manager,
    Peer,
    /// An assessor or observer of workplace performance.
    Assessor,
    Coach,
    Mentor,
    Instructor,
    /// A system: e-learning, SCORM, cmi5, simulations.
    ELearning,
}

impl RaterClass {
    pub const ALL: [RaterClass; 8] = [
        RaterClass::SelfAssessment,
        RaterClass::Manager,
        RaterClass::Peer,
        RaterClass::Assessor,
        RaterClass::Coach,
        RaterClass::Mentor,
        RaterClass::Instructor,
        RaterClass::ELearning,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RaterClass::SelfAssessment => "self",
            RaterClass::Manager => "manager",
            RaterClass::Peer => "peer",
            RaterClass::Assessor => "assessor",
            RaterClass::Coach => "coach",
            RaterClass::Mentor => "mentor",
            RaterClass::Instructor => "instructor",
            RaterClass::ELearning => "e-learning",
        }
    }

    /// The class an `assessment-type` extension value names.
    pub fn from_name(name: &str) -> Option<RaterClass> {
        RaterClass::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// Which step of the derivation decided the class (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "from")]
pub enum RaterBasis {
    Rule,
    ContextAgent { relevant_type: String },
    AssessmentType,
    Observer,
    SessionKind,
    Actor,
    ObjectAgent,
    Instructor,
    Authority,
    System,
}

/// The rater of one evidence item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rater {
    pub class: RaterClass,
    /// The rater's IFI key, when the statement names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<PersonKey>,
    pub basis: RaterBasis,
}

/// Priority among `relevantTypes` roles when a statement names several context agents.
const ROLE_PRIORITY: [(&str, RaterClass); 7] = [
    (vocab::ROLE_ASSESSOR, RaterClass::Assessor),
    (vocab::ROLE_OBSERVER, RaterClass::Assessor),
    (vocab::ROLE_MANAGER, RaterClass::Manager),
    (vocab::ROLE_COACH, RaterClass::Coach),
    (vocab::ROLE_MENTOR, RaterClass::Mentor),
    (vocab::ROLE_INSTRUCTOR, RaterClass::Instructor),
    (vocab::ROLE_PEER, RaterClass::Peer),
];

/// Derives the rater of `statement` for evidence about `subject`. `subject_is_actor` is
/// false when the rule's subject is the object Agent; `fixed` is the rule's `emit.rater`.
pub fn derive_rater(
    statement: &StoredStatement,
    subject: &PersonKey,
    subject_is_actor: bool,
    fixed: Option<RaterClass>,
) -> Rater {
    let derived = derive_from_statement(statement, subject_is_actor);
    let mut rater = match fixed {
        Some(class) => Rater {
            class,
            // Steps 2–7 name a rater; the authority (step 8) is who sent it, not who rated.
            agent: if derived.basis == RaterBasis::Authority {
                None
            } else {
                derived.agent
            },
            basis: RaterBasis::Rule,
        },
        None => derived,
    };
    if rater.agent.as_ref() == Some(subject) {
        rater.class = RaterClass::SelfAssessment;
    }
    rater
}

fn derive_from_statement(statement: &StoredStatement, subject_is_actor: bool) -> Rater {
    let instructor = statement.instructor().and_then(PersonKey::from_agent);
    let rater = |class, agent, basis| Rater {
        class,
        agent,
        basis,
    };

    // 2. xAPI 2.0 context agents with a known relevant type.
    let agents = statement.context_agents();
    for (iri, class) in ROLE_PRIORITY {
        if let Some((agent, _)) = agents.iter().find(|(_, types)| types.contains(&iri)) {
            return rater(
                class,
                PersonKey::from_agent(agent),
                RaterBasis::ContextAgent {
                    relevant_type: iri.to_owned(),
                },
            );
        }
    }
    // 3. An explicit assessment type.
    if let Some(class) = statement
        .context_extension(vocab::EXT_ASSESSMENT_TYPE)
        .and_then(Value::as_str)
        .and_then(RaterClass::from_name)
    {
        return rater(class, instructor, RaterBasis::AssessmentType);
    }
    // 4. A named observer.
    if let Some(observer) = statement
        .context_extension(vocab::EXT_OBSERVER)
        .and_then(Value::as_object)
    {
        return rater(
            RaterClass::Assessor,
            PersonKey::from_agent(observer).or(instructor),
            RaterBasis::Observer,
        );
    }
    // 5. The kind of session.
    let session = match statement
        .context_extension(vocab::EXT_SESSION_KIND)
        .and_then(Value::as_str)
    {
        Some("coaching") => Some(RaterClass::Coach),
        Some("mentoring") => Some(RaterClass::Mentor),
        Some("observation") => Some(RaterClass::Assessor),
        Some("in-person") => Some(RaterClass::Instructor),
        _ => None,
    };
    if let Some(class) = session {
        return rater(class, instructor, RaterBasis::SessionKind);
    }
    // 6. The actor speaks about someone else.
    if !subject_is_actor {
        let class = match statement.verb_id() {
            vocab::VERB_MENTORED => RaterClass::Mentor,
            vocab::VERB_COACHED => RaterClass::Coach,
            _ => RaterClass::Peer,
        };
        return rater(
            class,
            PersonKey::from_agent(statement.actor()),
            RaterBasis::Actor,
        );
    }
    // 6. …or about themself, to someone who was there.
    let object = statement.object();
    if matches!(
        object.get("objectType").and_then(Value::as_str),
        Some("Agent" | "Group")
    ) && let Some(witness) = PersonKey::from_agent(object)
    {
        return rater(RaterClass::Peer, Some(witness), RaterBasis::ObjectAgent);
    }
    // 7. An instructor.
    if instructor.is_some() {
        return rater(RaterClass::Instructor, instructor, RaterBasis::Instructor);
    }
    // 8. The person vouched for themself.
    if let Some(authority) = statement.authority() {
        let actor = PersonKey::from_agent(statement.actor());
        if let Some(actor) = actor
            && keys_of(authority).contains(&actor)
        {
            return rater(
                RaterClass::SelfAssessment,
                Some(actor),
                RaterBasis::Authority,
            );
        }
    }
    // 9. A system.
    rater(RaterClass::ELearning, None, RaterBasis::System)
}
