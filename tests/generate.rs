//! canary-source against a demo console holding generated incidents: every
//! generated event comes out once, with its own keys.

use std::collections::HashMap;

use canary_pipe::console::Token;
use canary_pipe::demo::{Console, generate};
use serde_json::Value;

mod common;

const TOKEN: &str = "generated-token-0123456789";

/// An event told apart from the others: its incident and its timestamp. The
/// generator gives the events of one incident strictly increasing times, and
/// at most one event to an incident whose events carry none.
type EventKey = (String, Option<i64>);

fn event_key(incident_id: &str, event: &Value) -> EventKey {
    (incident_id.to_owned(), event.get("timestamp").and_then(Value::as_i64))
}

#[tokio::test(flavor = "multi_thread")]
async fn every_generated_event_comes_out_exactly_once() {
    let incidents = generate::incidents(2_000, 42);
    let console = Console::start(Token::new(TOKEN).unwrap(), incidents.clone()).await.unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_canary-source"))
        .args(["--console", &console.url(), "--once", "--page-size", "250"])
        .env_remove("CANARY_CONSOLE")
        .env("CANARY_AUTH_TOKEN", TOKEN)
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let records = common::json_lines(&output);
    let mut written: HashMap<EventKey, Vec<&Value>> = HashMap::new();
    for record in records.iter().filter(|r| r["event_type"] == "event") {
        let incident_id = record["incident_id"].as_str().expect("an incident_id");
        written.entry(event_key(incident_id, record)).or_default().push(record);
    }
    let incident_records = records.iter().filter(|r| r["event_type"] == "incident").count();
    assert_eq!(incident_records, incidents.len());

    let mut expected = 0;
    for incident in &incidents {
        let id = incident["id"].as_str().unwrap();
        let events = incident["description"]["events"].as_array().map_or(&[][..], Vec::as_slice);
        for event in events {
            expected += 1;
            let key = event_key(id, event);
            let copies = written.get(&key).map_or(&[][..], Vec::as_slice);
            assert_eq!(copies.len(), 1, "event {key:?} written {} times", copies.len());
            for (name, value) in event.as_object().unwrap() {
                assert_eq!(&copies[0][name], value, "{name} of event {key:?}");
            }
        }
    }
    assert!(expected >= 3 * incidents.len(), "{expected} events generated");
    assert_eq!(written.values().map(Vec::len).sum::<usize>(), expected, "no event invented");
}
