//! One line per case: input labels, rules (YAML, as in prometheus.yml), expected output
//! (`None` = dropped).

use super::*;

type Pairs = &'static [(&'static str, &'static str)];

fn rules(yaml: &str) -> Vec<RelabelConfig> {
    let rules: Vec<RelabelConfig> = serde_yaml::from_str(yaml).unwrap();
    for r in &rules {
        r.validate().unwrap();
    }
    rules
}

#[track_caller]
fn check(input: Pairs, yaml: &str, want: Option<Pairs>) {
    let cfgs = rules(yaml);
    let got = relabel(&Labels::from_pairs(input), &cfgs);
    assert_eq!(got, want.map(Labels::from_pairs), "rules {yaml}");
    // Same answer on a second run: nothing is carried over between calls.
    assert_eq!(relabel(&Labels::from_pairs(input), &cfgs), got);
}

#[test]
#[rustfmt::skip]
fn replace() {
    check(&[("a", "foo")], "[{source_labels: [a], target_label: b}]", Some(&[("a", "foo"), ("b", "foo")]));
    check(&[("a", "foo-bar")], "[{source_labels: [a], regex: '(.*)-(.*)', target_label: c, replacement: '$2'}]", Some(&[("a", "foo-bar"), ("c", "bar")]));
    check(&[("a", "foo")], "[{source_labels: [a], regex: 'x.*', target_label: b}]", Some(&[("a", "foo")]));
    check(&[("a", "xfoo")], "[{source_labels: [a], regex: 'foo', target_label: b}]", Some(&[("a", "xfoo")]));
    check(&[("a", "foox")], "[{source_labels: [a], regex: 'foo', target_label: b}]", Some(&[("a", "foox")]));
    check(&[("a", "x")], "[{target_label: b, replacement: v}]", Some(&[("a", "x"), ("b", "v")]));
    check(&[("b", "old")], "[{source_labels: [missing], target_label: b}]", Some(&[]));
    check(&[("a", "x"), ("b", "y")], "[{source_labels: [a], target_label: b, replacement: ''}]", Some(&[("a", "x")]));
    check(&[("a", "1"), ("b", "2")], "[{source_labels: [a, b], separator: ',', regex: '(.*),(.*)', target_label: c, replacement: '$2-$1'}]", Some(&[("a", "1"), ("b", "2"), ("c", "2-1")]));
    check(&[("a", "1"), ("b", "2")], "[{source_labels: [a, b], target_label: c}]", Some(&[("a", "1"), ("b", "2"), ("c", "1;2")]));
    check(&[("b", "2")], "[{source_labels: [a, b], target_label: c}]", Some(&[("b", "2"), ("c", ";2")]));
    check(&[("a", "foo")], "[{source_labels: [a], target_label: c, replacement: '${1}x'}]", Some(&[("a", "foo"), ("c", "foox")]));
    check(&[("a", "foo"), ("c", "old")], "[{source_labels: [a], target_label: c, replacement: '$1x'}]", Some(&[("a", "foo")]));
    check(&[("a", "h:80")], "[{source_labels: [a], regex: '(?P<host>[^:]+):(?P<port>\\d+)', target_label: c, replacement: '${port}/${host}'}]", Some(&[("a", "h:80"), ("c", "80/h")]));
    check(&[("a", "bar")], "[{source_labels: [a], target_label: '${1}', replacement: v}]", Some(&[("a", "bar"), ("bar", "v")]));
    check(&[("a", "1bad")], "[{source_labels: [a], target_label: '$1', replacement: v}]", Some(&[("a", "1bad")]));
    check(&[("a", "x")], "[{source_labels: [a], target_label: '$1_', replacement: v}]", Some(&[("a", "x")]));
    check(&[("a", "x")], "[{source_labels: [a], target_label: 'l_${1}', replacement: v}]", Some(&[("a", "x"), ("l_x", "v")]));
    check(&[("a", "x")], "[{source_labels: [a], target_label: c, replacement: '$$1'}]", Some(&[("a", "x"), ("c", "$1")]));
    check(&[("a", "x")], "[{source_labels: [a], target_label: c, replacement: 'p$-q'}]", Some(&[("a", "x"), ("c", "p$-q")]));
    check(&[("a", "x"), ("c", "old")], "[{source_labels: [a], target_label: c, replacement: '$9'}]", Some(&[("a", "x")]));
    check(&[("__address__", "10.0.0.1:8080")], "[{source_labels: [__address__], regex: '(.+):\\d+', target_label: __address__, replacement: '${1}:9100'}]", Some(&[("__address__", "10.0.0.1:9100")]));
}

