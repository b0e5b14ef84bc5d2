//! Reading the head: a querier bound to [mint, maxt] over the series' chunks.

use super::head::Head;
use super::series::{samples_in, MemSeries};
use super::{Querier, Queryable, SeriesData};
use crate::model::{Labels, Matcher, Sample};

impl Queryable for Head {
    fn querier(&self, mint: i64, maxt: i64) -> Box<dyn Querier + '_> {
        Box::new(HeadQuerier {
            head: self,
            mint,
            maxt,
        })
    }
}

pub(super) struct HeadQuerier<'a> {
    pub(super) head: &'a Head,
    pub(super) mint: i64,
    pub(super) maxt: i64,
}

impl HeadQuerier<'_> {
    /// The matching series with the samples `read` takes from each, sorted by labels;
    /// series it gives nothing are left out.
    fn collect(
        &self,
        matchers: &[Matcher],
        read: impl Fn(&MemSeries) -> Vec<Sample>,
    ) -> Vec<SeriesData> {
        let mut out: Vec<SeriesData> = self
            .head
            .matching_series(matchers)
            .into_iter()
            .filter_map(|s| {
                let samples = read(&s);
                (!samples.is_empty()).then(|| SeriesData {
                    labels: self.head.labels_of(&s),
                    samples,
                })
            })
            .collect();
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        out
    }
}

impl Querier for HeadQuerier<'_> {
    fn select(&self, matchers: &[Matcher]) -> Vec<SeriesData> {
        let (mint, maxt) = (self.mint, self.maxt);
        self.collect(matchers, |s| {
            samples_in(&s.chunks_in(mint, maxt), mint, maxt)
        })
    }

    fn select_latest(&self, matchers: &[Matcher]) -> Vec<SeriesData> {
        let (mint, maxt) = (self.mint, self.maxt);
        self.collect(matchers, |s| s.latest_in(mint, maxt).into_iter().collect())
    }

    fn series(&self, matchers: &[Matcher]) -> Vec<Labels> {
        let mut out: Vec<Labels> = self
            .head
            .matching_series(matchers)
            .into_iter()
            .filter(|s| s.has_samples_in(self.mint, self.maxt))
            .map(|s| self.head.labels_of(&s))
            .collect();
        out.sort();
        out
    }

    fn label_names(&self, matchers: &[Matcher]) -> Vec<String> {
        if matchers.is_empty() {
            return self.head.postings.read().label_names();
        }
        names_of(&self.series(matchers))
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Vec<String> {
        if matchers.is_empty() {
            return self.head.postings.read().label_values(name);
        }
        values_of(&self.series(matchers), name)
    }
}

/// Sorted, distinct label names of a list of series.
pub(super) fn names_of(series: &[Labels]) -> Vec<String> {
    let mut names: Vec<String> = series
        .iter()
        .flat_map(|l| l.iter().map(|l| l.name.to_string()))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Sorted, distinct values of one label over a list of series.
pub(super) fn values_of(series: &[Labels], name: &str) -> Vec<String> {
    let mut values: Vec<String> = series
        .iter()
        .filter_map(|l| l.get(name).map(str::to_string))
        .collect();
    values.sort();
    values.dedup();
    values
}
