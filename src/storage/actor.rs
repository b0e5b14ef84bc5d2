//! The store actor: background work on the head, off the append path — for now retention.

use super::Head;
use actix::prelude::*;
use std::sync::Arc;
use std::time::Duration;

/// How often retention runs. A minute keeps the head within a minute of the configured
/// retention while costing one pass over the series per minute.
const RETENTION_EVERY: Duration = Duration::from_secs(60);

pub struct StoreActor {
    head: Arc<Head>,
    retention: Duration,
}

impl StoreActor {
    pub fn new(head: Arc<Head>, retention: Duration) -> Self {
        StoreActor { head, retention }
    }

    fn apply_retention(&self) {
        let mint = crate::model::now_millis() - self.retention.as_millis() as i64;
        let head = self.head.clone();
        // A pass over every series: run it on the blocking pool, never on this arbiter.
        actix_web::rt::task::spawn_blocking(move || {
            let removed = head.truncate_before(mint);
            if removed > 0 {
                log::info!("retention removed {removed} series with no samples left");
            }
        });
    }
}

impl Actor for StoreActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(RETENTION_EVERY, |act, _| act.apply_retention());
    }
}
