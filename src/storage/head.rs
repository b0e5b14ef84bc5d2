//! The head: the in-memory part of the store, where every append lands.
//!
//! Series live in a sharded map (DashMap) keyed by ref, so appends from scrape loops on
//! different threads lock different shards; a second sharded map from label hash to refs
//! resolves a label set to its series; postings index label values for selection. Samples
//! of a series are compressed in chunks behind that series' own lock (`series.rs`); its
//! labels are ids of the head's symbol table (`symbols.rs`).
//!
//! A scrape loop resolves each exposed series once and keeps a [`SeriesHandle`] in its scrape
//! cache: a steady-state append then touches only the series itself, not the maps. A series
//! the head drops (idle, all its data persisted or expired) is marked under its lock, so a
//! handle to it is refused and its holder resolves the labels again.
//!
//! When a write-ahead log is attached, new series and committed samples are logged
//! (`wal.rs` says in which order and when they reach the disk).

use super::hash_refs::HashRefs;
use super::postings::Postings;
use super::series::{AppendOutcome, MemSeries};
use super::series_table::SeriesTable;
use super::symbols::Symbols;
use super::wal::WalLog;
use super::{Appendable, Appender, CommitStats, SeriesRef};
use crate::model::{Labels, Matcher};
use crate::tsdb::chunk::SealedChunk;
use crate::tsdb::wal::RefSample;
use dashmap::DashMap;
use parking_lot::RwLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    pub(super) series: SeriesTable,
    by_hash: DashMap<u64, HashRefs>,
    pub(super) postings: RwLock<Postings>,
    symbols: Symbols,
    next_ref: AtomicU64,
    samples_total: AtomicUsize,
    min_time: AtomicU64,
    max_time: AtomicU64,
    appended_total: AtomicU64,
    out_of_order_total: AtomicU64,
    wal: Option<Arc<WalLog>>,
    /// Chunks are cut at multiples of this many milliseconds (`with_chunk_range`).
    chunk_range: i64,
    /// The last footprint and when it was taken, for [`Head::recent_footprint`].
    footprint_cache: parking_lot::Mutex<Option<(Instant, HeadFootprint)>>,
}

impl Head {
    pub fn new() -> Self {
        Self::with_chunk_range(DEFAULT_CHUNK_RANGE_MS)
    }

    /// A head whose chunks never span a multiple of `range_ms` (the block duration), so a
    /// block cut takes whole chunks: a chunk straddling the cut would stay in the head while
    /// the WAL drops its samples before the cut, and a crash would lose them.
    pub fn with_chunk_range(range_ms: i64) -> Self {
        Head {
            next_ref: AtomicU64::new(1),
            min_time: AtomicU64::new(u64::MAX), // encodes i64::MAX
            max_time: AtomicU64::new(0),        // encodes i64::MIN
            chunk_range: range_ms.max(1),
            ..Default::default()
        }
    }

    /// See [`Head::with_chunk_range`].
    pub(super) fn chunk_range(&self) -> i64 {
        self.chunk_range
    }

    /// Attaches the log that every later new series and commit is written to.
    pub(super) fn attach_wal(&mut self, wal: Arc<WalLog>) {
        self.wal = Some(wal);
    }

    /// The ref of the series with exactly these labels, creating it if needed.
    pub fn get_or_create(&self, labels: &Labels) -> (SeriesRef, bool) {
        let (h, created) = self.resolve(labels);
        (h.r, created)
    }

