//! The presentation forms of registered types that neither `domain` nor hickory-proto
//! reads: WKS, X25, ISDN, NSAP, PX, GPOS, LOC, NXT, CERT (with its mnemonics), A6, APL,
//! DHCID, HIP, DSYNC, HHIT, BRID, NID, L32, L64, LP, EUI48, EUI64, URI and AMTRELAY. Each
//! is read from the zone-file tokens into wire form and printed back from it, the RFC's
//! words beside the code; the data is kept as `RData::Unknown`, so nothing here changes
//! what the model holds. What is printed is read back before it is trusted (else the data
//! is written in `\#` form), and the generated-types test (`tests/registered_types.rs`)
//! round-trips random data of each.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::lexer::{Token, tokenize};
use crate::name::Name;

/// The type codes read and printed here.
const CODES: &[u16] =
    &[11, 19, 20, 22, 26, 27, 29, 30, 37, 38, 42, 49, 55, 66, 67, 68, 104, 105, 106, 107, 108, 109, 256, 260];

/// Whether the type's form is read and printed here.
pub(crate) fn handles(code: u16) -> bool {
    CODES.contains(&code)
}

/// Reads the data of type `code` from `tokens` into wire form; `None` when the type is not
/// one of this module's.
pub(crate) fn scan(code: u16, tokens: &[Token<'_>], origin: Option<&Name>) -> Option<Result<Vec<u8>, String>> {
    if !handles(code) {
        return None;
    }
    let cursor = super::Fields { tokens, next: 0, rtype: crate::rtype::RecordType::from_code(code) };
    let mut fields = Fields { cursor, origin, wire: Vec::new() };
    let read = match code {
        11 => wks(&mut fields),
        19 => x25(&mut fields),
        20 => isdn(&mut fields),
        22 => nsap(&mut fields),
        26 => px(&mut fields),
        27 => gpos(&mut fields),
        29 => loc(&mut fields),
        30 => nxt(&mut fields),
        37 => cert(&mut fields),
        38 => a6(&mut fields),
        42 => apl(&mut fields),
        49 => fields.base64_rest("DHCID data"),
        55 => hip(&mut fields),
        66 => dsync(&mut fields),
        67 => fields.base64_rest("HHIT data"),
        68 => fields.base64_rest("BRID data"),
        104 | 106 => ilnp64(&mut fields),
        105 => l32(&mut fields),
        107 => lp(&mut fields),
        108 => eui(&mut fields, 6),
        109 => eui(&mut fields, 8),
        256 => uri(&mut fields),
        260 => amtrelay(&mut fields),
        _ => unreachable!("handles() lists the codes"),
    };
    Some(read.and_then(|()| fields.cursor.finish()).map(|()| fields.wire))
}

/// The presentation form of wire data of type `code`: `None` when the type is not one of
/// this module's or the data is not valid for it (it is written in `\#` form then).
pub(crate) fn write(code: u16, wire: &[u8]) -> Option<String> {
    if !handles(code) {
        return None;
    }
    let mut out = Out { wire, at: 0, text: String::new() };
    match code {
        11 => print_wks(&mut out)?,
        19 => out.char_string()?,
        20 => {
            out.char_string()?;
            if !out.done() {
                out.char_string()?;
            }
        }
        22 => {
            if wire.is_empty() {
                return None;
            }
            let hex = data_encoding::HEXLOWER.encode(wire);
            out.token(&format!("0x{hex}"));
            out.at = wire.len();
        }
        26 => {
            out.u16()?;
            out.name()?;
            out.name()?;
        }
        27 => {
            for _ in 0..3 {
                let at = out.at;
                out.char_string()?;
                if !is_decimal(wire.get(at + 1..out.at)?) {
                    return None;
                }
            }
        }
        29 => print_loc(&mut out)?,
        30 => print_nxt(&mut out)?,
        37 => print_cert(&mut out)?,
        38 => print_a6(&mut out)?,
        42 => print_apl(&mut out)?,
        49 | 67 | 68 => {
            if wire.is_empty() {
                return None;
            }
            out.token(&data_encoding::BASE64.encode(wire));
            out.at = wire.len();
        }
        55 => print_hip(&mut out)?,
        66 => print_dsync(&mut out)?,
        104 | 106 => {
            out.u16()?;
            let groups: Vec<String> =
                out.take(8)?.chunks(2).map(|g| format!("{:04x}", u16::from_be_bytes([g[0], g[1]]))).collect();
            out.token(&groups.join(":"));
        }
        105 => {
            out.u16()?;
            let a: [u8; 4] = out.take(4)?.try_into().ok()?;
            out.token(&Ipv4Addr::from(a).to_string());
        }
        107 => {
            out.u16()?;
            out.name()?;
        }
        108 | 109 => {
            let len = if code == 108 { 6 } else { 8 };
            let octets: Vec<String> = out.take(len)?.iter().map(|b| format!("{b:02x}")).collect();
            out.token(&octets.join("-"));
        }
        256 => {
            out.u16()?;
            out.u16()?;
            let target = &wire[out.at..];
            if target.is_empty() {
                return None;
            }
            let mut quoted = String::new();
            super::write_quoted(&mut quoted, target).ok()?;
            out.token(&quoted);
            out.at = wire.len();
        }
        260 => print_amtrelay(&mut out)?,
        _ => return None,
    }
    if !out.done() {
        return None;
    }
    // What is printed must read back as the same data (names aside, whose case reading
    // folds).
    let tokens = tokenize(&out.text).ok()?;
    let again = scan(code, &tokens, None)?.ok()?;
    again.eq_ignore_ascii_case(wire).then_some(out.text)
}

/// The tokens of one record's data, read in order through the model's own cursor
/// ([`super::Fields`]: its words for a missing or invalid field), and the wire form being
/// built.
struct Fields<'t, 'a> {
    cursor: super::Fields<'t, 'a>,
    origin: Option<&'t Name>,
    wire: Vec<u8>,
}

impl<'a> Fields<'_, 'a> {
    /// Whether a token is left.
    fn more(&self) -> bool {
        self.cursor.next < self.cursor.tokens.len()
    }

    fn take(&mut self, what: &str) -> Result<Token<'a>, String> {
        self.cursor.take(what)
    }

    fn peek_text(&self) -> Option<&'a str> {
        self.cursor.tokens.get(self.cursor.next).and_then(Token::text)
    }

    fn text(&mut self, what: &str) -> Result<&'a str, String> {
        self.cursor.text(what)
    }

    fn int<T: TryFrom<u64>>(&mut self, what: &str) -> Result<T, String> {
        self.cursor.int(what)
    }

    /// An address (or anything else with a `FromStr`).
    fn parsed<T: std::str::FromStr>(&mut self, what: &str) -> Result<T, String> {
        let text = self.text(what)?;
        text.parse().map_err(|_| format!("invalid {what} '{text}' in {} data", self.cursor.rtype))
    }

    fn u8(&mut self, what: &str) -> Result<(), String> {
        let n: u8 = self.int(what)?;
        self.wire.push(n);
        Ok(())
    }

    fn u16(&mut self, what: &str) -> Result<(), String> {
        let n: u16 = self.int(what)?;
        self.wire.extend_from_slice(&n.to_be_bytes());
        Ok(())
    }

    fn name(&mut self, what: &str) -> Result<(), String> {
        let origin = self.origin;
        self.cursor.name(what, origin)?.write_wire(&mut self.wire);
        Ok(())
    }

    /// A `<character-string>` (RFC 1035 section 5.1): at most 255 octets.
    fn char_string(&mut self, what: &str) -> Result<Vec<u8>, String> {
        let token = self.take(what)?;
        let octets = token.octets().map_err(|e| format!("invalid {what}: {e}"))?;
        if octets.len() > 255 {
            return Err(format!("{what} is longer than 255 octets"));
        }
        self.wire.push(octets.len() as u8);
        self.wire.extend_from_slice(&octets);
        Ok(octets.into_owned())
    }

    /// Base64 in one or more tokens, to the end of the data.
    fn base64_rest(&mut self, what: &str) -> Result<(), String> {
        let mut text = String::new();
        while self.more() {
            text.push_str(self.text(what)?);
        }
        if text.is_empty() {
            return Err(format!("missing {what}"));
        }
        let data = data_encoding::BASE64.decode(text.as_bytes()).map_err(|_| format!("{what} is not base64"))?;
        self.wire.extend_from_slice(&data);
        Ok(())
    }
}

