//! HTTP service discovery end to end: an in-test discovery server on loopback changes its
//! answer and the targets follow; a failing answer keeps the last good targets.

mod support;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;
use support::*;

/// What the discovery server answers next: HTTP status and body.
type Answer = Arc<Mutex<(u16, String)>>;

/// `user:secret` in base64, as the basic_auth of the test config sends it.
const AUTH: &str = "Basic dXNlcjpzZWNyZXQ=";

async fn sd(req: HttpRequest, answer: web::Data<Answer>) -> HttpResponse {
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    if auth != Some(AUTH) {
        return HttpResponse::Unauthorized().finish();
    }
    let (status, body) = answer.lock().clone();
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
        .content_type("application/json")
        .body(body)
}

fn instances(p: &Pyrometer) -> Vec<String> {
    let t = p.get_json("/api/v1/targets");
    let mut out: Vec<String> = t["data"]["activeTargets"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|t| t["labels"]["instance"].as_str().unwrap_or("").to_string())
        .collect();
    out.sort();
    out
}

fn failures(p: &Pyrometer) -> f64 {
    let (_, body) = get(&p.url("/metrics")).unwrap();
    body.lines()
        .find_map(|l| {
            l.strip_prefix("prometheus_sd_http_failures_total ")?
                .parse()
                .ok()
        })
        .unwrap_or(-1.0)
}

#[test]
fn targets_follow_the_discovery_server() {
    let answer: Answer = Arc::new(Mutex::new((
        200,
        r#"[{"targets": ["127.0.0.1:7101"], "labels": {"dc": "a"}}]"#.to_string(),
    )));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sd_port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    let server_answer = answer.clone();
    let server_thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(web::Data::new(server_answer.clone()))
                    .route("/targets", web::get().to(sd))
            })
            .workers(1)
            .disable_signals()
            .listen(listener)
            .unwrap()
            .run();
            let _ = tx.send(server.handle());
            let _ = server.await;
        })
    });
    let handle = rx.recv().unwrap();

    let url = format!("http://127.0.0.1:{sd_port}/targets");
    let config = format!(
        "global:\n  scrape_interval: 1m\nscrape_configs:\n- job_name: http\n  http_sd_configs:\n    - url: {url}\n      refresh_interval: 1s\n      basic_auth: {{username: user, password: secret}}\n"
    );
    let p = Pyrometer::start(&config, &[]);
    let limit = Duration::from_secs(5);
    wait_until(limit, "first answer", || {
        instances(&p) == ["127.0.0.1:7101"]
    });
    let t = p.get_json("/api/v1/targets");
    let target = &t["data"]["activeTargets"][0];
    assert_eq!(target["labels"]["dc"], "a");
    assert_eq!(target["discoveredLabels"]["__meta_url"], url.as_str());

    *answer.lock() = (
        200,
        r#"[{"targets": ["127.0.0.1:7102", "127.0.0.1:7103"]}]"#.to_string(),
    );
    wait_until(limit, "changed answer", || {
        instances(&p) == ["127.0.0.1:7102", "127.0.0.1:7103"]
    });

    // A failing server: counted, shown, and the last good targets stay.
    *answer.lock() = (500, "oops".to_string());
    wait_until(limit, "failure counted", || failures(&p) >= 1.0);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(instances(&p), ["127.0.0.1:7102", "127.0.0.1:7103"]);
    let (_, page) = get(&p.url("/service-discovery")).unwrap();
    assert!(
        page.contains("HTTP 500"),
        "SD page should show the failure: {page}"
    );

    *answer.lock() = (200, "[]".to_string());
    wait_until(limit, "empty answer", || instances(&p).is_empty());
    let (_, page) = get(&p.url("/service-discovery")).unwrap();
    assert!(
        !page.contains("HTTP 500"),
        "recovered failure still shown: {page}"
    );

    drop(p);
    actix_web::rt::System::new().block_on(handle.stop(false));
    let _ = server_thread.join();
}

/// HTTP discovery over TLS, with the entry's own `tls_config`: a Python HTTPS server with a
/// certificate made by the `openssl` command.
#[test]
fn discovery_over_https() {
    let dir = tempfile::tempdir().unwrap();
    let certs = support::tls::make_certs(dir.path());
    let port = free_port();
    let _server = support::tls::https_server(
        &certs,
        port,
        "application/json",
        r#"[{"targets": ["127.0.0.1:7301"], "labels": {"via": "tls"}}]"#,
    );
    let config = format!(
        "global:\n  scrape_interval: 1m\nscrape_configs:\n- job_name: https_sd\n  http_sd_configs:\n    - url: https://127.0.0.1:{port}/targets\n      refresh_interval: 1s\n      tls_config: {{insecure_skip_verify: true}}\n"
    );
    let p = Pyrometer::start(&config, &[]);
    wait_until(Duration::from_secs(10), "targets over https", || {
        instances(&p) == ["127.0.0.1:7301"]
    });
    let t = p.get_json("/api/v1/targets");
    assert_eq!(t["data"]["activeTargets"][0]["labels"]["via"], "tls");
}
