//! Time to live.

use std::fmt;
use std::str::FromStr;

/// A TTL in seconds, at most 2³¹ − 1 (RFC 2181 section 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Ttl(u32);

/// Why a text is not a TTL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TtlError {
    /// Not a number of seconds nor BIND units.
    #[error("invalid TTL '{0}' (expected seconds or units such as 1h30m)")]
    Invalid(String),
    /// Above 2147483647 seconds.
    #[error("TTL '{0}' out of range (at most 2147483647 seconds)")]
    OutOfRange(String),
}

impl Ttl {
    /// The largest TTL RFC 2181 allows.
    pub const MAX: Ttl = Ttl(i32::MAX as u32);

    /// A TTL of `secs` seconds, if in range.
    pub const fn from_secs(secs: u32) -> Option<Ttl> {
        if secs <= i32::MAX as u32 { Some(Ttl(secs)) } else { None }
    }

    /// The TTL in seconds.
    pub const fn as_secs(self) -> u32 {
        self.0
    }

    /// Parses seconds (`3600`) or BIND units (`1h`, `2d`, `1w2d`, `1h30m`, case-insensitive).
    pub fn parse(text: &str) -> Result<Ttl, TtlError> {
        parse_ttl_bytes(text.as_bytes()).ok_or_else(|| {
            if is_unit_syntax(text.as_bytes()) {
                TtlError::OutOfRange(text.to_owned())
            } else {
                TtlError::Invalid(text.to_owned())
            }
        })
    }
}

/// Whether `text` is well-formed seconds or units (`(digits unit)* digits?`), whatever its value.
fn is_unit_syntax(text: &[u8]) -> bool {
    let mut after_digit = false;
    for &b in text {
        if b.is_ascii_digit() {
            after_digit = true;
        } else if after_digit && matches!(b.to_ascii_lowercase(), b's' | b'm' | b'h' | b'd' | b'w') {
            after_digit = false;
        } else {
            return false;
        }
    }
    !text.is_empty()
}

/// Seconds or BIND units; `None` when invalid or out of range.
pub(crate) fn parse_ttl_bytes(text: &[u8]) -> Option<Ttl> {
    if text.is_empty() || !text[0].is_ascii_digit() {
        return None;
    }
    let mut total: u64 = 0;
    let mut current: u64 = 0;
    let mut digits = 0;
    let mut saw_unit = false;
    for &b in text {
        if b.is_ascii_digit() {
            current = current.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
            if current > u64::from(u32::MAX) * 10 {
                return None;
            }
            digits += 1;
            continue;
        }
        let unit: u64 = match b.to_ascii_lowercase() {
            b's' => 1,
            b'm' => 60,
            b'h' => 3600,
            b'd' => 86_400,
            b'w' => 604_800,
            _ => return None,
        };
        if digits == 0 {
            return None;
        }
        total = total.checked_add(current.checked_mul(unit)?)?;
        current = 0;
        digits = 0;
        saw_unit = true;
    }
    if digits > 0 {
        // A bare trailing number counts as seconds, as BIND reads `1h30`.
        total = total.checked_add(current)?;
    } else if !saw_unit {
        return None;
    }
    u32::try_from(total).ok().and_then(Ttl::from_secs)
}

impl fmt::Display for Ttl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for Ttl {
    type Err = TtlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ttl::parse(s)
    }
}

impl TryFrom<u32> for Ttl {
    type Error = TtlError;
    fn try_from(secs: u32) -> Result<Self, Self::Error> {
        Ttl::from_secs(secs).ok_or_else(|| TtlError::OutOfRange(secs.to_string()))
    }
}

impl From<Ttl> for u32 {
    fn from(ttl: Ttl) -> u32 {
        ttl.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_bind_units() {
        let secs = |s: &str| Ttl::parse(s).unwrap().as_secs();
        assert_eq!(secs("0"), 0);
        assert_eq!(secs("3600"), 3600);
        assert_eq!(secs("1h"), 3600);
        assert_eq!(secs("2d"), 172_800);
        assert_eq!(secs("1w2d"), 604_800 + 172_800);
        assert_eq!(secs("1H30M"), 5400);
        assert_eq!(secs("1h30"), 3630);
        assert_eq!(secs("2147483647"), 2_147_483_647);
    }

    #[test]
    fn rejects_garbage_and_overflow() {
        assert!(matches!(Ttl::parse("2147483648"), Err(TtlError::OutOfRange(_))));
        assert!(matches!(Ttl::parse("99999999999999999999"), Err(TtlError::OutOfRange(_))));
        assert!(matches!(Ttl::parse("4000w"), Err(TtlError::OutOfRange(_))));
        for bad in ["", "h", "1x", "-5", "1.5", "1hh", "one"] {
            assert!(matches!(Ttl::parse(bad), Err(TtlError::Invalid(_))), "{bad}");
        }
    }
}
