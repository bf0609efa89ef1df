//! `canary-source --emit ecs`: the mapped events come out of the source
//! itself, the same as the source's records piped through canary-transform,
//! with the source's delivery rules unchanged.

use std::process::{Command, Output, Stdio};

use serde_json::Value;

mod common;
use common::{json_lines, stderr};

const SOURCE: &str = env!("CARGO_BIN_EXE_canary-source");
const TRANSFORM: &str = env!("CARGO_BIN_EXE_canary-transform");

fn source(args: &[&str]) -> Output {
    let output = Command::new(SOURCE).args(args).env_remove("CANARY_CONSOLE").output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    output
}

/// `canary-source <source_args> | canary-transform <transform_args>`, as two
/// processes joined by a pipe.
fn piped(source_args: &[&str], transform_args: &[&str]) -> Vec<u8> {
    let mut upstream = Command::new(SOURCE)
        .args(source_args)
        .env_remove("CANARY_CONSOLE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let transform = Command::new(TRANSFORM)
        .args(transform_args)
        .stdin(upstream.stdout.take().unwrap())
        .output()
        .unwrap();
    assert!(upstream.wait().unwrap().success());
    assert!(transform.status.success(), "{}", stderr(&transform));
    transform.stdout
}

#[test]
fn the_same_lines_as_source_piped_into_transform() {
    let cases: [(&str, &[&str]); 4] = [
        ("incidents", &[]),
        ("incidents", &["--profile", "ecs"]),
        ("incidents", &["--keep-credentials"]),
        ("audit", &[]),
    ];
    for (feed, mapping) in cases {
        let records = ["--demo", "--once", "--feed", feed];
        let direct = source(&[&records[..], &["--emit", "ecs"], mapping].concat());
        let through_transform = piped(&records, mapping);
        assert!(!direct.stdout.is_empty());
        assert!(direct.stdout == through_transform, "--feed {feed} {mapping:?}: the lines differ");
    }
}

/// `event.original` is the only field that may differ: the source writes
/// the record's keys in the order it builds them, while canary-transform
/// reads a record of many keys into a hash map whose order it does not
/// keep. The content is the same.
#[test]
fn kept_originals_hold_the_same_record() {
    let direct = json_lines(&source(&["--demo", "--once", "--emit", "ecs", "--keep-original"]));
    let piped = piped(&["--demo", "--once"], &["--keep-original"]);
    let piped: Vec<Value> = String::from_utf8(piped)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(direct.len(), piped.len());
    let parsed = |mut event: Value| {
        let original = event["event"]["original"].take();
        let original: Value = serde_json::from_str(original.as_str().unwrap()).unwrap();
        (event, original)
    };
    for (a, b) in direct.into_iter().zip(piped) {
        assert_eq!(parsed(a), parsed(b));
    }
}

#[test]
fn event_id_is_the_record_id_the_source_would_have_written() {
    let records = json_lines(&source(&["--demo", "--once"]));
    let events = json_lines(&source(&["--demo", "--once", "--emit", "ecs"]));
    let record_ids: Vec<&Value> = records.iter().map(|r| &r["record_id"]).collect();
    let event_ids: Vec<&Value> = events.iter().map(|e| &e["event"]["id"]).collect();
    assert_eq!(event_ids, record_ids);
    assert!(record_ids.iter().all(|id| id.as_str().is_some_and(|s| s.len() == 32)));
}

#[test]
fn the_state_file_and_state_out_work_as_for_records() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let next = dir.path().join("state.next.json");
    let (state, next) = (state.to_str().unwrap(), next.to_str().unwrap());
    let ecs = ["--demo", "--once", "--emit", "ecs", "--state-file", state];

    // Two-phase: the new state goes aside and the old one stays put.
    let first = source(&[&ecs[..], &["--state-out", next]].concat());
    assert_eq!(json_lines(&first).len(), common::demo_record_count());
    assert!(!std::path::Path::new(state).exists());
    std::fs::rename(next, state).unwrap();

    // Committed: nothing is written again, in either output.
    assert!(source(&ecs).stdout.is_empty());
    assert!(source(&["--demo", "--once", "--state-file", state]).stdout.is_empty());
}

#[test]
fn mapping_options_without_emit_ecs_are_refused() {
    let output =
        Command::new(SOURCE).args(["--demo", "--once", "--keep-original"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--emit ecs"), "{}", stderr(&output));
    assert!(output.stdout.is_empty());
}

/// `--max-line-bytes` holds for the source's ECS lines too: an event over
/// it is written shorter, with a warning, and the others are unchanged.
#[test]
fn ecs_lines_keep_to_the_line_cap() {
    let run = ["--demo", "--once", "--emit", "ecs", "--keep-original"];
    let whole = source(&run);
    let capped = source(&[&run[..], &["--max-line-bytes", "4096"]].concat());
    let (whole_lines, capped_lines): (Vec<&[u8]>, Vec<&[u8]>) = (
        whole.stdout.split_inclusive(|b| *b == b'\n').collect(),
        capped.stdout.split_inclusive(|b| *b == b'\n').collect(),
    );
    assert_eq!(whole_lines.len(), capped_lines.len(), "every event written");
    let mut cut = 0;
    for (whole, capped) in whole_lines.iter().zip(&capped_lines) {
        assert!(capped.len() <= 4096, "{} bytes", capped.len());
        if whole.len() <= 4096 {
            assert_eq!(whole, capped);
        } else {
            cut += 1;
            let event: Value = serde_json::from_slice(capped).unwrap();
            let before: Value = serde_json::from_slice(whole).unwrap();
            assert_eq!(event["thinkst_canary"]["truncated"], true);
            assert_eq!(event["event"]["id"], before["event"]["id"]);
            assert!(event["event"].get("original").is_none());
        }
    }
    assert!(cut > 0, "the demo has an event over 4096 bytes with its original");
    let log = stderr(&capped);
    assert_eq!(log.matches("Event longer than --max-line-bytes").count(), cut, "{log}");
}
