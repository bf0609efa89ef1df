//! Properties of the transformer on arbitrary input: it never panics, every
//! line written is one JSON object with an `event.id`, the output depends on
//! the input alone, every record read is written or rejected (and every
//! input line of NDJSON, exactly once), and credentials stay out.
//!
//! The default case counts keep this file to seconds in a debug build. For a
//! longer search, `PROPTEST_CASES` sets the count of every property here, e.g.
//! `PROPTEST_CASES=20000 cargo test --release --test transform_props`.

mod common;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::sync::Once;

use canary_pipe::ecs::Options;
use canary_pipe::flatten;
use canary_pipe::input::Input;
use canary_pipe::transform::{Counts, Format, Transformer};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::RngAlgorithm;
use serde_json::{Map, Value, json};

/// `cases` runs of a property, or `PROPTEST_CASES` when it is set.
fn cases(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(cases);
    // XorShift, not the default ChaCha: unoptimized, ChaCha took most of the
    // time of the JSON properties, generating values.
    ProptestConfig { cases, rng_algorithm: RngAlgorithm::XorShift, ..ProptestConfig::default() }
}

// ---------------------------------------------------------------------------
// Running the transformer and reading what it said.

thread_local! {
    /// The log lines written on this thread since the last run began.
    static LOG: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

struct ThreadLog;

impl io::Write for ThreadLog {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        LOG.with_borrow_mut(|log| log.extend_from_slice(bytes));
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Sends this process's warnings, as JSON lines, to the log of the thread
/// that emits them. One global subscriber, not one per test, because the
/// tests run on parallel threads and a subscriber set per thread races with
/// the interest `tracing` caches per call site.
fn capture_logs() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_ansi(false)
            .with_max_level(tracing_subscriber::filter::LevelFilter::WARN)
            .with_writer(|| ThreadLog)
            .init();
    });
}

/// What one run gave.
#[derive(Debug, PartialEq)]
struct Outcome {
    out: Vec<u8>,
    counts: Counts,
    /// The line and reason of every rejection, in order.
    rejected: Vec<(u64, String)>,
}

fn run_on(transformer: &mut Transformer, input: &[u8]) -> Outcome {
    capture_logs();
    LOG.with_borrow_mut(Vec::clear);
    let before = transformer.counts();
    let mut out = Vec::new();
    transformer.run("prop", input, &mut out).expect("a slice reads and a Vec takes every byte");
    let after = transformer.counts();
    let counts = Counts {
        read: after.read - before.read,
        written: after.written - before.written,
        rejected: after.rejected - before.rejected,
    };
    let log = LOG.with_borrow_mut(std::mem::take);
    Outcome { out, counts, rejected: rejections(&log) }
}

fn run(input: &[u8]) -> Outcome {
    run_on(&mut Transformer::new(), input)
}

