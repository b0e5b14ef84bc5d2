//! Broken configs: each kind of mistake gives one message naming the file, the line and
//! what is wrong.

use super::*;

/// Loads `text` and checks the error: its full text starts with `prometheus.yml:<line>:`
/// and contains `want`.
fn check(text: &str, line: usize, want: &str) {
    let err = Config::from_yaml(text, "prometheus.yml").expect_err(text);
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("prometheus.yml:{line}:")),
        "want line {line} in {msg:?} for\n{text}"
    );
    assert!(msg.contains(want), "want {want:?} in {msg:?} for\n{text}");
    assert_eq!(err.line(), Some(line));
}

const JOB: &str = "scrape_configs:\n  - job_name: app\n";

#[test]
#[rustfmt::skip]
fn unknown_fields_name_field_and_line() {
    check("global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: app\n    scrap_interval: 5s\n", 5, "prometheus.yml:5:5: scrape_configs[0]: unknown field \"scrap_interval\", expected one of \"job_name\"");
    check("foo: 1\n", 1, "unknown field \"foo\", expected one of \"global\"");
    check("global:\n  scrape_intervl: 1m\n", 2, "unknown field \"scrape_intervl\"");
    check(&format!("{JOB}    static_configs:\n      - targets: []\n        label: {{}}\n"), 5, "unknown field \"label\"");
    check(&format!("{JOB}    tls_config:\n      ca: x\n"), 4, "unknown field \"ca\"");
    check(&format!("{JOB}    relabel_configs:\n      - sourcelabels: [a]\n"), 4, "unknown field \"sourcelabels\"");
    check(&format!("{JOB}    basic_auth:\n      user: x\n"), 4, "unknown field \"user\"");
    check("remote_write:\n  - url: http://x/\n    foo: 1\n", 2, "remote_write[0]: unknown field \"foo\"");
}

#[test]
#[rustfmt::skip]
fn bad_values_are_quoted() {
    check("global:\n  scrape_interval: 15\n", 2, "global.scrape_interval: not a valid duration string: \"15\"");
    check("global:\n  evaluation_interval: 1m1h\n", 2, "\"1m1h\"");
    check(&format!("{JOB}    scrape_timeout: 5 s\n"), 3, "scrape_configs[0].scrape_timeout: not a valid duration string: \"5 s\"");
    check(&format!("{JOB}    body_size_limit: 10mb\n"), 3, "not a valid byte size: \"10mb\"");
    check(&format!("{JOB}    sample_limit: many\n"), 3, "sample_limit: invalid type: string \"many\"");
    check(&format!("{JOB}    honor_labels: maybe\n"), 3, "honor_labels: invalid boolean \"maybe\": expected true or false");
    check(&format!("{JOB}    relabel_configs:\n      - action: replac\n        target_label: x\n"), 4, "unknown relabel action \"replac\"");
    check(&format!("{JOB}    relabel_configs:\n      - regex: '(a'\n        target_label: x\n"), 4, "invalid regex \"(a\"");
    check(&format!("{JOB}    dns_sd_configs:\n      - names: [a]\n        type: TXT\n"), 5, "invalid DNS-SD record type \"TXT\"");
}

#[test]
#[rustfmt::skip]
fn job_errors() {
    check("scrape_configs:\n  - job_name: app\n  - job_name: other\n  - job_name: app\n", 4, "found multiple scrape configs with job name \"app\"");
    check(&format!("{JOB}    scrape_interval: 5s\n    scrape_timeout: 6s\n"), 2, "scrape timeout 6s greater than scrape interval 5s for scrape config with job name \"app\"");
    check("global:\n  scrape_interval: 5s\n  scrape_timeout: 6s\n", 2, "global scrape timeout 6s greater than scrape interval 5s");
    check("scrape_configs:\n  - job_name: ''\n", 2, "job_name is empty");
    check("scrape_configs:\n  - scrape_interval: 5s\n", 2, "missing field \"job_name\"");
    check(&format!("{JOB}    scheme: ftp\n"), 2, "invalid scheme \"ftp\"");
    check(&format!("{JOB}    scrape_protocols: [Text]\n"), 2, "unknown scrape protocol \"Text\"");
    check(&format!("{JOB}    scrape_protocols: [PrometheusProto, PrometheusProto]\n"), 2, "duplicated protocol \"PrometheusProto\" in scrape_protocols");
    check("global:\n  metric_name_validation_scheme: ascii\n", 2, "unknown metric_name_validation_scheme \"ascii\"");
}

#[test]
fn bad_target_addresses() {
    for (target, col) in [
        ("http://localhost:8000", 19),
        ("localhost:8000/metrics", 19),
    ] {
        let text = format!("{JOB}    static_configs:\n      - targets: ['{target}']\n");
        let err = Config::from_yaml(&text, "prometheus.yml")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!("prometheus.yml:4:{col}: scrape_configs[0].static_configs[0].targets[0]: \"{target}\" is not a valid target address: write host:port only, and put the scheme in 'scheme' and the path in 'metrics_path'")
        );
    }
    check(
        &format!("{JOB}    static_configs:\n      - targets:\n        - ok:1\n        - a/b\n"),
        6,
        "targets[1]: \"a/b\" is not a valid target address",
    );
}

