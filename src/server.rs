//! Start-up and wiring: config, head, scrape actors, web server, signals, shutdown.

use crate::config::{parse_duration, parse_size, Config};
use crate::flags::Flags;
use crate::promql::{Engine, EngineOpts};
use crate::scrape::{ApplyConfig, ScrapeContext, ScrapeManager, StopAll, TargetRegistry};
use crate::selfmetrics::SelfMetrics;
use crate::storage::{DataDir, Db, DbOptions, StoreActor};
use crate::web::{self, AppState, Reload};
use actix::prelude::*;
use anyhow::Context as _;
use parking_lot::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Loads the config file and, if it is valid, applies it to the scrape manager.
struct Reloader {
    path: std::path::PathBuf,
    manager: Addr<ScrapeManager>,
    config: Arc<RwLock<Arc<Config>>>,
    metrics: Arc<SelfMetrics>,
}

impl Reload for Reloader {
    fn reload(&self) -> Result<(), String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        match Config::load(&self.path) {
            Ok(cfg) => {
                warn_unsupported(&cfg);
                let cfg = Arc::new(cfg);
                *self.config.write() = cfg.clone();
                self.manager.do_send(ApplyConfig(cfg));
                self.metrics.record_reload(true, now);
                log::info!(
                    "completed loading of configuration file {}",
                    self.path.display()
                );
                Ok(())
            }
            Err(e) => {
                self.metrics.record_reload(false, now);
                log::error!("error reloading config: {e}");
                Err(e.to_string())
            }
        }
    }
}

fn warn_unsupported(cfg: &Config) {
    for f in cfg.unsupported_features() {
        log::warn!("configuration field {f} is parsed but not supported yet; it has no effect");
    }
}

fn flag_duration(v: &str, flag: &str) -> anyhow::Result<Duration> {
    parse_duration(v).with_context(|| format!("invalid value {v:?} for flag --{flag}"))
}

/// Runs the server until SIGTERM, SIGINT or `/-/quit`.
pub fn run(flags: Flags) -> anyhow::Result<()> {
    let db_opts = DbOptions {
        retention: flag_duration(&flags.retention_time, "storage.tsdb.retention.time")?,
        retention_bytes: parse_size(&flags.retention_size).with_context(|| {
            format!(
                "invalid value {:?} for flag --storage.tsdb.retention.size",
                flags.retention_size
            )
        })?,
        block_duration: flag_duration(
            &flags.min_block_duration,
            "storage.tsdb.min-block-duration",
        )?,
        wal_flush_interval: flag_duration(
            &flags.wal_flush_interval,
            "storage.tsdb.wal-flush-interval",
        )?,
        head_snapshot_interval: flag_duration(
            &flags.head_snapshot_interval,
            "storage.tsdb.head-snapshot-interval",
        )?,
    };
    let engine_opts = EngineOpts {
        lookback_delta: flag_duration(&flags.lookback_delta, "query.lookback-delta")?,
        timeout: flag_duration(&flags.query_timeout, "query.timeout")?,
        max_samples: flags.query_max_samples,
    };
    log::info!("starting Pyrometer version={}", env!("CARGO_PKG_VERSION"));
    let cfg = Config::load(&flags.config_file)
        .map_err(|e| anyhow::anyhow!("error loading config: {e}"))?;
    warn_unsupported(&cfg);
    let data_dir = DataDir::open(&flags.tsdb_path)?;
    log::info!("using data directory {}", data_dir.path.display());
    // Replay happens before the web server listens, so `/-/ready` cannot answer 200 before
    // the head holds everything the WAL had.
    let db = Arc::new(Db::open(&data_dir.path, db_opts).context("cannot open storage")?);
    let threads = match flags.scrape_threads {
        0 => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        n => n,
    };

    let system = actix_web::rt::System::new();
    system.block_on(async move {
        let registry = Arc::new(TargetRegistry::new());
        let metrics = Arc::new(SelfMetrics::new());
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        metrics.record_reload(true, now);
        let config = Arc::new(RwLock::new(Arc::new(cfg)));

        StoreActor::new(db.clone()).start();
        let ctx = Arc::new(ScrapeContext::new(
            db.clone(),
            registry.clone(),
            metrics.clone(),
            threads,
        ));
        let manager = ScrapeManager::new(ctx).start();
        manager.do_send(ApplyConfig(config.read().clone()));
        let reloader = Arc::new(Reloader {
            path: flags.config_file.clone(),
            manager: manager.clone(),
            config: config.clone(),
            metrics: metrics.clone(),
        });
        let ready = Arc::new(AtomicBool::new(false));
        let quit = Arc::new(tokio::sync::Notify::new());
        let state = actix_web::web::Data::new(AppState {
            db: db.clone(),
            registry,
            metrics,
            config,
            flags: flags.clone(),
            start_time: SystemTime::now(),
            ready: ready.clone(),
            reloader: reloader.clone(),
            quit: quit.clone(),
            engine: Engine::new(engine_opts),
        });

        let server = actix_web::HttpServer::new(move || {
            actix_web::App::new()
                .app_data(state.clone())
                .app_data(web::api::query_config())
                .configure(web::routes)
        })
        .workers(2)
        .disable_signals()
        .bind(&flags.listen_address)
        .with_context(|| format!("cannot listen on {}", flags.listen_address))?
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        ready.store(true, Ordering::Release);
        log::info!(
            "server is ready to receive web requests on {}",
            flags.listen_address
        );

        wait_for_shutdown(reloader, quit).await;
        log::info!("stopping scrape manager and web server");
        let _ = manager.send(StopAll).await;
        // Give stopped targets a moment to write their staleness markers.
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        handle.stop(true).await;
        let closing = db.clone();
        let _ = actix_web::rt::task::spawn_blocking(move || closing.close()).await;
        log::info!("write-ahead log flushed and synced");
        drop(data_dir);
        log::info!("see you next time!");
        anyhow::Ok(())
    })?;
    Ok(())
}

/// Waits for a terminating signal or `/-/quit`; reloads on SIGHUP meanwhile.
async fn wait_for_shutdown(reloader: Arc<Reloader>, quit: Arc<tokio::sync::Notify>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) else {
        log::error!("cannot install signal handlers; stop with /-/quit");
        quit.notified().await;
        return;
    };
    loop {
        tokio::select! {
            _ = term.recv() => { log::warn!("received SIGTERM, exiting gracefully"); return; }
            _ = int.recv() => { log::warn!("received SIGINT, exiting gracefully"); return; }
            _ = quit.notified() => { log::warn!("received termination request via web service, exiting gracefully"); return; }
            _ = hup.recv() => {
                let r = reloader.clone();
                let _ = actix_web::rt::task::spawn_blocking(move || r.reload()).await;
            }
        }
    }
}
