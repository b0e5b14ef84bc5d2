//! The writer: buffered appends of framed records to numbered segments.

use super::frame::{self, FRAME_HEADER, MAX_PAYLOAD};
use super::reader::ReplayReport;
use super::record::{self, RefSample, RefSeries, TYPE_SAMPLES, TYPE_SERIES};
use super::segment::{self, SEGMENT_MAGIC};
use super::WalError;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Samples per record at most. A sample takes at most 28 bytes, so a record stays under
/// 300 KiB, far below the reader's limit, and a huge scrape still spreads over few records.
const SAMPLES_PER_RECORD: usize = 10_000;

/// A series record is cut once its payload passes this size.
const SERIES_RECORD_BYTES: usize = 256 << 10;

/// Smallest segment size accepted: a few records must fit.
const MIN_SEGMENT_SIZE: u64 = 4096;

/// Where segment bytes go: a [`File`] in production. The trait lets tests substitute a file
/// that fails part-way through a write.
pub trait SegmentFile: Write + Send {
    /// Makes written bytes durable (`fsync`).
    fn sync(&mut self) -> io::Result<()>;
}

impl SegmentFile for File {
    fn sync(&mut self) -> io::Result<()> {
        self.sync_data()
    }
}

/// Creates the file for a new segment at the given path.
pub type SegmentOpener = Box<dyn Fn(&Path) -> io::Result<Box<dyn SegmentFile>> + Send>;

#[derive(Debug, Clone)]
pub struct WalOptions {
    /// A segment is closed and a new one started before a record would take it past this
    /// size. 128 MiB, as Prometheus: large enough that a segment is not cut every few
    /// seconds, small enough that a checkpoint can drop the old ones soon.
    pub segment_size: u64,
    /// Bytes buffered in memory before they are written without waiting for `flush`.
    pub buffer_size: usize,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            segment_size: 128 << 20,
            buffer_size: 256 << 10,
        }
    }
}

/// Appends records to the log.
///
/// Contract: records are buffered; [`WalWriter::flush`] hands them to the operating system
/// (they then survive the process being killed), [`WalWriter::sync`] also makes them durable
/// against power loss. A failed write drops the buffered records and returns the error; the
/// next call cuts the partly written record off the segment and starts a new segment, so one
/// I/O error never hides later records from replay. Dropping the writer does not flush (a
/// drop then behaves like a crash); call `sync` on shutdown.
pub struct WalWriter {
    dir: PathBuf,
    opts: WalOptions,
    open: SegmentOpener,
    file: Box<dyn SegmentFile>,
    segment: u32,
    /// Bytes of the current segment that reached the file.
    written: u64,
    /// Framed records not yet written.
    buf: Vec<u8>,
    scratch: Vec<u8>,
    /// A write failed; the segment must be truncated to `written` before anything else.
    broken: bool,
}

impl WalWriter {
    /// Opens the log in `dir` for appending, after a replay of the same directory whose
    /// report is `after`: a corrupt tail found by the replay is cut off (the corrupt segment
    /// truncated to its last good record, later segments deleted), then a new segment is
    /// started after the last one. Creates `dir` if needed.
    pub fn open(dir: &Path, opts: WalOptions, after: &ReplayReport) -> Result<WalWriter, WalError> {
        Self::open_with(dir, opts, after, Box::new(open_file))
    }

    /// Like [`WalWriter::open`], with segment files created by `open`.
    pub fn open_with(
        dir: &Path,
        opts: WalOptions,
        after: &ReplayReport,
        open: SegmentOpener,
    ) -> Result<WalWriter, WalError> {
        std::fs::create_dir_all(dir).map_err(WalError::io(dir))?;
        let mut next = after.next_segment;
        if let Some(c) = after.segment_corruption() {
            truncate(&segment::segment_path(dir, c.segment), c.offset)?;
            for n in segment::list(dir)?.segments {
                if n > c.segment {
                    let p = segment::segment_path(dir, n);
                    std::fs::remove_file(&p).map_err(WalError::io(p))?;
                }
            }
            next = c.segment + 1;
        }
        Self::create(dir, opts, next, open)
    }

    /// Starts a log in `dir` at segment `first`.
    pub(crate) fn create(
        dir: &Path,
        opts: WalOptions,
        first: u32,
        open: SegmentOpener,
    ) -> Result<WalWriter, WalError> {
        if opts.segment_size < MIN_SEGMENT_SIZE {
            return Err(WalError::SegmentTooSmall {
                size: opts.segment_size,
                min: MIN_SEGMENT_SIZE,
            });
        }
        let file = new_segment(dir, first, &open)?;
        Ok(WalWriter {
            dir: dir.to_path_buf(),
            buf: Vec::with_capacity(opts.buffer_size + (64 << 10)),
            opts,
            open,
            file,
            segment: first,
            written: SEGMENT_MAGIC.len() as u64,
            scratch: Vec::new(),
            broken: false,
        })
    }

    /// The segment being written.
    pub fn segment(&self) -> u32 {
        self.segment
    }

    /// Where the records that reached the file end: the current segment and its length in
    /// bytes, a record boundary. Records logged later land after it, so a replay from here
    /// ([`super::replay_from`]) sees exactly them (plus the ones still buffered now).
    pub fn position(&self) -> (u32, u64) {
        (self.segment, self.written)
    }

