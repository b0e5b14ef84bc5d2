//! Storage at scale: resident memory per active series, bytes per sample in memory, in the
//! WAL and in block files, and the time to reopen (WAL replay) with a million series.
//!
//! Run: `cargo bench --bench storage_scale` (release build; about a minute and 2 GB of RAM
//! with the defaults). Environment:
//! - `SERIES` (default 1000000): active series, in targets of 1000 series each;
//! - `SAMPLES` (default 120): samples per series, one scrape every 15 s (120 = 30 min);
//! - `TAIL` (default 0): scrape rounds appended after the last head snapshot, and then the
//!   store is dropped without a clean close, as by `kill -9`; 0 closes cleanly (WAL synced,
//!   snapshot written at the end). `TAIL=20` is the worst case of the default 5 min snapshot
//!   cadence at 15 s: a crash just before the next snapshot;
//! - `PYROMETER_BIN`: a release `pyrometer` binary (`cargo build --release`); when set, the
//!   time from starting it on the written data directory to `/-/ready` answering 200 is
//!   measured `RUNS` times (default 3; each run is ended with SIGKILL, so the data directory
//!   is the same for every run), with the median.
//!
//! Values: half counters growing by irregular amounts, half gauges changing now and then,
//! scrape timestamps with a few milliseconds of jitter, ending now.

use pyrometer::model::Labels;
use pyrometer::storage::{Appendable, Db, DbOptions, SeriesHandle};
use std::time::{Duration, Instant};

const PER_TARGET: usize = 1000;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024
}

/// CPU seconds (user and system) used by this process so far: wall times on a shared machine
/// depend on the neighbours, CPU time does not.
fn cpu_secs() -> f64 {
    cpu_secs_of("/proc/self/stat")
}

/// CPU seconds (user and system) of the process whose `/proc/<pid>/stat` is `stat_path`.
fn cpu_secs_of(stat_path: &str) -> f64 {
    let stat = std::fs::read_to_string(stat_path).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15 of the line, in ticks of 1/100 s.
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (tick(11) + tick(12)) / 100.0
}

fn labels(target: usize, i: usize) -> Labels {
    let name = if i.is_multiple_of(2) {
        "http_requests_total"
    } else {
        "process_resident_memory_bytes"
    };
    Labels::from_pairs(&[
        ("__name__", name),
        (
            "instance",
            &format!("10.0.{}.{}:8080", target / 256, target % 256),
        ),
        ("job", "api"),
        ("handler", &format!("/v1/resource/{}", i / 2 % 100)),
        ("code", ["200", "404", "500", "503", "302"][i / 200 % 5]),
    ])
}

