//! Every registered type with a presentation form, generated: random wire data that
//! `domain` accepts for the type is printed, read back to the same data, and written in a
//! zone file that reads back as the same zone and formats to itself.
//!
//! The types come from the model (`RecordType::has_presentation_form` over all 65,536
//! codes), not from a list here, so a type added to the model is covered without a change.

use zonectl_core::zonefile::{self, ReadOptions};
use zonectl_core::{Name, RData, Record, RecordType, Ttl, Zone};

/// Valid data found per type.
const PER_TYPE: usize = 25;
/// Random wire attempts per type before giving up.
const ATTEMPTS: usize = 300_000;

fn origin() -> Name {
    Name::parse("example.com").unwrap()
}

/// Types without a typed variant whose own form is known.
fn generated_types() -> Vec<u16> {
    (0..=u16::MAX)
        .filter(|&code| {
            let rtype = RecordType::from_code(code);
            !rtype.is_modeled() && !rtype.is_meta() && rtype.has_presentation_form()
        })
        .collect()
}

/// A wire name of one to three lower-case labels, or the root.
fn wire_name(rng: &mut fastrand::Rng, out: &mut Vec<u8>) {
    for _ in 0..rng.usize(0..=3) {
        let len = rng.usize(1..=8);
        out.push(len as u8);
        out.extend((0..len).map(|_| rng.u8(b'a'..=b'z')));
    }
    out.push(0);
}

/// Random wire data made of the pieces record data is made of: integers, names,
/// character-strings (some of them decimal numbers, as X25 and GPOS hold), type bitmaps,
/// a LOC body (RFC 1876's sizes and angles in range) and opaque octets.
fn random_wire(rng: &mut fastrand::Rng) -> Vec<u8> {
    let mut out = Vec::new();
    // GPOS is three decimal strings; a run of them is otherwise too rare to find.
    if rng.u8(0..16) == 0 {
        for _ in 0..3 {
            decimal_string(rng, &mut out);
        }
        return out;
    }
    for _ in 0..rng.usize(1..=6) {
        match rng.u8(0..9) {
            7 => decimal_string(rng, &mut out),
            8 => {
                let size = |rng: &mut fastrand::Rng| rng.u8(0..=9) << 4 | rng.u8(0..=9);
                out.push(0);
                for _ in 0..3 {
                    let byte = size(rng);
                    out.push(byte);
                }
                out.extend_from_slice(&((1u32 << 31) - 324_000_000 + rng.u32(..=648_000_000)).to_be_bytes());
                out.extend_from_slice(&((1u32 << 31) - 648_000_000 + rng.u32(..=1_296_000_000)).to_be_bytes());
                out.extend_from_slice(&rng.u32(..).to_be_bytes());
            }
            0 => out.push(rng.u8(..)),
            1 => out.extend_from_slice(&rng.u16(..4).to_be_bytes()),
            2 => out.extend_from_slice(&rng.u32(..).to_be_bytes()),
            3 => wire_name(rng, &mut out),
            4 => {
                let len = rng.usize(0..=20);
                out.push(len as u8);
                out.extend((0..len).map(|_| rng.u8(..)));
            }
            5 => {
                // An RFC 4034 type bitmap: window 0, 1 to 8 octets, the last one not zero.
                let len = rng.usize(1..=8);
                out.extend_from_slice(&[0, len as u8]);
                out.extend((1..len).map(|_| rng.u8(..)));
                out.push(rng.u8(1..));
            }
            _ => out.extend((0..rng.usize(1..=32)).map(|_| rng.u8(..))),
        }
    }
    out
}

/// A character-string holding a decimal number: digits, maybe a sign and a point.
fn decimal_string(rng: &mut fastrand::Rng, out: &mut Vec<u8>) {
    let mut text = String::new();
    if rng.bool() {
        text.push('-');
    }
    text.extend((0..rng.usize(4..=8)).map(|_| char::from(rng.u8(b'0'..=b'9'))));
    if rng.bool() {
        text.insert(text.len() - 2, '.');
    }
    out.push(text.len() as u8);
    out.extend_from_slice(text.as_bytes());
}

/// Whether the data prints in the type's own form (and not as `\#`, which is what the
/// model prints for data the type's form cannot hold).
fn is_valid(code: u16, wire: &[u8]) -> bool {
    !RData::Unknown { rtype: code, data: wire.into() }.to_string().starts_with("\\#")
}

#[test]
fn every_registered_type_prints_and_reads_back() {
    let types = generated_types();
    // The RFC examples in the unit tests show these are real; here: that there are many.
    assert!(types.len() >= 30, "only {} types with a known form: {types:?}", types.len());

    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let mut records = Vec::new();
    let mut starved = Vec::new();
    for &code in &types {
        let rtype = RecordType::from_code(code);
        let mut found = 0;
        for _ in 0..ATTEMPTS {
            let wire = random_wire(&mut rng);
            if !is_valid(code, &wire) {
                continue;
            }
            let data = RData::Unknown { rtype: code, data: wire.clone().into() };
            let text = data.to_string();
            let read = RData::parse(rtype, &text, None).unwrap_or_else(|e| panic!("{rtype} {text}: {e}"));
            // Reading folds the case of names (as for the typed variants), and `domain`
            // drops what the wire form may not hold (trailing zero octets of a type
            // bitmap); the data read must be the same wire but for case, or print the same.
            let RData::Unknown { data: read_wire, .. } = &read else { panic!("{rtype} read as {read:?}") };
            assert!(
                read_wire.eq_ignore_ascii_case(&wire) || read.to_string() == text,
                "{rtype} {text}: {read_wire:?} != {wire:?}"
            );
            assert_eq!(RData::parse(rtype, &read.to_string(), None).unwrap(), read, "{rtype} {text}");
            let data = read;
            let owner = Name::parse_relative(&format!("t{code}-{found}"), &origin()).unwrap();
            records.push(Record::new(owner, Ttl::from_secs(300).unwrap(), data));
            found += 1;
            if found == PER_TYPE {
                break;
            }
        }
        if found < PER_TYPE {
            starved.push(format!("{rtype}: {found}"));
        }
    }
    assert!(starved.is_empty(), "too few valid data generated for: {starved:?}");

    let zone = Zone::from_records(origin(), records);
    let written = zonefile::to_string(&zone);
    let options = ReadOptions { origin: Some(origin()), ..ReadOptions::default() };
    let read = zonefile::read_str(&written, "generated.zone", &options).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.zone, zone);
    assert_eq!(zonefile::to_string(&read.zone), written, "formatting is not idempotent");
}

/// Generic data of a registered type reads as the same record as the type's own form.
#[test]
fn generic_form_of_every_registered_type_is_the_same_data() {
    let mut rng = fastrand::Rng::with_seed(7);
    for code in generated_types() {
        let rtype = RecordType::from_code(code);
        let wire = (0..ATTEMPTS).map(|_| random_wire(&mut rng)).find(|w| is_valid(code, w)).unwrap();
        let own =
            RData::parse(rtype, &RData::Unknown { rtype: code, data: wire.clone().into() }.to_string(), None).unwrap();
        let generic = format!("\\# {} {}", wire.len(), wire.iter().map(|b| format!("{b:02x}")).collect::<String>());
        assert_eq!(RData::parse(rtype, &generic, None).unwrap(), own, "{rtype} {generic}");
    }
}
