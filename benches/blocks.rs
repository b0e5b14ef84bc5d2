//! Block files: bytes per sample on disk next to Prometheus's on the same samples, and the
//! cost of reading a block in queries.
//!
//! Run: `cargo bench --bench blocks` (add `-- --quick` for short timings). The size table is
//! printed before the timings. For each fixture (`benches/fixtures/fleet.rs`), 2 h of
//! samples aligned on a block boundary are
//! - appended to a `Db` and persisted as one block, whose chunk data and index are measured;
//! - written out as OpenMetrics text and turned into a Prometheus block with
//!   `promtool tsdb create-blocks-from openmetrics` (Prometheus 2.42 from Debian; skipped with
//!   a message when `promtool` is not on the path or `PROMTOOL` does not name it), whose
//!   `chunks/` directory and `index` file are measured.
//!
//! Environment: `FLEET_TARGETS` (default 20 targets of 134 series), `API_SERIES` (default
//! 2000), `KEEP_BLOCKS=1` keeps the working directory (printed: OpenMetrics files, both
//! sides' blocks) instead of deleting it.

#[path = "fixtures/fleet.rs"]
mod fleet;

use criterion::{criterion_group, Criterion, Throughput};
use fleet::FixtureSeries;
use pyrometer::model::{Labels, MatchOp, Matcher};
use pyrometer::storage::{Appendable, Db, DbOptions, Queryable};
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A multiple of 2 h, so that 2 h of samples make exactly one block on both sides.
const T0: i64 = 1_764_000_000_000;
const BLOCK_MS: i64 = 2 * 3600 * 1000;
/// 2 h at 15 s.
const SCRAPES: usize = 480;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn labels_of(s: &FixtureSeries) -> Labels {
    let pairs: Vec<(&str, &str)> = s
        .labels
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    Labels::from_pairs(&pairs)
}

struct OnDisk {
    samples: u64,
    chunks: u64,
    index: u64,
}

impl OnDisk {
    fn per_sample(&self, bytes: u64) -> f64 {
        bytes as f64 / self.samples as f64
    }
}

/// Appends the fixture scrape by scrape and persists it as one block; returns the open
/// `Db` (for the read benchmarks) and the block's figures.
fn ours(fx: &[FixtureSeries], dir: &Path) -> (Db, OnDisk, f64, Duration) {
    let opts = DbOptions {
        block_duration: Duration::from_millis(BLOCK_MS as u64),
        ..DbOptions::default()
    };
    let db = Db::open(dir, opts).unwrap();
    let mut refs = Vec::with_capacity(fx.len());
    let n = fx.iter().map(|s| s.samples.len()).max().unwrap_or(0);
    for k in 0..n {
        let mut a = db.appender();
        for (i, s) in fx.iter().enumerate() {
            let Some(&(t, v)) = s.samples.get(k) else {
                continue;
            };
            if k == 0 {
                refs.push(a.append(&labels_of(s), t, v));
            } else {
                a.append_handle(&refs[i], t, v);
            }
        }
        a.commit();
    }
    let f = db.footprint();
    let head = f.chunk_bytes as f64 / f.samples as f64;
    let started = Instant::now();
    db.persist(T0 + BLOCK_MS + BLOCK_MS / 2).unwrap();
    let took = started.elapsed();
    let d = db.disk_stats();
    assert_eq!(d.blocks, 1, "the fixture must make exactly one block");
    let disk = OnDisk {
        samples: d.block_samples,
        chunks: d.block_chunk_bytes,
        index: d.block_bytes - d.block_chunk_bytes,
    };
    (db, disk, head, took)
}

/// Seconds with milliseconds, spelled so that Go's `ParseFloat(s) * 1000` is exactly the
/// millisecond timestamp (whether the parser then truncates or rounds).
fn om_timestamp(ms: i64) -> String {
    let base = format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000));
    for extra in ["", "0001", "00001", "000001", "0000001"] {
        let s = format!("{base}{extra}");
        if s.parse::<f64>().map(|x| x * 1000.0) == Ok(ms as f64) {
            return s;
        }
    }
    panic!("no exact OpenMetrics spelling of timestamp {ms}")
}

/// The fixture as OpenMetrics text: one scrape's samples after the other, as promtool wants
/// every series in time order.
fn write_openmetrics(fx: &[FixtureSeries], path: &Path) {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let names: Vec<String> = fx
        .iter()
        .map(|s| {
            let mut out = s.labels[0].1.clone();
            out.push('{');
            for (i, (n, v)) in s.labels[1..].iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&format!("{n}=\"{v}\""));
            }
            out.push('}');
            out
        })
        .collect();
    let n = fx.iter().map(|s| s.samples.len()).max().unwrap_or(0);
    let mut stamps = std::collections::HashMap::new();
    for k in 0..n {
        for (s, name) in fx.iter().zip(&names) {
            if let Some(&(t, v)) = s.samples.get(k) {
                let ts = stamps.entry(t).or_insert_with(|| om_timestamp(t));
                writeln!(w, "{name} {v} {ts}").unwrap();
            }
        }
    }
    writeln!(w, "# EOF").unwrap();
    w.flush().unwrap();
}

