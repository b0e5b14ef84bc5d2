//! Reading blocks of format version 1, which stored the head's XOR chunks as they were and
//! an uncompressed index with every label string in full. Such blocks are no longer written
//! but stay readable until retention deletes them.

use super::reader::{ReadError, Reader};
use crate::model::{Labels, LabelsBuilder};
use crate::tsdb::varint::unzigzag;

/// Where a chunk's bytes are in the file and what times it covers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChunkMeta {
    pub(crate) mint: i64,
    pub(crate) maxt: i64,
    pub(crate) offset: u64,
    pub(crate) len: u32,
    pub(crate) crc: u32,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum V1Error {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("chunk of series {series} has length {len}")]
    BadLength { series: u64, len: u64 },
    #[error("chunk of series {series} at {offset} runs into the index")]
    IntoIndex { series: u64, offset: u64 },
    #[error("{extra} bytes after the last series")]
    Trailing { extra: usize },
}

/// A series of a version 1 block and its chunks, oldest first.
pub(crate) type V1Series = (Labels, Box<[ChunkMeta]>);

/// The series of a version 1 index with their chunks, and the total sample count. Chunk
/// data starts at `data_start` and ends where the index starts, at `index_off`.
pub(crate) fn decode_index(
    buf: &[u8],
    data_start: u64,
    index_off: u64,
    intern: &dyn Fn(&Labels) -> Labels,
) -> Result<(Vec<V1Series>, u64), V1Error> {
    let mut r = Reader::new(buf);
    let mut samples = 0u64;
    let n = r.uvarint()?;
    let mut out = Vec::with_capacity(n.min(r.remaining() as u64) as usize);
    let mut offset = data_start;
    for series in 0..n {
        let k = r.uvarint()?;
        let mut b = LabelsBuilder::with_capacity(k.min(256) as usize);
        for _ in 0..k {
            let name = r.str()?;
            let value = r.str()?;
            b.set(name, value);
        }
        let labels = intern(&b.build());
        let m = r.uvarint()?;
        let mut chunks = Vec::with_capacity(m.min(r.remaining() as u64) as usize);
        for _ in 0..m {
            let mint = unzigzag(r.uvarint()?);
            let maxt = mint.wrapping_add(r.uvarint()? as i64);
            let len = r.uvarint()?;
            samples = samples.saturating_add(r.uvarint()?);
            let crc = r.u32()?;
            let len32 = u32::try_from(len).map_err(|_| V1Error::BadLength { series, len })?;
            if offset.saturating_add(len) > index_off {
                return Err(V1Error::IntoIndex { series, offset });
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
        out.push((labels, chunks.into_boxed_slice()));
    }
    if r.remaining() > 0 {
        return Err(V1Error::Trailing {
            extra: r.remaining(),
        });
    }
    Ok((out, samples))
}
