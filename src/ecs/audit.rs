//! Console audit trail entries mapped to ECS: who did what on the console,
//! and from which address and browser.
//!
//! An audit record is an entry of `/api/v1/audit_trail/fetch` with
//! `"event_type": "audit"` added; the console's own fields stay under
//! `thinkst_canary.audit`. Its `timestamp` may also be RFC 3339, the form
//! console webhooks use.
//!
//! `event.category` and `event.type` come from the words of `action_type`
//! (split at `_` or any other non-alphanumeric character) through two small
//! tables, `CATEGORIES` and `TYPES`, in which the first row naming one of the
//! words wins:
//!
//! | action_type words                          | category         | type           |
//! |--------------------------------------------|------------------|----------------|
//! | login, logon / logout, logoff              | `iam`, `authentication` | `start`/`end` |
//! | user, api_token, auth_token, password, ... | `iam`            | by the verb    |
//! | anything else (devices, flocks, tokens...) | `configuration`  | by the verb    |
//!
//! By the verb: create or add gives `creation`; delete, remove or revoke
//! `deletion`; change, update, move, push, settings or acknowledge `change`;
//! anything else `info`. So `api_token_create` is iam/creation, `flock_move`
//! configuration/change and `device_schedule_reboot` configuration/info.
//! Logins and logouts are `iam` like every user action, and `authentication`
//! too because ECS pairs `start` and `end` with that category only.
//!
//! `event.outcome` is `failure` when a word is fail, failed or failure, and
//! absent otherwise: an entry does not say whether the rest succeeded.

use std::borrow::Cow;

use jiff::fmt::strtime;
use simd_json::BorrowedValue as Value;
use simd_json::prelude::*;

use super::doc::{Endpoint, Related, UserAgent};
use super::json::{Json, Object, Verbatim, name};
use super::time::{self, Rfc3339};
use super::user_agent::{Agents, Parsed};
use super::value::{self, Text, string, text};
use crate::flatten::Record;

/// `timestamp` as the Console API writes it, e.g. `2020-04-02 18:11:27
/// UTC+0000`; webhooks send RFC 3339 instead.
const CONSOLE_TIME: &str = "%Y-%m-%d %H:%M:%S UTC%z";

/// A row of a classification table: any of these words gives the value.
type Row = (&'static [&'static str], &'static str);

/// Which `event.category` an action belongs to; `configuration` if none.
#[rustfmt::skip]
const CATEGORIES: &[Row] = &[
    (&["login", "logon", "logout", "logoff"], "authentication"),
    (&["user", "users", "api_token", "auth_token", "api_key", "password", "role", "sso", "mfa",
       "2fa"], "iam"),
];

/// Which `event.type` an action has; `info` if none. Login and logout come
/// first: `user_login_failure` is the start of a session that failed.
#[rustfmt::skip]
const TYPES: &[Row] = &[
    (&["login", "logon"], "start"),
    (&["logout", "logoff"], "end"),
    (&["create", "add", "new", "generate", "invite"], "creation"),
    (&["delete", "remove", "purge", "revoke"], "deletion"),
    (&["change", "update", "edit", "set", "settings", "move", "push", "rename", "enable",
       "disable", "reset", "acknowledge", "unacknowledge"], "change"),
];

/// Words that make `event.outcome` `failure`.
const FAILURE: &[&str] = &["fail", "failed", "failure"];

struct Document<'a> {
    timestamp: Option<Rfc3339>,
    event: Event<'a>,
    observer: Observer,
    source: Endpoint<'a>,
    user: User<'a>,
    user_agent: UserAgent<'a>,
    message: Option<Text<'a>>,
    related: Related<'a>,
    thinkst_canary: Vendor<'a>,
}

impl Json for Document<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("@timestamp"), &self.timestamp);
        o.always(name!("event"), &self.event);
        o.always(name!("observer"), &self.observer);
        o.member(name!("source"), &self.source);
        o.member(name!("user"), &self.user);
        o.member(name!("user_agent"), &self.user_agent);
        o.member(name!("message"), &self.message);
        o.member(name!("related"), &self.related);
        o.always(name!("thinkst_canary"), &self.thinkst_canary);
        o.end()
    }
}

struct Event<'a> {
    id: String,
    /// Only with `--keep-original`: the entry, credentials redacted.
    original: Option<String>,
    kind: &'static str,
    category: &'static [&'static str],
    types: [&'static str; 1],
    action: Option<Text<'a>>,
    outcome: Option<&'static str>,
    module: &'static str,
    dataset: &'static str,
}

impl Json for Event<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.always(name!("id"), &self.id);
        o.member(name!("original"), &self.original);
        o.always(name!("kind"), &self.kind);
        o.always(name!("category"), &self.category);
        o.always(name!("type"), &self.types);
        o.member(name!("action"), &self.action);
        o.member(name!("outcome"), &self.outcome);
        o.always(name!("module"), &self.module);
        o.always(name!("dataset"), &self.dataset);
        o.end()
    }
}

