//! canary-transform on the inputs that are not Console API records:
//! OpenCanary JSON lines, console webhook bodies and console syslog lines,
//! recognised per record or forced with `--input`.
//!
//! The project's own invented inputs are in `tests/data/`. Real OpenCanary
//! output and public samples live outside the repository
//! (`../shared/fixtures` next to the crate); without that folder, the tests
//! that read it print a note and check nothing.

use std::path::{Path, PathBuf};

use canary_pipe::flatten::is_credential;
use serde_json::{Value, json};

mod common;
use common::{json_lines as lines, stderr, summary, transform};

/// `../shared/fixtures/<name>`, or `None` (and a note) when it is absent.
fn shared(name: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures").join(name);
    if path.exists() {
        return Some(path);
    }
    eprintln!("note: {} not found, test skipped", path.display());
    None
}

fn own(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

/// Every string in `value`, object keys left out.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(members) => members.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// The rejection lines of a run's stderr.
fn rejections(output: &std::process::Output) -> Vec<String> {
    stderr(output).lines().filter(|l| l.contains("Record rejected.")).map(str::to_owned).collect()
}

/// The fixture's lines, parsed, with the events they gave: one each, in order.
fn opencanary_run(args: &[&str]) -> Option<(Vec<Value>, Vec<Value>)> {
    let path = shared("opencanary/opencanary.ndjson")?;
    let input: Vec<Value> = text(&path).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut args = args.to_vec();
    args.push(path.to_str().unwrap());
    let output = transform(&args, b"");
    assert!(output.status.success(), "{}", stderr(&output));
    let n = input.len() as u64;
    assert_eq!(summary(&output), (n, n, 0), "{}", stderr(&output));
    Some((input, lines(&output)))
}

#[test]
fn every_opencanary_line_is_written() {
    let Some((input, events)) = opencanary_run(&["--strict"]) else { return };
    assert_eq!(input.len(), 175);
    assert_eq!(events.len(), input.len());

    for (line, event) in input.iter().zip(&events) {
        assert_eq!(event["event"]["code"], line["logtype"].to_string(), "{line}");
        assert_eq!(event["observer"]["serial_number"], line["node_id"]);
        assert_eq!(event["thinkst_canary"]["node_id"], line["node_id"]);
        // utc_time, read as UTC, with its microseconds.
        let utc = line["utc_time"].as_str().unwrap();
        let expected = format!("{}Z", utc.replace(' ', "T").trim_end_matches('0'));
        assert_eq!(event["@timestamp"], expected.replace(".Z", "Z"), "{line}");
        if line["src_port"] == -1 {
            assert!(event.get("source").is_none(), "start-up lines have no source: {event}");
            assert!(event.get("destination").is_none());
        }
    }

    // Ids are content hashes: equal lines share one, different lines differ.
    let distinct_lines: std::collections::HashSet<String> =
        input.iter().map(Value::to_string).collect();
    let distinct_ids: std::collections::HashSet<&str> =
        events.iter().map(|e| e["event"]["id"].as_str().unwrap()).collect();
    assert_eq!(distinct_ids.len(), distinct_lines.len());
    let (_, again) = opencanary_run(&[]).unwrap();
    assert_eq!(again, events, "the same input gives the same output");
}

/// The event of the first input line that passes `test`.
fn pick<'a>(input: &[Value], events: &'a [Value], test: &dyn Fn(&Value) -> bool) -> &'a Value {
    let at = input.iter().position(test).expect("the fixture has such a line");
    &events[at]
}

