//! Write, replay, rollover, reopen, checkpoint and faulty-writer tests.

use super::*;
use crate::model::{Labels, STALE_NAN_BITS};
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

pub(super) fn series(r: u64) -> RefSeries {
    RefSeries {
        r,
        labels: Labels::from_pairs(&[
            ("__name__", "http_requests_total"),
            ("instance", "127.0.0.1:9100"),
            ("job", "node"),
            ("code", if r.is_multiple_of(2) { "200" } else { "500" }),
            ("series", &r.to_string()),
        ]),
    }
}

/// A scrape of `n` series at time `t`.
pub(super) fn scrape(n: u64, t: i64) -> Vec<RefSample> {
    (0..n)
        .map(|r| RefSample {
            r,
            t,
            v: (r as f64) * 1.5 + t as f64,
        })
        .collect()
}

pub(super) fn small_opts() -> WalOptions {
    WalOptions {
        segment_size: 8192,
        buffer_size: 1024,
    }
}

pub(super) fn replay_all(dir: &Path) -> (Vec<Record>, ReplayReport) {
    let mut r = replay(dir).unwrap();
    let recs: Vec<Record> = r.by_ref().collect();
    (recs, r.finish())
}

fn fresh(dir: &Path, opts: WalOptions) -> WalWriter {
    WalWriter::open(dir, opts, &replay(dir).unwrap().finish()).unwrap()
}

#[test]
fn records_round_trip_with_special_values() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = fresh(dir.path(), WalOptions::default());
    let ser = vec![
        series(0),
        series(7),
        RefSeries {
            r: u64::MAX,
            labels: Labels::empty(),
        },
    ];
    let vals = [
        STALE_NAN_BITS,
        f64::INFINITY.to_bits(),
        (-0.0f64).to_bits(),
        0xfff8_dead_beef_0001,
    ];
    let samples: Vec<RefSample> = vals
        .iter()
        .enumerate()
        .map(|(i, &b)| RefSample {
            r: [3, 0, u64::MAX, 1][i],
            t: [i64::MIN, -1, i64::MAX, 0][i],
            v: f64::from_bits(b),
        })
        .collect();
    w.log_series(&ser).unwrap();
    w.log_samples(&samples).unwrap();
    w.log_samples(&[]).unwrap(); // logs nothing
    w.flush().unwrap();
    let (recs, report) = replay_all(dir.path());
    assert_eq!(report.corruptions, vec![]);
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0], Record::Series(ser));
    let Record::Samples(got) = &recs[1] else {
        panic!("want samples, got {:?}", recs[1])
    };
    for (g, w) in got.iter().zip(&samples) {
        assert_eq!((g.r, g.t, g.v.to_bits()), (w.r, w.t, w.v.to_bits()));
    }
}

#[test]
fn many_records_across_segment_rollover() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = fresh(dir.path(), small_opts());
    w.log_series(&(0..50).map(series).collect::<Vec<_>>())
        .unwrap();
    for i in 0..500 {
        w.log_samples(&scrape(50, 1_000 + i * 15_000)).unwrap();
    }
    w.flush().unwrap();
    let (first, last) = segment_range(dir.path()).unwrap().unwrap();
    assert!(last - first > 10, "only {} segments", last - first + 1);
    let (recs, report) = replay_all(dir.path());
    assert_eq!(report.corruptions, vec![]);
    assert_eq!((report.series, report.samples), (50, 25_000));
    let mut want_t = 1_000;
    for rec in &recs[1..] {
        let Record::Samples(s) = rec else {
            panic!("series record among samples")
        };
        assert_eq!(s, &scrape(50, want_t));
        want_t += 15_000;
    }
    for n in first..=last {
        let len = std::fs::metadata(dir.path().join(format!("{n:08}")))
            .unwrap()
            .len();
        assert!(
            len <= small_opts().segment_size,
            "segment {n} has {len} bytes"
        );
    }
}

#[test]
fn big_batches_split_into_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = fresh(dir.path(), WalOptions::default());
    w.log_series(&(0..30_000).map(series).collect::<Vec<_>>())
        .unwrap();
    w.log_samples(&scrape(25_000, 5)).unwrap();
    w.sync().unwrap();
    let (recs, report) = replay_all(dir.path());
    assert_eq!((report.series, report.samples), (30_000, 25_000));
    assert!(recs.len() > 4, "{} records", recs.len());
}

