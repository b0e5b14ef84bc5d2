//! Postings: the inverted index from label name and value to the sorted refs of the series
//! that carry them, so that a selector touches only the series its matchers can match.

use super::SeriesRef;
use crate::model::{Label, Labels, MatchOp, Matcher};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Label name → value → series refs, ascending. Refs are handed out in increasing order, so
/// adding a series is almost always a push; two appenders creating series at once, or a WAL
/// written by them, may add them slightly out of order, which costs a short insertion.
#[derive(Default)]
pub(crate) struct Postings {
    index: HashMap<Arc<str>, BTreeMap<Arc<str>, Vec<SeriesRef>>>,
    all: Vec<SeriesRef>,
}

impl Postings {
    pub(crate) fn add(&mut self, r: SeriesRef, labels: &Labels) {
        insert_sorted(&mut self.all, r);
        for l in labels {
            let refs = self
                .index
                .entry(l.name.clone())
                .or_default()
                .entry(l.value.clone())
                .or_default();
            insert_sorted(refs, r);
        }
    }

    /// Adds many series at once (start-up): each posting list is found once per batch and
    /// the batch's refs merged into it in one pass, instead of one insertion per series —
    /// which, with threads restoring neighbouring ranges of refs, shifted list tails over and
    /// over. Equal strings are grouped by address, which makes interned labels cheapest;
    /// copies of a string only cost an extra merge into the same list.
    pub(crate) fn add_batch(&mut self, batch: &[(SeriesRef, &Labels)]) {
        let mut lists: foldhash::HashMap<(usize, usize), (&Label, Vec<SeriesRef>)> =
            foldhash::HashMap::default();
        for (r, labels) in batch {
            for l in *labels {
                let key = (l.name.as_ptr() as usize, l.value.as_ptr() as usize);
                lists
                    .entry(key)
                    .or_insert_with(|| (l, Vec::new()))
                    .1
                    .push(*r);
            }
        }
        let mut all: Vec<SeriesRef> = batch.iter().map(|(r, _)| *r).collect();
        merge_sorted(&mut self.all, &mut all);
        for (l, mut refs) in lists.into_values() {
            let list = self
                .index
                .entry(l.name.clone())
                .or_default()
                .entry(l.value.clone())
                .or_default();
            merge_sorted(list, &mut refs);
        }
    }

    pub(crate) fn remove(&mut self, r: SeriesRef, labels: &Labels) {
        remove_sorted(&mut self.all, r);
        for l in labels {
            if let Some(values) = self.index.get_mut(&l.name) {
                if let Some(refs) = values.get_mut(&l.value) {
                    remove_sorted(refs, r);
                    if refs.is_empty() {
                        values.remove(&l.value);
                    }
                }
                if values.is_empty() {
                    self.index.remove(&l.name);
                }
            }
        }
    }

    /// Releases the spare capacity of lists that grew by doubling and then stopped growing
    /// (most do: a target's series are created at its first scrape); a list keeps a quarter
    /// of slack so one still growing is not reallocated at every call.
    pub(crate) fn shrink(&mut self) {
        let lists = self
            .index
            .values_mut()
            .flat_map(|values| values.values_mut());
        for refs in lists.chain(std::iter::once(&mut self.all)) {
            if refs.capacity() > refs.len() + refs.len() / 4 + 4 {
                refs.shrink_to(refs.len() + refs.len() / 8);
            }
        }
    }

    /// Candidate refs for a conjunction of matchers: a superset of the matching series
    /// (matchers that accept the empty string are left to the caller's final filter).
    pub(crate) fn candidates(&self, matchers: &[Matcher]) -> Vec<SeriesRef> {
        let mut result: Option<Vec<SeriesRef>> = None;
        for m in matchers.iter().filter(|m| !m.matches_empty()) {
            let refs = self.matching(m);
            result = Some(match result {
                None => refs,
                Some(acc) => intersect(&acc, &refs),
            });
            if result.as_ref().is_some_and(|r| r.is_empty()) {
                break;
            }
        }
        result.unwrap_or_else(|| self.all.clone())
    }

