//! The scrape cache's map from a body line's series text (`name{labels}` as exposed) to its
//! entry, laid out for how targets behave: a body lists the same series in the same order
//! scrape after scrape.
//!
//! The texts of all entries sit end to end in one string and the entries in one vector, in
//! the order they were first seen. A lookup first compares the text with the entry after the
//! one found last (one `memcmp` over memory that is already being read sequentially) and
//! hashes only when that guess fails. With a general hash map of boxed strings, the probe
//! and the comparison each missed the CPU cache once per sample, and that was a sixth of a
//! scrape's CPU; the layout also saves the allocation header and pointer of every key.

use super::cache::CacheEntry;
use foldhash::fast::RandomState;
use hashbrown::HashTable;
use std::hash::BuildHasher;

struct Slot {
    start: u32,
    len: u32,
    entry: CacheEntry,
}

#[derive(Default)]
pub(crate) struct SeriesIndex {
    text: String,
    slots: Vec<Slot>,
    /// Slot numbers, hashed by their text; only for lines out of the expected order.
    table: HashTable<u32>,
    /// Seeded per process: the keys come from the target, which can then slow only its own
    /// cache by provoking collisions.
    hasher: RandomState,
    /// The slot after the last one found: where the next line is expected.
    cursor: usize,
    /// Entries were added since the last [`SeriesIndex::shrink_if_grown`].
    grown: bool,
}

fn key<'a>(text: &'a str, s: &Slot) -> &'a str {
    &text[s.start as usize..s.start as usize + s.len as usize]
}

impl SeriesIndex {
    fn find(&self, series: &str) -> Option<usize> {
        if let Some(s) = self.slots.get(self.cursor) {
            if key(&self.text, s) == series {
                return Some(self.cursor);
            }
        }
        let (text, slots) = (&self.text, &self.slots);
        self.table
            .find(self.hasher.hash_one(series), |&i| {
                key(text, &slots[i as usize]) == series
            })
            .map(|&i| i as usize)
    }

    /// The entry of `series`, if cached.
    pub(crate) fn get_mut(&mut self, series: &str) -> Option<&mut CacheEntry> {
        let i = self.find(series)?;
        self.cursor = i + 1;
        Some(&mut self.slots[i].entry)
    }

    /// Sets the entry of `series`; says whether the series was new to the cache.
    pub(crate) fn insert(&mut self, series: &str, entry: CacheEntry) -> bool {
        if let Some(i) = self.find(series) {
            self.slots[i].entry = entry;
            self.cursor = i + 1;
            return false;
        }
        // Offsets are 32-bit: a target whose distinct series texts pass 4 GiB (far beyond
        // any body size limit) is simply not cached past that point.
        let (Ok(start), Ok(len), Ok(n)) = (
            u32::try_from(self.text.len()),
            u32::try_from(series.len()),
            u32::try_from(self.slots.len()),
        ) else {
            return true;
        };
        if start.checked_add(len).is_none() {
            return true;
        }
        self.text.push_str(series);
        self.slots.push(Slot { start, len, entry });
        let (text, slots, hasher) = (&self.text, &self.slots, &self.hasher);
        self.table.insert_unique(hasher.hash_one(series), n, |&i| {
            hasher.hash_one(key(text, &slots[i as usize]))
        });
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
        self.text.shrink_to_fit();
        self.slots.shrink_to_fit();
        let (text, slots, hasher) = (&self.text, &self.slots, &self.hasher);
        self.table
            .shrink_to_fit(|&i| hasher.hash_one(key(text, &slots[i as usize])));
    }

    /// Keeps the entries `keep` accepts, in their order, and compacts the text.
    pub(crate) fn retain(&mut self, keep: impl Fn(&CacheEntry) -> bool) {
        if self.slots.iter().all(|s| keep(&s.entry)) {
            return;
        }
        let old_text = std::mem::take(&mut self.text);
        let old = std::mem::take(&mut self.slots);
        self.table.clear();
        self.cursor = 0;
        for s in old.into_iter().filter(|s| keep(&s.entry)) {
            let k = key(&old_text, &s);
            self.insert(k, s.entry);
        }
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
            assert!(ix.insert(n, entry(i as u32)));
        }
        assert!(!ix.insert(&names[3], entry(103)), "known series is not new");
        // In order, reversed, and unknown.
        for n in names.iter().chain(names.iter().rev()) {
            assert!(ix.get_mut(n).is_some(), "{n}");
        }
        assert_eq!(ix.get_mut(&names[3]).map(|e| e.last_iter), Some(103));
        assert!(ix.get_mut("m{i=\"50\"}").is_none());
        assert!(ix.get_mut("m{i=\"1\"").is_none(), "prefix of a key");

        ix.retain(|e| e.last_iter % 2 == 1);
        assert_eq!(ix.slots.len(), 25);
        for (i, n) in names.iter().enumerate() {
            let want = i % 2 == 1;
            assert_eq!(ix.get_mut(n).is_some(), want, "{n}");
        }
        assert!(ix.insert("new", entry(7)));
        assert_eq!(ix.get_mut("new").map(|e| e.last_iter), Some(7));
    }
}