fn dir_bytes(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn promtool() -> Option<PathBuf> {
    let p = PathBuf::from(std::env::var("PROMTOOL").unwrap_or_else(|_| "promtool".into()));
    Command::new(&p)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| p)
}

/// Builds Prometheus's block from the same samples; `None` when promtool is missing.
fn prometheus(fx: &[FixtureSeries], work: &Path, name: &str) -> Option<OnDisk> {
    let tool = promtool()?;
    let om = work.join(format!("{name}.om"));
    write_openmetrics(fx, &om);
    let out = work.join(format!("{name}-prom"));
    let res = Command::new(&tool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&om)
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "promtool failed: {}",
        String::from_utf8_lossy(&res.stderr)
    );
    if std::env::var("KEEP_BLOCKS").is_err() {
        std::fs::remove_file(&om).unwrap();
    }
    let blocks: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("meta.json").exists())
        .collect();
    assert_eq!(blocks.len(), 1, "promtool made {} blocks", blocks.len());
    let b = &blocks[0];
    let meta = std::fs::read_to_string(b.join("meta.json")).unwrap();
    let samples = meta
        .split("\"numSamples\":")
        .nth(1)
        .and_then(|r| {
            r.split(|c: char| !c.is_ascii_digit())
                .find(|s| !s.is_empty())
        })
        .and_then(|s| s.parse().ok())
        .unwrap();
    Some(OnDisk {
        samples,
        chunks: dir_bytes(&b.join("chunks")),
        index: std::fs::metadata(b.join("index")).unwrap().len(),
    })
}

fn row(fixture: &str, who: &str, d: &OnDisk) {
    println!(
        "| {fixture} | {who} | {} | {:.3} | {:.3} | {:.3} |",
        d.samples,
        d.per_sample(d.chunks),
        d.per_sample(d.index),
        d.per_sample(d.chunks + d.index)
    );
}

/// Measures one fixture on both sides and prints its rows; returns our `Db` for reads.
fn compare(name: &str, fx: &[FixtureSeries], work: &Path) -> Db {
    let dir = work.join(format!("{name}-ours"));
    let (db, d, head, took) = ours(fx, &dir);
    row(name, "Pyrometer", &d);
    println!(
        "|   | (Pyrometer head chunks in memory: {head:.2} B/sample; block written in {:.2}s) | | | | |",
        took.as_secs_f64()
    );
    match prometheus(fx, work, name) {
        Some(p) => {
            assert_eq!(
                p.samples, d.samples,
                "both blocks must hold the same samples"
            );
            row(name, "Prometheus 2.42", &p);
        }
        None => println!("|   | Prometheus: skipped, promtool not found (set PROMTOOL) | | | | |"),
    }
    db
}

fn bench_blocks(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let work = if std::env::var("KEEP_BLOCKS").is_ok() {
        let kept = tmp.keep();
        println!("working directory kept: {}", kept.display());
        kept
    } else {
        tmp.path().to_path_buf()
    };
    println!("| fixture | who | samples | chunks B/sample | index B/sample | total B/sample |");
    println!("|---|---|---|---|---|---|");
    let fleet_fx = fleet::fleet(env("FLEET_TARGETS", 20), SCRAPES, T0);
    let db = compare("fleet", &fleet_fx, &work);
    drop(fleet_fx);
    let node = fleet::node_like(SCRAPES, T0);
    drop(compare("node-like", &node, &work));
    drop(node);
    let api = fleet::api_fleet(env("API_SERIES", 2000), SCRAPES, T0);
    drop(compare("api-fleet", &api, &work));
    drop(api);

    let q = db.querier(T0, T0 + BLOCK_MS);
    let buckets = [Matcher::new(
        MatchOp::Equal,
        "__name__",
        "http_request_duration_seconds_bucket",
    )
    .unwrap()];
    let n: usize = q.select(&buckets).iter().map(|s| s.samples.len()).sum();
    let mut g = c.benchmark_group("block_read");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("select_buckets_2h", |b| {
        b.iter(|| black_box(q.select(&buckets)))
    });
    let one = [
        Matcher::new(MatchOp::Equal, "__name__", "process_cpu_seconds_total").unwrap(),
        Matcher::new(MatchOp::Equal, "instance", "10.1.0.10:8080").unwrap(),
    ];
    g.throughput(Throughput::Elements(SCRAPES as u64));
    g.bench_function("select_one_series_2h", |b| {
        b.iter(|| black_box(q.select(&one)))
    });
    g.finish();
}

criterion_group!(benches, bench_blocks);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
