//! The job actor: one per `scrape_config`, owning that job's target actors (its scrape pool).
//!
//! It turns discovered target groups into targets and reconciles its actors by target
//! identity: a target whose spec is unchanged keeps its actor, schedule phase and cache; a
//! new one gets an actor on the next arbiter in turn; a removed one is stopped, which writes
//! staleness markers for its series; one whose settings changed gets a new actor, and its
//! old one stops without markers, since the series go on.
//!
//! The job's discovery providers (file, HTTP, DNS) run as futures in this actor's context:
//! they send their groups as [`TargetGroups`] messages and end with the actor. A reload that
//! changes the discovery sections restarts them; until a restarted provider reports, the
//! groups it found before stay, so unchanged targets keep scraping.

use super::registry::{Health, TargetStatus};
use super::target::{StopTarget, TargetActor, TargetSpec};
use super::targets::{build_targets, BuiltTarget};
use super::ScrapeContext;
use crate::config::ScrapeConfig;
use crate::discovery::{self, static_groups, ProviderCtx, TargetGroup, TargetGroups};
use actix::prelude::*;
use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

struct Running {
    spec: Arc<TargetSpec>,
    addr: Addr<TargetActor>,
}

pub struct JobActor {
    cfg: ScrapeConfig,
    ctx: Arc<ScrapeContext>,
    /// Target groups by provider source, as last discovered.
    groups: BTreeMap<String, Vec<TargetGroup>>,
    running: HashMap<u64, Running>,
    /// The running discovery providers, cancelled when the discovery sections change.
    providers: Vec<SpawnHandle>,
}

/// The name of the static provider in `groups`.
const STATIC: &str = "static";

impl JobActor {
    pub fn new(cfg: ScrapeConfig, ctx: Arc<ScrapeContext>) -> Self {
        let mut groups = BTreeMap::new();
        groups.insert(STATIC.to_string(), static_groups(&cfg.static_configs));
        JobActor {
            cfg,
            ctx,
            groups,
            running: HashMap::new(),
            providers: Vec::new(),
        }
    }

    /// (Re)starts the job's discovery providers. Groups of providers that no longer exist
    /// go; the others stay until their restarted provider reports.
    fn start_providers(&mut self, ctx: &mut Context<Self>) {
        for h in self.providers.drain(..) {
            ctx.cancel_future(h);
        }
        let out = ctx.address().recipient::<TargetGroups>();
        let providers = discovery::providers(&self.cfg, |name| ProviderCtx {
            job: self.cfg.job_name.clone(),
            name,
            out: out.clone(),
            status: self.ctx.registry.sd.clone(),
            metrics: self.ctx.metrics.clone(),
        });
        let mut names = vec![STATIC.to_string()];
        for (name, f) in providers {
            names.push(name);
            self.providers.push(ctx.spawn(f.into_actor(self)));
        }
        self.groups.retain(|name, _| names.contains(name));
        // The new providers report their failures afresh.
        self.ctx.registry.sd.remove_job(&self.cfg.job_name);
    }

    fn reconcile(&mut self) {
        let all: Vec<TargetGroup> = self.groups.values().flatten().cloned().collect();
        let (mut built, dropped) = build_targets(&self.cfg, &all);
        if self.cfg.target_limit > 0 && built.len() > self.cfg.target_limit as usize {
            log::warn!(
                "job {:?} has {} targets, more than target_limit {}: only the first {} are scraped",
                self.cfg.job_name,
                built.len(),
                self.cfg.target_limit,
                self.cfg.target_limit
            );
            built.truncate(self.cfg.target_limit as usize);
        }
        self.ctx.registry.set_dropped(&self.cfg.job_name, dropped);

        let mut wanted: HashMap<u64, BuiltTarget> =
            built.into_iter().map(|t| (t.spec.key, t)).collect();
        let keys: Vec<u64> = self.running.keys().copied().collect();
        for key in keys {
            let unchanged = match (wanted.get(&key), self.running.get(&key)) {
                (Some(w), Some(r)) => same_scrape(&w.spec, &r.spec),
                _ => false,
            };
            if unchanged {
                wanted.remove(&key);
            } else if let Some(r) = self.running.remove(&key) {
                self.ctx.registry.remove(key);
                // A target still wanted is replaced, not removed: its series go on.
                let stale = !wanted.contains_key(&key);
                r.addr.do_send(StopTarget { stale });
            }
        }
        for (key, t) in wanted {
            let spec = Arc::new(t.spec);
            let status = Arc::new(TargetStatus {
                key,
                scrape_pool: self.cfg.job_name.clone(),
                scrape_url: t.scrape_url,
                discovered_labels: t.discovered_labels,
                labels: t.labels,
                interval: spec.interval,
                timeout: spec.fetch.timeout,
                health: RwLock::new(Health::default()),
                metadata: RwLock::new(Arc::new(BTreeMap::new())),
            });
            self.ctx.registry.insert(status.clone());
            let addr = self.ctx.start_target(spec.clone(), status);
            self.running.insert(key, Running { spec, addr });
        }
    }

    fn stop_all(&mut self) {
        for (key, r) in self.running.drain() {
            self.ctx.registry.remove(key);
            r.addr.do_send(StopTarget { stale: true });
        }
        self.ctx.registry.remove_pool(&self.cfg.job_name);
    }
}

/// Whether two specs of the same identity scrape the same way (so the actor can stay).
fn same_scrape(a: &TargetSpec, b: &TargetSpec) -> bool {
    a.interval == b.interval
        && a.fetch == b.fetch
        && a.ingest.target_labels == b.ingest.target_labels
        && a.ingest.honor_labels == b.ingest.honor_labels
        && a.ingest.honor_timestamps == b.ingest.honor_timestamps
        && a.ingest.sample_limit == b.ingest.sample_limit
        && a.ingest.label_limit == b.ingest.label_limit
        && a.ingest.label_name_length_limit == b.ingest.label_name_length_limit
        && a.ingest.label_value_length_limit == b.ingest.label_value_length_limit
        && a.ingest.metric_relabel_configs == b.ingest.metric_relabel_configs
}

impl Actor for JobActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.start_providers(ctx);
        self.reconcile();
    }
}

/// A changed scrape config for this job.
#[derive(Message)]
#[rtype(result = "()")]
pub struct UpdateJob(pub ScrapeConfig);

impl Handler<UpdateJob> for JobActor {
    type Result = ();

    fn handle(&mut self, msg: UpdateJob, ctx: &mut Context<Self>) {
        let sd_changed = msg.0.file_sd_configs != self.cfg.file_sd_configs
            || msg.0.http_sd_configs != self.cfg.http_sd_configs
            || msg.0.dns_sd_configs != self.cfg.dns_sd_configs;
        self.cfg = msg.0;
        self.groups
            .insert(STATIC.to_string(), static_groups(&self.cfg.static_configs));
        if sd_changed {
            self.start_providers(ctx);
        }
        self.reconcile();
    }
}

impl Handler<TargetGroups> for JobActor {
    type Result = ();

    fn handle(&mut self, msg: TargetGroups, _: &mut Context<Self>) {
        self.groups.insert(msg.provider, msg.groups);
        self.reconcile();
    }
}

/// Stops the job and all its targets.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopJob;

impl Handler<StopJob> for JobActor {
    type Result = ();

    fn handle(&mut self, _: StopJob, ctx: &mut Context<Self>) {
        self.stop_all();
        ctx.stop();
    }
}
