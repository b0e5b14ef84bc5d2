//! Scraping: the actors that pull metrics from targets and write them to the head.
//!
//! Input: scrape configs (from the manager) and target groups (from discovery).
//! Output: batches of samples appended to the head, one per scrape, and target health in the
//! shared [`TargetRegistry`].
//!
//! ```text
//! ScrapeManager ─► JobActor (per scrape_config) ─► TargetActor (per target, own schedule)
//!                                                    │ awc GET ─► textparse ─► scrape cache
//!                                                    ▼
//!                                                  Head (sharded; appended directly)
//! ```
//!
//! Target actors append to the head directly through its sharded appender instead of
//! sending every batch through one store mailbox: the head's shards are the concurrency
//! boundary, so appends from all arbiter threads proceed in parallel. Target actors are spread
//! over one arbiter (thread) per core.

mod cache;
mod http;
mod ingest;
#[cfg(test)]
mod ingest_tests;
mod job;
mod manager;
mod registry;
mod series_index;
mod target;
mod targets;

pub use crate::discovery::TargetGroups;
pub use cache::ScrapeCache;
pub use http::{FetchError, FetchSettings};
pub use ingest::{ingest, IngestError, IngestReport, IngestSettings, REPORT_SERIES};
pub use job::JobActor;
pub use manager::{ApplyConfig, ScrapeManager, StopAll};
pub use registry::{DroppedTarget, Health, HealthState, MetricMeta, TargetRegistry, TargetStatus};
pub use target::{first_slot, TargetActor, TargetSpec};
pub use targets::{build_targets, BuiltTarget};

use crate::selfmetrics::SelfMetrics;
use crate::storage::Db;
use actix::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// What every scrape actor shares: the head, the registry, the metrics and the arbiters.
pub struct ScrapeContext {
    pub head: Arc<Db>,
    pub registry: Arc<TargetRegistry>,
    pub metrics: Arc<SelfMetrics>,
    arbiters: Vec<ArbiterHandle>,
    next: AtomicUsize,
}

impl ScrapeContext {
    /// Starts one arbiter (thread) per `threads` for the target actors.
    pub fn new(
        head: Arc<Db>,
        registry: Arc<TargetRegistry>,
        metrics: Arc<SelfMetrics>,
        threads: usize,
    ) -> Self {
        let arbiters = (0..threads.max(1))
            .map(|_| Arbiter::new().handle())
            .collect();
        ScrapeContext {
            head,
            registry,
            metrics,
            arbiters,
            next: AtomicUsize::new(0),
        }
    }

    fn start_target(&self, spec: Arc<TargetSpec>, status: Arc<TargetStatus>) -> Addr<TargetActor> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.arbiters.len();
        let (head, metrics) = (self.head.clone(), self.metrics.clone());
        TargetActor::start_in_arbiter(&self.arbiters[i], move |_| {
            TargetActor::new(spec, status, head, metrics)
        })
    }

    pub fn threads(&self) -> usize {
        self.arbiters.len()
    }
}
