//! Records, record sets and zones.

use std::cmp::Ordering;
use std::fmt;

use crate::name::Name;
use crate::rdata::RData;
use crate::rtype::RecordType;
use crate::ttl::Ttl;

/// One resource record. Class is always IN.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Record {
    /// The owner name.
    pub name: Name,
    /// Time to live.
    pub ttl: Ttl,
    /// The data, which also gives the type.
    pub data: RData,
}

impl Record {
    /// A record.
    pub fn new(name: Name, ttl: Ttl, data: RData) -> Record {
        Record { name, ttl, data }
    }

    /// The record type.
    pub fn rtype(&self) -> RecordType {
        self.data.rtype()
    }

    /// This record moved from the zone `from` to the zone `to`: its owner and every name in
    /// its data that lies in `from` (a CNAME to `www.from.`, an MX host in the zone) follow
    /// it; names elsewhere stay. Fails, naming the name, when one does not fit under `to`.
    pub fn rehome(&self, from: &Name, to: &Name) -> Result<Record, crate::name::NameError> {
        Ok(Record {
            name: self.name.rehome(from, to)?,
            ttl: self.ttl,
            data: self.data.map_names(|n| n.rehome(from, to))?,
        })
    }

    /// Whether `other` is of this record's set: the same name and type, and for RRSIG and
    /// SIG the same covered type ([`RData::covered_type`]). Records in zone order keep each
    /// set together.
    pub fn same_set(&self, other: &Record) -> bool {
        self.name == other.name && self.same_set_at_name(other)
    }

    /// [`Record::same_set`] for a record of the same name.
    pub(crate) fn same_set_at_name(&self, other: &Record) -> bool {
        self.data.type_order() == other.data.type_order() && self.data.covered_type() == other.data.covered_type()
    }

    /// Zone order: by name (canonical), then type (SOA, NS, then by code), then data.
    /// The TTL is not part of the order.
    pub fn zone_order(&self, other: &Record) -> Ordering {
        self.name.cmp(&other.name).then_with(|| self.order_at_name(other))
    }

    /// Zone order among the records of one name: by type, then data.
    pub(crate) fn order_at_name(&self, other: &Record) -> Ordering {
        self.data.type_order().cmp(&other.data.type_order()).then_with(|| self.data.cmp(&other.data))
    }
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} IN {} {}", self.name, self.ttl, self.rtype(), self.data)
    }
}

/// All records of one name and type: one TTL, one or more data values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSet {
    /// The owner name.
    pub name: Name,
    /// The type of every value.
    pub rtype: RecordType,
    /// The TTL shared by the set.
    pub ttl: Ttl,
    /// The values, in zone order, without duplicates.
    pub data: Vec<RData>,
}

impl RecordSet {
    /// The records of this set.
    pub fn records(&self) -> impl Iterator<Item = Record> + '_ {
        self.data.iter().map(|d| Record::new(self.name.clone(), self.ttl, d.clone()))
    }
}

/// A zone: an origin and its records, kept in zone order without duplicates and with one TTL
/// per record set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    origin: Name,
    records: Vec<Record>,
}

impl Zone {
    /// An empty zone.
    pub fn new(origin: Name) -> Zone {
        Zone { origin, records: Vec::new() }
    }

    /// A zone holding `records`, put in zone order. Duplicates are merged and a record set
    /// whose records disagree on the TTL takes the lowest, as resolvers would see it.
    pub fn from_records(origin: Name, mut records: Vec<Record>) -> Zone {
        sort_in_zone_order(&origin, &mut records, |r| &r.name, Record::order_at_name);
        Zone::from_sorted(origin, records)
    }

