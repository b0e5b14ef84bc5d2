//! Head append and query throughput, bytes per sample of realistic series, and a dashboard's
//! instant query over a fleet's head (evaluation and JSON apart).
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
use pyrometer::promql::{Engine, EngineOpts};
use pyrometer::storage::{Appendable, Db, DbOptions, Head, Queryable, SeriesHandle};
use pyrometer::web::api::json::query_data;
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

/// A fleet's head: `targets` instances of `per_target` series, one of them
/// `app_queue_depth{queue="q1"}`, scraped every 10 s for six minutes.
fn fleet_head(targets: usize, per_target: usize) -> Head {
    let head = Head::new();
    let series: Vec<Labels> = (0..targets)
        .flat_map(|t| {
            let instance = format!("10.0.{}.{}:9100", t / 250, t % 250);
            (0..per_target).map(move |i| {
                let (name, key, value) = match i {
                    0 => ("app_queue_depth", "queue", "q1".to_string()),
                    1 => ("app_queue_depth", "queue", "q2".to_string()),
                    _ => ("http_requests_total", "handler", format!("/api/{i}")),
                };
                Labels::from_pairs(&[
                    ("__name__", name),
                    ("instance", &instance),
                    ("job", "app"),
                    (key, &value),
                ])
            })
        })
        .collect();
    let mut refs = Vec::new();
    for k in 0..36 {
        let t = T0 + k * 10_000;
        let mut a = head.appender();
        if refs.is_empty() {
            refs = series.iter().map(|l| a.append(l, t, 1.0)).collect();
        } else {
            for (i, r) in refs.iter().enumerate() {
                a.append_handle(r, t, (i as i64 + k) as f64);
            }
        }
        a.commit();
    }
    head
}

/// The load test's "instant" dashboard query: one series of each of 1,000 targets out of
/// 200,000, evaluated and written as the API's JSON.
fn bench_dashboard(c: &mut Criterion) {
    let head = fleet_head(1000, 200);
    let engine = Engine::new(EngineOpts::default());
    let q = r#"app_queue_depth{queue="q1"}"#;
    let t = T0 + 35 * 10_000;
    let mut g = c.benchmark_group("dashboard");
    g.throughput(Throughput::Elements(1000));
    g.bench_function("instant_1k_of_200k/eval", |b| {
        b.iter(|| black_box(engine.instant_query(&head, q, t).unwrap()))
    });
    let v = engine.instant_query(&head, q, t).unwrap();
    g.bench_function("instant_1k_of_200k/json", |b| {
        b.iter(|| black_box(query_data(&v)))
    });
    g.finish();
}

criterion_group!(benches, bench_append, bench_query, bench_dashboard);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
