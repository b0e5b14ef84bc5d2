//! The head's label strings, each held once and named by a 32-bit id.
//!
//! A series keeps its labels as ids ([`LabelIds`]) instead of a [`Labels`] (32 bytes a label
//! plus the list's own allocation). The ids are varints, so the common strings (label names,
//! job names, the first few thousand values) take one or two bytes: six labels fit the
//! allocator's smallest block (24 bytes) where 32-bit ids took 48 bytes and a 64-byte block.
//! Queries get real [`Labels`] back with one read lock and a reference count per string.
//!
//! Strings are never removed, as before ids: the set of distinct label strings grows with
//! churn, not with samples. Ids are 32-bit: four billion distinct strings would need far more
//! memory than a head can have.

use crate::model::{Label, Labels, LabelsBuilder};
use dashmap::DashMap;
use parking_lot::RwLock;
use std::sync::Arc;

/// Label ids of one series: name, value, name, value, ... each a LEB128 varint.
#[derive(Default)]
pub(crate) struct LabelIds(Box<[u8]>);

impl LabelIds {
    fn from_ids(ids: impl Iterator<Item = u32>) -> Self {
        let mut out = Vec::new();
        for mut id in ids {
            while id >= 0x80 {
                out.push((id as u8 & 0x7f) | 0x80);
                id >>= 7;
            }
            out.push(id as u8);
        }
        LabelIds(out.into_boxed_slice())
    }

    fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        let mut bytes = self.0.iter();
        std::iter::from_fn(move || {
            let (mut id, mut shift) = (0u32, 0);
            loop {
                let b = *bytes.next()?;
                id |= u32::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
                if b & 0x80 == 0 {
                    return Some(id);
                }
                shift += 7;
            }
        })
    }

    /// (name id, value id) of each label.
    fn pairs(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        let mut ids = self.ids();
        std::iter::from_fn(move || Some((ids.next()?, ids.next()?)))
    }

    /// Bytes of the encoded ids.
    pub(crate) fn bytes(&self) -> usize {
        self.0.len()
    }

    /// The number of labels: every id ends with a byte below 0x80.
    pub(crate) fn len(&self) -> usize {
        self.0.iter().filter(|&&b| b < 0x80).count() / 2
    }
}

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

    /// The labels as ids.
    pub(super) fn encode(&self, labels: &Labels) -> LabelIds {
        LabelIds::from_ids(
            labels
                .iter()
                .flat_map(|l| [self.id(&l.name), self.id(&l.value)]),
        )
    }

    /// The labels of `ids`, sharing the strings.
    pub(super) fn decode(&self, ids: &LabelIds) -> Labels {
        let strings = self.strings.read();
        let mut b = LabelsBuilder::with_capacity(ids.len());
        for (name, value) in ids.pairs() {
            if let (Some(name), Some(value)) =
                (strings.get(name as usize), strings.get(value as usize))
            {
                b.push_unchecked(name.clone(), value.clone());
            }
        }
        // Ids are stored in the order of the valid set they were made from.
        b.build_sorted()
    }

    /// Whether `ids` are exactly `labels`, without building them.
    pub(super) fn equals(&self, ids: &LabelIds, labels: &Labels) -> bool {
        let strings = self.strings.read();
        let text = |id: u32| strings.get(id as usize).map(|s| &**s);
        let mut pairs = ids.pairs();
        labels.iter().all(|Label { name, value }| {
            pairs
                .next()
                .is_some_and(|(n, v)| text(n) == Some(&**name) && text(v) == Some(&**value))
        }) && pairs.next().is_none()
    }

    /// The value of label `name` in `ids` (empty if absent), passed to `f` under the lock.
    pub(super) fn with_value<R>(&self, ids: &LabelIds, name: &str, f: impl FnOnce(&str) -> R) -> R {
        let strings = self.strings.read();
        let value = ids
            .pairs()
            .find(|&(n, _)| strings.get(n as usize).is_some_and(|n| &**n == name))
            .and_then(|(_, v)| strings.get(v as usize))
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
        assert_eq!(ia.len(), 3);
        assert!(!sym.equals(&ib, &Labels::from_pairs(&[("__name__", "up")])));
    }

    #[test]
    fn ids_of_every_width_round_trip() {
        let ids = [
            0u32,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            1 << 21,
            1 << 28,
            u32::MAX,
        ];
        let packed = LabelIds::from_ids(ids.iter().copied());
        assert_eq!(packed.ids().collect::<Vec<_>>(), ids);
        assert_eq!(packed.len(), ids.len() / 2);
        assert_eq!(LabelIds::from_ids([1, 2, 3, 4].into_iter()).0.len(), 4);
    }
}
