//! The presentation form of the registered types that have no typed variant (DNSKEY,
//! RRSIG, NSEC, SVCB, HTTPS, NAPTR, HINFO, …), taken from `domain`'s rdata types rather
//! than written here: zonectl's own lexer splits the entry, a [`Scanner`] over its tokens
//! feeds `domain`'s parsers, and the data is kept in wire form (`RData::Unknown`) with its
//! type. Printing goes the other way through `domain`'s zone-file formatter, and what it
//! prints is read back before it is trusted. A type that `domain` does not know stays in
//! RFC 3597 `\#` form. SVCB and HTTPS are the exception, read and printed in `svcb.rs`
//! (`domain`'s reader refuses keys BIND's test zones use).

use std::borrow::Cow;
use std::fmt;

use domain::base::charstr::CharStrBuilder;
use domain::base::name::ParsedName;
use domain::base::rdata::{ComposeRecordData, ParseRecordData};
use domain::base::scan::{ConvertSymbols, EntrySymbol, Scanner, ScannerError, Symbol, SymbolCharsError, Symbols};
use domain::base::zonefile_fmt::{self, FormatWriter, ZonefileFmt};
use domain::base::{CharStr, Rtype};
use domain::rdata::ZoneRecordData;
use octseq::builder::{OctetsBuilder, ShortBuf};
use octseq::str::Str;

use crate::lexer::{Token, tokenize};
use crate::name::Name;

/// `domain`'s data type and name type for scanned data.
type Scanned = ZoneRecordData<Vec<u8>, domain::base::Name<Vec<u8>>>;

/// The type whose presentation form `code` is written in: the type itself where `domain`
/// has it, a type of the same shape where the RFC defines one as a copy of another
/// (SMIMEA is TLSA's form, SPF is TXT's, KEY is DNSKEY's, KX is MX's, …), `None` where no
/// crate knows it.
pub(crate) fn form_of(code: u16) -> Option<u16> {
    Some(match code {
        // CSYNC (RFC 7477), which `domain` lacks, from hickory-proto. (Its CERT reader
        // takes no certificate-type mnemonics and its printer is not read back, so CERT
        // stays in generic form.)
        62 => code,
        // Types `domain` reads and prints itself.
        1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 13 | 14 | 15 | 16 | 17 | 28 | 33 | 35 | 39 | 43 | 44 | 45 | 46 | 47
        | 48 | 50 | 51 | 52 | 59 | 60 | 61 | 63 | 64 | 65 | 257 => code,
        // Character-strings, as TXT: SPF (RFC 7208), NINFO, AVC, RESINFO (RFC 9606), WALLET.
        99 | 56 | 258 | 261 | 262 => 16,
        // A preference and a name, as MX: AFSDB (RFC 1183), RT (RFC 1183), KX (RFC 2230).
        18 | 21 | 36 => 15,
        // One name, as PTR: NSAP-PTR (RFC 1348).
        23 => 12,
        // SMIMEA (RFC 8162) is TLSA's form.
        53 => 52,
        // KEY (RFC 2535) is DNSKEY's form, SIG (RFC 2535) is RRSIG's.
        25 => 48,
        24 => 46,
        // TA and DLV (RFC 4431) are DS's form.
        32768 | 32769 => 43,
        _ => return None,
    })
}

