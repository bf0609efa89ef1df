//! The ECS mapper against Sekoia's `thinkst-canary` intake cases, then against
//! the project's own cases for what those do not cover.
//!
//! Sekoia's cases live outside the repository (`../shared/fixtures/sekoia-intake`
//! next to the crate); when the folder is absent that part only prints a note.
//! A case passes when the output holds every expected field with the same
//! value and JSON type, each `related.*` list holds at least the expected
//! items, and `event.category` and `event.type` start with the expected
//! values (the logtype's additions follow). Extra output fields are fine. Every miss of every case is listed.

use canary_pipe::ecs::Mapper;
use canary_pipe::flatten::{Record, incident_records};
use serde_json::{Value, json};
use simd_json::prelude::*;

mod common;

/// Keys whose values must never show up in the output.
const SECRET_KEYS: [&str; 6] =
    ["PASSWORD", "password", "CLIENT_HASH", "SALT", "KEY", "COMMUNITY_STRING"];

/// Maps one flat record, given as JSON text, to its ECS document.
fn map_flat(message: &str) -> Value {
    let mut bytes = message.as_bytes().to_vec();
    let parsed = simd_json::to_borrowed_value(&mut bytes).expect("record is JSON");
    let object = parsed.as_object().expect("record is an object");
    let record = Record::from_flat(object).expect("record is a Canary record");
    let mut out = Vec::new();
    Mapper::new().map(&record, &mut out);
    parse_line(&out)
}

fn parse_line(out: &[u8]) -> Value {
    assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1, "one line per record");
    assert_eq!(out.last(), Some(&b'\n'));
    serde_json::from_slice(out).expect("output is JSON")
}

/// Appends to `misses` every place where `got` lacks what `expected` holds.
fn compare(path: &str, expected: &Value, got: Option<&Value>, misses: &mut Vec<String>) {
    match (expected, got) {
        (Value::Object(fields), Some(Value::Object(_))) | (Value::Object(fields), None) => {
            for (key, value) in fields {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                compare(&child, value, got.and_then(|g| g.get(key)), misses);
            }
        }
        // Sekoia's categories and types come first; the mapping adds the
        // logtype's after them, which rules on Sekoia's values still match.
        (Value::Array(items), Some(Value::Array(found)))
            if path == "event.category" || path == "event.type" =>
        {
            if !found.starts_with(items) {
                misses.push(format!(
                    "{path}: expected to start with {expected}, got {}",
                    Value::Array(found.clone())
                ));
            }
        }
        (Value::Array(items), Some(Value::Array(found))) if path.starts_with("related.") => {
            for item in items.iter().filter(|item| !found.contains(item)) {
                misses.push(format!(
                    "{path}: expected to contain {item}, got {}",
                    Value::Array(found.clone())
                ));
            }
        }
        (_, Some(found)) if found == expected => {}
        (_, found) => {
            let found = found.map_or_else(|| "nothing".to_owned(), Value::to_string);
            misses.push(format!("{path}: expected {expected}, got {found}"));
        }
    }
}

/// The misses of one case, `message` (the raw record) left out.
fn misses_of(expected: &Value, got: &Value) -> Vec<String> {
    let mut expected = expected.clone();
    if let Some(fields) = expected.as_object_mut() {
        fields.remove("message");
    }
    let mut misses = Vec::new();
    compare("", &expected, Some(got), &mut misses);
    misses
}

fn assert_holds(expected: Value, got: &Value) {
    let misses = misses_of(&expected, got);
    assert!(misses.is_empty(), "misses:\n  {}\noutput: {got:#}", misses.join("\n  "));
}

/// Secret values of a record that must not be echoed.
fn secrets(message: &str) -> Vec<String> {
    let record: Value = serde_json::from_str(message).unwrap();
    SECRET_KEYS
        .iter()
        .filter_map(|key| record.get(*key)?.as_str().filter(|s| !s.is_empty()).map(str::to_owned))
        .collect()
}

#[test]
fn sekoia_intake_cases() {
    let mut report = Vec::new();
    for (name, case) in common::sekoia_intake_cases() {
        let message = case["input"]["message"].as_str().expect("input.message is a string");
        let got = map_flat(message);

        for miss in misses_of(&case["expected"], &got) {
            report.push(format!("{name}: {miss}"));
        }
        let text = got.to_string();
        for secret in secrets(message).iter().filter(|s| text.contains(s.as_str())) {
            report
                .push(format!("{name}: a secret value ({} chars) is in the output", secret.len()));
        }
    }
    assert!(report.is_empty(), "{} misses:\n{}", report.len(), report.join("\n"));
}

