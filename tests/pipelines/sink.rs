//! An HTTP sink on 127.0.0.1 that answers like Sekoia.io's `/plain/batch`
//! intake and like Elasticsearch's `_bulk`, keeps every request as it came
//! (body decompressed), and can refuse requests or items, or answer like a
//! broken `_bulk`, on demand.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::io::Read;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::watch;

pub const INTAKE_KEY: &str = "test-intake-key-5b1f";
pub const ES_API_KEY: &str = "dGVzdDprZXk=";
pub const ES_USER: &str = "canary";
pub const ES_PASSWORD: &str = "test-es-password";

/// One request as the sink received it.
#[derive(Clone, Debug)]
pub struct Request {
    pub path: &'static str,
    pub headers: HeaderMap,
    /// The body, gunzipped when it came with `Content-Encoding: gzip`.
    pub body: Vec<u8>,
    /// The body's size on the wire.
    pub sent_bytes: usize,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// How the sink answers one request.
#[derive(Clone, Copy, Debug)]
pub enum Plan {
    /// As the real service would.
    Normal,
    /// Refused as a whole with this status before it is looked at.
    Refuse(StatusCode),
    /// 200 with a body that is not JSON, nothing kept: what a proxy's error
    /// page or an `ES_URL` pointing at the wrong service gives.
    NotJson,
    /// 200 with an empty body, nothing kept.
    Empty,
    /// `_bulk`: 200 with `"errors": false, "items": []`, nothing stored.
    NoItems,
    /// `_bulk`: the last action neither stored nor answered, so the reply
    /// has one item fewer than the request has actions.
    LastItemMissing,
}

#[derive(Default)]
pub struct Received {
    pub requests: Vec<Request>,
    /// Answers for the next requests, in order; when it is empty, requests
    /// are handled normally.
    pub planned: VecDeque<Plan>,
    /// Lines the intake accepted, in order.
    pub intake_lines: Vec<String>,
    /// Documents stored by `_bulk`, by `_id`.
    pub stored: BTreeMap<String, Value>,
    /// `create` items refused because their `_id` was stored already.
    pub conflicts: usize,
    /// `_id`s whose next `create` fails with a mapping error.
    pub reject_once: HashSet<String>,
}

#[derive(Clone)]
struct Shared {
    received: Arc<Mutex<Received>>,
    /// Lines accepted plus documents stored so far, for waiting on arrivals.
    arrived: watch::Sender<usize>,
}

pub struct Sink {
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub base: String,
    shared: Shared,
}

impl Sink {
    pub async fn start() -> Sink {
        let shared = Shared {
            received: Arc::new(Mutex::new(Received::default())),
            arrived: watch::channel(0).0,
        };
        let app = Router::new()
            .route("/plain/batch", post(intake))
            .route("/_bulk", post(bulk))
            .layer(DefaultBodyLimit::max(64 << 20))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Sink { base, shared }
    }

    pub fn intake_url(&self) -> String {
        format!("{}/plain/batch", self.base)
    }

    pub fn received(&self) -> MutexGuard<'_, Received> {
        self.shared.received.lock().unwrap()
    }

    /// Waits until at least `count` lines or documents have been accepted.
    pub async fn wait_for(&self, count: usize) {
        let mut arrived = self.shared.arrived.subscribe();
        arrived.wait_for(|n| *n >= count).await.unwrap();
    }
}

fn decoded(headers: &HeaderMap, body: &[u8]) -> Vec<u8> {
    let gzipped = headers.get("content-encoding").is_some_and(|v| v == "gzip");
    if !gzipped {
        return body.to_vec();
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body).read_to_end(&mut out).expect("a valid gzip body");
    out
}

/// Records the request and takes the planned answer, if any.
fn arrive(shared: &Shared, path: &'static str, headers: HeaderMap, body: &[u8]) -> (Plan, Vec<u8>) {
    let body_text = decoded(&headers, body);
    let mut received = shared.received.lock().unwrap();
    received.requests.push(Request {
        path,
        headers,
        body: body_text.clone(),
        sent_bytes: body.len(),
    });
    (received.planned.pop_front().unwrap_or(Plan::Normal), body_text)
}

fn reply(status: StatusCode, body: Value) -> (StatusCode, String) {
    (status, body.to_string())
}

fn not_json() -> (StatusCode, String) {
    (StatusCode::OK, "<html><body>Welcome</body></html>".to_owned())
}

