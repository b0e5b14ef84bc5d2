//! Loading valid configs: defaults, every field, and writing them back.

use super::*;
use std::path::PathBuf;
use std::time::Duration;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/configs")
        .join(name)
}

fn parse(text: &str) -> Config {
    Config::from_yaml(text, "prometheus.yml").unwrap()
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn tutorial_config() {
    let c = Config::load(&fixture("tutorial.yml")).unwrap();
    assert_eq!(c.global.scrape_interval, secs(15));
    assert_eq!(c.global.scrape_timeout, secs(10));
    assert_eq!(c.global.evaluation_interval, secs(60));
    assert_eq!(c.scrape_configs.len(), 1);
    let job = &c.scrape_configs[0];
    assert_eq!(job.job_name, "app");
    assert_eq!(job.scrape_interval, secs(15));
    assert_eq!(job.scrape_timeout, secs(10));
    assert_eq!(job.metrics_path, "/metrics");
    assert_eq!(job.scheme, "http");
    assert!(!job.honor_labels);
    assert!(job.honor_timestamps);
    assert_eq!(job.body_size_limit, 0);
    assert_eq!(job.static_configs[0].targets, vec!["localhost:8000"]);
    assert!(c.unsupported_features().is_empty());
}

#[test]
fn empty_and_comment_only_files_are_all_defaults() {
    for text in ["", "\n", "# nothing here\n", "---\n"] {
        let c = parse(text);
        assert_eq!(c, Config::default(), "{text:?}");
        assert_eq!(c.global.scrape_interval, secs(60));
    }
    // Present but empty sections.
    let c = parse("global:\nscrape_configs:\nrule_files:\n");
    assert_eq!(c.global, GlobalConfig::default());
    assert!(c.scrape_configs.is_empty());
}

#[test]
fn scrape_timeout_defaults_like_prometheus() {
    // (global interval, global timeout, job interval, job timeout) -> job (interval, timeout)
    let cases: &[(&str, &str, &str, &str, u64, u64)] = &[
        ("", "", "", "", 60, 10),
        ("15s", "", "", "", 15, 10),
        ("5s", "", "", "", 5, 5), // global timeout capped at global interval
        ("", "", "5s", "", 5, 5), // global timeout 10s capped at the job's 5s
        ("", "30s", "20s", "", 20, 20),
        ("", "", "20s", "15s", 20, 15),
        ("1m", "20s", "", "", 60, 20),
    ];
    for &(gi, gt, ji, jt, want_i, want_t) in cases {
        let mut text = String::from("global:\n");
        if !gi.is_empty() {
            text += &format!("  scrape_interval: {gi}\n");
        }
        if !gt.is_empty() {
            text += &format!("  scrape_timeout: {gt}\n");
        }
        text += "scrape_configs:\n  - job_name: j\n";
        if !ji.is_empty() {
            text += &format!("    scrape_interval: {ji}\n");
        }
        if !jt.is_empty() {
            text += &format!("    scrape_timeout: {jt}\n");
        }
        let c = parse(&text);
        let j = &c.scrape_configs[0];
        assert_eq!(
            (j.scrape_interval, j.scrape_timeout),
            (secs(want_i), secs(want_t)),
            "{text}"
        );
    }
}

#[test]
fn global_section_may_come_after_the_jobs() {
    let c = parse("scrape_configs:\n  - job_name: j\nglobal:\n  scrape_interval: 7s\n");
    assert_eq!(c.scrape_configs[0].scrape_interval, secs(7));
    assert_eq!(c.scrape_configs[0].scrape_timeout, secs(7));
}

#[test]
fn global_limits_are_inherited_by_jobs() {
    let c = parse(
        "global:\n  sample_limit: 100\n  body_size_limit: 1KB\nscrape_configs:\n  - job_name: a\n  - job_name: b\n    sample_limit: 5\n",
    );
    assert_eq!(c.scrape_configs[0].sample_limit, 100);
    assert_eq!(c.scrape_configs[0].body_size_limit, 1024);
    assert_eq!(c.scrape_configs[1].sample_limit, 5);
}

#[test]
fn every_field_of_the_full_fixture() {
    let path = fixture("full.yml");
    let c = Config::load(&path).unwrap();
    let dir = path.parent().unwrap();
    let abs = |p: &str| dir.join(p).display().to_string();

    let g = &c.global;
    assert_eq!(
        (g.scrape_interval, g.scrape_timeout, g.evaluation_interval),
        (secs(30), secs(20), secs(90))
    );
    assert_eq!(g.external_labels.get("cluster").unwrap(), "eu-1");
    assert_eq!(g.query_log_file.as_deref(), Some("query.log"));
    assert_eq!(c.rule_files, vec![abs("rules/*.yml"), abs("alerts.yml")]);

    let alerting = c.alerting.as_ref().unwrap();
    assert_eq!(alerting.alert_relabel_configs[0].action, Action::LabelDrop);
    let am = &alerting.alertmanagers[0];
    assert_eq!(
        (am.scheme.as_str(), am.path_prefix.as_str()),
        ("https", "/am")
    );
    assert_eq!(am.timeout, secs(5));
    assert_eq!(am.static_configs[0].targets.len(), 2);
    assert_eq!(
        am.http_client.basic_auth.as_ref().unwrap().username,
        "alert"
    );

    let app = &c.scrape_configs[0];
    assert_eq!(app.job_name, "app");
    assert!(app.honor_labels);
    assert!(!app.honor_timestamps);
    assert_eq!(app.params["module"], vec!["http_2xx", "tcp"]);
    assert_eq!(
        (app.scrape_interval, app.scrape_timeout),
        (secs(10), secs(5))
    );
    assert_eq!(app.metrics_path, "/custom/metrics");
    assert_eq!(app.scheme, "https");
    assert_eq!(app.body_size_limit, 10 * 1024 * 1024);
    assert_eq!(
        (
            app.sample_limit,
            app.label_limit,
            app.label_name_length_limit,
            app.label_value_length_limit,
            app.target_limit
        ),
        (1000, 30, 100, 200, 50)
    );
    let ba = app.basic_auth.as_ref().unwrap();
    assert_eq!(ba.username, "scraper");
    assert_eq!(ba.password, None);
    assert_eq!(ba.password_file, Some(abs("secrets/pass")));
    let tls = app.tls_config.as_ref().unwrap();
    assert_eq!(tls.ca_file, Some(abs("ca.pem")));
    assert_eq!(tls.cert_file, Some(abs("client.pem")));
    assert_eq!(tls.key_file, Some(abs("client.key")));
    assert_eq!(tls.server_name.as_deref(), Some("app.internal"));
    assert!(tls.insecure_skip_verify);
    let st = &app.static_configs[0];
    assert_eq!(
        st.targets,
        vec!["localhost:8000", "10.0.0.1:9100", "[::1]:9090"]
    );
    assert_eq!(st.labels.get("env").unwrap(), "prod");
    assert_eq!(
        app.file_sd_configs[0].files,
        vec![abs("targets/*.json"), abs("more.yml")]
    );
    assert_eq!(app.file_sd_configs[0].refresh_interval, secs(60));
    assert_eq!(
        app.http_sd_configs[0].url,
        "http://sd.internal:8080/targets"
    );
    assert_eq!(app.http_sd_configs[0].refresh_interval, secs(120));
    assert_eq!(app.dns_sd_configs[0].record_type, DnsRecordType::Srv);
    assert_eq!(app.dns_sd_configs[0].refresh_interval, secs(30));
    assert_eq!(app.dns_sd_configs[1].record_type, DnsRecordType::A);
    assert_eq!(app.dns_sd_configs[1].port, Some(9100));

    let rc = &app.relabel_configs;
    assert_eq!(rc.len(), 3);
    assert_eq!(rc[0].source_labels, vec!["__address__"]);
    assert_eq!(rc[0].separator, ";");
    assert_eq!(rc[0].regex.as_str(), r"(.*):\d+");
    assert!(rc[0].regex.regex().is_match("host:80"));
    assert!(
        !rc[0].regex.regex().is_match("xhost:80x"),
        "regex is anchored"
    );
    assert_eq!(
        (rc[0].target_label.as_str(), rc[0].replacement.as_str()),
        ("host", "${1}")
    );
    assert_eq!(rc[0].action, Action::Replace);
    assert_eq!((rc[1].action, rc[1].modulus), (Action::HashMod, 4));
    assert_eq!(rc[2].action, Action::Keep);
    assert_eq!(app.metric_relabel_configs[1].action, Action::LabelMap);
    assert_eq!(app.metric_relabel_configs[1].replacement, "m_$1");

    // bearer_token and bearer_token_file become authorization.
    let token = c.scrape_configs[1].authorization.as_ref().unwrap();
    assert_eq!(token.credentials_type, "Bearer");
    assert_eq!(token.credentials.as_deref(), Some("s3cret"));
    assert_eq!(c.scrape_configs[1].bearer_token, None);
    let token_file = c.scrape_configs[2].authorization.as_ref().unwrap();
    assert_eq!(token_file.credentials_file.as_deref(), Some("/etc/token"));
    assert_eq!(c.scrape_configs[2].scrape_timeout, secs(5));
    let authz = c.scrape_configs[3].authorization.as_ref().unwrap();
    assert_eq!(
        (
            authz.credentials_type.as_str(),
            authz.credentials.as_deref()
        ),
        ("Token", Some("abc"))
    );

    let rw = &c.remote_write[0];
    assert_eq!(rw.url, "https://remote.example.org/api/v1/write");
    assert_eq!(rw.name.as_deref(), Some("central"));
    assert_eq!(rw.remote_timeout, secs(10));
    assert_eq!(rw.headers["X-Scope-OrgID"], "team-a");
    assert_eq!(rw.queue_config.max_shards, Some(50));
    assert_eq!(rw.queue_config.batch_send_deadline, Some(secs(5)));
    assert!(c.remote_read[0].read_recent);
    assert_eq!(c.remote_read[0].remote_timeout, secs(60));
    let storage = c.storage.as_ref().unwrap();
    assert_eq!(
        storage.tsdb.as_ref().unwrap().out_of_order_time_window,
        secs(1800)
    );
    assert_eq!(storage.exemplars.as_ref().unwrap().max_exemplars, 100_000);
    assert_eq!(c.tracing.as_ref().unwrap().sampling_fraction, Some(0.1));

    let unsupported = c.unsupported_features();
    for f in [
        "rule_files",
        "alerting",
        "remote_write",
        "remote_read",
        "storage",
        "tracing",
        "global.query_log_file",
        "job \"app\": dns_sd_configs of type SRV, MX or NS",
    ] {
        assert!(
            unsupported.contains(&f.to_string()),
            "{f} in {unsupported:?}"
        );
    }
}

#[test]
fn writes_back_in_prometheus_shape_and_reparses_equal() {
    let c = Config::load(&fixture("full.yml")).unwrap();
    let yaml = c.to_yaml().unwrap();
    // Durations canonical, sizes in binary units, secrets hidden.
    for want in [
        "scrape_interval: 30s",
        "evaluation_interval: 1m30s",
        "out_of_order_time_window: 30m",
        "body_size_limit: 10MiB",
        "credentials: <secret>",
        "password: <secret>",
        "job_name: app",
        "metrics_path: /custom/metrics",
    ] {
        assert!(yaml.contains(want), "missing {want:?} in\n{yaml}");
    }
    assert!(
        !yaml.contains("s3cret") && !yaml.contains("hunter2"),
        "{yaml}"
    );
    assert!(!yaml.contains("bearer_token"), "{yaml}");

    // Without secrets, the written config reads back to the same value.
    let c = Config::load(&fixture("tutorial.yml")).unwrap();
    let again = Config::from_yaml(&c.to_yaml().unwrap(), "written.yml").unwrap();
    assert_eq!(c, again);
}

#[test]
fn tutorial_written_back_matches_prometheus_output() {
    let c = Config::from_yaml(
        "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['localhost:8000']\n",
        "prometheus.yml",
    )
    .unwrap();
    let want = "\
global:
  scrape_interval: 15s
  scrape_timeout: 10s
  evaluation_interval: 1m
scrape_configs:
- job_name: app
  honor_timestamps: true
  scrape_interval: 15s
  scrape_timeout: 10s
  metrics_path: /metrics
  scheme: http
  enable_compression: true
  static_configs:
  - targets:
    - localhost:8000
  follow_redirects: true
  enable_http2: true
";
    assert_eq!(c.to_yaml().unwrap(), want);
}

#[test]
fn scalar_spellings_yaml_allows() {
    let c = parse(
        "scrape_configs:\n  - job_name: 123\n    static_configs:\n      - targets: [\"a:1\"]\n        labels: {n: 1, b: true}\n    relabel_configs:\n      - action: KEEP\n        source_labels: [x]\n        regex: 1\n",
    );
    let j = &c.scrape_configs[0];
    assert_eq!(j.job_name, "123");
    assert_eq!(j.static_configs[0].labels["n"], "1");
    assert_eq!(j.static_configs[0].labels["b"], "true");
    assert_eq!(j.relabel_configs[0].action, Action::Keep);
    assert_eq!(j.relabel_configs[0].regex.as_str(), "1");
}

#[test]
fn configs_compare_by_value_for_reload_diffs() {
    let a = parse("scrape_configs:\n  - job_name: a\n  - job_name: b\n");
    let b = parse("scrape_configs:\n  - job_name: a\n  - job_name: b\n    scrape_interval: 5s\n");
    assert_eq!(a.scrape_configs[0], b.scrape_configs[0]);
    assert_ne!(a.scrape_configs[1], b.scrape_configs[1]);
    assert_eq!(a.clone(), a);
}

#[test]
fn default_scrape_config_is_a_loaded_minimal_job() {
    let c = parse("scrape_configs:\n  - job_name: x\n");
    let mut job = c.scrape_configs[0].clone();
    job.job_name.clear();
    assert_eq!(job, ScrapeConfig::default());
}

#[test]
fn prometheus_3_settings_parse() {
    let c = parse(
        "global:\n  scrape_protocols: [PrometheusText0.0.4, OpenMetricsText1.0.0]\n  rule_query_offset: 30s\n  metric_name_validation_scheme: legacy\nruntime:\n  gogc: 75\notlp:\n  promote_resource_attributes: [service.name]\nscrape_configs:\n  - job_name: a\n    fallback_scrape_protocol: PrometheusText0.0.4\n    always_scrape_classic_histograms: true\n    native_histogram_bucket_limit: 160\n  - job_name: b\n    scrape_protocols: [PrometheusProto]\n",
    );
    assert_eq!(c.global.rule_query_offset, secs(30));
    assert_eq!(
        c.scrape_configs[0].scrape_protocols,
        vec!["PrometheusText0.0.4", "OpenMetricsText1.0.0"],
        "inherited from global"
    );
    assert_eq!(
        c.scrape_configs[1].scrape_protocols,
        vec!["PrometheusProto"]
    );
    assert_eq!(
        c.scrape_configs[0].fallback_scrape_protocol.as_deref(),
        Some("PrometheusText0.0.4")
    );
    assert!(c.scrape_configs[0].always_scrape_classic_histograms);
    assert!(c.runtime.is_some());
    let unsupported = c.unsupported_features();
    assert!(unsupported.contains(&"otlp".to_string()), "{unsupported:?}");
    assert!(
        unsupported.contains(&"job \"a\": native_histogram_bucket_limit".to_string()),
        "{unsupported:?}"
    );
}

#[test]
fn relative_paths_resolve_against_the_config_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prometheus.yml");
    std::fs::write(
        &path,
        "alerting:\n  alertmanagers:\n    - tls_config: {ca_file: am-ca.pem}\n      file_sd_configs: [{files: [am.json]}]\nremote_write:\n  - url: http://x/\n    bearer_token_file: token\nscrape_configs:\n  - job_name: a\n    http_sd_configs:\n      - url: http://sd/\n        basic_auth: {username: u, password_file: /abs/pass}\n",
    )
    .unwrap();
    let c = Config::load(&path).unwrap();
    let abs = |p: &str| dir.path().join(p).display().to_string();
    let am = &c.alerting.as_ref().unwrap().alertmanagers[0];
    let tls = am.http_client.tls_config.as_ref().unwrap();
    assert_eq!(tls.ca_file, Some(abs("am-ca.pem")));
    assert_eq!(am.file_sd_configs[0].files, vec![abs("am.json")]);
    let rw_auth = c.remote_write[0]
        .http_client
        .authorization
        .as_ref()
        .unwrap();
    assert_eq!(rw_auth.credentials_file, Some(abs("token")));
    let sd_auth = c.scrape_configs[0].http_sd_configs[0]
        .http_client
        .basic_auth
        .as_ref()
        .unwrap();
    assert_eq!(sd_auth.password_file.as_deref(), Some("/abs/pass"));
}

