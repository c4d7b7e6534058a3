//! BIND's `$GENERATE range lhs [ttl] [class] type rhs`: the range and the `$` templates
//! of the owner and the data, as `named` reads them (BIND 9 ARM, "The $GENERATE
//! Directive"). The reader turns each value of the range into an ordinary record.

/// The most records one `$GENERATE` may make: far above any reverse zone's needs, and a
/// bound on the memory a hostile line can ask for.
pub(crate) const MAX_GENERATED: u64 = 1 << 20;

/// `start-stop[/step]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Range {
    pub start: u32,
    pub stop: u32,
    pub step: u32,
}

impl Range {
    pub(crate) fn parse(text: &[u8]) -> Result<Range, String> {
        let shown = || String::from_utf8_lossy(text).into_owned();
        let bad = || format!("bad $GENERATE range '{}' (start-stop or start-stop/step)", shown());
        let text = std::str::from_utf8(text).map_err(|_| bad())?;
        let (bounds, step) = match text.split_once('/') {
            Some((bounds, step)) => (bounds, step),
            None => (text, "1"),
        };
        let (start, stop) = bounds.split_once('-').ok_or_else(bad)?;
        let number = |s: &str| -> Result<u32, String> {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            s.parse().map_err(|_| bad())
        };
        let range = Range { start: number(start)?, stop: number(stop)?, step: number(step)? };
        if range.step == 0 {
            return Err(format!("bad $GENERATE range '{}': the step is 0", shown()));
        }
        if range.start > range.stop {
            return Err(format!("bad $GENERATE range '{}': start is after stop", shown()));
        }
        if range.len() > MAX_GENERATED {
            return Err(format!(
                "$GENERATE range '{}' makes {} records, more than {MAX_GENERATED}",
                shown(),
                range.len()
            ));
        }
        Ok(range)
    }

    pub(crate) fn len(self) -> u64 {
        u64::from(self.stop - self.start) / u64::from(self.step) + 1
    }

    pub(crate) fn values(self) -> impl Iterator<Item = u32> {
        (u64::from(self.start)..=u64::from(self.stop)).step_by(self.step as usize).map(|v| v as u32)
    }
}

/// One piece of a template: literal text, or the iterator with its modifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(Vec<u8>),
    Value { offset: i64, width: usize, base: u8 },
}

/// A `$GENERATE` owner or data template, parsed once and expanded per value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template(Vec<Piece>);

impl Template {
    /// Parses `$`, `${offset[,width[,base]]}`, `$$` and `\$` (both a literal `$`); other
    /// escapes are kept for the name or data reader.
    pub(crate) fn parse(text: &[u8]) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut literal = Vec::new();
        let mut i = 0;
        while i < text.len() {
            match text[i] {
                b'\\' if text.get(i + 1) == Some(&b'$') => {
                    literal.push(b'$');
                    i += 2;
                }
                b'\\' => {
                    literal.extend_from_slice(&text[i..(i + 2).min(text.len())]);
                    i += 2;
                }
                b'$' if text.get(i + 1) == Some(&b'$') => {
                    literal.push(b'$');
                    i += 2;
                }
                b'$' => {
                    if !literal.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut literal)));
                    }
                    if text.get(i + 1) == Some(&b'{') {
                        let close = text[i..].iter().position(|&b| b == b'}').ok_or_else(|| {
                            format!("unclosed '${{' in $GENERATE template '{}'", String::from_utf8_lossy(text))
                        })?;
                        pieces.push(modifiers(&text[i + 2..i + close])?);
                        i += close + 1;
                    } else {
                        pieces.push(Piece::Value { offset: 0, width: 0, base: b'd' });
                        i += 1;
                    }
                }
                b => {
                    literal.push(b);
                    i += 1;
                }
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Ok(Template(pieces))
    }

    /// The text for one value of the range.
    pub(crate) fn expand(&self, value: u32, out: &mut Vec<u8>) {
        out.clear();
        for piece in &self.0 {
            match piece {
                Piece::Text(text) => out.extend_from_slice(text),
                &Piece::Value { offset, width, base } => format_value(i64::from(value) + offset, width, base, out),
            }
        }
    }
}

