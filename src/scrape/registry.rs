//! The shared registry of targets and their health.
//!
//! Target actors write their own entry after each scrape; the web layer reads the registry
//! directly, so a page view never messages thousands of actors.

use crate::discovery::SdStatus;
use crate::model::Labels;
use dashmap::DashMap;
use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A target's state as Prometheus names it in the API (`health`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthState {
    Unknown,
    Up,
    Down,
}

impl HealthState {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Unknown => "unknown",
            HealthState::Up => "up",
            HealthState::Down => "down",
        }
    }
}

/// The outcome of the last scrape of a target.
#[derive(Debug, Clone)]
pub struct Health {
    pub state: HealthState,
    pub last_error: String,
    pub last_scrape: Option<SystemTime>,
    pub last_duration: Duration,
    pub samples: usize,
    /// Samples rejected by the head in the last scrape (out of order or duplicate timestamp).
    pub rejected_samples: usize,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            state: HealthState::Unknown,
            last_error: String::new(),
            last_scrape: None,
            last_duration: Duration::ZERO,
            samples: 0,
            rejected_samples: 0,
        }
    }
}

/// Metadata of one metric family as exposed by a target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricMeta {
    pub kind: String,
    pub help: String,
    pub unit: String,
}

/// Everything the API says about one active target. The static part is fixed for the life
/// of the target actor; `health` and `metadata` are updated after each scrape.
#[derive(Debug)]
pub struct TargetStatus {
    pub key: u64,
    pub scrape_pool: String,
    pub scrape_url: String,
    pub discovered_labels: Labels,
    pub labels: Labels,
    pub interval: Duration,
    pub timeout: Duration,
    pub health: RwLock<Health>,
    pub metadata: RwLock<Arc<BTreeMap<String, MetricMeta>>>,
}

/// A target dropped by relabeling, kept for the API's `droppedTargets`.
#[derive(Debug, Clone)]
pub struct DroppedTarget {
    pub scrape_pool: String,
    pub discovered_labels: Labels,
}

#[derive(Default)]
pub struct TargetRegistry {
    active: DashMap<u64, Arc<TargetStatus>>,
    dropped: DashMap<String, Vec<DroppedTarget>>,
    /// Failures of the discovery providers, written by the providers themselves.
    pub sd: Arc<SdStatus>,
}

impl TargetRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&self, status: Arc<TargetStatus>) {
        self.active.insert(status.key, status);
    }

    pub fn remove(&self, key: u64) {
        self.active.remove(&key);
    }

    pub fn set_dropped(&self, pool: &str, dropped: Vec<DroppedTarget>) {
        if dropped.is_empty() {
            self.dropped.remove(pool);
        } else {
            self.dropped.insert(pool.to_string(), dropped);
        }
    }

    pub fn remove_pool(&self, pool: &str) {
        self.dropped.remove(pool);
        self.sd.remove_job(pool);
        self.active.retain(|_, t| t.scrape_pool != pool);
    }

    /// Active targets sorted by scrape pool, then labels: the order of the targets page.
    pub fn active(&self) -> Vec<Arc<TargetStatus>> {
        let mut out: Vec<Arc<TargetStatus>> =
            self.active.iter().map(|e| e.value().clone()).collect();
        out.sort_by(|a, b| (&a.scrape_pool, &a.labels).cmp(&(&b.scrape_pool, &b.labels)));
        out
    }

    pub fn dropped(&self) -> Vec<DroppedTarget> {
        let mut pools: Vec<(String, Vec<DroppedTarget>)> = self
            .dropped
            .iter()
            .map(|e| (e.key().clone(), e.value().clone()))
            .collect();
        pools.sort_by(|a, b| a.0.cmp(&b.0));
        pools.into_iter().flat_map(|(_, d)| d).collect()
    }

    pub fn len(&self) -> usize {
        self.active.len()
    }

    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }
}
