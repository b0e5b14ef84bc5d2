//! WAL append and replay throughput, in samples per second.
//!
//! Run: `cargo bench --bench wal` (add `-- --quick` for a short run).
//!
//! Fixture: one scrape of a node_exporter-sized target, 1000 series whose refs are
//! consecutive and whose samples share one timestamp, values moving like counters; the
//! head logs each scrape as one batch. Appends are measured twice: into a sink (encoding,
//! framing and checksums alone) and into real segment files with a `flush` per scrape, the
//! cadence of the worst case where the head flushes after every commit (no fsync: the page
//! cache absorbs writes, as it does between the head's periodic syncs).

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use pyrometer::model::Labels;
use pyrometer::tsdb::wal::{
    self, RefSample, RefSeries, ReplayReport, SegmentFile, WalOptions, WalWriter,
};
use std::hint::black_box;
use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, Instant};

const SERIES: u64 = 1000;
const INTERVAL_MS: i64 = 15_000;

fn scrape(i: i64) -> Vec<RefSample> {
    let t = 1_764_000_000_000 + i * INTERVAL_MS;
    (0..SERIES)
        .map(|r| RefSample {
            r: 10_000 + r,
            t,
            v: (r * 1_000) as f64 + (i as f64) * (r % 7) as f64,
        })
        .collect()
}

fn series() -> Vec<RefSeries> {
    (0..SERIES)
        .map(|r| RefSeries {
            r: 10_000 + r,
            labels: Labels::from_pairs(&[
                ("__name__", format!("node_metric_{}_total", r % 50).as_str()),
                ("instance", "10.0.0.1:9100"),
                ("job", "node"),
                ("device", format!("dev{r}").as_str()),
            ]),
        })
        .collect()
}

/// A segment file that discards its bytes.
struct Sink;

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl SegmentFile for Sink {
    fn sync(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn writer(dir: &Path, sink: bool) -> WalWriter {
    let report = ReplayReport::default();
    if sink {
        let open: wal::SegmentOpener = Box::new(|_| Ok(Box::new(Sink) as Box<dyn SegmentFile>));
        WalWriter::open_with(dir, WalOptions::default(), &report, open)
    } else {
        WalWriter::open(dir, WalOptions::default(), &report)
    }
    .expect("open wal in a temporary directory")
}

/// Appends `iters` scrapes to a fresh log and returns the time taken.
fn append_run(iters: u64, sink: bool, batches: &[Vec<RefSample>]) -> Duration {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut w = writer(dir.path(), sink);
    let start = Instant::now();
    for i in 0..iters as usize {
        w.log_samples(black_box(&batches[i % batches.len()]))
            .expect("log samples");
        w.flush().expect("flush");
    }
    start.elapsed()
}

fn bench_wal(c: &mut Criterion) {
    let batches: Vec<Vec<RefSample>> = (0..64).map(scrape).collect();
    let mut group = c.benchmark_group("wal");
    group.sample_size(10);
    group.throughput(Throughput::Elements(SERIES));
    for (name, sink) in [("sink", true), ("file", false)] {
        group.bench_function(BenchmarkId::new("append_scrape", name), |b| {
            b.iter_custom(|iters| append_run(iters, sink, &batches))
        });
    }

    // Replay: a log of 500 scrapes (500k samples) after the series records.
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut w = writer(dir.path(), false);
    w.log_series(&series()).expect("log series");
    for i in 0..500 {
        w.log_samples(&scrape(i)).expect("log samples");
    }
    w.sync().expect("sync");
    drop(w);
    let report = wal::replay(dir.path()).expect("replay").finish();
    println!(
        "replay fixture: {} records, {} samples, {} bytes on disk ({:.1} bytes per sample)",
        report.records,
        report.samples,
        dir_size(dir.path()),
        dir_size(dir.path()) as f64 / report.samples as f64
    );
    group.throughput(Throughput::Elements(report.samples));
    group.bench_function("replay", |b| {
        b.iter(|| {
            let mut r = wal::replay(dir.path()).expect("replay");
            let n: usize = r
                .by_ref()
                .map(|rec| match rec {
                    wal::Record::Samples(s) => s.len(),
                    wal::Record::Series(s) => s.len(),
                })
                .sum();
            black_box((n, r.finish()))
        })
    });
    group.finish();
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

criterion_group!(benches, bench_wal);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
