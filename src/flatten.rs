//! Flattening: an incident seen as the flat records that Sekoia's intake parses.
//!
//! One incident gives one record `{"incident_id", "event_type": "incident",
//! "summary", "timestamp"}` and then, per element of `description.events`, one
//! record `{"incident_id", "event_type": "event"}` holding every `description`
//! key (but the event lists) with the event's own keys on top. A [`Record`] is a
//! view over the parsed incident: nothing is copied until it is written out, and
//! the ECS mapping reads the same view without writing it at all.
//!
//! Every record also has a deterministic identifier, [`record_id`]: a hash of
//! what the record says, leaving out what changes when someone acts on the
//! incident. The same event gets the same id on every run and machine, which
//! lets the source skip events it already wrote and the SIEM deduplicate.

use std::io::{self, Write};

use sha2::{Digest, Sha256};
use simd_json::BorrowedValue as Value;
use simd_json::borrowed::Object;
use simd_json::prelude::*;

/// `description` keys a record leaves out: the events get records of their own.
const EVENT_LISTS: [&str; 3] = ["events", "events_count", "events_list"];

/// Keys every record built from an incident starts with; the same keys found in
/// `description` or in an event are not written twice.
const HEADER_KEYS: [&str; 5] = ["incident_id", "event_type", "hash_id", "updated_id", "record_id"];

/// Keys left out of an event record's identity: they change when a human acts
/// on the incident or the console renames something, not when the event does.
const VOLATILE: [&str; 12] = [
    "acknowledged",
    "notified",
    "hash_id",
    "updated_id",
    "record_id",
    "updated",
    "updated_std",
    "updated_time",
    "events_count",
    "events_list",
    "matched_annotations",
    "flock_name",
];

/// Whether a record stands for the incident as a whole or for one of its events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Incident,
    Event,
    /// An entry of the console's audit trail (`--feed audit`).
    Audit,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Incident => "incident",
            Kind::Event => "event",
            Kind::Audit => "audit",
        }
    }
}

/// Which product wrote a record. Logtype numbers mean different things in
/// the commercial console and in OpenCanary, so every lookup by logtype
/// names the product too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Origin {
    /// The Canary console: API incidents, webhooks, syslog.
    #[default]
    Console,
    /// The open-source OpenCanary daemon's JSON lines.
    OpenCanary,
}

/// One flattened record, either viewed over a raw incident or as it arrived.
#[derive(Clone, Copy)]
pub struct Record<'a, 'v> {
    kind: Kind,
    source: Source<'a, 'v>,
}

#[derive(Clone, Copy)]
enum Source<'a, 'v> {
    /// A record that was already flat when it was read.
    Flat(&'a Object<'v>),
    /// The incident record of a raw incident.
    Incident { incident: &'a Object<'v>, description: Option<&'a Object<'v>> },
    /// One event of a raw incident.
    Event { incident: &'a Object<'v>, description: &'a Object<'v>, event: &'a Object<'v> },
    /// An OpenCanary JSON line: its `logdata` keys and the line's own
    /// (`logdata` left out), answered under the console's key names where
    /// OpenCanary spells them otherwise ([`crate::input::opencanary::get`]).
    OpenCanary { line: &'a Object<'v>, logdata: &'a Object<'v> },
}

/// Why an object is not a Canary record.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NotARecord {
    #[error("no \"incident_id\" and no incident \"id\"")]
    NoIncidentId,
    #[error("audit record without an \"id\"")]
    NoAuditId,
    #[error("\"event_type\" is {0}, expected \"incident\", \"event\" or \"audit\"")]
    BadEventType(String),
    #[error("no \"logdata\" object with a \"logtype\" (OpenCanary line)")]
    NotOpenCanary,
}

