//! Per-logtype knowledge and the two profiles, through canary-transform.

use canary_pipe::ecs::logtype::{self, Level};
use canary_pipe::flatten::Origin;
use serde_json::{Value, json};

mod common;
use common::{json_lines, stderr, transform};

/// One flat event record of `logtype` with `extra` keys on top.
fn record(logtype: Value, extra: Value) -> String {
    let mut record = json!({
        "incident_id": "incident:x:0123abcd:192.0.2.50:1720684078",
        "event_type": "event",
        "logtype": logtype,
        "src_host": "192.0.2.50",
        "dst_host": "10.0.0.5",
        "timestamp": 1720684078,
    });
    for (key, value) in extra.as_object().unwrap() {
        record[key] = value.clone();
    }
    record.to_string()
}

fn map(args: &[&str], lines: &[String]) -> Vec<Value> {
    let input = lines.join("\n") + "\n";
    let output = transform(args, input.as_bytes());
    assert!(output.status.success(), "{}", stderr(&output));
    let events = json_lines(&output);
    assert_eq!(events.len(), lines.len());
    events
}

fn strings(value: &Value) -> Vec<&str> {
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect()
}

#[test]
fn every_console_logtype_gets_its_action_category_and_severity() {
    let table = logtype::table(Origin::Console);
    let lines: Vec<String> = table.iter().map(|(code, _)| record(json!(code), json!({}))).collect();
    let events = map(&[], &lines);
    for ((code, info), event) in table.iter().zip(&events) {
        let e = &event["event"];
        assert_eq!(e["code"], code.to_string());
        assert_eq!(e["action"], info.action, "{code}");
        assert_eq!(e["severity"], info.level.score(), "{code}");
        assert_eq!(e["risk_score"], info.level.score(), "{code}");
        assert_eq!(event["thinkst_canary"]["severity"], info.level.name(), "{code}");
        let categories = strings(&e["category"]);
        assert_eq!(categories[0], "intrusion_detection");
        assert_eq!(&categories[1..], info.categories, "{code}");
        let types = strings(&e["type"]);
        assert_eq!(types[0], "denied");
        assert_eq!(e["kind"], if info.notice { "event" } else { "alert" }, "{code}");
        assert_eq!(e.get("outcome").and_then(Value::as_str), info.login.then_some("failure"));
        assert_eq!(event["network"]["protocol"].as_str(), info.protocol, "{code}");
        assert_eq!(event["rule"]["id"], code.to_string());
        assert_eq!(event["rule"]["name"], info.name, "no description: the catalogue's name");
        let tokens = (16000..18000).contains(code);
        assert_eq!(event["rule"]["ruleset"], if tokens { "canarytoken" } else { "canary" });
    }
}

#[test]
fn logins_fail_and_scans_are_medium_whatever_the_description_says() {
    // Sekoia's own cases label a WinRM record "SSH Login Attempt"; the
    // logtype decides.
    let lines = [
        record(json!("29001"), json!({"description": "SSH Login Attempt", "USERNAME": "a"})),
        record(json!(5003), json!({"description": "SSH Login Attempt", "ports": "22,80"})),
    ];
    let events = map(&[], &lines);
    assert_eq!(events[0]["event"]["action"], "winrm-login-attempt");
    assert_eq!(events[0]["event"]["outcome"], "failure");
    assert_eq!(events[0]["network"]["protocol"], "winrm");
    assert_eq!(events[0]["rule"]["name"], "SSH Login Attempt", "the record's own text is kept");
    assert_eq!(events[1]["event"]["action"], "host-port-scan");
    assert_eq!(events[1]["event"]["severity"], Level::Medium.score());
    assert!(events[1]["event"].get("outcome").is_none());
}

