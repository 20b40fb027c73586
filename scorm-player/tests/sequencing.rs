//! Sequencing and navigation (SN): the forced-sequential golf sample end to end, one built
//! manifest per rule family, SCORM 1.2 flow, state persistence, and a property test over
//! random requests and reports.

use proptest::prelude::*;
use scorm_player::runtime::{
    AttemptSummary, LaunchData, NavValidity, Navigation, RuntimeOptions, RuntimeState, Start,
};
use scorm_player::sequencing::{
    ActivityTree, NavOutcome, NavRequest, OutlineEntry, SequencingState, TreeError, navigate,
    navigation, outline, report,
};
use scorm_player::{
    Limits, Manifest, ScormVersion, XmlLimits, has_errors, parse_manifest, validate_package_bytes,
};

use crate::helpers::{self, SCORM2004_NAMESPACES};

// ---------------------------------------------------------------------------------------------
// Courses and learners

fn manifest(xml: &str) -> Manifest {
    let (manifest, diagnostics) = parse_manifest(xml.as_bytes(), &XmlLimits::default());
    assert!(
        !has_errors(&diagnostics),
        "manifest diagnostics: {diagnostics:#?}"
    );
    manifest
}

/// A SCORM 2004 4th Edition manifest: `organization` is the inside of `<organization>` (items
/// and the root's sequencing); every item references the one SCO resource.
fn scorm2004(organization: &str) -> Manifest {
    manifest(&format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="com.example.sn" version="1" {SCORM2004_NAMESPACES}>
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
  <organizations default="org">
    <organization identifier="org">
      <title>Course</title>
      {organization}
    </organization>
  </organizations>
  <resources>
    <resource identifier="sco" type="webcontent" adlcp:scormType="sco" href="sco.html">
      <file href="sco.html"/>
    </resource>
  </resources>
</manifest>"#
    ))
}

/// A leaf item with optional sequencing.
fn leaf(id: &str, sequencing: &str) -> String {
    format!(r#"<item identifier="{id}" identifierref="sco"><title>{id}</title>{sequencing}</item>"#)
}

/// The content sets `values` and terminates: what the server replays and summarises.
fn attempt(manifest: &Manifest, activity: &str, values: &[(&str, &str)]) -> AttemptSummary {
    let version = manifest.scorm_version.expect("version");
    let launch = match manifest.item(activity) {
        Some(item) => LaunchData::for_item(manifest, item, "learner", "Learner"),
        None => LaunchData::default(),
    };
    let mut runtime = RuntimeState::new(version, launch, Start::New, RuntimeOptions::default());
    runtime.initialize("").expect("initialize");
    for (element, value) in values {
        if let Err(error) = runtime.set_value(element, value) {
            panic!("SetValue({element}, {value}): {error}");
        }
    }
    runtime.terminate("").expect("terminate");
    runtime.summary()
}

const PASSED: &[(&str, &str)] = &[
    ("cmi.completion_status", "completed"),
    ("cmi.success_status", "passed"),
];
const FAILED: &[(&str, &str)] = &[
    ("cmi.completion_status", "completed"),
    ("cmi.success_status", "failed"),
];

/// A registration: the tree, its state, and the requests made so far.
struct Learner {
    manifest: Manifest,
    tree: ActivityTree,
    state: SequencingState,
}

impl Learner {
    fn new(manifest: Manifest) -> Self {
        let tree = ActivityTree::build(&manifest, None).expect("tree");
        let state = SequencingState::new(&tree);
        Learner {
            manifest,
            tree,
            state,
        }
    }

    fn nav(&mut self, request: NavRequest) -> Result<NavOutcome, &'static str> {
        navigate(&self.tree, &mut self.state, &request).map_err(|e| e.code)
    }

    /// The request must deliver `activity`; returns (resumed, new_attempt).
    fn delivers(&mut self, request: NavRequest, activity: &str) -> (bool, bool) {
        match self.nav(request.clone()) {
            Ok(NavOutcome::Deliver {
                activity: delivered,
                resumed,
                new_attempt,
            }) => {
                assert_eq!(
                    delivered, activity,
                    "{request} delivered the wrong activity"
                );
                assert_eq!(self.state.current(), Some(activity));
                (resumed, new_attempt)
            }
            other => panic!("{request}: expected {activity}, got {other:?}"),
        }
    }

    fn refused(&mut self, request: NavRequest, code: &str) {
        let got = self.nav(request.clone());
        assert_eq!(got, Err(code), "{request}");
    }

    /// The current SCO reports `values` and terminates.
    fn finish(&mut self, values: &[(&str, &str)]) {
        let current = self.state.current().expect("a current activity").to_owned();
        let summary = attempt(&self.manifest, &current, values);
        report(&self.tree, &mut self.state, &current, &summary);
    }

    fn valid(&self) -> Navigation {
        navigation(&self.tree, &self.state)
    }

    fn outline_of(&self, id: &str) -> OutlineEntry {
        outline(&self.tree, &self.state)
            .into_iter()
            .find(|e| e.id == id)
            .unwrap_or_else(|| panic!("{id} is not in the outline"))
    }

    fn attempts(&self, id: &str) -> u32 {
        self.state.activity(id).map_or(0, |a| a.attempts)
    }
}

fn choice(id: &str) -> NavRequest {
    NavRequest::Choice(id.to_owned())
}

fn can_choose(navigation: &Navigation, id: &str) -> bool {
    navigation.choice.get(id) == Some(&NavValidity::True)
}

// ---------------------------------------------------------------------------------------------
// The forced-sequential golf sample

fn golf_forced_sequential() -> Option<Manifest> {
    let dir = helpers::samples_dir()?;
    let bytes = std::fs::read(dir.join("golf_SequencingForcedSequential_SCORM20043rdEdition.zip"))
        .expect("read the forced-sequential sample");
    let (package, _) = validate_package_bytes(&bytes, &Limits::default()).expect("valid package");
    Some(package.manifest)
}

#[test]
fn golf_forced_sequential_visits_the_scos_in_order() {
    let Some(manifest) = golf_forced_sequential() else {
        return;
    };
    let order = [
        "playing_item",
        "etuqiette_item",
        "handicapping_item",
        "havingfun_item",
        "assessment_item",
    ];
    let mut learner = Learner::new(manifest);
    assert_eq!(learner.tree.root(), "golf_sample_default_org");
    assert_eq!(learner.tree.version(), ScormVersion::Scorm2004Ed3);

    assert_eq!(learner.delivers(NavRequest::Start, order[0]), (false, true));
    for (at, &sco) in order.iter().enumerate() {
        let next = order.get(at + 1).copied();
        // Until this SCO is satisfied nothing after it opens: not by continue, not by choice.
        let before = learner.valid();
        if let Some(next) = next {
            assert!(
                !can_choose(&before, next),
                "{next} open before {sco} is passed"
            );
            assert_eq!(
                before.continue_,
                NavValidity::False,
                "continue from unpassed {sco}"
            );
            assert!(learner.outline_of(next).disabled);
        }
        for later in order.iter().skip(at + 2) {
            assert!(!can_choose(&before, later), "{later} open from {sco}");
        }
        // Earlier SCOs stay open for review; the flow never goes backward past the first.
        for earlier in &order[..at] {
            assert!(can_choose(&before, earlier), "{earlier} closed from {sco}");
        }
        let previous = if at == 0 {
            NavValidity::False
        } else {
            NavValidity::True
        };
        assert_eq!(before.previous, previous, "previous from {sco}");

        learner.finish(PASSED);
        let after = learner.valid();
        assert_eq!(
            after.continue_,
            NavValidity::True,
            "continue after passing {sco}"
        );
        if let Some(next) = next {
            assert!(
                can_choose(&after, next),
                "{next} still closed after {sco} passed"
            );
            assert!(!learner.outline_of(next).disabled);
            for later in order.iter().skip(at + 2) {
                assert!(!can_choose(&after, later), "{later} open after {sco}");
            }
            assert_eq!(learner.delivers(NavRequest::Continue, next), (false, true));
        }
    }
    // Past the last SCO the sequencing session ends, and the course rolled up to completed
    // and satisfied.
    assert_eq!(learner.nav(NavRequest::Continue), Ok(NavOutcome::Ended));
    assert_eq!(learner.state.current(), None);
    let root = learner.outline_of("golf_sample_default_org");
    assert_eq!(
        root.completion,
        scorm_player::runtime::CompletionStatus::Completed
    );
    assert_eq!(root.success, scorm_player::runtime::SuccessStatus::Passed);
    let global = learner
        .state
        .global_objective("com.scorm.golfsamples.sequencing.forcedsequential.havingfun_satisfied")
        .expect("the havingfun global objective was written");
    assert_eq!(global.satisfied, Some(true));
}

