//! CPU and memory of a process, read from /proc (Linux).

use std::fs;

#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    #[error("reading /proc/{pid}/{file}: {source}")]
    Read {
        pid: u32,
        file: &'static str,
        source: std::io::Error,
    },
    #[error("unexpected format of /proc/{pid}/{file}")]
    Format { pid: u32, file: &'static str },
}

fn ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// User plus system CPU seconds used by `pid` so far (fields 14 and 15 of its stat file).
pub fn cpu_seconds(pid: u32) -> Result<f64, ProcError> {
    let file = "stat";
    let text = fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|source| ProcError::Read { pid, file, source })?;
    // The command name may hold spaces; the fields after it start past the last ')'.
    let rest = text
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or(ProcError::Format { pid, file })?;
    let f: Vec<&str> = rest.split_ascii_whitespace().collect();
    // After ")": field 3 is state (index 0), so utime (14) and stime (15) are at 11 and 12.
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
    match (get(11), get(12)) {
        (Some(u), Some(s)) => Ok((u + s) as f64 / ticks_per_second()),
        _ => Err(ProcError::Format { pid, file }),
    }
}

/// Resident set size of `pid` in bytes (VmRSS of its status file).
pub fn rss_bytes(pid: u32) -> Result<u64, ProcError> {
    let file = "status";
    let text = fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|source| ProcError::Read { pid, file, source })?;
    text.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .ok_or(ProcError::Format { pid, file })
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_own_process() {
        let pid = std::process::id();
        assert!(super::cpu_seconds(pid).unwrap() >= 0.0);
        assert!(super::rss_bytes(pid).unwrap() > 0);
    }
}
