//! Canonical JSON: compact, with every object's keys in byte order, so that the same content
//! hashes the same whatever order a build keeps keys in (serde_json's `preserve_order`) or a
//! person's editor wrote them in. A plan file's checksum is taken over it.
//!
//! [`of`] writes it from anything serde serializes: a plan being made, straight, without a
//! `serde_json::Value` between (the value's tree of a plan of 28k changes raised the peak of
//! `zonectl plan` by 20-57 MiB; written as it goes, the checksum adds nothing to the peak),
//! and a plan file read back, as the `Value` it was parsed into.

use serde::Serialize;
use serde::ser::{self, Error as _};
use serde_json::{Error, Value};

/// The canonical JSON of `value`, without the keys in `skip` at its top level.
pub(crate) fn of(value: &impl Serialize, skip: &[&str], out: &mut Vec<u8>) -> Result<(), Error> {
    value.serialize(Canonical { out, skip })
}

/// Writes what serde gives it as canonical JSON: leaves as serde_json writes them, arrays
/// as they come, and each object's entries as they come, put in key order when it closes.
struct Canonical<'a> {
    out: &'a mut Vec<u8>,
    skip: &'a [&'a str],
}

impl Canonical<'_> {
    fn leaf(self, value: impl Serialize) -> Result<(), Error> {
        serde_json::to_writer(self.out, &value)
    }
}

/// A map key as JSON's object keys are: a string, or a number or bool written as one
/// (serde_json's own rule for keys).
fn key_of<T: Serialize + ?Sized>(key: &T) -> Result<String, Error> {
    match serde_json::to_value(key)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(Error::custom("key must be a string")),
    }
}

/// An array being written.
struct Array<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
    /// `]`, or `]}` for the array of an enum's tuple variant (`{"variant":[…]}`).
    close: &'static [u8],
}

impl Array<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        value.serialize(Canonical { out: self.out, skip: &[] })
    }

    fn close(self) -> Result<(), Error> {
        self.out.extend_from_slice(self.close);
        Ok(())
    }
}

/// An object being written: each entry (`,"key":value`) goes straight into the output as
/// it comes, and the entries are put in key order when the object closes, in place.
/// (Gathering each entry in a buffer of its own and copying it out held a large plan's
/// arrays twice.)
struct Object<'a> {
    out: &'a mut Vec<u8>,
    skip: &'a [&'a str],
    /// Where the first entry starts.
    start: usize,
    /// Each entry's key and length, in the order written.
    entries: Vec<(String, usize)>,
    key: Option<String>,
    /// An enum's struct variant (`{"variant":{…}}`): one more brace to close.
    variant: bool,
}

/// Objects with more entries than this are put in order through a copy of their bytes
/// rather than by rotating them in place (each rotation moves the bytes after it).
const ROTATED_ENTRIES: usize = 16;

