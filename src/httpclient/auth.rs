//! The `Authorization` header of a request. Credential files are read when the header is
//! built, for every request, as Prometheus does, so a rotated secret takes effect without a
//! reload.

use crate::config::{Authorization, BasicAuth};

#[derive(Debug, thiserror::Error)]
#[error("cannot read credentials file {path:?}: {message}")]
pub struct CredentialsError {
    pub path: String,
    pub message: String,
}

/// `Basic <base64 user:password>` for `basic_auth`, `<type> <credentials>` for
/// `authorization` (type `Bearer` when empty); None when neither is set.
pub fn authorization_header(
    basic: Option<&BasicAuth>,
    authz: Option<&Authorization>,
) -> Result<Option<String>, CredentialsError> {
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .map(|s| s.trim().to_string())
            .map_err(|e| CredentialsError {
                path: path.to_string(),
                message: e.to_string(),
            })
    };
    if let Some(b) = basic {
        let password = match (&b.password, &b.password_file) {
            (Some(p), _) => p.clone(),
            (None, Some(f)) => read(f)?,
            (None, None) => String::new(),
        };
        return Ok(Some(format!(
            "Basic {}",
            base64(format!("{}:{password}", b.username).as_bytes())
        )));
    }
    if let Some(a) = authz {
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
        return Ok(Some(format!("{kind} {creds}")));
    }
    Ok(None)
}

/// Standard base64 with padding (RFC 4648), for the basic auth header.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("user:pass", "dXNlcjpwYXNz"),
        ];
        for (input, want) in cases {
            assert_eq!(base64(input.as_bytes()), want);
        }
    }

    #[test]
    fn headers_from_basic_auth_and_authorization() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "from-file\n").unwrap();
        let file = Some(secret.display().to_string());
        let basic = |password: Option<&str>, password_file: Option<String>| BasicAuth {
            username: "u".into(),
            password: password.map(String::from),
            password_file,
        };
        let authz = |kind: &str, credentials: Option<&str>, credentials_file: Option<String>| {
            Authorization {
                credentials_type: kind.into(),
                credentials: credentials.map(String::from),
                credentials_file,
            }
        };
        let cases: Vec<(Option<BasicAuth>, Option<Authorization>, Option<String>)> = vec![
            (None, None, None),
            (
                Some(basic(Some("p"), None)),
                None,
                Some(format!("Basic {}", base64(b"u:p"))),
            ),
            (
                Some(basic(None, file.clone())),
                None,
                Some(format!("Basic {}", base64(b"u:from-file"))),
            ),
            (
                Some(basic(None, None)),
                None,
                Some(format!("Basic {}", base64(b"u:"))),
            ),
            (
                None,
                Some(authz("", Some("t"), None)),
                Some("Bearer t".into()),
            ),
            (
                None,
                Some(authz("Token", None, file.clone())),
                Some("Token from-file".into()),
            ),
            (None, Some(authz("Bearer", None, None)), None),
        ];
        for (b, a, want) in cases {
            for _ in 0..2 {
                assert_eq!(authorization_header(b.as_ref(), a.as_ref()).unwrap(), want);
            }
        }
        let missing =
            authorization_header(Some(&basic(None, Some("/nonexistent/secret".into()))), None)
                .unwrap_err();
        assert!(
            missing.to_string().contains("/nonexistent/secret"),
            "{missing}"
        );
    }
}
