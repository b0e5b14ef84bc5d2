//! Start-up from a snapshot and the WAL after it: snapshots taken while appends go on,
//! damaged snapshots, snapshots made unusable by a block cut, and the parallel replay
//! against the one-thread replay.

use super::*;
use crate::model::{Labels, MatchOp, Matcher};
use crate::storage::{Queryable, SeriesData};
use crate::tsdb::wal::{RefSample, RefSeries, WalOptions, WalWriter};
use std::sync::atomic::AtomicBool;

const MIN: i64 = 60_000;

use crate::storage::db_tests::opts;

/// Where two query results differ, for a readable failure message.
fn diff(a: &[SeriesData], b: &[SeriesData]) -> String {
    if a.len() != b.len() {
        return format!("{} series against {}", a.len(), b.len());
    }
    for (x, y) in a.iter().zip(b) {
        if x != y {
            let at = x.samples.iter().zip(&y.samples).position(|(p, q)| p != q);
            return format!(
                "{:?}: {} samples against {}, first difference at {at:?}: {:?} against {:?}",
                x.labels,
                x.samples.len(),
                y.samples.len(),
                at.map(|i| x.samples[i]),
                at.map(|i| y.samples[i])
            );
        }
    }
    String::new()
}

fn everything(q: &dyn Queryable) -> Vec<SeriesData> {
    q.querier(i64::MIN, i64::MAX)
        .select(&[Matcher::new(MatchOp::RegexMatch, "__name__", ".+").unwrap()])
}

fn ls(i: usize) -> Labels {
    Labels::from_pairs(&[("__name__", "m"), ("i", &i.to_string())])
}

/// Commits one scrape of `series` series at `t`, one new series every tenth scrape.
fn scrape(db: &Db, series: usize, k: i64) {
    let t = k * 15_000;
    let mut app = db.appender();
    for i in 0..series + (k / 10) as usize {
        app.append(&ls(i), t, (k * (i as i64 + 1)) as f64);
    }
    app.commit();
}

/// A snapshot taken while another thread keeps appending, more appends, then a crash: every
/// sample comes back exactly once, and the samples logged after the snapshot's position
/// that it already held are skipped without being counted as out of order.
#[test]
fn snapshot_during_appends_then_crash_restores_every_sample_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    let stop = AtomicBool::new(false);
    let scrapes = std::thread::scope(|sc| {
        let writer = sc.spawn(|| {
            let mut k = 0;
            // Bounded: stops when asked, or after 5000 scrapes.
            while !stop.load(Ordering::Relaxed) && k < 5000 {
                scrape(&db, 50, k);
                db.flush_wal();
                k += 1;
            }
            k
        });
        while db.stats().samples < 2000 {
            std::thread::yield_now();
        }
        db.write_snapshot().unwrap();
        let at = db.stats().samples;
        while db.stats().samples < at + 2000 {
            std::thread::yield_now();
        }
        stop.store(true, Ordering::Relaxed);
        writer.join().unwrap()
    });
    for k in scrapes..scrapes + 5 {
        scrape(&db, 50, k);
    }
    db.flush_wal();
    let want = everything(&db);
    let want_samples = db.stats().samples;
    drop(db); // a crash: no snapshot at shutdown

    let db = Db::open(dir.path(), opts()).unwrap();
    let (st, _) = db.replay_stats();
    assert!(st.snapshot_series >= 50, "{st:?}");
    assert_eq!((st.out_of_order, st.unknown_refs), (0, 0), "{st:?}");
    assert!(
        st.report.samples > 0,
        "the WAL after the snapshot is replayed"
    );
    assert_eq!(db.stats().samples, want_samples);
    let got = everything(&db);
    assert!(got == want, "{}", diff(&got, &want));
}

/// Snapshots that cannot be read whole are skipped for the one before, never failing the
/// start: a flipped bit, a partial write, a file cut to a few bytes, a zeroed footer.
#[test]
fn damaged_newest_snapshot_falls_back_to_the_previous_one() {
    type Damage = fn(&mut Vec<u8>);
    let cases: [(&str, Damage); 4] = [
        ("bit flip in a group", |b| {
            let mid = b.len() / 3;
            b[mid] ^= 1;
        }),
        ("partial write", |b| b.truncate(b.len() / 2)),
        ("a few bytes", |b| b.truncate(10)),
        ("zeroed footer", |b| {
            let n = b.len();
            b[n - 40..].fill(0);
        }),
    ];
    for (name, damage) in cases {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), opts()).unwrap();
        for k in 0..20 {
            scrape(&db, 30, k);
        }
        db.write_snapshot().unwrap();
        for k in 20..40 {
            scrape(&db, 30, k);
        }
        db.write_snapshot().unwrap();
        for k in 40..45 {
            scrape(&db, 30, k);
        }
        db.flush_wal();
        let want = everything(&db);
        drop(db);
        let snaps = snapshot::list(dir.path());
        assert_eq!(snaps.len(), 2, "{name}");
        let newest = &snaps[0].1;
        let mut bytes = std::fs::read(newest).unwrap();
        damage(&mut bytes);
        std::fs::write(newest, bytes).unwrap();

        let db = Db::open(dir.path(), opts()).unwrap();
        let (st, _) = db.replay_stats();
        assert_eq!(st.snapshot_series, 31, "{name}: the older snapshot is used");
        assert_eq!(st.out_of_order, 0, "{name}");
        let got = everything(&db);
        assert!(got == want, "{name}: {}", diff(&got, &want));
    }
}