/// Wire data being printed, front to back.
struct Out<'w> {
    wire: &'w [u8],
    at: usize,
    text: String,
}

impl Out<'_> {
    fn token(&mut self, token: &str) {
        if !self.text.is_empty() {
            self.text.push(' ');
        }
        self.text.push_str(token);
    }

    fn done(&self) -> bool {
        self.at == self.wire.len()
    }

    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let taken = self.wire.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(taken)
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn u16(&mut self) -> Option<u16> {
        let n = u16::from_be_bytes(self.take(2)?.try_into().ok()?);
        self.token(&n.to_string());
        Some(n)
    }

    fn char_string(&mut self) -> Option<()> {
        let len = usize::from(self.u8()?);
        let octets = self.take(len)?.to_vec();
        let mut quoted = String::new();
        super::write_quoted(&mut quoted, &octets).ok()?;
        self.token(&quoted);
        Some(())
    }

    /// An uncompressed name, absolute, escaped so that the lexer reads it back.
    fn name(&mut self) -> Option<()> {
        let mut parser = octseq::Parser::from_ref(&self.wire[self.at..]);
        let name = domain::base::ParsedName::parse(&mut parser).ok()?;
        if name.is_compressed() {
            return None;
        }
        self.at += parser.pos();
        let text = name.to_string();
        let mut escaped = String::with_capacity(text.len() + 1);
        for c in text.chars() {
            if matches!(c, '(' | ')' | ';' | '"') {
                escaped.push('\\');
            }
            escaped.push(c);
        }
        if !escaped.ends_with('.') {
            escaped.push('.');
        }
        if escaped == "@." {
            escaped = "\\@.".into();
        }
        self.token(&escaped);
        Some(())
    }
}

/// Sets bit `n` of a WKS or NXT bit map, the first octet's high bit being bit 0, growing
/// the map to the octet that holds it (so it ends at its last non-zero octet).
fn set_bit(bitmap: &mut Vec<u8>, n: u16) {
    let octet = usize::from(n / 8);
    if bitmap.len() <= octet {
        bitmap.resize(octet + 1, 0);
    }
    bitmap[octet] |= 0x80 >> (n % 8);
}

/// The bits set in a WKS or NXT bit map, in order.
fn bits_set(bitmap: &[u8]) -> impl Iterator<Item = u16> + '_ {
    bitmap.iter().enumerate().flat_map(|(i, octet)| {
        (0..8).filter(move |bit| octet & (0x80 >> bit) != 0).map(move |bit| (i * 8 + bit) as u16)
    })
}

/// A decimal number as GPOS writes one: an optional sign, digits, at most one point.
fn is_decimal(text: &[u8]) -> bool {
    let digits = text.strip_prefix(b"-").or_else(|| text.strip_prefix(b"+")).unwrap_or(text);
    let mut points = 0;
    !digits.is_empty()
        && digits.iter().any(u8::is_ascii_digit)
        && digits.iter().all(|&b| {
            points += usize::from(b == b'.');
            b.is_ascii_digit() || (b == b'.' && points == 1)
        })
}

// WKS — RFC 1035 section 3.4.2: "ADDRESS: a 32 bit Internet address. PROTOCOL: an 8 bit IP
// protocol number. <BIT MAP>: a variable length bit map", one bit per port, the first
// octet's high bit port 0. Its zone-file form (RFC 1010, as BIND reads it): the address,
// the protocol by number or as `tcp`/`udp`, then the services by number or name.

/// Service names BIND resolves through `/etc/services` that appear in WKS data in the wild;
/// a number is always accepted.
const SERVICES: &[(&str, u16)] = &[
    ("ftp-data", 20),
    ("ftp", 21),
    ("ssh", 22),
    ("telnet", 23),
    ("smtp", 25),
    ("time", 37),
    ("domain", 53),
    ("finger", 79),
    ("http", 80),
    ("www", 80),
    ("pop3", 110),
    ("sunrpc", 111),
    ("nntp", 119),
    ("ntp", 123),
    ("imap", 143),
    ("snmp", 161),
    ("ldap", 389),
    ("https", 443),
];

fn wks(f: &mut Fields<'_, '_>) -> Result<(), String> {
    let address: Ipv4Addr = f.parsed("WKS address")?;
    f.wire.extend_from_slice(&address.octets());
    let protocol = f.text("WKS protocol")?;
    let protocol: u8 = match protocol.to_ascii_lowercase().as_str() {
        "tcp" => 6,
        "udp" => 17,
        number => number.parse().map_err(|_| format!("invalid WKS protocol '{protocol}' (tcp, udp or a number)"))?,
    };
    f.wire.push(protocol);
    let mut bitmap = Vec::new();
    while f.more() {
        let service = f.text("WKS service")?;
        let port = match service.parse::<u16>() {
            Ok(port) => port,
            Err(_) => SERVICES
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(service))
                .map(|&(_, port)| port)
                .ok_or_else(|| format!("unknown WKS service '{service}' (write its port number)"))?,
        };
        set_bit(&mut bitmap, port);
    }
    f.wire.extend_from_slice(&bitmap);
    Ok(())
}

fn print_wks(out: &mut Out<'_>) -> Option<()> {
    let address: [u8; 4] = out.take(4)?.try_into().ok()?;
    out.token(&Ipv4Addr::from(address).to_string());
    let protocol = out.u8()?;
    out.token(&protocol.to_string());
    let bitmap = out.take(out.wire.len() - out.at)?.to_vec();
    // Trailing zero octets say nothing and read back as nothing.
    if bitmap.last() == Some(&0) || bitmap.len() > 8192 {
        return None;
    }
    for port in bits_set(&bitmap) {
        out.token(&port.to_string());
    }
    Some(())
}

