//! Record data in wire form (RFC 1035 section 3.3 and each type's RFC), names uncompressed:
//! the one conversion between the model and DNS messages, which the authoritative server
//! and the RFC 2136 gateway hand to hickory-proto's own decoder and take back from its
//! encoder. No presentation text lies in between.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{Caa, RData, RDataError, Soa, Txt};
use crate::name::Name;
use crate::rtype::RecordType;

impl RData {
    /// The data in wire form, names uncompressed; `None` for the `URL` pseudo-type, which
    /// has no place in DNS.
    pub fn to_wire(&self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        self.append_wire(&mut out).then_some(out)
    }

    /// Appends [`RData::to_wire`] to `out`; false (and nothing appended) for `URL`.
    pub(crate) fn append_wire(&self, out: &mut Vec<u8>) -> bool {
        match self {
            RData::A(a) => out.extend_from_slice(&a.octets()),
            RData::Aaaa(a) => out.extend_from_slice(&a.octets()),
            RData::Cname(n) | RData::Ns(n) | RData::Ptr(n) => n.write_wire(out),
            RData::Mx { preference, exchange } => {
                out.extend_from_slice(&preference.to_be_bytes());
                exchange.write_wire(out);
            }
            RData::Txt(txt) => out.extend_from_slice(&txt.0),
            RData::Srv { priority, weight, port, target } => {
                for n in [priority, weight, port] {
                    out.extend_from_slice(&n.to_be_bytes());
                }
                target.write_wire(out);
            }
            // RFC 8659 section 4.1: flags, tag length, tag, value.
            RData::Caa(caa) => {
                out.push(caa.flags);
                out.push(caa.tag.len() as u8);
                out.extend_from_slice(caa.tag.as_bytes());
                out.extend_from_slice(&caa.value);
            }
            RData::Sshfp { algorithm, fp_type, fingerprint } => {
                out.extend_from_slice(&[*algorithm, *fp_type]);
                out.extend_from_slice(fingerprint);
            }
            RData::Tlsa { usage, selector, matching_type, data } => {
                out.extend_from_slice(&[*usage, *selector, *matching_type]);
                out.extend_from_slice(data);
            }
            RData::Ds { key_tag, algorithm, digest_type, digest } => {
                out.extend_from_slice(&key_tag.to_be_bytes());
                out.extend_from_slice(&[*algorithm, *digest_type]);
                out.extend_from_slice(digest);
            }
            RData::Soa(soa) => {
                soa.mname.write_wire(out);
                soa.rname.write_wire(out);
                for n in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] {
                    out.extend_from_slice(&n.to_be_bytes());
                }
            }
            RData::Url { .. } => return false,
            RData::Unknown { data, .. } => out.extend_from_slice(data),
        }
        true
    }

    /// Data of type `rtype` from its wire form (names uncompressed): typed for the types
    /// the model has, [`RData::Unknown`] for the others. Trailing octets, truncated data and
    /// names that are not names are errors.
    pub fn from_wire(rtype: RecordType, wire: &[u8]) -> Result<RData, RDataError> {
        let mut r = Reader { wire, at: 0, rtype };
        let data = match rtype {
            RecordType::A => RData::A(Ipv4Addr::from(r.array::<4>()?)),
            RecordType::Aaaa => RData::Aaaa(Ipv6Addr::from(r.array::<16>()?)),
            RecordType::Cname => RData::Cname(r.name()?),
            RecordType::Ns => RData::Ns(r.name()?),
            RecordType::Ptr => RData::Ptr(r.name()?),
            RecordType::Mx => RData::Mx { preference: r.u16()?, exchange: r.name()? },
            RecordType::Txt => {
                // Character-strings, each a length and that many octets, at least one.
                let mut strings = Vec::new();
                while !r.done() {
                    let len = usize::from(r.array::<1>()?[0]);
                    strings.push(r.take(len)?.to_vec());
                }
                if strings.is_empty() {
                    return Err(r.error("no character-string"));
                }
                RData::Txt(Txt::from_strings(strings))
            }
            RecordType::Srv => RData::Srv { priority: r.u16()?, weight: r.u16()?, port: r.u16()?, target: r.name()? },
            RecordType::Caa => {
                let [flags, tag_len] = r.array::<2>()?;
                let tag = r.take(usize::from(tag_len))?;
                if tag.is_empty() || !tag.iter().all(u8::is_ascii_alphanumeric) {
                    return Err(r.error("a CAA tag is 1 to 255 letters and digits"));
                }
                let tag = std::str::from_utf8(tag).expect("ASCII").to_ascii_lowercase().into_boxed_str();
                RData::Caa(Box::new(Caa { flags, tag, value: r.rest().into() }))
            }
            RecordType::Sshfp => {
                let [algorithm, fp_type] = r.array::<2>()?;
                RData::Sshfp { algorithm, fp_type, fingerprint: r.rest().into() }
            }
            RecordType::Tlsa => {
                let [usage, selector, matching_type] = r.array::<3>()?;
                RData::Tlsa { usage, selector, matching_type, data: r.rest().into() }
            }
            RecordType::Ds => {
                let key_tag = r.u16()?;
                let [algorithm, digest_type] = r.array::<2>()?;
                RData::Ds { key_tag, algorithm, digest_type, digest: r.rest().into() }
            }
            RecordType::Soa => RData::Soa(Box::new(Soa {
                mname: r.name()?,
                rname: r.name()?,
                serial: r.u32()?,
                refresh: r.u32()?,
                retry: r.u32()?,
                expire: r.u32()?,
                minimum: r.u32()?,
            })),
            RecordType::Url => return Err(r.error("URL is zonectl's own pseudo-type, with no wire form")),
            other => {
                let code = other.code().ok_or_else(|| r.error("a type without a code"))?;
                RData::Unknown { rtype: code, data: r.rest().into() }
            }
        };
        if !r.done() {
            return Err(r.error("octets after the data"));
        }
        Ok(data)
    }
}

