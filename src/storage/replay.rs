//! Start-up replay of WAL records into the head, on every core.
//!
//! Decoding the log is sequential (frames, checksums, varints), applying it is not: the
//! calling thread decodes and routes each series record and each sample to one of N workers
//! by ref (`ref % N`), in batches, over bounded channels. A worker owns its refs for the
//! whole replay, so the samples of one series are applied by one thread in log order, and
//! the series record of a ref travels on the same channel ahead of its samples (a batch
//! carries series first, and is sent off before a series record would overtake samples
//! logged ahead of it). The outcome is the same as applying the records one by one.
//!
//! Per sample, a worker finds the series in its own map (no shared-map shard lock, no
//! reference count touched), appends under the series' lock, and publishes the head-wide
//! counters once per batch. Replay into a head restored from a snapshot skips, silently, the
//! samples the snapshot already holds: those not newer than the series' newest sample when
//! the worker first meets it.

use super::head::{Head, RestoredSeries};
use super::series::{AppendOutcome, MemSeries};
use super::SeriesRef;
use crate::tsdb::wal::{Record, RefSample, RefSeries};
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;

/// Samples per batch sent to a worker: large enough that channel hand-offs cost nothing
/// per sample (16 Ki × 24 bytes = 384 KiB), small enough that N workers × a few batches in
/// flight stay a few MiB.
const BATCH_SAMPLES: usize = 16 * 1024;

/// Series records per batch, so a checkpoint full of series does not pile up in memory.
const BATCH_SERIES: usize = 4096;

/// Batches queued per worker before the decoder waits.
const QUEUE: usize = 4;

/// What applying the records found, beyond what the log reader counts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ApplyCounts {
    /// Samples for refs without a series record.
    pub(crate) unknown_refs: u64,
    /// Samples older than the newest block's end, already persisted.
    pub(crate) skipped_persisted: u64,
    /// Samples rejected by the ordering rules (out of order, duplicate, repeated).
    pub(crate) out_of_order: u64,
    /// Samples the restored snapshot already held.
    pub(crate) in_snapshot: u64,
}

impl ApplyCounts {
    fn add(&mut self, o: ApplyCounts) {
        self.unknown_refs += o.unknown_refs;
        self.skipped_persisted += o.skipped_persisted;
        self.out_of_order += o.out_of_order;
        self.in_snapshot += o.in_snapshot;
    }
}

/// Threads to apply a replay with: one per core.
pub(crate) fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Applies `records` to `head` with `workers` threads (inline when 1). Samples older than
/// `persisted_before` are skipped.
pub(crate) fn apply(
    head: &Head,
    records: impl Iterator<Item = Record>,
    persisted_before: i64,
    workers: usize,
) -> ApplyCounts {
    let n = workers.max(1);
    if n == 1 {
        let mut w = Worker::new(head, persisted_before, 1);
        let mut batch = Batch::default();
        for rec in records {
            match rec {
                Record::Series(s) => batch.series.extend(s),
                Record::Samples(s) => batch.samples.extend(s),
            }
            w.apply(std::mem::take(&mut batch));
        }
        return w.counts;
    }
    std::thread::scope(|sc| {
        let mut senders = Vec::with_capacity(n);
        let mut handles = Vec::with_capacity(n);
        for _ in 0..n {
            let (tx, rx) = sync_channel::<Batch>(QUEUE);
            senders.push(tx);
            handles.push(sc.spawn(move || run_worker(head, persisted_before, n, rx)));
        }
        let mut pending: Vec<Batch> = (0..n).map(|_| Batch::default()).collect();
        let shard = |r: SeriesRef| (r % n as u64) as usize;
        let send = |k: usize, pending: &mut Vec<Batch>| {
            let b = std::mem::take(&mut pending[k]);
            // A worker only stops early by panicking, which the scope re-raises below.
            let _ = senders[k].send(b);
        };
        for rec in records {
            match rec {
                Record::Series(series) => {
                    for s in series {
                        let k = shard(s.r);
                        // Samples logged before the series record stay before it: a worker
                        // applies a batch's series first.
                        if !pending[k].samples.is_empty() {
                            send(k, &mut pending);
                        }
                        pending[k].series.push(s);
                        if pending[k].series.len() >= BATCH_SERIES {
                            send(k, &mut pending);
                        }
                    }
                }
                Record::Samples(samples) => {
                    for s in samples {
                        let k = shard(s.r);
                        pending[k].samples.push(s);
                        if pending[k].samples.len() >= BATCH_SAMPLES {
                            send(k, &mut pending);
                        }
                    }
                }
            }
        }
        for k in 0..n {
            send(k, &mut pending);
        }
        drop(senders);
        let mut total = ApplyCounts::default();
        for h in handles {
            match h.join() {
                Ok(c) => total.add(c),
                Err(p) => std::panic::resume_unwind(p),
            }
        }
        total
    })
}

