//! The head's label strings, each held once and named by a 32-bit id.
//!
//! A series keeps its labels as ids (8 bytes a label) instead of a [`Labels`] (32 bytes a
//! label plus the list's own allocation): with a million series of six labels that is about
//! 150 bytes a series, the largest single item of the head's memory after the series struct.
//! Queries get real [`Labels`] back with one read lock and a reference count per string.
//!
//! Strings are never removed, as before ids: the set of distinct label strings grows with
//! churn, not with samples. Ids are 32-bit: four billion distinct strings would need far more
//! memory than a head can have.

use crate::model::{Label, Labels, LabelsBuilder};
use dashmap::DashMap;
use parking_lot::RwLock;
use std::sync::Arc;

#[derive(Default)]
pub(super) struct Symbols {
    ids: DashMap<Arc<str>, u32>,
    strings: RwLock<Vec<Arc<str>>>,
}

impl Symbols {
    /// The id of `s`, adding it if new.
    fn id(&self, s: &Arc<str>) -> u32 {
        if let Some(id) = self.ids.get(s) {
            return *id;
        }
        // Under the map shard's lock, so a string gets one id; the list lock is always taken
        // last, so readers (which take only the list lock) cannot deadlock with this.
        *self.ids.entry(s.clone()).or_insert_with(|| {
            let mut strings = self.strings.write();
            let id = u32::try_from(strings.len()).unwrap_or(u32::MAX);
            strings.push(s.clone());
            id
        })
    }

    /// The table's own copy of `s`, added if new, so equal strings share one allocation.
    pub(super) fn canonical(&self, s: &Arc<str>) -> Arc<str> {
        let id = self.id(s);
        self.strings
            .read()
            .get(id as usize)
            .cloned()
            .unwrap_or_else(|| s.clone())
    }

    /// The labels as ids: name, value, name, value, ...
    pub(super) fn encode(&self, labels: &Labels) -> Box<[u32]> {
        labels
            .iter()
            .flat_map(|l| [self.id(&l.name), self.id(&l.value)])
            .collect()
    }

    /// The labels of `ids`, sharing the strings.
    pub(super) fn decode(&self, ids: &[u32]) -> Labels {
        let strings = self.strings.read();
        let mut b = LabelsBuilder::with_capacity(ids.len() / 2);
        for pair in ids.chunks_exact(2) {
            if let (Some(name), Some(value)) =
                (strings.get(pair[0] as usize), strings.get(pair[1] as usize))
            {
                b.push_unchecked(name.clone(), value.clone());
            }
        }
        b.build()
    }

    /// Whether `ids` are exactly `labels`, without building them.
    pub(super) fn equals(&self, ids: &[u32], labels: &Labels) -> bool {
        if ids.len() != labels.len() * 2 {
            return false;
        }
        let strings = self.strings.read();
        let text = |id: u32| strings.get(id as usize).map(|s| &**s);
        ids.chunks_exact(2)
            .zip(labels.iter())
            .all(|(pair, Label { name, value })| {
                text(pair[0]) == Some(&**name) && text(pair[1]) == Some(&**value)
            })
    }

    /// The value of label `name` in `ids` (empty if absent), passed to `f` under the lock.
    pub(super) fn with_value<R>(&self, ids: &[u32], name: &str, f: impl FnOnce(&str) -> R) -> R {
        let strings = self.strings.read();
        let value = ids
            .chunks_exact(2)
            .find(|pair| strings.get(pair[0] as usize).is_some_and(|n| &**n == name))
            .and_then(|pair| strings.get(pair[1] as usize))
            .map_or("", |v| &**v);
        f(value)
    }

    /// Distinct strings and their bytes, for the head's size estimate.
    pub(super) fn footprint(&self) -> (usize, usize) {
        let strings = self.strings.read();
        (strings.len(), strings.iter().map(|s| s.len()).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_compare() {
        let sym = Symbols::default();
        let a = Labels::from_pairs(&[("__name__", "up"), ("job", "a"), ("x", "up")]);
        let b = Labels::from_pairs(&[("__name__", "up"), ("job", "b")]);
        let (ia, ib) = (sym.encode(&a), sym.encode(&b));
        assert_eq!(sym.decode(&ia), a);
        assert_eq!(sym.decode(&ib), b);
        assert_eq!(sym.footprint().0, 6, "__name__ up job a x b");
        assert!(sym.equals(&ia, &a));
        assert!(!sym.equals(&ia, &b));
        assert!(!sym.equals(
            &ib,
            &Labels::from_pairs(&[("__name__", "up"), ("job", "c")])
        ));
        assert_eq!(sym.with_value(&ia, "job", str::to_string), "a");
        assert_eq!(sym.with_value(&ia, "nope", str::to_string), "");
    }
}
