//! Relabeling end to end: `relabel_configs` keep/drop rules put targets into
//! `droppedTargets` with their discovered labels (and mark them on the service discovery
//! page), a replace rule shapes target labels, and a `metric_relabel_configs` drop rule
//! removes series before they are stored.

mod support;

use actix_web::{web, App, HttpResponse, HttpServer};
use std::time::Duration;
use support::*;

async fn metrics() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body("# TYPE keep_me gauge\nkeep_me 1\n# TYPE drop_me gauge\ndrop_me{a=\"1\"} 2\ndrop_me{a=\"2\"} 3\n")
}

#[test]
fn relabel_rules_drop_targets_and_series() {
    let listeners: Vec<std::net::TcpListener> = (0..3)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let ports: Vec<u16> = listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect();
    let (tx, rx) = std::sync::mpsc::channel();
    let server_thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let mut server =
                HttpServer::new(|| App::new().route("/metrics", web::get().to(metrics)))
                    .workers(1)
                    .disable_signals();
            for l in listeners {
                server = server.listen(l).unwrap();
            }
            let server = server.run();
            let _ = tx.send(server.handle());
            let _ = server.await;
        })
    });
    let handle = rx.recv().unwrap();

    // ports[0]: kept; ports[1]: dropped by `drop` on its address; ports[2]: dropped by
    // `keep` (env is not prod).
    let config = format!(
        r#"global:
  scrape_interval: 1s
scrape_configs:
- job_name: rl
  static_configs:
    - targets: ['127.0.0.1:{0}', '127.0.0.1:{1}']
      labels: {{env: prod, note: '<script>x</script>'}}
    - targets: ['127.0.0.1:{2}']
      labels: {{env: dev}}
  relabel_configs:
    - source_labels: [env]
      regex: prod
      action: keep
    - source_labels: [__address__]
      regex: '127\.0\.0\.1:{1}'
      action: drop
    - source_labels: [__address__]
      regex: '(.*):\d+'
      target_label: host
  metric_relabel_configs:
    - source_labels: [__name__]
      regex: drop_me
      action: drop
"#,
        ports[0], ports[1], ports[2]
    );
    let p = Pyrometer::start(&config, &[]);

    let t = p.get_json("/api/v1/targets");
    let active = t["data"]["activeTargets"].as_array().unwrap();
    assert_eq!(active.len(), 1, "{t}");
    assert_eq!(
        active[0]["labels"]["instance"],
        format!("127.0.0.1:{}", ports[0])
    );
    assert_eq!(active[0]["labels"]["host"], "127.0.0.1");
    let dropped = t["data"]["droppedTargets"].as_array().unwrap();
    let mut addrs: Vec<String> = dropped
        .iter()
        .map(|d| {
            d["discoveredLabels"]["__address__"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    addrs.sort();
    let mut want = vec![
        format!("127.0.0.1:{}", ports[1]),
        format!("127.0.0.1:{}", ports[2]),
    ];
    want.sort();
    assert_eq!(addrs, want);
    for d in dropped {
        assert_eq!(d["discoveredLabels"]["job"], "rl", "{d}");
        assert!(d["discoveredLabels"]["env"].is_string(), "{d}");
    }

    wait_until(Duration::from_secs(10), "kept series stored", || {
        p.query("keep_me").len() == 1
    });
    wait_until(Duration::from_secs(5), "post-relabel count", || {
        let r = p.query("scrape_samples_post_metric_relabeling");
        r.len() == 1 && r[0]["value"][1] == "1"
    });
    assert!(
        p.query("drop_me").is_empty(),
        "metric_relabel_configs drop rule ignored"
    );
    let scraped = p.query("scrape_samples_scraped");
    assert_eq!(scraped[0]["value"][1], "3");

    let (_, page) = get(&p.url("/service-discovery")).unwrap();
    assert_eq!(page.matches("<tr class=\"dropped\">").count(), 2, "{page}");
    assert_eq!(page.matches("<tr class=\"active\">").count(), 1, "{page}");
    assert!(page.contains("host=\"127.0.0.1\""), "{page}");
    assert!(
        !page.contains("<script>"),
        "label values must be escaped: {page}"
    );
    assert!(page.contains("&lt;script&gt;x&lt;/script&gt;"), "{page}");

    drop(p);
    actix_web::rt::System::new().block_on(handle.stop(false));
    let _ = server_thread.join();
}