    /// Like [`Zone::from_records`] for records already in zone order.
    pub(crate) fn from_sorted(origin: Name, mut records: Vec<Record>) -> Zone {
        debug_assert!(records.windows(2).all(|w| w[0].zone_order(&w[1]) != Ordering::Greater));
        records.dedup_by(|later, earlier| {
            if later.name == earlier.name && later.data == earlier.data {
                earlier.ttl = earlier.ttl.min(later.ttl);
                true
            } else {
                false
            }
        });
        unify_set_ttls(&mut records);
        Zone { origin, records }
    }

    /// A zone of records already in zone order, without duplicates, and with one TTL per
    /// set (a checked zone file's).
    pub(crate) fn from_normalized(origin: Name, records: Vec<Record>) -> Zone {
        debug_assert!(records.windows(2).all(|w| w[0].zone_order(&w[1]) == Ordering::Less));
        debug_assert!(records.windows(2).all(|w| !w[0].same_set(&w[1]) || w[0].ttl == w[1].ttl));
        Zone { origin, records }
    }

    /// The origin (apex) name.
    pub fn origin(&self) -> &Name {
        &self.origin
    }

    /// The records, in zone order.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Gives back the memory the zone holds beyond its records. A zone read from a file
    /// sits in the reader's list, whose slots are a record and its line (8 bytes more
    /// each), and which was sized by the file: one kept while more is read and planned
    /// (a plan's source) is worth moving into a list of its size.
    pub fn shrink_to_fit(&mut self) {
        self.records.shrink_to_fit();
    }

    /// Takes the records out.
    pub fn into_records(self) -> Vec<Record> {
        self.records
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the zone holds no records.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The record sets, in zone order.
    pub fn record_sets(&self) -> impl Iterator<Item = RecordSet> + '_ {
        self.record_set_slices().map(|slice| RecordSet {
            name: slice[0].name.clone(),
            rtype: slice[0].rtype(),
            ttl: slice[0].ttl,
            data: slice.iter().map(|r| r.data.clone()).collect(),
        })
    }

    /// The records grouped by record set, borrowed.
    pub fn record_set_slices(&self) -> impl Iterator<Item = &[Record]> + '_ {
        self.records.chunk_by(Record::same_set)
    }

    /// Adds a record, keeping the zone's order and rules; a record already present is not
    /// added again. The record takes the TTL of its set if the set exists.
    pub fn insert(&mut self, mut record: Record) {
        let at = match self.records.binary_search_by(|r| r.zone_order(&record)) {
            Ok(_) => return,
            Err(at) => at,
        };
        if let Some(sibling) = [at.checked_sub(1), Some(at)]
            .into_iter()
            .flatten()
            .filter_map(|i| self.records.get(i))
            .find(|r| r.same_set(&record))
        {
            record.ttl = sibling.ttl;
        }
        self.records.insert(at, record);
    }
}

