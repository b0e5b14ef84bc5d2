//! Storage: where scraped samples go and where queries read them.
//!
//! Input: batches of samples from the scrape loops, through an [`Appender`].
//! Output: series selected by label matchers over a time range, through a [`Querier`].
//!
//! The two traits below are the seams: the scrape layer and the PromQL engine depend on them,
//! not on the head, so the engine runs equally on the live head and on the in-memory store
//! of the PromQL test scripts.
//!
//! Roles (Prometheus 3.x `tsdb/` semantics, our own layout):
//! - [`Db`] (`db.rs`, `db_read.rs`): the head, its write-ahead log and the block files; what
//!   the server hands to the scrape loops and the web layer.
//! - [`Head`] (`head.rs`, `head_read.rs`, `series.rs`, `series_table.rs`, `symbols.rs`,
//!   `postings/`): series in pages indexed by ref, their labels as varint ids of one symbol
//!   table, samples in compressed chunks, an inverted index of packed posting lists for
//!   matchers. Per series, at two million of them: ~400 bytes resident
//!   (`loadtest/RESULTS.md`).
//! - `wal.rs`: what the head logs and when, and the replay at start-up (formats in
//!   `crate::tsdb::wal`, `docs/format/wal.md`).
//! - `snapshot.rs`, `snapshot_load.rs`: the head saved periodically and at shutdown, so a
//!   restart loads it and replays only the WAL written after it.
//! - `replay.rs`: applying WAL records at start-up on every core.
//! - `block.rs`: immutable files for chunks that left memory (`docs/format/blocks.md`).
//! - [`StoreActor`]: the WAL flush cadence, persistence and retention in the background.

mod actor;
mod block;
mod datadir;
mod db;
mod db_read;
mod hash_refs;
mod head;
mod head_read;
mod postings;
mod replay;
mod series;
mod series_table;
mod snapshot;
mod snapshot_load;
mod symbols;
mod wal;

#[cfg(test)]
mod db_tests;

pub use actor::StoreActor;
pub use block::BlockError;
pub use datadir::{DataDir, DataDirError};
pub use db::{Db, DbError, DbOptions, DiskStats};
pub use head::{Head, HeadFootprint, HeadStats, SeriesHandle};
pub use snapshot::SnapshotError;
pub use wal::{ReplayStats, WalLogError};

use crate::model::{Labels, Matcher, Sample};
use std::sync::Arc;

/// Reference to a series in the head; stable for the life of the series.
pub type SeriesRef = u64;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AppendError {
    #[error("out of order sample")]
    OutOfOrder,
    #[error("duplicate sample for timestamp")]
    DuplicateTimestamp,
    #[error("unknown series ref {0}")]
    UnknownRef(SeriesRef),
    #[error("series has no metric name: {0}")]
    NoMetricName(String),
}

/// Per-commit result counts, so the scrape loop can report what was rejected.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CommitStats {
    pub appended: usize,
    pub out_of_order: usize,
    pub duplicates: usize,
    pub series_created: usize,
}

/// Collects the samples of one scrape. It ends in exactly one [`Appender::commit`] or
/// [`Appender::rollback`], both of which consume it, so an appender cannot be reused.
/// Nothing is visible to queries before `commit`.
pub trait Appender {
    /// Adds a sample for a label set; returns the series' handle, which later appends of the
    /// same series may pass to [`Appender::append_handle`] to skip every lookup.
    fn append(&mut self, labels: &Labels, t: i64, v: f64) -> SeriesHandle;
    /// Adds a sample for a series known by ref; returns false if the ref is unknown
    /// (the series was garbage collected), in which case the caller falls back to `append`.
    fn append_ref(&mut self, r: SeriesRef, t: i64, v: f64) -> bool;
    /// Adds a sample for a series known by handle; returns false if the head has dropped the
    /// series since, in which case the caller falls back to `append`.
    fn append_handle(&mut self, h: &SeriesHandle, t: i64, v: f64) -> bool;
    /// Makes the batch visible; returns how many samples went in and how many were rejected.
    fn commit(self: Box<Self>) -> CommitStats;
    /// Drops the batch; series created for it may remain, without samples.
    fn rollback(self: Box<Self>);
}

/// Something samples can be appended to.
pub trait Appendable: Send + Sync {
    fn appender(&self) -> Box<dyn Appender + '_>;
}

/// A series selected by a query: its labels and its samples in the querier's time range,
/// in timestamp order.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesData {
    pub labels: Labels,
    pub samples: Vec<Sample>,
}

/// Reads series within [mint, maxt] (milliseconds, inclusive), fixed when it was made.
pub trait Querier: Send + Sync {
    /// Series matching every matcher, with their samples inside the range, sorted by labels.
    /// Series with no sample in the range are omitted.
    fn select(&self, matchers: &[Matcher]) -> Vec<SeriesData>;
    /// As [`Querier::select`], with only the newest sample of each series in the range: what
    /// an instant selector reads. Stores that can find it without decoding the whole range
    /// (the head keeps its newest sample decoded) override this.
    fn select_latest(&self, matchers: &[Matcher]) -> Vec<SeriesData> {
        latest_only(self.select(matchers))
    }
    /// Label sets of the series matching every matcher that have samples in the range.
    fn series(&self, matchers: &[Matcher]) -> Vec<Labels> {
        self.select(matchers)
            .into_iter()
            .map(|s| s.labels)
            .collect()
    }
    /// Sorted label names over the series matching the matchers (all series if none).
    fn label_names(&self, matchers: &[Matcher]) -> Vec<String>;
    /// Sorted values of one label over the series matching the matchers (all if none).
    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Vec<String>;
}

/// Keeps the newest sample of each series.
pub(crate) fn latest_only(mut series: Vec<SeriesData>) -> Vec<SeriesData> {
    for s in &mut series {
        let keep = s.samples.len().saturating_sub(1);
        s.samples.drain(..keep);
    }
    series
}

/// Something that can be queried; the PromQL engine gets one per query.
pub trait Queryable: Send + Sync {
    fn querier(&self, mint: i64, maxt: i64) -> Box<dyn Querier + '_>;
}

impl<T: Queryable + ?Sized> Queryable for Arc<T> {
    fn querier(&self, mint: i64, maxt: i64) -> Box<dyn Querier + '_> {
        (**self).querier(mint, maxt)
    }
}
