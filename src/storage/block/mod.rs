//! Block files: immutable files holding the samples the head persisted, with an index of
//! their series, so that head memory is bounded by the active series and not by retention.
//!
//! A block is written once, when the head moves every chunk older than a cut time out of
//! memory (`db.rs`), then only read and finally deleted by retention. Its index (labels and
//! where each series' samples are) is loaded into memory when the block is opened; sample
//! data stays on disk and is read with positioned reads when a query needs it. Version 2
//! (written now) re-encodes each series' samples as a time column, stored once for all the
//! series that share it, and a value column, and compresses columns with zstd in pages;
//! version 1 (the head's XOR chunks as they were) is still read. Layout:
//! `docs/format/blocks.md`.

mod encoding;
mod index;
mod reader;
mod v1;
mod write;

#[cfg(test)]
mod encoding_tests;
#[cfg(test)]
mod ideas;
#[cfg(test)]
mod tests;

use super::postings::Postings;
use super::series::samples_in;
use super::SeriesData;
use crate::model::{Labels, Matcher, Sample};
use crate::tsdb::chunk::SealedChunk;
use index::{PageMeta, Slice};
use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use v1::ChunkMeta;

pub(crate) use write::write;

const MAGIC_V1: [u8; 8] = *b"PYRBLK\x00\x01";
const MAGIC_V2: [u8; 8] = *b"PYRBLK\x00\x02";
const FOOTER_MAGIC: [u8; 4] = *b"PYRB";
/// mint, maxt, cut, index offset, index length (8 bytes each), index crc, magic (4 each).
const FOOTER_LEN: usize = 48;
/// The index is read into memory whole; a length beyond this is damage, not a block.
const MAX_INDEX: u64 = 4 << 30;

#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    #[error("block i/o error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("block {path} is corrupt: {why}")]
    Corrupt { path: PathBuf, why: String },
}

/// Where a series' samples are: version 1 chunks, or version 2 columns.
enum Location {
    Chunks(Box<[ChunkMeta]>),
    Columns {
        /// Number of the time column.
        times: u32,
        values: Slice,
        mint: i64,
        maxt: i64,
    },
}

/// Decompressed time-column pages one select has read (series in label order cycle through
/// the targets, so through the same few pages of time columns again and again), at most
/// this many at a time.
const TIME_PAGES_CACHED: usize = 64;

struct BlockSeries {
    labels: Labels,
    at: Location,
}

impl BlockSeries {
    fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        match &self.at {
            Location::Chunks(c) => c.iter().any(|c| c.mint <= maxt && c.maxt >= mint),
            Location::Columns {
                mint: a, maxt: b, ..
            } => *a <= maxt && *b >= mint,
        }
    }
}

/// An open block: its index in memory, its file open for sample reads.
pub(crate) struct Block {
    pub(crate) path: PathBuf,
    pub(crate) mint: i64,
    pub(crate) maxt: i64,
    /// Every sample older than this was in the head when the block was cut, so the WAL
    /// replay skips them.
    pub(crate) cut: i64,
    pub(crate) size: u64,
    pub(crate) samples: u64,
    /// Bytes of sample data (chunks or compressed pages), the rest being index and framing.
    pub(crate) chunk_bytes: u64,
    file: File,
    series: Vec<BlockSeries>,
    pages: Vec<PageMeta>,
    columns: Vec<Slice>,
    postings: Postings,
}

