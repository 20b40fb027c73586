//! The request processes of SN Appendix C: the Overall Sequencing Process (OP.1), the
//! Navigation Request Process (NB.2.1), the Termination Request Process (TB.2.3 with TB.2.1 and
//! TB.2.2), the Sequencing Request Process (SB.2.12) with flow, choice and the other
//! sequencing requests (SB.2.1–SB.2.13), and delivery (DB.1.1, DB.2, DB.2.1).

use crate::manifest::RuleAction;

use super::engine::{Engine, RuleSet};
use super::{NavRequest, SequencingException};

/// What the Overall Sequencing Process ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Deliver {
        activity: usize,
        resumed: bool,
        new_attempt: bool,
    },
    Ended,
    Suspended,
    Idle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Forward,
    Backward,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Termination {
    Exit,
    ExitAll,
    /// Exit All followed by a retry of the root, as a `retryAll` post-condition asks (TB.2.2).
    RetryAll,
    SuspendAll,
    Abandon,
    AbandonAll,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SeqRequest {
    Start,
    ResumeAll,
    Continue,
    Previous,
    Choice,
    Jump,
    Exit,
    Retry,
}

struct NavResult {
    termination: Option<Termination>,
    sequencing: Option<SeqRequest>,
    target: Option<usize>,
}

enum SeqResult {
    Deliver(usize),
    EndSession,
    Nothing,
}

/// Flow Tree Traversal Subprocess (SB.2.1) results.
enum Traverse {
    Next(usize, Dir),
    EndSession,
    Refused(SequencingException),
}

/// Flow Subprocess (SB.2.3) / Flow Activity Traversal Subprocess (SB.2.2) results.
enum Flow {
    Found(usize),
    EndSession,
    Refused(SequencingException),
}

/// A termination request a post-condition rule asks for (TB.2.2).
enum PostTermination {
    ExitParent,
    ExitAll,
}

fn ex(code: &'static str, message: impl Into<String>) -> SequencingException {
    SequencingException {
        code,
        message: message.into(),
    }
}

type Result<T> = std::result::Result<T, SequencingException>;

const CHOICE_NOTHING_TO_DELIVER: &str = "SB.2.9-9";

/// Copies of the state after each kind of termination, for look-ahead.
pub(crate) type TerminatedCache<'t> = Vec<(Termination, Engine<'t>, Result<Option<SeqRequest>>)>;

impl<'t> Engine<'t> {
    fn title(&self, a: usize) -> &str {
        &self.node(a).title
    }

    /// Overall Sequencing Process (OP.1).
    pub fn overall(&mut self, request: &NavRequest) -> Result<Outcome> {
        let nav = self.navigation_request(request)?;
        let mut sequencing = nav.sequencing;
        if let Some(termination) = nav.termination
            && let Some(replacement) = self.termination_request(termination)?
        {
            sequencing = Some(replacement);
        }
        let Some(sequencing) = sequencing else {
            return Ok(Outcome::Idle);
        };
        let result = match self.sequencing_request(sequencing, nav.target) {
            Err(e) if e.code == CHOICE_NOTHING_TO_DELIVER => {
                // SB.2.9: a chosen cluster with nothing to deliver still ends the attempts up
                // to the common ancestor and becomes the Current Activity. Outside a
                // sequencing session nothing is running, and a refused choice must not begin
                // one (it would shut out Start and Resume All).
                if let (Some(target), Some(current)) = (nav.target, self.current) {
                    let ancestor = self.common_ancestor(current, target);
                    self.terminate_descendent_attempts(ancestor);
                    self.end_attempt(ancestor);
                    self.current = Some(target);
                }
                return Err(e);
            }
            other => other?,
        };
        match result {
            SeqResult::EndSession => {
                self.end_session();
                Ok(if matches!(request, NavRequest::SuspendAll) {
                    Outcome::Suspended
                } else {
                    Outcome::Ended
                })
            }
            SeqResult::Nothing => Ok(Outcome::Idle),
            SeqResult::Deliver(activity) => {
                self.delivery_request(activity)?;
                self.content_delivery(activity)
            }
        }
    }