#[test]
#[rustfmt::skip]
fn keep_and_drop() {
    check(&[("a", "yes")], "[{action: keep, source_labels: [a], regex: 'yes|ok'}]", Some(&[("a", "yes")]));
    check(&[("a", "no")], "[{action: keep, source_labels: [a], regex: 'yes|ok'}]", None);
    check(&[("a", "yess")], "[{action: keep, source_labels: [a], regex: 'yes'}]", None);
    check(&[("b", "1")], "[{action: keep, source_labels: [a], regex: ''}]", Some(&[("b", "1")]));
    check(&[("b", "1")], "[{action: keep, source_labels: [a], regex: '.+'}]", None);
    check(&[("a", "yes")], "[{action: drop, source_labels: [a], regex: 'yes'}]", None);
    check(&[("a", "no")], "[{action: drop, source_labels: [a], regex: 'yes'}]", Some(&[("a", "no")]));
    check(&[("a", "x")], "[{action: drop}]", None);
    check(&[("a", "1"), ("b", "2")], "[{action: drop, source_labels: [a, b], regex: '1;2'}]", None);
}

#[test]
#[rustfmt::skip]
fn keepequal_and_dropequal() {
    check(&[("a", "1"), ("b", "1")], "[{action: keepequal, source_labels: [a], target_label: b}]", Some(&[("a", "1"), ("b", "1")]));
    check(&[("a", "1"), ("b", "2")], "[{action: keepequal, source_labels: [a], target_label: b}]", None);
    check(&[("c", "1")], "[{action: keepequal, source_labels: [a], target_label: b}]", Some(&[("c", "1")]));
    check(&[("a", "1"), ("b", "1")], "[{action: dropequal, source_labels: [a], target_label: b}]", None);
    check(&[("a", "1"), ("b", "2")], "[{action: dropequal, source_labels: [a], target_label: b}]", Some(&[("a", "1"), ("b", "2")]));
    check(&[("a", "1")], "[{action: dropequal, source_labels: [a], target_label: b}]", Some(&[("a", "1")]));
}

#[test]
fn hashmod_matches_prometheus() {
    // Expected values: last 8 bytes of MD5 as big-endian u64, modulo the modulus, computed
    // outside this code base (Python's hashlib); "baz" % 1000 = 976 is also the value in
    // Prometheus's own relabel tests.
    check(
        &[("c", "baz")],
        "[{action: hashmod, source_labels: [c], modulus: 1000, target_label: d}]",
        Some(&[("c", "baz"), ("d", "976")]),
    );
    check(
        &[("c", "foo")],
        "[{action: hashmod, source_labels: [c], modulus: 1000, target_label: d}]",
        Some(&[("c", "foo"), ("d", "696")]),
    );
    check(
        &[("a", "a"), ("b", "b")],
        "[{action: hashmod, source_labels: [a, b], modulus: 10, target_label: h}]",
        Some(&[("a", "a"), ("b", "b"), ("h", "4")]),
    );
    check(
        &[("x", "1")],
        "[{action: hashmod, source_labels: [a], modulus: 7, target_label: h}]",
        Some(&[("h", "1"), ("x", "1")]),
    );
    check(
        &[("__address__", "localhost:8000")],
        "[{action: hashmod, source_labels: [__address__], modulus: 4, target_label: s}]",
        Some(&[("__address__", "localhost:8000"), ("s", "1")]),
    );
    check(
        &[("__address__", "10.0.0.1:9100")],
        "[{action: hashmod, source_labels: [__address__], modulus: 3, target_label: s}]",
        Some(&[("__address__", "10.0.0.1:9100"), ("s", "2")]),
    );
    check(
        &[("a", "é")],
        "[{action: hashmod, source_labels: [a], modulus: 9223372036854775808, target_label: h}]",
        Some(&[("a", "é"), ("h", "8573598707969935215")]),
    );
}

#[test]
fn hash_is_last_eight_digest_bytes() {
    // md5("foo") = acbd18db4cc2f85cedef654fccc4a4d8; last 8 bytes = 0xedef654fccc4a4d8.
    assert_eq!(hash_of("foo"), 0xedef_654f_ccc4_a4d8);
    // md5("") = d41d8cd98f00b204e9800998ecf8427e.
    assert_eq!(hash_of(""), 0xe980_0998_ecf8_427e);
}

#[test]
#[rustfmt::skip]
fn labelmap() {
    check(&[("__meta_x", "1"), ("__meta_y", "2"), ("o", "3")], "[{action: labelmap, regex: '__meta_(.+)'}]", Some(&[ ("__meta_x", "1"), ("__meta_y", "2"), ("o", "3"), ("x", "1"), ("y", "2"), ]));
    check(&[("foo_bar", "v")], "[{action: labelmap, regex: '(foo)_.*'}]", Some(&[("foo", "v"), ("foo_bar", "v")]));
    check(&[("a", "old"), ("b_a", "new")], "[{action: labelmap, regex: 'b_(.*)'}]", Some(&[("a", "new"), ("b_a", "new")]));
    check(&[("k_x", "1")], "[{action: labelmap, regex: 'k_(.*)', replacement: 'm_$1'}]", Some(&[("k_x", "1"), ("m_x", "1")]));
    check(&[("xk_x", "1")], "[{action: labelmap, regex: 'k_(.*)', replacement: 'm_$1'}]", Some(&[("xk_x", "1")]));
}