/// The console, which keeps the trail; unlike an incident's observer it is
/// not a honeypot, so it has no type.
struct Observer {
    vendor: &'static str,
    product: &'static str,
}

impl Json for Observer {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.always(name!("vendor"), &self.vendor);
        o.always(name!("product"), &self.product);
        o.end()
    }
}

#[derive(Default, PartialEq)]
struct User<'a> {
    name: Option<Text<'a>>,
    /// The name again when it is an address: console users log in with one.
    email: Option<&'a str>,
}

impl Json for User<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("name"), &self.name);
        o.member(name!("email"), &self.email);
        o.end()
    }
}

struct Vendor<'a> {
    audit: Audit<'a>,
}

impl Json for Vendor<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.always(name!("audit"), &self.audit);
        o.end()
    }
}

struct Audit<'a> {
    id: Option<Text<'a>>,
    flock_id: Option<Text<'a>>,
    additional_information: Option<&'a Value<'a>>,
    browser_language: Option<Text<'a>>,
}

impl Json for Audit<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("id"), &self.id);
        o.member(name!("flock_id"), &self.flock_id);
        o.member(name!("additional_information"), &self.additional_information.map(Verbatim));
        o.member(name!("browser_language"), &self.browser_language);
        o.end()
    }
}

/// Appends the ECS line of one audit record to `out`; never panics.
pub fn map(
    record: &Record<'_, '_>,
    id: String,
    options: super::Options,
    agents: &mut Agents,
    out: &mut Vec<u8>,
) -> bool {
    let agent =
        record.get("user_browser_agent").and_then(string).map(|raw| (raw, agents.parse(raw)));
    let agent = agent.as_ref().map(|(raw, parsed)| (*raw, parsed.as_deref()));
    let mut document = document(record, id, agent);
    if options.keep_original {
        document.event.original = Some(record.redacted_json());
    }
    if options.profile == super::Profile::Ecs {
        document.observer = Observer { vendor: "Thinkst", product: "Canary" };
    }
    super::write(&document, out);
    document.timestamp.is_some()
}

fn document<'a>(
    record: &Record<'a, '_>,
    id: String,
    agent: Option<(&'a str, Option<&'a Parsed>)>,
) -> Document<'a> {
    let ip = record.get("user_ip").and_then(value::ip);
    let user = user(record);
    let mut related = Related::default();
    if let Some(ip) = ip {
        related.ip.push(ip);
    }
    if let Some(name) = &user.name {
        related.user.push(name.clone());
    }

    Document {
        timestamp: record.get("timestamp").and_then(timestamp),
        event: event(record, id),
        observer: Observer { vendor: super::VENDOR, product: super::VENDOR },
        source: super::endpoint(ip, None, None),
        user,
        user_agent: agent.map(super::user_agent).unwrap_or_default(),
        message: get_text(record, "message"),
        related,
        thinkst_canary: Vendor { audit: audit(record) },
    }
}

fn get_text<'a>(record: &Record<'a, '_>, key: &str) -> Option<Text<'a>> {
    record.get(key).and_then(text)
}

/// The console's `YYYY-MM-DD HH:MM:SS UTC+HHMM`, else whatever
/// [`time::epoch`] reads (RFC 3339 from webhooks, epoch seconds).
fn timestamp(value: &Value<'_>) -> Option<Rfc3339> {
    time::epoch(value).or_else(|| {
        let given = value.as_str()?.trim();
        let seconds = strtime::parse(CONSOLE_TIME, given).ok()?.to_timestamp().ok()?.as_second();
        time::epoch(&Value::from(seconds))
    })
}

fn event<'a>(record: &Record<'a, '_>, id: String) -> Event<'a> {
    let action = record.get("action_type").and_then(string).unwrap_or("");
    let (category, kind, outcome) = classify(action);
    Event {
        id,
        original: None,
        kind: "event",
        category: match category {
            "authentication" => &["iam", "authentication"],
            "iam" => &["iam"],
            _ => &["configuration"],
        },
        types: [kind],
        action: get_text(record, "action_type"),
        outcome,
        module: "thinkst_canary",
        dataset: "thinkst_canary.audit",
    }
}

/// `event.category`, `event.type` and `event.outcome` for an `action_type`.
fn classify(action: &str) -> (&'static str, &'static str, Option<&'static str>) {
    let action = lowercase(action);
    let category = lookup(&action, CATEGORIES).unwrap_or("configuration");
    let kind = lookup(&action, TYPES).unwrap_or("info");
    let failed = FAILURE.iter().any(|word| has_words(&action, word));
    (category, kind, failed.then_some("failure"))
}

