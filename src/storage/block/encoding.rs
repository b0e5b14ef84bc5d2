//! The sample encoding of block files: one series' samples as a time column and a value
//! column of bytes that a general compressor (zstd, see `write.rs`) squeezes well, chosen
//! because blocks are written once in the background, where CPU is cheap, and read far less
//! often than the head is appended to.
//!
//! Timestamps are delta-of-delta varints: with scrapes stamped exactly on their slot they are
//! all zero after the second sample. Values that are exact decimals (counters, bytes, CPU
//! seconds in hundredths, durations in nanoseconds) become integer mantissas over one
//! exponent per series, the idea VictoriaMetrics uses, coded as varint deltas or
//! deltas-of-deltas, whichever is shorter; the few samples that are not (NaN, the staleness
//! marker, infinities, −0) ride along as exceptions with their bit patterns. A series whose
//! values mostly are not exact decimals keeps the XOR with the previous value, its eight
//! bytes split into eight planes so the compressor sees the runs of zero high bytes. Every
//! bit pattern survives. Layout: `docs/format/blocks.md`.

use super::reader::{ReadError, Reader};
use crate::model::Sample;
use crate::tsdb::varint::{put_uvarint, unzigzag, zigzag};

/// Values as the XOR of their bits with the previous value's, in eight byte planes.
const MODE_XOR: u8 = 0;
/// Decimal mantissas coded as deltas.
const MODE_DELTA: u8 = 1;
/// Decimal mantissas coded as deltas of deltas.
const MODE_DOD: u8 = 2;

/// Powers of ten exactly representable as `f64` (10^22 is the largest).
const MAX_EXP: i32 = 22;
/// Mantissas above this are not all exactly representable as `f64`.
const MAX_MANTISSA: i64 = 1 << 53;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum EncodingError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{n} samples cannot fit in {len} bytes")]
    TooMany { n: u64, len: usize },
    #[error("unknown value mode {mode} at byte {at}")]
    BadMode { mode: u8, at: usize },
    #[error("decimal exponent {exp} out of range at byte {at}")]
    BadExponent { exp: i64, at: usize },
    #[error("exception index {index} is not below the {n} samples")]
    BadException { index: u64, n: u64 },
    #[error("{extra} bytes after the last sample")]
    Trailing { extra: usize },
}

/// 10^0 to 10^22, all exact.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

fn pow10(e: i32) -> f64 {
    POW10[e.clamp(0, MAX_EXP) as usize]
}

/// `m · 10^-e` rounded once, which is the decimal's nearest `f64` because both factors are
/// exact (`|m| ≤ 2^53`, `|e| ≤ 22`).
fn from_decimal(m: i64, e: i32) -> f64 {
    if e >= 0 {
        m as f64 / pow10(e)
    } else {
        m as f64 * pow10(-e)
    }
}

/// The decimal `(m, e)` with the smallest `e` such that `from_decimal(m, e)` gives back `v`
/// bit for bit, if any. −0, NaN and infinities have none.
fn to_decimal(v: f64) -> Option<(i64, i32)> {
    if !v.is_finite() || (v == 0.0 && v.is_sign_negative()) {
        return None;
    }
    let exact = |m: f64, e: i32| {
        (m.abs() <= MAX_MANTISSA as f64 && m.fract() == 0.0)
            .then_some(m as i64)
            .filter(|&m| from_decimal(m, e).to_bits() == v.to_bits())
    };
    if v.abs() >= MAX_MANTISSA as f64 {
        return (1..=MAX_EXP).find_map(|k| exact((v / pow10(k)).round(), -k).map(|m| (m, -k)));
    }
    (0..=MAX_EXP).find_map(|e| exact((v * pow10(e)).round(), e).map(|m| (m, e)))
}

/// Appends the value column of `samples` to `out`: decimal mantissas if that is shorter
/// than the XOR planes, else the XOR planes.
pub(crate) fn encode_values(samples: &[Sample], out: &mut Vec<u8>) {
    let decimal = encode_decimal(samples);
    let xor_len = samples.len() * 8 + 1;
    match decimal {
        Some(d) if d.len() <= xor_len => out.extend_from_slice(&d),
        _ => encode_xor(samples, out),
    }
}

/// Appends the time column of `samples` (time-ordered) to `out`: the sample count and the
/// timestamps. Series of one target scraped together have identical time columns, which the
/// block stores once (`write.rs`).
pub(crate) fn encode_times(samples: &[Sample], out: &mut Vec<u8>) {
    put_uvarint(out, samples.len() as u64);
    let mut prev = (0i64, 0i64);
    for (i, s) in samples.iter().enumerate() {
        let d = s.t.wrapping_sub(prev.0);
        let v = match i {
            0 => s.t,
            1 => d,
            _ => d.wrapping_sub(prev.1),
        };
        put_uvarint(out, zigzag(v));
        prev = (s.t, d);
    }
}

pub(super) fn encode_xor(samples: &[Sample], out: &mut Vec<u8>) {
    out.push(MODE_XOR);
    let start = out.len();
    out.resize(start + samples.len() * 8, 0);
    let n = samples.len();
    let mut prev = 0u64;
    for (i, s) in samples.iter().enumerate() {
        let x = (s.v.to_bits() ^ prev).to_le_bytes();
        for (plane, b) in x.iter().enumerate() {
            out[start + plane * n + i] = *b;
        }
        prev = s.v.to_bits();
    }
}

