//! The job actor: one per `scrape_config`, owning that job's target actors (its scrape pool).
//!
//! It turns discovered target groups into targets and reconciles its actors by target
//! identity: a target whose spec is unchanged keeps its actor, schedule phase and cache; a
//! new one gets an actor on the next arbiter in turn; a removed one is stopped, which writes
//! staleness markers for its series.

use super::registry::{Health, TargetStatus};
use super::target::{StopTarget, TargetActor, TargetSpec};
use super::targets::{build_targets, BuiltTarget};
use super::ScrapeContext;
use crate::config::ScrapeConfig;
use crate::discovery::{static_groups, TargetGroup};
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
}

impl JobActor {
    pub fn new(cfg: ScrapeConfig, ctx: Arc<ScrapeContext>) -> Self {
        let mut groups = BTreeMap::new();
        groups.insert("static".to_string(), static_groups(&cfg.static_configs));
        JobActor {
            cfg,
            ctx,
            groups,
            running: HashMap::new(),
        }
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
                r.addr.do_send(StopTarget);
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
            r.addr.do_send(StopTarget);
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

    fn started(&mut self, _: &mut Context<Self>) {
        self.reconcile();
    }
}

/// A changed scrape config for this job.
#[derive(Message)]
#[rtype(result = "()")]
pub struct UpdateJob(pub ScrapeConfig);

impl Handler<UpdateJob> for JobActor {
    type Result = ();

    fn handle(&mut self, msg: UpdateJob, _: &mut Context<Self>) {
        self.cfg = msg.0;
        self.groups.insert(
            "static".to_string(),
            static_groups(&self.cfg.static_configs),
        );
        self.reconcile();
    }
}

/// New target groups from one discovery provider (replacing its previous ones).
#[derive(Message)]
#[rtype(result = "()")]
pub struct TargetGroups {
    pub provider: String,
    pub groups: Vec<TargetGroup>,
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
