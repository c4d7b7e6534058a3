//! Checks after parsing, as `named-checkzone` makes them, and normalization.

// foldhash: std's SipHash over a million names was 9% of a check.
use foldhash::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};

use super::reader::{Loc, Located};
use super::{Diagnostic, ReadOptions, Severity};
use crate::name::Name;
use crate::rdata::RData;
use crate::record::sort_in_zone_order;
use crate::rtype::RecordType;
use crate::ttl::Ttl;

/// Fewer records than this are checked on one thread: a second one costs more than it saves
/// (fewer in tests, so that small zones take both ways).
const MIN_PARALLEL_CHECKS: usize = if cfg!(test) { 64 } else { 1 << 14 };
/// How many stretches of names two threads share out between them.
const CHECK_STRETCHES: usize = 32;

pub(super) struct Checked {
    /// The records in zone order, normalized as [`Zone::from_normalized`] takes them.
    pub records: Vec<Located>,
    pub diagnostics: Vec<Diagnostic>,
    pub errors: usize,
}

struct Report<'f> {
    files: &'f [PathBuf],
    diagnostics: Vec<Diagnostic>,
    errors: usize,
}

impl<'f> Report<'f> {
    fn new(files: &'f [PathBuf]) -> Self {
        Report { files, diagnostics: Vec::new(), errors: 0 }
    }

    /// Adds `other`'s problems after this one's.
    fn append(&mut self, mut other: Report<'_>) {
        self.diagnostics.append(&mut other.diagnostics);
        self.errors += other.errors;
    }

    fn push(&mut self, loc: Option<Loc>, severity: Severity, message: String) {
        if severity == Severity::Error {
            self.errors += 1;
        }
        let (file, line) = loc.map_or((0, 0), |l| (l.file as usize, l.line));
        self.diagnostics.push(Diagnostic::new(&self.files[file], line, severity, &message));
    }
}

/// Sorts the records into zone order, reports what is wrong, and normalizes the rest.
/// `syntax_errors`: the reading already failed, so a missing SOA or NS may be the line
/// that failed, and is not reported. `parallel`: a large zone may be checked on two threads
/// (the tests compare both ways).
pub(super) fn check(
    origin: &Name,
    mut records: Vec<Located>,
    files: &[PathBuf],
    options: &ReadOptions,
    syntax_errors: bool,
    parallel: bool,
) -> Checked {
    // Equal records keep their file order, so "also at line N" names the earlier line.
    let by_line = |a: &Located, b: &Located| (a.loc.file, a.loc.line).cmp(&(b.loc.file, b.loc.line));
    // The names are sorted by a key computed once each, then each name's records among
    // themselves: comparing names label by label at every step of a sort took 80% of the
    // time on a shuffled zone.
    let order_at_name = |a: &Located, b: &Located| a.record.order_at_name(&b.record).then_with(|| by_line(a, b));
    let name_starts = sort_in_zone_order(origin, &mut records, |l| &l.record.name, order_at_name);
    // The checks of each name and set and the checks across names (MX/SRV targets, glue)
    // only read: on a large zone this thread checks those across names while a second
    // checks stretches of names, and then both take the stretches left. (The longer part
    // depends on the zone: across names 2.6 ms and the names 11 in a signed zone, 27-32
    // and 15-24 in the shuffled and foreign ones.) The checks across names make maps:
    // they are made on this thread, where the memory the sort freed is.
    let at_names = |name_starts: &[u32]| {
        let mut report = Report::new(files);
        // Where the records that repeat the one before them are (the zone keeps one), and
        // the sets whose TTLs differ, with the lowest.
        let (mut duplicates, mut lowest_ttls) = (Vec::new(), Vec::new());
        for at_name in name_starts.windows(2) {
            let (start, end) = (at_name[0] as usize, at_name[1] as usize);
            check_name(origin, &records[start..end], &mut report);
            let mut set_start = start;
            for set in records[start..end].chunk_by(|a, b| a.record.same_set_at_name(&b.record)) {
                check_set(origin, set, &mut report);
                note_normalization(set, set_start, &mut lowest_ttls, &mut duplicates);
                set_start += set.len();
            }
        }
        (report, duplicates, lowest_ttls)
    };
    let apex_and_targets = || {
        let mut report = Report::new(files);
        if !syntax_errors {
            check_apex(origin, &records, options.strict, &mut report);
        }
        check_targets(origin, &records, &mut report);
        report
    };
    let glue = || {
        let mut report = Report::new(files);
        // After a syntax error the missing address may be the line that failed.
        if options.check_glue && !syntax_errors {
            check_glue(origin, &records, &mut report);
        }
        report
    };
    let parallel = parallel && records.len() >= MIN_PARALLEL_CHECKS;
    // Stretches of about the same number of records, each from the start of a name.
    let mut stretches: Vec<&[u32]> = Vec::with_capacity(CHECK_STRETCHES);
    let mut from = 0;
    for k in (1..=CHECK_STRETCHES).filter(|_| parallel) {
        let to = name_starts.partition_point(|&s| (s as usize) < records.len() * k / CHECK_STRETCHES);
        let to = if k == CHECK_STRETCHES { name_starts.len() - 1 } else { to.max(from) };
        stretches.push(&name_starts[from..=to]);
        from = to;
    }
    let next = AtomicUsize::new(0);
    let ((mut report, duplicates, lowest_ttls), targets, glue) = std::thread::scope(|scope| {
        if !parallel {
            return (at_names(&name_starts), apex_and_targets(), glue());
        }
        // Both threads take the next stretch of names until none is left.
        let (next, stretches, at_names) = (&next, &stretches, &at_names);
        let take = move || {
            let mut done = Vec::new();
            loop {
                let k = next.fetch_add(1, AtomicOrdering::Relaxed);
                let Some(stretch) = stretches.get(k) else { return done };
                done.push((k, at_names(stretch)));
            }
        };
        let thread = scope.spawn(take);
        let (targets, glue) = (apex_and_targets(), glue());
        let mut done = take();
        done.extend(thread.join().expect("a checking thread does not panic"));
        // In zone order, as one pass finds them.
        done.sort_unstable_by_key(|(k, _)| *k);
        let mut names = (Report::new(files), Vec::new(), Vec::new());
        for (_, (report, mut duplicates, lowest_ttls)) in done {
            names.0.append(report);
            names.1.append(&mut duplicates);
            names.2.extend(lowest_ttls);
        }
        (names, targets, glue)
    });
    report.append(targets);
    report.append(glue);
    for (set, ttl) in lowest_ttls {
        for l in &mut records[set] {
            l.record.ttl = ttl;
        }
    }

    let mut diagnostics = report.diagnostics;
    // File order, then line; problems of the whole zone (line 0) last.
    let key = |d: &Diagnostic| (files.iter().position(|f| *f == d.file), if d.line == 0 { u32::MAX } else { d.line });
    diagnostics.sort_by_key(key);
    let errors = report.errors;
    if !duplicates.is_empty() {
        let mut duplicates = duplicates.into_iter().peekable();
        let mut index = 0;
        records.retain(|_| {
            let keep = duplicates.next_if_eq(&index).is_none();
            index += 1;
            keep
        });
    }
    Checked { records, diagnostics, errors }
}

