//! `file_sd_configs`: target groups read from JSON or YAML files matched by globs.
//!
//! The directories of the globs are watched (inotify and the like, through `notify`), so a
//! file that appears, changes or disappears takes effect within a fraction of a second; the
//! files are also re-read every `refresh_interval` in case an event was missed (network file
//! systems send none). A file that cannot be read or parsed is logged, counted in
//! `prometheus_sd_file_read_errors_total` and shown on the service discovery page, and its
//! last good groups stay in place, as in Prometheus. Every group carries `__meta_filepath`.

use super::{parse_groups, refresh_every, GroupFormat, ProviderCtx, TargetGroup};
use crate::config::FileSdConfig;
use notify::event::{AccessKind, AccessMode, ModifyKind};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

/// How long to wait after a file event for the writes that usually follow it (an editor or
/// `cp` creates, then writes, then closes), so a half-written file is rarely read.
const SETTLE: Duration = Duration::from_millis(100);

/// The meta label naming the file a target came from.
pub const FILEPATH_LABEL: &str = "__meta_filepath";

/// Runs one `file_sd_configs` entry until the job stops (the future is dropped with it).
pub async fn run(p: ProviderCtx, cfg: FileSdConfig) {
    // The watcher lives as long as this future: dropping it ends the watch.
    let (_watcher, mut events) = match watch(&p, &cfg.files) {
        Ok((w, rx)) => (Some(w), Some(rx)),
        Err(e) => {
            log::error!(
                "job {:?}: cannot watch the directories of {:?}, re-reading every {:?} instead: {e}",
                p.job,
                cfg.files,
                cfg.refresh_interval
            );
            (None, None)
        }
    };
    let every = refresh_every(cfg.refresh_interval);
    let mut files = Files::default();
    loop {
        if let Some(groups) = files.refresh(&p, &cfg.files) {
            p.send(groups);
        }
        match events.as_mut() {
            Some(rx) => {
                tokio::select! {
                    ev = rx.recv() => {
                        if ev.is_none() {
                            events = None;
                            continue;
                        }
                        tokio::time::sleep(SETTLE).await;
                        while rx.try_recv().is_ok() {}
                    }
                    _ = tokio::time::sleep(every) => {}
                }
            }
            None => tokio::time::sleep(every).await,
        }
    }
}

/// Starts watching the directory of every glob; events arrive on the returned channel. A
/// directory that cannot be watched (it does not exist yet) is logged and left to the
/// periodic refresh.
fn watch(
    p: &ProviderCtx,
    globs: &[String],
) -> notify::Result<(RecommendedWatcher, UnboundedReceiver<()>)> {
    let (tx, rx) = unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res {
            if is_change(&ev.kind) {
                let _ = tx.send(());
            }
        }
    })?;
    let mut dirs: Vec<PathBuf> = globs.iter().map(|g| split_glob(g).0).collect();
    dirs.sort();
    dirs.dedup();
    for d in dirs {
        if let Err(e) = watcher.watch(&d, RecursiveMode::NonRecursive) {
            log::warn!(
                "job {:?}: cannot watch directory {:?} for file discovery, its files are re-read on the refresh interval only: {e}",
                p.job,
                d.display().to_string()
            );
        }
    }
    Ok((watcher, rx))
}

/// Whether an event may change what the files hold. Our own reads cause access events and,
/// depending on the mount's atime policy, metadata events; reacting to those would re-read
/// the files in a loop.
fn is_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_)) => false,
        _ => true,
    }
}

/// The directory of a glob and the pattern of its last element (validation allows `*` only
/// there).
fn split_glob(glob: &str) -> (PathBuf, String) {
    let p = Path::new(glob);
    let dir = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (dir, name)
}

