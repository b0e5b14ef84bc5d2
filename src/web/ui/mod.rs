//! Server-rendered pages with the navigation a Prometheus user knows: Graph, Alerts and the
//! Status menu. Every piece of text from outside (labels, errors, URLs) goes through
//! [`escape`] on the server, or `textContent` in the browser; the scripts and styles the
//! pages use are embedded in the binary ([`assets`]), so nothing is fetched from the internet.

mod assets;
mod discovery;
mod graph;
mod status;
mod targets;
#[cfg(test)]
mod tests;

use actix_web::{web, HttpResponse};
use std::fmt::Write;

/// Paths follow Prometheus's UI, so bookmarks and links from other tools keep working.
pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(root))
        .route("/graph", web::get().to(graph::page))
        .route("/alerts", web::get().to(status::alerts))
        .route("/status", web::get().to(status::runtime))
        .route("/flags", web::get().to(status::flags))
        .route("/config", web::get().to(status::config))
        .route("/tsdb-status", web::get().to(status::tsdb))
        .route("/targets", web::get().to(targets::page))
        .route("/service-discovery", web::get().to(discovery::page))
        .route("/assets/{path:.*}", web::get().to(assets::serve));
}

async fn root() -> HttpResponse {
    HttpResponse::Found()
        .insert_header(("Location", "/graph"))
        .finish()
}

/// HTML-escapes text for element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The navigation bar. The Status entries are a menu that opens on hover or keyboard focus,
/// without script.
const NAV: &str = concat!(
    "<nav><a class=\"brand\" href=\"/graph\">Pyrometer</a>",
    "<a href=\"/graph\">Graph</a>",
    "<a href=\"/alerts\">Alerts</a>",
    "<div class=\"menu\"><button type=\"button\">Status &#9662;</button><div class=\"menu-items\">",
    "<a href=\"/status\">Runtime &amp; Build Information</a>",
    "<a href=\"/flags\">Command-Line Flags</a>",
    "<a href=\"/config\">Configuration</a>",
    "<a href=\"/targets\">Targets</a>",
    "<a href=\"/service-discovery\">Service Discovery</a>",
    "<a href=\"/tsdb-status\">TSDB Status</a>",
    "</div></div></nav>",
);

/// Wraps a page body in the common layout with the navigation bar.
pub fn layout(title: &str, body: &str) -> HttpResponse {
    layout_with_assets(title, body, &[])
}

/// [`layout`] plus embedded scripts and stylesheets (paths under `/assets/`).
pub fn layout_with_assets(title: &str, body: &str, assets: &[&str]) -> HttpResponse {
    let mut html = String::with_capacity(body.len() + 2048);
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{} - Pyrometer</title><link rel=\"stylesheet\" href=\"/assets/app.css\">",
        escape(title)
    );
    for s in assets {
        if s.ends_with(".css") {
            let _ = write!(
                html,
                "<link rel=\"stylesheet\" href=\"/assets/{}\">",
                escape(s)
            );
        } else {
            let _ = write!(
                html,
                "<script src=\"/assets/{}\" defer></script>",
                escape(s)
            );
        }
    }
    let _ = write!(html, "</head><body>{NAV}<main>{body}</main></body></html>");
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html)
}
