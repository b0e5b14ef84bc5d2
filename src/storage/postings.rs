//! Postings: the inverted index from label name and value to the sorted refs of the series
//! that carry them, so that a selector touches only the series its matchers can match.

mod list;

use super::SeriesRef;
use crate::model::{Label, Labels, MatchOp, Matcher};
use list::PostingList;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Label name → value → series refs, ascending, packed (see [`PostingList`]). Refs are handed
/// out in increasing order, so adding a series is almost always an append; two appenders
/// creating series at once, or a WAL written by them, may add them slightly out of order,
/// which rewrites the end of a list.
#[derive(Default)]
pub(crate) struct Postings {
    index: HashMap<Arc<str>, BTreeMap<Arc<str>, PostingList>>,
    all: PostingList,
    /// Bytes of the lists in `index` (their `size_of` and heap), kept current by every
    /// change so that [`Postings::bytes`] costs nothing under the lock.
    list_bytes: usize,
}

impl Postings {
    pub(crate) fn add(&mut self, r: SeriesRef, labels: &Labels) {
        self.all.insert(r);
        for l in labels {
            self.edit(l, |list| list.insert(r));
        }
    }

    /// Adds many series at once (start-up): each posting list is found once per batch and
    /// the batch's refs merged into it in one pass, instead of one insertion per series —
    /// which, with threads restoring neighbouring ranges of refs, rewrote list tails over and
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
        all.sort_unstable();
        all.dedup();
        self.all.merge(&all);
        for (l, mut refs) in lists.into_values() {
            refs.sort_unstable();
            refs.dedup();
            self.edit(l, |list| list.merge(&refs));
        }
    }

    /// Removes many series at once (retention, compaction): each list they are in is
    /// rewritten once, from its first removed ref, rather than shifted once per series.
    /// Lists, values and names left empty are dropped.
    pub(crate) fn remove_many(&mut self, series: &[(SeriesRef, Labels)]) {
        let mut lists: HashMap<(&str, &str), Vec<SeriesRef>> = HashMap::new();
        for (r, labels) in series {
            for l in labels {
                lists.entry((&*l.name, &*l.value)).or_default().push(*r);
            }
        }
        let mut all: Vec<SeriesRef> = series.iter().map(|(r, _)| *r).collect();
        all.sort_unstable();
        self.all.remove_sorted(&all);
        for ((name, value), mut refs) in lists {
            let Some(values) = self.index.get_mut(name) else {
                continue;
            };
            if let Some(list) = values.get_mut(value) {
                refs.sort_unstable();
                let before = list.heap_bytes();
                list.remove_sorted(&refs);
                self.list_bytes = self.list_bytes + list.heap_bytes() - before;
                if list.is_empty() {
                    self.list_bytes -= std::mem::size_of::<PostingList>() + list.heap_bytes();
                    values.remove(value);
                }
            }
            if values.is_empty() {
                self.index.remove(name);
            }
        }
    }

    /// Runs `f` on the list of label `l`, created empty if missing, and keeps `list_bytes`
    /// current.
    fn edit(&mut self, l: &Label, f: impl FnOnce(&mut PostingList)) {
        let values = self.index.entry(l.name.clone()).or_default();
        let list = values.entry(l.value.clone()).or_insert_with(|| {
            self.list_bytes += std::mem::size_of::<PostingList>();
            PostingList::default()
        });
        let before = list.heap_bytes();
        f(list);
        self.list_bytes = self.list_bytes + list.heap_bytes() - before;
    }

    /// Releases the spare capacity of lists that grew and then stopped growing (most do: a
    /// target's series are created at its first scrape).
    pub(crate) fn shrink(&mut self) {
        let lists = self
            .index
            .values_mut()
            .flat_map(|values| values.values_mut());
        let mut bytes = 0;
        for list in lists {
            list.shrink();
            bytes += std::mem::size_of::<PostingList>() + list.heap_bytes();
        }
        self.list_bytes = bytes;
        self.all.shrink();
    }

    /// Bytes held by the posting lists (not by the maps and strings that lead to them).
    pub(crate) fn bytes(&self) -> usize {
        self.list_bytes + std::mem::size_of::<PostingList>() + self.all.heap_bytes()
    }

    /// Candidate refs for a conjunction of matchers: a superset of the matching series
    /// (matchers that accept the empty string are left to the caller's final filter).
    /// The smallest set is decoded and the others only where they may hold its refs, so a
    /// selective matcher makes the big lists cost a few blocks each.
    pub(crate) fn candidates(&self, matchers: &[Matcher]) -> Vec<SeriesRef> {
        let mut sets = Vec::new();
        for m in matchers.iter().filter(|m| !m.matches_empty()) {
            match self.matching(m) {
                Some(set) => sets.push(set),
                None => return Vec::new(),
            }
        }
        sets.sort_by_key(Set::len);
        let mut sets = sets.into_iter();
        let Some(first) = sets.next() else {
            return self.all.to_vec();
        };
        let mut acc = first.into_vec();
        for set in sets {
            match set {
                Set::List(list) => list.retain_in(&mut acc),
                Set::Refs(refs) => acc = intersect(&acc, &refs),
            }
            if acc.is_empty() {
                break;
            }
        }
        acc
    }

    /// The refs whose label matches `m`; `None` when there are none.
    fn matching(&self, m: &Matcher) -> Option<Set<'_>> {
        let values = self.index.get(m.name.as_str())?;
        if m.op == MatchOp::Equal {
            return values.get(m.value.as_str()).map(Set::List);
        }
        let lists: Vec<&PostingList> = values
            .iter()
            .filter(|(v, _)| m.matches(v))
            .map(|(_, refs)| refs)
            .collect();
        match lists[..] {
            [] => None,
            [one] => Some(Set::List(one)),
            _ => Some(Set::Refs(union(lists.iter().map(|l| l.to_vec()).collect()))),
        }
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
            .map(|(n, vs)| (n.to_string(), vs.len(), vs.values().map(|l| l.len()).sum()))
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

/// The refs one matcher selects: a list as stored, or the union of several.
enum Set<'a> {
    List(&'a PostingList),
    Refs(Vec<SeriesRef>),
}

impl Set<'_> {
    fn len(&self) -> usize {
        match self {
            Set::List(l) => l.len(),
            Set::Refs(r) => r.len(),
        }
    }

    fn into_vec(self) -> Vec<SeriesRef> {
        match self {
            Set::List(l) => l.to_vec(),
            Set::Refs(r) => r,
        }
    }
}

/// Merges sorted lists pairwise until one is left: each round is linear, and there are
/// log2(lists) rounds, cheaper than sorting their concatenation.
fn union(mut lists: Vec<Vec<SeriesRef>>) -> Vec<SeriesRef> {
    while lists.len() > 1 {
        let mut next = Vec::with_capacity(lists.len().div_ceil(2));
        let mut pairs = lists.into_iter();
        while let Some(a) = pairs.next() {
            next.push(match pairs.next() {
                Some(b) => merge(&a, &b),
                None => a,
            });
        }
        lists = next;
    }
    lists.pop().unwrap_or_default()
}

/// The sorted union of two sorted lists, each ref once.
fn merge(a: &[SeriesRef], b: &[SeriesRef]) -> Vec<SeriesRef> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len() + b.len());
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        out.push(x.min(y));
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
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

#[cfg(test)]
mod tests;
