//! Tokenizer for PromQL. Every token carries the byte offset where it starts, so the parser
//! can report errors as `line:col` the way Prometheus does.

use super::ParseError;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    Number(f64),
    /// A duration literal such as `5m` or `1h30m`, in milliseconds.
    Duration(i64),
    Str(String),
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Colon,
    At,
    Assign,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Eql,
    Neq,
    Lss,
    Gtr,
    Lte,
    Gte,
    EqlRegex,
    NeqRegex,
    /// `</`: keep only histogram buckets below a bound.
    TrimUpper,
    /// `>/`: keep only histogram buckets above a bound.
    TrimLower,
    Eof,
}

impl Tok {
    /// How the token reads in an error message, in Prometheus's words.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("identifier {s:?}"),
            Tok::Number(_) => "number".to_string(),
            Tok::Duration(_) => "duration".to_string(),
            Tok::Str(s) => format!("string {s:?}"),
            Tok::LParen => "\"(\"".to_string(),
            Tok::RParen => "\")\"".to_string(),
            Tok::LBrace => "\"{\"".to_string(),
            Tok::RBrace => "\"}\"".to_string(),
            Tok::LBracket => "\"[\"".to_string(),
            Tok::RBracket => "\"]\"".to_string(),
            Tok::Comma => "\",\"".to_string(),
            Tok::Colon => "\":\"".to_string(),
            Tok::At => "\"@\"".to_string(),
            Tok::Assign => "\"=\"".to_string(),
            Tok::Eof => "end of input".to_string(),
            op => format!("operator {:?}", op_text(op)),
        }
    }
}

fn op_text(t: &Tok) -> &'static str {
    match t {
        Tok::Add => "+",
        Tok::Sub => "-",
        Tok::Mul => "*",
        Tok::Div => "/",
        Tok::Mod => "%",
        Tok::Pow => "^",
        Tok::Eql => "==",
        Tok::Neq => "!=",
        Tok::Lss => "<",
        Tok::Gtr => ">",
        Tok::Lte => "<=",
        Tok::Gte => ">=",
        Tok::EqlRegex => "=~",
        Tok::NeqRegex => "!~",
        Tok::TrimUpper => "</",
        Tok::TrimLower => ">/",
        _ => "?",
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub pos: usize,
}

/// Splits the whole input into tokens up front; PromQL expressions are short.
pub fn tokenize(input: &str) -> Result<Vec<Token>, ParseError> {
    let b = input.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        let two = if i + 1 < b.len() { b[i + 1] } else { 0 };
        let (tok, len) = match c {
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            b'{' => (Tok::LBrace, 1),
            b'}' => (Tok::RBrace, 1),
            b'[' => (Tok::LBracket, 1),
            b']' => (Tok::RBracket, 1),
            b',' => (Tok::Comma, 1),
            b':' => (Tok::Colon, 1),
            b'@' => (Tok::At, 1),
            b'+' => (Tok::Add, 1),
            b'-' => (Tok::Sub, 1),
            b'*' => (Tok::Mul, 1),
            b'/' => (Tok::Div, 1),
            b'%' => (Tok::Mod, 1),
            b'^' => (Tok::Pow, 1),
            b'=' if two == b'=' => (Tok::Eql, 2),
            b'=' if two == b'~' => (Tok::EqlRegex, 2),
            b'=' => (Tok::Assign, 1),
            b'!' if two == b'=' => (Tok::Neq, 2),
            b'!' if two == b'~' => (Tok::NeqRegex, 2),
            b'<' if two == b'=' => (Tok::Lte, 2),
            b'<' if two == b'/' => (Tok::TrimUpper, 2),
            b'<' => (Tok::Lss, 1),
            b'>' if two == b'=' => (Tok::Gte, 2),
            b'>' if two == b'/' => (Tok::TrimLower, 2),
            b'>' => (Tok::Gtr, 1),
            b'"' | b'\'' | b'`' => {
                let (s, len) = lex_string(input, i)?;
                (Tok::Str(s), len)
            }
            b'0'..=b'9' | b'.' => lex_number(input, i)?,
            _ if is_ident_start(c) => {
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b':')
                {
                    j += 1;
                }
                let word = &input[i..j];
                let lower = word.to_ascii_lowercase();
                let tok = match lower.as_str() {
                    "inf" => Tok::Number(f64::INFINITY),
                    "nan" => Tok::Number(f64::NAN),
                    _ => Tok::Ident(word.to_string()),
                };
                (tok, j - i)
            }
            _ => {
                let ch = input[i..].chars().next().unwrap_or('?');
                return Err(ParseError::at(
                    input,
                    i,
                    format!("unexpected character: {ch:?}"),
                ));
            }
        };
        out.push(Token { tok, pos: start });
        i += len;
    }
    out.push(Token {
        tok: Tok::Eof,
        pos: input.len(),
    });
    Ok(out)
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