#[test]
#[rustfmt::skip]
fn empty_target_address() {
    check(&format!("{JOB}    static_configs:\n      - targets: ['']\n"), 4, "targets[0]: empty target address");
}

#[test]
#[rustfmt::skip]
fn bad_label_names() {
    check(&format!( "{JOB}    static_configs:\n      - targets: []\n        labels:\n          1x: y\n" ), 6, "\"1x\" is not a valid label name");
    check("global:\n  external_labels:\n    a-b: c\n", 3, "\"a-b\" is not a valid label name");
    check(&format!("{JOB}    relabel_configs:\n      - source_labels: [ok, 'no.dot']\n        target_label: x\n"), 4, "\"no.dot\" is not a valid label name");
}

#[test]
#[rustfmt::skip]
fn relabel_rules_follow_prometheus() {
    let rule = |body: &str| format!("{JOB}    relabel_configs:\n      - {body}\n");
    check(&rule("action: hashmod\n        target_label: x"), 4, "relabel configuration for hashmod requires non-zero modulus");
    check(&rule("action: replace"), 4, "relabel configuration for replace action requires 'target_label' value");
    check(&rule("action: hashmod\n        modulus: 2"), 4, "hashmod action requires 'target_label'");
    check(&rule("action: lowercase\n        source_labels: [a]"), 4, "lowercase action requires 'target_label'");
    check(&rule("target_label: 1abc"), 4, "\"1abc\" is invalid 'target_label' for replace action");
    check(&rule("action: uppercase\n        target_label: x\n        replacement: y"), 4, "'replacement' can not be set for uppercase action");
    check(&rule("action: labelmap\n        replacement: '1$1'"), 4, "\"1$1\" is invalid 'replacement' for labelmap action");
    check(&rule("action: keepequal\n        target_label: x\n        regex: a"), 4, "keepequal action requires only 'source_labels' and 'target_label'");
    check(&rule("action: labeldrop\n        source_labels: [a]"), 4, "labeldrop action requires only 'regex'");
    check(&rule("action: labelkeep\n        target_label: a"), 4, "labelkeep action requires only 'regex'");
}

#[test]
#[rustfmt::skip]
fn http_client_rules_follow_prometheus() {
    let job = |body: &str| format!("{JOB}    {body}\n");
    check(&job("bearer_token: a\n    bearer_token_file: b"), 2, "at most one of bearer_token & bearer_token_file");
    check(&job("bearer_token: a\n    basic_auth: {username: u}"), 2, "at most one of basic_auth, oauth2, bearer_token & bearer_token_file");
    check(&job("authorization: {credentials: a}\n    basic_auth: {username: u}"), 2, "at most one of basic_auth, oauth2 & authorization");
    check(&job("authorization: {credentials: a}\n    bearer_token: b"), 2, "authorization is not compatible with bearer_token");
    check(&job("authorization: {type: Basic, credentials: a}"), 2, "authorization type cannot be set to \"basic\"");
    check(&job("basic_auth: {username: u, password: p, password_file: f}"), 2, "at most one of basic_auth password & password_file");
    check(&job("tls_config: {cert_file: c}"), 2, "client cert file \"c\" specified without client key file");
    check(&job("tls_config: {key_file: k}"), 2, "client key file \"k\" specified without client cert file");
    check(&job("http_sd_configs:\n      - url: ftp://x/"), 4, "invalid http_sd_configs url \"ftp://x/\"");
}

#[test]
#[rustfmt::skip]
fn other_sections() {
    check("rule_files:\n  - 'rules/*/x.yml'\n", 2, "invalid rule file path \"rules/*/x.yml\"");
    check(&format!("{JOB}    file_sd_configs:\n      - files: [targets.txt]\n"), 4, "path name \"targets.txt\" is not valid for file discovery");
    check(&format!("{JOB}    file_sd_configs:\n      - files: []\n"), 4, "at least one path name");
    check(&format!("{JOB}    dns_sd_configs:\n      - names: [a]\n        type: A\n"), 4, "a port is required");
    check("remote_write:\n  - url: ''\n", 2, "url for remote_write is empty");
    check("alerting:\n  alertmanagers:\n    - api_version: v3\n", 2, "api version to be one of [v1 v2]");
    check("global: {}\nglobal: {}\n", 1, "duplicate field \"global\"");
    check("scrape_configs: [\n", 2, "did not find expected node content");
    check("- a\n- b\n", 1, "invalid type: sequence, expected a prometheus.yml mapping");
}

#[test]
fn unreadable_file_names_the_path() {
    let err = Config::load(std::path::Path::new("/nonexistent/prometheus.yml")).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("cannot read config file \"/nonexistent/prometheus.yml\""),
        "{msg}"
    );
    assert_eq!(err.line(), None);
}
