//! The head's map from series ref to series.
//!
//! Refs are handed out densely from 1, so they index pages of 64 slots rather than keys of
//! a hash map: a series costs its 8-byte slot plus a share of its page's header, where a
//! hash map entry (key, value, control byte, and the spare room of a table that doubles)
//! cost 20 to 40. A page is freed when its last series is removed, so refs retired by
//! churn do not keep memory; a page stays while any of its 64 series lives. Pages are
//! spread over shards by page number, each under its own lock, so appenders creating
//! series and queries reading them rarely meet.

use super::series::MemSeries;
use super::SeriesRef;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const PAGE_BITS: u32 = 6;
const PAGE_SLOTS: usize = 1 << PAGE_BITS;
const SHARDS: u64 = 64;

struct Page {
    slots: [Option<Arc<MemSeries>>; PAGE_SLOTS],
    live: u32,
}

type Shard = HashMap<u64, Box<Page>, foldhash::fast::RandomState>;

pub(crate) struct SeriesTable {
    shards: Box<[RwLock<Shard>]>,
    len: AtomicUsize,
}

impl Default for SeriesTable {
    fn default() -> Self {
        SeriesTable {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            len: AtomicUsize::new(0),
        }
    }
}

/// Shard, page number and slot of a ref.
fn locate(r: SeriesRef) -> (usize, u64, usize) {
    let page = r >> PAGE_BITS;
    (
        (page % SHARDS) as usize,
        page,
        (r as usize) & (PAGE_SLOTS - 1),
    )
}

impl SeriesTable {
    pub(crate) fn get(&self, r: SeriesRef) -> Option<Arc<MemSeries>> {
        let (shard, page, slot) = locate(r);
        self.shards[shard].read().get(&page)?.slots[slot].clone()
    }

    pub(crate) fn contains(&self, r: SeriesRef) -> bool {
        let (shard, page, slot) = locate(r);
        self.shards[shard]
            .read()
            .get(&page)
            .is_some_and(|p| p.slots[slot].is_some())
    }

    /// Puts `s` under `r`, replacing what was there.
    pub(crate) fn insert(&self, r: SeriesRef, s: Arc<MemSeries>) {
        let (shard, page, slot) = locate(r);
        let mut shard = self.shards[shard].write();
        let p = shard.entry(page).or_insert_with(|| {
            Box::new(Page {
                slots: std::array::from_fn(|_| None),
                live: 0,
            })
        });
        if p.slots[slot].replace(s).is_none() {
            p.live += 1;
            self.len.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn remove(&self, r: SeriesRef) -> Option<Arc<MemSeries>> {
        let (shard, page, slot) = locate(r);
        let mut shard = self.shards[shard].write();
        let p = shard.get_mut(&page)?;
        let s = p.slots[slot].take()?;
        p.live -= 1;
        if p.live == 0 {
            shard.remove(&page);
        }
        self.len.fetch_sub(1, Ordering::Relaxed);
        Some(s)
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Calls `f` on every series, a shard at a time under its read lock (so `f` must not
    /// insert or remove series).
    pub(crate) fn for_each(&self, mut f: impl FnMut(SeriesRef, &Arc<MemSeries>)) {
        for shard in self.shards.iter() {
            for (page, p) in shard.read().iter() {
                for (i, s) in p.slots.iter().enumerate() {
                    if let Some(s) = s {
                        f((page << PAGE_BITS) | i as u64, s);
                    }
                }
            }
        }
    }

    /// Approximate bytes held by the table itself (slots, page headers, shard maps).
    pub(crate) fn bytes(&self) -> usize {
        let pages: usize = self.shards.iter().map(|s| s.read().len()).sum();
        // Each page: its box, its allocation header, and its shard map entry with spare room.
        pages * (std::mem::size_of::<Page>() + 8 + 32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series() -> Arc<MemSeries> {
        Arc::new(MemSeries::new(Default::default()))
    }

    #[test]
    fn insert_get_remove_and_free_pages() {
        let t = SeriesTable::default();
        let refs: Vec<SeriesRef> = (1..=300).chain([1 << 40, u64::MAX]).collect();
        for &r in &refs {
            t.insert(r, series());
        }
        t.insert(5, series()); // replacing is not a new series
        assert_eq!(t.len(), refs.len());
        assert!(t.contains(1 << 40) && t.contains(u64::MAX) && !t.contains(0));
        let mut seen = Vec::new();
        t.for_each(|r, _| seen.push(r));
        seen.sort_unstable();
        assert_eq!(seen, refs);
        for &r in &refs {
            assert!(t.remove(r).is_some(), "{r}");
            assert!(t.get(r).is_none() && t.remove(r).is_none());
        }
        assert_eq!(t.len(), 0);
        assert!(t.shards.iter().all(|s| s.read().is_empty()), "pages freed");
    }
}
