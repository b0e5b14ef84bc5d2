//! One measured run of one system against the running simulator: warm-up, then a steady
//! window over which every figure of a [`Row`] is taken.

use crate::fleet::Fleet;
use crate::lag::{analyze, quantile};
use crate::procstat;
use crate::scenario::Scenario;
use crate::system::{Running, System};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The figures of one run; NaN where a system does not expose a figure.
#[derive(Debug, Clone)]
pub struct Row {
    pub system: System,
    pub samples_per_s: f64,
    pub cpu_cores: f64,
    pub cpu_s_per_m_samples: f64,
    pub rss_mib: f64,
    pub series: f64,
    pub rss_bytes_per_series: f64,
    pub scrape_ms_avg: f64,
    pub scrape_ms_p99: f64,
    pub lag_ms_p50: f64,
    pub lag_ms_p99: f64,
    pub missed: f64,
    pub targets_down: f64,
    pub q_rate_ms: f64,
    pub q_instant_ms: f64,
    pub q_range_ms: f64,
    pub sim_cpu_cores: f64,
}

/// The dashboard queries, timed after the window: (label, query, is range query).
pub const QUERIES: [(&str, &str, bool); 3] = [
    (
        "rate",
        "sum by (handler)(rate(http_requests_total[1m]))",
        false,
    ),
    ("instant", "app_queue_depth{queue=\"q1\"}", false),
    (
        "range",
        "sum by (code)(rate(http_requests_total[1m]))",
        true,
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    #[error(transparent)]
    System(#[from] crate::system::SystemError),
    #[error(transparent)]
    Fleet(#[from] crate::fleet::FleetError),
    #[error(transparent)]
    Proc(#[from] procstat::ProcError),
    #[error("{system} exposes no {what} in its /metrics")]
    NoMetric {
        system: &'static str,
        what: &'static str,
    },
}

fn unix_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Runs `system` against the fleet for the scenario's warm-up and window.
pub fn measure(
    system: System,
    bin: &Path,
    config: &Path,
    dir: &Path,
    s: &Scenario,
    fleet: &Fleet,
) -> Result<Row, MeasureError> {
    let run = Running::start(system, bin, config, dir)?;
    std::thread::sleep(Duration::from_secs(s.warmup_s));
    let sim_cpu0 = fleet.reset()?;
    let (cpu0, t0, wall0) = (
        procstat::cpu_seconds(run.pid())?,
        Instant::now(),
        unix_secs(),
    );
    let samples0 = system
        .samples_total(&run.metrics())
        .ok_or(MeasureError::NoMetric {
            system: system.name(),
            what: "samples counter",
        })?;
    std::thread::sleep(Duration::from_secs(s.window_s));
    let metrics = run.metrics();
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu = procstat::cpu_seconds(run.pid())? - cpu0;
    let rss = procstat::rss_bytes(run.pid())? as f64;
    let dump = fleet.dump()?;
    let wall1 = unix_secs();
    let samples = system.samples_total(&metrics).unwrap_or(f64::NAN) - samples0;
    let series = system.head_series(&metrics).unwrap_or(f64::NAN);

    let interval_us = s.interval_s * 1_000_000;
    let (mut lags, mut missed) = (Vec::new(), 0);
    for times in dump.targets.values() {
        let t = analyze(times, interval_us, dump.window_us.0, dump.window_us.1);
        lags.extend(t.lags_ms);
        missed += t.missed;
    }
    let q = |expr: &str| instant_value(&run.base, expr, wall1);
    let scrape_avg = q("avg(scrape_duration_seconds{job=\"sim\"})") * 1000.0;
    let scrape_p99 = q("quantile(0.99, scrape_duration_seconds{job=\"sim\"})") * 1000.0;
    let down = q("count(up{job=\"sim\"} == 0) or vector(0)");
    let mut timings = [0.0; 3];
    for (k, (_, expr, range)) in QUERIES.iter().enumerate() {
        timings[k] = time_query(&run.base, expr, *range, wall0, wall1);
    }
    drop(run);
    Ok(Row {
        system,
        samples_per_s: samples / elapsed,
        cpu_cores: cpu / elapsed,
        cpu_s_per_m_samples: cpu / (samples / 1e6),
        rss_mib: rss / (1024.0 * 1024.0),
        series,
        rss_bytes_per_series: rss / series,
        scrape_ms_avg: scrape_avg,
        scrape_ms_p99: scrape_p99,
        lag_ms_p50: quantile(&mut lags, 0.5),
        lag_ms_p99: quantile(&mut lags, 0.99),
        missed: missed as f64,
        targets_down: down,
        q_rate_ms: timings[0],
        q_instant_ms: timings[1],
        q_range_ms: timings[2],
        sim_cpu_cores: (dump.cpu_seconds - sim_cpu0) / elapsed,
    })
}

fn api_get(base: &str, path: &str, params: &[(&str, String)]) -> Option<Value> {
    let mut req = ureq::get(&format!("{base}{path}")).timeout(Duration::from_secs(120));
    for (k, v) in params {
        req = req.query(k, v);
    }
    let body = match req.call() {
        Ok(r) => r.into_string().ok()?,
        Err(ureq::Error::Status(code, r)) => {
            let text = r.into_string().unwrap_or_default();
            eprintln!(
                "  {path} answered HTTP {code}: {}",
                text.chars().take(300).collect::<String>()
            );
            return None;
        }
        Err(e) => {
            eprintln!("  {path} failed: {e}");
            return None;
        }
    };
    serde_json::from_str(&body).ok()
}

/// The first value of an instant query's vector result; NaN if none.
fn instant_value(base: &str, expr: &str, at: f64) -> f64 {
    let v = api_get(
        base,
        "/api/v1/query",
        &[("query", expr.to_string()), ("time", format!("{at:.3}"))],
    );
    v.as_ref()
        .and_then(|v| v.pointer("/data/result/0/value/1"))
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Median wall time (ms) of a query: nine runs, or three when those took over 10 s (a
/// millisecond query needs more runs to get past a stray scheduling delay; a
/// many-second one does not); NaN if it fails.
fn time_query(base: &str, expr: &str, range: bool, start: f64, end: f64) -> f64 {
    let mut times = Vec::new();
    let begun = Instant::now();
    for k in 0..9 {
        if k == 3 && begun.elapsed() > Duration::from_secs(10) {
            break;
        }
        let t = Instant::now();
        let ok = if range {
            let step = ((end - start) / 60.0).max(1.0);
            api_get(
                base,
                "/api/v1/query_range",
                &[
                    ("query", expr.to_string()),
                    ("start", format!("{start:.3}")),
                    ("end", format!("{end:.3}")),
                    ("step", format!("{step:.3}")),
                ],
            )
        } else {
            api_get(
                base,
                "/api/v1/query",
                &[("query", expr.to_string()), ("time", format!("{end:.3}"))],
            )
        };
        let ok = ok.is_some_and(|v| v.get("status").and_then(Value::as_str) == Some("success"));
        if !ok {
            return f64::NAN;
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    quantile(&mut times, 0.5)
}
