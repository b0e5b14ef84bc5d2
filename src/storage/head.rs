//! The head: the in-memory part of the store, where every append lands.
//!
//! Series live in a sharded map (DashMap) keyed by ref, so appends from scrape loops on
//! different threads lock different shards; a second sharded map from label hash to refs
//! resolves a label set to its series; postings index label values for selection.
//! Samples of a series are kept in timestamp order behind that series' own lock.

use super::postings::Postings;
use super::{Appendable, Appender, CommitStats, Querier, Queryable, SeriesData, SeriesRef};
use crate::model::{is_stale_nan, Label, Labels, Matcher, Sample};
use dashmap::{DashMap, DashSet};
use parking_lot::{Mutex, RwLock};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// One series in memory: its labels and its samples, oldest first.
pub(crate) struct MemSeries {
    pub(crate) labels: Labels,
    samples: Mutex<Vec<Sample>>,
}

/// Counters about the head, for `/metrics` and the TSDB status page.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HeadStats {
    pub series: usize,
    pub samples: usize,
    pub min_time: i64,
    pub max_time: i64,
}

#[derive(Default)]
pub struct Head {
    series: DashMap<SeriesRef, Arc<MemSeries>>,
    by_hash: DashMap<u64, Vec<SeriesRef>>,
    postings: RwLock<Postings>,
    strings: DashSet<Arc<str>>,
    next_ref: AtomicU64,
    samples_total: AtomicUsize,
    min_time: AtomicU64,
    max_time: AtomicU64,
    appended_total: AtomicU64,
    out_of_order_total: AtomicU64,
}

impl Head {
    pub fn new() -> Self {
        Head {
            next_ref: AtomicU64::new(1),
            min_time: AtomicU64::new(u64::MAX), // encodes i64::MAX
            max_time: AtomicU64::new(0),        // encodes i64::MIN
            ..Default::default()
        }
    }

    /// The ref of the series with exactly these labels, creating it if needed.
    pub fn get_or_create(&self, labels: &Labels) -> (SeriesRef, bool) {
        let hash = labels.stable_hash();
        if let Some(r) = self.lookup(hash, labels) {
            return (r, false);
        }
        // Create under the hash shard's lock so two appenders cannot create the same series.
        let mut refs = self.by_hash.entry(hash).or_default();
        for r in refs.iter() {
            if self.series.get(r).is_some_and(|s| &s.labels == labels) {
                return (*r, false);
            }
        }
        let interned = self.intern(labels);
        let r = self.next_ref.fetch_add(1, Ordering::Relaxed);
        self.postings.write().add(r, &interned);
        self.series.insert(
            r,
            Arc::new(MemSeries {
                labels: interned,
                samples: Mutex::new(Vec::new()),
            }),
        );
        refs.push(r);
        (r, true)
    }

    fn lookup(&self, hash: u64, labels: &Labels) -> Option<SeriesRef> {
        let refs = self.by_hash.get(&hash)?;
        refs.iter()
            .copied()
            .find(|r| self.series.get(r).is_some_and(|s| &s.labels == labels))
    }

    fn intern(&self, labels: &Labels) -> Labels {
        let mut b = crate::model::LabelsBuilder::with_capacity(labels.len());
        for Label { name, value } in labels {
            b.push_unchecked(self.intern_str(name), self.intern_str(value));
        }
        b.build()
    }

    fn intern_str(&self, s: &Arc<str>) -> Arc<str> {
        if let Some(existing) = self.strings.get(s) {
            return existing.clone();
        }
        self.strings.insert(s.clone());
        s.clone()
    }

    /// Appends one sample to a series; Prometheus's rules: older than the newest sample is
    /// out of order, the same timestamp with another value is a duplicate, the same timestamp
    /// and value is silently ignored.
    fn append_sample(&self, r: SeriesRef, t: i64, v: f64, stats: &mut CommitStats) -> bool {
        let Some(series) = self.series.get(&r).map(|s| s.clone()) else {
            return false;
        };
        let mut samples = series.samples.lock();
        if let Some(last) = samples.last() {
            if t < last.t {
                stats.out_of_order += 1;
                return true;
            }
            if t == last.t {
                if last.v.to_bits() != v.to_bits() && !(is_stale_nan(v) && is_stale_nan(last.v)) {
                    stats.duplicates += 1;
                }
                return true;
            }
        }
        samples.push(Sample { t, v });
        stats.appended += 1;
        self.samples_total.fetch_add(1, Ordering::Relaxed);
        self.min_time.fetch_min(t as u64 ^ SIGN, Ordering::Relaxed);
        self.max_time.fetch_max(t as u64 ^ SIGN, Ordering::Relaxed);
        true
    }

    pub fn stats(&self) -> HeadStats {
        let empty = self.samples_total.load(Ordering::Relaxed) == 0;
        HeadStats {
            series: self.series.len(),
            samples: self.samples_total.load(Ordering::Relaxed),
            min_time: if empty {
                0
            } else {
                (self.min_time.load(Ordering::Relaxed) ^ SIGN) as i64
            },
            max_time: if empty {
                0
            } else {
                (self.max_time.load(Ordering::Relaxed) ^ SIGN) as i64
            },
        }
    }

