//! Gorilla-style compressed chunks of samples (Pelkonen et al., "Gorilla: A Fast, Scalable,
//! In-Memory Time Series Database", VLDB 2015), with Prometheus's XOR chunk (Prometheus 3.x,
//! `tsdb/chunkenc/xor.go`) as the reference for semantics: timestamps are milliseconds coded
//! as delta-of-delta, values are 64-bit floats coded as the XOR with the previous value.
//!
//! Input: samples `(t, v)` appended one at a time to an open [`XorChunk`].
//! Output: the chunk's bytes (layout in `docs/format/chunks.md`), and the samples again through
//! [`ChunkIter`]. Every float bit pattern survives, including NaN payloads such as the
//! staleness marker, infinities and negative zero.
//!
//! Concurrency contract: an open [`XorChunk`] has one writer (the head, under the series'
//! lock). [`XorChunk::seal`] turns it into a [`SealedChunk`], which is immutable and shares its
//! bytes through an `Arc`, so a clone is cheap and queries on other threads can iterate it
//! while the head appends to the next open chunk.

mod bstream;
mod iter;
mod xor;

#[cfg(test)]
mod tests;

pub use iter::ChunkIter;
pub use xor::{SealedChunk, XorChunk};

/// Samples the head puts in a chunk before it cuts a new one. The number is Prometheus's
/// `DefaultSamplesPerChunk` (`tsdb/head.go`), which follows the Gorilla paper's finding that the
/// bytes per sample stop improving much past about 120 samples per block, while a longer
/// chunk makes a query that needs only its last samples decode more bits.
pub const SAMPLES_PER_CHUNK: usize = 120;

/// Most samples one chunk can hold: the header counts them in 16 bits.
pub const MAX_SAMPLES: usize = u16::MAX as usize;

/// Length of the header (the big-endian sample count) in bytes.
pub(crate) const HEADER_LEN: usize = 2;

/// Errors from building or decoding a chunk. Decoding never panics: any byte string either
/// decodes or yields one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    #[error("chunk is full: it already holds {samples} samples, the most its header can count")]
    Full { samples: usize },
    #[error("sample at {t} is older than the chunk's newest sample at {last}")]
    OutOfOrder { t: i64, last: i64 },
    #[error("chunk of {len} bytes is shorter than its {HEADER_LEN}-byte header")]
    TooShort { len: usize },
    #[error("chunk truncated: wanted {wanted} bits at bit {bit} of a {len}-byte chunk")]
    Truncated { bit: usize, wanted: u32, len: usize },
    #[error("bad varint for sample {sample} at bit {bit}: more than 64 bits")]
    BadVarint { sample: usize, bit: usize },
    #[error("bad value window for sample {sample} at bit {bit}: {leading} leading zeros plus {significant} significant bits exceed 64")]
    BadWindow {
        sample: usize,
        bit: usize,
        leading: u32,
        significant: u32,
    },
    #[error("sample {sample} at bit {bit} reuses a value window before any was set")]
    NoWindow { sample: usize, bit: usize },
    #[error("chunk has {extra} bytes after its last sample (sample count {samples}, {len} bytes)")]
    TrailingBytes {
        extra: usize,
        samples: usize,
        len: usize,
    },
}
