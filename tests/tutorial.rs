//! The Prometheus getting-started tutorial, end to end with real processes: a target that is
//! DOWN until an app using the official Python client library serves `/metrics`, then UP,
//! with its metrics queryable; and Pyrometer scraping its own `/metrics`.

mod support;

use std::time::Duration;
use support::*;

fn target<'a>(targets: &'a serde_json::Value, job: &str) -> &'a serde_json::Value {
    targets["data"]["activeTargets"]
        .as_array()
        .and_then(|a| a.iter().find(|t| t["scrapePool"] == job))
        .unwrap_or_else(|| panic!("no target of job {job} in {targets}"))
}

#[test]
fn tutorial_flow_down_then_up() {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import prometheus_client"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "python3 with prometheus_client is required: run .ci/run (pip install prometheus-client)"
    );

    let app_port = free_port();
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n- job_name: app\n  static_configs:\n    - targets: ['localhost:{app_port}']\n- job_name: pyrometer\n  static_configs:\n    - targets: ['{{SELF}}']\n"
    );
    let p = Pyrometer::start(&config, &[]);

    // Before the app exists: the target is known, then DOWN with the connection error.
    let t = p.get_json("/api/v1/targets");
    let app = target(&t, "app");
    assert_eq!(
        app["scrapeUrl"],
        format!("http://localhost:{app_port}/metrics")
    );
    assert_eq!(app["labels"]["instance"], format!("localhost:{app_port}"));
    assert_eq!(app["labels"]["job"], "app");
    assert_eq!(app["scrapeInterval"], "1s");
    assert!(
        ["unknown", "down"].contains(&app["health"].as_str().unwrap_or("")),
        "{app}"
    );
    wait_until(Duration::from_secs(10), "app target DOWN", || {
        target(&p.get_json("/api/v1/targets"), "app")["health"] == "down"
    });
    let t = p.get_json("/api/v1/targets");
    let err = target(&t, "app")["lastError"]
        .as_str()
        .unwrap_or("")
        .to_lowercase();
    assert!(
        err.contains("refused") || err.contains("connect"),
        "lastError should name the connection failure: {err}"
    );

    let (code, page) = get(&p.url("/targets")).expect("targets page");
    assert_eq!(code, 200);
    assert!(
        page.contains(">app<") && page.contains("DOWN"),
        "targets page lacks the app job or DOWN state"
    );
    assert_eq!(p.query("up{job=\"app\"}")[0]["value"][1], "0");

    // The app starts exposing metrics with the official client library: UP on the next scrape.
    let _app = python_exporter(app_port);
    wait_until(Duration::from_secs(20), "app target UP", || {
        target(&p.get_json("/api/v1/targets"), "app")["health"] == "up"
    });
    let t = p.get_json("/api/v1/targets");
    assert_eq!(target(&t, "app")["lastError"], "");
    let (_, page) = get(&p.url("/targets")).expect("targets page");
    assert!(page.contains("UP"), "targets page should show UP");

    wait_until(Duration::from_secs(10), "up == 1 for both jobs", || {
        let r = p.query("up");
        r.len() == 2 && r.iter().all(|s| s["value"][1] == "1")
    });
    let r = p.query("tutorial_requests_total");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0]["metric"]["path"], "/");
    assert_eq!(r[0]["metric"]["job"], "app");
    assert_eq!(r[0]["value"][1], "3");
    let r = p.query("tutorial_temperature_celsius{job=~\"a.p\", instance!=\"x\"}");
    assert_eq!(r[0]["value"][1], "21.5");
    assert!(p.query("scrape_samples_scraped{job=\"app\"}")[0]["value"][1] != "0");

    // Pyrometer scraping itself.
    let r = p.query("prometheus_tsdb_head_series{job=\"pyrometer\"}");
    assert_eq!(r.len(), 1, "self-scrape missing: {r:?}");
    assert!(
        r[0]["value"][1]
            .as_str()
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            > 0.0
    );

    // Metadata from the app's HELP/TYPE lines.
    let m = p.get_json("/api/v1/metadata?metric=tutorial_requests");
    assert_eq!(m["data"]["tutorial_requests"][0]["type"], "counter", "{m}");
}

#[test]
fn api_errors_use_prometheus_shape() {
    let p = Pyrometer::start("scrape_configs: []\n", &[]);
    let (code, body) = get(&p.url("/api/v1/query?query=up%7B")).expect("query");
    assert_eq!(code, 400);
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["status"], "error");
    assert_eq!(v["errorType"], "bad_data");
    let (code, _) = get(&p.url("/api/v1/query")).expect("query");
    assert_eq!(code, 400);
    let (code, body) = post(&p.url("/api/v1/query"), &[("query", "vector(1)")]).expect("post");
    assert_eq!(code, 200, "{body}");
    let (code, _) = post(&p.url("/-/reload"), &[]).expect("reload");
    assert_eq!(
        code, 403,
        "reload must be refused without --web.enable-lifecycle"
    );
    for path in [
        "/api/v1/status/config",
        "/api/v1/status/flags",
        "/api/v1/status/buildinfo",
        "/api/v1/status/runtimeinfo",
        "/api/v1/status/tsdb",
        "/-/healthy",
        "/metrics",
    ] {
        let (code, _) = get(&p.url(path)).expect(path);
        assert_eq!(code, 200, "{path}");
    }
    let flags = p.get_json("/api/v1/status/flags");
    assert_eq!(flags["data"]["storage.tsdb.retention.time"], "15d");
}