/// Reads a quoted string starting at `start` with Go's escape rules; backquotes are raw.
/// `\x` and octal escapes give raw bytes, as in Go; bytes that do not form UTF-8 become
/// U+FFFD, which label-name checks then reject.
fn lex_string(input: &str, start: usize) -> Result<(String, usize), ParseError> {
    let quote = input.as_bytes()[start] as char;
    let mut out: Vec<u8> = Vec::new();
    let mut chars = input[start + 1..].char_indices();
    let push = |out: &mut Vec<u8>, c: char| {
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    };
    while let Some((off, ch)) = chars.next() {
        if ch == quote {
            let s = match String::from_utf8(out) {
                Ok(s) => s,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            };
            return Ok((s, off + 2));
        }
        if ch == '\n' && quote != '`' {
            break;
        }
        if ch != '\\' || quote == '`' {
            push(&mut out, ch);
            continue;
        }
        let Some((_, esc)) = chars.next() else { break };
        let simple = match esc {
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\u{b}'),
            '\\' => Some('\\'),
            '"' | '\'' if esc == quote => Some(esc),
            _ => None,
        };
        if let Some(c) = simple {
            push(&mut out, c);
            continue;
        }
        let digits = match esc {
            'x' => 2,
            'u' => 4,
            'U' => 8,
            '0'..='7' => 2,
            _ => {
                return Err(ParseError::at(
                    input,
                    start + 1 + off,
                    format!("unknown escape sequence {:?}", format!("\\{esc}")),
                ))
            }
        };
        let mut code = String::new();
        if esc.is_ascii_digit() {
            code.push(esc);
        }
        for _ in 0..digits {
            match chars.next() {
                Some((_, d)) => code.push(d),
                None => break,
            }
        }
        let bad = || {
            ParseError::at(
                input,
                start + 1 + off,
                format!("invalid escape sequence {:?}", format!("\\{esc}{code}")),
            )
        };
        if esc == 'x' || esc.is_ascii_digit() {
            let radix = if esc == 'x' { 16 } else { 8 };
            let b = u8::from_str_radix(&code, radix).map_err(|_| bad())?;
            out.push(b);
        } else {
            let c = u32::from_str_radix(&code, 16)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(bad)?;
            push(&mut out, c);
        }
    }
    Err(ParseError::at(
        input,
        start,
        "unterminated quoted string".into(),
    ))
}

/// Reads a number (decimal, hex, exponent) or a duration (`1h30m`, `500ms`).
fn lex_number(input: &str, start: usize) -> Result<(Tok, usize), ParseError> {
    let b = input.as_bytes();
    let mut j = start;
    if b[j] == b'0' && j + 1 < b.len() && (b[j + 1] == b'x' || b[j + 1] == b'X') {
        j += 2;
        while j < b.len() && b[j].is_ascii_hexdigit() {
            j += 1;
        }
        let v = i64::from_str_radix(&input[start + 2..j], 16)
            .map_err(|_| ParseError::at(input, start, "bad number".into()))?;
        return Ok((Tok::Number(v as f64), j - start));
    }
    // A duration is digits followed by a unit, possibly repeated.
    if let Some(len) = duration_len(&b[start..]) {
        let text = &input[start..start + len];
        let ms = parse_duration(text)
            .ok_or_else(|| ParseError::at(input, start, format!("bad duration {text:?}")))?;
        return Ok((Tok::Duration(ms), len));
    }
    while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'.') {
        j += 1;
    }
    if j < b.len() && (b[j] == b'e' || b[j] == b'E') {
        let mut k = j + 1;
        if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
            k += 1;
        }
        if k < b.len() && b[k].is_ascii_digit() {
            while k < b.len() && b[k].is_ascii_digit() {
                k += 1;
            }
            j = k;
        }
    }
    if j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
        return Err(ParseError::at(
            input,
            start,
            format!("bad number or duration syntax: {:?}", &input[start..=j]),
        ));
    }
    let text = &input[start..j];
    let v: f64 = text
        .parse()
        .map_err(|_| ParseError::at(input, start, format!("bad number {text:?}")))?;
    Ok((Tok::Number(v), j - start))
}

