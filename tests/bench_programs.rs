//! The jq and VRL programs of `benches/compare.sh` against canary-transform.
//!
//! compare.sh times `benches/sekoia.jq` and `benches/sekoia.vrl` as doing the
//! Sekoia-parity part of canary-transform's mapping. On the same records,
//! every field they claim (their header comments say which) must hold
//! canary-transform's value or be absent from both, and they must write no
//! other field. The records: Sekoia's intake cases
//! (`../shared/fixtures/sekoia-intake`, skipped with a note when absent),
//! generated incidents' records, one record per console logtype, and a few
//! written here for the forms of hosts, keys and bind names. jq must be
//! installed; the VRL program runs when `vrl` is on PATH or `VRL` names it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use canary_pipe::demo::generate;
use canary_pipe::ecs::logtype;
use canary_pipe::flatten::{self, Origin};
use serde_json::{Value, json};
use simd_json::prelude::*;

mod common;
use common::{json_lines, stderr, transform};

/// The fields both programs write, as dotted paths; a list is one value.
const FIELDS: [&str; 47] = [
    "@timestamp",
    "event.kind",
    "event.category",
    "event.type",
    "event.code",
    "event.reason",
    "event.dataset",
    "event.action",
    "event.start",
    "observer.vendor",
    "observer.product",
    "source.address",
    "source.ip",
    "source.port",
    "source.domain",
    "source.geo.city_name",
    "source.geo.continent_code",
    "source.geo.timezone",
    "destination.address",
    "destination.ip",
    "destination.domain",
    "destination.port",
    "destination.nat.ip",
    "user.name",
    "user.domain",
    "user_agent.original",
    "url.path",
    "url.original",
    "http.request.method",
    "http.response.status_code",
    "tls.established",
    "process.name",
    "file.name",
    "file.size",
    "action.properties.ShareName",
    "action.properties.Domain",
    "action.properties.UserName",
    "related.ip",
    "related.hosts",
    "related.user",
    "thinkst_canary.incident_id",
    "thinkst_canary.canary_token",
    "thinkst_canary.smbarch",
    "thinkst_canary.smbver",
    "thinkst_canary.db",
    "thinkst_canary.repo",
    "thinkst_canary.ports",
];

/// Generated incidents read, and records kept of each: the first records
/// of many incidents vary more than all of a few (a brute force repeats
/// one event up to 40 times).
const INCIDENTS: usize = 500;
const RECORDS_PER_INCIDENT: usize = 4;

/// Misses printed in full; the rest are counted.
const SHOWN: usize = 30;

/// One input line and where it comes from, for the report.
struct Case {
    label: String,
    line: String,
}

#[test]
fn jq_program_writes_what_canary_transform_writes() {
    let cases = cases();
    let expected = canary_transform(&cases);
    let output = run(
        Command::new("jq").args(["-c", "-f"]).arg(program("sekoia.jq")),
        &input(&cases),
        "jq (apt-get install jq)",
    );
    assert_matches("jq", &cases, &expected, &output);
}

#[test]
fn vrl_program_writes_what_canary_transform_writes() {
    let Some(vrl) = vrl() else {
        eprintln!("note: no vrl on PATH and VRL unset, benches/sekoia.vrl not checked");
        return;
    };
    let cases = cases();
    let expected = canary_transform(&cases);
    // vrl reads its events from a file only.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), input(&cases)).unwrap();
    let output = run(
        Command::new(&vrl)
            .arg("--input")
            .arg(file.path())
            .arg("--program")
            .arg(program("sekoia.vrl"))
            .args(["--print-object", "--quiet"]),
        b"",
        &vrl.display().to_string(),
    );
    assert_matches("vrl", &cases, &expected, &output);
}

fn program(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches").join(name)
}

/// The `vrl` command: `VRL` when set, else the one on PATH.
fn vrl() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("VRL").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join("vrl")).find(|file| file.is_file())
}

fn cases() -> Vec<Case> {
    let mut cases = intake_cases();
    cases.extend(generated_cases());
    cases.extend(logtype_cases());
    cases.extend(written_cases());
    cases
}

/// The records of Sekoia's intake test cases, when `../shared` is there.
fn intake_cases() -> Vec<Case> {
    common::sekoia_intake_cases()
        .into_iter()
        .map(|(name, case)| {
            let message = case["input"]["message"].as_str().expect("input.message is a string");
            // One line, whatever the message's layout.
            let record: Value = serde_json::from_str(message).unwrap();
            Case { label: format!("intake case {name}"), line: record.to_string() }
        })
        .collect()
}