    /// What `request` would lead to, without delivering: the navigation request on the state
    /// as it is, the termination it needs on a copy (computed once per kind of termination and
    /// shared by every request that needs it), then the sequencing and delivery request
    /// processes, which only read the state.
    pub fn look_ahead(
        &self,
        request: &NavRequest,
        terminated: &mut TerminatedCache<'t>,
    ) -> Result<Outcome> {
        let nav = self.navigation_request(request)?;
        let (engine, sequencing) = match nav.termination {
            None => (self, nav.sequencing),
            Some(termination) => {
                let at = match terminated.iter().position(|(t, _, _)| *t == termination) {
                    Some(at) => at,
                    None => {
                        let mut copy = self.clone();
                        let result = copy.termination_request(termination);
                        terminated.push((termination, copy, result));
                        terminated.len() - 1
                    }
                };
                let (_, copy, result) = &terminated[at];
                let replacement = result.clone()?;
                (copy, replacement.or(nav.sequencing))
            }
        };
        let Some(sequencing) = sequencing else {
            return Ok(Outcome::Idle);
        };
        match engine.sequencing_request(sequencing, nav.target)? {
            SeqResult::EndSession if matches!(request, NavRequest::SuspendAll) => {
                Ok(Outcome::Suspended)
            }
            SeqResult::EndSession => Ok(Outcome::Ended),
            SeqResult::Nothing => Ok(Outcome::Idle),
            SeqResult::Deliver(activity) => {
                engine.delivery_request(activity)?;
                Ok(Outcome::Deliver {
                    activity,
                    resumed: engine.acts[activity].suspended,
                    new_attempt: !engine.acts[activity].suspended,
                })
            }
        }
    }

    /// The sequencing session is over: attempts still open end (so their results roll up)
    /// and there is no Current Activity until the next Start or Resume All.
    fn end_session(&mut self) {
        if let Some(current) = self.current {
            for a in self.path_to_root(current) {
                if self.acts[a].active {
                    self.end_attempt(a);
                }
            }
        }
        self.current = None;
    }

    // -----------------------------------------------------------------------------------------
    // NB.2.1

    fn navigation_request(&self, request: &NavRequest) -> Result<NavResult> {
        let current = self.current;
        let active = current.is_some_and(|c| self.acts[c].active);
        let exit_if_active = if active {
            Some(Termination::Exit)
        } else {
            None
        };
        let valid = |termination, sequencing| {
            Ok(NavResult {
                termination,
                sequencing: Some(sequencing),
                target: None,
            })
        };
        match request {
            NavRequest::Start => match current {
                None => valid(None, SeqRequest::Start),
                Some(_) => Err(ex("NB.2.1-1", "the sequencing session has already begun")),
            },
            NavRequest::ResumeAll => match (current, self.suspended) {
                (Some(_), _) => Err(ex("NB.2.1-1", "the sequencing session has already begun")),
                (None, None) => Err(ex("NB.2.1-3", "there is no suspended activity to resume")),
                (None, Some(_)) => valid(None, SeqRequest::ResumeAll),
            },
            NavRequest::Continue => {
                let Some(c) = current else {
                    return Err(ex("NB.2.1-1", "the sequencing session has not begun"));
                };
                match self.parent(c) {
                    Some(p) if self.def(p).control.flow => {
                        valid(exit_if_active, SeqRequest::Continue)
                    }
                    Some(p) => Err(ex(
                        "NB.2.1-4",
                        format!(
                            "flow is not allowed in '{}'; choose an activity",
                            self.title(p)
                        ),
                    )),
                    None => Err(ex("NB.2.1-4", "continue is not possible from the root")),
                }
            }
            NavRequest::Previous => {
                let Some(c) = current else {
                    return Err(ex("NB.2.1-2", "the sequencing session has not begun"));
                };
                let Some(p) = self.parent(c) else {
                    return Err(ex(
                        "NB.2.1-6",
                        "the beginning of the course has been reached",
                    ));
                };
                let control = self.def(p).control;
                if control.flow && !control.forward_only {
                    valid(exit_if_active, SeqRequest::Previous)
                } else {
                    Err(ex(
                        "NB.2.1-5",
                        format!(
                            "'{}' does not allow moving backward (flow or forwardOnly)",
                            self.title(p)
                        ),
                    ))
                }
            }
            NavRequest::Choice(target) => self.navigation_choice(target),
            NavRequest::Jump(target) => {
                let Some(t) = self.tree.idx(target) else {
                    return Err(ex(
                        "NB.2.1-11",
                        format!("no activity has identifier '{target}'"),
                    ));
                };
                Ok(NavResult {
                    termination: exit_if_active,
                    sequencing: Some(SeqRequest::Jump),
                    target: Some(t),
                })
            }
            NavRequest::Exit | NavRequest::Abandon => {
                let Some(_) = current else {
                    return Err(ex("NB.2.1-2", "there is no current activity"));
                };
                if !active {
                    return Err(ex("NB.2.1-12", "the current activity is no longer active"));
                }
                let termination = if matches!(request, NavRequest::Exit) {
                    Termination::Exit
                } else {
                    Termination::Abandon
                };
                valid(Some(termination), SeqRequest::Exit)
            }
            NavRequest::ExitAll | NavRequest::AbandonAll | NavRequest::SuspendAll => {
                if current.is_none() {
                    return Err(ex("NB.2.1-2", "there is no current activity"));
                }
                let termination = match request {
                    NavRequest::ExitAll => Termination::ExitAll,
                    NavRequest::AbandonAll => Termination::AbandonAll,
                    _ => Termination::SuspendAll,
                };
                valid(Some(termination), SeqRequest::Exit)
            }
            // Retry and Retry All are the requests a post-condition rule makes (TB.2.2),
            // offered to the LMS directly: end the attempt, then start a new one.
            NavRequest::Retry => match current {
                None => Err(ex("NB.2.1-2", "there is no current activity")),
                Some(_) => valid(exit_if_active, SeqRequest::Retry),
            },
            NavRequest::RetryAll => match current {
                None => Err(ex("NB.2.1-2", "there is no current activity")),
                Some(_) => valid(Some(Termination::RetryAll), SeqRequest::Retry),
            },
        }
    }

