//! The access log: one line per HTTP request, off unless asked for, the same in every
//! service.
//!
//! A server that writes a line per request at its default level fills disks in production
//! and spends a good part of its CPU formatting them, so the lines go to their own target,
//! [`ACCESS_LOG_TARGET`], which the default filter ([`crate::init_tracing`]) leaves off:
//! `RUST_LOG=warn,<service>=info,access_log=info` turns it on. Each line carries the method,
//! the path (never the query, which may hold a token), the status and the latency.

use std::time::Duration;

use axum::{
    Router,
    body::Body,
    http::{Request, Response},
};
use tower_http::trace::TraceLayer;
use tracing::Span;

/// The `tracing` target of the access log's spans and lines.
pub const ACCESS_LOG_TARGET: &str = "access_log";

/// `router` with the access log around it: a span per request (method and path) and a line
/// when the response is ready, both only when [`ACCESS_LOG_TARGET`] is enabled at `info`.
/// A 5xx answer is also logged at `error` by tower-http, as before.
pub fn with_access_log(router: Router) -> Router {
    router.layer(
        TraceLayer::new_for_http()
            .make_span_with(request_span)
            .on_request(())
            .on_response(response_line),
    )
}

/// Method and path only: a query string may hold a token that must not reach the logs.
fn request_span(request: &Request<Body>) -> Span {
    tracing::info_span!(
        target: ACCESS_LOG_TARGET,
        "request",
        method = %request.method(),
        path = %request.uri().path(),
    )
}

fn response_line(response: &Response<Body>, latency: Duration, _span: &Span) {
    tracing::info!(
        target: ACCESS_LOG_TARGET,
        status = response.status().as_u16(),
        latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
        "served"
    );
}