/// The line and reason of each "Record rejected." message in JSON log lines.
fn rejections(log: &[u8]) -> Vec<(u64, String)> {
    log.split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice::<Value>(line).expect("log lines are JSON"))
        .filter(|entry| entry["message"] == "Record rejected.")
        .map(|entry| {
            let line = entry["line"].as_u64().expect("a rejection names its line");
            (line, entry["reason"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

/// Checks what holds whatever the input, and returns the events written.
fn events(outcome: &Outcome) -> Vec<Value> {
    let Outcome { out, counts, rejected } = outcome;
    assert_eq!(counts.read, counts.written + counts.rejected, "{counts:?}");
    assert_eq!(rejected.len() as u64, counts.rejected, "one message per rejection");
    for (line, reason) in rejected {
        assert!(*line >= 1, "lines count from 1");
        assert!(!reason.is_empty(), "every rejection says why");
    }
    assert!(out.is_empty() || out.ends_with(b"\n"), "the last line ends");
    let events: Vec<Value> = out.split_inclusive(|b| *b == b'\n').map(event).collect();
    assert_eq!(events.len() as u64, counts.written, "one line per record written");
    events
}

/// One output line: a JSON object with a non-empty `event.id`.
fn event(line: &[u8]) -> Value {
    let text = String::from_utf8_lossy(line);
    let value: Value = serde_json::from_slice(line)
        .unwrap_or_else(|err| panic!("output line is not JSON ({err}): {text}"));
    assert!(value.is_object(), "output line is not an object: {text}");
    let id = value["event"]["id"].as_str().unwrap_or_default();
    assert!(!id.is_empty(), "output line has no event.id: {text}");
    value
}

fn event_id(event: &Value) -> &str {
    event["event"]["id"].as_str().unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Input: bytes.

/// Pieces that matter to framing and parsing, to be strung together: BOMs,
/// line ends of every kind, NULs, brackets, quotes and escapes, numbers no
/// type holds, invalid UTF-8, deep nesting, and bits of real records.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    const PIECES: &[&[u8]] = &[
        b"\xef\xbb\xbf",
        b"\n",
        b"\r\n",
        b"\r",
        b"\n\n",
        b" ",
        b"\t",
        b"\x0c",
        b"\0",
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"",
        b"\\",
        b",",
        b":",
        b"\\u0000",
        b"\\ud800",
        b"\\udfff\\ud800",
        b"\xff\xfe",
        b"\xc0\x80",
        b"\xed\xa0\x80",
        b"\xf4\x90\x80\x80",
        b"1e999999",
        b"-1e-999999",
        b"123456789012345678901234567890",
        b"18446744073709551616",
        b"-9223372036854775809",
        b"-0",
        b"0.1e",
        b"NaN",
        b"true",
        b"null",
        b"\"event_type\":\"event\"",
        b"\"event_type\":\"incident\"",
        b"\"event_type\":\"audit\"",
        b"\"incident_id\":\"incident:x:ab:192.0.2.7:1\"",
        b"\"id\":1",
        b"\"incidents\":[",
        b"\"audit_trail\":[",
        b"\"description\":{",
        b"\"events\":[",
        b"\"timestamp\":",
        b"\"headers\":{\"User-Agent\":",
        b"\"PASSWORD\":\"x\"",
        b"{\"event_type\":\"event\",\"incident_id\":\"i\",\"src_host\":\"192.0.2.1\"}",
        b"{\"id\":\"incident:a\",\"description\":{\"events\":[{},1]}}",
    ];
    prop_oneof![
        8 => select(PIECES).prop_map(<[u8]>::to_vec),
        2 => prop::collection::vec(any::<u8>(), 1..16),
        1 => (1usize..1100, select(&[b"[", b"{"][..])).prop_map(|(depth, open)| {
            // An opening bracket `depth` times over, with an object's key
            // between levels, then the closers.
            let (open, close): (&[u8], &[u8]) =
                if open == b"[" { (b"[", b"]") } else { (b"{\"a\":", b"}") };
            let mut text = open.repeat(depth);
            text.extend_from_slice(b"0");
            text.extend_from_slice(&close.repeat(depth));
            text
        }),
    ]
}

fn framing_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(fragment(), 0..48).prop_map(|parts| parts.concat())
}

// ---------------------------------------------------------------------------
// Input: JSON values that look like Canary data.

/// Keys the transformer and the mapping look at, and a few others.
const KEYS: &[&str] = &[
    "logtype",
    "src_host",
    "src_host_reverse",
    "src_port",
    "dst_host",
    "dst_host_public_ip",
    "dst_port",
    "USERNAME",
    "USER",
    "user",
    "PASSWORD",
    "password",
    "CLIENT_HASH",
    "SALT",
    "KEY",
    "COMMUNITY_STRING",
    "headers",
    "HEADERS",
    "User-Agent",
    "user-agent",
    "Host",
    "Referer",
    "USERAGENT",
    "geoip",
    "latitude",
    "longitude",
    "timezone",
    "country_code",
    "ip",
    "ip_blocklist",
    "is_tor",
    "events",
    "events_count",
    "events_list",
    "incidents",
    "audit_trail",
    "cursor",
    "DN",
    "DOMAIN",
    "URL",
    "url",
    "PATH",
    "HOSTNAME",
    "hostname",
    "HOST",
    "CHANNEL",
    "request_args",
    "ports",
    "139",
    "445",
    "timestamp",
    "created",
    "updated_time",
    "updated_id",
    "hash_id",
    "summary",
    "description",
    "name",
    "node_id",
    "ip_address",
    "mac_address",
    "memo",
    "canarytoken",
    "matched_annotations",
    "acknowledged",
    "notified",
    "flock_id",
    "flock_name",
    "FILENAME",
    "SIZE",
    "RESPONSE",
    "METHOD",
    "APPNAME",
    "cmd",
    "type",
    "action_type",
    "user_ip",
    "user_browser_agent",
    "additional_information",
    "incident_id",
    "event_type",
    "record_id",
    "id",
    // OpenCanary lines and their envelope.
    "logdata",
    "utc_time",
    "local_time",
    "message",
    // Webhook payloads.
    "AlertType",
    "AdditionalDetails",
    "IncidentHash",
    "CanaryID",
    "Description",
    "LogType",
    "Token",
    "Timestamp",
    "sourcetype",
    "event",
    "payload",
    "channel",
    "manage_url",
    "token_type",
    "src_data",
];

/// Strings that mean something to some field, or that break naive code.
const STRINGS: &[&str] = &[
    "",
    " ",
    "event",
    "incident",
    "audit",
    "True",
    "False",
    "true",
    "N/A",
    "1001",
    "3001",
    "4002",
    "5007",
    "22001",
    "1793607245",
    "1793607245000",
    "-1",
    "0",
    "1e309",
    "99999999999999999999999",
    "2026-11-02 08:14:05 UTC+0000",
    "2026-11-02T08:14:05Z",
    "9999-12-31T23:59:60Z",
    "192.0.2.7",
    "203.0.113.200:8080",
    "2001:db8::1",
    "[2001:db8::1]:443",
    "::ffff:192.0.2.1",
    "fe80::1%eth0",
    "dsl-200.isp.example.org",
    "xn--nxasmq6b.example",
    "localhost",
    ".",
    "..com",
    "00:11:22:aa:bb:cc",
    "0011.22aa.bbcc",
    "http://user:pw@example.com:8080/a/b?c=d&e#f",
    "https://[::1]:99999/",
    "https://ex ample.com/",
    "//example.com/x",
    "ftp://a@b@c/",
    "/login?next=/admin",
    "uid=alice,ou=people,dc=example,dc=com",
    "CN=Bob Smith,OU=Users,DC=corp,DC=example",
    "cn=,dc=",
    "=,=,\\,",
    "TLS",
    "GET",
    "23,80,443",
    "a,,b,70000,-1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "curl/8.5.0",
    "incident:sshlogin:ab:192.0.2.7:1793607245",
    "incident:x:ab:2001:db8::1:17",
    "incident:::::",
    "\u{0}",
    "\u{feff}",
    "e\u{301}\u{202e}",
    "\r\n",
    "\u{1F980}",
    "console-audit",
    "{\"logtype\":4002,\"logdata\":{\"USERNAME\":\"root\"}}",
    "<130>1 2024-05-01T10:15:31.5+00:00 canary - - - [BasicIncidentDetails@51136 eventid=\"4002\"] x",
];

/// Numbers no JSON number type holds, written into the text in place of
/// their marker strings (see [`raw_numbers`]).
/// (`1e400` is no such number: simd-json and serde_json refuse it as out of
/// range, so it is among the garbage lines instead.)
const RAW_NUMBERS: &[&str] = &[
    "123456789012345678901234567890",
    "-99999999999999999999",
    "1e-400",
    "-0",
    "0.0000000000000000000000000000001",
    "1E+2",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => select(&[i64::MIN, i64::MAX, 0, -1, 1 << 53, (1 << 53) + 1, 100_000_000_000][..])
            .prop_map(Value::from),
        1 => any::<f64>().prop_filter("JSON has no NaN or infinity", |f| f.is_finite()).prop_map(Value::from),
        1 => select(&[1e300, -0.0, 5e-324, 1.5, 1793607245.5, 45.75][..]).prop_map(Value::from),
        1 => (0..RAW_NUMBERS.len()).prop_map(|i| Value::from(format!("@@raw{i}@@"))),
        4 => select(STRINGS).prop_map(Value::from),
        2 => ".{0,24}".prop_map(Value::from),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(KEYS).prop_map(str::to_owned),
        1 => "[a-zA-Z_]{1,8}",
        1 => ".{0,6}",
    ]
}

/// JSON values biased towards Canary-looking keys and values.
fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..8)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// Keys that decide what an object is taken for; the shaped records below
/// set them themselves.
const RESERVED: &[&str] = &[
    "incidents",
    "audit_trail",
    "description",
    "event_type",
    "incident_id",
    "record_id",
    "id",
    "hash_id",
    "events",
    "seq",
];

