//! `$1` / `${1}` / `${name}` expansion in relabel templates, with the rules of Go's
//! `regexp.Expand` (which Prometheus uses), since they differ from the `regex` crate's in
//! corner cases: names are runs of Unicode letters, digits and `_`; a number with a leading
//! zero is looked up as a name; unknown groups expand to nothing; `$$` is a `$`; a `$` that
//! starts no valid reference is kept as it is.

use regex::{Captures, Regex};

/// Expands `template` with the groups of `caps`, a match of `re`.
pub fn expand_template(template: &str, re: &Regex, caps: &Captures<'_>) -> String {
    if !template.contains('$') {
        return template.to_string();
    }
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        match reference(rest) {
            Some((name, after)) => {
                out.push_str(group(name, re, caps));
                rest = after;
            }
            // Malformed reference: the `$` stays literal.
            None => out.push('$'),
        }
    }
    out.push_str(rest);
    out
}

/// Splits a reference (`name...` or `{name}...`, after the `$`) into the name and the rest.
fn reference(s: &str) -> Option<(&str, &str)> {
    let (braced, body) = match s.strip_prefix('{') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let len: usize = body
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .map(char::len_utf8)
        .sum();
    if len == 0 {
        return None;
    }
    let name = &body[..len];
    let rest = &body[len..];
    if braced {
        return rest.strip_prefix('}').map(|r| (name, r));
    }
    Some((name, rest))
}

/// The text of group `name` (a number or a group name), or "" when there is no such
/// group or it did not participate in the match.
fn group<'t>(name: &str, re: &Regex, caps: &Captures<'t>) -> &'t str {
    let numeric =
        name.bytes().all(|b| b.is_ascii_digit()) && !(name.starts_with('0') && name.len() > 1);
    let m = if numeric {
        // Go caps numbers at 1e8; anything that large names no group anyway.
        name.parse::<usize>().ok().and_then(|n| caps.get(n))
    } else {
        // The first group of that name that took part in the match, as Go does.
        re.capture_names()
            .enumerate()
            .filter(|(_, n)| *n == Some(name))
            .find_map(|(i, _)| caps.get(i))
    };
    m.map_or("", |m| m.as_str())
}
