//! Round-trip, property and corruption tests for the chunk encoding.

use super::*;
use crate::model::STALE_NAN_BITS;

/// Encodes `samples`, decodes them through the open chunk and through a sealed copy read
/// back from bytes, and checks every timestamp and every value bit.
fn round_trip(name: &str, samples: &[(i64, u64)]) {
    let mut c = XorChunk::new();
    for &(t, bits) in samples {
        c.append(t, f64::from_bits(bits)).unwrap();
    }
    assert_eq!(c.len(), samples.len(), "{name}");
    let sealed = SealedChunk::from_bytes(c.bytes().to_vec())
        .unwrap_or_else(|e| panic!("{name}: sealed chunk does not decode: {e}"));
    for (what, got) in [
        (
            "open",
            c.iter().map(|s| (s.t, s.v.to_bits())).collect::<Vec<_>>(),
        ),
        (
            "sealed",
            sealed.iter().map(|s| (s.t, s.v.to_bits())).collect(),
        ),
    ] {
        assert_eq!(got.len(), samples.len(), "{name} ({what}): sample count");
        for (i, (g, w)) in got.iter().zip(samples).enumerate() {
            assert_eq!(g, w, "{name} ({what}): sample {i}: got {g:x?}, want {w:x?}");
        }
    }
    let range = samples.iter().map(|s| s.0);
    let want_range = range.clone().min().zip(range.max());
    assert_eq!(c.time_range(), want_range, "{name}");
    assert_eq!(sealed.time_range(), want_range, "{name}");
    assert_eq!(c.clone().seal(), sealed, "{name}");
}

fn f(v: f64) -> u64 {
    v.to_bits()
}

#[test]
fn edge_cases_round_trip_bit_exactly() {
    let t0 = 1_700_000_000_000i64;
    let regular: Vec<i64> = (0..5).map(|i| t0 + i * 15_000).collect();
    let with = |vals: &[u64]| -> Vec<(i64, u64)> {
        vals.iter()
            .enumerate()
            .map(|(i, &v)| (t0 + i as i64 * 15_000, v))
            .collect()
    };
    let cases: Vec<(&str, Vec<(i64, u64)>)> = vec![
        ("empty", vec![]),
        ("one sample", vec![(t0, f(1.0))]),
        ("two samples", vec![(t0, f(1.0)), (t0 + 1, f(2.0))]),
        (
            "stale nan after value",
            with(&[f(1.0), STALE_NAN_BITS, f(1.0), STALE_NAN_BITS]),
        ),
        (
            "stale nan first",
            with(&[STALE_NAN_BITS, f(3.0), STALE_NAN_BITS]),
        ),
        (
            "quiet and signalling nan payloads",
            with(&[
                0x7ff8_0000_0000_0000,
                0x7ff0_0000_0000_0001,
                0xfff8_dead_beef_0001,
                0x7fff_ffff_ffff_ffff,
                0xffff_ffff_ffff_ffff,
            ]),
        ),
        (
            "infinities",
            with(&[
                f(f64::INFINITY),
                f(f64::NEG_INFINITY),
                f(0.0),
                f(f64::INFINITY),
            ]),
        ),
        (
            "signed zeros",
            with(&[f(0.0), f(-0.0), f(0.0), f(-0.0), f(-0.0)]),
        ),
        (
            "huge jumps",
            with(&[
                f(f64::MAX),
                f(f64::MIN),
                f(f64::MIN_POSITIVE),
                f(-f64::MIN_POSITIVE),
                f(5e-324),
                f(1e308),
            ]),
        ),
        (
            "all bits flip",
            with(&[
                0,
                u64::MAX,
                0,
                u64::MAX,
                0x5555_5555_5555_5555,
                0xaaaa_aaaa_aaaa_aaaa,
            ]),
        ),
        (
            "large counters",
            with(&[
                f(9.007_199_254_740_992e15),
                f(9.007_199_254_740_993e15),
                f(1.8e19),
                f(1.8e19 + 4096.0),
            ]),
        ),
        ("constant", regular.iter().map(|&t| (t, f(42.0))).collect()),
        (
            "shrinking deltas",
            vec![
                (t0, f(1.0)),
                (t0 + 20_000, f(2.0)),
                (t0 + 20_000, f(3.0)),
                (t0 + 20_007, f(4.0)),
            ],
        ),
        (
            "irregular deltas",
            vec![
                (0, f(1.0)),
                (1, f(1.0)),
                (2, f(1.0)),
                (66, f(1.0)),
                (67, f(1.0)),
                (8_260, f(1.0)),
                (9_000_000, f(1.0)),
                (9_000_001, f(1.0)),
                (1 << 40, f(1.0)),
            ],
        ),
        (
            "bucket edges",
            [0i64, 1, -1]
                .into_iter()
                .chain(xor::DOD_BUCKETS[..3].iter().flat_map(|&w| {
                    let h = 1i64 << (w - 1);
                    [h - 1, h, -h, -h - 1]
                }))
                .collect::<Vec<_>>()
                .iter()
                // A large first delta keeps every delta positive: timestamps only grow.
                .scan((0i64, 1i64 << 20), |(t, d), &dod| {
                    *d += dod;
                    *t += *d;
                    Some((*t, f(1.0)))
                })
                .collect(),
        ),
        (
            "extreme timestamps",
            vec![
                (i64::MIN, f(1.0)),
                (-1, f(2.0)),
                (0, f(3.0)),
                (i64::MAX, f(4.0)),
                (i64::MAX, f(5.0)),
            ],
        ),
        (
            "negative timestamps",
            vec![(-1_000_000, f(1.0)), (-985_000, f(2.0)), (-970_001, f(3.0))],
        ),
    ];
    for (name, samples) in &cases {
        round_trip(name, samples);
    }
}

