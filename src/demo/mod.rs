//! A small Canary console on 127.0.0.1 that follows the documented API.
//!
//! `canary-source --demo` serves the built-in incidents with it and pulls them
//! through the ordinary client, and the tests use it as the console under
//! test. It implements what a puller relies on: the `X-Canary-Auth-Token`
//! header, `/api/v1/incidents/all` with `incidents_since`, `limit`, an opaque
//! cursor that carries the original filters and a snapshot bound,
//! `max_updated_id` per page, `flock_id`, `node_id` and `event_limit`, and the
//! documented error bodies.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::console::{TOKEN_HEADER, Token, as_id};

mod audit;
pub mod generate;

/// The built-in incidents: every common Canary service and scan, six token
/// kinds with geoip and headers, multi-event incidents, six Canaries in two
/// flocks.
const BUILTIN: &str = include_str!("incidents.json");

/// The built-in incidents, parsed.
pub fn builtin_incidents() -> Vec<Value> {
    serde_json::from_str(BUILTIN).expect("the built-in demo incidents are valid JSON")
}

/// The built-in audit trail, oldest first: logins and a failed one, token,
/// device, flock, incident, settings and API token changes.
const BUILTIN_AUDIT: &str = include_str!("audit.json");

/// The built-in audit trail entries, parsed.
pub fn builtin_audit() -> Vec<Value> {
    serde_json::from_str(BUILTIN_AUDIT).expect("the built-in demo audit trail is valid JSON")
}

/// A running console. Dropping it stops the server.
pub struct Console {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub(crate) struct Shared {
    token: Token,
    data: Mutex<Data>,
    /// Woken at every feed request, for tests that wait for one.
    requested: tokio::sync::Notify,
}

#[derive(Default)]
pub(crate) struct Data {
    /// Incidents ordered by `updated_id`.
    incidents: Vec<Value>,
    /// The console-wide modification counter: the highest `updated_id` given.
    last_id: u64,
    /// Every feed request's query string, for tests to inspect.
    requests: Vec<String>,
    /// When each feed request arrived.
    arrivals: Vec<Instant>,
    /// Acknowledgements received, by incident key, in order.
    acknowledgements: Vec<String>,
    /// Failures to answer the next feed requests with, in order.
    faults: VecDeque<Fault>,
    /// Audit trail entries, oldest first.
    audit: Vec<Value>,
}

/// A failure the console can be told to answer with, once per entry.
#[derive(Clone, Debug)]
pub enum Fault {
    /// This HTTP status with a JSON error body.
    Status(u16),
    /// 429, with `Retry-After` in seconds when given.
    RateLimited(Option<u64>),
    /// A 200 answer holding an HTML page instead of JSON.
    Html,
    /// The right page, cut in the middle of its JSON.
    Truncated,
    /// `{"result": "error"}` with this message.
    ErrorBody(String),
    /// The connection is dropped after the headers, mid-body.
    Reset,
    /// The right page, sent only after this delay.
    Slow(Duration),
    /// The next request that carries a cursor is refused as if the cursor
    /// had expired; requests without one pass it by.
    CursorExpired,
    /// Acknowledgements fail with HTTP 500 (consumed by the next one).
    AcknowledgeFails,
    /// The page reports the whole result's highest `updated_id` as its
    /// `max_updated_id`, which the documentation leaves possible.
    WholeResultMax,
    /// The page hands back, as the next cursor, the cursor it was asked with;
    /// requests without a cursor pass it by.
    SameCursorAgain,
}

impl Console {
    /// Starts a console on an ephemeral port of 127.0.0.1.
    pub async fn start(token: Token, incidents: Vec<Value>) -> std::io::Result<Console> {
        let mut data = Data { audit: builtin_audit(), ..Data::default() };
        for incident in incidents {
            data.insert(incident);
        }
        let shared = Arc::new(Shared {
            token,
            data: Mutex::new(data),
            requested: tokio::sync::Notify::new(),
        });
        let app = Router::new()
            .route("/api/v1/ping", get(ping))
            .route("/api/v1/incidents/all", get(incidents_all))
            .route("/api/v1/audit_trail/fetch", get(audit::fetch))
            .route("/api/v1/incident/acknowledge", post(acknowledge))
            .with_state(shared.clone());

        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(err) = served {
                tracing::error!(error = %err, "Demo console stopped.");
            }
        });
        Ok(Console { addr, shared, _stop: stop })
    }

    /// Base URL to give the client, e.g. `http://127.0.0.1:40000/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Adds an incident, or replaces the one with the same `id`, giving it the
    /// next `updated_id` as a console does on every change.
    pub fn upsert(&self, mut incident: Value) -> u64 {
        let mut data = self.data();
        let id = data.last_id + 1;
        incident["updated_id"] = json!(id);
        if let Some(key) = incident.get("id").cloned() {
            data.incidents.retain(|i| i.get("id") != Some(&key));
        }
        data.insert(incident);
        id
    }

    /// Appends an audit trail entry (an object), giving it the next `id`.
    pub fn add_audit(&self, mut entry: Value) -> u64 {
        let mut data = self.data();
        let id = data.audit.last().map_or(0, audit::entry_id) + 1;
        entry["id"] = json!(id);
        data.audit.push(entry);
        id
    }

    /// Makes the next feed requests fail, one fault each.
    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        self.data().faults.extend(faults);
    }

    /// The query strings of every request so far.
    pub fn requests(&self) -> Vec<String> {
        self.data().requests.clone()
    }

    /// Returns once the console has had `count` feed requests.
    pub async fn requested(&self, count: usize) {
        loop {
            // Registered before the count is read, so no request is missed.
            let next = self.shared.requested.notified();
            if self.data().requests.len() >= count {
                return;
            }
            next.await;
        }
    }

    /// When each feed request arrived.
    pub fn arrivals(&self) -> Vec<Instant> {
        self.data().arrivals.clone()
    }

    /// The incident keys acknowledged so far, one entry per request.
    pub fn acknowledgements(&self) -> Vec<String> {
        self.data().acknowledgements.clone()
    }

    /// The highest `updated_id` held.
    pub fn last_id(&self) -> u64 {
        self.data().last_id
    }

    fn data(&self) -> MutexGuard<'_, Data> {
        self.shared.data.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Data {
    fn insert(&mut self, incident: Value) {
        let id = incident.get("updated_id").and_then(as_id).unwrap_or(self.last_id + 1);
        self.last_id = self.last_id.max(id);
        let at = self.incidents.partition_point(|i| updated_id(i) <= id);
        self.incidents.insert(at, incident);
    }
}