impl<'a> Object<'a> {
    fn open(out: &'a mut Vec<u8>, skip: &'a [&'a str], len: usize, variant: bool) -> Object<'a> {
        out.push(b'{');
        let start = out.len();
        Object { out, skip, start, entries: Vec::with_capacity(len), key: None, variant }
    }

    fn entry<T: Serialize + ?Sized>(&mut self, key: String, value: &T) -> Result<(), Error> {
        if self.skip.contains(&key.as_str()) {
            return Ok(());
        }
        let at = self.out.len();
        self.out.push(b',');
        serde_json::to_writer(&mut *self.out, &key)?;
        self.out.push(b':');
        value.serialize(Canonical { out: &mut *self.out, skip: &[] })?;
        self.entries.push((key, self.out.len() - at));
        Ok(())
    }

    fn close(mut self) -> Result<(), Error> {
        let (out, start) = (&mut *self.out, self.start);
        if !self.entries.is_sorted_by(|a, b| a.0 <= b.0) {
            if self.entries.len() <= ROTATED_ENTRIES {
                // A selection sort of the entries' bytes: the least of those left moves
                // to the front of them.
                let mut at = start;
                for i in 0..self.entries.len() {
                    let least = (i..self.entries.len()).min_by(|&a, &b| self.entries[a].0.cmp(&self.entries[b].0));
                    let least = least.expect("entries are left");
                    let end = at + self.entries[i..=least].iter().map(|e| e.1).sum::<usize>();
                    out[at..end].rotate_right(self.entries[least].1);
                    self.entries[i..=least].rotate_right(1);
                    at += self.entries[i].1;
                }
            } else {
                let written = out.split_off(start);
                let mut offsets = Vec::with_capacity(self.entries.len());
                let mut offset = 0;
                for (key, len) in &self.entries {
                    offsets.push((key.as_str(), offset, *len));
                    offset += len;
                }
                offsets.sort_unstable_by(|a, b| a.0.cmp(b.0));
                for (_, offset, len) in offsets {
                    out.extend_from_slice(&written[offset..offset + len]);
                }
            }
        }
        // Each entry was written after a comma: the first one's goes.
        if !self.entries.is_empty() {
            out.remove(start);
        }
        out.push(b'}');
        if self.variant {
            out.push(b'}');
        }
        Ok(())
    }
}

impl<'a> ser::Serializer for Canonical<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Array<'a>;
    type SerializeTuple = Array<'a>;
    type SerializeTupleStruct = Array<'a>;
    type SerializeTupleVariant = Array<'a>;
    type SerializeMap = Object<'a>;
    type SerializeStruct = Object<'a>;
    type SerializeStructVariant = Object<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.leaf(v)
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.leaf(v)
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.leaf(v)
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.leaf(v)
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.leaf(v)
    }
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.leaf(v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.leaf(v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.leaf(v)
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.leaf(v)
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.leaf(v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.leaf(v)
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.leaf(v)
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.leaf(v)
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.leaf(v)
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.leaf(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        self.leaf(v)
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.leaf(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.leaf(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.leaf(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<(), Error> {
        self.leaf(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        open_variant(self.out, variant)?;
        value.serialize(Canonical { out: &mut *self.out, skip: &[] })?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Array<'a>, Error> {
        self.out.push(b'[');
        Ok(Array { out: self.out, first: true, close: b"]" })
    }
    fn serialize_tuple(self, len: usize) -> Result<Array<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Array<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Array<'a>, Error> {
        open_variant(self.out, variant)?;
        self.out.push(b'[');
        Ok(Array { out: self.out, first: true, close: b"]}" })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Object<'a>, Error> {
        Ok(Object::open(self.out, self.skip, len.unwrap_or(0), false))
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Object<'a>, Error> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Object<'a>, Error> {
        open_variant(self.out, variant)?;
        Ok(Object::open(self.out, &[], len, true))
    }
}

/// Opens an enum variant with data, externally tagged: `{"variant":`.
fn open_variant(out: &mut Vec<u8>, variant: &str) -> Result<(), Error> {
    out.push(b'{');
    serde_json::to_writer(&mut *out, variant)?;
    out.push(b':');
    Ok(())
}

/// The four ways serde hands over the elements of an array, all one to JSON.
macro_rules! array_elements {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Array<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.element(value)
            }
            fn end(self) -> Result<(), Error> {
                self.close()
            }
        }
    )*};
}

array_elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Object<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(key_of(key)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self.key.take().ok_or_else(|| Error::custom("a map value without its key"))?;
        self.entry(key, value)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

/// A struct's fields and a struct variant's, both an object's entries.
macro_rules! object_fields {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Object<'_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
                self.entry(key.to_owned(), value)
            }
            fn end(self) -> Result<(), Error> {
                self.close()
            }
        }
    )*};
}

object_fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Serialize)]
    #[serde(tag = "op", rename_all = "snake_case")]
    enum Tagged {
        Create { record: String },
        Delete { id: Option<u32>, why: Vec<String> },
    }

    #[derive(Serialize)]
    enum Plain {
        Unit,
        Newtype(i64),
        Tuple(u8, String),
        Struct { z: bool, a: f64 },
    }

    #[derive(Serialize)]
    struct Wrapper(String);

    /// Keys written out of order, in nested structs, maps, enums of every shape, and
    /// strings that need escapes.
    #[derive(Serialize)]
    struct Everything {
        zeta: Vec<Tagged>,
        alpha: Option<Box<Everything>>,
        #[serde(rename = "type")]
        kind: Plain,
        plain: Vec<Plain>,
        map: BTreeMap<String, Vec<u16>>,
        numbers: BTreeMap<u32, i8>,
        text: String,
        wrapped: Wrapper,
        unit: (),
        tuple: (char, f32, i128),
        bytes: serde_bytes_like::Bytes,
        skipped_below: String,
        /// More keys than are put in order in place, written last to first.
        many: serde_json::Map<String, Value>,
    }

    mod serde_bytes_like {
        /// Bytes that serialize as bytes (serde_json writes them as an array of numbers).
        pub struct Bytes(pub Vec<u8>);
        impl serde::Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&self.0)
            }
        }
    }

    fn everything(depth: u32) -> Everything {
        Everything {
            zeta: vec![
                Tagged::Create { record: "www 300 IN TXT \"a\\\"b\" \u{7f} é \u{1}".into() },
                Tagged::Delete { id: None, why: vec!["x".into(), String::new()] },
                Tagged::Delete { id: Some(7), why: Vec::new() },
            ],
            alpha: (depth > 0).then(|| Box::new(everything(depth - 1))),
            kind: Plain::Struct { z: true, a: -0.5 },
            plain: vec![
                Plain::Unit,
                Plain::Newtype(-3),
                Plain::Tuple(1, "t".into()),
                Plain::Struct { z: false, a: 1e300 },
            ],
            map: [("b".to_owned(), vec![1, 2]), ("A".to_owned(), vec![]), ("é".to_owned(), vec![65535])].into(),
            numbers: [(10, -1), (9, 1)].into(),
            text: "line\nfeed\ttab \u{2028}".into(),
            wrapped: Wrapper("w".into()),
            unit: (),
            // (An i128 beyond i64 is read back as a float: no plan file holds one.)
            tuple: ('"', 0.1, -(1 << 40)),
            bytes: serde_bytes_like::Bytes(vec![0, 255]),
            skipped_below: "kept below the top".into(),
            many: (0..40).rev().map(|i| (format!("k{i:02}"), Value::from(i))).collect(),
        }
    }

    /// Serialized straight, a value gives the bytes its parsed JSON gives: a plan file's
    /// checksum as made is the one it is checked against when read back.
    #[test]
    fn a_value_and_its_parsed_json_have_one_canonical_form() {
        let value = everything(2);
        let skip = ["skipped_below", "absent"];
        let mut straight = Vec::new();
        of(&value, &skip, &mut straight).unwrap();
        let parsed: Value = serde_json::from_str(&serde_json::to_string_pretty(&value).unwrap()).unwrap();
        let mut via_value = Vec::new();
        of(&parsed, &skip, &mut via_value).unwrap();
        assert_eq!(String::from_utf8(straight.clone()).unwrap(), String::from_utf8(via_value).unwrap());

        // It is canonical: compact, keys sorted at every level, the top's skipped keys out
        // and the same keys below kept.
        let text = String::from_utf8(straight).unwrap();
        assert!(text.starts_with(r#"{"alpha":{"alpha":{"alpha":null,"bytes":[0,255],"many":{"k00":0,"#), "{text}");
        assert!(text.contains(r#"{"id":null,"op":"delete","why":["x",""]}"#), "{text}");
        assert!(text.contains(r#""map":{"A":[],"b":[1,2],"é":[65535]},"numbers":{"10":-1,"9":1}"#), "{text}");
        assert!(
            text.contains(r#""plain":["Unit",{"Newtype":-3},{"Tuple":[1,"t"]},{"Struct":{"a":1e+300,"z":false}}]"#),
            "{text}"
        );
        assert!(text.contains(r#""tuple":["\"",0.1,-1099511627776],"type":{"Struct":{"a":-0.5,"z":true}}"#), "{text}");
        let many: Vec<String> = (0..40).map(|i| format!(r#""k{i:02}":{i}"#)).collect();
        assert!(text.contains(&format!(r#""many":{{{}}}"#, many.join(","))), "{text}");
        assert_eq!(text.matches("skipped_below").count(), 2, "{text}");
        assert!(!text.ends_with(r#""skipped_below":"kept below the top"}"#), "{text}");
    }
}
