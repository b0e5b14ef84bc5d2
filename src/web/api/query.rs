//! The query half of the API: `query`, `query_range`, `series`, `labels`, `label/<name>/values`,
//! `query_exemplars`, `format_query`, `parse_query`. GET and form-encoded POST alike.

use super::params::{self, MAX_TIME_MS, MIN_TIME_MS};
use super::{json, labels_json, success, Answer, ApiError};
use crate::model::{Labels, Matcher};
use crate::promql::{QueryError, QueryOutput};
use crate::web::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value as Json};
use std::collections::BTreeSet;

/// Prometheus refuses range queries with more points per series than this.
const MAX_POINTS_PER_SERIES: i64 = 11_000;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    for (path, handler) in [
        ("/api/v1/query", Handler::Query),
        ("/api/v1/query_range", Handler::QueryRange),
        ("/api/v1/series", Handler::Series),
        ("/api/v1/labels", Handler::Labels),
        ("/api/v1/query_exemplars", Handler::Exemplars),
        ("/api/v1/format_query", Handler::Format),
        ("/api/v1/parse_query", Handler::Parse),
    ] {
        let h = move |s: web::Data<AppState>, req: HttpRequest, body: web::Bytes| {
            dispatch(handler, s, req, body)
        };
        cfg.route(path, web::get().to(h))
            .route(path, web::post().to(h));
    }
    cfg.route("/api/v1/label/{name}/values", web::get().to(label_values));
}

#[derive(Clone, Copy)]
enum Handler {
    Query,
    QueryRange,
    Series,
    Labels,
    Exemplars,
    Format,
    Parse,
}

async fn dispatch(
    h: Handler,
    s: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let p = params::pairs(req.query_string(), &body);
    // Query evaluation is CPU work: keep it off the web workers' event loops.
    web::block(move || match h {
        Handler::Query => query(&s, &p),
        Handler::QueryRange => query_range(&s, &p),
        Handler::Series => series(&s, &p).map(Answer::from),
        Handler::Labels => labels(&s, &p).map(Answer::from),
        Handler::Exemplars => exemplars(&p).map(Answer::from),
        Handler::Format => format_query(&p).map(Answer::from),
        Handler::Parse => parse_query(&p).map(Answer::from),
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map(Answer::respond)
}

fn required<'a>(p: &'a [(String, String)], name: &str) -> Result<&'a str, ApiError> {
    match params::get(p, name) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(ApiError::BadData(format!(
            "invalid parameter \"{name}\": query must not be empty"
        ))),
    }
}

fn time_or(p: &[(String, String)], name: &str, default: i64) -> Result<i64, ApiError> {
    match params::get(p, name) {
        Some(v) if !v.is_empty() => params::parse_time(v, name),
        _ => Ok(default),
    }
}

fn query_error(e: QueryError) -> ApiError {
    use crate::promql::ErrorKind;
    match e.kind() {
        ErrorKind::Parse => ApiError::BadData(e.to_string()),
        ErrorKind::Timeout => ApiError::Timeout(e.to_string()),
        ErrorKind::Execution | ErrorKind::TooManySamples => ApiError::Execution(e.to_string()),
    }
}

fn query(s: &AppState, p: &[(String, String)]) -> Result<Answer, ApiError> {
    let q = required(p, "query")?;
    let t = time_or(p, "time", crate::model::now_millis())?;
    let e = crate::promql::parse(q).map_err(|e| query_error(e.into()))?;
    let out = s
        .engine
        .instant_query_expr(s.db.as_ref(), &e, t)
        .map_err(query_error)?;
    Ok(query_answer(out))
}

/// A query's value with the warnings and infos the evaluation attached.
fn query_answer(out: QueryOutput) -> Answer {
    Answer::Query {
        data: json::query_data(&out.value),
        warnings: out.warnings,
        infos: out.infos,
    }
}

