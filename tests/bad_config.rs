//! A bad configuration stops start-up with one clear message naming the file and line.

use std::process::Command;

fn run_with(config: &str) -> (bool, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("prometheus.yml");
    std::fs::write(&path, config).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_pyrometer"))
        .arg(format!("--config.file={}", path.display()))
        .arg("--web.listen-address=127.0.0.1:0")
        .output()
        .expect("run pyrometer");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_configs_fail_start_up_clearly() {
    let cases = [
        ("global:\n  scrape_interval: 15s\nscrape_configs:\n- job_name: app\n  scrap_interval: 5s\n", "scrap_interval"),
        ("global:\n  scrape_interval: 15x\n", "15x"),
        ("scrape_configs:\n- job_name: a\n- job_name: a\n", "multiple scrape configs with job name"),
    ];
    for (config, needle) in cases {
        let (ok, stderr) = run_with(config);
        assert!(!ok, "config should be rejected: {config}");
        assert!(
            stderr.contains(needle),
            "error should mention {needle:?}: {stderr}"
        );
        assert!(
            stderr.contains("prometheus.yml"),
            "error should name the file: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "no panic: {stderr}");
    }
}

#[test]
fn missing_config_file_is_reported() {
    let out = Command::new(env!("CARGO_BIN_EXE_pyrometer"))
        .arg("--config.file=/nonexistent/prometheus.yml")
        .output()
        .expect("run pyrometer");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/prometheus.yml"));
}

#[test]
fn version_and_help() {
    let out = Command::new(env!("CARGO_BIN_EXE_pyrometer"))
        .arg("--version")
        .output()
        .expect("run");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
    let out = Command::new(env!("CARGO_BIN_EXE_pyrometer"))
        .arg("--help")
        .output()
        .expect("run");
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--config.file",
        "--web.listen-address",
        "--storage.tsdb.path",
        "--storage.tsdb.retention.time",
        "--web.enable-lifecycle",
        "--log.level",
        "--log.format",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
}
