//! Live reload under load: 200 targets at a 1 s interval served by an in-test server on
//! loopback. A reload that adds a job, changes one target's labels and removes another
//! leaves every other target on its schedule (one scrape a second, no gap, no double, as
//! seen by the server); the changed target switches labels, the removed one goes stale. An
//! invalid file changes nothing and is reported.

mod support;

use std::time::Duration;
use support::farm::{now_ms, Farm, JITTER_MS};
use support::*;

const TARGETS: usize = 200;

/// The config before the reload: the untouched targets, the one to change (`tier: old`) and
/// the one to remove.
fn config_before(untouched: &[u16], changed: u16, removed: u16) -> String {
    format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n- job_name: many\n  static_configs:\n    - targets: [{}]\n    - targets: ['127.0.0.1:{changed}']\n      labels: {{tier: old}}\n    - targets: ['127.0.0.1:{removed}']\n",
        Farm::targets(untouched)
    )
}

/// After the reload: `changed` has `tier: new`, `removed` is gone, job `extra` is added.
fn config_after(untouched: &[u16], changed: u16, extra: u16) -> String {
    format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n- job_name: many\n  static_configs:\n    - targets: [{}]\n    - targets: ['127.0.0.1:{changed}']\n      labels: {{tier: new}}\n- job_name: extra\n  static_configs:\n    - targets: ['127.0.0.1:{extra}']\n",
        Farm::targets(untouched)
    )
}

fn metric(p: &Pyrometer, name: &str) -> f64 {
    let (_, body) = get(&p.url("/metrics")).unwrap();
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from /metrics"))
}

fn active_count(p: &Pyrometer) -> usize {
    p.get_json("/api/v1/targets")["data"]["activeTargets"]
        .as_array()
        .map(|a| a.len())
        .unwrap_or(0)
}