fn query_range(s: &AppState, p: &[(String, String)]) -> Result<Answer, ApiError> {
    let q = required(p, "query")?;
    let start = params::parse_time(params::get(p, "start").unwrap_or(""), "start")?;
    let end = params::parse_time(params::get(p, "end").unwrap_or(""), "end")?;
    if end < start {
        return Err(ApiError::BadData(
            "invalid parameter \"end\": end timestamp must not be before start time".into(),
        ));
    }
    let step = params::parse_duration_param(params::get(p, "step").unwrap_or(""), "step")?;
    if step <= 0 {
        return Err(ApiError::BadData(
            "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
        ));
    }
    if (end - start) / step > MAX_POINTS_PER_SERIES {
        return Err(ApiError::BadData(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)".into(),
        ));
    }
    let e = crate::promql::parse(q).map_err(|e| query_error(e.into()))?;
    let out = s
        .engine
        .range_query_expr(s.db.as_ref(), &e, start, end, step)
        .map_err(query_error)?;
    Ok(query_answer(out))
}

fn matcher_sets(p: &[(String, String)]) -> Result<Vec<Vec<Matcher>>, ApiError> {
    params::all(p, "match[]")
        .into_iter()
        .map(params::parse_matchers)
        .collect()
}

fn limit(p: &[(String, String)]) -> Result<usize, ApiError> {
    match params::get(p, "limit") {
        Some(l) if !l.is_empty() => l
            .parse::<usize>()
            .map(|v| if v == 0 { usize::MAX } else { v })
            .map_err(|_| {
                ApiError::BadData(format!(
                    "invalid parameter \"limit\": cannot parse {l:?} to a valid limit"
                ))
            }),
        _ => Ok(usize::MAX),
    }
}

fn range(p: &[(String, String)]) -> Result<(i64, i64), ApiError> {
    Ok((
        time_or(p, "start", MIN_TIME_MS)?,
        time_or(p, "end", MAX_TIME_MS)?,
    ))
}

fn series(s: &AppState, p: &[(String, String)]) -> Result<Json, ApiError> {
    let sets = matcher_sets(p)?;
    if sets.is_empty() {
        return Err(ApiError::BadData("no match[] parameter provided".into()));
    }
    let (start, end) = range(p)?;
    let q = crate::storage::Queryable::querier(s.db.as_ref(), start, end);
    let all: BTreeSet<Labels> = sets.iter().flat_map(|m| q.series(m)).collect();
    let out: Vec<Json> = all
        .iter()
        .take(limit(p)?)
        .map(|l| Json::Object(labels_json(l)))
        .collect();
    Ok(Json::from(out))
}

fn labels(s: &AppState, p: &[(String, String)]) -> Result<Json, ApiError> {
    let sets = matcher_sets(p)?;
    let (start, end) = range(p)?;
    let q = crate::storage::Queryable::querier(s.db.as_ref(), start, end);
    let names: BTreeSet<String> = if sets.is_empty() {
        q.label_names(&[]).into_iter().collect()
    } else {
        sets.iter().flat_map(|m| q.label_names(m)).collect()
    };
    Ok(Json::from(
        names.into_iter().take(limit(p)?).collect::<Vec<_>>(),
    ))
}

async fn label_values(
    s: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let p = params::pairs(req.query_string(), &[]);
    let name = name.into_inner();
    if !crate::config::is_valid_label_name(&name) {
        return Err(ApiError::BadData(format!("invalid label name: {name:?}")));
    }
    web::block(move || {
        let sets = matcher_sets(&p)?;
        let (start, end) = range(&p)?;
        let q = crate::storage::Queryable::querier(s.db.as_ref(), start, end);
        let values: BTreeSet<String> = if sets.is_empty() {
            q.label_values(&name, &[]).into_iter().collect()
        } else {
            sets.iter().flat_map(|m| q.label_values(&name, m)).collect()
        };
        Ok::<Json, ApiError>(Json::from(
            values.into_iter().take(limit(&p)?).collect::<Vec<_>>(),
        ))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map(success)
}

fn exemplars(p: &[(String, String)]) -> Result<Json, ApiError> {
    required(p, "query")?;
    Ok(Json::Array(Vec::new()))
}

fn format_query(p: &[(String, String)]) -> Result<Json, ApiError> {
    let q = required(p, "query")?;
    let expr = crate::promql::parse(q).map_err(|e| ApiError::BadData(e.to_string()))?;
    Ok(Json::from(expr.to_string()))
}

fn parse_query(p: &[(String, String)]) -> Result<Json, ApiError> {
    let q = required(p, "query")?;
    let expr = crate::promql::parse(q).map_err(|e| ApiError::BadData(e.to_string()))?;
    Ok(json!({ "type": "expression", "expr": expr.to_string() }))
}
