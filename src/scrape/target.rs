//! The target actor: one per target, scheduling its own scrapes.
//!
//! Its first scrape lands at a stable phase inside the interval, derived from a hash of the
//! target's identity, so thousands of targets spread evenly over the interval and a restart
//! keeps each target's phase. Later scrapes follow the slots `phase + k * interval` of the
//! wall clock without drift. A scrape never overlaps the next: a slot that comes while the
//! previous scrape still runs is skipped and counted; the timeout bounds every scrape.

use super::cache::ScrapeCache;
use super::http::{fetch, FetchError, FetchSettings, Fetched};
use super::ingest::{append_report, append_stale, ingest, IngestError, IngestSettings};
use super::registry::{HealthState, TargetStatus};
use crate::model::now_millis;
use crate::selfmetrics::SelfMetrics;
use crate::storage::{Appendable, Db};
use crate::textparse::Format;
use actix::prelude::*;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How far a scrape may start from its slot and still be stamped with the slot's time
/// (Prometheus's default `--scrape.timestamp-tolerance` is 2 ms). Exact slot timestamps make
/// the deltas between samples constant, which the chunk encoding stores in a single bit.
const TIMESTAMP_TOLERANCE_MS: i64 = 2;

/// Everything that defines how a target is scraped. Two specs that compare equal describe the
/// same scrape, so a reload that produces an equal spec keeps the running actor.
#[derive(Debug, Clone)]
pub struct TargetSpec {
    pub key: u64,
    pub interval: Duration,
    pub fetch: FetchSettings,
    pub ingest: IngestSettings,
}

impl TargetSpec {
    /// Milliseconds into each interval at which this target is scraped.
    pub fn phase_ms(&self) -> i64 {
        let interval = self.interval.as_millis().max(1) as u64;
        (self.key % interval) as i64
    }
}

/// The first slot at or after `now` for a target with this phase and interval.
pub fn first_slot(now_ms: i64, phase_ms: i64, interval_ms: i64) -> i64 {
    let interval_ms = interval_ms.max(1);
    let base = now_ms - now_ms.rem_euclid(interval_ms);
    let slot = base + phase_ms;
    if slot < now_ms {
        slot + interval_ms
    } else {
        slot
    }
}

pub struct TargetActor {
    spec: Arc<TargetSpec>,
    status: Arc<TargetStatus>,
    head: Arc<Db>,
    metrics: Arc<SelfMetrics>,
    cache: ScrapeCache,
    next_slot_ms: i64,
    scraping: bool,
}

impl TargetActor {
    pub fn new(
        spec: Arc<TargetSpec>,
        status: Arc<TargetStatus>,
        head: Arc<Db>,
        metrics: Arc<SelfMetrics>,
    ) -> Self {
        TargetActor {
            spec,
            status,
            head,
            metrics,
            cache: ScrapeCache::new(),
            next_slot_ms: 0,
            scraping: false,
        }
    }

    fn interval_ms(&self) -> i64 {
        self.spec.interval.as_millis().max(1) as i64
    }

