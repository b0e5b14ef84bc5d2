//! Label sets. A series is identified by its sorted set of labels, `__name__` included.

use std::fmt;
use std::sync::Arc;

/// The label holding the metric name.
pub const METRIC_NAME: &str = "__name__";

/// One label. Names and values are shared strings, so copying a label set between the
/// scrape cache, the head and query results never copies the text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Label {
    pub name: Arc<str>,
    pub value: Arc<str>,
}

/// By name, then value. Label sets taken from the head share their strings, so the same
/// pointer settles most comparisons (every `__name__`, a metric's name) without reading text.
impl Ord for Label {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        fn text(a: &Arc<str>, b: &Arc<str>) -> std::cmp::Ordering {
            if Arc::ptr_eq(a, b) {
                std::cmp::Ordering::Equal
            } else {
                a.cmp(b)
            }
        }
        text(&self.name, &other.name).then_with(|| text(&self.value, &other.value))
    }
}

impl PartialOrd for Label {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// A label set sorted by name, with unique names and no empty values
/// (an empty value means "label absent", as in Prometheus).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(Vec<Label>);

impl Labels {
    pub fn empty() -> Self {
        Labels(Vec::new())
    }

    /// Builds a set from pairs in any order; later duplicates win, empty values are dropped.
    pub fn from_pairs<N: AsRef<str>, V: AsRef<str>>(pairs: &[(N, V)]) -> Self {
        let mut b = LabelsBuilder::new();
        for (n, v) in pairs {
            b.set(n.as_ref(), v.as_ref());
        }
        b.build()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|l| (*l.name).cmp(name))
            .ok()
            .map(|i| &*self.0[i].value)
    }

    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A copy without the metric name, as PromQL functions and operators produce.
    pub fn without_metric_name(&self) -> Labels {
        Labels(
            self.0
                .iter()
                .filter(|l| &*l.name != METRIC_NAME)
                .cloned()
                .collect(),
        )
    }

    /// A builder pre-filled with this set, for edits.
    pub fn builder(&self) -> LabelsBuilder {
        LabelsBuilder {
            labels: self.0.clone(),
        }
    }

    /// A stable 64-bit hash of the set (FNV-1a over names and values with separators),
    /// identical across runs and machines, used for series lookup and scrape offsets.
    pub fn stable_hash(&self) -> u64 {
        let mut h = Fnv64::new();
        for l in &self.0 {
            h.write(l.name.as_bytes());
            h.write(&[0xff]);
            h.write(l.value.as_bytes());
            h.write(&[0xff]);
        }
        h.finish()
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = &'a Label;
    type IntoIter = std::slice::Iter<'a, Label>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for Labels {
    /// Prometheus's notation: `name{a="1", b="2"}`, with the value quoted and escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.metric_name().unwrap_or("");
        f.write_str(name)?;
        let mut first = true;
        let others: Vec<&Label> = self.0.iter().filter(|l| &*l.name != METRIC_NAME).collect();
        if others.is_empty() && !name.is_empty() {
            return Ok(());
        }
        f.write_str("{")?;
        for l in others {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{}={:?}", l.name, &*l.value)?;
        }
        f.write_str("}")
    }
}

/// Edits a label set; `build` sorts and deduplicates once.
#[derive(Debug, Clone, Default)]
pub struct LabelsBuilder {
    labels: Vec<Label>,
}

impl LabelsBuilder {
    /// Labels pushed already sorted by distinct names with no empty value (the strings of
    /// a set that was valid when stored), as a set without sorting them again.
    pub(crate) fn build_sorted(self) -> Labels {
        debug_assert!(self.labels.windows(2).all(|w| w[0].name < w[1].name));
        Labels(self.labels)
    }

    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(n: usize) -> Self {
        LabelsBuilder {
            labels: Vec::with_capacity(n),
        }
    }

    /// Sets a label; an empty value removes it.
    pub fn set(&mut self, name: &str, value: &str) -> &mut Self {
        self.labels.retain(|l| &*l.name != name);
        if !value.is_empty() {
            self.labels.push(Label {
                name: Arc::from(name),
                value: Arc::from(value),
            });
        }
        self
    }

    /// Sets a label from shared strings, without copying the text.
    pub fn set_shared(&mut self, name: Arc<str>, value: Arc<str>) -> &mut Self {
        self.labels.retain(|l| l.name != name);
        if !value.is_empty() {
            self.labels.push(Label { name, value });
        }
        self
    }

    /// Appends without checking for an existing label of that name: the caller guarantees
    /// uniqueness (the scrape path, whose parser already rejects duplicate names).
    pub fn push_unchecked(&mut self, name: Arc<str>, value: Arc<str>) -> &mut Self {
        if !value.is_empty() {
            self.labels.push(Label { name, value });
        }
        self
    }

    pub fn del(&mut self, name: &str) -> &mut Self {
        self.labels.retain(|l| &*l.name != name);
        self
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|l| &*l.name == name)
            .map(|l| &*l.value)
    }

    /// Keeps only the labels whose name satisfies `keep`.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) -> &mut Self {
        self.labels.retain(|l| keep(&l.name));
        self
    }

    pub fn build(mut self) -> Labels {
        self.labels.sort_by(|a, b| a.name.cmp(&b.name));
        // Keep the last value set for a name (stable sort keeps insertion order).
        let mut out: Vec<Label> = Vec::with_capacity(self.labels.len());
        for l in self.labels {
            match out.last_mut() {
                Some(last) if last.name == l.name => *last = l,
                _ => out.push(l),
            }
        }
        Labels(out)
    }
}

/// FNV-1a, 64 bit: small, fast on short keys, and stable everywhere.
pub(crate) struct Fnv64(u64);

impl Fnv64 {
    pub(crate) fn new() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
    pub(crate) fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    pub(crate) fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_sorts_dedups_and_drops_empty() {
        let l = Labels::from_pairs(&[("b", "2"), ("a", "1"), ("b", "3"), ("c", "")]);
        let got: Vec<(&str, &str)> = l.iter().map(|l| (&*l.name, &*l.value)).collect();
        assert_eq!(got, vec![("a", "1"), ("b", "3")]);
        assert_eq!(l.get("b"), Some("3"));
        assert_eq!(l.get("c"), None);
    }

    #[test]
    fn display_matches_prometheus_notation() {
        let l = Labels::from_pairs(&[("__name__", "up"), ("job", "a\"b")]);
        assert_eq!(l.to_string(), r#"up{job="a\"b"}"#);
        assert_eq!(Labels::from_pairs(&[("__name__", "up")]).to_string(), "up");
        assert_eq!(
            Labels::from_pairs(&[("job", "x")]).to_string(),
            r#"{job="x"}"#
        );
    }

    #[test]
    fn stable_hash_depends_on_content_only() {
        let a = Labels::from_pairs(&[("a", "1"), ("b", "2")]);
        let b = Labels::from_pairs(&[("b", "2"), ("a", "1")]);
        assert_eq!(a.stable_hash(), b.stable_hash());
        assert_ne!(
            a.stable_hash(),
            Labels::from_pairs(&[("a", "12")]).stable_hash()
        );
    }
}