/// Canary-looking members that do not change what their object is.
fn members() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((key(), json_value()), 0..10).prop_map(|members| {
        members.into_iter().filter(|(key, _)| !RESERVED.contains(&key.as_str())).collect()
    })
}

/// `object` with the members of `more` added (replacing any of the same key).
fn merged(mut object: Map<String, Value>, more: Value) -> Map<String, Value> {
    if let Value::Object(more) = more {
        object.extend(more);
    }
    object
}

fn with(object: Map<String, Value>, more: Value) -> Value {
    Value::Object(merged(object, more))
}

/// A flattened record of any kind.
fn flat_record() -> impl Strategy<Value = Value> {
    (members(), select(&["event", "incident", "audit"][..]), select(STRINGS)).prop_map(
        |(members, kind, incident)| match kind {
            "audit" => with(members, json!({"event_type": "audit", "id": incident})),
            _ => with(members, json!({"event_type": kind, "incident_id": incident})),
        },
    )
}

fn raw_incident() -> impl Strategy<Value = Value> {
    let event = prop_oneof![3 => members().prop_map(Value::Object), 1 => json_value()];
    (members(), members(), prop::collection::vec(event, 0..5), json_value()).prop_map(
        |(top, description, events, id)| {
            let description = with(description, json!({"events": events}));
            with(top, json!({"id": id, "hash_id": "ab12", "description": description}))
        },
    )
}

/// An OpenCanary line: a numeric logtype and a `logdata` object.
fn opencanary_line() -> impl Strategy<Value = Value> {
    let logtype = prop_oneof![
        select(&[1001u64, 2000, 3001, 4002, 5001, 17001, 99999][..]).prop_map(Value::from),
        select(&["4002", "0", "18446744073709551615"][..]).prop_map(Value::from),
    ];
    (members(), members(), logtype).prop_map(|(line, logdata, logtype)| {
        with(line, json!({"logtype": logtype, "logdata": logdata}))
    })
}

/// A webhook payload of the console (incident or audit), or of a
/// canarytokens server.
fn webhook_payload() -> impl Strategy<Value = Value> {
    (members(), members(), 0..4).prop_map(|(payload, details, kind)| match kind {
        0 => with(
            payload,
            json!({"AlertType": "CanaryIncident", "AdditionalDetails": [["k", details]]}),
        ),
        1 => with(payload, json!({"Description": "x", "Token": "t"})),
        2 => json!({"type": "console-audit", "payload": payload}),
        _ => with(payload, json!({"channel": "HTTP", "manage_url": "https://x/"})),
    })
}

/// Any JSON document, with the shapes canary-transform recognises well
/// represented so that the mapping, not only the dispatch, sees odd values.
fn document() -> impl Strategy<Value = Value> {
    let single = prop_oneof![
        json_value(),
        flat_record(),
        raw_incident(),
        opencanary_line(),
        webhook_payload(),
        // An OpenCanary line inside an envelope, as its webhook posts it.
        opencanary_line().prop_map(|line| json!({"message": line.to_string()})),
        prop::collection::vec(prop_oneof![raw_incident(), json_value()], 0..3)
            .prop_map(|incidents| json!({"incidents": incidents, "cursor": {"next": null}})),
        prop::collection::vec(prop_oneof![members().prop_map(Value::Object), json_value()], 0..3)
            .prop_map(|entries| json!({"audit_trail": entries})),
    ];
    prop_oneof![
        3 => single.clone(),
        1 => prop::collection::vec(single, 0..4).prop_map(Value::Array),
    ]
}

