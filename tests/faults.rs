//! canary-source against a console that fails in every documented way: each
//! fault is retried or worked around, no record is lost or repeated, every
//! failure is one warning naming its kind, and retries never hot-loop.

use std::collections::HashSet;
use std::process::Output;
use std::time::Duration;

use canary_pipe::console::Token;
use canary_pipe::demo::{self, Console, Fault};
use serde_json::Value;

const TOKEN: &str = "fault-test-token";

async fn console() -> Console {
    Console::start(Token::new(TOKEN).unwrap(), demo::builtin_incidents()).await.unwrap()
}

async fn source(console: &Console, extra: &[&str]) -> Output {
    let url = console.url();
    let mut args = vec!["--console", url.as_str(), "--once", "--page-size", "6"];
    args.extend_from_slice(&["--max-backoff-secs", "1"]);
    args.extend_from_slice(extra);
    tokio::process::Command::new(env!("CARGO_BIN_EXE_canary-source"))
        .args(&args)
        .env("CANARY_AUTH_TOKEN", TOKEN)
        .env_remove("CANARY_CONSOLE")
        .output()
        .await
        .unwrap()
}

fn record_ids(output: &Output) -> Vec<String> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| {
            let record: Value = serde_json::from_str(line).unwrap();
            record["record_id"].as_str().unwrap().to_owned()
        })
        .collect()
}

fn warnings(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| l.contains("WARN"))
        .map(str::to_owned)
        .collect()
}

/// What a run against a console without faults writes.
async fn clean_ids() -> Vec<String> {
    let console = console().await;
    let output = source(&console, &[]).await;
    assert!(output.status.success());
    record_ids(&output)
}

/// Runs once with `faults` injected and checks: exit 0, exactly the clean
/// run's records, one warning per fault naming `kind`.
async fn survives(faults: Vec<Fault>, kind: &str, extra: &[&str]) -> Console {
    let expected = clean_ids().await;
    let console = console().await;
    let count = faults.len();
    console.inject(faults);
    let output = source(&console, extra).await;
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{log}");

    let ids = record_ids(&output);
    assert_eq!(ids.len(), expected.len(), "no record lost or repeated:\n{log}");
    assert_eq!(ids.iter().collect::<HashSet<_>>(), expected.iter().collect::<HashSet<_>>());

    let warned = warnings(&output);
    assert_eq!(warned.len(), count, "one warning per failure:\n{log}");
    assert!(warned.iter().all(|w| w.contains(&format!("kind=\"{kind}\"")) || w.contains(&format!("kind={kind}"))), "{log}");
    console
}

#[tokio::test(flavor = "multi_thread")]
async fn server_errors() {
    survives(vec![Fault::Status(500), Fault::Status(502), Fault::Status(503)], "http_status", &[])
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limited_without_retry_after() {
    survives(vec![Fault::RateLimited(None)], "rate_limited", &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limited_with_retry_after_waits_as_asked() {
    let console = survives(vec![Fault::RateLimited(Some(3))], "rate_limited", &[]).await;
    // --max-backoff-secs is 1, but the console asked for 3 seconds.
    let arrivals = console.arrivals();
    assert!(arrivals[1] - arrivals[0] >= Duration::from_millis(2900));
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_reset_mid_answer() {
    survives(vec![Fault::Reset], "connect", &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn answer_slower_than_the_timeout() {
    survives(vec![Fault::Slow(Duration::from_secs(4))], "timeout", &["--timeout-secs", "1"]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn truncated_json_and_html_pages() {
    survives(vec![Fault::Truncated, Fault::Html], "bad_response", &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_error_body_that_may_pass() {
    survives(vec![Fault::ErrorBody("Temporary failure, please retry".into())], "api_error", &[])
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cursor_that_stops_working_mid_paging() {
    let console = survives(vec![Fault::CursorExpired], "http_status", &[]).await;
    let requests = console.requests();
    // First page, refused cursor, then a new first page from the saved
    // watermark and the rest.
    assert!(requests[1].starts_with("cursor="));
    assert!(requests[2].starts_with("incidents_since="), "{requests:?}");
    assert!(
        !requests[2].starts_with("incidents_since=0&"),
        "restarted past what was written: {requests:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_back_off_and_never_hot_loop() {
    let console = console().await;
    console.inject(vec![Fault::Status(503); 4]);
    let output = source(&console, &["--max-attempts", "5"]).await;
    assert!(output.status.success());
    let arrivals = console.arrivals();
    // Every retry waited at least the minimum backoff of one second.
    for pair in arrivals[..5].windows(2) {
        assert!(pair[1] - pair[0] >= Duration::from_millis(950), "{:?}", pair[1] - pair[0]);
    }
    // With --max-backoff-secs 1 the wait never passes the cap by the
    // jitter: 5 failures cannot spread the requests over minutes.
    assert_eq!(warnings(&output).len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_token_ends_both_modes_with_exit_3() {
    let console = console().await;
    for once in [true, false] {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_canary-source"));
        command.args(["--console", &console.url()]).env("CANARY_AUTH_TOKEN", "not-the-token");
        if once {
            command.arg("--once");
        }
        let output = command.output().await.unwrap();
        assert_eq!(output.status.code(), Some(3));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_whole_result_max_updated_id_never_skips_unwritten_incidents() {
    let expected = clean_ids().await;
    let console = console().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().unwrap();
    // Page 1 claims the whole result's maximum, then the console fails.
    console.inject([Fault::WholeResultMax, Fault::Status(500)]);
    let broken = source(&console, &["--max-attempts", "1", "--state-file", state_arg]).await;
    assert_eq!(broken.status.code(), Some(69));
    let saved: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    let written_max = record_ids_and_updated(&broken).into_iter().map(|(_, id)| id).max().unwrap();
    assert_eq!(saved["watermark"], written_max, "only what was written moves the watermark");

    let rest = source(&console, &["--state-file", state_arg]).await;
    assert!(rest.status.success());
    let mut all = record_ids(&broken);
    all.extend(record_ids(&rest));
    assert_eq!(all.iter().collect::<HashSet<_>>(), expected.iter().collect::<HashSet<_>>());
    assert_eq!(all.len(), expected.len(), "and nothing twice");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cursor_handed_back_again_ends_the_drain_instead_of_looping() {
    let expected = clean_ids().await;
    let console = console().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().unwrap();
    // The first cursor request gets its own cursor back as the next one.
    console.inject([Fault::SameCursorAgain]);
    let first = source(&console, &["--state-file", state_arg]).await;
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(String::from_utf8_lossy(&first.stderr).contains("repeated a paging cursor"));
    let rest = source(&console, &["--state-file", state_arg]).await;
    let mut all = record_ids(&first);
    all.extend(record_ids(&rest));
    assert_eq!(all.iter().collect::<HashSet<_>>(), expected.iter().collect::<HashSet<_>>());
    assert_eq!(all.len(), expected.len());
}

fn record_ids_and_updated(output: &Output) -> Vec<(String, u64)> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| {
            let record: Value = serde_json::from_str(line).unwrap();
            (
                record["record_id"].as_str().unwrap().to_owned(),
                record["updated_id"].as_u64().unwrap(),
            )
        })
        .collect()
}