#[test]
fn golf_forced_sequential_refuses_skipping_ahead() {
    let Some(manifest) = golf_forced_sequential() else {
        return;
    };
    let mut learner = Learner::new(manifest);
    learner.delivers(NavRequest::Start, "playing_item");
    // Choosing two ahead: the choice ends the current attempt, then delivery finds the
    // target disabled by its pre-condition rule (DB.1.1).
    learner.refused(choice("handicapping_item"), "DB.1.1-3");
    // The learner comes back to the first SCO; a failed attempt keeps the next one closed.
    learner.delivers(choice("playing_item"), "playing_item");
    learner.finish(FAILED);
    learner.refused(NavRequest::Continue, "SB.2.2-2");
    learner.delivers(choice("playing_item"), "playing_item");
    learner.finish(PASSED);
    learner.delivers(choice("etuqiette_item"), "etuqiette_item");
    learner.refused(choice("nowhere"), "NB.2.1-11");
}

// ---------------------------------------------------------------------------------------------
// Control modes

#[test]
fn flow_with_forward_only_refuses_previous() {
    let mut learner = Learner::new(scorm2004(&format!(
        r#"{}{}<imsss:sequencing><imsss:controlMode choice="false" flow="true" forwardOnly="true"/></imsss:sequencing>"#,
        leaf("a", ""),
        leaf("b", "")
    )));
    learner.delivers(NavRequest::Start, "a");
    learner.delivers(NavRequest::Continue, "b");
    assert_eq!(learner.valid().previous, NavValidity::False);
    learner.refused(NavRequest::Previous, "NB.2.1-5");
    assert_eq!(
        learner.state.current(),
        Some("b"),
        "a refused previous changes nothing"
    );
    assert!(learner.state.activity("b").expect("b").active);
}

#[test]
fn choice_is_refused_where_the_parent_forbids_it() {
    let mut learner = Learner::new(scorm2004(&format!(
        r#"{}{}<imsss:sequencing><imsss:controlMode choice="false" flow="true"/></imsss:sequencing>"#,
        leaf("a", ""),
        leaf("b", "")
    )));
    learner.refused(choice("b"), "NB.2.1-10");
    learner.delivers(NavRequest::Start, "a");
    assert!(!can_choose(&learner.valid(), "b"));
    learner.refused(choice("b"), "NB.2.1-10");
    learner.delivers(NavRequest::Continue, "b");
    learner.delivers(NavRequest::Previous, "a");
}

#[test]
fn choice_only_course_idles_after_an_exit() {
    // The IMS SS defaults: choice, no flow.
    let mut learner = Learner::new(scorm2004(&format!("{}{}", leaf("a", ""), leaf("b", ""))));
    learner.refused(NavRequest::Start, "SB.2.2-1");
    learner.delivers(choice("b"), "b");
    assert_eq!(learner.valid().continue_, NavValidity::False);
    learner.refused(NavRequest::Continue, "NB.2.1-4");
    assert_eq!(learner.nav(NavRequest::Exit), Ok(NavOutcome::Idle));
    assert_eq!(learner.state.current(), Some("b"));
    assert!(!learner.state.activity("b").expect("b").active);
    // Without completionSetByContent the ended attempt counts as completed and satisfied.
    let b = learner.outline_of("b");
    assert_eq!(
        b.completion,
        scorm_player::runtime::CompletionStatus::Completed
    );
    learner.delivers(choice("a"), "a");
}

#[test]
fn choice_exit_false_keeps_the_learner_inside_until_done() {
    let mut learner = Learner::new(scorm2004(&format!(
        r#"<item identifier="m"><title>m</title>{}{}
             <imsss:sequencing><imsss:controlMode choice="true" flow="true" choiceExit="false"/></imsss:sequencing>
           </item>{}
           <imsss:sequencing><imsss:controlMode choice="true" flow="true"/></imsss:sequencing>"#,
        leaf("m1", ""),
        leaf("m2", ""),
        leaf("z", "")
    )));
    learner.delivers(NavRequest::Start, "m1");
    assert!(!can_choose(&learner.valid(), "z"));
    learner.refused(choice("z"), "NB.2.1-8");
    assert!(can_choose(&learner.valid(), "m2"));
    learner.delivers(choice("m2"), "m2");
    learner.delivers(NavRequest::Continue, "z");
}

#[test]
fn prevent_activation_and_constrained_choice() {
    let module = |id: &str, children: &str, extra: &str| {
        format!(
            r#"<item identifier="{id}"><title>{id}</title>{children}
                 <imsss:sequencing><imsss:controlMode choice="true" flow="true"/>{extra}</imsss:sequencing></item>"#
        )
    };
    let mut learner = Learner::new(scorm2004(&format!(
        "{}{}{}{}",
        module(
            "a",
            &format!("{}{}", leaf("a1", ""), leaf("a2", "")),
            r#"<adlseq:constrainedChoiceConsiderations constrainChoice="true"/>"#
        ),
        module("b", &leaf("b1", ""), ""),
        module(
            "c",
            &format!("{}{}", leaf("c1", ""), leaf("c2", "")),
            r#"<adlseq:constrainedChoiceConsiderations preventActivation="true"/>"#
        ),
        ROOT_FLOW
    )));
    // c cannot be started by choice, of it or of anything in it; flow starts it.
    learner.refused(choice("c2"), "SB.2.9-6");
    learner.refused(choice("c"), "SB.2.9-6");
    learner.delivers(NavRequest::Start, "a1");
    // Inside a, constrainChoice keeps choice to a's neighbourhood: b, not c.
    assert!(!can_choose(&learner.valid(), "c1"));
    learner.refused(choice("c1"), "SB.2.9-8");
    learner.delivers(choice("b1"), "b1");
    learner.delivers(NavRequest::Continue, "c1");
    // Once c is active, its activities can be chosen.
    learner.delivers(choice("c2"), "c2");
}

// ---------------------------------------------------------------------------------------------
// Sequencing rules and limit conditions

const ROOT_FLOW: &str =
    r#"<imsss:sequencing><imsss:controlMode choice="true" flow="true"/></imsss:sequencing>"#;

#[test]
fn skip_pre_condition_is_passed_over_by_flow() {
    let skip = r#"<imsss:sequencing><imsss:sequencingRules><imsss:preConditionRule>
        <imsss:ruleConditions><imsss:ruleCondition condition="always"/></imsss:ruleConditions>
        <imsss:ruleAction action="skip"/></imsss:preConditionRule></imsss:sequencingRules></imsss:sequencing>"#;
    let mut learner = Learner::new(scorm2004(&format!(
        "{}{}{}{ROOT_FLOW}",
        leaf("a", ""),
        leaf("b", skip),
        leaf("c", "")
    )));
    learner.delivers(NavRequest::Start, "a");
    learner.delivers(NavRequest::Continue, "c");
    learner.delivers(NavRequest::Previous, "a");
    assert_eq!(learner.attempts("b"), 0);
    // Skipping applies to flow only: a choice still reaches it.
    learner.delivers(choice("b"), "b");
}

#[test]
fn hidden_from_choice_and_stop_forward_traversal() {
    let hidden = r#"<imsss:sequencing><imsss:sequencingRules><imsss:preConditionRule>
        <imsss:ruleConditions><imsss:ruleCondition condition="always"/></imsss:ruleConditions>
        <imsss:ruleAction action="hiddenFromChoice"/></imsss:preConditionRule></imsss:sequencingRules></imsss:sequencing>"#;
    let stop = r#"<imsss:sequencing><imsss:sequencingRules><imsss:preConditionRule>
        <imsss:ruleConditions><imsss:ruleCondition condition="completed" operator="not"/></imsss:ruleConditions>
        <imsss:ruleAction action="stopForwardTraversal"/></imsss:preConditionRule></imsss:sequencingRules>
        <imsss:deliveryControls completionSetByContent="true"/></imsss:sequencing>"#;
    let mut learner = Learner::new(scorm2004(&format!(
        "{}{}{}{ROOT_FLOW}",
        leaf("a", stop),
        leaf("b", hidden),
        leaf("c", "")
    )));
    learner.delivers(NavRequest::Start, "a");
    learner.refused(choice("b"), "SB.2.9-3");
    learner.delivers(choice("a"), "a");
    // While a's completion is unknown the rule cannot be evaluated and does not stop anyone
    // (SN UP.2.1: unknown is not true); once a is known to be incomplete it does.
    assert!(can_choose(&learner.valid(), "c"));
    learner.finish(&[("cmi.completion_status", "incomplete")]);
    assert!(!can_choose(&learner.valid(), "c"));
    learner.refused(choice("c"), "SB.2.4-1");
    learner.delivers(choice("a"), "a");
    learner.finish(&[("cmi.completion_status", "completed")]);
    assert!(can_choose(&learner.valid(), "c"));
    assert!(learner.outline_of("b").hidden_from_choice);
    learner.delivers(choice("c"), "c");
}

