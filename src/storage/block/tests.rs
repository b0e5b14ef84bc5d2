//! Block files end to end: written, opened and read back bit for bit; damaged files give
//! errors or skip the damaged part, never panic; version 1 files stay readable; the database
//! answers the same before and after samples move from the head into a block.

use super::*;
use crate::model::{MatchOp, Sample};
use crate::storage::{Appendable, Db, DbOptions, Queryable};
use crate::tsdb::chunk::{XorChunk, SAMPLES_PER_CHUNK};
use crate::tsdb::varint::{put_bytes, put_uvarint, zigzag};
use std::time::Duration;

const T0: i64 = 1_764_000_000_000;
const STALE: u64 = 0x7ff0_0000_0000_0002;

fn labels(i: usize) -> Labels {
    Labels::from_pairs(&[
        ("__name__", ["c_total", "g_bytes", "s_seconds"][i % 3]),
        ("i", &format!("{i:04}")),
        ("job", "api"),
    ])
}

/// Mixed series: counters, gauges in pages, inexact sums, now and then NaN, a stale marker
/// or an infinity; timestamps on the slot or with jitter.
fn fixture(series: usize, n: usize) -> Vec<(Labels, Vec<Sample>)> {
    let mut rng = fastrand::Rng::with_seed(11);
    let mut out: Vec<(Labels, Vec<Sample>)> = (0..series)
        .map(|i| {
            let mut v = f64::from(rng.u32(..1000));
            let jitter = i % 4 == 0;
            let samples = (0..n)
                .map(|k| {
                    v = match i % 3 {
                        0 => v + f64::from(rng.u16(..500)),
                        1 => v + f64::from(rng.i16(..)) * 4096.0,
                        _ => v + rng.f64() * 0.2,
                    };
                    let special = match rng.u16(..400) {
                        0 => Some(f64::NAN),
                        1 => Some(f64::from_bits(STALE)),
                        2 => Some(f64::NEG_INFINITY),
                        3 => Some(-0.0),
                        _ => None,
                    };
                    let t = T0 + k as i64 * 15_000 + if jitter { rng.i64(0..8) } else { 0 };
                    Sample {
                        t,
                        v: special.unwrap_or(v),
                    }
                })
                .collect();
            (labels(i), samples)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn chunks_of(samples: &[Sample]) -> Vec<SealedChunk> {
    samples
        .chunks(SAMPLES_PER_CHUNK)
        .map(|c| {
            let mut ch = XorChunk::new();
            for s in c {
                ch.append(s.t, s.v).unwrap();
            }
            ch.seal()
        })
        .collect()
}

fn bits(s: &[Sample]) -> Vec<(i64, u64)> {
    s.iter().map(|s| (s.t, s.v.to_bits())).collect()
}

fn as_bits(data: Vec<SeriesData>) -> Vec<(Labels, Vec<(i64, u64)>)> {
    let mut out: Vec<_> = data
        .into_iter()
        .map(|s| (s.labels, bits(&s.samples)))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn write_fixture(dir: &Path, fx: &[(Labels, Vec<Sample>)]) -> PathBuf {
    let series: Vec<(Labels, Vec<SealedChunk>)> =
        fx.iter().map(|(l, s)| (l.clone(), chunks_of(s))).collect();
    let path = dir.join("00000001.block");
    write(&path, &series, T0 + 7_200_000).unwrap();
    path
}

fn open(path: &Path) -> Result<Block, BlockError> {
    Block::open(path, &|l| l.clone())
}

fn all() -> Vec<Matcher> {
    vec![Matcher::new(MatchOp::RegexMatch, "__name__", ".+").unwrap()]
}

fn want(fx: &[(Labels, Vec<Sample>)], mint: i64, maxt: i64) -> Vec<(Labels, Vec<(i64, u64)>)> {
    fx.iter()
        .map(|(l, s)| {
            let s: Vec<Sample> = s
                .iter()
                .filter(|s| s.t >= mint && s.t <= maxt)
                .copied()
                .collect();
            (l.clone(), bits(&s))
        })
        .filter(|(_, s)| !s.is_empty())
        .collect()
}

#[test]
fn written_block_reads_back_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let fx = fixture(300, 480);
    let b = open(&write_fixture(dir.path(), &fx)).unwrap();
    assert!(b.pages.len() > 1, "the fixture spans several pages");
    // The 225 series on their slot share one time column; the 75 with jitter have their own.
    assert_eq!(b.columns.len(), 76);
    assert_eq!(b.samples, 300 * 480);
    assert_eq!((b.mint, b.cut), (T0, T0 + 7_200_000));
    for (mint, maxt) in [
        (i64::MIN, i64::MAX),
        (T0 + 15_000, T0 + 15_000),
        (T0 + 3_600_000, T0 + 3_700_000),
        (T0 - 10, T0 + 1),
        (T0 + 480 * 15_000, i64::MAX),
    ] {
        assert_eq!(
            as_bits(b.select(mint, maxt, &all())),
            want(&fx, mint, maxt),
            "[{mint}, {maxt}]"
        );
    }
    let g = [Matcher::new(MatchOp::Equal, "__name__", "g_bytes").unwrap()];
    assert_eq!(b.select(i64::MIN, i64::MAX, &g).len(), 100);
    assert_eq!(b.series(i64::MIN, i64::MAX, &g).len(), 100);
    assert!(b.series(0, T0 - 1, &g).is_empty());
    assert_eq!(b.label_values("i").len(), 300);
}

#[test]
fn empty_block_opens_and_selects_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.block");
    write(&path, &[(labels(0), Vec::new())], 5).unwrap();
    let b = open(&path).unwrap();
    assert_eq!((b.samples, b.cut), (0, 5));
    assert!(b.select(i64::MIN, i64::MAX, &all()).is_empty());
}

#[test]
fn truncated_block_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_fixture(dir.path(), &fixture(20, 200));
    let bytes = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.block");
    for len in (0..bytes.len())
        .step_by(bytes.len() / 200 + 1)
        .chain([bytes.len() - 1])
    {
        std::fs::write(&cut, &bytes[..len]).unwrap();
        assert!(open(&cut).is_err(), "{len} of {} bytes", bytes.len());
    }
}

/// A damaged page loses its own series only; the index checksum refuses a damaged index.
#[test]
fn damaged_page_skips_its_series_and_damaged_index_fails_open() {
    let dir = tempfile::tempdir().unwrap();
    let fx = fixture(300, 480);
    let path = write_fixture(dir.path(), &fx);
    let good = open(&path).unwrap();
    let (first, index_at) = (
        good.pages[0],
        good.pages
            .last()
            .map(|p| p.offset + u64::from(p.len))
            .unwrap(),
    );
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[first.offset as usize + 20] ^= 0x55;
    std::fs::write(&path, &bytes).unwrap();
    let b = open(&path).unwrap();
    let got = b.select(i64::MIN, i64::MAX, &all());
    assert!(!got.is_empty() && got.len() < 300, "{} series", got.len());
    let want = want(&fx, i64::MIN, i64::MAX);
    for s in as_bits(got) {
        assert!(want.contains(&s), "a surviving series is intact");
    }
    bytes[index_at as usize + 3] ^= 0x55;
    std::fs::write(&path, &bytes).unwrap();
    assert!(open(&path).is_err());
}

#[test]
fn random_damage_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_fixture(dir.path(), &fixture(60, 300));
    let bytes = std::fs::read(&path).unwrap();
    let mut rng = fastrand::Rng::with_seed(3);
    let bad = dir.path().join("bad.block");
    for _ in 0..300 {
        let mut b = bytes.clone();
        for _ in 0..rng.usize(1..4) {
            let i = rng.usize(..b.len());
            b[i] = rng.u8(..);
        }
        std::fs::write(&bad, &b).unwrap();
        if let Ok(block) = open(&bad) {
            let _ = block.select(i64::MIN, i64::MAX, &all());
        }
    }
}