impl Name {
    /// Appends the name in wire form: each label's length and octets (escapes decoded),
    /// then the root's zero.
    pub fn write_wire(&self, out: &mut Vec<u8>) {
        for label in self.labels() {
            let at = out.len();
            out.push(0);
            let bytes = label.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'\\' {
                    let (octet, used) = crate::name::unescape(&bytes[i + 1..]).unwrap_or((b'\\', 0));
                    out.push(octet);
                    i += 1 + used;
                } else {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
            out[at] = (out.len() - at - 1) as u8;
        }
        out.push(0);
    }
}

/// Reads wire data front to back.
struct Reader<'a> {
    wire: &'a [u8],
    at: usize,
    rtype: RecordType,
}

impl<'a> Reader<'a> {
    fn error(&self, what: &str) -> RDataError {
        RDataError(format!("{} data in wire form: {what}", self.rtype))
    }

    fn done(&self) -> bool {
        self.at == self.wire.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], RDataError> {
        let end =
            self.at.checked_add(n).filter(|&end| end <= self.wire.len()).ok_or_else(|| self.error("too short"))?;
        let bytes = &self.wire[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], RDataError> {
        Ok(self.take(N)?.try_into().expect("N octets"))
    }

    fn u16(&mut self) -> Result<u16, RDataError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, RDataError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn rest(&mut self) -> &'a [u8] {
        let rest = &self.wire[self.at..];
        self.at = self.wire.len();
        rest
    }

    /// An uncompressed name, its labels turned into presentation form (octets that cannot
    /// stand bare escaped) and read as any name is.
    fn name(&mut self) -> Result<Name, RDataError> {
        let mut text = String::new();
        loop {
            let len = usize::from(self.array::<1>()?[0]);
            if len == 0 {
                break;
            }
            if len > 63 {
                return Err(self.error("a compressed or over-long label"));
            }
            for &b in self.take(len)? {
                match b {
                    b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
                        text.push('\\');
                        text.push(b as char);
                    }
                    0x21..=0x7e => text.push(b as char),
                    _ => text.push_str(&format!("\\{b:03}")),
                }
            }
            text.push('.');
        }
        if text.is_empty() {
            return Ok(Name::root());
        }
        Name::parse(&text).map_err(|e| self.error(&e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(rtype: RecordType, text: &str) {
        let data = RData::parse(rtype, text, None).unwrap();
        let wire = data.to_wire().unwrap();
        assert_eq!(RData::from_wire(rtype, &wire).unwrap(), data, "{rtype} {text}");
    }

    #[test]
    fn every_modeled_type_goes_to_wire_and_back() {
        for (rtype, text) in [
            (RecordType::A, "192.0.2.1"),
            (RecordType::Aaaa, "2001:db8::1"),
            (RecordType::Cname, "www.example.com."),
            (RecordType::Ns, "ns\\.1.example.com."),
            (RecordType::Ptr, "host\\032with\\032space.example.com."),
            (RecordType::Mx, "0 ."),
            (RecordType::Txt, "\"a\" \"\" \"b\\\"c\\\\\" \"caf\u{e9}\""),
            (RecordType::Srv, "10 20 5060 sip.example.com."),
            (RecordType::Caa, "128 issue \"letsencrypt.org; validationmethods=dns-01\""),
            (RecordType::Sshfp, "4 2 0123456789abcdef"),
            (RecordType::Tlsa, "3 1 1 0123456789abcdef"),
            (RecordType::Ds, "60485 5 1 2bb183af5f22588179a53b0a98631fad1a292118"),
            (RecordType::Soa, "ns1.example.com. hostmaster.example.com. 2026120601 7200 900 1209600 300"),
            (RecordType::from_code(65534), "\\# 3 abcdef"),
        ] {
            round_trip(rtype, text);
        }
    }

    #[test]
    fn names_are_written_as_rfc_1035_says() {
        let mut out = Vec::new();
        Name::parse("a.bc.").unwrap().write_wire(&mut out);
        assert_eq!(out, b"\x01a\x02bc\x00");
        let mut root = Vec::new();
        Name::root().write_wire(&mut root);
        assert_eq!(root, [0]);
        // An escaped dot is one octet of a label.
        let mut escaped = Vec::new();
        Name::parse("a\\.b.c.").unwrap().write_wire(&mut escaped);
        assert_eq!(escaped, b"\x03a.b\x01c\x00");
    }

    #[test]
    fn bad_wire_data_is_refused() {
        assert!(RData::from_wire(RecordType::A, &[192, 0, 2]).is_err());
        assert!(RData::from_wire(RecordType::A, &[192, 0, 2, 1, 0]).is_err(), "trailing octets");
        assert!(RData::from_wire(RecordType::Cname, &[0xc0, 0x0c]).is_err(), "compression");
        assert!(RData::from_wire(RecordType::Txt, &[]).is_err());
        assert!(RData::from_wire(RecordType::Txt, &[5, b'a']).is_err(), "a string longer than what is left");
        assert!(RData::from_wire(RecordType::Caa, &[0, 0]).is_err(), "an empty tag");
        assert!(RData::Url { kind: super::super::Forward::Permanent, target: "https://x/".into() }.to_wire().is_none());
    }
}
