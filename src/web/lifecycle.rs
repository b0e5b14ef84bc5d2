//! `/-/healthy`, `/-/ready`, `/-/reload`, `/-/quit` and `/metrics`.

use super::AppState;
use actix_web::{web, HttpResponse, Responder};
use std::sync::atomic::Ordering;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/-/healthy", web::get().to(healthy))
        .route("/-/healthy", web::head().to(healthy))
        .route("/-/ready", web::get().to(ready))
        .route("/-/ready", web::head().to(ready))
        .route("/-/reload", web::post().to(reload))
        .route("/-/reload", web::put().to(reload))
        .route("/-/quit", web::post().to(quit))
        .route("/-/quit", web::put().to(quit))
        .route("/metrics", web::get().to(metrics));
}

async fn healthy() -> impl Responder {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("Pyrometer Server is Healthy.\n")
}

async fn ready(s: web::Data<AppState>) -> impl Responder {
    if s.ready.load(Ordering::Acquire) {
        HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("Pyrometer Server is Ready.\n")
    } else {
        HttpResponse::ServiceUnavailable()
            .content_type("text/plain; charset=utf-8")
            .body("Service Unavailable")
    }
}

const LIFECYCLE_DISABLED: &str = "Lifecycle API is not enabled.";

async fn reload(s: web::Data<AppState>) -> impl Responder {
    if !s.flags.enable_lifecycle {
        return HttpResponse::Forbidden().body(LIFECYCLE_DISABLED);
    }
    let r = s.reloader.clone();
    match web::block(move || r.reload()).await {
        Ok(Ok(())) => HttpResponse::Ok().finish(),
        Ok(Err(e)) => {
            HttpResponse::InternalServerError().body(format!("failed to reload config: {e}"))
        }
        Err(e) => HttpResponse::InternalServerError().body(format!("failed to reload config: {e}")),
    }
}

async fn quit(s: web::Data<AppState>) -> impl Responder {
    if !s.flags.enable_lifecycle {
        return HttpResponse::Forbidden().body(LIFECYCLE_DISABLED);
    }
    s.quit.notify_one();
    HttpResponse::Ok().body("Requesting termination... Goodbye!")
}

async fn metrics(s: web::Data<AppState>) -> impl Responder {
    let db = s.db.clone();
    let head = db.head();
    let (appended, _) = head.append_counters();
    let mut body = s.metrics.render(&head.stats(), s.registry.len(), appended);
    // The storage figures take a pass over the series: off the web worker.
    if let Ok(storage) =
        actix_web::rt::task::spawn_blocking(move || crate::selfmetrics::render_storage(&db)).await
    {
        body.push_str(&storage);
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body)
}