/// Documents as NDJSON or pretty-printed, with the numbers JSON values cannot
/// hold written in.
fn documents_text(documents: &[Value], pretty: bool) -> Vec<u8> {
    let mut text = String::new();
    for document in documents {
        let one = if pretty {
            serde_json::to_string_pretty(document)
        } else {
            serde_json::to_string(document)
        };
        text.push_str(&one.expect("a JSON value serializes"));
        text.push('\n');
    }
    raw_numbers(&text).into_bytes()
}

fn raw_numbers(text: &str) -> String {
    let mut text = text.to_owned();
    for (i, number) in RAW_NUMBERS.iter().enumerate() {
        text = text.replace(&format!("\"@@raw{i}@@\""), number);
    }
    text
}

fn documents_input() -> impl Strategy<Value = Vec<u8>> {
    (prop::collection::vec(document(), 1..5), any::<bool>())
        .prop_map(|(documents, pretty)| documents_text(&documents, pretty))
}

/// Pieces of syslog lines that a parser can trip on.
fn syslog_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        select(
            &[
                " ",
                "[",
                "]",
                "\"",
                "\\",
                "=",
                "-",
                "@51136",
                "BasicIncidentDetails@51136",
                "AdditionalIncidentDetails@51136",
                "AuditTrailDetails@51136",
                "eventid=\"4002\"",
                "2024-05-01T10:15:31.5+00:00",
                "{\"logtype\":1,\"logdata\":{}}",
                "\u{feff}",
            ][..]
        )
        .prop_map(str::to_owned),
        "[a-zA-Z0-9é]{0,4}",
    ]
}

// ---------------------------------------------------------------------------
// Input: NDJSON whose every line is one flat record or garbage.

/// One line of a generated NDJSON input.
#[derive(Clone, Debug)]
enum Line {
    /// A flat record, written with its line number n as its `record_id`
    /// (see [`line_id`]).
    Record(Value),
    /// Anything that is no record, on one line.
    Garbage(Vec<u8>),
    /// Whitespace only: skipped, neither a record nor a rejection.
    Blank(Vec<u8>),
}

const BOM: &[u8] = b"\xef\xbb\xbf";

/// Whether the reader would take `line` to open a document continued on the
/// next lines (its first non-blank byte opens one), which would then hold
/// more than this line.
fn may_open_document(line: &[u8]) -> bool {
    let line = line.strip_prefix(BOM).unwrap_or(line);
    matches!(line.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{' | b'['))
}

fn garbage() -> impl Strategy<Value = Vec<u8>> {
    // Values that are JSON but no Canary record, of every kind.
    const NOT_RECORDS: &[&str] = &[
        "{}",
        "null",
        "42",
        "-1e400",
        "{\"event_type\":\"event\",\"incident_id\":\"i\",\"x\":1e400}",
        "\"event\"",
        "{\"event_type\":\"alert\",\"incident_id\":\"incident:x\"}",
        "{\"event_type\":\"event\"}",
        "{\"event_type\":\"event\",\"incident_id\":5}",
        "{\"event_type\":7,\"incident_id\":\"i\"}",
        "{\"event_type\":\"audit\",\"action_type\":\"user_login\"}",
        "{\"incidents\":\"none\"}",
        "{\"incidents\":[\"not an incident\"]}",
        "{\"audit_trail\":[{\"action_type\":\"no id\"}]}",
        "{\"description\":{\"events\":[]}}",
        "{\"id\":5,\"hash_id\":\"\",\"description\":{\"events\":[{}]}}",
        "[\"one line, one value\"]",
        "{\"event_type\":\"event\",\"incident_id\":\"i\"}}",
    ];
    prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 1..80)
            .prop_map(|mut bytes| {
                bytes.retain(|b| *b != b'\n');
                bytes
            })
            .prop_filter("one line that reads as a document of its own", |bytes| {
                !bytes.iter().all(u8::is_ascii_whitespace) && !may_open_document(bytes)
            }),
        2 => select(NOT_RECORDS).prop_map(|text| text.as_bytes().to_vec()),
        // A record cut short, then a control character, which JSON allows
        // neither in nor out of a string, and a closing brace so the line
        // ends a document.
        2 => (flat_record(), any::<prop::sample::Index>(), 0u8..0x08).prop_map(|(record, cut, byte)| {
            let text = raw_numbers(&record.to_string()).into_bytes();
            let mut line = text[..1 + cut.index(text.len() - 1)].to_vec();
            line.extend_from_slice(&[byte, b'}']);
            line
        }),
    ]
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        4 => flat_record().prop_map(Line::Record),
        3 => garbage().prop_map(Line::Garbage),
        1 => prop::collection::vec(select(&[b' ', b'\t', b'\r', b'\x0c'][..]), 0..4)
            .prop_map(Line::Blank),
    ]
}

/// A line number as a record id: 32 hex digits, the only form a given
/// `record_id` is kept in as the `event.id`.
fn line_id(line: u64) -> String {
    format!("{line:032x}")
}

