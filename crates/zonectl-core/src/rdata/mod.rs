//! Record data: one typed variant per modeled type, parsed from and printed to the
//! presentation form of RFC 1035 section 5 and the RFCs of each type.

use std::fmt::{self, Write as _};
use std::net::{Ipv4Addr, Ipv6Addr};

mod forms;
mod iana;
mod svcb;
mod wire;

pub(crate) use iana::form_of;

/// Whether a type without a typed variant has a presentation form zonectl reads and
/// prints (else only RFC 3597's `\#` form).
pub(crate) fn has_form(code: u16) -> bool {
    form_of(code).is_some() || forms::handles(code)
}

use crate::lexer::{Token, tokenize};
use crate::name::Name;
use crate::rtype::RecordType;
use crate::ttl::parse_ttl_bytes;

/// The data of one record.
///
/// Equality is on the data as DNS sees it: names compare case-insensitively (they are
/// stored lower-case), hex and addresses by value, TXT by its character-strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RData {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// The canonical name this name is an alias of.
    Cname(Name),
    /// A name server of the zone (or of a delegated child).
    Ns(Name),
    /// The name this address points back to.
    Ptr(Name),
    /// A mail exchange.
    Mx {
        /// Lower is preferred.
        preference: u16,
        /// The mail server.
        exchange: Name,
    },
    /// Text, as character-strings.
    Txt(Txt),
    /// A service location (RFC 2782).
    Srv {
        /// Lower is tried first.
        priority: u16,
        /// Share among equal priorities.
        weight: u16,
        /// The service's port.
        port: u16,
        /// The server (`.` for "no service").
        target: Name,
    },
    /// Which certification authorities may issue (RFC 8659).
    Caa(Box<Caa>),
    /// An SSH host key fingerprint (RFC 4255).
    Sshfp {
        /// Key algorithm (1 RSA, 2 DSA, 3 ECDSA, 4 Ed25519, 6 Ed448).
        algorithm: u8,
        /// Fingerprint type (1 SHA-1, 2 SHA-256).
        fp_type: u8,
        /// The fingerprint.
        fingerprint: Box<[u8]>,
    },
    /// A DANE TLS certificate association (RFC 6698).
    Tlsa {
        /// Certificate usage (0 to 3).
        usage: u8,
        /// Selector (0 full certificate, 1 public key).
        selector: u8,
        /// Matching type (0 exact, 1 SHA-256, 2 SHA-512).
        matching_type: u8,
        /// The association data.
        data: Box<[u8]>,
    },
    /// A delegation signer (RFC 4034).
    Ds {
        /// Key tag of the referenced DNSKEY.
        key_tag: u16,
        /// Its algorithm.
        algorithm: u8,
        /// Digest algorithm.
        digest_type: u8,
        /// The digest.
        digest: Box<[u8]>,
    },
    /// Start of authority.
    Soa(Box<Soa>),
    /// An HTTP forward (a provider feature, not a DNS type): a redirect, or a page that
    /// frames the target.
    Url {
        /// How the name forwards.
        kind: Forward,
        /// Where to, with its scheme.
        target: Box<str>,
    },
    /// Data of a type without a typed variant, in wire form. It is read and printed in
    /// the type's own presentation form where a crate knows it (DNSKEY, NAPTR, …; SVCB
    /// and HTTPS by zonectl), in RFC 3597 generic form (`\# length hex`) otherwise.
    Unknown {
        /// The IANA type code.
        rtype: u16,
        /// The data in wire form.
        data: Box<[u8]>,
    },
}

/// How a `URL` record forwards web requests for its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Forward {
    /// HTTP 301: moved permanently (`URL 301 "…"`, and `URL "…"` without a code).
    Permanent,
    /// HTTP 302: found elsewhere for now (`URL 302 "…"`).
    Temporary,
    /// A page that shows the target in a frame; not a redirect (`URL frame "…"`).
    Frame,
}

impl Forward {
    /// The word in presentation form: `301`, `302` or `frame`.
    pub fn as_str(self) -> &'static str {
        match self {
            Forward::Permanent => "301",
            Forward::Temporary => "302",
            Forward::Frame => "frame",
        }
    }
}

impl fmt::Display for Forward {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Certification authority authorization data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Caa {
    /// Flags; 128 is "issuer critical".
    pub flags: u8,
    /// The property: `issue`, `issuewild`, `iodef`, … (stored lower-case).
    pub tag: Box<str>,
    /// The property value.
    pub value: Box<[u8]>,
}

/// Start-of-authority data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Soa {
    /// The primary name server.
    pub mname: Name,
    /// The responsible mailbox, as a name.
    pub rname: Name,
    /// The zone's serial number.
    pub serial: u32,
    /// Seconds between secondary refreshes.
    pub refresh: u32,
    /// Seconds between failed-refresh retries.
    pub retry: u32,
    /// Seconds after which a secondary stops answering.
    pub expire: u32,
    /// Negative-caching TTL.
    pub minimum: u32,
}

