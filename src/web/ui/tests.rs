//! In-process tests of the pages (actix `test::init_service`): routes, escaping, the targets
//! page's filters and per-pool limit. The browser tests (`tests/browser*.rs`) check the same
//! pages rendered and scripted by chromium.

use crate::config::Config;
use crate::flags::Flags;
use crate::model::Labels;
use crate::scrape::{Health, HealthState, TargetRegistry, TargetStatus};
use crate::selfmetrics::SelfMetrics;
use crate::storage::{Db, DbOptions};
use crate::web::{AppState, Reload};
use actix_web::test::{call_service, init_service, read_body, TestRequest};
use actix_web::{web, App};
use clap::Parser;
use parking_lot::RwLock;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

struct NoReload;

impl Reload for NoReload {
    fn reload(&self) -> Result<(), String> {
        Ok(())
    }
}

fn target(pool: &str, host: &str, extra: &[(&str, &str)], state: HealthState) -> TargetStatus {
    let mut pairs = vec![("instance", host), ("job", pool)];
    pairs.extend_from_slice(extra);
    let labels = Labels::from_pairs(&pairs);
    TargetStatus {
        key: labels.stable_hash(),
        scrape_pool: pool.to_string(),
        scrape_url: format!("http://{host}/metrics"),
        discovered_labels: labels.clone(),
        labels,
        interval: Duration::from_secs(15),
        timeout: Duration::from_secs(10),
        health: RwLock::new(Health {
            state,
            last_error: if state == HealthState::Down {
                format!("connection refused <b>{host}</b>")
            } else {
                String::new()
            },
            last_scrape: Some(SystemTime::now() - Duration::from_secs(3)),
            ..Health::default()
        }),
        metadata: RwLock::new(Arc::default()),
    }
}

/// State with a pool `node` of `n` targets (every third down) and a pool `xss` whose labels
/// and error carry markup.
fn state(n: usize) -> (web::Data<AppState>, tempfile::TempDir) {
    let registry = Arc::new(TargetRegistry::new());
    for i in 0..n {
        let state = if i % 3 == 0 {
            HealthState::Down
        } else {
            HealthState::Up
        };
        registry.insert(Arc::new(target(
            "node",
            &format!("10.0.{}.{}:9100", i / 250, i % 250),
            &[],
            state,
        )));
    }
    registry.insert(Arc::new(target(
        "xss",
        "evil:1",
        &[
            ("x", "<script>alert(1)</script>"),
            ("y", "\"><img src=x onerror=alert(2)>"),
        ],
        HealthState::Down,
    )));
    app_state(registry)
}

/// The state and the temporary data directory its storage lives in (removed when dropped).
fn app_state(registry: Arc<TargetRegistry>) -> (web::Data<AppState>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("data dir");
    let db = Db::open(dir.path(), DbOptions::default()).expect("open storage");
    let config = Config::from_yaml("scrape_configs:\n  - job_name: node\n", "test.yml")
        .expect("test config");
    let state = web::Data::new(AppState {
        db: Arc::new(db),
        registry,
        metrics: Arc::new(SelfMetrics::new()),
        config: Arc::new(RwLock::new(Arc::new(config))),
        flags: Flags::parse_from(["pyrometer"]),
        start_time: SystemTime::now(),
        ready: Arc::new(AtomicBool::new(true)),
        reloader: Arc::new(NoReload),
        quit: Arc::new(tokio::sync::Notify::new()),
        engine: crate::promql::Engine::default(),
    });
    (state, dir)
}

async fn get(s: &web::Data<AppState>, path: &str) -> (u16, String) {
    let app = init_service(App::new().app_data(s.clone()).configure(super::routes)).await;
    let resp = call_service(&app, TestRequest::get().uri(path).to_request()).await;
    let code = resp.status().as_u16();
    let body = read_body(resp).await;
    (code, String::from_utf8_lossy(&body).into_owned())
}