// The project's own cases, with documentation addresses and example domains.

#[test]
fn ipv6_source_host() {
    let got = map_flat(
        r#"{"incident_id":"incident:sshlogin:5f0ce1:2001:db8::25:1714558530","event_type":"event",
        "description":"SSH Login Attempt","logtype":"4002","created":"1714558530",
        "dst_host":"192.0.2.10","dst_port":"22","src_host":"2001:db8::25","src_port":"50122",
        "USERNAME":"admin","PASSWORD":"hunter2","timestamp":1714558530}"#,
    );
    assert_holds(
        json!({
            "@timestamp": "2024-05-01T10:15:30Z",
            "event": {"kind": "alert", "code": "4002", "reason": "SSH Login Attempt",
                      "start": "2024-05-01T10:15:30Z"},
            "source": {"ip": "2001:db8::25", "address": "2001:db8::25", "port": 50122},
            "destination": {"ip": "192.0.2.10", "address": "192.0.2.10", "port": 22},
            "related": {"ip": ["2001:db8::25", "192.0.2.10"], "user": ["admin"]},
            "user": {"name": "admin"},
        }),
        &got,
    );
    assert!(!got.to_string().contains("hunter2"));
}

#[test]
fn ipv6_source_from_the_incident_key() {
    let incident = map_flat(
        r#"{"incident_id":"incident:sshlogin:5f0ce1:2001:db8::7:1714558530","event_type":"incident",
        "summary":"SSH Login Attempt","timestamp":"1714558542"}"#,
    );
    assert_holds(
        json!({
            "@timestamp": "2024-05-01T10:15:42Z",
            "event": {"kind": "alert", "reason": "SSH Login Attempt"},
            "source": {"ip": "2001:db8::7", "address": "2001:db8::7"},
            "related": {"ip": ["2001:db8::7"]},
            "thinkst_canary": {"incident_id": "incident:sshlogin:5f0ce1:2001:db8::7:1714558530"},
        }),
        &incident,
    );

    // A token event whose own `src_host` is empty falls back to the key too.
    let event = map_flat(
        r#"{"incident_id":"incident:canarytoken:5f0ce1:2001:db8::7:1714558530","event_type":"event",
        "src_host":"","type":"dns","timestamp":1714558530}"#,
    );
    assert_eq!(event["source"]["ip"], "2001:db8::7");
}

#[test]
fn multi_label_public_suffixes() {
    let got = map_flat(
        r#"{"incident_id":"incident:ftplogin:5f0ce1:198.51.100.20:1714558530","event_type":"event",
        "src_host":"198.51.100.20","src_host_reverse":"mail.host.example.co.uk",
        "dst_host":"192.0.2.10","HOSTNAME":"www.example.com.au","timestamp":1714558530}"#,
    );
    assert_holds(
        json!({
            "source": {"domain": "mail.host.example.co.uk", "address": "mail.host.example.co.uk",
                       "registered_domain": "example.co.uk", "subdomain": "mail.host",
                       "top_level_domain": "co.uk", "ip": "198.51.100.20"},
            "destination": {"domain": "www.example.com.au", "registered_domain": "example.com.au",
                            "subdomain": "www", "top_level_domain": "com.au"},
            "related": {"hosts": ["mail.host.example.co.uk", "www.example.com.au"]},
        }),
        &got,
    );
}

#[test]
fn proxy_url_with_port_and_query() {
    let got = map_flat(
        r#"{"incident_id":"incident:httpproxy:5f0ce1:198.51.100.30:1714558530","event_type":"event",
        "description":"HTTP Proxy Request","logtype":"7001","src_host":"198.51.100.30",
        "dst_host":"192.0.2.10","dst_port":"8080","USERNAME":"proxyuser","PASSWORD":"hunter2",
        "URL":"http://intranet.example.com.au:8080/admin/login.php?user=x&next=%2F",
        "USERAGENT":"python-requests/2.31.0","timestamp":1714558530}"#,
    );
    assert_holds(
        json!({
            "url": {
                "original": "http://intranet.example.com.au:8080/admin/login.php?user=x&next=%2F",
                "full": "http://intranet.example.com.au:8080/admin/login.php?user=x&next=%2F",
                "scheme": "http",
                "domain": "intranet.example.com.au",
                "registered_domain": "example.com.au",
                "subdomain": "intranet",
                "top_level_domain": "com.au",
                "port": 8080,
                "path": "/admin/login.php",
                "query": "user=x&next=%2F",
            },
            "user_agent": {"original": "python-requests/2.31.0", "name": "Python Requests",
                           "version": "2.31", "os": {"name": "Other"}, "device": {"name": "Other"}},
            "related": {"hosts": ["intranet.example.com.au"], "user": ["proxyuser"]},
        }),
        &got,
    );
    assert!(!got.to_string().contains("hunter2"));
}