#[test]
fn attempt_limit_exceeded_disables_the_activity() {
    let limited = r#"<imsss:sequencing><imsss:limitConditions attemptLimit="2"/>
        <imsss:deliveryControls completionSetByContent="true" objectiveSetByContent="true"/></imsss:sequencing>"#;
    let mut learner = Learner::new(scorm2004(&format!(
        "{}{}{ROOT_FLOW}",
        leaf("quiz", limited),
        leaf("next", "")
    )));
    learner.delivers(NavRequest::Start, "quiz");
    learner.finish(FAILED);
    learner.delivers(choice("quiz"), "quiz");
    learner.finish(FAILED);
    assert_eq!(learner.attempts("quiz"), 2);
    // While the second attempt runs the activity is not disabled; once it has ended it is.
    assert!(!learner.outline_of("quiz").disabled);
    learner.delivers(NavRequest::Continue, "next");
    assert!(learner.outline_of("quiz").disabled);
    assert!(!can_choose(&learner.valid(), "quiz"));
    learner.refused(choice("quiz"), "DB.1.1-3");
    learner.refused(NavRequest::Previous, "SB.2.2-2");
    assert_eq!(learner.attempts("quiz"), 2);
}

#[test]
fn retry_post_condition_repeats_until_passed() {
    let retry = r#"<imsss:sequencing><imsss:sequencingRules><imsss:postConditionRule>
        <imsss:ruleConditions><imsss:ruleCondition condition="satisfied" operator="not"/></imsss:ruleConditions>
        <imsss:ruleAction action="retry"/></imsss:postConditionRule></imsss:sequencingRules>
        <imsss:deliveryControls objectiveSetByContent="true"/></imsss:sequencing>"#;
    let mut learner = Learner::new(scorm2004(&format!(
        "{}{}{ROOT_FLOW}",
        leaf("drill", retry),
        leaf("after", "")
    )));
    learner.delivers(NavRequest::Start, "drill");
    learner.finish(FAILED);
    // Continue asks to move on; the post-condition replaces it with a retry.
    assert_eq!(
        learner.delivers(NavRequest::Continue, "drill"),
        (false, true)
    );
    assert_eq!(learner.attempts("drill"), 2);
    // A new attempt starts without the last one's results.
    assert_eq!(
        learner.outline_of("drill").success,
        scorm_player::runtime::SuccessStatus::Unknown
    );
    learner.finish(PASSED);
    learner.delivers(NavRequest::Continue, "after");
}

#[test]
fn exit_parent_post_condition_and_exit_action_rule() {
    let exit_parent = r#"<imsss:sequencing><imsss:sequencingRules><imsss:postConditionRule>
        <imsss:ruleConditions><imsss:ruleCondition condition="satisfied"/></imsss:ruleConditions>
        <imsss:ruleAction action="exitParent"/></imsss:postConditionRule></imsss:sequencingRules></imsss:sequencing>"#;
    let module_exits = r#"<imsss:sequencing><imsss:controlMode choice="true" flow="true"/>
        <imsss:sequencingRules><imsss:exitConditionRule>
        <imsss:ruleConditions><imsss:ruleCondition condition="satisfied"/></imsss:ruleConditions>
        <imsss:ruleAction action="exit"/></imsss:exitConditionRule></imsss:sequencingRules></imsss:sequencing>"#;
    let mut learner = Learner::new(scorm2004(&format!(
        r#"<item identifier="m1"><title>m1</title>{}{}<imsss:sequencing><imsss:controlMode choice="true" flow="true"/></imsss:sequencing></item>
           <item identifier="m2"><title>m2</title>{}{}{module_exits}</item>
           {}{ROOT_FLOW}"#,
        leaf("m1a", exit_parent),
        leaf("m1b", ""),
        leaf("m2a", ""),
        leaf("m2b", ""),
        leaf("end", "")
    )));
    learner.delivers(NavRequest::Start, "m1a");
    learner.finish(PASSED);
    // exitParent: the module's attempt ends too, and flow continues after it.
    learner.delivers(NavRequest::Continue, "m2a");
    assert_eq!(learner.attempts("m1b"), 0);
    assert!(!learner.state.activity("m1").expect("m1").active);
    // m2 is satisfied once all its children are; its exit rule then takes the learner out.
    learner.finish(PASSED);
    learner.delivers(NavRequest::Continue, "m2b");
    learner.finish(PASSED);
    learner.delivers(NavRequest::Continue, "end");
    assert!(!learner.state.activity("m2").expect("m2").active);
}

// ---------------------------------------------------------------------------------------------
// Rollup

#[test]
fn rollup_of_completion_and_satisfaction_by_measure() {
    let weighted = |weight: &str| {
        format!(
            r#"<imsss:sequencing><imsss:rollupRules objectiveMeasureWeight="{weight}"/>
               <imsss:deliveryControls completionSetByContent="true" objectiveSetByContent="true"/></imsss:sequencing>"#
        )
    };
    let mut learner = Learner::new(scorm2004(&format!(
        r#"<item identifier="unit"><title>unit</title>{}{}{}
             <imsss:sequencing><imsss:controlMode choice="true" flow="true"/>
               <imsss:objectives><imsss:primaryObjective objectiveID="unit_obj" satisfiedByMeasure="true">
                 <imsss:minNormalizedMeasure>0.6</imsss:minNormalizedMeasure>
               </imsss:primaryObjective></imsss:objectives>
             </imsss:sequencing>
           </item>{ROOT_FLOW}"#,
        leaf("t1", &weighted("0.25")),
        leaf("t2", &weighted("0.75")),
        leaf("reading", &weighted("0"))
    )));
    learner.delivers(NavRequest::Start, "t1");
    learner.finish(&[
        ("cmi.completion_status", "completed"),
        ("cmi.score.scaled", "0.2"),
    ]);
    let unit = learner.outline_of("unit");
    // Every tracked child's weight counts, measured or not (RB.1.1 a): 0.2 × 0.25 / 1.
    let measure = unit.score.expect("a rolled-up measure");
    assert!((measure - 0.05).abs() < 1e-9, "{measure}");
    assert_eq!(unit.success, scorm_player::runtime::SuccessStatus::Failed);
    // Completion stays unknown until every child's progress is known (default rules).
    assert_eq!(
        unit.completion,
        scorm_player::runtime::CompletionStatus::Unknown
    );

    learner.delivers(NavRequest::Continue, "t2");
    learner.finish(&[
        ("cmi.completion_status", "completed"),
        ("cmi.score.scaled", "0.8"),
    ]);
    learner.delivers(NavRequest::Continue, "reading");
    learner.finish(&[
        ("cmi.completion_status", "completed"),
        ("cmi.score.scaled", "-1"),
    ]);
    let unit = learner.outline_of("unit");
    // (0.2 × 0.25 + 0.8 × 0.75 + −1 × 0) / 1 = 0.65 ≥ 0.6; weight 0 leaves the reading out.
    let measure = unit.score.expect("a rolled-up measure");
    assert!((measure - 0.65).abs() < 1e-9, "{measure}");
    assert_eq!(unit.success, scorm_player::runtime::SuccessStatus::Passed);
    assert_eq!(
        unit.completion,
        scorm_player::runtime::CompletionStatus::Completed
    );
    assert_eq!(learner.nav(NavRequest::Continue), Ok(NavOutcome::Ended));
    let course = learner.outline_of("org");
    assert_eq!(
        course.completion,
        scorm_player::runtime::CompletionStatus::Completed
    );
    assert_eq!(course.success, scorm_player::runtime::SuccessStatus::Passed);
}

#[test]
fn rollup_rules_and_required_for_considerations() {
    // Satisfied when at least half the children are; the optional child counts for
    // satisfaction only if attempted.
    let optional = r#"<imsss:sequencing><adlseq:rollupConsiderations requiredForSatisfied="ifAttempted" requiredForNotSatisfied="ifAttempted"/></imsss:sequencing>"#;
    let mut learner = Learner::new(scorm2004(&format!(
        r#"{}{}{}{}
           <imsss:sequencing><imsss:controlMode choice="true" flow="true"/>
             <imsss:rollupRules>
               <imsss:rollupRule childActivitySet="atLeastPercent" minimumPercent="0.5">
                 <imsss:rollupConditions><imsss:rollupCondition condition="satisfied"/></imsss:rollupConditions>
                 <imsss:rollupAction action="satisfied"/>
               </imsss:rollupRule>
               <imsss:rollupRule childActivitySet="any">
                 <imsss:rollupConditions><imsss:rollupCondition condition="satisfied" operator="not"/></imsss:rollupConditions>
                 <imsss:rollupAction action="notSatisfied"/>
               </imsss:rollupRule>
             </imsss:rollupRules>
           </imsss:sequencing>"#,
        leaf("a", ""),
        leaf("b", ""),
        leaf("c", ""),
        leaf("extra", optional)
    )));
    learner.delivers(NavRequest::Start, "a");
    learner.finish(PASSED);
    learner.delivers(NavRequest::Continue, "b");
    learner.finish(FAILED);
    // One satisfied of a, b (c unknown, extra unattempted and left out): 1/3 < 50 %, and
    // the notSatisfied rule fires on b.
    learner.delivers(NavRequest::Continue, "c");
    assert_eq!(
        learner.outline_of("org").success,
        scorm_player::runtime::SuccessStatus::Failed
    );
    learner.finish(PASSED);
    // a and c satisfied out of a, b, c: 2/3 ≥ 50 %; the satisfied rule wins over notSatisfied.
    assert_eq!(
        learner.outline_of("org").success,
        scorm_player::runtime::SuccessStatus::Passed
    );
}

