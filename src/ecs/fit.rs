//! Keeping an ECS line under `--max-line-bytes`.
//!
//! Collectors read lines into bounded buffers and cut or drop longer ones
//! (Fluent Bit's `Buf_Size`, syslog-ng's `log-msg-size()`, Sekoia's 250 kB
//! per event), so a line that outgrows the cap is made smaller here, where
//! it can be done knowingly: first `event.original` goes, then long strings
//! are cut, shortest cut first, until the line fits. A record so made of
//! many values that even cut strings do not fit is written as its identity
//! alone (time, id, code, action, incident), so it is never lost: the event
//! reaches the SIEM and its id leads back to the console. Either way the
//! event says so in `thinkst_canary.truncated`.
//!
//! Lines under the cap, nearly all of them, cost one length comparison.

use simd_json::OwnedValue as Value;
use simd_json::prelude::*;

/// What fitting did to a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// The line was within the cap.
    Whole,
    /// `event.original` was dropped or strings were cut.
    Cut,
    /// Only the event's identity was kept.
    Identity,
}

impl Fit {
    /// For a warning about a line made shorter: what it kept. `None` for a
    /// whole line.
    pub fn kept(self) -> Option<&'static str> {
        match self {
            Fit::Whole => None,
            Fit::Cut => Some("its values cut"),
            Fit::Identity => Some("only its identity"),
        }
    }
}

/// Strings are never cut shorter than this, so times, ids, addresses and
/// names stay whole.
const SHORTEST_CUT: usize = 256;

/// What replaces the end of a cut string.
const MARK: &str = "…";

/// Makes the line in `out[start..]` (a JSON object and its `\n`) at most
/// `max` bytes long, `\n` included. `max` is at least [`super::MIN_LINE`],
/// which any identity fits in.
pub fn fit(out: &mut Vec<u8>, start: usize, max: usize) -> Fit {
    if out.len() - start <= max {
        return Fit::Whole;
    }
    let mut bytes = out[start..].to_vec();
    // The line was written by the mapper from valid strings: it parses.
    let Ok(mut document) = simd_json::to_owned_value(&mut bytes) else {
        return identity(out, start, &Value::null());
    };
    if let Some(event) = document.get_mut("event").and_then(|e| e.as_object_mut()) {
        event.remove("original");
    }
    mark(&mut document);
    if replace(out, start, &document, max) {
        return Fit::Cut;
    }
    // Cut every string to `limit` bytes, halving it until the line fits.
    let mut limit = longest(&document) / 2;
    while limit >= SHORTEST_CUT {
        let mut cut = document.clone();
        shorten(&mut cut, limit);
        if replace(out, start, &cut, max) {
            return Fit::Cut;
        }
        limit /= 2;
    }
    identity(out, start, &document)
}

/// Writes `document` in place of the line if it fits in `max` bytes.
fn replace(out: &mut Vec<u8>, start: usize, document: &Value, max: usize) -> bool {
    let text = document.encode();
    if text.len() + 1 > max {
        return false;
    }
    out.truncate(start);
    out.extend_from_slice(text.as_bytes());
    out.push(b'\n');
    true
}

/// Sets `thinkst_canary.truncated`.
fn mark(document: &mut Value) {
    if let Some(object) = document.as_object_mut() {
        let canary = object.entry("thinkst_canary".into()).or_insert_with(Value::object);
        if let Some(canary) = canary.as_object_mut() {
            canary.insert("truncated".into(), Value::from(true));
        }
    }
}

/// The length of the longest string in `value`, in bytes.
fn longest(value: &Value) -> usize {
    match value {
        Value::String(text) => text.len(),
        Value::Array(items) => items.iter().map(longest).max().unwrap_or(0),
        Value::Object(members) => members.values().map(longest).max().unwrap_or(0),
        Value::Static(_) => 0,
    }
}

/// Cuts every string in `value` longer than `limit` bytes to `limit`
/// bytes (at a character boundary) and [`MARK`].
fn shorten(value: &mut Value, limit: usize) {
    match value {
        Value::String(text) if text.len() > limit => {
            let mut end = limit;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            text.push_str(MARK);
        }
        Value::Array(items) => items.iter_mut().for_each(|item| shorten(item, limit)),
        Value::Object(members) => members.values_mut().for_each(|member| shorten(member, limit)),
        Value::String(_) | Value::Static(_) => {}
    }
}