#[test]
fn yaml_merge_keys_are_expanded() {
    let text = "scrape_configs:\n  - job_name: a\n    <<: &common\n      scrape_interval: 5s\n      metrics_path: /m\n  - job_name: b\n    <<: *common\n    metrics_path: /other\n";
    let c = parse(text);
    assert_eq!(c.scrape_configs[1].scrape_interval, secs(5));
    assert_eq!(c.scrape_configs[1].metrics_path, "/other");
    assert_eq!(c.scrape_configs[0].metrics_path, "/m");
    // Errors still name the field, without a line from the expanded text.
    let bad = text.replace("5s", "5");
    let msg = Config::from_yaml(&bad, "p.yml").unwrap_err().to_string();
    assert!(
        msg.starts_with(
            "p.yml: scrape_configs[0].scrape_interval: not a valid duration string: \"5\""
        ),
        "{msg}"
    );
}

#[test]
fn yaml_1_1_booleans_as_in_prometheus() {
    // (spelling, value)
    let cases: &[(&str, bool)] = &[
        ("true", true),
        ("yes", true),
        ("Yes", true),
        ("ON", true),
        ("y", true),
        ("false", false),
        ("no", false),
        ("Off", false),
        ("N", false),
    ];
    for &(spelling, want) in cases {
        let c = parse(&format!(
            "scrape_configs:\n  - job_name: a\n    honor_labels: {spelling}\n"
        ));
        assert_eq!(c.scrape_configs[0].honor_labels, want, "{spelling}");
    }
}