#[test]
#[rustfmt::skip]
fn labeldrop_and_labelkeep() {
    check(&[("a", "1"), ("tmp_x", "2"), ("tmp_y", "3")], "[{action: labeldrop, regex: 'tmp_.*'}]", Some(&[("a", "1")]));
    check(&[("a", "1"), ("ab", "2")], "[{action: labeldrop, regex: 'a'}]", Some(&[("ab", "2")]));
    check(&[("a", "1"), ("b", "2"), ("c", "3")], "[{action: labelkeep, regex: 'a|b'}]", Some(&[("a", "1"), ("b", "2")]));
    check(&[("a", "1")], "[{action: labelkeep, regex: 'z'}]", Some(&[]));
}

#[test]
#[rustfmt::skip]
fn lowercase_and_uppercase() {
    check(&[("a", "FooÉ")], "[{action: lowercase, source_labels: [a], target_label: b}]", Some(&[("a", "FooÉ"), ("b", "fooé")]));
    check(&[("a", "fooé")], "[{action: uppercase, source_labels: [a], target_label: b}]", Some(&[("a", "fooé"), ("b", "FOOÉ")]));
    check(&[("a", "X"), ("b", "Y")], "[{action: lowercase, source_labels: [a, b], target_label: a}]", Some(&[("a", "x;y"), ("b", "Y")]));
    check(&[("b", "old")], "[{action: uppercase, source_labels: [missing], target_label: b}]", Some(&[]));
}

#[test]
#[rustfmt::skip]
fn rules_apply_in_order() {
    check(&[("a", "x")], "[{source_labels: [a], target_label: b}, {action: keepequal, source_labels: [a], target_label: b}, {action: dropequal, source_labels: [b], target_label: c}]", Some(&[("a", "x"), ("b", "x")]));
    check(&[("a", "x")], "[{source_labels: [a], target_label: b}, {action: labeldrop, regex: a}, {action: keep, source_labels: [a], regex: ''}]", Some(&[("b", "x")]));
    check(&[("a", "1")], "[]", Some(&[("a", "1")]));
    check(&[("__address__", "10.0.0.1:9100")], "[{action: hashmod, source_labels: [__address__], modulus: 3, target_label: __tmp_shard}, {action: keep, source_labels: [__tmp_shard], regex: '2'}, {action: labeldrop, regex: '__tmp_.*'}]", Some(&[("__address__", "10.0.0.1:9100")]));
    check(&[("__address__", "localhost:8000")], "[{action: hashmod, source_labels: [__address__], modulus: 4, target_label: __tmp_shard}, {action: keep, source_labels: [__tmp_shard], regex: '2'}]", None);
    check(&[("a", "x")], "[{action: drop, source_labels: [a], regex: x}, {target_label: b, replacement: never}]", None);
    check(&[("a", "x")], "[{source_labels: [a], target_label: b}, {source_labels: [b], target_label: c, replacement: '${1}y'}]", Some(&[("a", "x"), ("b", "x"), ("c", "xy")]));
}

#[test]
fn unvalidated_hashmod_without_modulus_is_a_no_op() {
    let cfg = RelabelConfig {
        action: Action::HashMod,
        source_labels: vec!["a".into()],
        target_label: "h".into(),
        ..RelabelConfig::default()
    };
    assert!(cfg.validate().is_err());
    let input = Labels::from_pairs(&[("a", "1")]);
    assert_eq!(relabel(&input, &[cfg]), Some(input));
}

#[test]
fn template_expansion_follows_go() {
    let re = regex::Regex::new("^(?:(?P<first>a+)(b*)(?P<third>x)?)$").unwrap();
    let caps = re.captures("aab").unwrap();
    // (template, expansion of a match of "aab")
    let cases: &[(&str, &str)] = &[
        ("", ""),
        ("plain", "plain"),
        ("$0", "aab"),
        ("$1", "aa"),
        ("${1}", "aa"),
        ("$2", "b"),
        ("$1x", ""),
        ("${1}x", "aax"),
        ("$first-$2", "aa-b"),
        ("${first}", "aa"),
        ("$third", ""),
        ("$3", ""),
        ("$9", ""),
        ("$01", ""),
        ("$$", "$"),
        ("$$1", "$1"),
        ("$", "$"),
        ("a$", "a$"),
        ("$-", "$-"),
        ("${1", "${1"),
        ("${}", "${}"),
        ("${nope}", ""),
        ("$1.$2", "aa.b"),
        ("$99999999999999999999", ""),
    ];
    for &(template, want) in cases {
        assert_eq!(expand_template(template, &re, &caps), want, "{template:?}");
    }
}