#[test]
fn opencanary_services_map_their_fields() {
    let Some((input, events)) = opencanary_run(&[]) else { return };
    let find = |test: &dyn Fn(&Value) -> bool| pick(&input, &events, test);
    let data = |line: &Value, key: &str| line["logdata"][key].clone();

    let ssh = find(&|l| l["logtype"] == 4002 && data(l, "USERNAME") == "root");
    assert_eq!(ssh["user"]["name"], "root");
    assert_eq!(ssh["source"]["ip"], "127.0.0.1");
    assert_eq!(ssh["destination"]["port"], 2222);
    assert_eq!(ssh["event"]["code"], "4002");
    assert_eq!(ssh["observer"]["product"], "OpenCanary");
    assert_eq!(ssh["observer"]["vendor"], "Thinkst");
    assert_eq!(ssh["observer"]["serial_number"], "opencanary-loopback-1");
    assert_eq!(ssh["@timestamp"], "2026-12-03T12:36:17.050505Z");

    let mssql = find(&|l| l["logtype"] == 9001 && data(l, "UserName") == "reporting");
    assert_eq!(mssql["user"]["name"], "reporting");
    assert_eq!(mssql["destination"]["domain"], "vm", "HostName");
    assert_eq!(mssql["process"]["name"], "sqlcmd", "AppName");

    let mongo = find(&|l| data(l, "action") == "mongodb.auth_attempt");
    assert_eq!(mongo["user"]["name"], "admin", "username is Mongo's user");
    assert_eq!(mongo["destination"]["port"], 27017);
    let command = find(&|l| data(l, "action") == "mongodb.command");
    assert_eq!(command["event"]["action"], "query:admin.$cmd");

    let git = find(&|l| data(l, "HOST").as_str().is_some_and(|h| h.contains('\0')));
    assert_eq!(git["destination"]["ip"], "127.0.0.1");
    assert!(git["destination"].get("domain").is_none(), "{git}");
    assert_eq!(git["thinkst_canary"]["repo"], "admin/dotfiles");
    assert!(!git.to_string().contains("\\u0000"), "{git}");

    let http = find(&|l| l["logtype"] == 3000);
    assert_eq!(http["user_agent"]["original"], "curl/7.88.1");
    assert_eq!(http["url"]["path"], "/index.html");
    let placeholder = find(&|l| data(l, "USERNAME") == "<not supplied>");
    assert!(placeholder.get("user").is_none(), "a placeholder is no user: {placeholder}");

    let redis = find(&|l| l["logtype"] == 17001 && data(l, "CMD") == "AUTH");
    assert_eq!(redis["event"]["action"], "AUTH");
    let tftp = find(&|l| l["logtype"] == 10001);
    assert_eq!(tftp["file"]["name"], "startup-config");
    assert_eq!(tftp["event"]["action"], "READ");
}

#[test]
fn no_opencanary_credential_reaches_the_output() {
    for args in [&[][..], &["--keep-original"][..]] {
        let Some((input, events)) = opencanary_run(args) else { return };
        let mut checked = 0;
        for (line, event) in input.iter().zip(&events) {
            let Some(logdata) = line["logdata"].as_object() else { continue };
            // Values the line also holds outside a credential (a user name
            // equal to the password) may show up through that field.
            let mut open = Vec::new();
            for (key, value) in logdata {
                if !is_credential(key) {
                    strings(value, &mut open);
                }
            }
            let mut found = Vec::new();
            strings(event, &mut found);
            if let Some(original) = event["event"]["original"].as_str() {
                strings(&serde_json::from_str(original).unwrap(), &mut found);
            }
            for (key, value) in logdata.iter().filter(|(key, _)| is_credential(key)) {
                let Some(secret) = value.as_str().filter(|s| s.len() >= 4) else { continue };
                if open.iter().any(|o| o.contains(secret)) {
                    continue;
                }
                checked += 1;
                assert!(!found.iter().any(|f| f.contains(secret)), "{key} of {line} is in {event}");
            }
        }
        assert!(checked >= 30, "only {checked} credentials checked");
    }
}

