//! Parser cases: each input is parsed, printed, and parsed again (the printed form must be
//! stable), or must fail with the given message.

use super::parse;

#[test]
fn round_trips() {
    let cases = [
        ("foo", "foo"),
        ("foo{a=\"b\", c!~\"d\"}", "foo{a=\"b\", c!~\"d\"}"),
        ("{__name__=~\"a|b\"}", "{__name__=~\"a|b\"}"),
        ("rate(x[5m])", "rate(x[5m])"),
        ("x offset -5m", "x offset -5m"),
        ("x @ start()", "x @ start()"),
        ("x @ 100", "x @ 100.000"),
        ("sum(x) by (job)", "sum by (job) (x)"),
        ("topk(3, x)", "topk(3, x)"),
        ("a + on(b) group_left(c) d", "a + on (b) group_left (c) d"),
        ("1 + 2 * 3", "1 + 2 * 3"),
        ("2 ^ 3 ^ 2", "2 ^ 3 ^ 2"),
        ("-x", "-x"),
        ("x[5m+1m]", "x[5m + 1m]"),
        ("x offset (2*2m)", "x offset (2 * 2m)"),
        ("sum_over_time(x[1h:5m])", "sum_over_time(x[1h:5m])"),
        ("a > bool 1", "a > bool 1"),
        ("{\"my.metric\"}", "{\"my.metric\"}"),
        (
            "label_replace(x, \"a\", \"tab\\there\", \"b\", \"\\x01\")",
            "label_replace(x, \"a\", \"tab\\there\", \"b\", \"\\x01\")",
        ),
        (
            "x + fill_left(1) fill_right(2) y",
            "x + fill_left (1) fill_right (2) y",
        ),
        ("rate(x[5m] anchored)", "rate(x[5m] anchored)"),
        ("x smoothed", "x smoothed"),
        ("Inf - inf + 1e-7 + 2e21", "+Inf - +Inf + 1e-07 + 2e+21"),
    ];
    for (input, want) in cases {
        let e = parse(input).unwrap_or_else(|err| panic!("{input}: {err}"));
        assert_eq!(e.to_string(), want, "{input}");
        let again = parse(&e.to_string()).unwrap();
        assert_eq!(again.to_string(), want, "{input} (second round)");
    }
}

#[test]
fn precedence() {
    let cases = [
        ("1 + 2 * 3", "1 + 2 * 3"),
        ("-2 ^ 2", "-2 ^ 2"),
        ("a or b and c", "a or b and c"),
    ];
    for (input, want) in cases {
        assert_eq!(parse(input).unwrap().to_string(), want);
    }
    // `^` is right-associative: 2^(3^2), not (2^3)^2.
    match parse("2 ^ 3 ^ 2").unwrap() {
        super::Expr::Binary { rhs, .. } => assert!(matches!(*rhs, super::Expr::Binary { .. })),
        other => panic!("not binary: {other:?}"),
    }
}

#[test]
fn errors() {
    let cases = [
        ("rate(x)", "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector"),
        ("sum(", "1:5: parse error: unclosed left parenthesis"),
        ("sum(rate(", "1:10: parse error: unclosed left parenthesis"),
        ("(1))", "1:4: parse error: unexpected right parenthesis ')'"),
        ("x[5m", "1:5: parse error: unclosed left bracket"),
        ("x{a=\"b\"", "1:8: parse error: unexpected end of input inside braces"),
        ("x offset 1s offset 2s", "1:13: parse error: offset may not be set multiple times"),
        ("\n  foo +", "2:8: parse error: unexpected end of input"),
        ("{}", "1:1: parse error: vector selector must contain at least one non-empty matcher"),
        ("1 > 2", "1:3: parse error: comparisons between scalars must use BOOL modifier"),
        ("x + ", "1:5: parse error: unexpected end of input"),
        ("nope(x)", "1:1: parse error: unknown function with name \"nope\""),
        ("sum(x[5m])", "1:1: parse error: expected type instant vector in aggregation expression, got range vector"),
        ("1 and x", "1:3: parse error: set operator \"and\" not allowed in binary scalar expression"),
    ];
    for (input, want) in cases {
        let err = parse(input).expect_err(input);
        assert_eq!(err.to_string(), want, "{input}");
    }
}

/// Random token soup must give an error or an expression, never a panic.
#[test]
fn garbage_never_panics() {
    const PIECES: &[&str] = &[
        "x",
        "{",
        "}",
        "[",
        "]",
        "(",
        ")",
        ",",
        ":",
        "@",
        "5m",
        "1",
        "-",
        "+",
        "*",
        "/",
        "^",
        "%",
        "==",
        "=~",
        "!~",
        "=",
        "\"a\"",
        "'b'",
        "`c`",
        "sum",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "bool",
        "offset",
        "rate",
        "start()",
        "end()",
        "step()",
        "é",
        "\\",
        "#",
        "\n",
        "0x",
        "1e",
        ".",
        "Inf",
        "NaN",
        "</",
        ">/",
        "fill",
        "anchored",
        "smoothed",
        "\"\\x",
        "topk",
        "min_of",
        "info",
    ];
    // A fixed linear congruential sequence keeps the test deterministic.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..20_000 {
        let mut q = String::new();
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let len = (seed >> 60) as usize + 1;
        for _ in 0..len {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            q.push_str(PIECES[(seed >> 33) as usize % PIECES.len()]);
            if seed & 1 == 0 {
                q.push(' ');
            }
        }
        if let Ok(e) = parse(&q) {
            // Whatever parses must print to something that parses again.
            let printed = e.to_string();
            assert!(parse(&printed).is_ok(), "{q:?} printed as {printed:?}");
        }
    }
}
