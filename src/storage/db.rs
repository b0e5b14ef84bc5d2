//! The database: the head, its write-ahead log, and the block files older data moved to.
//!
//! Life of a sample: appended to the head (and logged), compressed into a chunk; when its
//! chunk is entirely older than the cut time — aligned to the block duration, half a block
//! duration behind the wall clock, as Prometheus persists its head once it spans one and a
//! half block ranges — it is written to a block file and leaves memory, and the WAL is
//! checkpointed to drop what the block now holds. Retention deletes whole blocks, and queries
//! never see samples older than the retention time even inside a block not yet deleted.
//!
//! Background work (`persist`, `apply_retention`) runs under one maintenance lock on the
//! blocking pool; appends and queries never wait for it except for the moment a block is
//! added to or removed from the list.

use super::block::{self, Block, BlockError};
use super::head::{Head, HeadFootprint, HeadStats};
use super::replay;
use super::snapshot::{self, Covers, SnapshotError};
use super::snapshot_load::Snapshot;
use super::wal::{self, ReplayStats, WalLog, WalLogError};
use super::{Appendable, Appender};
use parking_lot::{Mutex, RwLock};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot read block directory {path}: {source}")]
    ListBlocks {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Wal(#[from] WalLogError),
    #[error(transparent)]
    Block(#[from] BlockError),
}

/// Storage settings, from the `--storage.tsdb.*` flags.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Samples older than this are deleted and no longer returned.
    pub retention: Duration,
    /// Blocks are deleted, oldest first, while blocks and WAL together exceed this many
    /// bytes; 0 for no limit.
    pub retention_bytes: u64,
    /// Time span a block covers; 2 h as Prometheus's `--storage.tsdb.min-block-duration`.
    pub block_duration: Duration,
    /// How often buffered WAL records are written to the file; zero writes at every commit.
    pub wal_flush_interval: Duration,
    /// How often a head snapshot is written in the background, which bounds how much WAL a
    /// restart after a crash replays; zero writes one only at clean shutdown.
    pub head_snapshot_interval: Duration,
}

/// The default head snapshot cadence. A snapshot of 1 M series with 30 min in the head
/// costs about 0.5 s of CPU and 380 MiB of writes; the WAL written since the last one is
/// what a crash makes start-up replay (0.06–0.16 µs of CPU per sample). Every 5 minutes, with
/// 15 s scrapes, bounds that to 20 samples a series, for under 0.2% of a core and ~1.3 MB/s
/// of writes with 1 M series (`loadtest/RESULTS.md`, "Restart to /-/ready").
pub const DEFAULT_SNAPSHOT_INTERVAL: Duration = Duration::from_secs(300);

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            retention: Duration::from_secs(15 * 24 * 3600),
            retention_bytes: 0,
            block_duration: Duration::from_secs(2 * 3600),
            wal_flush_interval: Duration::from_secs(1),
            head_snapshot_interval: DEFAULT_SNAPSHOT_INTERVAL,
        }
    }
}

/// Figures about the on-disk part, for `/metrics` and the TSDB status page.
#[derive(Debug, Default, Clone, Copy)]
pub struct DiskStats {
    pub blocks: usize,
    pub block_bytes: u64,
    pub block_samples: u64,
    pub block_chunk_bytes: u64,
    pub wal_bytes: u64,
}

pub struct Db {
    pub(super) head: Head,
    dir: PathBuf,
    wal: Arc<WalLog>,
    pub(super) blocks: RwLock<Vec<Arc<Block>>>,
    next_block: AtomicU64,
    /// The cut of the last persist: every older sample is in a block.
    persisted_before: AtomicI64,
    /// Queries are clamped to start here (now − retention at the last retention run).
    pub(super) retention_mint: AtomicI64,
    maintenance: Mutex<()>,
    opts: DbOptions,
    replay: ReplayStats,
    replay_time: Duration,
}

