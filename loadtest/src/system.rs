//! The scrapers under test: how to start each one, when it is ready, and what its own
//! metrics call the figures we compare.

use std::fs::File;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    Pyrometer,
    Prometheus,
    VictoriaMetrics,
}

#[derive(Debug, thiserror::Error)]
pub enum SystemError {
    #[error("unknown system {0:?}; use pyrometer, prometheus or victoria-metrics")]
    Unknown(String),
    #[error("{name} binary {path:?} not found; {hint}")]
    Missing {
        name: &'static str,
        path: PathBuf,
        hint: &'static str,
    },
    #[error("starting {name}: {source}")]
    Spawn {
        name: &'static str,
        source: std::io::Error,
    },
    #[error("{name} on {url} not ready after {secs} s; see its log {log:?}")]
    NotReady {
        name: &'static str,
        url: String,
        secs: u64,
        log: PathBuf,
    },
    #[error("{name} exited early ({status}); see its log {log:?}")]
    Exited {
        name: &'static str,
        status: String,
        log: PathBuf,
    },
    #[error("no free loopback port: {0}")]
    Port(std::io::Error),
}

impl System {
    pub fn parse(s: &str) -> Result<System, SystemError> {
        match s {
            "pyrometer" => Ok(System::Pyrometer),
            "prometheus" => Ok(System::Prometheus),
            "victoria-metrics" | "victoriametrics" | "vm" => Ok(System::VictoriaMetrics),
            other => Err(SystemError::Unknown(other.to_string())),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            System::Pyrometer => "pyrometer",
            System::Prometheus => "prometheus",
            System::VictoriaMetrics => "victoria-metrics",
        }
    }

    pub fn binary(self, pyrometer: &Path) -> Result<PathBuf, SystemError> {
        let (path, hint) = match self {
            System::Pyrometer => (
                pyrometer.to_path_buf(),
                "build it first: cargo build --release --bin pyrometer",
            ),
            System::Prometheus => (
                PathBuf::from("/usr/bin/prometheus"),
                "install it: apt-get install prometheus",
            ),
            System::VictoriaMetrics => (
                PathBuf::from("/usr/bin/victoria-metrics"),
                "install it: apt-get install victoria-metrics",
            ),
        };
        if path.exists() {
            Ok(path)
        } else {
            Err(SystemError::Missing {
                name: self.name(),
                path,
                hint,
            })
        }
    }

    fn args(self, config: &Path, port: u16, data: &Path) -> Vec<String> {
        let (c, d) = (config.display(), data.display());
        match self {
            System::Pyrometer | System::Prometheus => vec![
                format!("--config.file={c}"),
                format!("--web.listen-address=127.0.0.1:{port}"),
                format!("--storage.tsdb.path={d}"),
            ],
            System::VictoriaMetrics => vec![
                format!("-promscrape.config={c}"),
                format!("-httpListenAddr=127.0.0.1:{port}"),
                format!("-storageDataPath={d}"),
                "-retentionPeriod=1d".to_string(),
                // Its default hides the last 30 s from queries; the others answer up to now.
                "-search.latencyOffset=0s".to_string(),
                // Its default refuses queries over more than 300k series; the dashboards
                // here touch up to 1M, which the others answer.
                "-search.maxUniqueTimeseries=5000000".to_string(),
            ],
        }
    }

    fn ready_path(self) -> &'static str {
        match self {
            System::VictoriaMetrics => "/health",
            _ => "/-/ready",
        }
    }

    /// Samples ingested so far, from the system's own `/metrics`.
    pub fn samples_total(self, metrics: &str) -> Option<f64> {
        match self {
            System::VictoriaMetrics => metric_sum(metrics, "vm_rows_inserted_total", ""),
            _ => metric_sum(metrics, "prometheus_tsdb_head_samples_appended_total", ""),
        }
    }

    /// Active series, from the system's own `/metrics`.
    pub fn head_series(self, metrics: &str) -> Option<f64> {
        match self {
            // Series created since start: every run starts on an empty data directory, so
            // this is every series it holds, churned ones included, as a head counts them.
            // (Its per-hour set, `vm_cache_entries{type="storage/hour_metric_ids"}`, empties
            // at each new hour and read 0 for runs that began just after one.)
            System::VictoriaMetrics => metric_sum(metrics, "vm_new_timeseries_created_total", ""),
            _ => metric_sum(metrics, "prometheus_tsdb_head_series", ""),
        }
    }

    /// The version line the binary prints.
    pub fn version(self, bin: &Path) -> String {
        let flag = match self {
            System::VictoriaMetrics => "-version",
            _ => "--version",
        };
        let out = Command::new(bin).arg(flag).output();
        out.ok()
            .map(|o| {
                let mut s = String::from_utf8_lossy(&o.stdout).to_string();
                s.push_str(&String::from_utf8_lossy(&o.stderr));
                s.lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("")
                    .trim()
                    .to_string()
            })
            .filter(|s| !s.is_empty())
            .or_else(|| package_version(bin))
            .unwrap_or_else(|| "unknown".to_string())
    }
}

