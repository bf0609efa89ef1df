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
