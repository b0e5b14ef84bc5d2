//! Service discovery: where targets come from.
//!
//! Input: a scrape config's discovery sections. Output: target groups, each a list of targets
//! (label sets holding at least `__address__`) and labels common to the group, as Prometheus
//! models them. `static_configs` give their groups once; the file, HTTP and DNS providers run
//! as tasks of the job actor and send it the full list of their groups ([`TargetGroups`])
//! whenever it changes. A provider that fails keeps its last good groups and records the
//! failure in [`SdStatus`] for the service discovery page.

pub mod dns;
pub mod file;
mod groups;
pub mod http;
mod status;

pub use groups::{parse_groups, GroupFormat, GroupsError};
pub use status::SdStatus;

use crate::config::{ScrapeConfig, StaticConfig};
use crate::model::{Labels, LabelsBuilder};
use crate::selfmetrics::SelfMetrics;
use actix::prelude::*;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// The label that holds a target's `host:port`.
pub const ADDRESS_LABEL: &str = "__address__";

/// The shortest refresh interval a provider honours: the config accepts `0s`, which would
/// make a provider re-read or re-fetch in a tight loop.
const MIN_REFRESH: Duration = Duration::from_secs(1);

/// A configured refresh interval, raised to [`MIN_REFRESH`].
fn refresh_every(configured: Duration) -> Duration {
    configured.max(MIN_REFRESH)
}

/// A group of targets from one source, with labels shared by all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetGroup {
    /// Identifies the group inside its provider (e.g. file path and index).
    pub source: String,
    pub targets: Vec<Labels>,
    pub labels: Labels,
}

/// New target groups from one discovery provider, replacing all its previous ones.
#[derive(Message, Debug)]
#[rtype(result = "()")]
pub struct TargetGroups {
    pub provider: String,
    pub groups: Vec<TargetGroup>,
}

/// What a running provider needs besides its own config: where to send its groups and
/// where to report failures.
#[derive(Clone)]
pub struct ProviderCtx {
    /// The job (scrape pool) the provider belongs to.
    pub job: String,
    /// The provider's name inside the job, e.g. `file_sd_configs/0`.
    pub name: String,
    pub out: Recipient<TargetGroups>,
    pub status: Arc<SdStatus>,
    pub metrics: Arc<SelfMetrics>,
}

impl ProviderCtx {
    fn send(&self, groups: Vec<TargetGroup>) {
        self.out.do_send(TargetGroups {
            provider: self.name.clone(),
            groups,
        });
    }

    /// Records (or clears, with `None`) the failure of one source of this provider.
    fn report(&self, source: &str, error: Option<String>) {
        self.status.set(&self.job, &self.name, source, error);
    }
}

/// A running provider: a future that never ends by itself, run in the job actor's context
/// and dropped with it.
pub type Provider = Pin<Box<dyn Future<Output = ()>>>;

/// The providers of a scrape config, one per `file_sd_configs`, `http_sd_configs` and
/// `dns_sd_configs` entry, named `<section>/<index>`; `ctx_for` gives each its context.
pub fn providers(
    cfg: &ScrapeConfig,
    ctx_for: impl Fn(String) -> ProviderCtx,
) -> Vec<(String, Provider)> {
    let mut out: Vec<(String, Provider)> = Vec::new();
    for (i, c) in cfg.file_sd_configs.iter().enumerate() {
        let name = format!("file_sd_configs/{i}");
        out.push((name.clone(), Box::pin(file::run(ctx_for(name), c.clone()))));
    }
    for (i, c) in cfg.http_sd_configs.iter().enumerate() {
        let name = format!("http_sd_configs/{i}");
        out.push((name.clone(), Box::pin(http::run(ctx_for(name), c.clone()))));
    }
    for (i, c) in cfg.dns_sd_configs.iter().enumerate() {
        let name = format!("dns_sd_configs/{i}");
        out.push((name.clone(), Box::pin(dns::run(ctx_for(name), c.clone()))));
    }
    out
}

/// The groups of a job's `static_configs`, one per entry.
pub fn static_groups(configs: &[StaticConfig]) -> Vec<TargetGroup> {
    configs
        .iter()
        .enumerate()
        .map(|(i, sc)| {
            let mut labels = LabelsBuilder::new();
            for (k, v) in &sc.labels {
                labels.set(k, v);
            }
            TargetGroup {
                source: i.to_string(),
                targets: sc
                    .targets
                    .iter()
                    .map(|t| Labels::from_pairs(&[(ADDRESS_LABEL, t.as_str())]))
                    .collect(),
                labels: labels.build(),
            }
        })
        .collect()
}