impl<'a, 'v> Record<'a, 'v> {
    /// Views an object that is already a flattened record.
    pub fn from_flat(object: &'a Object<'v>) -> Result<Self, NotARecord> {
        let kind = match object.get("event_type").map(|v| (v.as_str(), v)) {
            Some((Some("incident"), _)) => Kind::Incident,
            Some((Some("event"), _)) => Kind::Event,
            Some((Some("audit"), _)) => {
                // Audit entries belong to no incident; their own id names them.
                if object.get("id").is_none() {
                    return Err(NotARecord::NoAuditId);
                }
                return Ok(Record { kind: Kind::Audit, source: Source::Flat(object) });
            }
            Some((_, other)) => return Err(NotARecord::BadEventType(short(other))),
            None => return Err(NotARecord::BadEventType("missing".into())),
        };
        if object.get("incident_id").and_then(|v| v.as_str()).is_none() {
            return Err(NotARecord::NoIncidentId);
        }
        Ok(Record { kind, source: Source::Flat(object) })
    }

    /// Views one entry of an audit trail page as an audit record.
    pub fn from_audit_entry(entry: &'a Object<'v>) -> Result<Self, NotARecord> {
        if entry.get("id").is_none() {
            return Err(NotARecord::NoAuditId);
        }
        Ok(Record { kind: Kind::Audit, source: Source::Flat(entry) })
    }

    /// Views an OpenCanary JSON line: a `logdata` object and a `logtype`.
    pub fn from_opencanary(line: &'a Object<'v>) -> Result<Self, NotARecord> {
        let logdata = line.get("logdata").and_then(|l| l.as_object());
        match logdata {
            Some(logdata) if line.contains_key("logtype") => {
                Ok(Record { kind: Kind::Event, source: Source::OpenCanary { line, logdata } })
            }
            _ => Err(NotARecord::NotOpenCanary),
        }
    }

    /// Views a record that a converter built in the console's vocabulary
    /// from a push format (webhook, syslog). It may lack an incident id:
    /// test payloads and token pushes do not always carry one, and the
    /// record's id is then computed from its content alone.
    pub fn from_converted(object: &'a Object<'v>, kind: Kind) -> Self {
        Record { kind, source: Source::Flat(object) }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The product that wrote the record.
    pub fn origin(&self) -> Origin {
        match self.source {
            Source::OpenCanary { .. } => Origin::OpenCanary,
            _ => Origin::Console,
        }
    }

    /// When the event happened, for a source that does not say it in epoch
    /// seconds under `timestamp`: OpenCanary's `utc_time`. `None` for
    /// console records, whose `timestamp` (or `created`) the mapping reads.
    pub fn event_time(&self) -> Option<jiff::Timestamp> {
        match self.source {
            Source::OpenCanary { line, .. } => crate::input::opencanary::time(line),
            _ => None,
        }
    }

    /// The incident key (`incident:<kind>:<hash>:<ip>:<epoch>`), or its hash
    /// when a console left the key out.
    pub fn incident_id(&self) -> Option<&'a str> {
        match self.source {
            Source::Flat(o) => o.get("incident_id").and_then(|v| v.as_str()),
            Source::Incident { incident, .. } | Source::Event { incident, .. } => {
                incident_key(incident)
            }
            // OpenCanary has no incidents; the record id stands on content.
            Source::OpenCanary { .. } => None,
        }
    }

    /// Looks a data key up the way the flat record would hold it: event keys
    /// first, then the incident's `description`. `incident_id` and
    /// `event_type` are answered by [`Record::incident_id`] and [`Record::kind`].
    pub fn get(&self, key: &str) -> Option<&'a Value<'v>> {
        match self.source {
            Source::Flat(o) => o.get(key),
            Source::Incident { incident, description } => match key {
                "summary" => incident
                    .get("summary")
                    .or_else(|| description.and_then(|d| d.get("description"))),
                "timestamp" => incident.get("updated_time"),
                "hash_id" | "updated_id" => incident.get(key),
                // The logtype grades the incident as it grades its events.
                "acknowledged" | "logtype" => description.and_then(|d| d.get(key)),
                _ => None,
            },
            Source::Event { incident, description, event } => match key {
                "hash_id" | "updated_id" => incident.get(key),
                _ if EVENT_LISTS.contains(&key) => event.get(key),
                _ => event.get(key).or_else(|| description.get(key)),
            },
            Source::OpenCanary { line, logdata } => {
                crate::input::opencanary::get(line, logdata, key)
            }
        }
    }

