//! Reading SVCB and HTTPS data (RFC 9460 section 2.1 and appendix A).
//!
//! The one presentation form read here rather than by `domain`: its SVCB reader (0.12)
//! refuses every key holding the digit 9 or the letter z (`key9999`, a range written
//! `0x61..0x7A`) and any escaped comma in an `alpn` value, both of which BIND and Knot read
//! (BIND's own `good-svcb.db` test zone has them), and prints `no-default-alpn` and such
//! values in forms no reader takes back. Both directions are here; what is printed is
//! read back before it is trusted.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use domain::base::ToName as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::iana::TokenScanner;
use crate::lexer::Token;
use crate::name::Name;

/// The registered keys by name (IANA "Service Parameter Keys (SvcParamKeys)").
const KEYS: &[(&str, u16)] = &[
    ("mandatory", 0),
    ("alpn", 1),
    ("no-default-alpn", 2),
    ("port", 3),
    ("ipv4hint", 4),
    ("ech", 5),
    ("ipv6hint", 6),
    ("dohpath", 7),
    ("ohttp", 8),
];

/// Reads `priority target [key[=value]]…` into wire form.
pub(crate) fn scan(tokens: &[Token<'_>], origin: Option<&Name>) -> Result<Vec<u8>, String> {
    let mut scanner = TokenScanner::new(tokens, origin);
    let priority = tokens.first().and_then(Token::text).ok_or("missing priority")?;
    let priority: u16 = priority.parse().map_err(|_| format!("invalid priority '{priority}'"))?;
    let target = tokens.get(1).ok_or("missing target name")?;
    let target = Name::parse_bytes(target.raw, origin).map_err(|e| format!("invalid target name: {e}"))?;
    scanner.skip(2);

    let mut params: BTreeMap<u16, Vec<u8>> = BTreeMap::new();
    while let Some(octets) = scanner.next_svcb_octets()? {
        let (key, value) = match octets.iter().position(|&b| b == b'=') {
            Some(at) => (&octets[..at], Some(&octets[at + 1..])),
            None => (&octets[..], None),
        };
        let key_text = String::from_utf8_lossy(key).into_owned();
        let key = key_number(&key_text)?;
        let wire = value_wire(key, &key_text, value)?;
        if params.insert(key, wire).is_some() {
            return Err(format!("SvcParamKey {key_text} given twice"));
        }
    }
    if let Some(mandatory) = params.get(&0) {
        for listed in mandatory.chunks(2).map(|k| u16::from_be_bytes([k[0], k[1]])) {
            if !params.contains_key(&listed) {
                return Err(format!("mandatory key {} is missing", key_name(listed)));
            }
        }
    }

    let mut wire = priority.to_be_bytes().to_vec();
    let target: domain::base::Name<Vec<u8>> = target.as_str().parse().map_err(|_| "invalid target name".to_string())?;
    wire.extend_from_slice(target.as_slice());
    for (key, value) in params {
        let len = u16::try_from(value.len()).map_err(|_| format!("value of {} too long", key_name(key)))?;
        wire.extend_from_slice(&key.to_be_bytes());
        wire.extend_from_slice(&len.to_be_bytes());
        wire.extend_from_slice(&value);
    }
    Ok(wire)
}

fn key_name(key: u16) -> String {
    KEYS.iter().find(|(_, k)| *k == key).map_or_else(|| format!("key{key}"), |(name, _)| (*name).to_owned())
}

/// A key by its name or as `keyNNNN` (65535 is reserved).
fn key_number(name: &str) -> Result<u16, String> {
    if let Some(&(_, key)) = KEYS.iter().find(|(n, _)| *n == name) {
        return Ok(key);
    }
    name.strip_prefix("key")
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|digits| digits.parse::<u16>().ok())
        .filter(|&key| key != 65535)
        .ok_or_else(|| format!("unknown SvcParamKey '{name}'"))
}

/// Splits a value list at unescaped commas, `\,` and `\\` standing for themselves
/// (RFC 9460 appendix A.1).
fn value_list(value: &[u8]) -> Vec<Vec<u8>> {
    let mut items = vec![Vec::new()];
    let mut bytes = value.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'\\' => {
                if let Some(&next) = bytes.next() {
                    items.last_mut().expect("never empty").push(next);
                }
            }
            b',' => items.push(Vec::new()),
            b => items.last_mut().expect("never empty").push(b),
        }
    }
    items
}

