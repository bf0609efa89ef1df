//! canary-transform, run as a program on every input shape and on bad input.

use std::io::Write;
use std::process::{Command, Stdio};

use canary_pipe::demo;
use serde_json::{Value, json};

mod common;
use common::{json_lines as lines, stderr, summary, transform};

fn incident_id(event: &Value) -> &str {
    event["thinkst_canary"]["incident_id"].as_str().unwrap()
}

/// The demo incidents as a feed page, a pretty-printed array, and NDJSON of
/// raw incidents and of flattened records: all must give the same events.
#[test]
fn every_input_shape_gives_the_same_events() {
    let incidents = demo::builtin_incidents();
    let page =
        serde_json::to_vec_pretty(&json!({"incidents": incidents, "result": "success"})).unwrap();
    let array = serde_json::to_vec_pretty(&incidents).unwrap();
    let raw_lines: Vec<u8> = incidents
        .iter()
        .flat_map(|i| {
            let mut line = serde_json::to_vec(i).unwrap();
            line.push(b'\n');
            line
        })
        .collect();

    let from_page = transform(&[], &page);
    assert!(from_page.status.success(), "{}", stderr(&from_page));
    let expected = lines(&from_page);
    let records: usize = incidents
        .iter()
        .map(|i| 1 + i["description"]["events"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(expected.len(), records);
    assert_eq!(summary(&from_page), (records as u64, records as u64, 0));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("page.json");
    std::fs::write(&file, &page).unwrap();
    let from_file = transform(&[file.to_str().unwrap()], b"");
    assert_eq!(lines(&from_file), expected);

    assert_eq!(lines(&transform(&[], &array)), expected);
    assert_eq!(lines(&transform(&["-"], &raw_lines)), expected);

    // Flatten with the library, then feed the flat records line by line, and
    // as one array.
    let mut flat = Vec::new();
    for incident in &incidents {
        let mut bytes = serde_json::to_vec(incident).unwrap();
        let value = simd_json::to_borrowed_value(&mut bytes).unwrap();
        let object = simd_json::prelude::ValueAsObject::as_object(&value).unwrap();
        for record in canary_pipe::flatten::incident_records(object).unwrap() {
            record.write_json(&mut flat, None).unwrap();
        }
    }
    assert_eq!(lines(&transform(&[], &flat)), expected);
    let as_array: Vec<Value> = flat
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(lines(&transform(&[], &serde_json::to_vec(&as_array).unwrap())), expected);
}

#[test]
fn bad_input_is_rejected_line_by_line_and_counted() {
    let good = r#"{"incident_id":"incident:sshlogin:ab:192.0.2.7:1720684078","event_type":"event","logtype":"4002","src_host":"192.0.2.7","timestamp":1720684081}"#;
    let input = format!(
        "{good}\nnot json at all\n[1, 2]\n{{\"some\": \"object\"}}\n{{\"incident_id\": \"x\", \"event_type\": \"alert\"}}\n{{\"cut\": \n{good}\n\"a string\"\n"
    );
    let output = transform(&[], input.as_bytes());
    assert_eq!(output.status.code(), Some(0), "rejections alone do not fail a run");
    let events = lines(&output);
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| incident_id(e) == "incident:sshlogin:ab:192.0.2.7:1720684078"));

    let log = stderr(&output);
    let rejected: Vec<&str> = log.lines().filter(|l| l.contains("Record rejected.")).collect();
    // Line 3 holds two non-objects; the cut document at line 6 is one.
    assert_eq!(rejected.len(), 7, "{log}");
    for (line, reason) in [
        (2, "not JSON"),
        (3, "not a JSON object"),
        (4, "not a Canary record"),
        (5, "not a Canary record"),
        (6, "not closed"),
        (8, "not a JSON object"),
    ] {
        assert!(
            rejected.iter().any(|l| l.contains(&format!("line={line} ")) && l.contains(reason)),
            "no rejection of line {line} for {reason:?} in:\n{log}"
        );
    }
    assert_eq!(summary(&output), (9, 2, 7));

    let strict = transform(&["--strict"], input.as_bytes());
    assert_eq!(strict.status.code(), Some(65));
    assert_eq!(lines(&strict).len(), 2, "--strict still writes every good record");
}