    /// The live series with exactly these labels, creating it if needed. A series the head
    /// has dropped is never returned: its labels get a new series.
    pub(super) fn resolve(&self, labels: &Labels) -> (SeriesHandle, bool) {
        let hash = labels.stable_hash();
        if let Some(h) = self.lookup(hash, labels) {
            return (h, false);
        }
        // Create under the hash shard's lock so two appenders cannot create the same series,
        // and log it before anyone else can find it (and log a sample of it).
        let mut refs = self.by_hash.entry(hash).or_default();
        if let Some(h) = self.find_live(refs.as_slice(), labels) {
            return (h, false);
        }
        let r = self.next_ref.fetch_add(1, Ordering::Relaxed);
        let (series, interned) = self.insert(r, labels);
        if let Some(wal) = &self.wal {
            wal.log_series(r, &interned);
        }
        refs.push(r);
        (SeriesHandle { r, series }, true)
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
            if self.series.contains(s.r) {
                continue;
            }
            for (min, max) in s.chunks.iter().filter_map(SealedChunk::time_range) {
                min_t = min_t.min(min);
                max_t = max_t.max(max);
            }
            samples += s.chunks.iter().map(SealedChunk::len).sum::<usize>();
            max_ref = max_ref.max(s.r);
            let hash = s.labels.stable_hash();
            let ids = self.symbols.encode(&s.labels);
            let series = Arc::new(MemSeries::restored(ids, s.chunks, s.last));
            self.series.insert(s.r, series);
            self.by_hash.entry(hash).or_default().push(s.r);
            added.push((s.r, s.labels));
        }
        if added.is_empty() {
            return;
        }
        self.next_ref.fetch_max(max_ref + 1, Ordering::Relaxed);
        if samples > 0 {
            self.note_appended_batch(samples, min_t, max_t);
        }
        let labels: Vec<(SeriesRef, &Labels)> = added.iter().map(|(r, l)| (*r, l)).collect();
        self.postings.write().add_batch(&labels);
    }

    /// Every series with its ref, sorted by ref, for a snapshot.
    pub(super) fn all_series(&self) -> Vec<(SeriesRef, Arc<MemSeries>)> {
        let mut v = Vec::with_capacity(self.series.len());
        self.series.for_each(|r, s| v.push((r, s.clone())));
        v.sort_by_key(|(r, _)| *r);
        v
    }

    /// Adds a series under `r`; returns it and its labels with the head's shared strings.
    fn insert(&self, r: SeriesRef, labels: &Labels) -> (Arc<MemSeries>, Labels) {
        let ids = self.symbols.encode(labels);
        let interned = self.symbols.decode(&ids);
        self.postings.write().add(r, &interned);
        let series = Arc::new(MemSeries::new(ids));
        self.series.insert(r, series.clone());
        (series, interned)
    }

    /// The labels of a series of this head.
    pub(super) fn labels_of(&self, s: &MemSeries) -> Labels {
        self.symbols.decode(s.label_ids())
    }

    fn lookup(&self, hash: u64, labels: &Labels) -> Option<SeriesHandle> {
        let refs = self.by_hash.get(&hash)?;
        self.find_live(refs.as_slice(), labels)
    }

    /// The series among `refs` (one label hash's) with exactly these labels, unless dropped.
    fn find_live(&self, refs: &[SeriesRef], labels: &Labels) -> Option<SeriesHandle> {
        refs.iter().find_map(|&r| {
            let s = self.series.get(r)?;
            (!s.is_removed() && self.symbols.equals(s.label_ids(), labels))
                .then_some(SeriesHandle { r, series: s })
        })
    }

    /// Shares label strings with the symbol table, so a million series with `job="node"`
    /// hold the text once (block indexes use it too).
    pub(super) fn intern(&self, labels: &Labels) -> Labels {
        self.symbols.decode(&self.symbols.encode(labels))
    }

    /// The symbol table's copy of `s`, added if new.
    pub(super) fn intern_str(&self, s: &Arc<str>) -> Arc<str> {
        self.symbols.canonical(s)
    }

    pub(super) fn get(&self, r: SeriesRef) -> Option<Arc<MemSeries>> {
        self.series.get(r)
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
        let mut label_bytes = 0;
        self.series.for_each(|_, s| {
            let (chunks, bytes, samples) = s.footprint();
            f.chunks += chunks;
            f.chunk_bytes += bytes;
            f.samples += samples;
            label_bytes += s.label_ids().bytes();
        });
        let (distinct, text) = self.symbols.footprint();
        // Per string: its shared allocation (16 bytes of counts), the map entry and the list
        // entry.
        let strings = text + distinct * (16 + 24 + 16);
        // Per series: the series struct and its Arc, the open chunk's unused buffer (16
        // bytes on average), its entry in the label-hash map; the ref table and the posting
        // lists count themselves, and so do the label ids.
        let per_series = std::mem::size_of::<MemSeries>() + 16 + 16 + 32;
        f.estimated_bytes = f.chunk_bytes
            + strings
            + self.series.bytes()
            + self.series.len() * per_series
            + label_bytes
            + self.postings.read().bytes();
        f
    }

    /// A footprint at most `max_age` old. A footprint locks every series once, which a
    /// self-scrape of `/metrics` every few seconds should not pay on a million series.
    pub fn recent_footprint(&self, max_age: Duration) -> HeadFootprint {
        let mut cache = self.footprint_cache.lock();
        match *cache {
            Some((at, f)) if at.elapsed() <= max_age => f,
            _ => {
                let f = self.footprint();
                *cache = Some((Instant::now(), f));
                f
            }
        }
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
        let mut out = Vec::new();
        self.series.for_each(|r, s| {
            let chunks = s.chunks_before(t);
            if !chunks.is_empty() {
                out.push((r, self.labels_of(s), chunks));
            }
        });
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
        // Retention runs every minute and the head rarely holds anything that old: skip the
        // pass over every series (a lock each) while its oldest sample is recent enough.
        let oldest = (self.min_time.load(Ordering::Relaxed) ^ SIGN) as i64;
        if self.samples_total.load(Ordering::Relaxed) > 0 && oldest >= mint {
            return 0;
        }
        let mut left = i64::MAX;
        self.series.for_each(|_, s| {
            let (dropped, min) = s.drop_before(mint);
            self.samples_total.fetch_sub(dropped, Ordering::Relaxed);
            left = left.min(min.unwrap_or(i64::MAX));
        });
        // Raise the lower bound to what is left; samples appended meanwhile are newer.
        if left != i64::MAX {
            self.min_time
                .fetch_max(left as u64 ^ SIGN, Ordering::Relaxed);
        }
        self.remove_idle(mint)
    }

    fn remove_idle(&self, t: i64) -> usize {
        let mut dead: Vec<SeriesRef> = Vec::new();
        self.series.for_each(|r, s| {
            if s.remove_if_idle_since(t) {
                dead.push(r);
            }
        });
        let mut removed = Vec::with_capacity(dead.len());
        for r in &dead {
            if let Some(s) = self.series.remove(*r) {
                let labels = self.labels_of(&s);
                let hash = labels.stable_hash();
                if let Some(mut refs) = self.by_hash.get_mut(&hash) {
                    refs.remove(*r);
                }
                self.by_hash.remove_if(&hash, |_, refs| refs.is_empty());
                removed.push((*r, labels));
            }
        }
        // One pass over the index for all of them: each list is rewritten once. Until then a
        // query may find refs of removed series, which it skips as it does unknown refs.
        self.postings.write().remove_many(&removed);
        dead.len()
    }

    /// Releases spare capacity of the index; part of the periodic maintenance.
    pub fn shrink_index(&self) {
        self.postings.write().shrink();
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
        // The posting lists enforce every matcher that needs its label to be present; the
        // ones an absent label satisfies (`!=`, `=~".*"`...) are checked here.
        let rest: Vec<&Matcher> = matchers.iter().filter(|m| m.matches_empty()).collect();
        candidates
            .into_iter()
            .filter_map(|r| self.get(r))
            .filter(|s| {
                rest.iter().all(|m| {
                    self.symbols
                        .with_value(s.label_ids(), &m.name, |v| m.matches(v))
                })
            })
            .collect()
    }
}

