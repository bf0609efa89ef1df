//! The demo console's audit trail (placeholder until it is written).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::Shared;

pub(crate) async fn fetch(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(denied) = super::authorize(&shared, &headers, &query) {
        return denied;
    }
    super::error(StatusCode::NOT_IMPLEMENTED, "audit trail not implemented yet")
}