// X25 — RFC 1183 section 3.1: "<PSDN-address> is a <character-string> … The
// <PSDN-address> must consist of at least 4 digits" (BIND holds it to digits only).
fn x25(f: &mut Fields<'_, '_>) -> Result<(), String> {
    let address = f.char_string("X25 PSDN address")?;
    if address.len() < 4 || !address.iter().all(u8::is_ascii_digit) {
        return Err("X25 PSDN address must be at least 4 digits".into());
    }
    Ok(())
}

// ISDN — RFC 1183 section 3.2: "<ISDN-address> is a <character-string> … <sa> (subaddress)
// is an optional <character-string>".
fn isdn(f: &mut Fields<'_, '_>) -> Result<(), String> {
    f.char_string("ISDN address")?;
    if f.more() {
        f.char_string("ISDN subaddress")?;
    }
    Ok(())
}

// NSAP — RFC 1706 section 5: "the NSAP RR … is a hexadecimal string beginning with '0x'",
// with "." allowed anywhere between digits for readability.
fn nsap(f: &mut Fields<'_, '_>) -> Result<(), String> {
    let text = f.text("NSAP address")?;
    let digits =
        text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")).ok_or("NSAP address must begin with 0x")?;
    let digits: String = digits.chars().filter(|&c| c != '.').collect();
    if digits.is_empty() {
        return Err("NSAP address is empty".into());
    }
    let octets = data_encoding::HEXLOWER_PERMISSIVE
        .decode(digits.as_bytes())
        .map_err(|_| format!("invalid NSAP address '{text}' (an even number of hex digits)"))?;
    f.wire.extend_from_slice(&octets);
    Ok(())
}

// PX — RFC 2163 section 4: "<owner> <class> PX <preference> <map822> <mapx400>".
fn px(f: &mut Fields<'_, '_>) -> Result<(), String> {
    f.u16("PX preference")?;
    f.name("PX MAP822 name")?;
    f.name("PX MAPX400 name")
}

// GPOS — RFC 1712 section 3: "<LONGITUDE> <LATITUDE> <ALTITUDE>", each "a real number …
// encoded as an ASCII string". No range is held to: the RFC's own example
// (`-32.6882 116.8652 10.0`, Perth) gives the latitude first.
fn gpos(f: &mut Fields<'_, '_>) -> Result<(), String> {
    for what in ["GPOS longitude", "GPOS latitude", "GPOS altitude"] {
        let value = f.char_string(what)?;
        if !is_decimal(&value) {
            return Err(format!("invalid {what} '{}' (a decimal number)", String::from_utf8_lossy(&value)));
        }
    }
    Ok(())
}

// LOC — RFC 1876 section 3:
//   <owner> <TTL> <class> LOC ( d1 [m1 [s1]] {"N"|"S"} d2 [m2 [s2]]
//                              {"E"|"W"} alt["m"] [siz["m"] [hp["m"] [vp["m"]]]] )
// "d1 [0 .. 90], d2 [0 .. 180], m1, m2 [0 .. 59], s1, s2 [0 .. 59.999], alt
// [-100000.00 .. 42849672.95] BY .01, siz, hp, vp [0 .. 90000000.00]. If omitted, minutes
// and seconds default to zero, size defaults to 1m, horizontal precision defaults to
// 10000m, and vertical precision defaults to 10m."
// Wire (section 2): VERSION (0), SIZE, HORIZ PRE, VERT PRE (each "expressed as a pair of
// four-bit unsigned integers … the most significant four bits represent the base and the
// second number represents the power of ten by which to multiply the base", in
// centimetres), LATITUDE and LONGITUDE ("thousandths of a second of arc … 2^31 represents
// the equator / prime meridian"), ALTITUDE ("centimeters, from a base of 100,000m below the
// WGS 84 reference spheroid").

const EQUATOR: u32 = 1 << 31;
const ALTITUDE_BASE: i64 = 10_000_000;

fn loc(f: &mut Fields<'_, '_>) -> Result<(), String> {
    let latitude = loc_angle(f, "latitude", 90, ('N', 'S'))?;
    let longitude = loc_angle(f, "longitude", 180, ('E', 'W'))?;
    let altitude = f.text("LOC altitude")?;
    let altitude_cm = centimetres(altitude.strip_suffix(['m', 'M']).unwrap_or(altitude), true)
        .filter(|cm| (-10_000_000..=4_284_967_295).contains(cm))
        .ok_or_else(|| format!("invalid LOC altitude '{altitude}'"))?;
    let mut sizes = [0x12, 0x16, 0x13]; // 1m, 10000m, 10m
    for (i, what) in ["size", "horizontal precision", "vertical precision"].into_iter().enumerate() {
        if !f.more() {
            break;
        }
        let text = f.text(what)?;
        let cm = centimetres(text.strip_suffix(['m', 'M']).unwrap_or(text), false)
            .filter(|cm| *cm <= 9_000_000_000)
            .ok_or_else(|| format!("invalid LOC {what} '{text}'"))?;
        sizes[i] = precision_byte(cm as u64);
    }
    f.wire.push(0);
    f.wire.extend_from_slice(&sizes);
    f.wire.extend_from_slice(&latitude.to_be_bytes());
    f.wire.extend_from_slice(&longitude.to_be_bytes());
    f.wire.extend_from_slice(&((altitude_cm + ALTITUDE_BASE) as u32).to_be_bytes());
    Ok(())
}

/// `d [m [s]] H`: the angle in thousandths of a second of arc, from 2^31.
fn loc_angle(f: &mut Fields<'_, '_>, what: &str, most: u32, (plus, minus): (char, char)) -> Result<u32, String> {
    let hemisphere = |t: &str| {
        let mut chars = t.chars();
        match (chars.next().map(|c| c.to_ascii_uppercase()), chars.next()) {
            (Some(c), None) if c == plus => Some(true),
            (Some(c), None) if c == minus => Some(false),
            _ => None,
        }
    };
    let degrees: u32 = f.int(&format!("LOC {what} degrees"))?;
    let mut minutes = 0u32;
    let mut thousandths = 0u32;
    if f.peek_text().is_some_and(|t| hemisphere(t).is_none()) {
        minutes = f.int(&format!("LOC {what} minutes"))?;
        if f.peek_text().is_some_and(|t| hemisphere(t).is_none()) {
            let seconds = f.text(&format!("LOC {what} seconds"))?;
            thousandths = thousandths_of(seconds).ok_or_else(|| format!("invalid LOC {what} seconds '{seconds}'"))?;
        }
    }
    let side = f.text(&format!("LOC {what} hemisphere"))?;
    let north_or_east = hemisphere(side).ok_or_else(|| format!("invalid LOC {what} hemisphere '{side}'"))?;
    if degrees > most || minutes > 59 || thousandths > 59_999 {
        return Err(format!(
            "LOC {what} {degrees} {minutes} {}.{:03} is out of range",
            thousandths / 1000,
            thousandths % 1000
        ));
    }
    let arc = (degrees * 3600 + minutes * 60) * 1000 + thousandths;
    if arc > most * 3_600_000 {
        return Err(format!("LOC {what} is more than {most} degrees"));
    }
    Ok(if north_or_east { EQUATOR + arc } else { EQUATOR - arc })
}

