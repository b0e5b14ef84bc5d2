//! Pyrometer: a Prometheus-compatible monitoring server, built as an actor-based concurrent
//! scraping engine. See `DESIGN.md` in the repository docs for the path of a sample.

pub mod model;
pub mod promql;
pub mod storage;
