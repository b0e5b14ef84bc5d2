//! The corruption table: each case damages a freshly written log in one way and says how
//! many records replay must still deliver. After each replay a writer opened with its report
//! must cut the damage off, so records written next are replayed too.

use super::tests::{replay_all, scrape, small_opts};
use super::*;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

/// A log of three segments with `PER_SEGMENT` one-scrape records each, and the byte offset
/// where every record of the last segment starts (plus its end).
const PER_SEGMENT: usize = 4;

struct Fixture {
    dir: tempfile::TempDir,
    last: PathBuf,
    bounds: Vec<u64>,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let report = replay(dir.path()).unwrap().finish();
        let mut w = WalWriter::open(dir.path(), small_opts(), &report).unwrap();
        let mut bounds = vec![];
        for seg in 0..3 {
            for i in 0..PER_SEGMENT {
                w.log_samples(&scrape(5, (seg * 100 + i) as i64)).unwrap();
                w.flush().unwrap();
                if seg == 2 {
                    bounds.push(len(&seg_path(dir.path(), 2)));
                }
            }
            if seg < 2 {
                w.cut_segment().unwrap();
            }
        }
        bounds.insert(0, 8);
        let last = seg_path(dir.path(), 2);
        Fixture { dir, last, bounds }
    }
}

fn seg_path(dir: &Path, n: u32) -> PathBuf {
    dir.join(format!("{n:08}"))
}

fn len(p: &Path) -> u64 {
    std::fs::metadata(p).unwrap().len()
}

fn set_len(p: &Path, n: u64) {
    OpenOptions::new()
        .write(true)
        .open(p)
        .unwrap()
        .set_len(n)
        .unwrap();
}

fn edit(p: &Path, f: impl FnOnce(&mut Vec<u8>)) {
    let mut b = std::fs::read(p).unwrap();
    f(&mut b);
    std::fs::write(p, b).unwrap();
}

const ALL: usize = 3 * PER_SEGMENT;
const BEFORE_LAST: usize = 2 * PER_SEGMENT;

type Damage = fn(&Fixture);

#[test]
fn corruption_table() {
    // (name, damage, records that must survive, kind reported)
    let cases: Vec<(&str, Damage, usize, Option<CorruptionKind>)> = vec![
        ("intact", |_| {}, ALL, None),
        (
            "torn record payload",
            |f| set_len(&f.last, f.bounds[3] + 20),
            BEFORE_LAST + 3,
            Some(CorruptionKind::Torn),
        ),
        (
            "torn frame header",
            |f| set_len(&f.last, f.bounds[3] + 4),
            BEFORE_LAST + 3,
            Some(CorruptionKind::Torn),
        ),
        (
            "bad checksum",
            |f| edit(&f.last, |b| b[f.bounds[1] as usize + 12] ^= 0x40),
            BEFORE_LAST + 1,
            Some(CorruptionKind::BadChecksum),
        ),
        (
            "bad checksum field",
            |f| edit(&f.last, |b| b[f.bounds[2] as usize] ^= 1),
            BEFORE_LAST + 2,
            Some(CorruptionKind::BadChecksum),
        ),
        (
            "bad length, huge",
            |f| {
                edit(&f.last, |b| {
                    b[f.bounds[1] as usize + 4..][..4].copy_from_slice(&u32::MAX.to_le_bytes())
                })
            },
            BEFORE_LAST + 1,
            Some(CorruptionKind::BadLength(u32::MAX as usize)),
        ),
        (
            "bad length, off by one",
            |f| edit(&f.last, |b| b[f.bounds[1] as usize + 4] -= 1),
            BEFORE_LAST + 1,
            Some(CorruptionKind::BadChecksum),
        ),
        (
            "bad length, past the end",
            |f| edit(&f.last, |b| b[f.bounds[3] as usize + 5] = 0x7f),
            BEFORE_LAST + 3,
            Some(CorruptionKind::Torn),
        ),
        (
            "zeroed tail after records",
            |f| edit(&f.last, |b| b.extend_from_slice(&[0; 4096])),
            ALL,
            Some(CorruptionKind::ZeroedTail),
        ),
        (
            "zeroed last records",
            |f| edit(&f.last, |b| b[f.bounds[2] as usize..].fill(0)),
            BEFORE_LAST + 2,
            Some(CorruptionKind::ZeroedTail),
        ),
        (
            "short zeroed tail",
            |f| edit(&f.last, |b| b.extend_from_slice(&[0; 5])),
            ALL,
            Some(CorruptionKind::ZeroedTail),
        ),
        (
            "garbage tail",
            |f| edit(&f.last, |b| b.extend_from_slice(&[0xab; 300])),
            ALL,
            Some(CorruptionKind::BadLength(0xabab_abab)),
        ),
        (
            "truncated segment header",
            |f| set_len(&f.last, 3),
            BEFORE_LAST,
            Some(CorruptionKind::Torn),
        ),
        (
            "empty last segment",
            |f| set_len(&f.last, 0),
            BEFORE_LAST,
            None,
        ),
        (
            "foreign segment header",
            |f| edit(&f.last, |b| b[0] = b'X'),
            BEFORE_LAST,
            Some(CorruptionKind::BadSegmentHeader),
        ),
        (
            "torn middle segment",
            |f| {
                let p = seg_path(f.dir.path(), 1);
                set_len(&p, len(&p) - 3)
            },
            PER_SEGMENT + PER_SEGMENT - 1,
            Some(CorruptionKind::Torn),
        ),
        (
            "missing middle segment",
            |f| std::fs::remove_file(seg_path(f.dir.path(), 1)).unwrap(),
            PER_SEGMENT,
            Some(CorruptionKind::MissingSegment(1)),
        ),
        (
            "valid checksum, unknown type",
            |f| {
                edit(&f.last, |b| {
                    let s = f.bounds[1] as usize;
                    let e = f.bounds[2] as usize;
                    b[s + 8] = 9;
                    let crc = crc32fast::hash(&b[s + 4..e]);
                    b[s..s + 4].copy_from_slice(&crc.to_le_bytes());
                })
            },
            BEFORE_LAST + 1,
            Some(CorruptionKind::BadRecord("unknown record type 9".into())),
        ),
    ];
    for (name, damage, survive, kind) in cases {
        let f = Fixture::new();
        damage(&f);
        let (recs, report) = replay_all(f.dir.path());
        assert_eq!(recs.len(), survive, "{name}: records replayed");
        let got_kind = report.corruptions.first().map(|c| c.kind.clone());
        assert_eq!(got_kind, kind, "{name}: corruption reported");
        if kind.is_some() {
            assert!(
                report.dropped_bytes() > 0,
                "{name}: dropped bytes not reported"
            );
        }
        for (i, rec) in recs.iter().enumerate() {
            let (seg, idx) = (i / PER_SEGMENT, i % PER_SEGMENT);
            assert_eq!(
                rec,
                &Record::Samples(scrape(5, (seg * 100 + idx) as i64)),
                "{name}: record {i}"
            );
        }

        // Repair: write after the damage, then everything good must replay cleanly.
        let mut w = WalWriter::open(f.dir.path(), small_opts(), &report).unwrap();
        w.log_samples(&scrape(2, 999)).unwrap();
        w.flush().unwrap();
        drop(w);
        let (recs, again) = replay_all(f.dir.path());
        assert_eq!(
            again.corruptions,
            vec![],
            "{name}: damage left after repair"
        );
        assert_eq!(recs.len(), survive + 1, "{name}: records after repair");
        assert_eq!(
            recs.last(),
            Some(&Record::Samples(scrape(2, 999))),
            "{name}"
        );
    }
}