/// Seconds with up to three decimals, in thousandths.
fn thousandths_of(text: &str) -> Option<u32> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || fraction.len() > 3 || !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u32 = whole.parse().ok()?;
    let fraction: u32 = format!("{fraction:0<3}").parse().ok()?;
    whole.checked_mul(1000)?.checked_add(fraction)
}

/// Metres with up to two decimals (and a sign where allowed), in centimetres.
fn centimetres(text: &str, signed: bool) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) if signed => (true, rest),
        Some(_) => return None,
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() || fraction.len() > 2 || !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let cm =
        whole.parse::<i64>().ok()?.checked_mul(100)?.checked_add(format!("{fraction:0<2}").parse::<i64>().ok()?)?;
    Some(if negative { -cm } else { cm })
}

/// RFC 1876 appendix A's `precsize_aton`: the power of ten below the value, and the digit
/// before it (what BIND and ldns store: 15m is stored as 10m).
fn precision_byte(cm: u64) -> u8 {
    let mut exponent = 0u32;
    while exponent < 9 && cm >= 10u64.pow(exponent + 1) {
        exponent += 1;
    }
    let mantissa = (cm / 10u64.pow(exponent)).min(9) as u8;
    (mantissa << 4) | exponent as u8
}

fn print_loc(out: &mut Out<'_>) -> Option<()> {
    let bytes: [u8; 16] = out.take(16)?.try_into().ok()?;
    if bytes[0] != 0 {
        return None;
    }
    let metres = |byte: u8| -> Option<String> {
        let (mantissa, exponent) = (u64::from(byte >> 4), u32::from(byte & 0x0f));
        if mantissa > 9 || exponent > 9 {
            return None;
        }
        let cm = mantissa * 10u64.pow(exponent);
        Some(format!("{}.{:02}m", cm / 100, cm % 100))
    };
    let angle = |raw: u32, most: u32, (plus, minus): (char, char)| -> Option<String> {
        let (arc, side) = if raw >= EQUATOR { (raw - EQUATOR, plus) } else { (EQUATOR - raw, minus) };
        if arc > most * 3_600_000 {
            return None;
        }
        let (degrees, rest) = (arc / 3_600_000, arc % 3_600_000);
        let (minutes, rest) = (rest / 60_000, rest % 60_000);
        Some(format!("{degrees} {minutes} {}.{:03} {side}", rest / 1000, rest % 1000))
    };
    let word = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 octets"));
    out.token(&angle(word(4), 90, ('N', 'S'))?);
    out.token(&angle(word(8), 180, ('E', 'W'))?);
    let altitude = i64::from(word(12)) - ALTITUDE_BASE;
    let sign = if altitude < 0 { "-" } else { "" };
    out.token(&format!("{sign}{}.{:02}m", altitude.abs() / 100, altitude.abs() % 100));
    for byte in &bytes[1..4] {
        out.token(&metres(*byte)?);
    }
    Some(())
}

// NXT — RFC 2535 section 5.2: "a domain name followed by a bit map", one bit per type
// present, "bit zero … must be zero" (types up to 127 only; the map ends at its last
// non-zero octet). Its text (section 5.3): the next name, then the types.
fn nxt(f: &mut Fields<'_, '_>) -> Result<(), String> {
    f.name("NXT next domain name")?;
    let mut bitmap = Vec::new();
    while f.more() {
        let text = f.text("NXT type")?;
        let code = text
            .parse::<crate::rtype::RecordType>()
            .ok()
            .and_then(|t| t.code())
            .filter(|&code| (1..128).contains(&code))
            .ok_or_else(|| format!("invalid NXT type '{text}' (a type numbered 1 to 127)"))?;
        set_bit(&mut bitmap, code);
    }
    f.wire.extend_from_slice(&bitmap);
    Ok(())
}

fn print_nxt(out: &mut Out<'_>) -> Option<()> {
    out.name()?;
    let bitmap = out.take(out.wire.len() - out.at)?.to_vec();
    if bitmap.len() > 16 || bitmap.last() == Some(&0) || bitmap.first().is_some_and(|b| b & 0x80 != 0) {
        return None;
    }
    for code in bits_set(&bitmap) {
        out.token(&crate::rtype::RecordType::from_code(code).mnemonic());
    }
    Some(())
}

// A6 — RFC 2874 section 3.1.1: "Prefix len (1 octet) | Address suffix (0..16 octets) |
// Prefix name (0..255 octets)", the suffix "the minimum number of octets" holding its
// 128 - prefix len bits ("pad bits … MUST be set to zero"), no prefix name when the
// length is 0. Its text (section 3.1.2): the length, the suffix as an IPv6 address, the
// prefix name.
fn a6(f: &mut Fields<'_, '_>) -> Result<(), String> {
    let length: u8 = f.int("A6 prefix length")?;
    if length > 128 {
        return Err(format!("A6 prefix length {length} is more than 128"));
    }
    f.wire.push(length);
    let suffix: Ipv6Addr = f.parsed("A6 address suffix")?;
    let octets = suffix.octets();
    let kept = usize::from(128 - length).div_ceil(8);
    let (pad, suffix) = octets.split_at(16 - kept);
    let pad_bits = u32::from(length) % 8;
    if pad.iter().any(|&b| b != 0) || suffix.first().is_some_and(|&b| pad_bits > 0 && b >> (8 - pad_bits) != 0) {
        return Err(format!("A6 address suffix has bits within its {length}-bit prefix"));
    }
    f.wire.extend_from_slice(suffix);
    if length > 0 {
        f.name("A6 prefix name")?;
    }
    Ok(())
}

fn print_a6(out: &mut Out<'_>) -> Option<()> {
    let length = out.u8()?;
    if length > 128 {
        return None;
    }
    out.token(&length.to_string());
    let kept = usize::from(128 - length).div_ceil(8);
    let mut octets = [0u8; 16];
    octets[16 - kept..].copy_from_slice(out.take(kept)?);
    out.token(&Ipv6Addr::from(octets).to_string());
    if length > 0 {
        out.name()?;
    }
    Some(())
}

// CERT — RFC 4398 section 2.2: "type key-tag algorithm certificate", the type "represented
// as an unsigned decimal integer or as a mnemonic symbol as listed in Section 2.1", the
// algorithm "as an unsigned decimal integer or as a mnemonic symbol as listed in [RFC
// 4034]", the certificate in base64 (and may be split over several tokens).

/// RFC 4398 section 2.1's certificate types.
const CERT_TYPES: &[(&str, u16)] = &[
    ("PKIX", 1),
    ("SPKI", 2),
    ("PGP", 3),
    ("IPKIX", 4),
    ("ISPKI", 5),
    ("IPGP", 6),
    ("ACPKIX", 7),
    ("IACPKIX", 8),
    ("URI", 253),
    ("OID", 254),
];

