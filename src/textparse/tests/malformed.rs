//! Bodies that must be rejected, one case per line: the body, the 1-based line the error
//! must name, and a fragment of its message. Every case runs twice.

use super::{render_twice, Format};

fn check(format: Format, body: &str, line: usize, fragment: &str) {
    match render_twice(body, format) {
        Ok(got) => panic!("body {body:?} parsed as {got:?}"),
        Err(e) => {
            let msg = e.to_string();
            assert_eq!(e.line, line, "body {body:?}: {msg}");
            assert!(
                msg.contains(fragment),
                "body {body:?}: {msg:?} lacks {fragment:?}"
            );
            assert!(msg.starts_with(&format!("line {line}: ")), "{msg}");
        }
    }
}

#[test]
fn malformed_text_format() {
    let text =
        |body: &str, line: usize, fragment: &str| check(Format::PromText, body, line, fragment);
    text("a", 1, "missing sample value");
    text("a 1\n\nb", 3, "missing sample value");
    text("a x", 1, "invalid sample value");
    text("a 0x1p-3", 1, "invalid sample value");
    text("a 1\r\n", 1, "invalid sample value");
    text("1a 1", 1, "invalid metric name");
    text("a-b 1", 1, "invalid metric name");
    text("a.b 1", 1, "invalid metric name");
    text("{\"a.b\"} 1", 1, "quoted metric names are not supported");
    text("a{b=\"c\" 1", 1, "expected ',' or '}'");
    text("a{b=\"c\" d=\"e\"} 1", 1, "expected ',' or '}'");
    text("a{b=c} 1", 1, "expected '\"'");
    text("a{b} 1", 1, "expected '='");
    text("a{1b=\"c\"} 1", 1, "expected a label name");
    text("a{b=\"c\",,} 1", 1, "expected a label name");
    text("a{b=\"c} 1", 1, "unterminated label value");
    text("a{b=\"c\\\"} 1", 1, "unterminated label value");
    text("a{b=\"c\",b=\"d\"} 1", 1, "duplicate label name \"b\"");
    text("a 1 1.5", 1, "invalid timestamp");
    text("a 1 -5", 1, "invalid timestamp");
    text("a 1 99999999999999999999", 1, "timestamp out of range");
    text("a 1 123 x", 1, "unexpected text after the timestamp");
    text(
        "# HELP a x\n\n# TYPE a foo",
        3,
        "unknown metric type in \"# TYPE a foo\"",
    );
    text("# TYPE a", 1, "unknown metric type");
    text("# HELP 1a x", 1, "expected a metric name");
    text("# TYPE a-b gauge", 1, "expected a metric name");
}

#[test]
fn malformed_openmetrics() {
    let om =
        |body: &str, line: usize, fragment: &str| check(Format::OpenMetrics, body, line, fragment);
    om("", 1, "missing '# EOF'");
    om("a 1\n", 2, "missing '# EOF'");
    om("a 1\n\n# EOF", 2, "blank lines");
    om("a 1\n# EOF\na 2", 3, "text after '# EOF'");
    om("a 1\n# EOF\n\n", 3, "text after '# EOF'");
    om(
        "# comment\n# EOF",
        1,
        "a comment must be HELP, TYPE, UNIT or EOF",
    );
    om(" a 1\n# EOF", 1, "invalid metric name");
    om("a  1\n# EOF", 1, "missing sample value");
    om("a 1 \n# EOF", 1, "invalid timestamp");
    om("a\t1\n# EOF", 1, "invalid metric name");
    om("a{b=\"c\",} 1\n# EOF", 1, "expected a label name");
    om("a{b=\"c\", d=\"e\"} 1\n# EOF", 1, "expected a label name");
    om("a{b=\"c\"}1\n# EOF", 1, "expected ' ' after the label set");
    om("a 0x10\n# EOF", 1, "invalid sample value");
    om("a 1 1_0\n# EOF", 1, "invalid timestamp");
    om("# TYPE a untyped\n# EOF", 1, "unknown metric type");
    om("# TYPE a counter\na_total -1\n# EOF", 2, "non-negative");
    om("# TYPE a counter\na 1\n# EOF", 2, "must not appear twice");
    om("a 1\nb 1\na 2\n# EOF", 3, "must not appear twice");
    om("a 1\n# HELP a x\n# EOF", 2, "metadata must come before");
    om("# UNIT a_ms s\n# EOF", 1, "must end with '_' and the unit");
    om("a 1 # {x=\"y\"} 1\n# EOF", 1, "exemplars are only allowed");
    om(
        "# TYPE a counter\na_total 1 # {x=\"y\",x=\"z\"} 1\n# EOF",
        2,
        "duplicate label name \"x\"",
    );
    om(
        "# TYPE a counter\na_total 1 # {x=\"y\"}\n# EOF",
        2,
        "expected ' ' and a value",
    );
    om(
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\n# EOF",
        3,
        "needs a '+Inf' bucket",
    );
    om(
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\nh_sum 1\nh_count 2\n# EOF",
        5,
        "repeated",
    );
    om("# TYPE h histogram\nh_bucket{le=\"+Inf\",x=\"1\"} 1\nh_bucket{le=\"+Inf\",x=\"2\"} 1\nh_bucket{x=\"1\",le=\"+Inf\"} 1\n# EOF", 4, "grouped together");
    om(
        "# TYPE s summary\ns{quantile=\"2\"} 1\n# EOF",
        2,
        "from 0 to 1",
    );
    om("a 1 2\na 1 1\n# EOF", 2, "must not go backwards");
}

#[test]
fn error_display_quotes_the_line() {
    let err = render_twice("a 1\n\n# TYPE a foo", Format::PromText).unwrap_err();
    assert_eq!(
        err.to_string(),
        r##"line 3: unknown metric type in "# TYPE a foo""##
    );
    let long = format!("a{{b=\"{}\"}} x", "v".repeat(200));
    let err = render_twice(&long, Format::PromText).unwrap_err();
    let msg = err.to_string();
    assert!(msg.len() < 150 && msg.ends_with("...\""), "{msg}");
}

/// Past 16 labels the duplicate check sorts instead of comparing pairs; both paths agree.
#[test]
fn duplicate_labels_in_large_sets() {
    for n in [2, 16, 17, 40] {
        let mut labels: Vec<String> = (0..n).map(|i| format!("l{i}=\"v\"")).collect();
        labels.push("l1=\"again\"".to_owned());
        let body = format!("a{{{}}} 1", labels.join(","));
        check(Format::PromText, &body, 1, "duplicate label name \"l1\"");
        labels.pop();
        let body = format!("a{{{}}} 1", labels.join(","));
        assert!(render_twice(&body, Format::PromText).is_ok());
    }
}
