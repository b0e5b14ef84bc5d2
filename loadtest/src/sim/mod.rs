//! The target simulator: many `/metrics` endpoints on loopback, cheap to serve.
//!
//! One simulator process (a shard) serves targets `first..first+count`; target `i` listens
//! on its own address [`target_addr`] (127.NET.x.y, one port for all), so every target is a
//! distinct host to the scraper, as in production. Bodies are rendered once per generation
//! (every second) and shared; a scrape costs one header parse and one write. A shard needs
//! two file descriptors per target (listener and kept-alive connection), so the harness
//! splits large target counts over several shards to stay under `ulimit -n`.
//!
//! Each shard records the arrival time of every scrape per target and answers on a control
//! port: `GET /reset` starts a new recording window, `GET /dump` returns it (see
//! [`record`]) with the shard's own CPU seconds.

pub mod body;
pub mod record;
mod server;

pub use server::run_shard;

use std::net::{Ipv4Addr, SocketAddrV4};

/// Options of one simulator shard; the harness passes them on the command line.
#[derive(Debug, Clone, clap::Args)]
pub struct SimOptions {
    /// Index of the first target of this shard.
    #[arg(long, default_value_t = 0)]
    pub first: usize,
    /// Number of targets this shard serves.
    #[arg(long, default_value_t = 1)]
    pub count: usize,
    /// Series per target.
    #[arg(long, default_value_t = 100)]
    pub series: usize,
    /// Series per target whose label values change every generation (churn).
    #[arg(long, default_value_t = 0)]
    pub churn: usize,
    /// Second octet of the targets' loopback addresses (127.NET.x.y).
    #[arg(long, default_value_t = 77)]
    pub net: u8,
    /// Port every target listens on (each on its own address).
    #[arg(long, default_value_t = 9100)]
    pub port: u16,
    /// Control port on 127.0.0.1 (0 picks one; printed on the ready line).
    #[arg(long, default_value_t = 0)]
    pub control_port: u16,
    /// Percent of targets that answer late by --slow-ms.
    #[arg(long, default_value_t = 0)]
    pub slow_pct: u32,
    #[arg(long, default_value_t = 0)]
    pub slow_ms: u64,
    /// Percent of targets that always answer HTTP 500.
    #[arg(long, default_value_t = 0)]
    pub fail_pct: u32,
    /// Percent of targets that alternate --flap-secs up and --flap-secs failing.
    #[arg(long, default_value_t = 0)]
    pub flap_pct: u32,
    #[arg(long, default_value_t = 30)]
    pub flap_secs: u64,
    /// Worker threads of this shard.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// The shard exits by itself after this many seconds.
    #[arg(long, default_value_t = 3600)]
    pub max_secs: u64,
}

impl SimOptions {
    /// The command-line form of these options, for spawning a shard.
    pub fn to_args(&self) -> Vec<String> {
        let pairs: [(&str, String); 14] = [
            ("--first", self.first.to_string()),
            ("--count", self.count.to_string()),
            ("--series", self.series.to_string()),
            ("--churn", self.churn.to_string()),
            ("--net", self.net.to_string()),
            ("--port", self.port.to_string()),
            ("--control-port", self.control_port.to_string()),
            ("--slow-pct", self.slow_pct.to_string()),
            ("--slow-ms", self.slow_ms.to_string()),
            ("--fail-pct", self.fail_pct.to_string()),
            ("--flap-pct", self.flap_pct.to_string()),
            ("--flap-secs", self.flap_secs.to_string()),
            ("--threads", self.threads.to_string()),
            ("--max-secs", self.max_secs.to_string()),
        ];
        pairs
            .into_iter()
            .flat_map(|(k, v)| [k.to_string(), v])
            .collect()
    }

    /// How target `i` behaves. Kinds are assigned by `i % 100`, so any 100 consecutive
    /// targets hold the configured percentages exactly.
    pub fn kind(&self, i: usize) -> TargetKind {
        let r = (i % 100) as u32;
        if r < self.slow_pct {
            TargetKind::Slow
        } else if r < self.slow_pct + self.fail_pct {
            TargetKind::Failing
        } else if r < self.slow_pct + self.fail_pct + self.flap_pct {
            TargetKind::Flapping
        } else {
            TargetKind::Healthy
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Healthy,
    Slow,
    Failing,
    Flapping,
}

/// The address of target `i`: 127.NET.(i / 250).(i % 250 + 1), so up to 64,000 targets.
pub fn target_addr(net: u8, port: u16, i: usize) -> SocketAddrV4 {
    let ip = Ipv4Addr::new(127, net, (i / 250) as u8, (i % 250 + 1) as u8);
    SocketAddrV4::new(ip, port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        o: SimOptions,
    }

    #[test]
    fn options_round_trip_through_args() {
        let o = Wrap::parse_from(["x", "--count", "7", "--slow-pct", "5", "--slow-ms", "900"]).o;
        let mut args = vec!["x".to_string()];
        args.extend(o.to_args());
        let back = Wrap::parse_from(args).o;
        assert_eq!(format!("{o:?}"), format!("{back:?}"));
        assert_eq!(back.kind(4), TargetKind::Slow);
        assert_eq!(back.kind(5), TargetKind::Healthy);
    }

    #[test]
    fn addresses_are_distinct() {
        assert_eq!(target_addr(77, 9100, 0).to_string(), "127.77.0.1:9100");
        assert_eq!(target_addr(77, 9100, 250).to_string(), "127.77.1.1:9100");
        assert_eq!(
            target_addr(77, 9100, 9999).to_string(),
            "127.77.39.250:9100"
        );
    }
}