/// Shell-style match of a file name: `*` is any run of characters, `?` one character.
fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The files the globs match now, sorted and without duplicates.
fn expand(globs: &[String]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for g in globs {
        let (dir, pattern) = split_glob(g);
        if !pattern.contains(['*', '?']) {
            let path = dir.join(&pattern);
            if path.is_file() {
                out.push(path);
            }
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if matches(&pattern, &name) && e.path().is_file() {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The last good groups of every file, and the list last sent.
#[derive(Default)]
struct Files {
    by_file: BTreeMap<PathBuf, Vec<TargetGroup>>,
    sent: Option<Vec<TargetGroup>>,
}

impl Files {
    /// Re-reads every matched file; returns the groups to send if they changed.
    fn refresh(&mut self, p: &ProviderCtx, globs: &[String]) -> Option<Vec<TargetGroup>> {
        let paths = expand(globs);
        self.by_file.retain(|f, _| paths.contains(f));
        for path in &paths {
            let name = path.display().to_string();
            let read = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read target groups file {name:?}: {e}"))
                .and_then(|text| {
                    parse_groups(&text, GroupFormat::from_path(&name), &name, FILEPATH_LABEL)
                        .map_err(|e| e.to_string())
                });
            match read {
                Ok(groups) => {
                    p.report(&name, None);
                    self.by_file.insert(path.clone(), groups);
                }
                Err(e) => {
                    p.metrics
                        .sd_file_read_errors_total
                        .fetch_add(1, Ordering::Relaxed);
                    log::error!(
                        "job {:?}: {e}; keeping the targets last read from it",
                        p.job
                    );
                    p.report(&name, Some(e));
                }
            }
        }
        let names: Vec<String> = paths.iter().map(|f| f.display().to_string()).collect();
        p.status
            .retain_sources(&p.job, &p.name, |s| names.iter().any(|n| n == s));
        let all: Vec<TargetGroup> = self.by_file.values().flatten().cloned().collect();
        if self.sent.as_ref() == Some(&all) {
            return None;
        }
        self.sent = Some(all.clone());
        Some(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_reads_are_not_changes() {
        use notify::event::{CreateKind, MetadataKind, RemoveKind, RenameMode};
        let cases = [
            (EventKind::Create(CreateKind::File), true),
            (EventKind::Modify(ModifyKind::Any), true),
            (EventKind::Modify(ModifyKind::Name(RenameMode::To)), true),
            (EventKind::Remove(RemoveKind::File), true),
            (
                EventKind::Access(AccessKind::Close(AccessMode::Write)),
                true,
            ),
            (EventKind::Access(AccessKind::Open(AccessMode::Any)), false),
            (
                EventKind::Access(AccessKind::Close(AccessMode::Read)),
                false,
            ),
            (
                EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)),
                false,
            ),
        ];
        for (kind, want) in cases {
            assert_eq!(is_change(&kind), want, "{kind:?}");
        }
    }

    #[test]
    fn file_name_patterns() {
        let cases = [
            ("*.json", "a.json", true),
            ("*.json", ".json", true),
            ("*.json", "a.yml", false),
            ("nodes-*.yml", "nodes-1.yml", true),
            ("nodes-*.yml", "node-1.yml", false),
            ("a?.json", "ab.json", true),
            ("a?.json", "a.json", false),
            ("*", "anything", true),
            ("x*y*z.json", "xaaybbz.json", true),
            ("x*y*z.json", "xaaybb.json", false),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(matches(pattern, name), want, "{pattern} {name}");
        }
    }

    #[test]
    fn globs_split_into_directory_and_pattern() {
        assert_eq!(
            split_glob("/etc/sd/*.json"),
            (PathBuf::from("/etc/sd"), "*.json".to_string())
        );
        assert_eq!(
            split_glob("t.yml"),
            (PathBuf::from("."), "t.yml".to_string())
        );
    }

    #[test]
    fn expand_matches_files_only() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["a.json", "b.json", "c.yml"] {
            std::fs::write(dir.path().join(f), "[]").unwrap();
        }
        std::fs::create_dir(dir.path().join("d.json")).unwrap();
        let glob = format!("{}/*.json", dir.path().display());
        let plain = format!("{}/c.yml", dir.path().display());
        let got = expand(&[glob, plain]);
        let names: Vec<String> = got
            .iter()
            .filter_map(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.json", "b.json", "c.yml"]);
    }
}