impl Db {
    /// Opens the data directory (already locked by the caller): loads the blocks' indexes,
    /// replays the WAL into a fresh head, and opens the WAL for appending. Damage in the WAL
    /// or in a block is logged and skipped; only I/O errors on the directories fail.
    pub fn open(dir: &Path, opts: DbOptions) -> Result<Db, DbError> {
        let started = Instant::now();
        let range = opts.block_duration.as_millis().max(1) as i64;
        let mut head = Head::with_chunk_range(range);
        let blocks_dir = dir.join("blocks");
        std::fs::create_dir_all(&blocks_dir).map_err(|source| DbError::ListBlocks {
            path: blocks_dir.clone(),
            source,
        })?;
        let blocks = open_blocks(&blocks_dir, &head)?;
        let persisted_before = blocks.iter().map(|b| b.cut).max().unwrap_or(i64::MIN);
        let next_block = blocks
            .iter()
            .filter_map(|b| block_number(&b.path))
            .max()
            .map_or(1, |n| n + 1);
        let wal_dir = dir.join("wal");
        let replay = load_head(dir, &wal_dir, &mut head, persisted_before)?;
        for c in &replay.report.corruptions {
            log::warn!(
                "write-ahead log in {} is damaged, replay stopped early: {c}",
                wal_dir.display()
            );
        }
        let wal = Arc::new(WalLog::open(
            &wal_dir,
            &replay.report,
            opts.wal_flush_interval.is_zero(),
        )?);
        head.attach_wal(wal.clone());
        let replay_time = started.elapsed();
        log::info!(
            "storage opened in {:.3}s: {} blocks, {} series from the head snapshot, {} series and {} samples replayed from the write-ahead log ({} already in the snapshot, {} unknown refs, {} already persisted, {} out of order)",
            replay_time.as_secs_f64(),
            blocks.len(),
            replay.snapshot_series,
            head.stats().series.saturating_sub(replay.snapshot_series),
            replay.report.samples,
            replay.in_snapshot,
            replay.unknown_refs,
            replay.skipped_persisted,
            replay.out_of_order,
        );
        Ok(Db {
            head,
            dir: dir.to_path_buf(),
            wal,
            blocks: RwLock::new(blocks),
            next_block: AtomicU64::new(next_block),
            persisted_before: AtomicI64::new(persisted_before),
            retention_mint: AtomicI64::new(i64::MIN),
            maintenance: Mutex::new(()),
            opts,
            replay,
            replay_time,
        })
    }

    pub fn options(&self) -> &DbOptions {
        &self.opts
    }

    /// The head, for statistics and tests.
    pub fn head(&self) -> &Head {
        &self.head
    }

    pub fn stats(&self) -> HeadStats {
        self.head.stats()
    }

    pub fn footprint(&self) -> HeadFootprint {
        self.head.footprint()
    }

    /// See [`Head::recent_footprint`].
    pub fn recent_footprint(&self, max_age: Duration) -> HeadFootprint {
        self.head.recent_footprint(max_age)
    }

    /// What the start-up replay found and how long opening took.
    pub fn replay_stats(&self) -> (&ReplayStats, Duration) {
        (&self.replay, self.replay_time)
    }

    pub fn wal_write_errors(&self) -> u64 {
        self.wal.write_errors.load(Ordering::Relaxed)
    }

    pub fn disk_stats(&self) -> DiskStats {
        let blocks = self.blocks.read();
        DiskStats {
            blocks: blocks.len(),
            block_bytes: blocks.iter().map(|b| b.size).sum(),
            block_samples: blocks.iter().map(|b| b.samples).sum(),
            block_chunk_bytes: blocks.iter().map(|b| b.chunk_bytes).sum(),
            wal_bytes: self.wal.disk_bytes(),
        }
    }

    /// Writes buffered WAL records to the file (the flush cadence).
    pub fn flush_wal(&self) {
        self.wal.flush();
    }

    /// Flushes and syncs the WAL, then writes a head snapshot so the next start need not
    /// replay the WAL; for a clean shutdown, after appends stopped.
    pub fn close(&self) {
        self.wal.sync();
        if let Err(e) = self.write_snapshot() {
            log::warn!("no head snapshot at shutdown, the next start replays more of the WAL: {e}");
        }
    }

