//! OpenMetrics family rules: what a well-formed line may still get wrong.
//!
//! The OpenMetrics 1.0 text format groups samples into metric families: the metadata of a
//! family comes first and once, a family is never reopened, every sample name must belong to
//! its family's type (`_total` for counters, `_bucket` for histograms, ...), and each type puts
//! rules on values and labels. A body that breaks any of them is rejected whole, which is what
//! the conformance suite checks. The state kept here is per family and reused across families,
//! so a long body does not grow it beyond its largest family.

use std::collections::{HashMap, HashSet};

use super::lex::{self, LabelSpan};
use super::{MetricType, ParseErrorKind};

/// A metadata line of a family.
pub(super) enum Meta<'a> {
    Help,
    Type(MetricType),
    Unit(&'a str),
}

/// A sample line, parsed.
pub(super) struct Sample<'a> {
    pub name: &'a str,
    pub series: &'a str,
    pub value: f64,
    /// Seconds, as written.
    pub timestamp: Option<f64>,
    pub exemplar: bool,
}

/// Capacity past which a per-family table is dropped rather than cleared between families;
/// a few times the buckets of a wide histogram.
const LARGE_TABLE: usize = 1024;

/// Every suffix a sample name may add to its family name, over all types.
const ALL_SUFFIXES: [&str; 8] = [
    "_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info",
];

/// The sample names a family of type `kind` may hold, as suffixes of the family name.
fn suffixes(kind: MetricType) -> &'static [&'static str] {
    match kind {
        MetricType::Counter => &["_total", "_created"],
        MetricType::Histogram => &["_bucket", "_count", "_sum", "_created"],
        MetricType::GaugeHistogram => &["_bucket", "_gcount", "_gsum"],
        MetricType::Summary => &["", "_count", "_sum", "_created"],
        MetricType::Info => &["_info"],
        MetricType::Gauge | MetricType::StateSet | MetricType::Unknown => &[""],
    }
}

#[derive(Default)]
pub(super) struct Families<'a> {
    /// Every family opened so far, with its type.
    seen: HashMap<&'a str, MetricType>,
    current: Option<Family<'a>>,
    /// Groups (label sets without `le`/`quantile`) already seen in the current family.
    groups: HashSet<u64>,
    /// Series of the current group and the timestamp each was last seen with (a map: a
    /// hostile histogram may hold a huge number of buckets in one group).
    series: HashMap<&'a str, Option<f64>>,
}

struct Family<'a> {
    name: &'a str,
    kind: MetricType,
    has_help: bool,
    has_type: bool,
    unit: Option<&'a str>,
    has_samples: bool,
    group: Option<u64>,
    /// Bucket state of the current (group, timestamp) run of a histogram.
    buckets: Buckets,
}

#[derive(Default)]
struct Buckets {
    /// `Some(ts)` once the run has a sample.
    timestamp: Option<Option<f64>>,
    last_le: Option<f64>,
    last_value: f64,
    count: Option<f64>,
    has_sum: bool,
    has_gsum: bool,
    negative_buckets: bool,
    negative_gsum: bool,
}

impl<'a> Families<'a> {
    pub fn metadata(&mut self, name: &'a str, meta: Meta<'a>) -> Result<(), ParseErrorKind> {
        if self.current.as_ref().map(|f| f.name) != Some(name) {
            self.open(name)?;
        }
        let Some(family) = self.current.as_mut() else {
            return Ok(());
        };
        let rule = |rule| {
            Err(ParseErrorKind::Family {
                family: name.to_owned(),
                rule,
            })
        };
        if family.has_samples {
            return rule("metadata must come before the samples of its family");
        }
        match meta {
            Meta::Help if family.has_help => return rule("repeated HELP"),
            Meta::Help => family.has_help = true,
            Meta::Type(_) if family.has_type => return rule("repeated TYPE"),
            Meta::Type(kind) => {
                family.has_type = true;
                family.kind = kind;
                self.seen.insert(name, kind);
                let clash = suffixes(kind).iter().any(|s| {
                    !s.is_empty() && self.seen.contains_key(format!("{name}{s}").as_str())
                });
                if clash {
                    return rule("the sample names of this family clash with an earlier family");
                }
            }
            Meta::Unit(_) if family.unit.is_some() => return rule("repeated UNIT"),
            Meta::Unit(unit) => {
                family.unit = Some(unit);
                let suffix_ok = name
                    .strip_suffix(unit)
                    .is_some_and(|rest| rest.ends_with('_'));
                if !unit.is_empty() && !suffix_ok {
                    return rule("the metric name must end with '_' and the unit");
                }
            }
        }
        if family.unit.is_some_and(|u| !u.is_empty())
            && matches!(family.kind, MetricType::Info | MetricType::StateSet)
        {
            return rule("info and stateset families have no unit");
        }
        Ok(())
    }