// ---------------------------------------------------------------------------------------------
// Objectives

#[test]
fn global_objective_shared_by_two_activities() {
    // The pre-test writes the shared objective; the lesson reads it as its own primary
    // objective and is skipped once it is satisfied.
    let pretest = r#"<imsss:sequencing><imsss:objectives>
        <imsss:primaryObjective objectiveID="pre"><imsss:mapInfo targetObjectiveID="g.mastery" writeSatisfiedStatus="true" writeNormalizedMeasure="true"/></imsss:primaryObjective>
        </imsss:objectives><imsss:deliveryControls objectiveSetByContent="true"/></imsss:sequencing>"#;
    let lesson = r#"<imsss:sequencing><imsss:sequencingRules><imsss:preConditionRule>
        <imsss:ruleConditions><imsss:ruleCondition condition="satisfied"/></imsss:ruleConditions>
        <imsss:ruleAction action="skip"/></imsss:preConditionRule></imsss:sequencingRules>
        <imsss:objectives><imsss:primaryObjective objectiveID="lesson"><imsss:mapInfo targetObjectiveID="g.mastery"/></imsss:primaryObjective></imsss:objectives>
        <imsss:deliveryControls objectiveSetByContent="true"/></imsss:sequencing>"#;
    let build = || {
        scorm2004(&format!(
            "{}{}{}{ROOT_FLOW}",
            leaf("pretest", pretest),
            leaf("lesson", lesson),
            leaf("wrapup", "")
        ))
    };

    let mut strong = Learner::new(build());
    strong.delivers(NavRequest::Start, "pretest");
    strong.finish(&[
        ("cmi.completion_status", "completed"),
        ("cmi.success_status", "passed"),
        ("cmi.score.scaled", "0.9"),
    ]);
    let global = strong.state.global_objective("g.mastery").expect("written");
    assert_eq!((global.satisfied, global.measure), (Some(true), Some(0.9)));
    let lesson = strong.outline_of("lesson");
    assert_eq!(lesson.success, scorm_player::runtime::SuccessStatus::Passed);
    assert_eq!(lesson.score, Some(0.9));
    strong.delivers(NavRequest::Continue, "wrapup");

    let mut weak = Learner::new(build());
    weak.delivers(NavRequest::Start, "pretest");
    weak.finish(FAILED);
    weak.delivers(NavRequest::Continue, "lesson");
}

#[test]
fn objectives_reported_by_the_sco_reach_their_global_maps() {
    let sequencing = r#"<imsss:sequencing><imsss:objectives>
        <imsss:primaryObjective objectiveID="main"/>
        <imsss:objective objectiveID="skill"><imsss:mapInfo targetObjectiveID="g.skill" writeSatisfiedStatus="true" writeNormalizedMeasure="true"/></imsss:objective>
        </imsss:objectives></imsss:sequencing>"#;
    let mut learner = Learner::new(scorm2004(&format!(
        "{}{}{ROOT_FLOW}",
        leaf("a", sequencing),
        leaf("b", "")
    )));
    learner.delivers(NavRequest::Start, "a");
    // LaunchData::for_item preloads cmi.objectives.0.id = main, 1.id = skill.
    learner.finish(&[
        ("cmi.objectives.1.success_status", "passed"),
        ("cmi.objectives.1.score.scaled", "0.75"),
    ]);
    let global = learner.state.global_objective("g.skill").expect("written");
    assert_eq!((global.satisfied, global.measure), (Some(true), Some(0.75)));
}

// ---------------------------------------------------------------------------------------------
// Suspend, resume, exit, abandon

#[test]
fn suspend_all_then_resume_all_delivers_the_suspended_activity() {
    let mut learner = Learner::new(scorm2004(&format!(
        "{}{}{ROOT_FLOW}",
        leaf("a", ""),
        leaf("b", "")
    )));
    learner.delivers(NavRequest::Start, "a");
    learner.delivers(NavRequest::Continue, "b");
    learner.finish(&[("cmi.exit", "suspend"), ("cmi.location", "page 3")]);
    assert_eq!(
        learner.nav(NavRequest::SuspendAll),
        Ok(NavOutcome::Suspended)
    );
    assert_eq!(learner.state.current(), None);
    assert_eq!(learner.state.suspended(), Some("b"));
    assert!(learner.outline_of("b").suspended);
    // The state is stored as JSON between sessions.
    let json = serde_json::to_string(&learner.state).expect("serialize");
    learner.state = serde_json::from_str(&json).expect("deserialize");

    learner.refused(NavRequest::Continue, "NB.2.1-1");
    assert_eq!(learner.delivers(NavRequest::ResumeAll, "b"), (true, false));
    assert_eq!(learner.state.suspended(), None);
    assert_eq!(learner.attempts("b"), 1);
    assert!(!learner.outline_of("b").suspended);
    learner.refused(NavRequest::ResumeAll, "NB.2.1-1");
}

#[test]
fn a_sco_suspended_by_cmi_exit_resumes_when_chosen_again() {
    let mut learner = Learner::new(scorm2004(&format!(
        "{}{}{ROOT_FLOW}",
        leaf("a", ""),
        leaf("b", "")
    )));
    learner.delivers(NavRequest::Start, "a");
    learner.finish(&[("cmi.exit", "suspend")]);
    learner.delivers(NavRequest::Continue, "b");
    assert_eq!(learner.delivers(choice("a"), "a"), (true, false));
    learner.finish(&[("cmi.exit", "normal")]);
    assert_eq!(learner.delivers(choice("b"), "b"), (false, true));
    assert_eq!(learner.delivers(choice("a"), "a"), (false, true));
    assert_eq!(learner.attempts("a"), 2);
}

#[test]
fn exit_all_ends_the_session() {
    let mut learner = Learner::new(scorm2004(&format!(
        "{}{}{ROOT_FLOW}",
        leaf("a", ""),
        leaf("b", "")
    )));
    learner.refused(NavRequest::ExitAll, "NB.2.1-2");
    learner.delivers(NavRequest::Start, "a");
    assert_eq!(learner.nav(NavRequest::ExitAll), Ok(NavOutcome::Ended));
    assert_eq!(learner.state.current(), None);
    for id in ["org", "a"] {
        assert!(
            !learner.state.activity(id).expect(id).active,
            "{id} still active"
        );
    }
    // A new session is a new attempt on the course.
    learner.delivers(NavRequest::Start, "a");
    assert_eq!(learner.attempts("org"), 2);
}

#[test]
fn abandon_idles_and_abandon_all_ends() {
    let mut learner = Learner::new(scorm2004(&format!(
        "{}{}{ROOT_FLOW}",
        leaf("a", ""),
        leaf("b", "")
    )));
    learner.delivers(NavRequest::Start, "a");
    assert_eq!(learner.nav(NavRequest::Abandon), Ok(NavOutcome::Idle));
    // An abandoned attempt is not rolled up or auto-completed, and a late report for it
    // is ignored: the attempt is over.
    let late = attempt(&learner.manifest, "a", PASSED);
    report(&learner.tree, &mut learner.state, "a", &late);
    let a = learner.outline_of("a");
    assert_eq!(
        a.completion,
        scorm_player::runtime::CompletionStatus::Unknown
    );
    assert_eq!(a.success, scorm_player::runtime::SuccessStatus::Unknown);
    learner.refused(NavRequest::Exit, "NB.2.1-12");
    learner.delivers(NavRequest::Continue, "b");
    assert_eq!(learner.nav(NavRequest::AbandonAll), Ok(NavOutcome::Ended));
}

#[test]
fn retry_and_retry_all_requests() {
    let mut learner = Learner::new(scorm2004(&format!(
        "{}{}{ROOT_FLOW}",
        leaf("a", ""),
        leaf("b", "")
    )));
    learner.delivers(NavRequest::Start, "a");
    learner.delivers(NavRequest::Continue, "b");
    assert_eq!(learner.delivers(NavRequest::Retry, "b"), (false, true));
    assert_eq!(learner.attempts("b"), 2);
    assert_eq!(learner.delivers(NavRequest::RetryAll, "a"), (false, true));
    assert_eq!((learner.attempts("org"), learner.attempts("a")), (2, 2));
}

#[test]
fn jump_ignores_control_modes_but_not_disabled_rules() {
    let disabled = r#"<imsss:sequencing><imsss:sequencingRules><imsss:preConditionRule>
        <imsss:ruleConditions><imsss:ruleCondition condition="always"/></imsss:ruleConditions>
        <imsss:ruleAction action="disabled"/></imsss:preConditionRule></imsss:sequencingRules></imsss:sequencing>"#;
    let mut learner = Learner::new(scorm2004(&format!(
        r#"{}{}{}<imsss:sequencing><imsss:controlMode choice="false" flow="true"/></imsss:sequencing>"#,
        leaf("a", ""),
        leaf("b", disabled),
        leaf("c", "")
    )));
    learner.refused(NavRequest::Jump("c".into()), "SB.2.13-1");
    learner.delivers(NavRequest::Start, "a");
    assert_eq!(learner.valid().jump.get("c"), Some(&NavValidity::True));
    learner.delivers(NavRequest::Jump("c".into()), "c");
    learner.refused(NavRequest::Jump("b".into()), "DB.1.1-3");
}