#[test]
fn severity_adjusters() {
    let lines = [
        // Breadcrumb credentials used: critical.
        record(json!(4002), json!({"USERNAME": "svc", "WATCHED_CREDENTIALS": "True"})),
        // The same login with no breadcrumb: high.
        record(json!(4002), json!({"USERNAME": "svc", "WATCHED_CREDENTIALS": ""})),
        // A known scanner, from an annotation: one level down.
        record(json!(4002), json!({"matched_annotations": {"shodan_scanner": ["..."]}})),
        // An internet-facing Canary hit from the internet: one level down.
        record(
            json!(2000),
            json!({"src_host": "203.0.113.9", "dst_host_public_ip": "198.51.100.1"}),
        ),
        // The same Canary hit from inside: kept.
        record(json!(2000), json!({"src_host": "10.1.1.1", "dst_host_public_ip": "198.51.100.1"})),
        // A credential token: critical; Tor keeps the level and adds a tag.
        record(json!(17012), json!({"ip_blocklist": {"is_tor": "True"}})),
        // A notice: low.
        record(json!(1004), json!({})),
    ];
    let events = map(&[], &lines);
    let levels: Vec<&str> =
        events.iter().map(|e| e["thinkst_canary"]["severity"].as_str().unwrap()).collect();
    assert_eq!(levels, ["critical", "high", "medium", "medium", "high", "critical", "low"]);
    assert_eq!(events[0]["thinkst_canary"]["watched_credentials"], true);
    assert_eq!(events[2]["tags"], json!(["shodan_scanner"]));
    assert_eq!(events[5]["tags"], json!(["tor"]));
    assert_eq!(events[6]["event"]["kind"], "event");
}

#[test]
fn unknown_logtypes_map_generic_fields_and_warn_once_per_code() {
    let lines = [
        record(json!(99999), json!({"USERNAME": "a"})),
        record(json!("99999"), json!({"USERNAME": "b"})),
        record(json!(99999), json!({"USERNAME": "c"})),
        record(json!("not-a-number"), json!({})),
        record(json!(2000), json!({})),
    ];
    let input = lines.join("\n") + "\n";
    let output = transform(&[], input.as_bytes());
    assert!(output.status.success());
    let events = json_lines(&output);
    assert_eq!(events.len(), 5);
    assert_eq!(events[0]["user"]["name"], "a");
    assert_eq!(events[0]["source"]["ip"], "192.0.2.50");
    assert_eq!(events[0]["event"]["code"], "99999");
    assert_eq!(events[0]["event"]["category"], json!(["intrusion_detection"]));
    assert_eq!(events[0]["event"]["severity"], Level::High.score(), "an unknown alert is high");
    assert!(events[0]["event"].get("action").is_none());
    let log = stderr(&output);
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains("Unknown logtype")).collect();
    assert_eq!(warnings.len(), 2, "{log}");
    assert!(warnings[0].contains("99999") && warnings[1].contains("not-a-number"), "{log}");
}

