//! Domain names.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// An absolute domain name: lower-case ASCII (IDNA A-labels), in presentation form with the
/// trailing dot (`www.example.com.`; the root is `.`).
///
/// A `Name` is validated once, when it is made: labels are 1 to 63 octets, the whole name at
/// most 253 octets written without its trailing dot (255 on the wire), `_` and `*` are
/// allowed anywhere; only `*` as the whole leftmost label is a wildcard (RFC 4592: `a.*.b`
/// is an ordinary name, as BIND and Knot read it). Octets that cannot stand
/// bare in a zone file are kept escaped (`\.`, `\032`) so that the stored text is always a
/// valid, canonical presentation form.
///
/// `Ord` is the canonical DNS order of RFC 4034 section 6.1: names are compared label by
/// label from the root, so a zone sorts with its apex first and every name next to its
/// parent.
///
/// Memory: the text is shared, behind one pointer (`arcstr`: its length and a count sit
/// with the text), so a clone is a count, and the records of one name (a zone file's
/// lines of one owner, a plan's sets) hold one copy. Each record holding its own copy in a
/// `Box<str>` (16 bytes, and the text) was a third of the records' memory in a signed zone,
/// whose names have 3-4 records each: checking one of 334k records took 85 MB, and takes
/// 73.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Name(arcstr::ArcStr);

/// Why a text is not a valid domain name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The text is empty.
    #[error("empty name")]
    Empty,
    /// Two dots in a row, or a leading dot.
    #[error("empty label in '{0}'")]
    EmptyLabel(String),
    /// A label is longer than 63 octets.
    #[error("label longer than 63 octets in '{0}'")]
    LabelTooLong(String),
    /// The name is longer than 253 octets.
    #[error("name longer than 253 octets: '{0}'")]
    TooLong(String),
    /// A `\` escape is malformed (`\DDD` above 255, or a `\` at the end).
    #[error("bad escape in '{0}'")]
    BadEscape(String),
    /// The Unicode name cannot be converted to IDNA A-labels.
    #[error("invalid international name '{0}'")]
    Idna(String),
    /// A relative name was given where no origin is known.
    #[error("relative name '{0}' with no origin")]
    Relative(String),
}

/// Octets that stand for themselves in a name (upper case is lowered).
const PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'/';
        b += 1;
    }
    t
};

/// Longest name in octets, written without the trailing dot (255 on the wire).
const MAX_NAME: usize = 253;
/// Longest label in octets.
const MAX_LABEL: usize = 63;

/// A plain name, which [`Name::parse_plain`] and [`Name::write_plain_wire`] take the short
/// way: letters, digits, `-`, `_`, `/` and dots, an optional leading `*` label, labels of 1
/// to 63 octets, not too long with its origin. Returns the text without its trailing dot,
/// and the origin it is relative to (`None` when it is absolute, or the origin is the
/// root or unknown); `None` for any other text.
fn plain_parts<'t, 'o>(text: &'t [u8], origin: Option<&'o Name>) -> Option<(&'t [u8], Option<&'o Name>)> {
    let absolute = text.last() == Some(&b'.');
    let body = if absolute { &text[..text.len() - 1] } else { text };
    let rest = body.strip_prefix(b"*.").unwrap_or(body);
    let mut label = 0usize;
    for &b in rest {
        if b == b'.' {
            if label == 0 {
                return None;
            }
            label = 0;
        } else if PLAIN[b as usize] {
            label += 1;
            if label > MAX_LABEL {
                return None;
            }
        } else {
            return None;
        }
    }
    if label == 0 {
        return None;
    }
    let suffix = match (absolute, origin) {
        (false, Some(origin)) if !origin.is_root() => Some(origin),
        _ => None,
    };
    (body.len() + suffix.map_or(0, |o| o.as_str().len()) <= MAX_NAME).then_some((body, suffix))
}

impl Name {
    /// The root name, `.`.
    pub fn root() -> Name {
        Name(arcstr::literal!("."))
    }

    /// Parses an absolute name. A trailing dot is optional: the input is always taken as
    /// absolute. Unicode input is converted to A-labels; ASCII is lower-cased.
    pub fn parse(text: &str) -> Result<Name, NameError> {
        Self::parse_bytes(text.as_bytes(), None)
    }

    /// Parses a name as a zone file does: `@` is the origin, a name ending in an unescaped
    /// dot is absolute, any other is relative to `origin`.
    pub fn parse_relative(text: &str, origin: &Name) -> Result<Name, NameError> {
        Self::parse_bytes(text.as_bytes(), Some(origin))
    }

