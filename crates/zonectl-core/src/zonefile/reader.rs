//! Reads zone files into located records.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};

use super::expand;
use super::{Diagnostic, Loaded, ReadOptions, Severity, ZoneFileError, check, origin_from_file_name};
use crate::lexer::{Lexer, Token, tokenize};
use crate::name::Name;
use crate::provider::Existing;
use crate::rdata::RData;
use crate::record::{Record, Zone};
use crate::rtype::RecordType;
use crate::ttl::{Ttl, parse_ttl_bytes};

/// Where a record was read: index into the file list, and line.
#[derive(Debug, Clone, Copy)]
pub(super) struct Loc {
    pub file: u32,
    pub line: u32,
}

/// A record and where it was read.
pub(super) struct Located {
    pub record: Record,
    pub loc: Loc,
}

/// Bytes read from a file at a time (less in tests, so that small texts take many rounds).
const CHUNK: usize = if cfg!(test) { 64 << 10 } else { 1 << 20 };
/// Text shorter than this is read on one thread: a second one costs more than it saves.
const MIN_SPLIT: usize = if cfg!(test) { 16 << 10 } else { 256 << 10 };
/// The head of a file, read before the rest is shared out: the directives at its top set
/// the state the rest is read in.
const HEAD: usize = if cfg!(test) { 4 << 10 } else { 64 << 10 };
/// About the bytes of each piece of a file that two threads share out (see
/// [`Reader::read_file_pieces`]): the thread that ends first waits at most for the piece the
/// other is reading, about half a millisecond of reading here.
const PIECE: u64 = if cfg!(test) { CHUNK as u64 } else { 256 << 10 };
/// The most pieces a file is cut into.
const MAX_PIECES: u64 = 1024;
/// How far past each cut of a file into pieces the start of an entry is looked for.
const PIECE_WINDOW: usize = if cfg!(test) { 4 << 10 } else { 8 << 10 };
/// The share of a file's pieces (at least 2) the reading thread leaves to the helper while
/// it readies the room for the helper's records (see [`Reader::touch_room_for`]); it takes
/// those still left after.
const RESERVE_SHARE: usize = 40;
/// The largest record list (in bytes) a helper reading half a file may hold apart.
const MAX_HALF_LIST: usize = if cfg!(test) { 1 << 20 } else { 16 << 20 };
/// `$INCLUDE` depth past which a cycle is assumed.
const MAX_INCLUDE_DEPTH: usize = 16;
/// The TTL of records that give none, when the file has neither `$TTL` nor an earlier TTL.
const FALLBACK_TTL: u32 = 3600;
/// The longest entry (a logical line): a record's data is at most 65535 octets, which no
/// presentation form needs more than four times over to write. A longer one is refused
/// before its tokens fill the memory.
const MAX_ENTRY: usize = 1 << 20;
/// A low guess at a record's bytes in a file (most take about 50), by which a text's size
/// tells how many records to reserve room for, and whether reading it on two threads pays.
const BYTES_PER_RECORD: usize = 40;

/// Reads, checks and normalizes the zone file at `path`.
pub fn read_file(path: &Path, options: &ReadOptions) -> Result<Loaded, ZoneFileError> {
    read_records(path, options).map(ReadRecords::into_loaded)
}

/// Reads and checks the zone file at `path` as [`read_file`] does, without making the zone
/// of it: what `zonectl check` needs (making the records of a zone of 334k records into a
/// [`Zone`] was 2% of its check).
pub fn check_file(path: &Path, options: &ReadOptions) -> Result<CheckedFile, ZoneFileError> {
    let read = read_records(path, options)?;
    Ok(CheckedFile { origin: read.origin, warnings: read.warnings, records: read.records })
}

/// A zone file read and checked by [`check_file`].
pub struct CheckedFile {
    /// The zone's origin.
    pub origin: Name,
    /// Warnings, in the order found.
    pub warnings: Vec<Diagnostic>,
    records: Vec<Located>,
}

impl CheckedFile {
    /// The number of records, after duplicates are merged.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the zone has no records (a file read with [`ReadOptions::allow_empty`]).
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// The records of the zone file at `path` as [`read_file`] reads them, in zone order, as a
/// provider lists them (without ids). They are the records read, each made an [`Existing`]
/// in place: a listing made from the zone's records was a second copy of them.
pub(crate) fn read_file_listing(path: &Path, options: &ReadOptions) -> Result<Vec<Existing>, ZoneFileError> {
    let read = read_records(path, options)?;
    Ok(read.records.into_iter().map(|l| Existing { record: l.record, id: None }).collect())
}

/// [`read_file`], the records still with their lines.
fn read_records(path: &Path, options: &ReadOptions) -> Result<ReadRecords, ZoneFileError> {
    let cannot = |e: std::io::Error| ZoneFileError::single(path, 0, format!("cannot read: {}", io_reason(&e)));
    // A FIFO or a device would block the reading (or never end): regular files only, as
    // for `$INCLUDE`.
    if !std::fs::metadata(path).map_err(cannot)?.is_file() {
        return Err(ZoneFileError::single(path, 0, "not a regular file (a FIFO, device or directory)".into()));
    }
    let file = File::open(path).map_err(cannot)?;
    let size = file.metadata().map_err(cannot)?.len();
    read_from(&file, size, path, options, true).0
}

/// Reads, checks and normalizes zone-file text; `source` names it in messages and is the
/// base of relative `$INCLUDE` paths and of the default origin.
pub fn read_str(text: &str, source: impl AsRef<Path>, options: &ReadOptions) -> Result<Loaded, ZoneFileError> {
    read_from(text.as_bytes(), text.len() as u64, source.as_ref(), options, true).0.map(ReadRecords::into_loaded)
}

/// A zone file read and checked: [`Loaded`], with each record's line.
struct ReadRecords {
    origin: Name,
    /// In zone order, normalized (see [`check::Checked`]).
    records: Vec<Located>,
    warnings: Vec<Diagnostic>,
    files: Vec<PathBuf>,
    had_comments: bool,
}

impl ReadRecords {
    fn into_loaded(self) -> Loaded {
        let ReadRecords { origin, records, warnings, files, had_comments } = self;
        let records = records.into_iter().map(|l| l.record).collect();
        Loaded { zone: Zone::from_normalized(origin, records), warnings, files, had_comments }
    }
}

/// A zone file's text, read by offset, so that two threads can each read a part of it: a
/// file, or text in memory.
trait Text: Sync {
    /// Reads into `buf` from `offset`; 0 at the end.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize>;
}

impl Text for File {
    #[cfg(unix)]
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(self, buf, offset)
    }

    #[cfg(windows)]
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        std::os::windows::fs::FileExt::seek_read(self, buf, offset)
    }
}

impl Text for [u8] {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        let rest = self.get(offset as usize..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    }
}

/// The bytes of a [`Text`] from one offset up to another, read in order.
struct Part<'t, T: ?Sized> {
    text: &'t T,
    at: u64,
    end: u64,
}

impl<T: Text + ?Sized> Read for Part<'_, T> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let room = (self.end.saturating_sub(self.at)).min(buf.len() as u64) as usize;
        if room == 0 {
            return Ok(0);
        }
        let n = self.text.read_at(&mut buf[..room], self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

/// A file's text, read in order from where it starts, and about how long it is.
trait Input: Read {
    /// The bytes it is expected to hold (a file may grow or shrink while it is read).
    fn expected_len(&self) -> u64;
}

impl<T: Text + ?Sized> Input for Part<'_, T> {
    fn expected_len(&self) -> u64 {
        self.end.saturating_sub(self.at)
    }
}

impl Input for File {
    fn expected_len(&self) -> u64 {
        self.metadata().map_or(CHUNK as u64, |m| m.len())
    }
}

/// Reads, checks and normalizes a zone file of `size` bytes from `text`, a long one on two
/// threads when `split`; returns also how it was split (for the tests that compare both
/// ways).
fn read_from<T: Text + ?Sized>(
    text: &T,
    size: u64,
    path: &Path,
    options: &ReadOptions,
    split: bool,
) -> (Result<ReadRecords, ZoneFileError>, Splits) {
    // Reserving by size saves the copies of a growing vector, and capacity not touched costs
    // no memory.
    let size_hint = usize::try_from(size).unwrap_or(usize::MAX) / BYTES_PER_RECORD;
    let mut reader = Reader::new(path, size_hint, options, split);
    let mut state = SourceState { origin: None, last_owner: None, last_ttl: None, dollar_ttl: None };
    // The halves of a long file (or of each of its stretches) are read by this thread and
    // one helper kept for the whole read. A thread spawned for each stretch (80 in a
    // 1M-record zone) shared the reading thread's core in some runs, for the whole run:
    // that thread's halves took 0.52-0.55 s instead of 0.32-0.35 s (21 moves from core to
    // core against 0-2). The helper ends with the read, and what it freed goes with it:
    // rayon's process-wide pool kept it, and a 1M-record plan peaked 40-70 MB higher. The
    // first halves are this thread's own: the memory of their records, once freed, serves
    // what this thread makes next (a plan's file, after both zones are freed), where two
    // pool threads' memory did not.
    let long = split && size >= MIN_SPLIT as u64;
    reader.helper_thread =
        long.then(|| rayon::ThreadPoolBuilder::new().num_threads(1).build().ok()).flatten().map(Arc::new);
    reader.read_text(text, size, &mut state);
    let splits = reader.splits;
    (finish(reader, options), splits)
}

