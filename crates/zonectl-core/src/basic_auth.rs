//! HTTP Basic credentials (RFC 7617) as `serve`'s front ends and the emulators read them
//! from an `Authorization` header.

/// The user and password of `Basic <base64(user:password)>` (the scheme in any case); the
/// password may hold colons, the user may not.
pub fn parse(authorization: &str) -> Option<(String, String)> {
    let (scheme, encoded) = authorization.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(data_encoding::BASE64.decode(encoded.trim().as_bytes()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_in_any_case_and_colons_in_the_password() {
        assert_eq!(parse("basic dTpwOnE="), Some(("u".into(), "p:q".into())));
        assert_eq!(parse("Basic dTpwOnE="), Some(("u".into(), "p:q".into())));
        assert_eq!(parse("Bearer x"), None);
        assert_eq!(parse("Basic !!!"), None);
    }
}
