//! What kind of record canary-transform was given.
//!
//! Besides Console API records, it reads OpenCanary JSON lines, the
//! console's webhook payloads and its RFC 5424 syslog lines, recognising
//! each record by its shape (`--input auto`) or taking one kind only.
//! An OpenCanary line is read in place ([`crate::flatten::Record`] knows
//! its key names); the push formats are converted into a flat record in
//! the console's vocabulary ([`webhook`], [`syslog`]), so one ECS mapping
//! reads them all.

pub mod opencanary;
pub mod syslog;
pub mod webhook;

use simd_json::borrowed::Object;
use simd_json::prelude::*;

use crate::flatten;

/// Which kinds of record are read (`--input`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Input {
    /// Each record's kind is recognised by its shape.
    #[default]
    Auto,
    /// Console API records: flattened records, raw incidents, feed and
    /// audit pages, audit entries, `/incident/fetch` bodies.
    Api,
    /// OpenCanary JSON lines, also inside a `{"message": ...}` envelope or
    /// after a syslog header.
    #[value(name = "opencanary")]
    OpenCanary,
    /// The console's webhook payloads: incidents, Canarytokens, audit
    /// entries, the Splunk wrapper, and the canarytokens server's payload.
    Webhook,
    /// The console's RFC 5424 syslog lines.
    Syslog,
}

impl Input {
    /// The value of `--input` that names it.
    pub fn name(self) -> &'static str {
        match self {
            Input::Auto => "auto",
            Input::Api => "api",
            Input::OpenCanary => "opencanary",
            Input::Webhook => "webhook",
            Input::Syslog => "syslog",
        }
    }

    /// What a record of this kind is called in messages.
    pub fn describe(self) -> &'static str {
        match self {
            Input::Auto => "a record",
            Input::Api => "a Console API record",
            Input::OpenCanary => "an OpenCanary line",
            Input::Webhook => "a webhook payload",
            Input::Syslog => "a console syslog line",
        }
    }

    /// Whether records of `kind` are read.
    pub fn accepts(self, kind: Input) -> bool {
        self == Input::Auto || self == kind
    }

    /// Why a record of `kind` is refused, when it is.
    pub fn refusal(self, kind: Input) -> Option<String> {
        (!self.accepts(kind)).then(|| {
            format!("{}, not {} (--input {})", kind.describe(), self.describe(), self.name())
        })
    }
}

/// What a JSON object is.
pub enum Shape<'a, 'v> {
    /// A feed or audit page, a raw or fetched incident, an audit entry, or
    /// a flattened record.
    Api,
    OpenCanary,
    /// `{"message": "<JSON text>"}`, as OpenCanary's webhook handler posts
    /// its lines.
    Envelope(&'a str),
    Webhook(Result<webhook::Payload<'a, 'v>, webhook::NotAPayload>),
    /// None of these; read as an API record, which says why it is not one.
    Unknown,
}

impl Shape<'_, '_> {
    /// The kind of input the shape belongs to, if it is known.
    pub fn kind(&self) -> Option<Input> {
        match self {
            Shape::Api => Some(Input::Api),
            Shape::OpenCanary | Shape::Envelope(_) => Some(Input::OpenCanary),
            Shape::Webhook(_) => Some(Input::Webhook),
            Shape::Unknown => None,
        }
    }
}

/// Recognises a JSON object by the keys only its kind has.
pub fn shape<'a, 'v>(object: &'a Object<'v>) -> Shape<'a, 'v> {
    let list = |key: &str| object.get(key).is_some_and(|v| v.is_array());
    if list("incidents")
        || list("audit_trail")
        || object.contains_key("event_type")
        || flatten::is_raw_incident(object)
        || is_audit_entry(object)
        || fetched_incident(object).is_some()
    {
        return Shape::Api;
    }
    // A line with a non-object `logdata` is still an OpenCanary line, so
    // that it is rejected as one and not as a record missing `event_type`.
    if opencanary::is_line(object) || opencanary::bad_logdata(object).is_some() {
        return Shape::OpenCanary;
    }
    if let Some(payload) = webhook::recognise(object) {
        return Shape::Webhook(payload);
    }
    let message = object.get("message").and_then(|m| m.as_str()).map(str::trim);
    match message {
        Some(text) if text.starts_with('{') && text.ends_with('}') => Shape::Envelope(text),
        _ => Shape::Unknown,
    }
}

/// Whether `object` is one entry of the console's audit trail on its own,
/// as `/api/v1/audit_trail/fetch` lists them: an `id` and an `action_type`,
/// and no `event_type` (which `--feed audit` records add).
pub fn is_audit_entry(object: &Object<'_>) -> bool {
    object.get("action_type").is_some_and(|a| a.is_str())
        && object.contains_key("id")
        && !object.contains_key("event_type")
}

/// The incident of an `/api/v1/incident/fetch` body,
/// `{"incident": {...}, "result": "success"}`.
pub fn fetched_incident<'a, 'v>(object: &'a Object<'v>) -> Option<&'a Object<'v>> {
    object.get("incident").and_then(|i| i.as_object())
}

/// Whether an entry of an `incidents` list is one of `/incidents/search`:
/// a flat incident with its events in a `logdata` list, where the feeds
/// have a `description` object with `events`.
pub fn is_search_result(entry: &Object<'_>) -> bool {
    entry.get("logdata").is_some_and(|l| l.is_array()) && !flatten::is_raw_incident(entry)
}