    pub fn sample(
        &mut self,
        s: &Sample<'a>,
        labels: &[LabelSpan],
        body: &'a str,
    ) -> Result<(), ParseErrorKind> {
        let suffix = match &self.current {
            Some(f) => s
                .name
                .strip_prefix(f.name)
                .filter(|rest| suffixes(f.kind).contains(rest)),
            None => None,
        };
        let suffix = match suffix {
            Some(suffix) => suffix,
            None => {
                self.open(s.name)?;
                ""
            }
        };
        let Some(family) = self.current.as_mut() else {
            return Ok(());
        };
        family.has_samples = true;
        let rule = |rule| ParseErrorKind::Family {
            family: family.name.to_owned(),
            rule,
        };
        let kind = family.kind;
        let exemplar_allowed = match kind {
            MetricType::Counter => suffix == "_total",
            MetricType::Histogram | MetricType::GaugeHistogram => suffix == "_bucket",
            _ => false,
        };
        if s.exemplar && !exemplar_allowed {
            return Err(rule(
                "exemplars are only allowed on counter totals and histogram buckets",
            ));
        }
        let label = |want: &str| {
            labels
                .iter()
                .find(|l| body.get(l.name.clone()) == Some(want))
                .map(|l| lex::unescape(body.get(l.value.clone()).unwrap_or_default(), true))
        };
        let v = s.value;
        let non_negative = !v.is_nan() && v >= 0.0;
        let mut le = None;
        match (kind, suffix) {
            (MetricType::Counter, "_total")
            | (MetricType::Histogram, "_count" | "_sum")
            | (MetricType::GaugeHistogram, "_gcount")
            | (MetricType::Summary, "_count" | "_sum")
                if !non_negative =>
            {
                return Err(rule("this value must be a non-negative number"));
            }
            (MetricType::GaugeHistogram, "_gsum") if v.is_nan() => {
                return Err(rule("_gsum must not be NaN"));
            }
            (MetricType::Histogram | MetricType::GaugeHistogram, "_bucket") => {
                if !non_negative {
                    return Err(rule("bucket counts must be non-negative numbers"));
                }
                let bound = label("le").ok_or_else(|| rule("bucket without an 'le' label"))?;
                le = Some(
                    lex::parse_om_label_float(&bound)
                        .ok_or_else(|| rule("the 'le' label must be a number"))?,
                );
            }
            (MetricType::Summary, "") => {
                let q = label("quantile")
                    .ok_or_else(|| rule("summary sample without a 'quantile' label"))?;
                let q = lex::parse_om_label_float(&q).filter(|q| (0.0..=1.0).contains(q));
                if q.is_none() {
                    return Err(rule("the 'quantile' label must be a number from 0 to 1"));
                }
                if v < 0.0 {
                    return Err(rule("quantile values must not be negative"));
                }
            }
            (MetricType::Info, _) if v != 1.0 => return Err(rule("info values must be 1")),
            (MetricType::StateSet, _) => {
                if v != 0.0 && v != 1.0 {
                    return Err(rule("stateset values must be 0 or 1"));
                }
                if label(family.name).is_none() {
                    return Err(rule(
                        "a stateset sample needs a label named after its family",
                    ));
                }
            }
            _ => {}
        }

        let skip = match kind {
            MetricType::Histogram | MetricType::GaugeHistogram => "le",
            MetricType::Summary => "quantile",
            _ => "",
        };
        let group = group_hash(labels, body, skip);
        if family.group != Some(group) {
            if family.group.is_some() {
                family.buckets.check().map_err(rule)?;
            }
            if !self.groups.insert(group) {
                return Err(rule("the samples of one metric must be grouped together"));
            }
            family.group = Some(group);
            family.buckets = Buckets::default();
            self.series.clear();
        }
        match self.series.get_mut(s.series) {
            Some(last) => match (*last, s.timestamp) {
                (Some(prev), Some(ts)) if ts >= prev => *last = Some(ts),
                (Some(_), Some(_)) => {
                    return Err(rule("timestamps of a series must not go backwards"))
                }
                _ => return Err(rule("a series repeated without distinct timestamps")),
            },
            None => {
                self.series.insert(s.series, s.timestamp);
            }
        }
        if matches!(kind, MetricType::Histogram | MetricType::GaugeHistogram) {
            let b = &mut family.buckets;
            if b.timestamp.is_some_and(|ts| ts != s.timestamp) {
                b.check().map_err(rule)?;
                *b = Buckets::default();
            }
            b.timestamp = Some(s.timestamp);
            b.add(suffix, v, le).map_err(rule)?;
        }
        Ok(())
    }

