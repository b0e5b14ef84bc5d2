//! The scrape cache's map from a body line's series text (`name{labels}` as exposed) to its
//! entry, laid out for how targets behave: a body lists the same series in the same order
//! scrape after scrape.
//!
//! A line is known by a 128-bit seeded hash of its text ([`SeriesKey`]), not by the text:
//! with fat targets the texts were the largest part of the cache (about 66 bytes a series
//! against 16), and the chance that two of a target's lines share a key is about n²/2¹²⁹ —
//! for ten million lines, one in 10²⁵. The seed is drawn per cache, so a target cannot
//! aim at a collision; and because every entry's series carries the target's own labels,
//! the worst a collision could do is merge two series of that one target.
//!
//! The entries sit in one vector in the order they were first seen. A lookup first compares
//! the key with the entry after the one found last (bodies repeat in order) and probes the
//! hash table only when that guess fails.

use super::cache::CacheEntry;
use hashbrown::HashTable;
use std::hash::BuildHasher;
use xxhash_rust::xxh3::xxh3_128_with_seed;

/// The identity of a series text within one cache; two words rather than a `u128`, whose
/// 16-byte alignment would pad every entry.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct SeriesKey([u64; 2]);

struct Slot {
    key: SeriesKey,
    entry: CacheEntry,
}

pub(crate) struct SeriesIndex {
    slots: Vec<Slot>,
    /// Slot numbers, hashed by the first word of their key; only for lines out of the
    /// expected order.
    table: HashTable<u32>,
    seed: u64,
    /// The slot after the last one found: where the next line is expected.
    cursor: usize,
    /// Entries were added since the last [`SeriesIndex::shrink_if_grown`].
    grown: bool,
}

impl Default for SeriesIndex {
    fn default() -> Self {
        SeriesIndex {
            slots: Vec::new(),
            table: HashTable::new(),
            seed: foldhash::fast::RandomState::default().hash_one(0u64),
            cursor: 0,
            grown: false,
        }
    }
}

fn table_hash(slots: &[Slot], i: u32) -> u64 {
    slots[i as usize].key.0[0]
}

impl SeriesIndex {
    /// The key of a series text in this cache.
    pub(crate) fn key(&self, series: &str) -> SeriesKey {
        let h = xxh3_128_with_seed(series.as_bytes(), self.seed);
        SeriesKey([h as u64, (h >> 64) as u64])
    }

    fn find(&self, key: SeriesKey) -> Option<usize> {
        if self.slots.get(self.cursor).is_some_and(|s| s.key == key) {
            return Some(self.cursor);
        }
        let slots = &self.slots;
        self.table
            .find(key.0[0], |&i| slots[i as usize].key == key)
            .map(|&i| i as usize)
    }

    /// The entry of `key`, if cached.
    pub(crate) fn get_mut(&mut self, key: SeriesKey) -> Option<&mut CacheEntry> {
        let i = self.find(key)?;
        self.cursor = i + 1;
        Some(&mut self.slots[i].entry)
    }

    /// Sets the entry of `key`; says whether the series was new to the cache.
    pub(crate) fn insert(&mut self, key: SeriesKey, entry: CacheEntry) -> bool {
        if let Some(i) = self.find(key) {
            self.slots[i].entry = entry;
            self.cursor = i + 1;
            return false;
        }
        // Slot numbers are 32-bit: a target with more distinct series than that (far beyond
        // any body size limit) is simply not cached past that point.
        let Ok(n) = u32::try_from(self.slots.len()) else {
            return true;
        };
        self.slots.push(Slot { key, entry });
        let slots = &self.slots;
        self.table
            .insert_unique(key.0[0], n, |&i| table_hash(slots, i));
        self.cursor = self.slots.len();
        self.grown = true;
        true
    }

    pub(crate) fn entries(&self) -> impl Iterator<Item = &CacheEntry> {
        self.slots.iter().map(|s| &s.entry)
    }

    pub(crate) fn entries_mut(&mut self) -> impl Iterator<Item = &mut CacheEntry> {
        self.slots.iter_mut().map(|s| &mut s.entry)
    }

    /// Returns the spare capacity left by growth (buffers double as they grow): thousands of
    /// targets each keeping up to half their cache unused add up. Called once per scrape.
    pub(crate) fn shrink_if_grown(&mut self) {
        if !std::mem::take(&mut self.grown) {
            return;
        }
        self.slots.shrink_to_fit();
        let slots = &self.slots;
        self.table.shrink_to_fit(|&i| table_hash(slots, i));
    }

    /// Keeps the entries `keep` accepts, in their order.
    pub(crate) fn retain(&mut self, keep: impl Fn(&CacheEntry) -> bool) {
        if self.slots.iter().all(|s| keep(&s.entry)) {
            return;
        }
        self.slots.retain(|s| keep(&s.entry));
        self.table.clear();
        let slots = &self.slots;
        for (n, s) in (0u32..).zip(slots.iter()) {
            self.table
                .insert_unique(s.key.0[0], n, |&i| table_hash(slots, i));
        }
        self.cursor = 0;
        self.grown = true;
        self.shrink_if_grown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(iter: u32) -> CacheEntry {
        CacheEntry::new(None, iter)
    }

    #[test]
    fn finds_in_order_out_of_order_and_after_compaction() {
        let mut ix = SeriesIndex::default();
        let names: Vec<String> = (0..50).map(|i| format!("m{{i=\"{i}\"}}")).collect();
        for (i, n) in names.iter().enumerate() {
            assert!(ix.insert(ix.key(n), entry(i as u32)));
        }
        assert!(
            !ix.insert(ix.key(&names[3]), entry(103)),
            "known series is not new"
        );
        // In order, reversed, and unknown.
        for n in names.iter().chain(names.iter().rev()) {
            assert!(ix.get_mut(ix.key(n)).is_some(), "{n}");
        }
        assert_eq!(
            ix.get_mut(ix.key(&names[3])).map(|e| e.last_iter),
            Some(103)
        );
        assert!(ix.get_mut(ix.key("m{i=\"50\"}")).is_none());
        assert!(ix.get_mut(ix.key("m{i=\"1\"")).is_none(), "prefix of a key");

        ix.retain(|e| e.last_iter % 2 == 1);
        assert_eq!(ix.slots.len(), 25);
        for (i, n) in names.iter().enumerate() {
            let want = i % 2 == 1;
            assert_eq!(ix.get_mut(ix.key(n)).is_some(), want, "{n}");
        }
        assert!(ix.insert(ix.key("new"), entry(7)));
        assert_eq!(ix.get_mut(ix.key("new")).map(|e| e.last_iter), Some(7));
    }

    #[test]
    fn keys_differ_between_caches_and_texts() {
        let (a, b) = (SeriesIndex::default(), SeriesIndex::default());
        assert_eq!(a.key("up"), a.key("up"));
        assert_ne!(a.key("up"), b.key("up"), "seeds are drawn per cache");
        assert_ne!(a.key("up"), a.key("up "));
    }

    #[test]
    fn slots_stay_small() {
        assert!(std::mem::size_of::<Slot>() <= 48);
    }
}
