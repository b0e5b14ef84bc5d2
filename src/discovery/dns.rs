//! `dns_sd_configs` for A and AAAA records: every address a name resolves to becomes a
//! target `<address>:<port>`, looked up again every `refresh_interval`.
//!
//! Names are resolved with the system resolver (`getaddrinfo`, so `/etc/hosts` counts), which
//! answers addresses only: SRV, MX and NS records need a DNS client and are not looked up
//! (`Config::unsupported_features` reports them). A failed lookup is logged, counted in
//! `prometheus_sd_dns_lookup_failures_total` and shown on the service discovery page; the
//! name keeps its last good targets. Every group carries `__meta_dns_name`.

use super::{refresh_every, ProviderCtx, TargetGroup, ADDRESS_LABEL};
use crate::config::{DnsRecordType, DnsSdConfig};
use crate::model::Labels;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;

/// The meta label naming the DNS name a target came from.
pub const NAME_LABEL: &str = "__meta_dns_name";

/// Whether this provider can resolve the config's record type.
pub fn supports(record_type: DnsRecordType) -> bool {
    matches!(record_type, DnsRecordType::A | DnsRecordType::Aaaa)
}

/// Runs one `dns_sd_configs` entry until the job stops (the future is dropped with it).
pub async fn run(p: ProviderCtx, cfg: DnsSdConfig) {
    let Some(port) = cfg.port.filter(|_| supports(cfg.record_type)) else {
        log::warn!(
            "job {:?}: DNS discovery of {} records is not supported, only A and AAAA; names {:?} give no targets",
            p.job,
            cfg.record_type.as_str(),
            cfg.names
        );
        return;
    };
    let mut last: BTreeMap<String, TargetGroup> = BTreeMap::new();
    let mut sent: Option<Vec<TargetGroup>> = None;
    loop {
        for name in &cfg.names {
            match tokio::net::lookup_host((name.as_str(), port)).await {
                Ok(addrs) => {
                    p.report(name, None);
                    let addrs: Vec<SocketAddr> = addrs.collect();
                    last.insert(name.clone(), group(name, cfg.record_type, &addrs));
                }
                Err(e) => {
                    p.metrics
                        .sd_dns_lookup_failures_total
                        .fetch_add(1, Ordering::Relaxed);
                    let msg = format!("cannot resolve DNS name {name:?}: {e}");
                    log::error!("job {:?}: {msg}; keeping its last targets", p.job);
                    p.report(name, Some(msg));
                }
            }
        }
        let groups: Vec<TargetGroup> = last.values().cloned().collect();
        if sent.as_ref() != Some(&groups) {
            sent = Some(groups.clone());
            p.send(groups);
        }
        tokio::time::sleep(refresh_every(cfg.refresh_interval)).await;
    }
}

/// The group of one name: its addresses of the wanted family, sorted and deduplicated
/// (`getaddrinfo` lists an address once per socket type).
fn group(name: &str, record_type: DnsRecordType, addrs: &[SocketAddr]) -> TargetGroup {
    let mut wanted: Vec<String> = addrs
        .iter()
        .filter(|a| match record_type {
            DnsRecordType::Aaaa => a.is_ipv6(),
            _ => a.is_ipv4(),
        })
        .map(|a| a.to_string())
        .collect();
    wanted.sort();
    wanted.dedup();
    TargetGroup {
        source: name.to_string(),
        targets: wanted
            .iter()
            .map(|a| Labels::from_pairs(&[(ADDRESS_LABEL, a.as_str())]))
            .collect(),
        labels: Labels::from_pairs(&[(NAME_LABEL, name)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_keep_the_wanted_family_once() {
        let addrs: Vec<SocketAddr> = ["127.0.0.1:9", "[::1]:9", "127.0.0.1:9", "10.0.0.1:9"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        let a = group("h", DnsRecordType::A, &addrs);
        let got: Vec<&str> = a
            .targets
            .iter()
            .filter_map(|t| t.get(ADDRESS_LABEL))
            .collect();
        assert_eq!(got, ["10.0.0.1:9", "127.0.0.1:9"]);
        assert_eq!(a.labels.get(NAME_LABEL), Some("h"));
        let aaaa = group("h", DnsRecordType::Aaaa, &addrs);
        assert_eq!(aaaa.targets[0].get(ADDRESS_LABEL), Some("[::1]:9"));
    }

    #[actix_rt::test]
    async fn localhost_resolves_on_loopback() {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host(("localhost", 9))
            .await
            .unwrap()
            .collect();
        let g = group("localhost", DnsRecordType::A, &addrs);
        assert!(g
            .targets
            .iter()
            .any(|t| t.get(ADDRESS_LABEL) == Some("127.0.0.1:9")));
    }
}
