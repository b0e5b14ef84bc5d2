//! Durability across `kill -9`: a real Pyrometer scrapes a target on loopback every second,
//! is killed with SIGKILL, and is restarted on the same data directory. Every sample
//! committed more than one WAL flush interval before the kill must come back; the number of
//! samples lost (those of the last flush interval) is printed. Head snapshots are taken every
//! 2 s, so the restart after the kill loads a snapshot taken while scrapes went on and
//! replays the WAL written after it.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

/// When the target served scrape number `n` (the counter's value in that scrape).
type Served = Arc<Mutex<Vec<(u64, Instant)>>>;

/// A target whose counter `crash_scrapes_total` counts the scrapes it answered, so each
/// stored sample names the scrape it came from.
fn start_target(stop: Arc<AtomicBool>) -> (u16, Served, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let served: Served = Arc::default();
    let log = served.clone();
    let handle = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(120);
        while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
            let Ok((stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            stream.set_nonblocking(false).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            // Read the request head up to the blank line.
            while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                line.clear();
            }
            let n = {
                let mut s = log.lock().unwrap();
                let n = s.len() as u64 + 1;
                s.push((n, Instant::now()));
                n
            };
            let body = format!(
                "# TYPE crash_scrapes_total counter\ncrash_scrapes_total {n}\n# TYPE crash_temperature gauge\ncrash_temperature {}\n",
                20.0 + (n % 7) as f64 * 0.5
            );
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, served, handle)
}

/// The distinct values of `crash_scrapes_total` stored in [start, end] (seconds), read with
/// a range query whose step (200 ms) is shorter than the scrape interval, so every stored
/// sample is the newest one at some step.
fn stored_values(p: &Pyrometer, start: f64, end: f64) -> Vec<u64> {
    let v = p.get_json(&format!(
        "/api/v1/query_range?query=crash_scrapes_total&start={start:.3}&end={end:.3}&step=0.2"
    ));
    assert_eq!(v["status"], "success", "{v}");
    let mut out: Vec<u64> = v["data"]["result"][0]["values"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p[1].as_str().and_then(|s| s.parse::<f64>().ok()))
                .map(|f| f as u64)
                .collect()
        })
        .unwrap_or_default();
    out.sort_unstable();
    out.dedup();
    out
}

fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[test]
fn samples_survive_sigkill_except_the_last_flush_interval() {
    let stop = Arc::new(AtomicBool::new(false));
    let (target_port, served, server) = start_target(stop.clone());
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n- job_name: crash\n  static_configs:\n    - targets: ['127.0.0.1:{target_port}']\n"
        ),
    )
    .unwrap();
    let flags = [
        "--storage.tsdb.wal-flush-interval=1s",
        "--storage.tsdb.head-snapshot-interval=2s",
    ];
    let started = now_secs() - 1.0;

    let port = free_port();
    let mut first = spawn_pyrometer(&cfg, port, dir.path(), &flags);
    let url = |port: u16, path: &str| format!("http://127.0.0.1:{port}{path}");
    wait_until(Duration::from_secs(30), "first start ready", || {
        get(&url(port, "/-/ready")).is_ok_and(|(c, _)| c == 200)
    });
    wait_until(Duration::from_secs(30), "eight scrapes", || {
        served.lock().unwrap().len() >= 8
    });
    // Kill half-way between scrapes, when the newest sample is about 0.5 s old.
    std::thread::sleep(Duration::from_millis(500));
    first.0.kill().unwrap(); // SIGKILL
    let killed_at = Instant::now();
    let killed_secs = now_secs();
    first.0.wait().unwrap();
    let served_before_kill: Vec<(u64, Instant)> = served.lock().unwrap().clone();
    let snapshots = std::fs::read_dir(dir.path().join("data"))
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("head.snapshot.")
        })
        .count();
    assert!(
        (1..=2).contains(&snapshots),
        "periodic head snapshots before the kill (at most two kept): {snapshots}"
    );

    let port = free_port();
    let second = spawn_pyrometer(&cfg, port, dir.path(), &flags);
    let p = Pyrometer {
        port,
        child: second,
        dir: tempfile::tempdir().unwrap(),
    };
    let restart = Instant::now();
    p.wait_ready();
    eprintln!("restart to ready: {:?}", restart.elapsed());

    let stored = stored_values(&p, started, killed_secs);
    // The flush interval plus the time from serving a scrape to committing it.
    let must_survive = Duration::from_secs(1) + Duration::from_millis(500);
    let required: Vec<u64> = served_before_kill
        .iter()
        .filter(|(_, at)| killed_at.duration_since(*at) > must_survive)
        .map(|(n, _)| *n)
        .collect();
    let missing: Vec<&u64> = required.iter().filter(|n| !stored.contains(n)).collect();
    let lost = served_before_kill.len() - stored.len();
    eprintln!(
        "served {} scrapes before SIGKILL, {} stored after restart, {lost} lost (the last flush interval)",
        served_before_kill.len(),
        stored.len()
    );
    assert!(
        required.len() >= 6,
        "too few scrapes to judge: {required:?}"
    );
    assert!(
        missing.is_empty(),
        "samples older than the flush interval lost: {missing:?}; stored {stored:?}"
    );

    // A clean stop (SIGTERM) flushes and syncs the log: nothing scraped before it is lost.
    wait_until(Duration::from_secs(30), "scrapes after restart", || {
        stored_values(&p, started, now_secs()).len() > stored.len() + 2
    });
    let mut p = p;
    let pid = p.child.0.id().to_string();
    let term = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(term.success());
    let status = p.child.0.wait().unwrap();
    assert!(status.success(), "exit after SIGTERM: {status:?}");
    let stopped_secs = now_secs();
    let served_total = served.lock().unwrap().len();
    let port = free_port();
    let third = Pyrometer {
        port,
        child: spawn_pyrometer(&cfg, port, dir.path(), &flags),
        dir: tempfile::tempdir().unwrap(),
    };
    third.wait_ready();
    let after = stored_values(&third, started, stopped_secs);
    eprintln!(
        "after SIGTERM and restart: {} of {served_total} scrapes stored",
        after.len()
    );
    assert!(after.len() >= served_total - lost - 1, "{after:?}");
    stop.store(true, Ordering::Relaxed);
    drop(third);
    server.join().unwrap();
}
