//! Real Prometheus clients against a running Pyrometer that scrapes a real exporter written
//! with the official Python client: `promtool query` (Debian's `prometheus` package) and
//! `prometheus_api_client.PrometheusConnect` (PyPI).

mod support;

use std::process::Command;
use std::time::Duration;
use support::*;

fn start() -> (Pyrometer, ChildGuard) {
    let app_port = free_port();
    let exporter = python_exporter(app_port);
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n- job_name: app\n  static_configs:\n    - targets: ['127.0.0.1:{app_port}']\n"
    );
    let p = Pyrometer::start(&config, &[]);
    wait_until(Duration::from_secs(20), "exporter scraped", || {
        !p.query("tutorial_requests_total").is_empty()
    });
    // A few more scrapes so range queries have several points.
    std::thread::sleep(Duration::from_secs(3));
    (p, exporter)
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (run .ci/run to install it)"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn promtool_queries() {
    let (p, _exporter) = start();
    let server = format!("http://127.0.0.1:{}", p.port);
    let out = run(Command::new("promtool").args([
        "query",
        "instant",
        &server,
        "tutorial_requests_total",
    ]));
    assert!(
        out.contains("tutorial_requests_total{") && out.contains("=> 3 @["),
        "promtool instant: {out}"
    );
    assert!(out.contains("job=\"app\""), "{out}");

    let out =
        run(Command::new("promtool").args(["query", "instant", &server, "sum by (job) (up) * 2"]));
    assert!(out.contains("{job=\"app\"} => 2 @["), "{out}");

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (start, end) = ((now - 3).to_string(), now.to_string());
    let out = run(Command::new("promtool").args([
        "query",
        "range",
        "--start",
        &start,
        "--end",
        &end,
        "--step",
        "1s",
        &server,
        "tutorial_temperature_celsius",
    ]));
    assert!(
        out.contains("tutorial_temperature_celsius{"),
        "promtool range: {out}"
    );
    assert!(
        out.matches("21.5 @[").count() >= 3,
        "range should have a point per step: {out}"
    );

    let out = run(Command::new("promtool").args(["query", "labels", &server, "job"]));
    assert!(
        out.lines().any(|l| l.trim() == "app"),
        "promtool labels: {out}"
    );
    let out = run(Command::new("promtool").args(["query", "series", "--match", "up", &server]));
    assert!(
        out.contains("up{") || out.contains("__name__=\"up\""),
        "promtool series: {out}"
    );
}

#[test]
fn python_api_client() {
    let (p, _exporter) = start();
    let script = format!(
        r#"
import datetime
from prometheus_api_client import PrometheusConnect
c = PrometheusConnect(url="http://127.0.0.1:{port}", disable_ssl=True)
assert c.check_prometheus_connection()
r = c.custom_query(query="tutorial_requests_total")
assert len(r) == 1 and r[0]["value"][1] == "3", r
assert r[0]["metric"]["job"] == "app", r
names = c.all_metrics()
assert "tutorial_temperature_celsius" in names and "up" in names, names
end = datetime.datetime.now()
start = end - datetime.timedelta(seconds=3)
rr = c.custom_query_range(query="tutorial_temperature_celsius", start_time=start, end_time=end, step="1")
assert len(rr) == 1 and len(rr[0]["values"]) >= 3 and rr[0]["values"][0][1] == "21.5", rr
d = c.get_current_metric_value(metric_name="up", label_config={{"job": "app"}})
assert d[0]["value"][1] == "1", d
print("python client ok")
"#,
        port = p.port
    );
    let out = run(Command::new("python3").args(["-c", &script]));
    assert!(out.contains("python client ok"), "{out}");
}
