//! Pyrometer: a Prometheus-compatible monitoring server, built as an actor-based concurrent
//! scraping engine.
//!
//! The path of a sample:
//!
//! ```text
//! prometheus.yml ─► config ─► scrape::ScrapeManager ─► scrape::JobActor (per scrape_config)
//!                              discovery (static, file, http) + relabel
//!                                              ─► scrape::TargetActor (per target, own schedule)
//!                                                   awc GET ─► textparse ─► scrape cache
//!                                                   ─► storage::Head (sharded map + postings)
//! web (actix-web: /api/v1/*, pages) ─► promql::Engine ─► storage::Queryable
//! ```
//!
//! Where the code departs from the original design, and why:
//! - The exposition parser is its own top-level module, `textparse`, not `scrape::parse`: it
//!   knows nothing of actors or HTTP and can become a crate of its own.
//! - Target actors append to the head directly through its sharded appender rather than
//!   messaging a store actor with every batch: the head's shards are the concurrency
//!   boundary, so one mailbox never serializes all appends. The store actor keeps the
//!   background work (retention).
//! - The on-disk formats (Gorilla chunks, write-ahead log) live in `tsdb`, apart from the
//!   head that uses them.

pub mod config;
pub mod discovery;
pub mod flags;
pub mod httpclient;
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