fn line_of(files: &[PathBuf], current: Loc, other: Loc) -> String {
    if other.file == current.file {
        format!("line {}", other.line)
    } else {
        format!("{}:{}", files[other.file as usize].display(), other.line)
    }
}

/// Rules across the types at one name.
fn check_name(origin: &Name, at_name: &[Located], report: &mut Report<'_>) {
    let name = &at_name[0].record.name;
    let shown = || name.relative_to(origin);
    // Which of the types these rules are about the name has, in one pass that reads each
    // record's type once (it was read four times): most names have none of them.
    let (mut cname, mut dname, mut ds, mut soa) = (false, false, false, false);
    for l in at_name {
        match l.record.rtype() {
            RecordType::Cname => cname = true,
            RecordType::Other(39) => dname = true,
            RecordType::Ds => ds = true,
            RecordType::Soa => soa = true,
            _ => {}
        }
    }
    // The records to look through for each rule: none when the name has no such type.
    let only_if = |has: bool| if has { at_name } else { &[] };
    let cnames: Vec<&Located> = only_if(cname).iter().filter(|l| l.record.rtype() == RecordType::Cname).collect();
    if let Some(first) = cnames.first() {
        let beside = |t: RecordType| t != RecordType::Cname && !t.may_accompany_cname();
        if let Some(other) = at_name.iter().find(|l| beside(l.record.rtype())) {
            let at = line_of(report.files, first.loc, other.loc);
            report.push(
                Some(first.loc),
                Severity::Error,
                format!(
                    "CNAME and other data at {} ({} at {at}); a CNAME must be alone at its name",
                    shown(),
                    other.record.rtype()
                ),
            );
        }
        if let Some(second) = cnames.iter().skip(1).find(|l| l.record.data != first.record.data) {
            let at = line_of(report.files, second.loc, first.loc);
            report.push(
                Some(second.loc),
                Severity::Error,
                format!("more than one CNAME at {} (the other at {at})", shown()),
            );
        }
    }
    // RFC 6672 section 2.4: "There MUST NOT be more than one DNAME RR per owner name"
    // (BIND and Knot refuse the zone).
    let mut dnames = only_if(dname).iter().filter(|l| l.record.rtype() == RecordType::Other(39));
    if let Some(first) = dnames.next()
        && let Some(second) = dnames.find(|l| l.record.data != first.record.data)
    {
        let at = line_of(report.files, second.loc, first.loc);
        report.push(
            Some(second.loc),
            Severity::Error,
            format!("more than one DNAME at {} (the other at {at}); a name has one DNAME at most", shown()),
        );
    }
    if ds && name == origin {
        for ds in at_name.iter().filter(|l| l.record.rtype() == RecordType::Ds) {
            report.push(Some(ds.loc), Severity::Error, "DS at the zone apex; it belongs in the parent zone".into());
        }
    }
    if soa && name != origin {
        for soa in at_name.iter().filter(|l| l.record.rtype() == RecordType::Soa) {
            report.push(
                Some(soa.loc),
                Severity::Error,
                format!("SOA at {}, which is not the zone apex {origin}", shown()),
            );
        }
    }
}