    fn navigation_choice(&self, target: &str) -> Result<NavResult> {
        let Some(t) = self.tree.idx(target) else {
            return Err(ex(
                "NB.2.1-11",
                format!("no activity has identifier '{target}'"),
            ));
        };
        if let Some(p) = self.parent(t)
            && !self.def(p).control.choice
        {
            return Err(ex(
                "NB.2.1-10",
                format!(
                    "'{}' does not allow choosing its activities; use continue or previous",
                    self.title(p)
                ),
            ));
        }
        let Some(current) = self.current else {
            return Ok(NavResult {
                termination: None,
                sequencing: Some(SeqRequest::Choice),
                target: Some(t),
            });
        };
        if self.parent(current) != self.parent(t) || current == t {
            let ancestor = self.common_ancestor(current, t);
            // Leaving an active activity whose choiceExit is false is not allowed (SM.1).
            for a in self
                .path_to_root(current)
                .into_iter()
                .take_while(|&a| a != ancestor)
            {
                if self.acts[a].active && !self.def(a).control.choice_exit {
                    return Err(ex(
                        "NB.2.1-8",
                        format!(
                            "'{}' must be finished before choosing elsewhere",
                            self.title(a)
                        ),
                    ));
                }
            }
        } else if self.acts[current].active && !self.def(current).control.choice_exit {
            return Err(ex(
                "NB.2.1-8",
                format!(
                    "'{}' must be finished before choosing elsewhere",
                    self.title(current)
                ),
            ));
        }
        Ok(NavResult {
            termination: self.acts[current].active.then_some(Termination::Exit),
            sequencing: Some(SeqRequest::Choice),
            target: Some(t),
        })
    }

    // -----------------------------------------------------------------------------------------
    // TB.2.3

    fn termination_request(&mut self, termination: Termination) -> Result<Option<SeqRequest>> {
        let Some(current) = self.current else {
            return Err(ex("TB.2.3-1", "there is no current activity to terminate"));
        };
        if matches!(termination, Termination::Exit | Termination::Abandon)
            && !self.acts[current].active
        {
            return Err(ex(
                "TB.2.3-2",
                "the current activity has already been terminated",
            ));
        }
        match termination {
            Termination::Exit => {
                self.end_attempt(current);
                self.exit_action_rules();
                loop {
                    let (post_termination, post_sequencing) = self.post_condition_rules();
                    match post_termination {
                        Some(PostTermination::ExitAll) => {
                            return Ok(Some(self.exit_all(post_sequencing)));
                        }
                        Some(PostTermination::ExitParent) => {
                            let at = self.current.unwrap_or(0);
                            let Some(parent) = self.parent(at) else {
                                return Err(ex(
                                    "TB.2.3-4",
                                    "an exitParent rule cannot apply to the root",
                                ));
                            };
                            self.current = Some(parent);
                            self.end_attempt(parent);
                        }
                        None => {
                            // An exit that reached the root ends the session, unless a
                            // post-condition asks to retry it (SN TB.2.3 3.3.5).
                            let at_root = self.current.is_none_or(|c| self.is_root(c));
                            if at_root && post_sequencing != Some(SeqRequest::Retry) {
                                return Ok(Some(SeqRequest::Exit));
                            }
                            return Ok(post_sequencing);
                        }
                    }
                }
            }
            Termination::ExitAll => Ok(Some(self.exit_all(None))),
            Termination::RetryAll => Ok(Some(self.exit_all(Some(SeqRequest::Retry)))),
            Termination::SuspendAll => {
                let act = &self.acts[current];
                let suspended = if act.active || act.suspended {
                    self.overall_rollup(current);
                    current
                } else {
                    match self.parent(current) {
                        Some(parent) => parent,
                        None => return Err(ex("TB.2.3-3", "there is no activity to suspend")),
                    }
                };
                self.suspended = Some(suspended);
                for a in self.path_to_root(suspended) {
                    self.acts[a].active = false;
                    self.acts[a].suspended = true;
                }
                self.current = Some(0);
                Ok(Some(SeqRequest::Exit))
            }
            Termination::Abandon => {
                self.acts[current].active = false;
                Ok(None)
            }
            Termination::AbandonAll => {
                for a in self.path_to_root(current) {
                    self.acts[a].active = false;
                }
                self.current = Some(0);
                Ok(Some(SeqRequest::Exit))
            }
        }
    }

