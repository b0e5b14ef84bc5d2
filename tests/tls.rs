//! Scraping `https` targets: a Python HTTPS server with a self-signed certificate made by the
//! `openssl` command; the target is UP with `ca_file` or `insecure_skip_verify`, and DOWN with
//! a certificate error when the certificate cannot be verified.

mod support;

use std::time::Duration;
use support::tls::{https_server, make_certs};
use support::*;

#[test]
fn https_targets_with_ca_file_insecure_and_untrusted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let certs = make_certs(dir.path());
    let _server = https_server(
        &certs,
        port,
        "text/plain; version=0.0.4",
        "tls_test_value 42\n",
    );
    let ca = &certs.ca;
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n\
- job_name: with_ca\n  scheme: https\n  tls_config:\n    ca_file: {ca}\n  static_configs:\n    - targets: ['localhost:{port}']\n\
- job_name: insecure\n  scheme: https\n  tls_config:\n    insecure_skip_verify: true\n  static_configs:\n    - targets: ['127.0.0.1:{port}']\n\
- job_name: untrusted\n  scheme: https\n  static_configs:\n    - targets: ['localhost:{port}']\n",
        ca = ca.display()
    );
    let p = Pyrometer::start(&config, &[]);
    let health = |job: &str| -> (String, String) {
        let t = p.get_json("/api/v1/targets");
        let t = t["data"]["activeTargets"]
            .as_array()
            .and_then(|a| a.iter().find(|t| t["scrapePool"] == job).cloned())
            .unwrap_or_default();
        (
            t["health"].as_str().unwrap_or("").to_string(),
            t["lastError"].as_str().unwrap_or("").to_string(),
        )
    };
    let want = |job: &str, state: &str| health(job).0 == state;
    let names_certificate = |err: &str| {
        let err = err.to_lowercase();
        err.contains("certificate") || err.contains("tls")
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !(want("with_ca", "up")
        && want("insecure", "up")
        && want("untrusted", "down")
        && names_certificate(&health("untrusted").1))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "https targets: with_ca {:?}, insecure {:?}, untrusted {:?}",
            health("with_ca"),
            health("insecure"),
            health("untrusted")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let r = p.query("tls_test_value");
    assert_eq!(r.len(), 2, "{r:?}");
}
