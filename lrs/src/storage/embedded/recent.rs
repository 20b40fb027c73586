//! A bounded map of recently used values, for the write thread's look-ups of what it wrote.
//!
//! Two generations: look-ups that hit the older one move the entry to the younger one, and
//! when the younger one has taken in its share of bytes it becomes the older one and the
//! older one is dropped. What is used keeps being carried forward; what is not is dropped
//! within two generations. Memory is bounded by twice the budget (plus the last entry), at the
//! cost of a hash look-up per read and no bookkeeping per hit in the younger generation.

use std::collections::HashMap;
use std::hash::Hash;

pub(super) struct Recent<K, V> {
    young: HashMap<K, (V, usize)>,
    old: HashMap<K, (V, usize)>,
    young_bytes: usize,
    /// Bytes a generation takes in before it is the older one.
    budget: usize,
}

impl<K: Hash + Eq, V> Recent<K, V> {
    pub(super) fn new(budget: usize) -> Self {
        Recent {
            young: HashMap::new(),
            old: HashMap::new(),
            young_bytes: 0,
            budget,
        }
    }

    /// The value of `key`, if it is still held.
    pub(super) fn get(&mut self, key: &K) -> Option<&V> {
        if !self.young.contains_key(key) {
            let (key, (value, bytes)) = self.old.remove_entry(key)?;
            self.insert(key, value, bytes);
        }
        self.young.get(key).map(|(value, _)| value)
    }

    /// Holds `value` for `key`, counting `bytes` against the budget (its size, roughly).
    pub(super) fn insert(&mut self, key: K, value: V, bytes: usize) {
        if self.young_bytes + bytes > self.budget && !self.young.is_empty() {
            self.old = std::mem::take(&mut self.young);
            self.young_bytes = 0;
        }
        self.young_bytes += bytes;
        if let Some((_, replaced)) = self.young.insert(key, (value, bytes)) {
            self.young_bytes -= replaced;
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.young.len() + self.old.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_used_stays_and_the_rest_goes_within_two_generations() {
        let mut recent = Recent::new(100);
        for key in 0..10 {
            recent.insert(key, key * 10, 10);
        }
        // Full: the next insert starts a generation; 0..10 are the older one.
        recent.insert(10, 100, 10);
        assert_eq!(recent.get(&3), Some(&30), "a hit in the older generation");
        // Two more generations' worth: 3 is used in each, 4 in none.
        for key in 11..40 {
            recent.insert(key, key * 10, 10);
            if key % 5 == 0 {
                assert_eq!(recent.get(&3), Some(&30));
            }
        }
        assert_eq!(recent.get(&3), Some(&30), "carried forward by its use");
        assert_eq!(recent.get(&4), None, "unused for two generations");
        assert!(recent.len() <= 21);
        assert_eq!(recent.get(&39), Some(&390));
    }

    #[test]
    fn bytes_bound_what_is_held() {
        let mut recent = Recent::new(1_000);
        for key in 0..10_000 {
            recent.insert(key, (), 100);
        }
        assert!(recent.len() <= 2 * 10 + 1, "held {}", recent.len());
        assert!(recent.get(&9_999).is_some());
    }

    #[test]
    fn replacing_a_value_counts_its_bytes_once() {
        let mut recent = Recent::new(100);
        for round in 0..50 {
            recent.insert("a", round, 60);
        }
        assert_eq!(recent.get(&"a"), Some(&49));
        assert_eq!(recent.young_bytes, 60);
    }
}
