//! Checkpoints: folding closed segments into the few records still needed, so the log does
//! not grow without bound.
//!
//! As in Prometheus (`tsdb/wlog/checkpoint.go`), a checkpoint is a filter over the log, not
//! a dump of the head: it rereads the previous checkpoint and the segments up to a closed
//! one, keeps the series the head still has and their samples from `mint` on, writes them
//! as a log of its own in `checkpoint.NNNNNNNN` (NNNNNNNN = the last segment folded in), and
//! then deletes those segments and the older checkpoint. It touches only closed segments, so
//! it can run on another thread while the writer appends to the current one.

use super::reader::Replay;
use super::record::Record;
use super::segment;
use super::writer::{open_file, WalOptions, WalWriter};
use super::WalError;
use crate::storage::SeriesRef;
use std::path::Path;

/// What a checkpoint kept and removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckpointStats {
    pub series_kept: u64,
    pub series_dropped: u64,
    pub samples_kept: u64,
    pub samples_dropped: u64,
    pub segments_removed: u32,
}

/// Folds the previous checkpoint and segments up to `upto` (a segment returned by
/// [`WalWriter::cut_segment`], so closed) into `checkpoint.<upto>`, keeping series for
/// which `keep` is true and their samples with `t >= mint`, then deletes the folded
/// segments and older checkpoints.
///
/// A corrupt record in the range aborts the checkpoint without deleting anything: the
/// data would be lost otherwise. A crash part-way leaves a `.tmp` directory that replay
/// ignores and the next checkpoint removes.
pub fn checkpoint(
    dir: &Path,
    upto: u32,
    keep: impl Fn(SeriesRef) -> bool,
    mint: i64,
    opts: &WalOptions,
) -> Result<CheckpointStats, WalError> {
    let listing = segment::list(dir)?;
    let (Some(&first), Some(&last)) = (listing.segments.first(), listing.segments.last()) else {
        return Err(WalError::BadCheckpointRange {
            dir: dir.to_path_buf(),
            upto,
            first: 0,
            last: 0,
        });
    };
    if upto < first || upto >= last {
        return Err(WalError::BadCheckpointRange {
            dir: dir.to_path_buf(),
            upto,
            first,
            last,
        });
    }
    for tmp in &listing.tmp {
        std::fs::remove_dir_all(tmp).map_err(WalError::io(tmp))?;
    }

    let tmp = segment::checkpoint_tmp_path(dir, upto);
    std::fs::create_dir_all(&tmp).map_err(WalError::io(&tmp))?;
    let mut out = WalWriter::create(&tmp, opts.clone(), 0, Box::new(open_file))?;
    let mut stats = CheckpointStats::default();
    let mut replay = Replay::open(dir, Some(upto))?;
    for rec in replay.by_ref() {
        match rec {
            Record::Series(mut s) => {
                let before = s.len() as u64;
                s.retain(|s| keep(s.r));
                stats.series_kept += s.len() as u64;
                stats.series_dropped += before - s.len() as u64;
                out.log_series(&s)?;
            }
            Record::Samples(mut s) => {
                let before = s.len() as u64;
                s.retain(|s| s.t >= mint && keep(s.r));
                stats.samples_kept += s.len() as u64;
                stats.samples_dropped += before - s.len() as u64;
                out.log_samples(&s)?;
            }
        }
    }
    if let Some(c) = replay.report().corruptions.first() {
        return Err(WalError::CorruptForCheckpoint {
            dir: dir.to_path_buf(),
            segment: c.segment,
            offset: c.offset,
            kind: c.kind.clone(),
        });
    }
    out.sync()?;
    drop(out);

    let done = segment::checkpoint_path(dir, upto);
    std::fs::rename(&tmp, &done).map_err(WalError::io(&done))?;
    segment::sync_dir(dir)?;

    for n in listing.segments.iter().copied().filter(|&n| n <= upto) {
        let p = segment::segment_path(dir, n);
        std::fs::remove_file(&p).map_err(WalError::io(p))?;
        stats.segments_removed += 1;
    }
    for c in listing.checkpoints.iter().copied().filter(|&c| c < upto) {
        let p = segment::checkpoint_path(dir, c);
        std::fs::remove_dir_all(&p).map_err(WalError::io(p))?;
    }
    Ok(stats)
}