/// TXT data: one or more character-strings of at most 255 octets each, kept in the order
/// and split they were read with. The logical value is their concatenation.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Txt(
    /// Length-prefixed strings, as on the wire: one allocation however many strings.
    Box<[u8]>,
);

/// Why a text is not valid data for a record type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RDataError(pub String);

impl Txt {
    /// TXT data from character-strings. Strings longer than 255 octets are split; no
    /// strings at all gives one empty string.
    pub fn from_strings<I, S>(strings: I) -> Txt
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let mut wire = Vec::new();
        for s in strings {
            push_chunks(&mut wire, s.as_ref());
        }
        if wire.is_empty() {
            wire.push(0);
        }
        Txt(wire.into_boxed_slice())
    }

    /// TXT data from one logical value, split into 255-octet strings (as providers that
    /// take a single string store it).
    pub fn from_value(value: impl AsRef<[u8]>) -> Txt {
        Txt::from_strings([value])
    }

    /// The character-strings.
    pub fn strings(&self) -> impl Iterator<Item = &[u8]> {
        let mut rest = &self.0[..];
        std::iter::from_fn(move || {
            let (&len, tail) = rest.split_first()?;
            let (s, tail) = tail.split_at(usize::from(len));
            rest = tail;
            Some(s)
        })
    }

    /// The logical value: all strings concatenated.
    pub fn value(&self) -> Vec<u8> {
        self.strings().flatten().copied().collect()
    }

    /// The logical value as text (invalid UTF-8 replaced).
    pub fn value_lossy(&self) -> String {
        String::from_utf8_lossy(&self.value()).into_owned()
    }

    /// The same value re-split at 255 octets, the form single-string providers return.
    pub fn normalized(&self) -> Txt {
        Txt::from_value(self.value())
    }
}

fn push_chunks(wire: &mut Vec<u8>, s: &[u8]) {
    if s.is_empty() {
        wire.push(0);
        return;
    }
    for chunk in s.chunks(255) {
        wire.push(chunk.len() as u8);
        wire.extend_from_slice(chunk);
    }
}

impl fmt::Debug for Txt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Txt({self})")
    }
}

impl fmt::Display for Txt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.strings().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            write_quoted(f, s)?;
        }
        Ok(())
    }
}

/// Writes `s` as a quoted zone-file string: `"` and `\` escaped, control octets and invalid
/// UTF-8 as `\DDD`, valid UTF-8 kept readable.
pub(crate) fn write_quoted(f: &mut impl fmt::Write, s: &[u8]) -> fmt::Result {
    f.write_char('"')?;
    let valid_utf8 = std::str::from_utf8(s).ok();
    match valid_utf8 {
        Some(text) if !text.bytes().any(|b| b < 0x20 || b == 0x7f || b == b'"' || b == b'\\') => {
            f.write_str(text)?;
        }
        Some(text) => {
            for c in text.chars() {
                match c {
                    '"' | '\\' => {
                        f.write_char('\\')?;
                        f.write_char(c)?;
                    }
                    c if (c as u32) < 0x20 || c as u32 == 0x7f => write!(f, "\\{:03}", c as u32)?,
                    c => f.write_char(c)?,
                }
            }
        }
        None => {
            for &b in s {
                match b {
                    b'"' | b'\\' => {
                        f.write_char('\\')?;
                        f.write_char(b as char)?;
                    }
                    0x20..=0x7e => f.write_char(b as char)?,
                    _ => write!(f, "\\{b:03}")?,
                }
            }
        }
    }
    f.write_char('"')
}

impl RData {
    /// The type an RRSIG (RFC 4034 section 3.1) or SIG (RFC 2535) covers, its data's first
    /// field. It is part of the set's identity: each RRSIG has the TTL of the set it covers
    /// (RFC 4034 section 3), so the RRSIGs at one name over NS and over NSEC are two sets
    /// with two TTLs, not one.
    pub fn covered_type(&self) -> Option<u16> {
        match self {
            RData::Unknown { rtype: 46 | 24, data } if data.len() >= 2 => Some(u16::from_be_bytes([data[0], data[1]])),
            _ => None,
        }
    }

    /// `self.rtype().sort_key()`, the order of types at a name, compared for every pair of
    /// records a sort or check of a zone meets there. The types without a variant (RRSIG
    /// and NSEC, most of a signed zone) skip `rtype()`'s search for a modeled type of their
    /// code (`Record::rtype` was 1.8% of the time of checking a signed zone).
    pub(crate) fn type_order(&self) -> u32 {
        const SOA: u16 = RecordType::Soa.code().unwrap();
        const NS: u16 = RecordType::Ns.code().unwrap();
        match self {
            // A code read as a modeled type is that type (SOA and NS come first); any
            // other type sorts by its code as the modeled ones do.
            RData::Unknown { rtype: SOA, .. } => const { RecordType::Soa.sort_key() },
            RData::Unknown { rtype: NS, .. } => const { RecordType::Ns.sort_key() },
            &RData::Unknown { rtype, .. } => RecordType::Other(rtype).sort_key(),
            modeled => modeled.rtype().sort_key(),
        }
    }

