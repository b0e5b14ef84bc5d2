//! One series in the head: its labels and its samples in compressed chunks.
//!
//! Samples go into an open [`XorChunk`] under the series' own lock; after
//! [`SAMPLES_PER_CHUNK`] samples it is sealed into a [`SealedChunk`] (immutable, shared bytes)
//! and a new open chunk starts. A query clones the sealed chunks it needs and a snapshot of
//! the open one while holding the lock for a moment, then decodes them without it, so reads
//! never hold up appends for longer than a few reference-count increments.

use super::symbols::LabelIds;
use crate::model::{is_stale_nan, Sample};
use crate::tsdb::chunk::{SealedChunk, XorChunk, SAMPLES_PER_CHUNK};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// What an append did to a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AppendOutcome {
    Appended,
    OutOfOrder,
    Duplicate,
    /// The same timestamp and value as the newest sample: ignored, as in Prometheus.
    Repeated,
    /// The head dropped the series (idle, all its data persisted or expired): whoever still
    /// holds it must resolve its labels again to the live series.
    Removed,
}

pub(crate) struct MemSeries {
    /// Label strings as ids of the head's symbol table (`symbols.rs`).
    label_ids: LabelIds,
    /// Set under the chunks lock when the head drops the series, so a sample can never land
    /// in a series that queries no longer see; read without the lock by handle holders.
    removed: AtomicBool,
    chunks: Mutex<SeriesChunks>,
}

/// The chunks of a series, oldest first, and its newest sample (for the ordering rules).
#[derive(Default)]
pub(crate) struct SeriesChunks {
    /// A boxed slice, not a vector: it changes once per chunk, and the capacity field would
    /// cost every series 8 bytes.
    sealed: Box<[SealedChunk]>,
    open: XorChunk,
    /// The newest sample while the open chunk is empty (cut for a block, or restored from a
    /// snapshot); otherwise it is the open chunk's last. Boxed: rarely set, and a million
    /// series would each carry 24 bytes for it inline.
    parked: Option<Box<(i64, u64)>>,
}

impl SeriesChunks {
    /// The newest sample, for the ordering rules.
    fn last(&self) -> Option<(i64, u64)> {
        self.open.last().or_else(|| self.parked.as_deref().copied())
    }
}

/// Chunks handed to a reader: independent of the series' lock.
pub(crate) type ChunkSnapshot = Vec<SealedChunk>;

impl MemSeries {
    pub(crate) fn new(label_ids: LabelIds) -> Self {
        MemSeries {
            label_ids,
            removed: AtomicBool::new(false),
            chunks: Mutex::new(SeriesChunks::default()),
        }
    }

    /// A series as a snapshot saved it: its chunks (the open one sealed, since appending
    /// resumes in a new chunk) and its newest sample for the ordering rules.
    pub(crate) fn restored(
        label_ids: LabelIds,
        sealed: Vec<SealedChunk>,
        last: Option<(i64, u64)>,
    ) -> Self {
        MemSeries {
            label_ids,
            removed: AtomicBool::new(false),
            chunks: Mutex::new(SeriesChunks {
                sealed: sealed.into_boxed_slice(),
                open: XorChunk::new(),
                parked: last.map(Box::new),
            }),
        }
    }

    pub(crate) fn label_ids(&self) -> &LabelIds {
        &self.label_ids
    }

    /// Every chunk (the open one as a snapshot) and the newest sample, for a head snapshot.
    pub(crate) fn snapshot(&self) -> (Vec<SealedChunk>, Option<(i64, u64)>) {
        let c = self.chunks.lock();
        let mut chunks = c.sealed.to_vec();
        if !c.open.is_empty() {
            chunks.push(c.open.snapshot());
        }
        (chunks, c.last())
    }

    /// The timestamp of the newest sample, if any.
    pub(crate) fn last_time(&self) -> Option<i64> {
        self.chunks.lock().last().map(|(t, _)| t)
    }

    /// Appends under Prometheus's rules: older than the newest sample is out of order, the
    /// same timestamp with another value is a duplicate, the same sample again is ignored.
    /// Two staleness markers count as the same value whatever their payload.
    /// A new chunk starts after [`SAMPLES_PER_CHUNK`] samples and whenever `t` enters another
    /// multiple of `range_ms` than the open chunk's first sample (see `Head::with_chunk_range`).
    pub(crate) fn append(&self, t: i64, v: f64, range_ms: i64) -> AppendOutcome {
        let mut c = self.chunks.lock();
        if self.removed.load(Ordering::Relaxed) {
            return AppendOutcome::Removed;
        }
        if let Some((lt, lv)) = c.last() {
            if t < lt {
                return AppendOutcome::OutOfOrder;
            }
            if t == lt {
                let last = f64::from_bits(lv);
                if lv == v.to_bits() || (is_stale_nan(v) && is_stale_nan(last)) {
                    return AppendOutcome::Repeated;
                }
                return AppendOutcome::Duplicate;
            }
        }
        let range = range_ms.max(1);
        let other_range = c
            .open
            .time_range()
            .is_some_and(|(first, _)| first.div_euclid(range) != t.div_euclid(range));
        if c.open.len() >= SAMPLES_PER_CHUNK || other_range {
            c.cut();
        }
        if c.open.append(t, v).is_err() {
            // Only a full chunk refuses a sample, and the cut above prevents that; cut and
            // retry once rather than lose the sample if the constant ever changes.
            c.cut();
            let _ = c.open.append(t, v);
        }
        c.parked = None;
        AppendOutcome::Appended
    }

