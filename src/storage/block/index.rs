//! The index of a version 2 block: the label strings once each (a symbol table), the
//! compressed pages of sample data, where each distinct time column is, and per series its
//! labels as symbol numbers, its time range, sample count, time column and where its values
//! are. The whole index is one zstd frame in the
//! file (`write.rs`); this module is its uncompressed body. Layout: `docs/format/blocks.md`.

use super::reader::{ReadError, Reader};
use crate::model::{Labels, LabelsBuilder};
use crate::tsdb::varint::{put_bytes, put_uvarint, unzigzag, zigzag};

/// A zstd frame of sample data: consecutive time columns, or the value columns of
/// consecutive series (`encoding.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageMeta {
    /// Offset in the file.
    pub(crate) offset: u64,
    /// Compressed length in the file.
    pub(crate) len: u32,
    /// Length once decompressed.
    pub(crate) raw_len: u32,
    /// CRC-32 (IEEE) of the compressed bytes.
    pub(crate) crc: u32,
}

/// Where a column is: its page, and its offset and length in the decompressed page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slice {
    pub(crate) page: u32,
    pub(crate) offset: u32,
    pub(crate) len: u32,
}

/// What one series covers and where its columns are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SeriesMeta {
    pub(crate) mint: i64,
    pub(crate) maxt: i64,
    pub(crate) samples: u64,
    /// Number of its time column.
    pub(crate) times: u32,
    pub(crate) values: Slice,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum IndexError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("series {series} refers to symbol {symbol}, but there are {symbols}")]
    BadSymbol {
        series: u64,
        symbol: u64,
        symbols: usize,
    },
    #[error("{what} {n} refers to page {page}, but there are {pages}")]
    BadPage {
        what: &'static str,
        n: u64,
        page: u64,
        pages: usize,
    },
    #[error("{what} {n} runs past the {raw_len} bytes of page {page}")]
    PastPage {
        what: &'static str,
        n: u64,
        page: u32,
        raw_len: u32,
    },
    #[error("series {series} refers to time column {column}, but there are {columns}")]
    BadColumn {
        series: u64,
        column: u64,
        columns: usize,
    },
    #[error("page {page} at byte {offset} of {len} bytes runs into the index at {end}")]
    PageOverrun {
        page: usize,
        offset: u64,
        len: u64,
        end: u64,
    },
    #[error("{extra} bytes after the last series")]
    Trailing { extra: usize },
}

/// Appends the index body for `pages`, the time columns and `series` (labels and metadata)
/// to `out`. Columns, and series values, must be in page order and consecutive in a page.
pub(crate) fn encode(
    pages: &[PageMeta],
    columns: &[Slice],
    series: &[(&Labels, SeriesMeta)],
    out: &mut Vec<u8>,
) {
    let mut symbols: Vec<&str> = series
        .iter()
        .flat_map(|(l, _)| l.iter().flat_map(|l| [&*l.name, &*l.value]))
        .collect();
    symbols.sort_unstable();
    symbols.dedup();
    put_uvarint(out, symbols.len() as u64);
    for s in &symbols {
        put_bytes(out, s.as_bytes());
    }
    let id = |s: &str| symbols.binary_search(&s).unwrap_or(0) as u64;
    put_uvarint(out, pages.len() as u64);
    for p in pages {
        put_uvarint(out, u64::from(p.len));
        put_uvarint(out, u64::from(p.raw_len));
        out.extend_from_slice(&p.crc.to_le_bytes());
    }
    put_uvarint(out, columns.len() as u64);
    let mut page = 0u32;
    for c in columns {
        put_uvarint(out, u64::from(c.page - page));
        put_uvarint(out, u64::from(c.len));
        page = c.page;
    }
    put_uvarint(out, series.len() as u64);
    let mut page = 0u32;
    for (labels, m) in series {
        put_uvarint(out, labels.len() as u64);
        for l in labels.iter() {
            put_uvarint(out, id(&l.name));
            put_uvarint(out, id(&l.value));
        }
        put_uvarint(out, zigzag(m.mint));
        put_uvarint(out, m.maxt.wrapping_sub(m.mint) as u64);
        put_uvarint(out, m.samples);
        put_uvarint(out, u64::from(m.times));
        put_uvarint(out, u64::from(m.values.page - page));
        put_uvarint(out, u64::from(m.values.len));
        page = m.values.page;
    }
}

/// The decoded index.
pub(crate) struct Index {
    pub(crate) pages: Vec<PageMeta>,
    pub(crate) columns: Vec<Slice>,
    pub(crate) series: Vec<(Labels, SeriesMeta)>,
}