    /// Parses presentation-form bytes, resolving relative names against `origin`
    /// (`None`: every name is absolute).
    pub(crate) fn parse_bytes(text: &[u8], origin: Option<&Name>) -> Result<Name, NameError> {
        if text.is_empty() {
            return Err(NameError::Empty);
        }
        if text == b"@" {
            return origin.cloned().ok_or_else(|| NameError::Relative("@".into()));
        }
        if text == b"." {
            return Ok(Name::root());
        }
        if !text.is_ascii() {
            let unicode =
                std::str::from_utf8(text).map_err(|_| NameError::Idna(String::from_utf8_lossy(text).into_owned()))?;
            let ascii = idna::domain_to_ascii_cow(unicode.as_bytes(), idna::AsciiDenyList::EMPTY)
                .map_err(|_| NameError::Idna(unicode.to_owned()))?;
            // The conversion keeps a trailing dot, so absoluteness is unchanged.
            return Self::parse_ascii(ascii.as_bytes(), origin, text);
        }
        Self::parse_ascii(text, origin, text)
    }

    fn parse_ascii(text: &[u8], origin: Option<&Name>, shown: &[u8]) -> Result<Name, NameError> {
        if let Some(name) = Self::parse_plain(text, origin) {
            return Ok(name);
        }
        let lossy = || String::from_utf8_lossy(shown).into_owned();
        let absolute = ends_with_unescaped_dot(text);
        let suffix: &str = match (absolute, origin) {
            (true, _) => "",
            (false, None) => ".",
            (false, Some(origin)) if origin.is_root() => ".",
            (false, Some(origin)) => origin.as_str(),
        };
        let body = if absolute { &text[..text.len() - 1] } else { text };
        let mut out = String::with_capacity(body.len() + 1 + suffix.len());
        // Octets of the name so far, counted without escapes and without the trailing dot.
        let mut octets = 0usize;
        let mut label_len = 0usize;
        let mut i = 0;
        while i < body.len() {
            let b = body[i];
            i += 1;
            let octet = match b {
                b'.' => {
                    if label_len == 0 {
                        return Err(NameError::EmptyLabel(lossy()));
                    }
                    out.push('.');
                    octets += 1;
                    label_len = 0;
                    continue;
                }
                b'\\' => {
                    let (octet, used) = unescape(&body[i..]).ok_or_else(|| NameError::BadEscape(lossy()))?;
                    i += used;
                    push_escaped_octet(&mut out, octet);
                    label_len += 1;
                    octets += 1;
                    if label_len > MAX_LABEL {
                        return Err(NameError::LabelTooLong(lossy()));
                    }
                    continue;
                }
                b => b.to_ascii_lowercase(),
            };
            push_octet(&mut out, octet);
            label_len += 1;
            octets += 1;
            if label_len > MAX_LABEL {
                return Err(NameError::LabelTooLong(lossy()));
            }
        }
        if label_len == 0 {
            return Err(NameError::EmptyLabel(lossy()));
        }
        if suffix.len() > 1 {
            // A relative name: the origin's labels follow. The origin itself is valid, so only
            // the total length needs checking.
            out.push('.');
            out.push_str(suffix);
            octets += 1 + origin.map_or(0, |o| o.octets());
        } else {
            out.push('.');
        }
        if octets > MAX_NAME {
            return Err(NameError::TooLong(lossy()));
        }
        Ok(Name(out.as_str().into()))
    }

    /// The common case, copied in one piece (see [`plain_parts`]). `None` sends anything
    /// else, errors included, to the general parser.
    fn parse_plain(text: &[u8], origin: Option<&Name>) -> Option<Name> {
        let (body, suffix) = plain_parts(text, origin)?;
        let suffix = suffix.map_or("", Name::as_str);
        let len = body.len() + 1 + suffix.len();
        // Every byte was checked to be ASCII; copied whole and lower-cased in place (a char
        // at a time was a third of this function).
        let name = arcstr::ArcStr::init_with(len, |out| {
            out[..body.len()].copy_from_slice(body);
            out[..body.len()].make_ascii_lowercase();
            out[body.len()] = b'.';
            out[body.len() + 1..].copy_from_slice(suffix.as_bytes());
        });
        name.ok().map(Name)
    }