/// Checks what was read and makes the zone of it.
fn finish(reader: Reader, options: &ReadOptions) -> Result<ReadRecords, ZoneFileError> {
    let Reader {
        files, mut diagnostics, mut errors, records, zone_origin, fallback_origin, had_comments, split, ..
    } = reader;
    if errors == 0 && records.is_empty() && !options.allow_empty {
        diagnostics.push(error(
            &files[0],
            0,
            "no records: the file is empty or holds only comments and directives".into(),
        ));
        errors += 1;
    }
    let Some(origin) = zone_origin.or(fallback_origin) else {
        if errors == 0 {
            diagnostics.push(error(&files[0], 0, "no origin: add $ORIGIN or pass --origin".into()));
        }
        return Err(ZoneFileError { diagnostics });
    };
    let checked = check::check(&origin, records, &files, options, errors > 0, split);
    errors += checked.errors;
    diagnostics.extend(checked.diagnostics);
    if errors > 0 {
        return Err(ZoneFileError { diagnostics });
    }
    Ok(ReadRecords { origin, records: checked.records, warnings: diagnostics, files, had_comments })
}

fn error(file: &Path, line: u32, message: String) -> Diagnostic {
    Diagnostic::new(file, line, Severity::Error, &message)
}

fn io_reason(e: &std::io::Error) -> String {
    // The kind reads better than the OS text with its "(os error 2)" suffix.
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "is a directory".into(),
        _ => e.to_string(),
    }
}

struct Reader {
    files: Vec<PathBuf>,
    diagnostics: Vec<Diagnostic>,
    errors: usize,
    records: Vec<Located>,
    /// The zone's origin once known.
    zone_origin: Option<Name>,
    /// The origin the file name implies, used when no `$ORIGIN` comes before the first record.
    fallback_origin: Option<Name>,
    warned_no_ttl: bool,
    had_comments: bool,
    /// The file crossed [`ReadOptions::max_records`]: reading stops.
    over_budget: bool,
    /// A helper reading the second half of a stretch, or a piece, of a file without
    /// `$TTL`: the TTL of the record before its first is not known to it.
    ttl_unknown: bool,
    /// Long stretches may be read in two halves on two threads.
    split: bool,
    /// How the reading was shared out between two threads.
    splits: Splits,
    options: ReadOptions,
    /// The thread that reads second halves, or pieces from a file's end, while this one
    /// reads the rest.
    helper_thread: Option<Arc<rayon::ThreadPool>>,
    /// The text read and not yet taken, and room (see [`Reader::read_source`]).
    read_buffer: Vec<u8>,
}

/// The owner an indented entry inherits. Usually the owner of the record just read, found
/// there rather than cloned for every record.
#[derive(Clone)]
enum LastOwner {
    Record(usize),
    Name(Name),
}

/// How a read was shared out between two threads (the tests check that each way is taken).
#[derive(Debug, Default, Clone, Copy)]
struct Splits {
    /// Stretches read in two halves.
    stretches: usize,
    /// Files shared out in pieces between two threads.
    files: usize,
    /// Of those files' pieces, those the helper read that were kept.
    pieces: usize,
    /// Pieces the helper read in a state other than the one they follow, or with errors,
    /// read again.
    pieces_again: usize,
    /// Files whose helper's pieces were all read again (the record budget ran out).
    files_again: usize,
}

/// A piece of a file the helper read (see [`Reader::read_file_pieces`]).
struct HelperPiece {
    piece: usize,
    /// Its records, the files it included and its problems, in the helper's lists.
    records: std::ops::Range<usize>,
    files: std::ops::Range<usize>,
    diagnostics: std::ops::Range<usize>,
    /// Where its reading got to (its lines counted from 1; short of its end when an entry
    /// is open there); `None` when the reading had to stop.
    end: Option<Position>,
    /// Whether it had errors.
    errors: bool,
    /// The state after it.
    state: SourceState,
}

/// Where reading a file got to: its bytes read, the line there, and whether an entry too
/// long to be one is being dropped up to the next line feed.
#[derive(Debug, Clone, Copy)]
struct Position {
    offset: u64,
    line: u32,
    skipping: bool,
}

impl Position {
    const START: Position = Position { offset: 0, line: 1, skipping: false };
}

/// The state RFC 1035 carries from one entry to the next, per file.
#[derive(Clone)]
struct SourceState {
    origin: Option<Name>,
    last_owner: Option<LastOwner>,
    last_ttl: Option<Ttl>,
    dollar_ttl: Option<Ttl>,
}

impl SourceState {
    /// The state after a second half or a piece read in `second`, whose records follow
    /// this reader's first `offset`: its owner and TTL where it set them, else this one's.
    fn follow(&mut self, second: SourceState, offset: usize) {
        *self = SourceState {
            last_owner: match second.last_owner {
                Some(LastOwner::Record(index)) => Some(LastOwner::Record(offset + index)),
                other => other.or(self.last_owner.take()),
            },
            last_ttl: second.last_ttl.or(self.last_ttl),
            ..second
        };
    }
}

impl Reader {
    fn report(&mut self, file: u32, line: u32, message: String) {
        self.errors += 1;
        let max = self.options.max_errors;
        if self.errors <= max {
            self.diagnostics.push(error(&self.files[file as usize], line, message));
        } else if self.errors == max + 1 {
            let plural = if max == 1 { "" } else { "s" };
            let stop = format!("more than {max} error{plural}; stopping (--max-errors sets how many)");
            self.diagnostics.push(error(&self.files[file as usize], line, stop));
        }
    }

    fn warn(&mut self, file: u32, line: u32, message: String) {
        let diagnostic = Diagnostic::new(&self.files[file as usize], line, Severity::Warning, &message);
        self.diagnostics.push(diagnostic);
    }

    /// A problem that is an error with `--strict` and a warning without.
    fn strictly(&mut self, file: u32, line: u32, message: String) {
        if self.options.strict { self.report(file, line, message) } else { self.warn(file, line, message) }
    }

    fn too_many_errors(&self) -> bool {
        self.errors > self.options.max_errors || self.over_budget
    }

    /// Room for `more` records within [`ReadOptions::max_records`]; past it, the error at
    /// the line that crossed it, and reading stops.
    fn room_for(&mut self, more: u64, file: u32, line: u32) -> bool {
        let max = self.options.max_records;
        if (self.records.len() as u64).saturating_add(more) <= max as u64 {
            return true;
        }
        if !self.over_budget {
            self.report(
                file,
                line,
                format!("more than {max} records in the file and its includes; stopping (`--max-records`, or `max_records` in zonectl.toml, lifts the cap)"),
            );
            self.over_budget = true;
        }
        false
    }

    /// Reads the main file, `text` of `size` bytes: its head here, then, when the rest is
    /// long, in pieces two threads share out (see [`Reader::read_file_pieces`]).
    fn read_text<T: Text + ?Sized>(&mut self, text: &T, size: u64, state: &mut SourceState) {
        let head = size.min(HEAD as u64);
        let part = Part { text, at: 0, end: head };
        let Some(mut at) = self.read_source(0, part, Position::START, head < size, state, 0) else {
            return;
        };
        // The helper's record list is moved into this one's at the end, and until the
        // memory it leaves is reused the read costs that much more: a list of a 1M-record
        // zone's second half (28 MB) took the check's peak from 186-191 MiB to 215-217. A
        // file whose second half holds more, by the density of its head, is read in
        // stretches, each split in two (see [`Reader::read_halves`]), which hold a few
        // thousand records apart at a time, at 4-7% more time.
        let bytes_per_record =
            if self.records.is_empty() { BYTES_PER_RECORD as u64 } else { at.offset / self.records.len() as u64 };
        let half_list = (size - at.offset) / 2 / bytes_per_record.max(1) * std::mem::size_of::<Located>() as u64;
        let pieces = (half_list <= MAX_HALF_LIST as u64)
            .then(|| self.file_pieces(text, at.offset, size, state.dollar_ttl.is_none()))
            .flatten();
        if let Some(bounds) = pieces {
            match self.read_file_pieces(text, at, &bounds, state) {
                Some(Ok(())) | None => return,
                Some(Err(first_end)) => at = first_end,
            }
        }
        self.read_source(0, Part { text, at: at.offset, end: size }, at, false, state, 0);
    }