/// Gives every record of a set the lowest TTL found in the set.
fn unify_set_ttls(records: &mut [Record]) {
    for set in records.chunk_by_mut(|a, b| a.same_set(b)) {
        let lowest = set.iter().map(|r| r.ttl).min().expect("chunks are never empty");
        for r in set {
            r.ttl = lowest;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(name: &str, ttl: u32, rtype: RecordType, data: &str) -> Record {
        Record::new(Name::parse(name).unwrap(), Ttl::from_secs(ttl).unwrap(), RData::parse(rtype, data, None).unwrap())
    }

    #[test]
    fn zones_are_ordered_deduplicated_and_one_ttl_per_set() {
        let origin = Name::parse("example.com").unwrap();
        let zone = Zone::from_records(
            origin,
            vec![
                rec("www.example.com", 300, RecordType::A, "192.0.2.2"),
                rec("example.com", 3600, RecordType::Ns, "ns1.example.net."),
                rec("www.example.com", 600, RecordType::A, "192.0.2.1"),
                rec("www.example.com", 60, RecordType::A, "192.0.2.2"),
                rec("example.com", 3600, RecordType::A, "192.0.2.9"),
            ],
        );
        let shown: Vec<String> = zone.records().iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "example.com. 3600 IN NS ns1.example.net.",
                "example.com. 3600 IN A 192.0.2.9",
                "www.example.com. 60 IN A 192.0.2.1",
                "www.example.com. 60 IN A 192.0.2.2",
            ]
        );
        assert_eq!(zone.record_sets().count(), 3);
    }

    #[test]
    fn a_record_moved_to_another_zone_takes_its_in_zone_targets_along() {
        let (from, to) = (Name::parse("a.example").unwrap(), Name::parse("b.example").unwrap());
        let moved = |name: &str, rtype, data: &str| rec(name, 300, rtype, data).rehome(&from, &to).unwrap().to_string();
        assert_eq!(
            moved("www.a.example", RecordType::Cname, "web.a.example."),
            "www.b.example. 300 IN CNAME web.b.example."
        );
        assert_eq!(moved("a.example", RecordType::Mx, "10 mx.a.example."), "b.example. 300 IN MX 10 mx.b.example.");
        assert_eq!(
            moved("_s._tcp.a.example", RecordType::Srv, "0 0 1 a.example."),
            "_s._tcp.b.example. 300 IN SRV 0 0 1 b.example."
        );
        assert_eq!(moved("a.example", RecordType::Ns, "ns1.elsewhere.net."), "b.example. 300 IN NS ns1.elsewhere.net.");
        // A target that would not fit under the new name is refused, not cut.
        let long = Name::parse(&format!("{}.{}.{}.x", "a".repeat(63), "b".repeat(63), "c".repeat(61))).unwrap();
        let record = rec("www.a.example", 300, RecordType::Cname, &format!("{}.a.example.", "d".repeat(63)));
        assert!(record.rehome(&from, &long).is_err());
    }

    #[test]
    fn insert_keeps_order_and_set_ttl() {
        let mut zone = Zone::new(Name::parse("example.com").unwrap());
        zone.insert(rec("b.example.com", 300, RecordType::A, "192.0.2.1"));
        zone.insert(rec("a.example.com", 300, RecordType::A, "192.0.2.1"));
        zone.insert(rec("b.example.com", 900, RecordType::A, "192.0.2.2"));
        zone.insert(rec("b.example.com", 900, RecordType::A, "192.0.2.2"));
        assert_eq!(zone.len(), 3);
        assert_eq!(zone.records()[0].name.as_str(), "a.example.com.");
        assert!(zone.records()[1..].iter().all(|r| r.ttl.as_secs() == 300));
    }
}

/// Sorts `items` into zone order: by the canonical order of their names, then by `order`
/// among the items of one name (stable; it need not compare the names, which are equal;
/// in a long list, each part of it on its own thread). A zone read or listed in any order
/// sorts as fast as one already sorted, nearly: see [`sort_by_name`]. Returns where each
/// name's items start, and the number of items last, so that later passes need not compare
/// names again (each comparison a cache miss once the names are scattered over the heap).
pub(crate) fn sort_in_zone_order<T: Send + Sync>(
    origin: &Name,
    items: &mut [T],
    name: impl Fn(&T) -> &Name + Sync,
    order: impl Fn(&T, &T) -> Ordering + Sync,
) -> Vec<u32> {
    // Names already in order (a file as `fmt` or a signer writes it, a provider that lists
    // in order) take one pass instead of a key for every name; their items may still be in
    // another order (a signer writes SOA, its RRSIG, then NS).
    match starts_in_order(items, &name) {
        Some(starts) => {
            sort_each_name(items, &starts, &order);
            starts
        }
        None => sort_by_name(origin, items, &name, &order),
    }
}

/// [`name_starts`] of items whose names are in order, found by the pass that checks the
/// order: one comparison of neighbours, not an order check and then an equality check.
/// `None` at the first name out of order.
fn starts_in_order<T>(items: &[T], name: impl Fn(&T) -> &Name) -> Option<Vec<u32>> {
    let mut starts = Vec::new();
    let mut names = items.iter().map(&name);
    let Some(mut last) = names.next() else {
        return Some(vec![0]);
    };
    starts.push(0);
    for (i, next) in names.enumerate() {
        match last.cmp(next) {
            Ordering::Less => starts.push(i as u32 + 1),
            Ordering::Equal => {}
            Ordering::Greater => return None,
        }
        last = next;
    }
    starts.push(items.len() as u32);
    Some(starts)
}