fn value_wire(key: u16, name: &str, value: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let needed = || format!("{name} needs a value");
    let text = |v: &[u8]| String::from_utf8(v.to_vec()).map_err(|_| format!("{name} value is not text"));
    Ok(match key {
        0 => {
            let mut keys = Vec::new();
            for item in value_list(value.ok_or_else(needed)?) {
                let key = key_number(&text(&item)?)?;
                if key == 0 {
                    return Err("mandatory may not list itself".into());
                }
                keys.push(key);
            }
            keys.sort_unstable();
            if keys.windows(2).any(|w| w[0] == w[1]) {
                return Err("mandatory lists a key twice".into());
            }
            keys.iter().flat_map(|k| k.to_be_bytes()).collect()
        }
        1 => {
            let mut wire = Vec::new();
            for id in value_list(value.ok_or_else(needed)?) {
                let len = u8::try_from(id.len()).ok().filter(|&l| l > 0).ok_or("alpn ids are 1 to 255 octets")?;
                wire.push(len);
                wire.extend_from_slice(&id);
            }
            wire
        }
        2 | 8 => match value {
            None | Some([]) => Vec::new(),
            Some(_) => return Err(format!("{name} takes no value")),
        },
        3 => {
            let port = text(value.ok_or_else(needed)?)?;
            port.parse::<u16>().map_err(|_| format!("invalid port '{port}'"))?.to_be_bytes().to_vec()
        }
        4 | 6 => {
            let mut wire = Vec::new();
            for item in value_list(value.ok_or_else(needed)?) {
                match (key, text(&item)?.parse::<IpAddr>()) {
                    (4, Ok(IpAddr::V4(ip))) => wire.extend_from_slice(&ip.octets()),
                    (6, Ok(IpAddr::V6(ip))) => wire.extend_from_slice(&ip.octets()),
                    _ => return Err(format!("invalid {name} address")),
                }
            }
            wire
        }
        5 => data_encoding::BASE64.decode(value.ok_or_else(needed)?).map_err(|_| "ech is not base64".to_string())?,
        _ => value.unwrap_or_default().to_vec(),
    })
}

