//! Record types.

use std::fmt;
use std::str::FromStr;

/// A record type. The types zonectl models with typed data have their own variant; every
/// other type is `Other` with its IANA code, so that nothing read is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RecordType {
    /// IPv4 address.
    A,
    /// IPv6 address.
    Aaaa,
    /// Canonical name.
    Cname,
    /// Name server.
    Ns,
    /// Mail exchange.
    Mx,
    /// Text.
    Txt,
    /// Service location.
    Srv,
    /// Certification authority authorization.
    Caa,
    /// SSH key fingerprint.
    Sshfp,
    /// TLS certificate association (DANE).
    Tlsa,
    /// Delegation signer.
    Ds,
    /// Pointer.
    Ptr,
    /// Start of authority.
    Soa,
    /// HTTP redirect, a provider feature rather than a DNS type (ZoneID URL records,
    /// Domeneshop forwards). It has no IANA code.
    Url,
    /// Any other type, by IANA code, carried in RFC 3597 generic form.
    Other(u16),
}

/// Why a text is not a record type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown record type '{0}'")]
pub struct UnknownRecordType(pub String);

/// Mnemonics of the IANA-registered data types that have no typed variant (IANA "Resource
/// Record (RR) TYPEs", 2025; meta-types and query types are left out: they are never data).
/// Their data is read and shown in the type's own form where `domain` knows it.
const OTHER_MNEMONICS: &[(&str, u16)] = &[
    ("MD", 3),
    ("MF", 4),
    ("MB", 7),
    ("MG", 8),
    ("MR", 9),
    ("NULL", 10),
    ("WKS", 11),
    ("HINFO", 13),
    ("MINFO", 14),
    ("RP", 17),
    ("AFSDB", 18),
    ("X25", 19),
    ("ISDN", 20),
    ("RT", 21),
    ("NSAP", 22),
    ("NSAP-PTR", 23),
    ("SIG", 24),
    ("KEY", 25),
    ("PX", 26),
    ("GPOS", 27),
    ("LOC", 29),
    ("NXT", 30),
    ("EID", 31),
    ("NIMLOC", 32),
    ("ATMA", 34),
    ("NAPTR", 35),
    ("KX", 36),
    ("CERT", 37),
    ("A6", 38),
    ("DNAME", 39),
    ("SINK", 40),
    ("APL", 42),
    ("IPSECKEY", 45),
    ("RRSIG", 46),
    ("NSEC", 47),
    ("DNSKEY", 48),
    ("DHCID", 49),
    ("NSEC3", 50),
    ("NSEC3PARAM", 51),
    ("SMIMEA", 53),
    ("HIP", 55),
    ("NINFO", 56),
    ("RKEY", 57),
    ("TALINK", 58),
    ("CDS", 59),
    ("CDNSKEY", 60),
    ("OPENPGPKEY", 61),
    ("CSYNC", 62),
    ("ZONEMD", 63),
    ("SVCB", 64),
    ("HTTPS", 65),
    ("DSYNC", 66),
    ("HHIT", 67),
    ("BRID", 68),
    ("SPF", 99),
    ("UINFO", 100),
    ("UID", 101),
    ("GID", 102),
    ("UNSPEC", 103),
    ("NID", 104),
    ("L32", 105),
    ("L64", 106),
    ("LP", 107),
    ("EUI48", 108),
    ("EUI64", 109),
    ("URI", 256),
    ("AVC", 258),
    ("DOA", 259),
    ("AMTRELAY", 260),
    ("RESINFO", 261),
    ("WALLET", 262),
    ("CLA", 263),
    ("IPN", 264),
    ("TA", 32768),
    ("DLV", 32769),
];

impl RecordType {
    /// Every type with a typed variant, in the order zone files list them.
    pub const MODELED: [RecordType; 14] = [
        RecordType::Soa,
        RecordType::Ns,
        RecordType::A,
        RecordType::Cname,
        RecordType::Ptr,
        RecordType::Mx,
        RecordType::Txt,
        RecordType::Aaaa,
        RecordType::Srv,
        RecordType::Ds,
        RecordType::Sshfp,
        RecordType::Tlsa,
        RecordType::Caa,
        RecordType::Url,
    ];