/// Sorts the items of each name (which start at `starts`) by `order`, keeping equal ones in
/// their order.
fn sort_each_name<T>(items: &mut [T], starts: &[u32], order: &impl Fn(&T, &T) -> Ordering) {
    for at_name in starts.windows(2) {
        let at_name = &mut items[at_name[0] as usize..at_name[1] as usize];
        if at_name.len() > 1 {
            at_name.sort_by(order);
        }
    }
}

/// Where each name's items start in `items`, which are in zone order, and their number last.
pub(crate) fn name_starts<T>(items: &[T], name: impl Fn(&T) -> &Name) -> Vec<u32> {
    let mut starts: Vec<u32> =
        (0..items.len()).filter(|&i| i == 0 || name(&items[i]) != name(&items[i - 1])).map(|i| i as u32).collect();
    starts.push(items.len() as u32);
    starts
}

/// The bytes of a key that a sort item holds: 20 hold most keys whole (`_25._tcp.mail`
/// below the origin), where 16 left 40-56% of the items of a shuffled zone tied with their
/// neighbour, each tie a `memcmp` of the rest; with the run's index they make 24 bytes.
const PREFIX: usize = 20;
const _: () = assert!(std::mem::size_of::<SortItem>() == 24);
/// Set in a sort item's run when its key is longer than the item's prefix.
const LONG: u32 = 1 << 31;
/// Fewer records than this are sorted on one thread (fewer in tests, so that small lists
/// take both ways).
const MIN_PARALLEL_SORT: usize = if cfg!(test) { 64 } else { 1 << 14 };

/// One item of [`sort_by_name`]: a run of records of one name, by the first [`PREFIX`]
/// bytes of its key.
#[derive(Clone, Copy)]
struct SortItem {
    /// The [`KeyPrefix`], its fields here so that the item is 24 bytes, not 32.
    high: u64,
    middle: u64,
    low: u32,
    /// Index into [`SortKeys::runs`], with [`LONG`].
    run: u32,
}

impl SortItem {
    fn prefix(&self) -> KeyPrefix {
        (self.high, self.middle, self.low)
    }
}

/// The sort items of some records, and what they refer to.
struct SortKeys {
    items: Vec<SortItem>,
    /// Where each run of records of one name starts; it ends where the next one starts
    /// (the last entry is where the records end).
    runs: Vec<u32>,
    /// The bytes of each run's key after its prefix, for keys longer than the prefix.
    arena: Vec<u8>,
    /// Where each run's bytes start in the arena; they end where the next run's start.
    rests: Vec<u32>,
}

