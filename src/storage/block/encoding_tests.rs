//! Round trips of the block sample encoding on edge values and random series, and damage
//! that must give an error, never a panic.

use super::encoding::{decode_times, decode_values, encode_times, encode_values, EncodingError};
use super::reader::Reader;
use crate::model::Sample;
use crate::tsdb::varint::put_uvarint;

/// Both columns in one buffer: the time column's length, the time column, the value column.
fn encode(s: &[Sample], out: &mut Vec<u8>) {
    let mut times = Vec::new();
    encode_times(s, &mut times);
    put_uvarint(out, times.len() as u64);
    out.extend_from_slice(&times);
    encode_values(s, out);
}

fn decode(buf: &[u8], out: &mut Vec<Sample>) -> Result<(), EncodingError> {
    let mut r = Reader::new(buf);
    let len = r.uvarint()? as usize;
    let times = r.take(len)?;
    let start = out.len();
    decode_times(times, out)?;
    decode_values(&buf[r.pos..], &mut out[start..])
}

const STALE: u64 = 0x7ff0_0000_0000_0002;
const T0: i64 = 1_764_000_000_000;

fn samples(values: &[f64]) -> Vec<Sample> {
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| Sample {
            t: T0 + i as i64 * 15_000,
            v,
        })
        .collect()
}

fn bits(s: &[Sample]) -> Vec<(i64, u64)> {
    s.iter().map(|s| (s.t, s.v.to_bits())).collect()
}

/// Encodes, decodes and compares bit for bit; returns the encoded length.
fn round_trip(s: &[Sample]) -> usize {
    let mut buf = Vec::new();
    encode(s, &mut buf);
    let mut back = Vec::new();
    decode(&buf, &mut back).unwrap();
    assert_eq!(bits(&back), bits(s));
    // Decoding appends: a second series after the first keeps both.
    let mut twice = back.clone();
    decode(&buf, &mut twice).unwrap();
    assert_eq!(twice.len(), 2 * s.len());
    buf.len()
}

#[test]
fn edge_values_round_trip() {
    let p53 = (1u64 << 53) as f64;
    let cases: &[(&str, Vec<f64>)] = &[
        ("empty", vec![]),
        ("one zero", vec![0.0]),
        ("nan", vec![1.0, f64::NAN, 2.0]),
        ("stale marker", vec![5.0, 6.0, f64::from_bits(STALE)]),
        ("only stale", vec![f64::from_bits(STALE); 3]),
        (
            "nan payloads",
            vec![
                f64::from_bits(0x7ff8_dead_beef_0001),
                f64::from_bits(0xfff0_0000_0000_0001),
            ],
        ),
        ("infinities", vec![f64::INFINITY, 1.0, f64::NEG_INFINITY]),
        ("negative zero", vec![0.0, -0.0, 0.0, -0.0]),
        ("huge", vec![f64::MAX, f64::MIN, 1e308, -1e300, 1.7e308]),
        ("tiny", vec![f64::MIN_POSITIVE, 5e-324, -5e-324, 1e-300]),
        (
            "near 2^53",
            vec![p53 - 1.0, p53, p53 + 2.0, -p53, -(p53 - 1.0), p53 * 2.0],
        ),
        (
            "i64 edges",
            vec![i64::MAX as f64, i64::MIN as f64, u64::MAX as f64],
        ),
        (
            "inexact decimals",
            vec![0.1 + 0.2, 1.0 / 3.0, std::f64::consts::PI, 2f64.sqrt()],
        ),
        (
            "exact decimals",
            vec![0.1, 12.34, 1e-9, 4.5123e-5, 99999.99, -0.5],
        ),
        ("powers of ten", vec![1e15, 1e20, 1e22, 1e23, 1e-22, 1e-23]),
        ("mixed exponents", vec![1e-20, 123456789.0, 0.1]),
        (
            "big with decimals",
            vec![9007199254740.993, 1763991234.56, 123456789012.345],
        ),
        (
            "counter",
            (0..500)
                .map(|i| f64::from(i * 37 % 101 + i * 200))
                .collect(),
        ),
        (
            "cpu seconds",
            (0..500)
                .map(|i| f64::from(1_234_567 + i * 149) / 100.0)
                .collect(),
        ),
    ];
    for (name, values) in cases {
        let s = samples(values);
        let mut buf = Vec::new();
        encode(&s, &mut buf);
        let mut back = Vec::new();
        decode(&buf, &mut back).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(bits(&back), bits(&s), "{name}");
        round_trip(&s);
    }
}