fn user<'a>(record: &Record<'a, '_>) -> User<'a> {
    let name = record.get("user");
    User {
        name: name.and_then(text),
        email: name.and_then(string).filter(|n| n.contains('@') && !n.contains(' ')),
    }
}

fn audit<'a>(record: &Record<'a, '_>) -> Audit<'a> {
    Audit {
        id: get_text(record, "id"),
        flock_id: get_text(record, "flock_id"),
        additional_information: record.get("additional_information").filter(|v| !v.is_null()),
        browser_language: get_text(record, "user_browser_language"),
    }
}

/// `text` in lower case, copied only when it has upper-case letters.
fn lowercase(text: &str) -> Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

/// The value of the first row naming one of the words of `action`.
fn lookup(action: &str, table: &[Row]) -> Option<&'static str> {
    table.iter().find(|(words, _)| words.iter().any(|w| has_words(action, w))).map(|row| row.1)
}

/// Whether `phrase` (one word, or words joined by `_`) appears in `action`
/// with a non-alphanumeric character or an end on either side.
fn has_words(action: &str, phrase: &str) -> bool {
    let bytes = action.as_bytes();
    let is_edge = |at: Option<&u8>| at.is_none_or(|b| !b.is_ascii_alphanumeric());
    action.match_indices(phrase).any(|(at, _)| {
        let before = at.checked_sub(1).and_then(|i| bytes.get(i));
        is_edge(before) && is_edge(bytes.get(at + phrase.len()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_classified_by_their_words() {
        let failure = Some("failure");
        let cases = [
            ("user_login", ("authentication", "start", None)),
            ("user_login_failure", ("authentication", "start", failure)),
            ("User_Logout", ("authentication", "end", None)),
            ("api_token_create", ("iam", "creation", None)),
            ("flock_auth_token_remove", ("iam", "deletion", None)),
            ("user_add", ("iam", "creation", None)),
            ("password_reset_failed", ("iam", "change", failure)),
            ("canarytoken_create", ("configuration", "creation", None)),
            ("canarytoken_delete", ("configuration", "deletion", None)),
            ("device_push_settings", ("configuration", "change", None)),
            ("flock_move", ("configuration", "change", None)),
            ("incident_acknowledge", ("configuration", "change", None)),
            ("device_schedule_reboot", ("configuration", "info", None)),
            ("", ("configuration", "info", None)),
        ];
        for (action, expected) in cases {
            assert_eq!(classify(action), expected, "{action}");
        }
    }

    fn map_json(json: &str) -> serde_json::Value {
        let mut bytes = json.as_bytes().to_vec();
        let value = simd_json::to_borrowed_value(&mut bytes).unwrap();
        let record = Record::from_flat(value.as_object().unwrap()).unwrap();
        let mut out = Vec::new();
        map(
            &record,
            crate::flatten::record_id(&record),
            Default::default(),
            &mut Agents::default(),
            &mut out,
        );
        assert_eq!(out.last(), Some(&b'\n'));
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn odd_values_are_dropped_not_fatal() {
        let doc = map_json(
            r#"{"event_type":"audit","id":"x-1","user_ip":"unknown","timestamp":"soon",
            "action_type":5,"user":["a"],"additional_information":null,"flock_id":null,
            "message":"","user_browser_agent":{},"user_browser_language":""}"#,
        );
        for absent in ["@timestamp", "source", "user", "user_agent", "message", "related"] {
            assert!(doc.get(absent).is_none(), "{absent}: {doc}");
        }
        assert_eq!(doc["event"]["action"], "5");
        assert_eq!(doc["event"]["category"], serde_json::json!(["configuration"]));
        assert_eq!(doc["thinkst_canary"], serde_json::json!({"audit": {"id": "x-1"}}));
    }

    #[test]
    fn words_match_whole() {
        assert!(has_words("api_token_create", "api_token"));
        assert!(has_words("sso-login", "login"));
        assert!(!has_words("canarytoken_create", "token"));
        assert!(!has_words("superuser_add", "user"));
        assert!(!has_words("settings", "set"));
        assert!(!has_words("unset", "set"));
    }

    #[test]
    fn console_and_webhook_times() {
        let render = |text: &str| {
            let value = Value::from(text);
            timestamp(&value).map(|t| {
                let mut out = Vec::new();
                t.write(&mut out);
                serde_json::from_slice::<serde_json::Value>(&out).unwrap()
            })
        };
        assert_eq!(render("2020-04-02 18:11:27 UTC+0000").unwrap(), "2020-04-02T18:11:27Z");
        assert_eq!(render("2020-04-02 20:11:27 UTC+0200").unwrap(), "2020-04-02T18:11:27Z");
        assert_eq!(render("2026-02-02T14:12:34+00:00").unwrap(), "2026-02-02T14:12:34Z");
        assert_eq!(render("2026-02-02 14:12:34"), None);
        assert_eq!(render("yesterday"), None);
    }
}