impl SortKeys {
    /// The sorted keys of `records`; `None` when their keys do not fit in 32-bit offsets,
    /// or a name is outside the origin (which the callers rule out first).
    fn sorted<T>(records: &[T], origin: &Name, name: &impl Fn(&T) -> &Name) -> Option<SortKeys> {
        // A key is as long as the name's text without the origin's, or shorter (escapes):
        // the arena's size is known without growing it (a copy of it, at its largest).
        let rests: usize =
            records.iter().map(|r| name(r).as_str().len().saturating_sub(origin_key_len(origin) + PREFIX)).sum();
        let mut keys = SortKeys {
            items: Vec::with_capacity(records.len()),
            runs: Vec::with_capacity(records.len() + 1),
            arena: Vec::with_capacity(rests),
            rests: Vec::with_capacity(records.len() + 1),
        };
        let mut key = Vec::with_capacity(256);
        for (i, r) in records.iter().enumerate() {
            // Records of one name mostly come together (zones are written name by name):
            // each run of them is one item, so that a zone grouped by name sorts its names,
            // and the records of one name never meet as a tie of equal long keys.
            if i > 0 && name(r) == name(&records[i - 1]) {
                continue;
            }
            let own = own_key(name(r), origin, &mut key)?;
            let prefix = key_prefix(own);
            let long = if own.len() > PREFIX { LONG } else { 0 };
            keys.rests.push(u32::try_from(keys.arena.len()).ok()?);
            keys.arena.extend_from_slice(&own[own.len().min(PREFIX)..]);
            let (high, middle, low) = prefix;
            keys.items.push(SortItem { high, middle, low, run: keys.runs.len() as u32 | long });
            keys.runs.push(i as u32);
        }
        keys.runs.push(records.len() as u32);
        keys.rests.push(u32::try_from(keys.arena.len()).ok()?);
        let mut items = std::mem::take(&mut keys.items);
        items.sort_unstable_by(|a, b| keys.compare(a, b));
        keys.items = items;
        Some(keys)
    }

    /// The bytes of an item's key after its prefix: on a tie, only they can differ.
    fn rest(&self, run: u32) -> &[u8] {
        let i = (run & !LONG) as usize;
        &self.arena[self.rests[i] as usize..self.rests[i + 1] as usize]
    }

    /// The records of an item's run.
    fn records(&self, run: u32) -> std::ops::Range<u32> {
        let i = (run & !LONG) as usize;
        self.runs[i]..self.runs[i + 1]
    }

    /// The order of items `a` and `b`.
    fn compare(&self, a: &SortItem, b: &SortItem) -> Ordering {
        a.prefix().cmp(&b.prefix()).then_with(|| {
            // Equal prefixes of keys that end within them are equal keys.
            if (a.run | b.run) & LONG == 0 { Ordering::Equal } else { self.rest(a.run).cmp(self.rest(b.run)) }
        })
    }
}

/// Sorts items into the canonical order of their names (RFC 4034 section 6.1), the
/// order of equal names left open, and returns where each name starts (see
/// [`sort_in_zone_order`]). Each name's canonical key is written once into one buffer,
/// without the origin's part that all of them share; the sort compares the first 24 bytes
/// of those keys as integers, and reads the rest only for a longer key on a tie. Comparing
/// names label by label at every step was 60% of checking a shuffled 1M-record zone, and a
/// key allocated per name still spent a third in `memcmp`.
///
/// A long list is first split in place by a key prefix near the median into a lower and an
/// upper part, which are then sorted apart, each on its own thread, and need no merge:
/// sorting the halves of the list as it came and merging them left the merge and the
/// moving of every item into place (a random walk over the items: a third of the sort) on
/// one thread.
fn sort_by_name<T: Send + Sync>(
    origin: &Name,
    records: &mut [T],
    name: &(impl Fn(&T) -> &Name + Sync),
    order: &(impl Fn(&T, &T) -> Ordering + Sync),
) -> Vec<u32> {
    // Indexes and key offsets are kept in 32 bits; beyond that (billions of names, more
    // memory than any zone here), the names are compared as they are.
    let by_labels = |records: &mut [T]| {
        records.sort_by(|a, b| name(a).cmp(name(b)).then_with(|| order(a, b)));
        name_starts(records, name)
    };
    if records.len() >= LONG as usize {
        return by_labels(records);
    }
    // The origin whose labels all keys would start with, left out of them, when every name
    // is in the zone (else the root, and whole keys).
    let mut origin = origin.clone();
    let sorted = if records.len() < MIN_PARALLEL_SORT {
        // A short list: no thread (a zone of ten records is sorted for every small plan).
        if !records.iter().all(|r| name(r).is_subdomain_of(&origin)) {
            origin = Name::root();
        }
        sort_part(records, &origin, name, order)
    } else {
        // The split reads every name: it finds one outside the zone on its way (a pass of
        // its own to find out was 40 ms of a 1M-record zone, a cache miss per name).
        let lower = split_at_median_prefix(records, &origin, name).unwrap_or_else(|| {
            origin = Name::root();
            split_at_median_prefix(records, &origin, name).expect("every name is at or below the root")
        });
        let (low, high) = records.split_at_mut(lower);
        let (low, high) = std::thread::scope(|scope| {
            let high = scope.spawn(|| sort_part(high, &origin, name, order));
            (sort_part(low, &origin, name, order), high.join().expect("a sorting thread does not panic"))
        });
        low.zip(high).map(|(mut low, high)| {
            // The lower part's end is the upper part's start.
            low.pop();
            low.extend(high.iter().map(|&start| start + lower as u32));
            low
        })
    };
    sorted.unwrap_or_else(|| by_labels(records))
}

