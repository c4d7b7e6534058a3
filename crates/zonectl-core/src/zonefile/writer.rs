//! Writes zones in one canonical, diff-friendly form.
//!
//! `$ORIGIN` and `$TTL` first; then one record per line in zone order (apex first, every
//! name beside its parent, SOA and NS first at a name); owner names repeated on every line
//! and relative to the origin, so that a line means the same wherever a diff shows it;
//! explicit TTLs; columns aligned; TXT strings quoted, escaped and at most 255 octets.

use foldhash::HashMap;
use std::fmt::Write as _;
use std::io;

use crate::record::Zone;

/// Owner names longer than this are not padded to: one long name should not push every
/// other line to the right.
const MAX_NAME_COLUMN: usize = 32;

/// Writes `zone` in canonical form.
pub fn write(zone: &Zone, out: &mut impl io::Write) -> io::Result<()> {
    let origin = zone.origin();
    let records = zone.records();
    let default_ttl = most_common_ttl(zone);

    let mut name_width = 1;
    let mut ttl_width = 1;
    let mut type_width = 1;
    for r in records {
        let name_len = r.name.relative_to(origin).len();
        if name_len <= MAX_NAME_COLUMN {
            name_width = name_width.max(name_len);
        }
        ttl_width = ttl_width.max(decimal_len(r.ttl.as_secs()));
        type_width = type_width.max(r.rtype().mnemonic().len());
    }

    let mut line = String::with_capacity(256);
    writeln!(out, "$ORIGIN {origin}")?;
    writeln!(out, "$TTL {default_ttl}")?;
    for r in records {
        line.clear();
        let rtype = r.rtype();
        // Writing to a String cannot fail.
        let _ = writeln!(
            line,
            "{:<name_width$} {:>ttl_width$} IN {:<type_width$} {}",
            r.name.relative_to(origin),
            r.ttl,
            rtype.mnemonic(),
            r.data.display_relative(origin),
        );
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// The canonical form of `zone` as a string.
pub fn to_string(zone: &Zone) -> String {
    let mut out = Vec::with_capacity(zone.len() * 48 + 64);
    write(zone, &mut out).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("the writer only writes UTF-8")
}

fn decimal_len(n: u32) -> usize {
    n.checked_ilog10().map_or(1, |l| l as usize + 1)
}

/// The TTL most records have (the lowest among equals), 3600 for an empty zone.
fn most_common_ttl(zone: &Zone) -> u32 {
    let mut counts: HashMap<u32, usize> = HashMap::default();
    for r in zone.records() {
        *counts.entry(r.ttl.as_secs()).or_default() += 1;
    }
    counts.into_iter().max_by_key(|&(ttl, n)| (n, std::cmp::Reverse(ttl))).map_or(3600, |(ttl, _)| ttl)
}