// ---------------------------------------------------------------------------------------------
// SCORM 1.2

fn scorm12_lesson(status: &str) -> Vec<(&'static str, String)> {
    vec![("cmi.core.lesson_status", status.to_owned())]
}

fn finish12(learner: &mut Learner, status: &str) {
    let values = scorm12_lesson(status);
    let values: Vec<(&str, &str)> = values.iter().map(|(e, v)| (*e, v.as_str())).collect();
    learner.finish(&values);
}

#[test]
fn scorm12_multi_sco_flows_in_order() {
    let (xml, _) = helpers::scorm12_multi_sco();
    let mut learner = Learner::new(manifest(&xml));
    assert_eq!(learner.tree.version(), ScormVersion::Scorm12);
    learner.delivers(NavRequest::Start, "p1s1");
    finish12(&mut learner, "completed");
    learner.delivers(NavRequest::Continue, "p1s2");
    learner.delivers(NavRequest::Previous, "p1s1");
    learner.delivers(NavRequest::Continue, "p1s2");
    finish12(&mut learner, "passed");
    learner.delivers(NavRequest::Continue, "p2s1");
    // A failed lesson is not completed: part 2 and the course stay incomplete.
    finish12(&mut learner, "failed");
    assert_eq!(learner.nav(NavRequest::Continue), Ok(NavOutcome::Ended));
    let entry = |id: &str| learner.outline(id);
    assert_eq!(
        entry("part1").map(|e| e.completion),
        Some(scorm_player::runtime::CompletionStatus::Completed)
    );
    assert_eq!(entry("part2"), None, "part 2 is isvisible=false");
    assert_eq!(
        entry("org").map(|e| e.completion),
        Some(scorm_player::runtime::CompletionStatus::Incomplete)
    );
    // Choice is open everywhere in a 1.2 course.
    learner.delivers(choice("p2s1"), "p2s1");
}

#[test]
fn scorm12_prerequisites_gate_items() {
    let mut learner = Learner::new(manifest(&format!(
        r#"{head}
  <organizations default="org">
    <organization identifier="org">
      <title>Prerequisites</title>
      <item identifier="intro" identifierref="r"><title>Intro</title></item>
      <item identifier="quiz" identifierref="r"><title>Quiz</title>
        <adlcp:prerequisites type="aicc_script">intro &amp; ~(quiz = passed)</adlcp:prerequisites>
      </item>
      <item identifier="bonus" identifierref="r"><title>Bonus</title>
        <adlcp:prerequisites type="aicc_script">quiz = passed | nosuchitem &amp; intro = failed</adlcp:prerequisites>
      </item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="r" type="webcontent" adlcp:scormtype="sco" href="index.html"><file href="index.html"/></resource>
  </resources>
</manifest>"#,
        head = helpers::SCORM12_HEAD
    )));
    assert_eq!(
        learner.tree.warnings().len(),
        1,
        "{:?}",
        learner.tree.warnings()
    );
    learner.delivers(NavRequest::Start, "intro");
    finish12(&mut learner, "incomplete");
    assert!(!can_choose(&learner.valid(), "quiz"));
    learner.refused(NavRequest::Continue, "SB.2.2-2");
    learner.delivers(choice("intro"), "intro");
    finish12(&mut learner, "completed");
    learner.delivers(NavRequest::Continue, "quiz");
    finish12(&mut learner, "passed");
    learner.delivers(NavRequest::Continue, "bonus");
    // Passed, the quiz's own prerequisite now fails: it cannot be taken again.
    learner.refused(choice("quiz"), "DB.1.1-3");
}

impl Learner {
    fn outline(&self, id: &str) -> Option<OutlineEntry> {
        outline(&self.tree, &self.state)
            .into_iter()
            .find(|e| e.id == id)
    }
}

// ---------------------------------------------------------------------------------------------
// Requests, trees and stored state

#[test]
fn nav_request_vocabulary() {
    let cases: &[(&str, Option<NavRequest>)] = &[
        ("start", Some(NavRequest::Start)),
        ("resumeAll", Some(NavRequest::ResumeAll)),
        ("continue", Some(NavRequest::Continue)),
        ("previous", Some(NavRequest::Previous)),
        ("{target=intro}choice", Some(choice("intro"))),
        ("{target=intro}jump", Some(NavRequest::Jump("intro".into()))),
        ("exit", Some(NavRequest::Exit)),
        ("exitAll", Some(NavRequest::ExitAll)),
        ("suspendAll", Some(NavRequest::SuspendAll)),
        ("abandon", Some(NavRequest::Abandon)),
        ("abandonAll", Some(NavRequest::AbandonAll)),
        ("retry", Some(NavRequest::Retry)),
        ("retryAll", Some(NavRequest::RetryAll)),
        ("_none_", None),
        ("choice", None),
        ("{target=}choice", None),
        ("{target=x}start", None),
        ("Continue", None),
        ("", None),
    ];
    for (value, expected) in cases {
        assert_eq!(&NavRequest::parse(value), expected, "{value:?}");
        if let Some(request) = expected {
            assert_eq!(
                NavRequest::parse(&request.to_string()).as_ref(),
                Some(request)
            );
        }
    }
}

#[test]
fn tree_errors_name_the_problem() {
    let course = scorm2004(&leaf("a", ""));
    assert_eq!(
        ActivityTree::build(&course, Some("other")).err(),
        Some(TreeError::UnknownOrganization("other".into()))
    );
    // The parser refuses duplicate identifiers; a model built by other means can still have
    // them.
    let mut duplicate = course.clone();
    let item = duplicate.organizations[0].items[0].clone();
    duplicate.organizations[0].items.push(item);
    assert_eq!(
        ActivityTree::build(&duplicate, None).err(),
        Some(TreeError::DuplicateIdentifier("a".into()))
    );
    let mut empty = course.clone();
    empty.organizations[0].items.clear();
    assert_eq!(
        ActivityTree::build(&empty, None).err(),
        Some(TreeError::EmptyOrganization("org".into()))
    );
    let mut none = course.clone();
    none.organizations.clear();
    assert_eq!(
        ActivityTree::build(&none, None).err(),
        Some(TreeError::NoOrganization)
    );
    let tree = ActivityTree::build(&course, Some("org")).expect("named organization");
    assert_eq!(
        (tree.root(), tree.title("a"), tree.is_leaf("a")),
        ("org", Some("a"), true)
    );
    assert!(!tree.is_leaf("org") && !tree.is_leaf("nothing"));
}

#[test]
fn stored_state_from_older_documents_still_loads() {
    let course = scorm2004(&format!("{}{}{ROOT_FLOW}", leaf("a", ""), leaf("b", "")));
    let tree = ActivityTree::build(&course, None).expect("tree");
    let mut state: SequencingState = serde_json::from_str("{}").expect("empty document");
    assert_eq!(state.current(), None);
    assert!(matches!(
        navigate(&tree, &mut state, &NavRequest::Start),
        Ok(NavOutcome::Deliver { .. })
    ));
    let partial = r#"{"current":"a","activities":{"a":{"attempts":1,"active":true},"org":{"attempts":1,"active":true}}}"#;
    let mut state: SequencingState = serde_json::from_str(partial).expect("partial document");
    assert_eq!(
        navigate(&tree, &mut state, &NavRequest::Continue).map_err(|e| e.code),
        Ok(NavOutcome::Deliver {
            activity: "b".into(),
            resumed: false,
            new_attempt: true
        })
    );
    // An activity the package no longer has is dropped, not a failure.
    let stale = r#"{"current":"gone","suspended":"gone"}"#;
    let mut state: SequencingState = serde_json::from_str(stale).expect("stale document");
    assert!(navigate(&tree, &mut state, &NavRequest::Start).is_ok());
}

// ---------------------------------------------------------------------------------------------
// Selection and randomization (SN SR.1, SR.2)

/// A flow course: the cluster `bank` holds `q1`…`q{n}` under `controls` (randomization
/// controls), followed by the leaf `end`.
fn bank(controls: &str, n: usize) -> Manifest {
    let questions: String = (1..=n).map(|i| leaf(&format!("q{i}"), "")).collect();
    scorm2004(&format!(
        r#"<item identifier="bank"><title>bank</title>{questions}
             <imsss:sequencing><imsss:controlMode choice="true" flow="true"/>{controls}</imsss:sequencing>
           </item>{end}{ROOT_FLOW}"#,
        end = leaf("end", "")
    ))
}

impl Learner {
    fn with_seed(manifest: Manifest, seed: u64) -> Self {
        let tree = ActivityTree::build(&manifest, None).expect("tree");
        let state = SequencingState::with_seed(&tree, seed);
        Learner {
            manifest,
            tree,
            state,
        }
    }