/// Writes what identifies the event, with `thinkst_canary.truncated`, in
/// place of the line.
fn identity(out: &mut Vec<u8>, start: usize, document: &Value) -> Fit {
    let short = |value: Option<&Value>| {
        value.filter(|v| v.as_str().is_none_or(|text| text.len() <= SHORTEST_CUT)).cloned()
    };
    let mut kept = Value::object();
    let mut event = Value::object();
    for key in ["id", "kind", "code", "action", "severity", "risk_score", "module"] {
        if let Some(value) = short(document.get("event").and_then(|e| e.get(key))) {
            event.try_insert(key, value);
        }
    }
    let mut canary = Value::object();
    if let Some(value) = short(document.get("thinkst_canary").and_then(|c| c.get("incident_id"))) {
        canary.try_insert("incident_id", value);
    }
    canary.try_insert("truncated", true);
    if let Some(value) = short(document.get("@timestamp")) {
        kept.try_insert("@timestamp", value);
    }
    kept.try_insert("event", event);
    kept.try_insert("thinkst_canary", canary);
    out.truncate(start);
    out.extend_from_slice(kept.encode().as_bytes());
    out.push(b'\n');
    Fit::Identity
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(value: &serde_json::Value) -> Vec<u8> {
        let mut out = b"previous line\n".to_vec();
        out.extend_from_slice(value.to_string().as_bytes());
        out.push(b'\n');
        out
    }

    fn parsed(out: &[u8], start: usize) -> serde_json::Value {
        assert_eq!(out.last(), Some(&b'\n'));
        serde_json::from_slice(&out[start..]).expect("a JSON line")
    }

    const START: usize = "previous line\n".len();

    #[test]
    fn a_line_within_the_cap_is_left_alone() {
        let mut out = line(&serde_json::json!({"event": {"id": "a"}, "message": "x".repeat(100)}));
        let before = out.clone();
        assert_eq!(fit(&mut out, START, before.len() - START), Fit::Whole);
        assert_eq!(out, before);
    }

    #[test]
    fn the_original_goes_first() {
        let document = serde_json::json!({"@timestamp": "2026-12-04T00:00:00Z",
            "event": {"id": "a", "original": "o".repeat(5000)}, "message": "m".repeat(1000)});
        let mut out = line(&document);
        assert_eq!(fit(&mut out, START, 4096), Fit::Cut);
        assert!(out.starts_with(b"previous line\n"));
        let got = parsed(&out, START);
        assert!(got["event"].get("original").is_none());
        assert_eq!(got["message"], document["message"], "short enough to stay whole");
        assert_eq!(got["thinkst_canary"]["truncated"], true);
        assert_eq!(got["@timestamp"], document["@timestamp"]);
    }

    #[test]
    fn long_strings_are_cut_at_a_character_boundary() {
        let document = serde_json::json!({"event": {"id": "a"},
            "thinkst_canary": {"incident_id": "incident:x", "headers": {"X": "é".repeat(10_000)}},
            "user_agent": {"original": "a".repeat(300)}, "url": {"path": "/p"}});
        let mut out = line(&document);
        assert_eq!(fit(&mut out, START, 8192), Fit::Cut);
        assert!(out.len() - START <= 8192);
        let got = parsed(&out, START);
        let header = got["thinkst_canary"]["headers"]["X"].as_str().unwrap();
        assert!(header.ends_with(MARK) && header.len() < 8192);
        assert_eq!(got["url"]["path"], "/p");
        assert_eq!(got["event"]["id"], "a");
        assert_eq!(got["thinkst_canary"]["incident_id"], "incident:x");
        assert_eq!(got["thinkst_canary"]["truncated"], true);
    }

    #[test]
    fn too_many_values_leave_the_identity() {
        let targets: Vec<String> = (0..5000).map(|i| format!("192.0.2.{}", i % 256)).collect();
        let document = serde_json::json!({"@timestamp": "2026-12-04T00:00:00Z",
            "event": {"id": "a", "code": "5003", "action": "port-scan", "kind": "alert"},
            "thinkst_canary": {"incident_id": "incident:x", "scan": {"targets": targets}}});
        let mut out = line(&document);
        assert_eq!(fit(&mut out, START, 4096), Fit::Identity);
        let got = parsed(&out, START);
        assert_eq!(
            got,
            serde_json::json!({"@timestamp": "2026-12-04T00:00:00Z",
                "event": {"id": "a", "kind": "alert", "code": "5003", "action": "port-scan"},
                "thinkst_canary": {"incident_id": "incident:x", "truncated": true}})
        );
    }
}