    /// The IANA code; `None` for the `URL` pseudo-type.
    pub const fn code(self) -> Option<u16> {
        Some(match self {
            RecordType::A => 1,
            RecordType::Ns => 2,
            RecordType::Cname => 5,
            RecordType::Soa => 6,
            RecordType::Ptr => 12,
            RecordType::Mx => 15,
            RecordType::Txt => 16,
            RecordType::Aaaa => 28,
            RecordType::Srv => 33,
            RecordType::Ds => 43,
            RecordType::Sshfp => 44,
            RecordType::Tlsa => 52,
            RecordType::Caa => 257,
            RecordType::Url => return None,
            RecordType::Other(code) => code,
        })
    }

    /// The type for an IANA code (a modeled variant where there is one).
    ///
    /// A match rather than a search of [`RecordType::MODELED`]: every RRSIG and NSEC is
    /// asked its type this way, and the search was 3% of checking a signed zone.
    pub fn from_code(code: u16) -> RecordType {
        match code {
            1 => RecordType::A,
            2 => RecordType::Ns,
            5 => RecordType::Cname,
            6 => RecordType::Soa,
            12 => RecordType::Ptr,
            15 => RecordType::Mx,
            16 => RecordType::Txt,
            28 => RecordType::Aaaa,
            33 => RecordType::Srv,
            43 => RecordType::Ds,
            44 => RecordType::Sshfp,
            52 => RecordType::Tlsa,
            257 => RecordType::Caa,
            _ => RecordType::Other(code),
        }
    }