#[test]
fn the_ecs_profile_fixes_sekoias_choices() {
    let mssql = record(
        json!(9001),
        json!({"USERNAME": "sa", "HOSTNAME": "attacker-laptop", "APPNAME": "sqlmap",
               "dst_port": 1433}),
    );
    let smb = record(
        json!(5000),
        json!({"FILENAME": "payroll.xlsx", "SIZE": "4096", "OFFSET": "0", "AUDITACTION": "pread",
               "USER": "bob"}),
    );
    let token = record(json!(16000), json!({"type": "dns", "canarytoken": "abc", "name": "N/A"}));
    let lines = [mssql, smb, token];

    let sekoia = map(&[], &lines);
    assert_eq!(sekoia[0]["destination"]["domain"], "attacker-laptop");
    assert_eq!(sekoia[0]["process"]["name"], "sqlmap");
    assert_eq!(sekoia[1]["file"]["size"], 4096);
    assert_eq!(sekoia[1]["event"]["action"], "pread");
    assert_eq!(sekoia[2]["event"]["dataset"], "dns");
    for event in &sekoia {
        assert_eq!(event["event"]["type"][0], "denied");
        assert_eq!(event["observer"]["vendor"], "Thinkst Canary");
        assert_eq!(event["observer"]["product"], "Thinkst Canary");
    }

    let ecs = map(&["--profile", "ecs"], &lines);
    assert!(ecs[0]["destination"].get("domain").is_none(), "{}", ecs[0]);
    assert!(ecs[0].get("process").is_none());
    assert_eq!(ecs[0]["thinkst_canary"]["client"]["hostname"], "attacker-laptop");
    assert_eq!(ecs[0]["thinkst_canary"]["client"]["application"], "sqlmap");
    assert!(strings(&ecs[0]["related"]["hosts"]).contains(&"attacker-laptop"));
    assert_eq!(ecs[0]["observer"]["product"], "Canary");
    assert!(ecs[1]["file"].get("size").is_none());
    assert_eq!(ecs[1]["thinkst_canary"]["smb"]["read_size"], 4096);
    assert_eq!(ecs[1]["event"]["action"], "smb-file-opened");
    assert_eq!(ecs[1]["thinkst_canary"]["operation"], "pread");
    assert_eq!(ecs[2]["observer"]["product"], "Canarytokens");
    assert_eq!(ecs[2]["thinkst_canary"]["token_type"], "dns");
    for event in &ecs {
        assert_eq!(event["event"]["type"][0], "info");
        assert!(!strings(&event["event"]["type"]).contains(&"denied"));
        assert_eq!(event["observer"]["vendor"], "Thinkst");
        assert_eq!(event["event"]["dataset"], "thinkst_canary.events");
    }
}

#[test]
fn a_tftp_write_is_a_change() {
    let lines = [
        record(json!(10001), json!({"OPCODE": "WRITE", "FILENAME": "x.bin"})),
        record(json!(10001), json!({"OPCODE": "READ", "FILENAME": "x.bin"})),
    ];
    let events = map(&["--profile", "ecs"], &lines);
    assert_eq!(events[0]["event"]["type"], json!(["info", "access", "change"]));
    assert_eq!(events[1]["event"]["type"], json!(["info", "access"]));
}

/// The README's logtype table is the code's table.
#[test]
fn readme_lists_every_logtype() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for origin in [Origin::Console, Origin::OpenCanary] {
        for (code, info) in logtype::table(origin) {
            let row = format!("| {code} | `{}` |", info.action);
            assert!(readme.contains(&row), "README lacks the row starting {row:?} ({origin:?})");
        }
    }
}

/// Whether any of `secrets` shows up in `text`.
fn leaks<'s>(text: &str, secrets: &[&'s str]) -> Vec<&'s str> {
    secrets.iter().copied().filter(|s| text.contains(s)).collect()
}

#[test]
fn login_headers_and_url_secrets_never_reach_the_output() {
    let lines = [
        record(
            json!(3001),
            json!({"headers": {"Authorization": "Basic SECRET-A", "Cookie": "sid=SECRET-B",
                               "X-Nested": {"inner": [{"password": "SECRET-K"}]},
                               "x-api-key": "SECRET-C", "Referer": "https://a.example/?token=SECRET-D",
                               "Host": "bird.example", "User-Agent": "curl/8.0"},
                   "PATH": "/login?user=bob&password=SECRET-E"}),
        ),
        record(
            json!(7001),
            json!({"URL": "http://admin:SECRET-F@inner.example/?pwd=SECRET-G&q=1"}),
        ),
        // Webhook details the converter does not know keep their names.
        json!({"Description": "MySQL Login Attempt", "Timestamp": "2024-05-01 10:15:30 (UTC)",
               "CanaryName": "db-1", "CanaryIP": "192.0.2.10", "SourceIP": "192.0.2.55",
               "IncidentHash": "0123456789abcdef0123456789abcdef", "LogType": "8001",
               "AlertType": "CanaryIncident",
               "AdditionalDetails": [["Password", "SECRET-H", "extra"], ["Client Hash", "SECRET-I"],
                                     ["Private Key", "SECRET-J"], ["Username", "root"]]})
        .to_string(),
    ];
    let secrets = [
        "SECRET-A", "SECRET-B", "SECRET-C", "SECRET-D", "SECRET-E", "SECRET-F", "SECRET-G",
        "SECRET-H", "SECRET-I", "SECRET-J", "SECRET-K",
    ];
    for args in [&[][..], &["--keep-original"][..], &["--keep-original", "--profile", "ecs"][..]] {
        let events = map(args, &lines);
        let text = events.iter().map(Value::to_string).collect::<String>();
        assert_eq!(leaks(&text, &secrets), Vec::<&str>::new(), "{args:?}: {text}");
    }
    let events = map(&["--keep-original"], &lines);
    let web = &events[0];
    assert_eq!(web["thinkst_canary"]["headers"]["Authorization"], "[REDACTED]");
    assert_eq!(web["thinkst_canary"]["headers"]["Host"], "bird.example");
    assert_eq!(web["url"]["path"], "/login", "the query is not part of the path");
    assert!(web["url"]["query"].as_str().unwrap().contains("user=bob"));
    assert!(web["http"]["request"]["referrer"].as_str().unwrap().starts_with("https://a.example/"));
    assert_eq!(web["user_agent"]["original"], "curl/8.0");
    let original: Value = serde_json::from_str(web["event"]["original"].as_str().unwrap()).unwrap();
    assert_eq!(original["headers"]["Cookie"], "[REDACTED]");
    assert_eq!(events[2]["user"]["name"], "root");
}