    /// The Exit All case of TB.2.3: every attempt ends, the root's last.
    fn exit_all(&mut self, post_sequencing: Option<SeqRequest>) -> SeqRequest {
        if let Some(current) = self.current
            && self.acts[current].active
        {
            self.end_attempt(current);
        }
        self.terminate_descendent_attempts(0);
        self.end_attempt(0);
        self.current = Some(0);
        post_sequencing.unwrap_or(SeqRequest::Exit)
    }

    /// Sequencing Exit Action Rules Subprocess (TB.2.1): the first ancestor, from the root
    /// down, whose exit rule holds ends with everything under it.
    fn exit_action_rules(&mut self) {
        let Some(current) = self.current else {
            return;
        };
        let ancestors: Vec<usize> = self.path_to_root(current).into_iter().skip(1).collect();
        let target = ancestors.into_iter().rev().find(|&a| {
            self.rules_check(a, RuleSet::Exit, &[RuleAction::Exit])
                .is_some()
        });
        if let Some(target) = target {
            self.terminate_descendent_attempts(target);
            self.end_attempt(target);
            self.current = Some(target);
        }
    }

    /// Sequencing Post Condition Rules Subprocess (TB.2.2).
    fn post_condition_rules(&self) -> (Option<PostTermination>, Option<SeqRequest>) {
        let Some(current) = self.current else {
            return (None, None);
        };
        if self.acts[current].suspended {
            return (None, None);
        }
        let action = self.rules_check(
            current,
            RuleSet::Post,
            &[
                RuleAction::ExitParent,
                RuleAction::ExitAll,
                RuleAction::Retry,
                RuleAction::RetryAll,
                RuleAction::Continue,
                RuleAction::Previous,
            ],
        );
        match action {
            Some(RuleAction::Retry) => (None, Some(SeqRequest::Retry)),
            Some(RuleAction::Continue) => (None, Some(SeqRequest::Continue)),
            Some(RuleAction::Previous) => (None, Some(SeqRequest::Previous)),
            Some(RuleAction::ExitParent) => (Some(PostTermination::ExitParent), None),
            Some(RuleAction::ExitAll) => (Some(PostTermination::ExitAll), None),
            Some(RuleAction::RetryAll) => (Some(PostTermination::ExitAll), Some(SeqRequest::Retry)),
            _ => (None, None),
        }
    }

    // -----------------------------------------------------------------------------------------
    // SB.2.12

    fn sequencing_request(&self, request: SeqRequest, target: Option<usize>) -> Result<SeqResult> {
        match request {
            SeqRequest::Start => self.start(),
            SeqRequest::ResumeAll => self.resume_all(),
            SeqRequest::Continue => self.continue_(),
            SeqRequest::Previous => self.previous(),
            SeqRequest::Exit => self.exit(),
            SeqRequest::Retry => self.retry(),
            SeqRequest::Choice => match target {
                Some(t) => self.choice(t),
                None => Err(ex("SB.2.9-1", "a choice needs a target activity")),
            },
            SeqRequest::Jump => match (self.current, target) {
                (None, _) => Err(ex("SB.2.13-1", "the sequencing session has not begun")),
                // A jump may only land in the available tree (SN SR.1 selection).
                (Some(_), Some(t)) if !self.is_available(t) => Err(ex(
                    "SB.2.13-2",
                    format!(
                        "'{}' was not selected for this attempt of its parent",
                        self.title(t)
                    ),
                )),
                (Some(_), Some(t)) => Ok(SeqResult::Deliver(t)),
                (Some(_), None) => Err(ex("SB.2.13-1", "a jump needs a target activity")),
            },
        }
    }

    fn flow_result(flow: Flow) -> Result<SeqResult> {
        match flow {
            Flow::Found(a) => Ok(SeqResult::Deliver(a)),
            Flow::EndSession => Ok(SeqResult::EndSession),
            Flow::Refused(e) => Err(e),
        }
    }

