//! Byte-level scanning shared by both formats: names, label blocks, escapes and numbers.
//!
//! Every function works on the bytes of one line and returns offsets into it; the parser turns
//! offsets into slices of the body. All delimiters are ASCII, so every offset returned here is
//! a UTF-8 character boundary.

use std::borrow::Cow;
use std::ops::Range;

/// Length of the metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`) at the start of `b`, 0 if none.
pub(super) fn metric_name_len(b: &[u8]) -> usize {
    match b.first() {
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' || *c == b':' => b
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_' || *c == b':'))
            .unwrap_or(b.len()),
        _ => 0,
    }
}

/// Length of the label name (`[a-zA-Z_][a-zA-Z0-9_]*`) at the start of `b`, 0 if none.
pub(super) fn label_name_len(b: &[u8]) -> usize {
    match b.first() {
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' => b
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
            .unwrap_or(b.len()),
        _ => 0,
    }
}

/// One label of a label block, as offsets into the body.
#[derive(Debug, Clone)]
pub(super) struct LabelSpan {
    pub name: Range<usize>,
    /// Between the quotes, still escaped.
    pub value: Range<usize>,
    pub escaped: bool,
}

/// Scans a label block. `b` is the line, `i` the offset just after `{`, `base` the offset of
/// the line in the body (added to the spans). `strict` is the OpenMetrics grammar: no
/// whitespace anywhere and no trailing comma. Returns the offset just after `}`.
pub(super) fn scan_labels(
    b: &[u8],
    mut i: usize,
    base: usize,
    strict: bool,
    out: &mut Vec<LabelSpan>,
) -> Result<usize, &'static str> {
    let skip_ws = |i: usize| {
        if strict {
            i
        } else {
            skip_blanks(b, i)
        }
    };
    i = skip_ws(i);
    if b.get(i) == Some(&b'}') {
        return Ok(i + 1);
    }
    loop {
        let n = label_name_len(&b[i.min(b.len())..]);
        if n == 0 {
            return Err("expected a label name");
        }
        let name = base + i..base + i + n;
        i = skip_ws(i + n);
        if b.get(i) != Some(&b'=') {
            return Err("expected '=' after the label name");
        }
        i = skip_ws(i + 1);
        if b.get(i) != Some(&b'"') {
            return Err("expected '\"' to open the label value");
        }
        let (end, escaped) = scan_quoted(b, i + 1).ok_or("unterminated label value")?;
        out.push(LabelSpan {
            name,
            value: base + i + 1..base + end,
            escaped,
        });
        i = skip_ws(end + 1);
        match b.get(i) {
            Some(b'}') => return Ok(i + 1),
            Some(b',') => {
                i = skip_ws(i + 1);
                if !strict && b.get(i) == Some(&b'}') {
                    return Ok(i + 1);
                }
            }
            _ => return Err("expected ',' or '}' after the label value"),
        }
    }
}

/// Finds the closing quote of a quoted string whose content starts at `i`. Returns its offset
/// and whether the content holds a backslash escape.
fn scan_quoted(b: &[u8], mut i: usize) -> Option<(usize, bool)> {
    let mut escaped = false;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => return Some((i, escaped)),
            b'\\' => {
                escaped = true;
                i += 2;
            }
            _ => i += 1,
        }
    }
    None
}

/// Offset of the first byte at or after `i` that is not a space or a tab.
pub(super) fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    i
}

/// Undoes `\\`, `\n` and (when `quote` is set) `\"`. Any other backslash is kept as written,
/// as Prometheus and the OpenMetrics reference parser do.
pub(super) fn unescape(s: &str, quote: bool) -> Cow<'_, str> {
    if !s.contains('\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if quote => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// A sample value in the text format: whatever Rust's float syntax takes (the same set as Go's
/// `strconv.ParseFloat` that Prometheus uses, minus hex floats): `NaN`, `+Inf`, `-Inf`, `Inf`,
/// exponents.
pub(super) fn parse_text_value(s: &str) -> Option<f64> {
    s.parse().ok()
}

/// A number in the OpenMetrics grammar: a decimal real number with optional sign, fraction and
/// exponent, or case-insensitive `inf`/`infinity` with optional sign, or `nan`. Hex, octal,
/// binary and underscores are rejected even though a generic float parser might take them.
pub(super) fn parse_om_number(s: &str) -> Option<f64> {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    if unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity") {
        return s.parse().ok();
    }
    if s.eq_ignore_ascii_case("nan") {
        return Some(f64::NAN);
    }
    parse_om_real(s)
}

/// A real number in the OpenMetrics grammar (no infinities, no NaN): timestamps use it.
pub(super) fn parse_om_real(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let int_digits = count_digits(b, i);
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        frac_digits = count_digits(b, i + 1);
        i += 1 + frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        i += usize::from(matches!(b.get(i), Some(b'+' | b'-')));
        let exp_digits = count_digits(b, i);
        if exp_digits == 0 {
            return None;
        }
        i += exp_digits;
    }
    if i != b.len() {
        return None;
    }
    s.parse().ok()
}

fn count_digits(b: &[u8], from: usize) -> usize {
    b.get(from..).map_or(0, |rest| {
        rest.iter().take_while(|c| c.is_ascii_digit()).count()
    })
}

/// A label value that must be a float (`le`, `quantile`) in OpenMetrics: a real number or
/// exactly `+Inf`/`-Inf`; NaN and other spellings of infinity are refused, as the conformance
/// suite expects.
pub(super) fn parse_om_label_float(s: &str) -> Option<f64> {
    match s {
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => parse_om_real(s),
    }
}

/// Float seconds to milliseconds, rounded to the nearest millisecond; values beyond the `i64`
/// range saturate (the conformance suite has a 20-digit timestamp that must be accepted).
pub(super) fn seconds_to_ms(secs: f64) -> i64 {
    // `as` saturates for out-of-range floats; NaN cannot reach here (parse_om_real).
    (secs * 1000.0).round() as i64
}
