//! The open chunk (append side) and the sealed chunk (shared, read side).

use super::bstream::{written, BitWriter};
use super::iter::ChunkIter;
use super::{ChunkError, HEADER_LEN, MAX_SAMPLES};
use crate::tsdb::varint::zigzag;
use std::sync::Arc;

/// Bit widths of the signed delta-of-delta buckets, after the unary prefixes `10`, `110`,
/// `1110` and `1111`: ±16 ms, ±128 ms, ±32 s (a missed scrape, a changed interval), anything.
/// Scrape loops that stamp the actual start time add a few milliseconds of jitter, so the
/// small buckets carry most samples that are not on schedule. Simulated on a 15 s schedule
/// with uniform jitter of ±1, ±10 and ±50 ms, these widths cost 5.9, 8.1 and 10.9 bits a
/// timestamp; widths 7/14/24 cost 7.5, 8.8 and 12.2; Prometheus's 14/17/20 cost 13.2, 15.6
/// and 15.9.
pub(crate) const DOD_BUCKETS: [u32; 4] = [5, 8, 16, 64];

/// Leading zeros of a value window are stored in 5 bits, so counts above 31 are clamped to
/// 31 (as Prometheus does). A 6-bit field was measured on the bench fixtures and lost: the
/// clamp widens windows, so later values fit them more often, which saves more than the
/// extra zero bits cost.
pub(crate) const LEADING_BITS: u32 = 5;
const MAX_LEADING: u32 = (1 << LEADING_BITS) - 1;

/// Cost in bits of opening a new value window on top of the meaningful bits: the `11` prefix,
/// the leading zeros and 6 bits of length.
const NEW_WINDOW_OVERHEAD: u32 = 2 + LEADING_BITS + 6;

/// An open chunk that samples are appended to, in time order (the head's rule; an older
/// timestamp is refused). Arithmetic wraps, so even a jump from `i64::MIN` to `i64::MAX`
/// round-trips.
///
/// Every series in the head holds one, so it is kept to 48 bytes: the sample count lives
/// only in the chunk's header bytes, the first timestamp only in the encoding, the newest
/// one is `t`, and the buffer and bit count are plain fields (see `BitWriter`).
#[derive(Debug, Clone)]
pub struct XorChunk {
    /// The encoded chunk followed by zero bytes of spare room.
    buf: Box<[u8]>,
    t: i64,
    delta: i64,
    v: u64,
    /// Bits written to `buf`.
    bits: u32,
    /// Current value window as (leading zeros, trailing zeros); `NO_WINDOW` until the first
    /// XOR that is not zero.
    window: [u8; 2],
}

/// A leading-zero count no window can have (they are at most 31).
const NO_WINDOW: [u8; 2] = [u8::MAX, 0];

impl Default for XorChunk {
    fn default() -> Self {
        Self::new()
    }
}

impl XorChunk {
    /// An empty chunk; its buffer starts with room for the first two samples and grows in
    /// small steps (see `BitWriter`), so an open chunk holds little unused memory.
    pub fn new() -> Self {
        let mut c = XorChunk {
            buf: Box::default(),
            t: 0,
            delta: 0,
            v: 0,
            bits: 0,
            window: NO_WINDOW,
        };
        c.writer().write_bits(0, 16);
        c
    }

