//! Helpers for integration tests that run real processes on loopback ports.
#![allow(dead_code)]

pub mod farm;
pub mod tls;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port (bound and released; good enough for tests on one machine).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

/// A child process killed (by its own PID) and reaped when dropped.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running Pyrometer on a loopback port with its own config and data directory.
pub struct Pyrometer {
    pub port: u16,
    pub child: ChildGuard,
    pub dir: tempfile::TempDir,
}

impl Pyrometer {
    /// Starts the binary with `config` (YAML) and extra flags; waits until `/-/ready`.
    pub fn start(config: &str, extra: &[&str]) -> Pyrometer {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let cfg_path = dir.path().join("prometheus.yml");
        std::fs::write(
            &cfg_path,
            config.replace("{SELF}", &format!("127.0.0.1:{port}")),
        )
        .expect("write config");
        let child = spawn_pyrometer(&cfg_path, port, dir.path(), extra);
        let p = Pyrometer { port, child, dir };
        p.wait_ready();
        p
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    pub fn wait_ready(&self) {
        wait_until(Duration::from_secs(30), "pyrometer ready", || {
            get(&self.url("/-/ready"))
                .map(|(code, _)| code == 200)
                .unwrap_or(false)
        });
    }

    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let (code, body) = get(&self.url(path)).unwrap_or_else(|e| panic!("GET {path}: {e}"));
        serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("GET {path} answered {code} with non-JSON {body:?}: {e}"))
    }

    /// `/api/v1/query` result array for `q` (URL-encoded here).
    pub fn query(&self, q: &str) -> Vec<serde_json::Value> {
        let v = self.get_json(&format!("/api/v1/query?query={}", urlencode(q)));
        assert_eq!(v["status"], "success", "query {q}: {v}");
        v["data"]["result"].as_array().cloned().unwrap_or_default()
    }
}

pub fn spawn_pyrometer(cfg: &Path, port: u16, data: &Path, extra: &[&str]) -> ChildGuard {
    let child = Command::new(env!("CARGO_BIN_EXE_pyrometer"))
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!(
            "--storage.tsdb.path={}",
            data.join("data").display()
        ))
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start pyrometer");
    ChildGuard(child)
}

/// GET returning (status, body) for any status; Err only on transport failure.
pub fn get(url: &str) -> Result<(u16, String), String> {
    match ureq::get(url).timeout(Duration::from_secs(10)).call() {
        Ok(r) => {
            let code = r.status();
            Ok((code, r.into_string().map_err(|e| e.to_string())?))
        }
        Err(ureq::Error::Status(code, r)) => Ok((code, r.into_string().unwrap_or_default())),
        Err(e) => Err(e.to_string()),
    }
}

pub fn post(url: &str, form: &[(&str, &str)]) -> Result<(u16, String), String> {
    match ureq::post(url)
        .timeout(Duration::from_secs(10))
        .send_form(form)
    {
        Ok(r) => {
            let code = r.status();
            Ok((code, r.into_string().map_err(|e| e.to_string())?))
        }
        Err(ureq::Error::Status(code, r)) => Ok((code, r.into_string().unwrap_or_default())),
        Err(e) => Err(e.to_string()),
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Polls `cond` every 100 ms until it holds; panics with `what` after `limit`.
pub fn wait_until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out after {limit:?} waiting for {what}");
}

/// Starts a Python exporter using the official client library on `port`, exposing
/// `tutorial_requests_total` = 3 and `tutorial_temperature_celsius` = 21.5.
pub fn python_exporter(port: u16) -> ChildGuard {
    let script = format!(
        "import time\n\
from prometheus_client import start_http_server, Counter, Gauge\n\
c = Counter('tutorial_requests', 'Requests handled.', ['path'])\n\
c.labels(path='/').inc(3)\n\
g = Gauge('tutorial_temperature_celsius', 'A temperature.')\n\
g.set(21.5)\n\
start_http_server({port}, addr='127.0.0.1')\n\
time.sleep(120)\n"
    );
    let child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 with prometheus_client is needed: run .ci/run or pip install prometheus-client");
    ChildGuard(child)
}