    /// The chunks that may hold samples in [mint, maxt], the open one as a snapshot.
    pub(crate) fn chunks_in(&self, mint: i64, maxt: i64) -> ChunkSnapshot {
        let c = self.chunks.lock();
        let overlaps = |r: Option<(i64, i64)>| r.is_some_and(|(a, b)| a <= maxt && b >= mint);
        let mut out: Vec<SealedChunk> = c
            .sealed
            .iter()
            .filter(|ch| overlaps(ch.time_range()))
            .cloned()
            .collect();
        if overlaps(c.open.time_range()) {
            out.push(c.open.snapshot());
        }
        out
    }

    /// The newest sample in [mint, maxt]. When the range ends at or after the newest sample
    /// (an instant query at "now") that is the open chunk's last, kept decoded: nothing to
    /// decode. Otherwise the chunks in the range are decoded.
    pub(crate) fn latest_in(&self, mint: i64, maxt: i64) -> Option<Sample> {
        if let Some((t, bits)) = self.chunks.lock().open.last() {
            if t <= maxt {
                return (t >= mint).then(|| Sample {
                    t,
                    v: f64::from_bits(bits),
                });
            }
        }
        samples_in(&self.chunks_in(mint, maxt), mint, maxt).pop()
    }

    /// Whether any sample lies in [mint, maxt], decoding at most the chunks at the edges.
    pub(crate) fn has_samples_in(&self, mint: i64, maxt: i64) -> bool {
        !samples_in(&self.chunks_in(mint, maxt), mint, maxt).is_empty()
    }

    /// Seals the open chunk if all its samples are older than `t`, then clones the sealed
    /// chunks entirely older than `t`; [`MemSeries::drop_persisted`] removes them once they
    /// are safely on disk.
    pub(crate) fn chunks_before(&self, t: i64) -> Vec<SealedChunk> {
        let mut c = self.chunks.lock();
        if c.open.time_range().is_some_and(|(_, max)| max < t) {
            c.park_last();
            c.cut();
        }
        c.sealed
            .iter()
            .take_while(|ch| ch.time_range().is_some_and(|(_, max)| max < t))
            .cloned()
            .collect()
    }

    /// Drops the `n` oldest sealed chunks (just persisted by the caller, which is the only
    /// one removing chunks, so they are still the `n` oldest).
    pub(crate) fn drop_persisted(&self, n: usize) {
        let mut c = self.chunks.lock();
        c.drop_sealed(n);
    }

    /// Drops chunks whose samples are all older than `mint`; returns the samples dropped and
    /// the oldest timestamp left.
    pub(crate) fn drop_before(&self, mint: i64) -> (usize, Option<i64>) {
        let mut c = self.chunks.lock();
        let keep_from = c
            .sealed
            .iter()
            .position(|ch| ch.time_range().is_some_and(|(_, max)| max >= mint))
            .unwrap_or(c.sealed.len());
        let mut dropped = c.drop_sealed(keep_from);
        if c.sealed.is_empty() && c.open.time_range().is_some_and(|(_, max)| max < mint) {
            dropped += c.open.len();
            c.park_last();
            c.open = XorChunk::new();
        }
        let oldest = c
            .sealed
            .first()
            .and_then(SealedChunk::time_range)
            .or_else(|| c.open.time_range())
            .map(|(min, _)| min);
        (dropped, oldest)
    }

    /// Marks the series removed if it holds no sample and its newest sample is older than
    /// `t`; decided under the lock, so no append slips in between the check and the mark.
    pub(crate) fn remove_if_idle_since(&self, t: i64) -> bool {
        let c = self.chunks.lock();
        let idle =
            c.sealed.is_empty() && c.open.is_empty() && c.last().is_none_or(|(lt, _)| lt < t);
        if idle {
            self.removed.store(true, Ordering::Relaxed);
        }
        idle
    }

    /// Whether the head has dropped this series (see [`AppendOutcome::Removed`]).
    pub(crate) fn is_removed(&self) -> bool {
        self.removed.load(Ordering::Relaxed)
    }

    /// (chunks, bytes of chunk data, samples) held in memory.
    pub(crate) fn footprint(&self) -> (usize, usize, usize) {
        let c = self.chunks.lock();
        let open = usize::from(!c.open.is_empty());
        let bytes =
            c.sealed.iter().map(|ch| ch.bytes().len()).sum::<usize>() + c.open.bytes().len();
        let samples = c.sealed.iter().map(SealedChunk::len).sum::<usize>() + c.open.len();
        (c.sealed.len() + open, bytes, samples)
    }
}

impl SeriesChunks {
    /// Seals the open chunk (if it has samples) and starts a new one.
    fn cut(&mut self) {
        if self.open.is_empty() {
            return;
        }
        let full = std::mem::take(&mut self.open);
        let mut sealed = std::mem::take(&mut self.sealed).into_vec();
        sealed.push(full.seal());
        self.sealed = sealed.into_boxed_slice();
    }

    /// Removes the `n` oldest sealed chunks; returns how many samples they held.
    fn drop_sealed(&mut self, n: usize) -> usize {
        let mut sealed = std::mem::take(&mut self.sealed).into_vec();
        let n = n.min(sealed.len());
        let dropped = sealed.drain(..n).map(|ch| ch.len()).sum();
        self.sealed = sealed.into_boxed_slice();
        dropped
    }

    /// Keeps the newest sample aside before the open chunk is emptied other than by an
    /// append (which would restore it).
    fn park_last(&mut self) {
        if let Some(last) = self.open.last() {
            self.parked = Some(Box::new(last));
        }
    }
}

/// Decodes the samples of `chunks` (oldest first) that lie in [mint, maxt].
pub(crate) fn samples_in(chunks: &[SealedChunk], mint: i64, maxt: i64) -> Vec<Sample> {
    let mut out = Vec::new();
    for ch in chunks {
        out.extend(ch.iter().filter(|s| s.t >= mint && s.t <= maxt));
    }
    out
}