    /// Where the rest of the main file, from `from` to `size`, may be cut into pieces for
    /// two threads to share out, when it is long and the zone's origin is known: about
    /// [`PIECE`] bytes each, each from the start of an entry as [`Reader::split_point`] finds
    /// one (a cut where none is found within [`PIECE_WINDOW`] is left out, and the pieces
    /// on both sides of it are one). The offsets where the pieces start, then `size`.
    fn file_pieces<T: Text + ?Sized>(&self, text: &T, from: u64, size: u64, need_ttl: bool) -> Option<Vec<u64>> {
        if !self.split || self.helper_thread.is_none() || self.zone_origin.is_none() || size - from < MIN_SPLIT as u64 {
            return None;
        }
        let count = ((size - from) / PIECE).clamp(2, MAX_PIECES);
        let mut bounds = vec![from];
        let mut window = vec![0; PIECE_WINDOW];
        for k in 1..count {
            // Two bytes before the cut (an escaped line feed), and room for the lines after it.
            let start = from + (size - from) * k / count - 2;
            let want = PIECE_WINDOW.min((size - start) as usize);
            let mut filled = 0;
            while filled < want {
                match text.read_at(&mut window[filled..want], start + filled as u64) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => filled += n,
                }
            }
            let cut = entry_start(&window[..filled], 2, need_ttl).map(|at| start + at as u64);
            if let Some(cut) = cut.filter(|&cut| cut > bounds[bounds.len() - 1]) {
                bounds.push(cut);
            }
        }
        bounds.push(size);
        (bounds.len() > 2).then_some(bounds)
    }

    /// Reads the main file from `at` in the pieces that start at `bounds` (the first at
    /// `at`; the file's size last), shared out with a helper thread: this thread takes them
    /// from the front, in order, and the helper from the back, each one read in the state
    /// this thread is in at `at`, its lines counted from 1, until the two meet. A piece goes
    /// to the thread that is free: with the file cut in two halves up front, a thread
    /// slowed by another task left the other idle as long (with one CPU taken 8 ms in every
    /// 20, the first thread of a 334k-record signed zone's check waited 15-20 ms for the
    /// second; now they end within 1-3 ms). Then, in the order of the file, a piece of the
    /// helper's is taken when the reading before it ended at its start outside an entry,
    /// in that state (a directive may have changed it), and it had no errors (which count
    /// across the file): its records follow, their lines moved on. Any other piece is read
    /// again here, in the state the reading before it left. `Err` with where this thread
    /// got to when the record budget ran out (the rest is read again from there), `None`
    /// once reading must stop.
    fn read_file_pieces<T: Text + ?Sized>(
        &mut self,
        text: &T,
        at: Position,
        bounds: &[u64],
        state: &mut SourceState,
    ) -> Option<Result<(), Position>> {
        let pool = self.helper_thread.clone()?;
        let (pieces, size) = (bounds.len() - 1, bounds[bounds.len() - 1]);
        let guess = SourceState {
            origin: state.origin.clone(),
            last_owner: None,
            last_ttl: state.dollar_ttl.and(state.last_ttl),
            dollar_ttl: state.dollar_ttl,
        };
        let mut helper = self.helper();
        helper.ttl_unknown = state.dollar_ttl.is_none();
        // Room for the records of about half the pieces (a list grown as they come is
        // copied each time it doubles).
        helper.records.reserve(usize::try_from((size - at.offset) / 2).unwrap_or(0) / BYTES_PER_RECORD);
        // The pieces no thread has taken; the helper starts with the last.
        let left = std::sync::Mutex::new(0..pieces - 1);
        let take = |from_front: bool, reserve: usize| {
            let mut left = left.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if left.len() <= reserve {
                None
            } else if from_front {
                left.next()
            } else {
                left.next_back()
            }
        };
        let mut read_by_helper: Vec<HelperPiece> = Vec::new();
        let helper_done = AtomicBool::new(false);
        // The helper thread is busy with its pieces: this one reads its own alone.
        self.split = false;
        let first_read = pool.in_place_scope(|scope| {
            scope.spawn(|_| {
                let mut piece = pieces - 1;
                loop {
                    let read = helper.read_piece(text, bounds, piece, &guess);
                    let stopped = read.end.is_none();
                    read_by_helper.push(read);
                    match take(false, 0).filter(|_| !stopped) {
                        Some(next) => piece = next,
                        None => break,
                    }
                }
                helper_done.store(true, AtomicOrdering::Release);
            });
            let (mut end, mut taken) = (at, 0);
            // Pieces while more than a reserve are left; then, with the room for the helper's
            // records readied, any the helper has not reached.
            for reserve in [(pieces / RESERVE_SHARE).max(2), 0] {
                while let Some(piece) = take(true, reserve) {
                    let part = Part { text, at: end.offset, end: bounds[piece + 1] };
                    end = self.read_source(0, part, end, true, state, 0)?;
                    taken = piece + 1;
                }
                if reserve > 0 && taken > 0 {
                    // As many records as this thread's pieces have, for the bytes of the rest.
                    let expected = self.records.len() as u64 * (size - bounds[taken]) / (bounds[taken] - at.offset);
                    self.touch_room_for(usize::try_from(expected).unwrap_or(usize::MAX), &helper_done);
                }
            }
            Some((end, taken))
        });
        self.split = true;
        let (mut end, taken) = first_read?;
        // In the order of the file: the helper took them from its end.
        read_by_helper.reverse();
        let within_budget = self.records.len() + helper.records.len() <= self.options.max_records;
        if !within_budget || !read_by_helper.iter().map(|p| p.piece).eq(taken..pieces) {
            self.splits.files_again += 1;
            return Some(Err(end));
        }
        self.splits.files += 1;
        // Each piece's lines were counted from 1, and the files it included follow those
        // included before it. In file order, its records, files and problems are the last
        // in the helper's lists.
        for piece in read_by_helper {
            let (records, files, diagnostics) = (
                helper.records.drain(piece.records.start..),
                helper.files.drain(piece.files.start..),
                helper.diagnostics.drain(piece.diagnostics.start..),
            );
            let fits = end.offset == bounds[piece.piece]
                && !end.skipping
                && state.origin == guess.origin
                && state.dollar_ttl == guess.dollar_ttl;
            let Some(piece_end) = piece.end.filter(|_| fits && !piece.errors) else {
                // Read in another state than the guess, or with errors (which count
                // toward the most to report across the file): read again here, from where
                // the reading got to, in the state there.
                drop((records, files, diagnostics));
                self.splits.pieces_again += 1;
                let last = piece.piece + 1 == pieces;
                let part = Part { text, at: end.offset, end: bounds[piece.piece + 1] };
                end = self.read_source(0, part, end, !last, state, 0)?;
                continue;
            };
            self.splits.pieces += 1;
            let (lines_before, helper_base) = (end.line - 1, piece.files.start as u32);
            let first_included = self.files.len() as u32;
            self.files.extend(files);
            let offset = self.records.len();
            self.records.extend(records.map(|mut l| {
                if l.loc.file == 0 {
                    l.loc.line += lines_before;
                } else {
                    l.loc.file = l.loc.file - helper_base + first_included;
                }
                l
            }));
            for mut d in diagnostics {
                if d.file == self.files[0] && d.line > 0 {
                    d.line += lines_before;
                }
                self.diagnostics.push(d);
            }
            end = Position { line: end.line + piece_end.line - 1, ..piece_end };
            let mut after = piece.state;
            if let Some(LastOwner::Record(index)) = &mut after.last_owner {
                *index -= piece.records.start;
            }
            state.follow(after, offset);
        }
        self.had_comments |= helper.had_comments;
        self.warned_no_ttl |= helper.warned_no_ttl;
        Some(Ok(()))
    }

    /// Reads piece `piece` of the file cut at `bounds` (see [`Reader::read_file_pieces`]),
    /// from the state `guess`, its lines counted from 1, after what this reader has.
    fn read_piece<T: Text + ?Sized>(
        &mut self,
        text: &T,
        bounds: &[u64],
        piece: usize,
        guess: &SourceState,
    ) -> HelperPiece {
        let (records, files, diagnostics, errors) =
            (self.records.len(), self.files.len(), self.diagnostics.len(), self.errors);
        let mut state = guess.clone();
        let (at, end) = (bounds[piece], bounds[piece + 1]);
        let more = piece + 2 < bounds.len();
        let from = Position { offset: at, ..Position::START };
        let end = self.read_source(0, Part { text, at, end }, from, more, &mut state, 0);
        HelperPiece {
            piece,
            records: records..self.records.len(),
            files: files..self.files.len(),
            diagnostics: diagnostics..self.diagnostics.len(),
            end,
            errors: self.errors > errors,
            state,
        }
    }

    /// Writes to one record's room in each page of the record list's spare capacity, for
    /// about `more` records, until `done`: the pages the helper's records will be moved
    /// into are then in memory before they are moved (a first write to a page is a fault,
    /// 1-1.5 us each here). This thread leaves the helper the last pieces of a file to read
    /// meanwhile (see [`RESERVE_SHARE`]): moving the 167k records of a signed zone's second
    /// half took 4-4.5 ms, and takes 0.7-0.9 ms after it.
    fn touch_room_for(&mut self, more: usize, done: &AtomicBool) {
        const PER_PAGE: usize = 4096 / std::mem::size_of::<Located>();
        let spare = self.records.spare_capacity_mut();
        let room = spare.len().min(more.saturating_add(more / 8));
        for (i, slot) in spare[..room].iter_mut().step_by(PER_PAGE).enumerate() {
            if i % 32 == 0 && done.load(AtomicOrdering::Acquire) {
                return;
            }
            *slot = std::mem::MaybeUninit::zeroed();
        }
    }

    /// Reads one file from `input`, which starts at `from`, `CHUNK` bytes at a time, so
    /// that memory holds the records but never the whole text. With `more`, text follows
    /// the input's end: an entry still open there is left for it. Returns where reading
    /// got to, `None` once it must stop.
    fn read_source(
        &mut self,
        file: u32,
        mut input: impl Input,
        from: Position,
        more: bool,
        state: &mut SourceState,
        depth: usize,
    ) -> Option<Position> {
        // The text read and not yet taken is `buf[..filled]`; the rest is room, zeroed once
        // and read into again and again: `read_to_end` zeroed each chunk's room before
        // reading into it, the whole file's size over the read. Rounds are a chunk, or the
        // input's expected length when it is less (a chunk's room zeroed for a small file
        // was 256 page faults).
        let round = usize::try_from(input.expected_len()).map_or(CHUNK, |expected| expected.clamp(4096, CHUNK));
        // The reader's buffer, kept from one call to the next (a file shared out between two
        // threads is read a piece at a time), and given back whatever the way out.
        let mut buf = std::mem::take(&mut self.read_buffer);
        let read = self.read_source_into(&mut buf, round, file, &mut input, from, more, state, depth);
        self.read_buffer = buf;
        read
    }

    /// [`Reader::read_source`] with its buffer, grown to `round` bytes past what is left
    /// as it reads.
    #[allow(clippy::too_many_arguments)]
    fn read_source_into(
        &mut self,
        buf: &mut Vec<u8>,
        round: usize,
        file: u32,
        input: &mut impl Input,
        from: Position,
        more: bool,
        state: &mut SourceState,
        depth: usize,
    ) -> Option<Position> {
        let mut filled = 0;
        let Position { offset: mut consumed, mut line, mut skipping } = from;
        let mut at_end = false;
        while !at_end {
            // Top the buffer up to a chunk past what is left from the previous round.
            let before = filled;
            if buf.len() < before + round {
                buf.resize(before + round, 0);
            }
            while filled < before + round {
                match input.read(&mut buf[filled..before + round]) {
                    Ok(0) => {
                        at_end = true;
                        break;
                    }
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.report(file, line, format!("cannot read: {}", io_reason(&e)));
                        return None;
                    }
                }
            }
            if let Some(nul) = memchr::memchr(0, &buf[before..filled]) {
                let nul_line = line + memchr::memchr_iter(b'\n', &buf[..before + nul]).count() as u32;
                self.report(file, nul_line, "binary data (a NUL byte): not a zone file".into());
                return None;
            }
            if skipping {
                match memchr::memchr(b'\n', &buf[..filled]) {
                    Some(i) => {
                        buf.copy_within(i + 1..filled, 0);
                        filled -= i + 1;
                        consumed += i as u64 + 1;
                        line += 1;
                        skipping = false;
                    }
                    None => {
                        consumed += filled as u64;
                        filled = 0;
                        continue;
                    }
                }
            }
            // Lex up to the last line feed; the partial line waits for the next chunk.
            let end = if at_end && !more {
                filled
            } else {
                match memchr::memrchr(b'\n', &buf[..filled]) {
                    Some(i) => i + 1,
                    None if filled > MAX_ENTRY => {
                        self.report(file, line, format!("a line longer than {MAX_ENTRY} bytes: not a zone file entry"));
                        consumed += filled as u64;
                        filled = 0;
                        skipping = true;
                        continue;
                    }
                    None => continue,
                }
            };
            let (read, next_line) = self.read_stretch(file, &buf[..end], line, !at_end || more, state, depth)?;
            line = next_line;
            buf.copy_within(read..filled, 0);
            filled -= read;
            consumed += read as u64;
            // An entry whose parentheses stay open past MAX_ENTRY bytes is no record.
            if filled > MAX_ENTRY {
                self.report(file, line, format!("an entry longer than {MAX_ENTRY} bytes (unbalanced parentheses?)"));
                consumed += filled as u64;
                filled = 0;
                skipping = true;
            }
        }
        Some(Position { offset: consumed, line, skipping })
    }

    /// Reads the entries of one stretch of a file's text that starts at `line`, on two
    /// threads where it is long and can be split safely. Returns how much was read (an
    /// entry still open at the end waits for more text when `more` follows) and the line
    /// there; `None` once reading must stop.
    fn read_stretch(
        &mut self,
        file: u32,
        text: &[u8],
        line: u32,
        more: bool,
        state: &mut SourceState,
        depth: usize,
    ) -> Option<(usize, u32)> {
        // Directives change the state the entries after them are read in (and `$INCLUDE`
        // the list of files): the text up to the last one is read first, on this thread.
        // Most zones have theirs at the top. `$` is rare in zone files: a search for it
        // alone is the fast one (memmem's reverse search for "\n$" was 4% of reading a
        // signed zone).
        let last_directive = memchr::memrchr_iter(b'$', text).find(|&i| i == 0 || text[i - 1] == b'\n');
        let Some(directive) = last_directive else {
            return self.read_halves(file, text, line, more, state, depth);
        };
        let prefix = memchr::memchr(b'\n', &text[directive..]).map_or(text.len(), |i| directive + i + 1);
        if text.len() - prefix < MIN_SPLIT {
            return self.read_entries(file, text, line, more, state, depth);
        }
        let (consumed, next_line) = self.read_entries(file, &text[..prefix], line, true, state, depth)?;
        let (rest, rest_line) = if consumed == prefix {
            self.read_halves(file, &text[prefix..], next_line, more, state, depth)?
        } else {
            // The directive's line was inside an entry (parentheses open across it).
            self.read_entries(file, &text[consumed..], next_line, more, state, depth)?
        };
        Some((consumed + rest, rest_line))
    }

    /// Reads a stretch without directives in two halves on two threads when it is long
    /// and can be split (see [`Reader::split_point`]), else in one.
    fn read_halves(
        &mut self,
        file: u32,
        text: &[u8],
        line: u32,
        more: bool,
        state: &mut SourceState,
        depth: usize,
    ) -> Option<(usize, u32)> {
        let Some(mid) = self.split_point(text, state.dollar_ttl.is_none()) else {
            return self.read_entries(file, text, line, more, state, depth);
        };
        let (first, second) = text.split_at(mid);
        let second_line = line + memchr::memchr_iter(b'\n', first).count() as u32;
        // The second half starts with an owner and no directive comes before it in this
        // stretch, so it starts in the state the first half starts in, its owner aside, and
        // without `$TTL` the TTL of the record before, which the first half may change: the
        // helper refuses a record that needs it (and the half is read again).
        let mut second_state = SourceState {
            origin: state.origin.clone(),
            last_owner: None,
            last_ttl: state.dollar_ttl.and(state.last_ttl),
            dollar_ttl: state.dollar_ttl,
        };
        let mut helper = self.helper();
        helper.ttl_unknown = state.dollar_ttl.is_none();
        let (first_read, second_read) = match self.helper_thread.clone() {
            Some(pool) => {
                let mut second_read = None;
                let first_read = pool.in_place_scope(|scope| {
                    scope.spawn(|_| {
                        second_read =
                            Some(helper.read_entries(file, second, second_line, more, &mut second_state, depth))
                    });
                    self.read_entries(file, first, line, true, state, depth)
                });
                (first_read, second_read.expect("the helper read its half"))
            }
            None => rayon::join(
                || self.read_entries(file, first, line, true, state, depth),
                || helper.read_entries(file, second, second_line, more, &mut second_state, depth),
            ),
        };
        let (first_consumed, first_end_line) = first_read?;
        // The guess holds when the first half ended where the second began, outside an
        // entry, and the second found nothing the reader must count across both halves
        // (errors, the record budget). Otherwise the second half is read again, after the
        // first, as one reader would.
        let within_budget = self.records.len() + helper.records.len() <= self.options.max_records;
        if first_consumed != mid || first_end_line != second_line || helper.errors > 0 || !within_budget {
            let (consumed, next_line) =
                self.read_entries(file, &text[first_consumed..], first_end_line, more, state, depth)?;
            return Some((first_consumed + consumed, next_line));
        }
        let (consumed, next_line) = second_read?;
        self.splits.stretches += 1;
        let offset = self.records.len();
        self.records.append(&mut helper.records);
        self.diagnostics.append(&mut helper.diagnostics);
        self.had_comments |= helper.had_comments;
        state.follow(second_state, offset);
        Some((mid + consumed, next_line))
    }

    /// Where a stretch without directives may be read in two halves: the start of a line
    /// near the middle that looks like the start of an entry with an owner (and, without
    /// `$TTL`, a TTL), once the zone's origin is known. Whether the first half really ends
    /// outside an entry (parentheses open across the middle) is known only once it is
    /// read: [`Reader::read_halves`] checks it then.
    fn split_point(&self, text: &[u8], need_ttl: bool) -> Option<usize> {
        if !self.split || text.len() < MIN_SPLIT || self.zone_origin.is_none() {
            return None;
        }
        entry_start(text, text.len() / 2, need_ttl)
    }

    fn new(path: &Path, size_hint: usize, options: &ReadOptions, split: bool) -> Reader {
        Reader {
            files: vec![path.to_owned()],
            diagnostics: Vec::new(),
            errors: 0,
            records: Vec::with_capacity(size_hint),
            zone_origin: options.origin.clone(),
            fallback_origin: origin_from_file_name(path),
            warned_no_ttl: false,
            had_comments: false,
            over_budget: false,
            ttl_unknown: false,
            split,
            splits: Splits::default(),
            options: options.clone(),
            helper_thread: None,
            read_buffer: Vec::new(),
        }
    }

    /// A reader for the second half of a stretch or pieces of a file: the same files,
    /// origin and options, on one thread, with no records.
    fn helper(&self) -> Reader {
        Reader {
            files: self.files.clone(),
            zone_origin: self.zone_origin.clone(),
            fallback_origin: self.fallback_origin.clone(),
            warned_no_ttl: self.warned_no_ttl,
            ..Reader::new(&self.files[0], 0, &self.options, false)
        }
    }

    /// Reads the entries of `text`, which starts at `line`, on this thread.
    fn read_entries(
        &mut self,
        file: u32,
        text: &[u8],
        line: u32,
        more: bool,
        state: &mut SourceState,
        depth: usize,
    ) -> Option<(usize, u32)> {
        let mut lexer = Lexer::chunk(text, line, more);
        let mut tokens = Vec::with_capacity(16);
        loop {
            if self.too_many_errors() {
                return None;
            }
            let start = match lexer.next_entry(&mut tokens) {
                Ok(Some(start)) => start,
                Ok(None) => break,
                Err(e) => {
                    self.report(file, e.line, e.message);
                    continue;
                }
            };
            let result = if !start.indented && tokens[0].raw.first() == Some(&b'$') {
                self.directive(file, start.line, &tokens, state, depth)
            } else {
                self.record(file, start.line, start.indented, &tokens, state)
            };
            if let Err(message) = result {
                self.report(file, start.line, message);
            }
        }
        self.had_comments |= lexer.saw_comment;
        Some((lexer.consumed(), lexer.line()))
    }

    fn directive(
        &mut self,
        file: u32,
        line: u32,
        tokens: &[Token<'_>],
        state: &mut SourceState,
        depth: usize,
    ) -> Result<(), String> {
        let keyword = String::from_utf8_lossy(tokens[0].raw).to_ascii_uppercase();
        let args = &tokens[1..];
        // A relative name in a directive is relative to the origin in force (BIND), which
        // before any $ORIGIN is the zone's.
        let current = state.origin.clone().or_else(|| self.current_zone_origin());
        match keyword.as_str() {
            "$ORIGIN" => {
                let [name] = args else { return Err("$ORIGIN takes one name".into()) };
                let origin = Name::parse_bytes(name.raw, current.as_ref()).map_err(|e| format!("bad $ORIGIN: {e}"))?;
                if file == 0 && self.zone_origin.is_none() && self.records.is_empty() {
                    self.zone_origin = Some(origin.clone());
                }
                self.warn_outside("$ORIGIN", &origin, file, line);
                state.origin = Some(origin);
                // RFC 1035 leaves the previous owner in force, but a relative one now reads
                // differently; BIND keeps the absolute name, and so do we.
            }
            "$TTL" => {
                let [ttl] = args else { return Err("$TTL takes one value".into()) };
                let ttl = parse_ttl_bytes(ttl.raw).ok_or_else(|| bad_ttl(ttl.raw))?;
                state.dollar_ttl = Some(ttl);
            }
            "$INCLUDE" => {
                let (path, origin) = match args {
                    [path] => (path, None),
                    [path, origin] => (path, Some(origin)),
                    _ => return Err("$INCLUDE takes a file name and an optional origin".into()),
                };
                let path = path.octets()?;
                let path = Path::new(std::str::from_utf8(&path).map_err(|_| "$INCLUDE file name is not UTF-8")?);
                let origin = match origin {
                    Some(o) => {
                        let origin = Name::parse_bytes(o.raw, current.as_ref())
                            .map_err(|e| format!("bad $INCLUDE origin: {e}"))?;
                        self.warn_outside("$INCLUDE origin", &origin, file, line);
                        Some(origin)
                    }
                    None => current,
                };
                if depth >= MAX_INCLUDE_DEPTH {
                    return Err(format!("$INCLUDE nested more than {MAX_INCLUDE_DEPTH} deep (a cycle?)"));
                }
                let including = &self.files[file as usize];
                let resolved = including.parent().map_or_else(|| path.to_owned(), |dir| dir.join(path));
                let included = self.open_include(including, &resolved)?;
                self.files.push(resolved);
                let index = (self.files.len() - 1) as u32;
                if self.zone_origin.is_none() {
                    self.zone_origin = self.current_zone_origin();
                }
                // The included file has its own origin and owner, and ours are unchanged after
                // it (RFC 1035 section 5.1); the default TTL carries in, and a $TTL it sets
                // stays in force after it, as in BIND.
                let mut inner =
                    SourceState { origin, last_owner: None, last_ttl: state.last_ttl, dollar_ttl: state.dollar_ttl };
                self.read_source(index, included, Position::START, false, &mut inner, depth + 1);
                state.dollar_ttl = inner.dollar_ttl;
            }
            "$GENERATE" => self.generate(file, line, args, current.as_ref(), state)?,
            _ => return Err(format!("unknown directive {keyword}")),
        }
        Ok(())
    }

    /// `$GENERATE range lhs [ttl] [class] type rhs`: one record per value of the range, at
    /// the directive's line, the owner and data made from their templates. As in BIND the
    /// data is one token (quote it when it has spaces), and the first bad record stops it.
    fn generate(
        &mut self,
        file: u32,
        line: u32,
        args: &[Token<'_>],
        origin: Option<&Name>,
        state: &mut SourceState,
    ) -> Result<(), String> {
        let [range, lhs, fields @ .., rhs] = args else {
            return Err("$GENERATE takes a range, an owner, [TTL] [class] type, and the data".into());
        };
        // The type comes right before the data: `MX 10 mail$` is not `MX "10 mail$"`.
        if fields.is_empty() || fields.len() > 3 || fields.last().and_then(|t| RecordType::parse_bytes(t.raw)).is_none()
        {
            return Err("$GENERATE takes a range, an owner, [TTL] [class] type, and the data as one token \
                        (quote data with spaces)"
                .into());
        }
        let range = expand::Range::parse(range.raw)?;
        // Counted before a record is made: a hostile line costs nothing.
        if !self.room_for(range.len(), file, line) {
            return Ok(());
        }
        let owner_template = expand::Template::parse(lhs.raw)?;
        let data_template = expand::Template::parse(rhs.raw)?;
        let (mut owner_text, mut data_text) = (Vec::new(), Vec::new());
        for value in range.values() {
            owner_template.expand(value, &mut owner_text);
            data_template.expand(value, &mut data_text);
            let owner = Name::parse_bytes(&owner_text, origin).map_err(|e| format!("$GENERATE owner: {e}"))?;
            let data = std::str::from_utf8(&data_text).map_err(|_| "$GENERATE data is not UTF-8".to_string())?;
            let mut tokens = fields.to_vec();
            tokens.extend(tokenize(data).map_err(|e| format!("$GENERATE data '{data}': {e}"))?);
            if let Err((message, _)) = self.record_data(file, line, owner, &tokens, state) {
                return Err(format!("$GENERATE at {value}: {message}"));
            }
        }
        Ok(())
    }

    /// Opens an `$INCLUDE`d file: a regular file (a FIFO would hang the reading), below
    /// the including file's directory unless the options allow anywhere (a zone file from
    /// a pull request must not read other files of the machine).
    fn open_include(&self, including: &Path, resolved: &Path) -> Result<File, String> {
        let shown = resolved.display();
        let meta =
            std::fs::metadata(resolved).map_err(|e| format!("cannot read $INCLUDE file {shown}: {}", io_reason(&e)))?;
        if !meta.is_file() {
            return Err(format!("$INCLUDE file {shown} is not a regular file"));
        }
        if !self.options.allow_include_anywhere {
            let dir = including.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let (dir, file) = (std::fs::canonicalize(dir), std::fs::canonicalize(resolved));
            if !matches!((&dir, &file), (Ok(d), Ok(f)) if f.starts_with(d)) {
                return Err(format!(
                    "$INCLUDE file {shown} is outside the directory of the file that includes it \
                     (--allow-include-anywhere allows it)"
                ));
            }
        }
        File::open(resolved).map_err(|e| format!("cannot read $INCLUDE file {shown}: {}", io_reason(&e)))
    }

    /// Warns at the directive when an origin it sets lies outside the zone: every relative
    /// name after it would be out of the zone (a relative origin is read relative to the one
    /// in force, which surprises who wrote it as absolute).
    fn warn_outside(&mut self, what: &str, origin: &Name, file: u32, line: u32) {
        if let Some(zone) = self.zone_origin.as_ref().filter(|zone| !origin.is_subdomain_of(zone)) {
            let message = format!(
                "{what} {origin} is outside the zone {zone} (a relative name is read relative to the origin in force)"
            );
            self.warn(file, line, message);
        }
    }

    /// A TXT string over 255 octets is split as Knot and PowerDNS do, with a warning (an
    /// error with `--strict`, as BIND has it); data that cannot fit in a record at all is
    /// an error.
    fn check_txt_lengths(&mut self, file: u32, line: u32, owner: &Name, data: &[Token<'_>]) -> Result<(), String> {
        if data.first().is_some_and(|t| t.raw == b"\\#") {
            return Ok(());
        }
        let mut wire = 0usize;
        for token in data {
            let len = token.octets()?.len();
            let strings = len.div_ceil(255).max(1);
            wire += len + strings;
            if len > 255 {
                let message = format!("{owner} TXT: a string of {len} octets is longer than 255; split into {strings}");
                self.strictly(file, line, message);
            }
        }
        if wire > usize::from(u16::MAX) {
            return Err(format!("{owner} TXT: {wire} octets of data; a record holds at most 65535"));
        }
        Ok(())
    }

    fn current_zone_origin(&self) -> Option<Name> {
        self.zone_origin.clone().or_else(|| self.fallback_origin.clone())
    }

    fn record(
        &mut self,
        file: u32,
        line: u32,
        indented: bool,
        tokens: &[Token<'_>],
        state: &mut SourceState,
    ) -> Result<(), String> {
        if self.zone_origin.is_none() {
            self.zone_origin = self.current_zone_origin();
        }
        let origin = state.origin.as_ref().or(self.zone_origin.as_ref());
        let (owner, rest) = if indented {
            let owner = match &state.last_owner {
                Some(LastOwner::Record(index)) => self.records[*index].record.name.clone(),
                Some(LastOwner::Name(name)) => name.clone(),
                None => return Err("no owner name: the first record starts with blank space".into()),
            };
            (owner, tokens)
        } else {
            let raw = tokens[0].raw;
            if origin.is_none() && !raw.ends_with(b".") {
                return Err(format!(
                    "relative name '{}' but no origin: add $ORIGIN or pass --origin",
                    String::from_utf8_lossy(raw)
                ));
            }
            let last = match &state.last_owner {
                Some(LastOwner::Record(index)) => Some(&self.records[*index].record.name),
                Some(LastOwner::Name(name)) => Some(name),
                None => None,
            };
            let owner = match last.filter(|last| last.is_read_from(raw, origin)) {
                Some(last) => last.clone(),
                None => Name::parse_bytes(raw, origin).map_err(|e| format!("bad owner name: {e}"))?,
            };
            (owner, &tokens[1..])
        };
        match self.record_data(file, line, owner, rest, state) {
            Ok(Ok(index)) => {
                if !indented {
                    state.last_owner = Some(LastOwner::Record(index));
                }
                Ok(())
            }
            Ok(Err(skipped)) => {
                if !indented {
                    state.last_owner = Some(LastOwner::Name(skipped));
                }
                Ok(())
            }
            Err((message, owner)) => {
                if !indented {
                    state.last_owner = Some(LastOwner::Name(owner));
                }
                Err(message)
            }
        }
    }

    /// Reads `[TTL] [class] type data` for `owner`; returns the index of the new record, the
    /// owner given back when its data is skipped (already reported), or the error with the
    /// owner given back.
    fn record_data(
        &mut self,
        file: u32,
        line: u32,
        owner: Name,
        rest: &[Token<'_>],
        state: &mut SourceState,
    ) -> Result<Result<usize, Name>, (String, Name)> {
        // Data outside the zone is skipped with a warning, as BIND and Knot do: a zone file
        // written for another server may carry it; `--strict` makes it an error.
        if let Some(zone) = self.zone_origin.as_ref().filter(|zone| !owner.is_subdomain_of(zone)) {
            if self.options.refuse_out_of_zone {
                return Err((format!("{owner} is outside the zone {zone}"), owner));
            }
            let message = format!("{owner} is outside the zone {zone}; ignored");
            self.strictly(file, line, message);
            return Ok(Err(owner));
        }
        match self.record_fields(file, line, &owner, rest, state) {
            Ok(_) if !self.room_for(1, file, line) => Ok(Err(owner)),
            Ok((ttl, data)) => {
                self.records.push(Located { record: Record::new(owner, ttl, data), loc: Loc { file, line } });
                Ok(Ok(self.records.len() - 1))
            }
            Err(message) => Err((message, owner)),
        }
    }

    fn record_fields(
        &mut self,
        file: u32,
        line: u32,
        owner: &Name,
        rest: &[Token<'_>],
        state: &mut SourceState,
    ) -> Result<(Ttl, RData), String> {
        // [TTL] [class] type, TTL and class in either order.
        let mut ttl = None;
        let mut index = 0;
        let rtype = loop {
            let token = rest.get(index).ok_or_else(|| format!("missing record type for {owner}"))?;
            index += 1;
            let raw = token.raw;
            // Most records name their class, in upper case: that word first.
            if raw == b"IN" {
                continue;
            }
            if raw.first().is_some_and(u8::is_ascii_digit) {
                if ttl.is_some() {
                    return Err(format!("two TTLs for {owner}"));
                }
                ttl = Some(parse_ttl_bytes(raw).ok_or_else(|| bad_ttl(raw))?);
            } else if let Some(rtype) = RecordType::parse_bytes(raw) {
                if rtype.is_meta() {
                    return Err(meta_type(raw));
                }
                break rtype;
            } else if raw.eq_ignore_ascii_case(b"IN") || raw.eq_ignore_ascii_case(b"CLASS1") {
                // CLASS1 is IN in RFC 3597's generic form.
                continue;
            } else if is_class(raw) {
                return Err(format!("class {} is not supported (only IN)", String::from_utf8_lossy(raw)));
            } else if META_MNEMONICS.iter().any(|m| raw.eq_ignore_ascii_case(m.as_bytes())) {
                return Err(meta_type(raw));
            } else {
                return Err(format!("unknown record type '{}'", String::from_utf8_lossy(raw)));
            }
        };
        if rtype == RecordType::Txt {
            self.check_txt_lengths(file, line, owner, &rest[index..])?;
        }
        let origin = state.origin.as_ref().or(self.zone_origin.as_ref());
        let data = RData::from_tokens(rtype, &rest[index..], origin).map_err(|e| format!("{owner} {rtype}: {e}"))?;
        let ttl = match ttl {
            Some(ttl) => {
                state.last_ttl = Some(ttl);
                ttl
            }
            None => match (state.dollar_ttl.or(state.last_ttl), &data) {
                (Some(ttl), _) => ttl,
                (None, _) if self.ttl_unknown => return Err(format!("{owner}: no TTL known to this half")),
                // As BIND: with no TTL anywhere, the SOA's minimum is the SOA's TTL and the
                // default for the records after it.
                (None, RData::Soa(soa)) => {
                    let ttl = Ttl::from_secs(soa.minimum)
                        .ok_or_else(|| format!("{owner} SOA: minimum {} is too large for a TTL", soa.minimum))?;
                    self.warn(file, line, format!("no TTL given and no $TTL; using the SOA minimum {}", soa.minimum));
                    self.warned_no_ttl = true;
                    state.last_ttl = Some(ttl);
                    ttl
                }
                (None, _) => {
                    if !self.warned_no_ttl {
                        self.warned_no_ttl = true;
                        self.warn(file, line, format!("no TTL given and no $TTL; using {FALLBACK_TTL}"));
                    }
                    Ttl::from_secs(FALLBACK_TTL).expect("in range")
                }
            },
        };
        Ok((ttl, data))
    }
}

/// The first line after `from` in `text` that looks like the start of an entry with an
/// owner (and, with `need_ttl`, a TTL): not blank, a comment, a directive, a line that
/// closes a parenthesis, or one after an escaped line feed. `from` is at least 2.
fn entry_start(text: &[u8], from: usize, need_ttl: bool) -> Option<usize> {
    let mut at = from;
    // A signed zone has a dozen indented lines for each owner.
    for _ in 0..1024 {
        at += memchr::memchr(b'\n', &text[at..])? + 1;
        let line = &text[at..at + memchr::memchr(b'\n', &text[at..])?];
        // Not blank, a comment or a directive; not after an escaped line feed.
        let owner = line.first().is_some_and(|b| !b" \t\r;()\"$".contains(b)) && text[at - 2] != b'\\';
        // A line that closes a parenthesis before opening one continues an entry.
        let closes = memchr::memchr3(b'(', b')', b';', line).is_some_and(|i| line[i] == b')');
        let ttl = || {
            let after_owner = line.iter().position(|b| matches!(b, b' ' | b'\t')).unwrap_or(line.len());
            line[after_owner..].iter().find(|b| !matches!(b, b' ' | b'\t')).is_some_and(u8::is_ascii_digit)
        };
        if owner && !closes && (!need_ttl || ttl()) {
            return Some(at);
        }
    }
    None
}

fn bad_ttl(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    match Ttl::parse(&text) {
        Err(e) => e.to_string(),
        Ok(_) => format!("invalid TTL '{text}'"),
    }
}

/// Meta-types by name (ANY is read as the class). Their codes are refused by
/// [`RecordType::is_meta`].
const META_MNEMONICS: [&str; 7] = ["OPT", "TKEY", "TSIG", "IXFR", "AXFR", "MAILB", "MAILA"];

fn meta_type(raw: &[u8]) -> String {
    format!(
        "{} is a meta-type (RFC 6895), which cannot be record data",
        String::from_utf8_lossy(raw).to_ascii_uppercase()
    )
}

fn is_class(raw: &[u8]) -> bool {
    ["CH", "CS", "HS", "ANY", "NONE"].iter().any(|c| raw.eq_ignore_ascii_case(c.as_bytes()))
        || (raw.len() > 5 && raw[..5].eq_ignore_ascii_case(b"CLASS"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zone file of about `size` bytes with what makes a split unsafe near anywhere:
    /// parentheses across lines (continuations that look like owners among them), indented
    /// owners, comments with parentheses, escaped line feeds, `$ORIGIN` and `$TTL` now and
    /// then (or never) within `directives` (a range of offsets), records with and without
    /// TTLs, and, when `errors`, bad lines.
    fn zone_text(
        rng: &mut fastrand::Rng,
        size: usize,
        dollar_ttl: bool,
        errors: bool,
        directives: std::ops::Range<usize>,
    ) -> String {
        let mut text = String::from("$ORIGIN example.com.\n");
        if dollar_ttl {
            text.push_str("$TTL 300\n");
        }
        text.push_str("@ 3600 IN SOA ns1 host ( 1 2 3 4 5 )\n@ 3600 NS ns1\nns1 3600 A 192.0.2.1\n");
        let mut n = 0;
        while text.len() < size {
            n += 1;
            let ttl = if rng.bool() { format!(" {}", rng.u32(1..100_000)) } else { String::new() };
            let line = match rng.u8(..40) {
                0..=9 => format!("h{n}{ttl} IN A 192.0.2.{}\n", rng.u8(..)),
                10..=13 => format!("h{n}{ttl} AAAA 2001:db8::{n:x}\n  TXT \"t{n}\"\n\tMX 10 mail\n"),
                14..=16 => format!("mx{n}{ttl} MX (\n10\nmail{n} )\n"),
                17..=18 => format!("t{n}{ttl} TXT (\n\"a;(\" ; a comment (\n  \"b\" )\n"),
                19 => format!("e{n}{ttl} TXT a\\\nb\n"),
                20 => "; a comment line ( not a paren\n\n".to_string(),
                // A few directives: the text after the last one is split.
                21 if directives.contains(&text.len()) && rng.u16(..100) == 0 => format!("$ORIGIN s{n}.example.com.\n"),
                22 if directives.contains(&text.len()) && dollar_ttl && rng.u16(..30) == 0 => {
                    format!("$TTL {}\n", rng.u32(1..1000))
                }
                23 => format!("out{n}.example.net.{ttl} A 192.0.2.9\n"),
                // Errors in the last third only: the first half is clean, the second is not.
                24 if errors && text.len() > size / 3 * 2 && rng.u8(..4) == 0 => format!("bad{n} A 999.0.0.1\n"),
                25 if errors && text.len() > size / 3 * 2 && rng.u8(..8) == 0 => format!("unclosed{n} TXT ( \"x\"\n"),
                26 => format!("h{n}{ttl} A 192.0.2.1\nh{n} A 192.0.2.1\n"),
                // Targets that are aliases (warnings), delegations without glue (errors).
                27 => format!("c{n}{ttl} CNAME h{}\n", rng.u32(..n)),
                28 => format!("m{n}{ttl} MX 10 c{}\n", rng.u32(..n)),
                29 if errors && rng.u8(..4) == 0 => format!("z{n}{ttl} NS ns.z{n}\nz{n} NS ns1\n"),
                _ => format!("s{n}{ttl} SRV 0 5 443 h{}\n", rng.u32(..n)),
            };
            text.push_str(&line);
        }
        text
    }

    fn summary(result: &Result<ReadRecords, ZoneFileError>) -> String {
        match result {
            Ok(read) => {
                let records: Vec<_> = read.records.iter().map(|l| (&l.record, l.loc.file, l.loc.line)).collect();
                format!("{:?}\n{:?}\n{}", records, read.warnings, read.had_comments)
            }
            Err(err) => format!("{:?}", err.diagnostics),
        }
    }

    /// The records of one owner hold one copy of its name, whether the owner is written
    /// again (in another case, or absolute) or left blank; a name written anew under
    /// another origin is another name.
    #[test]
    fn the_records_of_an_owner_share_its_name() {
        let text = "$ORIGIN example.com.\n@ 3600 IN SOA ns1 host 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n\
                    www A 192.0.2.1\nWWW A 192.0.2.2\nwww.example.com. A 192.0.2.3\n  AAAA 2001:db8::1\n\
                    $ORIGIN sub.example.com.\nwww A 192.0.2.4\n";
        let read = read_from(text.as_bytes(), text.len() as u64, Path::new("t.zone"), &ReadOptions::default(), false);
        let records = read.0.unwrap().records;
        let at = |name: &str| -> Vec<&Name> {
            records.iter().map(|l| &l.record.name).filter(|n| n.as_str() == name).collect()
        };
        let www = at("www.example.com.");
        assert_eq!(www.len(), 4);
        assert!(www.iter().all(|n| n.shares_text_with(www[0])), "{www:?}");
        let sub = at("www.sub.example.com.");
        assert_eq!(sub.len(), 1);
        assert!(!sub[0].shares_text_with(www[0]));
    }

    /// Read on two threads, a file means what it means read on one: the same records,
    /// warnings and errors, in the same order, at the same lines, and as many errors before
    /// reading stops. Each way of sharing it out is taken: pieces of the file, the helper's
    /// read ahead in the state of the head (directives only there, or in its pieces), and
    /// those read again when a directive before them changed the state or they have errors,
    /// or all of them when the record budget runs out; and stretches split in two.
    #[test]
    fn two_threads_read_what_one_reads() {
        let mut rng = fastrand::Rng::with_seed(23);
        let mut splits = Splits::default();
        for round in 0..16 {
            let (dollar_ttl, errors) = (round % 2 == 0, round % 3 == 0);
            let max_errors = if round % 6 == 0 { 3 } else { 100 };
            // The budget runs out in the middle of one round's file.
            let max_records = if round == 4 { 4_000 } else { 50_000_000 };
            let options = ReadOptions { max_records, max_errors, ..ReadOptions::default() };
            // Many rounds of reading, each split in two.
            let size = 8 * CHUNK + rng.usize(..CHUNK);
            let directives = match round % 4 {
                0 => 0..HEAD / 2,
                1 | 2 => 0..size / 4,
                _ => size * 3 / 4..size,
            };
            let text = zone_text(&mut rng, size, dollar_ttl, errors, directives);
            let one = read_from(text.as_bytes(), text.len() as u64, Path::new("t.zone"), &options, false);
            let two = read_from(text.as_bytes(), text.len() as u64, Path::new("t.zone"), &options, true);
            assert_eq!((one.1.stretches, one.1.files, one.1.files_again), (0, 0, 0));
            assert_eq!(summary(&one.0), summary(&two.0), "round {round} (dollar_ttl {dollar_ttl}, errors {errors})");
            splits.stretches += two.1.stretches;
            splits.files += two.1.files;
            splits.pieces += two.1.pieces;
            splits.pieces_again += two.1.pieces_again;
            splits.files_again += two.1.files_again;
        }
        // Not a comparison of two one-thread readings.
        // (Which pieces the helper reads depends on the timing; the test below makes it
        // read several.)
        assert!(splits.files >= 4 && splits.pieces_again >= 4 && splits.files_again >= 1, "{splits:?}");
        // A file whose second half would hold a list of records over MAX_HALF_LIST is
        // read in stretches, and means the same.
        let text = zone_text(&mut rng, 4 * MAX_HALF_LIST, true, false, 0..HEAD / 2);
        let options = ReadOptions::default();
        let one = read_from(text.as_bytes(), text.len() as u64, Path::new("t.zone"), &options, false);
        let two = read_from(text.as_bytes(), text.len() as u64, Path::new("t.zone"), &options, true);
        assert_eq!(summary(&one.0), summary(&two.0));
        assert_eq!(two.1.files + two.1.files_again, 0, "{:?}", two.1);
        assert!(two.1.stretches > 20, "{:?}", two.1);
    }

    /// A file read in two halves from disk, with `$INCLUDE`s in both: the files the second
    /// half includes are numbered after those the first includes, as one reader numbers
    /// them, and their lines are their own.
    #[test]
    fn a_second_half_includes_files_after_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut text =
            String::from("$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n");
        for (part, include) in [("first", "a.inc"), ("second", "b.inc")] {
            for i in 0..2_000 {
                text.push_str(&format!("{part}{i} A 192.0.2.{}\n", i % 250));
            }
            text.push_str(&format!("$INCLUDE {include} {part}.example.com.\n"));
            // A string over 255 octets: a warning at its line.
            let long = "x".repeat(300);
            std::fs::write(dir.path().join(include), format!("a TXT \"{long}\"\nb A 192.0.2.1\n")).unwrap();
            text.push_str(&format!("{part}-long TXT \"{long}\"\n"));
        }
        let path = dir.path().join("example.com.zone");
        std::fs::write(&path, &text).unwrap();
        let options = ReadOptions::default();
        let file = File::open(&path).unwrap();
        let one = read_from(&file, text.len() as u64, &path, &options, false);
        let two = read_from(&file, text.len() as u64, &path, &options, true);
        assert_eq!(two.1.files, 1, "{:?}", two.1);
        assert_eq!(summary(&one.0), summary(&two.0));
        let read = two.0.unwrap();
        assert_eq!(read.files.len(), 3);
        assert!(read.files[2].ends_with("b.inc"), "{:?}", read.files);
        let warnings: Vec<_> = read.warnings.iter().map(|w| (w.file.file_name().unwrap().to_owned(), w.line)).collect();
        let expected = [("example.com.zone", 2007), ("example.com.zone", 4009), ("a.inc", 1), ("b.inc", 1)];
        for (file, line) in expected {
            assert!(warnings.contains(&(file.into(), line)), "{file}:{line} not in {warnings:?}");
        }
    }

    /// A text whose reading below `held_below` (past its head) waits until something is
    /// read from below `release`, both in reads longer than those that look for where to
    /// cut it: the first thread's pieces wait for the helper's.
    struct HeldFront<'t> {
        text: &'t [u8],
        held_below: u64,
        release: u64,
        released: AtomicBool,
    }

    impl Text for HeldFront<'_> {
        fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
            let piece = buf.len() > PIECE_WINDOW;
            if piece && offset < self.release && offset >= self.held_below {
                self.released.store(true, AtomicOrdering::Release);
            }
            if piece && offset >= HEAD as u64 && offset < self.held_below {
                // Not forever: a reader that never reaches the release fails the test below.
                let waiting = std::time::Instant::now();
                while !self.released.load(AtomicOrdering::Acquire) && waiting.elapsed().as_secs() < 5 {
                    std::thread::yield_now();
                }
            }
            self.text.read_at(buf, offset)
        }
    }

    /// A file whose first thread is slow: the helper reads pieces from the end until the
    /// two meet, and the records, lines, included files and warnings of its pieces follow
    /// the first thread's, in order, as one thread reads them.
    #[test]
    fn the_helper_reads_pieces_from_the_end_until_the_threads_meet() {
        let dir = tempfile::tempdir().unwrap();
        let mut text =
            String::from("$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n");
        let long = "x".repeat(300);
        for section in 0..16 {
            for i in 0..1_000 {
                text.push_str(&format!("s{section}-{i} A 192.0.2.{}\n  TXT \"t{i}\"\n", i % 250));
            }
            // An included file (with a warning of its own) and a warning in the file.
            let include = format!("s{section}.inc");
            std::fs::write(dir.path().join(&include), format!("a TXT \"{long}\"\nb A 192.0.2.1\n")).unwrap();
            text.push_str(&format!("$INCLUDE {include} s{section}.example.com.\n"));
            text.push_str(&format!("s{section}-long TXT \"{long}\"\n"));
        }
        let path = dir.path().join("example.com.zone");
        let size = text.len() as u64;
        let held =
            HeldFront { text: text.as_bytes(), held_below: size / 2, release: size * 5 / 8, released: false.into() };
        let options = ReadOptions::default();
        let one = read_from(text.as_bytes(), size, &path, &options, false);
        let two = read_from(&held, size, &path, &options, true);
        assert_eq!(summary(&one.0), summary(&two.0));
        // The helper read the last three eighths, in pieces, before the first thread began.
        let pieces = size / PIECE;
        assert!(pieces >= 8, "{pieces} pieces");
        assert!(two.1.files == 1 && two.1.pieces as u64 >= pieces * 3 / 8 && two.1.pieces_again == 0, "{:?}", two.1);
        let read = two.0.unwrap();
        assert_eq!(read.files.len(), 17);
        assert!(read.files.iter().skip(1).zip(0..).all(|(f, s)| f.ends_with(format!("s{s}.inc"))), "{:?}", read.files);
        assert_eq!(read.warnings.iter().filter(|w| w.file == path).count(), 16);
        assert_eq!(read.records.len(), 3 + 16 * (2_000 + 3));
    }

    /// Checking a file finds what reading it finds: its origin, its records after
    /// duplicates are merged, its warnings, and its errors.
    #[test]
    fn checking_a_file_finds_what_reading_it_finds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("example.com.zone");
        let long = "x".repeat(300);
        std::fs::write(&path, format!("@ 300 SOA ns1 host 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\nx A 192.0.2.1\nx A 192.0.2.1\nt TXT \"{long}\"\n")).unwrap();
        let options = ReadOptions::default();
        let (read, checked) = (read_file(&path, &options).unwrap(), check_file(&path, &options).unwrap());
        assert_eq!((checked.origin.as_str(), checked.len()), ("example.com.", 5));
        assert_eq!((read.zone.origin(), read.zone.len()), (&checked.origin, checked.len()));
        assert_eq!(format!("{:?}", read.warnings), format!("{:?}", checked.warnings));
        assert_eq!(checked.warnings.len(), 2);
        std::fs::write(&path, "@ 300 SOA ns1 host 1 2 3 4 5\nx A 999.0.0.1\n").unwrap();
        let (read, checked) = (read_file(&path, &options).unwrap_err(), check_file(&path, &options).err().unwrap());
        assert_eq!(format!("{:?}", read.diagnostics), format!("{:?}", checked.diagnostics));
    }

    /// The second half of a file without `$TTL` does not know the TTL a record without one
    /// takes (the last one given before it): such a record fails there, and the half is
    /// read again after the first. (The split point is chosen where the first record gives
    /// its TTL, so this is the guard behind that choice.)
    #[test]
    fn a_second_half_refuses_a_record_that_needs_the_ttl_before_it() {
        let origin = Name::parse("example.com").ok();
        let mut reader = Reader::new(Path::new("t.zone"), 0, &ReadOptions { origin, ..ReadOptions::default() }, false);
        let mut helper = reader.helper();
        helper.ttl_unknown = true;
        let mut state = SourceState { origin: None, last_owner: None, last_ttl: None, dollar_ttl: None };
        let text = b"a 300 A 192.0.2.1\nb A 192.0.2.2\n";
        helper.read_entries(0, text, 1, false, &mut state, 0);
        assert_eq!((helper.records.len(), helper.errors), (2, 0), "{:?}", helper.diagnostics);
        let mut state = SourceState { origin: None, last_owner: None, last_ttl: None, dollar_ttl: None };
        helper.read_entries(0, b"b A 192.0.2.2\n", 3, false, &mut state, 0);
        assert_eq!(helper.errors, 1);
        reader.read_entries(0, b"b A 192.0.2.2\n", 3, false, &mut state, 0);
        assert_eq!((reader.records.len(), reader.errors), (1, 0));
    }

    /// The checks across names (MX and SRV targets, glue) that two threads share out with
    /// the checks at each name find what one thread finds, in the same order.
    #[test]
    fn checks_shared_out_find_what_one_thread_finds() {
        let mut text =
            String::from("$ORIGIN example.com.\n$TTL 300\n@ SOA ns1 host 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\n");
        for i in 0..600 {
            // Delegations, every other one without glue; aliases named as MX exchanges;
            // repeated records.
            match i % 4 {
                0 => text.push_str(&format!("z{i} NS ns.z{i}\n")),
                1 => text.push_str(&format!("z{i} NS ns.z{i}\nns.z{i} A 192.0.2.9\n")),
                2 => text.push_str(&format!("c{i} CNAME h{i}\nm{i} MX 10 c{i}\n")),
                _ => text.push_str(&format!("h{i} A 192.0.2.1\nh{i} A 192.0.2.1\n")),
            }
        }
        let options = ReadOptions::default();
        let one = read_from(text.as_bytes(), text.len() as u64, Path::new("t.zone"), &options, false);
        let two = read_from(text.as_bytes(), text.len() as u64, Path::new("t.zone"), &options, true);
        assert_eq!(summary(&one.0), summary(&two.0));
        let Err(found) = two.0 else { panic!("the missing glue is an error") };
        let count = |what: &str| found.diagnostics.iter().filter(|d| d.message.contains(what)).count();
        assert_eq!((count("missing glue"), count("is a CNAME"), count("duplicate A")), (150, 150, 150));
    }
}