#[test]
fn timestamps_round_trip() {
    let ts: &[&[i64]] = &[
        &[i64::MIN, 0, i64::MAX],
        &[-5, -4, 10, 10_000_000_000_000],
        &[T0, T0 + 15_000, T0 + 30_001, T0 + 44_999, T0 + 1_000_000],
        &[i64::MAX - 2, i64::MAX - 1, i64::MAX],
    ];
    for t in ts {
        let s: Vec<Sample> = t.iter().map(|&t| Sample { t, v: 1.5 }).collect();
        round_trip(&s);
    }
}

/// Scrapes on their slot with a constant value: two bytes a sample before compression
/// (zero varints), next to nothing after; an inexact constant keeps eight zero bytes a
/// sample in its XOR planes, also next to nothing after compression.
#[test]
fn constant_on_slot_series_compress_to_almost_nothing() {
    for (v, raw) in [(1.0, 2 * 480 + 16), (0.1 + 0.2, 9 * 480 + 16)] {
        let s = samples(&vec![v; 480]);
        assert!(round_trip(&s) <= raw, "{v}");
        let mut buf = Vec::new();
        encode(&s, &mut buf);
        let z = zstd::bulk::compress(&buf, 9).unwrap().len();
        assert!(z <= 64, "{v}: {z} bytes compressed");
    }
}

fn random_value(rng: &mut fastrand::Rng, prev: f64) -> f64 {
    match rng.u8(..10) {
        0 => f64::from_bits(rng.u64(..)),
        1 => [
            f64::NAN,
            f64::from_bits(STALE),
            f64::INFINITY,
            -0.0,
            f64::MAX,
        ][rng.usize(..5)],
        2 => prev,
        3 => prev + f64::from(rng.u32(..1000)),
        4 => (rng.f64() * 1e6).round() / 100.0,
        5 => rng.f64(),
        6 => prev + rng.f64() * 0.2,
        7 => f64::from(rng.i32(..)) * 4096.0,
        8 => rng.i64(..) as f64,
        _ => f64::from(rng.u32(..)) / 1e9,
    }
}

#[test]
fn random_series_round_trip() {
    for seed in 0..400u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let n = rng.usize(..600);
        // One kind of value per series most of the time, so that every mode is taken.
        let kind = rng.u8(..3);
        let mut t = rng.i64(-1 << 50..1 << 50);
        let mut v = 0.0;
        let s: Vec<Sample> = (0..n)
            .map(|_| {
                t = t.saturating_add(match rng.u8(..4) {
                    0 => 15_000,
                    1 => rng.i64(1..100_000),
                    2 => rng.i64(1..1 << 40),
                    _ => 15_000 + rng.i64(-8..8),
                });
                v = match kind {
                    0 => random_value(&mut rng, v),
                    1 => v + f64::from(rng.u16(..500)),
                    _ if rng.u8(..100) == 0 => f64::from_bits(STALE),
                    _ => v + f64::from(rng.u16(..)) / 100.0,
                };
                Sample { t, v }
            })
            .collect();
        round_trip(&s);
    }
}

/// Every strict prefix of a valid encoding is an error, and random bytes decode or fail
/// without panicking.
#[test]
fn damaged_encodings_give_errors() {
    let mut rng = fastrand::Rng::with_seed(9);
    for values in [
        vec![1.0, 2.5, f64::NAN, 4.0],
        vec![0.1 + 0.2, 1.0 / 3.0, 7.0],
        (0..50).map(|i| f64::from(i) * 1.5).collect(),
    ] {
        let mut buf = Vec::new();
        encode(&samples(&values), &mut buf);
        for cut in 0..buf.len() {
            let mut out = Vec::new();
            assert!(
                decode(&buf[..cut], &mut out).is_err(),
                "prefix of {cut} bytes"
            );
        }
        let mut longer = buf.clone();
        longer.push(0);
        assert!(decode(&longer, &mut Vec::new()).is_err(), "trailing byte");
        for _ in 0..2000 {
            let mut b = buf.clone();
            let i = rng.usize(..b.len());
            b[i] = rng.u8(..);
            let _ = decode(&b, &mut Vec::new());
        }
    }
    for _ in 0..5000 {
        let b: Vec<u8> = (0..rng.usize(..64)).map(|_| rng.u8(..)).collect();
        let _ = decode(&b, &mut Vec::new());
    }
    // A huge sample count in a short buffer is refused before anything is allocated.
    let mut b = Vec::new();
    crate::tsdb::varint::put_uvarint(&mut b, u64::MAX >> 1);
    assert!(decode(&b, &mut Vec::new()).is_err());
}