    /// The record type of this data.
    pub fn rtype(&self) -> RecordType {
        match self {
            RData::A(_) => RecordType::A,
            RData::Aaaa(_) => RecordType::Aaaa,
            RData::Cname(_) => RecordType::Cname,
            RData::Ns(_) => RecordType::Ns,
            RData::Ptr(_) => RecordType::Ptr,
            RData::Mx { .. } => RecordType::Mx,
            RData::Txt(_) => RecordType::Txt,
            RData::Srv { .. } => RecordType::Srv,
            RData::Caa(_) => RecordType::Caa,
            RData::Sshfp { .. } => RecordType::Sshfp,
            RData::Tlsa { .. } => RecordType::Tlsa,
            RData::Ds { .. } => RecordType::Ds,
            RData::Soa(_) => RecordType::Soa,
            RData::Url { .. } => RecordType::Url,
            RData::Unknown { rtype, .. } => RecordType::from_code(*rtype),
        }
    }

    /// Parses the presentation form of `rtype` data (`10 mail.example.com.` for MX).
    /// Relative names are completed with `origin`; without one every name is absolute.
    pub fn parse(rtype: RecordType, text: &str, origin: Option<&Name>) -> Result<RData, RDataError> {
        let tokens = tokenize(text).map_err(RDataError)?;
        RData::from_tokens(rtype, &tokens, origin).map_err(RDataError)
    }

    /// The name this data points at, for the types that hold one (CNAME, NS, PTR, MX, SRV).
    pub fn target(&self) -> Option<&Name> {
        match self {
            RData::Cname(n) | RData::Ns(n) | RData::Ptr(n) => Some(n),
            RData::Mx { exchange, .. } => Some(exchange),
            RData::Srv { target, .. } => Some(target),
            _ => None,
        }
    }

    /// The data with every domain name it holds passed through `f` (targets, exchanges,
    /// the SOA's names); data without names is returned as it is.
    pub fn map_names<E>(&self, f: impl Fn(&Name) -> Result<Name, E>) -> Result<RData, E> {
        Ok(match self {
            RData::Cname(n) => RData::Cname(f(n)?),
            RData::Ns(n) => RData::Ns(f(n)?),
            RData::Ptr(n) => RData::Ptr(f(n)?),
            RData::Mx { preference, exchange } => RData::Mx { preference: *preference, exchange: f(exchange)? },
            RData::Srv { priority, weight, port, target } => {
                RData::Srv { priority: *priority, weight: *weight, port: *port, target: f(target)? }
            }
            RData::Soa(soa) => {
                RData::Soa(Box::new(Soa { mname: f(&soa.mname)?, rname: f(&soa.rname)?, ..(**soa).clone() }))
            }
            other => other.clone(),
        })
    }

    /// The presentation form with names relative to `origin` where they are below it.
    pub fn display_relative<'a>(&'a self, origin: &'a Name) -> impl fmt::Display + 'a {
        Presentation { data: self, origin: Some(origin) }
    }