    /// Total samples appended and rejected as out of order since start.
    pub fn append_counters(&self) -> (u64, u64) {
        (
            self.appended_total.load(Ordering::Relaxed),
            self.out_of_order_total.load(Ordering::Relaxed),
        )
    }

    /// Drops samples older than `mint` and series left with none; returns the series removed.
    pub fn truncate_before(&self, mint: i64) -> usize {
        let mut dead = Vec::new();
        for entry in self.series.iter() {
            let mut samples = entry.samples.lock();
            let keep_from = samples.partition_point(|s| s.t < mint);
            if keep_from > 0 {
                samples.drain(..keep_from);
                self.samples_total.fetch_sub(keep_from, Ordering::Relaxed);
            }
            if samples.is_empty() {
                dead.push(*entry.key());
            }
        }
        for r in &dead {
            if let Some((_, s)) = self.series.remove(r) {
                self.postings.write().remove(*r, &s.labels);
                let hash = s.labels.stable_hash();
                if let Some(mut refs) = self.by_hash.get_mut(&hash) {
                    refs.retain(|x| x != r);
                }
                self.by_hash.remove_if(&hash, |_, refs| refs.is_empty());
            }
        }
        dead.len()
    }

    /// Series count per metric name, for the TSDB status page.
    pub fn series_per_metric(&self) -> Vec<(String, usize)> {
        self.postings.read().value_counts(crate::model::METRIC_NAME)
    }

    /// (label name, number of values, number of series) per label name, for the TSDB status page.
    pub fn label_cardinality(&self) -> Vec<(String, usize, usize)> {
        self.postings.read().cardinality()
    }

    fn matching_series(&self, matchers: &[Matcher]) -> Vec<Arc<MemSeries>> {
        let candidates = self.postings.read().candidates(matchers);
        candidates
            .into_iter()
            .filter_map(|r| self.series.get(&r).map(|s| s.clone()))
            .filter(|s| {
                matchers
                    .iter()
                    .all(|m| m.matches(s.labels.get(&m.name).unwrap_or("")))
            })
            .collect()
    }
}

/// Timestamps are signed; flipping the sign bit makes unsigned atomic min/max order them.
const SIGN: u64 = 1 << 63;

impl Appendable for Head {
    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(HeadAppender {
            head: self,
            pending: Vec::new(),
            created: 0,
        })
    }
}

/// Buffers one scrape's samples; `commit` writes them into their series.
struct HeadAppender<'a> {
    head: &'a Head,
    pending: Vec<(SeriesRef, i64, f64)>,
    created: usize,
}

impl Appender for HeadAppender<'_> {
    fn append(&mut self, labels: &Labels, t: i64, v: f64) -> SeriesRef {
        let (r, created) = self.head.get_or_create(labels);
        self.created += usize::from(created);
        self.pending.push((r, t, v));
        r
    }

    fn append_ref(&mut self, r: SeriesRef, t: i64, v: f64) -> bool {
        if !self.head.series.contains_key(&r) {
            return false;
        }
        self.pending.push((r, t, v));
        true
    }

    fn commit(self: Box<Self>) -> CommitStats {
        let mut stats = CommitStats {
            series_created: self.created,
            ..Default::default()
        };
        for &(r, t, v) in &self.pending {
            self.head.append_sample(r, t, v, &mut stats);
        }
        self.head
            .appended_total
            .fetch_add(stats.appended as u64, Ordering::Relaxed);
        self.head.out_of_order_total.fetch_add(
            (stats.out_of_order + stats.duplicates) as u64,
            Ordering::Relaxed,
        );
        stats
    }

    fn rollback(self: Box<Self>) {}
}

impl Queryable for Head {
    fn querier(&self, mint: i64, maxt: i64) -> Box<dyn Querier + '_> {
        Box::new(HeadQuerier {
            head: self,
            mint,
            maxt,
        })
    }
}

struct HeadQuerier<'a> {
    head: &'a Head,
    mint: i64,
    maxt: i64,
}

impl HeadQuerier<'_> {
    fn in_range(&self, s: &MemSeries) -> Vec<Sample> {
        let samples = s.samples.lock();
        let from = samples.partition_point(|x| x.t < self.mint);
        let to = samples.partition_point(|x| x.t <= self.maxt);
        samples[from..to.max(from)].to_vec()
    }

    fn has_samples(&self, s: &MemSeries) -> bool {
        let samples = s.samples.lock();
        let from = samples.partition_point(|x| x.t < self.mint);
        samples.get(from).is_some_and(|x| x.t <= self.maxt)
    }
}

