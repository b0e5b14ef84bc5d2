//! The web UI in a real browser: Debian's `chromium`, headless, against a Pyrometer on a
//! loopback port.
//!
//! Chromium is driven by its own command line: `--dump-dom` prints the DOM after the page's
//! scripts ran (with `--virtual-time-budget` letting its fetches finish), `--screenshot`
//! keeps a picture of each page in `<target>/browser-screenshots/`. The graph page is driven
//! through its URL (`g0.expr=…`), which is also how a shared link reaches it.
//!
//! Needs `/usr/bin/chromium` (or `$CHROMIUM`): `apt-get install -y chromium`.

mod cdp;
mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{get, urlencode, wait_until, Pyrometer};

/// A browser run that takes longer than this is stuck (a page load here takes ~1-2 s).
const CHROMIUM_LIMIT: Duration = Duration::from_secs(90);
/// Virtual time the page's scripts get to fetch and draw before the DOM is taken.
const SCRIPT_BUDGET_MS: u32 = 5000;

/// Self-scrape (UP) plus a target that refuses connections (DOWN) and whose labels carry
/// markup that would run if any page inserted label text as HTML.
const CONFIG: &str = r#"
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: pyrometer
    static_configs:
      - targets: ['{SELF}']
  - job_name: xss
    static_configs:
      - targets: ['127.0.0.1:1']
        labels:
          evil: '<script>document.title="pwned-script"</script>'
          img: '<img src=x onerror="document.title=&quot;pwned-img&quot;">'
"#;

/// Runs headless chromium on `url` with `extra` arguments; returns its stdout.
fn run_chromium(url: &str, extra: &[String]) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let out_dir = tempfile::tempdir().expect("output dir");
    let out_path = out_dir.path().join("stdout");
    let out = std::fs::File::create(&out_path).expect("stdout file");
    let mut child = Command::new(cdp::chromium())
        .args(cdp::FLAGS)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--virtual-time-budget={SCRIPT_BUDGET_MS}"))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            assert!(status.success(), "chromium on {url} exited with {status}");
            break;
        }
        if start.elapsed() > CHROMIUM_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium on {url} took more than {CHROMIUM_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::read_to_string(&out_path).expect("read chromium output")
}

/// The DOM of `url` after its scripts ran.
fn dump_dom(url: &str) -> String {
    run_chromium(url, &["--dump-dom".to_string()])
}

/// Saves a screenshot of `url` as `<name>.png` in the screenshot directory.
fn screenshot(url: &str, name: &str, height: u32) {
    let path = cdp::screenshot_dir().join(format!("{name}.png"));
    let _ = std::fs::remove_file(&path);
    run_chromium(
        url,
        &[
            format!("--window-size=1280,{height}"),
            format!("--screenshot={}", path.display()),
        ],
    );
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    assert!(size > 1000, "screenshot {} is empty", path.display());
}

/// Starts Pyrometer with [`CONFIG`] and waits until both jobs have been scraped and the
/// self-scrape has a few samples to plot.
fn start() -> Pyrometer {
    cdp::chromium();
    let p = Pyrometer::start(CONFIG, &[]);
    wait_until(Duration::from_secs(30), "both targets scraped", || {
        let t = p.get_json("/api/v1/targets");
        let active = t["data"]["activeTargets"].as_array().cloned();
        active.is_some_and(|a| a.len() == 2 && a.iter().all(|x| x["health"] != "unknown"))
    });
    // Five samples a second apart: a graph at 1 s resolution then has at least three steps
    // after the first sample wherever the browser's "now" falls between two steps (with
    // three, it could have two).
    wait_until(Duration::from_secs(30), "five samples of up", || {
        let r = p.query("count_over_time(up{job=\"pyrometer\"}[1m])");
        r.first()
            .and_then(|s| s["value"][1].as_str())
            .and_then(|v| v.parse::<f64>().ok())
            .is_some_and(|n| n >= 5.0)
    });
    p
}

/// The text between `<title>` and `</title>` in a DOM dump.
fn title(dom: &str) -> &str {
    dom.split_once("<title>")
        .and_then(|(_, rest)| rest.split_once("</title>"))
        .map(|(t, _)| t)
        .unwrap_or("")
}

