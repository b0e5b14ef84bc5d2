//! Differential test: `promtool check config` (from the system's Prometheus package) and
//! `Config::from_yaml` must agree on which configs are valid.
//!
//! Skipped, with a message, when promtool is not installed. The cases stay within the
//! fields promtool 2.42 (Debian 12) knows; fields added to Prometheus later are tested in
//! the unit tests instead. `--syntax-only` keeps promtool from opening the files a config
//! names (rule files, credentials), which `from_yaml` does not do either.

use pyrometer::config::Config;
use std::path::Path;
use std::process::Command;

const PROMTOOL: &str = "/usr/bin/promtool";

const JOB: &str = "scrape_configs:\n  - job_name: app\n";

/// (name, config text, valid?)
fn cases() -> Vec<(&'static str, String, bool)> {
    let job = |rest: &str| format!("{JOB}{rest}");
    vec![
        // Valid.
        ("empty", String::new(), true),
        ("tutorial", "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['localhost:8000']\n".into(), true),
        ("job only", JOB.into(), true),
        ("durations", "global:\n  scrape_interval: 1m30s\n  scrape_timeout: 500ms\n  evaluation_interval: 1h\n".into(), true),
        ("zero duration", job("    scrape_interval: 0s\n"), true),
        ("timeout equals interval", job("    scrape_interval: 5s\n    scrape_timeout: 5s\n"), true),
        ("interval inherits global", "global:\n  scrape_interval: 5s\nscrape_configs:\n  - job_name: app\n".into(), true),
        ("target without port", job("    static_configs:\n      - targets: [localhost]\n"), true),
        ("ipv6 target", job("    static_configs:\n      - targets: ['[::1]:9090']\n"), true),
        ("labels", job("    static_configs:\n      - targets: ['a:1']\n        labels: {env: prod, _x: y}\n"), true),
        ("external labels", "global:\n  external_labels: {cluster: a}\n".into(), true),
        ("https", job("    scheme: https\n    tls_config: {insecure_skip_verify: true, server_name: x}\n"), true),
        ("params", job("    params: {module: [a, b]}\n"), true),
        ("limits", job("    sample_limit: 10\n    label_limit: 5\n    target_limit: 3\n    body_size_limit: 10MB\n"), true),
        ("body size KiB", job("    body_size_limit: 512KiB\n"), true),
        ("basic auth", job("    basic_auth: {username: u, password: p}\n"), true),
        ("bearer token", job("    bearer_token: t\n"), true),
        ("authorization", job("    authorization: {type: Token, credentials: t}\n"), true),
        ("relabel replace", job("    relabel_configs:\n      - source_labels: [a, b]\n        separator: '-'\n        regex: '(.+)-(.+)'\n        target_label: c\n        replacement: '$2'\n"), true),
        ("relabel template target", job("    relabel_configs:\n      - source_labels: [a]\n        target_label: '${1}'\n"), true),
        ("relabel hashmod", job("    relabel_configs:\n      - {action: hashmod, source_labels: [a], modulus: 3, target_label: h}\n"), true),
        ("relabel keep", job("    relabel_configs:\n      - {action: keep, source_labels: [a], regex: 'x|y'}\n"), true),
        ("relabel labelmap", job("    metric_relabel_configs:\n      - {action: labelmap, regex: 'x_(.+)', replacement: 'y_$1'}\n"), true),
        ("relabel labeldrop", job("    metric_relabel_configs:\n      - {action: labeldrop, regex: 'tmp_.*'}\n"), true),
        ("relabel case", job("    relabel_configs:\n      - {action: Lowercase, source_labels: [a], target_label: b}\n"), true),
        ("relabel keepequal", job("    relabel_configs:\n      - {action: keepequal, source_labels: [a], target_label: b}\n"), true),
        ("file sd", job("    file_sd_configs:\n      - files: ['targets/*.json']\n        refresh_interval: 1m\n"), true),
        ("http sd", job("    http_sd_configs:\n      - url: http://localhost:8080/sd\n"), true),
        ("dns sd", job("    dns_sd_configs:\n      - names: [a.example.org]\n        type: A\n        port: 80\n"), true),
        ("remote write", "remote_write:\n  - url: http://localhost:9201/write\n    remote_timeout: 5s\n".into(), true),
        ("alerting", "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['localhost:9093']\n".into(), true),
        ("rule files", "rule_files: ['rules/*.yml']\n".into(), true),
        ("storage", "storage:\n  tsdb:\n    out_of_order_time_window: 10m\n".into(), true),
        ("numeric job name and label value", "scrape_configs:\n  - job_name: 123\n    static_configs:\n      - targets: ['a:1']\n        labels: {n: 1}\n".into(), true),
        ("empty sections", "global:\nscrape_configs:\n".into(), true),
        ("empty static configs", job("    static_configs:\n"), true),
        ("relative metrics path", job("    metrics_path: metrics\n"), true),
        ("lowercase dns type", job("    dns_sd_configs:\n      - names: [a]\n        type: a\n        port: 80\n"), true),
        ("days", job("    scrape_interval: 1d\n"), true),
        ("mixed duration units", job("    scrape_interval: 1h30m\n    scrape_timeout: 90m\n"), true),
        ("zero global interval", "global:\n  scrape_interval: 0\n".into(), true),
        ("fractional size", job("    body_size_limit: 1.5GB\n"), true),
        ("go regex class", job("    relabel_configs:\n      - {source_labels: [a], target_label: b, regex: '\\pL+'}\n"), true),
        ("drop with defaults", job("    relabel_configs:\n      - {action: drop}\n"), true),
        ("oauth2", job("    oauth2: {client_id: a, client_secret: b, token_url: 'http://x/'}\n"), true),
        ("proxy", job("    proxy_url: 'http://proxy:3128'\n"), true),
        ("basic auth without username", job("    basic_auth: {password: p}\n"), true),
        ("tls min version", job("    tls_config: {min_version: TLS12}\n"), true),
        ("remote write host:port url", "remote_write:\n  - url: localhost:9201\n".into(), true),
        ("yaml 1.1 booleans", job("    honor_labels: yes\n    honor_timestamps: Off\n    tls_config: {insecure_skip_verify: Y}\n"), true),
        ("null lists and maps", job("    static_configs:\n      - targets:\n        labels:\n    relabel_configs:\n    params:\n    basic_auth:\n").replace("scrape_configs:", "global:\n  external_labels:\nscrape_configs:"), true),
        ("numeric replacement", job("    relabel_configs:\n      - {source_labels: [a], target_label: b, replacement: 1}\n"), true),
        ("mixed case action", job("    relabel_configs:\n      - {action: HashMod, source_labels: [a], modulus: 2, target_label: b}\n"), true),
        ("empty metrics path", job("    metrics_path: ''\n"), true),
        ("empty separator", job("    relabel_configs:\n      - {source_labels: [a, b], separator: '', target_label: c}\n"), true),
        ("yaml merge keys", "scrape_configs:\n  - job_name: a\n    <<: &c\n      scrape_interval: 5s\n  - job_name: b\n    <<: *c\n".into(), true),
        ("alertmanager other scheme", "alerting:\n  alertmanagers:\n    - scheme: ftp\n".into(), true),
        // Broken.
        ("unknown top field", "foo: 1\n".into(), false),
        ("unknown job field", job("    scrap_interval: 5s\n"), false),
        ("unknown global field", "global:\n  scrape_intervl: 1m\n".into(), false),
        ("unitless duration", "global:\n  scrape_interval: 15\n".into(), false),
        ("bad duration", job("    scrape_timeout: 5 s\n"), false),
        ("fractional duration", job("    scrape_interval: 1.5s\n"), false),
        ("duplicate job", "scrape_configs:\n  - job_name: a\n  - job_name: a\n".into(), false),
        ("timeout above interval", job("    scrape_interval: 5s\n    scrape_timeout: 6s\n"), false),
        ("global timeout above interval", "global:\n  scrape_interval: 5s\n  scrape_timeout: 6s\n".into(), false),
        ("target with scheme", job("    static_configs:\n      - targets: ['http://localhost:8000']\n"), false),
        ("target with path", job("    static_configs:\n      - targets: ['localhost:8000/metrics']\n"), false),
        ("empty job name", "scrape_configs:\n  - job_name: ''\n".into(), false),
        ("missing job name", "scrape_configs:\n  - scrape_interval: 5s\n".into(), false),
        ("bad label name", job("    static_configs:\n      - targets: ['a:1']\n        labels: {1x: y}\n"), false),
        ("bad external label", "global:\n  external_labels: {a-b: c}\n".into(), false),
        ("bad size", job("    body_size_limit: 10mb\n"), false),
        ("unknown action", job("    relabel_configs:\n      - {action: replac, target_label: x}\n"), false),
        ("bad regex", job("    relabel_configs:\n      - {regex: '(a', target_label: x}\n"), false),
        ("hashmod without modulus", job("    relabel_configs:\n      - {action: hashmod, source_labels: [a], target_label: h}\n"), false),
        ("replace without target", job("    relabel_configs:\n      - {source_labels: [a]}\n"), false),
        ("bad target label", job("    relabel_configs:\n      - {source_labels: [a], target_label: 1x}\n"), false),
        ("labeldrop with source", job("    relabel_configs:\n      - {action: labeldrop, source_labels: [a]}\n"), false),
        ("bad source label", job("    relabel_configs:\n      - {source_labels: ['a.b'], target_label: x}\n"), false),
        ("two bearer tokens", job("    bearer_token: a\n    bearer_token_file: b\n"), false),
        ("auth and basic auth", job("    authorization: {credentials: a}\n    basic_auth: {username: u}\n"), false),
        ("basic authorization type", job("    authorization: {type: basic, credentials: a}\n"), false),
        ("cert without key", job("    tls_config: {cert_file: c}\n"), false),
        ("file sd bad name", job("    file_sd_configs:\n      - files: [targets.txt]\n"), false),
        ("dns A without port", job("    dns_sd_configs:\n      - names: [a.example.org]\n        type: A\n"), false),
        ("remote write no url", "remote_write:\n  - remote_timeout: 5s\n".into(), false),
        ("bad rule path", "rule_files: ['a/*/b.yml']\n".into(), false),
        ("duplicate top key", "global: {}\nglobal: {}\n".into(), false),
        ("yaml syntax", "scrape_configs: [\n".into(), false),
        ("not a mapping", "- a\n".into(), false),
        ("merged duplicate job", "scrape_configs:\n  - &j\n    job_name: a\n  - <<: *j\n".into(), false),
        ("merged bad field", "scrape_configs:\n  - job_name: a\n    <<: {scrap_interval: 5s}\n".into(), false),
        ("not a boolean", job("    honor_labels: maybe\n"), false),
        ("number as boolean", job("    honor_labels: 1\n"), false),
        ("null job name", "scrape_configs:\n  - job_name:\n".into(), false),
        ("duplicate job field", job("    metrics_path: /a\n    metrics_path: /b\n"), false),
        ("duplicate label", job("    static_configs:\n      - targets: ['a:1']\n        labels: {a: 1, a: 2}\n"), false),
        ("scalar source labels", job("    relabel_configs:\n      - {source_labels: a, target_label: b}\n"), false),
        ("negative modulus", job("    relabel_configs:\n      - {action: hashmod, source_labels: [a], modulus: -1, target_label: b}\n"), false),
        ("float duration", job("    scrape_interval: 1.5m\n"), false),
        ("keepequal without target", job("    relabel_configs:\n      - {action: keepequal, source_labels: [a]}\n"), false),
        ("empty target", job("    static_configs:\n      - targets: ['']\n"), false),
        ("targets not a list", job("    static_configs:\n      - targets: localhost:9090\n"), false),
        ("empty action", job("    relabel_configs:\n      - {action: '', target_label: x}\n"), false),
        ("http sd without scheme", job("    http_sd_configs:\n      - url: localhost:8080/sd\n"), false),
        ("negative limit", job("    sample_limit: -1\n"), false),
        ("keepequal with separator", job("    relabel_configs:\n      - {action: keepequal, source_labels: [a], target_label: b, separator: ','}\n"), false),
        ("params not lists", job("    params: {a: b}\n"), false),
        ("credentials twice", job("    authorization: {credentials: a, credentials_file: b}\n"), false),
        ("bad tls version", job("    tls_config: {min_version: TLS9}\n"), false),
    ]
}

