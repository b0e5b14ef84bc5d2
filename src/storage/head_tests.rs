use super::*;
use crate::model::{stale_nan, MatchOp, Sample};
use crate::storage::Queryable;
use crate::tsdb::chunk::SAMPLES_PER_CHUNK;

fn ls(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs)
}

#[test]
fn append_commit_select() {
    let head = Head::new();
    let mut app = head.appender();
    let r = app.append(&ls(&[("__name__", "up"), ("job", "a")]), 1000, 1.0);
    app.append(&ls(&[("__name__", "up"), ("job", "b")]), 1000, 0.0);
    assert_eq!(
        head.querier(0, 2000)
            .select(&[Matcher::equal("__name__", "up")])
            .len(),
        0
    );
    let stats = app.commit();
    assert_eq!(stats.appended, 2);
    assert_eq!(stats.series_created, 2);

    let mut app = head.appender();
    assert!(app.append_handle(&r, 2000, 1.0));
    assert!(app.append_ref(r.series_ref(), 2500, 1.0));
    assert!(!app.append_ref(9999, 2000, 1.0));
    app.commit();

    let q = head.querier(0, 5000);
    let got = q.select(&[Matcher::new(MatchOp::RegexMatch, "job", "a").unwrap()]);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].samples,
        vec![
            Sample { t: 1000, v: 1.0 },
            Sample { t: 2000, v: 1.0 },
            Sample { t: 2500, v: 1.0 }
        ]
    );
    assert_eq!(q.label_values("job", &[]), vec!["a", "b"]);
    assert_eq!(q.label_names(&[]), vec!["__name__", "job"]);
    // Range bounds are inclusive; series without samples in range are omitted.
    assert_eq!(
        head.querier(1500, 1999)
            .select(&[Matcher::equal("job", "a")])
            .len(),
        0
    );
    assert_eq!(
        head.querier(2000, 2000)
            .select(&[Matcher::equal("job", "a")])
            .len(),
        1
    );
}

#[test]
fn out_of_order_and_duplicates_are_counted() {
    let head = Head::new();
    let l = ls(&[("__name__", "x")]);
    let mut app = head.appender();
    app.append(&l, 2000, 1.0);
    app.append(&l, 1000, 1.0); // out of order
    app.append(&l, 2000, 2.0); // duplicate timestamp, other value
    app.append(&l, 2000, 1.0); // same sample again: ignored silently
    app.append(&l, 3000, stale_nan());
    let stats = app.commit();
    assert_eq!(
        (stats.appended, stats.out_of_order, stats.duplicates),
        (2, 1, 1)
    );
    assert_eq!(head.stats().samples, 2);
    assert_eq!((head.stats().min_time, head.stats().max_time), (2000, 3000));
}

#[test]
fn not_equal_matcher_includes_series_without_the_label() {
    let head = Head::new();
    let mut app = head.appender();
    app.append(&ls(&[("__name__", "x"), ("env", "prod")]), 1, 1.0);
    app.append(&ls(&[("__name__", "x")]), 1, 1.0);
    app.commit();
    let q = head.querier(0, 10);
    let m = Matcher::new(MatchOp::NotEqual, "env", "prod").unwrap();
    let got = q.select(&[Matcher::equal("__name__", "x"), m]);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].labels.get("env"), None);
}

#[test]
fn truncate_drops_old_chunks_and_empty_series() {
    let head = Head::new();
    let mut app = head.appender();
    app.append(&ls(&[("__name__", "old")]), 1, 1.0);
    app.append(&ls(&[("__name__", "new")]), 1, 1.0);
    app.append(&ls(&[("__name__", "new")]), 100, 1.0);
    app.commit();
    assert_eq!(head.truncate_before(50), 1);
    assert_eq!(head.stats().series, 1);
    assert!(head
        .querier(0, 1000)
        .select(&[Matcher::equal("__name__", "old")])
        .is_empty());
    // A recreated series gets a fresh ref and is found again.
    let (_, created) = head.get_or_create(&ls(&[("__name__", "old")]));
    assert!(created);
}

/// A handle kept across the removal of its series is refused, and a sample added through it
/// just before the removal lands in the live series of the same labels: nothing is lost.
#[test]
fn handles_of_dropped_series_resolve_again() {
    let head = Head::new();
    let l = ls(&[("__name__", "idle")]);
    let mut app = head.appender();
    let h = app.append(&l, 1, 1.0);
    app.commit();

    // A sample is added through the handle, then the series is dropped before the commit.
    let mut app = head.appender();
    assert!(app.append_handle(&h, 100, 2.0));
    assert_eq!(head.truncate_before(50), 1);
    let stats = app.commit();
    assert_eq!((stats.appended, stats.series_created), (1, 1));

    let mut app = head.appender();
    assert!(!app.append_handle(&h, 200, 3.0), "dropped series refused");
    let h2 = app.append(&l, 200, 3.0);
    assert_ne!(h2.series_ref(), h.series_ref());
    app.commit();
    let got = head
        .querier(0, 1000)
        .select(&[Matcher::equal("__name__", "idle")]);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].samples,
        vec![Sample { t: 100, v: 2.0 }, Sample { t: 200, v: 3.0 }]
    );
}