    /// Whether `text` reads as this name ([`Name::parse_bytes`] with `origin`), found
    /// without parsing it, for text without escapes; `false` for any other. Zone files
    /// repeat a name for each of its records, and a name read again is the one before,
    /// shared (see [`Name`]'s note on memory) instead of made anew.
    pub(crate) fn is_read_from(&self, text: &[u8], origin: Option<&Name>) -> bool {
        let absolute = text.last() == Some(&b'.');
        let body = if absolute { &text[..text.len() - 1] } else { text };
        // `@` is the origin, and an escape may spell an octet another way.
        if body.is_empty() || text == b"@" || memchr::memchr(b'\\', body).is_some() {
            return false;
        }
        let suffix = match (absolute, origin) {
            (false, Some(origin)) if !origin.is_root() => origin.as_str().as_bytes(),
            _ => b"",
        };
        let name = self.0.as_bytes();
        name.len() == body.len() + 1 + suffix.len()
            && name[body.len()] == b'.'
            && name[..body.len()].eq_ignore_ascii_case(body)
            && &name[body.len() + 1..] == suffix
    }

    /// Whether the two hold one copy of their text (see [`Name`] on memory).
    #[cfg(test)]
    pub(crate) fn shares_text_with(&self, other: &Name) -> bool {
        arcstr::ArcStr::ptr_eq(&self.0, &other.0)
    }

    /// Writes the wire form of the name `text` reads as ([`Name::parse_bytes`], then
    /// [`Name::write_wire`]) without making the name, for `@` and the plain names of
    /// [`plain_parts`]; `None`, with `out` untouched, for any other text (errors included),
    /// which the caller then reads the long way. The signer of every RRSIG and the next
    /// name of every NSEC take this way: making a name of each (an allocation, UTF-8
    /// validation and a copy) only to write its wire form and drop it was a tenth of
    /// reading a signed zone.
    pub(crate) fn write_plain_wire(text: &[u8], origin: Option<&Name>, out: &mut Vec<u8>) -> Option<()> {
        if text == b"@" {
            origin?.write_wire(out);
            return Some(());
        }
        let (body, suffix) = plain_parts(text, origin)?;
        for label in body.split(|&b| b == b'.') {
            out.push(label.len() as u8);
            out.extend(label.iter().map(u8::to_ascii_lowercase));
        }
        match suffix {
            Some(origin) => origin.write_wire(out),
            None => out.push(0),
        }
        Some(())
    }

    /// The presentation form, with the trailing dot.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the root name.
    pub fn is_root(&self) -> bool {
        &*self.0 == "."
    }

    /// Bytes whose plain byte order is the canonical order of the names (RFC 4034 section
    /// 6.1): the labels from the root, octets decoded, each label ended by 0x00, with the
    /// octets 0x00 and 0x01 written as 0x01 0x01 and 0x01 0x02 so that the end of a label
    /// sorts before any octet. Computed once per name, it lets a large unsorted zone be
    /// sorted by `memcmp` instead of comparing labels from the right at every step.
    pub fn canonical_key(&self) -> Box<[u8]> {
        let mut key = Vec::with_capacity(self.0.len() + 2);
        self.write_canonical_key(&mut key);
        key.into_boxed_slice()
    }

    /// Appends [`Name::canonical_key`] to `key`, without allocating when `key` has room:
    /// a million names' keys fit in one buffer.
    pub fn write_canonical_key(&self, key: &mut Vec<u8>) {
        let body = if &*self.0 == "." { "" } else { &self.0[..self.0.len() - 1] };
        Self::write_labels_key(body, key);
    }

    /// The part of [`Name::write_canonical_key`] after `origin`'s: the key of this name's
    /// labels below `origin` (none for the origin itself), for a name at or below it;
    /// `false`, with nothing written, for a name outside it. Sorting a zone by its names'
    /// keys needs only this part, and writing the origin's labels for every name only to
    /// cut them off again was a third of making the keys of a signed zone.
    pub(crate) fn write_canonical_key_below(&self, origin: &Name, key: &mut Vec<u8>) -> bool {
        if !self.is_subdomain_of(origin) {
            return false;
        }
        if origin.is_root() {
            self.write_canonical_key(key);
        } else if self.0.len() > origin.0.len() {
            // Below the origin: the labels before the dot that starts the origin's.
            Self::write_labels_key(&self.0[..self.0.len() - origin.0.len() - 1], key);
        }
        true
    }