/// The default block duration, two hours, as Prometheus's.
const DEFAULT_CHUNK_RANGE_MS: i64 = 2 * 3600 * 1000;

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

/// A series resolved once and kept by the caller (the scrape cache keeps one per exposed
/// series), so that later appends skip the head's lookup by ref: in a head of a million
/// series that probe missed the CPU cache on every sample and was the largest single cost of
/// a scrape.
#[derive(Clone)]
pub struct SeriesHandle {
    r: SeriesRef,
    series: Arc<MemSeries>,
}

impl SeriesHandle {
    pub fn series_ref(&self) -> SeriesRef {
        self.r
    }
}

/// Buffers one scrape's samples; `commit` writes them into their series, then logs the
/// accepted ones.
struct HeadAppender<'a> {
    head: &'a Head,
    pending: Vec<RefSample>,
    /// The series of each pending sample, resolved when the sample is added, so that
    /// `commit` does not look every ref up in the sharded map a second time.
    series: Vec<Arc<MemSeries>>,
    created: usize,
}

impl HeadAppender<'_> {
    fn push(&mut self, r: SeriesRef, series: Arc<MemSeries>, t: i64, v: f64) {
        self.pending.push(RefSample { r, t, v });
        self.series.push(series);
    }

    /// Appends to `series`; if the head dropped it since the sample was added, the sample
    /// goes to the live series of the same labels instead (its ref is updated for the log).
    fn write(&self, s: &mut RefSample, series: &MemSeries, created: &mut usize) -> AppendOutcome {
        let range = self.head.chunk_range;
        let mut outcome = series.append(s.t, s.v, range);
        // A new series is empty, so the head could drop it again before the sample lands;
        // a few attempts make that race irrelevant.
        for _ in 0..3 {
            if outcome != AppendOutcome::Removed {
                break;
            }
            let (h, new) = self.head.resolve(&self.head.labels_of(series));
            *created += usize::from(new);
            s.r = h.r;
            outcome = h.series.append(s.t, s.v, range);
        }
        outcome
    }
}

