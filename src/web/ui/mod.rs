//! Server-rendered pages. Every piece of text from outside (labels, errors, URLs) goes through
//! [`escape`]; no asset is fetched from the internet.

mod discovery;
mod targets;

use actix_web::{web, HttpResponse};
use std::fmt::Write;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(root))
        .route("/targets", web::get().to(targets::page))
        .route("/service-discovery", web::get().to(discovery::page));
}

async fn root() -> HttpResponse {
    HttpResponse::Found()
        .insert_header(("Location", "/targets"))
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

const STYLE: &str = r#"
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#212529}
nav{background:#343a40;padding:.5rem 1rem;display:flex;gap:1.2rem;align-items:center}
nav a{color:#fff;text-decoration:none} nav .brand{font-weight:bold;font-size:1.1rem}
main{padding:1rem 1.5rem}
table{border-collapse:collapse;width:100%;margin-bottom:1rem} th,td{border-top:1px solid #dee2e6;padding:.45rem;text-align:left;vertical-align:top;font-size:.9rem}
.badge{display:inline-block;padding:.2em .45em;border-radius:.25rem;font-size:.8rem;margin:0 .2rem .2rem 0;background:#6c757d;color:#fff}
.state-up{background:#28a745}.state-down{background:#dc3545}.state-unknown{background:#6c757d}
.error{color:#dc3545} summary{cursor:pointer;font-size:1.15rem;margin:.6rem 0} .controls{margin-bottom:1rem}
"#;

/// Wraps a page body in the common layout with the navigation bar.
pub fn layout(title: &str, body: &str) -> HttpResponse {
    let mut html = String::with_capacity(body.len() + 2048);
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} - Pyrometer</title><style>{STYLE}</style></head><body>\
<nav><a class=\"brand\" href=\"/\">Pyrometer</a><a href=\"/graph\">Graph</a><a href=\"/alerts\">Alerts</a>\
<a href=\"/targets\">Targets</a><a href=\"/service-discovery\">Service Discovery</a><a href=\"/status\">Status</a></nav><main>{body}</main></body></html>",
        escape(title)
    );
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html)
}

#[cfg(test)]
mod tests {
    #[test]
    fn escape_neutralizes_markup() {
        assert_eq!(
            super::escape(r#"<script>alert("x")</script>&'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
        );
    }
}