/// Writes `series` in format version 1 (the head's XOR chunks and a plain index), as
/// blocks written before version 2 are on disk.
fn write_v1(path: &Path, series: &[(Labels, Vec<SealedChunk>)], cut: i64) {
    let mut file = MAGIC_V1.to_vec();
    let mut index = Vec::new();
    put_uvarint(&mut index, series.len() as u64);
    let (mut mint, mut maxt) = (i64::MAX, i64::MIN);
    for (labels, chunks) in series {
        put_uvarint(&mut index, labels.len() as u64);
        for l in labels {
            put_bytes(&mut index, l.name.as_bytes());
            put_bytes(&mut index, l.value.as_bytes());
        }
        put_uvarint(&mut index, chunks.len() as u64);
        for ch in chunks {
            let (a, b) = ch.time_range().unwrap();
            (mint, maxt) = (mint.min(a), maxt.max(b));
            put_uvarint(&mut index, zigzag(a));
            put_uvarint(&mut index, (b - a) as u64);
            put_uvarint(&mut index, ch.bytes().len() as u64);
            put_uvarint(&mut index, ch.len() as u64);
            index.extend_from_slice(&crc32fast::hash(ch.bytes()).to_le_bytes());
            file.extend_from_slice(ch.bytes());
        }
    }
    let offset = file.len() as u64;
    file.extend_from_slice(&index);
    for x in [mint, maxt, cut] {
        file.extend_from_slice(&x.to_le_bytes());
    }
    file.extend_from_slice(&offset.to_le_bytes());
    file.extend_from_slice(&(index.len() as u64).to_le_bytes());
    file.extend_from_slice(&crc32fast::hash(&index).to_le_bytes());
    file.extend_from_slice(&FOOTER_MAGIC);
    std::fs::write(path, file).unwrap();
}

