//! Pyrometer: a Prometheus-compatible monitoring server, built as an actor-based concurrent
//! scraping engine.
//!
//! The path of a sample: `config` → `discovery` → `scrape` (actors; `textparse` for the
//! bodies) → `storage` (the head) → `promql` → `web` (API and pages).

pub mod config;
pub mod discovery;
pub mod flags;
pub mod logging;
pub mod model;
pub mod promql;
pub mod relabel;
pub mod scrape;
pub mod selfmetrics;
pub mod server;
pub mod storage;
pub mod textparse;
pub mod tsdb;
pub mod web;
