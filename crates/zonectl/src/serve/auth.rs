//! The users of the authenticated front ends (httpreq, dyndns): HTTP Basic credentials
//! checked in constant time, and the names each user may change.

use std::path::Path;

use anyhow::{Context as _, bail};
use axum::http::HeaderMap;
use secrecy::{ExposeSecret as _, SecretString};
use subtle::ConstantTimeEq as _;

use crate::config::ServeUser;

/// One user, ready to check.
pub struct User {
    pub name: String,
    password: SecretString,
    /// Names the user may change, as lowercase patterns without the trailing dot.
    patterns: Vec<String>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User").field("name", &self.name).field("patterns", &self.patterns).finish_non_exhaustive()
    }
}

impl User {
    /// Whether the user may change `name` (absolute or not; any case).
    pub fn may(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.patterns.iter().any(|p| zonectl_core::glob::matches(p, &name))
    }
}

/// The users of one front end.
#[derive(Debug, Default)]
pub struct Users(Vec<User>);

impl Users {
    /// The users of `[[serve.<front end>.users]]`, passwords read from their files;
    /// `patterns` picks each user's list (`hostnames` or `names`).
    pub fn load(
        front_end: &str,
        users: &[ServeUser],
        config_dir: &Path,
        patterns: fn(&ServeUser) -> &[String],
    ) -> anyhow::Result<Users> {
        let mut loaded = Vec::new();
        for user in users {
            let at = format!("[[serve.{front_end}.users]] '{}'", user.name);
            let password = match (&user.password, &user.password_file) {
                (Some(p), None) => p.clone(),
                (None, Some(file)) => {
                    let path = config_dir.join(file);
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("{at}: password_file {}", path.display()))?;
                    SecretString::from(text.trim_end_matches(['\n', '\r']).to_owned())
                }
                (Some(_), Some(_)) => bail!("{at}: give password or password_file, not both"),
                (None, None) => bail!("{at}: no password or password_file"),
            };
            if password.expose_secret().is_empty() {
                bail!("{at}: the password is empty");
            }
            let patterns: Vec<String> =
                patterns(user).iter().map(|p| p.trim().trim_end_matches('.').to_ascii_lowercase()).collect();
            if patterns.is_empty() {
                bail!("{at}: lists no names it may change");
            }
            loaded.push(User { name: user.name.clone(), password, patterns });
        }
        Ok(Users(loaded))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The user the request's Basic credentials name, if they are right. Every user is
    /// compared, in constant time, so that the answer's timing tells nothing.
    pub fn check(&self, headers: &HeaderMap) -> Option<&User> {
        let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
        let (name, password) = zonectl_core::basic_auth::parse(value)?;
        let mut found = None;
        for user in &self.0 {
            let same_name = user.name.as_bytes().ct_eq(name.as_bytes());
            let same_password = user.password.expose_secret().as_bytes().ct_eq(password.as_bytes());
            if bool::from(same_name & same_password) {
                found = Some(user);
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_checked_whole() {
        let user = ServeUser {
            name: "router".into(),
            password: Some(SecretString::from("s3cret".to_owned())),
            password_file: None,
            hostnames: vec!["Home.Example.com.".into()],
            names: vec![],
        };
        let users = Users::load("dyndns", &[user], Path::new("."), |u| &u.hostnames).unwrap();
        let ask = |credentials: &str| {
            let mut headers = HeaderMap::new();
            let value = format!("Basic {}", data_encoding::BASE64.encode(credentials.as_bytes()));
            headers.insert("authorization", value.parse().unwrap());
            users.check(&headers).map(|u| u.name.clone())
        };
        assert_eq!(ask("router:s3cret").as_deref(), Some("router"));
        assert_eq!(ask("router:s3cret2"), None);
        assert_eq!(ask("router:s3cre"), None);
        assert_eq!(ask("route:s3cret"), None);
        assert!(users.check(&HeaderMap::new()).is_none());
        let router = users.0.first().unwrap();
        assert!(router.may("home.example.com") && router.may("HOME.example.com."));
        assert!(!router.may("other.example.com"));
        assert!(!format!("{:?}", router).contains("s3cret"));
    }
}