impl Block {
    /// Opens a block file and loads its index; label strings go through `intern` so that
    /// blocks and the head share them.
    pub(crate) fn open(
        path: &Path,
        intern: &dyn Fn(&Labels) -> Labels,
    ) -> Result<Block, BlockError> {
        let io = |source| BlockError::Io {
            path: path.to_path_buf(),
            source,
        };
        let corrupt = |why: String| BlockError::Corrupt {
            path: path.to_path_buf(),
            why,
        };
        let file = File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        if size < (MAGIC_V2.len() + FOOTER_LEN) as u64 {
            return Err(corrupt(format!(
                "{size} bytes is shorter than header and footer"
            )));
        }
        let mut head = [0u8; 8];
        file.read_exact_at(&mut head, 0).map_err(io)?;
        if head != MAGIC_V1 && head != MAGIC_V2 {
            return Err(corrupt(format!(
                "bad magic {head:02x?} at byte 0: not a block, or a version newer than 2"
            )));
        }
        let mut f = [0u8; FOOTER_LEN];
        file.read_exact_at(&mut f, size - FOOTER_LEN as u64)
            .map_err(io)?;
        let mut r = reader::Reader::new(&f);
        let mut word = || r.u64().unwrap_or(0);
        let (mint, maxt, cut) = (word() as i64, word() as i64, word() as i64);
        let (index_off, index_len) = (word(), word());
        let crc = u32::from_le_bytes([f[40], f[41], f[42], f[43]]);
        if f[44..] != FOOTER_MAGIC {
            return Err(corrupt("bad footer magic (torn write?)".into()));
        }
        let data_start = MAGIC_V2.len() as u64;
        if index_len > MAX_INDEX
            || index_off < data_start
            || index_off.checked_add(index_len) != Some(size - FOOTER_LEN as u64)
        {
            return Err(corrupt(format!(
                "index at {index_off} of {index_len} bytes does not end at the footer"
            )));
        }
        let mut index = vec![0u8; index_len as usize];
        file.read_exact_at(&mut index, index_off).map_err(io)?;
        if crc32fast::hash(&index) != crc {
            return Err(corrupt("index checksum mismatch".into()));
        }
        let (series, pages, columns, samples, chunk_bytes) = if head == MAGIC_V1 {
            let (series, samples) = v1::decode_index(&index, data_start, index_off, intern)
                .map_err(|e| corrupt(format!("version 1 index: {e}")))?;
            let series: Vec<BlockSeries> = series
                .into_iter()
                .map(|(labels, chunks)| BlockSeries {
                    labels,
                    at: Location::Chunks(chunks),
                })
                .collect();
            (
                series,
                Vec::new(),
                Vec::new(),
                samples,
                index_off - data_start,
            )
        } else {
            let body = zstd::stream::decode_all(&index[..])
                .map_err(|e| corrupt(format!("index does not decompress: {e}")))?;
            let ix = index::decode(&body, data_start, index_off, intern)
                .map_err(|e| corrupt(format!("index: {e}")))?;
            let samples = ix.series.iter().map(|(_, m)| m.samples).sum();
            let series = ix
                .series
                .into_iter()
                .map(|(labels, m)| BlockSeries {
                    labels,
                    at: Location::Columns {
                        times: m.times,
                        values: m.values,
                        mint: m.mint,
                        maxt: m.maxt,
                    },
                })
                .collect();
            let data = ix.pages.iter().map(|p| u64::from(p.len)).sum();
            (series, ix.pages, ix.columns, samples, data)
        };
        let mut postings = Postings::default();
        for (i, s) in series.iter().enumerate() {
            postings.add(i as u64, &s.labels);
        }
        Ok(Block {
            path: path.to_path_buf(),
            mint,
            maxt,
            cut,
            size,
            samples,
            chunk_bytes,
            file,
            series,
            pages,
            columns,
            postings,
        })
    }

    pub(crate) fn overlaps(&self, mint: i64, maxt: i64) -> bool {
        self.mint <= maxt && self.maxt >= mint
    }