    fn writer(&mut self) -> BitWriter<'_> {
        BitWriter::new(&mut self.buf, &mut self.bits)
    }

    /// Appends one sample. Fails when the chunk already holds [`MAX_SAMPLES`] or when `t`
    /// is older than the newest sample.
    pub fn append(&mut self, t: i64, v: f64) -> Result<(), ChunkError> {
        let count = self.len();
        if count >= MAX_SAMPLES {
            return Err(ChunkError::Full {
                samples: MAX_SAMPLES,
            });
        }
        if count > 0 && t < self.t {
            return Err(ChunkError::OutOfOrder { t, last: self.t });
        }
        let bits = v.to_bits();
        match count {
            0 => {
                write_varint(&mut self.writer(), zigzag(t));
                self.writer().write_bits(bits, 64);
            }
            1 => {
                self.delta = t.wrapping_sub(self.t);
                let delta = zigzag(self.delta);
                write_varint(&mut self.writer(), delta);
                self.write_value(bits);
            }
            _ => {
                let delta = t.wrapping_sub(self.t);
                self.write_dod(delta.wrapping_sub(self.delta));
                self.delta = delta;
                self.write_value(bits);
            }
        }
        self.t = t;
        self.v = bits;
        // `count` is below `MAX_SAMPLES`, the largest u16.
        let header = (count as u16 + 1).to_be_bytes();
        self.writer().bytes_mut()[..HEADER_LEN].copy_from_slice(&header);
        Ok(())
    }

    fn write_dod(&mut self, dod: i64) {
        let mut w = self.writer();
        if dod == 0 {
            w.write_bit(false);
            return;
        }
        for (i, &width) in DOD_BUCKETS.iter().enumerate() {
            if fits_signed(dod, width) {
                // Prefix: i+1 ones, then a zero except after the last bucket.
                let ones = i as u32 + 1;
                if i + 1 < DOD_BUCKETS.len() {
                    w.write_bits(((1u64 << ones) - 1) << 1, ones + 1);
                } else {
                    w.write_bits((1u64 << ones) - 1, ones);
                }
                w.write_bits(dod as u64, width);
                return;
            }
        }
    }

    fn write_value(&mut self, bits: u64) {
        let x = bits ^ self.v;
        let window = self.window;
        let mut w = self.writer();
        if x == 0 {
            w.write_bit(false);
            return;
        }
        let lead = x.leading_zeros().min(MAX_LEADING);
        let trail = x.trailing_zeros();
        let sig = 64 - lead - trail;
        if window != NO_WINDOW {
            let (wl, wt) = (u32::from(window[0]), u32::from(window[1]));
            let wsig = 64 - wl - wt;
            // Reuse the window when the XOR fits inside it, unless a tight new window would
            // be cheaper even after paying its header.
            if lead >= wl && trail >= wt && wsig <= sig + NEW_WINDOW_OVERHEAD {
                w.write_bits(0b10, 2);
                w.write_bits(x >> wt, wsig);
                return;
            }
        }
        w.write_bits(0b11, 2);
        w.write_bits(u64::from(lead), LEADING_BITS);
        w.write_bits(u64::from(sig - 1), 6);
        w.write_bits(x >> trail, sig);
        // At most 31 and 63: they fit a byte.
        self.window = [lead as u8, trail as u8];
    }

    /// The sample count, from the header.
    pub fn len(&self) -> usize {
        match *self.bytes() {
            [hi, lo, ..] => usize::from(u16::from_be_bytes([hi, lo])),
            _ => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The last sample appended (timestamp, value bits), or `None` when empty.
    pub fn last(&self) -> Option<(i64, u64)> {
        (!self.is_empty()).then_some((self.t, self.v))
    }

    /// The encoded bytes so far; always a complete, decodable chunk.
    pub fn bytes(&self) -> &[u8] {
        written(&self.buf, self.bits)
    }

    /// Oldest and newest timestamp, or `None` when empty. The oldest is decoded from the
    /// start of the chunk: a varint and a word.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let first = self.iter().next()?;
        Some((first.t, self.t))
    }

    /// Iterates the samples appended so far, in append order.
    pub fn iter(&self) -> ChunkIter<'_> {
        ChunkIter::new(self.bytes())
    }

    /// A sealed copy of the chunk as it is now, for a reader that must not hold the head's
    /// lock while it decodes; costs one copy of the bytes (about 150 for 120 samples).
    pub fn snapshot(&self) -> SealedChunk {
        let (min_t, max_t) = self.time_range().unwrap_or((i64::MAX, i64::MIN));
        SealedChunk {
            bytes: Arc::from(self.bytes()),
            count: self.len() as u16,
            min_t,
            max_t,
        }
    }

    /// Ends appending: the bytes become shared and immutable.
    pub fn seal(self) -> SealedChunk {
        self.snapshot()
    }
}

/// An immutable chunk. Cloning shares the bytes, so handing it to a query thread costs one
/// reference count; `Send + Sync` by construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedChunk {
    bytes: Arc<[u8]>,
    count: u16,
    min_t: i64,
    max_t: i64,
}

impl SealedChunk {
    /// Reads a chunk from its bytes (for instance from disk), decoding it once in full so
    /// that every later iteration is known to succeed. Garbage after the last sample is an
    /// error, since it means the length or the count is wrong.
    pub fn from_bytes(bytes: impl Into<Arc<[u8]>>) -> Result<SealedChunk, ChunkError> {
        let bytes: Arc<[u8]> = bytes.into();
        let mut it = ChunkIter::new(&bytes);
        let (mut min_t, mut max_t) = (i64::MAX, i64::MIN);
        for s in it.by_ref() {
            min_t = min_t.min(s.t);
            max_t = max_t.max(s.t);
        }
        if let Some(e) = it.err() {
            return Err(e.clone());
        }
        let used = it.bit_position().div_ceil(8);
        let count = it.total();
        if used < bytes.len() {
            return Err(ChunkError::TrailingBytes {
                extra: bytes.len() - used,
                samples: count,
                len: bytes.len(),
            });
        }
        Ok(SealedChunk {
            count: count as u16,
            bytes,
            min_t,
            max_t,
        })
    }

    /// A chunk from bytes a checksum already vouches for, with the time range stored next to
    /// them: no decoding, so loading millions of chunks (a head snapshot) costs a copy each.
    /// The sample count comes from the header; a chunk shorter than its header is refused.
    /// Bytes that do not decode make iteration stop early with [`ChunkIter::err`] set.
    pub fn from_checked_bytes(
        bytes: impl Into<Arc<[u8]>>,
        min_t: i64,
        max_t: i64,
    ) -> Result<SealedChunk, ChunkError> {
        let bytes: Arc<[u8]> = bytes.into();
        let count = match *bytes {
            [hi, lo, ..] => u16::from_be_bytes([hi, lo]),
            _ => return Err(ChunkError::TooShort { len: bytes.len() }),
        };
        Ok(SealedChunk {
            bytes,
            count,
            min_t,
            max_t,
        })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Smallest and largest timestamp in the chunk, or `None` when empty.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        (self.count > 0).then_some((self.min_t, self.max_t))
    }

    pub fn iter(&self) -> ChunkIter<'_> {
        ChunkIter::new(&self.bytes)
    }
}

/// LEB128: 7 bits a byte, low group first, high bit set on every byte but the last.
fn write_varint(w: &mut BitWriter<'_>, mut u: u64) {
    while u >= 0x80 {
        w.write_bits((u & 0x7f) | 0x80, 8);
        u >>= 7;
    }
    w.write_bits(u, 8);
}

/// Whether `v` fits in a two's complement integer of `width` bits.
fn fits_signed(v: i64, width: u32) -> bool {
    if width >= 64 {
        return true;
    }
    let half = 1i64 << (width - 1);
    (-half..half).contains(&v)
}
