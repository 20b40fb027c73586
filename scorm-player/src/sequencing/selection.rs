//! Selection and randomization of children (SN SR.1 Select Children Process, SR.2 Randomize
//! Children Process): which children a cluster offers and in which order, per attempt.
//!
//! An arrangement is a function of the registration's seed, the activity and the attempt it
//! is for, so any server computes the same one; the state keeps it as well
//! ([`SequencingState`]), and an arrangement found there is used as it is.
//!
//! Timing (SN SM.12): `never` keeps the manifest's children and order; `once` arranges them
//! for the first attempt and keeps that arrangement; `onEachNewAttempt` arranges them again
//! when an attempt ends, for the next one. SR.1 and SR.2 leave an active or suspended
//! activity alone, and `once` applies only while the activity has not been attempted, so a
//! registration whose state predates an arrangement keeps the manifest's order.

use crate::manifest::{RandomizationControls, RandomizationTiming};

use super::engine::Engine;
use super::state::{SequencingState, fnv1a};

/// Separate streams for the two processes, so that selecting does not shift the order.
const SELECT_STREAM: u64 = 0x0000_5345_4c45_4354;
const REORDER_STREAM: u64 = 0x0052_454f_5244_4552;

impl Engine<'_> {
    /// The arrangements of a loaded state: the stored one where it still fits the tree,
    /// otherwise the first attempt's for an activity not yet attempted.
    pub(crate) fn load_available_children(&mut self, state: &SequencingState) {
        for a in 0..self.tree.len() {
            if !self.arranges(a) {
                continue;
            }
            let node = self.node(a);
            let stored = state.available_children.get(&node.id).and_then(|stored| {
                let mut children = Vec::with_capacity(stored.children.len());
                for id in &stored.children {
                    let c = self.tree.idx(id)?;
                    if self.parent(c) != Some(a) || children.contains(&c) {
                        return None;
                    }
                    children.push(c);
                }
                (stored.attempt > 0).then_some((stored.attempt, children))
            });
            if let Some((attempt, children)) = stored {
                self.available[a] = children;
                self.arranged_for[a] = attempt;
            } else if !self.attempted(a) {
                self.available[a] = self.arranged(a, 1);
                self.arranged_for[a] = 1;
            }
        }
    }

    /// After an attempt on `a` ended: `onEachNewAttempt` arranges the children again for the
    /// next attempt (SR.1 step 5, SR.2 step 5).
    pub(crate) fn arrange_for_next_attempt(&mut self, a: usize) {
        if !self.arranges_each_attempt(a) {
            return;
        }
        let next = self.acts[a].attempts.saturating_add(1);
        if self.arranged_for[a] == next {
            return;
        }
        self.available[a] = self.arranged(a, next);
        self.arranged_for[a] = next;
    }

    /// The children whose tracking belongs to the current (or last) attempt of `a`: what
    /// rollup reads. Once the attempt has ended they may differ from what the next attempt
    /// offers.
    pub(crate) fn rollup_children(&self, a: usize) -> Vec<usize> {
        let attempts = self.acts[a].attempts;
        let arranged_for = self.arranged_for[a];
        if arranged_for != 0 && attempts > 0 && arranged_for != attempts {
            return self.arranged(a, attempts);
        }
        self.available[a].clone()
    }

    /// Whether selection or randomization can change the children of `a`.
    fn arranges(&self, a: usize) -> bool {
        !self.is_leaf_in_manifest(a)
            && self
                .controls(a)
                .is_some_and(|c| selection_applies(&c) || randomization_applies(&c))
    }

    fn arranges_each_attempt(&self, a: usize) -> bool {
        !self.is_leaf_in_manifest(a)
            && self.controls(a).is_some_and(|c| {
                (selection_applies(&c)
                    && c.selection_timing == RandomizationTiming::OnEachNewAttempt)
                    || (randomization_applies(&c)
                        && c.randomization_timing == RandomizationTiming::OnEachNewAttempt)
            })
    }

    fn is_leaf_in_manifest(&self, a: usize) -> bool {
        self.node(a).children.is_empty()
    }

    fn controls(&self, a: usize) -> Option<RandomizationControls> {
        self.def(a).randomization
    }

    /// The children of `a` for its attempt `attempt`: SR.1 keeps `selectCount` of them, drawn
    /// without replacement and left in manifest order; SR.2 then reorders them when
    /// `reorderChildren` is set. With `once` timing the first attempt's draw stands.
    pub(crate) fn arranged(&self, a: usize, attempt: u32) -> Vec<usize> {
        let node = self.node(a);
        let mut children = node.children.clone();
        let Some(controls) = self.controls(a) else {
            return children;
        };
        let activity = fnv1a(node.id.as_bytes());
        if selection_applies(&controls)
            && let Some(count) = controls.select_count
            && (count as usize) < children.len()
        {
            let draw = draw_for(controls.selection_timing, attempt);
            let mut rng = SplitMix::new(self.seed, activity, draw, SELECT_STREAM);
            let mut pool = children.clone();
            let mut chosen = Vec::with_capacity(count as usize);
            for _ in 0..count {
                let at = rng.below(pool.len());
                chosen.push(pool.swap_remove(at));
            }
            // SR.1: the selected children keep the order they have in the activity.
            chosen.sort_unstable();
            children = chosen;
        }
        if randomization_applies(&controls) {
            let draw = draw_for(controls.randomization_timing, attempt);
            let mut rng = SplitMix::new(self.seed, activity, draw, REORDER_STREAM);
            // Fisher–Yates: every order equally likely.
            for i in (1..children.len()).rev() {
                let j = rng.below(i + 1);
                children.swap(i, j);
            }
        }
        children
    }
}

fn selection_applies(controls: &RandomizationControls) -> bool {
    controls.selection_timing != RandomizationTiming::Never && controls.select_count.is_some()
}

fn randomization_applies(controls: &RandomizationControls) -> bool {
    controls.randomization_timing != RandomizationTiming::Never && controls.reorder_children
}

/// Which attempt's draw an arrangement uses: `once` always the first attempt's.
fn draw_for(timing: RandomizationTiming, attempt: u32) -> u64 {
    match timing {
        RandomizationTiming::OnEachNewAttempt => u64::from(attempt.max(1)),
        RandomizationTiming::Once | RandomizationTiming::Never => 1,
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014): small, fast and well mixed; enough to pick and
/// order children, and stable across builds.
struct SplitMix(u64);

impl SplitMix {
    fn new(seed: u64, activity: u64, attempt: u64, stream: u64) -> Self {
        let mut mixer = SplitMix(seed);
        let mut state = mixer.next() ^ activity;
        state = SplitMix(state).next() ^ attempt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        SplitMix(SplitMix(state ^ stream).next())
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0); the modulo bias is negligible for child counts.
    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}
