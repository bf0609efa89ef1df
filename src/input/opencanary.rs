//! OpenCanary JSON lines, read in place under the console's key names.
//!
//! The daemon writes one object per line: `src_host`, `src_port`,
//! `dst_host`, `dst_port`, `node_id`, an integer `logtype` in its own
//! numbering, the event's fields under `logdata`, and its times as text.
//! The ECS mapping asks for console names (`USERNAME`, `NTP_CMD`, `user`,
//! ...); [`get`] answers the line's own fields ([`LINE_KEYS`]) from the
//! line, the others from `logdata` first, then the line, and through
//! [`ALIASES`] where OpenCanary spells a field otherwise.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use simd_json::BorrowedValue as Value;
use simd_json::borrowed::Object;
use simd_json::prelude::*;

/// Console key names and how OpenCanary spells the same field. Only the
/// first spelling found in `logdata` answers.
const ALIASES: &[(&str, &str)] = &[
    // MSSQL SQL-auth lines use the TDS login packet's CamelCase names.
    ("USERNAME", "UserName"),
    ("PASSWORD", "Password"),
    ("HOSTNAME", "HostName"),
    ("APPNAME", "AppName"),
    ("SERVERNAME", "ServerName"),
    ("DOMAINNAME", "DomainName"),
    ("NTP_CMD", "NTP CMD"),
    ("PASSWORD", "VNC Password"),
    ("SERVER_CHALLENGE", "VNC Server Challenge"),
    ("CLIENT_RESPONSE", "VNC Client Response"),
    // HTTP requests with a method the skin does not implement.
    ("METHOD", "REQUEST_TYPE"),
    // MongoDB: one logtype for every kind of message, lowercase names.
    ("user", "username"),
    ("cmd", "command"),
];

/// The keys the daemon writes at the top of every line: where and when the
/// event happened. Only the line answers them: `logdata` holds what the
/// service module reported about the client's request, and a key of the
/// same name there must not stand in for the daemon's own value.
const LINE_KEYS: [&str; 10] = [
    "dst_host",
    "dst_port",
    "src_host",
    "src_port",
    "logtype",
    "node_id",
    "local_time",
    "utc_time",
    "local_time_adjusted",
    "honeycred",
];

/// What OpenCanary's HTTP module writes for a field the client did not send.
const NOT_SUPPLIED: &str = "<not supplied>";

/// The time formats of `utc_time` and `local_time` (which is UTC too:
/// the daemon has always filled it from the UTC clock), microseconds
/// optional.
const TIME: &str = "%Y-%m-%d %H:%M:%S%.f";

/// Whether `object` has the shape of an OpenCanary line: a `logdata` object
/// and a `logtype` (an integer, or digits in some forwarders' output).
/// Console records never have `logdata`.
pub fn is_line(object: &Object<'_>) -> bool {
    has_numeric_logtype(object) && object.get("logdata").is_some_and(|l| l.is_object())
}

fn has_numeric_logtype(object: &Object<'_>) -> bool {
    object.get("logtype").is_some_and(|t| {
        t.is_i64() || t.is_u64() || t.as_str().is_some_and(|s| s.parse::<u64>().is_ok())
    })
}