#[test]
fn escape_neutralizes_markup() {
    assert_eq!(
        super::escape(r#"<script>alert("x")</script>&'"#),
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
    );
}

#[actix_web::test]
async fn every_page_answers_with_the_navigation() {
    let (s, _dir) = state(3);
    for path in [
        "/graph",
        "/alerts",
        "/status",
        "/flags",
        "/config",
        "/tsdb-status",
        "/targets",
        "/service-discovery",
    ] {
        let (code, body) = get(&s, path).await;
        assert_eq!(code, 200, "{path}");
        assert!(
            body.contains("<a href=\"/tsdb-status\">TSDB Status</a>"),
            "{path}"
        );
    }
    let (code, _) = get(&s, "/").await;
    assert_eq!(code, 302);
    let (code, body) = get(&s, "/assets/graph.js").await;
    assert_eq!(code, 200);
    assert!(body.contains("PyrometerPlot"));
    let (code, _) = get(&s, "/assets/../Cargo.toml").await;
    assert_eq!(code, 404);
}

#[actix_web::test]
async fn targets_page_escapes_labels_and_errors() {
    let (s, _dir) = state(1);
    let (_, body) = get(&s, "/targets").await;
    assert!(body.contains("x=&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;"));
    assert!(body.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
    assert!(body.contains("connection refused &lt;b&gt;evil:1&lt;/b&gt;"));
    assert!(!body.contains("<script>alert") && !body.contains("<img"));
}

#[actix_web::test]
async fn targets_page_counts_filters_and_limits_rows_per_pool() {
    let (s, _dir) = state(300);
    let (_, body) = get(&s, "/targets").await;
    assert!(body.contains("<b>node</b> (200/300 up)"));
    assert!(body.contains("<b>xss</b> (0/1 up)"));
    assert_eq!(body.matches("<tr class=\"target\">").count(), 101);
    assert!(body.contains("Showing 100 of 300 targets."));
    assert!(body.contains("s ago</td>"));

    let (_, more) = get(&s, "/targets?expand=node&limit=600").await;
    assert_eq!(more.matches("<tr class=\"target\">").count(), 301);

    let (_, unhealthy) = get(&s, "/targets?state=unhealthy").await;
    assert_eq!(unhealthy.matches("badge state-up").count(), 0);

    let (_, one) = get(&s, "/targets?search=10.0.1.7%3A").await;
    assert_eq!(one.matches("<tr class=\"target\">").count(), 1);
    assert!(!one.contains("<b>xss</b>"));
}

#[actix_web::test]
async fn pools_past_the_page_budget_fold_to_their_header() {
    let registry = Arc::new(TargetRegistry::new());
    for pool in 0..30 {
        for i in 0..50 {
            let name = format!("pool{pool:02}");
            let host = format!("10.{pool}.0.{i}:80");
            registry.insert(Arc::new(target(&name, &host, &[], HealthState::Up)));
        }
    }
    let (s, _dir) = app_state(registry);
    let (_, body) = get(&s, "/targets").await;
    // 20 pools of 50 fill the 1000-row budget; the other 10 are folded.
    assert_eq!(body.matches("<tr class=\"target\">").count(), 1000);
    assert!(body.contains("<b>pool29</b> (50/50 up)"));
    assert!(body.contains("50 targets not listed, to keep this page fast. <a href=\"/targets?expand=pool29#pool-pool29\">List them</a>"));
    let (_, one) = get(&s, "/targets?expand=pool29").await;
    assert_eq!(one.matches("<tr class=\"target\">").count(), 1050);
}

#[actix_web::test]
async fn status_pages_show_config_flags_and_runtime() {
    let (s, _dir) = state(2);
    let (_, config) = get(&s, "/config").await;
    assert!(config.contains("job_name: node"));
    let (_, flags) = get(&s, "/flags").await;
    assert!(flags.contains("<th>storage.tsdb.retention.time</th><td><code>15d</code></td>"));
    let (_, runtime) = get(&s, "/status").await;
    assert!(runtime.contains("<th>Active targets</th><td>3</td>"));
    assert!(runtime.contains("<th>Storage retention</th><td>15d</td>"));
}