impl Appender for HeadAppender<'_> {
    fn append(&mut self, labels: &Labels, t: i64, v: f64) -> SeriesHandle {
        let (h, created) = self.head.resolve(labels);
        self.created += usize::from(created);
        self.push(h.r, h.series.clone(), t, v);
        h
    }

    fn append_ref(&mut self, r: SeriesRef, t: i64, v: f64) -> bool {
        let Some(series) = self.head.get(r) else {
            return false;
        };
        self.push(r, series, t, v);
        true
    }

    fn append_handle(&mut self, h: &SeriesHandle, t: i64, v: f64) -> bool {
        if h.series.is_removed() {
            return false;
        }
        self.push(h.r, h.series.clone(), t, v);
        true
    }

    fn commit(mut self: Box<Self>) -> CommitStats {
        let mut pending = std::mem::take(&mut self.pending);
        let series = std::mem::take(&mut self.series);
        let mut created = self.created;
        let mut stats = CommitStats::default();
        let mut accepted = Vec::with_capacity(pending.len());
        // Head-wide counters are updated once per commit, not per sample: they are shared by
        // every scrape thread.
        let (mut min_t, mut max_t) = (i64::MAX, i64::MIN);
        for (mut s, series) in pending.drain(..).zip(&series) {
            match self.write(&mut s, series, &mut created) {
                AppendOutcome::Appended => {
                    stats.appended += 1;
                    min_t = min_t.min(s.t);
                    max_t = max_t.max(s.t);
                    accepted.push(s);
                }
                AppendOutcome::OutOfOrder => stats.out_of_order += 1,
                AppendOutcome::Duplicate => stats.duplicates += 1,
                AppendOutcome::Repeated | AppendOutcome::Removed => {}
            }
        }
        stats.series_created = created;
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