#[test]
fn a_missing_file_is_reported_and_the_others_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one.json");
    std::fs::write(&file, r#"{"incident_id":"incident:x:1:192.0.2.1:1","event_type":"incident","summary":"s","timestamp":"1"}"#).unwrap();
    let missing = dir.path().join("missing.json");
    let output = transform(&[missing.to_str().unwrap(), file.to_str().unwrap()], b"");
    assert_eq!(output.status.code(), Some(66));
    assert_eq!(lines(&output).len(), 1);
    assert!(stderr(&output).contains("missing.json"));
}

#[test]
fn incidents_without_events_or_counts_do_not_crash() {
    let input = br#"{"id":"incident:devicedied:ab::1","description":{"logtype":"1004"}}
{"id":"incident:x:cd:192.0.2.4:1","summary":"S","description":{"events":"not a list"}}
{"hash_id":"0123","description":{"events":[{"timestamp":1},42]}}
"#;
    let output = transform(&[], input);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(lines(&output).len(), 4);
    // The event that is not an object is accounted for, not dropped.
    assert_eq!(summary(&output), (5, 4, 1));
    assert!(stderr(&output).contains("event is not an object"));
}

#[test]
fn a_byte_order_mark_and_windows_line_ends_are_read() {
    let page =
        serde_json::to_string_pretty(&json!({"incidents": demo::builtin_incidents()})).unwrap();
    let mut input = b"\xef\xbb\xbf".to_vec();
    input.extend_from_slice(page.replace('\n', "\r\n").as_bytes());
    let output = transform(&["--strict"], &input);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(lines(&output), lines(&transform(&[], page.as_bytes())));
}

/// A byte that is not UTF-8 is named with its offset, not "at character 0".
#[test]
fn invalid_utf8_is_reported_where_it_is() {
    let output = transform(&[], b"{\"incident_id\":\"\xff\"}\n");
    assert_eq!(summary(&output), (1, 0, 1));
    let log = stderr(&output);
    assert!(log.contains("line=1 ") && log.contains("not UTF-8: byte 0xff at offset 16"), "{log}");
}

/// An event over `--max-line-bytes` is written shorter and named in a
/// warning; the events around it are untouched, and each is counted.
#[test]
fn long_events_are_written_within_the_line_cap() {
    let event = |path: &str| {
        json!({"incident_id": "incident:http:ab:192.0.2.7:1", "event_type": "event",
            "logtype": "3000", "timestamp": 1_700_000_000, "src_host": "192.0.2.7",
            "PATH": path, "USERAGENT": "curl/8.5.0"})
    };
    let long = format!("/{}", "a".repeat(20_000));
    let input = format!("{}\n{}\n{}\n", event("/a"), event(&long), event("/b"));
    for format in [&[][..], &["--format", "es-bulk", "--index", "canary"]] {
        let capped = transform(&[format, &["--max-line-bytes", "4096"]].concat(), input.as_bytes());
        let whole = transform(format, input.as_bytes());
        assert_eq!(summary(&capped), (3, 3, 0));
        let capped_lines: Vec<&str> =
            std::str::from_utf8(&capped.stdout).unwrap().lines().collect();
        let whole_lines: Vec<&str> = std::str::from_utf8(&whole.stdout).unwrap().lines().collect();
        assert_eq!(capped_lines.len(), whole_lines.len());
        let mut cut = Vec::new();
        for (capped, whole) in capped_lines.iter().zip(&whole_lines) {
            assert!(capped.len() < 4096, "{} bytes", capped.len());
            if capped != whole {
                cut.push(serde_json::from_str::<Value>(capped).unwrap());
            }
        }
        assert_eq!(cut.len(), 1, "{format:?}");
        assert_eq!(cut[0]["thinkst_canary"]["truncated"], true);
        assert!(cut[0]["url"]["path"].as_str().unwrap().starts_with("/aaaa"));
        let log = stderr(&capped);
        assert!(
            log.contains("Event longer than --max-line-bytes") && log.contains("line=2 "),
            "{log}"
        );
    }
    let refused = transform(&["--max-line-bytes", "4095"], b"");
    assert_eq!(refused.status.code(), Some(2));
}

#[test]
fn a_folder_named_as_input_is_reported_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one.json");
    std::fs::write(&file, r#"{"incident_id":"incident:x:1:192.0.2.1:1","event_type":"incident","summary":"s","timestamp":"1"}"#).unwrap();
    let output = transform(&[dir.path().to_str().unwrap(), file.to_str().unwrap()], b"");
    assert_eq!(output.status.code(), Some(66), "{}", stderr(&output));
    assert_eq!(lines(&output).len(), 1);
}

