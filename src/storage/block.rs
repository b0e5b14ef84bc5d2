//! Block files: immutable files holding the chunks the head persisted, with an index of their
//! series, so that head memory is bounded by the active series and not by retention.
//!
//! A block is written once, when the head moves every chunk older than a cut time out of
//! memory (`db.rs`), then only read and finally deleted by retention. Its index (labels and
//! chunk positions) is loaded into memory when the block is opened; chunk bytes stay on disk
//! and are read with positioned reads when a query needs them. Layout:
//! `docs/format/blocks.md`.

use super::postings::Postings;
use super::series::samples_in;
use super::SeriesData;
use crate::model::{Labels, LabelsBuilder, Matcher};
use crate::tsdb::chunk::SealedChunk;
use crate::tsdb::varint::{put_bytes, put_uvarint, unzigzag, zigzag};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

const MAGIC: [u8; 8] = *b"PYRBLK\x00\x01";
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

/// Where a chunk's bytes are in the file and what times it covers.
#[derive(Debug, Clone, Copy)]
struct ChunkMeta {
    mint: i64,
    maxt: i64,
    offset: u64,
    len: u32,
    crc: u32,
}

struct BlockSeries {
    labels: Labels,
    chunks: Box<[ChunkMeta]>,
}

/// An open block: its index in memory, its file open for chunk reads.
pub(crate) struct Block {
    pub(crate) path: PathBuf,
    pub(crate) mint: i64,
    pub(crate) maxt: i64,
    /// Every sample older than this was in the head when the block was cut, so the WAL
    /// replay skips them.
    pub(crate) cut: i64,
    pub(crate) size: u64,
    pub(crate) samples: u64,
    pub(crate) chunk_bytes: u64,
    file: File,
    series: Vec<BlockSeries>,
    postings: Postings,
}

/// Writes the chunks of `series` (sorted by labels, chunks oldest first) as a block at
/// `path`: to a temporary file first, synced, then renamed, so a crash never leaves half a
/// block under the final name.
pub(crate) fn write(
    path: &Path,
    series: &[(Labels, Vec<SealedChunk>)],
    cut: i64,
) -> Result<(), BlockError> {
    let tmp = path.with_extension("tmp");
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| BlockError::Io { path: p, source }
    };
    let file = File::create(&tmp).map_err(io(&tmp))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    w.write_all(&MAGIC).map_err(io(&tmp))?;
    let mut index = Vec::new();
    put_uvarint(&mut index, series.len() as u64);
    let mut offset = MAGIC.len() as u64;
    let (mut mint, mut maxt) = (i64::MAX, i64::MIN);
    for (labels, chunks) in series {
        put_uvarint(&mut index, labels.len() as u64);
        for l in labels {
            put_bytes(&mut index, l.name.as_bytes());
            put_bytes(&mut index, l.value.as_bytes());
        }
        put_uvarint(&mut index, chunks.len() as u64);
        for ch in chunks {
            let (a, b) = ch.time_range().unwrap_or((0, 0));
            mint = mint.min(a);
            maxt = maxt.max(b);
            put_uvarint(&mut index, zigzag(a));
            put_uvarint(&mut index, b.wrapping_sub(a) as u64);
            put_uvarint(&mut index, ch.bytes().len() as u64);
            put_uvarint(&mut index, ch.len() as u64);
            index.extend_from_slice(&crc32fast::hash(ch.bytes()).to_le_bytes());
            w.write_all(ch.bytes()).map_err(io(&tmp))?;
            offset += ch.bytes().len() as u64;
        }
    }
    w.write_all(&index).map_err(io(&tmp))?;
    let mut footer = Vec::with_capacity(FOOTER_LEN);
    for x in [mint, maxt, cut] {
        footer.extend_from_slice(&x.to_le_bytes());
    }
    footer.extend_from_slice(&offset.to_le_bytes());
    footer.extend_from_slice(&(index.len() as u64).to_le_bytes());
    footer.extend_from_slice(&crc32fast::hash(&index).to_le_bytes());
    footer.extend_from_slice(&FOOTER_MAGIC);
    w.write_all(&footer).map_err(io(&tmp))?;
    let file = w.into_inner().map_err(|e| io(&tmp)(e.into_error()))?;
    file.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))?;
    if let Some(dir) = path.parent() {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))?;
    }
    Ok(())
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
        if size < (MAGIC.len() + FOOTER_LEN) as u64 {
            return Err(corrupt(format!(
                "{size} bytes is shorter than header and footer"
            )));
        }
        let mut head = [0u8; 8];
        file.read_exact_at(&mut head, 0).map_err(io)?;
        if head != MAGIC {
            return Err(corrupt("bad magic at byte 0".into()));
        }
        let mut f = [0u8; FOOTER_LEN];
        file.read_exact_at(&mut f, size - FOOTER_LEN as u64)
            .map_err(io)?;
        let word = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&f[i * 8..i * 8 + 8]);
            b
        };
        let (mint, maxt, cut) = (
            i64::from_le_bytes(word(0)),
            i64::from_le_bytes(word(1)),
            i64::from_le_bytes(word(2)),
        );
        let (index_off, index_len) = (u64::from_le_bytes(word(3)), u64::from_le_bytes(word(4)));
        let crc = u32::from_le_bytes([f[40], f[41], f[42], f[43]]);
        if f[44..] != FOOTER_MAGIC {
            return Err(corrupt("bad footer magic (torn write?)".into()));
        }
        if index_len > MAX_INDEX
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
        let (series, samples) = decode_index(&index, index_off, intern).map_err(corrupt)?;
        let mut postings = Postings::default();
        let mut chunk_bytes = 0u64;
        for (i, s) in series.iter().enumerate() {
            postings.add(i as u64, &s.labels);
            chunk_bytes += s.chunks.iter().map(|c| u64::from(c.len)).sum::<u64>();
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

    /// Samples in [mint, maxt] of the series matching every matcher. A damaged chunk is
    /// skipped with a warning: one bad sector must not fail every query over the block.
    pub(crate) fn select(&self, mint: i64, maxt: i64, matchers: &[Matcher]) -> Vec<SeriesData> {
        self.matching(matchers)
            .filter_map(|s| {
                let chunks: Vec<SealedChunk> = s
                    .chunks
                    .iter()
                    .filter(|c| c.mint <= maxt && c.maxt >= mint)
                    .filter_map(|c| self.read_chunk(c))
                    .collect();
                let samples = samples_in(&chunks, mint, maxt);
                (!samples.is_empty()).then(|| SeriesData {
                    labels: s.labels.clone(),
                    samples,
                })
            })
            .collect()
    }

    /// Label sets of matching series with a chunk overlapping [mint, maxt] (chunk times
    /// from the index, without reading chunks).
    pub(crate) fn series(&self, mint: i64, maxt: i64, matchers: &[Matcher]) -> Vec<Labels> {
        self.matching(matchers)
            .filter(|s| s.chunks.iter().any(|c| c.mint <= maxt && c.maxt >= mint))
            .map(|s| s.labels.clone())
            .collect()
    }

    pub(crate) fn label_names(&self) -> Vec<String> {
        self.postings.label_names()
    }

    pub(crate) fn label_values(&self, name: &str) -> Vec<String> {
        self.postings.label_values(name)
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
        match res {
            Ok(ch) => Some(ch),
            Err(e) => {
                log::warn!(
                    "skipping damaged chunk at byte {} of block {}: {e}",
                    c.offset,
                    self.path.display()
                );
                None
            }
        }
    }
}

