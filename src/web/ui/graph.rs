//! The expression browser (`/graph`): a shell page; the panels are built in the browser by
//! `assets/graph.js` over `/api/v1/query` and `/api/v1/query_range`, and plotted with the
//! embedded uPlot (`assets/graph-plot.js`). The page state lives in the URL, in Prometheus's
//! `g<N>.expr`, `g<N>.tab`, `g<N>.range_input`, … parameters, so a link reproduces the view.

use super::layout_with_assets;
use actix_web::HttpResponse;

const BODY: &str = concat!(
    "<div id=\"panels\"></div>",
    "<button type=\"button\" class=\"small\" id=\"add-panel\">Add Panel</button>",
    "<noscript><p class=\"alert-error\">The expression browser needs JavaScript; ",
    "the HTTP API at /api/v1/query works without it.</p></noscript>",
);

/// Styles first, then uPlot, the plotting glue and the page script (all `defer`, in order).
const ASSETS: &[&str] = &[
    "vendor/uPlot.min.css",
    "vendor/uPlot.iife.min.js",
    "graph-plot.js",
    "graph.js",
];

pub(super) async fn page() -> HttpResponse {
    layout_with_assets("Graph", BODY, ASSETS)
}
