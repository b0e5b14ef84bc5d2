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
            10,
            counter(rng, jitter, 8.1e11, |r| step(r, 500_000, 3_000_000)),
        ),
        (
            "counter_idle_bytes",
            5,
            counter(rng, jitter, 1.2e10, |r| step(r, 200, 2_000)),
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

/// Size in bytes of the same series in Prometheus's XOR chunk (Prometheus 3.x
/// `tsdb/chunkenc/xor.go`), computed from its bit costs without building the chunk: a 2-byte
/// header; sample 0 as a signed varint and 64 bits; sample 1's delta as an unsigned varint;
/// then delta-of-delta buckets of 1, 16, 20, 24 or 68 bits and XOR values with 5 bits of
/// leading zeros clamped to 31.
fn prometheus_xor_bytes(series: &Series) -> usize {
    let varint_len = |u: u64| (64 - (u | 1).leading_zeros() as usize).div_ceil(7);
    let fits = |d: i64, n: u32| -((1i64 << (n - 1)) - 1) <= d && d <= 1i64 << (n - 1);
    let mut bits = 0usize;
    let (mut pt, mut pd, mut pv) = (0i64, 0i64, 0u64);
    let mut window: Option<(u32, u32)> = None;
    for (i, &(t, v)) in series.iter().enumerate() {
        let v = v.to_bits();
        if i == 0 {
            bits += 8 * varint_len(((t << 1) ^ (t >> 63)) as u64) + 64;
        } else {
            let d = t.wrapping_sub(pt);
            if i == 1 {
                bits += 8 * varint_len(d as u64);
            } else {
                let dod = d.wrapping_sub(pd);
                bits += match dod {
                    0 => 1,
                    _ if fits(dod, 14) => 16,
                    _ if fits(dod, 17) => 20,
                    _ if fits(dod, 20) => 24,
                    _ => 68,
                };
            }
            pd = d;
            let x = v ^ pv;
            if x == 0 {
                bits += 1;
            } else {
                let lead = x.leading_zeros().min(31);
                let trail = x.trailing_zeros();
                match window {
                    Some((wl, wt)) if lead >= wl && trail >= wt => {
                        bits += 2 + (64 - wl - wt) as usize
                    }
                    _ => {
                        bits += 2 + 5 + 6 + (64 - lead - trail) as usize;
                        window = Some((lead, trail));
                    }
                }
            }
        }
        pt = t;
        pv = v;
    }
    2 + bits.div_ceil(8)
}

/// Prints bytes per sample of each fixture, on schedule and jittered, in our chunks and in
/// Prometheus's, and of the weighted mix.
fn report_sizes() {
    println!("bytes per sample (120-sample chunks, 15 s interval):");
    println!(
        "  {:<22} {:>9} {:>9} {:>9} {:>9}",
        "fixture",
        "aligned",
        "prom",
        format!("±{JITTER_MS} ms"),
        "prom"
    );
    let sets = [0, JITTER_MS].map(|j| fixtures(&mut fastrand::Rng::with_seed(15), j));
    // Per column: weighted bytes and weighted samples.
    let mut mix = [(0.0, 0.0); 4];
    for i in 0..sets[0].len() {
        let mut cols = [0.0; 4];
        for (k, set) in sets.iter().enumerate() {
            let (_, share, series) = &set[i];
            let n = series.len() as f64;
            let ours = encode(series).bytes().len() as f64;
            let prom = prometheus_xor_bytes(series) as f64;
            for (c, bytes) in [(2 * k, ours), (2 * k + 1, prom)] {
                cols[c] = bytes / n;
                mix[c].0 += bytes * f64::from(*share);
                mix[c].1 += n * f64::from(*share);
            }
        }
        let [a, b, c, d] = cols;
        println!("  {:<22} {a:>9.2} {b:>9.2} {c:>9.2} {d:>9.2}", sets[0][i].0);
    }
    let [a, b, c, d] = mix.map(|(bytes, n)| bytes / n);
    println!(
        "  {:<22} {a:>9.2} {b:>9.2} {c:>9.2} {d:>9.2}",
        "scrape mix (weighted)"
    );
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