    fn matching(&self, m: &Matcher) -> Vec<SeriesRef> {
        let Some(values) = self.index.get(m.name.as_str()) else {
            return Vec::new();
        };
        if m.op == MatchOp::Equal {
            return values.get(m.value.as_str()).cloned().unwrap_or_default();
        }
        let lists: Vec<&Vec<SeriesRef>> = values
            .iter()
            .filter(|(v, _)| m.matches(v))
            .map(|(_, refs)| refs)
            .collect();
        union(&lists)
    }

    pub(crate) fn label_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.index.keys().map(|k| k.to_string()).collect();
        names.sort();
        names
    }

    pub(crate) fn label_values(&self, name: &str) -> Vec<String> {
        self.index
            .get(name)
            .map(|v| v.keys().map(|k| k.to_string()).collect())
            .unwrap_or_default()
    }

    /// (label name, number of values, total postings) for the TSDB status page.
    pub(crate) fn cardinality(&self) -> Vec<(String, usize, usize)> {
        self.index
            .iter()
            .map(|(n, vs)| (n.to_string(), vs.len(), vs.values().map(Vec::len).sum()))
            .collect()
    }

    /// (label name, bytes of its distinct values): what each label's values cost in memory.
    pub(crate) fn value_bytes(&self) -> Vec<(String, usize)> {
        self.index
            .iter()
            .map(|(n, vs)| (n.to_string(), vs.keys().map(|v| v.len()).sum()))
            .collect()
    }

    /// ("name=value", series count) for every label pair.
    pub(crate) fn pair_counts(&self) -> Vec<(String, usize)> {
        self.index
            .iter()
            .flat_map(|(n, vs)| vs.iter().map(move |(v, r)| (format!("{n}={v}"), r.len())))
            .collect()
    }

    /// Series count per value of one label (e.g. per metric name), for the TSDB status page.
    pub(crate) fn value_counts(&self, name: &str) -> Vec<(String, usize)> {
        self.index
            .get(name)
            .map(|vs| vs.iter().map(|(v, r)| (v.to_string(), r.len())).collect())
            .unwrap_or_default()
    }
}

fn insert_sorted(v: &mut Vec<SeriesRef>, r: SeriesRef) {
    match v.last() {
        Some(&last) if last >= r => {
            if let Err(i) = v.binary_search(&r) {
                v.insert(i, r);
            }
        }
        _ => v.push(r),
    }
}

/// Merges `new` (any order) into the sorted `v`, keeping each ref once. Only the part of
/// `v` past the smallest new ref moves.
fn merge_sorted(v: &mut Vec<SeriesRef>, new: &mut [SeriesRef]) {
    new.sort_unstable();
    let Some(&first) = new.first() else { return };
    let at = v.partition_point(|&x| x < first);
    let tail = v.split_off(at);
    v.reserve(tail.len() + new.len());
    let (mut i, mut j) = (0, 0);
    while i < tail.len() || j < new.len() {
        let next = match (tail.get(i), new.get(j)) {
            (Some(&a), Some(&b)) if a <= b => {
                i += 1;
                j += usize::from(a == b);
                a
            }
            (Some(_), Some(&b)) | (None, Some(&b)) => {
                j += 1;
                b
            }
            (Some(&a), None) => {
                i += 1;
                a
            }
            (None, None) => break,
        };
        if v.last() != Some(&next) {
            v.push(next);
        }
    }
}

fn remove_sorted(v: &mut Vec<SeriesRef>, r: SeriesRef) {
    if let Ok(i) = v.binary_search(&r) {
        v.remove(i);
    }
}

fn intersect(a: &[SeriesRef], b: &[SeriesRef]) -> Vec<SeriesRef> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

fn union(lists: &[&Vec<SeriesRef>]) -> Vec<SeriesRef> {
    match lists {
        [] => Vec::new(),
        [one] => (*one).clone(),
        _ => {
            let mut out: Vec<SeriesRef> = lists.iter().flat_map(|l| l.iter().copied()).collect();
            out.sort_unstable();
            out.dedup();
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        p.remove(0, &ls(&[("__name__", "up"), ("job", "c")]));
        p.remove(1, &ls(&[("__name__", "up"), ("job", "a")]));
        assert_eq!(p.candidates(&[m(MatchOp::Equal, "job", "a")]), vec![3]);
    }
}
