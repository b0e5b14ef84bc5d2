//! Scheduling of many targets: 500 targets at a 1 s interval, served by an in-test HTTP
//! server on loopback. Scrape starts are spread over the interval (no burst), a target's
//! scrapes never overlap, and no scrape is missed over 10 s.

mod support;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::*;

const TARGETS: usize = 500;
/// Targets whose answer takes most of the interval, to show scrapes still do not overlap.
const SLOW_TARGETS: usize = 10;

#[derive(Default)]
struct Log {
    /// port → scrape start times (ms since the epoch)
    starts: HashMap<u16, Vec<i64>>,
    in_flight: HashMap<u16, usize>,
    max_in_flight: usize,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

async fn metrics(
    req: HttpRequest,
    log: web::Data<Arc<Mutex<Log>>>,
    slow: web::Data<Vec<u16>>,
) -> HttpResponse {
    let port = req.app_config().local_addr().port();
    {
        let mut l = log.lock();
        l.starts.entry(port).or_default().push(now_ms());
        let n = l.in_flight.entry(port).or_default();
        *n += 1;
        let n = *n;
        l.max_in_flight = l.max_in_flight.max(n);
    }
    if slow.contains(&port) {
        actix_web::rt::time::sleep(Duration::from_millis(600)).await;
    }
    *log.lock().in_flight.entry(port).or_default() -= 1;
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(format!("# TYPE m gauge\nm{{port=\"{port}\"}} 1\n"))
}

#[test]
fn five_hundred_targets_spread_without_overlap_or_miss() {
    let listeners: Vec<std::net::TcpListener> = (0..TARGETS)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    let ports: Vec<u16> = listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()).unwrap_or(0))
        .collect();
    let slow: Vec<u16> = ports[..SLOW_TARGETS].to_vec();
    let log = Arc::new(Mutex::new(Log::default()));

    let (tx, rx) = std::sync::mpsc::channel();
    let server_log = log.clone();
    let server_slow = slow.clone();
    let server_thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let mut server = HttpServer::new(move || {
                App::new()
                    .app_data(web::Data::new(server_log.clone()))
                    .app_data(web::Data::new(server_slow.clone()))
                    .route("/metrics", web::get().to(metrics))
            })
            .workers(2)
            .disable_signals();
            for l in listeners {
                server = server.listen(l).expect("listen");
            }
            let server = server.run();
            let _ = tx.send(server.handle());
            let _ = server.await;
        })
    });
    let handle = rx.recv().expect("server handle");

    let targets: Vec<String> = ports.iter().map(|p| format!("'127.0.0.1:{p}'")).collect();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n- job_name: many\n  static_configs:\n    - targets: [{}]\n",
        targets.join(", ")
    );
    let p = Pyrometer::start(&config, &[]);
    std::thread::sleep(Duration::from_millis(2500));
    let window_start = now_ms();
    std::thread::sleep(Duration::from_secs(10));
    let window_end = now_ms();
    std::thread::sleep(Duration::from_millis(500));
    drop(p);
    actix_web::rt::System::new().block_on(handle.stop(false));
    let _ = server_thread.join();

    let log = log.lock();
    assert_eq!(
        log.max_in_flight, 1,
        "a target was scraped while its previous scrape was running"
    );
    let mut phase_buckets = [0usize; 10];
    for port in &ports {
        let starts: Vec<i64> = log.starts.get(port).cloned().unwrap_or_default();
        let in_window: Vec<i64> = starts
            .iter()
            .copied()
            .filter(|t| (window_start..window_end).contains(t))
            .collect();
        assert!(
            (9..=11).contains(&in_window.len()),
            "target {port} was scraped {} times in a 10 s window at a 1 s interval",
            in_window.len()
        );
        for pair in in_window.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                (700..=1300).contains(&gap),
                "target {port}: {gap} ms between scrapes at a 1 s interval"
            );
        }
        if let Some(first) = in_window.first() {
            phase_buckets[(first.rem_euclid(1000) / 100) as usize] += 1;
        }
    }
    // Uniform phases put 50 targets in each 100 ms slice; a burst would pile them into few.
    let max = phase_buckets.iter().copied().max().unwrap_or(0);
    let min = phase_buckets.iter().copied().min().unwrap_or(0);
    assert!(
        max <= 90 && min >= 15,
        "scrape starts are not spread over the interval: {phase_buckets:?}"
    );
}