fn updated_id(incident: &Value) -> u64 {
    incident.get("updated_id").and_then(as_id).unwrap_or(0)
}

/// What a cursor carries: the first request's filters, a snapshot bound, and
/// the `updated_id` to continue after (as the real cursor seems to), so that
/// paging is stable while incidents keep changing.
#[derive(Serialize, Deserialize)]
struct Cursor {
    since: u64,
    upper: u64,
    after: u64,
    limit: usize,
    flock_id: Option<String>,
    node_id: Option<String>,
    event_limit: Option<usize>,
    /// `newer_than`, as epoch seconds.
    created_after: Option<i64>,
}

impl Cursor {
    fn encode(&self) -> String {
        BASE64.encode(serde_json::to_vec(self).expect("cursor serializes"))
    }

    fn decode(text: &str) -> Option<Cursor> {
        serde_json::from_slice(&BASE64.decode(text).ok()?).ok()
    }
}

pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"message": message, "result": "error"}))).into_response()
}

/// Checks the header or the `auth_token` parameter, with the documented
/// answers for each.
fn authorize(
    shared: &Shared,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Option<Response> {
    if let Some(value) = headers.get(TOKEN_HEADER) {
        let ok = value.to_str().is_ok_and(|v| shared.token.matches(v));
        return (!ok).then(|| error(StatusCode::UNAUTHORIZED, "Unauthorized"));
    }
    match query.get("auth_token") {
        Some(token) if shared.token.matches(token) => None,
        Some(_) => Some(error(StatusCode::UNAUTHORIZED, "Invalid auth_token")),
        None => Some(error(StatusCode::UNAUTHORIZED, "Unauthorized")),
    }
}

async fn ping(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(denied) = authorize(&shared, &headers, &query) {
        return denied;
    }
    axum::Json(json!({"result": "success"})).into_response()
}

async fn incidents_all(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    uri: axum::http::Uri,
) -> Response {
    let (body, fault) = match feed_page(&shared, &headers, &query, &uri) {
        Ok(answer) => answer,
        Err(response) => return *response,
    };
    if let Some(Fault::Slow(delay)) = fault {
        tokio::time::sleep(delay).await;
    }
    match fault {
        Some(Fault::Truncated) => {
            let text = body.to_string();
            (
                StatusCode::OK,
                [("content-type", "application/json")],
                text[..text.len() / 2].to_owned(),
            )
                .into_response()
        }
        Some(Fault::Reset) => broken_body(),
        _ => axum::Json(body).into_response(),
    }
}

/// The page a feed request asks for, with the fault to apply while
/// answering; an error answer when the request is refused.
fn feed_page(
    shared: &Shared,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    uri: &axum::http::Uri,
) -> Result<(Value, Option<Fault>), Box<Response>> {
    let mut data = shared.data.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    data.requests.push(uri.query().unwrap_or("").to_owned());
    data.arrivals.push(Instant::now());
    shared.requested.notify_waiters();
    if let Some(denied) = authorize(shared, headers, query) {
        return Err(Box::new(denied));
    }
    let fault = take_fault(&mut data.faults, query.contains_key("cursor"));
    if let Some(fault) = &fault
        && !matches!(
            fault,
            Fault::Slow(_)
                | Fault::Truncated
                | Fault::Reset
                | Fault::WholeResultMax
                | Fault::SameCursorAgain
        )
    {
        return Err(Box::new(fault_response(fault.clone())));
    }

    let cursor = match query.get("cursor") {
        Some(_) if query.contains_key("limit") => {
            return Err(Box::new(error(
                StatusCode::BAD_REQUEST,
                "limit cannot be used with cursor",
            )));
        }
        Some(text) => match Cursor::decode(text) {
            Some(cursor) => cursor,
            None => return Err(Box::new(error(StatusCode::BAD_REQUEST, "Invalid cursor"))),
        },
        None => {
            let number = |name: &str| query.get(name).and_then(|v| v.parse::<u64>().ok());
            Cursor {
                since: number("incidents_since").unwrap_or(0),
                upper: data.last_id,
                after: 0,
                limit: number("limit").map_or(usize::MAX, |l| l.max(1) as usize),
                flock_id: query.get("flock_id").cloned(),
                node_id: query.get("node_id").cloned(),
                event_limit: number("event_limit").map(|l| l as usize),
                created_after: query.get("newer_than").and_then(|t| parse_console_time(t)),
            }
        }
    };

    // Incidents are kept in `updated_id` order: start where the page starts
    // and look one past its end, so each page costs its own size only.
    let first = cursor.since.max(cursor.after) + 1;
    let start = data.incidents.partition_point(|i| updated_id(i) < first);
    let matching: Vec<&Value> = data.incidents[start..]
        .iter()
        .take_while(|i| updated_id(i) <= cursor.upper)
        .filter(|i| cursor.flock_id.as_ref().is_none_or(|f| i["description"]["flock_id"] == **f))
        .filter(|i| cursor.node_id.as_ref().is_none_or(|n| i["description"]["node_id"] == **n))
        .filter(|i| cursor.created_after.is_none_or(|t| created(i) > t))
        .take(cursor.limit.saturating_add(1))
        .collect();
    let end = cursor.limit.min(matching.len());
    let page: Vec<Value> = matching[..end]
        .iter()
        .map(|i| with_event_limit((*i).clone(), cursor.event_limit))
        .collect();

    let paged = query.contains_key("limit") || query.contains_key("cursor");
    let last = page.last().map(updated_id).unwrap_or(cursor.after);
    let next = (end < matching.len()).then(|| Cursor { after: last, ..cursor }.encode());
    let mut body = json!({
        "feed": "All Incidents",
        "incidents": page,
        "result": "success",
        "updated": "Tue, 03 Nov 2026 10:00:00 GMT",
        "updated_std": "2026-11-03 10:00:00 UTC+0000",
        "updated_timestamp": 1793786400,
    });
    if let Some(max) = page.iter().map(updated_id).max() {
        body["max_updated_id"] = json!(max);
    }
    if paged {
        // Like the real console, the link embeds the token in clear text; a
        // client must never follow or log it.
        let link = next.as_ref().map(|c| {
            format!("https://demo.canary.tools/api/v1/incidents/all?cursor={c}&auth_token=demo-secret-in-link")
        });
        body["cursor"] = json!({"next": next, "next_link": link, "prev": null, "prev_link": null});
    }
    match (&fault, query.get("cursor")) {
        (Some(Fault::WholeResultMax), _) => body["max_updated_id"] = json!(cursor.upper),
        (Some(Fault::SameCursorAgain), Some(asked)) => body["cursor"]["next"] = json!(asked),
        _ => {}
    }
    Ok((body, fault))
}

/// Takes the next fault that applies to this request.
fn take_fault(faults: &mut VecDeque<Fault>, has_cursor: bool) -> Option<Fault> {
    match faults.front() {
        Some(Fault::CursorExpired | Fault::SameCursorAgain) if !has_cursor => None,
        Some(Fault::AcknowledgeFails) => None,
        Some(_) => faults.pop_front(),
        None => None,
    }
}

fn fault_response(fault: Fault) -> Response {
    match fault {
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            error(status, "injected failure")
        }
        Fault::RateLimited(after) => {
            let mut response = error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
            if let Some(after) = after {
                response.headers_mut().insert("retry-after", after.into());
            }
            response
        }
        Fault::Html => {
            axum::response::Html("<html><body>Maintenance</body></html>").into_response()
        }
        Fault::ErrorBody(message) => {
            axum::Json(json!({"result": "error", "message": message})).into_response()
        }
        Fault::CursorExpired => error(StatusCode::BAD_REQUEST, "Invalid cursor"),
        _ => error(StatusCode::INTERNAL_SERVER_ERROR, "fault not applicable here"),
    }
}

