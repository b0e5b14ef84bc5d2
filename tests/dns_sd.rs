//! DNS service discovery of A and AAAA records, on the loopback name `localhost` only.

mod support;

use std::time::Duration;
use support::*;

#[test]
fn localhost_a_records_become_targets() {
    let config = "global:\n  scrape_interval: 1m\nscrape_configs:\n- job_name: dns\n  dns_sd_configs:\n    - names: [localhost]\n      type: A\n      port: 7201\n";
    let p = Pyrometer::start(config, &[]);
    wait_until(Duration::from_secs(5), "localhost resolved", || {
        let t = p.get_json("/api/v1/targets");
        t["data"]["activeTargets"].as_array().is_some_and(|a| {
            a.iter()
                .any(|t| t["labels"]["instance"] == "127.0.0.1:7201")
        })
    });
    let t = p.get_json("/api/v1/targets");
    let target = t["data"]["activeTargets"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|t| t["labels"]["instance"] == "127.0.0.1:7201")
        })
        .cloned()
        .unwrap();
    assert_eq!(target["discoveredLabels"]["__meta_dns_name"], "localhost");
    assert_eq!(target["scrapePool"], "dns");
}