    fn schedule(&mut self, ctx: &mut Context<Self>) {
        let delay = (self.next_slot_ms - now_millis()).max(0) as u64;
        ctx.run_later(Duration::from_millis(delay), |act, ctx| act.tick(ctx));
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        let slot = self.next_slot_ms;
        let now = now_millis();
        self.next_slot_ms += self.interval_ms();
        if self.next_slot_ms <= now {
            // Far behind (a stalled thread or a suspended process): resume at the next slot.
            let missed = (now - self.next_slot_ms) / self.interval_ms() + 1;
            self.metrics
                .scrapes_skipped_total
                .fetch_add(missed as u64, Ordering::Relaxed);
            self.next_slot_ms = first_slot(now, self.spec.phase_ms(), self.interval_ms());
        }
        self.schedule(ctx);
        if self.scraping {
            self.metrics
                .scrapes_skipped_total
                .fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.scraping = true;
        let ts = if now - slot <= TIMESTAMP_TOLERANCE_MS {
            slot
        } else {
            now
        };
        let spec = self.spec.clone();
        let started = Instant::now();
        let scrape = async move { fetch(&spec.fetch).await };
        ctx.spawn(scrape.into_actor(self).map(move |res, act, _| {
            act.scraping = false;
            act.complete(res, ts, started.elapsed());
        }));
    }

    /// Stores the outcome of one scrape: its samples, the synthetic series, staleness
    /// markers, and the target's health.
    fn complete(&mut self, res: Result<Fetched, FetchError>, ts: i64, took: Duration) {
        self.cache.begin();
        let mut app = self.head.appender();
        let outcome = res.map_err(ScrapeError::from).and_then(|f| {
            let body =
                std::str::from_utf8(&f.body).map_err(|e| ScrapeError::Utf8(e.valid_up_to()))?;
            let format = Format::from_content_type(&f.content_type);
            Ok(ingest(
                body,
                format,
                &self.spec.ingest,
                &mut self.cache,
                app.as_mut(),
                ts,
            )?)
        });
        let secs = took.as_secs_f64();
        let (report, error) = match outcome {
            Ok(r) => {
                let gone = self.cache.finish_success();
                append_stale(app.as_mut(), &gone, ts);
                (
                    [
                        1.0,
                        secs,
                        r.scraped as f64,
                        r.post_relabel as f64,
                        r.series_added as f64,
                    ],
                    None,
                )
            }
            Err(e) => {
                if matches!(e, ScrapeError::Ingest(IngestError::SampleLimit { .. })) {
                    self.metrics
                        .sample_limit_exceeded_total
                        .fetch_add(1, Ordering::Relaxed);
                }
                app.rollback();
                app = self.head.appender();
                let gone = self.cache.finish_failure();
                append_stale(app.as_mut(), &gone, ts);
                ([0.0, secs, 0.0, 0.0, 0.0], Some(e.to_string()))
            }
        };
        append_report(
            app.as_mut(),
            &mut self.cache,
            &self.spec.ingest.target_labels,
            ts,
            report,
        );
        let stats = app.commit();
        self.metrics
            .out_of_order_total
            .fetch_add(stats.out_of_order as u64, Ordering::Relaxed);
        self.metrics
            .duplicate_total
            .fetch_add(stats.duplicates as u64, Ordering::Relaxed);
        self.metrics
            .observe_scrape(secs, error.is_none(), report[2] as usize);
        if self.cache.metadata_changed {
            *self.status.metadata.write() = Arc::new(self.cache.metadata.clone());
        }
        let mut h = self.status.health.write();
        h.state = if error.is_some() {
            HealthState::Down
        } else {
            HealthState::Up
        };
        h.last_error = error.unwrap_or_default();
        h.last_scrape = Some(std::time::UNIX_EPOCH + Duration::from_millis(ts.max(0) as u64));
        h.last_duration = took;
        h.samples = report[2] as usize;
        h.rejected_samples = stats.out_of_order + stats.duplicates;
    }

    /// Marks every series of this target stale: it is going away.
    fn write_final_staleness(&mut self) {
        let mut refs = self.cache.live_refs();
        refs.extend(
            self.cache
                .report_refs
                .iter()
                .flatten()
                .map(|h| h.series_ref()),
        );
        if refs.is_empty() {
            return;
        }
        let mut app = self.head.appender();
        append_stale(app.as_mut(), &refs, now_millis());
        app.commit();
    }
}

#[derive(Debug, thiserror::Error)]
enum ScrapeError {
    #[error("{0}")]
    Fetch(#[from] FetchError),
    #[error("{0}")]
    Ingest(#[from] IngestError),
    #[error("body is not valid UTF-8 (first bad byte at offset {0})")]
    Utf8(usize),
}

impl Actor for TargetActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.next_slot_ms = first_slot(now_millis(), self.spec.phase_ms(), self.interval_ms());
        self.schedule(ctx);
    }
}

/// Stops a target. With `stale`, its series get staleness markers: the target goes away.
/// Without, an actor for the same target with new settings takes over and goes on writing
/// the same series; markers now would hide them until its first scrape (Prometheus's scrape
/// pool reload likewise disables end-of-run staleness markers of the loops it replaces).
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopTarget {
    pub stale: bool,
}

impl Handler<StopTarget> for TargetActor {
    type Result = ();

    fn handle(&mut self, msg: StopTarget, ctx: &mut Context<Self>) {
        if msg.stale {
            self.write_final_staleness();
        }
        ctx.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::first_slot;

    #[test]
    fn first_slot_is_the_next_phase_point() {
        let cases = [
            // (now, phase, interval, want)
            (10_000, 0, 1_000, 10_000),
            (10_001, 0, 1_000, 11_000),
            (10_500, 700, 1_000, 10_700),
            (10_800, 700, 1_000, 11_700),
            (0, 0, 15_000, 0),
        ];
        for (now, phase, interval, want) in cases {
            assert_eq!(
                first_slot(now, phase, interval),
                want,
                "{now} {phase} {interval}"
            );
        }
    }
}
