//! Throughput of the exposition-format parser on a realistic 1,000-series scrape.
//!
//! Run: `cargo bench --bench parse` (add `-- --quick` for a short run). Criterion reports
//! bytes per second in the `parse_bytes` group and samples per second in `parse_samples`.
//!
//! The fixture is what an instrumented web service exposes: request counters by method,
//! code and handler, gauges, a latency histogram per handler and an RPC summary, each family
//! with HELP and TYPE. Cases:
//! - `pyrometer/cached`: every sample, labels not read (a scrape whose series are all in the
//!   scrape cache, the steady state);
//! - `pyrometer/labels`: every sample and its labels (a first scrape, every series new);
//! - `pyrometer/openmetrics`: the same body in OpenMetrics with its family checks, labels
//!   not read;
//! - `prometheus-parse`: the crate kept as a test oracle, on the text body, for the ratio.
//!
//! Reference (2026-11, shared 2-core machine, so ±40% between runs): the 74 KB text body in
//! 86–200 µs (5–11 M samples/s), OpenMetrics 280–460 µs, prometheus-parse 1.8–2.2 ms.

use std::fmt::Write;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pyrometer::textparse::{Entry, Format, Parser};

const METHODS: [&str; 4] = ["GET", "POST", "PUT", "DELETE"];
const CODES: [&str; 5] = ["200", "201", "400", "404", "500"];
/// Bucket bounds of the Go client's default histogram (`prometheus.DefBuckets`).
const BUCKETS: [&str; 11] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
];

/// The fixture: 600 counters + 200 gauges + 10 histograms of 14 series + 8 summaries of 7
/// series + 4 process gauges = 1,000 series. `openmetrics` switches to OpenMetrics naming
/// (counter families without `_total`) and appends `# EOF`.
fn fixture(openmetrics: bool) -> String {
    let mut b = String::new();
    let counter = if openmetrics {
        "http_requests"
    } else {
        "http_requests_total"
    };
    writeln!(
        b,
        "# HELP {counter} Total number of HTTP requests by method, code and handler."
    )
    .unwrap();
    writeln!(b, "# TYPE {counter} counter").unwrap();
    let mut n = 0u64;
    for h in 0..30 {
        for m in METHODS {
            for c in CODES {
                n = n * 6364136223846793005 % 1_000_003 + 17;
                writeln!(b, "http_requests_total{{method=\"{m}\",code=\"{c}\",handler=\"/api/v1/resource{h}\"}} {n}").unwrap();
            }
        }
    }
    writeln!(
        b,
        "# HELP worker_queue_depth Items waiting in each worker queue."
    )
    .unwrap();
    writeln!(b, "# TYPE worker_queue_depth gauge").unwrap();
    for q in 0..200 {
        writeln!(
            b,
            "worker_queue_depth{{pool=\"pool{}\",queue=\"q{q}\"}} {}.{}",
            q % 7,
            q * 3,
            q % 10
        )
        .unwrap();
    }
    writeln!(
        b,
        "# HELP http_request_duration_seconds Latency of HTTP requests."
    )
    .unwrap();
    writeln!(b, "# TYPE http_request_duration_seconds histogram").unwrap();
    for h in 0..10 {
        let mut count = 0;
        for (i, le) in BUCKETS.iter().enumerate() {
            count += 100 + i * h;
            writeln!(b, "http_request_duration_seconds_bucket{{handler=\"/api/v1/resource{h}\",le=\"{le}\"}} {count}").unwrap();
        }
        writeln!(b, "http_request_duration_seconds_bucket{{handler=\"/api/v1/resource{h}\",le=\"+Inf\"}} {count}").unwrap();
        writeln!(
            b,
            "http_request_duration_seconds_sum{{handler=\"/api/v1/resource{h}\"}} {}.25",
            count / 3
        )
        .unwrap();
        writeln!(
            b,
            "http_request_duration_seconds_count{{handler=\"/api/v1/resource{h}\"}} {count}"
        )
        .unwrap();
    }
    writeln!(b, "# HELP rpc_duration_seconds RPC latency quantiles.").unwrap();
    writeln!(b, "# TYPE rpc_duration_seconds summary").unwrap();
    for s in 0..8 {
        for q in ["0.5", "0.9", "0.95", "0.99", "0.999"] {
            writeln!(
                b,
                "rpc_duration_seconds{{service=\"svc{s}\",quantile=\"{q}\"}} 1.{s}e-3"
            )
            .unwrap();
        }
        writeln!(b, "rpc_duration_seconds_sum{{service=\"svc{s}\"}} 1234.5").unwrap();
        writeln!(b, "rpc_duration_seconds_count{{service=\"svc{s}\"}} 98765").unwrap();
    }
    for (name, v) in [
        ("process_resident_memory_bytes", "2.3068672e+07"),
        ("process_open_fds", "42"),
        ("process_start_time_seconds", "1.70000000012e+09"),
        ("go_goroutines", "117"),
    ] {
        writeln!(
            b,
            "# HELP {name} Process statistic.\n# TYPE {name} gauge\n{name} {v}"
        )
        .unwrap();
    }
    if openmetrics {
        b.push_str("# EOF\n");
    }
    b
}

/// Parses `body`, returning the sample count; `labels` also reads every label set.
fn parse(body: &str, format: Format, labels: bool) -> usize {
    let mut parser = Parser::new(body, format);
    let mut buf = Vec::new();
    let mut samples = 0;
    while let Some(entry) = parser.next().unwrap_or_else(|e| panic!("fixture: {e}")) {
        if let Entry::Sample { series, value, .. } = entry {
            black_box((series, value));
            samples += 1;
            if labels {
                buf.clear();
                parser.labels(&mut buf);
                black_box(&buf);
            }
        }
    }
    samples
}

fn prometheus_parse(body: &str) -> usize {
    let lines = body.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("fixture parses");
    scrape.samples.len()
}

fn bench(c: &mut Criterion) {
    let text = fixture(false);
    let om = fixture(true);
    let samples = parse(&text, Format::PromText, false);
    assert_eq!(samples, 1000);
    assert_eq!(parse(&om, Format::OpenMetrics, true), samples);

    for (group_name, throughput) in [
        ("parse_bytes", Throughput::Bytes(text.len() as u64)),
        ("parse_samples", Throughput::Elements(samples as u64)),
    ] {
        let mut group = c.benchmark_group(group_name);
        group.throughput(throughput);
        group.bench_function("pyrometer/cached", |b| {
            b.iter(|| parse(black_box(&text), Format::PromText, false))
        });
        group.bench_function("pyrometer/labels", |b| {
            b.iter(|| parse(black_box(&text), Format::PromText, true))
        });
        group.bench_function("pyrometer/openmetrics", |b| {
            b.iter(|| parse(black_box(&om), Format::OpenMetrics, false))
        });
        group.bench_function("prometheus-parse", |b| {
            b.iter(|| prometheus_parse(black_box(&text)))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