    pub(crate) fn from_tokens(rtype: RecordType, tokens: &[Token<'_>], origin: Option<&Name>) -> Result<RData, String> {
        let mut fields = Fields { tokens, next: 0, rtype };
        if tokens.first().is_some_and(|t| !t.quoted && t.raw == b"\\#") {
            return fields.generic(origin);
        }
        let data = match rtype {
            RecordType::A => {
                let t = fields.text("address")?;
                RData::A(t.parse().map_err(|_| format!("invalid IPv4 address '{t}'"))?)
            }
            RecordType::Aaaa => {
                let t = fields.text("address")?;
                RData::Aaaa(t.parse().map_err(|_| format!("invalid IPv6 address '{t}'"))?)
            }
            RecordType::Cname => RData::Cname(fields.name("target", origin)?),
            RecordType::Ns => RData::Ns(fields.name("name server", origin)?),
            RecordType::Ptr => RData::Ptr(fields.name("target", origin)?),
            RecordType::Mx => {
                RData::Mx { preference: fields.int("preference")?, exchange: fields.name("exchange", origin)? }
            }
            RecordType::Txt => {
                if tokens.is_empty() {
                    return Err("TXT needs at least one string".into());
                }
                let mut strings = Vec::with_capacity(tokens.len());
                for t in tokens {
                    strings.push(t.octets()?);
                }
                fields.next = tokens.len();
                RData::Txt(Txt::from_strings(strings))
            }
            RecordType::Srv => RData::Srv {
                priority: fields.int("priority")?,
                weight: fields.int("weight")?,
                port: fields.int("port")?,
                target: fields.name("target", origin)?,
            },
            RecordType::Caa => {
                let flags = fields.int("flags")?;
                let tag = fields.text("tag")?;
                if tag.is_empty() || tag.len() > 15 || !tag.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(format!("invalid CAA tag '{tag}' (1 to 15 letters and digits)"));
                }
                let value = fields.take("value")?.octets()?.into_owned().into_boxed_slice();
                // The tag as written: BIND keeps `ISSUE` as `ISSUE` (the plan compares tags
                // without case, for providers that keep them in lower case).
                RData::Caa(Box::new(Caa { flags, tag: tag.into(), value }))
            }
            RecordType::Sshfp => RData::Sshfp {
                algorithm: fields.int("algorithm")?,
                fp_type: fields.int("fingerprint type")?,
                fingerprint: fields.hex("fingerprint")?,
            },
            RecordType::Tlsa => RData::Tlsa {
                usage: fields.int("certificate usage")?,
                selector: fields.int("selector")?,
                matching_type: fields.int("matching type")?,
                data: fields.hex("certificate data")?,
            },
            RecordType::Ds => RData::Ds {
                key_tag: fields.int("key tag")?,
                algorithm: fields.int_or("algorithm", iana::algorithm_number)?,
                digest_type: fields.int_or("digest type", iana::digest_type_number)?,
                digest: fields.hex("digest")?,
            },
            RecordType::Soa => RData::Soa(Box::new(Soa {
                mname: fields.name("primary name server", origin)?,
                rname: fields.name("mailbox", origin)?,
                serial: fields.int("serial")?,
                refresh: fields.duration("refresh")?,
                retry: fields.duration("retry")?,
                expire: fields.duration("expire")?,
                minimum: fields.duration("minimum")?,
            })),
            RecordType::Url => {
                let kind = if tokens.len() == 1 {
                    Forward::Permanent
                } else {
                    match fields.text("redirect code")? {
                        "301" => Forward::Permanent,
                        "302" => Forward::Temporary,
                        word if word.eq_ignore_ascii_case("frame") => Forward::Frame,
                        other => return Err(format!("invalid URL redirect code {other} (301, 302 or frame)")),
                    }
                };
                let target = fields.take("target")?.octets()?;
                let target = std::str::from_utf8(&target).map_err(|_| "URL target is not UTF-8".to_string())?;
                let host = target.strip_prefix("http://").or_else(|| target.strip_prefix("https://"));
                if !host.is_some_and(|h| h.starts_with(|c: char| !c.is_whitespace() && c != '/')) {
                    return Err(format!("invalid URL target '{target}' (needs http:// or https://)"));
                }
                RData::Url { kind, target: target.into() }
            }
            RecordType::Other(code) => match iana::scan(code, tokens, origin)? {
                Some(data) => return Ok(RData::Unknown { rtype: code, data: data.into_boxed_slice() }),
                None => {
                    return Err(format!(
                        "no presentation form of {rtype} is known: write its data in RFC 3597 generic form (\\# length hex)"
                    ));
                }
            },
        };
        fields.finish()?;
        Ok(data)
    }
}

/// The remaining fields of a record's data, read in order.
struct Fields<'t, 'a> {
    tokens: &'t [Token<'a>],
    next: usize,
    rtype: RecordType,
}