/// Writes wire-form SVCB data in presentation form; `None` when the wire form is invalid.
pub(crate) fn write(wire: &[u8], out: &mut String) -> Option<()> {
    let (priority, rest) = wire.split_first_chunk::<2>()?;
    let mut parser = octseq::Parser::from_ref(rest);
    let target = domain::base::ParsedName::parse(&mut parser).ok()?;
    let mut params = &rest[parser.pos()..];
    write!(out, "{} {}", u16::from_be_bytes(*priority), target.to_name::<Vec<u8>>().fmt_with_dot()).ok()?;
    while !params.is_empty() {
        let (head, tail) = params.split_first_chunk::<4>()?;
        let key = u16::from_be_bytes([head[0], head[1]]);
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let value = tail.get(..len)?;
        params = &tail[len..];
        out.push(' ');
        out.push_str(&key_name(key));
        match key {
            2 | 8 if value.is_empty() => {}
            0 => {
                let keys: Vec<String> = value
                    .chunks(2)
                    .map(|k| <[u8; 2]>::try_from(k).ok().map(|k| key_name(u16::from_be_bytes(k))))
                    .collect::<Option<_>>()?;
                write!(out, "={}", keys.join(",")).ok()?;
            }
            1 => {
                let mut list = Vec::new();
                let mut ids = value;
                while let Some((&len, rest)) = ids.split_first() {
                    let id = rest.get(..usize::from(len))?;
                    ids = &rest[usize::from(len)..];
                    if !list.is_empty() {
                        list.push(b',');
                    }
                    for &b in id {
                        if b == b',' || b == b'\\' {
                            list.push(b'\\');
                        }
                        list.push(b);
                    }
                }
                out.push('=');
                super::write_quoted(out, &list).ok()?;
            }
            3 => write!(out, "={}", u16::from_be_bytes(value.try_into().ok()?)).ok()?,
            4 | 6 => {
                let size = if key == 4 { 4 } else { 16 };
                if value.is_empty() || value.len() % size != 0 {
                    return None;
                }
                let addresses: Vec<String> = value
                    .chunks(size)
                    .map(|a| match <[u8; 4]>::try_from(a) {
                        Ok(v4) => Ipv4Addr::from(v4).to_string(),
                        Err(_) => Ipv6Addr::from(<[u8; 16]>::try_from(a).expect("16 octets")).to_string(),
                    })
                    .collect();
                write!(out, "={}", addresses.join(",")).ok()?;
            }
            5 => write!(out, "={}", data_encoding::BASE64.encode(value)).ok()?,
            _ => {
                out.push('=');
                super::write_quoted(out, value).ok()?;
            }
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::tokenize;

    fn wire(text: &str) -> Result<Vec<u8>, String> {
        scan(&tokenize(text).unwrap(), None)
    }

    /// RFC 9460 appendix D's test vectors, presentation form to wire form.
    #[test]
    fn rfc_9460_test_vectors() {
        assert_eq!(wire("0 foo.example.com.").unwrap(), b"\x00\x00\x03foo\x07example\x03com\x00");
        assert_eq!(wire("1 .").unwrap(), b"\x00\x01\x00");
        assert_eq!(
            wire("16 foo.example.com. port=53").unwrap(),
            b"\x00\x10\x03foo\x07example\x03com\x00\x00\x03\x00\x02\x00\x35"
        );
        assert_eq!(
            wire(r#"1 foo.example.com. key667=hello"#).unwrap(),
            b"\x00\x01\x03foo\x07example\x03com\x00\x02\x9b\x00\x05hello"
        );
        assert_eq!(
            wire(r#"1 foo.example.com. key667="hello\210qoo""#).unwrap(),
            b"\x00\x01\x03foo\x07example\x03com\x00\x02\x9b\x00\x09hello\xd2qoo"
        );
        assert_eq!(
            wire(r#"1 foo.example.com. ipv6hint="2001:db8::1,2001:db8::53:1""#).unwrap()[19..],
            *b"\x00\x06\x00\x20\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x53\x00\x01"
        );
        // Keys out of order, sorted on the wire; mandatory lists them sorted too.
        let sorted = wire(r#"16 foo.example.org. alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1"#).unwrap();
        assert_eq!(
            sorted[19..],
            *b"\x00\x00\x00\x04\x00\x01\x00\x04\x00\x01\x00\x09\x02h2\x05h3-19\x00\x04\x00\x04\xc0\x00\x02\x01"
        );
        // The escaped comma, at both levels (D.2, figure 9).
        let escaped = wire(r#"16 foo.example.org. alpn="f\\\\oo\\,bar,h2""#).unwrap();
        assert_eq!(escaped[19..], *b"\x00\x01\x00\x0c\x08f\\oo,bar\x02h2");
        let unquoted = wire(r#"16 foo.example.org. alpn=f\\\092oo\092,bar,h2"#).unwrap();
        assert_eq!(unquoted, escaped);
    }

    /// Printing: a comma inside an alpn id escaped at both levels, a key without a value
    /// bare, unknown keys as `keyNNNN`, and what is printed reads back the same.
    #[test]
    fn printed_forms_read_back() {
        for (text, printed) in [
            (
                r#"8 . mandatory=port,alpn port=60 alpn="h1\\,h2,h3""#,
                r#"8 . mandatory=alpn,port alpn="h1\\,h2,h3" port=60"#,
            ),
            ("2 . no-default-alpn alpn=alpn", r#"2 . alpn="alpn" no-default-alpn"#),
            (r#"5 . key9999="some thing""#, r#"5 . key9999="some thing""#),
            (
                "1 svc.example. ipv4hint=192.0.2.1,192.0.2.2 ech=AAEC",
                "1 svc.example. ipv4hint=192.0.2.1,192.0.2.2 ech=AAEC",
            ),
        ] {
            let data = wire(text).unwrap();
            let mut out = String::new();
            write(&data, &mut out).unwrap();
            assert_eq!(out, printed, "{text}");
            assert_eq!(wire(&out).unwrap(), data, "{text}");
        }
    }

    /// RFC 9460 appendix D.3's failure cases, and BIND's `bad-svcb.db`.
    #[test]
    fn invalid_forms_are_refused() {
        for text in [
            "1 foo.example.com. key123=abc key123=def",
            "1 foo.example.com. mandatory",
            "1 foo.example.com. alpn",
            "1 foo.example.com. port",
            "1 foo.example.com. ipv4hint",
            "1 foo.example.com. ipv6hint",
            "1 foo.example.com. no-default-alpn=abc",
            "1 foo.example.com. mandatory=key123",
            "1 foo.example.com. mandatory=mandatory",
            "1 foo.example.com. ipv6hint=1.2.3.4",
            "1 foo.example.com. ipv4hint=aaaa::4",
            "1 foo.example.com. mandatory=key123,key123 key123=abc",
            "0 . unknown=wha",
            "1 . key65535=x",
        ] {
            assert!(wire(text).is_err(), "{text}");
        }
    }
}