    /// Start Sequencing Request Process (SB.2.5).
    fn start(&self) -> Result<SeqResult> {
        if self.current.is_some() {
            return Err(ex("SB.2.5-1", "the sequencing session has already begun"));
        }
        if self.is_leaf(0) {
            return Ok(SeqResult::Deliver(0));
        }
        let flow = self.flow(0, Dir::Forward, true);
        Self::flow_result(flow)
    }

    /// Resume All Sequencing Request Process (SB.2.6).
    fn resume_all(&self) -> Result<SeqResult> {
        if self.current.is_some() {
            return Err(ex("SB.2.6-1", "the sequencing session has already begun"));
        }
        match self.suspended {
            Some(s) => Ok(SeqResult::Deliver(s)),
            None => Err(ex("SB.2.6-2", "there is no suspended activity to resume")),
        }
    }

    /// Continue Sequencing Request Process (SB.2.7).
    fn continue_(&self) -> Result<SeqResult> {
        let Some(current) = self.current else {
            return Err(ex("SB.2.7-1", "the sequencing session has not begun"));
        };
        if let Some(p) = self.parent(current)
            && !self.def(p).control.flow
        {
            return Err(ex(
                "SB.2.7-2",
                format!("flow is not allowed in '{}'", self.title(p)),
            ));
        }
        let flow = self.flow(current, Dir::Forward, false);
        Self::flow_result(flow)
    }

    /// Previous Sequencing Request Process (SB.2.8).
    fn previous(&self) -> Result<SeqResult> {
        let Some(current) = self.current else {
            return Err(ex("SB.2.8-1", "the sequencing session has not begun"));
        };
        if let Some(p) = self.parent(current)
            && !self.def(p).control.flow
        {
            return Err(ex(
                "SB.2.8-2",
                format!("flow is not allowed in '{}'", self.title(p)),
            ));
        }
        let flow = self.flow(current, Dir::Backward, false);
        Self::flow_result(flow)
    }

    /// Exit Sequencing Request Process (SB.2.11).
    fn exit(&self) -> Result<SeqResult> {
        let Some(current) = self.current else {
            return Err(ex("SB.2.11-1", "the sequencing session has not begun"));
        };
        if self.acts[current].active {
            return Err(ex(
                "SB.2.11-2",
                "the current activity has not been terminated",
            ));
        }
        if self.is_root(current) {
            return Ok(SeqResult::EndSession);
        }
        Ok(SeqResult::Nothing)
    }

