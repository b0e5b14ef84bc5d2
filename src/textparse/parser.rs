//! The pull parser: one line per call, both formats.
//!
//! Contract: every slice in an [`Entry`] and from [`Parser::labels`] borrows the body, so it
//! stays valid after later calls; the label spans behind [`Parser::labels`] describe only the
//! sample returned last. After an error or the end, [`Parser::next`] keeps returning
//! `Ok(None)`: a scrape with one bad line is a failed scrape.

use std::borrow::Cow;

use super::lex::{self, LabelSpan};
use super::openmetrics::{Families, Meta};
use super::{Entry, Format, MetricType, ParseError, ParseErrorKind};

/// Label sets up to this size are checked for duplicate names pair by pair; larger ones are
/// sorted first, so a hostile line with thousands of labels costs n log n, not n².
const PAIRWISE_DUPLICATE_CHECK_MAX: usize = 16;

/// Longest exemplar label set, in characters of names plus values (OpenMetrics 1.0, Exemplars).
const EXEMPLAR_LABELS_MAX_CHARS: usize = 128;

/// Pull parser over one scrape body. See the module doc for why it lends slices.
pub struct Parser<'a> {
    body: &'a str,
    format: Format,
    /// Offset of the next unread line.
    pos: usize,
    /// 1-based number of the line read last.
    line: usize,
    finished: bool,
    /// Labels of the sample returned last.
    labels: Vec<LabelSpan>,
    /// Exemplar labels, validated and dropped.
    exemplar_labels: Vec<LabelSpan>,
    /// Scratch for the duplicate check of large label sets.
    names: Vec<&'a str>,
    families: Families<'a>,
}

impl<'a> Parser<'a> {
    pub fn new(body: &'a str, format: Format) -> Self {
        Parser {
            body,
            format,
            pos: 0,
            line: 0,
            finished: false,
            labels: Vec::new(),
            exemplar_labels: Vec::new(),
            names: Vec::new(),
            families: Families::default(),
        }
    }