    /// Calls `f` with every key and value the flat record holds but
    /// `incident_id` and `event_type`, each key once.
    pub fn for_each_field(&self, mut f: impl FnMut(&'a str, &'a Value<'v>)) {
        match self.source {
            Source::Flat(o) => {
                for (key, value) in o.iter() {
                    if !matches!(key.as_ref(), "incident_id" | "event_type" | "record_id") {
                        f(key, value);
                    }
                }
            }
            Source::Incident { .. } => {
                for key in
                    ["hash_id", "updated_id", "summary", "timestamp", "acknowledged", "logtype"]
                {
                    if let Some(value) = self.get(key) {
                        f(key, value);
                    }
                }
            }
            Source::Event { incident, description, event } => {
                for key in ["hash_id", "updated_id"] {
                    if let Some(value) = incident.get(key) {
                        f(key, value);
                    }
                }
                for (key, value) in description.iter() {
                    let key = key.as_ref();
                    if !EVENT_LISTS.contains(&key)
                        && !HEADER_KEYS.contains(&key)
                        && !event.contains_key(key)
                    {
                        f(key, value);
                    }
                }
                for (key, value) in event.iter() {
                    if !HEADER_KEYS.contains(&key.as_ref()) {
                        f(key, value);
                    }
                }
            }
            // Under the names the line uses: this is what `--keep-original`
            // shows and what the record id covers.
            Source::OpenCanary { line, logdata } => {
                crate::input::opencanary::for_each_field(line, logdata, f)
            }
        }
    }

    /// Writes the record as one line of JSON, newline included, with its
    /// `record_id` when one is given.
    pub fn write_json(&self, out: &mut Vec<u8>, record_id: Option<&str>) -> io::Result<()> {
        let record_id = record_id.or_else(|| self.get("record_id").and_then(|v| v.as_str()));
        out.write_all(b"{\"event_type\":")?;
        write_str(out, self.kind.as_str())?;
        if let Some(incident_id) = self.incident_id() {
            out.write_all(b",\"incident_id\":")?;
            write_str(out, incident_id)?;
        }
        if let Some(id) = record_id {
            out.write_all(b",\"record_id\":")?;
            write_str(out, id)?;
        }
        let mut result = Ok(());
        self.for_each_field(|key, value| {
            if result.is_ok() && !(record_id.is_some() && key == "record_id") {
                result = write_member(out, key, value);
            }
        });
        result?;
        out.write_all(b"}\n")
    }

    /// The timestamp of an event record, in epoch seconds.
    pub fn timestamp(&self) -> Option<i64> {
        if let Some(time) = self.event_time() {
            return Some(time.as_second());
        }
        let value = self.get("timestamp")?;
        value
            .as_i64()
            .or_else(|| value.as_f64().map(|f| f as i64))
            .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
    }
}

/// The record's deterministic identifier: 32 hex digits of a SHA-256 over the
/// incident key, the kind, and the record's content without [`VOLATILE`]
/// keys. An incident record stands for one state of the incident, so its id
/// covers its time, acknowledgement and `updated_id`: every change gives a new
/// one. The id a record already carries is kept.
pub fn record_id(record: &Record<'_, '_>) -> String {
    // Only an id of this function's own form is kept: anything else (empty,
    // longer than Elasticsearch's 512-byte `_id`) would become a bad event.id.
    let given = record.get("record_id").and_then(|v| v.as_str());
    if let Some(id) = given.filter(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return id.to_ascii_lowercase();
    }
    let mut text = Vec::with_capacity(512);
    text.extend_from_slice(record.incident_id().unwrap_or("").as_bytes());
    text.push(0);
    text.extend_from_slice(record.kind().as_str().as_bytes());
    let mut fields: Vec<(&str, &Value<'_>)> = Vec::with_capacity(48);
    match record.kind() {
        Kind::Incident => {
            for key in ["timestamp", "acknowledged", "updated_id"] {
                if let Some(value) = record.get(key) {
                    fields.push((key, value));
                }
            }
        }
        Kind::Audit => record.for_each_field(|key, value| fields.push((key, value))),
        Kind::Event => record.for_each_field(|key, value| {
            if !VOLATILE.contains(&key) {
                fields.push((key, value));
            }
        }),
    }
    fields.sort_unstable_by(|a, b| a.0.cmp(b.0));
    for (key, value) in fields {
        text.push(0);
        text.extend_from_slice(key.as_bytes());
        text.push(0);
        rewrite(value, Rewrite::Canonical, &mut text);
    }
    let digest = Sha256::digest(&text);
    let mut half = [0; 16];
    half.copy_from_slice(&digest[..16]);
    // One formatting call for the 32 digits, not one String per byte.
    format!("{:032x}", u128::from_be_bytes(half))
}

/// How [`rewrite`] writes a value again.
#[derive(Clone, Copy)]
enum Rewrite {
    /// Object keys sorted at every level, so that key order, which consoles
    /// and tools do not keep, does not change an identity.
    Canonical,
    /// Order kept, credential values replaced by [`REDACTED`].
    Redacted,
}

/// Writes `value` again as JSON, the way `how` says.
fn rewrite(value: &Value<'_>, how: Rewrite, out: &mut Vec<u8>) {
    match value {
        Value::Object(object) => {
            let mut members: Vec<_> = object.iter().collect();
            if matches!(how, Rewrite::Canonical) {
                members.sort_unstable_by(|a, b| a.0.cmp(b.0));
            }
            out.push(b'{');
            for (i, (key, value)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let _ = write_str(out, key);
                out.push(b':');
                if matches!(how, Rewrite::Redacted) && is_secret_member(key, |k| object.get(k)) {
                    let _ = write_str(out, REDACTED);
                } else {
                    rewrite(value, how, out);
                }
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            // A `[name, value]` pair (webhook details) whose name is a
            // credential hides everything after the name.
            let secret_pair = matches!(how, Rewrite::Redacted)
                && items.first().and_then(|v| v.as_str()).is_some_and(is_credential);
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if secret_pair && i > 0 {
                    let _ = write_str(out, REDACTED);
                } else {
                    rewrite(item, how, out);
                }
            }
            out.push(b']');
        }
        Value::String(text) if matches!(how, Rewrite::Redacted) => {
            // URLs anywhere may carry a password or a secret parameter.
            let redacted = crate::ecs::redact_url(text);
            let _ = write_str(out, redacted.as_deref().unwrap_or(text));
        }
        other => {
            let _ = other.write(out);
        }
    }
}

/// Keys whose values are secrets an attacker typed, a hash that allows
/// offline cracking, or a header that carries a login, written in lower case
/// with `_` for spaces and dashes (keys are compared that way, so `Client
/// Hash`, `client-hash` and `CLIENT_HASH` are one). Besides these, any key
/// with `password` or `passwd` in it is one. They never reach an ECS field;
/// `--keep-original` shows them redacted. A VNC challenge goes with its
/// response: together they let the password be cracked offline. A
/// canarytokens server's `manage_url` carries the token's management secret.
const CREDENTIALS: [&str; 24] = [
    "pwd",
    "client_hash",
    "salt",
    "key",
    "private_key",
    "community_string",
    "server_challenge",
    "client_response",
    "vnc_server_challenge",
    "vnc_client_response",
    "auth_data",
    "secret",
    "secret_string",
    "manage_url",
    "authorization",
    "proxy_authorization",
    "cookie",
    "set_cookie",
    "x_api_key",
    "api_key",
    "apikey",
    "x_auth_token",
    "x_canary_auth_token",
    "access_token",
];

/// Whether `key` names a credential.
pub fn is_credential(key: &str) -> bool {
    let normal = |b: u8| match b {
        b' ' | b'-' => b'_',
        other => other.to_ascii_lowercase(),
    };
    let named = CREDENTIALS
        .iter()
        .any(|c| c.len() == key.len() && key.bytes().zip(c.bytes()).all(|(k, c)| normal(k) == c));
    named || contains_ignore_case(key, "password") || contains_ignore_case(key, "passwd")
}

/// Whether `text` holds `word` (lower case ASCII) in any letter case; no
/// allocation, as it runs for every key of a kept original.
pub fn contains_ignore_case(text: &str, word: &str) -> bool {
    text.as_bytes().windows(word.len()).any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
}

/// Whether a Redis command's arguments (`ARGS`, beside its `CMD`) are a
/// secret: the password of `AUTH`, of `HELLO ... AUTH` and `MIGRATE ...
/// AUTH`, of `ACL SETUSER ... >password`, and of `CONFIG SET requirepass`
/// or `masterauth`. `get` reads a member of the object holding both.
fn holds_secret_args<'a, 'v: 'a>(get: impl Fn(&str) -> Option<&'a Value<'v>>) -> bool {
    let Some(command) = ["CMD", "cmd"].into_iter().find_map(|k| get(k)?.as_str()) else {
        return false;
    };
    let command = command.trim();
    let args = || ["ARGS", "args"].into_iter().find_map(&get);
    let args_say = |word: &str| {
        args().is_some_and(|a| match a.as_str() {
            Some(text) => contains_ignore_case(text, word),
            None => contains_ignore_case(&a.encode(), word),
        })
    };
    ["AUTH", "HELLO", "MIGRATE"].iter().any(|c| command.eq_ignore_ascii_case(c))
        || (command.eq_ignore_ascii_case("ACL") && args_say(">"))
        || (command.eq_ignore_ascii_case("CONFIG")
            && (args_say("requirepass") || args_say("masterauth")))
}

/// Whether the member `key` of an object holds a secret: a credential
/// key, or a Redis command's arguments that carry a password. `get` reads
/// the object's other members, looked at only for `ARGS`.
fn is_secret_member<'a, 'v: 'a>(key: &str, get: impl Fn(&str) -> Option<&'a Value<'v>>) -> bool {
    is_credential(key) || ((key == "ARGS" || key == "args") && holds_secret_args(get))
}

