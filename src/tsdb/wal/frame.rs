//! Record framing: a checksum and a length around each payload, so replay can tell a whole
//! record from a torn or damaged one.
//!
//! The checksum is CRC-32 (IEEE polynomial) from `crc32fast`. Prometheus uses CRC-32C;
//! either detects torn writes and flipped bits equally for our purpose (a damaged record
//! passes with odds of 2^-32). `crc32fast` was chosen because it is already in the dependency
//! tree and computes at several GB/s with the carry-less multiply instructions of x86-64 and
//! the CRC instructions of aarch64, so checksumming costs far less than the write itself.

use crate::tsdb::varint::put_uvarint;

/// `crc: u32 LE | len: u32 LE | type: u8`, then `len` bytes of payload.
pub(crate) const FRAME_HEADER: usize = 9;

/// Largest payload a reader accepts. Bounds the memory a corrupt length field can make
/// replay allocate; the writer splits batches well below it (see `writer.rs`).
pub(crate) const MAX_PAYLOAD: usize = 16 << 20;

/// Length of the varint for `u`.
pub(crate) fn uvarint_len(u: u64) -> usize {
    (64 - (u | 1).leading_zeros() as usize).div_ceil(7)
}

/// Appends one framed record to `out`: the payload is the uvarint `count` followed by
/// `items`. Returns the framed length.
pub(crate) fn append(out: &mut Vec<u8>, typ: u8, count: u64, items: &[u8]) -> usize {
    let start = out.len();
    let len = uvarint_len(count) + items.len();
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.push(typ);
    put_uvarint(out, count);
    out.extend_from_slice(items);
    let crc = crc32fast::hash(&out[start + 4..]);
    out[start..start + 4].copy_from_slice(&crc.to_le_bytes());
    out.len() - start
}

/// The header fields of a frame.
pub(crate) struct Header {
    pub(crate) crc: u32,
    pub(crate) len: usize,
    pub(crate) typ: u8,
}

pub(crate) fn parse_header(h: &[u8; FRAME_HEADER]) -> Header {
    Header {
        crc: u32::from_le_bytes([h[0], h[1], h[2], h[3]]),
        len: u32::from_le_bytes([h[4], h[5], h[6], h[7]]) as usize,
        typ: h[8],
    }
}

/// Whether the checksum matches the header's length and type and the payload.
pub(crate) fn checksum_ok(h: &[u8; FRAME_HEADER], payload: &[u8]) -> bool {
    let mut c = crc32fast::Hasher::new();
    c.update(&h[4..]);
    c.update(payload);
    c.finalize() == parse_header(h).crc
}
