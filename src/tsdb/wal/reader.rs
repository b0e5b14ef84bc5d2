//! Replay: the records of the latest checkpoint, then of every later segment, in order.
//!
//! Replay never fails on what it finds inside the files. The first torn, damaged or
//! undecodable record ends it; everything before is delivered, everything from there on is
//! counted in the [`ReplayReport`], and the writer opened with that report cuts the bad tail
//! off so new records are not written behind it.

use super::frame::{self, FRAME_HEADER, MAX_PAYLOAD};
use super::record::{self, DecodeError, Record};
use super::segment::{self, SEGMENT_MAGIC};
use super::WalError;
use std::collections::VecDeque;
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

/// Read buffer per segment; large reads keep replay near disk speed.
const READ_BUFFER: usize = 1 << 20;

/// What was wrong where replay stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorruptionKind {
    /// The file ends inside a record: a write cut short by a crash.
    Torn,
    /// The record's checksum does not match its bytes.
    BadChecksum,
    /// The length field is larger than any record can be.
    BadLength(usize),
    /// The rest of the segment is zero bytes (space allocated, never written).
    ZeroedTail,
    /// The segment does not start with the segment magic.
    BadSegmentHeader,
    /// The checksum is right but the payload does not decode (unknown type or bad layout).
    BadRecord(String),
    /// The segment numbered here is missing from the sequence.
    MissingSegment(u32),
    /// Reading failed.
    Io(String),
}

impl fmt::Display for CorruptionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CorruptionKind::Torn => f.write_str("torn record at end of file"),
            CorruptionKind::BadChecksum => f.write_str("checksum mismatch"),
            CorruptionKind::BadLength(n) => write!(f, "record length {n} exceeds {MAX_PAYLOAD}"),
            CorruptionKind::ZeroedTail => f.write_str("zeroed tail"),
            CorruptionKind::BadSegmentHeader => f.write_str("bad segment header"),
            CorruptionKind::BadRecord(why) => write!(f, "undecodable record: {why}"),
            CorruptionKind::MissingSegment(n) => write!(f, "segment {n:08} is missing"),
            CorruptionKind::Io(e) => write!(f, "read error: {e}"),
        }
    }
}

/// Where replay stopped: the good data ends at `offset` of `segment` (of the checkpoint when
/// `in_checkpoint`), and `dropped_bytes` bytes after it were not replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corruption {
    pub segment: u32,
    pub offset: u64,
    pub kind: CorruptionKind,
    pub in_checkpoint: bool,
    pub dropped_bytes: u64,
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.in_checkpoint {
            "checkpoint segment"
        } else {
            "segment"
        };
        write!(
            f,
            "{what} {:08} at byte {}: {}; {} bytes after it dropped",
            self.segment, self.offset, self.kind, self.dropped_bytes
        )
    }
}

/// The outcome of a replay. A non-empty `corruption` list is a warning for the log, not a
/// failure: the records before it were delivered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    pub records: u64,
    pub series: u64,
    pub samples: u64,
    /// Segment files read (checkpoint segments included).
    pub segments_read: u32,
    /// The checkpoint replay started from, if any.
    pub checkpoint: Option<u32>,
    /// At most one problem in the checkpoint (its remaining records are skipped and replay
    /// goes on with the segments) and one in the segments (which ends replay).
    pub corruptions: Vec<Corruption>,
    /// The segment number a writer should start at.
    pub next_segment: u32,
}

impl ReplayReport {
    /// Bytes left unreplayed because of corruption.
    pub fn dropped_bytes(&self) -> u64 {
        self.corruptions.iter().map(|c| c.dropped_bytes).sum()
    }

    /// The corruption in the segments (not the checkpoint), which the writer repairs.
    pub(crate) fn segment_corruption(&self) -> Option<&Corruption> {
        self.corruptions.iter().find(|c| !c.in_checkpoint)
    }
}

/// One file to read.
#[derive(Debug, Clone)]
struct Source {
    path: PathBuf,
    segment: u32,
    in_checkpoint: bool,
}

/// Iterates the records of a WAL directory. Call [`Replay::finish`] at the end for the
/// report; it also drains records not yet read.
pub struct Replay {
    sources: VecDeque<Source>,
    cur: Option<SegmentReader>,
    report: ReplayReport,
    buf: Vec<u8>,
    /// The last segment number of the previous source in the same sequence, to find gaps.
    last_segment: Option<(bool, u32)>,
    /// Where to start reading the first segment, for [`replay_from`].
    start_offset: Option<(u32, u64)>,
    done: bool,
}

/// Opens `dir` for replay: the newest finished checkpoint, then every segment after it.
/// Only listing the directory can fail; a missing directory replays nothing.
pub fn replay(dir: &Path) -> Result<Replay, WalError> {
    Replay::open(dir, None)
}