/// The canonical key of `name` after `origin`'s part, written into `key`; `None` for a
/// name outside `origin`. A key is its labels from the root, each ended by 0x00 (which no
/// label octet is written as): the keys of names below one origin sort as the names do.
fn own_key<'k>(name: &Name, origin: &Name, key: &'k mut Vec<u8>) -> Option<&'k [u8]> {
    key.clear();
    name.write_canonical_key_below(origin, key).then_some(&key[..])
}

/// The length of `origin`'s part of the keys below it (its text's, the root's none).
fn origin_key_len(origin: &Name) -> usize {
    if origin.is_root() { 0 } else { origin.as_str().len() }
}

/// The first [`PREFIX`] bytes of a key, as integers.
type KeyPrefix = (u64, u64, u32);

/// The [`KeyPrefix`] of a key after the origin's part (`own`), zero-padded: a key's 0x00 is
/// always followed by a label octet, never by another 0x00, so the integer order is the
/// byte order of the keys.
fn key_prefix(own: &[u8]) -> KeyPrefix {
    let mut bytes = [0u8; PREFIX];
    let n = own.len().min(PREFIX);
    bytes[..n].copy_from_slice(&own[..n]);
    let word = |at: usize| u64::from_be_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    (word(0), word(8), u32::from_be_bytes(bytes[16..20].try_into().expect("4 bytes")))
}

/// Moves the items whose key prefix is below a median one (of a sample) before the others,
/// and returns how many they are. Items of one name go to the same side, and every item
/// of the first part sorts before every item of the second. `None`, with the items not
/// moved, when a name is outside `origin` (a name outside the zone).
fn split_at_median_prefix<T: Send + Sync>(
    records: &mut [T],
    origin: &Name,
    name: &(impl Fn(&T) -> &Name + Sync),
) -> Option<usize> {
    let prefix = |r: &T, key: &mut Vec<u8>| own_key(name(r), origin, key).map(key_prefix);
    let mut key = Vec::with_capacity(256);
    let step = (records.len() / 1024).max(1);
    let mut sample: Vec<KeyPrefix> =
        records.iter().step_by(step).map(|r| prefix(r, &mut key)).collect::<Option<_>>()?;
    sample.sort_unstable();
    let median = sample[sample.len() / 2];
    // Which side each item goes to, worked out on two threads; records of one name
    // together (as zones are mostly written) share the answer.
    let sides = |part: &[T]| {
        let mut key = Vec::with_capacity(256);
        let mut sides = Vec::with_capacity(part.len());
        for (i, r) in part.iter().enumerate() {
            let lower =
                if i > 0 && name(r) == name(&part[i - 1]) { sides[i - 1] } else { prefix(r, &mut key)? < median };
            sides.push(lower);
        }
        Some(sides)
    };
    let (first, second) = records.split_at(records.len() / 2);
    let mut lower = std::thread::scope(|scope| {
        let second = scope.spawn(|| sides(second));
        let first = sides(first);
        let second = second.join().expect("a sorting thread does not panic");
        first.zip(second).map(|(mut lower, second)| {
            lower.extend(second);
            lower
        })
    })?;
    // Hoare's partition: each pass swaps the first upper item with the last lower one.
    let (mut i, mut j) = (0, records.len());
    loop {
        while i < j && lower[i] {
            i += 1;
        }
        while i < j && !lower[j - 1] {
            j -= 1;
        }
        // Here either they met, or the first upper item is before the last lower one.
        if i >= j {
            return Some(i);
        }
        records.swap(i, j - 1);
        lower.swap(i, j - 1);
    }
}

