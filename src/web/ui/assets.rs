//! The pages' scripts and styles, embedded in the binary and served from `/assets/`, so the
//! UI works on a machine without internet access. Third-party files live in `assets/vendor/`
//! with their licence and origin (`assets/vendor/README.md`).

use actix_web::{web, HttpResponse};

/// (path under `/assets/`, content type, body).
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("assets/app.css"),
    ),
    (
        "graph.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/graph.js"),
    ),
    (
        "graph-plot.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/graph-plot.js"),
    ),
    (
        "vendor/uPlot.iife.min.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/vendor/uPlot.iife.min.js"),
    ),
    (
        "vendor/uPlot.min.css",
        "text/css; charset=utf-8",
        include_str!("assets/vendor/uPlot.min.css"),
    ),
    (
        "vendor/uPlot.LICENSE",
        "text/plain; charset=utf-8",
        include_str!("assets/vendor/uPlot.LICENSE"),
    ),
];

/// Assets change only with the binary; an hour of caching spares reloads of the graph page
/// without keeping a stale script long after an upgrade.
const CACHE_CONTROL: &str = "public, max-age=3600";

pub(super) async fn serve(path: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|(p, _, _)| *p == path.as_str()) {
        Some((_, kind, body)) => HttpResponse::Ok()
            .content_type(*kind)
            .insert_header(("Cache-Control", CACHE_CONTROL))
            .body(*body),
        None => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body(format!("no asset {:?} in this build", path.as_str())),
    }
}