/// What a line with a numeric `logtype` has under `logdata` when that is
/// not the object it should be: `"a string"`, `"null"`, ...
pub fn bad_logdata(object: &Object<'_>) -> Option<&'static str> {
    if !has_numeric_logtype(object) {
        return None;
    }
    let kind = match object.get("logdata")? {
        Value::Object(_) => return None,
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Static(simd_json::StaticNode::Null) => "null",
        Value::Static(simd_json::StaticNode::Bool(_)) => "a boolean",
        Value::Static(_) => "a number",
    };
    Some(kind)
}

/// Looks `key` up in an OpenCanary line the way the console would hold it.
/// `record_id` is never answered: an OpenCanary line carries no id of its
/// own, so its id is the hash of its content ([`crate::flatten::record_id`]),
/// whatever a `logdata.record_id` says.
pub(crate) fn get<'a, 'v>(
    line: &'a Object<'v>,
    logdata: &'a Object<'v>,
    key: &str,
) -> Option<&'a Value<'v>> {
    let found = match key {
        "logdata" | "record_id" => return None,
        _ if LINE_KEYS.contains(&key) => line.get(key)?,
        _ => logdata
            .get(key)
            .or_else(|| {
                let mut spellings = ALIASES.iter().filter(|(console, _)| *console == key);
                spellings.find_map(|(_, spelled)| logdata.get(*spelled))
            })
            .or_else(|| line.get(key))?,
    };
    (found.as_str() != Some(NOT_SUPPLIED)).then_some(found)
}

/// Calls `f` with every key of the line and its value, under the names the
/// line uses, each key once: `logdata`'s keys, then the line's own. Where
/// both hold a key, the value is the one [`get`] reads, so that the record
/// id covers the line's real `src_host` and not a `logdata` key that
/// shadows it.
pub(crate) fn for_each_field<'a, 'v>(
    line: &'a Object<'v>,
    logdata: &'a Object<'v>,
    mut f: impl FnMut(&'a str, &'a Value<'v>),
) {
    let own = |key: &str| LINE_KEYS.contains(&key);
    for (key, value) in logdata.iter() {
        if !(own(key) && line.contains_key(key.as_ref())) {
            f(key, value);
        }
    }
    for (key, value) in line.iter() {
        if key != "logdata" && (own(key) || !logdata.contains_key(key.as_ref())) {
            f(key, value);
        }
    }
}

/// The time of the line: `utc_time`, else `local_time` (lines of older
/// daemons have only that one).
pub(crate) fn time(line: &Object<'_>) -> Option<jiff::Timestamp> {
    ["utc_time", "local_time"].iter().find_map(|key| {
        let text = line.get(*key)?.as_str()?.trim();
        let civil = DateTime::strptime(TIME, text).ok()?;
        TimeZone::UTC.to_timestamp(civil).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_value as parse;

    #[test]
    fn console_names_answer_opencanary_spellings() {
        let value = parse(
            r#"{"logtype":11001,"node_id":"n1","src_host":"192.0.2.9","logdata":{"NTP CMD":"monlist",
            "UserName":"sa","VNC Server Challenge":"00ff","username":"admin","HOSTNAME":"<not supplied>"}}"#,
        );
        let line = value.as_object().unwrap();
        let logdata = line.get("logdata").unwrap().as_object().unwrap();
        let text = |key| get(line, logdata, key).and_then(|v| v.as_str());
        assert_eq!(text("NTP_CMD"), Some("monlist"));
        assert_eq!(text("USERNAME"), Some("sa"));
        assert_eq!(text("SERVER_CHALLENGE"), Some("00ff"));
        assert_eq!(text("user"), Some("admin"));
        assert_eq!(text("src_host"), Some("192.0.2.9"));
        assert_eq!(text("HOSTNAME"), None, "a placeholder is no value");
        assert!(get(line, logdata, "logdata").is_none());
        assert!(get(line, logdata, "logtype").is_some_and(|t| t.as_u64() == Some(11001)));
    }

    #[test]
    fn the_lines_own_fields_and_id_are_not_read_from_logdata() {
        let value = parse(
            r#"{"dst_host":"192.0.2.20","dst_port":22,"logtype":4002,"node_id":"oc-1",
            "src_host":"192.0.2.9","src_port":4000,"utc_time":"2026-12-03 12:36:17",
            "logdata":{"src_host":"198.51.100.1","dst_port":1,"logtype":1001,"node_id":"forged",
            "utc_time":"2000-01-01 00:00:00","record_id":"forged-id","USERNAME":"root",
            "flavour":"logdata"},"flavour":"line"}"#,
        );
        let line = value.as_object().unwrap();
        let logdata = line.get("logdata").unwrap().as_object().unwrap();
        let text = |key| get(line, logdata, key).map(|v| v.encode());
        assert_eq!(text("src_host").as_deref(), Some("\"192.0.2.9\""));
        assert_eq!(text("dst_port").as_deref(), Some("22"));
        assert_eq!(text("logtype").as_deref(), Some("4002"));
        assert_eq!(text("node_id").as_deref(), Some("\"oc-1\""));
        assert_eq!(text("utc_time").as_deref(), Some("\"2026-12-03 12:36:17\""));
        assert_eq!(text("record_id"), None);
        assert_eq!(text("USERNAME").as_deref(), Some("\"root\""));
        // Keys that are not the line's own still answer from logdata first.
        assert_eq!(text("flavour").as_deref(), Some("\"logdata\""));
        // A line key the line lacks is not taken from logdata either.
        let value = parse(r#"{"logtype":4002,"logdata":{"src_host":"198.51.100.1"}}"#);
        let line = value.as_object().unwrap();
        let logdata = line.get("logdata").unwrap().as_object().unwrap();
        assert!(get(line, logdata, "src_host").is_none());
    }

    #[test]
    fn every_key_is_listed_once_with_the_value_get_reads() {
        let value = parse(
            r#"{"src_host":"192.0.2.9","logtype":4002,"flavour":"line",
            "logdata":{"src_host":"198.51.100.1","USERNAME":"root","flavour":"logdata"}}"#,
        );
        let line = value.as_object().unwrap();
        let logdata = line.get("logdata").unwrap().as_object().unwrap();
        let mut fields = Vec::new();
        for_each_field(line, logdata, |key, value| fields.push((key, value.encode())));
        fields.sort();
        let expected = [
            ("USERNAME", "\"root\""),
            ("flavour", "\"logdata\""),
            ("logtype", "4002"),
            ("src_host", "\"192.0.2.9\""),
        ];
        let expected: Vec<_> = expected.iter().map(|(k, v)| (*k, v.to_string())).collect();
        assert_eq!(fields, expected);
    }

    #[test]
    fn times_are_utc_with_or_without_microseconds() {
        let at = |text: &str| {
            let value = parse(text);
            time(value.as_object().unwrap()).map(|t| t.to_string())
        };
        assert_eq!(
            at(r#"{"utc_time":"2026-12-03 12:36:17.050505","local_time":"2000-01-01 00:00:00"}"#)
                .as_deref(),
            Some("2026-12-03T12:36:17.050505Z")
        );
        assert_eq!(
            at(r#"{"local_time":"2015-07-20 13:38:21"}"#).as_deref(),
            Some("2015-07-20T13:38:21Z")
        );
        assert_eq!(at(r#"{"utc_time":"yesterday"}"#), None);
        assert_eq!(at(r#"{"utc_time":7}"#), None);
    }

    #[test]
    fn only_lines_with_logdata_and_a_logtype_are_opencanary() {
        let shape = |text: &str| is_line(parse(text).as_object().unwrap());
        assert!(shape(r#"{"logtype":4002,"logdata":{}}"#));
        assert!(shape(r#"{"logtype":"5001","logdata":{"ID":"1"}}"#));
        assert!(!shape(r#"{"logtype":"4002","event_type":"event"}"#));
        assert!(!shape(r#"{"logtype":4002,"logdata":"text"}"#));
        assert!(!shape(r#"{"logtype":"SSH","logdata":{}}"#));
    }
}
