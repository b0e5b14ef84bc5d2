//! HTTP client settings shared by scrape jobs, HTTP discovery, Alertmanagers and remote
//! storage: authentication, TLS, proxy. Mirrors `HTTPClientConfig` of `prometheus/common`,
//! including its rule that `bearer_token` and `bearer_token_file` are old spellings of
//! `authorization`.

use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeMap;

use super::de::yaml11_bool;

/// Written in place of secrets when a config is shown, as Prometheus does, so that
/// `/api/v1/status/config` never reveals a password.
pub const SECRET_PLACEHOLDER: &str = "<secret>";

pub(crate) fn serialize_secret<S: Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(_) => s.serialize_str(SECRET_PLACEHOLDER),
        None => s.serialize_none(),
    }
}

pub(crate) fn default_true() -> bool {
    true
}

pub(crate) fn is_true(b: &bool) -> bool {
    *b
}

/// `basic_auth:`; at most one of `password` and `password_file`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    #[serde(default)]
    pub username: String,
    #[serde(
        default,
        serialize_with = "serialize_secret",
        skip_serializing_if = "Option::is_none"
    )]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<String>,
}

/// `authorization:`, an `Authorization: <type> <credentials>` header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    /// The scheme of the header; empty in the file means `Bearer`.
    #[serde(default, rename = "type")]
    pub credentials_type: String,
    #[serde(
        default,
        serialize_with = "serialize_secret",
        skip_serializing_if = "Option::is_none"
    )]
    pub credentials: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<String>,
}

/// `oauth2:` client-credentials settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2 {
    pub client_id: String,
    #[serde(
        default,
        serialize_with = "serialize_secret",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_file: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    pub token_url: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub endpoint_params: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
}

/// `tls_config:`; a client certificate needs both its cert and key file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    #[serde(default, deserialize_with = "yaml11_bool")]
    pub insecure_skip_verify: bool,
    /// `TLS10` … `TLS13`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_version: Option<String>,
}

impl TlsConfig {
    fn validate(&self) -> Result<(), String> {
        match (&self.cert_file, &self.key_file) {
            (Some(c), None) => Err(format!(
                "client cert file {c:?} specified without client key file"
            )),
            (None, Some(k)) => Err(format!(
                "client key file {k:?} specified without client cert file"
            )),
            _ => Ok(()),
        }?;
        if let Some(v) = &self.min_version {
            if !matches!(v.as_str(), "TLS10" | "TLS11" | "TLS12" | "TLS13") {
                return Err(format!(
                    "unknown TLS version {v:?}, expected one of TLS10, TLS11, TLS12, TLS13"
                ));
            }
        }
        Ok(())
    }
}

/// The HTTP client settings as one value, for the sections that embed them whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpClientConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<OAuth2>,
    /// Old spelling of `authorization.credentials`; moved there when the config is loaded.
    #[serde(default, skip_serializing)]
    pub bearer_token: Option<String>,
    /// Old spelling of `authorization.credentials_file`; moved there when loaded.
    #[serde(default, skip_serializing)]
    pub bearer_token_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    #[serde(
        default = "default_true",
        skip_serializing_if = "is_true",
        deserialize_with = "yaml11_bool"
    )]
    pub follow_redirects: bool,
    #[serde(
        default = "default_true",
        skip_serializing_if = "is_true",
        deserialize_with = "yaml11_bool"
    )]
    pub enable_http2: bool,
}

impl Default for HttpClientConfig {
    fn default() -> Self {
        HttpClientConfig {
            basic_auth: None,
            authorization: None,
            oauth2: None,
            bearer_token: None,
            bearer_token_file: None,
            tls_config: None,
            proxy_url: None,
            follow_redirects: true,
            enable_http2: true,
        }
    }
}

impl HttpClientConfig {
    /// Checks Prometheus's exclusivity rules and folds `bearer_token(_file)` into
    /// `authorization`.
    pub fn validate(&mut self) -> Result<(), String> {
        validate_auth(
            &mut self.basic_auth,
            &mut self.authorization,
            &self.oauth2,
            &mut self.bearer_token,
            &mut self.bearer_token_file,
            &self.tls_config,
            &self.proxy_url,
        )
    }
}

/// The rules of `HTTPClientConfig.Validate`, over the fields wherever they are embedded.
pub(crate) fn validate_auth(
    basic_auth: &mut Option<BasicAuth>,
    authorization: &mut Option<Authorization>,
    oauth2: &Option<OAuth2>,
    bearer_token: &mut Option<String>,
    bearer_token_file: &mut Option<String>,
    tls_config: &Option<TlsConfig>,
    proxy_url: &Option<String>,
) -> Result<(), String> {
    let has_bearer = bearer_token.is_some() || bearer_token_file.is_some();
    if bearer_token.is_some() && bearer_token_file.is_some() {
        return Err("at most one of bearer_token & bearer_token_file must be configured".into());
    }
    if (basic_auth.is_some() || oauth2.is_some()) && has_bearer {
        return Err(
            "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"
                .into(),
        );
    }
    if let Some(b) = basic_auth {
        if b.password.is_some() && b.password_file.is_some() {
            return Err(
                "at most one of basic_auth password & password_file must be configured".into(),
            );
        }
    }
    if let Some(a) = authorization {
        if has_bearer {
            return Err(
                "authorization is not compatible with bearer_token & bearer_token_file".into(),
            );
        }
        if a.credentials.is_some() && a.credentials_file.is_some() {
            return Err(
                "at most one of authorization credentials & credentials_file must be configured"
                    .into(),
            );
        }
        a.credentials_type = a.credentials_type.trim().to_string();
        if a.credentials_type.is_empty() {
            a.credentials_type = "Bearer".to_string();
        }
        if a.credentials_type.eq_ignore_ascii_case("basic") {
            return Err(
                "authorization type cannot be set to \"basic\", use \"basic_auth\" instead".into(),
            );
        }
        if basic_auth.is_some() || oauth2.is_some() {
            return Err(
                "at most one of basic_auth, oauth2 & authorization must be configured".into(),
            );
        }
    } else if has_bearer {
        *authorization = Some(Authorization {
            credentials_type: "Bearer".to_string(),
            credentials: bearer_token.take(),
            credentials_file: bearer_token_file.take(),
        });
    }
    if let Some(o) = oauth2 {
        if basic_auth.is_some() {
            return Err(
                "at most one of basic_auth, oauth2 & authorization must be configured".into(),
            );
        }
        if o.client_id.is_empty() {
            return Err("oauth2 client_id must be configured".into());
        }
        if o.client_secret.is_some() && o.client_secret_file.is_some() {
            return Err(
                "at most one of oauth2 client_secret & client_secret_file must be configured"
                    .into(),
            );
        }
        if o.token_url.is_empty() {
            return Err("oauth2 token_url must be configured".into());
        }
        if let Some(t) = &o.tls_config {
            t.validate()?;
        }
    }
    if let Some(t) = tls_config {
        t.validate()?;
    }
    if let Some(p) = proxy_url {
        check_url(p, "proxy_url")?;
    }
    Ok(())
}

/// Checks that `url` is an absolute http(s) URL, naming `field` in the message.
pub(crate) fn check_url(url: &str, field: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(r) if !r.is_empty() && !r.starts_with('/') => Ok(()),
        _ => Err(format!(
            "invalid {field} {url:?}: expected an absolute http:// or https:// URL"
        )),
    }
}