#[test]
fn older_opencanary_formats_map_too() {
    let Some(folder) = shared("public-samples") else { return };
    let mut samples: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("opencanary_"))
        .collect();
    samples.sort();
    assert!(samples.len() > 20);

    // One sample is a raw line quoted as a JSON string: as a document it is
    // no record; the line itself is the input.
    let (quoted, files): (Vec<PathBuf>, Vec<PathBuf>) = samples
        .into_iter()
        .partition(|p| serde_json::from_str::<Value>(&text(p)).unwrap().is_string());
    assert_eq!(quoted.len(), 1);
    let as_document = transform(&[quoted[0].to_str().unwrap()], b"");
    assert_eq!(summary(&as_document), (1, 0, 1));
    let raw: Value = serde_json::from_str(&text(&quoted[0])).unwrap();

    let mut args = vec!["--input", "opencanary", "-"];
    args.extend(files.iter().map(|p| p.to_str().unwrap()));
    let output = transform(&args, raw.as_str().unwrap().as_bytes());
    let n = files.len() as u64 + 1;
    assert_eq!(summary(&output), (n, n, 0), "{}", stderr(&output));
    for event in lines(&output) {
        assert!(event["observer"]["serial_number"].is_string(), "{event}");
        assert!(event["@timestamp"].is_string(), "{event}");
        assert!(!event.to_string().contains("P@ssw0rd!"), "{event}");
    }
}

#[test]
fn public_webhook_samples_map() {
    let Some(folder) = shared("public-samples") else { return };
    // File, then source.ip, user.name, observer.name and @timestamp.
    let cases = [
        (
            "canary_webhook_ftp_login__canarytools_docs.json",
            json!("192.0.2.10"),
            json!("jdoe"),
            json!("canary"),
            "2026-02-02T14:19:02Z",
        ),
        (
            "canary_webhook_canarytoken_web_bug__canarytools_docs.json",
            json!("192.0.2.11"),
            Value::Null,
            Value::Null,
            "2026-02-02T14:12:38Z",
        ),
        (
            "canary_webhook_canarytoken_msword__zulip_fixture.json",
            Value::Null,
            Value::Null,
            Value::Null,
            "2020-07-20T14:40:15Z",
        ),
        (
            "canary_webhook_console_audit__canarytools_docs.json",
            json!("192.0.2.40"),
            json!("jdoe@example.org"),
            Value::Null,
            "2026-02-02T14:12:34Z",
        ),
        (
            "canary_webhook_consolidated_port_scan__zulip_fixture.json",
            json!("192.0.2.10"),
            Value::Null,
            json!("foo-bar"),
            "2020-07-20T16:18:40Z",
        ),
        (
            "canary_webhook_dummy_no_reverse_dns__zulip_fixture.json",
            json!("192.0.2.10"),
            Value::Null,
            json!("0000000testnode"),
            "2020-06-09T13:59:38Z",
        ),
        (
            "canary_webhook_example__canary_utils_cloudflare.json",
            json!("192.0.2.10"),
            Value::Null,
            json!("Perimeter"),
            "2023-08-25T12:00:00Z",
        ),
        (
            "canary_webhook_shared_file_reopened__zulip_fixture.json",
            json!("192.0.2.10"),
            json!("guest"),
            json!("bar-foo"),
            "2020-07-20T16:27:20Z",
        ),
        (
            "canary_webhook_test_event__canarytools_docs.json",
            json!("192.0.2.10"),
            Value::Null,
            json!("DummyDevice"),
            "2026-02-02T14:10:14Z",
        ),
        (
            "canarytokens_org_webhook_http__zulip_fixture.json",
            json!("192.0.2.11"),
            Value::Null,
            Value::Null,
            "2020-06-09T14:04:47Z",
        ),
    ];
    // The Splunk variant wraps the same object, and must give the same event.
    let first: Value = serde_json::from_str(&text(&folder.join(cases[0].0))).unwrap();
    let wrapped = json!({"sourcetype": "canary_alerts", "event": first}).to_string();

    let paths: Vec<PathBuf> = cases.iter().map(|case| folder.join(case.0)).collect();
    let mut args = vec!["--input", "webhook"];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    args.push("-");
    let output = transform(&args, wrapped.as_bytes());
    let n = cases.len() as u64 + 1;
    assert_eq!(summary(&output), (n, n, 0), "{}", stderr(&output));
    let events = lines(&output);

    for ((file, ip, user, observer, time), event) in cases.iter().zip(&events) {
        let got = |group: &str, field: &str| event[group].get(field).cloned().unwrap_or_default();
        assert_eq!(&got("source", "ip"), ip, "{file}: {event}");
        assert_eq!(&got("user", "name"), user, "{file}: {event}");
        assert_eq!(&got("observer", "name"), observer, "{file}: {event}");
        assert_eq!(event["@timestamp"], *time, "{file}: {event}");
        assert!(!event.to_string().contains("*******"), "masked passwords are credentials too");
    }
    assert_eq!(events[cases.len()], events[0], "Splunk's wrapper");

    let token = &events[1];
    assert_eq!(token["rule"]["description"], "Link in my inbox");
    assert_eq!(token["source"]["port"], 64487, "from the Src Port detail");
    assert_eq!(token["thinkst_canary"]["canary_token"], "xxxxxxxxxxxxxxxxxxxxxxxxx");
    assert_eq!(events[8]["event"]["code"], "111111");
}