#[test]
fn output_is_flushed_when_the_input_pauses() {
    use std::io::BufRead;

    let mut child = Command::new(env!("CARGO_BIN_EXE_canary-transform"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let record = r#"{"incident_id":"incident:x:ab:192.0.2.7:1","event_type":"incident","summary":"S","timestamp":"1"}"#;
    for _ in 0..2 {
        // stdin stays open: the event must come out while the next input is
        // awaited, not at the end.
        writeln!(stdin, "{record}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let event: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(incident_id(&event), "incident:x:ab:192.0.2.7:1");
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn elasticsearch_bulk_output_pairs_actions_and_events() {
    let page = serde_json::to_vec(&json!({"incidents": demo::builtin_incidents()})).unwrap();
    let plain = lines(&transform(&[], &page));
    let output = transform(&["--format", "es-bulk", "--index", "canary-events"], &page);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(output.stdout.ends_with(b"\n"), "a _bulk body ends with a newline");
    let bulk = lines(&output);
    assert_eq!(bulk.len(), plain.len() * 2);
    for (pair, event) in bulk.chunks(2).zip(&plain) {
        assert_eq!(pair[0]["create"]["_index"], "canary-events");
        assert_eq!(pair[0]["create"]["_id"], event["event"]["id"]);
        assert_eq!(&pair[1], event);
    }

    let bad = transform(&["--format", "es-bulk", "--index", "Canary Events"], b"");
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("not valid for Elasticsearch"));
    let missing = transform(&["--format", "es-bulk"], b"");
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn credentials_stay_out_unless_asked_and_originals_are_redacted() {
    let record = br#"{"incident_id":"incident:mysqllogin:ab:192.0.2.7:1","event_type":"event","logtype":"8001","USERNAME":"sa","PASSWORD":"Winter2026!","CLIENT_HASH":"00aa11bb","SALT":"5a17","timestamp":1720684081,"extra":{"password":"nested-secret"}}"#;
    let secrets = ["Winter2026!", "00aa11bb", "5a17", "nested-secret"];

    let plain = transform(&[], record);
    let text = String::from_utf8(plain.stdout.clone()).unwrap();
    assert!(secrets.iter().all(|s| !text.contains(s)), "{text}");

    let kept = transform(&["--keep-original"], record);
    let text = String::from_utf8(kept.stdout.clone()).unwrap();
    assert!(secrets.iter().all(|s| !text.contains(s)), "{text}");
    let event = &lines(&kept)[0];
    let original: Value =
        serde_json::from_str(event["event"]["original"].as_str().unwrap()).unwrap();
    assert_eq!(original["USERNAME"], "sa");
    assert_eq!(original["PASSWORD"], "[REDACTED]");
    assert_eq!(original["extra"]["password"], "[REDACTED]");

    let opted_in = lines(&transform(&["--keep-credentials"], record));
    let credentials = &opted_in[0]["thinkst_canary"]["credentials"];
    assert_eq!(credentials["password"], "Winter2026!");
    assert_eq!(credentials["client_hash"], "00aa11bb");
    assert!(opted_in[0]["user"].get("password").is_none());
}

/// `--keep-credentials` keeps every credential of a record: nested ones
/// under their path, and two keys that fold to the same lower case both.
#[test]
fn kept_credentials_lose_none() {
    let record = br#"{"incident_id":"incident:mssqlwin:ab:192.0.2.7:1","event_type":"event","logtype":"9001","USERNAME":"sa","PASSWORD":"first","password":"second","extra":{"Password":"nested","list":[{"secret":"in-list"}]},"headers":[["Cookie","pair"]]}"#;
    let event = &lines(&transform(&["--keep-credentials"], record))[0];
    let kept = event["thinkst_canary"]["credentials"].as_object().unwrap();
    let mut values: Vec<&str> = kept.values().map(|v| v.as_str().unwrap()).collect();
    values.sort_unstable();
    assert_eq!(values, ["first", "in-list", "nested", "pair", "second"], "{kept:?}");
    assert_eq!(kept["extra.password"], "nested");
    assert_eq!(kept["extra.list.0.secret"], "in-list");
    assert_eq!(kept["headers.0.cookie"], "pair");
}

/// Found by the property tests (`credentials_never_leak`): a token's
/// request arguments went into the URL as given, whatever their names.
#[test]
fn credential_request_arguments_are_redacted_in_the_url() {
    let record = br#"{"incident_id":"incident:httplogin:ab:192.0.2.7:1","event_type":"event","logtype":"3001","PATH":"/login","HOSTNAME":"web.example.com","request_args":{"user":"admin","salt":"salt-secret","KEY":"key-secret"}}"#;
    let event = &lines(&transform(&[], record))[0];
    let text = event.to_string();
    assert!(!text.contains("secret"), "{text}");
    assert_eq!(event["url"]["query"], "user=admin&salt=%5BREDACTED%5D&KEY=%5BREDACTED%5D");
}

#[test]
fn device_context_scans_and_reputation_are_mapped() {
    let page = serde_json::to_vec(&json!({"incidents": demo::builtin_incidents()})).unwrap();
    let events = lines(&transform(&[], &page));
    let by_code = |code: &str| -> Vec<&Value> {
        events
            .iter()
            .filter(|e| e["event"]["code"] == code && e["thinkst_canary"]["node_id"].is_string())
            .collect()
    };

    let consolidated = by_code("5007")[0];
    let scan = &consolidated["thinkst_canary"]["scan"];
    assert_eq!(scan["ports"], json!([139, 445, 3306]));
    for target in scan["targets"].as_array().unwrap() {
        assert!(consolidated["related"]["ip"].as_array().unwrap().contains(target));
    }
    let host_scan = by_code("5003")[0];
    assert_eq!(host_scan["thinkst_canary"]["scan"]["ports"], json!([22, 80, 443, 445, 3389]));
    assert_eq!(host_scan["thinkst_canary"]["ports"], "22,80,443,445,3389", "Sekoia's string stays");

    let ssh = by_code("4002")[0];
    let mac = ssh["observer"]["mac"].as_str().unwrap();
    assert!(mac.len() == 17 && mac.split('-').count() == 6 && mac == mac.to_uppercase(), "{mac}");
    assert!(ssh["observer"]["ip"].is_string());
    assert!(ssh["thinkst_canary"]["acknowledged"].is_boolean());

    let token = by_code("17000")[0];
    assert!(token["observer"].get("name").is_none(), "a token has no device name");
    assert!(token["observer"].get("ip").is_none());
    assert!(token["tags"].as_array().unwrap().contains(&json!("tor")));
    assert_eq!(token["thinkst_canary"]["ip_blocklist"]["is_tor"], true);
    assert!(
        events
            .iter()
            .any(|e| e["tags"].as_array().is_some_and(|t| t.contains(&json!("Known scanner"))))
    );
}

#[test]
fn web_requests_give_a_url_a_referrer_and_the_headers() {
    let record = br#"{"incident_id":"incident:httpget:ab:198.51.100.9:1","event_type":"event","logtype":"3000","CHANNEL":"TLS","PATH":"/admin/login","HEADERS":{"host":"intranet.example.co.uk:8443","referer":"https://search.example.com/?q=x","user-agent":"Wget/1.21.3"},"timestamp":1720684081}
{"incident_id":"incident:canarytoken:cd:198.51.100.9:1","event_type":"event","logtype":"17000","PATH":"/t/abc","HOSTNAME":"tokens.example.net","request_args":{"utm_source":"mail","id":"7 8"},"timestamp":1720684081}
"#;
    let events = lines(&transform(&[], record));
    let url = &events[0]["url"];
    assert_eq!(url["full"], "https://intranet.example.co.uk:8443/admin/login");
    assert_eq!(url["scheme"], "https");
    assert_eq!(url["domain"], "intranet.example.co.uk");
    assert_eq!(url["registered_domain"], "example.co.uk");
    assert_eq!(url["port"], 8443);
    assert_eq!(url["path"], "/admin/login");
    assert_eq!(events[0]["http"]["request"]["referrer"], "https://search.example.com/?q=x");
    assert_eq!(events[0]["user_agent"]["original"], "Wget/1.21.3");
    assert_eq!(events[0]["thinkst_canary"]["headers"]["host"], "intranet.example.co.uk:8443");

    assert_eq!(events[1]["url"]["scheme"], "http");
    assert_eq!(events[1]["url"]["query"], "utm_source=mail&id=7+8");
}

/// Objects of more than 32 keys are hash maps inside the parser; their
/// order, and so the output, must not change from one run to the next.
#[test]
fn large_records_map_the_same_bytes_in_every_process() {
    let mut record = json!({"incident_id": "incident:x:ab:192.0.2.7:1", "event_type": "event",
                            "logtype": "17000", "headers": {}, "matched_annotations": {}});
    for i in 0..48 {
        record[format!("key{i}")] = json!(i);
        record["headers"][format!("X-Header-{i}")] = json!(format!("v{i}"));
        record["matched_annotations"][format!("note{i}")] = json!([]);
    }
    let input = format!("{record}\n");
    let runs: Vec<Vec<u8>> =
        (0..3).map(|_| transform(&["--keep-original"], input.as_bytes()).stdout).collect();
    assert!(!runs[0].is_empty());
    assert!(runs.iter().all(|run| *run == runs[0]), "output differs between runs");
}

/// Lines from generated incidents, a malformed line every so often.
fn mixed_input(records: usize) -> Vec<u8> {
    let mut input = Vec::new();
    for i in 0..records / 6 {
        serde_json::to_writer(&mut input, &canary_pipe::demo::generate::incident(i, 7)).unwrap();
        input.push(b'\n');
        if i % 50 == 0 {
            input.extend_from_slice(b"{\"not\": \"closed\"\nnot json either\n");
        }
    }
    input
}

#[test]
fn workers_keep_the_order_and_the_counts() {
    use canary_pipe::transform::Transformer;
    let input = mixed_input(20_000);
    let run = |workers: usize| {
        let mut transformer = Transformer::new().with_workers(workers);
        let mut out = Vec::new();
        transformer.run("test", &input[..], &mut out).unwrap();
        (out, transformer.counts())
    };
    let (serial, counts) = run(1);
    assert!(counts.rejected > 0 && counts.written > 10_000, "{counts:?}");
    assert_eq!(counts.read, counts.written + counts.rejected);
    for workers in [2, 3] {
        let (parallel, parallel_counts) = run(workers);
        assert_eq!(parallel_counts, counts, "{workers} workers");
        assert!(parallel == serial, "{workers} workers changed the output");
    }
}

/// A writer that takes `room` bytes, then fails.
struct Breaks {
    room: usize,
    taken: Vec<u8>,
}

impl Write for Breaks {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.room == 0 {
            return Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        }
        let n = bytes.len().min(self.room);
        self.room -= n;
        self.taken.extend_from_slice(&bytes[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_broken_output_stops_every_worker_and_counts_only_what_was_written() {
    use canary_pipe::transform::{Failure, Transformer};
    let input = mixed_input(20_000);
    for workers in [1, 2] {
        let mut transformer = Transformer::new().with_workers(workers);
        let mut out = Breaks { room: 1 << 20, taken: Vec::new() };
        let result = transformer.run("test", &input[..], &mut out);
        assert!(matches!(result, Err(Failure::Output(_))), "{workers}: {result:?}");
        let counts = transformer.counts();
        let whole_lines = out.taken.iter().filter(|b| **b == b'\n').count() as u64;
        // Written counts whole batches the output took, never more.
        assert!(counts.written <= whole_lines, "{workers}: {counts:?} vs {whole_lines} lines");
        assert!(counts.written > 0 && counts.read < 20_000, "{workers}: {counts:?}");
    }
}

/// The rejection lines of a run's stderr.
fn rejections(output: &std::process::Output) -> Vec<String> {
    stderr(output).lines().filter(|l| l.contains("Record rejected.")).map(str::to_owned).collect()
}

/// A line cut short after a comma used to take the good line after it
/// along into its rejection: the good one is written now, whether the cut
/// line stopped inside an object or inside an array.
#[test]
fn a_cut_line_costs_only_itself() {
    let good = r#"{"incident_id":"incident:x:aa:192.0.2.5:1","event_type":"event","timestamp":"1700000000","logtype":"4002"}"#;
    for cut in [
        r#"{"incident_id":"incident:cut:aa:1.2.3.4:1","event_type":"event","#,
        r#"{"incidents":[{"id":"incident:cut:aa:1.2.3.4:1","description":{}},"#,
    ] {
        let input = format!("{good}\n{cut}\n{good}\n{good}\n");
        for workers in ["1", "2"] {
            let output = transform(&["--workers", workers], input.as_bytes());
            assert_eq!(summary(&output), (4, 3, 1), "{cut}: {}", stderr(&output));
            assert_eq!(lines(&output).len(), 3);
            let rejected = rejections(&output);
            assert!(rejected[0].contains("line=2 ") && rejected[0].contains("not closed"));
        }
    }

    // One record per line inside an array, unindented, is still one array.
    let array = format!("[\n{good},\n{good}\n]\n");
    let output = transform(&["--strict"], array.as_bytes());
    assert_eq!(summary(&output), (2, 2, 0), "{}", stderr(&output));
}

/// An audit trail entry on its own, as `/api/v1/audit_trail/fetch` lists
/// them (no `event_type`), is the audit record a page entry gives.
#[test]
fn a_bare_audit_trail_entry_is_an_audit_record() {
    let entry = json!({"action_type": "user_login", "additional_information": null,
        "flock_id": "flock:default", "id": 12, "message": "User jdoe@example.org logged in",
        "timestamp": "2024-05-01 10:15:30 UTC+0000", "user": "jdoe@example.org",
        "user_browser_agent": "Mozilla/5.0 (X11; Linux x86_64)", "user_browser_language": "en",
        "user_ip": "192.0.2.40"});
    let output = transform(&["--strict"], entry.to_string().as_bytes());
    assert!(output.status.success(), "{}", stderr(&output));
    let bare = lines(&output);
    assert_eq!(bare.len(), 1);
    assert_eq!(bare[0]["event"]["dataset"], "thinkst_canary.audit");
    assert_eq!(bare[0]["source"]["ip"], "192.0.2.40");
    let page = json!({"audit_trail": [entry], "result": "success"});
    assert_eq!(lines(&transform(&[], page.to_string().as_bytes())), bare, "as on a page");
}

/// An `/incident/fetch` body holds one incident, flat: the keys a feed
/// incident keeps in `description`, with its key as `id`.
#[test]
fn an_incident_fetch_body_maps_its_incident() {
    let description = json!({"acknowledged": "False", "created": "1714558530",
        "description": "SSH Login Attempt", "logtype": "4002", "dst_host": "192.0.2.10",
        "dst_port": "22", "src_host": "192.0.2.55", "src_port": "50122", "name": "fileserver-01",
        "node_id": "00000000aabbccdd", "events_count": "1", "events_list": "1714558530",
        "events": [{"USERNAME": "admin", "PASSWORD": "example-pass", "timestamp": 1714558530}]});
    let key = "incident:sshlogin:0123:192.0.2.55:1714558530";
    let mut flat = description.clone();
    flat["id"] = json!(key);
    let fetched = json!({"incident": flat, "result": "success"});
    let output = transform(&["--strict"], fetched.to_string().as_bytes());
    assert!(output.status.success(), "{}", stderr(&output));
    let events = lines(&output);
    assert_eq!(events.len(), 2, "the incident and its event");
    assert!(events.iter().all(|e| incident_id(e) == key));
    assert_eq!(events[0]["rule"]["name"], "SSH Login Attempt");
    assert_eq!(events[1]["user"]["name"], "admin");
    assert_eq!(events[1]["source"]["ip"], "192.0.2.55");
    assert!(!events[1].to_string().contains("example-pass"));

    // The event is the one a feed page holds: same id, so a SIEM keeps one.
    let feed = json!({"incidents": [{"id": key, "hash_id": "0123", "summary": "SSH Login Attempt",
        "updated_id": 7, "updated_time": "1714558542", "description": description}]});
    let from_feed = lines(&transform(&[], feed.to_string().as_bytes()));
    assert_eq!(events[1]["event"]["id"], from_feed[1]["event"]["id"]);

    let nameless = json!({"incident": {"description": "SSH Login Attempt"}, "result": "success"});
    let output = transform(&[], nameless.to_string().as_bytes());
    assert_eq!(summary(&output), (1, 0, 1));
    assert!(rejections(&output)[0].contains("incident has no"), "{}", stderr(&output));
}

/// `/incidents/search` pages hold flat incidents with `logdata` lists, a
/// shape not read yet: each is refused, saying what it is.
#[test]
fn incidents_search_pages_are_refused_saying_so() {
    let search = json!({"cursor": {"next": null, "prev": null}, "page_number": 1,
        "total_pages": 1, "total_results": 2, "incident_source_counts": {},
        "incidents": [
            {"key": "incident:sshlogin:0123:192.0.2.55:1714558530", "src_host": "192.0.2.55",
             "host": {"id": "00000000aabbccdd"}, "logdata": [{"USERNAME": "admin"}],
             "events_list": [1714558530000_u64], "previously_seen_count": 0},
            {"key": "incident:ftplogin:4567:192.0.2.56:1714558531", "logdata": []}]});
    let output = transform(&[], search.to_string().as_bytes());
    assert_eq!(summary(&output), (2, 0, 2));
    let rejected = rejections(&output);
    assert!(rejected.iter().all(|r| r.contains("an /incidents/search result")), "{rejected:?}");
}

/// Rejections say what is wrong with the record, not something else.
#[test]
fn rejection_reasons_name_the_fault() {
    let input = concat!(
        r#"{"incident_id":42,"event_type":"event"}"#,
        "\n",
        r#"{"logtype":4002,"src_host":"192.0.2.5","logdata":"USERNAME=root"}"#,
        "\n"
    );
    let output = transform(&[], input.as_bytes());
    assert_eq!(summary(&output), (2, 0, 2));
    let rejected = rejections(&output);
    assert!(rejected[0].contains(r#"\"incident_id\" is 42, not a string"#), "{rejected:?}");
    assert!(
        rejected[1].contains(r#"an OpenCanary line whose \"logdata\" is a string, not an object"#),
        "{rejected:?}"
    );
}

/// With several workers, rejections are logged in input order, as the
/// events are written: each batch's warnings go out with its output.
#[test]
fn rejections_are_logged_in_input_order_with_workers() {
    let mut input = String::new();
    let mut bad = Vec::new();
    for n in 1..=6000 {
        if n % 50 == 0 {
            input.push_str("not json\n");
            bad.push(n);
        } else {
            let padding = "p".repeat(400);
            input.push_str(&format!(
                r#"{{"incident_id":"incident:x:aa:192.0.2.5:{n}","event_type":"event","timestamp":"1700000000","logtype":"4002","USERNAME":"{padding}"}}"#
            ));
            input.push('\n');
        }
    }
    // Over 2 MB: several batches for each of the two workers.
    assert!(input.len() > 2 << 20);
    let output = transform(&["--workers", "2"], input.as_bytes());
    assert_eq!(summary(&output), (6000, 6000 - bad.len() as u64, bad.len() as u64));
    let lines: Vec<u64> = rejections(&output)
        .iter()
        .map(|r| r.split("line=").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(lines, bad);
}

/// The credential fields of the catalogue (canary-api.md section 7), named
/// here as well so that a name dropped from the mapper's list is noticed.
const CATALOGUED_CREDENTIALS: [&str; 8] = [
    "PASSWORD",
    "password",
    "CLIENT_HASH",
    "SALT",
    "KEY",
    "SERVER_CHALLENGE",
    "CLIENT_RESPONSE",
    "COMMUNITY_STRING",
];

/// Strings of `value` under credential keys go to `secrets`, the others to
/// `open`, at any depth.
fn split_credentials(value: &Value, open: &mut Vec<String>, secrets: &mut Vec<String>) {
    match value {
        Value::String(s) => open.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| split_credentials(v, open, secrets)),
        Value::Object(members) => {
            for (key, value) in members {
                let catalogued = CATALOGUED_CREDENTIALS.contains(&key.as_str());
                if catalogued || canary_pipe::flatten::is_credential(key) {
                    split_credentials(value, secrets, &mut Vec::new());
                } else {
                    split_credentials(value, open, secrets);
                }
            }
        }
        _ => {}
    }
}

/// Every string of a value; a string holding a JSON object (a kept
/// original) gives the strings of that object instead.
fn output_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(inner @ Value::Object(_)) => output_strings(&inner, out),
            _ => out.push(s.clone()),
        },
        Value::Array(items) => items.iter().for_each(|v| output_strings(v, out)),
        Value::Object(members) => members.values().for_each(|v| output_strings(v, out)),
        _ => {}
    }
}

/// The demo's credentials (passwords, hashes, keys, VNC challenges, SNMP
/// community strings, MongoDB passwords) never reach an event, kept
/// originals included.
#[test]
fn no_demo_credential_reaches_the_output() {
    let incidents = json!(demo::builtin_incidents());
    let (mut open, mut secrets) = (Vec::new(), Vec::new());
    split_credentials(&incidents, &mut open, &mut secrets);
    // A password equal to the user name may show up as the user name.
    secrets.retain(|s| s.len() >= 4 && !open.iter().any(|o| o.contains(s.as_str())));
    secrets.sort();
    secrets.dedup();
    assert!(secrets.len() >= 20, "only {} credentials to look for: {secrets:?}", secrets.len());

    let page = serde_json::to_vec(&json!({"incidents": incidents})).unwrap();
    for args in [&[][..], &["--keep-original"], &["--keep-original", "--profile", "ecs"]] {
        let output = transform(args, &page);
        assert!(output.status.success(), "{}", stderr(&output));
        let mut found = Vec::new();
        lines(&output).iter().for_each(|event| output_strings(event, &mut found));
        for secret in &secrets {
            assert!(!found.iter().any(|f| f.contains(secret.as_str())), "{args:?}: {secret}");
        }
    }
}

/// A Redis command's arguments are a password when the command sets or
/// sends one (AUTH, HELLO .. AUTH, ACL SETUSER .. >pw, CONFIG SET
/// requirepass): redacted in event.original, kept by --keep-credentials.
/// Other commands' arguments stay as they are.
#[test]
fn redis_passwords_in_command_arguments_are_credentials() {
    let opencanary = |cmd: &str, args: &str| {
        json!({"dst_host": "192.0.2.20", "dst_port": 6379, "logtype": 17001,
            "node_id": "opencanary-1", "src_host": "192.0.2.10", "src_port": 1906,
            "utc_time": "2026-12-03 12:36:40.467627", "logdata": {"CMD": cmd, "ARGS": args}})
    };
    let console = |cmd: &str, args: &str| {
        json!({"incident_id": "incident:rediscommand:ab:192.0.2.7:1", "event_type": "event",
            "logtype": "21001", "timestamp": 1_700_000_000, "src_host": "192.0.2.7",
            "CMD": cmd, "ARGS": args})
    };
    let secret = [
        ("AUTH", "redis-secret-1"),
        ("auth", "default redis-secret-2"),
        ("HELLO", "3 AUTH default redis-secret-3"),
        ("ACL", "SETUSER eve on >redis-secret-4"),
        ("CONFIG", "SET requirepass redis-secret-5"),
    ];
    let mut input = String::new();
    for (cmd, args) in secret {
        input.push_str(&format!("{}\n{}\n", opencanary(cmd, args), console(cmd, args)));
    }
    input.push_str(&format!("{}\n", opencanary("GET", "session:redis-plain")));

    let kept = transform(&["--keep-original"], input.as_bytes());
    assert_eq!(summary(&kept), (11, 11, 0));
    let text = String::from_utf8(kept.stdout.clone()).unwrap();
    assert!(!text.contains("redis-secret"), "{text}");
    assert!(text.contains("session:redis-plain"), "other commands' arguments are kept");

    let credentials = transform(&["--keep-credentials"], input.as_bytes());
    let events = lines(&credentials);
    for (event, (_, args)) in events.chunks(2).zip(secret) {
        for event in event {
            assert_eq!(event["thinkst_canary"]["credentials"]["args"], args, "{event}");
        }
    }
}

/// A Windows folder token (16006) says who opened the folder and on which
/// machine: user.name, user.domain and the client's host name.
#[test]
fn a_windows_folder_token_names_its_user_and_machine() {
    let record = json!({"incident_id": "incident:canarytoken:ab:198.51.100.35:1",
        "event_type": "event", "logtype": "16006", "timestamp": 1_700_000_000,
        "src_host": "198.51.100.35", "type": "windows-dir",
        "windows_desktopini_access_username": "mlopez",
        "windows_desktopini_access_domain": "CORP",
        "windows_desktopini_access_computer_name": "WKS-FIN-0142"});
    let event = &lines(&transform(&[], format!("{record}\n").as_bytes()))[0];
    assert_eq!(event["user"], json!({"name": "mlopez", "domain": "CORP"}));
    assert_eq!(event["thinkst_canary"]["client"]["hostname"], "WKS-FIN-0142");
    assert_eq!(event["related"]["user"], json!(["mlopez"]));
}