fn cert(f: &mut Fields<'_, '_>) -> Result<(), String> {
    let kind = f.text("CERT type")?;
    let kind = match CERT_TYPES.iter().find(|(m, _)| m.eq_ignore_ascii_case(kind)) {
        Some(&(_, code)) => code,
        None => kind.parse().map_err(|_| format!("invalid CERT type '{kind}' (a number or PKIX, PGP, …)"))?,
    };
    f.wire.extend_from_slice(&kind.to_be_bytes());
    f.u16("CERT key tag")?;
    let algorithm = f.cursor.int_or("CERT algorithm", super::iana::algorithm_number)?;
    f.wire.push(algorithm);
    f.base64_rest("CERT certificate")
}

fn print_cert(out: &mut Out<'_>) -> Option<()> {
    let kind = u16::from_be_bytes(out.take(2)?.try_into().ok()?);
    match CERT_TYPES.iter().find(|&&(_, code)| code == kind) {
        Some((mnemonic, _)) => out.token(mnemonic),
        None => out.token(&kind.to_string()),
    }
    out.u16()?;
    // The algorithm by number: every reader takes it (mnemonics are read above).
    let algorithm = out.u8()?;
    out.token(&algorithm.to_string());
    let certificate = out.take(out.wire.len() - out.at)?.to_vec();
    if certificate.is_empty() {
        return None;
    }
    out.token(&data_encoding::BASE64.encode(&certificate));
    Some(())
}

// APL — RFC 3123 section 4: "[!]afi:address/prefix", zero or more, separated by spaces;
// AFI 1 is IPv4, 2 IPv6. Wire (section 4): ADDRESSFAMILY (16 bits), PREFIX (8), N (1 bit)
// and AFDLENGTH (7), AFDPART with "trailing zero octets … not … transmitted"
// (section 4.1).
fn apl(f: &mut Fields<'_, '_>) -> Result<(), String> {
    while f.more() {
        let item = f.text("APL item")?;
        let (negated, rest) = match item.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, item),
        };
        let bad = || format!("invalid APL item '{item}' ([!]afi:address/prefix)");
        let (family, rest) = rest.split_once(':').ok_or_else(bad)?;
        let (address, prefix) = rest.rsplit_once('/').ok_or_else(bad)?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        let (family, octets): (u16, Vec<u8>) = match family {
            "1" if prefix <= 32 => (1, address.parse::<Ipv4Addr>().map_err(|_| bad())?.octets().to_vec()),
            "2" if prefix <= 128 => (2, address.parse::<Ipv6Addr>().map_err(|_| bad())?.octets().to_vec()),
            _ => return Err(bad()),
        };
        let length = octets.iter().rposition(|&b| b != 0).map_or(0, |last| last + 1);
        f.wire.extend_from_slice(&family.to_be_bytes());
        f.wire.push(prefix);
        f.wire.push(length as u8 | if negated { 0x80 } else { 0 });
        f.wire.extend_from_slice(&octets[..length]);
    }
    Ok(())
}

fn print_apl(out: &mut Out<'_>) -> Option<()> {
    while !out.done() {
        let family = u16::from_be_bytes(out.take(2)?.try_into().ok()?);
        let prefix = out.u8()?;
        let flags = out.u8()?;
        let (negated, length) = (flags & 0x80 != 0, usize::from(flags & 0x7f));
        let part = out.take(length)?;
        // Section 4.1: trailing zero octets are not sent; one sent is not the canonical form.
        if part.last() == Some(&0) {
            return None;
        }
        let address = match family {
            1 if length <= 4 && prefix <= 32 => {
                let mut octets = [0u8; 4];
                octets[..length].copy_from_slice(part);
                Ipv4Addr::from(octets).to_string()
            }
            2 if length <= 16 && prefix <= 128 => {
                let mut octets = [0u8; 16];
                octets[..length].copy_from_slice(part);
                Ipv6Addr::from(octets).to_string()
            }
            _ => return None,
        };
        out.token(&format!("{}{family}:{address}/{prefix}", if negated { "!" } else { "" }));
    }
    Some(())
}

// HIP — RFC 8005 section 5: "IN HIP ( pk-algorithm base16-encoded-hit
// base64-encoded-public-key rendezvous-server[1] … rendezvous-server[n] )". Wire
// (section 5): HIT length (8 bits), PK algorithm (8), PK length (16), HIT, public key,
// rendezvous servers ("MUST NOT be compressed").
fn hip(f: &mut Fields<'_, '_>) -> Result<(), String> {
    let algorithm: u8 = f.int("HIP public key algorithm")?;
    let hit = f.text("HIP HIT")?;
    let hit =
        data_encoding::HEXLOWER_PERMISSIVE.decode(hit.as_bytes()).map_err(|_| format!("HIP HIT '{hit}' is not hex"))?;
    let key = f.text("HIP public key")?;
    let key = data_encoding::BASE64.decode(key.as_bytes()).map_err(|_| "HIP public key is not base64".to_string())?;
    if hit.is_empty() || hit.len() > 255 || key.is_empty() || key.len() > 65_535 {
        return Err("HIP HIT (1 to 255 octets) or public key (1 to 65,535) is out of range".into());
    }
    f.wire.push(hit.len() as u8);
    f.wire.push(algorithm);
    f.wire.extend_from_slice(&(key.len() as u16).to_be_bytes());
    f.wire.extend_from_slice(&hit);
    f.wire.extend_from_slice(&key);
    while f.more() {
        f.name("HIP rendezvous server")?;
    }
    Ok(())
}

fn print_hip(out: &mut Out<'_>) -> Option<()> {
    let hit_length = usize::from(out.u8()?);
    let algorithm = out.u8()?;
    let key_length = usize::from(u16::from_be_bytes(out.take(2)?.try_into().ok()?));
    if hit_length == 0 || key_length == 0 {
        return None;
    }
    out.token(&algorithm.to_string());
    let hit = data_encoding::HEXUPPER.encode(out.take(hit_length)?);
    out.token(&hit);
    let key = data_encoding::BASE64.encode(out.take(key_length)?);
    out.token(&key);
    while !out.done() {
        out.name()?;
    }
    Some(())
}

// NID and L64 — RFC 6742 sections 2.1.3 and 2.3.3: "Preference" then the NodeID or
// Locator64 "as four 16-bit unsigned integers in hexadecimal … separated by colons".
fn ilnp64(f: &mut Fields<'_, '_>) -> Result<(), String> {
    f.u16("preference")?;
    let text = f.text("64-bit identifier")?;
    let groups: Vec<&str> = text.split(':').collect();
    let bad = || format!("invalid 64-bit identifier '{text}' (four groups of 1 to 4 hex digits)");
    if groups.len() != 4 {
        return Err(bad());
    }
    for group in groups {
        if group.is_empty() || group.len() > 4 {
            return Err(bad());
        }
        let n = u16::from_str_radix(group, 16).map_err(|_| bad())?;
        f.wire.extend_from_slice(&n.to_be_bytes());
    }
    Ok(())
}