/// Sorts `records` by [`SortKeys`], then the records of each name by `order`, on this
/// thread, and returns where each name starts, and the number of records last; `None`
/// when their keys do not fit in 32-bit offsets.
fn sort_part<T>(
    records: &mut [T],
    origin: &Name,
    name: &impl Fn(&T) -> &Name,
    order: &impl Fn(&T, &T) -> Ordering,
) -> Option<Vec<u32>> {
    let mut keys = SortKeys::sorted(records, origin, name)?;
    // Position k takes the record that was at sources[k]. A name's start is marked with
    // LONG when its records come from several runs.
    let mut sources: Vec<u32> = Vec::with_capacity(records.len());
    let mut starts: Vec<u32> = Vec::with_capacity(keys.items.len() + 1);
    for (i, item) in keys.items.iter().enumerate() {
        if i == 0 || keys.compare(&keys.items[i - 1], item).is_ne() {
            starts.push(sources.len() as u32);
        } else if let Some(start) = starts.last_mut() {
            *start |= LONG;
        }
        sources.extend(keys.records(item.run));
    }
    starts.push(records.len() as u32);
    let runs = std::mem::take(&mut keys.runs);
    drop(keys);
    // The records of each run are sorted where they lie, in the order they were read, which
    // is the order their data lies in memory (the sources name a run's positions in order,
    // so its records move in their new order). Sorted after the permutation, the records of
    // a name met in an order that sent each comparison of their data to memory: 4 ms of
    // each part's 10 in a signed zone of 334k records, against 2-2.5 ms here. The names
    // whose records come from several runs are sorted again once they are together.
    sort_each_name(records, &runs, order);
    drop(runs);
    // Apply the permutation in place, one cycle at a time; a position done is marked in
    // its entry of `sources` (indexes are below LONG).
    for start in 0..records.len() {
        if sources[start] & LONG != 0 {
            continue;
        }
        let mut at = start;
        loop {
            let from = sources[at] as usize;
            sources[at] |= LONG;
            if from == start {
                break;
            }
            records.swap(at, from);
            at = from;
        }
    }
    // Given back before the check that follows allocates: the faster sort ends before
    // mimalloc's 10 ms purge delay returns what it freed.
    drop(sources);
    for i in 0..starts.len() - 1 {
        if starts[i] & LONG != 0 {
            starts[i] &= !LONG;
            records[starts[i] as usize..(starts[i + 1] & !LONG) as usize].sort_by(order);
        }
    }
    Some(starts)
}

#[cfg(test)]
mod sort_tests {
    use super::*;
    use crate::rdata::RData;
    use crate::ttl::Ttl;

    /// A random name: one to four labels of escapes, octets 0 and 1 (which the key
    /// encodes specially), upper case and a wildcard; inside the origin or outside it.
    fn name(rng: &mut fastrand::Rng, origin: &Name) -> Name {
        const PIECES: &[&str] = &["a", "b", "A", "z", "\\000", "\\001", "\\.", "-", "0", "*", "ab", "a\\000"];
        let labels: Vec<String> = (0..rng.usize(1..=4))
            .map(|_| (0..rng.usize(1..=3)).map(|_| PIECES[rng.usize(..PIECES.len())]).collect())
            .collect();
        let text = labels.join(".");
        match rng.u8(..10) {
            0 => Name::parse(&format!("{text}.example.net")).unwrap(),
            1 => origin.clone(),
            _ => Name::parse_relative(&text, origin).unwrap(),
        }
    }

