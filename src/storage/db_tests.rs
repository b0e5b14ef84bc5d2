//! The database across restarts, persistence and retention, on real files in a temp dir.

use super::*;
use crate::model::{Matcher, Sample};
use std::path::Path;
use std::time::Duration;

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

/// Options for tests: 1 h blocks, no periodic snapshot.
pub(super) fn opts() -> DbOptions {
    DbOptions {
        retention: Duration::from_secs(24 * 3600),
        retention_bytes: 0,
        block_duration: Duration::from_secs(3600),
        wal_flush_interval: Duration::from_secs(1),
        head_snapshot_interval: Duration::ZERO,
    }
}

fn ls(name: &str, i: usize) -> crate::model::Labels {
    crate::model::Labels::from_pairs(&[("__name__", name), ("i", &i.to_string())])
}

/// Writes `series` counters and gauges every 15 s over [from, to), one commit per scrape.
fn fill(db: &Db, series: usize, from: i64, to: i64) {
    let mut t = from;
    while t < to {
        let mut app = db.appender();
        for i in 0..series {
            app.append(&ls("c", i), t, (t / 15_000 * (i as i64 + 1)) as f64);
            app.append(&ls("g", i), t, 20.0 + ((t / 15_000) % 17) as f64 * 0.25);
        }
        app.commit();
        t += 15_000;
    }
}

fn all(db: &Db, mint: i64, maxt: i64) -> Vec<SeriesData> {
    db.querier(mint, maxt).select(&[Matcher::new(
        crate::model::MatchOp::RegexMatch,
        "__name__",
        ".+",
    )
    .unwrap()])
}

fn wal_segments(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir.join("wal"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

#[test]
fn clean_restart_replays_everything() {
    let dir = tempfile::tempdir().unwrap();
    let want = {
        let db = Db::open(dir.path(), opts()).unwrap();
        fill(&db, 20, 0, 40 * MIN);
        db.close();
        all(&db, 0, i64::MAX)
    };
    assert_eq!(want.len(), 40);
    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(all(&db, 0, i64::MAX), want);
    assert_eq!(
        db.replay_stats().0.snapshot_series,
        40,
        "loaded from the snapshot"
    );
    // Appends continue after the replayed samples, and new series get fresh refs.
    let mut app = db.appender();
    app.append(&ls("c", 0), 40 * MIN, 1e9);
    app.append(&ls("new", 0), 40 * MIN, 1.0);
    let st = app.commit();
    assert_eq!((st.appended, st.series_created), (2, 1));
    // A crash now: the snapshot stays usable, the WAL after it has the rest.
    db.flush_wal();
    drop(db);
    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(db.replay_stats().0.snapshot_series, 40);
    assert_eq!(db.replay_stats().0.out_of_order, 0);
    assert_eq!(all(&db, 0, i64::MAX).len(), 41);
    assert_eq!(all(&db, 0, i64::MAX)[0].samples.len(), 161);
}

/// After a crash, the snapshot is loaded and the WAL written after it replayed; a damaged
/// newest snapshot falls back to the one before, and with none usable the WAL is replayed
/// whole.
#[test]
fn snapshot_then_wal_tail_and_damaged_snapshots_fall_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    fill(&db, 3, 0, 10 * MIN);
    db.close();
    fill(&db, 3, 10 * MIN, 20 * MIN); // written after the snapshot
    db.flush_wal();
    let want = all(&db, 0, i64::MAX);
    drop(db);
    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(db.replay_stats().0.snapshot_series, 6);
    assert_eq!(db.replay_stats().0.out_of_order, 0);
    assert_eq!(all(&db, 0, i64::MAX), want);

    db.close();
    drop(db);
    let snaps = super::snapshot::list(dir.path());
    assert_eq!(snaps.len(), 2);
    for (_, snap) in &snaps {
        let mut bytes = std::fs::read(snap).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x55;
        std::fs::write(snap, bytes).unwrap();
        let db = Db::open(dir.path(), opts()).unwrap();
        assert_eq!(all(&db, 0, i64::MAX), want);
    }
    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(db.replay_stats().0.snapshot_series, 0);
    assert_eq!(all(&db, 0, i64::MAX), want);
}

/// A write cut short by a crash: the torn record is dropped with a warning, everything
/// before it is replayed, and the log keeps working after the restart.
#[test]
fn torn_wal_tail_is_tolerated() {
    let dir = tempfile::tempdir().unwrap();
    let want = {
        let db = Db::open(dir.path(), opts()).unwrap();
        fill(&db, 5, 0, 10 * MIN);
        db.flush_wal();
        let before = all(&db, 0, i64::MAX);
        fill(&db, 5, 10 * MIN, 11 * MIN);
        db.flush_wal();
        before
    };
    let last = wal_segments(dir.path()).pop().unwrap();
    let len = std::fs::metadata(&last).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&last).unwrap();
    f.set_len(len - 7).unwrap();
    drop(f);

    let db = Db::open(dir.path(), opts()).unwrap();
    let (replay, _) = db.replay_stats();
    assert_eq!(replay.report.corruptions.len(), 1, "{:?}", replay.report);
    let got = all(&db, 0, i64::MAX);
    // Every sample before the torn commit survives; the torn commit's are gone or complete.
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.labels, w.labels);
        assert_eq!(&g.samples[..w.samples.len()], &w.samples[..]);
    }
    fill(&db, 5, 11 * MIN, 12 * MIN);
    db.close();
    drop(db);
    let db = Db::open(dir.path(), opts()).unwrap();
    assert!(db.replay_stats().0.report.corruptions.is_empty());
    assert_eq!(all(&db, 11 * MIN, 12 * MIN).len(), 10);
}

