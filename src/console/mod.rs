//! The Console API client: where the console is, how to authenticate, and how
//! one page of the incident feed is fetched and decoded.
//!
//! The polling loop in [`crate::poll`] decides what to ask for and when; this
//! module only turns one request into a [`Page`] or an [`ApiError`] whose
//! [`ApiError::kind`] comes from a small fixed set used in logs.

use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use serde::Deserialize;
use serde_json::value::RawValue;
use url::Url;

/// The header that carries the token; never the `auth_token` query parameter,
/// which would put the secret in URLs, proxies and logs.
pub const TOKEN_HEADER: &str = "X-Canary-Auth-Token";

/// Feed path of every incident, acknowledged or not: reading only the
/// unacknowledged ones loses whatever a human acknowledges between polls.
const INCIDENTS_PATH: &str = "api/v1/incidents/all";

/// The largest answer read: a console or proxy that never stops sending
/// must not take all memory. Pages of 500 incidents stay far below it.
const MAX_RESPONSE: usize = 256 << 20;

/// Acknowledges one incident, by its key.
const ACKNOWLEDGE_PATH: &str = "api/v1/incident/acknowledge";

/// Feed path of the console's audit trail, newest entries first.
const AUDIT_PATH: &str = "api/v1/audit_trail/fetch";

/// Where the console is: `https://<hash>.canary.tools` or a full base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleUrl(Url);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConsoleUrlError {
    #[error("console {0:?} is neither a domain hash nor a URL")]
    Invalid(String),
    #[error("console {0:?}: plain http is only allowed to a loopback address")]
    PlainHttp(String),
    #[error("console {0:?}: only https (or http to loopback) is supported")]
    Scheme(String),
    #[error(
        "console URL must not carry credentials or a query string; pass the token in the environment or a file"
    )]
    Credentials,
}

impl ConsoleUrl {
    pub fn parse(text: &str) -> Result<Self, ConsoleUrlError> {
        let text = text.trim();
        if !text.contains("://") {
            let is_hash = !text.is_empty()
                && text.len() <= 63
                && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !is_hash {
                return Err(ConsoleUrlError::Invalid(text.to_owned()));
            }
            let url = Url::parse(&format!("https://{}.canary.tools/", text.to_ascii_lowercase()))
                .map_err(|_| ConsoleUrlError::Invalid(text.to_owned()))?;
            return Ok(ConsoleUrl(url));
        }

        let mut url = Url::parse(text).map_err(|_| ConsoleUrlError::Invalid(text.to_owned()))?;
        if !url.username().is_empty() || url.password().is_some() || url.query().is_some() {
            return Err(ConsoleUrlError::Credentials);
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => return Err(ConsoleUrlError::PlainHttp(text.to_owned())),
            _ => return Err(ConsoleUrlError::Scheme(text.to_owned())),
        }
        // A base with a path prefix (a reverse proxy) must end in '/' for
        // `Url::join` to keep the prefix.
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        url.set_fragment(None);
        Ok(ConsoleUrl(url))
    }

    pub fn as_url(&self) -> &Url {
        &self.0
    }
}

impl fmt::Display for ConsoleUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost")
                || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        None => false,
    }
}

/// The API token. Its `Debug` and `Display` never show the value.
#[derive(Clone)]
pub struct Token(String);

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no auth token: set CANARY_AUTH_TOKEN or pass --auth-token-file")]
    Missing,
    #[error("cannot read the auth token file {path}")]
    Unreadable { path: String, source: std::io::Error },
    #[error("the auth token {0} is empty or holds characters a header cannot carry")]
    Malformed(&'static str),
}

impl Token {
    /// Takes the token from a file when one is named, else from the
    /// environment value given.
    pub fn load(file: Option<&Path>, env_value: Option<String>) -> Result<Token, TokenError> {
        let (text, origin) = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| {
                    TokenError::Unreadable { path: path.display().to_string(), source }
                })?;
                (text, "file")
            }
            None => (env_value.ok_or(TokenError::Missing)?, "variable"),
        };
        Token::new(text.trim()).map_err(|_| TokenError::Malformed(origin))
    }

    pub fn new(text: &str) -> Result<Token, TokenError> {
        if text.is_empty() || HeaderValue::from_str(text).is_err() {
            return Err(TokenError::Malformed("value"));
        }
        Ok(Token(text.to_owned()))
    }

    fn header_value(&self) -> HeaderValue {
        let mut value = HeaderValue::from_str(&self.0).expect("checked in Token::new");
        value.set_sensitive(true);
        value
    }

    /// Whether `candidate` is this token; for the demo console.
    pub fn matches(&self, candidate: &str) -> bool {
        self.0 == candidate
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// A failed request, sorted by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The console refused the token: retrying cannot help.
    #[error("the console rejected the auth token (HTTP {status}: {message})")]
    Auth { status: u16, message: String },
    #[error("the console is rate limiting requests (HTTP 429)")]
    RateLimited { retry_after: Option<Duration> },
    #[error("the console answered HTTP {status}")]
    Status { status: u16 },
    #[error("request timed out")]
    Timeout,
    #[error("cannot reach the console: {0}")]
    Connect(String),
    #[error("the console's answer is not a feed page: {0}")]
    Decode(String),
    /// `{"result": "error"}` about something other than the token.
    #[error("the console returned an error: {0}")]
    Api(String),
}

