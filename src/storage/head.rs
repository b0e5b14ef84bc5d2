//! The head: the in-memory part of the store, where every append lands.
//!
//! Series live in a sharded map (DashMap) keyed by ref, so appends from scrape loops on
//! different threads lock different shards; a second sharded map from label hash to refs
//! resolves a label set to its series; postings index label values for selection. Samples
//! of a series are compressed in chunks behind that series' own lock (`series.rs`).
//!
//! When a write-ahead log is attached, new series and committed samples are logged
//! (`wal.rs` says in which order and when they reach the disk).

use super::postings::Postings;
use super::series::{AppendOutcome, MemSeries};
use super::wal::WalLog;
use super::{Appendable, Appender, CommitStats, SeriesRef};
use crate::model::{Label, Labels, Matcher};
use crate::tsdb::chunk::SealedChunk;
use crate::tsdb::wal::RefSample;
use dashmap::{DashMap, DashSet};
use parking_lot::RwLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// Counters about the head, for `/metrics` and the TSDB status page.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HeadStats {
    pub series: usize,
    pub samples: usize,
    pub min_time: i64,
    pub max_time: i64,
}

/// What the head's chunks take, from one pass over the series.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HeadFootprint {
    pub chunks: usize,
    pub chunk_bytes: usize,
    pub samples: usize,
    /// Estimated bytes of the whole head: chunks, series, labels, postings, strings.
    pub estimated_bytes: usize,
}

/// A series to recreate at start-up: its old ref, labels (their strings already interned
/// with [`Head::intern_str`]), chunks (oldest first; none when it comes from a WAL series
/// record) and newest sample.
pub(super) struct RestoredSeries {
    pub(super) r: SeriesRef,
    pub(super) labels: Labels,
    pub(super) chunks: Vec<SealedChunk>,
    pub(super) last: Option<(i64, u64)>,
}

#[derive(Default)]
pub struct Head {
    pub(super) series: DashMap<SeriesRef, Arc<MemSeries>>,
    by_hash: DashMap<u64, Vec<SeriesRef>>,
    pub(super) postings: RwLock<Postings>,
    strings: DashSet<Arc<str>>,
    next_ref: AtomicU64,
    samples_total: AtomicUsize,
    min_time: AtomicU64,
    max_time: AtomicU64,
    appended_total: AtomicU64,
    out_of_order_total: AtomicU64,
    wal: Option<Arc<WalLog>>,
}

impl Head {
    pub fn new() -> Self {
        Head {
            next_ref: AtomicU64::new(1),
            min_time: AtomicU64::new(u64::MAX), // encodes i64::MAX
            max_time: AtomicU64::new(0),        // encodes i64::MIN
            ..Default::default()
        }
    }

    /// Attaches the log that every later new series and commit is written to.
    pub(super) fn attach_wal(&mut self, wal: Arc<WalLog>) {
        self.wal = Some(wal);
    }

    /// The ref of the series with exactly these labels, creating it if needed.
    pub fn get_or_create(&self, labels: &Labels) -> (SeriesRef, bool) {
        let hash = labels.stable_hash();
        if let Some(r) = self.lookup(hash, labels) {
            return (r, false);
        }
        // Create under the hash shard's lock so two appenders cannot create the same series,
        // and log it before anyone else can find it (and log a sample of it).
        let mut refs = self.by_hash.entry(hash).or_default();
        for r in refs.iter() {
            if self.series.get(r).is_some_and(|s| &s.labels == labels) {
                return (*r, false);
            }
        }
        let r = self.next_ref.fetch_add(1, Ordering::Relaxed);
        let interned = self.insert(r, labels);
        if let Some(wal) = &self.wal {
            wal.log_series(r, &interned);
        }
        refs.push(r);
        (r, true)
    }