#[test]
fn corrupt_checkpoint_is_skipped_and_segments_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let report = replay(dir.path()).unwrap().finish();
    let mut w = WalWriter::open(dir.path(), small_opts(), &report).unwrap();
    w.log_samples(&scrape(5, 1)).unwrap();
    let upto = w.cut_segment().unwrap();
    w.log_samples(&scrape(5, 2)).unwrap();
    w.flush().unwrap();
    checkpoint(dir.path(), upto, |_| true, 0, &small_opts()).unwrap();
    let cp_seg = dir
        .path()
        .join(format!("checkpoint.{upto:08}"))
        .join("00000000");
    set_len(&cp_seg, len(&cp_seg) - 1);
    let (recs, report) = replay_all(dir.path());
    assert_eq!(recs, vec![Record::Samples(scrape(5, 2))]);
    assert!(matches!(
        &report.corruptions[..],
        [Corruption {
            in_checkpoint: true,
            kind: CorruptionKind::Torn,
            ..
        }]
    ));
}

#[test]
fn random_damage_never_panics_and_repair_always_heals() {
    let mut rng = fastrand::Rng::with_seed(4242);
    for case in 0..60 {
        let f = Fixture::new();
        let seg = seg_path(f.dir.path(), rng.u32(0..3));
        edit(&seg, |b| match rng.u8(0..3) {
            0 => {
                let i = rng.usize(0..b.len());
                b[i] ^= 1 << rng.u8(0..8);
            }
            1 => b.truncate(rng.usize(0..b.len())),
            _ => {
                let i = rng.usize(0..b.len());
                let n = rng.usize(0..64).min(b.len() - i);
                b[i..i + n].fill(rng.u8(..));
            }
        });
        let (recs, report) = replay_all(f.dir.path());
        assert!(recs.len() <= ALL, "case {case}");
        let mut w = WalWriter::open(f.dir.path(), small_opts(), &report).unwrap();
        w.log_samples(&scrape(1, 1)).unwrap();
        w.flush().unwrap();
        drop(w);
        let (again, after) = replay_all(f.dir.path());
        assert_eq!(
            after.corruptions,
            vec![],
            "case {case}: {:?}",
            report.corruptions
        );
        assert_eq!(again.len(), recs.len() + 1, "case {case}");
    }
}