/// Opens `dir` for replay of what was logged after `offset` of segment `segment` (a record
/// boundary the writer reported): the checkpoint and earlier segments are skipped. Returns
/// `None` if that segment is no longer in the log (a checkpoint folded it in), so the
/// position cannot be resumed from. A segment shorter than `offset` (its end lost to a power
/// failure) yields nothing from that segment.
pub fn replay_from(dir: &Path, segment: u32, offset: u64) -> Result<Option<Replay>, WalError> {
    let listing = segment::list(dir)?;
    if !listing.segments.contains(&segment) {
        return Ok(None);
    }
    let mut r = Replay::open(dir, None)?;
    r.report.checkpoint = None;
    r.sources
        .retain(|s| !s.in_checkpoint && s.segment >= segment);
    r.start_offset = Some((segment, offset));
    Ok(Some(r))
}

impl Replay {
    /// Like [`replay`], limited to segments numbered up to `upto` (for checkpointing).
    pub(crate) fn open(dir: &Path, upto: Option<u32>) -> Result<Replay, WalError> {
        let listing = segment::list(dir)?;
        let cp = listing
            .checkpoints
            .iter()
            .copied()
            .rfind(|&c| upto.is_none_or(|u| c <= u));
        let mut sources = VecDeque::new();
        if let Some(c) = cp {
            let cdir = segment::checkpoint_path(dir, c);
            for n in segment::list(&cdir)?.segments {
                sources.push_back(Source {
                    path: segment::segment_path(&cdir, n),
                    segment: n,
                    in_checkpoint: true,
                });
            }
        }
        let after_cp = |n: u32| cp.is_none_or(|c| n > c);
        for &n in &listing.segments {
            if after_cp(n) && upto.is_none_or(|u| n <= u) {
                sources.push_back(Source {
                    path: segment::segment_path(dir, n),
                    segment: n,
                    in_checkpoint: false,
                });
            }
        }
        let next_segment = listing
            .segments
            .last()
            .map(|&n| n + 1)
            .or(cp.map(|c| c + 1))
            .unwrap_or(0);
        Ok(Replay {
            sources,
            cur: None,
            report: ReplayReport {
                checkpoint: cp,
                next_segment,
                ..ReplayReport::default()
            },
            buf: Vec::new(),
            last_segment: None,
            start_offset: None,
            done: false,
        })
    }

    /// The report so far; complete once the iterator has returned `None`.
    pub fn report(&self) -> &ReplayReport {
        &self.report
    }

    /// Reads what is left (discarding it) and returns the report.
    pub fn finish(mut self) -> ReplayReport {
        while self.next().is_some() {}
        self.report
    }

    /// Records a corruption at the current position. In the checkpoint the rest of the
    /// checkpoint is skipped; in the segments replay ends.
    fn stop(&mut self, src: &Source, offset: u64, kind: CorruptionKind) {
        let this = file_len(&src.path).saturating_sub(offset);
        let later: Vec<Source> = if src.in_checkpoint {
            let n = self.sources.iter().take_while(|s| s.in_checkpoint).count();
            self.sources.drain(..n).collect()
        } else {
            self.done = true;
            self.sources.drain(..).collect()
        };
        let dropped = this + later.iter().map(|s| file_len(&s.path)).sum::<u64>();
        self.report.corruptions.push(Corruption {
            segment: src.segment,
            offset,
            kind,
            in_checkpoint: src.in_checkpoint,
            dropped_bytes: dropped,
        });
        self.cur = None;
    }

    /// Opens the next source; `false` when there are none left.
    fn advance(&mut self) -> bool {
        let Some(src) = self.sources.pop_front() else {
            return false;
        };
        if let Some((in_cp, prev)) = self.last_segment {
            if in_cp == src.in_checkpoint && src.segment != prev + 1 {
                // The good data ends with the previous segment, whose length is its end.
                let prev_src = Source {
                    path: src.path.with_file_name(format!("{prev:08}")),
                    segment: prev,
                    in_checkpoint: in_cp,
                };
                let end = file_len(&prev_src.path);
                self.sources.push_front(src.clone());
                self.stop(&prev_src, end, CorruptionKind::MissingSegment(prev + 1));
                return !self.done;
            }
        }
        self.last_segment = Some((src.in_checkpoint, src.segment));
        self.report.segments_read += 1;
        let skip = match self.start_offset.take() {
            Some((seg, off)) if seg == src.segment => off,
            _ => 0,
        };
        match SegmentReader::open(&src).and_then(|r| r.skip_to(skip)) {
            Ok(r) => self.cur = Some(r),
            Err((offset, kind)) => self.stop(&src, offset, kind),
        }
        true
    }
}

