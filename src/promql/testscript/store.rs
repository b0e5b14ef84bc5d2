//! An in-memory series store for test scripts and benchmarks: series sorted by labels, each
//! with its samples sorted by time. Native-histogram samples are not stored; the store only
//! remembers which series had them, so the runner can count such evals apart.

use crate::model::{Labels, Matcher, Sample};
use crate::storage::{Querier, Queryable, SeriesData};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Default, Clone)]
pub struct MemStore {
    series: BTreeMap<Labels, Vec<Sample>>,
    histogram_series: BTreeSet<Labels>,
}

impl MemStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds samples to a series; a sample at an existing timestamp replaces the old one.
    pub fn add(&mut self, labels: Labels, samples: impl IntoIterator<Item = Sample>) {
        let s = self.series.entry(labels).or_default();
        let sorted = s.windows(2).all(|w| w[0].t < w[1].t);
        s.extend(samples);
        if !sorted || s.windows(2).any(|w| w[0].t >= w[1].t) {
            // Stable sort, then keep the last sample written for each timestamp.
            s.sort_by_key(|p| p.t);
            let mut out: Vec<Sample> = Vec::with_capacity(s.len());
            for p in s.drain(..) {
                match out.last_mut() {
                    Some(last) if last.t == p.t => *last = p,
                    _ => out.push(p),
                }
            }
            *s = out;
        }
    }

    /// Replaces a series' samples.
    pub fn set(&mut self, labels: Labels, samples: Vec<Sample>) {
        self.series.insert(labels, samples);
    }

    /// Records that a series has native-histogram samples.
    pub fn mark_histogram(&mut self, labels: Labels) {
        self.histogram_series.insert(labels);
    }

    /// Whether any series with native-histogram samples matches all the matchers.
    pub fn histogram_matches(&self, matchers: &[Matcher]) -> bool {
        self.histogram_series
            .iter()
            .any(|l| matches_all(l, matchers))
    }

    pub fn clear(&mut self) {
        self.series.clear();
        self.histogram_series.clear();
    }

    pub fn series_count(&self) -> usize {
        self.series.len()
    }
}

fn matches_all(l: &Labels, matchers: &[Matcher]) -> bool {
    matchers
        .iter()
        .all(|m| m.matches(l.get(&m.name).unwrap_or("")))
}

impl Queryable for MemStore {
    fn querier(&self, mint: i64, maxt: i64) -> Box<dyn Querier + '_> {
        Box::new(MemQuerier {
            store: self,
            mint,
            maxt,
        })
    }
}

struct MemQuerier<'a> {
    store: &'a MemStore,
    mint: i64,
    maxt: i64,
}

impl MemQuerier<'_> {
    fn in_range<'s>(&self, samples: &'s [Sample]) -> &'s [Sample] {
        let lo = samples.partition_point(|p| p.t < self.mint);
        let hi = samples.partition_point(|p| p.t <= self.maxt);
        &samples[lo..hi.max(lo)]
    }
}

impl Querier for MemQuerier<'_> {
    fn select(&self, matchers: &[Matcher]) -> Vec<SeriesData> {
        self.store
            .series
            .iter()
            .filter(|(l, _)| matches_all(l, matchers))
            .filter_map(|(l, s)| {
                let samples = self.in_range(s);
                (!samples.is_empty()).then(|| SeriesData {
                    labels: l.clone(),
                    samples: samples.to_vec(),
                })
            })
            .collect()
    }

    fn label_names(&self, matchers: &[Matcher]) -> Vec<String> {
        let names: BTreeSet<String> = self
            .select(matchers)
            .iter()
            .flat_map(|s| {
                s.labels
                    .iter()
                    .map(|l| l.name.to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        names.into_iter().collect()
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Vec<String> {
        let values: BTreeSet<String> = self
            .select(matchers)
            .iter()
            .filter_map(|s| s.labels.get(name).map(str::to_string))
            .collect();
        values.into_iter().collect()
    }
}
