use super::*;
use std::collections::BTreeMap;

fn ls(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs)
}

/// Batches of neighbouring ref ranges added out of order, as parallel start-up does, give
/// the same index as adding every series in order.
#[test]
fn add_batch_matches_add() {
    let series: Vec<(SeriesRef, Labels)> = (1..=60)
        .map(|r| {
            let job = ["a", "b", "c"][r as usize % 3];
            (
                r,
                ls(&[
                    ("__name__", "up"),
                    ("job", job),
                    ("i", &(r / 7).to_string()),
                ]),
            )
        })
        .collect();
    let mut one = Postings::default();
    for (r, l) in &series {
        one.add(*r, l);
    }
    let mut batched = Postings::default();
    let refs: Vec<(SeriesRef, &Labels)> = series.iter().map(|(r, l)| (*r, l)).collect();
    for range in [20..40, 0..10, 40..60, 10..20, 15..25] {
        batched.add_batch(&refs[range]);
    }
    assert_eq!(batched.all, one.all);
    assert_eq!(batched.index, one.index);
}

#[test]
fn candidates_intersect_and_union() {
    let mut p = Postings::default();
    p.add(1, &ls(&[("__name__", "up"), ("job", "a")]));
    p.add(2, &ls(&[("__name__", "up"), ("job", "b")]));
    p.add(3, &ls(&[("__name__", "x"), ("job", "a")]));
    let m = |op, n: &str, v: &str| Matcher::new(op, n, v).unwrap();
    let cases: Vec<(Vec<Matcher>, Vec<SeriesRef>)> = vec![
        (vec![m(MatchOp::Equal, "__name__", "up")], vec![1, 2]),
        (
            vec![
                m(MatchOp::Equal, "__name__", "up"),
                m(MatchOp::Equal, "job", "a"),
            ],
            vec![1],
        ),
        (vec![m(MatchOp::RegexMatch, "job", "a|b")], vec![1, 2, 3]),
        (vec![m(MatchOp::NotEqual, "job", "a")], vec![1, 2, 3]), // matches empty: caller filters
        (vec![m(MatchOp::Equal, "nope", "x")], vec![]),
    ];
    for (ms, want) in cases {
        assert_eq!(p.candidates(&ms), want, "{ms:?}");
    }
    // Out of order adds keep the lists sorted.
    p.add(0, &ls(&[("__name__", "up"), ("job", "c")]));
    assert_eq!(
        p.candidates(&[m(MatchOp::Equal, "__name__", "up")]),
        vec![0, 1, 2]
    );
    p.remove_many(&[
        (0, ls(&[("__name__", "up"), ("job", "c")])),
        (1, ls(&[("__name__", "up"), ("job", "a")])),
    ]);
    assert_eq!(p.candidates(&[m(MatchOp::Equal, "job", "a")]), vec![3]);
}

/// The tracked byte count equals a recount of every list.
fn check_bytes(p: &Postings) {
    let recount: usize = p
        .index
        .values()
        .flat_map(|vs| vs.values())
        .map(|l| std::mem::size_of::<PostingList>() + l.heap_bytes())
        .sum();
    assert_eq!(p.list_bytes, recount);
}

/// Random series added one by one, in batches and out of order, then removed in batches:
/// candidates equal a scan of the live series, and empty lists, values and names go.
#[test]
fn random_changes_keep_candidates_exact() {
    let mut rng = fastrand::Rng::with_seed(3);
    let m = |op, n: &str, v: &str| Matcher::new(op, n, v).unwrap();
    for round in 0..20 {
        let mut p = Postings::default();
        let mut live: BTreeMap<SeriesRef, Labels> = BTreeMap::new();
        let mut next = 0;
        for _ in 0..30 {
            let mut batch = Vec::new();
            for _ in 0..rng.usize(0..80) {
                next += rng.u64(1..4);
                let r = match rng.u8(0..10) {
                    0 => rng.u64(0..next),
                    _ => next,
                };
                let l = ls(&[
                    ("__name__", &format!("m{}", rng.u8(0..5))),
                    ("job", ["a", "b"][rng.usize(0..2)]),
                    ("pod", &format!("p{}", r / 7)),
                ]);
                if let std::collections::btree_map::Entry::Vacant(e) = live.entry(r) {
                    e.insert(l.clone());
                    batch.push((r, l));
                }
            }
            if rng.bool() {
                for (r, l) in &batch {
                    p.add(*r, l);
                }
            } else {
                let refs: Vec<(SeriesRef, &Labels)> = batch.iter().map(|(r, l)| (*r, l)).collect();
                p.add_batch(&refs);
            }
            let dead: Vec<(SeriesRef, Labels)> = live
                .iter()
                .filter(|_| rng.u8(0..10) == 0)
                .map(|(r, l)| (*r, l.clone()))
                .collect();
            for (r, _) in &dead {
                live.remove(r);
            }
            p.remove_many(&dead);
            if rng.bool() {
                p.shrink();
            }
            check_bytes(&p);
            let queries = [
                vec![],
                vec![m(MatchOp::Equal, "__name__", "m1")],
                vec![
                    m(MatchOp::Equal, "__name__", "m2"),
                    m(MatchOp::Equal, "job", "b"),
                ],
                vec![
                    m(MatchOp::RegexMatch, "pod", "p1.*"),
                    m(MatchOp::Equal, "job", "a"),
                ],
                vec![
                    m(MatchOp::RegexMatch, "__name__", "m[0-3]"),
                    m(MatchOp::Equal, "pod", &format!("p{}", next / 7)),
                ],
            ];
            for q in queries {
                let want: Vec<SeriesRef> = live
                    .iter()
                    .filter(|(_, l)| q.iter().all(|m| m.matches(l.get(&m.name).unwrap_or(""))))
                    .map(|(r, _)| *r)
                    .collect();
                assert_eq!(p.candidates(&q), want, "round {round} {q:?}");
            }
            let pods = p.index.get("pod").map_or(0, |v| v.len());
            let want_pods: std::collections::BTreeSet<&str> =
                live.values().filter_map(|l| l.get("pod")).collect();
            assert_eq!(pods, want_pods.len(), "round {round}: empty values dropped");
        }
        let all: Vec<(SeriesRef, Labels)> = std::mem::take(&mut live).into_iter().collect();
        p.remove_many(&all);
        assert!(p.index.is_empty() && p.all.is_empty(), "round {round}");
        assert_eq!(p.list_bytes, 0);
    }
}