/// The NDJSON text of `lines`, each record carrying its line number in
/// `record_id`, which becomes its `event.id`.
fn ndjson(lines: &[Line], crlf: &[bool], bom: bool, last_newline: bool) -> Vec<u8> {
    let mut text = Vec::new();
    if bom {
        text.extend_from_slice(BOM);
    }
    for (i, line) in lines.iter().enumerate() {
        match line {
            Line::Record(record) => {
                let mut record = record.clone();
                record["record_id"] = Value::from(line_id(i as u64 + 1));
                text.extend_from_slice(raw_numbers(&record.to_string()).as_bytes());
            }
            Line::Garbage(bytes) | Line::Blank(bytes) => text.extend_from_slice(bytes),
        }
        if i + 1 < lines.len() || last_newline {
            text.extend_from_slice(if crlf[i % crlf.len()] { b"\r\n" } else { b"\n" });
        }
    }
    text
}

fn ndjson_input() -> impl Strategy<Value = (Vec<Line>, Vec<u8>)> {
    let lines = prop::collection::vec(line(), 1..12);
    let crlf = prop::collection::vec(any::<bool>(), 1..4);
    (lines, crlf, any::<bool>(), any::<bool>()).prop_map(|(lines, crlf, bom, last_newline)| {
        let text = ndjson(&lines, &crlf, bom, last_newline);
        (lines, text)
    })
}

/// Checks that each record line gave one event and each garbage line one
/// rejection, naming its line, and nothing else was written or rejected.
fn check_lines(lines: &[Line], outcome: &Outcome, events: &[Value]) {
    let mut written: BTreeMap<u64, usize> = BTreeMap::new();
    for event in events {
        let id = event_id(event);
        let line = u64::from_str_radix(id, 16).ok().filter(|_| id.len() == 32);
        let line = line.unwrap_or_else(|| panic!("an event no line asked for: {event}"));
        *written.entry(line).or_default() += 1;
    }
    let mut rejected: BTreeMap<u64, usize> = BTreeMap::new();
    for (line, _) in &outcome.rejected {
        *rejected.entry(*line).or_default() += 1;
    }
    for (i, line) in lines.iter().enumerate() {
        let n = i as u64 + 1;
        let (w, r) = (written.remove(&n).unwrap_or(0), rejected.remove(&n).unwrap_or(0));
        match line {
            Line::Record(_) => assert_eq!((w, r), (1, 0), "line {n} is a record: {line:?}"),
            Line::Garbage(_) => assert_eq!((w, r), (0, 1), "line {n} is garbage: {line:?}"),
            Line::Blank(_) => assert_eq!((w, r), (0, 0), "line {n} is blank"),
        }
    }
    assert!(
        written.is_empty() && rejected.is_empty(),
        "lines past the end: {written:?} {rejected:?}"
    );
    let records = lines.iter().filter(|l| matches!(l, Line::Record(_))).count() as u64;
    let garbage = lines.iter().filter(|l| matches!(l, Line::Garbage(_))).count() as u64;
    assert_eq!(
        outcome.counts,
        Counts { read: records + garbage, written: records, rejected: garbage }
    );
}

// ---------------------------------------------------------------------------
// Input: documents of many records, with the counts they must give.

/// A piece of a document and the records it must give. Every record in it
/// differs from every other (see [`number`]), so each has its own event.id.
#[derive(Clone, Debug)]
struct Part {
    value: Value,
    written: u64,
    rejected: u64,
}

impl Part {
    fn new(value: Value, written: u64, rejected: u64) -> Self {
        Part { value, written, rejected }
    }
}

/// Values that are never a record, nor an event, an incident or an audit
/// entry; each is rejected once wherever it stands.
fn not_a_record() -> impl Strategy<Value = Value> {
    prop_oneof![
        leaf(),
        Just(json!([])),
        Just(json!(["x"])),
        Just(json!({})),
        Just(json!({"event_type": "alert", "incident_id": "i"})),
        Just(json!({"summary": "no id", "description": {"events": [{}]}})),
    ]
}

fn incident_part() -> impl Strategy<Value = Part> {
    let event = prop_oneof![
        3 => members().prop_map(|m| Part::new(with(m, json!({"seq": "@@seq@@"})), 1, 0)),
        1 => leaf().prop_map(|v| Part::new(v, 0, 1)),
        1 => prop::collection::vec(leaf(), 0..3).prop_map(|v| Part::new(Value::Array(v), 0, 1)),
    ];
    let keyed = (members(), members(), prop::collection::vec(event, 0..6), any::<bool>()).prop_map(
        |(top, description, events, by_hash)| {
            let (written, rejected) =
                events.iter().fold((1, 0), |(w, r), e| (w + e.written, r + e.rejected));
            let events: Vec<Value> = events.into_iter().map(|e| e.value).collect();
            let description = with(description, json!({"events": events}));
            // The incident key, or only its hash as some consoles send.
            let key = if by_hash {
                json!({"id": null, "hash_id": "@@seq@@"})
            } else {
                json!({"id": "incident:sshlogin:@@seq@@:192.0.2.7:1793607245", "hash_id": "ab"})
            };
            let incident = with(merged(top, json!({"description": description})), key);
            Part::new(incident, written, rejected)
        },
    );
    prop_oneof![
        6 => keyed,
        // Events that are no list give the incident record alone.
        1 => json_value()
            .prop_filter("not a list", |v| !v.is_array())
            .prop_map(|events| Part::new(json!({"id": "incident:x:@@seq@@:192.0.2.1:1",
                "description": {"events": events}}), 1, 0)),
        // No usable key: one rejection, whatever its events.
        1 => Just(Part::new(json!({"id": 5, "hash_id": "", "description": {"events": [{}, {}]}}), 0, 1)),
    ]
}

