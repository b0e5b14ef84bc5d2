//! Differential test against the `prometheus-parse` crate on text-format bodies.
//!
//! Both parsers are rendered to the same flat form, one string per sample:
//! `name{k="v",...}[bound] value @ts` with labels sorted and the histogram `le` or summary
//! `quantile` pulled out as the bound (`prometheus-parse` folds buckets and quantiles into one
//! value per metric). Where it parses correctly the two must agree; the lossy cases below pin
//! what it gets wrong, as observed with prometheus-parse 0.2.5.

use std::collections::{BTreeMap, HashMap};

use chrono::TimeZone;
use prometheus_parse::{Scrape, Value};

use crate::textparse::{Entry, Format, MetricType, Parser};

/// What `prometheus-parse` stamps on samples without a (parseable) timestamp; no case uses
/// this value as a real timestamp.
const SCRAPE_TIME_MS: i64 = 4_102_444_800_000;

fn flat(
    name: &str,
    labels: &BTreeMap<String, String>,
    bound: Option<f64>,
    value: f64,
    ts: Option<i64>,
) -> String {
    let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    let mut s = format!("{name}{{{}}}", pairs.join(","));
    if let Some(b) = bound {
        s.push_str(&format!("[{b}]"));
    }
    s.push_str(&format!(" {value}"));
    if let Some(ts) = ts {
        s.push_str(&format!(" @{ts}"));
    }
    s
}

/// Our samples and HELP texts, flattened. Panics on a parse error (callers pass good bodies).
fn ours(body: &str) -> (Vec<String>, BTreeMap<String, String>) {
    let mut parser = Parser::new(body, Format::PromText);
    let mut types = HashMap::new();
    let mut docs = BTreeMap::new();
    let mut out = Vec::new();
    while let Some(entry) = parser.next().unwrap() {
        match entry {
            Entry::Help { metric, text } => {
                docs.insert(metric.to_owned(), text.into_owned());
            }
            Entry::Type { metric, kind } => {
                types.insert(metric, kind);
            }
            Entry::Unit { .. } => {}
            Entry::Sample {
                name,
                value,
                timestamp_ms,
                ..
            } => {
                let mut labels = Vec::new();
                parser.labels(&mut labels);
                let mut map: BTreeMap<String, String> = labels
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.into_owned()))
                    .collect();
                let histogram = name
                    .strip_suffix("_bucket")
                    .is_some_and(|base| types.get(base) == Some(&MetricType::Histogram));
                let summary = types.get(name) == Some(&MetricType::Summary);
                let bound = match (histogram, summary) {
                    (true, _) => map.remove("le"),
                    (_, true) => map.remove("quantile"),
                    _ => None,
                };
                let bound = bound.map(|b| b.to_lowercase().parse::<f64>().unwrap());
                out.push(flat(name, &map, bound, value, timestamp_ms));
            }
        }
    }
    out.sort();
    (out, docs)
}

/// The same, from `prometheus-parse`.
fn theirs(body: &str) -> (Vec<String>, BTreeMap<String, String>) {
    let scrape_time = chrono::Utc.timestamp_millis_opt(SCRAPE_TIME_MS).unwrap();
    let lines = body.lines().map(|l| Ok(l.to_owned()));
    let scrape = Scrape::parse_at(lines, scrape_time).unwrap();
    let mut out = Vec::new();
    for s in &scrape.samples {
        let labels: BTreeMap<String, String> = s
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let ts = Some(s.timestamp.timestamp_millis()).filter(|t| *t != SCRAPE_TIME_MS);
        match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => {
                out.push(flat(&s.metric, &labels, None, *v, ts))
            }
            Value::Histogram(buckets) => {
                let name = format!("{}_bucket", s.metric);
                for b in buckets {
                    out.push(flat(&name, &labels, Some(b.less_than), b.count, ts));
                }
            }
            Value::Summary(quantiles) => {
                for q in quantiles {
                    out.push(flat(&s.metric, &labels, Some(q.quantile), q.count, ts));
                }
            }
        }
    }
    out.sort();
    (out, scrape.docs.into_iter().collect())
}