    /// Logs new series. Call before logging samples that use their refs.
    pub fn log_series(&mut self, series: &[RefSeries]) -> Result<(), WalError> {
        let mut items = std::mem::take(&mut self.scratch);
        items.clear();
        let mut count = 0u64;
        let mut res = Ok(());
        for s in series {
            record::encode_series(&mut items, s);
            count += 1;
            if items.len() >= SERIES_RECORD_BYTES {
                res = self.append(TYPE_SERIES, count, &items);
                items.clear();
                count = 0;
                if res.is_err() {
                    break;
                }
            }
        }
        if res.is_ok() && count > 0 {
            res = self.append(TYPE_SERIES, count, &items);
        }
        self.scratch = items;
        res
    }

    /// Logs a batch of samples (typically one scrape's), as one record per
    /// [`SAMPLES_PER_RECORD`] samples.
    pub fn log_samples(&mut self, samples: &[RefSample]) -> Result<(), WalError> {
        let mut items = std::mem::take(&mut self.scratch);
        let mut res = Ok(());
        for group in samples.chunks(SAMPLES_PER_RECORD) {
            items.clear();
            let mut prev = (0, 0);
            for s in group {
                record::encode_sample(&mut items, &mut prev, s);
            }
            res = self.append(TYPE_SAMPLES, group.len() as u64, &items);
            if res.is_err() {
                break;
            }
        }
        self.scratch = items;
        res
    }

    fn append(&mut self, typ: u8, count: u64, items: &[u8]) -> Result<(), WalError> {
        self.repair()?;
        let payload = frame::uvarint_len(count) + items.len();
        if payload > MAX_PAYLOAD {
            return Err(WalError::RecordTooLarge {
                size: payload,
                max: MAX_PAYLOAD,
            });
        }
        let framed = (FRAME_HEADER + payload) as u64;
        let used = self.written + self.buf.len() as u64;
        // A record larger than a whole segment gets a segment of its own.
        if used > SEGMENT_MAGIC.len() as u64 && used + framed > self.opts.segment_size {
            self.roll()?;
        }
        frame::append(&mut self.buf, typ, count, items);
        if self.buf.len() >= self.opts.buffer_size {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes buffered records to the segment file. The head calls this on a short cadence
    /// (Prometheus writes its WAL page by page; a flush every second or so bounds what a
    /// crash of the process can lose to that second).
    pub fn flush(&mut self) -> Result<(), WalError> {
        self.repair()?;
        if self.buf.is_empty() {
            return Ok(());
        }
        let res = self
            .file
            .write_all(&self.buf)
            .and_then(|_| self.file.flush());
        let len = self.buf.len() as u64;
        self.buf.clear();
        match res {
            Ok(()) => {
                self.written += len;
                Ok(())
            }
            Err(e) => {
                self.broken = true;
                Err(WalError::io(self.path())(e))
            }
        }
    }

    /// Flushes, then makes everything written durable (`fsync`).
    pub fn sync(&mut self) -> Result<(), WalError> {
        self.flush()?;
        let path = self.path();
        self.file.sync().map_err(WalError::io(path))
    }

    /// Closes the current segment (flushed and synced) and starts the next one. Returns the
    /// number of the closed segment, the highest one a [`super::checkpoint`] may fold in.
    pub fn cut_segment(&mut self) -> Result<u32, WalError> {
        self.repair()?;
        let closed = self.segment;
        self.roll()?;
        Ok(closed)
    }

    fn roll(&mut self) -> Result<(), WalError> {
        self.sync()?;
        self.file = new_segment(&self.dir, self.segment + 1, &self.open)?;
        self.segment += 1;
        self.written = SEGMENT_MAGIC.len() as u64;
        Ok(())
    }

    /// After a failed write: cuts what may be a partial record off the segment and moves to
    /// a new segment, whose file handle is in a known state.
    fn repair(&mut self) -> Result<(), WalError> {
        if !self.broken {
            return Ok(());
        }
        truncate(&self.path(), self.written)?;
        self.file = new_segment(&self.dir, self.segment + 1, &self.open)?;
        self.segment += 1;
        self.written = SEGMENT_MAGIC.len() as u64;
        self.broken = false;
        Ok(())
    }

    fn path(&self) -> PathBuf {
        segment::segment_path(&self.dir, self.segment)
    }
}

pub(crate) fn open_file(path: &Path) -> io::Result<Box<dyn SegmentFile>> {
    // Truncating rather than refusing an existing file lets a retry after a failed header
    // write reuse the name; `open` picks numbers past every existing segment.
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    Ok(Box::new(f))
}

/// Creates segment `n` with its header written, and makes its name durable.
fn new_segment(dir: &Path, n: u32, open: &SegmentOpener) -> Result<Box<dyn SegmentFile>, WalError> {
    let path = segment::segment_path(dir, n);
    let mut f = open(&path).map_err(WalError::io(&path))?;
    f.write_all(&SEGMENT_MAGIC)
        .and_then(|_| f.flush())
        .map_err(WalError::io(&path))?;
    segment::sync_dir(dir)?;
    Ok(f)
}

fn truncate(path: &Path, len: u64) -> Result<(), WalError> {
    let res = OpenOptions::new().write(true).open(path).and_then(|f| {
        f.set_len(len)?;
        f.sync_all()
    });
    match res {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        r => r.map_err(WalError::io(path)),
    }
}