#[test]
fn garbage_wal_tail_is_tolerated() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Db::open(dir.path(), opts()).unwrap();
        fill(&db, 3, 0, 5 * MIN);
        db.close();
    }
    let last = wal_segments(dir.path()).pop().unwrap();
    let mut bytes = std::fs::read(&last).unwrap();
    bytes.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef, 1, 0, 0, 0, 2, 9, 9]);
    std::fs::write(&last, bytes).unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(db.replay_stats().0.report.corruptions.len(), 1);
    assert_eq!(all(&db, 0, i64::MAX).len(), 6);
    assert_eq!(all(&db, 0, i64::MAX)[0].samples.len(), 20);
}

/// Queries spanning blocks and head answer exactly as before the chunks left memory, and
/// again after a restart that loads the blocks and replays the checkpointed WAL.
#[test]
fn persisted_blocks_answer_like_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    fill(&db, 10, 0, 5 * HOUR);
    let ranges = [
        (0, i64::MAX),
        (HOUR - 1, HOUR + 1),
        (90 * MIN, 4 * HOUR),
        (3 * HOUR, 3 * HOUR),
    ];
    let before: Vec<_> = ranges.iter().map(|&(a, b)| all(&db, a, b)).collect();
    let head_before = db.footprint();

    // Cut at 4h: [0, 4h) goes to a block.
    assert_eq!(db.persist(4 * HOUR + 40 * MIN).unwrap(), 20);
    assert_eq!(
        db.persist(4 * HOUR + 50 * MIN).unwrap(),
        0,
        "nothing new is due"
    );
    let disk = db.disk_stats();
    assert_eq!(disk.blocks, 1);
    assert!(db.footprint().samples < head_before.samples / 3);
    assert_eq!(
        disk.block_samples as usize + db.footprint().samples,
        head_before.samples
    );
    for (r, want) in ranges.iter().zip(&before) {
        assert_eq!(&all(&db, r.0, r.1), want, "range {r:?}");
    }
    let bps = disk.block_bytes as f64 / disk.block_samples as f64;
    assert!(bps < 4.0, "{bps} bytes per sample on disk");

    db.close();
    drop(db);
    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(
        db.replay_stats().0.skipped_persisted,
        0,
        "the checkpoint dropped them"
    );
    for (r, want) in ranges.iter().zip(&before) {
        assert_eq!(&all(&db, r.0, r.1), want, "after restart, range {r:?}");
    }
    let q = db.querier(0, HOUR);
    assert_eq!(q.label_values("i", &[]).len(), 10);
    assert_eq!(
        q.label_names(&[Matcher::equal("__name__", "g")]),
        vec!["__name__", "i"]
    );
}