#[test]
fn targets_page_lists_jobs_states_and_filters() {
    let p = start();
    let dom = dump_dom(&p.url("/targets"));
    assert_eq!(title(&dom), "Targets - Pyrometer");
    assert!(dom.contains("<b>pyrometer</b> (1/1 up)"), "{dom}");
    assert!(dom.contains("<b>xss</b> (0/1 up)"), "{dom}");
    assert!(dom.contains(">UP</span>") && dom.contains(">DOWN</span>"));
    assert!(dom.contains("s ago</td>"), "last scrape age missing");
    assert!(
        dom.contains("<td class=\"error\">Get \"http://127.0.0.1:1/metrics\""),
        "the down target's error is not shown in the error column"
    );

    let unhealthy = dump_dom(&p.url("/targets?state=unhealthy"));
    assert!(unhealthy.contains("<b>xss</b>") && !unhealthy.contains("<b>pyrometer</b>"));
    let search = dump_dom(&p.url("/targets?search=pyrometer"));
    assert!(search.contains("<b>pyrometer</b>") && !search.contains("<b>xss</b>"));

    screenshot(&p.url("/targets"), "targets", 700);
    for (path, name) in [
        ("/status", "status"),
        ("/flags", "flags"),
        ("/config", "config"),
        ("/tsdb-status", "tsdb-status"),
        ("/alerts", "alerts"),
        ("/service-discovery", "service-discovery"),
    ] {
        let (code, body) = get(&p.url(path)).expect("status page");
        assert_eq!(code, 200, "{path}");
        assert!(
            body.contains("href=\"/tsdb-status\""),
            "{path} lacks the Status menu"
        );
        screenshot(&p.url(path), name, 800);
    }
}

