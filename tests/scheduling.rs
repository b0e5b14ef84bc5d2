//! Scheduling of many targets: 500 targets at a 1 s interval, served by an in-test HTTP
//! server on loopback. Scrape starts are spread over the interval (no burst), a target's
//! scrapes never overlap, and no scrape is missed over 10 s.

mod support;

use std::time::Duration;
use support::farm::{now_ms, Farm, JITTER_MS};
use support::*;

const TARGETS: usize = 500;
/// Targets whose answer takes most of the interval, to show scrapes still do not overlap.
const SLOW_TARGETS: usize = 10;

#[test]
fn five_hundred_targets_spread_without_overlap_or_miss() {
    let farm = Farm::start(TARGETS, SLOW_TARGETS, Duration::from_millis(500));
    let ports = farm.ports.clone();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n- job_name: many\n  static_configs:\n    - targets: [{}]\n",
        Farm::targets(&ports)
    );
    let p = Pyrometer::start(&config, &[]);
    std::thread::sleep(Duration::from_millis(2500));
    let window_start = now_ms();
    std::thread::sleep(Duration::from_secs(10));
    let window_end = now_ms();
    std::thread::sleep(Duration::from_millis(500));
    drop(p);
    let log = farm.stop();
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
                (1000 - JITTER_MS..=1000 + JITTER_MS).contains(&gap),
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