/// One TTL for a set, the lowest, as resolvers would see it: a set (at index `start`) whose
/// TTLs differ is noted with its lowest, and the records that repeat the one before them
/// are noted to be dropped.
fn note_normalization(
    set: &[Located],
    start: usize,
    lowest_ttls: &mut Vec<(std::ops::Range<usize>, Ttl)>,
    duplicates: &mut Vec<usize>,
) {
    if set.len() == 1 {
        return;
    }
    let lowest = set.iter().map(|l| l.record.ttl).min().expect("sets are never empty");
    if set.iter().any(|l| l.record.ttl != lowest) {
        lowest_ttls.push((start..start + set.len(), lowest));
    }
    let repeats = set.windows(2).enumerate().filter(|(_, pair)| pair[0].record.data == pair[1].record.data);
    duplicates.extend(repeats.map(|(i, _)| start + i + 1));
}

/// Rules inside one record set: duplicates and TTLs.
fn check_set(origin: &Name, set: &[Located], report: &mut Report<'_>) {
    // One record repeats none, differs in TTL from none, and is one SOA (most sets of a
    // signed zone: each RRSIG is a set of its own).
    if set.len() == 1 {
        return;
    }
    let first = &set[0];
    let rtype = first.record.rtype();
    let shown = || first.record.name.relative_to(origin);
    for pair in set.windows(2) {
        if pair[0].record.data == pair[1].record.data {
            let at = line_of(report.files, pair[1].loc, pair[0].loc);
            report.push(
                Some(pair[1].loc),
                Severity::Warning,
                format!("duplicate {rtype} record at {} (also at {at}); merged", shown()),
            );
        }
    }
    if rtype == RecordType::Soa && set.len() > 1 {
        let distinct = set.windows(2).any(|p| p[0].record.data != p[1].record.data);
        if distinct {
            report.push(Some(set[1].loc), Severity::Error, format!("more than one SOA record at {}", shown()));
        }
    }
    let lowest = set.iter().min_by_key(|l| l.record.ttl).expect("sets are never empty");
    if let Some(other) = set.iter().find(|l| l.record.ttl != lowest.record.ttl) {
        let at = line_of(report.files, other.loc, lowest.loc);
        report.push(
            Some(other.loc),
            Severity::Warning,
            format!(
                "TTL {} differs from TTL {} ({at}) in the {rtype} set at {}; using {}",
                other.record.ttl,
                lowest.record.ttl,
                shown(),
                lowest.record.ttl
            ),
        );
    }
}

fn check_apex(origin: &Name, records: &[Located], strict: bool, report: &mut Report<'_>) {
    let apex_start = records.partition_point(|l| l.record.name < *origin);
    let at_apex = records[apex_start..].iter().take_while(|l| l.record.name == *origin);
    let (mut soa, mut ns) = (false, false);
    for l in at_apex {
        soa |= l.record.rtype() == RecordType::Soa;
        ns |= l.record.rtype() == RecordType::Ns;
    }
    let severity = if strict { Severity::Error } else { Severity::Warning };
    let supplied = if strict { "" } else { " (providers supply their own)" };
    if !soa {
        report.push(None, severity, format!("no SOA record at the apex {origin}{supplied}"));
    }
    if !ns {
        report.push(None, severity, format!("no NS records at the apex {origin}{supplied}"));
    }
}

