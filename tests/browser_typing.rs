//! The graph page used as a person uses it, in headless chromium driven over the DevTools
//! protocol: type part of a metric name, pick the completion with the keyboard, run it, read
//! the table, switch to the graph, hover a line, and find the query in the history after a
//! reload. Needs `/usr/bin/chromium` (or `$CHROMIUM`), see `cdp`.

mod cdp;
mod support;

use cdp::Browser;
use std::time::Duration;
use support::{wait_until, Pyrometer};

const CONFIG: &str = r#"
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: pyrometer
    static_configs:
      - targets: ['{SELF}']
"#;

/// Time for the page's first fetches (metric names, queries) after its load event.
const SETTLE: Duration = Duration::from_millis(500);

fn save(name: &str, png: &[u8]) {
    let path = cdp::screenshot_dir().join(format!("{name}.png"));
    std::fs::write(&path, png).expect("write screenshot");
}

#[actix_rt::test]
async fn typed_query_completes_runs_draws_hovers_and_is_remembered() {
    cdp::chromium();
    let p = Pyrometer::start(CONFIG, &[]);
    wait_until(Duration::from_secs(30), "five samples of up", || {
        let r = p.query("count_over_time(up[1m])");
        r.first()
            .and_then(|s| s["value"][1].as_str())
            .and_then(|v| v.parse::<f64>().ok())
            .is_some_and(|n| n >= 5.0)
    });
    let mut b = Browser::start(1280, 1000).await;
    b.goto(&p.url("/graph"), SETTLE).await;

    // The Status menu opens on hover with Prometheus's entries.
    let at = b
        .eval("(() => { const r = document.querySelector('.menu button').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()")
        .await;
    let coord = |i: usize| at[i].as_f64().expect("menu button position");
    b.mouse_move(coord(0), coord(1)).await;
    b.wait_for(
        "getComputedStyle(document.querySelector('.menu-items')).display === 'block'",
        "the Status menu",
    )
    .await;
    let entries = b
        .eval("[...document.querySelectorAll('.menu-items a')].map(a => a.textContent).join('|')")
        .await;
    assert_eq!(
        entries,
        "Runtime & Build Information|Command-Line Flags|Configuration|Targets|Service Discovery|TSDB Status"
    );
    save("nav-status-menu", &b.screenshot().await);
    b.mouse_move(900.0, 600.0).await;

    // Completion from /api/v1/label/__name__/values, picked with the keyboard.
    b.eval("document.querySelector('textarea').focus()").await;
    b.type_text("scrape_dur").await;
    b.wait_for(
        "[...document.querySelectorAll('.complete .item')].some(e => e.textContent === 'scrape_duration_seconds')",
        "the completion list",
    )
    .await;
    save("graph-completion", &b.screenshot().await);
    b.press("ArrowDown").await;
    b.press("Enter").await;
    assert_eq!(
        b.eval("document.querySelector('textarea').value").await,
        "scrape_duration_seconds"
    );

    // Enter runs the query in the Table tab; the URL now carries it.
    b.press("Enter").await;
    b.wait_for(
        "document.querySelectorAll('tr.sample').length === 1",
        "one table row",
    )
    .await;
    let row = b
        .eval("document.querySelector('tr.sample td.series').textContent")
        .await;
    assert_eq!(
        row,
        format!(
            "scrape_duration_seconds{{instance=\"127.0.0.1:{}\", job=\"pyrometer\"}}",
            p.port
        )
    );
    let search = b.eval("location.search").await;
    assert!(
        search.as_str().is_some_and(
            |s| s.contains("g0.expr=scrape_duration_seconds") && s.contains("g0.tab=1")
        ),
        "{search}"
    );

    // The Graph tab over the last minute, then a hover over the line.
    b.eval("[...document.querySelectorAll('.tabs button')].find(e => e.textContent === 'Graph').click()")
        .await;
    b.wait_for(
        "document.querySelector('.graph canvas') !== null",
        "the chart",
    )
    .await;
    b.eval("(() => { const i = document.querySelector('input[aria-label=range]'); i.value = '1m'; i.dispatchEvent(new Event('change')); })()")
        .await;
    b.wait_for(
        "Number((document.querySelector('.graph') || {dataset: {}}).dataset.points) >= 5",
        "points on the chart",
    )
    .await;
    let rect = b
        .eval("(() => { const r = document.querySelector('.u-over').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()")
        .await;
    let num = |i: usize| rect[i].as_f64().expect("rect number");
    let mut shown = false;
    for step in 0..40 {
        let x = num(0) + num(2) * (0.995 - step as f64 * 0.005);
        b.mouse_move(x, num(1) + num(3) / 2.0).await;
        if b.eval("document.querySelector('.hover').style.display === 'block'")
            .await
            == true
        {
            shown = true;
            break;
        }
    }
    assert!(shown, "no hover box over the line");
    let hover = b.eval("document.querySelector('.hover').textContent").await;
    assert!(
        hover
            .as_str()
            .is_some_and(|h| h.contains("scrape_duration_seconds{") && h.contains("value: ")),
        "{hover}"
    );
    save("graph-hover", &b.screenshot().await);

    // After a reload the query is in the history the empty expression box offers on ↓.
    b.goto(&p.url("/graph"), SETTLE).await;
    b.eval("document.querySelector('textarea').focus()").await;
    b.press("ArrowDown").await;
    b.wait_for(
        "[...document.querySelectorAll('.complete .head')].some(e => e.textContent === 'Query history')",
        "the query history",
    )
    .await;
    let first = b
        .eval("document.querySelector('.complete .item').textContent")
        .await;
    assert_eq!(first, "scrape_duration_seconds");
    save("graph-history", &b.screenshot().await);

    // Functions complete with their opening parenthesis.
    b.press("Escape").await;
    b.type_text("sum(rat").await;
    b.wait_for(
        "[...document.querySelectorAll('.complete .item')].some(e => e.textContent === 'rate')",
        "the function completion",
    )
    .await;
    let pick =
        "[...document.querySelectorAll('.complete .item')].find(e => e.textContent === 'rate')\
        .dispatchEvent(new MouseEvent('mousedown', {bubbles: true}))";
    b.eval(pick).await;
    assert_eq!(
        b.eval("document.querySelector('textarea').value").await,
        "sum(rate("
    );
}
