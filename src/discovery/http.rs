//! `http_sd_configs`: target groups fetched as JSON from a URL every `refresh_interval`.
//!
//! The answer must be a 200 with a JSON content type holding a list of target groups, as
//! Prometheus's HTTP discovery requires. A failed fetch is logged, counted in
//! `prometheus_sd_http_failures_total` and shown on the service discovery page; the last
//! good groups stay in place. Every group carries `__meta_url`.

use super::{parse_groups, refresh_every, GroupFormat, ProviderCtx, TargetGroup};
use crate::config::{HttpClientConfig, HttpSdConfig};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The meta label naming the URL a target came from.
pub const URL_LABEL: &str = "__meta_url";

/// The longest a single fetch may take, whatever the refresh interval (Prometheus bounds a
/// refresh by its interval; a shorter cap keeps a hung server from delaying the next try).
const MAX_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest answer accepted, so a wrong URL cannot fill the memory.
const MAX_BODY: usize = 64 << 20;

#[derive(Debug, thiserror::Error)]
pub enum HttpSdError {
    #[error("cannot fetch target groups from {url:?}: {message}")]
    Fetch { url: String, message: String },
    #[error("fetching target groups from {url:?} answered HTTP {status}, expected 200")]
    Status { url: String, status: u16 },
    #[error("fetching target groups from {url:?} answered content type {content_type:?}, expected application/json")]
    ContentType { url: String, content_type: String },
    #[error("cannot read credentials file {path:?} for {url:?}: {message}")]
    Credentials {
        url: String,
        path: String,
        message: String,
    },
    #[error("cannot set up TLS for {url:?}: {message}")]
    Tls { url: String, message: String },
    #[error("{0}")]
    Groups(#[from] super::GroupsError),
}

/// Runs one `http_sd_configs` entry until the job stops (the future is dropped with it).
pub async fn run(p: ProviderCtx, cfg: HttpSdConfig) {
    let client = build_client(&cfg);
    let mut sent: Option<Vec<TargetGroup>> = None;
    loop {
        let fetched = match &client {
            Ok(c) => fetch(c, &cfg).await,
            Err(e) => Err(HttpSdError::Tls {
                url: cfg.url.clone(),
                message: e.clone(),
            }),
        };
        match fetched {
            Ok(groups) => {
                p.report(&cfg.url, None);
                if sent.as_ref() != Some(&groups) {
                    sent = Some(groups.clone());
                    p.send(groups);
                }
            }
            Err(e) => {
                p.metrics
                    .sd_http_failures_total
                    .fetch_add(1, Ordering::Relaxed);
                log::error!(
                    "job {:?}: {e}; keeping the targets last fetched from it",
                    p.job
                );
                p.report(&cfg.url, Some(e.to_string()));
            }
        }
        tokio::time::sleep(refresh_every(cfg.refresh_interval)).await;
    }
}

/// A client for this URL: TLS (for `https` URLs) from the entry's `tls_config`, built the
/// way the scraper builds its own; the timeout bounds each fetch.
fn build_client(cfg: &HttpSdConfig) -> Result<awc::Client, String> {
    let tls = crate::scrape::tls_client_config(cfg.http_client.tls_config.as_ref())?;
    Ok(awc::Client::builder()
        .connector(awc::Connector::new().rustls_0_23(tls))
        .timeout(refresh_every(cfg.refresh_interval).min(MAX_TIMEOUT))
        .finish())
}

async fn fetch(client: &awc::Client, cfg: &HttpSdConfig) -> Result<Vec<TargetGroup>, HttpSdError> {
    let url = &cfg.url;
    let mut req = client
        .get(url)
        .insert_header(("Accept", "application/json"))
        .insert_header((
            "User-Agent",
            concat!("Pyrometer/", env!("CARGO_PKG_VERSION")),
        ))
        .insert_header((
            "X-Prometheus-Refresh-Interval-Seconds",
            cfg.refresh_interval.as_secs_f64().to_string(),
        ));
    match auth(&cfg.http_client, url)? {
        Some(Auth::Basic { username, password }) => req = req.basic_auth(username, password),
        Some(Auth::Header(value)) => req = req.insert_header(("Authorization", value)),
        None => {}
    }
    let fetch_err = |message: String| HttpSdError::Fetch {
        url: url.clone(),
        message,
    };
    let mut resp = req.send().await.map_err(|e| fetch_err(e.to_string()))?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(HttpSdError::Status {
            url: url.clone(),
            status,
        });
    }
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if !is_json(&content_type) {
        return Err(HttpSdError::ContentType {
            url: url.clone(),
            content_type,
        });
    }
    let body = resp
        .body()
        .limit(MAX_BODY)
        .await
        .map_err(|e| fetch_err(e.to_string()))?;
    let text = std::str::from_utf8(&body)
        .map_err(|e| fetch_err(format!("body is not UTF-8 at byte {}", e.valid_up_to())))?;
    Ok(parse_groups(text, GroupFormat::Json, url, URL_LABEL)?)
}