/// Consecutive slices of pages, given as (page step, length) pairs: the offset in a page is
/// the sum of the lengths before it in the same page.
struct Slicer<'a> {
    pages: &'a [PageMeta],
    what: &'static str,
    page: u64,
    offset: u64,
}

impl Slicer<'_> {
    fn next(&mut self, n: u64, step: u64, len: u64) -> Result<Slice, IndexError> {
        if step > 0 {
            (self.page, self.offset) = (self.page.saturating_add(step), 0);
        }
        let meta = self
            .pages
            .get(self.page as usize)
            .ok_or(IndexError::BadPage {
                what: self.what,
                n,
                page: self.page,
                pages: self.pages.len(),
            })?;
        let end = self.offset.saturating_add(len);
        if end > u64::from(meta.raw_len) {
            return Err(IndexError::PastPage {
                what: self.what,
                n,
                page: self.page as u32,
                raw_len: meta.raw_len,
            });
        }
        let s = Slice {
            page: self.page as u32,
            offset: self.offset as u32,
            len: len as u32,
        };
        self.offset = end;
        Ok(s)
    }
}

/// Decodes an index body; pages start at file offset `data_start` and must end by
/// `data_end`; labels pass through `intern`.
pub(crate) fn decode(
    buf: &[u8],
    data_start: u64,
    data_end: u64,
    intern: &dyn Fn(&Labels) -> Labels,
) -> Result<Index, IndexError> {
    let mut r = Reader::new(buf);
    let n = r.uvarint()?;
    // Each entry takes at least one byte, which bounds the allocations below.
    let cap = |n: u64, r: &Reader| n.min(r.remaining() as u64) as usize;
    let mut symbols = Vec::with_capacity(cap(n, &r));
    for _ in 0..n {
        symbols.push(r.str()?);
    }
    let n = r.uvarint()?;
    let mut pages = Vec::with_capacity(cap(n, &r));
    let mut offset = data_start;
    for page in 0..n {
        let len = r.uvarint()?;
        let raw_len = r.uvarint()?;
        let crc = r.u32()?;
        let end = offset.saturating_add(len);
        if end > data_end || len > u64::from(u32::MAX) || raw_len > u64::from(u32::MAX) {
            return Err(IndexError::PageOverrun {
                page: page as usize,
                offset,
                len,
                end: data_end,
            });
        }
        pages.push(PageMeta {
            offset,
            len: len as u32,
            raw_len: raw_len as u32,
            crc,
        });
        offset = end;
    }
    let n = r.uvarint()?;
    let mut columns = Vec::with_capacity(cap(n, &r));
    let mut slicer = Slicer {
        pages: &pages,
        what: "time column",
        page: 0,
        offset: 0,
    };
    for i in 0..n {
        let step = r.uvarint()?;
        let len = r.uvarint()?;
        columns.push(slicer.next(i, step, len)?);
    }
    let n = r.uvarint()?;
    let mut series = Vec::with_capacity(cap(n, &r));
    let mut slicer = Slicer {
        pages: &pages,
        what: "series",
        page: 0,
        offset: 0,
    };
    for i in 0..n {
        let k = r.uvarint()?;
        let mut b = LabelsBuilder::with_capacity(k.min(256) as usize);
        for _ in 0..k {
            let mut sym = || -> Result<&str, IndexError> {
                let s = r.uvarint()?;
                symbols
                    .get(s as usize)
                    .copied()
                    .ok_or(IndexError::BadSymbol {
                        series: i,
                        symbol: s,
                        symbols: symbols.len(),
                    })
            };
            let name = sym()?;
            let value = sym()?;
            b.set(name, value);
        }
        let mint = unzigzag(r.uvarint()?);
        let maxt = mint.wrapping_add(r.uvarint()? as i64);
        let samples = r.uvarint()?;
        let times = r.uvarint()?;
        if times >= columns.len() as u64 {
            return Err(IndexError::BadColumn {
                series: i,
                column: times,
                columns: columns.len(),
            });
        }
        let step = r.uvarint()?;
        let len = r.uvarint()?;
        series.push((
            intern(&b.build()),
            SeriesMeta {
                mint,
                maxt,
                samples,
                times: times as u32,
                values: slicer.next(i, step, len)?,
            },
        ));
    }
    if r.remaining() > 0 {
        return Err(IndexError::Trailing {
            extra: r.remaining(),
        });
    }
    Ok(Index {
        pages,
        columns,
        series,
    })
}
