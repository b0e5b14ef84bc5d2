//! Bounds-checked reading of the varints, fixed-width words and strings of a block's index
//! and sample data: a damaged file yields an error, never a panic or an unbounded allocation.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("truncated: wanted {wanted} bytes at byte {at} of {len}")]
    Truncated {
        at: usize,
        wanted: usize,
        len: usize,
    },
    #[error("varint longer than 64 bits before byte {at}")]
    BadVarint { at: usize },
    #[error("string at byte {at} is not UTF-8")]
    BadUtf8 { at: usize },
}

pub(crate) struct Reader<'a> {
    pub(crate) buf: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn uvarint(&mut self) -> Result<u64, ReadError> {
        let mut x = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.take(1)?.first().unwrap_or(&0);
            x |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(x);
            }
        }
        Err(ReadError::BadVarint { at: self.pos })
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], ReadError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(ReadError::Truncated {
                at: self.pos,
                wanted: n,
                len: self.buf.len(),
            })?;
        let b = &self.buf[self.pos..end];
        self.pos = end;
        Ok(b)
    }

    pub(crate) fn u32(&mut self) -> Result<u32, ReadError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, ReadError> {
        let mut w = [0u8; 8];
        w.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(w))
    }

    /// A length-prefixed UTF-8 string.
    pub(crate) fn str(&mut self) -> Result<&'a str, ReadError> {
        let len = usize::try_from(self.uvarint()?).unwrap_or(usize::MAX);
        let at = self.pos;
        std::str::from_utf8(self.take(len)?).map_err(|_| ReadError::BadUtf8 { at })
    }
}
