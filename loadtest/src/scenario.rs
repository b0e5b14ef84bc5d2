//! The load scenarios and the scrape config each one gets.

use crate::sim::{target_addr, SimOptions};
use std::fmt::Write;

/// One load shape: the simulated targets, the scrape interval, and the measuring windows.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: &'static str,
    pub targets: usize,
    pub series: usize,
    pub churn: usize,
    pub interval_s: u64,
    pub timeout_s: u64,
    pub slow_pct: u32,
    pub slow_ms: u64,
    pub fail_pct: u32,
    pub flap_pct: u32,
    pub warmup_s: u64,
    pub window_s: u64,
}

const BASE: Scenario = Scenario {
    name: "",
    targets: 1,
    series: 100,
    churn: 0,
    interval_s: 10,
    timeout_s: 10,
    slow_pct: 0,
    slow_ms: 0,
    fail_pct: 0,
    flap_pct: 0,
    warmup_s: 30,
    window_s: 60,
};

/// The named scenarios. Windows cover several intervals; the warm-up covers the first
/// scrape of every target (series creation) and a little more.
pub const SCENARIOS: [Scenario; 6] = [
    Scenario {
        name: "tutorial",
        interval_s: 5,
        warmup_s: 10,
        ..BASE
    },
    Scenario {
        name: "many-targets",
        targets: 10_000,
        warmup_s: 40,
        ..BASE
    },
    Scenario {
        name: "fat-targets",
        targets: 200,
        series: 10_000,
        interval_s: 15,
        timeout_s: 15,
        warmup_s: 45,
        window_s: 90,
        ..BASE
    },
    Scenario {
        name: "churn",
        targets: 1_000,
        churn: 25,
        ..BASE
    },
    // 5% answer after the 5 s timeout, 5% answer HTTP 500.
    Scenario {
        name: "flaky",
        targets: 1_000,
        timeout_s: 5,
        slow_pct: 5,
        slow_ms: 7_000,
        fail_pct: 5,
        ..BASE
    },
    // The CI smoke: small enough for a debug build on a busy machine.
    Scenario {
        name: "smoke",
        targets: 100,
        interval_s: 2,
        timeout_s: 2,
        warmup_s: 6,
        window_s: 20,
        ..BASE
    },
];

pub fn find(name: &str) -> Option<Scenario> {
    SCENARIOS.iter().find(|s| s.name == name).cloned()
}

/// Most targets one simulator shard serves: two descriptors each must fit `ulimit -n`.
const TARGETS_PER_SHARD: usize = 4_000;

impl Scenario {
    /// Simulator shard options covering all targets.
    pub fn shards(&self, net: u8, port: u16, max_secs: u64) -> Vec<SimOptions> {
        let n = self.targets.div_ceil(TARGETS_PER_SHARD).max(1);
        let per = self.targets.div_ceil(n);
        (0..n)
            .map(|k| SimOptions {
                first: k * per,
                count: per.min(self.targets - k * per),
                series: self.series,
                churn: self.churn,
                net,
                port,
                control_port: 0,
                slow_pct: self.slow_pct,
                slow_ms: self.slow_ms,
                fail_pct: self.fail_pct,
                flap_pct: self.flap_pct,
                flap_secs: 30,
                threads: if n == 1 { 2 } else { 1 },
                max_secs,
            })
            .collect()
    }

    /// The prometheus.yml every system gets: one job `sim` with every target.
    pub fn config(&self, net: u8, port: u16) -> String {
        let timeout = self.timeout_s.min(self.interval_s);
        let mut y = format!(
            "global:\n  scrape_interval: {}s\n  scrape_timeout: {timeout}s\nscrape_configs:\n  - job_name: sim\n    static_configs:\n      - targets:\n",
            self.interval_s
        );
        for i in 0..self.targets {
            let _ = writeln!(y, "          - '{}'", target_addr(net, port, i));
        }
        y
    }

    /// Samples a second the scrapers should ingest: the bodies plus the five synthetic
    /// series per target.
    pub fn expected_rate(&self) -> f64 {
        let healthy = self.targets as f64 * (100 - self.slow_pct - self.fail_pct) as f64 / 100.0;
        (healthy * self.series as f64 + self.targets as f64 * 5.0) / self.interval_s as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_all_targets_once() {
        for s in SCENARIOS {
            let shards = s.shards(77, 9100, 10);
            let total: usize = shards.iter().map(|o| o.count).sum();
            assert_eq!(total, s.targets, "{}", s.name);
            assert!(shards.iter().all(|o| o.count <= TARGETS_PER_SHARD));
            for w in shards.windows(2) {
                assert_eq!(w[0].first + w[0].count, w[1].first);
            }
        }
        let y = find("tutorial").unwrap().config(77, 9100);
        assert!(y.contains("- '127.77.0.1:9100'"), "{y}");
        assert!(find("nope").is_none());
    }
}
