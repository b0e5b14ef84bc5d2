//! The scrape-to-head hot path: one scrape's batch of 1,000 series appended through the
//! scrape cache, and postings lookups over a head of 100,000 series.
//!
//! Run: `cargo bench --bench append` (add `-- --quick` for a short run). Throughput is in
//! samples (`append`) or selected series (`postings`) per second.
//!
//! Cases:
//! - `append/cached`: the steady state, every series already in the target's scrape cache
//!   (parse, cache hit, `append_ref`, commit);
//! - `append/first_scrape`: a new target on an empty head, every series created (label
//!   building, hashing, interning, postings);
//! - `postings/*`: `Querier::series` with typical dashboard matchers on 100,000 series
//!   (10 metric names × 100 instances × 100 handlers).
//!
//! The fixture is an instrumented web service: request counters by method, code and handler,
//! gauges, a latency histogram per handler, with HELP and TYPE, 1,000 samples in all.

use std::fmt::Write;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use pyrometer::model::{Labels, MatchOp, Matcher};
use pyrometer::scrape::{ingest, IngestSettings, ScrapeCache};
use pyrometer::storage::{Appendable, Head, Queryable};
use pyrometer::textparse::Format;

const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];
const CODES: [&str; 5] = ["200", "201", "400", "404", "500"];
const BUCKETS: [&str; 10] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf",
];

/// 1,000 samples: 800 counters, 80 gauges, 10 histograms of 12 series.
fn body() -> String {
    let mut b = String::new();
    b.push_str(
        "# HELP http_requests_total Requests handled.\n# TYPE http_requests_total counter\n",
    );
    for i in 0..800 {
        let _ = writeln!(
            b,
            "http_requests_total{{method=\"{}\",code=\"{}\",handler=\"/api/v1/h{}\"}} {}",
            METHODS[i % 4],
            CODES[(i / 4) % 5],
            i / 20,
            i * 37
        );
    }
    b.push_str("# HELP app_queue_depth Items waiting.\n# TYPE app_queue_depth gauge\n");
    for i in 0..80 {
        let _ = writeln!(b, "app_queue_depth{{queue=\"q{i}\"}} {}", i % 13);
    }
    b.push_str("# HELP http_request_duration_seconds Latency.\n# TYPE http_request_duration_seconds histogram\n");
    for h in 0..10 {
        for (j, le) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                b,
                "http_request_duration_seconds_bucket{{handler=\"/h{h}\",le=\"{le}\"}} {}",
                j * 10
            );
        }
        let _ = writeln!(
            b,
            "http_request_duration_seconds_sum{{handler=\"/h{h}\"}} 4.5"
        );
        let _ = writeln!(
            b,
            "http_request_duration_seconds_count{{handler=\"/h{h}\"}} 90"
        );
    }
    b
}

fn settings() -> IngestSettings {
    IngestSettings {
        target_labels: Labels::from_pairs(&[("instance", "10.0.0.1:9100"), ("job", "app")]),
        honor_timestamps: true,
        ..Default::default()
    }
}

fn scrape(head: &Head, cache: &mut ScrapeCache, body: &str, s: &IngestSettings, ts: i64) {
    let mut app = head.appender();
    let r = ingest(body, Format::PromText, s, cache, app.as_mut(), ts);
    assert_eq!(r.map(|r| r.scraped).ok(), Some(1000));
    app.commit();
}

fn bench_append(c: &mut Criterion) {
    let (body, s) = (body(), settings());
    let mut g = c.benchmark_group("append");
    g.throughput(Throughput::Elements(1000));
    let head = Head::new();
    let mut cache = ScrapeCache::new();
    let mut ts = 1_700_000_000_000;
    scrape(&head, &mut cache, &body, &s, ts);
    g.bench_function("cached", |b| {
        b.iter(|| {
            ts += 15_000;
            scrape(&head, &mut cache, black_box(&body), &s, ts);
        })
    });
    g.bench_function("first_scrape", |b| {
        b.iter_batched(
            || (Head::new(), ScrapeCache::new()),
            |(head, mut cache)| {
                scrape(&head, &mut cache, black_box(&body), &s, ts);
                (head, cache)
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn bench_postings(c: &mut Criterion) {
    let head = Head::new();
    let mut app = head.appender();
    for m in 0..10 {
        for i in 0..100 {
            for h in 0..100 {
                let l = Labels::from_pairs(&[
                    ("__name__", format!("metric_{m}_total")),
                    ("instance", format!("10.0.{i}.1:9100")),
                    ("handler", format!("/api/v1/h{h}")),
                    ("job", "app".to_string()),
                ]);
                app.append(&l, 1_000, 1.0);
            }
        }
    }
    app.commit();
    let q = head.querier(0, 2_000);
    let eq = |n: &str, v: &str| Matcher::equal(n, v);
    let cases: Vec<(&str, Vec<Matcher>, u64)> = vec![
        (
            "name_and_instance",
            vec![
                eq("__name__", "metric_3_total"),
                eq("instance", "10.0.7.1:9100"),
            ],
            100,
        ),
        (
            "instance_only",
            vec![eq("instance", "10.0.42.1:9100")],
            1000,
        ),
        (
            "name_and_regex",
            vec![
                eq("__name__", "metric_5_total"),
                Matcher::new(MatchOp::RegexMatch, "handler", "/api/v1/h1.*").unwrap(),
            ],
            1100,
        ),
        (
            "whole_metric",
            vec![eq("__name__", "metric_1_total"), eq("job", "app")],
            10_000,
        ),
    ];
    let mut g = c.benchmark_group("postings");
    for (name, matchers, want) in cases {
        assert_eq!(q.series(&matchers).len() as u64, want, "{name}");
        g.throughput(Throughput::Elements(want));
        g.bench_function(name, |b| b.iter(|| q.series(black_box(&matchers))));
    }
    g.finish();
}

criterion_group!(benches, bench_append, bench_postings);
criterion_main!(benches);