    /// Next entry; `Ok(None)` at the end (for OpenMetrics: after `# EOF`, which is required).
    #[allow(clippy::should_implement_trait)] // fallible, so not an Iterator::next
    pub fn next(&mut self) -> Result<Option<Entry<'a>>, ParseError> {
        if self.finished {
            return Ok(None);
        }
        self.labels.clear();
        let entry = match self.format {
            Format::PromText => self.next_text(),
            Format::OpenMetrics => self.next_openmetrics(),
        };
        if !matches!(entry, Ok(Some(_))) {
            self.finished = true;
            self.labels.clear();
        }
        entry
    }

    /// Labels of the sample just returned (name excluded), values unescaped; appends to `out`.
    /// Cheap to skip: the scrape cache calls it only for series it has not seen (keyed by
    /// `series`). Appends nothing after a non-sample entry.
    pub fn labels(&self, out: &mut Vec<(&'a str, Cow<'a, str>)>) {
        for l in &self.labels {
            let raw = self.slice(l.value.clone());
            let value = if l.escaped {
                lex::unescape(raw, true)
            } else {
                Cow::Borrowed(raw)
            };
            out.push((self.slice(l.name.clone()), value));
        }
    }

    fn slice(&self, r: std::ops::Range<usize>) -> &'a str {
        self.body.get(r).unwrap_or_default()
    }

    /// The next line without its `\n`, and its offset in the body.
    fn next_line(&mut self) -> Option<(usize, &'a str)> {
        let rest = self.body.get(self.pos..).filter(|r| !r.is_empty())?;
        let start = self.pos;
        let line = match rest.find('\n') {
            Some(n) => {
                self.pos += n + 1;
                &rest[..n]
            }
            None => {
                self.pos = self.body.len();
                rest
            }
        };
        self.line += 1;
        Some((start, line))
    }

    fn error(&self, kind: ParseErrorKind, line: &str) -> ParseError {
        ParseError::new(self.line, kind, line)
    }

    fn syntax(&self, what: &'static str, line: &str) -> ParseError {
        self.error(ParseErrorKind::Syntax(what), line)
    }

    fn next_text(&mut self) -> Result<Option<Entry<'a>>, ParseError> {
        while let Some((start, line)) = self.next_line() {
            let b = line.as_bytes();
            let i = lex::skip_blanks(b, 0);
            match b.get(i) {
                None => continue,
                Some(b'#') => {
                    if let Some(entry) = self.text_comment(line, i + 1)? {
                        return Ok(Some(entry));
                    }
                }
                Some(_) => return self.text_sample(start, line, i).map(Some),
            }
        }
        Ok(None)
    }

    /// `# HELP` and `# TYPE` lines; any other comment yields `None`.
    fn text_comment(&self, line: &'a str, i: usize) -> Result<Option<Entry<'a>>, ParseError> {
        let b = line.as_bytes();
        let j = lex::skip_blanks(b, i);
        let keyword = line.get(j..j + 4).unwrap_or_default();
        if j == i
            || !matches!(keyword, "HELP" | "TYPE")
            || !matches!(b.get(j + 4), Some(b' ' | b'\t'))
        {
            return Ok(None);
        }
        let name_start = lex::skip_blanks(b, j + 4);
        let n = lex::metric_name_len(&b[name_start..]);
        let after = name_start + n;
        if n == 0 || !matches!(b.get(after), None | Some(b' ' | b'\t')) {
            return Err(self.syntax("expected a metric name after HELP or TYPE", line));
        }
        let metric = &line[name_start..after];
        let text = line.get(after + 1..).unwrap_or_default();
        if keyword == "HELP" {
            let text = lex::unescape(text, false);
            return Ok(Some(Entry::Help { metric, text }));
        }
        let kind = match text.trim_matches([' ', '\t']) {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "summary" => MetricType::Summary,
            "untyped" => MetricType::Unknown,
            _ => return Err(self.syntax("unknown metric type", line)),
        };
        Ok(Some(Entry::Type { metric, kind }))
    }

    fn text_sample(
        &mut self,
        start: usize,
        line: &'a str,
        i: usize,
    ) -> Result<Entry<'a>, ParseError> {
        let b = line.as_bytes();
        let n = lex::metric_name_len(&b[i..]);
        if n == 0 {
            let what = if b.get(i) == Some(&b'{') {
                "quoted metric names are not supported"
            } else {
                "invalid metric name"
            };
            return Err(self.syntax(what, line));
        }
        let name = &line[i..i + n];
        let mut end = i + n;
        let k = lex::skip_blanks(b, end);
        if b.get(k) == Some(&b'{') {
            end = lex::scan_labels(b, k + 1, start, false, &mut self.labels)
                .map_err(|what| self.syntax(what, line))?;
            self.check_duplicates(line)?;
        } else if k == end && k < b.len() {
            return Err(self.syntax("invalid metric name", line));
        }
        let series = &line[i..end];
        let v0 = lex::skip_blanks(b, end);
        let v1 = token_end(b, v0);
        if v0 == v1 {
            return Err(self.syntax("missing sample value", line));
        }
        let value = lex::parse_text_value(&line[v0..v1])
            .ok_or_else(|| self.syntax("invalid sample value", line))?;
        let t0 = lex::skip_blanks(b, v1);
        let t1 = token_end(b, t0);
        let mut timestamp_ms = None;
        if t0 < t1 {
            let ts = &line[t0..t1];
            if !ts.bytes().all(|c| c.is_ascii_digit()) {
                return Err(self.syntax("invalid timestamp (integer milliseconds expected)", line));
            }
            timestamp_ms = Some(
                ts.parse()
                    .map_err(|_| self.syntax("timestamp out of range", line))?,
            );
            if lex::skip_blanks(b, t1) != b.len() {
                return Err(self.syntax("unexpected text after the timestamp", line));
            }
        }
        Ok(Entry::Sample {
            series,
            name,
            value,
            timestamp_ms,
        })
    }

    fn next_openmetrics(&mut self) -> Result<Option<Entry<'a>>, ParseError> {
        let Some((start, line)) = self.next_line() else {
            self.line += 1;
            return Err(self.syntax("missing '# EOF' at the end of the body", ""));
        };
        match line.as_bytes().first() {
            None => Err(self.syntax("blank lines are not allowed in OpenMetrics", line)),
            Some(b'#') => self.openmetrics_comment(line),
            Some(_) => self.openmetrics_sample(start, line).map(Some),
        }
    }

    fn openmetrics_comment(&mut self, line: &'a str) -> Result<Option<Entry<'a>>, ParseError> {
        if line == "# EOF" {
            self.families.finish().map_err(|k| self.error(k, line))?;
            if let Some((_, next)) = self.next_line() {
                return Err(self.syntax("text after '# EOF'", next));
            }
            return Ok(None);
        }
        let keyword = line.get(..7).unwrap_or_default();
        if !matches!(keyword, "# HELP " | "# TYPE " | "# UNIT ") {
            return Err(self.syntax(
                "a comment must be HELP, TYPE, UNIT or EOF in OpenMetrics",
                line,
            ));
        }
        let b = line.as_bytes();
        let n = lex::metric_name_len(&b[7..]);
        if n == 0 {
            return Err(self.syntax("expected a metric name", line));
        }
        if b.get(7 + n) != Some(&b' ') {
            return Err(self.syntax("expected ' ' after the metric name", line));
        }
        let metric = &line[7..7 + n];
        let rest = &line[8 + n..];
        let (entry, meta) = match keyword {
            "# HELP " => {
                let text = lex::unescape(rest, true);
                (Entry::Help { metric, text }, Meta::Help)
            }
            "# TYPE " => {
                let kind = om_type(rest).ok_or_else(|| self.syntax("unknown metric type", line))?;
                (Entry::Type { metric, kind }, Meta::Type(kind))
            }
            _ => {
                if !rest
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
                {
                    return Err(self.syntax("invalid unit", line));
                }
                (Entry::Unit { metric, unit: rest }, Meta::Unit(rest))
            }
        };
        self.families
            .metadata(metric, meta)
            .map_err(|k| self.error(k, line))?;
        Ok(Some(entry))
    }

    fn openmetrics_sample(&mut self, start: usize, line: &'a str) -> Result<Entry<'a>, ParseError> {
        let b = line.as_bytes();
        let n = lex::metric_name_len(b);
        if n == 0 {
            return Err(self.syntax("invalid metric name", line));
        }
        let name = &line[..n];
        let mut end = n;
        if b.get(end) == Some(&b'{') {
            end = lex::scan_labels(b, end + 1, start, true, &mut self.labels)
                .map_err(|what| self.syntax(what, line))?;
            self.check_duplicates(line)?;
        }
        let series = &line[..end];
        match b.get(end) {
            Some(b' ') => {}
            None => return Err(self.syntax("missing sample value", line)),
            Some(_) if end == n => return Err(self.syntax("invalid metric name", line)),
            Some(_) => return Err(self.syntax("expected ' ' after the label set", line)),
        }
        let v1 = space_end(b, end + 1);
        if v1 == end + 1 {
            return Err(self.syntax("missing sample value", line));
        }
        let value = lex::parse_om_number(&line[end + 1..v1])
            .ok_or_else(|| self.syntax("invalid sample value", line))?;
        let mut timestamp = None;
        let mut exemplar = false;
        let mut k = v1 + 1;
        if k <= b.len() && b.get(k) != Some(&b'#') {
            let t1 = space_end(b, k);
            timestamp = Some(
                lex::parse_om_real(&line[k..t1])
                    .ok_or_else(|| self.syntax("invalid timestamp", line))?,
            );
            k = t1 + 1;
        }
        if k <= b.len() {
            if b.get(k) != Some(&b'#') {
                return Err(self.syntax("unexpected text after the timestamp", line));
            }
            self.exemplar(line, start, k)?;
            exemplar = true;
        }
        let sample = super::openmetrics::Sample {
            name,
            series,
            value,
            timestamp,
            exemplar,
        };
        self.families
            .sample(&sample, &self.labels, self.body)
            .map_err(|k| self.error(k, line))?;
        Ok(Entry::Sample {
            series,
            name,
            value,
            timestamp_ms: timestamp.map(lex::seconds_to_ms),
        })
    }

    /// Validates the exemplar starting at `k` (the `#`): `# {labels} value [timestamp]`.
    fn exemplar(&mut self, line: &'a str, start: usize, k: usize) -> Result<(), ParseError> {
        let b = line.as_bytes();
        if line.get(k..k + 3) != Some("# {") {
            return Err(self.syntax("malformed exemplar (expected '# {')", line));
        }
        self.exemplar_labels.clear();
        let end = lex::scan_labels(b, k + 3, start, true, &mut self.exemplar_labels)
            .map_err(|what| self.syntax(what, line))?;
        let mut chars = 0;
        for (i, l) in self.exemplar_labels.iter().enumerate() {
            let name = self.slice(l.name.clone());
            let earlier = &self.exemplar_labels[..i];
            if earlier.iter().any(|e| self.slice(e.name.clone()) == name) {
                return Err(self.error(ParseErrorKind::DuplicateLabel(name.to_owned()), line));
            }
            chars += name.len()
                + lex::unescape(self.slice(l.value.clone()), true)
                    .chars()
                    .count();
        }
        if chars > EXEMPLAR_LABELS_MAX_CHARS {
            return Err(self.syntax("exemplar labels longer than 128 characters", line));
        }
        if b.get(end) != Some(&b' ') {
            return Err(self.syntax("expected ' ' and a value after the exemplar labels", line));
        }
        let v1 = space_end(b, end + 1);
        lex::parse_om_number(&line[end + 1..v1])
            .ok_or_else(|| self.syntax("invalid exemplar value", line))?;
        if v1 < b.len() {
            lex::parse_om_real(&line[v1 + 1..])
                .ok_or_else(|| self.syntax("invalid exemplar timestamp", line))?;
        }
        Ok(())
    }

    fn check_duplicates(&mut self, line: &str) -> Result<(), ParseError> {
        let dup = if self.labels.len() <= PAIRWISE_DUPLICATE_CHECK_MAX {
            self.labels.iter().enumerate().find_map(|(i, l)| {
                let name = self.slice(l.name.clone());
                self.labels[..i]
                    .iter()
                    .any(|e| self.slice(e.name.clone()) == name)
                    .then_some(name)
            })
        } else {
            let mut names = std::mem::take(&mut self.names);
            names.clear();
            names.extend(self.labels.iter().map(|l| self.slice(l.name.clone())));
            names.sort_unstable();
            let dup = names.windows(2).find(|w| w[0] == w[1]).map(|w| w[0]);
            self.names = names;
            dup
        };
        match dup {
            Some(name) => Err(self.error(ParseErrorKind::DuplicateLabel(name.to_owned()), line)),
            None => Ok(()),
        }
    }
}

/// End of the token starting at `i`: the next space, tab or the end of the line.
fn token_end(b: &[u8], i: usize) -> usize {
    b.get(i..)
        .and_then(|rest| rest.iter().position(|c| matches!(c, b' ' | b'\t')))
        .map_or(b.len(), |n| i + n)
}

/// End of the OpenMetrics token starting at `i`: the next space or the end of the line.
fn space_end(b: &[u8], i: usize) -> usize {
    b.get(i..)
        .and_then(|rest| rest.iter().position(|c| *c == b' '))
        .map_or(b.len(), |n| i + n)
}

fn om_type(s: &str) -> Option<MetricType> {
    Some(match s {
        "counter" => MetricType::Counter,
        "gauge" => MetricType::Gauge,
        "histogram" => MetricType::Histogram,
        "gaugehistogram" => MetricType::GaugeHistogram,
        "summary" => MetricType::Summary,
        "info" => MetricType::Info,
        "stateset" => MetricType::StateSet,
        "unknown" => MetricType::Unknown,
        _ => return None,
    })
}
