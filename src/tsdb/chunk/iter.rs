//! Decoding: the iterator over a chunk's samples.

use super::bstream::BitReader;
use super::xor::{DOD_BUCKETS, LEADING_BITS};
use super::{ChunkError, HEADER_LEN};
use crate::model::Sample;
use crate::tsdb::varint::unzigzag;

/// Iterates the samples of a chunk's bytes in the order they were appended.
///
/// On malformed bytes the iterator stops early and [`ChunkIter::err`] says why; it never
/// panics. Chunks built by [`super::XorChunk`] or checked by [`super::SealedChunk::from_bytes`]
/// always decode in full.
#[derive(Debug, Clone)]
pub struct ChunkIter<'a> {
    r: BitReader<'a>,
    total: usize,
    read: usize,
    t: i64,
    delta: i64,
    v: u64,
    window: Option<(u32, u32)>,
    err: Option<ChunkError>,
}

impl<'a> ChunkIter<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        let (total, err) = match bytes {
            [hi, lo, ..] => (usize::from(u16::from_be_bytes([*hi, *lo])), None),
            _ => (0, Some(ChunkError::TooShort { len: bytes.len() })),
        };
        ChunkIter {
            r: BitReader::new(bytes, HEADER_LEN * 8),
            total,
            read: 0,
            t: 0,
            delta: 0,
            v: 0,
            window: None,
            err,
        }
    }

    /// The decoding error that ended iteration early, if any.
    pub fn err(&self) -> Option<&ChunkError> {
        self.err.as_ref()
    }

    /// The sample count the header announces.
    pub fn total(&self) -> usize {
        self.total
    }

    pub(crate) fn bit_position(&self) -> usize {
        self.r.position()
    }

    fn decode_next(&mut self) -> Result<Sample, ChunkError> {
        match self.read {
            0 => {
                self.t = unzigzag(self.read_varint()?);
                self.v = self.r.read_bits(64)?;
            }
            1 => {
                self.delta = unzigzag(self.read_varint()?);
                self.t = self.t.wrapping_add(self.delta);
                self.read_value()?;
            }
            _ => {
                let dod = self.read_dod()?;
                self.delta = self.delta.wrapping_add(dod);
                self.t = self.t.wrapping_add(self.delta);
                self.read_value()?;
            }
        }
        Ok(Sample {
            t: self.t,
            v: f64::from_bits(self.v),
        })
    }

    fn read_varint(&mut self) -> Result<u64, ChunkError> {
        let start = self.r.position();
        let mut u = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.r.read_bits(8)?;
            // The tenth byte may carry only the single top bit of a 64-bit number.
            if shift == 63 && b > 1 {
                break;
            }
            u |= (b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(u);
            }
        }
        Err(ChunkError::BadVarint {
            sample: self.read,
            bit: start,
        })
    }

    fn read_dod(&mut self) -> Result<i64, ChunkError> {
        let ones = self.r.read_unary(DOD_BUCKETS.len() as u32)?;
        let Some(&width) = (ones as usize)
            .checked_sub(1)
            .and_then(|i| DOD_BUCKETS.get(i))
        else {
            return Ok(0);
        };
        let raw = self.r.read_bits(width)?;
        // Sign-extend from `width` bits.
        let shift = 64 - width;
        Ok(((raw << shift) as i64) >> shift)
    }

    fn read_value(&mut self) -> Result<(), ChunkError> {
        let start = self.r.position();
        // Prefix `0`: same value; `10`: reuse the window; `11`: new window.
        let code = self.r.read_unary(2)?;
        if code == 0 {
            return Ok(());
        }
        let (lead, trail) = if code == 2 {
            let lead = self.r.read_bits(LEADING_BITS)? as u32;
            let sig = self.r.read_bits(6)? as u32 + 1;
            if lead + sig > 64 {
                return Err(ChunkError::BadWindow {
                    sample: self.read,
                    bit: start,
                    leading: lead,
                    significant: sig,
                });
            }
            let w = (lead, 64 - lead - sig);
            self.window = Some(w);
            w
        } else {
            self.window.ok_or(ChunkError::NoWindow {
                sample: self.read,
                bit: start,
            })?
        };
        let x = self.r.read_bits(64 - lead - trail)?;
        self.v ^= x << trail;
        Ok(())
    }
}

impl Iterator for ChunkIter<'_> {
    type Item = Sample;

    fn next(&mut self) -> Option<Sample> {
        if self.err.is_some() || self.read >= self.total {
            return None;
        }
        match self.decode_next() {
            Ok(s) => {
                self.read += 1;
                Some(s)
            }
            Err(e) => {
                self.err = Some(e);
                None
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.total - self.read.min(self.total)))
    }
}
