//! A farm of scrape targets on loopback: one actix-web server listening on `n` ports, each
//! port a target serving one gauge, recording when each scrape arrived and how many ran at
//! once. Used by the scheduling and reload tests.

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use parking_lot::{Mutex, MutexGuard};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Default)]
pub struct FarmLog {
    /// port → times (ms since the epoch) at which scrapes arrived.
    pub starts: HashMap<u16, Vec<i64>>,
    in_flight: HashMap<u16, usize>,
    /// The most scrapes of one port that were running at the same time.
    pub max_in_flight: usize,
}

#[derive(Clone)]
struct Slow {
    ports: Vec<u16>,
    delay: Duration,
}

pub struct Farm {
    pub ports: Vec<u16>,
    log: Arc<Mutex<FarmLog>>,
    handle: ServerHandle,
    thread: std::thread::JoinHandle<()>,
}

/// How far from its one-second slot a scrape may reach the farm on a loaded two-core machine.
/// A missed scrape shows as a gap of about 2000 ms and a double as a gap near 0, both far
/// outside 1000 ± this.
pub const JITTER_MS: i64 = 450;

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

async fn metrics(
    req: HttpRequest,
    log: web::Data<Arc<Mutex<FarmLog>>>,
    slow: web::Data<Slow>,
) -> HttpResponse {
    let port = req.app_config().local_addr().port();
    {
        let mut l = log.lock();
        l.starts.entry(port).or_default().push(now_ms());
        let n = l.in_flight.entry(port).or_default();
        *n += 1;
        let n = *n;
        l.max_in_flight = l.max_in_flight.max(n);
    }
    if slow.ports.contains(&port) {
        actix_web::rt::time::sleep(slow.delay).await;
    }
    *log.lock().in_flight.entry(port).or_default() -= 1;
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(format!("# TYPE m gauge\nm{{port=\"{port}\"}} 1\n"))
}

impl Farm {
    /// Starts `n` targets; the first `slow` of them answer after `delay`.
    pub fn start(n: usize, slow: usize, delay: Duration) -> Farm {
        let listeners: Vec<std::net::TcpListener> = (0..n)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind"))
            .collect();
        let ports: Vec<u16> = listeners
            .iter()
            .map(|l| l.local_addr().map(|a| a.port()).unwrap_or(0))
            .collect();
        let slow = Slow {
            ports: ports[..slow.min(n)].to_vec(),
            delay,
        };
        let log = Arc::new(Mutex::new(FarmLog::default()));
        let (tx, rx) = std::sync::mpsc::channel();
        let server_log = log.clone();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let mut server = HttpServer::new(move || {
                    App::new()
                        .app_data(web::Data::new(server_log.clone()))
                        .app_data(web::Data::new(slow.clone()))
                        .route("/metrics", web::get().to(metrics))
                })
                .workers(2)
                .disable_signals();
                for l in listeners {
                    server = server.listen(l).expect("listen");
                }
                let server = server.run();
                let _ = tx.send(server.handle());
                let _ = server.await;
            })
        });
        let handle = rx.recv().expect("server handle");
        Farm {
            ports,
            log,
            handle,
            thread,
        }
    }

    pub fn log(&self) -> MutexGuard<'_, FarmLog> {
        self.log.lock()
    }

    /// `'127.0.0.1:p1', '127.0.0.1:p2', …` for a static_configs target list.
    pub fn targets(ports: &[u16]) -> String {
        ports
            .iter()
            .map(|p| format!("'127.0.0.1:{p}'"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn stop(self) -> Arc<Mutex<FarmLog>> {
        actix_web::rt::System::new().block_on(self.handle.stop(false));
        let _ = self.thread.join();
        self.log
    }
}