/// A fleet of `targets` targets of 10,000 series each, created target after target as
/// their first scrapes do: 100 metric names of 100 series, job, instance, and request
/// labels cycling (method, code, handler; `le` on every fourth metric). Returns (bytes per
/// ref of the packed lists, bytes per ref of the `Vec<u64>` lists they replace, before and
/// after their shrink), all after `shrink`.
fn fleet(targets: usize) -> (f64, f64, f64) {
    let s = |v: String| -> Arc<str> { Arc::from(v) };
    let names: Vec<Arc<str>> = (0..100).map(|i| s(format!("app_metric_{i}"))).collect();
    let small: Vec<Arc<str>> = (0..20).map(|i| s(i.to_string())).collect();
    let methods: Vec<Arc<str>> = ["GET", "POST", "PUT", "DELETE"].map(Arc::from).to_vec();
    let label_names: Vec<Arc<str>> = ["__name__", "code", "handler", "instance", "job", "le"]
        .map(Arc::from)
        .to_vec();
    let mut p = Postings::default();
    let mut r = 0;
    for t in 0..targets {
        let instance = s(format!("10.1.{}.{}:9100", t / 250, t % 250));
        let job = s(format!("job_{}", t % 10));
        for i in 0..10_000 {
            let name = i / 100;
            let mut b = crate::model::LabelsBuilder::with_capacity(7);
            let n = &label_names;
            b.push_unchecked(n[0].clone(), names[name].clone());
            b.push_unchecked(n[1].clone(), small[(i / 4) % 5].clone());
            b.push_unchecked(n[2].clone(), small[(i / 20) % 5].clone());
            b.push_unchecked(n[3].clone(), instance.clone());
            b.push_unchecked(n[4].clone(), job.clone());
            if name % 4 == 0 {
                b.push_unchecked(n[5].clone(), small[i % 10].clone());
            }
            b.push_unchecked(Arc::from("method"), methods[i % 4].clone());
            p.add(r, &b.build());
            r += 1;
        }
    }
    p.shrink();
    let lists = p.index.values().flat_map(|vs| vs.values());
    let lens: Vec<usize> = lists
        .chain(std::iter::once(&p.all))
        .map(|l| l.len())
        .collect();
    let refs: usize = lens.iter().sum();
    // A `Vec` grown by pushes holds 4, 8, 16… refs; the old shrink cut a capacity above
    // 5/4 of the length (plus four) down to 9/8 of it.
    let vec_bytes = |shrunk: bool| -> f64 {
        let total: usize = lens
            .iter()
            .map(|&len| {
                let grown = len.next_power_of_two().max(4);
                let cap = match shrunk && grown > len + len / 4 + 4 {
                    true => len + len / 8,
                    false => grown,
                };
                24 + 8 * cap
            })
            .sum();
        total as f64 / refs as f64
    };
    (
        p.bytes() as f64 / refs as f64,
        vec_bytes(false),
        vec_bytes(true),
    )
}

#[test]
fn fleet_costs_under_2_5_bytes_per_ref() {
    let (packed, grown, shrunk) = fleet(10);
    eprintln!("10 targets: {packed:.2} bytes/ref (Vec<u64>: {grown:.2} grown, {shrunk:.2} shrunk)");
    assert!(packed <= 2.5, "{packed} bytes per ref");
}

/// The full-size figure, 2M series: `cargo test --release --lib fleet_full_size -- --ignored
/// --nocapture`.
#[test]
#[ignore]
fn fleet_full_size() {
    let (packed, grown, shrunk) = fleet(200);
    eprintln!(
        "200 targets: {packed:.2} bytes/ref (Vec<u64>: {grown:.2} grown, {shrunk:.2} shrunk)"
    );
}