/// Whether a content type is JSON as HTTP discovery requires: `application/json`, in any
/// case, with no parameter but an optional UTF-8 charset (Prometheus's rule).
fn is_json(content_type: &str) -> bool {
    let mut parts = content_type.trim().splitn(2, ';');
    let media = parts.next().unwrap_or("").trim();
    let charset_ok = match parts.next() {
        None => true,
        Some(p) => {
            let p = p.trim().to_ascii_lowercase();
            p == "charset=utf-8" || p == "charset=\"utf-8\""
        }
    };
    media.eq_ignore_ascii_case("application/json") && charset_ok
}

/// How a fetch authenticates.
enum Auth {
    Basic {
        username: String,
        password: String,
    },
    /// The whole `Authorization` header value (`<type> <credentials>`).
    Header(String),
}

/// The authentication of `basic_auth` or `authorization`, reading secret files on every
/// fetch so a rotated secret is picked up.
fn auth(c: &HttpClientConfig, url: &str) -> Result<Option<Auth>, HttpSdError> {
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .map(|s| s.trim().to_string())
            .map_err(|e| HttpSdError::Credentials {
                url: url.to_string(),
                path: path.to_string(),
                message: e.to_string(),
            })
    };
    if let Some(b) = &c.basic_auth {
        let password = match (&b.password, &b.password_file) {
            (Some(p), _) => p.clone(),
            (None, Some(f)) => read(f)?,
            (None, None) => String::new(),
        };
        return Ok(Some(Auth::Basic {
            username: b.username.clone(),
            password,
        }));
    }
    if let Some(a) = &c.authorization {
        let creds = match (&a.credentials, &a.credentials_file) {
            (Some(c), _) => c.clone(),
            (None, Some(f)) => read(f)?,
            (None, None) => return Ok(None),
        };
        let kind = if a.credentials_type.is_empty() {
            "Bearer"
        } else {
            &a.credentials_type
        };
        return Ok(Some(Auth::Header(format!("{kind} {creds}"))));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Authorization, BasicAuth};

    /// The auth of a client config, as (kind, value): `basic` with `user:password`, or
    /// `header` with the whole header value.
    fn shown(c: &HttpClientConfig) -> Option<(&'static str, String)> {
        match auth(c, "http://sd/").unwrap() {
            Some(Auth::Basic { username, password }) => {
                Some(("basic", format!("{username}:{password}")))
            }
            Some(Auth::Header(v)) => Some(("header", v)),
            None => None,
        }
    }

    #[test]
    fn auth_from_basic_auth_and_authorization() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "from-file\n").unwrap();
        let file = Some(secret.display().to_string());
        let basic = |password: Option<&str>, password_file: Option<String>| HttpClientConfig {
            basic_auth: Some(BasicAuth {
                username: "u".into(),
                password: password.map(String::from),
                password_file,
            }),
            ..HttpClientConfig::default()
        };
        let authz = |kind: &str, credentials: Option<&str>, credentials_file: Option<String>| {
            HttpClientConfig {
                authorization: Some(Authorization {
                    credentials_type: kind.into(),
                    credentials: credentials.map(String::from),
                    credentials_file,
                }),
                ..HttpClientConfig::default()
            }
        };
        let cases = [
            (HttpClientConfig::default(), None),
            (basic(Some("p"), None), Some(("basic", "u:p".to_string()))),
            (
                basic(None, file.clone()),
                Some(("basic", "u:from-file".to_string())),
            ),
            (basic(None, None), Some(("basic", "u:".to_string()))),
            (
                authz("", Some("t"), None),
                Some(("header", "Bearer t".to_string())),
            ),
            (
                authz("Token", None, file.clone()),
                Some(("header", "Token from-file".to_string())),
            ),
            (authz("Bearer", None, None), None),
        ];
        for (c, want) in cases {
            assert_eq!(shown(&c), want, "{c:?}");
        }
    }

    #[test]
    fn unreadable_credentials_file_names_it() {
        let c = HttpClientConfig {
            authorization: Some(Authorization {
                credentials_type: "Bearer".into(),
                credentials: None,
                credentials_file: Some("/nonexistent/token".into()),
            }),
            ..HttpClientConfig::default()
        };
        let err = match auth(&c, "http://sd/") {
            Err(e) => e.to_string(),
            Ok(_) => panic!("a missing credentials file must fail"),
        };
        assert!(
            err.contains("/nonexistent/token") && err.contains("http://sd/"),
            "{err}"
        );
    }

    #[test]
    fn json_content_types() {
        let cases = [
            ("application/json", true),
            ("Application/JSON", true),
            ("application/json; charset=utf-8", true),
            ("application/json;charset=\"UTF-8\"", true),
            ("application/json; charset=latin1", false),
            ("text/plain", false),
            ("", false),
            ("application/jsonx", false),
        ];
        for (ct, want) in cases {
            assert_eq!(is_json(ct), want, "{ct}");
        }
    }
}
