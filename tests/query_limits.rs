//! Query limits answer with Prometheus's errors and leave the server running:
//! `--query.max-samples` → 422 `execution`, `--query.timeout` → 503 `timeout`; and the
//! evaluation's warnings travel with the answer.

mod support;

use std::time::Duration;
use support::*;

fn error_of(p: &Pyrometer, query: &str) -> (u16, serde_json::Value) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let url = p.url(&format!(
        "/api/v1/query_range?query={}&start={}&end={now}&step=1",
        urlencode(query),
        now - 3000
    ));
    let (code, body) = get(&url).expect("query_range");
    (
        code,
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{body}: {e}")),
    )
}

#[test]
fn max_samples_and_timeout() {
    let config = "global:\n  scrape_interval: 1s\nscrape_configs:\n- job_name: self\n  static_configs:\n    - targets: ['{SELF}']\n";
    let p = Pyrometer::start(config, &["--query.max-samples=100"]);
    wait_until(Duration::from_secs(10), "self scraped", || {
        !p.query("up").is_empty()
    });
    std::thread::sleep(Duration::from_secs(3));
    // About 50 series of self-metrics, a few samples each, over every step: far above 100.
    let (code, v) = error_of(&p, "sum_over_time({__name__=~\".+\"}[1h])");
    assert_eq!(code, 422, "{v}");
    assert_eq!(v["errorType"], "execution");
    assert!(
        v["error"]
            .as_str()
            .unwrap_or("")
            .contains("too many samples"),
        "{v}"
    );
    assert_eq!(p.query("vector(1)").len(), 1, "the server keeps answering");

    let p = Pyrometer::start(config, &["--query.timeout=1ms"]);
    std::thread::sleep(Duration::from_secs(3));
    // A query over many steps and all series cannot finish in a millisecond.
    let (code, v) = error_of(&p, "count_values(\"v\", {__name__=~\".+\"}) * on() group_left sum(rate({__name__=~\".+\"}[10m]))");
    assert_eq!(code, 503, "{v}");
    assert_eq!(v["errorType"], "timeout");
    assert!(get(&p.url("/-/healthy"))
        .map(|(c, _)| c == 200)
        .unwrap_or(false));
}

/// Warnings the evaluation attaches reach the answer beside `data`, as in Prometheus; an
/// answer without any has no `warnings` member.
#[test]
fn answers_carry_warnings() {
    let p = Pyrometer::start("global:\n  scrape_interval: 1s\nscrape_configs: []\n", &[]);
    let v = p.get_json(&format!(
        "/api/v1/query?query={}&time=1700000000.5",
        urlencode("quantile(2, vector(1))")
    ));
    assert_eq!(v["status"], "success", "{v}");
    assert_eq!(
        v["data"],
        serde_json::json!({"resultType": "vector", "result": [{"metric": {}, "value": [1700000000.5, "+Inf"]}]}),
        "{v}"
    );
    let warnings = v["warnings"].as_array().cloned().unwrap_or_default();
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .unwrap_or("")
            .contains("quantile value should be between 0 and 1")),
        "{v}"
    );
    let v = p.get_json("/api/v1/query?query=vector(1)");
    assert_eq!(v["status"], "success", "{v}");
    assert!(v.get("warnings").is_none(), "{v}");
}