/// Many chunks: queries see sealed and open chunks alike, at every boundary, and reads
/// taken while appends go on see a prefix of the series.
#[test]
fn select_spans_sealed_and_open_chunks() {
    let head = Head::new();
    let l = ls(&[("__name__", "c"), ("job", "j")]);
    let n = SAMPLES_PER_CHUNK * 3 + 17;
    let want: Vec<Sample> = (0..n)
        .map(|i| Sample {
            t: 15_000 * i as i64,
            v: (i * 3) as f64,
        })
        .collect();
    for s in &want {
        let mut app = head.appender();
        app.append(&l, s.t, s.v);
        app.commit();
    }
    let f = head.footprint();
    assert_eq!((f.chunks, f.samples), (4, n));
    // A steady counter: about one byte per sample against 16 uncompressed.
    assert!(f.chunk_bytes < n * 2, "compressed: {f:?}");
    let m = [Matcher::equal("job", "j")];
    let check = |lo: usize, hi: usize| {
        let got = head
            .querier(want[lo].t, want[hi].t)
            .select(&m)
            .pop()
            .unwrap()
            .samples;
        assert_eq!(got, want[lo..=hi].to_vec(), "range {lo}..={hi}");
    };
    let c = SAMPLES_PER_CHUNK;
    for (lo, hi) in [
        (0, n - 1),
        (c - 1, c),
        (c, 2 * c - 1),
        (3 * c, n - 1),
        (5, 5),
    ] {
        check(lo, hi);
    }
    assert!(head.querier(-10, -1).series(&m).is_empty());
    assert_eq!(head.querier(0, 1).series(&m).len(), 1);
}

#[test]
fn select_latest_is_the_newest_sample_of_select() {
    let head = Head::new();
    let (a, b) = (
        ls(&[("__name__", "c"), ("job", "a")]),
        ls(&[("__name__", "c"), ("job", "b")]),
    );
    let n = SAMPLES_PER_CHUNK * 2 + 5;
    for i in 0..n as i64 {
        let mut app = head.appender();
        app.append(&a, 10_000 * i, i as f64);
        // `b` stops early and ends in a staleness marker.
        if i < 50 {
            let v = if i == 49 { stale_nan() } else { -(i as f64) };
            app.append(&b, 10_000 * i + 1, v);
        }
        app.commit();
    }
    let last = (10_000 * (n - 1)) as i64;
    let m = [Matcher::equal("__name__", "c")];
    let check = |head: &Head, mint: i64, maxt: i64| {
        let q = head.querier(mint, maxt);
        let want = crate::storage::latest_only(q.select(&m));
        let got = q.select_latest(&m);
        let bits = |v: &[crate::storage::SeriesData]| -> Vec<(Labels, Vec<(i64, u64)>)> {
            v.iter()
                .map(|s| {
                    (
                        s.labels.clone(),
                        s.samples.iter().map(|p| (p.t, p.v.to_bits())).collect(),
                    )
                })
                .collect()
        };
        assert_eq!(bits(&got), bits(&want), "[{mint}, {maxt}]");
        got.len()
    };
    // At now and past it (the open chunk's newest), inside sealed chunks, on a boundary,
    // before the first sample, and after the newest sample's lookback.
    for (mint, maxt) in [
        (last - 300_000, last),
        (last - 300_000, last + 60_000),
        (0, 1_234_567),
        (
            10_000 * SAMPLES_PER_CHUNK as i64,
            10_000 * SAMPLES_PER_CHUNK as i64,
        ),
        (485_000, 495_001),
        (-50, -1),
        (last + 1, last + 300_000),
    ] {
        check(&head, mint, maxt);
    }
    assert_eq!(check(&head, last - 300_000, last), 1);
    assert_eq!(check(&head, 0, 495_001), 2);
    // With the open chunks cut (as before a block is written) the newest samples are read
    // from sealed chunks.
    head.chunks_before(last + 1);
    check(&head, last - 300_000, last + 60_000);
    check(&head, 0, 495_001);
}

#[test]
fn reads_run_concurrently_with_appends() {
    let head = std::sync::Arc::new(Head::new());
    let l = ls(&[("__name__", "g")]);
    let writer = {
        let (head, l) = (head.clone(), l.clone());
        std::thread::spawn(move || {
            for i in 0..2000i64 {
                let mut app = head.appender();
                app.append(&l, i, i as f64);
                app.commit();
            }
        })
    };
    for _ in 0..200 {
        let got = head
            .querier(0, i64::MAX)
            .select(&[Matcher::equal("__name__", "g")]);
        if let Some(s) = got.first() {
            let ok = s.samples.iter().enumerate().all(|(i, x)| x.t == i as i64);
            assert!(ok, "a read must see a prefix of the appends");
        }
    }
    writer.join().unwrap();
    let got = head
        .querier(0, i64::MAX)
        .select(&[Matcher::equal("__name__", "g")]);
    assert_eq!(got[0].samples.len(), 2000);
}

/// Chunks are cut where the timestamps enter another multiple of the chunk range, even when
/// not full, so no chunk spans a block boundary.
#[test]
fn chunks_never_span_a_range_boundary() {
    let head = Head::with_chunk_range(1000);
    let l = ls(&[("__name__", "x")]);
    for t in (0..5000).step_by(300) {
        let mut app = head.appender();
        app.append(&l, t, 1.0);
        app.commit();
    }
    let series = head.get(1).unwrap();
    for ch in series.chunks_in(i64::MIN, i64::MAX) {
        let (min, max) = ch.time_range().unwrap();
        assert_eq!(
            min / 1000,
            max / 1000,
            "chunk {min}..{max} spans a boundary"
        );
    }
    assert_eq!(
        head.footprint().chunks,
        5,
        "one chunk per second of samples"
    );
}

/// The series struct is the largest per-series item of the head: keep it from growing back.
#[test]
fn series_struct_stays_small() {
    let size = std::mem::size_of::<MemSeries>();
    assert!(size <= 104, "MemSeries is {size} bytes");
}