impl ApiError {
    /// One word per kind of failure, for logs and counters.
    pub fn kind(&self) -> &'static str {
        match self {
            ApiError::Auth { .. } => "auth",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Status { .. } => "http_status",
            ApiError::Timeout => "timeout",
            ApiError::Connect(_) => "connect",
            ApiError::Decode(_) => "bad_response",
            ApiError::Api(_) => "api_error",
        }
    }

    /// Whether the same request may succeed later. An error body about a bad
    /// parameter or a missing object will not change; any other may be a
    /// passing fault of the console.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Auth { .. } => false,
            ApiError::Api(message) => !is_permanent_message(message),
            ApiError::Status { status } => *status >= 500,
            _ => true,
        }
    }

    /// Whether this is a network or HTTP-level fault rather than an answer
    /// of the console about the request itself.
    pub fn is_transport(&self) -> bool {
        match self {
            ApiError::Auth { .. } | ApiError::Api(_) => false,
            ApiError::Status { status } => *status >= 500,
            _ => true,
        }
    }

    /// The wait the console asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    fn from_transport(err: reqwest::Error) -> ApiError {
        if err.is_timeout() {
            return ApiError::Timeout;
        }
        // reqwest's Display names the URL, which never holds the token here;
        // the source chain says what went wrong underneath.
        // A body cut off by the peer is a broken connection; a body that
        // arrived whole but is not JSON is reported by the decoder instead.
        let err = err.without_url();
        let mut text = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        ApiError::Connect(text)
    }
}

