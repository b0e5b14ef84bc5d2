//! The write-ahead log: every series the head creates and every sample it accepts is
//! appended here before it is acknowledged, so that a restart after a crash (`kill -9`,
//! power loss) can rebuild the head by replaying the log.
//!
//! Input: [`Record`]s (new series with their labels, batches of samples by series ref) from
//! the head, through a [`WalWriter`]. Output: the same records, in order, from [`replay`].
//! Layout on disk: `docs/format/wal.md`.
//!
//! Roles, after Prometheus's `tsdb/wlog` (framing and segments) and `tsdb/record` (what a
//! record says), whose semantics we follow (Prometheus 3.x):
//! - [`WalWriter`] appends framed records to numbered segment files, buffering them until
//!   [`WalWriter::flush`] (or a full buffer) hands them to the operating system and
//!   [`WalWriter::sync`] makes them durable.
//! - [`replay`] reads the latest checkpoint and then every later segment. A torn or corrupt
//!   tail ends the replay at the last good record and is reported, never an error.
//! - [`checkpoint`] folds closed segments into a checkpoint of the series still alive and
//!   their recent samples, then deletes those segments, so the log stays bounded.

mod checkpoint;
mod frame;
mod reader;
mod record;
mod segment;
mod writer;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_corruption;

pub use checkpoint::{checkpoint, CheckpointStats};
pub use reader::{replay, replay_from, Corruption, CorruptionKind, Replay, ReplayReport};
pub use record::{Record, RefSample, RefSeries};
pub use segment::segment_range;
pub use writer::{SegmentFile, SegmentOpener, WalOptions, WalWriter};

use std::path::PathBuf;

/// Errors from writing, checkpointing or listing the log. Corruption found during replay is
/// not among them: replay reports it in its [`ReplayReport`] instead.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    #[error("wal i/o error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("wal record of {size} bytes is larger than the {max}-byte limit (one series with labels this long cannot be logged)")]
    RecordTooLarge { size: usize, max: usize },
    #[error("wal segment size {size} is below the minimum of {min} bytes; raise the segment size")]
    SegmentTooSmall { size: u64, min: u64 },
    #[error(
        "cannot checkpoint wal in {dir}: segment {segment} is corrupt at byte {offset} ({kind})"
    )]
    CorruptForCheckpoint {
        dir: PathBuf,
        segment: u32,
        offset: u64,
        kind: CorruptionKind,
    },
    #[error("cannot checkpoint wal in {dir} up to segment {upto}: it is not a closed segment (first {first}, writing {last})")]
    BadCheckpointRange {
        dir: PathBuf,
        upto: u32,
        first: u32,
        last: u32,
    },
}

impl WalError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> WalError {
        let path = path.into();
        move |source| WalError::Io { path, source }
    }
}