    /// From the current activity (or Start), continues until `end` is delivered; returns the
    /// questions delivered on the way, in order.
    fn walk_to_end(&mut self) -> Vec<String> {
        let mut request = if self.state.current().is_none() {
            NavRequest::Start
        } else {
            NavRequest::Continue
        };
        let mut delivered = Vec::new();
        loop {
            match self.nav(request.clone()) {
                Ok(NavOutcome::Deliver { activity, .. }) if activity == "end" => return delivered,
                Ok(NavOutcome::Deliver { activity, .. }) => delivered.push(activity),
                other => panic!("{request}: expected a delivery, got {other:?}"),
            }
            request = NavRequest::Continue;
        }
    }

    /// The questions of the outline, in the order it lists them.
    fn listed_questions(&self) -> Vec<String> {
        outline(&self.tree, &self.state)
            .into_iter()
            .filter(|e| e.id.starts_with('q'))
            .map(|e| e.id)
            .collect()
    }

    fn arranged(&self, id: &str) -> Option<(u32, Vec<String>)> {
        self.state
            .available_children(id)
            .map(|a| (a.attempt, a.children.clone()))
    }
}

fn questions(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("q{i}")).collect()
}

#[test]
fn selection_once_keeps_select_count_children_in_manifest_order() {
    let course = bank(
        r#"<imsss:randomizationControls selectCount="2" selectionTiming="once"/>"#,
        5,
    );
    let mut selections = std::collections::BTreeSet::new();
    for seed in 0..16 {
        let mut learner = Learner::with_seed(course.clone(), seed);
        // Before the bank is entered the outline already shows the selection flow will use.
        let listed = learner.listed_questions();
        let visited = learner.walk_to_end();
        assert_eq!(visited.len(), 2, "seed {seed}: {visited:?}");
        assert_eq!(listed, visited, "seed {seed}");
        let mut in_manifest_order = visited.clone();
        in_manifest_order.sort();
        assert_eq!(visited, in_manifest_order, "SR.1 keeps the manifest order");
        assert_eq!(learner.arranged("bank"), Some((1, visited.clone())));
        assert_eq!(learner.listed_questions(), visited);
        // Only the selected questions count for the bank's rollup (RB.1.5 over the available
        // children): both were completed, so the bank is.
        assert_eq!(
            learner.outline_of("bank").completion,
            scorm_player::runtime::CompletionStatus::Completed,
            "seed {seed}"
        );
        let left_out = questions(5)
            .into_iter()
            .find(|q| !visited.contains(q))
            .expect("three were left out");
        assert!(!can_choose(&learner.valid(), &left_out));
        learner.refused(choice(&left_out), "SB.2.9-2");
        learner.refused(NavRequest::Jump(left_out.clone()), "SB.2.13-2");
        // A new attempt on the course keeps the `once` selection.
        learner.nav(NavRequest::ExitAll).expect("exit all");
        assert_eq!(learner.walk_to_end(), visited, "seed {seed}: once is once");
        selections.insert(visited);
    }
    assert!(
        selections.len() > 3,
        "16 seeds drew only {selections:?} from 10 possible pairs"
    );
}

#[test]
fn randomization_once_reorders_flow_choice_and_outline() {
    let course = bank(
        r#"<imsss:randomizationControls reorderChildren="true" randomizationTiming="once"/>"#,
        4,
    );
    let mut orders = std::collections::BTreeSet::new();
    for seed in 0..16 {
        let mut learner = Learner::with_seed(course.clone(), seed);
        let listed = learner.listed_questions();
        let visited = learner.walk_to_end();
        assert_eq!(listed, visited, "seed {seed}");
        let mut all = visited.clone();
        all.sort();
        assert_eq!(all, questions(4), "a reordering keeps every child");
        // Previous walks the same order backward.
        learner.delivers(NavRequest::Previous, &visited[3]);
        learner.delivers(NavRequest::Previous, &visited[2]);
        // Choice follows it too: choosing the question flow puts first, then continue.
        learner.delivers(choice(&visited[0]), &visited[0]);
        learner.delivers(NavRequest::Continue, &visited[1]);
        orders.insert(visited);
    }
    assert!(orders.len() > 3, "16 seeds gave only {orders:?}");
}

#[test]
fn on_each_new_attempt_arranges_the_children_again() {
    let each = bank(
        r#"<imsss:randomizationControls selectCount="3" selectionTiming="onEachNewAttempt"
             reorderChildren="true" randomizationTiming="onEachNewAttempt"/>"#,
        6,
    );
    let mut changed = 0;
    for seed in 0..8 {
        let mut learner = Learner::with_seed(each.clone(), seed);
        let first = learner.walk_to_end();
        assert_eq!(first.len(), 3);
        // The bank's attempt ended when flow left it: the next attempt is arranged already,
        // and the outline shows what it will offer.
        let (attempt, next) = learner.arranged("bank").expect("arranged");
        assert_eq!(attempt, 2);
        assert_eq!(learner.listed_questions(), next);
        learner.nav(NavRequest::ExitAll).expect("exit all");
        let second = learner.walk_to_end();
        assert_eq!(second, next, "seed {seed}");
        assert_eq!(learner.attempts("bank"), 2);
        if second != first {
            changed += 1;
        }
    }
    assert!(
        changed >= 4,
        "only {changed} of 8 seeds changed the arrangement"
    );
}

#[test]
fn arrangement_is_the_same_for_the_same_seed_and_survives_storage() {
    let course = bank(
        r#"<imsss:randomizationControls selectCount="3" selectionTiming="once"
             reorderChildren="true" randomizationTiming="once"/>"#,
        6,
    );
    let mut straight = Learner::with_seed(course.clone(), 42);
    let expected = straight.walk_to_end();

    // Each request on a state read back from JSON, as another server would.
    let mut stored = Learner::with_seed(course.clone(), 42);
    let mut delivered = Vec::new();
    let mut request = NavRequest::Start;
    loop {
        let json = serde_json::to_string(&stored.state).expect("serialize");
        stored.state = serde_json::from_str(&json).expect("deserialize");
        match stored.nav(request.clone()) {
            Ok(NavOutcome::Deliver { activity, .. }) if activity == "end" => break,
            Ok(NavOutcome::Deliver { activity, .. }) => delivered.push(activity),
            other => panic!("{other:?}"),
        }
        request = NavRequest::Continue;
    }
    assert_eq!(delivered, expected);
    assert_eq!(stored.state.seed(), 42);

    // `new` derives a seed from the course, so it is reproducible too.
    let tree = ActivityTree::build(&course, None).expect("tree");
    assert_eq!(
        SequencingState::new(&tree),
        SequencingState::new(&tree),
        "new is deterministic"
    );
}

#[test]
fn state_written_before_arrangements_keeps_the_manifest_order() {
    let course = bank(
        r#"<imsss:randomizationControls reorderChildren="true" randomizationTiming="once"/>"#,
        4,
    );
    let tree = ActivityTree::build(&course, None).expect("tree");
    // A bank already attempted in manifest order: `once` applies only before the first
    // attempt (SR.2), so the learner carries on where the order says.
    let old = r#"{"current":"q1","activities":{
        "org":{"attempts":1,"active":true},
        "bank":{"attempts":1,"active":true},
        "q1":{"attempts":1,"active":true}}}"#;
    let mut state: SequencingState = serde_json::from_str(old).expect("old document");
    for next in ["q2", "q3", "q4", "end"] {
        match navigate(&tree, &mut state, &NavRequest::Continue) {
            Ok(NavOutcome::Deliver { activity, .. }) => assert_eq!(activity, next),
            other => panic!("{other:?}"),
        }
    }
    assert!(state.available_children("bank").is_none());
    // A stored arrangement naming something that is not a child of the bank is not used.
    let mut json: serde_json::Value =
        serde_json::to_value(SequencingState::with_seed(&tree, 7)).expect("value");
    json["available_children"] =
        serde_json::json!({"bank": {"attempt": 1, "children": ["q1", "end"]}});
    let mut state: SequencingState = serde_json::from_value(json).expect("document");
    navigate(&tree, &mut state, &NavRequest::Start).expect("start");
    let mut children = state
        .available_children("bank")
        .expect("arranged")
        .children
        .clone();
    children.sort();
    assert_eq!(children, questions(4));
}

// ---------------------------------------------------------------------------------------------
// Delivery controls (SN SM.11, DB.2, UP.4) and attempt duration limits (UP.1)

#[test]
fn untracked_activity_keeps_no_tracking_status() {
    let untracked =
        r#"<imsss:sequencing><imsss:deliveryControls tracked="false"/></imsss:sequencing>"#;
    let mut learner = Learner::new(scorm2004(&format!(
        "{}{}{ROOT_FLOW}",
        leaf("intro", untracked),
        leaf("lesson", "")
    )));
    learner.delivers(NavRequest::Start, "intro");
    learner.finish(FAILED);
    learner.delivers(NavRequest::Continue, "lesson");
    let intro = learner.outline_of("intro");
    assert_eq!(learner.attempts("intro"), 0);
    assert_eq!(
        intro.completion,
        scorm_player::runtime::CompletionStatus::NotAttempted
    );
    assert_eq!(intro.success, scorm_player::runtime::SuccessStatus::Unknown);
    learner.finish(PASSED);
    learner.nav(NavRequest::ExitAll).expect("exit all");
    // The untracked intro (failed by its content) neither counts nor blocks the rollup.
    let root = learner.outline_of("org");
    assert_eq!(
        root.completion,
        scorm_player::runtime::CompletionStatus::Completed
    );
    assert_eq!(root.success, scorm_player::runtime::SuccessStatus::Passed);
    // It can be delivered any number of times.
    learner.delivers(NavRequest::Start, "intro");
    assert_eq!(learner.attempts("intro"), 0);
}