    /// Writes a head snapshot covering the WAL up to where it is now, while appends go on
    /// (each series is copied under its lock for a moment), and deletes older snapshots but
    /// one. Runs under the maintenance lock, so no block is cut meanwhile. Returns the
    /// series written.
    pub fn write_snapshot(&self) -> Result<usize, SnapshotError> {
        let _g = self.maintenance.lock();
        let started = Instant::now();
        // Taken before the first series is copied: everything logged earlier is in the copy.
        let covers = Covers {
            position: self.wal.position(),
            persisted_before: self.persisted_before.load(Ordering::Acquire),
        };
        let (n, path) = snapshot::write(&self.dir, &self.head, covers)?;
        log::info!(
            "head snapshot of {n} series written to {} in {:.3}s",
            path.display(),
            started.elapsed().as_secs_f64()
        );
        Ok(n)
    }

    /// Moves every chunk older than the cut for `now` (ms) into a new block, then
    /// checkpoints the WAL. Returns the number of series written, 0 if nothing was due.
    pub fn persist(&self, now: i64) -> Result<usize, DbError> {
        let _g = self.maintenance.lock();
        let range = self.opts.block_duration.as_millis().max(1) as i64;
        let cut = (now - range / 2).div_euclid(range) * range;
        if cut <= self.persisted_before.load(Ordering::Acquire) {
            return Ok(0);
        }
        let taken = self.head.chunks_before(cut);
        if taken.is_empty() {
            // Nothing older than the cut: the WAL holds only newer samples, no checkpoint due.
            self.persisted_before.store(cut, Ordering::Release);
            return Ok(0);
        }
        {
            let n = self.next_block.fetch_add(1, Ordering::Relaxed);
            let path = self.dir.join("blocks").join(format!("{n:08}.block"));
            let series: Vec<_> = taken
                .iter()
                .map(|(_, l, c)| (l.clone(), c.clone()))
                .collect();
            block::write(&path, &series, cut)?;
            let b = Block::open(&path, &|l| self.head.intern(l))?;
            // Added before the chunks leave the head: a query reads the head first and the
            // block list second, so it sees the chunks in one place or both, never neither.
            self.blocks.write().push(Arc::new(b));
        }
        let done: Vec<_> = taken
            .iter()
            .map(|(r, _, c)| (*r, c.len(), c.iter().map(|c| c.len()).sum()))
            .collect();
        self.head.drop_persisted(&done, cut);
        self.persisted_before.store(cut, Ordering::Release);
        let head = &self.head;
        match self.wal.checkpoint(|r| head.series.contains(r), cut) {
            Ok(s) => log::info!(
                "persisted {} series before {cut}; wal checkpoint kept {} series and {} samples, removed {} segments",
                taken.len(),
                s.series_kept,
                s.samples_kept,
                s.segments_removed
            ),
            Err(e) => log::warn!("persisted {} series but {e}; will retry at the next cut", taken.len()),
        }
        Ok(taken.len())
    }

    /// Applies time and size retention for `now` (ms): deletes expired blocks, then the
    /// oldest blocks while over the size limit, and drops expired chunks from the head.
    /// Returns the blocks deleted.
    pub fn apply_retention(&self, now: i64) -> usize {
        let _g = self.maintenance.lock();
        let mint = now.saturating_sub(self.opts.retention.as_millis() as i64);
        self.retention_mint.fetch_max(mint, Ordering::Release);
        let mut doomed: Vec<Arc<Block>> = Vec::new();
        {
            let mut blocks = self.blocks.write();
            blocks.sort_by_key(|b| (b.mint, b.cut));
            let (old, keep): (Vec<_>, Vec<_>) = blocks.drain(..).partition(|b| b.maxt < mint);
            doomed.extend(old);
            *blocks = keep;
            if self.opts.retention_bytes > 0 {
                let mut total = self.wal.disk_bytes() + blocks.iter().map(|b| b.size).sum::<u64>();
                while total > self.opts.retention_bytes && !blocks.is_empty() {
                    let b = blocks.remove(0);
                    total -= b.size;
                    doomed.push(b);
                }
            }
        }
        for b in &doomed {
            // Queries that still hold the block keep reading the unlinked file.
            if let Err(e) = std::fs::remove_file(&b.path) {
                log::warn!("cannot delete expired block {}: {e}", b.path.display());
            }
        }
        let removed = self.head.truncate_before(mint);
        if !doomed.is_empty() || removed > 0 {
            log::info!(
                "retention deleted {} blocks and {removed} head series",
                doomed.len()
            );
        }
        doomed.len()
    }
}

