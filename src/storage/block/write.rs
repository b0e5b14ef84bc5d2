//! Writing a block (format version 2): every series' samples re-encoded for size
//! (`encoding.rs`) as a time column, stored once for all series that share it, and a value
//! column; columns packed into zstd-compressed pages (time columns and value columns in
//! pages of their own), then the index (`index.rs`) as one more zstd frame, then the footer. Blocks are written once, in the
//! background, so this spends CPU to save disk.

use super::index::{self, PageMeta, SeriesMeta, Slice};
use super::{encoding, BlockError, FOOTER_LEN, FOOTER_MAGIC, MAGIC_V2};
use crate::model::{Labels, Sample};
use crate::tsdb::chunk::SealedChunk;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Uncompressed bytes of columns after which a page is closed. A query reading one series
/// decompresses its whole pages, so pages must stay small; zstd needs some context to find
/// what series have in common (runs of unchanged values). On the fixtures of
/// `benches/blocks.rs`, 32 KiB pages are within 2 % (fleet) to 7 % (node-like) of 64 KiB
/// ones in size, and one series reads in 20–30 µs (loadtest/RESULTS.md, "Bytes per sample").
const PAGE_TARGET: usize = 32 << 10;

/// zstd level for pages and the index: level 19 saved another 1–3 % on the bench fixtures
/// for several times the CPU of writing a block.
const ZSTD_LEVEL: i32 = 9;

/// Most bytes of distinct time columns remembered while writing, to find repeats; past it,
/// new columns are still written but no longer looked for again (bounds the writer's memory
/// when nearly every series has timestamps of its own).
const MAX_REMEMBERED: usize = 64 << 20;

/// Pages being filled and written out, for one kind of column.
struct Pages {
    raw: Vec<u8>,
    /// Slices in `raw` whose page number is known once the page is written.
    pending: Vec<usize>,
}

struct Out<'a> {
    w: BufWriter<File>,
    tmp: &'a Path,
    offset: u64,
    pages: Vec<PageMeta>,
}

impl Out<'_> {
    fn io(&self, source: std::io::Error) -> BlockError {
        BlockError::Io {
            path: self.tmp.to_path_buf(),
            source,
        }
    }

    fn write(&mut self, b: &[u8]) -> Result<(), BlockError> {
        self.w.write_all(b).map_err(|e| self.io(e))?;
        self.offset += b.len() as u64;
        Ok(())
    }

    /// Compresses and writes `p`'s page, then sets the page number of its slices.
    fn flush(&mut self, p: &mut Pages, slices: &mut [Slice]) -> Result<(), BlockError> {
        if p.raw.is_empty() {
            return Ok(());
        }
        let z = zstd::bulk::compress(&p.raw, ZSTD_LEVEL).map_err(|e| self.io(e))?;
        let n = self.pages.len() as u32;
        self.pages.push(PageMeta {
            offset: self.offset,
            len: z.len() as u32,
            raw_len: p.raw.len() as u32,
            crc: crc32fast::hash(&z),
        });
        self.write(&z)?;
        for &i in &p.pending {
            slices[i].page = n;
        }
        p.raw.clear();
        p.pending.clear();
        Ok(())
    }
}