#[test]
fn chrome_on_windows_user_agent() {
    let ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
              Chrome/120.0.0.0 Safari/537.36";
    let record = json!({"incident_id": "incident:httplogin:5f0ce1:198.51.100.40:1714558530",
        "event_type": "event", "logtype": "3000", "METHOD": "GET", "PATH": "/index.html",
        "RESPONSE": "200", "CHANNEL": "TLS", "USERAGENT": ua, "timestamp": 1714558530});
    let got = map_flat(&record.to_string());
    assert_holds(
        json!({
            "user_agent": {"original": ua, "name": "Chrome", "os": {"name": "Windows"},
                           "device": {"name": "Other"}},
            "http": {"request": {"method": "GET"}, "response": {"status_code": 200}},
            "tls": {"established": true},
            "url": {"path": "/index.html"},
        }),
        &got,
    );
    let version = got["user_agent"]["version"].as_str().unwrap();
    assert!(version.starts_with("120.0.0"), "version {version}");
}

#[test]
fn user_agent_from_a_lowercase_header() {
    let got = map_flat(
        r#"{"incident_id":"i","event_type":"event","type":"http",
        "headers":{"accept":"*/*","user-agent":"python-requests/2.31.0"}}"#,
    );
    assert_eq!(got["user_agent"]["original"], "python-requests/2.31.0");
    assert_eq!(got["user_agent"]["name"], "Python Requests");
}

#[test]
fn active_directory_bind_dn() {
    let got = map_flat(
        r#"{"incident_id":"incident:ldapbind:5f0ce1:198.51.100.50:1714558530","event_type":"event",
        "logtype":"31001","DN":"CN=Jane Roe,OU=Staff,DC=corp,DC=example,DC=com",
        "PASSWORD":"hunter2","timestamp":1714558530}"#,
    );
    assert_holds(
        json!({
            "user": {"name": "Jane Roe", "domain": "corp.example.com"},
            "related": {"user": ["Jane Roe"]},
        }),
        &got,
    );
}

#[test]
fn token_extras_and_device_identity() {
    let got = map_flat(
        r#"{"incident_id":"incident:canarytoken:5f0ce1:198.51.100.60:1714558530",
        "event_type":"event","description":"Canarytoken triggered","logtype":"17000",
        "memo":"Finance share bait",
        "name":"N/A","node_id":"tok123","flock_id":"flock:default","flock_name":"Default Flock",
        "canarytoken":"tok123","src_host":"198.51.100.60","src_port":"0","timestamp":1714558530}"#,
    );
    assert_holds(
        json!({
            "rule": {"id": "17000", "name": "Canarytoken triggered",
                     "description": "Finance share bait"},
            "observer": {"vendor": "Thinkst Canary", "product": "Thinkst Canary",
                         "serial_number": "tok123"},
            "source": {"port": 0},
            "thinkst_canary": {"canary_token": "tok123", "memo": "Finance share bait",
                               "flock": {"id": "flock:default", "name": "Default Flock"}},
        }),
        &got,
    );
    assert!(got["observer"].get("name").is_none(), "tokens have no device name");
}

#[test]
fn raw_incidents_map_through_the_same_view() {
    let mut bytes = br#"{"id":"incident:sshlogin:5f0ce1:192.0.2.55:1714558530","hash_id":"5f0ce1",
        "summary":"SSH Login Attempt","updated_time":"1714558542","updated_id":731,
        "description":{"created":"1714558530","description":"SSH Login Attempt","logtype":"4002",
        "dst_host":"192.0.2.10","dst_port":"22","src_host":"192.0.2.55",
        "src_host_reverse":"host55.example.org","src_port":"50122","name":"fileserver-01",
        "node_id":"00000000aabbccdd","events":[{"USERNAME":"admin","PASSWORD":"hunter2",
        "timestamp":1714558530}]}}"#
        .to_vec();
    let parsed = simd_json::to_borrowed_value(&mut bytes).unwrap();
    let records = incident_records(parsed.as_object().unwrap()).unwrap();
    let mut mapper = Mapper::new();
    let docs: Vec<Value> = records
        .iter()
        .map(|record| {
            let mut out = Vec::new();
            mapper.map(record, &mut out);
            parse_line(&out)
        })
        .collect();

    assert_holds(
        json!({"@timestamp": "2024-05-01T10:15:42Z", "source": {"ip": "192.0.2.55"},
               "event": {"reason": "SSH Login Attempt"}}),
        &docs[0],
    );
    assert_holds(
        json!({"@timestamp": "2024-05-01T10:15:30Z", "user": {"name": "admin"},
               "observer": {"name": "fileserver-01", "serial_number": "00000000aabbccdd"},
               "source": {"domain": "host55.example.org", "registered_domain": "example.org"}}),
        &docs[1],
    );
    assert!(!docs[1].to_string().contains("hunter2"));
}