/// A 200 whose body fails after a few bytes: the client sees the
/// connection drop mid-answer.
fn broken_body() -> Response {
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = vec![
        Ok(bytes::Bytes::from_static(b"{\"incidents\": [")),
        Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected reset")),
    ];
    let stream = futures_util::stream::iter(chunks);
    (StatusCode::OK, [("content-type", "application/json")], axum::body::Body::from_stream(stream))
        .into_response()
}

/// `POST /api/v1/incident/acknowledge` with `incident=<key>`: marks it
/// acknowledged and gives it a new `updated_id`, as a console does.
async fn acknowledge(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    if let Some(denied) = authorize(&shared, &headers, &query) {
        return denied;
    }
    let Some(key) = form.get("incident").cloned() else {
        return error(StatusCode::BAD_REQUEST, "Missing incident");
    };
    let mut data = shared.data.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    data.acknowledgements.push(key.clone());
    if matches!(data.faults.front(), Some(Fault::AcknowledgeFails)) {
        data.faults.pop_front();
        return error(StatusCode::INTERNAL_SERVER_ERROR, "injected failure");
    }
    let Some(at) = data.incidents.iter().position(|i| i["id"] == *key) else {
        return error(StatusCode::OK, "Incident not found");
    };
    let mut incident = data.incidents.remove(at);
    incident["description"]["acknowledged"] = json!("True");
    let id = data.last_id + 1;
    incident["updated_id"] = json!(id);
    data.insert(incident);
    axum::Json(json!({"action": "acknowledged", "key": key, "result": "success"})).into_response()
}

fn created(incident: &Value) -> i64 {
    incident["description"]["created"].as_str().and_then(|c| c.parse().ok()).unwrap_or(0)
}

/// `yyyy-mm-dd-hh:mm:ss` (UTC) as epoch seconds.
fn parse_console_time(text: &str) -> Option<i64> {
    let time = jiff::civil::DateTime::strptime("%Y-%m-%d-%H:%M:%S", text).ok()?;
    Some(jiff::tz::TimeZone::UTC.to_timestamp(time).ok()?.as_second())
}

fn with_event_limit(mut incident: Value, limit: Option<usize>) -> Value {
    if let Some(limit) = limit
        && let Some(events) =
            incident.pointer_mut("/description/events").and_then(|e| e.as_array_mut())
    {
        events.truncate(limit);
    }
    incident
}
