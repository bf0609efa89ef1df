//! The console's push formats, turned into flat records in its own
//! vocabulary.
//!
//! A generic webhook posts one JSON object per alert: an incident
//! (`Description`, `Timestamp`, `CanaryName`, `SourceIP`, `IncidentHash`,
//! `AdditionalDetails` as `[key, value]` pairs, ...), a Canarytoken alert
//! (`Token`, `Reminder`, no `Canary*` fields) or an audit entry
//! (`{"type": "console-audit", "payload": {...}}`). Splunk's variant wraps
//! the same object as `{"sourcetype": ..., "event": {...}}`, and syslog
//! sends the same names as structured data ([`super::syslog`]). The
//! open-source canarytokens server posts a payload of its own (`channel`,
//! `time`, `memo`, `additional_data`, ...).
//!
//! [`Builder`] renames these fields to those of an API event record
//! (`src_host`, `logtype`, `USERNAME`, an epoch `timestamp`, ...), so the
//! ECS mapping reads every source alike. A field it does not know, or
//! cannot convert, keeps its own name: nothing is dropped.

use std::borrow::Cow;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use simd_json::BorrowedValue as Value;
use simd_json::borrowed::Object;
use simd_json::prelude::*;

use crate::flatten::Kind;

/// Top-level webhook names (and syslog `BasicIncidentDetails` names) of
/// fields that only need a new name. `Timestamp`, `IncidentHash` and
/// `MatchedAnnotations` are converted; see [`Builder::field`].
const FIELDS: &[(&str, &str)] = &[
    ("Description", "description"),
    ("CanaryName", "name"),
    ("CanaryID", "node_id"),
    ("CanaryIP", "dst_host"),
    ("CanaryPort", "dst_port"),
    ("SourceIP", "src_host"),
    ("ReverseDNS", "src_host_reverse"),
    ("LogType", "logtype"),
    ("eventid", "logtype"),
    ("Token", "canarytoken"),
    ("Reminder", "memo"),
    ("Flock", "flock_id"),
];

/// `AdditionalDetails` names, lowercased with everything but letters and
/// digits removed (the webhook writes "Dst Port" and "User-Agent", syslog
/// "DstPort"), and the event keys the console uses for the same fields.
const DETAILS: &[(&str, &str)] = &[
    ("username", "USERNAME"),
    ("password", "PASSWORD"),
    ("useragent", "USERAGENT"),
    ("host", "HOSTNAME"),
    ("hostname", "HOSTNAME"),
    ("user", "USER"),
    ("domain", "DOMAIN"),
    ("filename", "FILENAME"),
    ("path", "PATH"),
    ("url", "URL"),
    ("key", "KEY"),
    ("communitystring", "COMMUNITY_STRING"),
    ("settings", "SETTINGS"),
    ("dstport", "dst_port"),
    ("srcport", "src_port"),
];

// TODO: Turn a token alert's geo and reputation details (syslog's `City`,
// `IsTor`, ...) into `geoip` and `ip_blocklist` once their names in both
// push formats are documented; until then they keep their own names.

/// Keys holding host names, which syslog may defang (`example[.]org`).
const HOSTS: [&str; 5] = ["src_host", "src_host_reverse", "dst_host", "HOSTNAME", "HOST"];

/// Where detail entries that are not `[name, value]` pairs, or whose name
/// is already taken, are kept.
const LEFTOVERS: &str = "AdditionalDetails";

/// A webhook body that holds a Canary alert or audit entry.
#[derive(Clone, Copy, Debug)]
pub enum Payload<'a, 'v> {
    /// A Canary or Canarytoken incident.
    Incident(&'a Object<'v>),
    /// The `payload` of a `console-audit` webhook.
    Audit(&'a Object<'v>),
    /// A payload of the open-source canarytokens server.
    CanarytokensOrg(&'a Object<'v>),
}

/// Why an object shaped like a webhook body holds no payload to read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NotAPayload {
    #[error("\"console-audit\" webhook without a \"payload\" object")]
    AuditWithoutPayload,
    #[error("Splunk webhook whose \"event\" is not a Canary webhook payload")]
    SplunkEvent,
}

/// The payload `object` holds, if it has the shape of a webhook body;
/// `None` when it does not look like one at all.
pub fn recognise<'a, 'v>(object: &'a Object<'v>) -> Option<Result<Payload<'a, 'v>, NotAPayload>> {
    let splunk = object.get("sourcetype").is_some_and(|s| s.is_str());
    if let (true, Some(event)) = (splunk, object.get("event")) {
        let inner = event.as_object().and_then(unwrapped).and_then(Result::ok);
        return Some(inner.ok_or(NotAPayload::SplunkEvent));
    }
    unwrapped(object)
}