#[test]
fn reopen_appends_after_existing_segments() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..3 {
        let report = replay(dir.path()).unwrap().finish();
        assert_eq!(report.records, round * 2);
        let mut w = WalWriter::open(dir.path(), small_opts(), &report).unwrap();
        w.log_series(&[series(round)]).unwrap();
        w.log_samples(&scrape(1, round as i64)).unwrap();
        w.flush().unwrap();
    }
    let (recs, _) = replay_all(dir.path());
    assert_eq!(recs[4], Record::Series(vec![series(2)]));
}

#[test]
fn checkpoint_keeps_live_series_and_recent_samples() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = fresh(dir.path(), small_opts());
    w.log_series(&(0..10).map(series).collect::<Vec<_>>())
        .unwrap();
    for i in 0..200 {
        w.log_samples(&scrape(10, i * 1000)).unwrap();
    }
    let upto = w.cut_segment().unwrap();
    // Written after the cut: must survive untouched.
    w.log_series(&[series(10)]).unwrap();
    w.log_samples(&scrape(11, 500_000)).unwrap();
    w.flush().unwrap();

    let keep = |r: u64| r.is_multiple_of(2);
    let stats = checkpoint(dir.path(), upto, keep, 150_000, &small_opts()).unwrap();
    assert_eq!((stats.series_kept, stats.series_dropped), (5, 5));
    assert_eq!(
        (stats.samples_kept, stats.samples_dropped),
        (50 * 5, 2000 - 250)
    );
    assert!(stats.segments_removed > 1);
    assert_eq!(
        segment_range(dir.path()).unwrap(),
        Some((upto + 1, upto + 1))
    );

    let (recs, report) = replay_all(dir.path());
    assert_eq!(report.checkpoint, Some(upto));
    assert_eq!(report.corruptions, vec![]);
    assert_eq!((report.series, report.samples), (5 + 1, 250 + 11));
    assert_eq!(
        recs[0],
        Record::Series((0..10).step_by(2).map(series).collect())
    );
    let Record::Samples(first) = &recs[1] else {
        panic!("want samples")
    };
    assert_eq!(
        first.iter().map(|s| (s.r, s.t)).collect::<Vec<_>>(),
        (0..10).step_by(2).map(|r| (r, 150_000)).collect::<Vec<_>>()
    );

    // A second checkpoint folds the first one in and replaces it.
    let upto2 = w.cut_segment().unwrap();
    let stats = checkpoint(dir.path(), upto2, |_| true, 0, &small_opts()).unwrap();
    assert_eq!((stats.series_kept, stats.samples_kept), (6, 261));
    assert!(!dir.path().join(format!("checkpoint.{upto:08}")).exists());
    let report = replay(dir.path()).unwrap().finish();
    assert_eq!(
        (report.checkpoint, report.series, report.samples),
        (Some(upto2), 6, 261)
    );

    // The writer goes on; a reopen after replay appends past everything.
    w.log_samples(&scrape(1, 600_000)).unwrap();
    w.flush().unwrap();
    drop(w);
    let report = replay(dir.path()).unwrap().finish();
    assert_eq!(report.samples, 262);
    let w = WalWriter::open(dir.path(), small_opts(), &report).unwrap();
    assert_eq!(w.segment(), upto2 + 2);
}

#[test]
fn checkpoint_refuses_the_open_segment() {
    let dir = tempfile::tempdir().unwrap();
    let w = fresh(dir.path(), small_opts());
    let err = checkpoint(dir.path(), w.segment(), |_| true, 0, &small_opts()).unwrap_err();
    assert!(matches!(err, WalError::BadCheckpointRange { .. }), "{err}");
}

/// A segment file that accepts `budget` bytes in total, then writes part of the next
/// buffer and fails, like a disk that fills up or a process killed mid-write.
struct FaultyFile {
    inner: std::fs::File,
    budget: Arc<Mutex<usize>>,
}

impl Write for FaultyFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut budget = self.budget.lock().unwrap();
        if *budget == 0 {
            return Err(io::Error::other("injected write failure"));
        }
        let n = buf.len().min(*budget);
        *budget -= n;
        self.inner.write(&buf[..n])
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl SegmentFile for FaultyFile {
    fn sync(&mut self) -> io::Result<()> {
        self.inner.sync_data()
    }
}

