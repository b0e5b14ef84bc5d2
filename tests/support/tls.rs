//! HTTPS peers for tests: certificates made by the `openssl` command (a CA and a leaf for
//! `localhost`/127.0.0.1 that it signs: verifiers reject a CA certificate used as a leaf) and
//! a Python HTTPS server answering every GET with one fixed body.

use super::ChildGuard;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Paths of the test CA certificate and of the leaf certificate and key it signed.
pub struct Certs {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub fn make_certs(dir: &Path) -> Certs {
    let certs = Certs {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    let (ca_key, csr, ext) = (
        dir.join("ca-key.pem"),
        dir.join("leaf.csr"),
        dir.join("leaf.ext"),
    );
    std::fs::write(
        &ext,
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .expect("write ext");
    let p = |p: &Path| p.display().to_string();
    let steps: [Vec<String>; 3] = [
        [
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=test-ca",
            "-keyout",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([p(&ca_key), "-out".into(), p(&certs.ca)])
        .collect(),
        [
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([p(&certs.key), "-out".into(), p(&csr)])
        .collect(),
        vec![
            "x509".into(),
            "-req".into(),
            "-in".into(),
            p(&csr),
            "-CA".into(),
            p(&certs.ca),
            "-CAkey".into(),
            p(&ca_key),
            "-CAcreateserial".into(),
            "-days".into(),
            "1".into(),
            "-extfile".into(),
            p(&ext),
            "-out".into(),
            p(&certs.cert),
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
    certs
}

/// Serves `body` with `content_type` over HTTPS on 127.0.0.1:`port`.
pub fn https_server(certs: &Certs, port: u16, content_type: &str, body: &str) -> ChildGuard {
    let script = format!(
        r#"
import http.server, ssl
BODY = {body:?}.encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header('Content-Type', {content_type:?})
        self.send_header('Content-Length', str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(('127.0.0.1', {port}), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain({cert:?}, {key:?})
s.socket = ctx.wrap_socket(s.socket, server_side=True)
s.serve_forever()
"#,
        cert = certs.cert.display().to_string(),
        key = certs.key.display().to_string(),
    );
    let server = ChildGuard(
        Command::new("python3")
            .args(["-c", &script])
            .spawn()
            .expect("python3"),
    );
    // Listening before anything scrapes it: a first scrape refused would be a DOWN target
    // for the wrong reason.
    super::wait_until(
        std::time::Duration::from_secs(10),
        "https server listening",
        || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
    );
    server
}