async fn intake(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let key = headers.get("x-sekoiaio-intake-key").and_then(|v| v.to_str().ok()).map(String::from);
    let (planned, body) = arrive(&shared, "/plain/batch", headers, &body);
    match planned {
        Plan::Normal => {}
        Plan::Refuse(status) => return reply(status, json!({"message": "planned failure"})),
        Plan::NotJson => return not_json(),
        Plan::Empty => return (StatusCode::OK, String::new()),
        Plan::NoItems | Plan::LastItemMissing => panic!("{planned:?} is a _bulk answer"),
    }
    if key.as_deref() != Some(INTAKE_KEY) {
        return reply(StatusCode::UNAUTHORIZED, json!({"message": "Invalid intake key"}));
    }
    let Ok(text) = String::from_utf8(body) else {
        return reply(StatusCode::BAD_REQUEST, json!({"message": "not UTF-8"}));
    };
    let lines: Vec<String> = text.lines().filter(|l| !l.is_empty()).map(String::from).collect();
    if lines.is_empty() {
        return reply(StatusCode::BAD_REQUEST, json!({"message": "empty batch"}));
    }
    let ids: Vec<String> = (0..lines.len()).map(|i| format!("event-{i}")).collect();
    let count = lines.len();
    shared.received.lock().unwrap().intake_lines.extend(lines);
    shared.arrived.send_modify(|n| *n += count);
    reply(StatusCode::OK, json!({"event_ids": ids}))
}

fn authorized(headers: &HeaderMap) -> bool {
    use base64::Engine;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{ES_USER}:{ES_PASSWORD}"));
    let given = headers.get("authorization").and_then(|v| v.to_str().ok());
    given == Some(&format!("ApiKey {ES_API_KEY}")) || given == Some(&format!("Basic {basic}"))
}

async fn bulk(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let allowed = authorized(&headers);
    let ndjson = headers
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap_or("").starts_with("application/x-ndjson"));
    let (planned, body) = arrive(&shared, "/_bulk", headers, &body);
    match planned {
        Plan::Normal | Plan::LastItemMissing => {}
        Plan::Refuse(status) => {
            return reply(
                status,
                json!({"error": {"type": "planned_failure"}, "status": status.as_u16()}),
            );
        }
        Plan::NotJson => return not_json(),
        Plan::Empty => return (StatusCode::OK, String::new()),
        Plan::NoItems => {
            return reply(StatusCode::OK, json!({"took": 1, "errors": false, "items": []}));
        }
    }
    let error = |status: StatusCode, kind: &str, reason: &str| {
        reply(status, json!({"error": {"type": kind, "reason": reason}, "status": status.as_u16()}))
    };
    if !allowed {
        return error(StatusCode::UNAUTHORIZED, "security_exception", "missing authentication");
    }
    if !ndjson {
        return error(StatusCode::NOT_ACCEPTABLE, "media_type_header_exception", "not x-ndjson");
    }
    if body.last() != Some(&b'\n') {
        return error(
            StatusCode::BAD_REQUEST,
            "illegal_argument_exception",
            "The bulk request must be terminated by a newline [\\n]",
        );
    }
    let text = String::from_utf8(body).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    if !lines.len().is_multiple_of(2) {
        return error(
            StatusCode::BAD_REQUEST,
            "illegal_argument_exception",
            "an action without a source",
        );
    }
    let mut received = shared.received.lock().unwrap();
    let mut items = Vec::new();
    let mut stored = 0;
    let mut pairs = lines.chunks(2).collect::<Vec<_>>();
    if matches!(planned, Plan::LastItemMissing) {
        pairs.pop();
    }
    for pair in pairs {
        let action: Value = serde_json::from_str(pair[0]).unwrap();
        let create = &action["create"];
        let (Some(index), Some(id)) = (create["_index"].as_str(), create["_id"].as_str()) else {
            return error(StatusCode::BAD_REQUEST, "action_request_validation_exception", pair[0]);
        };
        let document: Value = serde_json::from_str(pair[1]).unwrap();
        let mut item = json!({"_index": index, "_id": id});
        if received.reject_once.remove(id) {
            item["status"] = json!(400);
            item["error"] = json!({"type": "mapper_parsing_exception", "reason": "failed to parse field [source.port]"});
        } else if received.stored.contains_key(id) {
            received.conflicts += 1;
            item["status"] = json!(409);
            item["error"] = json!({"type": "version_conflict_engine_exception", "reason": "document already exists"});
        } else {
            received.stored.insert(id.to_owned(), document);
            stored += 1;
            item["status"] = json!(201);
            item["result"] = json!("created");
        }
        items.push(json!({"create": item}));
    }
    drop(received);
    shared.arrived.send_modify(|n| *n += stored);
    let errors = items.iter().any(|i| i["create"]["status"].as_u64().unwrap() >= 300);
    reply(StatusCode::OK, json!({"took": 3, "errors": errors, "items": items}))
}