fn main() {
    let series = env("SERIES", 1_000_000);
    let samples = env("SAMPLES", 120) as i64;
    let targets = series.div_ceil(PER_TARGET);
    let dir = tempfile::tempdir().unwrap();
    let opts = DbOptions {
        // Nothing is persisted while filling: the head holds everything, as at a restart.
        block_duration: Duration::from_secs(24 * 3600),
        ..DbOptions::default()
    };
    println!(
        "series={series} samples_per_series={samples} dir={}",
        dir.path().display()
    );
    let rss0 = rss_bytes();
    let db = Db::open(dir.path(), opts.clone()).unwrap();
    let now = pyrometer::model::now_millis();
    let t0 = now - samples * 15_000;
    let mut rng = fastrand::Rng::with_seed(42);
    let mut values: Vec<f64> = (0..series).map(|_| (rng.f64() * 1e6).round()).collect();
    let mut refs: Vec<Vec<SeriesHandle>> = vec![Vec::new(); targets];
    let tail = (env("TAIL", 0) as i64).min(samples);
    let started = Instant::now();
    let cpu = cpu_secs();
    let mut snapshot_took = None;
    for k in 0..samples {
        if tail > 0 && k == samples - tail {
            let s = Instant::now();
            let c = cpu_secs();
            db.write_snapshot().unwrap();
            snapshot_took = Some((s.elapsed().as_secs_f64(), cpu_secs() - c));
        }
        for (tg, tg_refs) in refs.iter_mut().enumerate() {
            let t = t0 + k * 15_000 + i64::from(rng.u8(..8));
            let base = tg * PER_TARGET;
            let n = PER_TARGET.min(series - base);
            let mut app = db.appender();
            for i in 0..n {
                let v = &mut values[base + i];
                if i.is_multiple_of(2) {
                    *v += f64::from(rng.u16(..500));
                } else if rng.u8(..) < 32 {
                    *v += f64::from(rng.i32(-100..100)) * 4096.0;
                }
                if tg_refs.len() < n {
                    tg_refs.push(app.append(&labels(tg, i), t, *v));
                } else {
                    app.append_handle(&tg_refs[i], t, *v);
                }
            }
            app.commit();
        }
        db.flush_wal();
    }
    let took = started.elapsed();
    let total = series as u64 * samples as u64;
    let closing = Instant::now();
    if tail == 0 {
        db.close();
        println!(
            "clean close (WAL sync and head snapshot): {:.2}s, snapshot {:.0} MiB",
            closing.elapsed().as_secs_f64(),
            snapshot_bytes(dir.path()) as f64 / 1048576.0
        );
    } else if let Some((wall, cpu)) = snapshot_took {
        println!(
            "head snapshot while appending: {wall:.2}s wall, {cpu:.2}s CPU, {:.0} MiB; then {tail} scrape rounds and a crash (no clean close)",
            snapshot_bytes(dir.path()) as f64 / 1048576.0
        );
    }
    let rss1 = rss_bytes();
    let f = db.footprint();
    let disk = db.disk_stats();
    println!(
        "append: {total} samples in {:.1}s wall, {:.1}s CPU ({:.2} M samples per CPU second, WAL flushed every scrape round)",
        took.as_secs_f64(),
        cpu_secs() - cpu,
        total as f64 / (cpu_secs() - cpu) / 1e6
    );
    println!(
        "memory: rss {:.0} MiB for {series} series = {:.0} bytes/series resident; head estimate {:.0} bytes/series; chunk data {:.2} bytes/sample",
        (rss1 - rss0) as f64 / 1048576.0,
        (rss1 - rss0) as f64 / series as f64,
        f.estimated_bytes as f64 / series as f64,
        f.chunk_bytes as f64 / f.samples as f64
    );
    println!(
        "wal: {:.0} MiB, {:.2} bytes/sample",
        disk.wal_bytes as f64 / 1048576.0,
        disk.wal_bytes as f64 / total as f64
    );
    drop(db);

    // Each binary run is ended with SIGKILL before it writes a snapshot, so every run starts
    // from the same files.
    if let Ok(bin) = std::env::var("PYROMETER_BIN") {
        let mut walls: Vec<f64> = (0..env("RUNS", 3))
            .filter_map(|_| time_binary_to_ready(&bin, dir.path()))
            .collect();
        walls.sort_by(f64::total_cmp);
        if let Some(m) = walls.get(walls.len() / 2) {
            println!("binary: median start to /-/ready {m:.2}s wall");
        }
    }

    let started = Instant::now();
    let cpu = cpu_secs();
    let db = Db::open(dir.path(), opts.clone()).unwrap();
    let (st, _) = db.replay_stats();
    println!(
        "reopen in process ({} series from the snapshot, then {} WAL samples, {} of them already in it): {:.2}s wall, {:.2}s CPU",
        st.snapshot_series,
        st.report.samples,
        st.in_snapshot,
        started.elapsed().as_secs_f64(),
        cpu_secs() - cpu
    );
    drop(db);
    for e in std::fs::read_dir(dir.path()).unwrap().flatten() {
        if e.file_name()
            .to_string_lossy()
            .starts_with("head.snapshot.")
        {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    let started = Instant::now();
    let cpu = cpu_secs();
    let db = Db::open(dir.path(), opts.clone()).unwrap();
    let cpu = cpu_secs() - cpu;
    println!(
        "reopen (WAL replay of {} series, {} samples): {:.2}s wall, {cpu:.2}s CPU = {:.3} µs CPU per sample",
        db.stats().series,
        db.stats().samples,
        started.elapsed().as_secs_f64(),
        cpu * 1e6 / db.stats().samples.max(1) as f64
    );
    db.persist(now + 36 * 3600 * 1000).unwrap();
    let disk = db.disk_stats();
    println!(
        "block: {:.0} MiB, {:.2} bytes/sample on disk ({:.2} chunk data), wal after checkpoint {:.0} KiB",
        disk.block_bytes as f64 / 1048576.0,
        disk.block_bytes as f64 / disk.block_samples as f64,
        disk.block_chunk_bytes as f64 / disk.block_samples as f64,
        disk.wal_bytes as f64 / 1024.0
    );
    db.close();
    drop(db);
    let started = Instant::now();
    let cpu = cpu_secs();
    let db = Db::open(dir.path(), opts).unwrap();
    println!(
        "reopen with the data in one block and an empty WAL: {:.2}s wall, {:.2}s CPU ({} blocks)",
        started.elapsed().as_secs_f64(),
        cpu_secs() - cpu,
        db.disk_stats().blocks
    );
}

/// Bytes of the head snapshot files in `dir`.
fn snapshot_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("head.snapshot.")
        })
        .map(|e| e.metadata().map_or(0, |m| m.len()))
        .max()
        .unwrap_or(0)
}

/// Starts the binary on `data`, polls `/-/ready` until it answers 200, prints the time and
/// CPU it took and kills the binary; returns the wall time.
fn time_binary_to_ready(bin: &str, data: &std::path::Path) -> Option<f64> {
    let cfg = data.join("scale.yml");
    std::fs::write(&cfg, "scrape_configs: []\n").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let started = Instant::now();
    let mut child = std::process::Command::new(bin)
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg("--log.level=warn")
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/-/ready");
    let mut ready = None;
    while started.elapsed() < Duration::from_secs(300) {
        if ureq::get(&url).call().is_ok_and(|r| r.status() == 200) {
            ready = Some(started.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let cpu = cpu_secs_of(&format!("/proc/{}/stat", child.id()));
    let rss = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    let rss = rss
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .unwrap_or("VmRSS: ?")
        .to_string();
    let _ = child.kill();
    let _ = child.wait();
    match ready {
        Some(d) => println!(
            "binary: start to /-/ready {:.2}s wall, {cpu:.2}s CPU; {rss}",
            d.as_secs_f64()
        ),
        None => println!("binary: not ready within 300s"),
    }
    ready.map(|d| d.as_secs_f64())
}
