//! The exposition a simulated target serves: a realistic mix of metric families whose values
//! change every generation, rendered once per generation and shared by every target of a
//! simulator process (the scraper attaches `instance`, so identical bodies still make
//! distinct series per target).
//!
//! Layout for `series` S (at least ~25): one histogram of 12 series per 100 series
//! (`http_request_duration_seconds`, by handler), one summary of 5 series
//! (`rpc_duration_seconds`), S/10 gauges (`app_queue_depth`), `churn` counters whose label
//! value changes every generation (`app_session_requests_total`), and the rest counters
//! `http_requests_total{method,code,handler}`.

use std::fmt::Write;

const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];
const CODES: [&str; 5] = ["200", "201", "400", "404", "500"];
/// Upper bounds of the histogram buckets (the default client buckets, shortened).
const BUCKETS: [&str; 10] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf",
];
const QUANTILES: [&str; 3] = ["0.5", "0.9", "0.99"];

/// What a body contains; the same shape always gives the same series set (churn aside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyShape {
    pub series: usize,
    /// Series whose label value is new in every generation.
    pub churn: usize,
}

/// How many series of each family a shape gets: (histograms, gauges, counters).
fn split(shape: BodyShape) -> (usize, usize, usize) {
    let histograms = (shape.series / 100).max(1);
    let gauges = shape.series / 10;
    let fixed = histograms * 12 + 5 + gauges + shape.churn;
    (histograms, gauges, shape.series.saturating_sub(fixed))
}

/// A cheap deterministic mix, so values look irregular without a random generator.
fn mix(a: u64, b: u64) -> u64 {
    let mut x = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_add(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    x.wrapping_mul(0x94D0_49BB_1331_11EB) >> 40
}

/// Writes the text-format body of generation `generation` into `out` (cleared first).
pub fn render(shape: BodyShape, generation: u64, out: &mut String) {
    out.clear();
    let (histograms, gauges, counters) = split(shape);
    let g = generation;
    // Writing to a String cannot fail; the results are ignored for that reason.
    out.push_str("# HELP http_requests_total Requests handled, by method, code and handler.\n# TYPE http_requests_total counter\n");
    for i in 0..counters {
        let (m, c, h) = (i % 4, (i / 4) % 5, i / 20);
        let v = mix(i as u64, 1) + g * (1 + mix(i as u64, 2) % 50);
        let _ = writeln!(
            out,
            "http_requests_total{{method=\"{}\",code=\"{}\",handler=\"/api/v1/h{h}\"}} {v}",
            METHODS[m], CODES[c]
        );
    }
    out.push_str(
        "# HELP app_queue_depth Items waiting in a work queue.\n# TYPE app_queue_depth gauge\n",
    );
    for i in 0..gauges {
        let v = mix(i as u64, g) % 1000;
        let _ = writeln!(out, "app_queue_depth{{queue=\"q{i}\"}} {v}");
    }
    out.push_str("# HELP http_request_duration_seconds Request latency.\n# TYPE http_request_duration_seconds histogram\n");
    for h in 0..histograms {
        let mut cum = 0;
        for (j, le) in BUCKETS.iter().enumerate() {
            cum += (g + 1) * (1 + mix((h * 16 + j) as u64, 3) % 20);
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{handler=\"/api/v1/h{h}\",le=\"{le}\"}} {cum}"
            );
        }
        let sum = cum as f64 * 0.0375;
        let _ = writeln!(
            out,
            "http_request_duration_seconds_sum{{handler=\"/api/v1/h{h}\"}} {sum}\nhttp_request_duration_seconds_count{{handler=\"/api/v1/h{h}\"}} {cum}"
        );
    }
    out.push_str(
        "# HELP rpc_duration_seconds Backend call latency.\n# TYPE rpc_duration_seconds summary\n",
    );
    for (j, q) in QUANTILES.iter().enumerate() {
        let v = (1 + mix(g, j as u64) % 900) as f64 / 1000.0;
        let _ = writeln!(
            out,
            "rpc_duration_seconds{{service=\"db\",quantile=\"{q}\"}} {v}"
        );
    }
    let _ = writeln!(
        out,
        "rpc_duration_seconds_sum{{service=\"db\"}} {}\nrpc_duration_seconds_count{{service=\"db\"}} {}",
        (g * 17) as f64 * 0.013,
        g * 17
    );
    if shape.churn > 0 {
        out.push_str("# HELP app_session_requests_total Requests per short-lived session.\n# TYPE app_session_requests_total counter\n");
        for i in 0..shape.churn {
            let _ = writeln!(
                out,
                "app_session_requests_total{{session=\"s{g}-{i}\"}} {}",
                1 + mix(i as u64, g) % 100
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_have_the_requested_series_and_change_between_generations() {
        for (series, churn) in [(100, 0), (10_000, 0), (100, 25), (30, 0)] {
            let shape = BodyShape { series, churn };
            let (mut a, mut b) = (String::new(), String::new());
            render(shape, 1, &mut a);
            render(shape, 2, &mut b);
            let lines = a.lines().filter(|l| !l.starts_with('#')).count();
            assert_eq!(lines, series, "{series}");
            assert_ne!(a, b);
            let names = |s: &str| -> Vec<String> {
                s.lines()
                    .filter(|l| !l.starts_with('#'))
                    .map(|l| l.rsplit_once(' ').unwrap().0.to_string())
                    .collect()
            };
            let (na, nb) = (names(&a), names(&b));
            let changed = na.iter().zip(&nb).filter(|(x, y)| x != y).count();
            assert_eq!(changed, churn, "{series}");
            let mut dedup = na.clone();
            dedup.sort();
            dedup.dedup();
            assert_eq!(dedup.len(), na.len(), "duplicate series in {series}");
        }
    }
}
