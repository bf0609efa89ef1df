//! canary-source, run as a program against the demo console on 127.0.0.1.

use std::collections::HashSet;
use std::process::Output;

use canary_pipe::console::Token;
use canary_pipe::demo::{self, Console, Fault};
use serde_json::{Value, json};

mod common;
use common::{demo_record_count as expected_records, json_lines as lines, stderr, watermark};

const TOKEN: &str = "test-token-0123456789";

async fn console() -> Console {
    Console::start(Token::new(TOKEN).unwrap(), demo::builtin_incidents()).await.unwrap()
}

async fn source(args: &[&str], token: Option<&str>) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_canary-source"));
    command.args(args).env_remove("CANARY_CONSOLE").env_remove("CANARY_AUTH_TOKEN");
    if let Some(token) = token {
        command.env("CANARY_AUTH_TOKEN", token);
    }
    command.output().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_through_the_feed_and_resumes_from_the_state_file() {
    let console = console().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().unwrap();
    let url = console.url();
    let args = ["--console", &url, "--once", "--page-size", "5", "--state-file", state_arg];

    let first = source(&args, Some(TOKEN)).await;
    assert!(first.status.success(), "{}", stderr(&first));
    let records = lines(&first);
    assert_eq!(records.len(), expected_records());
    let incidents: Vec<&Value> = records.iter().filter(|r| r["event_type"] == "incident").collect();
    assert_eq!(incidents.len(), demo::builtin_incidents().len());
    assert!(records.iter().all(|r| r["incident_id"].as_str().is_some_and(|s| !s.is_empty())));
    assert_eq!(watermark(&state), console.last_id());

    // 5 incidents a page: the first with the query, the others with the
    // cursor alone; never the token in a URL.
    let requests = console.requests();
    let pages = demo::builtin_incidents().len().div_ceil(5);
    assert_eq!(requests.len(), pages, "{requests:?}");
    assert_eq!(requests[0], "incidents_since=0&limit=5&shrink=true&tz=UTC");
    for later in &requests[1..] {
        assert!(later.starts_with("cursor=") && later.ends_with("&shrink=true&tz=UTC"), "{later}");
        assert!(!later.contains("limit=") && !later.contains("incidents_since"), "{later}");
    }
    assert!(requests.iter().all(|r| !r.contains("auth_token")));

    // One incident gains an event, one is new: only those two come back.
    let mut grown = demo::builtin_incidents()[2].clone();
    grown["description"]["events"].as_array_mut().unwrap().push(json!({
        "USERNAME": "late", "PASSWORD": "x", "timestamp": 1_795_000_000,
        "timestamp_std": "2026-11-18 08:26:40 UTC+0000"
    }));
    console.upsert(grown.clone());
    let mut fresh = demo::builtin_incidents()[0].clone();
    fresh["id"] = json!("incident:consolidatedportscan:ffff:203.0.113.9:1795000000");
    console.upsert(fresh);

    let second = source(&args, Some(TOKEN)).await;
    assert!(second.status.success(), "{}", stderr(&second));
    let records = lines(&second);
    let ids: HashSet<&str> = records.iter().filter_map(|r| r["incident_id"].as_str()).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(grown["id"].as_str().unwrap()));
    // The grown incident sends its incident record and the new event only.
    let from_grown: Vec<&Value> =
        records.iter().filter(|r| r["incident_id"] == grown["id"]).collect();
    assert_eq!(from_grown.len(), 2, "{from_grown:#?}");
    assert_eq!(from_grown[0]["event_type"], "incident");
    assert_eq!(from_grown[1]["USERNAME"], "late");
    assert_eq!(records.len(), 2 + 2);
    assert_eq!(watermark(&state), console.last_id());
    let last_first_request = &console.requests()[pages];
    let highest = demo::builtin_incidents().iter().map(|i| i["updated_id"].as_u64().unwrap()).max();
    let since = format!("incidents_since={}&", highest.unwrap());
    assert!(last_first_request.starts_with(&since), "{last_first_request}");

    // Nothing new: nothing written, state unchanged.
    let third = source(&args, Some(TOKEN)).await;
    assert!(third.status.success());
    assert!(third.stdout.is_empty());
    assert_eq!(watermark(&state), console.last_id());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_token_exits_3_with_one_clear_line_and_never_shows_the_token() {
    let console = console().await;
    let wrong = "wrong-token-secret-42";
    let url = console.url();
    for extra in [&["--once"][..], &[][..]] {
        let mut args = vec!["--console", url.as_str()];
        args.extend_from_slice(extra);
        let output = source(&args, Some(wrong)).await;
        assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
        assert!(output.stdout.is_empty());
        let log = stderr(&output);
        let errors: Vec<&str> = log.lines().filter(|l| l.contains("ERROR")).collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("rejected the auth token"), "{}", errors[0]);
        assert!(!log.contains(wrong));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_comes_from_a_file_or_the_environment_only() {
    let console = console().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{TOKEN}\n")).unwrap();
    let output = source(
        &["--console", &console.url(), "--once", "--auth-token-file", file.to_str().unwrap()],
        None,
    )
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(lines(&output).len(), expected_records());

    let missing = source(&["--console", &console.url(), "--once"], None).await;
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("CANARY_AUTH_TOKEN"));

    let argv = source(&["--console", &console.url(), "--auth-token", TOKEN], None).await;
    assert_eq!(argv.status.code(), Some(2), "no option takes the token itself");
}