    /// Retry Sequencing Request Process (SB.2.10).
    fn retry(&self) -> Result<SeqResult> {
        let Some(current) = self.current else {
            return Err(ex("SB.2.10-1", "the sequencing session has not begun"));
        };
        if self.acts[current].active || self.acts[current].suspended {
            return Err(ex(
                "SB.2.10-2",
                "the current activity is still active or suspended",
            ));
        }
        if self.is_leaf(current) {
            return Ok(SeqResult::Deliver(current));
        }
        match self.flow(current, Dir::Forward, true) {
            Flow::Found(a) => Ok(SeqResult::Deliver(a)),
            Flow::EndSession | Flow::Refused(_) => Err(ex(
                "SB.2.10-3",
                format!(
                    "nothing in '{}' can be delivered again",
                    self.title(current)
                ),
            )),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Flow: SB.2.1, SB.2.2, SB.2.3

    /// Flow Subprocess (SB.2.3).
    fn flow(&self, a: usize, dir: Dir, consider_children: bool) -> Flow {
        match self.flow_tree_traversal(a, dir, None, consider_children) {
            Traverse::Next(next, _) => self.flow_activity_traversal(next, dir, None),
            Traverse::EndSession => Flow::EndSession,
            Traverse::Refused(e) => Flow::Refused(e),
        }
    }

    /// Flow Tree Traversal Subprocess (SB.2.1).
    fn flow_tree_traversal(
        &self,
        a: usize,
        dir: Dir,
        previous: Option<Dir>,
        consider_children: bool,
    ) -> Traverse {
        let mut a = a;
        let mut dir = dir;
        let mut reversed = false;
        // Entering a forward-only cluster backward: start again from its first child.
        if previous == Some(Dir::Backward)
            && let Some(p) = self.parent(a)
            && self.is_last_child(a)
        {
            dir = Dir::Backward;
            a = self.children(p)[0];
            reversed = true;
        }
        match dir {
            Dir::Forward => {
                // The end of the course. The attempts still open end with the session
                // (`end_session`), which covers the Terminate Descendent Attempts Process the
                // SN applies to the root here.
                if self.is_last_overall(a) || (!consider_children && self.is_root(a)) {
                    return Traverse::EndSession;
                }
                if self.is_leaf(a) || !consider_children {
                    if self.is_last_child(a) {
                        let Some(p) = self.parent(a) else {
                            return Traverse::EndSession;
                        };
                        return self.flow_tree_traversal(p, Dir::Forward, None, false);
                    }
                    return match self.sibling(a, true) {
                        Some(next) => Traverse::Next(next, dir),
                        None => Traverse::EndSession,
                    };
                }
                match self.children(a).first() {
                    Some(&first) => Traverse::Next(first, dir),
                    None => Traverse::Refused(ex(
                        "SB.2.1-2",
                        format!("'{}' has no children to deliver", self.title(a)),
                    )),
                }
            }
            Dir::Backward => {
                let Some(p) = self.parent(a) else {
                    return Traverse::Refused(ex(
                        "SB.2.1-3",
                        "the beginning of the course has been reached",
                    ));
                };
                if self.is_leaf(a) || !consider_children {
                    if !reversed && self.def(p).control.forward_only {
                        return Traverse::Refused(ex(
                            "SB.2.1-4",
                            format!("'{}' only moves forward", self.title(p)),
                        ));
                    }
                    if self.is_first_child(a) {
                        return self.flow_tree_traversal(p, Dir::Backward, None, false);
                    }
                    return match self.sibling(a, false) {
                        Some(previous) => Traverse::Next(previous, dir),
                        None => Traverse::Refused(ex(
                            "SB.2.1-3",
                            "the beginning of the course has been reached",
                        )),
                    };
                }
                let children = self.children(a);
                match (children.first(), children.last()) {
                    (Some(&first), Some(&last)) => {
                        if self.def(a).control.forward_only {
                            Traverse::Next(first, Dir::Forward)
                        } else {
                            Traverse::Next(last, Dir::Backward)
                        }
                    }
                    _ => Traverse::Refused(ex(
                        "SB.2.1-2",
                        format!("'{}' has no children to deliver", self.title(a)),
                    )),
                }
            }
        }
    }

    /// Flow Activity Traversal Subprocess (SB.2.2).
    fn flow_activity_traversal(&self, a: usize, dir: Dir, previous: Option<Dir>) -> Flow {
        if let Some(p) = self.parent(a)
            && !self.def(p).control.flow
        {
            return Flow::Refused(ex(
                "SB.2.2-1",
                format!("flow is not allowed in '{}'", self.title(p)),
            ));
        }
        if self.pre_rule(a, RuleAction::Skip) {
            return match self.flow_tree_traversal(a, dir, previous, false) {
                Traverse::Next(next, next_dir) => {
                    if previous == Some(Dir::Backward) && next_dir == Dir::Backward {
                        self.flow_activity_traversal(next, Dir::Backward, None)
                    } else {
                        self.flow_activity_traversal(next, dir, previous)
                    }
                }
                Traverse::EndSession => Flow::EndSession,
                Traverse::Refused(e) => Flow::Refused(e),
            };
        }
        if self.check_activity(a) {
            return Flow::Refused(ex(
                "SB.2.2-2",
                format!("'{}' is not available now", self.title(a)),
            ));
        }
        if !self.is_leaf(a) {
            return match self.flow_tree_traversal(a, dir, None, true) {
                Traverse::Next(next, next_dir) => {
                    if dir == Dir::Backward && next_dir == Dir::Forward {
                        self.flow_activity_traversal(next, Dir::Forward, Some(Dir::Backward))
                    } else {
                        self.flow_activity_traversal(next, dir, None)
                    }
                }
                Traverse::EndSession => Flow::EndSession,
                Traverse::Refused(e) => Flow::Refused(e),
            };
        }
        Flow::Found(a)
    }

    // -----------------------------------------------------------------------------------------
    // Choice: SB.2.4, SB.2.9, SB.2.9.1, SB.2.9.2

    /// Choice Activity Traversal Subprocess (SB.2.4).
    fn choice_activity_traversal(&self, a: usize, dir: Dir) -> Result<()> {
        match dir {
            Dir::Forward => {
                if self.pre_rule(a, RuleAction::StopForwardTraversal) {
                    return Err(ex(
                        "SB.2.4-1",
                        format!("moving forward past '{}' is not allowed yet", self.title(a)),
                    ));
                }
                Ok(())
            }
            Dir::Backward => match self.parent(a) {
                Some(p) if self.def(p).control.forward_only => Err(ex(
                    "SB.2.4-2",
                    format!("'{}' only moves forward", self.title(p)),
                )),
                Some(_) => Ok(()),
                None => Err(ex(
                    "SB.2.4-3",
                    "the beginning of the course has been reached",
                )),
            },
        }
    }

    fn prevent_activation(&self, a: usize, ancestor: usize) -> Result<()> {
        if !self.acts[a].active && a != ancestor && self.def(a).prevent_activation {
            return Err(ex(
                "SB.2.9-6",
                format!(
                    "'{}' cannot be started by choosing inside it",
                    self.title(a)
                ),
            ));
        }
        Ok(())
    }

    /// Choice Sequencing Request Process (SB.2.9).
    fn choice(&self, target: usize) -> Result<SeqResult> {
        // SB.2.9 step 2: the target must be among its parent's Available Children (SR.1).
        if !self.is_available(target) {
            return Err(ex(
                "SB.2.9-2",
                format!(
                    "'{}' was not selected for this attempt of its parent",
                    self.title(target)
                ),
            ));
        }
        for a in self.path_to_root(target).into_iter().rev() {
            if self.pre_rule(a, RuleAction::HiddenFromChoice) {
                return Err(ex(
                    "SB.2.9-3",
                    format!("'{}' is hidden from choice", self.title(a)),
                ));
            }
        }
        if let Some(p) = self.parent(target)
            && !self.def(p).control.choice
        {
            return Err(ex(
                "SB.2.9-4",
                format!("'{}' does not allow choosing its activities", self.title(p)),
            ));
        }
        let current = self.current;
        let ancestor = match current {
            Some(c) => self.common_ancestor(c, target),
            None => 0,
        };
        match current {
            Some(c) if c == target => {}
            Some(c) if self.parent(c).is_some() && self.parent(c) == self.parent(target) => {
                // Across siblings: every activity passed on the way must let the learner by.
                let siblings = self.siblings(c);
                let from = siblings.iter().position(|&s| s == c).unwrap_or(0);
                let to = siblings.iter().position(|&s| s == target).unwrap_or(0);
                if to > from {
                    for &a in &siblings[from..to] {
                        self.choice_activity_traversal(a, Dir::Forward)?;
                    }
                } else {
                    for &a in siblings[to + 1..=from].iter().rev() {
                        self.choice_activity_traversal(a, Dir::Backward)?;
                    }
                }
            }
            None => self.choice_down(0, target)?,
            Some(c) if c == ancestor => self.choice_down(ancestor, target)?,
            Some(c) if target == ancestor => {
                // Up to an ancestor: every activity left behind must allow choice exit.
                for a in self
                    .path_to_root(c)
                    .into_iter()
                    .take_while(|&a| a != ancestor)
                {
                    if !self.def(a).control.choice_exit {
                        return Err(ex(
                            "SB.2.9-7",
                            format!("'{}' does not allow leaving it by choice", self.title(a)),
                        ));
                    }
                }
            }
            Some(c) => {
                let leaving: Vec<usize> = self
                    .path_to_root(c)
                    .into_iter()
                    .skip(1)
                    .take_while(|&a| a != ancestor)
                    .collect();
                let mut constrained = None;
                for &a in &leaving {
                    if self.acts[a].active && !self.def(a).control.choice_exit {
                        return Err(ex(
                            "SB.2.9-7",
                            format!("'{}' does not allow leaving it by choice", self.title(a)),
                        ));
                    }
                    if constrained.is_none() && self.def(a).constrain_choice {
                        constrained = Some(a);
                    }
                }
                if let Some(k) = constrained {
                    // adlseq:constrainChoice: only the activities next to the constrained one
                    // in flow order may be chosen.
                    let order = self.preorder();
                    let position = |x: usize| order.iter().position(|&o| o == x);
                    let dir = if position(k) < position(target) {
                        Dir::Forward
                    } else {
                        Dir::Backward
                    };
                    let next = self.choice_flow(k, dir);
                    if !self.is_ancestor_or_self(next, target) && target != k {
                        return Err(ex(
                            "SB.2.9-8",
                            format!("'{}' constrains choice to its neighbours", self.title(k)),
                        ));
                    }
                }
                let down: Vec<usize> = self
                    .path_to_root(target)
                    .into_iter()
                    .take_while(|&a| a != ancestor)
                    .collect();
                // Forward or backward in flow order, which selection and randomization set.
                let order = self.preorder();
                let position = |x: usize| order.iter().position(|&o| o == x);
                let forward = position(c) < position(target);
                for &a in down.iter().rev() {
                    if forward && a != target {
                        self.choice_activity_traversal(a, Dir::Forward)?;
                    }
                    self.prevent_activation(a, ancestor)?;
                }
            }
        }
        if self.is_leaf(target) {
            return Ok(SeqResult::Deliver(target));
        }
        match self.flow(target, Dir::Forward, true) {
            Flow::Found(a) => Ok(SeqResult::Deliver(a)),
            // `overall` then ends the attempts up to the common ancestor and makes the target
            // current, as SB.2.9 prescribes with this exception.
            Flow::EndSession | Flow::Refused(_) => Err(ex(
                CHOICE_NOTHING_TO_DELIVER,
                format!("nothing in '{}' can be delivered now", self.title(target)),
            )),
        }
    }

    /// The path from `ancestor` down to `target` when choosing below the current activity.
    fn choice_down(&self, ancestor: usize, target: usize) -> Result<()> {
        let mut down: Vec<usize> = self
            .path_to_root(target)
            .into_iter()
            .take_while(|&a| a != ancestor)
            .collect();
        down.push(ancestor);
        for &a in down.iter().rev() {
            self.choice_activity_traversal(a, Dir::Forward)?;
            self.prevent_activation(a, ancestor)?;
        }
        Ok(())
    }

    /// Choice Flow Subprocess (SB.2.9.1).
    fn choice_flow(&self, a: usize, dir: Dir) -> usize {
        self.choice_flow_tree_traversal(a, dir).unwrap_or(a)
    }

    /// Choice Flow Tree Traversal Subprocess (SB.2.9.2).
    fn choice_flow_tree_traversal(&self, a: usize, dir: Dir) -> Option<usize> {
        let mut at = a;
        loop {
            let parent = self.parent(at)?;
            let forward = dir == Dir::Forward;
            if forward && self.is_last_overall(at) {
                return None;
            }
            let at_edge = if forward {
                self.is_last_child(at)
            } else {
                self.is_first_child(at)
            };
            if !at_edge {
                return self.sibling(at, forward);
            }
            at = parent;
        }
    }

    // -----------------------------------------------------------------------------------------
    // DB.1.1, DB.2, DB.2.1

    /// Delivery Request Process (DB.1.1).
    fn delivery_request(&self, a: usize) -> Result<()> {
        if !self.is_leaf(a) {
            return Err(ex(
                "DB.1.1-1",
                format!(
                    "'{}' is a cluster; only leaves deliver content",
                    self.title(a)
                ),
            ));
        }
        for x in self.path_to_root(a).into_iter().rev() {
            if self.check_activity(x) {
                return Err(ex(
                    "DB.1.1-3",
                    format!("'{}' is disabled or out of attempts", self.title(x)),
                ));
            }
        }
        Ok(())
    }

    /// Content Delivery Environment Process (DB.2).
    fn content_delivery(&mut self, a: usize) -> Result<Outcome> {
        if let Some(c) = self.current
            && self.acts[c].active
        {
            return Err(ex("DB.2-1", "the current activity has not been terminated"));
        }
        if self.suspended != Some(a) {
            self.clear_suspended_activity(a);
        }
        self.terminate_descendent_attempts(a);
        let mut resumed = false;
        let mut new_attempt = false;
        for x in self.path_to_root(a).into_iter().rev() {
            if self.acts[x].active {
                continue;
            }
            if self.acts[x].suspended {
                self.acts[x].suspended = false;
                resumed |= x == a;
            } else {
                if self.def(x).tracked {
                    let parent_attempts = self.parent(x).map_or(0, |p| self.acts[p].attempts);
                    // SCORM 1.2 has no attempts: a SCO launched again carries on with its
                    // status (RTE 1.2 cmi.core.entry "").
                    if self.tree.version().is_2004() {
                        self.reset_attempt_information(x);
                    }
                    let act = &mut self.acts[x];
                    act.attempts = act.attempts.saturating_add(1);
                    act.parent_attempt = parent_attempts;
                }
                new_attempt |= x == a;
            }
            self.acts[x].active = true;
        }
        self.current = Some(a);
        self.suspended = None;
        Ok(Outcome::Deliver {
            activity: a,
            resumed,
            new_attempt,
        })
    }

    /// Clear Suspended Activity Subprocess (DB.2.1).
    fn clear_suspended_activity(&mut self, a: usize) {
        let Some(s) = self.suspended else {
            return;
        };
        let ancestor = self.common_ancestor(a, s);
        let mut path: Vec<usize> = self
            .path_to_root(s)
            .into_iter()
            .take_while(|&x| x != ancestor)
            .collect();
        path.push(ancestor);
        for x in path {
            // A cluster stays suspended while a child of it still is.
            if self.is_leaf(x) || !self.children(x).iter().any(|&c| self.acts[c].suspended) {
                self.acts[x].suspended = false;
            }
        }
        self.suspended = None;
    }
}