/// Time retention: blocks entirely older are deleted, and no query returns an expired
/// sample, even one in a block or chunk that straddles the boundary.
#[test]
fn retention_removes_exactly_the_expired_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts();
    o.retention = Duration::from_secs(2 * 3600);
    let db = Db::open(dir.path(), o).unwrap();
    fill(&db, 4, 0, 6 * HOUR);
    let before = all(&db, 0, i64::MAX);
    for now in [2 * HOUR, 3 * HOUR, 4 * HOUR, 5 * HOUR, 6 * HOUR] {
        db.persist(now + 30 * MIN).unwrap();
    }
    assert_eq!(db.disk_stats().blocks, 5);
    let now = 5 * HOUR + 30 * MIN;
    let mint = now - 2 * HOUR;
    assert_eq!(db.apply_retention(now), 2, "blocks ending before 3h30 go");
    let got = all(&db, 0, i64::MAX);
    let want: Vec<SeriesData> = before
        .iter()
        .map(|s| SeriesData {
            labels: s.labels.clone(),
            samples: s
                .samples
                .iter()
                .filter(|x| x.t >= mint)
                .copied()
                .collect::<Vec<Sample>>(),
        })
        .collect();
    assert_eq!(got, want);
    let remaining: Vec<_> = std::fs::read_dir(dir.path().join("blocks"))
        .unwrap()
        .collect();
    assert_eq!(remaining.len(), 3);
}

#[test]
fn size_retention_deletes_oldest_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    fill(&db, 50, 0, 4 * HOUR);
    for now in [2 * HOUR, 3 * HOUR, 4 * HOUR] {
        db.persist(now + 30 * MIN).unwrap();
    }
    let disk = db.disk_stats();
    assert_eq!(disk.blocks, 3);
    drop(db);
    let mut o = opts();
    o.retention_bytes = disk.wal_bytes + disk.block_bytes - 1;
    let db = Db::open(dir.path(), o).unwrap();
    assert_eq!(db.apply_retention(4 * HOUR), 1);
    assert_eq!(db.disk_stats().blocks, 2);
    assert!(
        all(&db, 0, HOUR - 1).is_empty(),
        "the oldest hour went with its block"
    );
    assert_eq!(all(&db, HOUR, 2 * HOUR).len(), 100);
}

/// A block cut takes whole chunks: chunks never span a block boundary, so after a cut and a
/// crash with no snapshot (the WAL has dropped the samples before the cut), every sample is
/// still found, in the block or in the replayed head.
#[test]
fn crash_after_a_block_cut_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // 15 s samples from 50 min: the chunk open at the 1 h boundary would straddle it.
    let (from, to) = (50 * MIN, 100 * MIN);
    let before;
    {
        let db = Db::open(dir.path(), opts()).unwrap();
        fill(&db, 3, from, to);
        before = all(&db, 0, 3 * HOUR);
        assert!(
            db.persist(to + 30 * MIN).unwrap() > 0,
            "a block is cut at 1 h"
        );
        assert_eq!(all(&db, 0, 3 * HOUR), before, "same answers after the cut");
        db.flush_wal();
        // Dropped without `close`: no snapshot, as after a kill.
    }
    let db = Db::open(dir.path(), opts()).unwrap();
    let after = all(&db, 0, 3 * HOUR);
    let count = |d: &[SeriesData]| d.iter().map(|s| s.samples.len()).sum::<usize>();
    assert_eq!(count(&after), count(&before), "samples lost across the cut");
    assert_eq!(after, before);
}