fn flat_part() -> impl Strategy<Value = Part> {
    flat_record().prop_map(|mut record| {
        record["seq"] = Value::from("@@seq@@");
        // An incident record's id covers its state, not its other members:
        // its updated_id makes it a record of its own.
        record["updated_id"] = Value::from("@@seq@@");
        Part::new(record, 1, 0)
    })
}

fn page_part() -> impl Strategy<Value = Part> {
    let entry = prop_oneof![
        3 => incident_part(),
        1 => not_a_record().prop_map(|v| Part::new(v, 0, 1)),
    ];
    prop::collection::vec(entry, 0..4).prop_map(|entries| {
        let written = entries.iter().map(|e| e.written).sum();
        let rejected = entries.iter().map(|e| e.rejected).sum();
        let incidents: Vec<Value> = entries.into_iter().map(|e| e.value).collect();
        Part::new(json!({"incidents": incidents, "max_updated_id": 7}), written, rejected)
    })
}

fn audit_part() -> impl Strategy<Value = Part> {
    let entry = prop_oneof![
        3 => members().prop_map(|m| Part::new(with(m, json!({"id": "@@seq@@"})), 1, 0)),
        1 => not_a_record().prop_map(|v| Part::new(v, 0, 1)),
    ];
    prop::collection::vec(entry, 0..4).prop_map(|entries| {
        let written = entries.iter().map(|e| e.written).sum();
        let rejected = entries.iter().map(|e| e.rejected).sum();
        let entries: Vec<Value> = entries.into_iter().map(|e| e.value).collect();
        Part::new(json!({"audit_trail": entries}), written, rejected)
    })
}

fn multi_document() -> impl Strategy<Value = Part> {
    let single = prop_oneof![incident_part(), page_part(), audit_part(), flat_part()];
    let rejected = || not_a_record().prop_map(|v| Part::new(v, 0, 1));
    prop_oneof![
        3 => single.clone(),
        // A list standing alone is a list of documents, not a value in
        // one: `[]` holds no record.
        1 => rejected().prop_filter("no list", |p| !p.value.is_array()),
        1 => prop::collection::vec(prop_oneof![single, rejected()], 0..4).prop_map(|parts| {
            let written = parts.iter().map(|p| p.written).sum();
            let rejected = parts.iter().map(|p| p.rejected).sum();
            Part::new(Value::Array(parts.into_iter().map(|p| p.value).collect()), written, rejected)
        }),
    ]
}

/// Replaces each `@@seq@@` with the next number, so that no two records
/// are the same.
fn number(text: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(text.to_vec()).expect("serde_json writes UTF-8");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    let mut n = 0;
    while let Some(at) = rest.find("@@seq@@") {
        n += 1;
        out.push_str(&rest[..at]);
        out.push_str(&format!("seq-{n}"));
        rest = &rest[at + "@@seq@@".len()..];
    }
    out.push_str(rest);
    out.into_bytes()
}

// ---------------------------------------------------------------------------
// Input: records holding a credential somewhere.