    /// Closes the last family; called at `# EOF`.
    pub fn finish(&mut self) -> Result<(), ParseErrorKind> {
        match self.current.take() {
            Some(f) if f.group.is_some() => {
                f.buckets.check().map_err(|rule| ParseErrorKind::Family {
                    family: f.name.to_owned(),
                    rule,
                })
            }
            _ => Ok(()),
        }
    }

    /// Starts family `name` after closing the current one.
    fn open(&mut self, name: &'a str) -> Result<(), ParseErrorKind> {
        self.finish()?;
        let rule = |rule| {
            Err(ParseErrorKind::Family {
                family: name.to_owned(),
                rule,
            })
        };
        if self.seen.contains_key(name) {
            return rule("a metric family must not appear twice or be interleaved with another");
        }
        let clash = ALL_SUFFIXES.iter().any(|s| {
            name.strip_suffix(s)
                .and_then(|base| self.seen.get(base))
                .is_some_and(|kind| suffixes(*kind).contains(s))
        });
        if clash {
            return rule("the name clashes with a sample name of an earlier family");
        }
        self.seen.insert(name, MetricType::Unknown);
        // Clearing a hash table costs its capacity, and the next groups are cleared once
        // each: drop a table grown by one huge group instead of carrying it along.
        if self.series.capacity() > LARGE_TABLE {
            self.series = HashMap::new();
        }
        if self.groups.capacity() > LARGE_TABLE {
            self.groups = HashSet::new();
        }
        self.groups.clear();
        self.series.clear();
        self.current = Some(Family {
            name,
            kind: MetricType::Unknown,
            has_help: false,
            has_type: false,
            unit: None,
            has_samples: false,
            group: None,
            buckets: Buckets::default(),
        });
        Ok(())
    }
}

impl Buckets {
    fn add(&mut self, suffix: &str, value: f64, le: Option<f64>) -> Result<(), &'static str> {
        match suffix {
            "_bucket" => {
                let le = le.unwrap_or(f64::NAN);
                if self.last_le.is_some_and(|last| le <= last) {
                    return Err("buckets must be in increasing order of 'le'");
                }
                if value < self.last_value {
                    return Err("bucket counts must not decrease");
                }
                self.negative_buckets |= le < 0.0;
                self.last_le = Some(le);
                self.last_value = value;
            }
            "_count" | "_gcount" => self.count = Some(value),
            "_sum" => self.has_sum = true,
            "_gsum" => {
                self.has_gsum = true;
                self.negative_gsum = value < 0.0;
            }
            _ => {}
        }
        Ok(())
    }

    /// The rules a complete histogram (one group at one timestamp) must satisfy.
    fn check(&self) -> Result<(), &'static str> {
        if self.timestamp.is_none() {
            return Ok(());
        }
        if self.last_le != Some(f64::INFINITY) {
            return Err("a histogram needs a '+Inf' bucket, last");
        }
        if self.count.is_some_and(|c| c != self.last_value) {
            return Err("the count must equal the '+Inf' bucket");
        }
        if (self.has_sum || self.has_gsum) != self.count.is_some() {
            return Err("a histogram has both a sum and a count or neither");
        }
        if self.negative_buckets && self.has_sum {
            return Err("a histogram with negative buckets cannot have a _sum");
        }
        if self.negative_gsum && !self.negative_buckets {
            return Err("a negative _gsum needs negative buckets");
        }
        Ok(())
    }
}

/// Identity of the metric a sample belongs to: its labels without `skip`, in any order.
///
/// Per-label hashes are summed so that label order does not matter. Each is FNV-1a followed
/// by the 64-bit finalizer of MurmurHash3: summing raw FNV values collides easily, because
/// strings differing in their last byte differ by a multiple of the FNV prime (`code="200"`
/// with `handler="/a1"` summed to the same as `code="201"` with `handler="/a0"`); the
/// finalizer spreads every input bit over the whole word. No protection against chosen
/// collisions is needed: a collision can only make two groups look alike and reject a body.
fn group_hash(labels: &[LabelSpan], body: &str, skip: &str) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    labels
        .iter()
        .filter(|l| body.get(l.name.clone()) != Some(skip))
        .map(|l| {
            let name = body.get(l.name.clone()).unwrap_or_default();
            let value = body.get(l.value.clone()).unwrap_or_default();
            let bytes = name.bytes().chain([0xff]).chain(value.bytes());
            fmix64(bytes.fold(OFFSET, |h, c| (h ^ u64::from(c)).wrapping_mul(PRIME)))
        })
        .fold(0u64, u64::wrapping_add)
}

/// MurmurHash3's 64-bit finalizer (constants from its reference implementation).
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}
