//! The encoding ideas measured side by side on the fixtures of `benches/blocks.rs`, to
//! show what each part of the version 2 format buys. Not a check: run it to print the table.
//!
//! Run: `cargo test --release --lib block::ideas -- --ignored --nocapture`

#[path = "../../../benches/fixtures/fleet.rs"]
mod fleet;

use super::encoding::{encode_times, encode_values, encode_xor};
use super::index::{self, PageMeta, SeriesMeta, Slice};
use crate::model::{Labels, Sample};
use crate::tsdb::chunk::{XorChunk, SAMPLES_PER_CHUNK};

const T0: i64 = 1_764_000_000_000;

fn zstd_len(b: &[u8], level: i32) -> usize {
    zstd::bulk::compress(b, level).unwrap().len()
}

/// Bytes after compressing the concatenation of `parts` in frames of about `page` bytes.
fn paged(parts: &[Vec<u8>], page: usize, level: i32) -> usize {
    let (mut total, mut buf) = (0, Vec::new());
    for p in parts {
        buf.extend_from_slice(p);
        if buf.len() >= page {
            total += zstd_len(&buf, level);
            buf.clear();
        }
    }
    total
        + if buf.is_empty() {
            0
        } else {
            zstd_len(&buf, level)
        }
}

fn measure(name: &str, mut fx: Vec<fleet::FixtureSeries>) {
    fx.sort_by(|a, b| a.labels.cmp(&b.labels));
    let series: Vec<Vec<Sample>> = fx
        .iter()
        .map(|s| s.samples.iter().map(|&(t, v)| Sample { t, v }).collect())
        .collect();
    let n: usize = series.iter().map(Vec::len).sum();
    let gorilla: Vec<Vec<u8>> = series
        .iter()
        .map(|s| {
            let mut out = Vec::new();
            for c in s.chunks(SAMPLES_PER_CHUNK) {
                let mut ch = XorChunk::new();
                for x in c {
                    ch.append(x.t, x.v).unwrap();
                }
                out.extend_from_slice(ch.bytes());
            }
            out
        })
        .collect();
    let v2: Vec<Vec<u8>> = series
        .iter()
        .map(|s| {
            let mut out = Vec::new();
            encode_times(s, &mut out);
            encode_values(s, &mut out);
            out
        })
        .collect();
    let xor_only: Vec<Vec<u8>> = series
        .iter()
        .map(|s| {
            let mut out = Vec::new();
            encode_times(s, &mut out);
            encode_xor(s, &mut out);
            out
        })
        .collect();
    let values_only: Vec<Vec<u8>> = series
        .iter()
        .map(|s| {
            let mut out = Vec::new();
            encode_values(s, &mut out);
            out
        })
        .collect();
    let mut distinct_times: Vec<Vec<u8>> = series
        .iter()
        .map(|s| {
            let mut out = Vec::new();
            encode_times(s, &mut out);
            out
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    distinct_times.retain(|t| seen.insert(t.clone()));
    let shared = paged(&distinct_times, 32 << 10, 9) + paged(&values_only, 32 << 10, 9);
    let per = |b: usize| b as f64 / n as f64;
    let sum = |p: &[Vec<u8>]| p.iter().map(Vec::len).sum::<usize>();
    let each = |p: &[Vec<u8>]| p.iter().map(|b| zstd_len(b, 9)).sum::<usize>();
    let rows: Vec<(&str, usize)> = vec![
        ("XOR chunks (format 1)", sum(&gorilla)),
        ("XOR chunks, zstd per series", each(&gorilla)),
        (
            "XOR chunks, zstd in 32 KiB pages",
            paged(&gorilla, 32 << 10, 9),
        ),
        ("v2 columns, no zstd", sum(&v2)),
        ("v2 columns, zstd per series", each(&v2)),
        (
            "v2 columns without decimals (XOR planes), 32 KiB pages",
            paged(&xor_only, 32 << 10, 9),
        ),
        ("v2 columns, 16 KiB pages", paged(&v2, 16 << 10, 9)),
        ("v2 columns, 32 KiB pages", paged(&v2, 32 << 10, 9)),
        ("v2 columns, distinct time columns once (format 2)", shared),
        ("v2 columns, 64 KiB pages", paged(&v2, 64 << 10, 9)),
        (
            "v2 columns, 32 KiB pages, timestamps left out",
            paged(&values_only, 32 << 10, 9),
        ),
        ("v2 columns, one frame for all", paged(&v2, usize::MAX, 9)),
        (
            "v2 columns, 32 KiB pages, zstd level 3",
            paged(&v2, 32 << 10, 3),
        ),
        (
            "v2 columns, 32 KiB pages, zstd level 19",
            paged(&v2, 32 << 10, 19),
        ),
    ];
    println!(
        "{name}: {} series, {n} samples; sample data in bytes/sample",
        fx.len()
    );
    for (what, bytes) in rows {
        println!("  {what:<58} {:.3}", per(bytes));
    }
    let labels: Vec<Labels> = fx
        .iter()
        .map(|s| {
            let p: Vec<(&str, &str)> = s
                .labels
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            Labels::from_pairs(&p)
        })
        .collect();
    let metas: Vec<(&Labels, SeriesMeta)> = labels
        .iter()
        .zip(&series)
        .map(|(l, s)| {
            let m = SeriesMeta {
                mint: s[0].t,
                maxt: s[s.len() - 1].t,
                samples: s.len() as u64,
                times: 0,
                values: Slice {
                    page: 0,
                    offset: 0,
                    len: 1000,
                },
            };
            (l, m)
        })
        .collect();
    let page = PageMeta {
        offset: 8,
        len: 30_000,
        raw_len: u32::MAX,
        crc: 0,
    };
    let mut body = Vec::new();
    let column = Slice {
        page: 0,
        offset: 0,
        len: 10,
    };
    index::encode(&[page], &[column], &metas, &mut body);
    let plain: usize = labels
        .iter()
        .map(|l| {
            l.iter()
                .map(|l| l.name.len() + l.value.len() + 2)
                .sum::<usize>()
                + 20
        })
        .sum();
    println!(
        "  index: full label strings {:.3}, symbol table {:.3}, symbol table + zstd {:.3}",
        per(plain),
        per(body.len()),
        per(zstd_len(&body, 9))
    );
}

#[test]
#[ignore = "prints a table; run with --ignored --nocapture"]
fn encoding_ideas() {
    measure("fleet", fleet::fleet(20, 480, T0));
    measure("node-like", fleet::node_like(480, T0));
    measure("api-fleet", fleet::api_fleet(2000, 480, T0));
    measure("api-fleet, 20 targets", fleet::api_fleet(20_000, 480, T0));
}