fn faulty_writer(dir: &Path, budget: &Arc<Mutex<usize>>) -> WalWriter {
    let b = budget.clone();
    let open: writer::SegmentOpener = Box::new(move |p: &Path| {
        let inner = std::fs::File::create(p)?;
        Ok(Box::new(FaultyFile {
            inner,
            budget: b.clone(),
        }) as Box<dyn SegmentFile>)
    });
    WalWriter::open_with(dir, small_opts(), &ReplayReport::default(), open).unwrap()
}

#[test]
fn partial_write_then_crash_keeps_records_before_it() {
    // Every budget cuts the stream at a different byte, inside headers and payloads.
    for budget in (8..1500).step_by(37) {
        let dir = tempfile::tempdir().unwrap();
        let b = Arc::new(Mutex::new(budget));
        let mut w = faulty_writer(dir.path(), &b);
        let mut flushed = 0;
        for i in 0..20 {
            w.log_samples(&scrape(3, i)).unwrap();
            if w.flush().is_err() {
                break;
            }
            flushed += 1;
        }
        drop(w); // the crash: no repair happens
        let (recs, report) = replay_all(dir.path());
        assert_eq!(recs.len(), flushed, "budget {budget}");
        if flushed < 20 {
            let c = &report.corruptions[..];
            assert!(
                matches!(
                    c,
                    [Corruption {
                        kind: CorruptionKind::Torn | CorruptionKind::ZeroedTail,
                        ..
                    }]
                ) || c.is_empty(),
                "budget {budget}: {c:?}"
            );
        }
    }
}

#[test]
fn writer_recovers_from_a_failed_write() {
    let dir = tempfile::tempdir().unwrap();
    let b = Arc::new(Mutex::new(200));
    let mut w = faulty_writer(dir.path(), &b);
    let mut ok = 0;
    for i in 0..10 {
        w.log_samples(&scrape(3, i)).unwrap();
        match w.flush() {
            Ok(()) => ok += 1,
            Err(e) => {
                assert!(e.to_string().contains("injected write failure"), "{e}");
                break;
            }
        }
    }
    assert!(ok < 10);
    *b.lock().unwrap() = usize::MAX;
    for i in 100..105 {
        w.log_samples(&scrape(3, i)).unwrap();
    }
    w.flush().unwrap();
    let (recs, report) = replay_all(dir.path());
    assert_eq!(report.corruptions, vec![], "the partial record was cut off");
    assert_eq!(recs.len(), ok + 5);
    assert_eq!(recs.last(), Some(&Record::Samples(scrape(3, 104))));
}

#[test]
fn writer_can_move_to_another_thread() {
    fn send<T: Send>() {}
    send::<WalWriter>();
    send::<Replay>();
}

/// Replay from a position the writer reported gives exactly the records logged after it,
/// across a segment rollover; a position in a segment no longer present cannot be resumed;
/// an offset past the end of its segment yields only the later segments.
#[test]
fn replay_from_a_position_gives_the_records_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = fresh(dir.path(), small_opts());
    w.log_series(&[series(0), series(1)]).unwrap();
    w.log_samples(&scrape(2, 1000)).unwrap();
    w.flush().unwrap();
    let (seg, off) = w.position();
    let mut after = Vec::new();
    for t in 2..40 {
        let s = scrape(50, t * 1000);
        w.log_samples(&s).unwrap();
        after.push(Record::Samples(s));
    }
    w.sync().unwrap();
    assert!(
        w.segment() > seg,
        "the records after the position span segments"
    );
    drop(w);

    let mut r = replay_from(dir.path(), seg, off).unwrap().unwrap();
    let got: Vec<Record> = r.by_ref().collect();
    let report = r.finish();
    assert_eq!(got, after);
    assert!(report.corruptions.is_empty(), "{report:?}");
    assert_eq!(report.checkpoint, None);

    assert!(replay_from(dir.path(), seg + 1000, 8).unwrap().is_none());
    let mut r = replay_from(dir.path(), seg, u64::MAX).unwrap().unwrap();
    let later: Vec<Record> = r.by_ref().collect();
    assert!(later.len() < after.len() && after.ends_with(&later));
}