/// The Debian package version of an installed binary (some builds print no version).
fn package_version(bin: &Path) -> Option<String> {
    let name = bin.file_name()?.to_str()?;
    let out = Command::new("dpkg-query")
        .args(["-W", "-f", "${Version}", name])
        .output()
        .ok()?;
    let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!v.is_empty()).then(|| format!("{name} {v} (Debian package)"))
}

/// Sum of the values of every sample of `name` whose label text contains `label_filter`.
pub fn metric_sum(text: &str, name: &str, label_filter: &str) -> Option<f64> {
    let mut found = None;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        if !(rest.starts_with('{') || rest.starts_with(' ')) || !rest.contains(label_filter) {
            continue;
        }
        let value = rest.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok());
        if let Some(v) = value {
            *found.get_or_insert(0.0) += v;
        }
    }
    found
}

pub fn free_port() -> Result<u16, SystemError> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(SystemError::Port)?;
    l.local_addr().map(|a| a.port()).map_err(SystemError::Port)
}

/// A started system; stopped (SIGTERM, then SIGKILL after 30 s) when dropped.
pub struct Running {
    pub child: Child,
    pub base: String,
}

impl Running {
    pub fn start(
        system: System,
        bin: &Path,
        config: &Path,
        dir: &Path,
    ) -> Result<Running, SystemError> {
        let port = free_port()?;
        let data = dir.join(format!("data-{}", system.name()));
        let log = dir.join(format!("{}.log", system.name()));
        let spawn_err = |source| SystemError::Spawn {
            name: system.name(),
            source,
        };
        let out = File::create(&log).map_err(spawn_err)?;
        let err = out.try_clone().map_err(spawn_err)?;
        let mut cmd = Command::new(bin);
        cmd.args(system.args(config, port, &data))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        // `Drop` stops the server on every normal exit.
        die_with_harness(&mut cmd);
        let child = cmd.spawn().map_err(spawn_err)?;
        let mut r = Running {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let url = format!("{}{}", r.base, system.ready_path());
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = r.child.try_wait() {
                return Err(SystemError::Exited {
                    name: system.name(),
                    status: status.to_string(),
                    log,
                });
            }
            let ok = ureq::get(&url)
                .timeout(Duration::from_secs(2))
                .call()
                .is_ok();
            if ok {
                return Ok(r);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(SystemError::NotReady {
            name: system.name(),
            url,
            secs: 120,
            log,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn metrics(&self) -> String {
        ureq::get(&format!("{}/metrics", self.base))
            .timeout(Duration::from_secs(30))
            .call()
            .ok()
            .and_then(|r| r.into_string().ok())
            .unwrap_or_default()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // SAFETY: signals only the child this struct started, by its pid.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The kernel sends the child SIGTERM if the harness dies, even by a signal that skips
/// every `Drop`: no server or simulator outlives the run that started it.
pub(crate) fn die_with_harness(cmd: &mut Command) {
    // SAFETY: the closure runs in the forked child before exec and only calls `prctl`,
    // which is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_sums() {
        let text = "# HELP x\nfoo_total 3\nfoo_total_bar 100\nfoo_total{type=\"a\"} 2\nfoo_total{type=\"b\"} 5e0\n";
        assert_eq!(metric_sum(text, "foo_total", ""), Some(10.0));
        assert_eq!(metric_sum(text, "foo_total", "type=\"b\""), Some(5.0));
        assert_eq!(metric_sum(text, "nope", ""), None);
        assert!(System::parse("vm").is_ok());
        assert!(System::parse("graphite").is_err());
    }
}
