//! The HTTP side of a scrape: one GET with Prometheus's headers, a size limit and a timeout.

use crate::config::{Authorization, BasicAuth, TlsConfig};
use crate::httpclient::{authorization_header, tls_client_config, CredentialsError, USER_AGENT};
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

/// The Accept header Prometheus 2.x sends: OpenMetrics first, then the text format.
const ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// How a target is scraped; fixed for the life of a target actor.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FetchSettings {
    pub url: String,
    pub timeout: Duration,
    /// 0 means no limit.
    pub body_size_limit: u64,
    /// The job's `basic_auth`, turned into a header on every scrape.
    pub basic_auth: Option<BasicAuth>,
    /// The job's `authorization` (bearer tokens included), likewise.
    pub authorization: Option<Authorization>,
    /// The job's `tls_config`, for https targets.
    pub tls: Option<TlsConfig>,
}

/// A fetched body and the content type it came with.
pub struct Fetched {
    pub body: bytes::Bytes,
    pub content_type: String,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("Get {url:?}: {reason}")]
    Request { url: String, reason: String },
    #[error("server returned HTTP status {0}")]
    Status(String),
    #[error(
        "body size limit exceeded: the response is larger than {0} bytes; raise body_size_limit"
    )]
    BodyTooLarge(u64),
    #[error("context deadline exceeded: no complete answer within the scrape timeout of {0:?}")]
    Timeout(Duration),
    #[error("reading body: {0}")]
    Body(String),
    #[error("{0}")]
    Tls(String),
    #[error("{0}")]
    Credentials(#[from] CredentialsError),
}

thread_local! {
    /// Clients of this arbiter thread, one per TLS configuration: awc clients are not Send,
    /// and each keeps its own keep-alive pool, so a target reuses its connection.
    static CLIENTS: RefCell<HashMap<String, awc::Client>> = RefCell::new(HashMap::new());
}

fn client(tls: Option<&TlsConfig>) -> Result<awc::Client, FetchError> {
    let key = format!("{tls:?}");
    CLIENTS.with(|c| {
        if let Some(client) = c.borrow().get(&key) {
            return Ok(client.clone());
        }
        let connector = awc::Connector::new()
            .rustls_0_23(tls_client_config(tls).map_err(FetchError::Tls)?)
            // awc caps a client at 100 connections by default; one thread serves thousands
            // of targets, each with its own keep-alive connection.
            .limit(0);
        let client = awc::Client::builder()
            .connector(connector)
            // The whole-scrape deadline below is the real limit; this only stops awc's
            // own 5 s default from cutting longer configured timeouts short.
            .timeout(Duration::from_secs(3600))
            .finish();
        c.borrow_mut().insert(key, client.clone());
        Ok(client)
    })
}

/// Scrapes once; must run on an actix arbiter (it uses that thread's client).
pub async fn fetch(s: &FetchSettings) -> Result<Fetched, FetchError> {
    match tokio::time::timeout(s.timeout, fetch_inner(s)).await {
        Ok(r) => r,
        Err(_) => Err(FetchError::Timeout(s.timeout)),
    }
}

async fn fetch_inner(s: &FetchSettings) -> Result<Fetched, FetchError> {
    let mut req = client(s.tls.as_ref())?
        .get(&s.url)
        .insert_header(("Accept", ACCEPT))
        // Prometheus asks for gzip only; bodies are decompressed by awc.
        .insert_header(("Accept-Encoding", "gzip"))
        .insert_header(("User-Agent", USER_AGENT))
        .insert_header((
            "X-Prometheus-Scrape-Timeout-Seconds",
            format!("{}", s.timeout.as_secs_f64()),
        ));
    if let Some(auth) = authorization_header(s.basic_auth.as_ref(), s.authorization.as_ref())? {
        req = req.insert_header(("Authorization", auth));
    }
    let mut resp = req.send().await.map_err(|e| FetchError::Request {
        url: s.url.clone(),
        reason: e.to_string(),
    })?;
    let status = resp.status();
    if status != awc::http::StatusCode::OK {
        return Err(FetchError::Status(status.to_string()));
    }
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let limit = if s.body_size_limit == 0 {
        usize::MAX
    } else {
        s.body_size_limit as usize
    };
    let body = resp.body().limit(limit).await.map_err(|e| match e {
        awc::error::PayloadError::Overflow => FetchError::BodyTooLarge(s.body_size_limit),
        other => FetchError::Body(other.to_string()),
    })?;
    Ok(Fetched { body, content_type })
}
