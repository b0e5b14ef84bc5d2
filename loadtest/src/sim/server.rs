//! The shard's HTTP side: one listener per target, keep-alive connections, a minimal
//! HTTP/1.1 reader (scrapes are bodiless GETs), and precomputed responses.

use super::body::{render, BodyShape};
use super::record::{now_us, Recorder};
use super::{target_addr, SimOptions, TargetKind};
use crate::procstat;
use bytes::Bytes;
use std::io;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Bodies are re-rendered this often, so values change between any two scrapes of a target
/// scraped at most once a second.
const GENERATION: Duration = Duration::from_secs(1);
/// Largest request header accepted; scrape requests are a few hundred bytes.
const MAX_REQUEST: usize = 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("binding target {index} on {addr}: {source}")]
    Bind {
        index: usize,
        addr: String,
        source: io::Error,
    },
    #[error("starting the runtime: {0}")]
    Runtime(io::Error),
}

struct Shared {
    opts: SimOptions,
    /// The full 200 response (headers and body) of the current generation.
    ok: RwLock<Bytes>,
    recorder: Recorder,
}

const FAILED: &[u8] = b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ncontent-length: 6\r\n\r\nfailed";

fn response(body: &str) -> Bytes {
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4; charset=utf-8\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let mut v = Vec::with_capacity(head.len() + body.len());
    v.extend_from_slice(head.as_bytes());
    v.extend_from_slice(body.as_bytes());
    Bytes::from(v)
}

/// Raises the soft open-file limit to the hard one: a shard holds two descriptors a target.
fn raise_nofile() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain libc calls on a local struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// Runs one shard until `max_secs` pass. Prints `ready <control address>` once every
/// listener is bound.
pub fn run_shard(opts: SimOptions) -> Result<(), SimError> {
    raise_nofile();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(opts.threads.max(1))
        .enable_all()
        .build()
        .map_err(SimError::Runtime)?;
    rt.block_on(serve(opts))
}

async fn serve(opts: SimOptions) -> Result<(), SimError> {
    let shape = BodyShape {
        series: opts.series,
        churn: opts.churn,
    };
    let mut text = String::new();
    render(shape, 0, &mut text);
    let shared = Arc::new(Shared {
        ok: RwLock::new(response(&text)),
        recorder: Recorder::new(opts.first, opts.count),
        opts: opts.clone(),
    });
    for i in opts.first..opts.first + opts.count {
        let addr = target_addr(opts.net, opts.port, i);
        let bind_err = |source| SimError::Bind {
            index: i,
            addr: addr.to_string(),
            source,
        };
        let l = TcpListener::bind(addr).await.map_err(bind_err)?;
        tokio::spawn(accept_loop(l, Some(i), shared.clone()));
    }
    let control = TcpListener::bind(("127.0.0.1", opts.control_port))
        .await
        .map_err(|source| SimError::Bind {
            index: usize::MAX,
            addr: format!("127.0.0.1:{}", opts.control_port),
            source,
        })?;
    let control_addr = control
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    tokio::spawn(accept_loop(control, None, shared.clone()));
    println!("ready {control_addr}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(opts.max_secs);
    let mut generation = 0;
    let mut tick = tokio::time::interval(GENERATION);
    while tokio::time::Instant::now() < deadline {
        tick.tick().await;
        generation += 1;
        render(shape, generation, &mut text);
        let r = response(&text);
        if let Ok(mut ok) = shared.ok.write() {
            *ok = r;
        }
    }
    Ok(())
}

/// Accepts connections for target `index` (None: the control endpoint).
async fn accept_loop(l: TcpListener, index: Option<usize>, shared: Arc<Shared>) {
    loop {
        match l.accept().await {
            Ok((s, _)) => {
                let _ = s.set_nodelay(true);
                tokio::spawn(serve_conn(s, index, shared.clone()));
            }
            // Out of descriptors or a reset before accept: wait briefly, keep serving.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Serves requests on one kept-alive connection until the peer closes it.
async fn serve_conn(mut s: TcpStream, index: Option<usize>, shared: Arc<Shared>) {
    let mut buf = vec![0u8; 1024];
    let mut filled = 0;
    loop {
        let end = loop {
            if let Some(p) = buf[..filled].windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            if filled == buf.len() {
                if buf.len() >= MAX_REQUEST {
                    return;
                }
                buf.resize(buf.len() * 2, 0);
            }
            match s.read(&mut buf[filled..]).await {
                Ok(0) | Err(_) => return,
                Ok(n) => filled += n,
            }
        };
        let arrived = now_us();
        let reply = match index {
            Some(i) => target_reply(&shared, i, arrived).await,
            None => control_reply(&shared, &buf[..end]),
        };
        if s.write_all(&reply).await.is_err() {
            return;
        }
        buf.copy_within(end..filled, 0);
        filled -= end;
    }
}

async fn target_reply(shared: &Shared, i: usize, arrived: u64) -> Bytes {
    shared.recorder.record(i, arrived);
    let o = &shared.opts;
    match o.kind(i) {
        TargetKind::Healthy => {}
        TargetKind::Slow => tokio::time::sleep(Duration::from_millis(o.slow_ms)).await,
        TargetKind::Failing => return Bytes::from_static(FAILED),
        TargetKind::Flapping => {
            let period = o.flap_secs.max(1) * 1_000_000;
            // Half of the flapping targets start down, so the shard is never all up or down.
            if (arrived / period + i as u64).is_multiple_of(2) {
                return Bytes::from_static(FAILED);
            }
        }
    }
    shared.ok.read().map(|b| b.clone()).unwrap_or_default()
}

fn control_reply(shared: &Shared, request: &[u8]) -> Bytes {
    let line = request.split(|&b| b == b'\r').next().unwrap_or_default();
    let body = if line.starts_with(b"GET /reset") {
        shared.recorder.reset();
        "ok\n".to_string()
    } else if line.starts_with(b"GET /dump") {
        let cpu = procstat::cpu_seconds(std::process::id()).unwrap_or(f64::NAN);
        shared.recorder.dump(cpu)
    } else {
        "unknown control request; use GET /reset or GET /dump\n".to_string()
    };
    response(&body)
}