#[test]
fn graph_page_shows_table_and_graph_for_url_queries() {
    let p = start();
    let expr = urlencode("up{job=\"pyrometer\"}");
    let url = p.url(&format!(
        "/graph?g0.expr={expr}&g0.tab=1&g1.expr={expr}&g1.tab=0&g1.range_input=1m&g2.expr={}&g2.tab=1",
        urlencode("sum(")
    ));
    let dom = dump_dom(&url);
    assert_eq!(title(&dom), "Graph - Pyrometer");
    let row = format!(
        "<tr class=\"sample\"><td class=\"series\">up{{instance=\"127.0.0.1:{}\", job=\"pyrometer\"}}</td><td class=\"value\">1</td></tr>",
        p.port
    );
    assert!(dom.contains(&row), "table row missing: {dom}");
    assert!(dom.contains("<canvas"), "no canvas drawn: {dom}");
    let points: usize = dom
        .split_once("data-points=\"")
        .and_then(|(_, rest)| rest.split('"').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(points >= 3, "the graph has {points} points: {dom}");
    assert!(dom.contains("data-series=\"1\""), "one line expected");
    assert!(
        dom.contains("Error executing query: bad_data: 1:5: parse error"),
        "the API error is not shown: {dom}"
    );
    screenshot(&url, "graph", 1300);

    // An evaluation time before any sample, and a fixed resolution.
    let url = p.url(&format!(
        "/graph?g0.expr={expr}&g0.tab=1&g0.moment_input={}&g1.expr={expr}&g1.tab=0&g1.range_input=1m&g1.step_input=2",
        urlencode("2001-02-03 04:05:06")
    ));
    let dom = dump_dom(&url);
    assert!(dom.contains(">Empty query result<"), "{dom}");
    assert!(dom.contains("value=\"2001-02-03 04:05:06\""), "{dom}");
    assert!(dom.contains("Resolution: 2s"), "{dom}");

    let stacked = p.url(&format!(
        "/graph?g0.expr={}&g0.tab=0&g0.range_input=1m&g0.stacked=1",
        urlencode("scrape_duration_seconds")
    ));
    let dom = dump_dom(&stacked);
    assert!(dom.contains("data-series=\"2\"") && dom.contains("<canvas"));
    screenshot(&stacked, "graph-stacked", 800);

    // `/` leads to the graph page, whose scripts and the chart library are served locally.
    let (code, body) = get(&p.url("/")).expect("root");
    assert_eq!(code, 200);
    assert!(body.contains("/assets/vendor/uPlot.iife.min.js"));
    let (code, js) = get(&p.url("/assets/vendor/uPlot.iife.min.js")).expect("uPlot");
    assert!(code == 200 && js.contains("uPlot"));
}

#[test]
fn markup_in_labels_is_shown_as_text_and_never_runs() {
    let p = start();
    let dom = dump_dom(&p.url("/targets"));
    assert_eq!(title(&dom), "Targets - Pyrometer", "a label's script ran");
    assert!(dom.contains("evil=\"&lt;script&gt;document.title=\"pwned-script\"&lt;/script&gt;\""));
    assert!(!dom.contains("<script>document.title"));
    assert!(!dom.contains("<img"), "a label became an element: {dom}");

    let dom = dump_dom(&p.url("/service-discovery"));
    assert_eq!(
        title(&dom),
        "Service Discovery - Pyrometer",
        "a label's script ran"
    );
    assert!(!dom.contains("<img"), "a label became an element: {dom}");

    let expr = urlencode("up{job=\"xss\"}");
    let url = p.url(&format!(
        "/graph?g0.expr={expr}&g0.tab=1&g1.expr={expr}&g1.tab=0&g1.range_input=1m"
    ));
    let dom = dump_dom(&url);
    assert_eq!(title(&dom), "Graph - Pyrometer", "a label's script ran");
    assert!(!dom.contains("<img"), "a label became an element: {dom}");
    // Once in the table, once in the legend.
    assert_eq!(
        dom.matches("&lt;img src=x onerror=\"document.title=&amp;quot;pwned-img&amp;quot;\"&gt;")
            .count(),
        2,
        "{dom}"
    );
    screenshot(&p.url("/targets"), "targets-xss", 700);
    screenshot(&url, "graph-xss", 1000);
}

/// Ten thousand targets that refuse connections (port 9 on addresses of 127.0.0.0/8), so the
/// page has every target in one pool; prints the page times (`--nocapture` shows them).
#[test]
fn targets_page_stays_small_with_10000_targets() {
    const N: usize = 10_000;
    cdp::chromium();
    let targets: Vec<String> = (0..N)
        .map(|i| format!("'127.0.{}.{}:9'", i / 250 + 1, i % 250 + 1))
        .collect();
    let config = format!(
        "global:\n  scrape_interval: 60s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: big\n    static_configs:\n      - targets: [{}]\n",
        targets.join(", ")
    );
    let p = Pyrometer::start(&config, &[]);
    // The runtime page counts the registry without building 10,000 JSON objects per poll.
    wait_until(Duration::from_secs(60), "10000 active targets", || {
        get(&p.url("/status"))
            .is_ok_and(|(_, b)| b.contains("<th>Active targets</th><td>10000</td>"))
    });

    let mut server = Vec::new();
    let mut body = String::new();
    for _ in 0..3 {
        let start = Instant::now();
        let (code, b) = get(&p.url("/targets")).expect("targets page");
        server.push(start.elapsed());
        assert_eq!(code, 200);
        body = b;
    }
    server.sort();
    assert!(body.contains("/10000 up)"), "pool header missing");
    assert_eq!(body.matches("<tr class=\"target\">").count(), 100);
    assert!(body.contains("Showing 100 of 10000 targets."));
    assert!(body.contains("href=\"/targets?expand=big&amp;limit=600#pool-big\">Show 500 more"));

    let (_, more) = get(&p.url("/targets?expand=big&limit=600")).expect("show more");
    assert_eq!(more.matches("<tr class=\"target\">").count(), 600);
    let (_, one) = get(&p.url("/targets?search=127.0.40.250%3A9")).expect("search");
    assert_eq!(one.matches("<tr class=\"target\">").count(), 1);

    // Browser time: the targets page against a page with no data, both from a cold start.
    let start = Instant::now();
    let dom = dump_dom(&p.url("/alerts"));
    let baseline = start.elapsed();
    assert!(dom.contains("<h1>Alerts</h1>"));
    let start = Instant::now();
    let dom = dump_dom(&p.url("/targets"));
    let browser = start.elapsed();
    assert_eq!(dom.matches("<tr class=\"target\">").count(), 100);
    println!(
        "targets page with {N} targets: server {:?} (median of 3), {} bytes; chromium load+render {:?} (empty page {:?})",
        server[1],
        body.len(),
        browser,
        baseline
    );
    // For comparison, every one of the 10,000 rows at once (the last "show more").
    let all = p.url("/targets?expand=big&limit=10000");
    let start = Instant::now();
    let (_, every) = get(&all).expect("all rows");
    let server_all = start.elapsed();
    assert_eq!(every.matches("<tr class=\"target\">").count(), N);
    let start = Instant::now();
    dump_dom(&all);
    println!(
        "all {N} rows: server {server_all:?}, {} bytes; chromium load+render {:?}",
        every.len(),
        start.elapsed()
    );
    assert!(
        server[1] < Duration::from_secs(5),
        "the targets page took {:?} to render on the server",
        server[1]
    );
    screenshot(&p.url("/targets"), "targets-10000", 900);
}
