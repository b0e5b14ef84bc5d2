//! Logs in Prometheus's shape: logfmt by default (`ts=… level=info caller=… msg="…"`), or
//! one JSON object per line.

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::io::Write;

struct Logger {
    json: bool,
    level: LevelFilter,
}

/// Installs the global logger; `level` is debug|info|warn|error, `format` logfmt|json.
pub fn init(level: &str, format: &str) {
    let level = match level {
        "debug" => LevelFilter::Debug,
        "warn" => LevelFilter::Warn,
        "error" => LevelFilter::Error,
        _ => LevelFilter::Info,
    };
    let logger = Logger {
        json: format == "json",
        level,
    };
    if log::set_boxed_logger(Box::new(logger)).is_ok() {
        log::set_max_level(level);
    }
}

impl Log for Logger {
    fn enabled(&self, m: &Metadata) -> bool {
        // Only our own messages at debug; dependencies from info up.
        m.level() <= self.level && (m.target().starts_with("pyrometer") || m.level() <= Level::Info)
    }

    fn log(&self, r: &Record) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let ts = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
        let level = r.level().as_str().to_lowercase();
        let caller = r
            .module_path()
            .unwrap_or("")
            .trim_start_matches("pyrometer::");
        let msg = r.args().to_string();
        let line = if self.json {
            serde_json::json!({"ts": ts.to_string(), "level": level, "caller": caller, "msg": msg})
                .to_string()
        } else {
            format!(
                "ts={ts} level={level} caller={caller} msg={}",
                logfmt_value(&msg)
            )
        };
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }

    fn flush(&self) {}
}

/// Quotes a logfmt value when it contains spaces, quotes or `=`.
fn logfmt_value(s: &str) -> String {
    if !s.is_empty() && !s.contains([' ', '"', '=', '\n', '\t']) {
        return s.to_string();
    }
    format!("{s:?}")
}