impl Querier for HeadQuerier<'_> {
    fn select(&self, matchers: &[Matcher]) -> Vec<SeriesData> {
        let mut out: Vec<SeriesData> = self
            .head
            .matching_series(matchers)
            .into_iter()
            .filter_map(|s| {
                let samples = self.in_range(&s);
                (!samples.is_empty()).then(|| SeriesData {
                    labels: s.labels.clone(),
                    samples,
                })
            })
            .collect();
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        out
    }

    fn series(&self, matchers: &[Matcher]) -> Vec<Labels> {
        let mut out: Vec<Labels> = self
            .head
            .matching_series(matchers)
            .into_iter()
            .filter(|s| self.has_samples(s))
            .map(|s| s.labels.clone())
            .collect();
        out.sort();
        out
    }

    fn label_names(&self, matchers: &[Matcher]) -> Vec<String> {
        if matchers.is_empty() {
            return self.head.postings.read().label_names();
        }
        let mut names: Vec<String> = self
            .series(matchers)
            .iter()
            .flat_map(|l| l.iter().map(|l| l.name.to_string()).collect::<Vec<_>>())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Vec<String> {
        if matchers.is_empty() {
            return self.head.postings.read().label_values(name);
        }
        let mut values: Vec<String> = self
            .series(matchers)
            .iter()
            .filter_map(|l| l.get(name).map(str::to_string))
            .collect();
        values.sort();
        values.dedup();
        values
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{stale_nan, MatchOp};

    fn ls(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs)
    }

    #[test]
    fn append_commit_select() {
        let head = Head::new();
        let mut app = head.appender();
        let r = app.append(&ls(&[("__name__", "up"), ("job", "a")]), 1000, 1.0);
        app.append(&ls(&[("__name__", "up"), ("job", "b")]), 1000, 0.0);
        assert_eq!(
            head.querier(0, 2000)
                .select(&[Matcher::equal("__name__", "up")])
                .len(),
            0
        );
        let stats = app.commit();
        assert_eq!(stats.appended, 2);
        assert_eq!(stats.series_created, 2);

        let mut app = head.appender();
        assert!(app.append_ref(r, 2000, 1.0));
        assert!(!app.append_ref(9999, 2000, 1.0));
        app.commit();

        let q = head.querier(0, 5000);
        let got = q.select(&[Matcher::new(MatchOp::RegexMatch, "job", "a").unwrap()]);
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].samples,
            vec![Sample { t: 1000, v: 1.0 }, Sample { t: 2000, v: 1.0 }]
        );
        assert_eq!(q.label_values("job", &[]), vec!["a", "b"]);
        assert_eq!(q.label_names(&[]), vec!["__name__", "job"]);
        // Range bounds are inclusive; series without samples in range are omitted.
        assert_eq!(
            head.querier(1500, 1999)
                .select(&[Matcher::equal("job", "a")])
                .len(),
            0
        );
        assert_eq!(
            head.querier(2000, 2000)
                .select(&[Matcher::equal("job", "a")])
                .len(),
            1
        );
    }

    #[test]
    fn out_of_order_and_duplicates_are_counted() {
        let head = Head::new();
        let l = ls(&[("__name__", "x")]);
        let mut app = head.appender();
        app.append(&l, 2000, 1.0);
        app.append(&l, 1000, 1.0); // out of order
        app.append(&l, 2000, 2.0); // duplicate timestamp, other value
        app.append(&l, 2000, 1.0); // same sample again: ignored silently
        app.append(&l, 3000, stale_nan());
        let stats = app.commit();
        assert_eq!(
            (stats.appended, stats.out_of_order, stats.duplicates),
            (2, 1, 1)
        );
        assert_eq!(head.stats().samples, 2);
        assert_eq!((head.stats().min_time, head.stats().max_time), (2000, 3000));
    }

    #[test]
    fn not_equal_matcher_includes_series_without_the_label() {
        let head = Head::new();
        let mut app = head.appender();
        app.append(&ls(&[("__name__", "x"), ("env", "prod")]), 1, 1.0);
        app.append(&ls(&[("__name__", "x")]), 1, 1.0);
        app.commit();
        let q = head.querier(0, 10);
        let m = Matcher::new(MatchOp::NotEqual, "env", "prod").unwrap();
        let got = q.select(&[Matcher::equal("__name__", "x"), m]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].labels.get("env"), None);
    }

    #[test]
    fn truncate_drops_old_samples_and_empty_series() {
        let head = Head::new();
        let mut app = head.appender();
        app.append(&ls(&[("__name__", "old")]), 1, 1.0);
        app.append(&ls(&[("__name__", "new")]), 1, 1.0);
        app.append(&ls(&[("__name__", "new")]), 100, 1.0);
        app.commit();
        assert_eq!(head.truncate_before(50), 1);
        assert_eq!(head.stats().series, 1);
        assert_eq!(head.stats().samples, 1);
        assert!(head
            .querier(0, 1000)
            .select(&[Matcher::equal("__name__", "old")])
            .is_empty());
        // A recreated series gets a fresh ref and is found again.
        let (_, created) = head.get_or_create(&ls(&[("__name__", "old")]));
        assert!(created);
    }
}