    /// Recreates series under the refs they had before a restart, from a snapshot (with
    /// their chunks) or from WAL series records (without). A ref already present (seen in
    /// the checkpoint and again in a segment, or in the snapshot and again in the WAL tail) is
    /// kept once. The postings lock and the head-wide counters are taken once per batch, as
    /// start-up calls this from several threads at once.
    pub(super) fn restore_batch(&self, batch: Vec<RestoredSeries>) {
        let mut added = Vec::with_capacity(batch.len());
        let (mut samples, mut min_t, mut max_t) = (0usize, i64::MAX, i64::MIN);
        let mut max_ref = 0;
        for s in batch {
            if self.series.contains_key(&s.r) {
                continue;
            }
            for (min, max) in s.chunks.iter().filter_map(SealedChunk::time_range) {
                min_t = min_t.min(min);
                max_t = max_t.max(max);
            }
            samples += s.chunks.iter().map(SealedChunk::len).sum::<usize>();
            max_ref = max_ref.max(s.r);
            let hash = s.labels.stable_hash();
            let series = Arc::new(MemSeries::restored(s.labels, s.chunks, s.last));
            self.series.insert(s.r, series.clone());
            self.by_hash.entry(hash).or_default().push(s.r);
            added.push((s.r, series));
        }
        if added.is_empty() {
            return;
        }
        self.next_ref.fetch_max(max_ref + 1, Ordering::Relaxed);
        if samples > 0 {
            self.note_appended_batch(samples, min_t, max_t);
        }
        let labels: Vec<(SeriesRef, &Labels)> =
            added.iter().map(|(r, s)| (*r, &s.labels)).collect();
        self.postings.write().add_batch(&labels);
    }

    /// Every series with its ref, sorted by ref, for a snapshot.
    pub(super) fn all_series(&self) -> Vec<(SeriesRef, Arc<MemSeries>)> {
        let mut v: Vec<_> = self.series.iter().map(|s| (*s.key(), s.clone())).collect();
        v.sort_by_key(|(r, _)| *r);
        v
    }

    fn insert(&self, r: SeriesRef, labels: &Labels) -> Labels {
        let interned = self.intern(labels);
        self.postings.write().add(r, &interned);
        self.series
            .insert(r, Arc::new(MemSeries::new(interned.clone())));
        interned
    }

    fn lookup(&self, hash: u64, labels: &Labels) -> Option<SeriesRef> {
        let refs = self.by_hash.get(&hash)?;
        refs.iter()
            .copied()
            .find(|r| self.series.get(r).is_some_and(|s| &s.labels == labels))
    }

    /// Shares label strings with the string pool, so a million series with `job="node"`
    /// hold the text once.
    pub(super) fn intern(&self, labels: &Labels) -> Labels {
        let mut b = crate::model::LabelsBuilder::with_capacity(labels.len());
        for Label { name, value } in labels {
            b.push_unchecked(self.intern_str(name), self.intern_str(value));
        }
        b.build()
    }

    pub(super) fn intern_str(&self, s: &Arc<str>) -> Arc<str> {
        if let Some(existing) = self.strings.get(s) {
            return existing.clone();
        }
        self.strings.insert(s.clone());
        s.clone()
    }

    pub(super) fn get(&self, r: SeriesRef) -> Option<Arc<MemSeries>> {
        self.series.get(&r).map(|s| s.clone())
    }

    /// Publishes `n` appended samples spanning [min_t, max_t] to the head-wide counters.
    pub(super) fn note_appended_batch(&self, n: usize, min_t: i64, max_t: i64) {
        self.samples_total.fetch_add(n, Ordering::Relaxed);
        self.min_time
            .fetch_min(min_t as u64 ^ SIGN, Ordering::Relaxed);
        self.max_time
            .fetch_max(max_t as u64 ^ SIGN, Ordering::Relaxed);
    }

