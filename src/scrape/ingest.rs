//! Turning one scrape body into one batch for the head.
//!
//! Input: the body, its format, the target's labels and limits, the target's scrape cache.
//! Output: samples added to an [`Appender`] (which the caller commits or rolls back) and a
//! report of counts. A malformed body yields an error and the caller rolls back, so nothing
//! of it is stored.

use super::cache::{CacheEntry, ScrapeCache};
use crate::config::RelabelConfig;
use crate::model::{stale_nan, Labels, LabelsBuilder, METRIC_NAME};
use crate::relabel::relabel;
use crate::storage::{Appender, SeriesRef};
use crate::textparse::{Entry, Format, ParseError, Parser};
use std::borrow::Cow;
use std::sync::Arc;

/// What an ingest needs to know about its target; fixed for the life of a target actor.
#[derive(Debug, Clone, Default)]
pub struct IngestSettings {
    /// The target's labels (job, instance, static and relabeled ones), attached to every sample.
    pub target_labels: Labels,
    pub honor_labels: bool,
    pub honor_timestamps: bool,
    pub sample_limit: usize,
    pub label_limit: usize,
    pub label_name_length_limit: usize,
    pub label_value_length_limit: usize,
    pub metric_relabel_configs: Vec<RelabelConfig>,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{0}")]
    Parse(#[from] ParseError),
    #[error("sample limit exceeded: the target exposes more than {limit} samples after metric relabeling; raise sample_limit or drop series with metric_relabel_configs")]
    SampleLimit { limit: usize },
    #[error(
        "label limit exceeded: series {series:?} has {count} labels, more than label_limit {limit}"
    )]
    LabelLimit {
        series: String,
        count: usize,
        limit: usize,
    },
    #[error("label {name:?} of series {series:?} exceeds {what} length limit {limit}")]
    LabelLength {
        series: String,
        name: String,
        what: &'static str,
        limit: usize,
    },
}

/// Counts of one successful ingest.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct IngestReport {
    pub scraped: usize,
    pub post_relabel: usize,
    pub series_added: usize,
}