impl<'a> Fields<'_, 'a> {
    fn take(&mut self, what: &str) -> Result<Token<'a>, String> {
        let t = self.tokens.get(self.next).ok_or_else(|| format!("missing {what} in {} data", self.rtype))?;
        self.next += 1;
        Ok(*t)
    }

    fn text(&mut self, what: &str) -> Result<&'a str, String> {
        let t = self.take(what)?;
        t.text().ok_or_else(|| format!("invalid {what} '{}' in {} data", String::from_utf8_lossy(t.raw), self.rtype))
    }

    fn int<T: TryFrom<u64>>(&mut self, what: &str) -> Result<T, String> {
        let t = self.text(what)?;
        let n: u64 = if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            t.parse().unwrap_or(u64::MAX)
        } else {
            return Err(format!("invalid {what} '{t}' in {} data (expected a number)", self.rtype));
        };
        T::try_from(n).map_err(|_| format!("{what} {t} out of range in {} data", self.rtype))
    }

    /// A number, or a mnemonic `mnemonic` knows (`RSASHA256` for 8).
    fn int_or(&mut self, what: &str, mnemonic: fn(&str) -> Option<u8>) -> Result<u8, String> {
        if let Some(number) = self.tokens.get(self.next).and_then(Token::text).and_then(mnemonic) {
            self.next += 1;
            return Ok(number);
        }
        self.int(what)
    }

    fn duration(&mut self, what: &str) -> Result<u32, String> {
        let t = self.text(what)?;
        parse_ttl_bytes(t.as_bytes())
            .map(|ttl| ttl.as_secs())
            .ok_or_else(|| format!("invalid {what} '{t}' in {} data", self.rtype))
    }

    fn name(&mut self, what: &str, origin: Option<&Name>) -> Result<Name, String> {
        let t = self.take(what)?;
        Name::parse_bytes(t.raw, origin).map_err(|e| format!("invalid {what} in {} data: {e}", self.rtype))
    }

    /// Hex that may be split over several tokens, running to the end of the data.
    fn hex(&mut self, what: &str) -> Result<Box<[u8]>, String> {
        let rest = &self.tokens[self.next.min(self.tokens.len())..];
        if rest.is_empty() {
            return Err(format!("missing {what} in {} data", self.rtype));
        }
        self.next = self.tokens.len();
        let joined: Vec<u8> = rest.iter().flat_map(|t| t.raw.iter().copied()).collect();
        data_encoding::HEXLOWER_PERMISSIVE
            .decode(&joined)
            .map(Vec::into_boxed_slice)
            .map_err(|_| format!("invalid hex {what} '{}' in {} data", String::from_utf8_lossy(&joined), self.rtype))
    }

    /// RFC 3597 section 5: `\# <length> <hex>…`, for any type with a code. The data must
    /// be valid for its type where the type's form is known; it is then read as if written
    /// in that form, so that `\# 4 c0000201` and `192.0.2.1` are the same A record.
    fn generic(&mut self, origin: Option<&Name>) -> Result<RData, String> {
        let rtype = self.rtype;
        let Some(code) = rtype.code() else {
            return Err(format!("{rtype} has no type code, so no RFC 3597 generic form"));
        };
        self.next = 1;
        let len: u16 = self.int("generic data length")?;
        let data: Box<[u8]> = if self.next < self.tokens.len() { self.hex("generic data")? } else { Box::default() };
        if data.len() != usize::from(len) {
            return Err(format!("generic data of {rtype} is {} octets, but its length says {len}", data.len()));
        }
        // Data of a type whose form is read here but that it cannot hold (a WKS bitmap
        // with trailing zero octets, say) is kept as written, as it was before the form
        // was known.
        if iana::form_of(code).is_none() && (!forms::handles(code) || iana::to_text(code, &data).is_none()) {
            return Ok(RData::Unknown { rtype: code, data });
        }
        let text = iana::to_text(code, &data).ok_or_else(|| format!("generic data is not valid {rtype} data"))?;
        let tokens = tokenize(&text)?;
        RData::from_tokens(rtype, &tokens, origin)
            .map_err(|e| format!("generic data reads as '{text}', which is not valid {rtype} data: {e}"))
    }

    fn finish(&self) -> Result<(), String> {
        if self.next < self.tokens.len() {
            let extra = String::from_utf8_lossy(self.tokens[self.next].raw);
            return Err(format!("unexpected '{extra}' after the {} data", self.rtype));
        }
        Ok(())
    }
}

/// Record data in presentation form, names relative to an origin where possible.
struct Presentation<'a> {
    data: &'a RData,
    origin: Option<&'a Name>,
}

impl Presentation<'_> {
    fn name<'n>(&self, name: &'n Name) -> std::borrow::Cow<'n, str> {
        match self.origin {
            Some(origin) => name.relative_to(origin),
            None => std::borrow::Cow::Borrowed(name.as_str()),
        }
    }
}

impl fmt::Display for Presentation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = |bytes: &[u8]| data_encoding::HEXUPPER.encode(bytes);
        match self.data {
            RData::A(ip) => write!(f, "{ip}"),
            RData::Aaaa(ip) => write!(f, "{ip}"),
            RData::Cname(n) | RData::Ns(n) | RData::Ptr(n) => f.write_str(&self.name(n)),
            RData::Mx { preference, exchange } => write!(f, "{preference} {}", self.name(exchange)),
            RData::Txt(txt) => write!(f, "{txt}"),
            RData::Srv { priority, weight, port, target } => {
                write!(f, "{priority} {weight} {port} {}", self.name(target))
            }
            RData::Caa(caa) => {
                write!(f, "{} {} ", caa.flags, caa.tag)?;
                write_quoted(f, &caa.value)
            }
            RData::Sshfp { algorithm, fp_type, fingerprint } => {
                write!(f, "{algorithm} {fp_type} {}", hex(fingerprint))
            }
            RData::Tlsa { usage, selector, matching_type, data } => {
                write!(f, "{usage} {selector} {matching_type} {}", hex(data))
            }
            RData::Ds { key_tag, algorithm, digest_type, digest } => {
                write!(f, "{key_tag} {algorithm} {digest_type} {}", hex(digest))
            }
            RData::Soa(soa) => write!(
                f,
                "{} {} {} {} {} {} {}",
                self.name(&soa.mname),
                self.name(&soa.rname),
                soa.serial,
                soa.refresh,
                soa.retry,
                soa.expire,
                soa.minimum
            ),
            RData::Url { kind, target } => {
                write!(f, "{kind} ")?;
                write_quoted(f, target.as_bytes())
            }
            RData::Unknown { rtype, data } => match iana::write(*rtype, data, f) {
                Some(written) => written,
                None if data.is_empty() => f.write_str("\\# 0"),
                None => write!(f, "\\# {} {}", data.len(), data_encoding::HEXLOWER.encode(data)),
            },
        }
    }
}

