//! The comparison table: medians of runs per system, ratios to Pyrometer, and the record
//! appended to RESULTS.md with the machine, the versions and the command.

use crate::lag::quantile;
use crate::measure::Row;
use crate::system::System;
use std::fmt::Write;

/// Reads one figure from a row.
type Column = (&'static str, fn(&Row) -> f64);

/// Column titles and how to read each from a row.
const COLUMNS: [Column; 17] = [
    ("samples/s", |r| r.samples_per_s),
    ("CPU cores", |r| r.cpu_cores),
    ("CPU s/1M samples", |r| r.cpu_s_per_m_samples),
    ("RSS MiB", |r| r.rss_mib),
    ("series", |r| r.series),
    ("RSS B/series", |r| r.rss_bytes_per_series),
    ("scrape ms avg", |r| r.scrape_ms_avg),
    ("scrape ms p99", |r| r.scrape_ms_p99),
    ("lag ms p50", |r| r.lag_ms_p50),
    ("lag ms p99", |r| r.lag_ms_p99),
    ("missed", |r| r.missed),
    ("targets down", |r| r.targets_down),
    ("q rate ms", |r| r.q_rate_ms),
    ("q instant ms", |r| r.q_instant_ms),
    ("q range ms", |r| r.q_range_ms),
    ("sim CPU cores", |r| r.sim_cpu_cores),
    ("runs", |_| f64::NAN),
];

fn fmt(v: f64) -> String {
    if v.is_nan() {
        "-".to_string()
    } else if v.abs() >= 100.0 || v == v.trunc() {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// The median of each column over the runs of each system, in first-seen system order.
pub fn medians(rows: &[Row]) -> Vec<(System, usize, Vec<f64>)> {
    let mut systems: Vec<System> = Vec::new();
    for r in rows {
        if !systems.contains(&r.system) {
            systems.push(r.system);
        }
    }
    systems
        .into_iter()
        .map(|s| {
            let runs: Vec<&Row> = rows.iter().filter(|r| r.system == s).collect();
            let cols = COLUMNS
                .iter()
                .map(|(_, get)| {
                    let mut v: Vec<f64> = runs
                        .iter()
                        .map(|r| get(r))
                        .filter(|x| !x.is_nan())
                        .collect();
                    quantile(&mut v, 0.5)
                })
                .collect();
            (s, runs.len(), cols)
        })
        .collect()
}

/// A Markdown table: one row per system (medians), then ratios to Pyrometer.
pub fn table(rows: &[Row]) -> String {
    let m = medians(rows);
    let mut out = String::from("| system |");
    for (title, _) in COLUMNS {
        let _ = write!(out, " {title} |");
    }
    out.push_str("\n|---|");
    out.push_str(&"---:|".repeat(COLUMNS.len()));
    out.push('\n');
    for (s, n, cols) in &m {
        let _ = write!(out, "| {} |", s.name());
        for v in &cols[..cols.len() - 1] {
            let _ = write!(out, " {} |", fmt(*v));
        }
        let _ = writeln!(out, " {n} |");
    }
    let base = m.iter().find(|(s, _, _)| *s == System::Pyrometer);
    if let Some((_, _, b)) = base {
        for (s, _, cols) in m.iter().filter(|(s, _, _)| *s != System::Pyrometer) {
            let _ = write!(out, "| {} ÷ pyrometer |", s.name());
            for (v, bv) in cols.iter().zip(b).take(cols.len() - 1) {
                let _ = write!(out, " {} |", fmt(v / bv));
            }
            out.push_str(" |\n");
        }
    }
    out
}

fn first_line_of(path: &str, key: &str) -> String {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_once(':').map(|(_, v)| v.trim().to_string()))
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// CPU model, core count, memory and kernel.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    format!(
        "{} ({cores} cores), {} RAM, Linux {kernel}",
        first_line_of("/proc/cpuinfo", "model name"),
        first_line_of("/proc/meminfo", "MemTotal")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(system: System, v: f64) -> Row {
        Row {
            system,
            samples_per_s: v,
            cpu_cores: v,
            cpu_s_per_m_samples: v,
            rss_mib: v,
            series: v,
            rss_bytes_per_series: v,
            scrape_ms_avg: v,
            scrape_ms_p99: v,
            lag_ms_p50: v,
            lag_ms_p99: v,
            missed: v,
            targets_down: v,
            q_rate_ms: v,
            q_instant_ms: f64::NAN,
            q_range_ms: v,
            sim_cpu_cores: v,
        }
    }

    #[test]
    fn medians_and_ratios() {
        let rows = [
            row(System::Pyrometer, 1.0),
            row(System::Pyrometer, 3.0),
            row(System::Pyrometer, 2.0),
            row(System::Prometheus, 4.0),
        ];
        let m = medians(&rows);
        assert_eq!(m[0].2[0], 2.0);
        assert_eq!(m[0].1, 3);
        let t = table(&rows);
        assert!(t.contains("| pyrometer | 2 |"), "{t}");
        assert!(t.contains("| prometheus ÷ pyrometer | 2 |"), "{t}");
        assert!(t.contains(" - |"), "{t}");
    }
}