/// Parses `body` and appends its samples at `scrape_ts` (ms), using and updating `cache`.
pub fn ingest(
    body: &str,
    format: Format,
    settings: &IngestSettings,
    cache: &mut ScrapeCache,
    app: &mut dyn Appender,
    scrape_ts: i64,
) -> Result<IngestReport, IngestError> {
    let mut parser = Parser::new(body, format);
    let mut report = IngestReport::default();
    let mut label_buf: Vec<(&str, Cow<'_, str>)> = Vec::new();
    let iter = cache.iter;
    while let Some(entry) = parser.next()? {
        let (series, name, value, timestamp_ms) = match entry {
            Entry::Sample {
                series,
                name,
                value,
                timestamp_ms,
            } => (series, name, value, timestamp_ms),
            Entry::Help { metric, text } => {
                cache.set_meta(metric, |m| replace(&mut m.help, &text));
                continue;
            }
            Entry::Type { metric, kind } => {
                cache.set_meta(metric, |m| replace(&mut m.kind, kind.as_str()));
                continue;
            }
            Entry::Unit { metric, unit } => {
                cache.set_meta(metric, |m| replace(&mut m.unit, unit));
                continue;
            }
        };
        report.scraped += 1;
        let t = match timestamp_ms {
            Some(ts) if settings.honor_timestamps => ts,
            _ => scrape_ts,
        };
        let explicit_ts = timestamp_ms.is_some() && settings.honor_timestamps;

        let key = cache.entries.key(series);
        let cached = match cache.entries.get_mut(key) {
            Some(e) => {
                e.last_iter = iter;
                match &e.series {
                    None => continue, // dropped by metric relabeling
                    Some(h) if app.append_handle(h, t, value) => {
                        if !explicit_ts {
                            e.appended_iter = iter;
                        }
                        true
                    }
                    Some(_) => false,
                }
            }
            None => false,
        };
        if !cached {
            label_buf.clear();
            parser.labels(&mut label_buf);
            let Some(labels) = sample_labels(name, &label_buf, settings) else {
                cache.entries.insert(key, CacheEntry::new(None, iter));
                continue;
            };
            check_label_limits(&labels, settings)?;
            let h = app.append(&labels, t, value);
            let mut entry = CacheEntry::new(Some(h), iter);
            if !explicit_ts {
                entry.appended_iter = iter;
            }
            if cache.entries.insert(key, entry) {
                report.series_added += 1;
            }
        }
        report.post_relabel += 1;
        if settings.sample_limit > 0 && report.post_relabel > settings.sample_limit {
            return Err(IngestError::SampleLimit {
                limit: settings.sample_limit,
            });
        }
    }
    Ok(report)
}

/// Sets `field` to `value` unless equal (no allocation then); says whether it changed.
fn replace(field: &mut String, value: &str) -> bool {
    if field == value {
        return false;
    }
    value.clone_into(field);
    true
}

/// The final labels of a scraped sample: its own labels merged with the target's under the
/// `honor_labels` rule, then metric relabeling. None if relabeling drops it.
fn sample_labels(
    name: &str,
    scraped: &[(&str, Cow<'_, str>)],
    s: &IngestSettings,
) -> Option<Labels> {
    let mut b = LabelsBuilder::with_capacity(scraped.len() + s.target_labels.len() + 1);
    b.set(METRIC_NAME, name);
    for (n, v) in scraped {
        b.set(n, v);
    }
    for l in &s.target_labels {
        let existing = b.get(&l.name).map(str::to_string);
        match existing {
            Some(_) if s.honor_labels => {}
            Some(v) => {
                // The scraped value moves aside to exported_<name>, prefixing again while taken.
                let mut exported = format!("exported_{}", l.name);
                while b.get(&exported).is_some() {
                    exported = format!("exported_{exported}");
                }
                b.set(&exported, &v);
                b.set_shared(l.name.clone(), l.value.clone());
            }
            None => {
                b.set_shared(l.name.clone(), l.value.clone());
            }
        }
    }
    let labels = b.build();
    if s.metric_relabel_configs.is_empty() {
        return Some(labels);
    }
    relabel(&labels, &s.metric_relabel_configs)
}

fn check_label_limits(labels: &Labels, s: &IngestSettings) -> Result<(), IngestError> {
    if s.label_limit > 0 && labels.len() > s.label_limit {
        return Err(IngestError::LabelLimit {
            series: labels.to_string(),
            count: labels.len(),
            limit: s.label_limit,
        });
    }
    for l in labels {
        let (what, limit, len) =
            if s.label_name_length_limit > 0 && l.name.len() > s.label_name_length_limit {
                ("name", s.label_name_length_limit, l.name.len())
            } else if s.label_value_length_limit > 0 && l.value.len() > s.label_value_length_limit {
                ("value", s.label_value_length_limit, l.value.len())
            } else {
                continue;
            };
        let _ = len;
        return Err(IngestError::LabelLength {
            series: labels.to_string(),
            name: l.name.to_string(),
            what,
            limit,
        });
    }
    Ok(())
}

/// Names of the synthetic series written after every scrape, in Prometheus's order.
pub const REPORT_SERIES: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

/// Appends the synthetic series of one scrape attempt with the target's labels.
pub fn append_report(
    app: &mut dyn Appender,
    cache: &mut ScrapeCache,
    target_labels: &Labels,
    ts: i64,
    values: [f64; 5],
) {
    if cache.report_refs.len() != REPORT_SERIES.len() {
        cache.report_refs = vec![None; REPORT_SERIES.len()];
    }
    for (i, name) in REPORT_SERIES.iter().enumerate() {
        let v = values[i];
        if let Some(h) = &cache.report_refs[i] {
            if app.append_handle(h, ts, v) {
                continue;
            }
        }
        let mut b = target_labels.builder();
        b.set_shared(Arc::from(METRIC_NAME), Arc::from(*name));
        cache.report_refs[i] = Some(app.append(&b.build(), ts, v));
    }
}

/// Appends staleness markers for `refs` at `ts`.
pub fn append_stale(app: &mut dyn Appender, refs: &[SeriesRef], ts: i64) {
    for &r in refs {
        app.append_ref(r, ts, stale_nan());
    }
}