/// Where a credential is put.
#[derive(Clone, Copy, Debug)]
enum Place {
    /// A member of a flat record.
    Record,
    /// A member of a raw incident's description (so of every event record).
    Description,
    /// A member of one event of a raw incident.
    Event,
    /// Nested in an object member of a flat record (headers, request
    /// arguments, geoip, anything).
    Nested(&'static str),
    /// Nested in a list in an object member.
    InList(&'static str),
}

fn place() -> impl Strategy<Value = Place> {
    const CONTAINERS: &[&str] =
        &["headers", "HEADERS", "request_args", "geoip", "ip_blocklist", "extra", "events"];
    prop_oneof![
        Just(Place::Record),
        Just(Place::Description),
        Just(Place::Event),
        select(CONTAINERS).prop_map(Place::Nested),
        select(CONTAINERS).prop_map(Place::InList),
    ]
}

/// The keys of `flatten::CREDENTIALS`, each in some mix of letter cases.
fn credential_key() -> impl Strategy<Value = String> {
    const CREDENTIAL_KEYS: &[&str] = &[
        "password",
        "client_hash",
        "salt",
        "key",
        "community_string",
        "server_challenge",
        "client_response",
        "vnc password",
        "vnc client response",
        "auth_data",
        "secret_string",
    ];
    (select(CREDENTIAL_KEYS), prop::collection::vec(any::<bool>(), 20)).prop_map(|(key, upper)| {
        key.chars()
            .zip(upper.iter().cycle())
            .map(|(c, up)| if *up { c.to_ascii_uppercase() } else { c })
            .collect()
    })
}

/// A record holding `secret` under `key` at `place`, with a web request's
/// members so that headers and request arguments are read.
fn holding(place: Place, key: &str, secret: Value, mut members: Map<String, Value>) -> Value {
    let web = json!({"logtype": "3001", "PATH": "/login", "HOSTNAME": "web.example.com",
        "USERAGENT": "curl/8.5.0", "src_host": "192.0.2.7"});
    members = merged(members, web);
    let member = json!({ key: secret });
    let flat = |members: Map<String, Value>| {
        with(members, json!({"event_type": "event", "incident_id": "incident:x:ab:192.0.2.7:1"}))
    };
    let incident =
        |description: Value| json!({"id": "incident:x:ab:192.0.2.7:1", "description": description});
    match place {
        Place::Record => flat(merged(members, member)),
        Place::Nested(container) => {
            members.insert(container.to_owned(), member);
            flat(members)
        }
        Place::InList(container) => {
            members.insert(container.to_owned(), json!([1, member]));
            flat(members)
        }
        Place::Description => {
            incident(with(merged(members, member), json!({"events": [{"n": 1}]})))
        }
        Place::Event => incident(with(members, json!({"events": [{"n": 1}, member]}))),
    }
}

// ---------------------------------------------------------------------------
// The properties.

proptest! {
    #![proptest_config(cases(300))]

    /// Any bytes at all: no panic, and every line out is an event.
    #[test]
    fn arbitrary_bytes(input in prop::collection::vec(any::<u8>(), 0..1024)) {
        events(&run(&input));
    }

    /// Bytes strung from what trips framing and parsing up.
    #[test]
    fn framing_and_parsing_bytes(input in framing_bytes()) {
        events(&run(&input));
    }

    /// Canary-looking JSON of any shape, compact or pretty-printed.
    #[test]
    fn arbitrary_json(input in documents_input()) {
        events(&run(&input));
    }

    /// Lines that start as the console's syslog lines do.
    #[test]
    fn syslog_like_lines(pieces in prop::collection::vec(syslog_piece(), 0..24)) {
        events(&run(format!("<130>1 {}\n", pieces.concat()).as_bytes()));
    }

    /// With one kind of input forced, the others are rejected, never lost.
    #[test]
    fn one_input_kind_forced(input in documents_input(), kind in select(&[
        Input::Api, Input::OpenCanary, Input::Webhook, Input::Syslog,
    ][..])) {
        let forced = run_on(&mut Transformer::new().with_input(kind), &input);
        events(&forced);
        if kind == Input::Syslog {
            prop_assert_eq!(forced.counts.written, 0, "JSON documents are no syslog lines");
        }
    }

    /// Worker threads change nothing but the speed: the same bytes and
    /// counts. (Their rejections are logged on their own threads, which the
    /// capture here does not see; the program's property below reads them.)
    #[test]
    fn workers_give_the_same_output(input in documents_input()) {
        let parallel = run_on(&mut Transformer::new().with_workers(2), &input);
        let single = run(&input);
        prop_assert_eq!(&parallel.out, &single.out);
        prop_assert_eq!(parallel.counts, single.counts);
    }

    /// `--max-line-bytes`: no line over it, the same events in the same
    /// order as without it, and those that fitted unchanged.
    #[test]
    fn lines_keep_to_the_cap(
        documents in prop::collection::vec(document(), 1..4),
        long in (key(), "[a-zé\"\\\\]{1,4}", 0usize..3000),
        pretty in any::<bool>(),
        cap in 4096usize..6000,
    ) {
        // A long member in each object, so some lines outgrow the cap.
        let (key, piece, times) = long;
        let documents: Vec<Value> = documents
            .into_iter()
            .map(|mut document| {
                if let Some(object) = document.as_object_mut() {
                    object.insert(key.clone(), Value::from(piece.repeat(times)));
                }
                document
            })
            .collect();
        let input = documents_text(&documents, pretty);
        let options = Options { keep_original: true, keep_credentials: true, ..Options::default() };
        let whole = run_on(&mut Transformer::with(Format::Ndjson, options), &input);
        let options = Options { max_line_bytes: cap, ..options };
        let capped = run_on(&mut Transformer::with(Format::Ndjson, options), &input);
        prop_assert_eq!(capped.counts, whole.counts);
        let whole_lines: Vec<&[u8]> = whole.out.split_inclusive(|b| *b == b'\n').collect();
        let capped_lines: Vec<&[u8]> = capped.out.split_inclusive(|b| *b == b'\n').collect();
        prop_assert_eq!(whole_lines.len(), capped_lines.len());
        for (whole, capped) in whole_lines.iter().zip(&capped_lines) {
            prop_assert!(capped.len() <= cap, "{} bytes over {cap}", capped.len());
            if whole.len() <= cap {
                prop_assert_eq!(whole, capped);
            } else {
                let (whole, capped): (Value, Value) =
                    (serde_json::from_slice(whole).unwrap(), serde_json::from_slice(capped).unwrap());
                prop_assert_eq!(&capped["thinkst_canary"]["truncated"], &Value::Bool(true));
                prop_assert_eq!(event_id(&capped), event_id(&whole));
            }
        }
    }

    /// Every option on: the kept original and the credentials stay valid
    /// JSON whatever the record holds.
    #[test]
    fn arbitrary_json_every_option(input in documents_input()) {
        let options = Options { keep_original: true, keep_credentials: true, ..Options::default() };
        let mut transformer = Transformer::with(Format::Ndjson, options);
        for event in events(&run_on(&mut transformer, &input)) {
            if let Some(original) = event["event"].get("original") {
                let original = original.as_str().expect("event.original is a string");
                let original: Value = serde_json::from_str(original).expect("event.original is JSON");
                prop_assert!(original.is_object());
            }
        }
    }

    /// The `_bulk` body: an action naming the index and the event's id,
    /// then the event, for each record written.
    #[test]
    fn es_bulk_pairs_actions_and_events(input in documents_input()) {
        let format = Format::es_bulk("canary-events").unwrap();
        let mut transformer = Transformer::with(format, Options::default());
        let outcome = run_on(&mut transformer, &input);
        prop_assert_eq!(outcome.counts.read, outcome.counts.written + outcome.counts.rejected);
        let lines: Vec<&[u8]> = outcome.out.split_inclusive(|b| *b == b'\n').collect();
        prop_assert_eq!(lines.len() as u64, 2 * outcome.counts.written);
        for pair in lines.chunks(2) {
            let action: Value = serde_json::from_slice(pair[0]).expect("action lines are JSON");
            let event = event(pair[1]);
            prop_assert_eq!(&action["create"]["_index"], "canary-events");
            prop_assert_eq!(action["create"]["_id"].as_str(), Some(event_id(&event)));
        }
    }

    /// The same input gives the same bytes, from a fresh transformer or from
    /// one that has seen other input first (its caches change nothing).
    #[test]
    fn output_is_deterministic(first in documents_input(), second in documents_input()) {
        let fresh = run(&second);
        prop_assert_eq!(&run(&second), &fresh);
        let mut reused = Transformer::new();
        run_on(&mut reused, &first);
        prop_assert_eq!(&run_on(&mut reused, &second), &fresh);
        prop_assert_eq!(&run_on(&mut reused, &second), &fresh);
    }

    /// The same for raw bytes, where most lines are rejected.
    #[test]
    fn output_is_deterministic_on_bytes(input in framing_bytes()) {
        let mut reused = Transformer::new();
        let fresh = run(&input);
        prop_assert_eq!(&run_on(&mut reused, &input), &fresh);
        prop_assert_eq!(&run_on(&mut reused, &input), &fresh);
    }

    /// NDJSON of flat records, garbage and blank lines, with CRLF, a BOM or
    /// no final newline: each record line is written once and each garbage
    /// line rejected once, as the events' ids and the rejections' line
    /// numbers show.
    #[test]
    fn every_line_is_written_or_rejected((lines, input) in ndjson_input()) {
        let outcome = run(&input);
        let events = events(&outcome);
        check_lines(&lines, &outcome, &events);
    }

    /// Incidents with many events, feed pages, audit pages and arrays of
    /// them, compact or pretty: the counts are the records they hold, and
    /// no record is written twice.
    #[test]
    fn documents_of_many_records_are_counted(
        parts in prop::collection::vec(multi_document(), 1..4),
        pretty in any::<bool>(),
    ) {
        let values: Vec<Value> = parts.iter().map(|p| p.value.clone()).collect();
        let input = number(&documents_text(&values, pretty));
        let outcome = run(&input);
        let events = events(&outcome);
        let written: u64 = parts.iter().map(|p| p.written).sum();
        let rejected: u64 = parts.iter().map(|p| p.rejected).sum();
        prop_assert_eq!(outcome.counts, Counts { read: written + rejected, written, rejected });
        let ids: BTreeSet<&str> = events.iter().map(event_id).collect();
        prop_assert_eq!(ids.len(), events.len(), "each record once");
    }

    /// A credential's value, under any credential key at any depth, is in
    /// no output line unless --keep-credentials asks for it; with
    /// --keep-credentials it is kept wherever it was, beside any other
    /// credentials of the record, even under a key that folds to the same
    /// lower case (so the search for it can find it).
    #[test]
    fn credentials_never_leak(
        place in place(),
        key in credential_key(),
        secret in "[A-Za-z0-9]{12}".prop_map(|s| format!("s3cr3t-{s}")),
        shape in 0..3,
        members in members(),
    ) {
        prop_assert!(flatten::is_credential(&key), "{key} is a credential");
        let value = match shape {
            0 => Value::from(secret.clone()),
            1 => json!([secret]),
            _ => json!({"value": secret}),
        };
        let input = documents_text(&[holding(place, &key, value, members)], false);
        for options in [
            Options::default(),
            Options { keep_original: true, ..Options::default() },
        ] {
            let outcome = run_on(&mut Transformer::with(Format::Ndjson, options), &input);
            prop_assert!(outcome.counts.written > 0, "the record is written");
            let text = String::from_utf8_lossy(&outcome.out);
            prop_assert!(!text.contains(&secret), "{secret} leaked ({options:?}): {text}");
        }
        {
            let options = Options { keep_credentials: true, ..Options::default() };
            let outcome = run_on(&mut Transformer::with(Format::Ndjson, options), &input);
            let text = String::from_utf8_lossy(&outcome.out);
            prop_assert!(text.contains(&secret), "kept when asked: {text}");
        }
    }
}

proptest! {
    #![proptest_config(cases(16))]

    /// The line accounting through the real program, its rejections read
    /// from its JSON log and its counts from the summary line.
    #[test]
    fn the_program_accounts_for_every_line((lines, input) in ndjson_input()) {
        let output = common::transform(&["--log-format", "json"], &input);
        prop_assert!(output.status.success());
        let stderr: Vec<Value> = output
            .stderr
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).expect("log lines are JSON"))
            .collect();
        let rejected = rejections(&output.stderr);
        let summary = stderr.iter().find(|e| e["message"] == "Finished.").expect("a summary");
        let counts = Counts {
            read: summary["read"].as_u64().unwrap(),
            written: summary["written"].as_u64().unwrap(),
            rejected: summary["rejected"].as_u64().unwrap(),
        };
        let outcome = Outcome { out: output.stdout, counts, rejected };
        let events = events(&outcome);
        check_lines(&lines, &outcome, &events);
    }
}