fn run_worker(head: &Head, persisted_before: i64, n: usize, rx: Receiver<Batch>) -> ApplyCounts {
    let mut w = Worker::new(head, persisted_before, n);
    for b in rx {
        w.apply(b);
    }
    w.counts
}

/// Series records and samples for one worker; the series are applied first.
#[derive(Default)]
struct Batch {
    series: Vec<RefSeries>,
    samples: Vec<RefSample>,
}

/// A series a worker has met: the series, and the newest timestamp it held when met (from
/// the snapshot; `i64::MIN` for a series the log created).
struct Known {
    series: Arc<MemSeries>,
    restored_until: i64,
}

struct Worker<'h> {
    head: &'h Head,
    persisted_before: i64,
    /// Workers: a ref's key in `known` is `ref / workers`.
    workers: u64,
    known: HashMap<u64, Known, BuildHasherDefault<LocalKeyHasher>>,
    counts: ApplyCounts,
}

/// Hashes a worker's key (`ref / workers`) to itself in the low bits, which pick the bucket,
/// so the consecutive refs of a scrape land in consecutive buckets and a lookup rarely misses
/// the cache; the low 7 bits are copied into the top 7, which the table compares first.
/// A general-purpose hash scatters them and made the lookup the costliest step of replay.
#[derive(Default)]
struct LocalKeyHasher(u64);

impl Hasher for LocalKeyHasher {
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 << 57)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, x: u64) {
        self.0 = x;
    }
}

impl<'h> Worker<'h> {
    fn new(head: &'h Head, persisted_before: i64, workers: usize) -> Self {
        Worker {
            head,
            persisted_before,
            workers: workers.max(1) as u64,
            known: HashMap::default(),
            counts: ApplyCounts::default(),
        }
    }

    fn apply(&mut self, b: Batch) {
        if !b.series.is_empty() {
            let restored = b
                .series
                .into_iter()
                .map(|s| RestoredSeries {
                    r: s.r,
                    labels: self.head.intern(&s.labels),
                    chunks: Vec::new(),
                    last: None,
                })
                .collect();
            self.head.restore_batch(restored);
        }
        let (mut n, mut min_t, mut max_t) = (0usize, i64::MAX, i64::MIN);
        for s in b.samples {
            if s.t < self.persisted_before {
                self.counts.skipped_persisted += 1;
                continue;
            }
            let k = match self.known.entry(s.r / self.workers) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => match self.head.get(s.r) {
                    Some(series) => e.insert(Known {
                        restored_until: series.last_time().unwrap_or(i64::MIN),
                        series,
                    }),
                    None => {
                        self.counts.unknown_refs += 1;
                        continue;
                    }
                },
            };
            if s.t <= k.restored_until {
                self.counts.in_snapshot += 1;
                continue;
            }
            if k.series.append(s.t, s.v, self.head.chunk_range()) == AppendOutcome::Appended {
                n += 1;
                min_t = min_t.min(s.t);
                max_t = max_t.max(s.t);
            } else {
                self.counts.out_of_order += 1;
            }
        }
        if n > 0 {
            self.head.note_appended_batch(n, min_t, max_t);
        }
    }
}
