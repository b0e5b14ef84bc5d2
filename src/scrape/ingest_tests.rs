//! Ingest of scrape bodies into the head: labels, honor rules, caching and staleness.

use super::cache::ScrapeCache;
use super::ingest::{append_report, append_stale, ingest, IngestError, IngestSettings};
use crate::model::{is_stale_nan, Labels, Matcher};
use crate::storage::{Appendable, Head, Queryable};
use crate::textparse::Format;

fn settings(honor_labels: bool, honor_timestamps: bool) -> IngestSettings {
    IngestSettings {
        target_labels: Labels::from_pairs(&[("job", "app"), ("instance", "h:1")]),
        honor_labels,
        honor_timestamps,
        ..Default::default()
    }
}

/// One scrape as the target actor does it: ingest, staleness for vanished series, commit.
fn scrape(
    head: &Head,
    cache: &mut ScrapeCache,
    s: &IngestSettings,
    body: &str,
    ts: i64,
) -> Result<usize, IngestError> {
    cache.begin();
    let mut app = head.appender();
    match ingest(body, Format::PromText, s, cache, app.as_mut(), ts) {
        Ok(r) => {
            let gone = cache.finish_success();
            append_stale(app.as_mut(), &gone, ts);
            app.commit();
            Ok(r.series_added)
        }
        Err(e) => {
            app.rollback();
            let mut app = head.appender();
            let gone = cache.finish_failure();
            append_stale(app.as_mut(), &gone, ts);
            append_report(app.as_mut(), cache, &s.target_labels, ts, [0.0; 5]);
            app.commit();
            Err(e)
        }
    }
}

fn series(head: &Head, name: &str) -> Vec<(Labels, Vec<(i64, f64)>)> {
    head.querier(i64::MIN, i64::MAX)
        .select(&[Matcher::equal("__name__", name)])
        .into_iter()
        .map(|s| (s.labels, s.samples.iter().map(|x| (x.t, x.v)).collect()))
        .collect()
}

#[test]
fn target_labels_and_honor_labels_rule() {
    let body = "m{job=\"scraped\",path=\"/\"} 1\n";
    let cases: [(bool, &[(&str, &str)]); 2] = [
        (
            false,
            &[
                ("__name__", "m"),
                ("exported_job", "scraped"),
                ("instance", "h:1"),
                ("job", "app"),
                ("path", "/"),
            ],
        ),
        (
            true,
            &[
                ("__name__", "m"),
                ("instance", "h:1"),
                ("job", "scraped"),
                ("path", "/"),
            ],
        ),
    ];
    for (honor, want) in cases {
        for _ in 0..2 {
            let head = Head::new();
            scrape(
                &head,
                &mut ScrapeCache::new(),
                &settings(honor, true),
                body,
                1000,
            )
            .unwrap();
            assert_eq!(
                series(&head, "m")[0].0,
                Labels::from_pairs(want),
                "honor_labels={honor}"
            );
        }
    }
}

#[test]
fn honor_timestamps_decides_which_time_is_stored() {
    for (honor, want) in [(true, 5000), (false, 1000)] {
        let head = Head::new();
        scrape(
            &head,
            &mut ScrapeCache::new(),
            &settings(false, honor),
            "m 1 5000\n",
            1000,
        )
        .unwrap();
        assert_eq!(series(&head, "m")[0].1, vec![(want, 1.0)]);
    }
}

#[test]
fn vanished_series_get_a_staleness_marker() {
    let head = Head::new();
    let mut cache = ScrapeCache::new();
    let s = settings(false, true);
    assert_eq!(
        scrape(&head, &mut cache, &s, "a 1\nb 2\n", 1000).unwrap(),
        2
    );
    assert_eq!(
        scrape(&head, &mut cache, &s, "a 1\nb 3\n", 2000).unwrap(),
        0,
        "cache hit: no new series"
    );
    scrape(&head, &mut cache, &s, "a 1\n", 3000).unwrap();
    let b = &series(&head, "b")[0].1;
    assert_eq!(b.len(), 3);
    assert_eq!(&b[..2], &[(1000, 2.0), (2000, 3.0)]);
    assert!(is_stale_nan(b[2].1) && b[2].0 == 3000, "{b:?}");
    // A series that comes back is appended again after its marker.
    scrape(&head, &mut cache, &s, "a 1\nb 4\n", 4000).unwrap();
    assert_eq!(series(&head, "b")[0].1.last(), Some(&(4000, 4.0)));
}

