//! Delivery guarantees of canary-source beyond one clean run: two-phase state
//! for shell pipes, acknowledgements, first runs that start at a time, scope
//! filters, a closed stdout, and SIGINT.

use std::collections::HashSet;
use std::process::Output;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use canary_pipe::console::Token;
use canary_pipe::demo::{self, Console, Fault};
use serde_json::Value;

mod common;
use common::{demo_record_count as all_record_count, json_lines as records};

const TOKEN: &str = "delivery-test-token";
const SOURCE: &str = env!("CARGO_BIN_EXE_canary-source");
const TRANSFORM: &str = env!("CARGO_BIN_EXE_canary-transform");

async fn console() -> Console {
    Console::start(Token::new(TOKEN).unwrap(), demo::builtin_incidents()).await.unwrap()
}

async fn source(console: &Console, extra: &[&str]) -> Output {
    tokio::process::Command::new(SOURCE)
        .args(["--console", &console.url(), "--max-backoff-secs", "1"])
        .args(extra)
        .env("CANARY_AUTH_TOKEN", TOKEN)
        .output()
        .await
        .unwrap()
}

/// An HTTP sink on 127.0.0.1 that refuses its first batch with a 500 and
/// keeps the bodies of the others.
async fn flaky_sink() -> (String, Arc<Mutex<Vec<String>>>) {
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let calls = Arc::new(Mutex::new(0u32));
    let kept = accepted.clone();
    let app = Router::new().route(
        "/batch",
        post(move |body: String| {
            let (kept, calls) = (kept.clone(), calls.clone());
            async move {
                let mut calls = calls.lock().unwrap();
                *calls += 1;
                if *calls == 1 {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                kept.lock().unwrap().push(body);
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/batch", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, accepted)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shell_pipe_commits_the_state_only_when_the_sink_accepted() {
    let console = console().await;
    let (sink, accepted) = flaky_sink().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let next = dir.path().join("state.next.json");
    // The pattern the README documents: the new state is moved over the
    // old one only when every stage of the pipe succeeded.
    let script = format!(
        "set -o pipefail; {SOURCE} --once --console {url} --state-file {state} --state-out {next} \
         | {TRANSFORM} | curl -sS --fail -X POST --data-binary @- {sink} && mv {next} {state}",
        url = console.url(),
        state = state.display(),
        next = next.display(),
    );
    let run = || {
        tokio::process::Command::new("bash")
            .args(["-c", &script])
            .env("CANARY_AUTH_TOKEN", TOKEN)
            .output()
    };

    let failed = run().await.unwrap();
    assert!(!failed.status.success(), "the sink refused the batch");
    assert!(!state.exists(), "no state committed for a refused batch");

    let succeeded = run().await.unwrap();
    assert!(succeeded.status.success(), "{}", String::from_utf8_lossy(&succeeded.stderr));
    assert!(state.exists());
    let batches = accepted.lock().unwrap().clone();
    let events: Vec<Value> =
        batches.iter().flat_map(|b| b.lines()).map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.len(), all_record_count(), "the refused batch was sent again in full");

    // Nothing new: the next batch is empty and the state stays.
    let again = run().await.unwrap();
    assert!(again.status.success());
    let last = accepted.lock().unwrap().last().cloned().unwrap();
    assert!(last.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledge_after_writing_never_twice_and_without_repeats() {
    let console = console().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state = state.to_str().unwrap();
    let unacknowledged: HashSet<String> = demo::builtin_incidents()
        .iter()
        .filter(|i| i["description"]["acknowledged"] != "True")
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    // The first acknowledgement fails three times: retried twice at once,
    // then left for the next poll.
    console.inject([Fault::AcknowledgeFails, Fault::AcknowledgeFails, Fault::AcknowledgeFails]);

    let first =
        source(&console, &["--once", "--acknowledge", "--page-size", "5", "--state-file", state])
            .await;
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert_eq!(records(&first).len(), all_record_count());
    let log = String::from_utf8_lossy(&first.stderr).into_owned();
    assert_eq!(log.matches("Acknowledgement failed").count(), 1, "{log}");

    // The acknowledgements come back through the feed as updated incidents:
    // their incident records say so, no event is sent again, and the failed
    // acknowledgement is retried.
    let second =
        source(&console, &["--once", "--acknowledge", "--page-size", "5", "--state-file", state])
            .await;
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    let again = records(&second);
    assert!(again.iter().all(|r| r["event_type"] == "incident"), "no event repeated: {again:#?}");
    assert!(again.iter().all(|r| r["acknowledged"] == "True"));

    let acks = console.acknowledgements();
    let succeeded: Vec<&String> = acks.iter().collect();
    let distinct: HashSet<&String> = succeeded.iter().copied().collect();
    assert_eq!(distinct.len(), unacknowledged.len());
    assert_eq!(
        acks.len(),
        unacknowledged.len() + 3,
        "three failed attempts, then each exactly once"
    );
    let second_log = String::from_utf8_lossy(&second.stderr).into_owned();
    assert!(
        second_log.contains("acknowledged=1"),
        "the pending one, at the next poll: {second_log}"
    );

    let third = source(&console, &["--once", "--acknowledge", "--state-file", state]).await;
    assert!(third.stdout.is_empty());
    assert_eq!(console.acknowledgements().len(), acks.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_run_can_start_at_a_time() {
    let console = console().await;
    let cutoff: i64 = 1_794_300_000; // within the demo incidents' range
    let since = jiff::Timestamp::from_second(cutoff).unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let args = ["--once", "--since", since.as_str(), "--state-file", state.to_str().unwrap()];

    let first = source(&console, &args).await;
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let expected: HashSet<String> = demo::builtin_incidents()
        .iter()
        .filter(|i| i["description"]["created"].as_str().unwrap().parse::<i64>().unwrap() > cutoff)
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!expected.is_empty() && expected.len() < demo::builtin_incidents().len());
    let got: HashSet<String> =
        records(&first).iter().map(|r| r["incident_id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(got, expected);
    assert!(console.requests()[0].starts_with("newer_than=2026-11-"), "{:?}", console.requests());

    // From then on, the watermark.
    let second = source(&console, &args).await;
    assert!(second.stdout.is_empty());
    assert!(console.requests().last().unwrap().starts_with("incidents_since="));

    let bad = source(&console, &["--once", "--since", "yesterday-ish"]).await;
    assert_eq!(bad.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn scope_options_reach_the_console() {
    let console = console().await;
    let flock = "flock:0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    let output = source(&console, &["--once", "--flock-id", flock, "--event-limit", "1"]).await;
    assert!(output.status.success());
    let written = records(&output);
    assert!(!written.is_empty());
    assert!(written.iter().filter(|r| r["event_type"] == "event").all(|r| r["flock_id"] == flock));
    let per_incident = written.iter().filter(|r| r["event_type"] == "event").count();
    let incidents = written.iter().filter(|r| r["event_type"] == "incident").count();
    assert!(per_incident <= incidents, "--event-limit 1 caps the events per incident");
    assert!(console.requests()[0].contains("flock_id=flock%3A0a1b"), "{:?}", console.requests());

    let node = "3f8e2a1c5b7d9064";
    let output = source(&console, &["--once", "--node-id", node]).await;
    assert!(
        records(&output)
            .iter()
            .filter(|r| r["event_type"] == "event")
            .all(|r| r["node_id"] == node)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_stdout_stops_the_run_without_moving_the_state_past_it() {
    let console = console().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let mut child = std::process::Command::new(SOURCE)
        .args(["--console", &console.url(), "--once", "--page-size", "1"])
        .arg("--state-file")
        .arg(&state)
        .env("CANARY_AUTH_TOKEN", TOKEN)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close the pipe: the downstream is gone.
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let output =
        tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
    assert_eq!(output.status.code(), Some(74), "{}", String::from_utf8_lossy(&output.stderr));
    let saved: Value = serde_json::from_slice(
        &std::fs::read(&state).unwrap_or_else(|_| b"{\"watermark\":0}".to_vec()),
    )
    .unwrap();
    assert!(saved["watermark"].as_u64().unwrap() < console.last_id(), "stopped before the end");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigint_ends_a_polling_run_with_exit_0() {
    use tokio::io::AsyncBufReadExt;

    let console = console().await;
    let mut child = common::spawn_source(&console.url(), TOKEN, &[]);
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    for _ in 0..all_record_count() {
        lines.next_line().await.unwrap().unwrap();
    }
    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    assert_eq!(child.wait().await.unwrap().code(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn events_listed_out_of_time_order_all_arrive_once() {
    let console = Console::start(Token::new(TOKEN).unwrap(), Vec::new()).await.unwrap();
    let event = |name: &str, t: i64| serde_json::json!({"USERNAME": name, "timestamp": t});
    let mut incident = serde_json::json!({
        "id": "incident:sshlogin:ab:192.0.2.5:1790000000", "summary": "SSH Login Attempt",
        "updated_time": "1790000300",
        "description": {"logtype": "4002", "events": [event("late", 1_790_000_200), event("early", 1_790_000_100)]}
    });
    console.upsert(incident.clone());
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let args = ["--once", "--state-file", state.to_str().unwrap()];
    let first = records(&source(&console, &args).await);
    let names: Vec<&str> = first.iter().filter_map(|r| r["USERNAME"].as_str()).collect();
    assert_eq!(names, ["late", "early"]);

    // It comes back with an event older than both: new, so it is sent.
    incident["description"]["events"].as_array_mut().unwrap().push(event("older", 1_790_000_050));
    console.upsert(incident);
    let second = records(&source(&console, &args).await);
    let names: Vec<&str> = second.iter().filter_map(|r| r["USERNAME"].as_str()).collect();
    assert_eq!(names, ["older"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn since_holds_until_the_feed_gives_a_watermark() {
    let console = console().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    // After every demo incident: nothing to send, twice.
    let args =
        ["--once", "--since", "2026-12-01T00:00:00Z", "--state-file", state.to_str().unwrap()];
    for _ in 0..2 {
        let run = source(&console, &args).await;
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        assert!(run.stdout.is_empty(), "a quiet console does not turn into all history");
    }
    assert!(console.requests().iter().all(|r| r.starts_with("newer_than=2026-12-01-00")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_state_file_serves_one_source_and_one_scope() {
    let console = console().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().unwrap();
    let mut polling = common::spawn_source(&console.url(), TOKEN, &["--state-file", state_arg]);
    // Once it has written, it holds the state file.
    let mut first = String::new();
    tokio::io::AsyncBufReadExt::read_line(
        &mut tokio::io::BufReader::new(polling.stdout.as_mut().unwrap()),
        &mut first,
    )
    .await
    .unwrap();
    let second = source(&console, &["--once", "--state-file", state_arg]).await;
    assert_eq!(second.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&second.stderr).contains("in use by another canary-source"));
    // A stop, not a kill: the source saves its state on the way out, so the
    // file surely holds a watermark for the whole feed.
    let pid = polling.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    assert!(polling.wait().await.unwrap().success());

    let narrowed =
        source(&console, &["--once", "--flock-id", "flock:default", "--state-file", state_arg])
            .await;
    assert_eq!(narrowed.status.code(), Some(1), "a watermark made for the whole feed");
    assert!(String::from_utf8_lossy(&narrowed.stderr).contains("feed filters"));
}