/// Reads the presentation form of type `code` from `tokens` into wire form. `Ok(None)`
/// when no crate knows the type's form (only `\#` is readable then).
pub(crate) fn scan(code: u16, tokens: &[Token<'_>], origin: Option<&Name>) -> Result<Option<Vec<u8>>, String> {
    // RRSIG and NSEC, most of a signed zone, before the search through the other forms.
    if matches!(code, 46 | 47)
        && let Some(wire) = fast_scan(code, tokens, origin)
    {
        return Ok(Some(wire));
    }
    if let Some(read) = super::forms::scan(code, tokens, origin) {
        return read.map(Some);
    }
    let Some(form) = form_of(code) else { return Ok(None) };
    if matches!(form, 64 | 65) && !tokens.first().is_some_and(|t| !t.quoted && t.raw == b"\\#") {
        return super::svcb::scan(tokens, origin).map(Some);
    }
    if form == 62 && !tokens.first().is_some_and(|t| !t.quoted && t.raw == b"\\#") {
        return hickory_scan(code, tokens).map(Some);
    }
    if let Some(wire) = fast_scan(form, tokens, origin) {
        return Ok(Some(wire));
    }
    let mut scanner = TokenScanner::new(tokens, origin);
    let data = Scanned::scan(Rtype::from_int(form), &mut scanner).map_err(|e| scanner.describe(e))?;
    if scanner.next < tokens.len() {
        let extra = String::from_utf8_lossy(tokens[scanner.next].raw);
        return Err(format!("unexpected '{extra}' after the data"));
    }
    let mut wire = Vec::new();
    data.compose_rdata(&mut wire).map_err(|_| "data longer than 65,535 octets".to_string())?;
    Ok(Some(wire))
}

/// What the last RRSIG this thread read had, of what most RRSIGs of a zone share, and the
/// buffers the thread keeps to join a signature in and to make an NSEC's data in (see
/// [`fast_scan`]).
#[derive(Default)]
struct LastRrsig {
    /// Its expiration and inception as written, and in seconds.
    times: (Vec<u8>, Vec<u8>),
    seconds: [u32; 2],
    /// Its signer as written (an absolute name), and in wire form.
    signer: Vec<u8>,
    signer_wire: Vec<u8>,
    /// The pieces of a signature written over several tokens, joined.
    joined: Vec<u8>,
    /// An NSEC record's data as it is made (its length is known once it is made).
    nsec: Vec<u8>,
}

thread_local! {
    static LAST_RRSIG: std::cell::RefCell<LastRrsig> = std::cell::RefCell::default();
}

/// RRSIG and NSEC, most of a signed zone, in their plain forms, without `domain`'s
/// scanner (which goes symbol by symbol through iterators and conversions: 40% of checking
/// a signed zone). `None` for anything else or anything unusual — a TTL with units, an
/// escape, a malformed field — which `domain` then reads, with its error messages. The
/// result is the same wire form `domain` makes (tested against it on generated data).
fn fast_scan(form: u16, tokens: &[Token<'_>], origin: Option<&Name>) -> Option<Vec<u8>> {
    let plain = |i: usize| tokens.get(i).filter(|t| !t.quoted && !t.escaped).map(|t| t.raw);
    let type_code = |raw: &[u8]| crate::rtype::RecordType::parse_bytes(raw).and_then(crate::rtype::RecordType::code);
    // The wire form of a name is at most its text, a length octet and the origin's.
    let name_room = |raw: &[u8]| raw.len() + 2 + origin.map_or(0, |o| o.as_str().len());
    // A name that is not plain (escapes) is made and written; an error sends the whole
    // record the long way, to `domain`, which says what is wrong.
    let write_name = |raw: &[u8], wire: &mut Vec<u8>| {
        if Name::write_plain_wire(raw, origin, wire).is_none() {
            Name::parse_bytes(raw, origin).ok()?.write_wire(wire);
        }
        Some(())
    };
    let wire = match form {
        // RFC 4034 section 3.2: type covered, algorithm, labels, original TTL, expiration,
        // inception, key tag, signer's name, signature (base64, maybe over several tokens).
        46 => {
            let pieces = tokens.get(8..).filter(|rest| !rest.is_empty())?;
            if pieces.iter().any(|t| t.quoted || t.escaped) {
                return None;
            }
            let signer = plain(7)?;
            let covered = type_code(plain(0)?)?;
            let algorithm = plain(1)?;
            let by_name = || algorithm_number(std::str::from_utf8(algorithm).ok()?);
            let algorithm = decimal(algorithm).and_then(|n| u8::try_from(n).ok()).or_else(by_name)?;
            let labels = u8::try_from(decimal(plain(2)?)?).ok()?;
            let original_ttl = u32::try_from(decimal(plain(3)?)?).ok()?;
            let (expiration, inception) = (plain(4)?, plain(5)?);
            let key_tag = u16::try_from(decimal(plain(6)?)?).ok()?;
            LAST_RRSIG.with_borrow_mut(|last| {
                // The signature's pieces joined in a buffer the thread keeps (an array on
                // the stack, zeroed for each record, was 1% of the instructions), then
                // decoded straight into the record's data, which is made once at its size.
                let signature: &[u8] = match pieces {
                    [one] => one.raw,
                    _ => {
                        last.joined.clear();
                        pieces.iter().for_each(|piece| last.joined.extend_from_slice(piece.raw));
                        &last.joined
                    }
                };
                let decoded = base64_simd::STANDARD.decoded_length(signature).ok()?;
                // At its length when the signer is the last one's (as a rule), so that
                // `into_boxed_slice` has nothing to give back.
                let same_signer = last.signer == signer && signer.ends_with(b".");
                let signer_room = if same_signer { last.signer_wire.len() } else { name_room(signer) };
                let mut wire = Vec::with_capacity(18 + signer_room + decoded);
                wire.extend_from_slice(&covered.to_be_bytes());
                wire.extend_from_slice(&[algorithm, labels]);
                wire.extend_from_slice(&original_ttl.to_be_bytes());
                // A zone's signatures mostly share their signer (the apex, written absolute
                // and without escapes, as `plain` takes it: its wire form depends on nothing
                // else) and validity: those of the one before are taken as they are (reading
                // them was 7% of the instructions of reading a signed zone).
                if (&*last.times.0, &*last.times.1) != (expiration, inception) {
                    last.seconds = [signature_time(expiration)?, signature_time(inception)?];
                    last.times.0.clear();
                    last.times.0.extend_from_slice(expiration);
                    last.times.1.clear();
                    last.times.1.extend_from_slice(inception);
                }
                for seconds in last.seconds {
                    wire.extend_from_slice(&seconds.to_be_bytes());
                }
                wire.extend_from_slice(&key_tag.to_be_bytes());
                if !same_signer {
                    let at = wire.len();
                    write_name(signer, &mut wire)?;
                    last.signer.clear();
                    last.signer.extend_from_slice(signer);
                    last.signer_wire.clear();
                    last.signer_wire.extend_from_slice(&wire[at..]);
                } else {
                    wire.extend_from_slice(&last.signer_wire);
                }
                // Vectorized: data-encoding's decoder, a byte at a time, was 7% of reading
                // a signed zone. Both refuse the same texts (non-zero trailing bits, bad
                // padding; the test below corrupts signatures), and those go the long way.
                base64_simd::STANDARD.decode_append(signature, &mut wire).ok()?;
                Some(wire)
            })?
        }
        // RFC 4034 section 4.2: the next owner name, then the types, as windows of bits
        // (section 4.1.2).
        47 => LAST_RRSIG.with_borrow_mut(|last| {
            let next = plain(0)?;
            // Made in the thread's buffer, then copied at its length: made at the most it
            // could be (a window for the types below 256, its header and the name's room),
            // twice its length, it was copied to a smaller block anyway.
            let wire = &mut last.nsec;
            wire.clear();
            write_name(next, wire)?;
            // Most records list a few types: on the stack (a list of more takes the long
            // way).
            let mut listed = [0u16; 64];
            let count = tokens.len() - 1;
            let codes = listed.get_mut(..count)?;
            for (code, at) in codes.iter_mut().zip(1..) {
                *code = type_code(plain(at)?)?;
            }
            codes.sort_unstable();
            // A window per high octet in use: its number, its length, then the bits of the
            // low octets up to the last one set. (A map of all 256 windows, zeroed for each
            // record, was 3.6% of checking a signed zone.)
            for in_window in codes.chunk_by(|a, b| a >> 8 == b >> 8) {
                let mut bits = [0u8; 32];
                for &code in in_window {
                    let low = usize::from(code & 0xff);
                    bits[low / 8] |= 0x80 >> (low % 8);
                }
                let used = usize::from(in_window[in_window.len() - 1] & 0xff) / 8 + 1;
                wire.push((in_window[0] >> 8) as u8);
                wire.push(used as u8);
                wire.extend_from_slice(&bits[..used]);
            }
            Some(wire.to_vec())
        })?,
        _ => return None,
    };
    Some(wire)
}

/// A decimal number of at most ten digits, from its bytes (`None` for anything else: the
/// caller's slower reader then says what is wrong).
fn decimal(raw: &[u8]) -> Option<u64> {
    if raw.is_empty() || raw.len() > 10 {
        return None;
    }
    // One pass that checks each digit as it adds it (four numbers in every RRSIG).
    raw.iter().try_fold(0, |n, &d| {
        let digit = d.wrapping_sub(b'0');
        (digit <= 9).then(|| n * 10 + u64::from(digit))
    })
}

/// An RRSIG time (RFC 4034 section 3.2): `YYYYMMDDHHmmSS` in UTC, or seconds since 1970.
/// Reckoned here rather than through a calendar library, which took 3% of checking a
/// signed zone: days from the civil date as in Howard Hinnant's `days_from_civil`.
fn signature_time(raw: &[u8]) -> Option<u32> {
    if raw.len() != 14 {
        return u32::try_from(decimal(raw)?).ok();
    }
    if !raw.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let field = |range: std::ops::Range<usize>| raw[range].iter().fold(0i64, |n, &d| n * 10 + i64::from(d - b'0'));
    let (year, month, day) = (field(0..4), field(4..6), field(6..8));
    let (hour, minute, second) = (field(8..10), field(10..12), field(12..14));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&month) || day < 1 || day > month_days[month as usize - 1] {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    // Beyond 2106 the field wraps (serial arithmetic): left to `domain`.
    u32::try_from(days * 86_400 + hour * 3600 + minute * 60 + second).ok()
}

/// Writes wire-form data of type `code` in its presentation form. `None` when no crate
/// knows the form, or the data is not valid for it (the caller writes `\#` form then).
pub(crate) fn write(code: u16, wire: &[u8], f: &mut impl fmt::Write) -> Option<fmt::Result> {
    if super::forms::handles(code) {
        return super::forms::write(code, wire).map(|text| f.write_str(&text));
    }
    let form = form_of(code)?;
    if matches!(form, 64 | 65) {
        let mut text = String::new();
        super::svcb::write(wire, &mut text)?;
        let again = super::svcb::scan(&tokenize(&text).ok()?, None).ok()?;
        return again.eq_ignore_ascii_case(wire).then(|| f.write_str(&text));
    }
    if form == 62 {
        let text = hickory_text(code, wire)?;
        let again = hickory_scan(code, &tokenize(&text).ok()?).ok()?;
        return (again == wire).then(|| f.write_str(&text));
    }
    let mut parser = octseq::Parser::from_ref(&wire);
    let data = ZoneRecordData::<&[u8], ParsedName<&[u8]>>::parse_rdata(Rtype::from_int(form), &mut parser).ok()??;
    if parser.remaining() != 0 || matches!(data, ZoneRecordData::Unknown(_)) {
        return None;
    }
    // RFC 4025 writes an absent IPSECKEY gateway (type 0) as `.`; `domain` leaves it out,
    // which no reader accepts.
    let root_after = (form == 45 && wire.get(1) == Some(&0)).then_some(3);
    let mut text = String::new();
    let mut writer = TokenWriter { out: &mut text, written: 0, root_after, token: String::new() };
    data.fmt(&mut writer).ok()?;
    if form == 46 {
        text = with_signature_dates(&text);
    }
    // What `domain` prints must read back as the same data (names aside, whose case
    // reading folds); where it does not (an empty NSEC3 hash prints as nothing), the data
    // is written in generic form instead.
    let tokens = tokenize(&text).ok()?;
    let again = scan(code, &tokens, None).ok()??;
    if !again.eq_ignore_ascii_case(wire) && !is_normalized(form, wire, &again) {
        return None;
    }
    Some(f.write_str(&text))
}

/// An RRSIG's (or SIG's) expiration and inception, the fifth and sixth fields, as
/// `YYYYMMDDHHmmSS` in UTC: the form RFC 4034 section 3.2 gives and BIND, Knot and ldns
/// write, where `domain` prints seconds since 1970 (which readers take too, but which no
/// one reads at a glance).
fn with_signature_dates(text: &str) -> String {
    let mut fields: Vec<String> = text.splitn(7, ' ').map(str::to_owned).collect();
    for field in fields.iter_mut().skip(4).take(2) {
        let date = field
            .parse::<u32>()
            .ok()
            .and_then(|secs| jiff::Timestamp::from_second(i64::from(secs)).ok())
            .map(|t| t.strftime("%Y%m%d%H%M%S").to_string());
        if let Some(date) = date {
            *field = date;
        }
    }
    fields.join(" ")
}

/// Whether `normalized` is `wire` with only what `domain` drops on reading removed:
/// trailing zero octets of an NSEC or NSEC3 type bitmap, which RFC 4034 forbids.
fn is_normalized(form: u16, wire: &[u8], normalized: &[u8]) -> bool {
    fn printed(form: u16, data: &[u8]) -> Option<String> {
        let mut parser = octseq::Parser::from_ref(data);
        let data =
            ZoneRecordData::<&[u8], ParsedName<&[u8]>>::parse_rdata(Rtype::from_int(form), &mut parser).ok()??;
        Some(data.display_zonefile(zonefile_fmt::DisplayKind::Simple).to_string())
    }
    matches!(form, 47 | 50) && printed(form, wire).is_some() && printed(form, wire) == printed(form, normalized)
}

/// Writes `domain`'s tokens on one line, escaping what a zone-file lexer would otherwise
/// take as syntax: `domain` prints a name holding `(`, `)`, `;` or `"` as it is, which
/// opens a parenthesis or a comment when read back (found by the generated-types test).
struct TokenWriter<'w, W> {
    out: &'w mut W,
    /// Tokens written so far.
    written: usize,
    /// Write a `.` token after this many.
    root_after: Option<usize>,
    token: String,
}

impl<W: fmt::Write> FormatWriter for TokenWriter<'_, W> {
    fn fmt_token(&mut self, args: fmt::Arguments<'_>) -> zonefile_fmt::Result {
        if self.root_after == Some(self.written) {
            self.out.write_str(" .")?;
        }
        if self.written > 0 {
            self.out.write_char(' ')?;
        }
        self.written += 1;
        self.token.clear();
        fmt::write(&mut self.token, args)?;
        if self.token.starts_with('"') {
            self.out.write_str(&self.token)?;
            return Ok(());
        }
        let mut escaped = false;
        for c in self.token.chars() {
            if !escaped && matches!(c, '(' | ')' | ';' | '"') {
                self.out.write_char('\\')?;
            }
            escaped = !escaped && c == '\\';
            self.out.write_char(c)?;
        }
        Ok(())
    }

    fn begin_block(&mut self) -> zonefile_fmt::Result {
        Ok(())
    }

    fn end_block(&mut self) -> zonefile_fmt::Result {
        Ok(())
    }

    fn fmt_comment(&mut self, _: fmt::Arguments<'_>) -> zonefile_fmt::Result {
        Ok(())
    }

    fn newline(&mut self) -> zonefile_fmt::Result {
        Ok(())
    }
}