/// Records of generated incidents, as `generate-records` writes them.
fn generated_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for index in 0..INCIDENTS {
        let mut bytes = serde_json::to_vec(&generate::incident(index, 1)).unwrap();
        let value = simd_json::to_borrowed_value(&mut bytes).unwrap();
        let incident = value.as_object().expect("generated incidents are objects");
        let records = flatten::incident_records(incident).unwrap();
        for (n, record) in records.iter().take(RECORDS_PER_INCIDENT).enumerate() {
            let mut line = Vec::new();
            record.write_json(&mut line, Some(&flatten::record_id(record))).unwrap();
            line.pop();
            cases.push(Case {
                label: format!("generated incident {index}, record {n}"),
                line: String::from_utf8(line).unwrap(),
            });
        }
    }
    cases
}

/// Each console logtype once, with the keys its table entry acts on: an
/// SMB or TFTP write adds `change`, an MSSQL HOSTNAME names the client.
fn logtype_cases() -> Vec<Case> {
    logtype::table(Origin::Console)
        .iter()
        .map(|(code, _)| Case {
            label: format!("logtype {code}"),
            line: json!({
                "incident_id": "incident:x:0123abcd:2001:db8::7:1720684078",
                "event_type": "event",
                "logtype": code.to_string(),
                "OPCODE": "write",
                "HOSTNAME": "192.0.2.5",
                "WORKSTATION": "WKS-7",
                "timestamp": 1720684078,
            })
            .to_string(),
        })
        .collect()
}

/// Forms the other records do not all hold, with documentation addresses.
fn written_cases() -> Vec<Case> {
    let records = [
        // A non-canonical IPv6 source, a key cut short of its epoch, a port
        // and times as text with blanks, milliseconds.
        json!({"incident_id": "incident:x:ab12:2001:db8::25", "event_type": "event",
               "logtype": 4002, "src_host": "2001:DB8:0:0:0:0:0:1", "src_port": " 50122 ",
               "dst_host": "192.0.2.10", "USERNAME": "admin", "timestamp": 1714558530123_u64,
               "created": " 1714558530 "}),
        // Hosts with ports and a trailing dot, a web request's URL built from
        // its Host header, a query left out of url.path, headers in lower case.
        json!({"incident_id": "incident:x:ab12:::1:1714558530", "event_type": "event",
               "logtype": "3000", "src_host": "192.0.2.1:8080", "dst_host": "[2001:db8::1]:443",
               "HOSTNAME": "Nas.Example.com.", "PATH": "/index.html?lang=en", "CHANNEL": "tls",
               "RESPONSE": "OK", "headers": {"user-agent": "curl/8.7.1", "host": "nas.example.com"},
               "timestamp": "1714558530"}),
        // A token's query from its request arguments; SIP-style header lists.
        json!({"incident_id": "i", "event_type": "event", "logtype": "17000", "PATH": "/x",
               "HEADERS": {"User-Agent": ["sip/1", "x"], "Host": ["h.example"]},
               "request_args": {"a b": "c~d*e(f)!'g/é&=", "n": 5}}),
        // Proxy requests: a CONNECT target, an IPv6 one, an IP host.
        json!({"incident_id": "i", "event_type": "event", "logtype": "7001",
               "URL": "intranet.Example.com:443"}),
        json!({"incident_id": "i", "event_type": "event", "logtype": "7001",
               "URL": "[2001:DB8::5]:8443"}),
        json!({"incident_id": "i", "event_type": "event", "logtype": "7001",
               "URL": "https://192.0.2.44/a"}),
        // Bind names: Active Directory, escapes, uid over cn, account forms.
        json!({"incident_id": "i", "event_type": "event", "logtype": "31001",
               "DN": "CN=Roe\\, Jane,OU=Staff,DC=Corp,DC=Example,DC=com"}),
        json!({"incident_id": "i", "event_type": "event", "logtype": "31001",
               "DN": "cn=Jos\\C3\\A9+uid=jdoe,dc=example , dc=com"}),
        json!({"incident_id": "i", "event_type": "event", "logtype": "31001",
               "DN": "cn=\"Roe, Jane\", dc=example , dc=com"}),
        json!({"incident_id": "i", "event_type": "event", "logtype": "31001",
               "DN": "jdoe@corp.example.com"}),
        json!({"incident_id": "i", "event_type": "event", "logtype": "31001",
               "DN": "CORP\\jdoe", "DOMAIN": "X"}),
        // A consolidated scan's targets, a padded public IP, an IPv4-mapped
        // source, numbers where text is expected.
        json!({"incident_id": "i", "event_type": "event", "logtype": "5007",
               "src_host": "::ffff:192.0.2.1", "dst_host": "10.0.0.1",
               "dst_host_public_ip": " 203.0.113.5 ", "80": ["10.0.0.2", " 10.0.0.3 ", "bad"],
               "443": ["10.0.0.1"], "70000": ["10.9.9.9"]}),
        json!({"incident_id": "i", "event_type": "event", "logtype": "2000", "src_host": "::",
               "USERNAME": 5, "USER": "5", "SMBARCH": 11, "SIZE": "+12"}),
        // No source but the geoip's address, and a timezone given as text.
        json!({"incident_id": "i", "event_type": "event", "logtype": "99999", "cmd": "ls",
               "geoip": {"timezone": "Europe/Paris", "city": 5, "ip": "198.51.100.1"}}),
    ];
    records
        .iter()
        .enumerate()
        .map(|(n, record)| Case { label: format!("written record {n}"), line: record.to_string() })
        .collect()
}