/// What to ask the incident feed for.
#[derive(Clone, Debug)]
pub enum PageRequest<'a> {
    /// The first page of a drain: everything updated after `since`.
    First { since: u64, limit: u32, filters: &'a Filters },
    /// The first page of a first run that starts at a point in time: the
    /// incidents created after it (`yyyy-mm-dd-hh:mm:ss`, UTC).
    CreatedAfter { time: String, limit: u32, filters: &'a Filters },
    /// A later page; the cursor carries the original filters.
    Next { cursor: &'a str },
}

/// Optional narrowing of the feed.
#[derive(Clone, Debug, Default)]
pub struct Filters {
    pub flock_id: Option<String>,
    pub node_id: Option<String>,
    pub event_limit: Option<u32>,
}

impl Filters {
    /// The filters that decide which incidents a watermark covers, as text
    /// for the state file; empty for the whole feed.
    pub fn scope(&self) -> String {
        let mut parts = Vec::new();
        if let Some(flock) = &self.flock_id {
            parts.push(format!("flock_id={flock}"));
        }
        if let Some(node) = &self.node_id {
            parts.push(format!("node_id={node}"));
        }
        parts.join(" ")
    }
}

/// One decoded page of the incident feed or of the audit trail.
#[derive(Debug)]
pub struct Page {
    /// Each incident (or audit entry) exactly as the console sent it.
    pub items: Vec<Box<RawValue>>,
    /// The highest `updated_id` on this page, when the console says.
    pub max_updated_id: Option<u64>,
    /// `cursor.next`; `None` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct PageBody {
    result: Option<String>,
    message: Option<String>,
    #[serde(alias = "audit_trail")]
    incidents: Option<Vec<Box<RawValue>>>,
    max_updated_id: Option<serde_json::Value>,
    cursor: Option<CursorBody>,
}

#[derive(Deserialize)]
struct Reply {
    result: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct CursorBody {
    next: Option<String>,
}

/// Reads `updated_id`-like values sent either as numbers or digit strings.
pub fn as_id(value: &serde_json::Value) -> Option<u64> {
    match value {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An HTTP client bound to one console and one token.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: ConsoleUrl,
}

impl Client {
    pub fn new(base: ConsoleUrl, token: &Token, timeout: Duration) -> reqwest::Result<Client> {
        let mut headers = HeaderMap::new();
        headers.insert(TOKEN_HEADER, token.header_value());
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("canary-pipe/", env!("CARGO_PKG_VERSION")))
            // Redirects could carry the token header to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Client { http, base })
    }

    pub fn console(&self) -> &ConsoleUrl {
        &self.base
    }

    /// Fetches one page of the audit trail: the newest entries first, then
    /// older ones by cursor.
    pub async fn audit_page(&self, cursor: Option<&str>, limit: u32) -> Result<Page, ApiError> {
        let mut url = self.base.as_url().join(AUDIT_PATH).expect("constant path joins");
        {
            let mut query = url.query_pairs_mut();
            match cursor {
                // The audit trail refuses `limit` together with a cursor.
                Some(cursor) => query.append_pair("cursor", cursor),
                None => query.append_pair("limit", &limit.to_string()),
            };
            query.append_pair("tz", "UTC");
        }
        self.get_page(url).await
    }

    /// Fetches one page of the incident feed.
    pub async fn incidents_page(&self, request: &PageRequest<'_>) -> Result<Page, ApiError> {
        let mut url = self.base.as_url().join(INCIDENTS_PATH).expect("constant path joins");
        {
            let mut query = url.query_pairs_mut();
            match request {
                PageRequest::First { limit, filters, .. }
                | PageRequest::CreatedAfter { limit, filters, .. } => {
                    match request {
                        PageRequest::CreatedAfter { time, .. } => {
                            query.append_pair("newer_than", time);
                        }
                        PageRequest::First { since, .. } => {
                            query.append_pair("incidents_since", &since.to_string());
                        }
                        PageRequest::Next { .. } => unreachable!("matched above"),
                    }
                    query.append_pair("limit", &limit.to_string());
                    if let Some(flock) = &filters.flock_id {
                        query.append_pair("flock_id", flock);
                    }
                    if let Some(node) = &filters.node_id {
                        query.append_pair("node_id", node);
                    }
                    if let Some(limit) = filters.event_limit {
                        query.append_pair("event_limit", &limit.to_string());
                    }
                }
                PageRequest::Next { cursor } => {
                    query.append_pair("cursor", cursor);
                }
            }
            query.append_pair("shrink", "true");
            query.append_pair("tz", "UTC");
        }
        self.get_page(url).await
    }

    /// Acknowledges one incident. Success is `{"result": "success"}`.
    pub async fn acknowledge(&self, incident: &str) -> Result<(), ApiError> {
        let url = self.base.as_url().join(ACKNOWLEDGE_PATH).expect("constant path joins");
        let response = self
            .http
            .post(url)
            .form(&[("incident", incident)])
            .send()
            .await
            .map_err(ApiError::from_transport)?;
        let status = response.status().as_u16();
        let body = read_body(response).await?;
        let reply: Option<Reply> = serde_json::from_slice(&body).ok();
        let message = reply.as_ref().and_then(|r| r.message.clone());
        match (status, reply) {
            (401 | 403, _) => Err(ApiError::Auth { status, message: message.unwrap_or_default() }),
            (429, _) => Err(ApiError::RateLimited { retry_after: None }),
            (200..=299, Some(reply)) if reply.result.as_deref() == Some("success") => Ok(()),
            (200..=299, Some(_)) => {
                let message = message.unwrap_or_else(|| "no message".into());
                if is_token_message(&message) {
                    return Err(ApiError::Auth { status, message });
                }
                Err(ApiError::Api(message))
            }
            (200..=299, None) => Err(ApiError::Decode("acknowledge reply is not JSON".into())),
            _ => Err(ApiError::Status { status }),
        }
    }

    async fn get_page(&self, url: Url) -> Result<Page, ApiError> {
        let response = self.http.get(url).send().await.map_err(ApiError::from_transport)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = read_body(response).await?;
        decode_page(status, retry_after, &body)
    }
}

/// The body of an answer, up to [`MAX_RESPONSE`] bytes.
async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, ApiError> {
    let too_large = || ApiError::Decode("the answer is larger than 256 MiB".into());
    if response.content_length().is_some_and(|len| len > MAX_RESPONSE as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(ApiError::from_transport)? {
        if body.len() + chunk.len() > MAX_RESPONSE {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `Retry-After` as seconds or as an HTTP date.
fn parse_retry_after(text: &str) -> Option<Duration> {
    if let Ok(secs) = text.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = jiff::fmt::rfc2822::parse(text.trim()).ok()?.timestamp();
    let wait = when.duration_since(jiff::Timestamp::now());
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// Turns a status and body into a page or the right error.
fn decode_page(status: u16, retry_after: Option<Duration>, body: &[u8]) -> Result<Page, ApiError> {
    let parsed: Result<PageBody, _> = serde_json::from_slice(body);
    let message = parsed.as_ref().ok().and_then(|b| b.message.clone());

    if status == 401 || status == 403 {
        let message = message.unwrap_or_else(|| "no message".into());
        return Err(ApiError::Auth { status, message });
    }
    if status == 429 {
        return Err(ApiError::RateLimited { retry_after });
    }
    if !(200..300).contains(&status) {
        if let Some(message) = message.filter(|m| is_token_message(m)) {
            return Err(ApiError::Auth { status, message });
        }
        return Err(ApiError::Status { status });
    }

    let body = parsed.map_err(|e| ApiError::Decode(e.to_string()))?;
    if body.result.as_deref() == Some("error") {
        let message = body.message.unwrap_or_else(|| "no message".into());
        if is_token_message(&message) {
            return Err(ApiError::Auth { status, message });
        }
        return Err(ApiError::Api(message));
    }
    let items = body
        .incidents
        .ok_or_else(|| ApiError::Decode("no \"incidents\" or \"audit_trail\" list".into()))?;
    Ok(Page {
        items,
        max_updated_id: body.max_updated_id.as_ref().and_then(as_id),
        next_cursor: body.cursor.and_then(|c| c.next).filter(|c| !c.is_empty()),
    })
}

/// Error messages about the request itself, which a retry cannot change
/// (from the official client's error map).
fn is_permanent_message(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("not found") || lower.contains("invalid") || lower.contains("cannot use")
}

/// The documented answers to a bad token are "Invalid auth_token" and
/// "Unauthorized"; other wording about the token is treated the same.
fn is_token_message(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("auth_token")
        || lower.contains("unauthori")
        || lower.contains("auth token")
        || lower.contains("api key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_from_hash_or_url() {
        assert_eq!(
            ConsoleUrl::parse("ab12cd34").unwrap().to_string(),
            "https://ab12cd34.canary.tools/"
        );
        assert_eq!(
            ConsoleUrl::parse("https://console.example.com/proxy").unwrap().to_string(),
            "https://console.example.com/proxy/"
        );
        assert!(ConsoleUrl::parse("http://127.0.0.1:8080").is_ok());
        assert!(ConsoleUrl::parse("http://[::1]:8080").is_ok());
        assert!(ConsoleUrl::parse("http://localhost:1").is_ok());
        assert_eq!(
            ConsoleUrl::parse("http://ab12.canary.tools"),
            Err(ConsoleUrlError::PlainHttp("http://ab12.canary.tools".into()))
        );
        assert_eq!(
            ConsoleUrl::parse("https://x.canary.tools/?auth_token=s"),
            Err(ConsoleUrlError::Credentials)
        );
        assert!(ConsoleUrl::parse("not a hash").is_err());
        assert!(ConsoleUrl::parse("ftp://x.example.com").is_err());
    }

    #[test]
    fn token_is_never_printed() {
        let token = Token::new("s3cret-value").unwrap();
        assert!(!format!("{token:?}").contains("s3cret"));
        assert!(Token::new("").is_err());
        assert!(Token::new("bad\nvalue").is_err());
    }

    #[test]
    fn errors_are_sorted_by_what_to_do() {
        let auth = decode_page(200, None, br#"{"result":"error","message":"Invalid auth_token"}"#);
        assert!(matches!(auth, Err(ApiError::Auth { .. })));
        let auth = decode_page(401, None, b"<html>nope</html>");
        assert!(matches!(auth, Err(ApiError::Auth { status: 401, .. })));
        let html = decode_page(200, None, b"<html>maintenance</html>").unwrap_err();
        assert!(html.is_transient());
        assert_eq!(html.kind(), "bad_response");
        let busy = decode_page(503, None, b"").unwrap_err();
        assert!(busy.is_transient());
        let other = decode_page(200, None, br#"{"result":"error","message":"Device not found"}"#);
        assert!(matches!(other, Err(ApiError::Api(_))));
        assert!(!other.unwrap_err().is_transient());
        let glitch = decode_page(200, None, br#"{"result":"error","message":"Please try later"}"#);
        assert!(glitch.unwrap_err().is_transient());
        let limited = decode_page(429, Some(Duration::from_secs(7)), b"").unwrap_err();
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(7)));
    }

    #[test]
    fn page_fields_are_read() {
        let page = decode_page(
            200,
            None,
            br#"{"result":"success","max_updated_id":"12","cursor":{"next":"abc","next_link":"x"},
                "incidents":[{"updated_id":12}]}"#,
        )
        .unwrap();
        assert_eq!(page.max_updated_id, Some(12));
        assert_eq!(page.next_cursor.as_deref(), Some("abc"));
        assert_eq!(page.items.len(), 1);
        let last = decode_page(200, None, br#"{"incidents":[],"cursor":{"next":null}}"#).unwrap();
        assert_eq!(last.next_cursor, None);
        assert_eq!(last.max_updated_id, None);
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(parse_retry_after("30"), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
    }
}