impl fmt::Display for RData {
    /// The presentation form with absolute names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Presentation { data: self, origin: None }.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Name {
        Name::parse("example.com").unwrap()
    }

    fn parse(rtype: &str, text: &str) -> Result<RData, RDataError> {
        RData::parse(rtype.parse().unwrap(), text, Some(&origin()))
    }

    /// Parses, prints, and checks the printed form and that it parses back to the same data.
    fn round_trip(rtype: &str, text: &str, printed: &str) {
        let data = parse(rtype, text).unwrap_or_else(|e| panic!("{rtype} {text}: {e}"));
        assert_eq!(data.to_string(), printed, "{rtype} {text}");
        assert_eq!(parse(rtype, printed).unwrap(), data);
    }

    #[test]
    fn every_modeled_type_round_trips() {
        round_trip("A", "192.0.2.1", "192.0.2.1");
        round_trip("AAAA", "2001:DB8::1", "2001:db8::1");
        round_trip("CNAME", "www", "www.example.com.");
        round_trip("NS", "ns1.example.net.", "ns1.example.net.");
        round_trip("PTR", "host.example.", "host.example.");
        round_trip("MX", "10 mail", "10 mail.example.com.");
        round_trip("TXT", r#""v=spf1 -all""#, r#""v=spf1 -all""#);
        round_trip("SRV", "10 5 5060 sip", "10 5 5060 sip.example.com.");
        // The tag keeps its case, as BIND keeps it.
        round_trip("CAA", r#"0 ISSUE "letsencrypt.org""#, r#"0 ISSUE "letsencrypt.org""#);
        // BIND's other CAA forms: an unquoted value, an empty one, flags 128.
        round_trip("CAA", "0 issue ca.example.net", r#"0 issue "ca.example.net""#);
        round_trip("CAA", r#"0 issue """#, r#"0 issue """#);
        round_trip("CAA", r#"128 tbs "Unknown""#, r#"128 tbs "Unknown""#);
        round_trip("SSHFP", "4 2 abcdef0123", "4 2 ABCDEF0123");
        round_trip("TLSA", "3 1 1 aabb ccdd", "3 1 1 AABBCCDD");
        round_trip("DS", "12345 13 2 ABCD", "12345 13 2 ABCD");
        round_trip(
            "SOA",
            "ns1 hostmaster ( 2024010101 1h 15m 1w 5m )",
            "ns1.example.com. hostmaster.example.com. 2024010101 3600 900 604800 300",
        );
        round_trip("URL", "302 \"https://example.org/a;b\"", r#"302 "https://example.org/a;b""#);
        round_trip("URL", "FRAME https://example.org/", r#"frame "https://example.org/""#);
        round_trip("URL", "\"https://example.org/\"", r#"301 "https://example.org/""#);
        round_trip("TYPE65534", r"\# 3 abcdef", r"\# 3 abcdef");
        round_trip("TYPE65534", r"\# 0", r"\# 0");
        round_trip("TYPE65534", r"\# 2 0001", r"\# 2 0001");
    }

    /// The one-match order of types is the order of their `RecordType`s: for data of
    /// every variant, and for every code carried as unknown data (those of modeled types,
    /// SOA and NS among them, too).
    #[test]
    fn the_order_of_types_is_their_records_order() {
        let variants = [
            ("A", "192.0.2.1"),
            ("AAAA", "2001:db8::1"),
            ("CNAME", "www"),
            ("NS", "ns1"),
            ("PTR", "host"),
            ("MX", "10 mail"),
            ("TXT", "x"),
            ("SRV", "1 2 3 sip"),
            ("CAA", "0 issue x"),
            ("SSHFP", "4 2 abcdef"),
            ("TLSA", "3 1 1 aabb"),
            ("DS", "1 13 2 ABCD"),
            ("SOA", "ns1 host 1 2 3 4 5"),
            ("URL", "https://example.org/"),
        ];
        for (rtype, text) in variants {
            let data = parse(rtype, text).unwrap();
            assert_eq!(data.type_order(), data.rtype().sort_key(), "{rtype}");
        }
        for code in 0..=u16::MAX {
            let data = RData::Unknown { rtype: code, data: Box::new([]) };
            assert_eq!(data.type_order(), data.rtype().sort_key(), "code {code}");
        }
    }

    /// The registered types without a typed variant, read and printed through `domain`.
    /// Inputs are the RFCs' own examples; the printed forms are what those RFCs (or BIND's
    /// `named-checkzone -D`) print for them.
    #[test]
    fn registered_types_read_their_presentation_form() {
        round_trip("HINFO", r#""PC Intel" Linux"#, r#""PC Intel" "Linux""#);
        round_trip("DNAME", "other", "other.example.com.");
        round_trip("RP", "mbox.example.org. txt", "mbox.example.org. txt.example.com.");
        round_trip("AFSDB", "1 afs", "1 afs.example.com.");
        round_trip("KX", "10 kx", "10 kx.example.com.");
        round_trip("SPF", r#""v=spf1 -all""#, r#""v=spf1 -all""#);
        round_trip(
            "NAPTR",
            r#"100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" ."#,
            r#"100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" ."#,
        );
        round_trip("DNSKEY", "257 3 RSASHA256 AwEAAag AAQ==", "257 3 8 AwEAAagAAQ==");
        round_trip("CDNSKEY", "0 3 0 AA==", "0 3 0 AA==");
        round_trip("CDS", "0 0 0 00", "0 0 0 00");
        round_trip("SMIMEA", "3 1 1 aabb", "3 1 1 AABB");
        round_trip("NSEC", "host A MX RRSIG NSEC TYPE1234", "host.example.com. A MX RRSIG NSEC TYPE1234");
        // A type mnemonic `domain` lacks is read by zonectl's own table.
        assert_eq!(parse("NSEC", ". NSAP-PTR NSEC").unwrap(), parse("NSEC", ". TYPE23 NSEC").unwrap());
        round_trip("NSEC3PARAM", "1 0 12 aabbccdd", "1 0 12 AABBCCDD");
        round_trip(
            "NSEC3",
            "1 1 12 aabbccdd 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG",
            "1 1 12 AABBCCDD 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S A RRSIG",
        );
        round_trip(
            "RRSIG",
            "A RSASHA1 3 86400 20030322173103 20030220173103 2642 example.com. oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTrPYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6oB9wfuh3DTJXUAfI/M0zmO/zz8bW0Rznl8O3tGNazPwQKkRN20XPXV6nwwfoXmJQbsLNrLfkGJ5D6fwFm8nN+6pBzeDQfsS3Ap3o=",
            // RFC 4034 section 3.3's example, its dates written back as it writes them.
            "A 5 3 86400 20030322173103 20030220173103 2642 example.com. oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTrPYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6oB9wfuh3DTJXUAfI/M0zmO/zz8bW0Rznl8O3tGNazPwQKkRN20XPXV6nwwfoXmJQbsLNrLfkGJ5D6fwFm8nN+6pBzeDQfsS3Ap3o=",
        );
        round_trip("HTTPS", "1 . alpn=h2,h3 port=8443", r#"1 . alpn="h2,h3" port=8443"#);
        // RFC 9460 appendix D: a quoted value right after `key=` is the same parameter.
        round_trip(
            "SVCB",
            r#"16 foo.example.org. alpn="h2,h3" port="8443""#,
            r#"16 foo.example.org. alpn="h2,h3" port=8443"#,
        );
        round_trip(
            "ZONEMD",
            "2018031900 1 1 c68090d90a7aed716bc459f9340e3d7c1370d4d24b7e2fc3a1ddc0b9a87153b9a9713b3c9ae5cc27777f98b8e730044c",
            "2018031900 1 1 C68090D90A7AED716BC459F9340E3D7C1370D4D24B7E2FC3A1DDC0B9A87153B9A9713B3C9AE5CC27777F98B8E730044C",
        );
        round_trip(
            "OPENPGPKEY",
            "mQINBFit2jsBEADrbl5vjVxYeAE0g0IDYCBpHirv1Sjlqxx5gjtPhb2YhvyDMXjq",
            "mQINBFit2jsBEADrbl5vjVxYeAE0g0IDYCBpHirv1Sjlqxx5gjtPhb2YhvyDMXjq",
        );
        // CSYNC comes from hickory-proto; the wire form by hand from RFC 7477.
        assert_eq!(
            parse("CSYNC", "66 3 A NS AAAA").unwrap(),
            parse("CSYNC", r"\# 12 000000420003000460000008").unwrap()
        );
        round_trip("CSYNC", "66 3 A NS AAAA", "66 3 A NS AAAA");
        // DS takes BIND's mnemonics for the algorithm and the digest type.
        assert_eq!(
            parse("DS", "60485 RSASHA1 SHA-1 2BB183AF5F22588179A53B0A98631FAD1A292118").unwrap(),
            parse("DS", "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118").unwrap()
        );
        assert_eq!(parse("DS", "1 ecdsap256sha256 sha256 aa").unwrap().to_string(), "1 13 2 AA");
        // A type without an RFC presentation form (ATMA's is the ATM Forum's) stays in
        // generic form only, with the same wording as an unregistered one.
        assert_eq!(
            parse("ATMA", "39246f000e7c9c0312000100010000020000000000").unwrap_err().0,
            r"no presentation form of ATMA is known: write its data in RFC 3597 generic form (\# length hex)"
        );
        // LOC is read (in forms.rs); data its form cannot hold stays as written.
        round_trip(
            "LOC",
            "52 22 23.000 N 4 53 32.000 E -2.00m",
            "52 22 23.000 N 4 53 32.000 E -2.00m 1.00m 10000.00m 10.00m",
        );
        round_trip("LOC", r"\# 1 00", r"\# 1 00");
    }

    /// RFC 3597 section 5: `\#` is accepted for every type with a code, read as the same
    /// data as the type's own form, and checked against that form.
    #[test]
    fn generic_form_for_known_types() {
        assert_eq!(parse("A", r"\# 4 c0000201").unwrap(), parse("A", "192.0.2.1").unwrap());
        assert_eq!(parse("TYPE1", r"\# 4 C0000201").unwrap(), parse("A", "192.0.2.1").unwrap());
        assert_eq!(parse("MX", r"\# 8 000a 046d61696c 00").unwrap(), parse("MX", "10 mail.").unwrap());
        assert_eq!(parse("TXT", r"\# 3 02 6869").unwrap(), parse("TXT", "hi").unwrap());
        // Names in generic data compare as names do: case-insensitively.
        assert_eq!(parse("HINFO", r#"\# 4 01 41 01 42"#).unwrap(), parse("HINFO", "A B").unwrap());
        assert_eq!(parse("DNAME", r"\# 5 03 464f4f 00").unwrap(), parse("DNAME", "foo.").unwrap());
        let err = |rtype: &str, text: &str| parse(rtype, text).unwrap_err().0;
        assert_eq!(err("A", r"\# 3 c00002"), "generic data is not valid A data");
        assert_eq!(err("HTTPS", r"\# 2 0001"), "generic data is not valid HTTPS data");
        assert_eq!(err("URL", r#"\# 1 00"#), "URL has no type code, so no RFC 3597 generic form");
    }

    #[test]
    fn relative_display_uses_the_origin() {
        let mx = parse("MX", "10 mail").unwrap();
        assert_eq!(mx.display_relative(&origin()).to_string(), "10 mail");
        let cname = parse("CNAME", "@").unwrap();
        assert_eq!(cname.display_relative(&origin()).to_string(), "@");
        let out = parse("CNAME", "x.example.net.").unwrap();
        assert_eq!(out.display_relative(&origin()).to_string(), "x.example.net.");
    }

    #[test]
    fn bad_data_is_named() {
        let err = |rtype: &str, text: &str| parse(rtype, text).unwrap_err().0;
        assert_eq!(err("A", "1.2.3"), "invalid IPv4 address '1.2.3'");
        assert_eq!(err("A", "256.1.1.1"), "invalid IPv4 address '256.1.1.1'");
        assert_eq!(err("AAAA", "2001:db8::g"), "invalid IPv6 address '2001:db8::g'");
        assert_eq!(err("MX", "70000 mail"), "preference 70000 out of range in MX data");
        assert_eq!(err("MX", "ten mail"), "invalid preference 'ten' in MX data (expected a number)");
        assert_eq!(err("MX", "10"), "missing exchange in MX data");
        assert_eq!(err("A", "1.2.3.4 5.6.7.8"), "unexpected '5.6.7.8' after the A data");
        assert_eq!(err("SSHFP", "1 1 xyz"), "invalid hex fingerprint 'xyz' in SSHFP data");
        assert_eq!(err("TYPE65534", r"\# 2 abcdef"), "generic data of TYPE65534 is 3 octets, but its length says 2");
        assert_eq!(err("HTTPS", "1 . alpn"), "alpn needs a value");
        assert_eq!(err("NSEC", "next. A BOGUS"), "unknown record type at 'BOGUS'");
        assert!(err("URL", "301 example.org").contains("http://"));
        assert!(err("URL", "301 https:// x").contains("http://"));
        assert!(parse("URL", "301 http://a").is_ok());
        assert!(err("CAA", "0 is-sue x").contains("CAA tag"));
        assert!(err("TXT", r#""unterminated"#).contains("quote"));
    }

    #[test]
    fn txt_keeps_strings_and_splits_long_ones() {
        let two = parse("TXT", r#""a" "b""#).unwrap();
        let one = parse("TXT", r#""ab""#).unwrap();
        assert_ne!(two, one, "the split is kept");
        let RData::Txt(two) = two else { unreachable!() };
        assert_eq!(two.value(), b"ab");
        assert_eq!(two.normalized(), Txt::from_value("ab"));

        for len in [0usize, 1, 254, 255, 256, 510, 511] {
            let value = "x".repeat(len);
            let txt = Txt::from_value(&value);
            let lens: Vec<usize> = txt.strings().map(<[u8]>::len).collect();
            let expected =
                if len == 0 { vec![0] } else { (0..len.div_ceil(255)).map(|i| (len - i * 255).min(255)).collect() };
            assert_eq!(lens, expected, "{len}");
            assert_eq!(txt.value(), value.as_bytes());
        }
    }

    #[test]
    fn txt_escapes_print_and_parse_back() {
        let txt = Txt::from_strings([&b"quote\" back\\slash; semi"[..], b"", "caf\u{e9}".as_bytes(), b"\x01\xff"]);
        let printed = txt.to_string();
        assert_eq!(printed, "\"quote\\\" back\\\\slash; semi\" \"\" \"caf\u{e9}\" \"\\001\\255\"");
        assert_eq!(parse("TXT", &printed).unwrap(), RData::Txt(txt));
        // Unquoted words are separate strings.
        let RData::Txt(words) = parse("TXT", "hello world").unwrap() else { unreachable!() };
        assert_eq!(words.strings().collect::<Vec<_>>(), [&b"hello"[..], b"world"]);
    }
}
