//! The per-target scrape cache.
//!
//! Maps the raw series text of a body line (`name{labels}` exactly as exposed; by a hash of
//! it, see `series_index.rs`) to the head's series (a [`SeriesHandle`]), so a repeated
//! scrape skips label parsing, label merging and every lookup in the head. Per-entry scrape
//! stamps drive staleness markers.

use super::registry::MetricMeta;
use super::series_index::SeriesIndex;
use crate::storage::{SeriesHandle, SeriesRef};
use foldhash::fast::RandomState;
use std::collections::{BTreeMap, HashSet};

/// How many scrapes an unseen entry survives before eviction; a series that flaps in and
/// out of a body keeps its cache entry across short gaps.
const EVICT_AFTER_SCRAPES: u32 = 10;

pub(crate) struct CacheEntry {
    /// The head series the line appends to; `None` when metric relabeling drops the line.
    pub(crate) series: Option<SeriesHandle>,
    /// The scrape attempt that last saw the line (for eviction).
    pub(crate) last_iter: u32,
    /// The attempt that last appended it without an explicit timestamp; such series get a
    /// staleness marker when they disappear.
    pub(crate) appended_iter: u32,
    /// The last successful scrape that appended it so.
    pub(crate) ok_iter: u32,
}

impl CacheEntry {
    pub(crate) fn new(series: Option<SeriesHandle>, iter: u32) -> Self {
        CacheEntry {
            series,
            last_iter: iter,
            appended_iter: 0,
            ok_iter: 0,
        }
    }
}

/// Which series go stale is read from the entries' iteration stamps, in one sequential pass
/// per scrape; two hash sets of refs (this scrape's, the last one's) cost a probe per sample
/// and about 27 bytes per series.
#[derive(Default)]
pub struct ScrapeCache {
    pub(crate) entries: SeriesIndex,
    /// The current scrape attempt, counted from 1 (0 means "never" in the stamps).
    pub(crate) iter: u32,
    /// The last successful scrape, 0 if none since the last failure.
    last_ok: u32,
    /// Refs of the synthetic series (`up`, `scrape_duration_seconds`, ...), in REPORT order.
    pub(crate) report_refs: Vec<Option<SeriesHandle>>,
    pub(crate) metadata: BTreeMap<String, MetricMeta>,
    pub(crate) metadata_changed: bool,
}

impl ScrapeCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a scrape attempt.
    pub(crate) fn begin(&mut self) {
        self.iter = self.iter.wrapping_add(1).max(1);
        self.metadata_changed = false;
    }

    /// Ends a successful scrape: returns the refs that were in the last scrape but not in this
    /// one (they get staleness markers), and makes this scrape the last one.
    pub(crate) fn finish_success(&mut self) -> Vec<SeriesRef> {
        let (iter, last_ok) = (self.iter, self.last_ok);
        let mut gone = Vec::new();
        for e in self.entries.entries_mut() {
            if e.appended_iter == iter {
                e.ok_iter = iter;
            } else if last_ok != 0 && e.ok_iter == last_ok {
                gone.extend(e.series.as_ref().map(SeriesHandle::series_ref));
            }
        }
        if !gone.is_empty() {
            // Two lines may name one series (e.g. labels in another order): it is gone only
            // if no line appended it this time.
            let kept: HashSet<SeriesRef, RandomState> = self
                .entries
                .entries_mut()
                .filter(|e| e.appended_iter == iter)
                .filter_map(|e| e.series.as_ref().map(SeriesHandle::series_ref))
                .collect();
            gone.retain(|r| !kept.contains(r));
            gone.sort_unstable();
            gone.dedup();
        }
        self.last_ok = iter;
        if iter.is_multiple_of(EVICT_AFTER_SCRAPES) {
            self.entries
                .retain(|e| iter.wrapping_sub(e.last_iter) < EVICT_AFTER_SCRAPES);
        }
        self.entries.shrink_if_grown();
        gone
    }

    /// Ends a failed scrape: every series of the last successful scrape goes stale.
    pub(crate) fn finish_failure(&mut self) -> Vec<SeriesRef> {
        let gone = self.live_refs();
        self.last_ok = 0;
        gone
    }

    /// Every series this target currently exposes, for markers when the target goes away.
    pub(crate) fn live_refs(&self) -> Vec<SeriesRef> {
        if self.last_ok == 0 {
            return Vec::new();
        }
        let mut refs: Vec<SeriesRef> = self
            .entries
            .entries()
            .filter(|e| e.ok_iter == self.last_ok)
            .filter_map(|e| e.series.as_ref().map(SeriesHandle::series_ref))
            .collect();
        refs.sort_unstable();
        refs.dedup();
        refs
    }

    /// Applies `update` to the metadata of `metric`; `update` says whether it changed
    /// anything. The family's name is allocated only when it is new, so a repeated scrape with
    /// the same HELP and TYPE lines allocates nothing here.
    pub(crate) fn set_meta(&mut self, metric: &str, update: impl FnOnce(&mut MetricMeta) -> bool) {
        let changed = match self.metadata.get_mut(metric) {
            Some(m) => update(m),
            None => {
                let mut m = MetricMeta::default();
                update(&mut m);
                self.metadata.insert(metric.to_string(), m);
                true
            }
        };
        self.metadata_changed |= changed;
    }
}
