//! The HTTP front end (actix-web): the Prometheus HTTP API under `/api/v1`, the server-rendered
//! pages, the lifecycle endpoints and `/metrics` about Pyrometer itself.
//!
//! Handlers read shared state (the database, the target registry) directly; none of them messages
//! scrape actors, so a page view costs the same with ten targets or ten thousand.

pub mod api;
mod lifecycle;
pub mod ui;

use crate::config::Config;
use crate::flags::Flags;
use crate::scrape::TargetRegistry;
use crate::selfmetrics::SelfMetrics;
use crate::storage::Db;
use actix_web::web;
use parking_lot::RwLock;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::SystemTime;

/// Reloads the configuration file; implemented by the server wiring.
pub trait Reload: Send + Sync {
    /// Loads and applies the configuration file; an invalid file changes nothing.
    fn reload(&self) -> Result<(), String>;
}

/// State shared by every handler, built once before the server starts.
pub struct AppState {
    pub db: Arc<Db>,
    pub registry: Arc<TargetRegistry>,
    pub metrics: Arc<SelfMetrics>,
    pub config: Arc<RwLock<Arc<Config>>>,
    pub flags: Flags,
    pub start_time: SystemTime,
    pub ready: Arc<AtomicBool>,
    pub reloader: Arc<dyn Reload>,
    pub quit: Arc<tokio::sync::Notify>,
    pub engine: crate::promql::Engine,
}

/// Registers every route; used by the server and by in-process handler tests.
pub fn routes(cfg: &mut web::ServiceConfig) {
    lifecycle::routes(cfg);
    api::routes(cfg);
    ui::routes(cfg);
}