impl Appendable for Db {
    fn appender(&self) -> Box<dyn Appender + '_> {
        self.head.appender()
    }
}

/// Fills the empty `head` at start-up: from the newest usable snapshot and the WAL after its
/// position, or, if no snapshot is usable, from the whole WAL. A snapshot that is damaged,
/// older than the newest block, or whose WAL segment was checkpointed away is skipped with a
/// message and the next older one tried.
fn load_head(
    dir: &Path,
    wal_dir: &Path,
    head: &mut Head,
    persisted_before: i64,
) -> Result<ReplayStats, DbError> {
    let workers = replay::default_workers();
    let wal_err = |source| WalLogError::Open {
        dir: wal_dir.to_path_buf(),
        source,
    };
    for (_, path) in snapshot::list(dir) {
        let snap = match Snapshot::open(&path) {
            Ok(s) => s,
            Err(e) => {
                log::warn!("{e}; trying an older snapshot or the write-ahead log");
                continue;
            }
        };
        let Covers {
            position,
            persisted_before: snap_cut,
        } = snap.covers;
        if snap_cut < persisted_before {
            log::info!(
                "head snapshot {} was taken before the newest block was cut; not used",
                path.display()
            );
            continue;
        }
        let Some(mut tail) =
            crate::tsdb::wal::replay_from(wal_dir, position.segment, position.offset)
                .map_err(wal_err)?
        else {
            log::info!(
                "head snapshot {} covers a write-ahead log segment no longer present; not used",
                path.display()
            );
            continue;
        };
        match snap.restore(head, workers) {
            Ok(n) => {
                let counts = replay::apply(head, tail.by_ref(), persisted_before, workers);
                let mut stats = ReplayStats::new(tail.finish(), counts);
                stats.snapshot_series = n;
                return Ok(stats);
            }
            Err(e) => {
                log::warn!("{e}; trying an older snapshot or the write-ahead log");
                *head = Head::with_chunk_range(head.chunk_range());
            }
        }
    }
    Ok(wal::replay_into(head, wal_dir, persisted_before, workers)?)
}

fn block_number(path: &Path) -> Option<u64> {
    path.file_stem()?.to_str()?.parse().ok()
}

/// Opens every `NNNNNNNN.block` in `dir`; removes leftover temporary files; skips (and
/// keeps, for inspection) blocks that do not open.
fn open_blocks(dir: &Path, head: &Head) -> Result<Vec<Arc<Block>>, DbError> {
    let entries = std::fs::read_dir(dir).map_err(|source| DbError::ListBlocks {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut blocks = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        match path.extension().and_then(|x| x.to_str()) {
            Some("tmp") => {
                let _ = std::fs::remove_file(&path);
            }
            Some("block") if block_number(&path).is_some() => {
                match Block::open(&path, &|l| head.intern(l)) {
                    Ok(b) => blocks.push(Arc::new(b)),
                    Err(e) => log::warn!("ignoring block that does not open: {e}"),
                }
            }
            _ => {}
        }
    }
    blocks.sort_by_key(|b| (b.mint, b.cut));
    Ok(blocks)
}

#[cfg(test)]
#[path = "db_snapshot_tests.rs"]
mod snapshot_tests;