#[test]
fn own_webhook_bodies_map() {
    let events = {
        let output = transform(&["--strict", own("webhooks.ndjson").to_str().unwrap()], b"");
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(summary(&output), (6, 6, 0));
        lines(&output)
    };
    let incident = &events[0];
    assert_eq!(incident["@timestamp"], "2025-03-14T09:26:53Z");
    assert_eq!(incident["source"]["ip"], "203.0.113.66");
    assert_eq!(incident["source"]["domain"], "scanner66.example.net");
    assert_eq!(incident["destination"]["port"], 23);
    assert_eq!(incident["observer"]["name"], "branch-router-7");
    assert_eq!(incident["observer"]["serial_number"], "0000000012ab34cd");
    assert_eq!(incident["user"]["name"], "operator");
    assert_eq!(incident["event"]["code"], "6001");
    assert_eq!(incident["thinkst_canary"]["incident_id"], "5d41402abc4b2a76b9719d911017c592");
    assert_eq!(incident["tags"], json!(["Known scanner"]));

    let token = &events[1];
    assert_eq!(token["source"]["ip"], "198.51.100.77");
    assert_eq!(token["source"]["port"], 51515);
    assert_eq!(token["destination"]["port"], 443);
    assert_eq!(token["rule"]["description"], "keys in the build server's .aws folder");
    assert!(token["user_agent"]["original"].as_str().unwrap().starts_with("aws-cli/"));
    assert!(token["observer"].get("name").is_none());

    let audit = &events[2];
    assert_eq!(audit["event"]["kind"], "event");
    assert_eq!(audit["event"]["action"], "canarytoken_delete");
    assert_eq!(audit["user"]["name"], "ops@example.org");
    assert_eq!(audit["source"]["ip"], "192.0.2.140");
    assert_eq!(audit["@timestamp"], "2025-03-14T12:00:05Z");

    let splunk = &events[3];
    assert_eq!(splunk["user"]["name"], "mallory");
    assert_eq!(splunk["file"]["name"], "Q1/salaries.xlsx");
    assert_eq!(splunk["observer"]["name"], "fs-finance");

    let server = &events[4];
    assert_eq!(server["source"]["ip"], "203.0.113.9");
    assert_eq!(server["@timestamp"], "2025-03-14T15:30:00Z");
    assert_eq!(server["user_agent"]["name"], "Chrome");
    assert_eq!(server["thinkst_canary"]["canary_token"], "abcdefghijklmnopqrstuvwxy");

    let test = &events[5];
    assert_eq!(test["event"]["code"], "111111");
    assert_eq!(test["thinkst_canary"]["flock"]["id"], "flock:dummyincidentflock");
    assert!(test["thinkst_canary"].get("incident_id").is_none());

    // Passwords and the token server's management secret stay out, even of
    // the kept originals.
    let output = transform(&["--keep-original", own("webhooks.ndjson").to_str().unwrap()], b"");
    let out = String::from_utf8(output.stdout).unwrap();
    for secret in ["Tr0ub4dor", "0123secret4567"] {
        assert!(!out.contains(secret), "{secret} in {out}");
    }
    assert!(out.contains("[REDACTED]"));
}