#[test]
fn version_1_blocks_stay_readable() {
    let dir = tempfile::tempdir().unwrap();
    let fx = fixture(30, 300);
    let series: Vec<(Labels, Vec<SealedChunk>)> =
        fx.iter().map(|(l, s)| (l.clone(), chunks_of(s))).collect();
    let path = dir.path().join("old.block");
    write_v1(&path, &series, 9);
    let b = open(&path).unwrap();
    assert_eq!((b.samples, b.cut), (30 * 300, 9));
    for (mint, maxt) in [(i64::MIN, i64::MAX), (T0 + 1_000_000, T0 + 2_000_000)] {
        assert_eq!(as_bits(b.select(mint, maxt, &all())), want(&fx, mint, maxt));
    }
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[8 + 5] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let got = open(&path).unwrap().select(i64::MIN, i64::MAX, &all());
    assert_eq!(got.len(), 30, "a damaged chunk loses its own samples only");
}

#[test]
fn unknown_version_is_refused_with_its_magic() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_fixture(dir.path(), &fixture(3, 10));
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[7] = 3;
    std::fs::write(&path, &bytes).unwrap();
    let e = open(&path).err().unwrap().to_string();
    assert!(e.contains("newer than 2"), "{e}");
}

/// Every query answers bit for bit the same before and after the samples move from the
/// head into a block, and after a restart that reads them from the block.
#[test]
fn db_queries_identical_before_and_after_persist() {
    let dir = tempfile::tempdir().unwrap();
    let opts = DbOptions {
        block_duration: Duration::from_secs(2 * 3600),
        ..DbOptions::default()
    };
    let db = Db::open(dir.path(), opts.clone()).unwrap();
    let fx = fixture(120, 3 * 240);
    for k in 0..3 * 240 {
        let mut a = db.appender();
        for (l, s) in &fx {
            a.append(l, s[k].t, s[k].v);
        }
        a.commit();
    }
    let q =
        |db: &Db, mint: i64, maxt: i64, m: &[Matcher]| as_bits(db.querier(mint, maxt).select(m));
    let c = [Matcher::new(MatchOp::Equal, "__name__", "c_total").unwrap()];
    let ranges = [
        (T0, T0 + 3 * 3_600_000),
        (T0 + 7_100_000, T0 + 7_300_000),
        (T0 + 7_200_000, T0 + 7_200_000),
        (T0 - 1, T0 + 15_000),
    ];
    let before: Vec<_> = ranges
        .iter()
        .flat_map(|&(a, b)| [q(&db, a, b, &all()), q(&db, a, b, &c)])
        .collect();
    assert_eq!(before[0], want(&fx, ranges[0].0, ranges[0].1));
    assert_eq!(db.persist(T0 + 3 * 3_600_000).unwrap(), 120);
    assert_eq!(db.disk_stats().blocks, 1);
    let after = |db: &Db| -> Vec<_> {
        ranges
            .iter()
            .flat_map(|&(a, b)| [q(db, a, b, &all()), q(db, a, b, &c)])
            .collect()
    };
    assert_eq!(after(&db), before);
    db.close();
    drop(db);
    let db = Db::open(dir.path(), opts).unwrap();
    assert_eq!(after(&db), before, "after a restart");
}