    /// The canonical key of `body`, the labels of a name without its trailing dot.
    fn write_labels_key(body: &str, key: &mut Vec<u8>) {
        if !body.bytes().any(|b| b == b'\\' || b < 2) {
            // Without escapes (or the octets 0 and 1, which the key encodes) every dot ends
            // a label and every octet is itself.
            // Scanned by hand from the right: `rsplit('.')` calls memrchr once per label,
            // which for labels of a few octets cost more than the bytes it skips.
            let bytes = body.as_bytes();
            let mut end = bytes.len();
            for at in (0..bytes.len()).rev() {
                if bytes[at] == b'.' {
                    key.extend_from_slice(&bytes[at + 1..end]);
                    key.push(0);
                    end = at;
                }
            }
            if !bytes.is_empty() {
                key.extend_from_slice(&bytes[..end]);
                key.push(0);
            }
            return;
        }
        // A name has at most 127 labels (255 octets on the wire).
        let mut labels = [""; 128];
        let mut count = 0;
        for label in (LabelIter { rest: body }) {
            labels[count] = label;
            count += 1;
        }
        for label in labels[..count].iter().rev() {
            let bytes = label.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                let octet = if bytes[i] == b'\\' {
                    let (octet, used) = unescape(&bytes[i + 1..]).unwrap_or((b'\\', 0));
                    i += 1 + used;
                    octet
                } else {
                    i += 1;
                    bytes[i - 1]
                };
                match octet {
                    0 | 1 => key.extend_from_slice(&[1, octet + 1]),
                    _ => key.push(octet),
                }
            }
            key.push(0);
        }
    }

    /// Whether the leftmost label is `*`.
    pub fn is_wildcard(&self) -> bool {
        self.0.starts_with("*.")
    }

    /// Octets of the name without its trailing dot (the quantity limited to 253).
    fn octets(&self) -> usize {
        if self.is_root() {
            return 0;
        }
        if !self.0.contains('\\') {
            return self.0.len() - 1;
        }
        let body = &self.0.as_bytes()[..self.0.len() - 1];
        let mut n = 0;
        let mut i = 0;
        while i < body.len() {
            if body[i] == b'\\' {
                let (_, used) = unescape(&body[i + 1..]).unwrap_or((0, 1));
                i += 1 + used;
            } else {
                i += 1;
            }
            n += 1;
        }
        n
    }

    /// The labels from left to right, in presentation form (escapes kept).
    pub fn labels(&self) -> impl Iterator<Item = &str> {
        let body = if self.is_root() { "" } else { &self.0[..self.0.len() - 1] };
        LabelIter { rest: body }
    }

    /// Number of labels, not counting the root.
    pub fn label_count(&self) -> usize {
        self.labels().count()
    }

    /// The name with its leftmost label removed; `None` for the root.
    pub fn parent(&self) -> Option<Name> {
        if self.is_root() {
            return None;
        }
        let first = self.labels().next()?;
        let rest = &self.0[first.len() + 1..];
        Some(if rest.is_empty() { Name::root() } else { Name(rest.into()) })
    }

    /// Whether this name is `other` or lies below it.
    pub fn is_subdomain_of(&self, other: &Name) -> bool {
        if other.is_root() || self == other {
            return true;
        }
        let (me, them) = (self.0.as_bytes(), other.0.as_bytes());
        me.len() > them.len()
            && me.ends_with(them)
            && me[me.len() - them.len() - 1] == b'.'
            && !is_escaped_at(me, me.len() - them.len() - 1)
    }

    /// The name relative to `origin` as written in a zone file: `@` for the origin itself,
    /// the leading labels for a name below it, or the absolute name otherwise.
    pub fn relative_to(&self, origin: &Name) -> Cow<'_, str> {
        if self == origin {
            return Cow::Borrowed("@");
        }
        if self.is_subdomain_of(origin) {
            let cut = if origin.is_root() { 1 } else { origin.0.len() + 1 };
            return Cow::Borrowed(&self.0[..self.0.len() - cut]);
        }
        Cow::Borrowed(&self.0)
    }

    /// The name with A-labels turned back into Unicode, for showing to people.
    pub fn to_unicode(&self) -> String {
        if !self.0.contains("xn--") {
            return self.0.to_string();
        }
        idna::domain_to_unicode(&self.0).0
    }

    /// Prepends `label` (presentation form) to this name.
    pub fn prepend(&self, label: &str) -> Result<Name, NameError> {
        Name::parse_relative(label, self)
    }

    /// This name moved from under `from` to under `to` (`www.a.example.` from `a.example.`
    /// to `b.example.` is `www.b.example.`); a name outside `from` stays as it is. Fails
    /// when the moved name is too long.
    pub fn rehome(&self, from: &Name, to: &Name) -> Result<Name, NameError> {
        if !self.is_subdomain_of(from) || from == to {
            return Ok(self.clone());
        }
        Name::parse_relative(&self.relative_to(from), to)
    }
}

