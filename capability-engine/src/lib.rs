//! The capability engine: proficiency per person, capability and role from xAPI evidence.
//! Pure: no I/O, no async runtime, no server crate — the binary wires storage and HTTP
//! around it.
//!
//! The path of a statement:
//!
//! 1. [`StoredStatement::parse`] reads a statement as the LRS stored it.
//! 2. [`match_statement`] applies the [`RuleSet`] (evidence rules as versioned data) and
//!    yields [`Evidence`] items, or a [`Retraction`] when the statement voids another.
//! 3. [`Ledger::apply`] appends them to the evidence ledger, a pair of grow-only sets that
//!    come out the same whatever the order of arrival; [`Ledger::derive`] rebuilds one from
//!    statements, e.g. after a rule change.
//! 4. [`Evaluator::assess`] aggregates a person's evidence for a capability as of a date into
//!    an [`Assessment`]: evidence level, ratings side by side, the level the
//!    [`RatingPolicy`] picks, confidence, staleness, and an [`Explanation`] of every number.
//!    The formulas are in [`aggregate`].
//! 5. [`Reports`] turns assessments into gap reports, team heatmaps and stale-evidence
//!    reports.
//!
//! The model — [`Catalog`] of [`Framework`]s, [`Roles`], [`Assignments`], [`RuleSet`],
//! [`AggregationConfig`] — is built from serde "spec" types through constructors that
//! validate and name the field and the rule on failure ([`Error`]).

pub mod aggregate;
pub mod config;
pub mod error;
pub mod evidence;
pub mod framework;
pub mod ids;
pub mod ledger;
pub mod matcher;
pub mod rater;
pub mod report;
pub mod role;
pub mod rule;
pub mod statement;
pub mod vocab;

#[cfg(any(test, feature = "fixture"))]
pub mod fixture;

pub use aggregate::{
    Assessment, ConfidenceTrace, Contribution, CountsAs, Evaluator, Exclusion, ExclusionReason,
    Explanation, GateTrace, ItemRef, LevelOrigin, LevelTrace, Rating, decay,
};
pub use config::{
    AggregationConfig, AggregationSpec, Gate, GateRequirement, LevelRules, RatingPolicy,
    ThresholdStep,
};
pub use error::{Error, ErrorKind, Result};
pub use evidence::{Evidence, EvidenceKey, Retraction};
pub use framework::{
    Capability, CapabilitySpec, Catalog, Framework, FrameworkSource, FrameworkSpec,
    LevelDescription, Relation, RelationKind, ScaleLevel,
};
pub use ids::{CapabilityId, Days, FrameworkId, Level, PersonKey, RoleId, RuleId, Weight};
pub use ledger::{Applied, Entry, Ledger};
pub use matcher::{Derivation, Skip, SkipReason, match_statement};
pub use rater::{Rater, RaterBasis, RaterClass};
pub use report::{
    GapReport, GapRow, HeatCell, Heatmap, Reassessment, ReassessmentReason, Reports, StaleItem,
    StaleReport, Team,
};
pub use role::{Assignment, Assignments, Criticality, Requirement, Role, RoleSpec, Roles};
pub use rule::{
    ActivityLocation, CapabilityTarget, ContextActivityPredicate, EmitSpec, EvidenceRule,
    ExtensionLocation, ExtensionPredicate, LevelBand, LevelSource, MatchSpec, Pattern, Polarity,
    ResultPredicates, RuleRef, RuleSet, RuleSpec, ScoreBand, Subject,
};
pub use statement::{ContextKind, StoredStatement};