/// Length of a duration literal at the start of `b`, if there is one.
fn duration_len(b: &[u8]) -> Option<usize> {
    let mut j = 0;
    let mut units = 0;
    loop {
        let d0 = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j == d0 {
            break;
        }
        let ul = unit_len(&b[j..]);
        if ul == 0 {
            if units == 0 {
                return None;
            }
            j = d0;
            break;
        }
        j += ul;
        units += 1;
    }
    if units == 0 || (j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'.'))
    {
        return None;
    }
    Some(j)
}

fn unit_len(b: &[u8]) -> usize {
    match b {
        [b'm', b's', ..] => 2,
        [b's' | b'm' | b'h' | b'd' | b'w' | b'y', ..] => 1,
        _ => 0,
    }
}

/// Parses a Prometheus duration (`1h30m`, `500ms`, `2d`) into milliseconds. Units must come
/// in decreasing order and each at most once, as Prometheus requires.
pub fn parse_duration(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if s == "0" {
        return Some(0);
    }
    let mut j = 0;
    let mut total: i64 = 0;
    let mut last_rank = usize::MAX;
    while j < b.len() {
        let d0 = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j == d0 {
            return None;
        }
        let n: i64 = s[d0..j].parse().ok()?;
        let ul = unit_len(&b[j..]);
        let (mult, rank) = match &s[j..j + ul] {
            "y" => (365 * 24 * 3_600_000, 0),
            "w" => (7 * 24 * 3_600_000, 1),
            "d" => (24 * 3_600_000, 2),
            "h" => (3_600_000, 3),
            "m" => (60_000, 4),
            "s" => (1000, 5),
            "ms" => (1, 6),
            _ => return None,
        };
        if last_rank != usize::MAX && rank <= last_rank {
            return None;
        }
        last_rank = rank;
        total = total.checked_add(n.checked_mul(mult)?)?;
        j += ul;
    }
    Some(total)
}

/// Formats milliseconds the way Prometheus prints durations (`1h30m`, `500ms`, `0s`).
pub fn format_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".to_string();
    }
    let (sign, mut ms) = if ms < 0 { ("-", -ms) } else { ("", ms) };
    let mut out = String::from(sign);
    for (unit, size) in [
        ("y", 365 * 24 * 3_600_000i64),
        ("w", 7 * 24 * 3_600_000),
        ("d", 24 * 3_600_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ] {
        if ms >= size {
            out.push_str(&format!("{}{unit}", ms / size));
            ms %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for (s, want) in [
            ("5m", Some(300_000)),
            ("1h30m", Some(5_400_000)),
            ("500ms", Some(500)),
            ("1m1h", None),
            ("0", Some(0)),
        ] {
            assert_eq!(parse_duration(s), want, "{s}");
        }
        assert_eq!(format_duration(5_400_000), "1h30m");
        assert_eq!(format_duration(0), "0s");
    }

    #[test]
    fn tokens() {
        let t = tokenize("rate(x{a=~\"b\"}[5m]) >= 1e3").unwrap();
        let kinds: Vec<Tok> = t.into_iter().map(|t| t.tok).collect();
        assert_eq!(kinds[5], Tok::EqlRegex);
        assert!(kinds.contains(&Tok::Duration(300_000)));
        assert!(kinds.contains(&Tok::Number(1000.0)));
    }
}