/// Writes the chunks of `series` (sorted by labels, chunks oldest first and not overlapping)
/// as a block at `path`: to a temporary file first, synced, then renamed, so a crash never
/// leaves half a block under the final name. Series without samples are left out.
pub(crate) fn write(
    path: &Path,
    series: &[(Labels, Vec<SealedChunk>)],
    cut: i64,
) -> Result<(), BlockError> {
    let tmp = path.with_extension("tmp");
    let file = File::create(&tmp).map_err(|source| BlockError::Io {
        path: tmp.clone(),
        source,
    })?;
    let mut out = Out {
        w: BufWriter::with_capacity(1 << 20, file),
        tmp: &tmp,
        offset: 0,
        pages: Vec::new(),
    };
    out.write(&MAGIC_V2)?;
    let new_pages = || Pages {
        raw: Vec::with_capacity(PAGE_TARGET * 2),
        pending: Vec::new(),
    };
    let (mut time_pages, mut value_pages) = (new_pages(), new_pages());
    let mut columns: Vec<Slice> = Vec::new();
    let mut column_ids: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut remembered = 0usize;
    let mut values: Vec<Slice> = Vec::with_capacity(series.len());
    let mut metas: Vec<(&Labels, i64, i64, u64, u32)> = Vec::with_capacity(series.len());
    let (mut samples, mut times) = (Vec::<Sample>::new(), Vec::new());
    let (mut mint, mut maxt) = (i64::MAX, i64::MIN);
    for (labels, chunks) in series {
        samples.clear();
        for ch in chunks {
            let mut it = ch.iter();
            samples.extend(&mut it);
            if let Some(e) = it.err() {
                log::warn!(
                    "head chunk of {labels} does not decode, block keeps its first samples: {e}"
                );
            }
        }
        let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
            continue;
        };
        mint = mint.min(first.t);
        maxt = maxt.max(last.t);
        times.clear();
        encoding::encode_times(&samples, &mut times);
        let column = match column_ids.get(&times) {
            Some(&id) => id,
            None => {
                let id = columns.len() as u32;
                let p = &mut time_pages;
                columns.push(Slice {
                    page: 0,
                    offset: p.raw.len() as u32,
                    len: times.len() as u32,
                });
                p.pending.push(id as usize);
                p.raw.extend_from_slice(&times);
                if remembered + times.len() <= MAX_REMEMBERED {
                    remembered += times.len();
                    column_ids.insert(times.clone(), id);
                }
                if p.raw.len() >= PAGE_TARGET {
                    out.flush(p, &mut columns)?;
                }
                id
            }
        };
        let p = &mut value_pages;
        let start = p.raw.len();
        encoding::encode_values(&samples, &mut p.raw);
        p.pending.push(values.len());
        values.push(Slice {
            page: 0,
            offset: start as u32,
            len: (p.raw.len() - start) as u32,
        });
        metas.push((labels, first.t, last.t, samples.len() as u64, column));
        if p.raw.len() >= PAGE_TARGET {
            out.flush(p, &mut values)?;
        }
    }
    out.flush(&mut time_pages, &mut columns)?;
    out.flush(&mut value_pages, &mut values)?;
    let series_metas: Vec<(&Labels, SeriesMeta)> = metas
        .iter()
        .zip(&values)
        .map(|(&(labels, mint, maxt, samples, times), &values)| {
            (
                labels,
                SeriesMeta {
                    mint,
                    maxt,
                    samples,
                    times,
                    values,
                },
            )
        })
        .collect();
    let mut body = Vec::new();
    index::encode(&out.pages, &columns, &series_metas, &mut body);
    let index = zstd::bulk::compress(&body, ZSTD_LEVEL).map_err(|e| out.io(e))?;
    let index_offset = out.offset;
    out.write(&index)?;
    if series_metas.is_empty() {
        (mint, maxt) = (0, 0);
    }
    let mut footer = Vec::with_capacity(FOOTER_LEN);
    for x in [mint, maxt, cut] {
        footer.extend_from_slice(&x.to_le_bytes());
    }
    footer.extend_from_slice(&index_offset.to_le_bytes());
    footer.extend_from_slice(&(index.len() as u64).to_le_bytes());
    footer.extend_from_slice(&crc32fast::hash(&index).to_le_bytes());
    footer.extend_from_slice(&FOOTER_MAGIC);
    out.write(&footer)?;
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| BlockError::Io { path: p, source }
    };
    let file = out.w.into_inner().map_err(|e| io(&tmp)(e.into_error()))?;
    file.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))?;
    if let Some(dir) = path.parent() {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))?;
    }
    Ok(())
}
