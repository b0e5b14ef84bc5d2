//! Head append and query throughput, and bytes per sample of realistic series.
//!
//! Run: `cargo bench --bench head` (add `-- --quick` for a short run). The bytes-per-sample
//! figures are printed before the timings.
//!
//! Fixture: a node_exporter-like target of 1000 series scraped every 15 s with a few
//! milliseconds of jitter: 600 counters growing by irregular amounts, 400 gauges wandering
//! around a level with two decimals, as CPU seconds, bytes and temperatures do. One scrape is
//! one appender commit, as the scrape loop does it.

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use pyrometer::model::{Labels, MatchOp, Matcher};
use pyrometer::storage::{Appendable, Db, DbOptions, Head, Queryable, SeriesHandle};
use std::hint::black_box;
use std::time::Duration;

const SERIES: usize = 1000;
const INTERVAL_MS: i64 = 15_000;
const T0: i64 = 1_764_000_000_000;

fn labels(i: usize) -> Labels {
    let (name, kind) = if i < 600 {
        ("node_cpu_seconds_total", "counter")
    } else {
        ("node_memory_bytes", "gauge")
    };
    Labels::from_pairs(&[
        ("__name__", name),
        ("instance", "host-17.example.org:9100"),
        ("job", "node"),
        ("kind", kind),
        ("id", &i.to_string()),
    ])
}

/// The values of scrape `k` (deterministic, so every run stores the same bytes).
struct Fixture {
    rng: fastrand::Rng,
    values: Vec<f64>,
}

impl Fixture {
    fn new() -> Self {
        let mut rng = fastrand::Rng::with_seed(7);
        let values = (0..SERIES)
            .map(|i| {
                if i < 600 {
                    rng.f64() * 1e5
                } else {
                    (rng.f64() * 1e9).round()
                }
            })
            .collect();
        Fixture { rng, values }
    }

    /// Advances every series by one scrape and returns the scrape's timestamp.
    fn step(&mut self, k: i64) -> i64 {
        for (i, v) in self.values.iter_mut().enumerate() {
            if i < 600 {
                // CPU seconds: up to 15 s per interval, in hundredths.
                *v += (self.rng.f64() * 1500.0).round() / 100.0;
            } else if self.rng.u8(..) < 64 {
                // Memory: changes now and then, by whole pages.
                *v += f64::from(self.rng.i32(-2000..2000)) * 4096.0;
            }
        }
        T0 + k * INTERVAL_MS + i64::from(self.rng.u8(..8))
    }
}

/// Appends `scrapes` scrapes of the fixture; returns the handles for `append_handle`.
fn fill(app: &dyn Appendable, fx: &mut Fixture, scrapes: i64) -> Vec<SeriesHandle> {
    let mut refs = Vec::new();
    for k in 0..scrapes {
        let t = fx.step(k);
        let mut a = app.appender();
        if refs.is_empty() {
            refs = (0..SERIES)
                .map(|i| a.append(&labels(i), t, fx.values[i]))
                .collect();
        } else {
            for (i, r) in refs.iter().enumerate() {
                a.append_handle(r, t, fx.values[i]);
            }
        }
        a.commit();
    }
    refs
}

fn report_bytes_per_sample() {
    let dir = tempfile::tempdir().unwrap();
    let opts = DbOptions {
        block_duration: Duration::from_secs(2 * 3600),
        ..DbOptions::default()
    };
    let db = Db::open(dir.path(), opts).unwrap();
    let mut fx = Fixture::new();
    // Four hours: two blocks' worth.
    fill(&db, &mut fx, 4 * 240);
    let f = db.footprint();
    db.flush_wal();
    let wal_bytes = db.disk_stats().wal_bytes;
    println!(
        "head: {} samples in {} chunks, {:.2} bytes/sample in memory (chunk data)",
        f.samples,
        f.chunks,
        f.chunk_bytes as f64 / f.samples as f64
    );
    db.persist(T0 + 4 * 3600 * 1000 + 3600 * 1000).unwrap();
    let d = db.disk_stats();
    println!(
        "blocks: {} samples, {:.2} bytes/sample on disk (chunks {:.2}, index and footer the rest)",
        d.block_samples,
        d.block_bytes as f64 / d.block_samples as f64,
        d.block_chunk_bytes as f64 / d.block_samples as f64
    );
    println!(
        "wal: {:.2} bytes/sample before the checkpoint",
        wal_bytes as f64 / f.samples as f64
    );
}

fn bench_append(c: &mut Criterion) {
    report_bytes_per_sample();
    let mut g = c.benchmark_group("head_append");
    g.throughput(Throughput::Elements(SERIES as u64));
    g.bench_function(BenchmarkId::new("scrape_commit", "memory"), |b| {
        let head = Head::new();
        let mut fx = Fixture::new();
        let refs = fill(&head, &mut fx, 1);
        let mut k = 1;
        b.iter(|| {
            let t = fx.step(k);
            k += 1;
            let mut a = head.appender();
            for (i, r) in refs.iter().enumerate() {
                a.append_handle(r, t, fx.values[i]);
            }
            black_box(a.commit())
        })
    });
    g.bench_function(BenchmarkId::new("scrape_commit", "with_wal"), |b| {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), DbOptions::default()).unwrap();
        let mut fx = Fixture::new();
        let refs = fill(&db, &mut fx, 1);
        let mut k = 1;
        b.iter(|| {
            let t = fx.step(k);
            k += 1;
            let mut a = db.appender();
            for (i, r) in refs.iter().enumerate() {
                a.append_handle(r, t, fx.values[i]);
            }
            let st = a.commit();
            if k % 64 == 0 {
                db.flush_wal();
            }
            black_box(st)
        })
    });
    g.finish();
}

fn bench_query(c: &mut Criterion) {
    let head = Head::new();
    let mut fx = Fixture::new();
    // One hour: two sealed chunks and an open one per series.
    fill(&head, &mut fx, 240);
    let m = [Matcher::new(MatchOp::Equal, "__name__", "node_cpu_seconds_total").unwrap()];
    let mut g = c.benchmark_group("head_query");
    g.throughput(Throughput::Elements(600 * 240));
    g.bench_function("select_600_series_1h", |b| {
        b.iter(|| black_box(head.querier(T0, T0 + 3600 * 1000).select(&m)))
    });
    g.finish();
}

criterion_group!(benches, bench_append, bench_query);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
