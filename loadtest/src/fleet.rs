//! The simulator shards of a scenario, as child processes of the harness.

use crate::scenario::Scenario;
use crate::sim::record::{parse_dump, Dump};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("starting simulator shard {shard}: {reason}")]
    Start { shard: usize, reason: String },
    #[error("simulator control {url}: {reason}")]
    Control { url: String, reason: String },
}

pub struct Fleet {
    shards: Vec<(Child, String)>,
}

impl Fleet {
    /// Starts one process per shard and waits until each has bound its targets.
    pub fn start(s: &Scenario, net: u8, port: u16, max_secs: u64) -> Result<Fleet, FleetError> {
        let exe = std::env::current_exe().map_err(|e| FleetError::Start {
            shard: 0,
            reason: e.to_string(),
        })?;
        let mut fleet = Fleet { shards: Vec::new() };
        for (k, opts) in s.shards(net, port, max_secs).into_iter().enumerate() {
            let err = |reason: String| FleetError::Start { shard: k, reason };
            let mut cmd = Command::new(&exe);
            cmd.arg("sim")
                .args(opts.to_args())
                .stdin(Stdio::null())
                .stdout(Stdio::piped());
            crate::system::die_with_harness(&mut cmd);
            let mut child = cmd.spawn().map_err(|e| err(e.to_string()))?;
            let mut line = String::new();
            if let Some(out) = child.stdout.take() {
                let _ = BufReader::new(out).read_line(&mut line);
            }
            let Some(addr) = line.trim().strip_prefix("ready ") else {
                let _ = child.kill();
                let _ = child.wait();
                return Err(err(format!(
                    "it did not report ready (said {:?})",
                    line.trim()
                )));
            };
            let url = format!("http://{addr}");
            fleet.shards.push((child, url));
        }
        Ok(fleet)
    }

    fn get(url: &str) -> Result<String, FleetError> {
        let err = |reason: String| FleetError::Control {
            url: url.to_string(),
            reason,
        };
        ureq::get(url)
            .timeout(Duration::from_secs(30))
            .call()
            .map_err(|e| err(e.to_string()))?
            .into_string()
            .map_err(|e| err(e.to_string()))
    }

    /// Starts a new recording window on every shard; returns their CPU seconds so far.
    pub fn reset(&self) -> Result<f64, FleetError> {
        let mut cpu = 0.0;
        for (_, base) in &self.shards {
            Self::get(&format!("{base}/reset"))?;
            cpu += self.dump_one(base)?.cpu_seconds;
        }
        Ok(cpu)
    }

    fn dump_one(&self, base: &str) -> Result<Dump, FleetError> {
        let url = format!("{base}/dump");
        parse_dump(&Self::get(&url)?).map_err(|e| FleetError::Control {
            url,
            reason: e.to_string(),
        })
    }

    /// The recordings of every shard merged; the window is the earliest start to the latest
    /// end, and CPU the sum.
    pub fn dump(&self) -> Result<Dump, FleetError> {
        let mut all = Dump::default();
        for (_, base) in &self.shards {
            let d = self.dump_one(base)?;
            all.cpu_seconds += d.cpu_seconds;
            if all.window_us.0 == 0 || d.window_us.0 < all.window_us.0 {
                all.window_us.0 = d.window_us.0;
            }
            all.window_us.1 = all.window_us.1.max(d.window_us.1);
            all.targets.extend(d.targets);
        }
        Ok(all)
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for (child, _) in &mut self.shards {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