fn unwrapped<'a, 'v>(object: &'a Object<'v>) -> Option<Result<Payload<'a, 'v>, NotAPayload>> {
    if object.get("type").and_then(|t| t.as_str()) == Some("console-audit") {
        let payload = object.get("payload").and_then(|p| p.as_object());
        return Some(payload.map(Payload::Audit).ok_or(NotAPayload::AuditWithoutPayload));
    }
    let has = |key: &str| object.contains_key(key);
    let marked =
        ["AlertType", "IncidentHash", "CanaryID", "AdditionalDetails"].iter().any(|k| has(k));
    if marked || (has("Description") && (has("LogType") || has("Token"))) {
        return Some(Ok(Payload::Incident(object)));
    }
    let channel = object.get("channel").is_some_and(|c| c.is_str());
    if channel && ["manage_url", "token_type", "src_data"].iter().any(|k| has(k)) {
        return Some(Ok(Payload::CanarytokensOrg(object)));
    }
    None
}

/// The flat record of a payload, and its kind.
pub fn convert<'v>(payload: Payload<'_, 'v>) -> (Kind, Object<'v>) {
    match payload {
        Payload::Incident(object) => (Kind::Event, incident(object)),
        Payload::Audit(object) => {
            let mut builder = Builder::new(Kind::Audit);
            for (key, value) in object.iter() {
                builder.keep(key.clone(), value.clone());
            }
            (Kind::Audit, builder.finish())
        }
        Payload::CanarytokensOrg(object) => (Kind::Event, canarytokens_org(object)),
    }
}

fn incident<'v>(payload: &Object<'v>) -> Object<'v> {
    let mut builder = Builder::new(Kind::Event);
    for (key, value) in payload.iter().filter(|(key, _)| *key != "AdditionalDetails") {
        builder.field(key.clone(), value.clone());
    }
    match payload.get("AdditionalDetails") {
        Some(Value::Array(items)) => {
            for item in items.iter() {
                match pair(item) {
                    Some((name, value)) => builder.detail(name, value.clone()),
                    None => builder.leftovers.push(item.clone()),
                }
            }
        }
        Some(Value::Object(details)) => {
            for (name, value) in details.iter() {
                builder.detail(name.clone(), value.clone());
            }
        }
        Some(other) => builder.leftovers.push(other.clone()),
        None => {}
    }
    builder.finish()
}

/// A `[name, value]` entry of `AdditionalDetails`.
fn pair<'a, 'v>(item: &'a Value<'v>) -> Option<(Cow<'v, str>, &'a Value<'v>)> {
    match item.as_array()?.as_slice() {
        [Value::String(name), value] => Some((name.clone(), value)),
        _ => None,
    }
}

/// The canarytokens server's payload: `time`, `memo`, `token`,
/// `token_type`, `src_ip`, and the request's details in `additional_data`
/// (kept whole; its address, user agent and referer are also copied out).
fn canarytokens_org<'v>(payload: &Object<'v>) -> Object<'v> {
    let mut builder = Builder::new(Kind::Event);
    for (key, value) in payload.iter() {
        let value = value.clone();
        match key.as_ref() {
            "time" => builder.time(key.clone(), value),
            "memo" => builder.rename("memo", key.clone(), value),
            "token" => builder.rename("canarytoken", key.clone(), value),
            "token_type" => builder.rename("type", key.clone(), value),
            "src_ip" => builder.rename("src_host", key.clone(), value),
            _ => builder.keep(key.clone(), value),
        }
    }
    if let Some(data) = payload.get("additional_data").and_then(|d| d.as_object()) {
        for (from, to) in
            [("src_ip", "src_host"), ("useragent", "USERAGENT"), ("referer", "referer")]
        {
            if let Some(value) = data.get(from).filter(|v| !v.is_null()) {
                builder.fill(to, value.clone());
            }
        }
    }
    builder.finish()
}

/// A flat record being built from push-format fields.
pub(crate) struct Builder<'v> {
    object: Object<'v>,
    /// Detail entries with no room under a name of their own.
    leftovers: Vec<Value<'v>>,
}

impl<'v> Builder<'v> {
    pub fn new(kind: Kind) -> Self {
        let mut object = Object::default();
        object.insert(Cow::Borrowed("event_type"), Value::from(kind.as_str()));
        Builder { object, leftovers: Vec::new() }
    }