#[test]
fn reload_keeps_untouched_targets_on_schedule() {
    // TARGETS targets of job `many` plus one for the added job.
    let farm = Farm::start(TARGETS + 1, 0, Duration::ZERO);
    let ports = farm.ports.clone();
    let (changed, removed, extra) = (ports[0], ports[1], ports[TARGETS]);
    let untouched: Vec<u16> = ports[2..TARGETS].to_vec();

    let p = Pyrometer::start(
        &config_before(&untouched, changed, removed),
        &["--web.enable-lifecycle"],
    );
    wait_until(
        Duration::from_secs(10),
        "old labels of the changed target",
        || {
            p.query(&format!("m{{port=\"{changed}\",tier=\"old\"}}"))
                .len()
                == 1
        },
    );
    std::thread::sleep(Duration::from_millis(1500));

    let cfg_path = p.dir.path().join("prometheus.yml");
    std::fs::write(&cfg_path, config_after(&untouched, changed, extra)).unwrap();
    let reload_at = now_ms();
    let (code, body) = post(&p.url("/-/reload"), &[]).unwrap();
    assert_eq!(code, 200, "reload answered {body}");
    assert_eq!(metric(&p, "prometheus_config_last_reload_successful"), 1.0);

    // Untouched targets keep their actors: a restarted one would be "unknown" until its
    // first scrape, up to a second later.
    std::thread::sleep(Duration::from_millis(200));
    let t = p.get_json("/api/v1/targets");
    let untouched_up = t["data"]["activeTargets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| {
            let inst = t["labels"]["instance"].as_str().unwrap_or("");
            untouched.iter().any(|p| inst == format!("127.0.0.1:{p}"))
        })
        .filter(|t| t["health"] == "up")
        .count();
    assert_eq!(
        untouched_up,
        untouched.len(),
        "untouched targets were restarted"
    );

    // The changed target switches labels; the removed one goes stale; the new job scrapes.
    wait_until(
        Duration::from_secs(5),
        "new labels of the changed target",
        || {
            let r = p.query(&format!("m{{port=\"{changed}\"}}"));
            r.len() == 1 && r[0]["metric"]["tier"] == "new"
        },
    );
    wait_until(Duration::from_secs(5), "removed target stale", || {
        p.query(&format!("m{{port=\"{removed}\"}}")).is_empty()
    });
    wait_until(Duration::from_secs(5), "added job up", || {
        let r = p.query("up{job=\"extra\"}");
        r.len() == 1 && r[0]["value"][1] == "1"
    });

    let window_end = reload_at + 10_000;
    std::thread::sleep(Duration::from_millis(
        (window_end - now_ms()).max(0) as u64 + 1500,
    ));

    // An invalid file changes nothing and says why.
    let before = active_count(&p);
    std::fs::write(&cfg_path, "scrape_configs:\n- job_name: [oops\n").unwrap();
    let (code, body) = post(&p.url("/-/reload"), &[]).unwrap();
    assert_eq!(code, 500, "invalid config answered {code} {body}");
    assert!(
        body.contains("prometheus.yml"),
        "error should name the file: {body}"
    );
    assert_eq!(metric(&p, "prometheus_config_last_reload_successful"), 0.0);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(active_count(&p), before);
    assert_eq!(before, TARGETS);
    let still = p.query(&format!("m{{port=\"{changed}\"}}"));
    assert_eq!(still.len(), 1);
    assert_eq!(still[0]["metric"]["tier"], "new");

    drop(p);
    let log = farm.stop();
    let log = log.lock();
    for port in &untouched {
        let times = log.starts.get(port).cloned().unwrap_or_default();
        // Scrapes around the window, so a gap across its edges shows as well.
        let near: Vec<i64> = times
            .iter()
            .copied()
            .filter(|t| (reload_at - 1500..window_end + 1500).contains(t))
            .collect();
        assert!(
            near.len() >= 12,
            "target {port}: only {} scrapes",
            near.len()
        );
        for pair in near.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                (1000 - JITTER_MS..=1000 + JITTER_MS).contains(&gap),
                "target {port}: {gap} ms between scrapes across the reload (a double scrape or a gap)"
            );
        }
        // Ten slots fall in ten seconds; a scrape right at an edge may land on either side.
        let in_window = near
            .iter()
            .filter(|t| (reload_at..window_end).contains(*t))
            .count();
        let at_edge = near
            .iter()
            .any(|t| (t - reload_at).abs() < JITTER_MS || (t - window_end).abs() < JITTER_MS);
        assert!(
            in_window == 10 || (at_edge && (9..=11).contains(&in_window)),
            "target {port} was scraped {in_window} times in the 10 s after the reload"
        );
    }
    let removed_after = log
        .starts
        .get(&removed)
        .map(|t| t.iter().filter(|t| **t > reload_at + 1000).count())
        .unwrap_or(0);
    assert_eq!(removed_after, 0, "the removed target was still scraped");
}

/// Regression: a reload that changes how a target is scraped (here its
/// `metric_relabel_configs`) replaces its actor; the old one must not mark the target's
/// series stale, or queries find nothing until the new actor's first scrape.
#[test]
fn a_target_with_changed_settings_has_no_stale_gap() {
    let farm = Farm::start(1, 0, Duration::ZERO);
    let port = farm.ports[0];

    let base = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n- job_name: one\n  static_configs:\n    - targets: ['127.0.0.1:{port}']\n"
    );
    let p = Pyrometer::start(&base, &["--web.enable-lifecycle"]);
    let q = format!("m{{port=\"{port}\"}}");
    wait_until(Duration::from_secs(10), "first scrape", || {
        p.query(&q).len() == 1
    });
    let changed = format!(
        "{base}  metric_relabel_configs:\n    - source_labels: [__name__]\n      regex: not_exposed\n      action: drop\n"
    );
    std::fs::write(p.dir.path().join("prometheus.yml"), changed).unwrap();
    let (code, body) = post(&p.url("/-/reload"), &[]).unwrap();
    assert_eq!(code, 200, "{body}");
    let mut empty = 0;
    for _ in 0..30 {
        if p.query(&q).is_empty() {
            empty += 1;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        empty, 0,
        "the series was stale after the reload ({empty} of 30 queries)"
    );

    drop(p);
    farm.stop();
}
