//! How a provider authenticates, and the digest that keys limiters and locks by account.

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

/// How a provider authenticates.
pub enum Auth {
    /// HTTP Basic: user and password (or API key).
    Basic {
        /// The user.
        user: String,
        /// The password or key; never shown.
        password: SecretString,
    },
    /// `Authorization: Bearer <token>`.
    Bearer(SecretString),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Basic { user, .. } => write!(f, "Basic({user}:***)"),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
        }
    }
}

impl Auth {
    pub(super) fn header(&self) -> HeaderValue {
        let text = match self {
            Auth::Basic { user, password } => {
                let pair = format!("{user}:{}", password.expose_secret());
                format!("Basic {}", data_encoding::BASE64.encode(pair.as_bytes()))
            }
            Auth::Bearer(token) => format!("Bearer {}", token.expose_secret()),
        };
        let mut value = HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
        value.set_sensitive(true);
        value
    }

    /// Who is calling, for keying limiters and locks: the user, or a digest of a token (a
    /// token is its own account; the digest keys without keeping it).
    pub fn account(&self) -> String {
        match self {
            Auth::Basic { user, .. } => user.clone(),
            Auth::Bearer(token) => format!("token:{:016x}", digest(token.expose_secret().as_bytes())),
        }
    }
}

/// A digest that stays the same across runs and versions (FNV-1a), for names of lock files
/// and limiter keys; not for security.
pub fn digest(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_debug_and_headers_hide_secrets() {
        let auth = Auth::Basic { user: "me@example.com".into(), password: SecretString::from("s3cret-key".to_owned()) };
        assert_eq!(format!("{auth:?}"), "Basic(me@example.com:***)");
        assert!(auth.header().is_sensitive());
        let bearer = Auth::Bearer(SecretString::from("vps_token".to_owned()));
        assert!(!format!("{bearer:?}").contains("vps_token"));
        assert!(!bearer.account().contains("vps_token"));
    }
}