    /// The mnemonic (`AAAA`), or `TYPEnnn` for a type without one.
    pub fn mnemonic(self) -> std::borrow::Cow<'static, str> {
        use std::borrow::Cow;
        Cow::Borrowed(match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Cname => "CNAME",
            RecordType::Ns => "NS",
            RecordType::Mx => "MX",
            RecordType::Txt => "TXT",
            RecordType::Srv => "SRV",
            RecordType::Caa => "CAA",
            RecordType::Sshfp => "SSHFP",
            RecordType::Tlsa => "TLSA",
            RecordType::Ds => "DS",
            RecordType::Ptr => "PTR",
            RecordType::Soa => "SOA",
            RecordType::Url => "URL",
            RecordType::Other(code) => match OTHER_MNEMONICS.iter().find(|(_, c)| *c == code) {
                Some((name, _)) => name,
                None => return Cow::Owned(format!("TYPE{code}")),
            },
        })
    }

    /// Whether the code is a meta-type or query type (RFC 6895 section 3.1: 0, OPT, and
    /// 128 to 255, such as AXFR and ANY), which can never be record data in a zone.
    pub fn is_meta(self) -> bool {
        matches!(self.code(), Some(0 | 41 | 128..=255))
    }

    /// Whether data of this type is read and written in the type's own presentation form
    /// (every typed variant, and the registered types `domain` knows); the others are read
    /// only in RFC 3597 generic form.
    pub fn has_presentation_form(self) -> bool {
        match self {
            RecordType::Other(code) => crate::rdata::has_form(code),
            _ => true,
        }
    }

    /// Whether the type may stand beside a CNAME: the DNSSEC types that sign and deny it —
    /// RRSIG and NSEC (RFC 4035 section 2.5: "If a CNAME RRset is present at a name in a
    /// signed zone, appropriate RRSIG and NSEC RRsets are REQUIRED at that name"), and their
    /// forerunners SIG, NXT and KEY (RFC 2181 section 10.1).
    pub fn may_accompany_cname(self) -> bool {
        matches!(self, RecordType::Other(46 | 47 | 24 | 30 | 25))
    }

    /// Whether the type has typed data in the model (`Other` types do not).
    pub fn is_modeled(self) -> bool {
        !matches!(self, RecordType::Other(_))
    }

    /// The position of this type in a zone file: SOA, then NS, then by IANA code, `URL` last.
    pub(crate) const fn sort_key(self) -> u32 {
        match (self, self.code()) {
            (RecordType::Soa, _) => 0,
            (RecordType::Ns, _) => 1,
            (_, Some(code)) => 2 + code as u32,
            (_, None) => u32::MAX,
        }
    }

    /// The common types written in upper case, `None` for any other text (which
    /// [`RecordType::parse_bytes`] then reads the long way).
    fn upper_case_word(text: &[u8]) -> Option<RecordType> {
        /// The text's length, then its bytes, as one integer (a text of 1 to 7 bytes).
        const fn word(text: &[u8]) -> u64 {
            let mut word = text.len() as u64;
            let mut i = 0;
            while i < text.len() {
                word |= (text[i] as u64) << (8 * (i + 1));
                i += 1;
            }
            word
        }
        if text.is_empty() || text.len() > 7 {
            return None;
        }
        const A: u64 = word(b"A");
        const AAAA: u64 = word(b"AAAA");
        const CNAME: u64 = word(b"CNAME");
        const TXT: u64 = word(b"TXT");
        const MX: u64 = word(b"MX");
        const NS: u64 = word(b"NS");
        const SRV: u64 = word(b"SRV");
        const CAA: u64 = word(b"CAA");
        const SSHFP: u64 = word(b"SSHFP");
        const TLSA: u64 = word(b"TLSA");
        const DS: u64 = word(b"DS");
        const PTR: u64 = word(b"PTR");
        const SOA: u64 = word(b"SOA");
        const URL: u64 = word(b"URL");
        // A signed zone is mostly these.
        const RRSIG: u64 = word(b"RRSIG");
        const NSEC: u64 = word(b"NSEC");
        const DNSKEY: u64 = word(b"DNSKEY");
        const NSEC3: u64 = word(b"NSEC3");
        // The same `word` as the constants' (byte by byte: a copy of a slice of unknown
        // length into an array is a call to `memcpy`).
        Some(match word(text) {
            A => RecordType::A,
            AAAA => RecordType::Aaaa,
            CNAME => RecordType::Cname,
            TXT => RecordType::Txt,
            MX => RecordType::Mx,
            NS => RecordType::Ns,
            SRV => RecordType::Srv,
            CAA => RecordType::Caa,
            SSHFP => RecordType::Sshfp,
            TLSA => RecordType::Tlsa,
            DS => RecordType::Ds,
            PTR => RecordType::Ptr,
            SOA => RecordType::Soa,
            URL => RecordType::Url,
            RRSIG => RecordType::Other(46),
            NSEC => RecordType::Other(47),
            DNSKEY => RecordType::Other(48),
            NSEC3 => RecordType::Other(50),
            _ => return None,
        })
    }

    /// Parses a mnemonic (case-insensitive) or `TYPEnnn`, from bytes.
    pub(crate) fn parse_bytes(text: &[u8]) -> Option<RecordType> {
        // Zone files almost always write types in upper case: those of up to 7 letters are
        // read as one integer and matched at once. (A match of byte strings compared them
        // one `memcmp` at a time, and the types it did not list were copied, upper-cased
        // and matched again: with the types of each NSEC, 2.8% of checking a signed zone.)
        if let Some(rtype) = Self::upper_case_word(text) {
            return Some(rtype);
        }
        let number = text.strip_prefix(b"TYPE").filter(|code| (1..=5).contains(&code.len()));
        if let Some(code) = number.filter(|code| code.iter().all(u8::is_ascii_digit)) {
            let code = code.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
            return u16::try_from(code).ok().map(RecordType::from_code);
        }
        let mut buf = [0u8; 12];
        if text.is_empty() || text.len() > buf.len() {
            return None;
        }
        buf[..text.len()].copy_from_slice(text);
        let upper = &mut buf[..text.len()];
        upper.make_ascii_uppercase();
        Some(match &*upper {
            b"A" => RecordType::A,
            b"AAAA" => RecordType::Aaaa,
            b"CNAME" => RecordType::Cname,
            b"NS" => RecordType::Ns,
            b"MX" => RecordType::Mx,
            b"TXT" => RecordType::Txt,
            b"SRV" => RecordType::Srv,
            b"CAA" => RecordType::Caa,
            b"SSHFP" => RecordType::Sshfp,
            b"TLSA" => RecordType::Tlsa,
            b"DS" => RecordType::Ds,
            b"PTR" => RecordType::Ptr,
            b"SOA" => RecordType::Soa,
            b"URL" => RecordType::Url,
            other => {
                if let Some(code) = other.strip_prefix(b"TYPE") {
                    let code = std::str::from_utf8(code).ok()?;
                    if code.starts_with('+') {
                        return None;
                    }
                    return code.parse::<u16>().ok().map(RecordType::from_code);
                }
                // A map, not a walk through ~90 mnemonics: the reader asks of tokens that
                // are not types too.
                static BY_NAME: std::sync::OnceLock<foldhash::HashMap<&'static [u8], u16>> = std::sync::OnceLock::new();
                let by_name = BY_NAME
                    .get_or_init(|| OTHER_MNEMONICS.iter().map(|&(name, code)| (name.as_bytes(), code)).collect());
                RecordType::Other(*by_name.get(other)?)
            }
        })
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.mnemonic())
    }
}