/// Only the two newest snapshots are kept; a leftover partial one and the first format's
/// file are deleted at start-up.
#[test]
fn old_snapshots_are_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let leftovers = [
        "head.snapshot",
        "head.snapshot.00000000.0000000000000008.tmp",
    ];
    for f in leftovers {
        std::fs::write(dir.path().join(f), b"partial").unwrap();
    }
    let db = Db::open(dir.path(), opts()).unwrap();
    for f in leftovers {
        assert!(!dir.path().join(f).exists(), "{f}");
    }
    for k in 0..4 {
        scrape(&db, 5, k);
        db.write_snapshot().unwrap();
    }
    let snaps = snapshot::list(dir.path());
    assert_eq!(snaps.len(), 2);
    assert!(snaps[0].0 > snaps[1].0, "newest first");
}

/// A snapshot taken before a block was cut holds chunks the block now holds too: it is not
/// used, and the start-up replays the (checkpointed) WAL instead.
#[test]
fn snapshot_older_than_a_block_cut_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), opts()).unwrap();
    // Fixed series from t = 0, so chunks (120 samples, 30 min) end at the block boundary.
    for k in 0..(90 * MIN / 15_000) {
        let mut app = db.appender();
        for i in 0..10 {
            app.append(&ls(i), k * 15_000, k as f64);
        }
        app.commit();
    }
    db.write_snapshot().unwrap();
    assert!(db.persist(2 * 60 * MIN).unwrap() > 0);
    db.flush_wal();
    let want = everything(&db);
    drop(db);
    let db = Db::open(dir.path(), opts()).unwrap();
    assert_eq!(db.replay_stats().0.snapshot_series, 0);
    let got = everything(&db);
    assert!(got == want, "{}", diff(&got, &want));
}

/// The replay on several threads gives the same head and the same counts as on one, over a
/// log with unknown refs, out-of-order and duplicate samples, a series logged twice, and
/// samples older than the persist cut.
#[test]
fn parallel_replay_matches_one_thread() {
    let dir = tempfile::tempdir().unwrap();
    let wal_dir = dir.path().join("wal");
    let mut w = WalWriter::open(&wal_dir, WalOptions::default(), &Default::default()).unwrap();
    let series: Vec<RefSeries> = (1..=40)
        .map(|r| RefSeries {
            r,
            labels: ls(r as usize),
        })
        .collect();
    w.log_series(&series[..30]).unwrap();
    let mut rng = fastrand::Rng::with_seed(7);
    for k in 0..200i64 {
        if k == 100 {
            w.log_series(&series[25..]).unwrap(); // 25..30 again, 30..40 new
        }
        let mut batch = Vec::new();
        for r in 1..=40u64 {
            let t = match rng.u8(..50) {
                0 => k * 1000 - 5000, // out of order
                1 => k * 1000 - 1000, // the previous timestamp: duplicate or repeated
                _ => k * 1000,
            };
            batch.push(RefSample { r, t, v: rng.f64() });
        }
        batch.push(RefSample {
            r: 999,
            t: k * 1000,
            v: 1.0,
        });
        w.log_samples(&batch).unwrap();
    }
    w.sync().unwrap();
    drop(w);

    let replay = |workers| {
        let head = Head::new();
        let st = wal::replay_into(&head, &wal_dir, 20_000, workers).unwrap();
        let counts = (st.unknown_refs, st.out_of_order, st.skipped_persisted);
        (everything(&head), head.stats(), counts)
    };
    let one = replay(1);
    assert!(one.2 .0 > 0 && one.2 .1 > 0 && one.2 .2 > 0, "{:?}", one.2);
    for workers in [2, 3, 8] {
        let other = replay(workers);
        assert!(
            other.0 == one.0,
            "{workers} workers: {}",
            diff(&other.0, &one.0)
        );
        assert_eq!((other.1, other.2), (one.1, one.2), "{workers} workers");
    }
}