#[test]
fn content_that_does_not_set_its_status_is_completed_and_satisfied_by_the_lms() {
    use scorm_player::runtime::{CompletionStatus as C, SuccessStatus as S};
    let by_content = r#"<imsss:sequencing><imsss:deliveryControls
        completionSetByContent="true" objectiveSetByContent="true"/></imsss:sequencing>"#;
    let mut learner = Learner::new(scorm2004(&format!(
        "{}{}{}{}{ROOT_FLOW}",
        leaf("silent", ""),
        leaf("reports", ""),
        leaf("trusted", by_content),
        leaf("end", "")
    )));
    let incomplete_failed: &[(&str, &str)] = &[
        ("cmi.completion_status", "incomplete"),
        ("cmi.success_status", "failed"),
    ];
    learner.delivers(NavRequest::Start, "silent");
    learner.finish(&[]);
    learner.delivers(NavRequest::Continue, "reports");
    learner.finish(incomplete_failed);
    learner.delivers(NavRequest::Continue, "trusted");
    learner.finish(&[]);
    learner.delivers(NavRequest::Continue, "end");
    let status = |id: &str| {
        let entry = learner.outline_of(id);
        (entry.completion, entry.success)
    };
    // UP.4: set by the LMS only when the content left them unknown.
    assert_eq!(status("silent"), (C::Completed, S::Passed));
    assert_eq!(status("reports"), (C::Incomplete, S::Failed));
    assert_eq!(status("trusted"), (C::Unknown, S::Unknown));
}

#[test]
fn attempt_duration_limit_sets_time_limit_exceeded_and_refuses_a_new_attempt() {
    let limited = r#"<imsss:sequencing><imsss:limitConditions attemptAbsoluteDurationLimit="PT1M"/></imsss:sequencing>"#;
    let ruled = r#"<imsss:sequencing><imsss:sequencingRules><imsss:preConditionRule>
        <imsss:ruleConditions><imsss:ruleCondition condition="timeLimitExceeded"/></imsss:ruleConditions>
        <imsss:ruleAction action="hiddenFromChoice"/></imsss:preConditionRule></imsss:sequencingRules>
        <imsss:limitConditions attemptAbsoluteDurationLimit="PT1M"/></imsss:sequencing>"#;
    let mut learner = Learner::new(scorm2004(&format!(
        "{}{}{}{}{ROOT_FLOW}",
        leaf("slow", limited),
        leaf("quick", limited),
        leaf("ruled", ruled),
        leaf("end", "")
    )));
    assert!(!learner.outline_of("ruled").hidden_from_choice);
    learner.delivers(NavRequest::Start, "slow");
    learner.finish(&[("cmi.session_time", "PT2M")]);
    // While the attempt runs its own limit does not end it.
    assert!(!learner.outline_of("slow").disabled);
    learner.delivers(NavRequest::Continue, "quick");
    learner.finish(&[("cmi.session_time", "PT30S")]);
    learner.delivers(NavRequest::Continue, "ruled");
    learner.finish(&[("cmi.session_time", "PT1M30S")]);
    learner.delivers(NavRequest::Continue, "end");

    assert_eq!(
        learner.state.activity("slow").and_then(|a| a.duration),
        Some(12_000)
    );
    // UP.1: the last attempt took longer than the limit, so no new attempt begins.
    assert!(learner.outline_of("slow").disabled);
    assert!(!can_choose(&learner.valid(), "slow"));
    learner.refused(choice("slow"), "DB.1.1-3");
    assert!(!learner.outline_of("quick").disabled);
    learner.delivers(choice("quick"), "quick");
    // The timeLimitExceeded rule condition (UP.2.1) reads the same duration.
    assert!(learner.outline_of("ruled").hidden_from_choice);
    learner.refused(choice("ruled"), "SB.2.9-3");
}

// ---------------------------------------------------------------------------------------------
// Property: any sequence of requests and reports

/// A course with a bit of everything: nested clusters, flow and choice, forward-only,
/// choiceExit, skip, disabled, hiddenFromChoice, stopForwardTraversal, attempt limits,
/// retry, exitParent, exit rules, rollup rules, measure and a global objective.
fn busy_course() -> Manifest {
    busy_course_with("")
}

/// The busy course with `m2_controls` (randomization controls) on the cluster m2.
fn busy_course_with(m2_controls: &str) -> Manifest {
    scorm2004(&format!(
        r#"<item identifier="m1"><title>m1</title>{m1a}{m1b}
             <imsss:sequencing><imsss:controlMode choice="true" flow="true" forwardOnly="true"/>
               <imsss:sequencingRules><imsss:exitConditionRule>
                 <imsss:ruleConditions><imsss:ruleCondition condition="completed"/></imsss:ruleConditions>
                 <imsss:ruleAction action="exit"/></imsss:exitConditionRule></imsss:sequencingRules>
               <imsss:rollupRules><imsss:rollupRule childActivitySet="any">
                 <imsss:rollupConditions><imsss:rollupCondition condition="satisfied"/></imsss:rollupConditions>
                 <imsss:rollupAction action="satisfied"/></imsss:rollupRule></imsss:rollupRules>
             </imsss:sequencing></item>
           <item identifier="m2"><title>m2</title>{m2a}{m2b}{m2c}
             <imsss:sequencing><imsss:controlMode choice="true" flow="true" choiceExit="false"/>
               <imsss:objectives><imsss:primaryObjective objectiveID="m2" satisfiedByMeasure="true">
                 <imsss:minNormalizedMeasure>0.5</imsss:minNormalizedMeasure></imsss:primaryObjective></imsss:objectives>
               {m2_controls}
               <adlseq:constrainedChoiceConsiderations preventActivation="true"/>
             </imsss:sequencing></item>
           {last}{ROOT_FLOW}"#,
        m1a = leaf(
            "m1a",
            r#"<imsss:sequencing><imsss:sequencingRules><imsss:postConditionRule>
               <imsss:ruleConditions conditionCombination="all"><imsss:ruleCondition condition="satisfied" operator="not"/><imsss:ruleCondition condition="attemptLimitExceeded" operator="not"/></imsss:ruleConditions>
               <imsss:ruleAction action="retry"/></imsss:postConditionRule></imsss:sequencingRules>
               <imsss:limitConditions attemptLimit="3"/>
               <imsss:objectives><imsss:primaryObjective objectiveID="p"><imsss:mapInfo targetObjectiveID="g" writeSatisfiedStatus="true"/></imsss:primaryObjective></imsss:objectives>
               <imsss:deliveryControls objectiveSetByContent="true"/></imsss:sequencing>"#
        ),
        m1b = leaf(
            "m1b",
            r#"<imsss:sequencing><imsss:sequencingRules><imsss:preConditionRule>
               <imsss:ruleConditions><imsss:ruleCondition condition="satisfied"/></imsss:ruleConditions>
               <imsss:ruleAction action="skip"/></imsss:preConditionRule>
               <imsss:postConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="completed"/></imsss:ruleConditions>
               <imsss:ruleAction action="exitParent"/></imsss:postConditionRule></imsss:sequencingRules>
               <imsss:objectives><imsss:primaryObjective objectiveID="q"><imsss:mapInfo targetObjectiveID="g"/></imsss:primaryObjective></imsss:objectives></imsss:sequencing>"#
        ),
        m2a = leaf(
            "m2a",
            r#"<imsss:sequencing><imsss:sequencingRules><imsss:preConditionRule>
               <imsss:ruleConditions><imsss:ruleCondition condition="objectiveMeasureLessThan" measureThreshold="0"/></imsss:ruleConditions>
               <imsss:ruleAction action="disabled"/></imsss:preConditionRule>
               <imsss:preConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="completed" operator="not"/></imsss:ruleConditions>
               <imsss:ruleAction action="stopForwardTraversal"/></imsss:preConditionRule></imsss:sequencingRules>
               <imsss:deliveryControls completionSetByContent="true"/></imsss:sequencing>"#
        ),
        m2b = leaf(
            "m2b",
            r#"<imsss:sequencing><imsss:sequencingRules><imsss:preConditionRule>
               <imsss:ruleConditions><imsss:ruleCondition condition="attempted"/></imsss:ruleConditions>
               <imsss:ruleAction action="hiddenFromChoice"/></imsss:preConditionRule>
               <imsss:postConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="always"/></imsss:ruleConditions>
               <imsss:ruleAction action="previous"/></imsss:postConditionRule></imsss:sequencingRules></imsss:sequencing>"#
        ),
        m2c = leaf(
            "m2c",
            r#"<imsss:sequencing><imsss:sequencingRules><imsss:postConditionRule>
               <imsss:ruleConditions><imsss:ruleCondition condition="objectiveMeasureGreaterThan" measureThreshold="0.9"/></imsss:ruleConditions>
               <imsss:ruleAction action="exitAll"/></imsss:postConditionRule>
               <imsss:postConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="satisfied" operator="not"/></imsss:ruleConditions>
               <imsss:ruleAction action="retryAll"/></imsss:postConditionRule></imsss:sequencingRules>
               <imsss:limitConditions attemptLimit="2"/></imsss:sequencing>"#
        ),
        last = leaf("last", ""),
    ))
}