#[test]
fn older_samples_are_refused() {
    let mut c = XorChunk::new();
    c.append(1_000, 1.0).unwrap();
    c.append(1_000, 2.0).unwrap();
    assert_eq!(
        c.append(999, 3.0),
        Err(ChunkError::OutOfOrder {
            t: 999,
            last: 1_000
        })
    );
    assert_eq!(c.len(), 2);
    assert_eq!(c.time_range(), Some((1_000, 1_000)));
}

#[test]
fn open_chunks_stay_small() {
    assert!(std::mem::size_of::<XorChunk>() <= 48);
}

/// splitmix64: a small deterministic generator so the property test needs no dependency and
/// every failure is reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A random series mixing the shapes that matter: regular and jittered intervals, gaps,
/// repeated timestamps, huge jumps, repeated values, counters, gauges, special floats and raw
/// bit patterns. Timestamps never decrease (the chunk refuses older ones).
fn random_series(rng: &mut Rng) -> Vec<(i64, u64)> {
    let n = 1 + rng.below(300) as usize;
    let mut t = rng.next() as i64 >> rng.below(64);
    let step = rng.below(120_000) as i64;
    let mut v = 0.0f64;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        t = t.saturating_add(match rng.below(8) {
            0 => (rng.next() >> 1 >> rng.below(63)) as i64,
            1 => 0,
            2 | 3 => step,
            _ => (step + rng.below(50) as i64 - 25).max(0),
        });
        let bits = match rng.below(10) {
            0 => rng.next(),
            1 => [STALE_NAN_BITS, f(f64::INFINITY), f(-0.0), f(f64::NAN)][rng.below(4) as usize],
            2 => f(v),
            3 | 4 => {
                v += rng.below(1000) as f64;
                f(v)
            }
            5 => {
                v = (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * 100.0;
                f(v)
            }
            _ => {
                v += (rng.below(2001) as f64 - 1000.0) / 8.0;
                f(v)
            }
        };
        out.push((t, bits));
    }
    out
}

#[test]
fn random_series_round_trip() {
    let mut rng = Rng(0x5eed);
    for case in 0..2_000 {
        let s = random_series(&mut rng);
        round_trip(&format!("random case {case}"), &s);
    }
}

#[test]
fn truncated_chunks_are_errors() {
    let mut rng = Rng(7);
    for case in 0..50 {
        let s = random_series(&mut rng);
        let mut c = XorChunk::new();
        for &(t, v) in &s {
            c.append(t, f64::from_bits(v)).unwrap();
        }
        let bytes = c.bytes();
        for cut in 0..bytes.len() {
            let got = SealedChunk::from_bytes(bytes[..cut].to_vec());
            assert!(
                got.is_err(),
                "case {case}: cut at {cut} of {} decoded",
                bytes.len()
            );
            let mut it = ChunkIter::new(&bytes[..cut]);
            assert!(it.by_ref().count() < s.len() || cut == bytes.len());
            assert!(
                it.err().is_some(),
                "case {case}: cut at {cut}: no error reported"
            );
        }
    }
}