    pub fn stats(&self) -> HeadStats {
        let empty = self.samples_total.load(Ordering::Relaxed) == 0;
        let time = |a: &AtomicU64| {
            if empty {
                0
            } else {
                (a.load(Ordering::Relaxed) ^ SIGN) as i64
            }
        };
        HeadStats {
            series: self.series.len(),
            samples: self.samples_total.load(Ordering::Relaxed),
            min_time: time(&self.min_time),
            max_time: time(&self.max_time),
        }
    }

    /// One pass over every series: chunks, their bytes, and an estimate of the head's size.
    pub fn footprint(&self) -> HeadFootprint {
        let mut f = HeadFootprint::default();
        let mut label_entries = 0;
        for s in self.series.iter() {
            let (chunks, bytes, samples) = s.footprint();
            f.chunks += chunks;
            f.chunk_bytes += bytes;
            f.samples += samples;
            label_entries += s.labels.len();
        }
        let strings: usize = self.strings.iter().map(|s| s.len() + 16 + 16).sum();
        // Per series: the series struct and its Arc, the open chunk's buffer (192 bytes
        // reserved), one entry in each of the two maps, one ref in `all` postings. Per label:
        // the label itself (two shared strings, 32 bytes) and a ref in its posting list.
        let per_series = std::mem::size_of::<MemSeries>() + 16 + 192 + 2 * 32 + 8;
        f.estimated_bytes =
            f.chunk_bytes + strings + self.series.len() * per_series + label_entries * (32 + 8);
        f
    }

    /// Total samples appended and rejected as out of order since start.
    pub fn append_counters(&self) -> (u64, u64) {
        (
            self.appended_total.load(Ordering::Relaxed),
            self.out_of_order_total.load(Ordering::Relaxed),
        )
    }

    /// Every series with the chunks entirely older than `t` (the open chunk sealed if it
    /// is), for writing a block. Series without such chunks are left out.
    pub(super) fn chunks_before(&self, t: i64) -> Vec<(SeriesRef, Labels, Vec<SealedChunk>)> {
        let mut out: Vec<_> = self
            .series
            .iter()
            .filter_map(|s| {
                let chunks = s.chunks_before(t);
                (!chunks.is_empty()).then(|| (*s.key(), s.labels.clone(), chunks))
            })
            .collect();
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }

    /// Drops chunks handed out by [`Head::chunks_before`] once they are in a block, then
    /// removes series left empty whose newest sample is older than `t`.
    pub(super) fn drop_persisted(&self, persisted: &[(SeriesRef, usize, usize)], t: i64) {
        for &(r, chunks, samples) in persisted {
            if let Some(s) = self.get(r) {
                s.drop_persisted(chunks);
                self.samples_total.fetch_sub(samples, Ordering::Relaxed);
            }
        }
        self.min_time.fetch_max(t as u64 ^ SIGN, Ordering::Relaxed);
        self.remove_idle(t);
    }

    /// Drops chunks entirely older than `mint` and series left with none; returns the
    /// series removed.
    pub fn truncate_before(&self, mint: i64) -> usize {
        for entry in self.series.iter() {
            let dropped = entry.drop_before(mint);
            self.samples_total.fetch_sub(dropped, Ordering::Relaxed);
        }
        self.remove_idle(mint)
    }

    fn remove_idle(&self, t: i64) -> usize {
        let dead: Vec<SeriesRef> = self
            .series
            .iter()
            .filter(|s| s.is_idle_since(t))
            .map(|s| *s.key())
            .collect();
        for r in &dead {
            if let Some((_, s)) = self.series.remove(r) {
                self.postings.write().remove(*r, &s.labels);
                let hash = s.labels.stable_hash();
                if let Some(mut refs) = self.by_hash.get_mut(&hash) {
                    refs.retain(|x| x != r);
                }
                self.by_hash.remove_if(&hash, |_, refs| refs.is_empty());
            }
        }
        dead.len()
    }

    /// Series count per metric name, for the TSDB status page.
    pub fn series_per_metric(&self) -> Vec<(String, usize)> {
        self.postings.read().value_counts(crate::model::METRIC_NAME)
    }