/// Deliberate differences from promtool 2.42: (name, config text, our validity).
fn deviations() -> Vec<(&'static str, String, bool)> {
    let job = |rest: &str| format!("{JOB}{rest}");
    vec![
        // A scheme other than http/https can never be scraped; we reject it at load time
        // instead of failing every scrape.
        ("unscrapable scheme", job("    scheme: ftp\n"), false),
    ]
}

fn promtool_accepts(path: &Path) -> (bool, String) {
    let out = Command::new(PROMTOOL)
        .args(["check", "config", "--syntax-only"])
        .arg(path)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .replace('\n', " | "),
    )
}

#[test]
fn fixture_files_are_valid_for_both() {
    if !Path::new(PROMTOOL).exists() {
        eprintln!("skipping: {PROMTOOL} not found (install the prometheus package)");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs");
    for name in ["tutorial.yml", "full.yml"] {
        let path = dir.join(name);
        let (valid, out) = promtool_accepts(&path);
        assert!(valid, "promtool rejects {name}: {out}");
        Config::load(&path).unwrap();
    }
}

#[test]
fn known_deviations_from_promtool() {
    if !Path::new(PROMTOOL).exists() {
        eprintln!("skipping: {PROMTOOL} not found (install the prometheus package)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, text, ours_valid) in deviations() {
        let path = dir.path().join("prometheus.yml");
        std::fs::write(&path, &text).unwrap();
        let (promtool_valid, out) = promtool_accepts(&path);
        assert_eq!(promtool_valid, !ours_valid, "{name}: promtool said {out}");
        assert_eq!(
            Config::from_yaml(&text, "prometheus.yml").is_ok(),
            ours_valid,
            "{name}"
        );
    }
}

#[test]
fn promtool_and_from_yaml_agree_on_validity() {
    if !Path::new(PROMTOOL).exists() {
        eprintln!("skipping: {PROMTOOL} not found (install the prometheus package)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut disagreements = Vec::new();
    for (name, text, want_valid) in cases() {
        let path = dir.path().join("prometheus.yml");
        std::fs::write(&path, &text).unwrap();
        let (promtool_valid, out) = promtool_accepts(&path);
        let ours = Config::from_yaml(&text, "prometheus.yml");
        if promtool_valid != want_valid || ours.is_ok() != want_valid {
            disagreements.push(format!(
                "{name}: expected valid={want_valid}, promtool valid={promtool_valid} ({}), ours={:?}",
                out,
                ours.map(|_| ()).map_err(|e| e.to_string()),
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "disagreements:\n{}",
        disagreements.join("\n")
    );
}