/// An MX exchange or SRV target must be a host, not an alias (RFC 2181 section 10.3).
fn check_targets(origin: &Name, records: &[Located], report: &mut Report<'_>) {
    // One pass over the records (a million of them are 56 MB to stream) for both the
    // aliases and the records that name a target, kept by index: 4 bytes each at the
    // check's peak, where a reference to the record, its target and the words took 32.
    fn target(data: &RData) -> Option<(&Name, &'static str)> {
        match data {
            RData::Mx { exchange, .. } => Some((exchange, "MX exchange")),
            RData::Srv { target, .. } => Some((target, "SRV target")),
            _ => None,
        }
    }
    let mut aliases: HashSet<&Name> = HashSet::default();
    let mut naming: Vec<u32> = Vec::new();
    for (i, l) in records.iter().enumerate() {
        match &l.record.data {
            RData::Cname(_) => {
                aliases.insert(&l.record.name);
            }
            RData::Mx { .. } | RData::Srv { .. } => naming.push(i as u32),
            _ => {}
        }
    }
    if aliases.is_empty() {
        return;
    }
    for l in naming.into_iter().map(|i| &records[i as usize]) {
        if let Some((target, what)) = target(&l.record.data).filter(|(t, _)| aliases.contains(*t)) {
            report.push(
                Some(l.loc),
                Severity::Warning,
                format!("{what} {} of {} is a CNAME", target.relative_to(origin), l.record.name.relative_to(origin)),
            );
        }
    }
}

/// An NS target inside the zone must have an address record, as `kzonecheck` has it:
/// a target in the zone's own data needs one (the zone is its only source), and so does
/// a target below the delegation that names it (the glue a resolver needs to reach the
/// child). A target below some other delegation is that child's business. An address may
/// come from a wildcard at the target's closest encloser; a CNAME is no address (RFC 2181
/// section 10.3).
fn check_glue(origin: &Name, records: &[Located], report: &mut Report<'_>) {
    // The records are in zone order: a name's records are found by a binary search, with
    // no set of every address record (hashing a million names cost 7% of a check).
    let has_address = |name: &Name| {
        let start = records.partition_point(|l| l.record.name < *name);
        records[start..]
            .iter()
            .take_while(|l| l.record.name == *name)
            .any(|l| matches!(l.record.rtype(), RecordType::A | RecordType::Aaaa))
    };
    // One pass over the records for the NS ones.
    let name_servers: Vec<(&Located, &Name)> = records
        .iter()
        .filter_map(|l| match &l.record.data {
            RData::Ns(target) => Some((l, target)),
            _ => None,
        })
        .collect();
    let delegations: HashSet<&Name> =
        name_servers.iter().map(|(l, _)| &l.record.name).filter(|name| *name != origin).collect();
    let mut reported = HashSet::default();
    // Whether a target in the zone has an address, its own or a wildcard's, found once per
    // target: delegations share a few name servers (56k NS records naming one took 120 ms
    // of binary searches).
    let mut answered: HashMap<&Name, bool> = HashMap::default();
    for (l, target) in name_servers {
        if !target.is_subdomain_of(origin) {
            continue;
        }
        let addressed = *answered
            .entry(target)
            .or_insert_with(|| has_address(target) || wildcard_address(origin, target, records, has_address));
        if addressed {
            continue;
        }
        let below_other_delegation = std::iter::successors(Some(target.clone()), Name::parent)
            .take_while(|n| n != origin)
            .any(|n| n != l.record.name && delegations.contains(&n));
        if below_other_delegation {
            continue;
        }
        if !reported.insert((target, &l.record.name)) {
            continue;
        }
        let glue =
            if l.record.name != *origin && target.is_subdomain_of(&l.record.name) { " (missing glue)" } else { "" };
        report.push(
            Some(l.loc),
            Severity::Error,
            format!(
                "NS target {} of {} has no address records (A or AAAA){glue}",
                target.relative_to(origin),
                l.record.name.relative_to(origin)
            ),
        );
    }
}

/// Whether a wildcard answers `target` with an address: `*.P` has one, where P is the
/// closest encloser (the nearest ancestor that exists, as a name with data or an empty
/// non-terminal). In zone order a name's subtree follows it, so whether a name exists is
/// one binary search.
fn wildcard_address(origin: &Name, target: &Name, records: &[Located], has_address: impl Fn(&Name) -> bool) -> bool {
    let exists = |name: &Name| {
        let start = records.partition_point(|l| l.record.name < *name);
        records.get(start).is_some_and(|l| l.record.name.is_subdomain_of(name))
    };
    // A name that exists (with other data) is its own closest encloser: no wildcard.
    if exists(target) {
        return false;
    }
    let Some(encloser) = std::iter::successors(target.parent(), Name::parent)
        .take_while(|n| n.is_subdomain_of(origin))
        .find(|n| exists(n))
    else {
        return false;
    };
    encloser.prepend("*").is_ok_and(|wildcard| has_address(&wildcard))
}