    /// (label name, number of values, number of series) per label name, for the TSDB status page.
    pub fn label_cardinality(&self) -> Vec<(String, usize, usize)> {
        self.postings.read().cardinality()
    }

    /// (label name, bytes of its distinct values) for the TSDB status page.
    pub fn label_value_bytes(&self) -> Vec<(String, usize)> {
        self.postings.read().value_bytes()
    }

    /// Series count per label pair, for the TSDB status page.
    pub fn label_pair_counts(&self) -> Vec<(String, usize)> {
        self.postings.read().pair_counts()
    }

    pub(super) fn matching_series(&self, matchers: &[Matcher]) -> Vec<Arc<MemSeries>> {
        let candidates = self.postings.read().candidates(matchers);
        candidates
            .into_iter()
            .filter_map(|r| self.get(r))
            .filter(|s| {
                matchers
                    .iter()
                    .all(|m| m.matches(s.labels.get(&m.name).unwrap_or("")))
            })
            .collect()
    }
}

/// Timestamps are signed; flipping the sign bit makes unsigned atomic min/max order them.
const SIGN: u64 = 1 << 63;

impl Appendable for Head {
    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(HeadAppender {
            head: self,
            pending: Vec::new(),
            series: Vec::new(),
            created: 0,
        })
    }
}

/// Buffers one scrape's samples; `commit` writes them into their series, then logs the
/// accepted ones.
struct HeadAppender<'a> {
    head: &'a Head,
    pending: Vec<RefSample>,
    /// The series of each pending sample, resolved once when the sample is added, so that
    /// `commit` does not look every ref up in the sharded map a second time.
    series: Vec<Arc<MemSeries>>,
    created: usize,
}

impl Appender for HeadAppender<'_> {
    fn append(&mut self, labels: &Labels, t: i64, v: f64) -> SeriesRef {
        let (r, created) = self.head.get_or_create(labels);
        self.created += usize::from(created);
        if let Some(series) = self.head.get(r) {
            self.pending.push(RefSample { r, t, v });
            self.series.push(series);
        }
        r
    }

    fn append_ref(&mut self, r: SeriesRef, t: i64, v: f64) -> bool {
        let Some(series) = self.head.get(r) else {
            return false;
        };
        self.pending.push(RefSample { r, t, v });
        self.series.push(series);
        true
    }

    fn commit(mut self: Box<Self>) -> CommitStats {
        let mut stats = CommitStats {
            series_created: self.created,
            ..Default::default()
        };
        let mut pending = std::mem::take(&mut self.pending);
        let mut accepted = Vec::with_capacity(pending.len());
        // Head-wide counters are updated once per commit, not per sample: they are shared by
        // every scrape thread.
        let (mut min_t, mut max_t) = (i64::MAX, i64::MIN);
        for (s, series) in pending.drain(..).zip(&self.series) {
            match series.append(s.t, s.v) {
                AppendOutcome::Appended => {
                    stats.appended += 1;
                    min_t = min_t.min(s.t);
                    max_t = max_t.max(s.t);
                    accepted.push(s);
                }
                AppendOutcome::OutOfOrder => stats.out_of_order += 1,
                AppendOutcome::Duplicate => stats.duplicates += 1,
                AppendOutcome::Repeated => {}
            }
        }
        if stats.appended > 0 {
            self.head.note_appended_batch(stats.appended, min_t, max_t);
        }
        if let Some(wal) = &self.head.wal {
            wal.log_samples(&accepted);
        }
        self.head
            .appended_total
            .fetch_add(stats.appended as u64, Ordering::Relaxed);
        self.head.out_of_order_total.fetch_add(
            (stats.out_of_order + stats.duplicates) as u64,
            Ordering::Relaxed,
        );
        stats
    }

    fn rollback(self: Box<Self>) {}
}

#[cfg(test)]
#[path = "head_tests.rs"]
mod tests;
