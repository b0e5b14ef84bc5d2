//! Scrape arrival times, per target, and their wire form between a shard and the harness.
//!
//! The dump is plain text: a line `cpu_seconds <f64>` (the shard's user+system CPU since
//! start), a line `window_us <start> <end>`, then one line per target: `<index> <t1> <t2>
//! ...`, arrival times in microseconds since the Unix epoch.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// Arrival times of one shard's targets since the last reset.
pub struct Recorder {
    first: usize,
    targets: Vec<Mutex<Vec<u64>>>,
    window_start: Mutex<u64>,
}

impl Recorder {
    pub fn new(first: usize, count: usize) -> Self {
        Recorder {
            first,
            targets: (0..count).map(|_| Mutex::new(Vec::new())).collect(),
            window_start: Mutex::new(now_us()),
        }
    }

    /// Records a scrape of target `i` (a global index) now.
    pub fn record(&self, i: usize, t_us: u64) {
        if let Some(m) = i.checked_sub(self.first).and_then(|k| self.targets.get(k)) {
            if let Ok(mut v) = m.lock() {
                v.push(t_us);
            }
        }
    }

    pub fn reset(&self) {
        for m in &self.targets {
            if let Ok(mut v) = m.lock() {
                v.clear();
            }
        }
        if let Ok(mut w) = self.window_start.lock() {
            *w = now_us();
        }
    }

    pub fn dump(&self, cpu_seconds: f64) -> String {
        let start = self.window_start.lock().map(|w| *w).unwrap_or(0);
        let mut out = format!(
            "cpu_seconds {cpu_seconds}\nwindow_us {start} {}\n",
            now_us()
        );
        for (k, m) in self.targets.iter().enumerate() {
            out.push_str(&(self.first + k).to_string());
            if let Ok(v) = m.lock() {
                for t in v.iter() {
                    out.push(' ');
                    out.push_str(&t.to_string());
                }
            }
            out.push('\n');
        }
        out
    }
}

/// A parsed dump.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Dump {
    pub cpu_seconds: f64,
    pub window_us: (u64, u64),
    pub targets: BTreeMap<usize, Vec<u64>>,
}

#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error("simulator dump line {line}: cannot read {text:?}")]
    Bad { line: usize, text: String },
}

pub fn parse_dump(text: &str) -> Result<Dump, DumpError> {
    let mut d = Dump::default();
    for (n, line) in text.lines().enumerate() {
        let bad = || DumpError::Bad {
            line: n + 1,
            text: line.chars().take(80).collect(),
        };
        let mut f = line.split_ascii_whitespace();
        match f.next() {
            None => continue,
            Some("cpu_seconds") => {
                d.cpu_seconds = f.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
            }
            Some("window_us") => {
                let a = f.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
                let b = f.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
                d.window_us = (a, b);
            }
            Some(idx) => {
                let i: usize = idx.parse().map_err(|_| bad())?;
                let times: Result<Vec<u64>, _> = f.map(str::parse).collect();
                d.targets.insert(i, times.map_err(|_| bad())?);
            }
        }
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dump_round_trips() {
        let r = Recorder::new(10, 2);
        r.record(10, 5);
        r.record(11, 7);
        r.record(11, 9);
        r.record(12, 1); // not ours: ignored
        let d = parse_dump(&r.dump(1.5)).unwrap();
        assert_eq!(d.cpu_seconds, 1.5);
        assert_eq!(d.targets[&10], vec![5]);
        assert_eq!(d.targets[&11], vec![7, 9]);
        assert_eq!(d.targets.len(), 2);
        r.reset();
        let d = parse_dump(&r.dump(0.0)).unwrap();
        assert!(d.targets.values().all(Vec::is_empty));
        assert!(parse_dump("cpu_seconds x").is_err());
    }
}