#[test]
fn the_comparison_reports_every_miss() {
    let expected = json!({"message": "ignored", "a": 1, "b": {"c": "x"},
                          "related": {"ip": ["192.0.2.1"]}, "event": {"type": ["denied"]}});
    let got =
        json!({"a": "1", "related": {"ip": ["192.0.2.2"]}, "event": {"type": ["x", "denied"]}});
    let misses = misses_of(&expected, &got);
    assert_eq!(misses.len(), 4, "{misses:#?}");
    assert!(misses.iter().any(|m| m.starts_with("b.c: expected \"x\", got nothing")));
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Map;

    /// Every key the mapper reads, plus a few it must ignore.
    const KEYS: &[&str] = &[
        "timestamp",
        "created",
        "logtype",
        "type",
        "cmd",
        "AUDITACTION",
        "CMD",
        "OPCODE",
        "NTP_CMD",
        "summary",
        "description",
        "name",
        "node_id",
        "geoip",
        "ip",
        "city",
        "timezone",
        "id",
        "latitude",
        "longitude",
        "src_host",
        "src_host_reverse",
        "src_port",
        "HOST",
        "hostname",
        "HOSTNAME",
        "dst_host",
        "dst_port",
        "dst_host_public_ip",
        "DN",
        "USERNAME",
        "user",
        "USER",
        "DOMAIN",
        "DOMAINNAME",
        "USERAGENT",
        "headers",
        "HEADERS",
        "User-Agent",
        "URL",
        "url",
        "PATH",
        "METHOD",
        "RESPONSE",
        "CHANNEL",
        "APPNAME",
        "FILENAME",
        "SIZE",
        "SHARENAME",
        "memo",
        "canarytoken",
        "SMBARCH",
        "SMBVER",
        "db",
        "REPO",
        "ports",
        "flock_id",
        "flock_name",
        "PASSWORD",
    ];

    /// Strings shaped like the values the mapper parses, and some near misses.
    const TRICKY: &[&str] = &[
        "",
        "N/A",
        "TLS",
        "192.0.2.1",
        "2001:db8::1",
        "[2001:db8::1]:443",
        "host.example.co.uk.",
        "a..b",
        ".",
        ":",
        "@",
        "\\",
        "uid=a\\,b,DC=x,dc=",
        "cn=\"",
        "http://u:p@h.example.com:1/?q#f",
        "http://[::1",
        "curl/8.7.1",
        "1720684081",
        "-1",
        "99999999999999999999",
        "1e400",
        "NaN",
        "inf",
        "incident:x:h:2001:db8::1:1",
        "é\u{0}\u{2028}",
    ];

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_filter("JSON has no NaN", |f| f.is_finite()).prop_map(Value::from),
            any::<String>().prop_map(Value::from),
            prop::sample::select(TRICKY).prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                object(inner),
            ]
        })
    }

    fn object(values: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
        prop::collection::vec((prop::sample::select(KEYS), values), 0..24).prop_map(|pairs| {
            Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<Map<_, _>>())
        })
    }

    fn incident_key() -> impl Strategy<Value = String> {
        prop_oneof![any::<String>(), prop::sample::select(TRICKY).prop_map(String::from)]
    }

    proptest! {
        #[test]
        fn any_record_gives_one_json_line(
            fields in object(value()),
            key in incident_key(),
            incident in any::<bool>(),
        ) {
            let mut record = fields;
            record["incident_id"] = Value::from(key);
            record["event_type"] = Value::from(if incident { "incident" } else { "event" });
            let got = map_flat(&record.to_string());
            prop_assert!(got.is_object());

            // A password may only show up if another field carries the same text.
            let mut others = record.clone();
            let secret = others.as_object_mut().unwrap().remove("PASSWORD");
            if let Some(secret) = secret.as_ref().and_then(Value::as_str).map(Value::from) {
                let secret = secret.to_string();
                let secret = secret.trim_matches('"');
                let elsewhere = others.to_string().contains(secret);
                prop_assert!(secret.len() < 6 || elsewhere || !got.to_string().contains(secret));
            }
        }
    }
}