    /// A top-level field of an incident payload, or of syslog's
    /// `BasicIncidentDetails`.
    pub fn field(&mut self, key: Cow<'v, str>, value: Value<'v>) {
        match key.as_ref() {
            "Timestamp" => self.time(key, value),
            "IncidentHash" if value.as_str().is_some_and(|h| !h.is_empty()) => {
                // The console's `hash_id`; the push formats name incidents
                // by it alone.
                self.fill("hash_id", value.clone());
                self.rename("incident_id", key, value);
            }
            "MatchedAnnotations" => match annotations(&value) {
                Some(parsed) => self.rename("matched_annotations", key, parsed),
                None => self.keep(key, value),
            },
            name => match FIELDS.iter().find(|(given, _)| *given == name) {
                Some((_, console)) => self.rename(console, key, value),
                None => self.keep(key, value),
            },
        }
    }

    /// An entry of `AdditionalDetails`, or a parameter of syslog's
    /// `AdditionalIncidentDetails`.
    pub fn detail(&mut self, name: Cow<'v, str>, value: Value<'v>) {
        let normal: String = name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match DETAILS.iter().find(|(given, _)| *given == normal) {
            Some((_, console)) => self.rename(console, name, value),
            None => self.keep(name, value),
        }
    }

    /// A time in the push formats' `YYYY-MM-DD HH:MM:SS (UTC)` or RFC 3339,
    /// as epoch seconds under `timestamp`; kept as given when it is neither.
    pub fn time(&mut self, key: Cow<'v, str>, value: Value<'v>) {
        if value.is_number() {
            return self.rename("timestamp", key, value);
        }
        match value.as_str().and_then(parse_time) {
            Some(time) => self.rename("timestamp", key, Value::from(time.as_second())),
            None => self.keep(key, value),
        }
    }

    /// Puts `value` under the console's name, or under the name it came
    /// with when that one is taken.
    pub fn rename(&mut self, console: &'static str, given: Cow<'v, str>, value: Value<'v>) {
        let value = undefanged(console, value);
        if self.object.contains_key(console) {
            self.keep(given, value);
        } else {
            self.object.insert(Cow::Borrowed(console), value);
        }
    }

    /// Puts `value` under the console's name unless that one is taken: for
    /// values that are also kept elsewhere in the record.
    pub fn fill(&mut self, console: &'static str, value: Value<'v>) {
        if !self.object.contains_key(console) {
            self.object.insert(Cow::Borrowed(console), undefanged(console, value));
        }
    }

    /// Puts `value` under the name it came with.
    pub fn keep(&mut self, key: Cow<'v, str>, value: Value<'v>) {
        if self.object.contains_key(key.as_ref()) {
            self.leftovers.push(Value::Array(Box::new(vec![Value::String(key), value])));
        } else {
            self.object.insert(key, value);
        }
    }

    pub fn finish(mut self) -> Object<'v> {
        if !self.leftovers.is_empty() {
            if let Some(taken) = self.object.remove(LEFTOVERS) {
                let entry = Value::Array(Box::new(vec![Value::from(LEFTOVERS), taken]));
                self.leftovers.insert(0, entry);
            }
            let leftovers = Value::Array(Box::new(self.leftovers));
            self.object.insert(Cow::Borrowed(LEFTOVERS), leftovers);
        }
        self.object
    }
}

/// A host name with syslog's defanging (`example[.]org`) undone.
fn undefanged<'v>(key: &str, value: Value<'v>) -> Value<'v> {
    match value.as_str() {
        Some(text) if HOSTS.contains(&key) && text.contains("[.]") => {
            Value::String(Cow::Owned(text.replace("[.]", ".")))
        }
        _ => value,
    }
}

/// `YYYY-MM-DD HH:MM:SS (UTC)`, or an RFC 3339 time.
fn parse_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    match text.strip_suffix("(UTC)") {
        Some(civil) => {
            let civil = DateTime::strptime("%Y-%m-%d %H:%M:%S", civil.trim_end()).ok()?;
            TimeZone::UTC.to_timestamp(civil).ok()
        }
        None => text.parse().ok(),
    }
}

