//! What every outgoing HTTP request shares, for scrapes and HTTP discovery alike: TLS from a
//! `tls_config`, and the `Authorization` header from `basic_auth` or `authorization`.

mod auth;
mod tls;

pub use auth::{authorization_header, CredentialsError};
pub use tls::client_config as tls_client_config;

/// The User-Agent of every request Pyrometer makes.
pub const USER_AGENT: &str = concat!("Pyrometer/", env!("CARGO_PKG_VERSION"));