/// CSYNC data through hickory-proto's reader (its fields hold no names, so the tokens are
/// passed on as text).
fn hickory_scan(code: u16, tokens: &[Token<'_>]) -> Result<Vec<u8>, String> {
    use hickory_proto::serialize::binary::BinEncodable as _;
    let text: Vec<String> = tokens
        .iter()
        .map(|t| {
            let raw = String::from_utf8_lossy(t.raw);
            if t.quoted { format!("\"{raw}\"") } else { raw.into_owned() }
        })
        .collect();
    let rtype = hickory_proto::rr::RecordType::from(code);
    let data = hickory_proto::rr::RData::try_from_str(rtype, &text.join(" ")).map_err(|e| e.to_string())?;
    data.to_bytes().map_err(|e| e.to_string())
}

/// CSYNC data printed by hickory-proto.
fn hickory_text(code: u16, wire: &[u8]) -> Option<String> {
    let mut decoder = hickory_proto::serialize::binary::BinDecoder::new(wire);
    let length = hickory_proto::serialize::binary::Restrict::new(u16::try_from(wire.len()).ok()?);
    let data = hickory_proto::rr::RData::read(&mut decoder, hickory_proto::rr::RecordType::from(code), length).ok()?;
    Some(data.to_string())
}

/// The presentation form of wire-form data, for `\#` data of a type with a typed variant:
/// it is read back by that variant's own parser.
pub(crate) fn to_text(code: u16, wire: &[u8]) -> Option<String> {
    let mut text = String::new();
    write(code, wire, &mut text)?.ok()?;
    Some(text)
}

/// DNSSEC algorithm mnemonics (RFC 8624, IANA "DNS Security Algorithm Numbers"), which
/// BIND accepts in DS, DNSKEY and RRSIG data where `domain` takes only numbers.
const ALGORITHMS: &[(&str, u8)] = &[
    ("RSAMD5", 1),
    ("DH", 2),
    ("DSA", 3),
    ("RSASHA1", 5),
    ("DSA-NSEC3-SHA1", 6),
    ("NSEC3DSA", 6),
    ("RSASHA1-NSEC3-SHA1", 7),
    ("NSEC3RSASHA1", 7),
    ("RSASHA256", 8),
    ("RSASHA512", 10),
    ("ECC-GOST", 12),
    ("ECCGOST", 12),
    ("ECDSAP256SHA256", 13),
    ("ECDSAP384SHA384", 14),
    ("ED25519", 15),
    ("ED448", 16),
    ("INDIRECT", 252),
    ("PRIVATEDNS", 253),
    ("PRIVATEOID", 254),
];

/// The number of a DNSSEC algorithm mnemonic, in any case.
pub(crate) fn algorithm_number(text: &str) -> Option<u8> {
    ALGORITHMS.iter().find(|(name, _)| name.eq_ignore_ascii_case(text)).map(|&(_, n)| n)
}

/// DS digest type mnemonics as BIND reads them.
pub(crate) fn digest_type_number(text: &str) -> Option<u8> {
    Some(match text.to_ascii_uppercase().as_str() {
        "SHA-1" | "SHA1" => 1,
        "SHA-256" | "SHA256" => 2,
        "GOST" => 3,
        "SHA-384" | "SHA384" => 4,
        _ => return None,
    })
}

/// Why `domain` refused a token.
#[derive(Debug)]
pub(crate) struct ScanError(Cow<'static, str>);

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScanError {}

impl ScannerError for ScanError {
    fn custom(msg: &'static str) -> Self {
        ScanError(Cow::Borrowed(msg))
    }
    fn end_of_entry() -> Self {
        ScanError(Cow::Borrowed("missing data"))
    }
    fn short_buf() -> Self {
        ScanError(Cow::Borrowed("data too long"))
    }
    fn trailing_tokens() -> Self {
        ScanError(Cow::Borrowed("unexpected data after the end"))
    }
}

impl From<std::convert::Infallible> for ScanError {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

impl From<ShortBuf> for ScanError {
    fn from(_: ShortBuf) -> Self {
        ScanError::short_buf()
    }
}

impl From<domain::base::charstr::CharStrError> for ScanError {
    fn from(_: domain::base::charstr::CharStrError) -> Self {
        ScanError::custom("character-string longer than 255 octets")
    }
}

impl From<SymbolCharsError> for ScanError {
    fn from(e: SymbolCharsError) -> Self {
        ScanError::custom(e.as_str())
    }
}

/// A `domain` scanner over the tokens of one entry's data.
pub(super) struct TokenScanner<'t, 'a> {
    tokens: &'t [Token<'a>],
    /// Each token as text with its escapes kept and octets above 0x7f written as `\DDD`,
    /// the form `domain`'s symbol reader takes.
    texts: Vec<Cow<'a, str>>,
    next: usize,
    origin: Option<&'t Name>,
}

impl<'t, 'a> TokenScanner<'t, 'a> {
    pub(super) fn new(tokens: &'t [Token<'a>], origin: Option<&'t Name>) -> Self {
        let texts = tokens
            .iter()
            .map(|t| match std::str::from_utf8(t.raw) {
                Ok(text) if text.is_ascii() => Cow::Borrowed(text),
                _ => Cow::Owned(t.raw.iter().fold(String::new(), |mut s, &b| {
                    if b.is_ascii() {
                        s.push(b as char);
                    } else {
                        s.push_str(&format!("\\{b:03}"));
                    }
                    s
                })),
            })
            .collect();
        TokenScanner { tokens, texts, next: 0, origin }
    }

    /// Passes over `n` tokens read by other means.
    pub(super) fn skip(&mut self, n: usize) {
        self.next = (self.next + n).min(self.tokens.len());
    }

    /// The next SVCB parameter's octets (a `key=` and the quoted value right after it are
    /// one), or `None` at the end.
    pub(super) fn next_svcb_octets(&mut self) -> Result<Option<Vec<u8>>, String> {
        if self.next >= self.tokens.len() {
            return Ok(None);
        }
        self.scan_svcb_octets().map(Some).map_err(|e| self.describe(e))
    }

    /// The error message, naming the token it was found at.
    fn describe(&self, e: ScanError) -> String {
        // `domain` names its own types in a few messages; say what they mean.
        let e = match &*e.0 {
            "expected Rtype" => ScanError::custom("unknown record type"),
            "expected SecurityAlgorithm" => ScanError::custom("unknown algorithm"),
            "expected DigestAlgorithm" => ScanError::custom("unknown digest type"),
            _ => e,
        };
        match self.next.checked_sub(1).and_then(|i| self.tokens.get(i)) {
            Some(t) if self.next <= self.tokens.len() && e.0 != "missing data" => {
                format!("{e} at '{}'", String::from_utf8_lossy(t.raw))
            }
            _ => e.to_string(),
        }
    }

    fn take(&mut self) -> Result<usize, ScanError> {
        if self.next >= self.tokens.len() {
            return Err(ScanError::end_of_entry());
        }
        self.next += 1;
        Ok(self.next - 1)
    }

    /// The symbols of token `index`, escapes decoded.
    fn symbols(&self, index: usize) -> Result<Vec<Symbol>, ScanError> {
        Symbols::with(self.texts[index].chars(), |symbols| Ok(symbols.collect::<Vec<_>>()))
    }

    fn octets_of(&self, index: usize, out: &mut Vec<u8>) -> Result<(), ScanError> {
        for sym in self.symbols(index)? {
            out.push(sym.into_octet().map_err(|_| ScanError::custom("bad escape"))?);
        }
        Ok(())
    }

    /// Whether token `index` follows the one before it with nothing in between
    /// (`alpn="h2,h3"` is two tokens of one SVCB parameter).
    fn is_adjacent(&self, index: usize) -> bool {
        let (Some(prev), Some(this)) = (index.checked_sub(1).and_then(|i| self.tokens.get(i)), self.tokens.get(index))
        else {
            return false;
        };
        let prev_end = prev.raw.as_ptr() as usize + prev.raw.len() + usize::from(prev.quoted);
        prev_end + usize::from(this.quoted) == this.raw.as_ptr() as usize
    }
}

impl Scanner for TokenScanner<'_, '_> {
    type Octets = Vec<u8>;
    type OctetsBuilder = Vec<u8>;
    type Name = domain::base::Name<Vec<u8>>;
    type Error = ScanError;

    fn has_space(&self) -> bool {
        !self.is_adjacent(self.next)
    }

    fn continues(&mut self) -> bool {
        self.next < self.tokens.len()
    }

    fn scan_symbols<F>(&mut self, mut op: F) -> Result<(), ScanError>
    where
        F: FnMut(Symbol) -> Result<(), ScanError>,
    {
        let index = self.take()?;
        for sym in self.symbols(index)? {
            op(sym)?;
        }
        Ok(())
    }

    fn scan_entry_symbols<F>(&mut self, mut op: F) -> Result<(), ScanError>
    where
        F: FnMut(EntrySymbol) -> Result<(), ScanError>,
    {
        while self.next < self.tokens.len() {
            let index = self.take()?;
            for sym in self.symbols(index)? {
                op(sym.into())?;
            }
            op(EntrySymbol::EndOfToken)?;
        }
        Ok(())
    }

    fn convert_token<C: ConvertSymbols<Symbol, ScanError>>(&mut self, mut convert: C) -> Result<Vec<u8>, ScanError> {
        let index = self.take()?;
        let mut out = Vec::new();
        for sym in self.symbols(index)? {
            if let Some(data) = convert.process_symbol(sym)? {
                out.extend_from_slice(data);
            }
        }
        if let Some(data) = convert.process_tail()? {
            out.extend_from_slice(data);
        }
        Ok(out)
    }

    fn convert_entry<C: ConvertSymbols<EntrySymbol, ScanError>>(
        &mut self,
        mut convert: C,
    ) -> Result<Vec<u8>, ScanError> {
        let mut out = Vec::new();
        while self.next < self.tokens.len() {
            let index = self.take()?;
            for sym in self.symbols(index)? {
                if let Some(data) = convert.process_symbol(sym.into())? {
                    out.extend_from_slice(data);
                }
            }
        }
        if let Some(data) = convert.process_tail()? {
            out.extend_from_slice(data);
        }
        Ok(out)
    }

    fn scan_octets(&mut self) -> Result<Vec<u8>, ScanError> {
        let index = self.take()?;
        let mut out = Vec::new();
        self.octets_of(index, &mut out)?;
        Ok(out)
    }

    fn scan_svcb_octets(&mut self) -> Result<Vec<u8>, ScanError> {
        let index = self.take()?;
        let mut out = Vec::new();
        self.octets_of(index, &mut out)?;
        while self.next < self.tokens.len() && self.tokens[self.next].quoted && self.is_adjacent(self.next) {
            let index = self.take()?;
            self.octets_of(index, &mut out)?;
        }
        Ok(out)
    }

    fn scan_ascii_str<F, T>(&mut self, op: F) -> Result<T, ScanError>
    where
        F: FnOnce(&str) -> Result<T, ScanError>,
    {
        let text = self.scan_string()?;
        if !text.is_ascii() {
            return Err(ScanError::custom("non-ASCII characters"));
        }
        // `domain` reads algorithm fields as numbers only; BIND takes the mnemonics too.
        if let Some(number) = algorithm_number(&text) {
            return op(&number.to_string());
        }
        // A type mnemonic `domain` lacks (`NSAP-PTR` in an NSEC bitmap) as `TYPEnnn`.
        if text.parse::<Rtype>().is_err()
            && let Some(code) = crate::rtype::RecordType::parse_bytes(text.as_bytes()).and_then(|t| t.code())
        {
            return op(&format!("TYPE{code}"));
        }
        op(&text)
    }

    fn scan_name(&mut self) -> Result<Self::Name, ScanError> {
        let index = self.take()?;
        let name = Name::parse_bytes(self.tokens[index].raw, self.origin)
            .map_err(|e| ScanError(Cow::Owned(format!("invalid name: {e}"))))?;
        name.as_str().parse().map_err(|_| ScanError::custom("invalid name"))
    }

    fn scan_charstr(&mut self) -> Result<CharStr<Vec<u8>>, ScanError> {
        let index = self.take()?;
        let mut out = CharStrBuilder::<Vec<u8>>::new();
        for sym in self.symbols(index)? {
            let octet = sym.into_octet().map_err(|_| ScanError::custom("bad escape"))?;
            out.append_slice(&[octet])?;
        }
        Ok(out.finish())
    }

    fn scan_string(&mut self) -> Result<Str<Vec<u8>>, ScanError> {
        let index = self.take()?;
        let mut out = String::new();
        for sym in self.symbols(index)? {
            out.push(sym.into_char().map_err(|_| ScanError::custom("bad escape"))?);
        }
        Ok(Str::from_string(out))
    }

    fn scan_charstr_entry(&mut self) -> Result<Vec<u8>, ScanError> {
        let mut out = Vec::new();
        while self.next < self.tokens.len() {
            self.scan_charstr()?.compose(&mut out)?;
        }
        Ok(out)
    }

    fn scan_opt_unknown_marker(&mut self) -> Result<bool, ScanError> {
        match self.tokens.get(self.next) {
            Some(t) if !t.quoted && t.raw == b"\\#" => {
                self.next += 1;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn octets_builder(&mut self) -> Result<Vec<u8>, ScanError> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `domain`'s scanner makes of the tokens (the path the fast one stands in for).
    fn by_domain(form: u16, text: &str, origin: Option<&Name>) -> Option<Vec<u8>> {
        let tokens = tokenize(text).ok()?;
        let mut scanner = TokenScanner::new(&tokens, origin);
        let data = Scanned::scan(Rtype::from_int(form), &mut scanner).ok()?;
        if scanner.next < tokens.len() {
            return None;
        }
        let mut wire = Vec::new();
        data.compose_rdata(&mut wire).ok()?;
        Some(wire)
    }

    /// The fast RRSIG and NSEC readers make what `domain` makes, on generated data in
    /// every form they take (mnemonics and numbers, dates and seconds, relative names,
    /// signatures over several tokens, types in several windows), and step aside (`None`)
    /// rather than differ.
    #[test]
    fn fast_rrsig_and_nsec_reading_is_domains() {
        let origins = [Name::parse("example.com").unwrap(), Name::parse("example.org").unwrap()];
        let mut rng = fastrand::Rng::with_seed(4034);
        // What the RRSIG before had: half of them repeat it (a name, relative ones
        // included, under either origin; a validity period), as a zone's signatures do.
        let mut before: Option<(String, String, String)> = None;
        let types = ["A", "NS", "SOA", "MX", "TXT", "AAAA", "RRSIG", "NSEC", "DNSKEY", "CAA", "TYPE65534", "TYPE1234"];
        let (mut fast, mut corrupted, mut repeated) = (0, 0, 0);
        for round in 0..5000 {
            let origin = &origins[rng.usize(..2)];
            // Plain names, which are written without making a name, and others, which are
            // not (escapes, a wildcard, the root, errors).
            let mut name = match rng.u8(0..8) {
                0 => "host.example.com.".to_owned(),
                1 => format!("h{round}"),
                2 => format!("*.H{round}.Sub"),
                3 => ["a\\.b", "a\\.", "a\\\\."][rng.usize(..3)].to_owned(),
                4 => ".".to_owned(),
                5 => "a..b".to_owned(),
                6 => format!("{}.{round}", "x".repeat(rng.usize(60..66))),
                _ => "@".to_owned(),
            };
            let text = if round % 2 == 0 {
                let algorithm = if rng.bool() { "13".to_owned() } else { "ECDSAP256SHA256".to_owned() };
                let time = |rng: &mut fastrand::Rng| {
                    if rng.bool() {
                        // Invalid dates among them (April 31, February 29 of 2100, hour
                        // 24), and years past 2106 and before 1970.
                        format!(
                            "{:04}{:02}{:02}{:02}{:02}{:02}",
                            rng.u16(1960..2120),
                            rng.u8(1..13),
                            rng.u8(1..32),
                            rng.u8(0..25),
                            rng.u8(0..61),
                            rng.u8(0..61)
                        )
                    } else {
                        rng.u32(..).to_string()
                    }
                };
                let mut signature =
                    data_encoding::BASE64.encode(&(0..rng.usize(1..80)).map(|_| rng.u8(..)).collect::<Vec<_>>());
                // One in four corrupted: a character that is not base64, padding out of
                // place, or a last character whose unused bits are set.
                if rng.u8(..4) == 0 {
                    let at = rng.usize(..signature.len());
                    let by = ["*", "=", "-", "_", "B", "/", "9"][rng.usize(..7)];
                    signature.replace_range(at..=at, by);
                    corrupted += 1;
                }
                let split = rng.usize(0..=signature.len() / 4) * 4;
                let (one, two) = signature.split_at(split);
                let (mut e, mut i) = (time(&mut rng), time(&mut rng));
                if let Some((n, before_e, before_i)) = before.clone().filter(|_| rng.bool()) {
                    (name, e, i) = (n, before_e, before_i);
                    repeated += 1;
                }
                before = Some((name.clone(), e.clone(), i.clone()));
                format!(
                    "{} {algorithm} {} {} {e} {i} {} {name} {one} {two}",
                    types[rng.usize(..types.len())],
                    rng.u8(..),
                    rng.u32(..),
                    rng.u16(..)
                )
            } else {
                let listed: Vec<&str> = (0..rng.usize(0..6)).map(|_| types[rng.usize(..types.len())]).collect();
                format!("{name} {}", listed.join(" "))
            };
            let form = if round % 2 == 0 { 46 } else { 47 };
            let tokens = tokenize(&text).unwrap();
            let theirs = by_domain(form, &text, Some(origin));
            if let Some(ours) = fast_scan(form, &tokens, Some(origin)) {
                fast += 1;
                assert_eq!(Some(ours), theirs, "{text}");
            }
        }
        assert!(fast > 2500, "the fast path took only {fast} of 5000");
        assert!(corrupted > 500, "{corrupted} signatures corrupted");
        assert!(repeated > 1000, "{repeated} RRSIGs repeat the one before");
    }

    /// RRSIG dates reckon as the calendar library reckons them, and invalid ones are not
    /// dates.
    #[test]
    fn signature_times_are_the_calendars() {
        let mut rng = fastrand::Rng::with_seed(1982);
        let mut valid = 0;
        for _ in 0..20_000 {
            let fields =
                [rng.u16(1960..2120), rng.u16(0..14), rng.u16(0..33), rng.u16(0..25), rng.u16(0..61), rng.u16(0..61)];
            let text = format!(
                "{:04}{:02}{:02}{:02}{:02}{:02}",
                fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]
            );
            let date = jiff::civil::DateTime::new(
                fields[0] as i16,
                fields[1] as i8,
                fields[2] as i8,
                fields[3] as i8,
                fields[4] as i8,
                fields[5] as i8,
                0,
            );
            let expected = date
                .ok()
                .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
                .and_then(|z| u32::try_from(z.timestamp().as_second()).ok());
            valid += usize::from(expected.is_some());
            assert_eq!(signature_time(text.as_bytes()), expected, "{text}");
        }
        assert!(valid > 10_000, "{valid}");
        // February 29 of the century years: 2000 is a leap year, 2100 is not.
        assert_eq!(signature_time(b"20000229000000"), Some(951_782_400));
        assert_eq!(signature_time(b"21000229000000"), None);
        assert_eq!(signature_time(b"20240431000000"), None);
        assert_eq!(signature_time(b"1234"), Some(1234));
        assert_eq!(signature_time(b"4294967296"), None);
    }

    fn printed(code: u16, wire: &[u8]) -> Option<String> {
        let mut text = String::new();
        write(code, wire, &mut text)?.ok()?;
        Some(text)
    }

    fn read(code: u16, text: &str) -> Vec<u8> {
        let tokens = tokenize(text).unwrap();
        scan(code, &tokens, None).unwrap().unwrap()
    }

    /// Where `domain`'s own printing is not readable, the token writer repairs it, so the
    /// data keeps its own form rather than falling back to `\#`.
    #[test]
    fn data_domain_prints_unreadably_keeps_its_form() {
        // MB (7) with the name `a(b;c"d.`: zone-file syntax inside a label.
        let wire = b"\x07a(b;c\"d\x00";
        let text = printed(7, wire).expect("printed in MB's own form");
        assert_eq!(text, r#"a\(b\;c\"d."#);
        assert_eq!(read(7, &text), wire);
        // IPSECKEY (45) without a gateway: RFC 4025 writes the gateway as `.`.
        let wire = b"\x0a\x00\x02\x01\x02\x03";
        let text = printed(45, wire).expect("printed in IPSECKEY's own form");
        assert_eq!(text, "10 0 2 . AQID");
        assert_eq!(read(45, &text), wire);
    }

    /// Data no reader could take back in the type's form is written in generic form.
    #[test]
    fn unreadable_data_falls_back_to_generic_form() {
        // NSEC3 with an empty next hashed owner name prints as nothing in its own form.
        assert_eq!(printed(50, b"\x01\x00\x00\x0a\x00\x00"), None);
    }

    #[test]
    fn mnemonics_of_algorithms_and_digests() {
        assert_eq!(algorithm_number("rsasha256"), Some(8));
        assert_eq!(algorithm_number("ED25519"), Some(15));
        assert_eq!(algorithm_number("SHA-256"), None);
        assert_eq!(digest_type_number("sha-384"), Some(4));
    }
}
