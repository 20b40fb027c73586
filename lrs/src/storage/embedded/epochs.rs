//! Epochs of the postings index.
//!
//! A posting key starts with its epoch: the postings of the statements stored from an
//! epoch's first `seq` on, until the next epoch begins, sort together. New postings therefore
//! land in one narrow key range, and the tables of earlier epochs never overlap what is
//! written now: compaction merges the current epoch's postings only and moves the tables of
//! earlier ones down a level without rewriting them. With term ids first, every flush
//! overlapped every table, and each level's compaction rewrote the whole index about ten
//! times over (the bound on ingest at millions of statements).
//!
//! The price is one range seek per epoch for a query whose term has fewer postings than the
//! page asks for; an epoch holds [`EPOCH_POSTINGS`] postings (about half a million
//! statements), so ten million statements make about twenty epochs. Each opening of the store
//! begins a new epoch at its first write (the count of the last one is not kept), and each
//! epoch's first `seq` is written in the same batch as its first postings.

/// Postings written into one epoch before the next begins.
pub const EPOCH_POSTINGS: u64 = 8_000_000;

/// The epochs of a store, as (epoch, first seq), in increasing order of both.
#[derive(Debug, Default, Clone)]
pub struct Epochs {
    starts: Vec<(u16, u64)>,
}

/// The epoch being written and the postings written into it so far.
#[derive(Debug, Clone, Copy)]
pub struct Current {
    pub epoch: u16,
    pub postings: u64,
}

impl Epochs {
    pub fn new(mut starts: Vec<(u16, u64)>) -> Epochs {
        starts.sort_unstable();
        Epochs { starts }
    }

    /// Each epoch with postings of `low..=high`, with the part of that range it holds, in
    /// increasing order.
    pub fn spans(&self, low: u64, high: u64) -> Vec<(u16, u64, u64)> {
        let mut spans = Vec::new();
        for (i, &(epoch, start)) in self.starts.iter().enumerate() {
            let end = self
                .starts
                .get(i + 1)
                .map_or(u64::MAX, |&(_, next)| next.saturating_sub(1));
            let (lo, hi) = (low.max(start), high.min(end));
            if lo <= hi {
                spans.push((epoch, lo, hi));
            }
        }
        spans
    }

    /// The epoch the next write goes into: `current` while it has room, else a new one
    /// (returned with `true`, to be recorded with the write).
    pub fn next(&self, current: Option<Current>) -> (Current, bool) {
        match current {
            Some(current) if current.postings < EPOCH_POSTINGS => (current, false),
            // At the last epoch number the index keeps writing into it.
            Some(current) if current.epoch == u16::MAX => (current, false),
            _ => {
                let epoch = self
                    .starts
                    .last()
                    .map_or(0, |&(last, _)| last.saturating_add(1));
                (Current { epoch, postings: 0 }, true)
            }
        }
    }

    pub fn push(&mut self, epoch: u16, first_seq: u64) {
        self.starts.push((epoch, first_seq));
    }

    pub fn pop(&mut self) {
        self.starts.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_cover_a_range_epoch_by_epoch() {
        let epochs = Epochs::new(vec![(0, 10), (1, 100), (2, 200)]);
        assert_eq!(
            epochs.spans(0, u64::MAX),
            vec![(0, 10, 99), (1, 100, 199), (2, 200, u64::MAX)]
        );
        assert_eq!(epochs.spans(150, 160), vec![(1, 150, 160)]);
        assert_eq!(epochs.spans(150, 250), vec![(1, 150, 199), (2, 200, 250)]);
        assert_eq!(epochs.spans(0, 5), vec![]);
        assert!(Epochs::default().spans(0, u64::MAX).is_empty());
    }

    #[test]
    fn a_full_epoch_or_a_fresh_start_begins_a_new_one() {
        let epochs = Epochs::new(vec![(0, 10), (1, 100)]);
        let (current, new) = epochs.next(None);
        assert!(new);
        assert_eq!(current.epoch, 2);
        let (current, new) = epochs.next(Some(Current {
            epoch: 1,
            postings: 5,
        }));
        assert!(!new);
        assert_eq!(current.epoch, 1);
        let (current, new) = epochs.next(Some(Current {
            epoch: 1,
            postings: EPOCH_POSTINGS,
        }));
        assert!(new);
        assert_eq!(current.epoch, 2);
        assert_eq!(Epochs::default().next(None).0.epoch, 0);
    }
}