/// `MatchedAnnotations`: an object, or (as webhooks send it) an object
/// encoded as a JSON string.
fn annotations<'v>(value: &Value<'v>) -> Option<Value<'v>> {
    if value.is_object() {
        return Some(value.clone());
    }
    let mut bytes = value.as_str()?.as_bytes().to_vec();
    let parsed = Value::from(simd_json::to_owned_value(&mut bytes).ok()?);
    parsed.is_object().then_some(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_value as parse;

    fn converted(text: &str) -> (Kind, serde_json::Value) {
        let value = parse(text);
        let payload = recognise(value.as_object().unwrap()).unwrap().unwrap();
        let (kind, object) = convert(payload);
        (kind, serde_json::from_str(&Value::Object(Box::new(object)).encode()).unwrap())
    }

    #[test]
    fn incident_fields_take_the_console_names() {
        let (kind, record) = converted(
            r#"{"Description":"SSH Login Attempt","Timestamp":"2024-05-01 10:15:30 (UTC)",
            "CanaryName":"fs-01","CanaryID":"00000000aabbccdd","CanaryIP":"192.0.2.10",
            "CanaryPort":22,"SourceIP":"192.0.2.55","ReverseDNS":"host55.example[.]org",
            "IncidentHash":"0123","AlertType":"CanaryIncident","LogType":"4002",
            "MatchedAnnotations":"{\"scanner\":[\"a\",\"b\"]}",
            "AdditionalDetails":[["Username","admin"],["Password","*******"],["Dst Port",2222],
            ["Background Context","first"],["lonely"],["Username","again"]]}"#,
        );
        assert_eq!(kind, Kind::Event);
        let expected = serde_json::json!({"event_type": "event", "description": "SSH Login Attempt",
            "timestamp": 1714558530, "name": "fs-01", "node_id": "00000000aabbccdd",
            "dst_host": "192.0.2.10", "dst_port": 22, "src_host": "192.0.2.55",
            "src_host_reverse": "host55.example.org", "hash_id": "0123", "incident_id": "0123",
            "AlertType": "CanaryIncident", "logtype": "4002",
            "matched_annotations": {"scanner": ["a", "b"]}, "USERNAME": "admin",
            "PASSWORD": "*******", "Dst Port": 2222, "Background Context": "first",
            "Username": "again", "AdditionalDetails": [["lonely"]]});
        assert_eq!(record, expected);
    }

    #[test]
    fn unreadable_values_keep_their_names() {
        let (_, record) = converted(
            r#"{"AlertType":"CanaryIncident","Timestamp":"soon","IncidentHash":"",
            "MatchedAnnotations":"not json","AdditionalDetails":"text"}"#,
        );
        assert_eq!(record["Timestamp"], "soon");
        assert_eq!(record["IncidentHash"], "");
        assert_eq!(record["MatchedAnnotations"], "not json");
        assert_eq!(record["AdditionalDetails"], serde_json::json!(["text"]));
        assert!(record.get("incident_id").is_none());
    }

    #[test]
    fn audit_and_splunk_bodies_are_unwrapped() {
        let (kind, record) = converted(
            r#"{"type":"console-audit","payload":{"action_type":"user_login","user":"a@example.org"}}"#,
        );
        assert_eq!(kind, Kind::Audit);
        assert_eq!(record["event_type"], "audit");
        assert_eq!(record["action_type"], "user_login");

        let (_, record) = converted(
            r#"{"sourcetype":"canary_alerts","event":{"AlertType":"CanarytokenIncident","Token":"t1","Reminder":"memo"}}"#,
        );
        assert_eq!(record["canarytoken"], "t1");
        assert_eq!(record["memo"], "memo");

        let value = parse(r#"{"sourcetype":"canary_alerts","event":{"other":1}}"#);
        let found = recognise(value.as_object().unwrap()).unwrap();
        assert_eq!(found.err(), Some(NotAPayload::SplunkEvent));
        let value = parse(r#"{"type":"console-audit","payload":"x"}"#);
        let found = recognise(value.as_object().unwrap()).unwrap();
        assert_eq!(found.err(), Some(NotAPayload::AuditWithoutPayload));
    }

    #[test]
    fn the_canarytokens_server_payload_is_read() {
        let (_, record) = converted(
            r#"{"channel":"HTTP","time":"2020-06-09 14:04:47 (UTC)","memo":"m","manage_url":"u",
            "additional_data":{"src_ip":"192.0.2.11","useragent":"curl/8","referer":null}}"#,
        );
        assert_eq!(record["timestamp"], 1591711487);
        assert_eq!(record["src_host"], "192.0.2.11");
        assert_eq!(record["USERAGENT"], "curl/8");
        assert!(record.get("referer").is_none());
        assert_eq!(record["additional_data"]["src_ip"], "192.0.2.11");
    }

    #[test]
    fn other_objects_are_not_payloads() {
        for text in [r#"{"Description":"x"}"#, r#"{"channel":"HTTP"}"#, r#"{"event_type":"event"}"#]
        {
            assert!(recognise(parse(text).as_object().unwrap()).is_none(), "{text}");
        }
    }
}
