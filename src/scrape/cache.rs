//! The per-target scrape cache.
//!
//! Maps the raw series text of a body line (`name{labels}` exactly as exposed) to the head's
//! series (a [`SeriesHandle`]), so a repeated scrape skips label parsing, label merging and
//! every lookup in the head. Two ref sets (this scrape, the last successful one) drive staleness markers.

use super::registry::MetricMeta;
use super::series_index::SeriesIndex;
use crate::storage::{SeriesHandle, SeriesRef};
use foldhash::fast::RandomState;
use std::collections::{BTreeMap, HashSet};

/// How many scrapes an unseen entry survives before eviction; a series that flaps in and
/// out of a body keeps its cache entry across short gaps.
const EVICT_AFTER_SCRAPES: u64 = 10;

pub(crate) struct CacheEntry {
    /// The head series the line appends to; `None` when metric relabeling drops the line.
    pub(crate) series: Option<SeriesHandle>,
    pub(crate) last_iter: u64,
}

/// The sets below are probed once per sample; std's default SipHash was a visible share of a
/// cached scrape's time, so they use foldhash (per-process random seed, several times faster
/// on short keys). The series texts have their own layout (`series_index.rs`).
#[derive(Default)]
pub struct ScrapeCache {
    pub(crate) entries: SeriesIndex,
    pub(crate) iter: u64,
    /// Series refs appended by the current scrape (without explicit timestamps).
    pub(crate) cur: HashSet<SeriesRef, RandomState>,
    /// Series refs appended by the last successful scrape.
    pub(crate) prev: HashSet<SeriesRef, RandomState>,
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
        self.iter += 1;
        self.cur.clear();
        self.metadata_changed = false;
    }

    /// Ends a successful scrape: returns the refs that were in the last scrape but not in this
    /// one (they get staleness markers), and makes this scrape the last one.
    pub(crate) fn finish_success(&mut self) -> Vec<SeriesRef> {
        let gone: Vec<SeriesRef> = self.prev.difference(&self.cur).copied().collect();
        std::mem::swap(&mut self.prev, &mut self.cur);
        self.cur.clear();
        if self.iter.is_multiple_of(EVICT_AFTER_SCRAPES) {
            let iter = self.iter;
            self.entries
                .retain(|e| iter.saturating_sub(e.last_iter) < EVICT_AFTER_SCRAPES);
        }
        self.entries.shrink_if_grown();
        gone
    }

    /// Ends a failed scrape: every series of the last successful scrape goes stale.
    pub(crate) fn finish_failure(&mut self) -> Vec<SeriesRef> {
        self.cur.clear();
        self.prev.drain().collect()
    }

    /// Every series this target currently exposes, for markers when the target goes away.
    pub(crate) fn live_refs(&self) -> Vec<SeriesRef> {
        self.prev.iter().copied().collect()
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