    fn matching<'a>(
        &'a self,
        matchers: &'a [Matcher],
    ) -> impl Iterator<Item = &'a BlockSeries> + 'a {
        self.postings
            .candidates(matchers)
            .into_iter()
            .filter_map(|i| self.series.get(i as usize))
            .filter(move |s| {
                matchers
                    .iter()
                    .all(|m| m.matches(s.labels.get(&m.name).unwrap_or("")))
            })
    }

    /// Samples in [mint, maxt] of the series matching every matcher. Damaged data (a chunk
    /// or a page) is skipped with a warning: one bad sector must not fail every query over
    /// the block.
    pub(crate) fn select(&self, mint: i64, maxt: i64, matchers: &[Matcher]) -> Vec<SeriesData> {
        // Matching series are in index order, so those sharing a page of value columns come
        // one after the other and the page is read and decompressed once.
        let mut values_page: Option<(u32, Option<Vec<u8>>)> = None;
        let mut time_pages: HashMap<u32, Option<Vec<u8>>> = HashMap::new();
        self.matching(matchers)
            .filter(|s| s.overlaps(mint, maxt))
            .filter_map(|s| {
                let samples = match &s.at {
                    Location::Chunks(chunks) => {
                        let chunks: Vec<SealedChunk> = chunks
                            .iter()
                            .filter(|c| c.mint <= maxt && c.maxt >= mint)
                            .filter_map(|c| self.read_chunk(c))
                            .collect();
                        samples_in(&chunks, mint, maxt)
                    }
                    Location::Columns { times, values, .. } => {
                        let t = self.columns.get(*times as usize)?;
                        if time_pages.len() >= TIME_PAGES_CACHED
                            && !time_pages.contains_key(&t.page)
                        {
                            time_pages.clear();
                        }
                        let tp = time_pages
                            .entry(t.page)
                            .or_insert_with(|| self.read_page(t.page))
                            .as_deref()?;
                        let times = slice(tp, t)?;
                        if values_page.as_ref().map(|(n, _)| n) != Some(&values.page) {
                            values_page = Some((values.page, self.read_page(values.page)));
                        }
                        let vp = values_page.as_ref().and_then(|(_, d)| d.as_deref())?;
                        self.decode_series(times, slice(vp, values)?, mint, maxt)
                    }
                };
                (!samples.is_empty()).then(|| SeriesData {
                    labels: s.labels.clone(),
                    samples,
                })
            })
            .collect()
    }

    /// Label sets of matching series with samples overlapping [mint, maxt] (times from the
    /// index, without reading sample data).
    pub(crate) fn series(&self, mint: i64, maxt: i64, matchers: &[Matcher]) -> Vec<Labels> {
        self.matching(matchers)
            .filter(|s| s.overlaps(mint, maxt))
            .map(|s| s.labels.clone())
            .collect()
    }

    pub(crate) fn label_names(&self) -> Vec<String> {
        self.postings.label_names()
    }

    pub(crate) fn label_values(&self, name: &str) -> Vec<String> {
        self.postings.label_values(name)
    }

    fn warn_damaged(&self, what: &str, offset: u64, e: &str) {
        log::warn!(
            "skipping damaged {what} at byte {offset} of block {}: {e}",
            self.path.display()
        );
    }

    fn read_chunk(&self, c: &ChunkMeta) -> Option<SealedChunk> {
        let mut buf = vec![0u8; c.len as usize];
        let res = self
            .file
            .read_exact_at(&mut buf, c.offset)
            .map_err(|e| e.to_string())
            .and_then(|_| {
                if crc32fast::hash(&buf) == c.crc {
                    Ok(())
                } else {
                    Err("checksum mismatch".to_string())
                }
            })
            .and_then(|_| SealedChunk::from_bytes(buf).map_err(|e| e.to_string()));
        res.map_err(|e| self.warn_damaged("chunk", c.offset, &e))
            .ok()
    }

    /// A page's decompressed bytes, or `None` (logged) if it cannot be read, fails its
    /// checksum or does not decompress to its recorded length.
    fn read_page(&self, n: u32) -> Option<Vec<u8>> {
        let p = self.pages.get(n as usize)?;
        let mut buf = vec![0u8; p.len as usize];
        let res = self
            .file
            .read_exact_at(&mut buf, p.offset)
            .map_err(|e| e.to_string())
            .and_then(|_| {
                if crc32fast::hash(&buf) == p.crc {
                    Ok(())
                } else {
                    Err("checksum mismatch".to_string())
                }
            })
            .and_then(|_| decompress(&buf, p.raw_len as usize).map_err(|e| e.to_string()))
            .and_then(|raw| {
                if raw.len() == p.raw_len as usize {
                    Ok(raw)
                } else {
                    Err(format!(
                        "page decompresses to {} bytes, the index says {}",
                        raw.len(),
                        p.raw_len
                    ))
                }
            });
        res.map_err(|e| self.warn_damaged("page", p.offset, &e))
            .ok()
    }

    /// The samples in [mint, maxt] of a series from its time and value columns.
    fn decode_series(&self, times: &[u8], values: &[u8], mint: i64, maxt: i64) -> Vec<Sample> {
        let mut out = Vec::new();
        let res = encoding::decode_times(times, &mut out)
            .and_then(|_| encoding::decode_values(values, &mut out));
        match res {
            Ok(()) => {
                out.retain(|s| s.t >= mint && s.t <= maxt);
                out
            }
            Err(e) => {
                log::warn!(
                    "skipping damaged series in block {}: {e}",
                    self.path.display()
                );
                Vec::new()
            }
        }
    }
}

thread_local! {
    /// A zstd decompression context per query thread: making one costs more than
    /// decompressing a page.
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// Decompresses a zstd frame of at most `capacity` bytes.
fn decompress(frame: &[u8], capacity: usize) -> std::io::Result<Vec<u8>> {
    DECOMPRESSOR.with(|d| {
        let mut d = d.borrow_mut();
        let d = match d.as_mut() {
            Some(d) => d,
            None => d.insert(zstd::bulk::Decompressor::new()?),
        };
        d.decompress(frame, capacity)
    })
}

/// The bytes of a column in its decompressed page (the index checked the range).
fn slice<'a>(page: &'a [u8], s: &Slice) -> Option<&'a [u8]> {
    page.get(s.offset as usize..s.offset as usize + s.len as usize)
}
