//! Writing a block (format version 2): every series' samples re-encoded for size
//! (`encoding.rs`), consecutive series packed into zstd-compressed pages, then the index
//! (`index.rs`) as one more zstd frame, then the footer. Blocks are written once, in the
//! background, so this spends CPU to save disk.

use super::index::{self, PageMeta, SeriesMeta};
use super::{encoding, BlockError, FOOTER_LEN, FOOTER_MAGIC, MAGIC_V2};
use crate::model::{Labels, Sample};
use crate::tsdb::chunk::SealedChunk;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Uncompressed bytes of sample data after which a page is closed. A query reading one
/// series decompresses its whole page, so pages must stay small; zstd needs some context to
/// find what series have in common (identical timestamp columns of one target, runs of
/// unchanged values). On the fixtures of `benches/blocks.rs`, 32 KiB pages are within 2 %
/// (fleet) to 7 % (node-like) of 64 KiB ones in size, and reading one series costs about
/// what reading its version 1 chunks did (loadtest/RESULTS.md, "Bytes per sample").
const PAGE_TARGET: usize = 32 << 10;

/// zstd level for pages and the index: level 19 saved another ~5 % on the fleet fixture
/// for several times the CPU of writing a block.
const ZSTD_LEVEL: i32 = 9;

/// Writes the chunks of `series` (sorted by labels, chunks oldest first and not overlapping)
/// as a block at `path`: to a temporary file first, synced, then renamed, so a crash never
/// leaves half a block under the final name. Series without samples are left out.
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
    w.write_all(&MAGIC_V2).map_err(io(&tmp))?;
    let mut offset = MAGIC_V2.len() as u64;
    let mut pages: Vec<PageMeta> = Vec::new();
    let mut metas: Vec<(&Labels, SeriesMeta)> = Vec::with_capacity(series.len());
    let mut page = Vec::with_capacity(PAGE_TARGET * 2);
    let mut samples: Vec<Sample> = Vec::new();
    let (mut mint, mut maxt) = (i64::MAX, i64::MIN);
    let mut flush = |page: &mut Vec<u8>, pages: &mut Vec<PageMeta>| -> Result<(), BlockError> {
        let z = zstd::bulk::compress(page, ZSTD_LEVEL).map_err(io(&tmp))?;
        w.write_all(&z).map_err(io(&tmp))?;
        pages.push(PageMeta {
            offset,
            len: z.len() as u32,
            raw_len: page.len() as u32,
            crc: crc32fast::hash(&z),
        });
        offset += z.len() as u64;
        page.clear();
        Ok(())
    };
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
        let start = page.len();
        encoding::encode(&samples, &mut page);
        metas.push((
            labels,
            SeriesMeta {
                mint: first.t,
                maxt: last.t,
                samples: samples.len() as u64,
                page: pages.len() as u32,
                offset: start as u32,
                len: (page.len() - start) as u32,
            },
        ));
        if page.len() >= PAGE_TARGET {
            flush(&mut page, &mut pages)?;
        }
    }
    if !page.is_empty() {
        flush(&mut page, &mut pages)?;
    }
    let mut body = Vec::new();
    index::encode(&pages, &metas, &mut body);
    let index = zstd::bulk::compress(&body, ZSTD_LEVEL).map_err(io(&tmp))?;
    w.write_all(&index).map_err(io(&tmp))?;
    if metas.is_empty() {
        (mint, maxt) = (0, 0);
    }
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