/// Splits at unescaped dots.
struct LabelIter<'a> {
    rest: &'a str,
}

impl<'a> Iterator for LabelIter<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() {
            return None;
        }
        let bytes = self.rest.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'.' => break,
                _ => i += 1,
            }
        }
        let i = i.min(bytes.len());
        let label = &self.rest[..i];
        self.rest = if i < bytes.len() { &self.rest[i + 1..] } else { "" };
        Some(label)
    }
}

fn ends_with_unescaped_dot(text: &[u8]) -> bool {
    text.last() == Some(&b'.') && !is_escaped_at(text, text.len() - 1)
}

/// Whether the byte at `pos` is preceded by an odd number of backslashes.
fn is_escaped_at(text: &[u8], pos: usize) -> bool {
    text[..pos].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1
}

/// Decodes the escape after a backslash: `DDD` (decimal, ≤ 255) or one literal byte.
/// Returns the octet and how many bytes were used.
pub(crate) fn unescape(after: &[u8]) -> Option<(u8, usize)> {
    match after {
        [a, b, c, ..] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            let v = (a - b'0') as u32 * 100 + (b - b'0') as u32 * 10 + (c - b'0') as u32;
            u8::try_from(v).ok().map(|v| (v, 3))
        }
        [a, ..] if a.is_ascii_digit() => None,
        [a, ..] => Some((*a, 1)),
        [] => None,
    }
}

/// Appends an octet read bare, escaping what a zone file cannot hold bare.
fn push_octet(out: &mut String, octet: u8) {
    match octet {
        b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'*' | b'/' => out.push(octet as char),
        _ => push_escaped_octet(out, octet),
    }
}

/// Appends an octet that was escaped in the input (`*` escaped is a literal asterisk, not a
/// wildcard, so it stays escaped).
fn push_escaped_octet(out: &mut String, octet: u8) {
    use std::fmt::Write;
    match octet {
        b'A'..=b'Z' => out.push(octet.to_ascii_lowercase() as char),
        b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'/' => out.push(octet as char),
        b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
            out.push('\\');
            out.push(octet as char);
        }
        0x21..=0x7e if octet != b'*' => out.push(octet as char),
        _ => {
            let _ = write!(out, "\\{octet:03}");
        }
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({})", self.0)
    }
}

impl FromStr for Name {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Name::parse(s)
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl serde::Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Name {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <Cow<'de, str>>::deserialize(d)?;
        Name::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Self) -> Ordering {
        canonical_cmp(self.0.as_bytes(), other.0.as_bytes())
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// RFC 4034 section 6.1 order of two stored names (lower-case, trailing dot).
fn canonical_cmp(a: &[u8], b: &[u8]) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    // Drop the trailing dots; the root becomes empty.
    let (a_full, b_full) = (a, b);
    let a = &a[..a.len() - 1];
    let b = &b[..b.len() - 1];
    // Skip the longest common suffix made of whole labels, then compare the labels just
    // before it. This avoids splitting either name into labels. Escapes can hide or fake a
    // label boundary, so any backslash in the bytes examined sends the comparison to the
    // general, decoding path; a backslash further left cannot change the answer.
    let common = common_suffix(a, b);
    if a[a.len() - common..].contains(&b'\\') {
        return canonical_cmp_escaped(a_full, b_full);
    }
    // A boundary is an unescaped dot: in `\.a` the `a` is not a whole label.
    let whole = |s: &[u8], j: usize| {
        j == s.len() || (j < s.len() && s[s.len() - j - 1] == b'.' && !is_escaped_at(s, s.len() - j - 1))
    };
    let mut j = common;
    while j > 0 && !(whole(a, j) && whole(b, j)) {
        j -= 1;
    }
    let rest_a = strip_dot(&a[..a.len() - j]);
    let rest_b = strip_dot(&b[..b.len() - j]);
    match (rest_a.is_empty(), rest_b.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => {
            let dot_a = rest_a.iter().rposition(|&c| c == b'.');
            let dot_b = rest_b.iter().rposition(|&c| c == b'.');
            let la = &rest_a[dot_a.map_or(0, |p| p + 1)..];
            let lb = &rest_b[dot_b.map_or(0, |p| p + 1)..];
            let escaped_dot = |rest: &[u8], dot: Option<usize>| dot.is_some_and(|p| p > 0 && rest[p - 1] == b'\\');
            if la.contains(&b'\\') || lb.contains(&b'\\') || escaped_dot(rest_a, dot_a) || escaped_dot(rest_b, dot_b) {
                return canonical_cmp_escaped(a_full, b_full);
            }
            la.cmp(lb)
        }
    }
}

/// How many bytes `a` and `b` end in alike, compared eight at a time (names in zone order
/// share their zone's). Each word is read little-endian, so its last byte is its top one:
/// the bytes alike at the end are the zero bytes at the top of the two words' XOR.
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    let shorter = a.len().min(b.len());
    let word = |s: &[u8], from_end: usize| {
        let end = s.len() - from_end;
        u64::from_le_bytes(s[end - 8..end].try_into().expect("eight bytes"))
    };
    let mut common = 0;
    while common + 8 <= shorter {
        let difference = word(a, common) ^ word(b, common);
        if difference != 0 {
            return common + (difference.leading_zeros() / 8) as usize;
        }
        common += 8;
    }
    common
        + a[..a.len() - common].iter().rev().zip(b[..b.len() - common].iter().rev()).take_while(|(x, y)| x == y).count()
}