/// Bodies within what `prometheus-parse` handles: both parsers must give the same samples
/// and HELP texts.
#[test]
fn agrees_with_prometheus_parse() {
    let cases = [
        "a 1",
        "a 1 1700000000000\nb{x=\"y\"} -2.5e-3 5",
        "a NaN\nb +Inf\nc -Inf\nd 1e10",
        "  a   1  \n\n\nb\t2",
        "# HELP req_total Requests served.\n# TYPE req_total counter\nreq_total{method=\"GET\",code=\"200\"} 1027\nreq_total{method=\"POST\",code=\"500\"} 3",
        "# TYPE temp gauge\ntemp{room=\"kitchen north\"} 21.5",
        "# TYPE h histogram\nh_bucket{le=\"0.05\"} 24054\nh_bucket{le=\"0.1\"} 33444\nh_bucket{le=\"+Inf\"} 144320\nh_sum 53423\nh_count 144320",
        "# TYPE h histogram\nh_bucket{path=\"/a\",le=\"1\"} 1\nh_bucket{path=\"/a\",le=\"+Inf\"} 2\nh_bucket{path=\"/b\",le=\"+Inf\"} 5",
        "# TYPE s summary\ns{quantile=\"0.5\"} 4773\ns{quantile=\"0.99\"} 76656\ns_sum 1.7560473e+07\ns_count 2693",
        "a{b=\"c\",} 1\n# a comment\nc{d=\"é ü\"} 3",
    ];
    for body in cases {
        let (want, want_docs) = theirs(body);
        for _ in 0..2 {
            let (got, got_docs) = ours(body);
            assert_eq!(got, want, "samples of {body:?}");
            assert_eq!(got_docs, want_docs, "help texts of {body:?}");
        }
    }
}

/// Where `prometheus-parse` is lossy or wrong: the body, what we return, what it returns.
#[test]
fn prometheus_parse_lossy_cases() {
    let cases: &[(&str, &[&str], &[&str])] = &[
        // Escaped quote and backslash are kept escaped.
        (
            r#"a{b="q\"t\\"} 1"#,
            &[r#"a{b="q\"t\\"} 1"#],
            &[r#"a{b="q\\\"t\\\\"} 1"#],
        ),
        // Splitting on ',' and '=' cuts values that hold them.
        (r#"a{b="x,y"} 1"#, &[r#"a{b="x,y"} 1"#], &[r#"a{b="x"} 1"#]),
        (
            r#"a{b="x=y",c="d"} 1"#,
            &[r#"a{b="x=y",c="d"} 1"#],
            &[r#"a{c="d"} 1"#],
        ),
        // An empty label block, a '}' inside a value and a ':' in the name drop the sample.
        ("a{} 1", &["a{} 1"], &[]),
        (r#"a{b="}"} 1"#, &[r#"a{b="}"} 1"#], &[]),
        ("job:rate5m:sum 1", &["job:rate5m:sum{} 1"], &[]),
    ];
    for (body, want_ours, want_theirs) in cases {
        assert_eq!(ours(body).0, *want_ours, "ours on {body:?}");
        assert_eq!(theirs(body).0, *want_theirs, "prometheus-parse on {body:?}");
    }
    // HELP text is not unescaped.
    assert_eq!(ours("# HELP a x\\ny").1["a"], "x\ny");
    assert_eq!(theirs("# HELP a x\\ny").1["a"], "x\\ny");
    // Bad lines are skipped without an error, so a broken scrape looks like a smaller one.
    assert!(theirs("a{b=\"c\" 1\nb 2\nc zz").0 == ["b{} 2"]);
    // A negative timestamp (which Prometheus refuses) is taken.
    assert_eq!(theirs("a 1 -5").0, ["a{} 1 @-5"]);
    // OpenMetrics float timestamps are dropped for the scrape time, `# EOF` and exemplars
    // pass as comments or as a bad timestamp.
    let om = "a 1 1.5\n# TYPE b counter\nb_total 2 # {t=\"x\"} 1\n# EOF";
    assert_eq!(theirs(om).0, ["a{} 1", "b_total{} 2"]);
}