#[test]
fn console_syslog_lines_map_and_others_are_rejected() {
    let path = own("syslog.log");
    let output = transform(&[path.to_str().unwrap()], b"");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(summary(&output), (4, 3, 1));
    let events = lines(&output);

    let incident = &events[0];
    assert_eq!(incident["@timestamp"], "2025-03-14T09:26:53Z", "the alert's time");
    assert_eq!(incident["event"]["code"], "6001");
    assert_eq!(incident["source"]["ip"], "203.0.113.66");
    assert_eq!(incident["source"]["domain"], "scanner66.example.net", "defanging undone");
    assert_eq!(incident["user"]["name"], "operator");
    assert_eq!(incident["observer"]["name"], "branch-router-7");
    assert_eq!(incident["destination"]["port"], 23);
    assert!(!incident.to_string().contains("Tr0ub4dor"));

    // The same incident as a webhook maps to the same fields (the ids
    // differ: the two formats do not say quite the same things).
    let hook = &lines(&transform(&[own("webhooks.ndjson").to_str().unwrap()], b""))[0];
    for (group, field) in [
        ("source", "ip"),
        ("user", "name"),
        ("observer", "name"),
        ("observer", "serial_number"),
        ("destination", "ip"),
        ("event", "code"),
        ("rule", "name"),
    ] {
        assert_eq!(incident[group][field], hook[group][field], "{group}.{field}");
    }

    let audit = &events[1];
    assert_eq!(audit["event"]["action"], "flock_rename");
    assert_eq!(audit["message"], r#"Renamed flock "Lab \ test" to "Lab [old]""#);
    assert_eq!(audit["user"]["name"], "ops@example.org");
    assert_eq!(audit["@timestamp"], "2025-03-14T12:00:05Z");

    let token = &events[2];
    assert_eq!(token["source"]["ip"], "198.51.100.77");
    assert_eq!(token["rule"]["description"], "keys in the build server's .aws folder");
    assert!(token["user_agent"]["original"].as_str().unwrap().starts_with("aws-cli/"));

    let rejected = rejections(&output);
    assert_eq!(rejected.len(), 1);
    assert!(rejected[0].contains("line=4 "), "{}", rejected[0]);
    assert!(rejected[0].contains("neither a Canary alert nor an OpenCanary line"));

    let bare = transform(&[], b"-- MARK --\n");
    assert_eq!(summary(&bare), (1, 0, 1));
    assert!(rejections(&bare)[0].contains("line=1 "));
}

#[test]
fn the_reference_syslog_example_maps() {
    let line = r#"<130>1 2024-05-01T10:15:31.123456+00:00 console-example ThinkstCanary 4242 newincident [BasicIncidentDetails@51136 eventid="4002" CanaryName="fileserver-01" Description="SSH Login Attempt" CanaryPort="22" Timestamp="2024-05-01 10:15:30 (UTC)" CanaryIP="192.0.2.10" IncidentHash="0123456789abcdef0123456789abcdef" CanaryLocation="Rack 3" SourceIP="192.0.2.55" ReverseDNS="host55.example.org" CanaryID="00000000aabbccdd"] [AdditionalIncidentDetails@51136 Username="admin" Password="example-pass"] SSH Login Attempt has been detected against one of your Canaries (fileserver-01) at 192.0.2.10."#;
    let output = transform(&["--input", "syslog"], format!("{line}\r\n").as_bytes());
    assert_eq!(summary(&output), (1, 1, 0), "{}", stderr(&output));
    let event = &lines(&output)[0];
    assert_eq!(event["@timestamp"], "2024-05-01T10:15:30Z");
    assert_eq!(event["source"]["ip"], "192.0.2.55");
    assert_eq!(event["source"]["domain"], "host55.example.org");
    assert_eq!(event["user"]["name"], "admin");
    assert_eq!(event["observer"]["name"], "fileserver-01");
    assert_eq!(event["destination"]["port"], 22);
    assert!(!event.to_string().contains("example-pass"));
}

#[test]
fn kinds_are_recognised_per_record_and_can_be_forced() {
    let api = r#"{"incident_id":"incident:sshlogin:ab:192.0.2.7:1720684078","event_type":"event","logtype":"4002","src_host":"192.0.2.7","timestamp":1720684081}"#;
    let opencanary = r#"{"dst_host":"192.0.2.20","dst_port":21,"local_time":"2024-05-01 10:15:30.123456","logdata":{"PASSWORD":"example-pass","USERNAME":"admin"},"logtype":2000,"node_id":"opencanary-1","src_host":"192.0.2.55","src_port":50123,"utc_time":"2024-05-01 10:15:30.123456"}"#;
    let webhook = text(&own("webhooks.ndjson")).lines().next().unwrap().to_owned();
    let syslog = text(&own("syslog.log")).lines().next().unwrap().to_owned();
    let mixed = format!("{api}\n{opencanary}\n{webhook}\n{syslog}\n");

    let output = transform(&["--strict"], mixed.as_bytes());
    assert!(output.status.success(), "{}", stderr(&output));
    let events = lines(&output);
    assert_eq!(events.len(), 4);
    assert_eq!(events[1]["@timestamp"], "2024-05-01T10:15:30.123456Z");
    assert_eq!(events[1]["user"]["name"], "admin");

    // A forced kind keeps its own records and rejects the others, saying
    // what each one is.
    for (kind, kept, what) in [
        ("api", 1, ["", "an OpenCanary line", "a webhook payload", "a console syslog line"]),
        (
            "opencanary",
            2,
            ["a Console API record", "", "a webhook payload", "a console syslog line"],
        ),
        ("webhook", 3, ["a Console API record", "an OpenCanary line", "", "a console syslog line"]),
        ("syslog", 4, ["not a syslog line", "not a syslog line", "not a syslog line", ""]),
    ] {
        let output = transform(&["--input", kind], mixed.as_bytes());
        assert_eq!(summary(&output), (4, 1, 3), "--input {kind}: {}", stderr(&output));
        assert_eq!(lines(&output)[0], events[kept - 1], "--input {kind}");
        let rejected = rejections(&output);
        for (line, what) in what.iter().enumerate().filter(|(_, w)| !w.is_empty()) {
            let line = line + 1;
            assert!(
                rejected.iter().any(|r| r.contains(&format!("line={line} ")) && r.contains(what)),
                "--input {kind}, line {line}: no {what:?} in {rejected:?}"
            );
        }
    }
    let forced = transform(&["--input", "opencanary"], api.as_bytes());
    let reason = &rejections(&forced)[0];
    assert!(reason.contains("a Console API record, not an OpenCanary line (--input opencanary)"));
}

#[test]
fn opencanary_in_envelopes_and_behind_syslog_headers() {
    let line = r#"{"dst_host":"192.0.2.20","dst_port":22,"logdata":{"PASSWORD":"example-pass","USERNAME":"jdoe"},"logtype":4002,"node_id":"opencanary-1","src_host":"192.0.2.10","src_port":1906,"utc_time":"2023-06-28 15:51:47.199250"}"#;
    let envelope = json!({"message": line}).to_string();
    let bsd = format!("<12>opencanaryd[912]: opencanary-1 WARNING {line}");
    let rfc5424 = format!("<12>1 2023-06-28T15:51:47Z host opencanaryd 912 - - {line}");
    let input =
        format!("{envelope}\n{bsd}\n{rfc5424}\n{{\"message\": \"{{}}\"}}\n<12>no json here\n");

    let output = transform(&[], input.as_bytes());
    assert_eq!(summary(&output), (5, 3, 2), "{}", stderr(&output));
    let events = lines(&output);
    assert_eq!(events[0], events[1]);
    assert_eq!(events[1], events[2]);
    assert_eq!(events[0]["user"]["name"], "jdoe");
    let rejected = rejections(&output);
    assert!(rejected[0].contains("line=4 ") && rejected[0].contains("holds no OpenCanary line"));
    assert!(rejected[1].contains("line=5 ") && rejected[1].contains("not an RFC 5424 syslog line"));

    let console_only = transform(&["--input", "syslog"], bsd.as_bytes());
    assert!(rejections(&console_only)[0].contains("an OpenCanary line, not a console syslog line"));
}

/// `logdata` keys named like the line's own fields do not replace them, and
/// a `logdata.record_id` does not become `event.id`: an OpenCanary line has
/// no id of its own, its id is the hash of its content.
#[test]
fn opencanary_logdata_does_not_override_the_line() {
    let line = json!({"dst_host": "192.0.2.20", "dst_port": 22, "logtype": 4002,
        "node_id": "opencanary-1", "src_host": "192.0.2.10", "src_port": 1906,
        "utc_time": "2023-06-28 15:51:47.199250",
        "logdata": {"USERNAME": "jdoe", "PASSWORD": "example-pass"}});
    let mut forged = line.clone();
    let logdata = forged["logdata"].as_object_mut().unwrap();
    for (key, value) in [
        ("record_id", json!("forged-id")),
        ("src_host", json!("198.51.100.66")),
        ("dst_port", json!(2222)),
        ("logtype", json!(1001)),
        ("node_id", json!("forged-node")),
        ("utc_time", json!("2000-01-01 00:00:00")),
    ] {
        logdata.insert(key.into(), value);
    }
    let mut forged_moved = forged.clone();
    forged_moved["src_host"] = json!("192.0.2.11");
    let input = format!("{line}\n{forged}\n{forged_moved}\n");

    let output = transform(&["--strict"], input.as_bytes());
    assert!(output.status.success(), "{}", stderr(&output));
    let events = lines(&output);
    let (plain, forged) = (&events[0], &events[1]);
    assert_ne!(forged["event"]["id"], "forged-id");
    assert_eq!(forged["source"]["ip"], "192.0.2.10");
    assert_eq!(forged["destination"]["port"], 22);
    assert_eq!(forged["event"]["code"], "4002");
    assert_eq!(forged["observer"]["serial_number"], "opencanary-1");
    assert_eq!(forged["@timestamp"], plain["@timestamp"]);
    // The id covers the line's own values: another source, another id,
    // even when logdata names the same one.
    assert_eq!(events[2]["source"]["ip"], "192.0.2.11");
    assert_ne!(events[2]["event"]["id"], forged["event"]["id"]);
}

/// An OpenCanary daemon message (logtype 1001) keeps its text, as `message`;
/// other lines have none, even when their logdata holds a `msg`.
#[test]
fn opencanary_daemon_messages_keep_their_text() {
    let started = json!({"dst_host": "", "dst_port": -1, "logtype": 1001,
        "node_id": "opencanary-1", "src_host": "", "src_port": -1,
        "utc_time": "2023-06-28 15:51:47.199250",
        "logdata": {"msg": {"logdata": "Added service from class CanaryFTP in opencanary.modules.ftp to fake"}}});
    let login = json!({"dst_host": "192.0.2.20", "dst_port": 21, "logtype": 2000,
        "node_id": "opencanary-1", "src_host": "192.0.2.10", "src_port": 1906,
        "utc_time": "2023-06-28 15:51:48.000000",
        "logdata": {"USERNAME": "ftp", "msg": {"logdata": "not a daemon message"}}});
    let output = transform(&["--strict"], format!("{started}\n{login}\n").as_bytes());
    assert!(output.status.success(), "{}", stderr(&output));
    let events = lines(&output);
    assert_eq!(
        events[0]["message"],
        "Added service from class CanaryFTP in opencanary.modules.ftp to fake"
    );
    assert_eq!(events[0]["event"]["kind"], "event");
    assert!(events[1].get("message").is_none(), "{}", events[1]);
}
