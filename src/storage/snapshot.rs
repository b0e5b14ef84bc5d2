//! Head snapshots: every series with its compressed chunks, written in the background on a
//! cadence and at clean shutdown, so a restart loads chunks instead of re-appending every
//! sample of the WAL (after Prometheus's `memory-snapshot-on-shutdown`, taken periodically
//! as well so a crash also restarts quickly).
//!
//! The WAL stays the source of truth. A snapshot records the WAL position it covers — a
//! record boundary taken before the first series was copied — and the persist cut at that
//! time. Every sample logged before the position is in the snapshot; samples logged after
//! it may or may not be (the snapshot copies each series under its lock while appends go
//! on), so start-up loads the newest usable snapshot and replays the WAL from its position,
//! skipping the samples a series already holds (`replay.rs`). A snapshot is unusable once a
//! block was cut after it (its chunks would be in the block too) or once its WAL segment was
//! folded into a checkpoint.
//!
//! Files: `head.snapshot.SSSSSSSS.OOOOOOOOOOOOOOOO` in the data directory (WAL segment and
//! offset, so names sort by position), written through a `.tmp` file and renamed; the two
//! newest are kept, so a damaged newest one falls back to the one before. Layout in
//! `docs/format/snapshot.md`; loading in `snapshot_load.rs`.

use super::head::Head;
use crate::tsdb::varint::{put_bytes, put_uvarint};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub(super) const MAGIC: [u8; 8] = *b"PYRSNP\x00\x02";
pub(super) const TAIL: [u8; 4] = *b"PYRS";
const PREFIX: &str = "head.snapshot.";
/// The file of the first format, written only at shutdown; removed when found.
const LEGACY: &str = "head.snapshot";
/// Snapshot files kept: the newest, and the one before in case the newest is damaged.
const KEEP: usize = 2;
/// A group is closed once it passes this many bytes: groups are what loading spreads over
/// threads, and a few hundred of them for a million series balance the load well.
const GROUP_BYTES: usize = 1 << 20;
/// Bytes of a group's entry in the table: offset u64, length u32, series u32, crc32 u32.
pub(super) const GROUP_ENTRY: usize = 20;
/// Bytes of the fixed footer: wal segment u32, wal offset u64, persisted-before i64, group
/// count u32, series count u64, crc32 u32, tail magic.
pub(super) const FOOTER: usize = 4 + 8 + 8 + 4 + 8 + 4 + 4;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("head snapshot i/o error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("head snapshot {path} is unusable: {why}")]
    Corrupt { path: PathBuf, why: String },
}

/// A WAL position: segment number and byte offset in it (a record boundary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct WalPosition {
    pub(crate) segment: u32,
    pub(crate) offset: u64,
}

/// What a snapshot covers, from its footer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Covers {
    pub(crate) position: WalPosition,
    /// The persist cut when it was taken: every older sample was in a block.
    pub(crate) persisted_before: i64,
}

/// Writes every series of `head` with its chunks to a new snapshot file in `dir`, then
/// deletes all but the newest [`KEEP`] snapshots. Each series is copied under its own lock
/// for a moment (chunk handles, not bytes), so appends and queries go on meanwhile. Returns
/// the series written and the file.
pub(crate) fn write(
    dir: &Path,
    head: &Head,
    covers: Covers,
) -> Result<(usize, PathBuf), SnapshotError> {
    let path = file_name(dir, covers.position);
    let mut tmp = path.clone().into_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| SnapshotError::Io { path: p, source }
    };
    let mut w = BufWriter::with_capacity(1 << 20, File::create(&tmp).map_err(io(&tmp))?);
    w.write_all(&MAGIC).map_err(io(&tmp))?;
    let mut table = Vec::new();
    let mut buf = Vec::with_capacity(GROUP_BYTES + (64 << 10));
    let (mut offset, mut in_group) = (MAGIC.len() as u64, 0u32);
    let all = head.all_series();
    for (i, (r, s)) in all.iter().enumerate() {
        let (chunks, last) = s.snapshot();
        put_uvarint(&mut buf, *r);
        let labels = head.labels_of(s);
        put_uvarint(&mut buf, labels.len() as u64);
        for l in &labels {
            put_bytes(&mut buf, l.name.as_bytes());
            put_bytes(&mut buf, l.value.as_bytes());
        }
        match last {
            Some((t, v)) => {
                buf.push(1);
                put_uvarint(&mut buf, zigzag(t));
                buf.extend_from_slice(&v.to_le_bytes());
            }
            None => buf.push(0),
        }
        put_uvarint(&mut buf, chunks.len() as u64);
        for c in &chunks {
            let (min, max) = c.time_range().unwrap_or((0, 0));
            put_uvarint(&mut buf, zigzag(min));
            put_uvarint(&mut buf, max.wrapping_sub(min) as u64);
            put_bytes(&mut buf, c.bytes());
        }
        in_group += 1;
        if buf.len() >= GROUP_BYTES || i + 1 == all.len() {
            table.extend_from_slice(&offset.to_le_bytes());
            table.extend_from_slice(&(buf.len() as u32).to_le_bytes());
            table.extend_from_slice(&in_group.to_le_bytes());
            table.extend_from_slice(&crc32fast::hash(&buf).to_le_bytes());
            w.write_all(&buf).map_err(io(&tmp))?;
            offset += buf.len() as u64;
            buf.clear();
            in_group = 0;
        }
    }
    let groups = (table.len() / GROUP_ENTRY) as u32;
    table.extend_from_slice(&covers.position.segment.to_le_bytes());
    table.extend_from_slice(&covers.position.offset.to_le_bytes());
    table.extend_from_slice(&covers.persisted_before.to_le_bytes());
    table.extend_from_slice(&groups.to_le_bytes());
    table.extend_from_slice(&(all.len() as u64).to_le_bytes());
    let crc = crc32fast::hash(&table);
    table.extend_from_slice(&crc.to_le_bytes());
    table.extend_from_slice(&TAIL);
    w.write_all(&table).map_err(io(&tmp))?;
    let f = w.into_inner().map_err(|e| io(&tmp)(e.into_error()))?;
    f.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    prune(dir);
    Ok((all.len(), path))
}

pub(super) fn zigzag(t: i64) -> u64 {
    ((t << 1) ^ (t >> 63)) as u64
}

pub(super) fn unzigzag(u: u64) -> i64 {
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

fn file_name(dir: &Path, p: WalPosition) -> PathBuf {
    dir.join(format!("{PREFIX}{:08}.{:016}", p.segment, p.offset))
}

/// The snapshot files in `dir` with the position in their names, newest first. Leftover
/// temporary files and the first format's file are deleted.
pub(crate) fn list(dir: &Path) -> Vec<(WalPosition, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if name == LEGACY || (name.starts_with(PREFIX) && name.ends_with(".tmp")) {
            let _ = std::fs::remove_file(e.path());
            continue;
        }
        let Some((seg, off)) = name.strip_prefix(PREFIX).and_then(|r| r.split_once('.')) else {
            continue;
        };
        if let (Ok(segment), Ok(offset)) = (seg.parse(), off.parse()) {
            out.push((WalPosition { segment, offset }, e.path()));
        }
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.0));
    out
}

/// Deletes all but the newest [`KEEP`] snapshots.
fn prune(dir: &Path) {
    for (_, path) in list(dir).into_iter().skip(KEEP) {
        if let Err(e) = std::fs::remove_file(&path) {
            log::warn!("cannot delete old head snapshot {}: {e}", path.display());
        }
    }
}
