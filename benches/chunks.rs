//! Chunk encoding and decoding throughput on realistic series, and bytes per sample.
//!
//! Run: `cargo bench --bench chunks` (add `-- --quick` for a short run). Before the timings it
//! prints the bytes per sample of each fixture and of a scrape-like mix, to compare with the
//! ~1.3 bytes per sample Prometheus reports for its XOR chunks on production data.
//!
//! Fixtures: 120-sample chunks (one head chunk) scraped every 15 s. Sizes are printed twice:
//! with timestamps exactly on schedule (a scrape loop that stamps the scheduled time, as
//! Prometheus does within its 2 ms timestamp tolerance) and with each timestamp off its
//! schedule by a uniform jitter of ±10 ms (stamping the actual start on a busy machine).
//! Timings use the jittered fixtures.

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use pyrometer::tsdb::chunk::{SealedChunk, XorChunk, SAMPLES_PER_CHUNK};
use std::hint::black_box;

const INTERVAL_MS: i64 = 15_000;
const JITTER_MS: i64 = 10;
const START_MS: i64 = 1_764_000_000_000;

type Series = Vec<(i64, f64)>;

/// The fixtures, with the share of series of each kind in the mix; the shares follow a
/// node_exporter plus application scrape: many counters that rarely move, many constant
/// gauges (`*_info`, limits, `up`), some busy counters and fluctuating gauges.
fn fixtures(rng: &mut fastrand::Rng, jitter: i64) -> Vec<(&'static str, u32, Series)> {
    vec![
        (
            "counter_requests",
            15,
            counter(rng, jitter, 1_234_567.0, |r| step(r, 150, 450)),
        ),
        (
            "counter_bytes",
            15,
            counter(rng, jitter, 8.1e11, |r| step(r, 500_000, 3_000_000)),
        ),
        (
            "counter_cpu_seconds",
            10,
            counter(rng, jitter, 81_234.56, |r| r.u32(0..1500) as f64 / 100.0),
        ),
        (
            "counter_rare",
            25,
            counter(rng, jitter, 17.0, |r| f64::from(u8::from(r.u8(0..20) == 0))),
        ),
        ("gauge_constant", 20, gauge(rng, jitter, |_| 1.0)),
        (
            "gauge_memory_bytes",
            10,
            gauge(rng, jitter, |r| 2.1e9 + f64::from(r.u32(0..4096)) * 4096.0),
        ),
        (
            "gauge_load_ratio",
            5,
            gauge(rng, jitter, |r| r.u32(0..400) as f64 / 100.0),
        ),
    ]
}

fn step(rng: &mut fastrand::Rng, lo: u64, hi: u64) -> f64 {
    rng.u64(lo..hi) as f64
}

fn timestamps(rng: &mut fastrand::Rng, jitter: i64) -> Vec<i64> {
    (0..SAMPLES_PER_CHUNK as i64)
        .map(|i| START_MS + i * INTERVAL_MS + rng.i64(-jitter..=jitter))
        .collect()
}

fn counter(
    rng: &mut fastrand::Rng,
    jitter: i64,
    start: f64,
    mut step: impl FnMut(&mut fastrand::Rng) -> f64,
) -> Series {
    let ts = timestamps(rng, jitter);
    let mut v = start;
    ts.into_iter()
        .map(|t| {
            v += step(rng);
            (t, v)
        })
        .collect()
}

fn gauge(
    rng: &mut fastrand::Rng,
    jitter: i64,
    mut value: impl FnMut(&mut fastrand::Rng) -> f64,
) -> Series {
    timestamps(rng, jitter)
        .into_iter()
        .map(|t| (t, value(rng)))
        .collect()
}

fn encode(series: &Series) -> XorChunk {
    let mut c = XorChunk::new();
    for &(t, v) in series {
        // A 120-sample chunk is far below the 65535-sample limit.
        let _ = c.append(t, v);
    }
    c
}

/// Prints bytes per sample of each fixture, on schedule and jittered, and of the mix.
fn report_sizes() {
    println!("bytes per sample (120-sample chunks, 15 s interval):");
    println!(
        "  {:<22} {:>9} {:>9}",
        "fixture",
        "aligned",
        format!("±{JITTER_MS} ms")
    );
    let sets = [0, JITTER_MS].map(|j| fixtures(&mut fastrand::Rng::with_seed(15), j));
    let mut mix = [(0.0, 0.0); 2];
    for i in 0..sets[0].len() {
        let mut cols = [0.0; 2];
        for (k, set) in sets.iter().enumerate() {
            let (_, share, series) = &set[i];
            let bytes = encode(series).bytes().len() as f64;
            cols[k] = bytes / series.len() as f64;
            mix[k].0 += bytes * f64::from(*share);
            mix[k].1 += series.len() as f64 * f64::from(*share);
        }
        println!("  {:<22} {:>9.2} {:>9.2}", sets[0][i].0, cols[0], cols[1]);
    }
    let [a, j] = mix.map(|(b, n)| b / n);
    println!("  {:<22} {a:>9.2} {j:>9.2}", "scrape mix (weighted)");
}

fn bench_chunks(c: &mut Criterion) {
    report_sizes();
    let fixtures = fixtures(&mut fastrand::Rng::with_seed(15), JITTER_MS);
    let mut group = c.benchmark_group("chunk");
    group.throughput(Throughput::Elements(SAMPLES_PER_CHUNK as u64));
    for (name, _, series) in &fixtures {
        group.bench_with_input(BenchmarkId::new("encode", name), series, |b, s| {
            b.iter(|| encode(black_box(s)).len())
        });
        let sealed: SealedChunk = encode(series).seal();
        group.bench_with_input(BenchmarkId::new("decode", name), &sealed, |b, ch| {
            b.iter(|| black_box(ch).iter().fold(0.0, |acc, s| acc + s.v))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_chunks);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