#[tokio::test(flavor = "multi_thread")]
async fn emit_incidents_writes_each_incident_as_received() {
    let console = console().await;
    let output = source(
        &["--console", &console.url(), "--once", "--emit", "incidents", "--page-size", "4"],
        Some(TOKEN),
    )
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(lines(&output), demo::builtin_incidents());
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_is_refused_except_to_loopback() {
    let output = source(&["--console", "http://console.example.com", "--once"], Some(TOKEN)).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("plain http"), "{}", stderr(&output));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_console_is_retried_then_given_up_in_once_mode() {
    // Bind then drop a listener: the port is closed on 127.0.0.1.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/");
    let args = ["--console", &url, "--once", "--max-attempts", "3", "--max-backoff-secs", "1"];
    let output = source(&args, Some(TOKEN)).await;
    assert_eq!(output.status.code(), Some(69), "{}", stderr(&output));
    let log = stderr(&output);
    let retries: Vec<&str> = log.lines().filter(|l| l.contains("retrying")).collect();
    assert_eq!(retries.len(), 2, "{retries:?}");
    assert!(retries.iter().all(|l| l.contains("kind=\"connect\"") || l.contains("kind=connect")));
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_prints_everything_once_then_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("demo-state.json");
    let args = ["--demo", "--once", "--state-file", state.to_str().unwrap()];
    let first = source(&args, None).await;
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(lines(&first).len(), expected_records());
    let second = source(&args, None).await;
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(second.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_are_retried_and_nothing_is_lost() {
    let console = console().await;
    // The first page fails twice, then a later page once.
    console.inject([Fault::Status(503), Fault::Html]);
    let url = console.url();
    let args = ["--console", &url, "--once", "--page-size", "6", "--max-backoff-secs", "1"];
    let output = source(&args, Some(TOKEN)).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(lines(&output).len(), expected_records());
    let log = stderr(&output);
    let retries: Vec<&str> = log.lines().filter(|l| l.contains("retrying")).collect();
    assert_eq!(retries.len(), 2, "{log}");
    assert!(retries[0].contains("http_status") && retries[1].contains("bad_response"), "{log}");
    let pages = demo::builtin_incidents().len().div_ceil(6);
    assert_eq!(console.requests().len(), 2 + pages, "two failures, then every page");
}

#[tokio::test(flavor = "multi_thread")]
async fn polls_until_sigterm_then_exits_0_with_the_state_saved() {
    use tokio::io::AsyncBufReadExt;

    let console = console().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let args = ["--interval-secs", "1", "--state-file", state.to_str().unwrap()];
    let mut child = common::spawn_source(&console.url(), TOKEN, &args);
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    for _ in 0..expected_records() {
        stdout.next_line().await.unwrap().expect("a record");
    }

    // A new incident arrives while it polls.
    let mut fresh = demo::builtin_incidents()[1].clone();
    fresh["id"] = json!("incident:hostportscan:eeee:198.51.100.99:1795000000");
    console.upsert(fresh);
    let line = stdout.next_line().await.unwrap().expect("the new incident");
    assert!(line.contains("198.51.100.99"), "{line}");
    stdout.next_line().await.unwrap().expect("its event");

    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = child.wait().await.unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(stdout.next_line().await.unwrap(), None);
    assert_eq!(watermark(&state), console.last_id());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_trail_feed_has_its_own_watermark() {
    let console = console().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("audit-state.json");
    let url = console.url();
    let args = [
        "--console",
        &url,
        "--once",
        "--feed",
        "audit",
        "--page-size",
        "3",
        "--state-file",
        state.to_str().unwrap(),
    ];

    let first = source(&args, Some(TOKEN)).await;
    assert!(first.status.success(), "{}", stderr(&first));
    let entries = lines(&first);
    assert_eq!(entries.len(), demo::builtin_audit().len());
    assert!(entries.iter().all(|e| e["event_type"] == "audit" && e["record_id"].is_string()));
    let saved: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(saved["feed"], "audit");
    let highest = entries.iter().filter_map(|e| e["id"].as_u64()).max().unwrap();
    assert_eq!(saved["watermark"], highest);

    // Only what is newer than the watermark, and the pages stop there.
    let requests_before = console.requests().len();
    let added = console.add_audit(json!({"action_type": "user_logout", "message": "User logged out",
        "timestamp": "2026-11-20 10:00:00 UTC+0000", "user": "analyst@example.com", "user_ip": "192.0.2.44"}));
    let second = source(&args, Some(TOKEN)).await;
    assert!(second.status.success(), "{}", stderr(&second));
    let new = lines(&second);
    assert_eq!(new.len(), 1);
    assert_eq!(new[0]["id"], added);
    assert_eq!(console.requests().len(), requests_before + 1, "one page was enough");

    // The incident feed refuses the audit feed's state file.
    let mixed = source(
        &["--console", &url, "--once", "--state-file", state.to_str().unwrap()],
        Some(TOKEN),
    )
    .await;
    assert_eq!(mixed.status.code(), Some(1));
}

/// The next page is asked for while the current one is written: with the
/// first page's lines stuck in a pipe nobody reads yet (a page of 500
/// generated incidents is megabytes, a pipe holds 64 KiB), the console still
/// gets the request for the second page.
#[tokio::test(flavor = "multi_thread")]
async fn the_next_page_is_fetched_while_this_one_is_written() {
    use tokio::io::AsyncReadExt;

    let incidents = demo::generate::incidents(1200, 7);
    let console = Console::start(Token::new(TOKEN).unwrap(), incidents).await.unwrap();
    let args = ["--once", "--page-size", "500"];
    let mut child = common::spawn_source(&console.url(), TOKEN, &args);

    let asked = tokio::time::timeout(std::time::Duration::from_secs(30), console.requested(2));
    assert!(asked.await.is_ok(), "no second request while the first page was being written");
    let mut output = String::new();
    child.stdout.take().unwrap().read_to_string(&mut output).await.unwrap();
    assert_eq!(child.wait().await.unwrap().code(), Some(0));

    // Nothing lost or repeated for fetching ahead: three pages, every
    // incident once.
    assert_eq!(console.requests().len(), 3, "{:?}", console.requests());
    let records: Vec<Value> = output.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let keys: Vec<&str> = records
        .iter()
        .filter(|r| r["event_type"] == "incident")
        .map(|r| r["incident_id"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 1200);
    assert_eq!(keys.iter().collect::<HashSet<_>>().len(), 1200);
    let ids: HashSet<&str> = records.iter().map(|r| r["record_id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), records.len(), "no record twice");
}
