use super::*;

/// The list and the plain sorted vector it must always equal.
fn check(list: &PostingList, want: &[SeriesRef], what: &str) {
    assert_eq!(list.to_vec(), want, "{what}");
    assert_eq!(list.len(), want.len(), "{what}: len");
    assert_eq!(list.is_empty(), want.is_empty(), "{what}: is_empty");
    assert_eq!(list.last(), want.last().copied(), "{what}: last");
    if let PostingList::Packed(p) = list {
        assert!(
            p.data.len() > INLINE,
            "{what}: short packed list not inline"
        );
    }
}

#[test]
fn edge_cases() {
    let cases: Vec<(&str, Vec<SeriesRef>)> = vec![
        ("empty", vec![]),
        ("zero", vec![0]),
        ("one", vec![7]),
        ("max", vec![u64::MAX]),
        ("zero and max", vec![0, u64::MAX]),
        ("two big", vec![u64::MAX - 1, u64::MAX]),
        ("three far apart", vec![1, 1 << 40, u64::MAX]),
        ("dense", (0..1000).collect()),
        ("sparse", (0..300).map(|i| i * 1_000_003).collect()),
        (
            "huge gaps",
            (0..200).map(|i| i << 56 | i).collect::<Vec<_>>(),
        ),
    ];
    for (what, refs) in cases {
        let list = PostingList::from_sorted(&refs);
        check(&list, &refs, what);
        // Built backwards: every insert goes before the head.
        let mut back = PostingList::default();
        for &r in refs.iter().rev() {
            back.insert(r);
        }
        check(&back, &refs, what);
        // Duplicates are ignored.
        let mut dup = PostingList::from_sorted(&refs);
        for &r in &refs {
            dup.insert(r);
        }
        dup.merge(&refs);
        check(&dup, &refs, what);
        // Removing everything leaves an empty inline list.
        let mut gone = PostingList::from_sorted(&refs);
        gone.remove_sorted(&refs);
        check(&gone, &[], what);
        assert_eq!(gone.heap_bytes(), 0, "{what}");
    }
}

/// Lists of one or two refs, the most numerous, cost no more than a `Vec` header.
#[test]
fn small_lists_stay_inline() {
    assert_eq!(std::mem::size_of::<PostingList>(), 24);
    for refs in [
        vec![u64::MAX],
        vec![u64::MAX - 1, u64::MAX],
        vec![0, u64::MAX],
    ] {
        assert_eq!(PostingList::from_sorted(&refs).heap_bytes(), 0, "{refs:?}");
    }
    // Neighbouring refs of a big head fit by the handful.
    let refs: Vec<SeriesRef> = (0..8).map(|i| 2_000_000 + 50 * i).collect();
    assert_eq!(PostingList::from_sorted(&refs).heap_bytes(), 0);
}

#[test]
fn retain_in_matches_a_scan() {
    let mut rng = fastrand::Rng::with_seed(7);
    for round in 0..100 {
        let random_refs = |rng: &mut fastrand::Rng, n: usize, max: u64| {
            let mut refs: Vec<SeriesRef> = (0..n).map(|_| rng.u64(0..max)).collect();
            refs.sort_unstable();
            refs.dedup();
            refs
        };
        let n = rng.usize(0..3000);
        let refs = random_refs(&mut rng, n, 20_000);
        let list = PostingList::from_sorted(&refs);
        let n = rng.usize(0..[20, 3000][round % 2]);
        let mut acc = random_refs(&mut rng, n, 21_000);
        let want: Vec<SeriesRef> = acc
            .iter()
            .copied()
            .filter(|r| refs.binary_search(r).is_ok())
            .collect();
        list.retain_in(&mut acc);
        assert_eq!(acc, want, "round {round}");
    }
}

/// Random interleavings of appends, out-of-order inserts, merges, batch removals and
/// shrinks give the same refs as a plain sorted vector.
#[test]
fn random_operations_match_a_vec() {
    let mut rng = fastrand::Rng::with_seed(42);
    for round in 0..200 {
        let mut list = PostingList::default();
        let mut want: Vec<SeriesRef> = Vec::new();
        // Small spans exercise the inline form and its edges; big ones, varint lengths.
        let span = [50, 5_000, 1 << 40][round % 3];
        let mut next = rng.u64(0..span);
        for step in 0..rng.usize(1..400) {
            let what = format!("round {round} step {step}");
            match rng.u8(0..100) {
                0..=59 => {
                    next += rng.u64(1..=span / 50 + 1);
                    list.insert(next);
                    want.push(next);
                }
                60..=74 => {
                    let r = rng.u64(0..=next);
                    list.insert(r);
                    if let Err(i) = want.binary_search(&r) {
                        want.insert(i, r);
                    }
                }
                75..=84 => {
                    let mut batch: Vec<SeriesRef> = (0..rng.usize(1..60))
                        .map(|_| rng.u64(0..=next + span / 10))
                        .collect();
                    batch.sort_unstable();
                    batch.dedup();
                    list.merge(&batch);
                    want.extend_from_slice(&batch);
                    want.sort_unstable();
                    want.dedup();
                    next = next.max(*batch.last().unwrap());
                }
                85..=94 => {
                    let mut gone: Vec<SeriesRef> = (0..rng.usize(1..40))
                        .map(|_| match want.is_empty() || rng.bool() {
                            true => rng.u64(0..=next),
                            false => want[rng.usize(0..want.len())],
                        })
                        .collect();
                    gone.sort_unstable();
                    list.remove_sorted(&gone);
                    want.retain(|r| gone.binary_search(r).is_err());
                }
                _ => {
                    list.shrink();
                    if let PostingList::Packed(p) = &list {
                        let len = p.data.len();
                        assert!(p.data.capacity() <= len + len / 4 + 4, "{what}");
                    }
                }
            }
            check(&list, &want, &what);
        }
    }
}

/// Neighbouring refs cost about a byte each; blocks add a few percent.
#[test]
fn dense_lists_cost_about_a_byte_per_ref() {
    let refs: Vec<SeriesRef> = (1_000_000..1_100_000).step_by(3).collect();
    let mut list = PostingList::from_sorted(&refs);
    list.shrink();
    let per_ref = list.heap_bytes() as f64 / refs.len() as f64;
    assert!(per_ref < 1.2, "{per_ref} bytes per ref");
}
