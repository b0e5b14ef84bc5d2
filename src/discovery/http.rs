//! `http_sd_configs`: target groups fetched as JSON from a URL every `refresh_interval`.
//!
//! The answer must be a 200 with a JSON content type holding a list of target groups, as
//! Prometheus's HTTP discovery requires. A failed fetch is logged, counted in
//! `prometheus_sd_http_failures_total` and shown on the service discovery page; the last
//! good groups stay in place. Every group carries `__meta_url`.

use super::{parse_groups, refresh_every, GroupFormat, ProviderCtx, TargetGroup};
use crate::config::HttpSdConfig;
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
    let tls = crate::httpclient::tls_client_config(cfg.http_client.tls_config.as_ref())?;
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
        .insert_header(("User-Agent", crate::httpclient::USER_AGENT))
        .insert_header((
            "X-Prometheus-Refresh-Interval-Seconds",
            cfg.refresh_interval.as_secs_f64().to_string(),
        ));
    let c = &cfg.http_client;
    let auth =
        crate::httpclient::authorization_header(c.basic_auth.as_ref(), c.authorization.as_ref())
            .map_err(|e| HttpSdError::Credentials {
                url: url.to_string(),
                path: e.path,
                message: e.message,
            })?;
    if let Some(value) = auth {
        req = req.insert_header(("Authorization", value));
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

#[cfg(test)]
mod tests {
    use super::*;

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