impl Iterator for Replay {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        loop {
            if self.done {
                return None;
            }
            let Some(cur) = self.cur.as_mut() else {
                if !self.advance() {
                    self.done = true;
                }
                continue;
            };
            let at = cur.offset;
            let res = cur.read_frame(&mut self.buf).and_then(|typ| match typ {
                None => Ok(None),
                Some(t) => record::decode(t, &self.buf).map(Some).map_err(|e| match e {
                    DecodeError::UnknownType(t) => {
                        CorruptionKind::BadRecord(format!("unknown record type {t}"))
                    }
                    DecodeError::Malformed(why) => CorruptionKind::BadRecord(why.to_string()),
                }),
            });
            match res {
                Ok(Some(rec)) => {
                    self.report.records += 1;
                    match &rec {
                        Record::Series(s) => self.report.series += s.len() as u64,
                        Record::Samples(s) => self.report.samples += s.len() as u64,
                    }
                    return Some(rec);
                }
                Ok(None) => self.cur = None,
                Err(kind) => {
                    let src = cur.src.clone();
                    self.stop(&src, at, kind);
                }
            }
        }
    }
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Reads the frames of one segment file.
struct SegmentReader {
    src: Source,
    r: BufReader<File>,
    /// Offset of the next unread byte.
    offset: u64,
    len: u64,
}

impl SegmentReader {
    /// Opens a segment and checks its header. An empty file is a segment whose creation
    /// was the last thing that happened before a crash: valid, with no records.
    fn open(src: &Source) -> Result<SegmentReader, (u64, CorruptionKind)> {
        let io_err = |e: io::Error| (0, CorruptionKind::Io(e.to_string()));
        let f = File::open(&src.path).map_err(io_err)?;
        let len = f.metadata().map_err(io_err)?.len();
        let mut r = SegmentReader {
            src: src.clone(),
            r: BufReader::with_capacity(READ_BUFFER, f),
            offset: 0,
            len,
        };
        if len == 0 {
            return Ok(r);
        }
        let n = (len as usize).min(SEGMENT_MAGIC.len());
        let mut magic = [0u8; SEGMENT_MAGIC.len()];
        r.r.read_exact(&mut magic[..n]).map_err(io_err)?;
        if magic[..n] != SEGMENT_MAGIC[..n] {
            return Err((0, CorruptionKind::BadSegmentHeader));
        }
        if n < SEGMENT_MAGIC.len() {
            return Err((0, CorruptionKind::Torn));
        }
        r.offset = n as u64;
        Ok(r)
    }

    /// Moves to byte `offset` (a record boundary) past the header; at most to the end.
    fn skip_to(mut self, offset: u64) -> Result<SegmentReader, (u64, CorruptionKind)> {
        let target = offset.min(self.len);
        if target > self.offset {
            let n = i64::try_from(target - self.offset).unwrap_or(i64::MAX);
            self.r
                .seek_relative(n)
                .map_err(|e| (self.offset, CorruptionKind::Io(e.to_string())))?;
            self.offset = target;
        }
        Ok(self)
    }

    /// Reads the next frame's payload into `buf` and returns its type, or `None` at the
    /// clean end of the file.
    fn read_frame(&mut self, buf: &mut Vec<u8>) -> Result<Option<u8>, CorruptionKind> {
        let io_err = |e: io::Error| CorruptionKind::Io(e.to_string());
        let left = self.len - self.offset;
        if left == 0 {
            return Ok(None);
        }
        let mut h = [0u8; FRAME_HEADER];
        if left < FRAME_HEADER as u64 {
            let part = &mut h[..left as usize];
            self.r.read_exact(part).map_err(io_err)?;
            return Err(if part.iter().all(|&b| b == 0) {
                CorruptionKind::ZeroedTail
            } else {
                CorruptionKind::Torn
            });
        }
        self.r.read_exact(&mut h).map_err(io_err)?;
        // A zero header over a non-zero rest is caught below as a checksum mismatch (the
        // CRC of five zero bytes is not zero), so the bytes `rest_is_zero` consumed are
        // never needed.
        if h == [0; FRAME_HEADER] && self.rest_is_zero()? {
            return Err(CorruptionKind::ZeroedTail);
        }
        let head = frame::parse_header(&h);
        if head.len > MAX_PAYLOAD {
            return Err(CorruptionKind::BadLength(head.len));
        }
        if head.len as u64 > left - FRAME_HEADER as u64 {
            return Err(CorruptionKind::Torn);
        }
        buf.resize(head.len, 0);
        self.r.read_exact(buf).map_err(io_err)?;
        if !frame::checksum_ok(&h, buf) {
            return Err(CorruptionKind::BadChecksum);
        }
        self.offset += (FRAME_HEADER + head.len) as u64;
        Ok(Some(head.typ))
    }

    /// Whether every byte after the current frame header is zero. Reads to the end of the
    /// file, which is fine: replay stops here either way.
    fn rest_is_zero(&mut self) -> Result<bool, CorruptionKind> {
        let mut chunk = [0u8; 4096];
        loop {
            let n = self
                .r
                .read(&mut chunk)
                .map_err(|e| CorruptionKind::Io(e.to_string()))?;
            if n == 0 {
                return Ok(true);
            }
            if chunk[..n].iter().any(|&b| b != 0) {
                return Ok(false);
            }
        }
    }
}