/// What a credential's value is replaced with in kept originals.
pub const REDACTED: &str = "[REDACTED]";

impl Record<'_, '_> {
    /// The record as one JSON object (no newline), credential values
    /// replaced by [`REDACTED`] at any depth.
    pub fn redacted_json(&self) -> String {
        let mut out = Vec::with_capacity(1024);
        out.extend_from_slice(b"{\"event_type\":");
        let _ = write_str(&mut out, self.kind.as_str());
        if let Some(incident_id) = self.incident_id() {
            out.extend_from_slice(b",\"incident_id\":");
            let _ = write_str(&mut out, incident_id);
        }
        self.for_each_field(|key, value| {
            out.push(b',');
            let _ = write_str(&mut out, key);
            out.push(b':');
            if is_secret_member(key, |k| self.get(k)) {
                let _ = write_str(&mut out, REDACTED);
            } else {
                rewrite(value, Rewrite::Redacted, &mut out);
            }
        });
        out.push(b'}');
        String::from_utf8(out).expect("JSON written from str is UTF-8")
    }
}

impl Record<'_, '_> {
    /// Calls `f` with every credential the record holds, at any depth, and
    /// its path: the keys from the record down to it joined with `.` (list
    /// items by their index), so `extra.password` or `headers.Cookie`. The
    /// credentials are the values [`Record::redacted_json`] hides: the value
    /// of a credential key, and what follows the name in a `[name, value]`
    /// pair whose name is one (under the path of the list, then the name).
    pub fn for_each_credential(&self, mut f: impl FnMut(&str, &Value<'_>)) {
        let mut path = String::new();
        self.for_each_field(|key, value| {
            if is_secret_member(key, |k| self.get(k)) {
                return f(key, value);
            }
            path.clear();
            path.push_str(key);
            credentials_in(&mut path, value, &mut f);
        });
    }
}

/// [`Record::for_each_credential`] below one value that is not itself a
/// secret; `path` names `value`, and is as it was when this returns.
fn credentials_in(path: &mut String, value: &Value<'_>, f: &mut impl FnMut(&str, &Value<'_>)) {
    let length = path.len();
    match value {
        Value::Object(object) => {
            for (key, value) in object.iter() {
                path.push('.');
                path.push_str(key);
                if is_secret_member(key, |k| object.get(k)) {
                    f(path, value);
                } else {
                    credentials_in(path, value, f);
                }
                path.truncate(length);
            }
        }
        Value::Array(items) => {
            let pair = items.first().and_then(|v| v.as_str()).filter(|name| is_credential(name));
            if let Some(name) = pair {
                path.push('.');
                path.push_str(name);
                for value in &items[1..] {
                    f(path, value);
                }
                path.truncate(length);
                return;
            }
            for (i, item) in items.iter().enumerate() {
                use std::fmt::Write as _;
                let _ = write!(path, ".{i}");
                credentials_in(path, item, f);
                path.truncate(length);
            }
        }
        _ => {}
    }
}

