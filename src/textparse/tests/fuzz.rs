//! Robustness. Randomized: valid bodies mutated character by character must parse or fail
//! with an error naming a line of the body, never panic. Deterministic (fixed seed) and
//! bounded, so it runs in every `cargo test`.

use super::{render, Format};

/// Seed bodies: one of each construct of both formats.
const SEEDS: &[(Format, &str)] = &[
    (
        Format::PromText,
        "# HELP a_total A \\\\ help\\n.\n# TYPE a_total counter\na_total{m=\"GET\",c=\"2\\\"0\\n\"} 1.5e3 1700000000000\n\n  b{} -Inf\n",
    ),
    (
        Format::PromText,
        "# TYPE h histogram\nh_bucket{le=\"0.5\",} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.7\nh_count 2\n# comment\n",
    ),
    (
        Format::OpenMetrics,
        "# TYPE h histogram\n# UNIT h_seconds seconds\n# HELP h x\\\"y\nh_bucket{le=\"1\"} 0 # {t=\"1\"} 0.5 1.5\nh_bucket{le=\"+Inf\"} 3 2.5\nh_count 3 2.5\nh_sum 2 2.5\n# EOF\n",
    ),
    (
        Format::OpenMetrics,
        "# TYPE s summary\ns{quantile=\"0.5\"} NaN\ns_sum 1\ns_count 1\n# TYPE t stateset\nt{t=\"a\"} 1\n# TYPE i info\ni_info{v=\"é\"} 1\n# EOF",
    ),
];

/// Characters the mutations draw from: every delimiter of both grammars plus a multi-byte one.
const ALPHABET: &[char] = &[
    '{', '}', '"', '=', ',', '\\', ' ', '\t', '\n', '#', '.', '+', '-', 'e', 'E', '0', '1', '9',
    'a', '_', ':', 'I', 'n', 'f', 'N', 'é',
];

const ITERATIONS: u64 = 20_000;

/// xorshift64: a tiny deterministic generator, enough to spread mutations.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[test]
fn mutated_bodies_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut accepted, mut rejected) = (0, 0);
    for i in 0..ITERATIONS {
        let (format, seed) = SEEDS[i as usize % SEEDS.len()];
        let mut chars: Vec<char> = seed.chars().collect();
        for _ in 0..=rng.below(3) {
            let at = rng.below(chars.len() + 1);
            let c = ALPHABET[rng.below(ALPHABET.len())];
            match rng.below(3) {
                0 if at < chars.len() => chars[at] = c,
                1 if at < chars.len() => {
                    chars.remove(at);
                }
                _ => chars.insert(at, c),
            }
        }
        let body: String = chars.into_iter().collect();
        match render(&body, format) {
            Ok(_) => accepted += 1,
            Err(e) => {
                let lines = body.split('\n').count();
                assert!(
                    e.line >= 1 && e.line <= lines + 1,
                    "line {} of {lines} in {body:?}: {e}",
                    e.line
                );
                rejected += 1;
            }
        }
    }
    assert!(
        accepted > 0 && rejected > 0,
        "mutations too weak or too strong: {accepted} ok, {rejected} errors"
    );
}

/// One histogram group with many buckets, each bucket seen at two timestamps: the per-series
/// timestamp check must stay linear (a quadratic scan would take minutes here in debug).
#[test]
fn huge_histogram_group_stays_linear() {
    const BUCKETS: usize = 20_000;
    let mut body = String::from("# TYPE h histogram\n");
    for ts in [1, 2] {
        for i in 0..BUCKETS {
            body.push_str(&format!("h_bucket{{le=\"{i}\"}} {i} {ts}\n"));
        }
        body.push_str(&format!("h_bucket{{le=\"+Inf\"}} {BUCKETS} {ts}\n"));
    }
    body.push_str("# EOF\n");
    let rendered = render(&body, Format::OpenMetrics).unwrap();
    assert_eq!(rendered.matches('|').count(), 2 * (BUCKETS + 1));
}
