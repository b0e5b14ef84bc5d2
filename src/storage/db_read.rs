//! Reading the database: the head and the blocks overlapping the range, merged per series.

use super::db::Db;
use super::head_read::{names_of, values_of, HeadQuerier};
use super::{Querier, Queryable, SeriesData};
use crate::model::{Labels, Matcher, Sample};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

impl Queryable for Db {
    fn querier(&self, mint: i64, maxt: i64) -> Box<dyn Querier + '_> {
        let mint = mint.max(self.retention_mint.load(Ordering::Acquire));
        Box::new(DbQuerier {
            head: HeadQuerier {
                head: &self.head,
                mint,
                maxt,
            },
            db: self,
            mint,
            maxt,
        })
    }
}

struct DbQuerier<'a> {
    head: HeadQuerier<'a>,
    db: &'a Db,
    mint: i64,
    maxt: i64,
}

impl DbQuerier<'_> {
    /// The blocks overlapping the range. Taken after reading the head (see `Db::persist`).
    fn blocks(&self) -> Vec<std::sync::Arc<super::block::Block>> {
        self.db
            .blocks
            .read()
            .iter()
            .filter(|b| b.overlaps(self.mint, self.maxt))
            .cloned()
            .collect()
    }
}

impl Querier for DbQuerier<'_> {
    fn select(&self, matchers: &[Matcher]) -> Vec<SeriesData> {
        let from_head = self.head.select(matchers);
        let blocks = self.blocks();
        if blocks.is_empty() {
            return from_head;
        }
        let mut merged: BTreeMap<Labels, Vec<Sample>> = BTreeMap::new();
        for b in &blocks {
            for s in b.select(self.mint, self.maxt, matchers) {
                merged.entry(s.labels).or_default().extend(s.samples);
            }
        }
        for s in from_head {
            merged.entry(s.labels).or_default().extend(s.samples);
        }
        merged
            .into_iter()
            .map(|(labels, mut samples)| {
                // Runs are sorted already; a chunk may be in the head and in a block for the
                // moment of a persist, hence the dedup.
                samples.sort_by_key(|s| s.t);
                samples.dedup_by_key(|s| s.t);
                SeriesData { labels, samples }
            })
            .collect()
    }

    fn select_latest(&self, matchers: &[Matcher]) -> Vec<SeriesData> {
        // An instant query near now reads the head alone; one reaching into blocks merges.
        if self.blocks().is_empty() {
            return self.head.select_latest(matchers);
        }
        super::latest_only(self.select(matchers))
    }

    fn series(&self, matchers: &[Matcher]) -> Vec<Labels> {
        let mut out = self.head.series(matchers);
        for b in self.blocks() {
            out.extend(b.series(self.mint, self.maxt, matchers));
        }
        out.sort();
        out.dedup();
        out
    }

    fn label_names(&self, matchers: &[Matcher]) -> Vec<String> {
        if !matchers.is_empty() {
            return names_of(&self.series(matchers));
        }
        let mut names = self.head.label_names(matchers);
        for b in self.blocks() {
            names.extend(b.label_names());
        }
        names.sort();
        names.dedup();
        names
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Vec<String> {
        if !matchers.is_empty() {
            return values_of(&self.series(matchers), name);
        }
        let mut values = self.head.label_values(name, matchers);
        for b in self.blocks() {
            values.extend(b.label_values(name));
        }
        values.sort();
        values.dedup();
        values
    }
}