fn input(cases: &[Case]) -> Vec<u8> {
    cases.iter().flat_map(|case| [case.line.as_bytes(), b"\n"].concat()).collect()
}

/// canary-transform's document for each case.
fn canary_transform(cases: &[Case]) -> Vec<Value> {
    let output = transform(&[], &input(cases));
    assert!(output.status.success(), "{}", stderr(&output));
    let documents = json_lines(&output);
    assert_eq!(documents.len(), cases.len(), "canary-transform rejected records");
    documents
}

/// Runs a program with `stdin`; every JSON value it prints, in order.
fn run(command: &mut Command, stdin: &[u8], what: &str) -> Vec<Value> {
    use std::io::Write;

    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    // Written from a thread: jq writes while it reads, and would block on
    // a full stdout pipe that is read only once stdin is written.
    let mut pipe = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || pipe.write_all(&stdin));
    let output: Output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success(), "{what} failed: {}", stderr(&output));
    // vrl prints each object on one line but not as compact JSON.
    serde_json::Deserializer::from_slice(&output.stdout)
        .into_iter::<Value>()
        .map(|value| value.expect("the program prints JSON"))
        .collect()
}

fn assert_matches(name: &str, cases: &[Case], expected: &[Value], got: &[Value]) {
    assert_eq!(
        got.len(),
        cases.len(),
        "{name} wrote {} objects for {} records",
        got.len(),
        cases.len()
    );
    let mut misses = Vec::new();
    for ((case, want), have) in cases.iter().zip(expected).zip(got) {
        for field in FIELDS {
            let pointer = format!("/{}", field.replace('.', "/"));
            let (want, have) = (want.pointer(&pointer), have.pointer(&pointer));
            if want != have {
                misses.push(format!(
                    "{}: {field}: canary-transform {}, {name} {}\n    {}",
                    case.label,
                    shown(want),
                    shown(have),
                    case.line
                ));
            }
        }
        for field in leaves(have, "") {
            if !FIELDS.contains(&field.as_str()) {
                misses.push(format!("{}: {name} writes {field}, not in FIELDS", case.label));
            }
        }
    }
    let total = misses.len();
    misses.truncate(SHOWN);
    assert!(
        total == 0,
        "{total} fields of {name}'s output differ from canary-transform's ({} records){}:\n{}",
        cases.len(),
        if total > SHOWN { format!(", the first {SHOWN}") } else { String::new() },
        misses.join("\n")
    );
}

fn shown(value: Option<&Value>) -> String {
    value.map_or_else(|| "nothing".to_owned(), Value::to_string)
}

/// The dotted paths of a document's values that are not objects.
fn leaves(value: &Value, prefix: &str) -> Vec<String> {
    let Some(fields) = value.as_object() else { return vec![prefix.to_owned()] };
    fields
        .iter()
        .flat_map(|(key, value)| {
            let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
            leaves(value, &path)
        })
        .collect()
}
