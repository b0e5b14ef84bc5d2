//! Scraping `https` targets: a Python HTTPS server with a self-signed certificate made by the
//! `openssl` command; the target is UP with `ca_file` or `insecure_skip_verify`, and DOWN with
//! a certificate error when the certificate cannot be verified.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;
use support::*;

fn https_exporter(dir: &std::path::Path, port: u16) -> ChildGuard {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let (ca, ca_key, csr, ext) = (
        dir.join("ca.pem"),
        dir.join("ca-key.pem"),
        dir.join("leaf.csr"),
        dir.join("leaf.ext"),
    );
    std::fs::write(
        &ext,
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .expect("write ext");
    let p = |p: &std::path::Path| p.display().to_string();
    // A CA and a leaf certificate it signs: verifiers reject a CA certificate used as a leaf.
    let steps: [Vec<String>; 3] = [
        vec![
            "req".into(),
            "-x509".into(),
            "-newkey".into(),
            "rsa:2048".into(),
            "-nodes".into(),
            "-days".into(),
            "1".into(),
            "-subj".into(),
            "/CN=test-ca".into(),
            "-keyout".into(),
            p(&ca_key),
            "-out".into(),
            p(&ca),
        ],
        vec![
            "req".into(),
            "-newkey".into(),
            "rsa:2048".into(),
            "-nodes".into(),
            "-subj".into(),
            "/CN=localhost".into(),
            "-keyout".into(),
            p(&key),
            "-out".into(),
            p(&csr),
        ],
        vec![
            "x509".into(),
            "-req".into(),
            "-in".into(),
            p(&csr),
            "-CA".into(),
            p(&ca),
            "-CAkey".into(),
            p(&ca_key),
            "-CAcreateserial".into(),
            "-days".into(),
            "1".into(),
            "-extfile".into(),
            p(&ext),
            "-out".into(),
            p(&cert),
        ],
    ];
    for args in steps {
        let ok = Command::new("openssl")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(
            ok,
            "the openssl command is needed to make test certificates: openssl {args:?}"
        );
    }
    let script = format!(
        r#"
import http.server, ssl
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'tls_test_value 42\n'
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain; version=0.0.4')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(('127.0.0.1', {port}), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain('{cert}', '{key}')
s.socket = ctx.wrap_socket(s.socket, server_side=True)
s.serve_forever()
"#,
        cert = cert.display(),
        key = key.display()
    );
    ChildGuard(
        Command::new("python3")
            .args(["-c", &script])
            .spawn()
            .expect("python3"),
    )
}

#[test]
fn https_targets_with_ca_file_insecure_and_untrusted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let _server = https_exporter(dir.path(), port);
    let ca = dir.path().join("ca.pem");
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
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !(want("with_ca", "up") && want("insecure", "up") && want("untrusted", "down")) {
        assert!(
            std::time::Instant::now() < deadline,
            "https targets: with_ca {:?}, insecure {:?}, untrusted {:?}",
            health("with_ca"),
            health("insecure"),
            health("untrusted")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (_, err) = health("untrusted");
    assert!(
        err.to_lowercase().contains("certificate") || err.to_lowercase().contains("tls"),
        "error should name the certificate problem: {err}"
    );
    let r = p.query("tls_test_value");
    assert_eq!(r.len(), 2, "{r:?}");
}