const IDS: [&str; 9] = ["org", "m1", "m1a", "m1b", "m2", "m2a", "m2b", "m2c", "last"];

#[derive(Debug, Clone)]
enum Step {
    Nav(NavRequest),
    Report(usize),
    Query,
}

fn step() -> impl Strategy<Value = Step> {
    let target = (0..IDS.len()).prop_map(|i| IDS[i].to_owned());
    prop_oneof![
        1 => Just(Step::Nav(NavRequest::Start)),
        1 => Just(Step::Nav(NavRequest::ResumeAll)),
        3 => Just(Step::Nav(NavRequest::Continue)),
        1 => Just(Step::Nav(NavRequest::Previous)),
        3 => target.clone().prop_map(|t| Step::Nav(NavRequest::Choice(t))),
        1 => target.prop_map(|t| Step::Nav(NavRequest::Jump(t))),
        1 => Just(Step::Nav(NavRequest::Exit)),
        1 => Just(Step::Nav(NavRequest::ExitAll)),
        1 => Just(Step::Nav(NavRequest::SuspendAll)),
        1 => Just(Step::Nav(NavRequest::Abandon)),
        1 => Just(Step::Nav(NavRequest::AbandonAll)),
        1 => Just(Step::Nav(NavRequest::Retry)),
        1 => Just(Step::Nav(NavRequest::RetryAll)),
        4 => (0..REPORTS.len()).prop_map(Step::Report),
        3 => Just(Step::Query),
    ]
}

const REPORTS: &[&[(&str, &str)]] = &[
    &[
        ("cmi.completion_status", "completed"),
        ("cmi.success_status", "passed"),
    ],
    &[
        ("cmi.completion_status", "incomplete"),
        ("cmi.success_status", "failed"),
    ],
    &[
        ("cmi.score.scaled", "0.95"),
        ("cmi.completion_status", "completed"),
    ],
    &[("cmi.score.scaled", "-0.5")],
    &[("cmi.exit", "suspend"), ("cmi.progress_measure", "0.4")],
    &[],
];

fn check_invariants(
    tree: &ActivityTree,
    state: &SequencingState,
    before: &[u32],
) -> Result<(), String> {
    for (id, previous) in IDS.iter().zip(before) {
        let attempts = state.activity(id).map_or(0, |a| a.attempts);
        if attempts < *previous {
            return Err(format!(
                "attempts of {id} went from {previous} to {attempts}"
            ));
        }
    }
    let active: Vec<&str> = IDS
        .iter()
        .copied()
        .filter(|id| state.activity(id).is_some_and(|a| a.active))
        .collect();
    if let Some(current) = state.current() {
        if !tree.contains(current) {
            return Err(format!("current {current} is not in the tree"));
        }
        // Whatever runs is a leaf, and exactly its path to the root is active.
        if state.activity(current).is_some_and(|a| a.active) {
            if !tree.is_leaf(current) {
                return Err(format!("active current {current} is a cluster"));
            }
            let mut path = vec![current];
            let mut at = current;
            while let Some(parent) = tree.parent(at) {
                path.push(parent);
                at = parent;
            }
            let mut expected: Vec<&str> = path;
            expected.sort_unstable();
            let mut got = active.clone();
            got.sort_unstable();
            if got != expected {
                return Err(format!("active {got:?}, expected the path {expected:?}"));
            }
        } else if active.iter().any(|id| tree.is_leaf(id)) {
            return Err(format!(
                "a leaf is active while {current} is not: {active:?}"
            ));
        }
    } else if active.iter().any(|id| tree.is_leaf(id)) {
        return Err(format!(
            "a leaf is active without a current activity: {active:?}"
        ));
    }
    if let Some(suspended) = state.suspended()
        && !state.activity(suspended).is_some_and(|a| a.suspended)
    {
        return Err(format!(
            "suspended activity {suspended} is not marked suspended"
        ));
    }
    Ok(())
}

/// Each answer of `navigation` against the request carried out on a copy of the state.
fn look_ahead_agrees(
    tree: &ActivityTree,
    state: &SequencingState,
    valid: &Navigation,
) -> Result<(), String> {
    let real = |request: &NavRequest| navigate(tree, &mut state.clone(), request);
    let flows = |request: NavRequest, said: NavValidity| {
        let outcome = real(&request);
        let done = matches!(outcome, Ok(NavOutcome::Deliver { .. } | NavOutcome::Ended));
        if done == (said == NavValidity::True) {
            Ok(())
        } else {
            Err(format!(
                "{request}: look-ahead said {said:?}, the request gave {outcome:?}"
            ))
        }
    };
    flows(NavRequest::Continue, valid.continue_)?;
    flows(NavRequest::Previous, valid.previous)?;
    for (requests, key) in [(&valid.choice, "choice"), (&valid.jump, "jump")] {
        for (target, said) in requests {
            let request = if key == "choice" {
                NavRequest::Choice(target.clone())
            } else {
                NavRequest::Jump(target.clone())
            };
            let outcome = real(&request);
            let delivered = matches!(outcome, Ok(NavOutcome::Deliver { .. }));
            if delivered != (*said == NavValidity::True) {
                return Err(format!(
                    "{request}: look-ahead said {said:?}, the request gave {outcome:?}"
                ));
            }
        }
    }
    Ok(())
}

fn run_steps(manifest: &Manifest, seed: u64, steps: Vec<Step>) -> Result<(), TestCaseError> {
    let tree = ActivityTree::build(manifest, None).expect("tree");
    let mut state = SequencingState::with_seed(&tree, seed);
    for step in steps {
        let before: Vec<u32> = IDS
            .iter()
            .map(|id| state.activity(id).map_or(0, |a| a.attempts))
            .collect();
        match step {
            Step::Nav(request) => {
                let outcome = navigate(&tree, &mut state, &request);
                if let Ok(NavOutcome::Deliver { activity, .. }) = &outcome {
                    prop_assert!(tree.is_leaf(activity), "delivered cluster {activity}");
                    prop_assert_eq!(state.current(), Some(activity.as_str()));
                    prop_assert!(state.activity(activity).is_some_and(|a| a.active));
                    // Only what selection kept is ever delivered (SN SR.1).
                    let parent = tree.parent(activity).expect("a leaf has a parent");
                    if let Some(available) = state.available_children(parent) {
                        prop_assert!(
                            available.children.contains(activity),
                            "{} not in {:?}",
                            activity,
                            available
                        );
                    }
                }
                if matches!(outcome, Ok(NavOutcome::Ended | NavOutcome::Suspended)) {
                    prop_assert_eq!(state.current(), None);
                }
            }
            Step::Report(which) => {
                if let Some(current) = state.current().map(str::to_owned) {
                    let summary = attempt(manifest, &current, REPORTS[which]);
                    report(&tree, &mut state, &current, &summary);
                }
            }
            Step::Query => {
                // Look-ahead never changes the state.
                let copy = state.clone();
                let valid = navigation(&tree, &state);
                let entries = outline(&tree, &state);
                prop_assert_eq!(&copy, &state);
                prop_assert_eq!(valid.choice.len(), IDS.len());
                prop_assert!(
                    entries.iter().all(
                        |e| (e.choice) == (valid.choice.get(&e.id) == Some(&NavValidity::True))
                    )
                );
                // And it answers what the request would really do.
                if let Err(problem) = look_ahead_agrees(&tree, &state, &valid) {
                    prop_assert!(false, "{}", problem);
                }
            }
        }
        if let Err(problem) = check_invariants(&tree, &state, &before) {
            prop_assert!(false, "{}", problem);
        }
        // Stored and loaded, the state is the same.
        let json = serde_json::to_string(&state).expect("serialize");
        let back: SequencingState = serde_json::from_str(&json).expect("deserialize");
        prop_assert_eq!(&back, &state);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_requests_and_reports_keep_the_state_sound(steps in proptest::collection::vec(step(), 1..40)) {
        run_steps(&busy_course(), 0, steps)?;
    }

    /// The same with m2's children selected and reordered on each new attempt: flow, choice,
    /// look-ahead and storage agree on the arrangement.
    #[test]
    fn random_requests_with_selection_and_randomization(
        seed in any::<u64>(),
        steps in proptest::collection::vec(step(), 1..40),
    ) {
        let manifest = busy_course_with(
            r#"<imsss:randomizationControls selectCount="2" selectionTiming="onEachNewAttempt"
                 reorderChildren="true" randomizationTiming="onEachNewAttempt"/>"#,
        );
        run_steps(&manifest, seed, steps)?;
    }
}