impl FromStr for RecordType {
    type Err = UnknownRecordType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RecordType::parse_bytes(s.as_bytes()).ok_or_else(|| UnknownRecordType(s.to_owned()))
    }
}

impl PartialOrd for RecordType {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RecordType {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

impl serde::Serialize for RecordType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.mnemonic())
    }
}

impl<'de> serde::Deserialize<'de> for RecordType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code gives the modeled type whose code it is, and only codes without one give
    /// `Other`.
    #[test]
    fn from_code_is_the_modeled_types_code() {
        for code in 0..=u16::MAX {
            let modeled = RecordType::MODELED.into_iter().find(|t| t.code() == Some(code));
            assert_eq!(RecordType::from_code(code), modeled.unwrap_or(RecordType::Other(code)), "{code}");
        }
    }

    #[test]
    fn mnemonics_round_trip() {
        for t in RecordType::MODELED {
            assert_eq!(t.mnemonic().parse::<RecordType>().unwrap(), t);
        }
        assert_eq!("aaaa".parse::<RecordType>().unwrap(), RecordType::Aaaa);
        assert_eq!("TYPE1".parse::<RecordType>().unwrap(), RecordType::A);
        assert_eq!("TYPE65534".parse::<RecordType>().unwrap(), RecordType::Other(65534));
        assert_eq!(RecordType::Other(65534).to_string(), "TYPE65534");
        assert_eq!("https".parse::<RecordType>().unwrap(), RecordType::Other(65));
        assert_eq!(RecordType::Other(65).to_string(), "HTTPS");
        assert!("FOO".parse::<RecordType>().is_err());
        assert!("TYPE70000".parse::<RecordType>().is_err());
    }

    /// Every type's mnemonic reads as the type in any case, and so do `TYPEnnn` forms
    /// (with leading zeros too), whichever way the reader takes; other words are no types.
    #[test]
    fn every_type_reads_in_any_case_and_as_its_number() {
        let mut rng = fastrand::Rng::with_seed(3597);
        for code in 0..=u16::MAX {
            let rtype = RecordType::from_code(code);
            let mnemonic = rtype.mnemonic();
            let mixed: String = mnemonic.chars().map(|c| if rng.bool() { c.to_ascii_lowercase() } else { c }).collect();
            for text in [mnemonic.to_string(), mnemonic.to_ascii_lowercase(), mixed] {
                assert_eq!(RecordType::parse_bytes(text.as_bytes()), Some(rtype), "{text}");
            }
            for text in [format!("TYPE{code}"), format!("type{code}"), format!("TYPE{code:05}"), format!("TYPE0{code}")]
            {
                assert_eq!(RecordType::parse_bytes(text.as_bytes()), Some(rtype), "{text}");
            }
        }
        for text in
            ["", "A\0", "AAAAA", "NSE", "TYPE", "TYPE65536", "TYPE+1", "TYPE-1", "TYPE1a", "IN", "3600", "\\065"]
        {
            assert_eq!(RecordType::parse_bytes(text.as_bytes()), None, "{text:?}");
        }
    }

    #[test]
    fn zone_file_order() {
        let mut types = vec![RecordType::Txt, RecordType::A, RecordType::Url, RecordType::Ns, RecordType::Soa];
        types.sort();
        assert_eq!(types, [RecordType::Soa, RecordType::Ns, RecordType::A, RecordType::Txt, RecordType::Url]);
    }
}
