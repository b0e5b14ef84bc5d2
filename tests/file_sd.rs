//! File-based service discovery end to end: target group files added, changed, broken and
//! removed in a watched directory change the active targets within a second or two, with no
//! help from the refresh interval (5 minutes here).

mod support;

use std::path::Path;
use std::time::{Duration, Instant};
use support::*;

/// How long a file change may take to show in the API. The watch itself reacts in about
/// 100 ms; the rest is slack for a loaded test machine.
const LIMIT: Duration = Duration::from_secs(3);

/// `instance` → labels of the active targets of `job`, sorted by instance.
fn active(p: &Pyrometer, job: &str) -> Vec<(String, serde_json::Value)> {
    let t = p.get_json("/api/v1/targets");
    let mut out: Vec<(String, serde_json::Value)> = t["data"]["activeTargets"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t["scrapePool"] == job)
        .map(|t| {
            let inst = t["labels"]["instance"].as_str().unwrap_or("").to_string();
            (inst, t)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn instances(p: &Pyrometer) -> Vec<String> {
    active(p, "files").into_iter().map(|(i, _)| i).collect()
}

/// Waits until the active instances are `want`; returns how long that took.
fn expect_instances(p: &Pyrometer, want: &[&str], what: &str) -> Duration {
    let start = Instant::now();
    wait_until(LIMIT, what, || instances(p) == want);
    start.elapsed()
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn metric(p: &Pyrometer, name: &str) -> f64 {
    let (_, body) = get(&p.url("/metrics")).unwrap();
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from /metrics"))
}

#[test]
fn targets_follow_added_changed_broken_and_removed_files() {
    let sd = tempfile::tempdir().unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1m\nscrape_configs:\n- job_name: files\n  file_sd_configs:\n    - files: ['{0}/*.json', '{0}/*.yml']\n",
        sd.path().display()
    );
    let p = Pyrometer::start(&config, &[]);
    assert!(instances(&p).is_empty());

    write(
        sd.path(),
        "a.json",
        r#"[{"targets": ["127.0.0.1:7001", "127.0.0.1:7002"], "labels": {"env": "prod"}}]"#,
    );
    let took = expect_instances(&p, &["127.0.0.1:7001", "127.0.0.1:7002"], "a.json read");
    eprintln!("a new file took effect in {took:?}");
    let a_path = sd.path().join("a.json").display().to_string();
    let (_, t) = &active(&p, "files")[0];
    assert_eq!(t["labels"]["env"], "prod");
    assert_eq!(t["discoveredLabels"]["__meta_filepath"], a_path.as_str());
    assert!(t["labels"].get("__meta_filepath").is_none(), "{t}");

    write(
        sd.path(),
        "b.yml",
        "- targets: ['127.0.0.1:7003']\n  labels:\n    env: dev\n",
    );
    expect_instances(
        &p,
        &["127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"],
        "b.yml read",
    );

    write(
        sd.path(),
        "a.json",
        r#"[{"targets": ["127.0.0.1:7001"], "labels": {"env": "staging"}}]"#,
    );
    expect_instances(&p, &["127.0.0.1:7001", "127.0.0.1:7003"], "a.json change");
    wait_until(LIMIT, "a.json labels change", || {
        active(&p, "files")[0].1["labels"]["env"] == "staging"
    });
    assert_eq!(metric(&p, "prometheus_sd_file_read_errors_total"), 0.0);

    // A broken file is reported and its last good targets stay.
    write(sd.path(), "a.json", r#"[{"targets": ["127.0.0.1:70"#);
    wait_until(LIMIT, "read error counted", || {
        metric(&p, "prometheus_sd_file_read_errors_total") >= 1.0
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(instances(&p), ["127.0.0.1:7001", "127.0.0.1:7003"]);
    let (code, page) = get(&p.url("/service-discovery")).unwrap();
    assert_eq!(code, 200);
    assert!(
        page.contains("a.json") && page.contains("invalid JSON"),
        "the SD page should show the broken file: {page}"
    );

    // Fixed again, then files removed one by one.
    write(sd.path(), "a.json", r#"[{"targets": ["127.0.0.1:7004"]}]"#);
    expect_instances(&p, &["127.0.0.1:7003", "127.0.0.1:7004"], "a.json fixed");
    std::fs::remove_file(sd.path().join("b.yml")).unwrap();
    expect_instances(&p, &["127.0.0.1:7004"], "b.yml removed");
    std::fs::remove_file(sd.path().join("a.json")).unwrap();
    expect_instances(&p, &[], "a.json removed");
}

#[test]
fn a_file_renamed_into_place_is_read() {
    let sd = tempfile::tempdir().unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1m\nscrape_configs:\n- job_name: files\n  file_sd_configs:\n    - files: ['{}/targets-*.json']\n",
        sd.path().display()
    );
    let p = Pyrometer::start(&config, &[]);
    // Written under a name the glob does not match, then renamed: how tools update atomically.
    write(sd.path(), "tmp.txt", r#"[{"targets": ["127.0.0.1:7010"]}]"#);
    std::fs::rename(sd.path().join("tmp.txt"), sd.path().join("targets-1.json")).unwrap();
    expect_instances(&p, &["127.0.0.1:7010"], "renamed file read");
    write(
        sd.path(),
        "other.json",
        r#"[{"targets": ["127.0.0.1:7011"]}]"#,
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        instances(&p),
        ["127.0.0.1:7010"],
        "other.json is not matched"
    );
}

#[test]
fn reload_moves_the_watch_and_stops_it_with_the_job() {
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write(one.path(), "t.json", r#"[{"targets": ["127.0.0.1:7020"]}]"#);
    write(two.path(), "t.json", r#"[{"targets": ["127.0.0.1:7021"]}]"#);
    let config = |dir: &Path, job: &str| {
        format!(
            "global:\n  scrape_interval: 1m\nscrape_configs:\n- job_name: {job}\n  file_sd_configs:\n    - files: ['{}/*.json']\n",
            dir.display()
        )
    };
    let p = Pyrometer::start(&config(one.path(), "files"), &["--web.enable-lifecycle"]);
    expect_instances(&p, &["127.0.0.1:7020"], "first directory read");

    let cfg_path = p.dir.path().join("prometheus.yml");
    std::fs::write(&cfg_path, config(two.path(), "files")).unwrap();
    assert_eq!(post(&p.url("/-/reload"), &[]).unwrap().0, 200);
    expect_instances(&p, &["127.0.0.1:7021"], "second directory read");
    // The first directory is no longer watched.
    write(one.path(), "u.json", r#"[{"targets": ["127.0.0.1:7022"]}]"#);
    write(two.path(), "u.json", r#"[{"targets": ["127.0.0.1:7023"]}]"#);
    expect_instances(
        &p,
        &["127.0.0.1:7021", "127.0.0.1:7023"],
        "second directory watched",
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(instances(&p), ["127.0.0.1:7021", "127.0.0.1:7023"]);

    // The job is renamed: the old one stops with its watch, the new one reads afresh.
    std::fs::write(&cfg_path, config(two.path(), "other")).unwrap();
    assert_eq!(post(&p.url("/-/reload"), &[]).unwrap().0, 200);
    wait_until(LIMIT, "old job gone", || instances(&p).is_empty());
    wait_until(LIMIT, "new job read", || active(&p, "other").len() == 2);
    write(two.path(), "v.json", r#"[{"targets": ["127.0.0.1:7024"]}]"#);
    wait_until(LIMIT, "new job watches", || active(&p, "other").len() == 3);
    assert!(instances(&p).is_empty());

    // Discovery removed from the job: its file targets go, the static one stays.
    std::fs::write(
        &cfg_path,
        "global:\n  scrape_interval: 1m\nscrape_configs:\n- job_name: other\n  static_configs:\n    - targets: ['127.0.0.1:7025']\n",
    )
    .unwrap();
    assert_eq!(post(&p.url("/-/reload"), &[]).unwrap().0, 200);
    wait_until(LIMIT, "file targets gone", || {
        let a = active(&p, "other");
        a.len() == 1 && a[0].0 == "127.0.0.1:7025"
    });
}