#[test]
fn sip_user_agents_come_from_header_lists() {
    let events =
        map(&[], &[record(json!(15001), json!({"HEADERS": {"user-agent": ["friendly-scanner"]}}))]);
    assert_eq!(events[0]["user_agent"]["original"], "friendly-scanner");
}

#[test]
fn ids_given_in_records_are_kept_only_in_their_own_form() {
    let good = "0123456789abcdef0123456789abcdef";
    let lines = [
        record(json!(4002), json!({"record_id": good})),
        record(json!(4002), json!({"record_id": ""})),
        record(json!(4002), json!({"record_id": "x".repeat(600)})),
    ];
    let events = map(&[], &lines);
    assert_eq!(events[0]["event"]["id"], good);
    for event in &events[1..] {
        let id = event["event"]["id"].as_str().unwrap();
        assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    }
}

#[test]
fn es_bulk_rejects_records_without_a_time() {
    let timeless = json!({"incident_id": "incident:x:ab:192.0.2.9:1", "event_type": "event",
                          "logtype": "2000", "USERNAME": "a"});
    let input = format!("{}\n{timeless}\n", record(json!(2000), json!({})));
    let output = transform(&["--format", "es-bulk", "--index", "canary"], input.as_bytes());
    let out = String::from_utf8(output.stdout.clone()).unwrap();
    assert_eq!(out.lines().count(), 2, "one action and one event: {out}");
    let log = stderr(&output);
    assert!(log.contains("line=2") && log.contains("@timestamp"), "{log}");
    assert!(log.contains("written=1") && log.contains("rejected=1"), "{log}");
}

#[test]
fn audit_records_keep_their_original_when_asked() {
    let entry = json!({"event_type": "audit", "id": 77, "timestamp": "2024-05-01T10:15:30+00:00",
                       "action_type": "user_login", "user": "ops@example.org", "message": "hi"});
    let events = map(&["--keep-original"], &[entry.to_string()]);
    assert!(events[0]["event"]["original"].as_str().unwrap().contains("user_login"));
}

#[test]
fn an_unknown_logtype_cannot_forge_log_lines() {
    let input = record(json!("1\n2026-12-03T00:00:00Z  INFO Finished. read=0"), json!({})) + "\n";
    let output = transform(&[], input.as_bytes());
    let log = stderr(&output);
    let forged = log.lines().filter(|l| l.starts_with("2026-12-03T00:00:00Z")).count();
    assert_eq!(forged, 0, "{log}");
    assert!(log.contains(r#"logtype="1\n2026-12-03"#), "the value is quoted, escaped: {log}");
}

#[test]
fn index_without_es_bulk_is_a_usage_error() {
    let output = transform(&["--index", "canary"], b"");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}
