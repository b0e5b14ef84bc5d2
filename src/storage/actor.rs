//! The store actor: background work on the database, off the append path — the WAL flush
//! cadence, moving old chunks to block files, retention, and head snapshots.

use super::Db;
use actix::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How often persistence and retention are checked. A minute keeps the head within a
/// minute of its cut time and blocks within a minute of the retention time, for one pass
/// over the series per minute.
const MAINTENANCE_EVERY: Duration = Duration::from_secs(60);

pub struct StoreActor {
    db: Arc<Db>,
    /// Set while a maintenance pass runs, so a slow pass is not queued behind another.
    busy: Arc<AtomicBool>,
    /// Set while a snapshot is written, for the same reason.
    snapshotting: Arc<AtomicBool>,
}

impl StoreActor {
    pub fn new(db: Arc<Db>) -> Self {
        StoreActor {
            db,
            busy: Arc::new(AtomicBool::new(false)),
            snapshotting: Arc::new(AtomicBool::new(false)),
        }
    }

    fn snapshot(&self) {
        if self.snapshotting.swap(true, Ordering::AcqRel) {
            return;
        }
        let (db, busy) = (self.db.clone(), self.snapshotting.clone());
        actix_web::rt::task::spawn_blocking(move || {
            if let Err(e) = db.write_snapshot() {
                log::warn!("cannot write a head snapshot, a crash now replays more of the write-ahead log: {e}");
            }
            busy.store(false, Ordering::Release);
        });
    }

    fn maintain(&self) {
        if self.busy.swap(true, Ordering::AcqRel) {
            return;
        }
        let (db, busy) = (self.db.clone(), self.busy.clone());
        // Passes over every series and file writes: on the blocking pool, never this arbiter.
        actix_web::rt::task::spawn_blocking(move || {
            let now = crate::model::now_millis();
            match db.persist(now) {
                // Snapshots taken before a block cut are no longer usable (their chunks are
                // in the block too): take a fresh one now rather than at the next tick.
                Ok(n) if n > 0 && !db.options().head_snapshot_interval.is_zero() => {
                    if let Err(e) = db.write_snapshot() {
                        log::warn!("cannot write a head snapshot after a block cut: {e}");
                    }
                }
                Ok(_) => {}
                Err(e) => log::error!("cannot persist old chunks to a block: {e}"),
            }
            db.apply_retention(now);
            db.head().shrink_index();
            busy.store(false, Ordering::Release);
        });
    }
}

impl Actor for StoreActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let every = self.db.options().wal_flush_interval;
        if !every.is_zero() {
            ctx.run_interval(every, |act, _| {
                let db = act.db.clone();
                actix_web::rt::task::spawn_blocking(move || db.flush_wal());
            });
        }
        self.maintain();
        ctx.run_interval(MAINTENANCE_EVERY, |act, _| act.maintain());
        let every = self.db.options().head_snapshot_interval;
        if !every.is_zero() {
            ctx.run_interval(every, |act, _| act.snapshot());
        }
    }
}
