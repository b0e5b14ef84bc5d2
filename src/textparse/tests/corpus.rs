//! Bodies that must parse, one case per line: the body and the rendering of its entries (see
//! `render`), `|`-separated. Every case runs twice.

use super::{render_twice, Format};
use crate::textparse::{Entry, Parser};

fn check(format: Format, body: &str, want: &str) {
    match render_twice(body, format) {
        Ok(got) => assert_eq!(got, want, "body {body:?}"),
        Err(e) => panic!("body {body:?} failed: {e}"),
    }
}

#[test]
fn text_format_corpus() {
    let text = |body: &str, want: &str| check(Format::PromText, body, want);
    text("", "");
    text("a 1", "a 1");
    text("a 1\n", "a 1");
    text("  a \t 1 \t\n", "a 1");
    text("\n\na 1\n\n\nb 2\n\n", "a 1|b 2");
    text("a{} 1", "a 1");
    text(r#"a{b="c",} 1"#, r#"a{b="c"} 1"#);
    text(r#"a { b = "c" , d="e" , } 1"#, r#"a{b="c",d="e"} 1"#);
    text(r#"a{b="c"}1"#, r#"a{b="c"} 1"#);
    text(
        r#"a{b="q\"t",c="b\\s",d="n\nl",e="\z"} 1"#,
        r#"a{b="q\"t",c="b\\s",d="n\nl",e="\\z"} 1"#,
    );
    text(r#"a{b="x}y,#z=1 é"} 1"#, r#"a{b="x}y,#z=1 é"} 1"#);
    text("job:rate5m:sum 3", "job:rate5m:sum 3");
    text("_a 1\n__b 2", "_a 1|__b 2");
    text(
        "a NaN\nb +Inf\nc -Inf\nd Inf\ne nan",
        "a NaN|b inf|c -inf|d inf|e NaN",
    );
    text(
        "a 1e3\nb -1.5E-3\nc .5\nd 1.\ne +7",
        "a 1000|b -0.0015|c 0.5|d 1|e 7",
    );
    text("a 18446744073709551615", "a 18446744073709552000");
    text("a 1 1700000000000\nb 2 0", "a 1 @1700000000000|b 2 @0");
    text("a\t1\t123\t", "a 1 @123");
    text(
        "# HELP a some\\ntext \\\\ x\n# TYPE a counter\na 1",
        r#"HELP a "some\ntext \\ x"|TYPE a counter|a 1"#,
    );
    text(r#"# HELP a say \"hi\""#, r#"HELP a "say \\\"hi\\\"""#);
    text("# HELP a\n# HELP b  two", r#"HELP a ""|HELP b " two""#);
    text(
        "#\tTYPE a gauge  \n# TYPE b untyped",
        "TYPE a gauge|TYPE b unknown",
    );
    text(
        "# random comment\n#HELP x y\n# EOF\n# UNIT a_s s\na 1",
        "a 1",
    );
    text(
        "# TYPE h histogram\nh_bucket{le=\"0.1\"} 1\nh_bucket{le=\"+Inf\"} 3\nh_sum 4.5\nh_count 3",
        r#"TYPE h histogram|h_bucket{le="0.1"} 1|h_bucket{le="+Inf"} 3|h_sum 4.5|h_count 3"#,
    );
    text(
        "# TYPE s summary\ns{quantile=\"0.5\"} NaN\ns{quantile=\"0.99\"} 2\ns_sum 9\ns_count 4",
        r#"TYPE s summary|s{quantile="0.5"} NaN|s{quantile="0.99"} 2|s_sum 9|s_count 4"#,
    );
}

#[test]
fn openmetrics_corpus() {
    let om = |body: &str, want: &str| check(Format::OpenMetrics, body, want);
    om("# EOF", "");
    om("# EOF\n", "");
    om("a 1\n# EOF", "a 1");
    om(
        "# TYPE a counter\n# HELP a h\na_total 1\n# EOF\n",
        r#"TYPE a counter|HELP a "h"|a_total 1"#,
    );
    om(
        "# TYPE a_seconds gauge\n# UNIT a_seconds seconds\na_seconds 1.5\n# EOF\n",
        "TYPE a_seconds gauge|UNIT a_seconds seconds|a_seconds 1.5",
    );
    om("# HELP a \n# UNIT a \n# EOF\n", r#"HELP a ""|UNIT a "#);
    om("# HELP a x\\\"y\\\\z\\n\n# EOF", r#"HELP a "x\"y\\z\n""#);
    om(
        "a 1 1.5\nb 1 1700000000.123\nc 1 -1.5\nd 1 1e3\n# EOF",
        "a 1 @1500|b 1 @1700000000123|c 1 @-1500|d 1 @1000000",
    );
    om(
        "a 1 12345678901234567890.5\n# EOF",
        "a 1 @9223372036854775807",
    );
    om(
        "a 0 1\na 1 1\na 2 2\n# EOF",
        "a 0 @1000|a 1 @1000|a 2 @2000",
    );
    om(
        "a{b=\"q\\\"t\",c=\"\\\\\",d=\"\\n\"} 1\n# EOF",
        r#"a{b="q\"t",c="\\",d="\n"} 1"#,
    );
    om(
        "# TYPE a counter\na_total{x=\"1\"} 1 # {trace_id=\"abc\"} 0.5 123.4\na_total{x=\"2\"} 2 5 # {} 1\na_created{x=\"2\"} 1\n# EOF",
        r#"TYPE a counter|a_total{x="1"} 1|a_total{x="2"} 2 @5000|a_created{x="2"} 1"#,
    );
    om(
        "# TYPE h histogram\nh_bucket{le=\"0.1\"} 1 # {t=\"a # b\"} 0.05\nh_bucket{le=\"+Inf\"} 3\nh_count 3\nh_sum 4\n# EOF",
        r#"TYPE h histogram|h_bucket{le="0.1"} 1|h_bucket{le="+Inf"} 3|h_count 3|h_sum 4"#,
    );
    om(
        "# TYPE g gaugehistogram\ng_bucket{le=\"-1\"} 1\ng_bucket{le=\"+Inf\"} 2\ng_gcount 2\ng_gsum -3\n# EOF",
        r#"TYPE g gaugehistogram|g_bucket{le="-1"} 1|g_bucket{le="+Inf"} 2|g_gcount 2|g_gsum -3"#,
    );
    om(
        "# TYPE s summary\ns{quantile=\"0.5\"} NaN\ns{quantile=\"1\"} 2\ns_sum 9\ns_count 4\n# EOF",
        r#"TYPE s summary|s{quantile="0.5"} NaN|s{quantile="1"} 2|s_sum 9|s_count 4"#,
    );
    om(
        "# TYPE st stateset\nst{st=\"a\"} 1\nst{st=\"b\"} 0\n# TYPE i info\ni_info{v=\"1.0\"} 1\n# EOF",
        r#"TYPE st stateset|st{st="a"} 1|st{st="b"} 0|TYPE i info|i_info{v="1.0"} 1"#,
    );
    om(
        "a +Inf\nb -Inf\nc NaN\nd infinity\ne 0001.5e-1\n# EOF",
        "a inf|b -inf|c NaN|d inf|e 0.15",
    );
}

/// `series` is the raw metric name plus label block, byte for byte, so the scrape cache can
/// key on it; different spellings of one label set are different keys.
#[test]
fn series_is_raw_text() {
    let cases: &[(Format, &str, &[&str])] = &[
        (
            Format::PromText,
            "a 1\na{} 2\na { b = \"c\" ,} 3 4",
            &["a", "a{}", "a { b = \"c\" ,}"],
        ),
        (Format::PromText, "a{b=\"\\\"\"} 1", &["a{b=\"\\\"\"}"]),
        (
            Format::OpenMetrics,
            "a{b=\"c\"} 1 2\n# EOF",
            &["a{b=\"c\"}"],
        ),
    ];
    for &(format, body, want) in cases {
        for _ in 0..2 {
            let mut parser = Parser::new(body, format);
            let mut got = Vec::new();
            while let Some(entry) = parser.next().unwrap() {
                if let Entry::Sample { series, .. } = entry {
                    got.push(series);
                }
            }
            assert_eq!(got, want, "body {body:?}");
        }
    }
}

/// Labels are those of the sample returned last, and nothing after a metadata entry; the
/// parse is the same whether or not they are read.
#[test]
fn labels_follow_the_last_entry() {
    let body = "a{x=\"1\"} 1\n# TYPE b gauge\nb 2\n";
    let mut parser = Parser::new(body, Format::PromText);
    let mut labels = Vec::new();
    parser.next().unwrap();
    parser.labels(&mut labels);
    assert_eq!(labels.len(), 1);
    labels.clear();
    parser.next().unwrap();
    parser.labels(&mut labels);
    assert!(labels.is_empty());
    parser.next().unwrap();
    parser.labels(&mut labels);
    assert!(labels.is_empty());
    assert_eq!(parser.next().unwrap(), None);
}

#[test]
fn format_from_content_type() {
    let cases = [
        (
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::OpenMetrics,
        ),
        ("application/openmetrics-text", Format::OpenMetrics),
        (
            "Application/OpenMetrics-Text ;version=0.0.1",
            Format::OpenMetrics,
        ),
        ("text/plain; version=0.0.4; charset=utf-8", Format::PromText),
        ("", Format::PromText),
        ("application/json", Format::PromText),
    ];
    for (ct, want) in cases {
        assert_eq!(Format::from_content_type(ct), want, "{ct:?}");
    }
}

/// Regression: the OpenMetrics grouping check once summed raw FNV hashes per label, and label
/// sets differing in two last bytes (`code="201",handler="r0"` against `code="200",
/// handler="r1"`) collided, so a plain counter family was rejected as badly grouped.
#[test]
fn similar_label_sets_are_distinct_groups() {
    let mut body = String::from("# TYPE req counter\n");
    for h in 0..30 {
        for m in ["GET", "POST", "PUT", "DELETE"] {
            for c in 200..210 {
                body.push_str(&format!(
                    "req_total{{method=\"{m}\",code=\"{c}\",handler=\"/r{h}\"}} 1\n"
                ));
            }
        }
    }
    body.push_str("# EOF\n");
    let rendered = render_twice(&body, Format::OpenMetrics).unwrap();
    assert_eq!(rendered.matches('|').count(), 30 * 4 * 10);
}

/// Label values borrow the body unless they hold an escape.
#[test]
fn labels_borrow_unless_escaped() {
    use std::borrow::Cow;
    for format in [Format::PromText, Format::OpenMetrics] {
        let body = "a{b=\"c\",d=\"e\\\\f\"} 1\n# EOF\n";
        let mut parser = Parser::new(body, format);
        assert!(matches!(parser.next().unwrap(), Some(Entry::Sample { .. })));
        let mut labels = Vec::new();
        parser.labels(&mut labels);
        assert!(
            matches!(&labels[0], ("b", Cow::Borrowed("c"))),
            "{labels:?}"
        );
        assert!(
            matches!(&labels[1], ("d", Cow::Owned(v)) if v == "e\\f"),
            "{labels:?}"
        );
    }
}
