//! What a record says: new series and batches of samples, and their payload encoding.
//! Framing (length, checksum) is `frame.rs`'s business; this file only turns records into
//! bytes and back.

use crate::model::{Labels, LabelsBuilder};
use crate::storage::SeriesRef;
use crate::tsdb::varint::{put_uvarint, unzigzag, zigzag};
use std::sync::Arc;

/// Record type bytes, stored in the frame.
pub(crate) const TYPE_SERIES: u8 = 1;
pub(crate) const TYPE_SAMPLES: u8 = 2;

/// A series the head created: its ref and its full label set. Logged once, before any
/// sample that uses the ref.
#[derive(Debug, Clone, PartialEq)]
pub struct RefSeries {
    pub r: SeriesRef,
    pub labels: Labels,
}

/// One sample of the series with ref `r`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefSample {
    pub r: SeriesRef,
    pub t: i64,
    pub v: f64,
}

/// A decoded record.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Series(Vec<RefSeries>),
    Samples(Vec<RefSample>),
}

/// Why a payload failed to decode (its checksum was right, so the writer produced it: a
/// version mismatch or a bug, not disk damage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecodeError {
    UnknownType(u8),
    Malformed(&'static str),
}

/// Appends one series to a series payload (the count is patched in by the caller).
pub(crate) fn encode_series(buf: &mut Vec<u8>, s: &RefSeries) {
    put_uvarint(buf, s.r);
    put_uvarint(buf, s.labels.len() as u64);
    for l in &s.labels {
        put_uvarint(buf, l.name.len() as u64);
        buf.extend_from_slice(l.name.as_bytes());
        put_uvarint(buf, l.value.len() as u64);
        buf.extend_from_slice(l.value.as_bytes());
    }
}

/// Appends one sample to a samples payload, as deltas from the previous sample `prev` of
/// the same record (starting from ref 0, time 0): within one scrape the refs are close and
/// the timestamps equal, so both deltas are usually one byte. The value is raw bits.
pub(crate) fn encode_sample(buf: &mut Vec<u8>, prev: &mut (u64, i64), s: &RefSample) {
    put_uvarint(buf, zigzag(s.r.wrapping_sub(prev.0) as i64));
    put_uvarint(buf, zigzag(s.t.wrapping_sub(prev.1)));
    buf.extend_from_slice(&s.v.to_bits().to_le_bytes());
    *prev = (s.r, s.t);
}

/// Decodes a payload of the given type. A payload is a uvarint item count and the items.
pub(crate) fn decode(typ: u8, payload: &[u8]) -> Result<Record, DecodeError> {
    let mut d = Decoder { b: payload };
    let n = d.uvarint()?;
    // Each item takes at least 2 bytes, which bounds the allocation by the payload size.
    let cap = (n as usize).min(payload.len() / 2);
    let rec = match typ {
        TYPE_SERIES => {
            let mut out = Vec::with_capacity(cap);
            for _ in 0..n {
                let r = d.uvarint()?;
                let nl = d.uvarint()?;
                let mut b = LabelsBuilder::with_capacity((nl as usize).min(64));
                for _ in 0..nl {
                    let name = d.string()?;
                    let value = d.string()?;
                    b.push_unchecked(name, value);
                }
                out.push(RefSeries {
                    r,
                    labels: b.build(),
                });
            }
            Record::Series(out)
        }
        TYPE_SAMPLES => {
            let mut out = Vec::with_capacity(cap);
            let (mut r, mut t) = (0u64, 0i64);
            for _ in 0..n {
                r = r.wrapping_add(unzigzag(d.uvarint()?) as u64);
                t = t.wrapping_add(unzigzag(d.uvarint()?));
                let v = f64::from_bits(u64::from_le_bytes(d.array()?));
                out.push(RefSample { r, t, v });
            }
            Record::Samples(out)
        }
        other => return Err(DecodeError::UnknownType(other)),
    };
    if !d.b.is_empty() {
        return Err(DecodeError::Malformed("bytes after the last item"));
    }
    Ok(rec)
}

struct Decoder<'a> {
    b: &'a [u8],
}

impl Decoder<'_> {
    fn uvarint(&mut self) -> Result<u64, DecodeError> {
        let mut u = 0u64;
        for (i, &byte) in self.b.iter().enumerate().take(10) {
            if i == 9 && byte > 1 {
                break;
            }
            u |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                self.b = &self.b[i + 1..];
                return Ok(u);
            }
        }
        Err(DecodeError::Malformed("bad varint"))
    }

    fn take(&mut self, n: u64) -> Result<&[u8], DecodeError> {
        let n = usize::try_from(n).map_err(|_| DecodeError::Malformed("length overflow"))?;
        if n > self.b.len() {
            return Err(DecodeError::Malformed("item runs past the record"));
        }
        let (head, rest) = self.b.split_at(n);
        self.b = rest;
        Ok(head)
    }

    fn string(&mut self) -> Result<Arc<str>, DecodeError> {
        let n = self.uvarint()?;
        let bytes = self.take(n)?;
        std::str::from_utf8(bytes)
            .map(Arc::from)
            .map_err(|_| DecodeError::Malformed("label is not utf-8"))
    }

    fn array(&mut self) -> Result<[u8; 8], DecodeError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(a)
    }
}