fn strip_dot(s: &[u8]) -> &[u8] {
    s.strip_suffix(b".").unwrap_or(s)
}

/// The general case: decode every label to octets, then compare from the root.
fn canonical_cmp_escaped(a: &[u8], b: &[u8]) -> Ordering {
    fn decoded_labels(s: &[u8]) -> Vec<Vec<u8>> {
        let s = std::str::from_utf8(s).unwrap_or_default();
        let body = if s == "." { "" } else { &s[..s.len() - 1] };
        LabelIter { rest: body }
            .map(|label| {
                let bytes = label.as_bytes();
                let mut out = Vec::with_capacity(bytes.len());
                let mut i = 0;
                while i < bytes.len() {
                    if bytes[i] == b'\\' {
                        let (octet, used) = unescape(&bytes[i + 1..]).unwrap_or((b'\\', 0));
                        out.push(octet);
                        i += 1 + used;
                    } else {
                        out.push(bytes[i]);
                        i += 1;
                    }
                }
                out
            })
            .collect()
    }
    let la = decoded_labels(a);
    let lb = decoded_labels(b);
    la.iter().rev().cmp(lb.iter().rev())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A text is taken for a name already made only when reading it makes that name, and
    /// it is for every text of letters, digits, `-_*/` and dots that reads as the name (the
    /// root aside): the other texts are made from the same pieces, in another case,
    /// absolute, or under another origin.
    #[test]
    fn a_name_read_again_is_the_name() {
        let origins = [Name::parse("example.com").unwrap(), Name::parse("EXAMPLE.org").unwrap(), Name::root()];
        const PIECES: &[&str] = &["a", "B", "-", "_", "*", ".", "\\.", "\\097", "é", "@", "example", "com"];
        let mut rng = fastrand::Rng::with_seed(4034);
        let (mut taken, mut made) = (0, 0);
        for _ in 0..20_000 {
            let text: String = (0..rng.usize(1..8)).map(|_| PIECES[rng.usize(..PIECES.len())]).collect();
            let origin = [Some(&origins[0]), Some(&origins[1]), Some(&origins[2]), None][rng.usize(..4)];
            let Ok(name) = Name::parse_bytes(text.as_bytes(), origin) else { continue };
            let again = match rng.usize(..4) {
                0 => text.to_ascii_uppercase(),
                1 => name.as_str().to_owned(),
                2 => text.clone(),
                _ => name.relative_to(&origins[0]).into_owned(),
            };
            let origin = if rng.bool() { origin } else { [Some(&origins[0]), None][rng.usize(..2)] };
            let taken_for = name.is_read_from(again.as_bytes(), origin);
            let reads_as = Name::parse_bytes(again.as_bytes(), origin).ok();
            if taken_for {
                assert_eq!(reads_as.as_ref(), Some(&name), "{again:?} under {origin:?}");
                taken += 1;
            } else if reads_as.as_ref() == Some(&name)
                && again != "."
                && again.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_*/.".contains(&b))
            {
                panic!("{again:?} under {origin:?} reads as {name} but was not taken for it");
            } else {
                made += 1;
            }
        }
        assert!(taken > 3000 && made > 3000, "taken {taken}, made {made}");
    }

    /// Writing a plain name's wire form without making the name gives what making it and
    /// writing it gives, and steps aside for anything else.
    #[test]
    fn plain_wire_is_the_names() {
        let origins = [Name::parse("example.com").unwrap(), Name::root()];
        const PIECES: &[&str] = &["a", "B", "-", "_", "/", "0", "*", ".", "\\.", "\\065", "é", " ", "@"];
        let mut rng = fastrand::Rng::with_seed(1035);
        let mut plain = 0;
        for round in 0..20_000 {
            let text: String = match round % 50 {
                0 => "@".into(),
                1 => format!("{}.{}", "x".repeat(rng.usize(60..66)), "y".repeat(rng.usize(1..200))),
                _ => (0..rng.usize(1..12)).map(|_| PIECES[rng.usize(..PIECES.len())]).collect(),
            };
            for origin in [Some(&origins[0]), Some(&origins[1]), None] {
                let mut wire = vec![7];
                let expected = Name::parse_bytes(text.as_bytes(), origin).ok().map(|name| {
                    let mut wire = vec![7];
                    name.write_wire(&mut wire);
                    wire
                });
                match Name::write_plain_wire(text.as_bytes(), origin, &mut wire) {
                    Some(()) => {
                        plain += 1;
                        assert_eq!(Some(&wire), expected.as_ref(), "{text:?} in {origin:?}");
                    }
                    None => assert_eq!(wire, [7], "{text:?}: written, then stepped aside"),
                }
            }
        }
        assert!(plain > 5_000, "only {plain} plain");
    }

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    #[test]
    fn lowercases_and_adds_the_trailing_dot() {
        assert_eq!(n("WWW.Example.COM").as_str(), "www.example.com.");
        assert_eq!(n("www.example.com.").as_str(), "www.example.com.");
        assert_eq!(n(".").as_str(), ".");
    }

    #[test]
    fn unicode_becomes_a_labels() {
        assert_eq!(n("bücher.example").as_str(), "xn--bcher-kva.example.");
        assert_eq!(n("Bücher.example.").to_unicode(), "bücher.example.");
    }

    #[test]
    fn underscores_and_leading_wildcards_are_allowed() {
        assert_eq!(n("_acme-challenge.example.com").as_str(), "_acme-challenge.example.com.");
        assert!(n("*.example.com").is_wildcard());
        // An asterisk elsewhere is an ordinary octet (RFC 4592 section 2.1.1).
        assert_eq!(n("a.*.example.com").as_str(), "a.*.example.com.");
        assert!(!n("a.*.example.com").is_wildcard());
        assert!(!n("a*.example.com").is_wildcard());
    }

    #[test]
    fn length_limits() {
        let label63 = "a".repeat(63);
        assert!(Name::parse(&format!("{label63}.com")).is_ok());
        assert!(matches!(Name::parse(&format!("a{label63}.com")), Err(NameError::LabelTooLong(_))));
        // 4 labels of 63 plus 3 dots = 255 octets > 253.
        let long = [label63.as_str(); 4].join(".");
        assert!(matches!(Name::parse(&long), Err(NameError::TooLong(_))));
        // 253 octets exactly: 3 × 63 + 3 dots + 61.
        let exact = format!("{label63}.{label63}.{label63}.{}", "b".repeat(61));
        assert_eq!(exact.len(), 253);
        assert!(Name::parse(&exact).is_ok());
        assert!(Name::parse(&format!("{exact}b")).is_err());
    }

    #[test]
    fn empty_labels_are_rejected() {
        assert!(matches!(Name::parse("a..b"), Err(NameError::EmptyLabel(_))));
        assert!(matches!(Name::parse(".a"), Err(NameError::EmptyLabel(_))));
        assert!(matches!(Name::parse(""), Err(NameError::Empty)));
    }

    #[test]
    fn escapes_are_canonical() {
        assert_eq!(n(r"a\.b.example").as_str(), r"a\.b.example.");
        assert_eq!(n(r"\065bc.example").as_str(), "abc.example.");
        assert_eq!(n(r"a\032b.example").as_str(), r"a\032b.example.");
        assert_eq!(n(r"a\.b.example").label_count(), 2);
        assert!(Name::parse(r"a\256.example").is_err());
        assert!(Name::parse("a\\").is_err());
    }

    #[test]
    fn relative_names() {
        let origin = n("example.com");
        assert_eq!(Name::parse_relative("@", &origin).unwrap(), origin);
        assert_eq!(Name::parse_relative("www", &origin).unwrap().as_str(), "www.example.com.");
        assert_eq!(Name::parse_relative("other.net.", &origin).unwrap().as_str(), "other.net.");
        assert_eq!(Name::parse_relative(r"a\.", &origin).unwrap().as_str(), r"a\..example.com.");
        assert_eq!(n("www.example.com").relative_to(&origin), "www");
        assert_eq!(origin.relative_to(&origin), "@");
        assert_eq!(n("example.net").relative_to(&origin), "example.net.");
        assert!(!n("badexample.com").is_subdomain_of(&origin));
        assert!(n("a.b.example.com").is_subdomain_of(&origin));
    }

    #[test]
    fn canonical_order_follows_rfc_4034() {
        // The example list of RFC 4034 section 6.1, in order.
        let ordered = [
            "example.",
            "a.example.",
            "yljkjljk.a.example.",
            "Z.a.example.",
            "zABC.a.EXAMPLE.",
            "z.example.",
            r"\001.z.example.",
            "*.z.example.",
            r"\200.z.example.",
        ];
        let names: Vec<Name> = ordered.iter().map(|s| n(s)).collect();
        for pair in names.windows(2) {
            assert_eq!(pair[0].cmp(&pair[1]), Ordering::Less, "{} < {}", pair[0], pair[1]);
            assert!(pair[0].canonical_key() < pair[1].canonical_key(), "key of {} < {}", pair[0], pair[1]);
            assert_eq!(pair[1].cmp(&pair[0]), Ordering::Greater);
        }
        assert!(n("example.com") < n("www.example.com"));
        assert!(n("b.example.com") < n("a.b.example.com"));
        assert!(n("a.b.example.com") < n("c.example.com"));
        assert!(n("ab.example.com") > n("a.example.com"));
        // An escaped dot is part of the label, not a boundary (found by the property below).
        assert!(n(r"\.a") < n("a"));
        assert!(n(r"x\.a.example") > n("a.example"));
        assert!(n(r"\.a.example") < n("a.example"));
        // A label that is a prefix of another sorts first, whatever follows: the key must
        // not confuse the end of a label with an octet 0.
        assert!(n(r"b.a.x") < n(r"a\000.x"));
        assert!(n(r"b.a.x").canonical_key() < n(r"a\000.x").canonical_key());
    }

    /// A label of octets written in presentation form, escaping what needs it.
    fn label_text(octets: &[u8]) -> String {
        octets
            .iter()
            .map(|&b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' => (b as char).to_string(),
                _ => format!("\\{b:03}"),
            })
            .collect()
    }

    proptest::proptest! {
        /// The fast path of the ordering (common suffix, no label splitting) agrees with the
        /// definition: labels decoded to octets, compared from the root.
        #[test]
        fn the_fast_order_is_the_canonical_order(
            a in proptest::collection::vec(proptest::collection::vec(proptest::sample::select(
                b"abAB09-_.\\ *\x00\x01\xc8z".to_vec()), 1..5), 1..5),
            b in proptest::collection::vec(proptest::collection::vec(proptest::sample::select(
                b"abAB09-_.\\ *\x00\x01\xc8z".to_vec()), 1..5), 1..5),
            shared in proptest::collection::vec(proptest::sample::select(vec!["example", "a", "b.c"]), 0..3),
        ) {
            let text = |labels: &Vec<Vec<u8>>| {
                let mut parts: Vec<String> = labels.iter().map(|l| label_text(l)).collect();
                parts.extend(shared.iter().map(|s| s.to_string()));
                parts.join(".")
            };
            let (x, y) = (n(&text(&a)), n(&text(&b)));
            let fast = x.cmp(&y);
            let plain = canonical_cmp_escaped(x.as_str().as_bytes(), y.as_str().as_bytes());
            proptest::prop_assert_eq!(fast, plain, "{} vs {}", x, y);
            proptest::prop_assert_eq!(y.cmp(&x), fast.reverse());
            proptest::prop_assert_eq!(x.canonical_key().cmp(&y.canonical_key()), fast, "keys of {} vs {}", x, y);
        }
    }

    #[test]
    fn parent_and_labels() {
        assert_eq!(n("a.b.c").parent().unwrap().as_str(), "b.c.");
        assert_eq!(n("c").parent().unwrap(), Name::root());
        assert_eq!(n("a.b.c").labels().collect::<Vec<_>>(), ["a", "b", "c"]);
    }
}