#[test]
fn malformed_body_stores_nothing_and_marks_everything_stale() {
    let head = Head::new();
    let mut cache = ScrapeCache::new();
    let s = settings(false, true);
    scrape(&head, &mut cache, &s, "a 1\n", 1000).unwrap();
    let err = scrape(&head, &mut cache, &s, "a 2\nc{oops 3\n", 2000).unwrap_err();
    assert!(
        err.to_string().contains("line 2"),
        "error should name the line: {err}"
    );
    assert!(
        series(&head, "c").is_empty(),
        "nothing of a bad body is stored"
    );
    let a = &series(&head, "a")[0].1;
    assert_eq!(a.len(), 2);
    assert!(
        is_stale_nan(a[1].1),
        "a failed scrape ends the target's series: {a:?}"
    );
    assert_eq!(series(&head, "up")[0].1, vec![(2000, 0.0)]);
}

#[test]
fn sample_limit_fails_the_scrape() {
    let head = Head::new();
    let s = IngestSettings {
        sample_limit: 2,
        ..settings(false, true)
    };
    let err = scrape(&head, &mut ScrapeCache::new(), &s, "a 1\nb 1\nc 1\n", 1000).unwrap_err();
    assert!(matches!(err, IngestError::SampleLimit { limit: 2 }));
    assert!(series(&head, "a").is_empty());
}

#[test]
fn label_limit_fails_the_scrape() {
    let head = Head::new();
    let s = IngestSettings {
        label_limit: 3,
        ..settings(false, true)
    };
    let err = scrape(
        &head,
        &mut ScrapeCache::new(),
        &s,
        "a{x=\"1\",y=\"2\"} 1\n",
        1000,
    )
    .unwrap_err();
    assert!(err.to_string().contains("label_limit 3"), "{err}");
}

/// Staleness follows the series, not the lines: a series still exposed by another line (its
/// labels in another order) is not marked stale, series with explicit timestamps never are,
/// and after a failed scrape the next success starts afresh.
#[test]
fn staleness_follows_series_across_lines_and_failures() {
    let head = Head::new();
    let mut cache = ScrapeCache::new();
    let s = settings(false, true);
    let body = "m{x=\"1\",y=\"2\"} 1\nm{y=\"2\",x=\"1\"} 1\nt 5 500\n";
    scrape(&head, &mut cache, &s, body, 1000).unwrap();
    scrape(&head, &mut cache, &s, "m{y=\"2\",x=\"1\"} 2\n", 2000).unwrap();
    let m = &series(&head, "m")[0].1;
    assert_eq!(
        m,
        &vec![(1000, 1.0), (2000, 2.0)],
        "no marker: still exposed"
    );
    assert_eq!(
        series(&head, "t")[0].1,
        vec![(500, 5.0)],
        "explicit time: no marker"
    );

    scrape(&head, &mut cache, &s, "m{x=\"1\" 3\n", 3000).unwrap_err();
    assert!(
        is_stale_nan(series(&head, "m")[0].1[2].1),
        "failure ends it"
    );
    scrape(&head, &mut cache, &s, "n 1\n", 4000).unwrap();
    scrape(&head, &mut cache, &s, "", 5000).unwrap();
    assert_eq!(
        series(&head, "m")[0].1.len(),
        3,
        "no second marker after recovery"
    );
    let n = &series(&head, "n")[0].1;
    assert!(
        n.len() == 2 && is_stale_nan(n[1].1) && n[1].0 == 5000,
        "{n:?}"
    );
}
