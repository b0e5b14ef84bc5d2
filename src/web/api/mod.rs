//! The Prometheus HTTP API (`/api/v1/*`) with its exact JSON shapes:
//! `{"status":"success","data":…}` and
//! `{"status":"error","errorType":"bad_data","error":"…"}` with Prometheus's HTTP codes.

pub mod json;
mod params;
mod query;
mod status;
mod targets;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse, ResponseError};
use serde::Serialize;

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    targets::routes(cfg);
    status::routes(cfg);
    query::routes(cfg);
}

/// An API failure, mapped to Prometheus's `errorType` and status code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadData(String),
    #[error("{0}")]
    Execution(String),
    #[error("{0}")]
    Timeout(String),
    #[error("{0}")]
    Canceled(String),
    #[error("{0}")]
    Internal(String),
    #[error("{0}")]
    Unavailable(String),
}

impl ApiError {
    fn error_type(&self) -> &'static str {
        match self {
            ApiError::BadData(_) => "bad_data",
            ApiError::Execution(_) => "execution",
            ApiError::Timeout(_) => "timeout",
            ApiError::Canceled(_) => "canceled",
            ApiError::Internal(_) => "internal",
            ApiError::Unavailable(_) => "unavailable",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadData(_) => StatusCode::BAD_REQUEST,
            ApiError::Execution(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Timeout(_) | ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Canceled(_) => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(serde_json::json!({
            "status": "error",
            "errorType": self.error_type(),
            "error": self.to_string(),
        }))
    }
}

/// The success envelope, `{"status":"success","data":…}`, serialized in one pass.
pub(crate) fn success<T: Serialize>(data: T) -> HttpResponse {
    #[derive(Serialize)]
    struct Success<T> {
        status: &'static str,
        data: T,
    }
    HttpResponse::Ok().json(Success {
        status: "success",
        data,
    })
}

/// What an API handler computed off the event loop: a JSON value, or a query's answer
/// already written as bytes with the annotations that go beside it.
pub(crate) enum Answer {
    Json(serde_json::Value),
    Query {
        data: Vec<u8>,
        warnings: Vec<String>,
        infos: Vec<String>,
    },
}

impl From<serde_json::Value> for Answer {
    fn from(v: serde_json::Value) -> Self {
        Answer::Json(v)
    }
}

impl Answer {
    pub(crate) fn respond(self) -> HttpResponse {
        match self {
            Answer::Json(v) => success(v),
            Answer::Query {
                data,
                warnings,
                infos,
            } => {
                let mut body = Vec::with_capacity(data.len() + 40);
                body.extend_from_slice(br#"{"status":"success","data":"#);
                body.extend_from_slice(&data);
                // As Prometheus: the lists appear only when not empty.
                for (key, list) in [("warnings", warnings), ("infos", infos)] {
                    if !list.is_empty() {
                        body.extend_from_slice(format!(",\"{key}\":").as_bytes());
                        body.extend_from_slice(
                            serde_json::Value::from(list).to_string().as_bytes(),
                        );
                    }
                }
                body.push(b'}');
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(body)
            }
        }
    }
}

/// A label set as the JSON object the API uses.
pub(crate) fn labels_json(l: &crate::model::Labels) -> serde_json::Map<String, serde_json::Value> {
    l.iter()
        .map(|l| {
            (
                l.name.to_string(),
                serde_json::Value::String(l.value.to_string()),
            )
        })
        .collect()
}

/// Bad query strings and form bodies answer in the API's own error shape.
pub(crate) fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|e, _| ApiError::BadData(e.to_string()).into())
}