// L32 — RFC 6742 section 2.2.3: "Preference" then the Locator32 "as an IPv4 address".
fn l32(f: &mut Fields<'_, '_>) -> Result<(), String> {
    f.u16("L32 preference")?;
    let locator: Ipv4Addr = f.parsed("L32 locator")?;
    f.wire.extend_from_slice(&locator.octets());
    Ok(())
}

// LP — RFC 6742 section 2.4.3: "Preference" then the FQDN.
fn lp(f: &mut Fields<'_, '_>) -> Result<(), String> {
    f.u16("LP preference")?;
    f.name("LP FQDN")
}

// EUI48 and EUI64 — RFC 7043 sections 3.2 and 4.2: "six [eight] two-digit hexadecimal
// numbers separated by hyphens".
fn eui(f: &mut Fields<'_, '_>, octets: usize) -> Result<(), String> {
    let text = f.text("EUI address")?;
    let parts: Vec<&str> = text.split('-').collect();
    let bad = || format!("invalid EUI address '{text}' ({octets} two-digit hex numbers separated by hyphens)");
    if parts.len() != octets || parts.iter().any(|p| p.len() != 2) {
        return Err(bad());
    }
    for part in parts {
        f.wire.push(u8::from_str_radix(part, 16).map_err(|_| bad())?);
    }
    Ok(())
}

// DSYNC — RFC 9859 section 2.1: "RRtype (16 bits) | Scheme (8 bits) | Port (16 bits) |
// Target" (an uncompressed name). Its text: the type by mnemonic, the scheme "NOTIFY" for 1
// or a number, the port, the target (as dnspython and Net::DNS write it).
const DSYNC_NOTIFY: u8 = 1;

fn dsync(f: &mut Fields<'_, '_>) -> Result<(), String> {
    let text = f.text("DSYNC RRtype")?;
    let code = text
        .parse::<crate::rtype::RecordType>()
        .ok()
        .and_then(|t| t.code())
        .ok_or_else(|| format!("invalid DSYNC RRtype '{text}' (a type's name, or TYPE and its number)"))?;
    f.wire.extend_from_slice(&code.to_be_bytes());
    let scheme = f.text("DSYNC scheme")?;
    let scheme = if scheme.eq_ignore_ascii_case("NOTIFY") {
        DSYNC_NOTIFY
    } else {
        scheme.parse().map_err(|_| format!("invalid DSYNC scheme '{scheme}' (NOTIFY or a number to 255)"))?
    };
    f.wire.push(scheme);
    f.u16("DSYNC port")?;
    f.name("DSYNC target")
}

fn print_dsync(out: &mut Out<'_>) -> Option<()> {
    let code = u16::from_be_bytes(out.take(2)?.try_into().ok()?);
    out.token(&crate::rtype::RecordType::from_code(code).mnemonic());
    match out.u8()? {
        DSYNC_NOTIFY => out.token("NOTIFY"),
        other => out.token(&other.to_string()),
    }
    out.u16()?;
    out.name()
}

// HHIT and BRID — RFC 9886 sections 3.1 and 3.2: the data is one opaque field (a CBOR
// structure the DNS does not look into), presented as base64 that may be split over
// several tokens, like DHCID.

// URI — RFC 7553 section 4.4: "priority weight target", the target "a URI … enclosed in
// double-quotes" (section 4.5: not empty).
fn uri(f: &mut Fields<'_, '_>) -> Result<(), String> {
    f.u16("URI priority")?;
    f.u16("URI weight")?;
    let target = f.take("URI target")?.octets().map_err(|e| format!("invalid URI target: {e}"))?;
    if target.is_empty() {
        return Err("URI target is empty".into());
    }
    f.wire.extend_from_slice(&target);
    Ok(())
}

// AMTRELAY — RFC 8777 section 4.3: "precedence discovery-optional type relay", D-bit 0 or 1;
// type 0 "no relay", written "."; 1 an IPv4 address; 2 an IPv6 address; 3 a domain name
// (wire: precedence, D bit and 7-bit type, relay; none for type 0).
fn amtrelay(f: &mut Fields<'_, '_>) -> Result<(), String> {
    f.u8("AMTRELAY precedence")?;
    let discovery: u8 = f.int("AMTRELAY discovery-optional bit")?;
    let kind: u8 = f.int("AMTRELAY type")?;
    if discovery > 1 || kind > 127 {
        return Err("AMTRELAY discovery-optional is 0 or 1 and type at most 127".into());
    }
    f.wire.push(discovery << 7 | kind);
    match kind {
        0 => {
            let relay = f.text("AMTRELAY relay")?;
            if relay != "." {
                return Err(format!("AMTRELAY type 0 has no relay: write '.', not '{relay}'"));
            }
        }
        1 => {
            let relay: Ipv4Addr = f.parsed("AMTRELAY IPv4 relay")?;
            f.wire.extend_from_slice(&relay.octets());
        }
        2 => {
            let relay: Ipv6Addr = f.parsed("AMTRELAY IPv6 relay")?;
            f.wire.extend_from_slice(&relay.octets());
        }
        3 => f.name("AMTRELAY relay name")?,
        other => return Err(format!("AMTRELAY type {other} is not defined (0 to 3)")),
    }
    Ok(())
}

