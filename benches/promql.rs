//! PromQL engine benchmarks on the in-memory store the test scripts use.
//!
//! Run with `cargo bench --bench promql`. Fixtures follow common production shapes:
//! - a regex selector over 100k series (one sample each), picking 1 in 10;
//! - `sum by (job) (rate(x[5m]))` over 10k counters with 1h of 15s samples, as a range
//!   query over that hour at a 1m step (a typical dashboard panel);
//! - `histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))` over 100 instances of a
//!   12-bucket classic histogram, same range.

use criterion::{criterion_group, criterion_main, Criterion};
use pyrometer::model::{Labels, Sample};
use pyrometer::promql::testscript::MemStore;
use pyrometer::promql::{Engine, EngineOpts};
use std::hint::black_box;

const SCRAPE_MS: i64 = 15_000;
const HOUR_MS: i64 = 3_600_000;

fn counter(samples: i64, rate: f64) -> Vec<Sample> {
    (0..samples)
        .map(|k| Sample {
            t: k * SCRAPE_MS,
            v: k as f64 * rate * 15.0,
        })
        .collect()
}

fn selector_store() -> MemStore {
    let mut s = MemStore::new();
    for i in 0..100_000 {
        let labels = Labels::from_pairs(&[
            ("__name__", "http_requests_total"),
            ("job", &format!("job{}", i % 10)),
            ("instance", &format!("host{i}:9100")),
        ]);
        s.set(labels, vec![Sample { t: 0, v: i as f64 }]);
    }
    s
}

fn counter_store() -> MemStore {
    let mut s = MemStore::new();
    let n = HOUR_MS / SCRAPE_MS + 1;
    for i in 0..10_000 {
        let labels = Labels::from_pairs(&[
            ("__name__", "x"),
            ("job", &format!("job{}", i % 20)),
            ("instance", &format!("host{i}:9100")),
        ]);
        s.set(labels, counter(n, 1.0 + (i % 7) as f64));
    }
    s
}

fn histogram_store() -> MemStore {
    let mut s = MemStore::new();
    let n = HOUR_MS / SCRAPE_MS + 1;
    let bounds = [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
    ];
    for i in 0..100 {
        for (b, le) in bounds.iter().enumerate() {
            let labels = Labels::from_pairs(&[
                ("__name__", "h_bucket"),
                ("instance", &format!("host{i}:9100")),
                ("le", le),
            ]);
            s.set(labels, counter(n, (b + 1) as f64));
        }
    }
    s
}

fn bench(c: &mut Criterion) {
    let engine = Engine::new(EngineOpts::default());

    let store = selector_store();
    c.bench_function("regex selector over 100k series", |b| {
        b.iter(|| {
            black_box(
                engine
                    .instant_query(&store, r#"http_requests_total{job=~"job[3]"}"#, 60_000)
                    .unwrap(),
            )
        })
    });

    let store = counter_store();
    c.bench_function("sum by (job) (rate) over 10k series x 1h", |b| {
        b.iter(|| {
            black_box(
                engine
                    .range_query(&store, "sum by (job) (rate(x[5m]))", 0, HOUR_MS, 60_000)
                    .unwrap(),
            )
        })
    });

    let store = histogram_store();
    c.bench_function("histogram_quantile over 100 histograms x 1h", |b| {
        b.iter(|| {
            black_box(
                engine
                    .range_query(
                        &store,
                        "histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))",
                        0,
                        HOUR_MS,
                        60_000,
                    )
                    .unwrap(),
            )
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
