//! The head's use of the write-ahead log (`crate::tsdb::wal`): what it logs when, replay into
//! a fresh head at start-up, and checkpoints after older data went to block files.
//!
//! Ordering: a new series is logged while the head still holds the lock that makes the
//! series visible, so no appender can log a sample of it first; samples are logged at commit,
//! after the head accepted them, one record per commit. Records are buffered in memory and
//! reach the file on [`WalLog::flush`], which the store actor calls on the flush cadence
//! (`--storage.tsdb.wal-flush-interval`, 1 s by default), or sooner when 256 KiB have piled up.
//! A `kill -9` therefore loses at most the samples committed since the last flush.

use super::head::Head;
use super::replay;
use super::snapshot::WalPosition;
use super::SeriesRef;
use crate::model::Labels;
use crate::tsdb::wal::{self, RefSample, RefSeries, ReplayReport, WalOptions, WalWriter};
use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, thiserror::Error)]
pub enum WalLogError {
    #[error("cannot open write-ahead log in {dir}: {source}")]
    Open {
        dir: PathBuf,
        #[source]
        source: wal::WalError,
    },
    #[error("cannot checkpoint write-ahead log in {dir}: {source}")]
    Checkpoint {
        dir: PathBuf,
        #[source]
        source: wal::WalError,
    },
}

/// The writer shared by every appender; one short lock per commit batch.
pub(crate) struct WalLog {
    dir: PathBuf,
    opts: WalOptions,
    writer: Mutex<WalWriter>,
    /// Flush at every commit instead of on the cadence (`--storage.tsdb.wal-flush-interval=0`).
    flush_each_commit: bool,
    /// Write errors since start, for `/metrics`; appends go on without the log.
    pub(crate) write_errors: AtomicU64,
}

/// What a start-up replay found.
#[derive(Debug, Default, Clone)]
pub struct ReplayStats {
    pub report: ReplayReport,
    /// Samples for refs without a series record (e.g. the series record was in a lost tail).
    pub unknown_refs: u64,
    /// Samples older than the newest block's end, already persisted, skipped.
    pub skipped_persisted: u64,
    pub out_of_order: u64,
    /// Series loaded from a head snapshot, before the WAL after its position was replayed
    /// (0 if no snapshot was used and the whole WAL was replayed).
    pub snapshot_series: usize,
    /// Samples in the WAL after the snapshot's position that the snapshot already held.
    pub in_snapshot: u64,
}

impl ReplayStats {
    pub(super) fn new(report: ReplayReport, c: replay::ApplyCounts) -> Self {
        ReplayStats {
            report,
            unknown_refs: c.unknown_refs,
            skipped_persisted: c.skipped_persisted,
            out_of_order: c.out_of_order,
            snapshot_series: 0,
            in_snapshot: c.in_snapshot,
        }
    }
}

impl WalLog {
    pub(crate) fn open(
        dir: &Path,
        after: &ReplayReport,
        flush_each_commit: bool,
    ) -> Result<WalLog, WalLogError> {
        let opts = WalOptions::default();
        let writer =
            WalWriter::open(dir, opts.clone(), after).map_err(|source| WalLogError::Open {
                dir: dir.to_path_buf(),
                source,
            })?;
        Ok(WalLog {
            dir: dir.to_path_buf(),
            opts,
            writer: Mutex::new(writer),
            flush_each_commit,
            write_errors: AtomicU64::new(0),
        })
    }

    pub(crate) fn log_series(&self, r: SeriesRef, labels: &Labels) {
        let rec = [RefSeries {
            r,
            labels: labels.clone(),
        }];
        let res = self.writer.lock().log_series(&rec);
        self.note(res);
    }

    pub(crate) fn log_samples(&self, samples: &[RefSample]) {
        if samples.is_empty() {
            return;
        }
        let mut w = self.writer.lock();
        let mut res = w.log_samples(samples);
        if res.is_ok() && self.flush_each_commit {
            res = w.flush();
        }
        drop(w);
        self.note(res);
    }

    /// Hands buffered records to the operating system: from here they survive a `kill -9`.
    pub(crate) fn flush(&self) {
        let res = self.writer.lock().flush();
        self.note(res);
    }

    /// Flushes and fsyncs, for a clean shutdown.
    pub(crate) fn sync(&self) {
        let res = self.writer.lock().sync();
        self.note(res);
    }

    /// Closes the current segment and folds every closed segment into a checkpoint that
    /// keeps the series `keep` accepts and their samples from `mint` on.
    pub(crate) fn checkpoint(
        &self,
        keep: impl Fn(SeriesRef) -> bool,
        mint: i64,
    ) -> Result<wal::CheckpointStats, WalLogError> {
        let err = |source| WalLogError::Checkpoint {
            dir: self.dir.clone(),
            source,
        };
        let closed = self.writer.lock().cut_segment().map_err(err)?;
        wal::checkpoint(&self.dir, closed, keep, mint, &self.opts).map_err(err)
    }

    /// Flushes, then returns where the records in the file end: later records land after
    /// it (`crate::tsdb::wal::WalWriter::position`).
    pub(crate) fn position(&self) -> WalPosition {
        let mut w = self.writer.lock();
        let res = w.flush();
        let (segment, offset) = w.position();
        drop(w);
        self.note(res);
        WalPosition { segment, offset }
    }

    /// Bytes of the log on disk (segments and checkpoint).
    pub(crate) fn disk_bytes(&self) -> u64 {
        dir_bytes(&self.dir)
    }

    fn note(&self, res: Result<(), wal::WalError>) {
        if let Err(e) = res {
            // Logged once per failure; the writer recovers on its next call.
            self.write_errors.fetch_add(1, Ordering::Relaxed);
            log::error!("write-ahead log write failed, samples may be lost on a crash: {e}");
        }
    }
}

/// Replays the log in `dir` into `head` (which has no log attached yet) with `workers`
/// threads. Samples older than `persisted_before` are already in block files and are
/// skipped. Damage in the log never fails the replay: the good records before it are
/// applied and the damage is reported.
pub(crate) fn replay_into(
    head: &Head,
    dir: &Path,
    persisted_before: i64,
    workers: usize,
) -> Result<ReplayStats, WalLogError> {
    let mut replay = wal::replay(dir).map_err(|source| WalLogError::Open {
        dir: dir.to_path_buf(),
        source,
    })?;
    let counts = replay::apply(head, replay.by_ref(), persisted_before, workers);
    Ok(ReplayStats::new(replay.finish(), counts))
}

/// Total size of the regular files under `dir`, recursively; unreadable entries count 0.
pub(crate) fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