fn print_amtrelay(out: &mut Out<'_>) -> Option<()> {
    let precedence = out.u8()?;
    let flags = out.u8()?;
    let (discovery, kind) = (flags >> 7, flags & 0x7f);
    out.token(&format!("{precedence} {discovery} {kind}"));
    match kind {
        0 => out.token("."),
        1 => {
            let a: [u8; 4] = out.take(4)?.try_into().ok()?;
            out.token(&Ipv4Addr::from(a).to_string());
        }
        2 => {
            let a: [u8; 16] = out.take(16)?.try_into().ok()?;
            out.token(&Ipv6Addr::from(a).to_string());
        }
        3 => out.name()?,
        _ => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `text` as data of `code` and prints it: `printed` is the RFC's example in
    /// canonical form, and it reads back as the same wire.
    fn round_trip(code: u16, text: &str, printed: &str) -> Vec<u8> {
        let tokens = tokenize(text).unwrap();
        let wire = scan(code, &tokens, None).unwrap().unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(write(code, &wire).as_deref(), Some(printed), "{text}");
        wire
    }

    fn refused(code: u16, text: &str) -> String {
        let tokens = tokenize(text).unwrap();
        scan(code, &tokens, None).unwrap().unwrap_err()
    }

    #[test]
    fn loc_as_rfc_1876_writes_it_with_its_defaults() {
        // RFC 1876 section 4's example: "cambridge-net.kei.com. LOC 42 21 54 N 71 06 18 W
        // -24m 30m" — size 30m, the precisions their defaults (10000m, 10m).
        let wire = round_trip(
            29,
            "42 21 54 N 71 06 18 W -24m 30m",
            "42 21 54.000 N 71 6 18.000 W -24.00m 30.00m 10000.00m 10.00m",
        );
        // Section 2: sizes are a digit and a power of ten in centimetres (30m = 3e3 cm,
        // 10000m = 1e6, 10m = 1e3); latitude 2^31 + 152,514,000 thousandths of a second
        // (42*3600+21*60+54 = 152,514 s) north; altitude 10,000,000 - 2,400 cm.
        assert_eq!(wire[..4], [0, 0x33, 0x16, 0x13]);
        assert_eq!(u32::from_be_bytes(wire[4..8].try_into().unwrap()), (1 << 31) + 152_514_000);
        // West: 2^31 less 71*3600+6*60+18 = 255,978 s.
        assert_eq!(u32::from_be_bytes(wire[8..12].try_into().unwrap()), (1 << 31) - 255_978_000);
        assert_eq!(u32::from_be_bytes(wire[12..].try_into().unwrap()), 10_000_000 - 2_400);
        // Minutes and seconds left out are zero; size and precisions their defaults.
        let wire = round_trip(29, "52 S 4 E 0", "52 0 0.000 S 4 0 0.000 E 0.00m 1.00m 10000.00m 10.00m");
        assert_eq!(wire[..4], [0, 0x12, 0x16, 0x13]);
        // Appendix A's precsize_aton: 15m is stored as 1e3 cm (10m), as BIND and ldns do.
        round_trip(29, "0 N 0 E 0 15m", "0 0 0.000 N 0 0 0.000 E 0.00m 10.00m 10000.00m 10.00m");
        round_trip(29, "0 N 0 E 0.5 0", "0 0 0.000 N 0 0 0.000 E 0.50m 0.00m 10000.00m 10.00m");
        assert!(refused(29, "91 N 0 E 0").contains("out of range"), "{}", refused(29, "91 N 0 E 0"));
        assert!(refused(29, "90 0 0.001 N 0 E 0").contains("more than 90 degrees"));
        assert!(refused(29, "0 N 0 1 2 X 0").contains("invalid LOC longitude hemisphere 'X'"));
        assert!(refused(29, "0 N 0 E 0 1.234m").contains("size"));
        assert!(refused(29, "0 N 0 E -100000.01").contains("altitude"));
    }

    #[test]
    fn every_form_reads_and_prints_as_its_rfc_writes_it() {
        // RFC 1035 / RFC 1010: a host's SMTP and HTTP over TCP; bit 25 and bit 80.
        let wire = round_trip(11, "192.0.2.1 tcp smtp 80", "192.0.2.1 6 25 80");
        assert_eq!(wire.len(), 4 + 1 + 11);
        assert_eq!((wire[5 + 3], wire[5 + 10]), (0x40, 0x80));
        // RFC 1183 section 3.1's and 3.2's examples.
        round_trip(19, "311061700956", "\"311061700956\"");
        assert!(refused(19, "12a4").contains("digits"));
        round_trip(20, "150862028003217 004", "\"150862028003217\" \"004\"");
        round_trip(20, "\"150862028003217\"", "\"150862028003217\"");
        // RFC 1706 section 5's example.
        let wire = round_trip(
            22,
            "0x47.0005.80.005a00.0000.0001.e133.ffffff000161.00",
            "0x47000580005a0000000001e133ffffff00016100",
        );
        assert_eq!(wire.len(), 20);
        // RFC 2163 section 4's example.
        round_trip(26, "50 ab.net2.it. O-ab.PRMD-net2.ADMDb.C-it.", "50 ab.net2.it. o-ab.prmd-net2.admdb.c-it.");
        // RFC 1712 section 3's example.
        round_trip(27, "-32.6882 116.8652 10.0", "\"-32.6882\" \"116.8652\" \"10.0\"");
        assert!(refused(27, "-32.6882 116.8652 ten").contains("altitude"));
        // RFC 2535 section 5.4's example.
        let wire = round_trip(30, "medium.foo.tld. A MX SIG NXT", "medium.foo.tld. A MX SIG NXT");
        // Bits 1 (A), 15 (MX), 24 (SIG) and 30 (NXT), after the 16-octet name.
        assert_eq!(wire[16..], [0x40, 0x01, 0x00, 0x82]);
        assert!(refused(30, "a.example. TYPE128").contains("1 to 127"));
        // RFC 2874 section 3.1.2's examples.
        round_trip(38, "0 2345:00C1:CA11:0001:1234:5678:9ABC:DEF0", "0 2345:c1:ca11:1:1234:5678:9abc:def0");
        let wire = round_trip(
            38,
            "64 ::1234:5678:9ABC:DEF0 SUBNET-1.IP6.A.NET.",
            "64 ::1234:5678:9abc:def0 subnet-1.ip6.a.net.",
        );
        // The length, the 64-bit suffix in 8 octets, then the prefix name.
        assert_eq!(wire[..9], [64, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0]);
        assert_eq!(wire.len(), 9 + 20, "subnet-1.ip6.a.net. is 20 octets");
        assert!(refused(38, "64 1::1 a.example.").contains("within its 64-bit prefix"));
        // RFC 4398: mnemonics read, the type printed as one, the algorithm as a number.
        round_trip(37, "PGP 0 RSASHA256 AAEC AwQ=", "PGP 0 8 AAECAwQ=");
        round_trip(37, "65000 1 5 AAECAwQ=", "65000 1 5 AAECAwQ=");
        // RFC 3123 section 5's example.
        let wire = round_trip(42, "1:192.168.32.0/21 !1:192.168.38.0/28", "1:192.168.32.0/21 !1:192.168.38.0/28");
        // Trailing zero octets are not sent (section 4.1): 3 octets each, the second negated.
        assert_eq!(wire, [0, 1, 21, 3, 192, 168, 32, 0, 1, 28, 0x83, 192, 168, 38]);
        round_trip(42, "2:2001:db8::/32", "2:2001:db8::/32");
        round_trip(42, "", "");
        // RFC 4701 section 3.6's first example.
        round_trip(
            49,
            "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=",
            "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=",
        );
        // RFC 8005 section 6's first example, shortened key.
        round_trip(
            55,
            "2 200100107B1A74DF365639CC39F1D578 AwEAAbdxyhNuSutc5EMzxTs9LBPCIkOFH8cIvM4p9+LrV4e19WzK00+CI6zBCQTdtWsuxKbWIy87UOoJTwkUs7lBu+Upr1gsNrut79ryra+bSRGQb1slImA8YVJyuIDsj7kwzG7jnERNqnWxZ48AWkskmdHaVDP4BcelrTI3rMXdXF5D rvs.example.com.",
            "2 200100107B1A74DF365639CC39F1D578 AwEAAbdxyhNuSutc5EMzxTs9LBPCIkOFH8cIvM4p9+LrV4e19WzK00+CI6zBCQTdtWsuxKbWIy87UOoJTwkUs7lBu+Upr1gsNrut79ryra+bSRGQb1slImA8YVJyuIDsj7kwzG7jnERNqnWxZ48AWkskmdHaVDP4BcelrTI3rMXdXF5D rvs.example.com.",
        );
        // RFC 9859 section 2.1's example; the wire as dnspython 2.8 writes it.
        let wire =
            round_trip(66, "CDS NOTIFY 5359 cds-scanner.example.net.", "CDS NOTIFY 5359 cds-scanner.example.net.");
        assert_eq!(
            data_encoding::HEXLOWER.encode(&wire),
            "003b0114ef0b6364732d7363616e6e6572076578616d706c65036e657400"
        );
        let wire = round_trip(66, "type65000 200 0 .", "TYPE65000 200 0 .");
        assert_eq!(wire, [0xfd, 0xe8, 200, 0, 0, 0]);
        round_trip(66, "csync notify 53 ns.example.", "CSYNC NOTIFY 53 ns.example.");
        assert!(refused(66, "CDS NOTIFY 5359").contains("missing DSYNC target"), "{}", refused(66, "CDS NOTIFY 5359"));
        assert!(refused(66, "CDS 256 5359 a.example.").contains("DSYNC scheme"));
        assert!(refused(66, "NOPE 1 5359 a.example.").contains("DSYNC RRtype"));
        // RFC 9886: one opaque field in base64, split or not.
        assert_eq!(round_trip(67, "AAECAwQF BgcI", "AAECAwQFBgcI"), (0..9).collect::<Vec<u8>>());
        assert_eq!(round_trip(68, "AAECAwQFBgcI", "AAECAwQFBgcI"), (0..9).collect::<Vec<u8>>());
        assert!(refused(67, "").contains("missing HHIT data"));
        assert!(refused(68, "AA*").contains("BRID data is not base64"));
        // RFC 6742 section 3's examples.
        round_trip(104, "10 0014:4fff:ff20:ee64", "10 0014:4fff:ff20:ee64");
        round_trip(105, "10 10.1.2.0", "10 10.1.2.0");
        round_trip(106, "10 2001:0DB8:1140:1000", "10 2001:0db8:1140:1000");
        round_trip(107, "10 l64-subnet1.example.com.", "10 l64-subnet1.example.com.");
        assert!(refused(104, "10 0014:4fff:ff20").contains("four groups"));
        // RFC 7043 sections 3.2 and 4.2's examples.
        round_trip(108, "00-00-5e-00-53-2a", "00-00-5e-00-53-2a");
        round_trip(109, "00-00-5E-EF-10-00-00-2A", "00-00-5e-ef-10-00-00-2a");
        assert!(refused(108, "00:00:5e:00:53:2a").contains("hyphens"));
        // RFC 7553 section 4.5's example.
        round_trip(256, "10 1 \"ftp://ftp1.example.com/public\"", "10 1 \"ftp://ftp1.example.com/public\"");
        assert!(refused(256, "10 1 \"\"").contains("empty"));
        // RFC 8777 section 4.3's examples.
        round_trip(260, "10 0 0 .", "10 0 0 .");
        round_trip(260, "10 0 1 203.0.113.15", "10 0 1 203.0.113.15");
        round_trip(260, "10 1 2 2001:db8::15", "10 1 2 2001:db8::15");
        round_trip(260, "128 1 3 amtrelays.example.com.", "128 1 3 amtrelays.example.com.");
        assert!(refused(260, "10 0 0 192.0.2.1").contains("no relay"));
    }

    /// The wire form of each RFC example as another implementation reads it: ldns 1.8's
    /// `ldns-read-zone -u TYPE` (RFC 3597 form), run on the same text.
    #[test]
    fn wire_forms_agree_with_ldns() {
        let ldns = [
            (11, "192.0.2.1 tcp 25 80", "c0000201060000004000000000000080"),
            (19, "311061700956", "0c333131303631373030393536"),
            (20, "\"150862028003217\" \"004\"", "0f31353038363230323830303332313703303034"),
            (22, "0x47.0005.80.005a00.0000.0001.e133.ffffff000161.00", "47000580005a0000000001e133ffffff00016100"),
            (
                26,
                "50 ab.net2.it. o-ab.prmd-net2.admdb.c-it.",
                "0032026162046e65743202697400046f2d61620970726d642d6e6574320561646d646204632d697400",
            ),
            (27, "-32.6882 116.8652 10.0", "082d33322e36383832083131362e383635320431302e30"),
            (29, "42 21 54 N 71 06 18 W -24m 30m", "0033161389172dd070be15f000988d20"),
            (37, "PGP 0 RSASHA256 AAECAwQ=", "00030000080001020304"),
            (
                42,
                "1:192.168.32.0/21 !1:192.168.38.0/28 2:2001:db8::/32",
                "00011503c0a82000011c83c0a8260002200420010db8",
            ),
            (
                49,
                "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=",
                "000201636fc0b8271c82825bb1ac5c41cf5351aa69b4febd94e8f17cdb95000da48c40",
            ),
            (104, "10 0014:4fff:ff20:ee64", "000a00144fffff20ee64"),
            (105, "10 10.1.2.0", "000a0a010200"),
            (106, "10 2001:0DB8:1140:1000", "000a20010db811401000"),
            (107, "10 l64-subnet1.example.com.", "000a0b6c36342d7375626e657431076578616d706c6503636f6d00"),
            (108, "00-00-5e-00-53-2a", "00005e00532a"),
            (109, "00-00-5E-EF-10-00-00-2A", "00005eef1000002a"),
            (
                256,
                "10 1 \"ftp://ftp1.example.com/public\"",
                "000a00016674703a2f2f667470312e6578616d706c652e636f6d2f7075626c6963",
            ),
        ];
        // AMTRELAY, which ldns 1.8 does not read, and HIP (the same octets from ldns and
        // dnspython): dnspython 2's `dns.rdata.from_text(…).to_wire()`.
        let dnspython = [
            (
                55,
                "2 200100107B1A74DF365639CC39F1D578 AwEAAbdxyhNuSutc5EMzxTs9LBPCIkOFH8cIvM4p9+LrV4e19WzK00+CI6zBCQTdtWsuxKbWIy87UOoJTwkUs7lBu+Upr1gsNrut79ryra+bSRGQb1slImA8YVJyuIDsj7kwzG7jnERNqnWxZ48AWkskmdHaVDP4BcelrTI3rMXdXF5D rvs.example.com.",
                "10020084200100107b1a74df365639cc39f1d57803010001b771ca136e4aeb5ce44333c53b3d2c13c22243851fc708bcce29f7e2eb5787b5f56ccad34f8223acc10904ddb56b2ec4a6d6232f3b50ea094f0914b3b941bbe529af582c36bbadefdaf2adaf9b4911906f5b2522603c615272b880ec8fb930cc6ee39c444daa75b1678f005a4b2499d1da5433f805c7a5ad3237acc5dd5c5e4303727673076578616d706c6503636f6d00",
            ),
            (260, "128 1 3 amtrelays.example.com.", "808309616d7472656c617973076578616d706c6503636f6d00"),
            (260, "10 0 1 203.0.113.15", "0a01cb00710f"),
            (260, "10 0 0 .", "0a00"),
            (260, "10 1 2 2001:db8::15", "0a8220010db8000000000000000000000015"),
        ];
        for (code, text, hex) in ldns.into_iter().chain(dnspython) {
            let tokens = tokenize(text).unwrap();
            let wire = scan(code, &tokens, None).unwrap().unwrap();
            assert_eq!(data_encoding::HEXLOWER.encode(&wire), hex, "TYPE{code} {text}");
        }
    }
}
