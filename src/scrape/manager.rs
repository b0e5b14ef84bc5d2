//! The scrape manager: owns the loaded configuration and one job actor per scrape config.
//!
//! Applying a configuration is a diff by job name: an unchanged job is not touched (its
//! targets keep scraping on their schedule), a changed one is updated in place, a removed one
//! is stopped, a new one is started.

use super::job::{JobActor, StopJob, UpdateJob};
use super::ScrapeContext;
use crate::config::{Config, ScrapeConfig};
use actix::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;

pub struct ScrapeManager {
    ctx: Arc<ScrapeContext>,
    jobs: BTreeMap<String, (ScrapeConfig, Addr<JobActor>)>,
}

impl ScrapeManager {
    pub fn new(ctx: Arc<ScrapeContext>) -> Self {
        ScrapeManager {
            ctx,
            jobs: BTreeMap::new(),
        }
    }
}

impl Actor for ScrapeManager {
    type Context = Context<Self>;
}

/// Apply a validated configuration.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ApplyConfig(pub Arc<Config>);

impl Handler<ApplyConfig> for ScrapeManager {
    type Result = ();

    fn handle(&mut self, msg: ApplyConfig, _: &mut Context<Self>) {
        let mut next: BTreeMap<String, ScrapeConfig> = msg
            .0
            .scrape_configs
            .iter()
            .map(|c| (c.job_name.clone(), c.clone()))
            .collect();
        let names: Vec<String> = self.jobs.keys().cloned().collect();
        for name in names {
            match next.remove(&name) {
                Some(cfg) => {
                    if let Some((old, addr)) = self.jobs.get_mut(&name) {
                        if *old != cfg {
                            log::info!("updating scrape job {name:?}");
                            *old = cfg.clone();
                            addr.do_send(UpdateJob(cfg));
                        }
                    }
                }
                None => {
                    if let Some((_, addr)) = self.jobs.remove(&name) {
                        log::info!("stopping scrape job {name:?}");
                        addr.do_send(StopJob);
                    }
                }
            }
        }
        for (name, cfg) in next {
            let addr = JobActor::new(cfg.clone(), self.ctx.clone()).start();
            self.jobs.insert(name, (cfg, addr));
        }
    }
}

/// Stop every job (shutdown).
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopAll;

impl Handler<StopAll> for ScrapeManager {
    type Result = ();

    fn handle(&mut self, _: StopAll, _: &mut Context<Self>) {
        for (_, (_, addr)) in std::mem::take(&mut self.jobs) {
            addr.do_send(StopJob);
        }
    }
}