/// The index is checksummed, so damage rarely reaches its decoders; feed them damaged
/// bodies directly: every one decodes or fails, none panics, every truncation fails.
#[test]
fn damaged_index_bodies_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let fx = fixture(40, 200);
    let path = write_fixture(dir.path(), &fx);
    let bytes = std::fs::read(&path).unwrap();
    let b = open(&path).unwrap();
    let index_at = b
        .pages
        .iter()
        .map(|p| p.offset + u64::from(p.len))
        .max()
        .unwrap() as usize;
    let v2 = zstd::stream::decode_all(&bytes[index_at..bytes.len() - FOOTER_LEN]).unwrap();
    let series: Vec<(Labels, Vec<SealedChunk>)> =
        fx.iter().map(|(l, s)| (l.clone(), chunks_of(s))).collect();
    let old = dir.path().join("old.block");
    write_v1(&old, &series, 1);
    let old = std::fs::read(&old).unwrap();
    // The footer's fourth word is the index offset.
    let f = old.len() - FOOTER_LEN + 24;
    let v1_at = u64::from_le_bytes(old[f..f + 8].try_into().unwrap()) as usize;
    let v1 = old[v1_at..old.len() - FOOTER_LEN].to_vec();
    let end = index_at as u64;
    let decode_v2 = |body: &[u8]| index::decode(body, 8, end, &|l| l.clone()).is_ok();
    let decode_v1 = |body: &[u8]| v1::decode_index(body, 8, v1_at as u64, &|l| l.clone()).is_ok();
    assert!(decode_v2(&v2) && decode_v1(&v1));
    for cut in 0..v2.len() {
        assert!(!decode_v2(&v2[..cut]), "v2 index cut at {cut}");
    }
    for cut in 0..v1.len() {
        assert!(!decode_v1(&v1[..cut]), "v1 index cut at {cut}");
    }
    let mut rng = fastrand::Rng::with_seed(5);
    for _ in 0..3000 {
        for (body, decode) in [
            (&v2, &decode_v2 as &dyn Fn(&[u8]) -> bool),
            (&v1, &decode_v1),
        ] {
            let mut b = body.clone();
            for _ in 0..rng.usize(1..4) {
                let i = rng.usize(..b.len());
                b[i] = rng.u8(..);
            }
            let _ = decode(&b);
        }
    }
}

/// More distinct time columns than one query keeps decompressed pages of: a select over
/// every series still reads each series right.
#[test]
fn select_across_more_time_pages_than_cached() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = fastrand::Rng::with_seed(21);
    let fx: Vec<(Labels, Vec<Sample>)> = (0..5000)
        .map(|i| {
            let samples = (0..480)
                .map(|k| Sample {
                    t: T0 + k * 15_000 + rng.i64(0..8),
                    v: (k * i) as f64,
                })
                .collect();
            (labels(i as usize), samples)
        })
        .collect();
    let mut fx = fx;
    fx.sort_by(|a, b| a.0.cmp(&b.0));
    let b = open(&write_fixture(dir.path(), &fx)).unwrap();
    let time_pages: std::collections::HashSet<u32> = b.columns.iter().map(|c| c.page).collect();
    assert!(
        time_pages.len() > TIME_PAGES_CACHED,
        "{} time pages",
        time_pages.len()
    );
    assert_eq!(
        as_bits(b.select(i64::MIN, i64::MAX, &all())),
        want(&fx, i64::MIN, i64::MAX)
    );
}