/// The series of an index and their total sample count.
fn decode_index(
    buf: &[u8],
    index_off: u64,
    intern: &dyn Fn(&Labels) -> Labels,
) -> Result<(Vec<BlockSeries>, u64), String> {
    let mut r = Reader { buf, pos: 0 };
    let mut samples = 0u64;
    let n = r.uvarint()?;
    let mut out = Vec::with_capacity(n.min(1 << 24) as usize);
    let mut offset = MAGIC.len() as u64;
    for i in 0..n {
        let k = r.uvarint()?;
        let mut b = LabelsBuilder::with_capacity(k.min(256) as usize);
        for _ in 0..k {
            let name = r.str()?;
            let value = r.str()?;
            b.set(name, value);
        }
        let labels = intern(&b.build());
        let m = r.uvarint()?;
        let mut chunks = Vec::with_capacity(m.min(1 << 16) as usize);
        for _ in 0..m {
            let mint = unzigzag(r.uvarint()?);
            let maxt = mint.wrapping_add(r.uvarint()? as i64);
            let len = r.uvarint()?;
            samples += r.uvarint()?;
            let crc = r.u32()?;
            let len32 =
                u32::try_from(len).map_err(|_| format!("chunk of series {i} has length {len}"))?;
            if offset + len > index_off {
                return Err(format!(
                    "chunk of series {i} at {offset} runs into the index"
                ));
            }
            chunks.push(ChunkMeta {
                mint,
                maxt,
                offset,
                len: len32,
                crc,
            });
            offset += len;
        }
        out.push(BlockSeries {
            labels,
            chunks: chunks.into_boxed_slice(),
        });
    }
    if r.pos != buf.len() {
        return Err(format!("{} bytes after the last series", buf.len() - r.pos));
    }
    Ok((out, samples))
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn uvarint(&mut self) -> Result<u64, String> {
        let mut x = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or_else(|| format!("index truncated at byte {}", self.pos))?;
            self.pos += 1;
            x |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(x);
            }
        }
        Err(format!(
            "varint longer than 64 bits before byte {}",
            self.pos
        ))
    }

    fn str(&mut self) -> Result<&'a str, String> {
        let len = self.uvarint()? as usize;
        let end = self
            .pos
            .checked_add(len)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| {
                format!(
                    "string of {len} bytes at byte {} runs past the index",
                    self.pos
                )
            })?;
        let s = std::str::from_utf8(&self.buf[self.pos..end])
            .map_err(|_| format!("label at byte {} is not UTF-8", self.pos))?;
        self.pos = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self
            .buf
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| format!("index truncated at byte {}", self.pos))?;
        self.pos += 4;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}