/// The decimal encoding, both ways, keeping the shorter; `None` if more than a quarter of
/// the values are exceptions (the XOR planes are then likely smaller anyway).
fn encode_decimal(samples: &[Sample]) -> Option<Vec<u8>> {
    let decs: Vec<Option<(i64, i32)>> = samples.iter().map(|s| to_decimal(s.v)).collect();
    let exp = decs.iter().flatten().map(|d| d.1).max().unwrap_or(0);
    // Scaled to the common exponent; a mantissa that overflows becomes an exception.
    let scaled: Vec<Option<i64>> = decs
        .iter()
        .map(|d| {
            d.and_then(|(m, e)| {
                10i64
                    .checked_pow((exp - e) as u32)
                    .and_then(|p| m.checked_mul(p))
                    .filter(|m| m.abs() <= MAX_MANTISSA)
            })
        })
        .collect();
    let exceptions = scaled.iter().filter(|m| m.is_none()).count();
    if exceptions * 4 > samples.len() {
        return None;
    }
    let mut head = Vec::new();
    put_uvarint(&mut head, zigzag(i64::from(exp)));
    put_uvarint(&mut head, exceptions as u64);
    let mut last = 0usize;
    let mut mantissas = Vec::with_capacity(samples.len());
    let mut m = 0i64;
    for (i, (s, sc)) in samples.iter().zip(&scaled).enumerate() {
        match sc {
            Some(x) => m = *x,
            None => {
                put_uvarint(&mut head, (i - last) as u64);
                head.extend_from_slice(&s.v.to_bits().to_le_bytes());
                last = i;
            }
        }
        mantissas.push(m);
    }
    let (mut delta, mut dod) = (vec![MODE_DELTA], vec![MODE_DOD]);
    delta.extend_from_slice(&head);
    dod.extend_from_slice(&head);
    let (mut p, mut pd) = (0i64, 0i64);
    for (i, &m) in mantissas.iter().enumerate() {
        let d = m.wrapping_sub(p);
        put_uvarint(&mut delta, zigzag(d));
        put_uvarint(&mut dod, zigzag(if i < 2 { d } else { d.wrapping_sub(pd) }));
        (p, pd) = (m, d);
    }
    Some(if dod.len() < delta.len() { dod } else { delta })
}

/// Decodes a time column that fills `buf` exactly, appending its samples (values 0) to
/// `out`. Any byte string either decodes or gives an error.
pub(crate) fn decode_times(buf: &[u8], out: &mut Vec<Sample>) -> Result<(), EncodingError> {
    let mut r = Reader::new(buf);
    let n = r.uvarint()?;
    // Every sample takes at least one byte, so a larger count is damage.
    if n > buf.len() as u64 {
        return Err(EncodingError::TooMany { n, len: buf.len() });
    }
    out.reserve(n as usize);
    let (mut t, mut d) = (0i64, 0i64);
    for i in 0..n {
        let x = unzigzag(r.uvarint()?);
        match i {
            0 => t = x,
            1 => d = x,
            _ => d = d.wrapping_add(x),
        }
        if i > 0 {
            t = t.wrapping_add(d);
        }
        out.push(Sample { t, v: 0.0 });
    }
    if r.remaining() > 0 {
        return Err(EncodingError::Trailing {
            extra: r.remaining(),
        });
    }
    Ok(())
}

/// Decodes a value column that fills `buf` exactly into the values of `samples` (whose
/// timestamps came from the time column). Any byte string either decodes or gives an error.
pub(crate) fn decode_values(buf: &[u8], samples: &mut [Sample]) -> Result<(), EncodingError> {
    let mut r = Reader::new(buf);
    let n = samples.len();
    let at = r.pos;
    let mode = *r.take(1)?.first().unwrap_or(&MODE_XOR);
    match mode {
        MODE_XOR => {
            let planes = r.take(n.saturating_mul(8))?;
            let mut prev = 0u64;
            for (i, s) in samples.iter_mut().enumerate() {
                let mut x = [0u8; 8];
                for (plane, b) in x.iter_mut().enumerate() {
                    *b = planes[plane * n + i];
                }
                prev ^= u64::from_le_bytes(x);
                s.v = f64::from_bits(prev);
            }
        }
        MODE_DELTA | MODE_DOD => decode_decimal(&mut r, mode, samples)?,
        mode => return Err(EncodingError::BadMode { mode, at }),
    }
    if r.remaining() > 0 {
        return Err(EncodingError::Trailing {
            extra: r.remaining(),
        });
    }
    Ok(())
}

fn decode_decimal(r: &mut Reader, mode: u8, samples: &mut [Sample]) -> Result<(), EncodingError> {
    let at = r.pos;
    let exp = unzigzag(r.uvarint()?);
    if !(-i64::from(MAX_EXP)..=i64::from(MAX_EXP)).contains(&exp) {
        return Err(EncodingError::BadExponent { exp, at });
    }
    let n = samples.len() as u64;
    let k = r.uvarint()?;
    let mut exceptions = Vec::with_capacity(k.min(n) as usize);
    let mut index = 0u64;
    for _ in 0..k {
        index = index.saturating_add(r.uvarint()?);
        if index >= n {
            return Err(EncodingError::BadException { index, n });
        }
        exceptions.push((index as usize, f64::from_bits(r.u64()?)));
    }
    let (mut m, mut d) = (0i64, 0i64);
    for (i, s) in samples.iter_mut().enumerate() {
        let x = unzigzag(r.uvarint()?);
        d = if mode == MODE_DOD && i >= 2 {
            d.wrapping_add(x)
        } else {
            x
        };
        m = m.wrapping_add(d);
        s.v = from_decimal(m, exp as i32);
    }
    for (i, v) in exceptions {
        samples[i].v = v;
    }
    Ok(())
}