/// The records of one raw incident (an object with `description`), in output
/// order: the incident record first, then one per event. A missing or
/// malformed `events` list gives the incident record alone.
pub fn incident_records<'a, 'v>(
    incident: &'a Object<'v>,
) -> Result<Vec<Record<'a, 'v>>, NotARecord> {
    if incident_key(incident).is_none() {
        return Err(NotARecord::NoIncidentId);
    }
    let description = incident.get("description").and_then(|d| d.as_object());
    let mut records =
        vec![Record { kind: Kind::Incident, source: Source::Incident { incident, description } }];
    let events = description.and_then(|d| d.get("events")).and_then(|e| e.as_array());
    if let (Some(description), Some(events)) = (description, events) {
        for event in events.iter().filter_map(|e| e.as_object()) {
            records.push(Record {
                kind: Kind::Event,
                source: Source::Event { incident, description, event },
            });
        }
    }
    Ok(records)
}

/// The elements of an incident's `events` that are not objects, which give
/// no record; for a record of that incident (any kind).
pub fn non_object_events<'a, 'v>(record: &Record<'a, 'v>) -> Vec<&'a Value<'v>> {
    let description = match record.source {
        Source::Incident { description: Some(d), .. } => d,
        _ => return Vec::new(),
    };
    match description.get("events").and_then(|e| e.as_array()) {
        Some(events) => events.iter().filter(|e| !e.is_object()).collect(),
        None => Vec::new(),
    }
}