    /// Names in order with their records in another (as a signer writes them: SOA, its
    /// RRSIG, then NS) take the short way and still end in zone order.
    #[test]
    fn names_in_order_still_sort_their_records() {
        let origin = Name::parse("example.com").unwrap();
        let record = |name: &str, data: &str, rtype: RecordType| {
            let name = Name::parse_relative(name, &origin).unwrap();
            Record::new(name, Ttl::from_secs(300).unwrap(), RData::parse(rtype, data, Some(&origin)).unwrap())
        };
        let mut records = vec![
            record("@", "ns1 host 1 2 3 4 5", RecordType::Soa),
            record("@", "ns2", RecordType::Ns),
            record("@", "ns1", RecordType::Ns),
            record("a", "192.0.2.2", RecordType::A),
            record("a", "ns1", RecordType::Ns),
            record("a", "192.0.2.1", RecordType::A),
            record("b", "192.0.2.1", RecordType::A),
        ];
        let mut expected = records.clone();
        expected.sort_by(Record::zone_order);
        assert_ne!(records, expected);
        let starts = sort_in_zone_order(&origin, &mut records, |r| &r.name, Record::order_at_name);
        assert_eq!(records, expected);
        assert_eq!(starts, [0, 3, 6, 7]);
    }

    /// A long list of few names, in runs of five: the split at the median puts all the
    /// records of a name on one side (with one name, the list is in order already).
    #[test]
    fn a_long_list_of_few_names_sorts() {
        let origin = Name::parse("example.com").unwrap();
        for names in [1, 2, 3] {
            let mut records: Vec<Record> = (0..MIN_PARALLEL_SORT as u32 * 3)
                .map(|i| {
                    let name = Name::parse_relative(&format!("n{}", i / 5 % names), &origin).unwrap();
                    let data = RData::A(std::net::Ipv4Addr::from(i.wrapping_mul(7919)));
                    Record::new(name, Ttl::from_secs(300).unwrap(), data)
                })
                .collect();
            sorts_in_zone_order(&origin, &mut records, &format!("{names} names"));
        }
    }

    /// Sorting `records` gives the order of `Record::zone_order` (which compares names label
    /// by label, RFC 4034 section 6.1), and the starts of the names that comparing them finds.
    fn sorts_in_zone_order(origin: &Name, records: &mut [Record], what: &str) {
        let mut expected = records.to_vec();
        expected.sort_by(Record::zone_order);
        let starts = sort_in_zone_order(origin, records, |r| &r.name, Record::order_at_name);
        assert_eq!(records, expected, "{what}");
        assert_eq!(starts, name_starts(records, |r| &r.name), "{what}");
    }

    /// The key-based sort gives the order of `Record::zone_order`, which compares names
    /// label by label (RFC 4034 section 6.1), with and without names outside the zone.
    #[test]
    fn sorting_by_keys_is_zone_order() {
        let origin = Name::parse("example.com").unwrap();
        let mut rng = fastrand::Rng::with_seed(42);
        for round in 0..200 {
            let outside = round % 2 == 0;
            // Runs of one name (a zone written name by name) are sorted as one item:
            // about a third of the records repeat the name before them.
            let mut previous: Option<Name> = None;
            let mut records: Vec<Record> = (0..rng.usize(1..300))
                .map(|i| {
                    let mut n = match previous.take() {
                        Some(p) if rng.u8(0..3) == 0 => p,
                        _ => name(&mut rng, &origin),
                    };
                    if !outside && !n.is_subdomain_of(&origin) {
                        n = origin.clone();
                    }
                    previous = Some(n.clone());
                    Record::new(n, Ttl::from_secs(300).unwrap(), RData::A(std::net::Ipv4Addr::from(i as u32 % 7)))
                })
                .collect();
            sorts_in_zone_order(&origin, &mut records, &format!("round {round}"));
        }
    }
}
