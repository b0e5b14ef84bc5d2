//! Bit streams: the writer that builds a chunk and the reader that decodes one.
//!
//! Bits are packed most significant first: the first bit written is the high bit of byte 0.
//! Unused bits of the last byte are always zero, so the bytes of an open chunk are a valid
//! chunk at every moment and can be copied out between two appends.

use super::ChunkError;

/// How much a writer's buffer grows when full.
const GROW_BYTES: usize = 32;

/// Appends bits to a buffer owned by someone else: the open chunk keeps the buffer and the
/// bit count in its own fields, so that a million of them carry no padding (see `XorChunk`).
/// The buffer's length is its capacity; bytes past the written ones are zero.
pub(crate) struct BitWriter<'a> {
    buf: &'a mut Box<[u8]>,
    bits: &'a mut u32,
}

/// The written bytes of a buffer holding `bits` bits.
pub(crate) fn written(buf: &[u8], bits: u32) -> &[u8] {
    &buf[..(bits as usize).div_ceil(8)]
}

impl<'a> BitWriter<'a> {
    pub(crate) fn new(buf: &'a mut Box<[u8]>, bits: &'a mut u32) -> Self {
        BitWriter { buf, bits }
    }

    /// Mutable access to whole bytes already written (for the sample-count header).
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        let n = (*self.bits as usize).div_ceil(8);
        &mut self.buf[..n]
    }

    /// Writes the low `n` bits of `v`, high bit first. `n` is at most 64.
    #[inline]
    pub(crate) fn write_bits(&mut self, v: u64, n: u32) {
        debug_assert!(n <= 64);
        let mut left = n;
        while left > 0 {
            let pos = *self.bits as usize;
            let byte = pos / 8;
            if byte == self.buf.len() {
                // Grow in small exact steps, not by doubling: a million open chunks would
                // otherwise hold on average a third of their size unused.
                let mut grown = vec![0u8; byte + GROW_BYTES];
                grown[..byte].copy_from_slice(self.buf);
                *self.buf = grown.into_boxed_slice();
            }
            let free = 8 - (pos % 8) as u32;
            let take = left.min(free);
            let part = (v >> (left - take)) & low_mask(take);
            self.buf[byte] |= (part << (free - take)) as u8;
            *self.bits += take;
            left -= take;
        }
    }

    #[inline]
    pub(crate) fn write_bit(&mut self, bit: bool) {
        self.write_bits(u64::from(bit), 1);
    }
}

/// Reads bits from a byte slice, failing (never panicking) when the slice runs out.
#[derive(Debug, Clone)]
pub(crate) struct BitReader<'a> {
    bytes: &'a [u8],
    /// Position of the next bit to read, counted from the high bit of byte 0.
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(bytes: &'a [u8], start_bit: usize) -> Self {
        BitReader {
            bytes,
            pos: start_bit,
        }
    }

    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// Reads `n` bits (at most 64) into the low bits of the result.
    #[inline]
    pub(crate) fn read_bits(&mut self, n: u32) -> Result<u64, ChunkError> {
        if n == 0 {
            return Ok(0);
        }
        let total = self.bytes.len() * 8;
        if self.pos + n as usize > total {
            return Err(ChunkError::Truncated {
                bit: self.pos,
                wanted: n,
                len: self.bytes.len(),
            });
        }
        let byte = self.pos / 8;
        let off = (self.pos % 8) as u32;
        // Left-align the bits from `pos` in a 64-bit word; when `off + n` exceeds 64 the
        // missing low bits come from the ninth byte.
        let mut word = load_be(self.bytes, byte) << off;
        if off + n > 64 {
            let ninth = self.bytes.get(byte + 8).copied().unwrap_or(0);
            word |= u64::from(ninth) >> (8 - off);
        }
        self.pos += n as usize;
        Ok(if n == 64 { word } else { word >> (64 - n) })
    }

    #[inline]
    pub(crate) fn read_bit(&mut self) -> Result<bool, ChunkError> {
        Ok(self.read_bits(1)? == 1)
    }

    /// Counts leading one bits, stopping after a zero bit or after `max` ones; used for the
    /// unary prefixes of the timestamp and value codes. `max` is at most 8.
    #[inline]
    pub(crate) fn read_unary(&mut self, max: u32) -> Result<u32, ChunkError> {
        let byte = self.pos / 8;
        if byte + 8 <= self.bytes.len() {
            // Fast path: at least 57 bits are in the word, more than any prefix needs.
            let word = load_be(self.bytes, byte) << (self.pos % 8);
            let ones = word.leading_ones().min(max);
            self.pos += (ones + u32::from(ones < max)) as usize;
            return Ok(ones);
        }
        let mut ones = 0;
        while ones < max && self.read_bit()? {
            ones += 1;
        }
        Ok(ones)
    }
}

/// Loads up to eight bytes from `at` as a big-endian word, zero-padded past the end.
#[inline]
fn load_be(bytes: &[u8], at: usize) -> u64 {
    if let Some(Ok(word)) = bytes.get(at..at + 8).map(<[u8; 8]>::try_from) {
        return u64::from_be_bytes(word);
    }
    let mut buf = [0u8; 8];
    let end = bytes.len().min(at + 8);
    if at < end {
        buf[..end - at].copy_from_slice(&bytes[at..end]);
    }
    u64::from_be_bytes(buf)
}

#[inline]
fn low_mask(n: u32) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip_at_every_alignment() {
        let widths = [1u32, 3, 7, 8, 9, 14, 24, 31, 57, 63, 64];
        let values = [
            0u64,
            1,
            u64::MAX,
            0x8000_0000_0000_0001,
            0x0123_4567_89ab_cdef,
        ];
        for lead in 0..8u32 {
            let (mut buf, mut bits) = (Box::default(), 0);
            let mut w = BitWriter::new(&mut buf, &mut bits);
            w.write_bits(0b1010_1010, lead);
            for &n in &widths {
                for &v in &values {
                    w.write_bits(v, n);
                }
            }
            let bytes = written(&buf, bits);
            let mut r = BitReader::new(bytes, 0);
            assert_eq!(r.read_bits(lead).unwrap(), 0b1010_1010 & low_mask(lead));
            for &n in &widths {
                for &v in &values {
                    assert_eq!(
                        r.read_bits(n).unwrap(),
                        v & low_mask(n),
                        "n={n} lead={lead}"
                    );
                }
            }
            assert!(bytes.len() * 8 - r.position() < 8);
        }
    }

    #[test]
    fn reading_past_the_end_is_an_error() {
        let mut r = BitReader::new(&[0xff], 0);
        assert_eq!(r.read_bits(5).unwrap(), 0b11111);
        assert!(r.read_bits(4).is_err());
        assert_eq!(r.read_unary(8).ok(), None);
    }
}