/// Whether an object looks like a raw Console API incident.
pub fn is_raw_incident(object: &Object<'_>) -> bool {
    object.get("description").is_some_and(|d| d.is_object())
        && (object.contains_key("id") || object.contains_key("hash_id"))
}

fn incident_key<'a>(incident: &'a Object<'_>) -> Option<&'a str> {
    incident
        .get("id")
        .and_then(|v| v.as_str())
        .or_else(|| incident.get("hash_id").and_then(|v| v.as_str()))
        .filter(|s| !s.is_empty())
}

fn write_member(out: &mut Vec<u8>, key: &str, value: &Value<'_>) -> io::Result<()> {
    out.write_all(b",")?;
    write_str(out, key)?;
    out.write_all(b":")?;
    value.write(out)
}

/// Writes `s` as a JSON string, escaped as serde_json escapes it (record ids
/// hash these bytes, so they must not change).
pub fn write_str(out: &mut Vec<u8>, s: &str) -> io::Result<()> {
    crate::ecs::json_string(out, s);
    Ok(())
}

/// A JSON value cut to a length fit for a one-line message.
pub fn short(value: &Value<'_>) -> String {
    let mut text = value.encode();
    if text.len() > 60 {
        let mut end = 57;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("...");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<u8> {
        text.as_bytes().to_vec()
    }

    #[test]
    fn incident_gives_one_record_plus_one_per_event() {
        let mut bytes = parse(
            r#"{"id":"incident:sshlogin:ab:192.0.2.7:1","hash_id":"ab","summary":"SSH Login Attempt",
            "updated_time":"5","updated_id":9,"description":{"logtype":"4002","src_host":"192.0.2.7",
            "events_count":"2","events_list":"1,2","events":[{"USERNAME":"a","timestamp":1},
            {"USERNAME":"b","timestamp":2,"src_host":"192.0.2.8"}]}}"#,
        );
        let value = simd_json::to_borrowed_value(&mut bytes).unwrap();
        let records = incident_records(value.as_object().unwrap()).unwrap();
        let lines: Vec<serde_json::Value> = records
            .iter()
            .map(|r| {
                let mut out = Vec::new();
                r.write_json(&mut out, None).unwrap();
                serde_json::from_slice(&out).unwrap()
            })
            .collect();

        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0],
            serde_json::json!({"incident_id": "incident:sshlogin:ab:192.0.2.7:1",
                "event_type": "incident", "hash_id": "ab", "updated_id": 9,
                "summary": "SSH Login Attempt", "timestamp": "5", "logtype": "4002"})
        );
        assert_eq!(lines[1]["USERNAME"], "a");
        assert_eq!(lines[1]["logtype"], "4002");
        assert_eq!(lines[1]["src_host"], "192.0.2.7");
        assert!(lines[1].get("events").is_none());
        assert!(lines[1].get("events_count").is_none());
        assert!(lines[1].get("events_list").is_none());
        assert_eq!(lines[2]["src_host"], "192.0.2.8", "event keys win over description keys");
    }

    #[test]
    fn missing_events_and_description_still_give_the_incident_record() {
        for text in [r#"{"id":"incident:x:1:192.0.2.1:1"}"#, r#"{"id":"i","description":{}}"#] {
            let mut bytes = parse(text);
            let value = simd_json::to_borrowed_value(&mut bytes).unwrap();
            let records = incident_records(value.as_object().unwrap()).unwrap();
            assert_eq!(records.len(), 1);
            assert_eq!(records[0].kind(), Kind::Incident);
        }
    }

    #[test]
    fn opencanary_lines_are_events_of_their_own_origin() {
        let line = r#"{"dst_host":"","dst_port":-1,"logtype":4002,"node_id":"oc-1","src_host":"192.0.2.7",
            "utc_time":"2026-12-03 12:36:17.050505","logdata":{"USERNAME":"root","PASSWORD":"toor"}}"#;
        let mut bytes = parse(line);
        let value = simd_json::to_borrowed_value(&mut bytes).unwrap();
        let record = Record::from_opencanary(value.as_object().unwrap()).unwrap();
        assert_eq!(record.kind(), Kind::Event);
        assert_eq!(record.origin(), Origin::OpenCanary);
        assert_eq!(record.incident_id(), None);
        assert_eq!(record.timestamp(), Some(1796301377));
        assert_eq!(record.get("USERNAME").and_then(|v| v.as_str()), Some("root"));
        let mut keys = Vec::new();
        record.for_each_field(|key, _| keys.push(key));
        assert!(keys.contains(&"PASSWORD") && keys.contains(&"src_host"));
        assert!(!keys.contains(&"logdata"), "logdata is read through, not kept whole");

        // The same line gives the same id; another line another.
        let mut again = parse(line);
        let other = simd_json::to_borrowed_value(&mut again).unwrap();
        let same = Record::from_opencanary(other.as_object().unwrap()).unwrap();
        assert_eq!(record_id(&record), record_id(&same));
        let mut changed = parse(&line.replace("root", "admin"));
        let changed = simd_json::to_borrowed_value(&mut changed).unwrap();
        let changed = Record::from_opencanary(changed.as_object().unwrap()).unwrap();
        assert_ne!(record_id(&record), record_id(&changed));

        assert!(redacted_json_has_no(&record, "toor"));
        let mut bytes = parse(r#"{"logtype":4002}"#);
        let value = simd_json::to_borrowed_value(&mut bytes).unwrap();
        let err = Record::from_opencanary(value.as_object().unwrap()).err();
        assert_eq!(err, Some(NotARecord::NotOpenCanary));
    }

    fn redacted_json_has_no(record: &Record<'_, '_>, secret: &str) -> bool {
        !record.redacted_json().contains(secret)
    }

    #[test]
    fn flat_records_need_an_event_type_and_an_incident_id() {
        let mut bytes = parse(r#"{"incident_id":"i","event_type":"alert"}"#);
        let value = simd_json::to_borrowed_value(&mut bytes).unwrap();
        let err = Record::from_flat(value.as_object().unwrap()).err().unwrap();
        assert_eq!(err, NotARecord::BadEventType("\"alert\"".into()));

        let mut bytes = parse(r#"{"event_type":"event"}"#);
        let value = simd_json::to_borrowed_value(&mut bytes).unwrap();
        let err = Record::from_flat(value.as_object().unwrap()).err().unwrap();
        assert_eq!(err, NotARecord::NoIncidentId);
    }
}