#[test]
fn malformed_chunks_are_named_errors() {
    let mut two = XorChunk::new();
    two.append(1000, 1.0).unwrap();
    two.append(2000, 3.0).unwrap();
    let good = two.bytes().to_vec();
    let with_tail = [good.clone(), vec![0]].concat();
    // A count one higher could still decode: the zero padding bits of the last byte read as
    // "same time step, same value". Fifty more cannot.
    let mut more = good.clone();
    more[1] = 52;
    // Header says 2 samples; first sample t=0 (varint 0x00), value 0.0, then sample 1 with a
    // delta varint of eleven continuation bytes.
    let long_varint = [vec![0, 2, 0], vec![0; 8], vec![0xff; 11]].concat();
    // Sample 1: delta 0, then value prefix `10` (reuse window) with no window set.
    let no_window = [vec![0, 2, 0], vec![0; 8], vec![0, 0b1000_0000]].concat();
    // Sample 1: delta 0, new window with 63 leading zeros and 64 significant bits.
    let bad_window = [
        vec![0, 2, 0],
        vec![0; 8],
        vec![0, 0b1111_1111, 0b1111_1100, 0, 0],
    ]
    .concat();
    type Case = (&'static str, Vec<u8>, fn(&ChunkError) -> bool);
    let cases: Vec<Case> = vec![
        ("empty input", vec![], |e| {
            matches!(e, ChunkError::TooShort { len: 0 })
        }),
        ("one byte", vec![0], |e| {
            matches!(e, ChunkError::TooShort { len: 1 })
        }),
        ("count beyond data", more, |e| {
            matches!(e, ChunkError::Truncated { .. })
        }),
        ("bytes after last sample", with_tail, |e| {
            matches!(e, ChunkError::TrailingBytes { extra: 1, .. })
        }),
        ("varint over 64 bits", long_varint, |e| {
            matches!(e, ChunkError::BadVarint { sample: 1, .. })
        }),
        ("window reused before set", no_window, |e| {
            matches!(e, ChunkError::NoWindow { sample: 1, .. })
        }),
        ("window wider than 64 bits", bad_window, |e| {
            matches!(
                e,
                ChunkError::BadWindow {
                    leading: 31,
                    significant: 64,
                    ..
                }
            )
        }),
    ];
    for (name, bytes, want) in cases {
        match SealedChunk::from_bytes(bytes) {
            Ok(c) => panic!("{name}: decoded {} samples", c.len()),
            Err(e) => assert!(want(&e), "{name}: unexpected error {e}"),
        }
    }
    assert_eq!(SealedChunk::from_bytes(good).map(|c| c.len()), Ok(2));
}

#[test]
fn random_corruption_never_panics() {
    let mut rng = Rng(99);
    for _ in 0..300 {
        let s = random_series(&mut rng);
        let mut c = XorChunk::new();
        for &(t, v) in &s {
            c.append(t, f64::from_bits(v)).unwrap();
        }
        let mut bytes = c.bytes().to_vec();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(bytes.len() as u64) as usize;
            bytes[i] ^= 1 << rng.below(8);
        }
        // Any outcome but a panic is fine: flipped bits may still decode to other samples.
        let _ = SealedChunk::from_bytes(bytes.clone());
        let _ = ChunkIter::new(&bytes).count();
    }
}

#[test]
fn full_chunk_refuses_appends() {
    let mut c = XorChunk::new();
    for i in 0..MAX_SAMPLES {
        c.append(i as i64 * 15_000, 1.0).unwrap();
    }
    assert_eq!(
        c.append(0, 1.0),
        Err(ChunkError::Full {
            samples: MAX_SAMPLES
        })
    );
    let sealed = c.seal();
    assert_eq!(sealed.iter().count(), MAX_SAMPLES);
}

#[test]
fn sealed_chunk_is_shared_across_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<SealedChunk>();
    shared::<XorChunk>();
    let mut c = XorChunk::new();
    for i in 0..SAMPLES_PER_CHUNK {
        c.append(i as i64 * 15_000, i as f64).unwrap();
    }
    let sealed = c.seal();
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let s = sealed.clone();
            std::thread::spawn(move || s.iter().map(|x| x.v).sum::<f64>())
        })
        .collect();
    for r in readers {
        assert_eq!(r.join().unwrap(), (0..120).sum::<i32>() as f64);
    }
}

#[test]
fn jittered_scrapes_cost_little_time_overhead() {
    // 15 s interval with ±10 ms jitter and a constant value: only timestamps cost bits.
    let mut rng = Rng(3);
    let mut c = XorChunk::new();
    for i in 0..SAMPLES_PER_CHUNK as i64 {
        c.append(
            1_700_000_000_000 + i * 15_000 + rng.below(21) as i64 - 10,
            1.0,
        )
        .unwrap();
    }
    let per_sample = c.bytes().len() as f64 / SAMPLES_PER_CHUNK as f64;
    assert!(per_sample < 1.4, "{per_sample} bytes per sample");
}

#[test]
fn worked_example_in_format_doc() {
    let mut c = XorChunk::new();
    c.append(1000, 1.0).unwrap();
    c.append(2000, 3.0).unwrap();
    let want = [
        0x00, 0x02, 0xd0, 0x0f, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0xd0, 0x0f, 0xc2, 0x5f, 0xff, 0x80,
    ];
    assert_eq!(c.bytes(), want);
}