/// `offset[,width[,base]]`, as BIND reads them: an offset that may be negative, a
/// zero-padded width, and the base `d`, `o`, `x`, `X`, or `n` / `N` for nibbles.
fn modifiers(text: &[u8]) -> Result<Piece, String> {
    let shown = || String::from_utf8_lossy(text).into_owned();
    let text = std::str::from_utf8(text).map_err(|_| format!("bad $GENERATE modifier '{}'", shown()))?;
    let mut parts = text.split(',');
    let offset = parts.next().unwrap_or("");
    let offset: i64 = offset.parse().map_err(|_| format!("bad $GENERATE offset in '${{{text}}}'"))?;
    let width = match parts.next() {
        Some(w) => w
            .parse::<usize>()
            .ok()
            .filter(|&w| w <= 255)
            .ok_or_else(|| format!("bad $GENERATE width in '${{{text}}}'"))?,
        None => 0,
    };
    let base = match parts.next() {
        Some(b @ ("d" | "o" | "x" | "X" | "n" | "N")) => b.as_bytes()[0],
        Some(_) => return Err(format!("bad $GENERATE base in '${{{text}}}' (d, o, x, X, n or N)")),
        None => b'd',
    };
    if parts.next().is_some() || offset.unsigned_abs() > u64::from(u32::MAX) {
        return Err(format!("bad $GENERATE modifier '${{{text}}}'"));
    }
    Ok(Piece::Value { offset, width, base })
}

fn format_value(value: i64, width: usize, base: u8, out: &mut Vec<u8>) {
    use std::io::Write as _;
    // BIND formats the sum as a C int: hex and octal of a negative one are its 32 bits.
    let bits = value as i32 as u32;
    let _ = match base {
        b'o' => write!(out, "{bits:0width$o}"),
        b'x' => write!(out, "{bits:0width$x}"),
        b'X' => write!(out, "{bits:0width$X}"),
        b'n' | b'N' => {
            nibbles(bits, width, base == b'N', out);
            Ok(())
        }
        _ => write!(out, "{value:0width$}"),
    };
}

/// The nibbles of `value`, least significant first, separated by dots, as in an ip6.arpa
/// name. As in BIND, `width` counts the dots too, and a width that ends on a dot leaves it.
fn nibbles(mut value: u32, mut width: usize, upper: bool, out: &mut Vec<u8>) {
    let digits: &[u8; 16] = if upper { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
    loop {
        out.push(digits[(value & 0xf) as usize]);
        value >>= 4;
        width = width.saturating_sub(1);
        if width > 0 || value != 0 {
            out.push(b'.');
            width = width.saturating_sub(1);
        }
        if value == 0 && width == 0 {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(template: &str, value: u32) -> String {
        let mut out = Vec::new();
        Template::parse(template.as_bytes()).unwrap().expand(value, &mut out);
        String::from_utf8(out).unwrap()
    }

    /// Expected values from the BIND 9 ARM's examples and its `genname` rules.
    #[test]
    fn templates_expand_as_bind_does() {
        assert_eq!(expand("$", 7), "7");
        assert_eq!(expand("host-$.example.", 12), "host-12.example.");
        assert_eq!(expand("${0,3}", 7), "007");
        assert_eq!(expand("${-1}", 7), "6");
        assert_eq!(expand("${10,4,x}", 250), "0104");
        assert_eq!(expand("${0,2,X}", 255), "FF");
        assert_eq!(expand("${0,0,o}", 8), "10");
        // ARM: `$GENERATE 1-2 @ NS SERVER$.EXAMPLE.` and `\$`/`$$` for a literal dollar.
        assert_eq!(expand(r"a\$b$$c$", 3), "a$b$c3");
        assert_eq!(expand(r"a\.b$", 1), r"a\.b1");
        // Nibbles: least significant first; width counts the dots (BIND's `nibbles`).
        assert_eq!(expand("${0,0,n}", 0x1234), "4.3.2.1");
        assert_eq!(expand("${0,7,n}", 0x12), "2.1.0.0");
        assert_eq!(expand("${0,8,N}", 0xab), "B.A.0.0.");
        assert_eq!(expand("${0,0,n}", 0), "0");
    }

    #[test]
    fn ranges() {
        assert_eq!(Range::parse(b"1-4").unwrap().values().collect::<Vec<_>>(), [1, 2, 3, 4]);
        assert_eq!(Range::parse(b"0-10/5").unwrap().values().collect::<Vec<_>>(), [0, 5, 10]);
        assert_eq!(Range::parse(b"3-3").unwrap().len(), 1);
        assert!(Range::parse(b"4-1").unwrap_err().contains("start is after stop"));
        assert!(Range::parse(b"1-4/0").unwrap_err().contains("step is 0"));
        assert!(Range::parse(b"1-").is_err());
        assert!(Range::parse(b"-1-4").is_err());
        assert!(Range::parse(b"0-4294967295").unwrap_err().contains("more than"));
    }

    #[test]
    fn bad_modifiers_are_named() {
        let err = |t: &str| Template::parse(t.as_bytes()).unwrap_err();
        assert_eq!(err("${1,2,q}"), "bad $GENERATE base in '${1,2,q}' (d, o, x, X, n or N)");
        assert_eq!(err("${x}"), "bad $GENERATE offset in '${x}'");
        assert!(err("host${1,2").contains("unclosed"));
    }
}