#[test]
fn written_full_config_reads_back() {
    let c = Config::load(&fixture("full.yml")).unwrap();
    let again = Config::from_yaml(&c.to_yaml().unwrap(), "written.yml").unwrap();
    assert_eq!(again.global, c.global);
    // The first job holds no secret, so it survives the round trip unchanged.
    assert_eq!(again.scrape_configs[0], c.scrape_configs[0]);
    assert_eq!(again.scrape_configs.len(), c.scrape_configs.len());
    assert_eq!(
        again.remote_write[0].queue_config,
        c.remote_write[0].queue_config
    );
    assert_eq!(again.storage, c.storage);
    assert_eq!(again.tracing, c.tracing);
    // Secrets come back as the placeholder, never as the original.
    let token = again.scrape_configs[1].authorization.as_ref().unwrap();
    assert_eq!(token.credentials.as_deref(), Some(SECRET_PLACEHOLDER));
}

#[test]
fn discovery_that_runs_is_not_reported_unsupported() {
    let c = parse(
        "scrape_configs:\n  - job_name: a\n    file_sd_configs: [{files: [t/*.json]}]\n    http_sd_configs: [{url: http://sd/}]\n    dns_sd_configs: [{names: [localhost], type: A, port: 9100}, {names: [localhost], type: AAAA, port: 9100}]\n",
    );
    assert!(
        c.unsupported_features().is_empty(),
        "{:?}",
        c.unsupported_features()
    );
    let c = parse(
        "scrape_configs:\n  - job_name: a\n    dns_sd_configs: [{names: [_x._tcp.example.org]}]\n    http_sd_configs: [{url: 'https://sd/', oauth2: {client_id: c, token_url: 'http://t/'}}]\n",
    );
    assert_eq!(
        c.unsupported_features(),
        [
            "job \"a\": dns_sd_configs of type SRV, MX or NS",
            "job \"a\": http_sd_configs oauth2",
        ]
    );
}
