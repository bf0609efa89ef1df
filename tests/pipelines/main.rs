//! The configurations in pipelines/, run for real against a demo console and
//! a local HTTP sink on 127.0.0.1: the shell scripts to Sekoia's intake and
//! to Elasticsearch `_bulk`, and syslog-ng with the shipped configuration.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use axum::http::StatusCode;
use canary_pipe::console::Token;
use canary_pipe::demo::{self, Console};
use serde_json::Value;

#[path = "../common/mod.rs"]
mod common;
mod configs;
mod sink;

use common::{stderr, watermark};
use sink::{ES_API_KEY, ES_PASSWORD, ES_USER, INTAKE_KEY, Plan, Sink};

const TOKEN: &str = "pipelines-test-token";
const SOURCE: &str = env!("CARGO_BIN_EXE_canary-source");
const ES_INDEX: &str = "logs-thinkst_canary.alert-default";

async fn console() -> Console {
    Console::start(Token::new(TOKEN).unwrap(), demo::builtin_incidents()).await.unwrap()
}

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The directory holding the freshly built canary-source and canary-transform.
fn bin_dir() -> &'static Path {
    Path::new(SOURCE).parent().unwrap()
}

/// The ECS events canary-source writes for `console`, in order.
async fn expected_events(console: &Console) -> Vec<Value> {
    let output = tokio::process::Command::new(SOURCE)
        .args(["--console", &console.url(), "--once", "--emit", "ecs"])
        .env("CANARY_AUTH_TOKEN", TOKEN)
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    common::json_lines(&output)
}

/// Runs a script of pipelines/shell with only the environment given (and a
/// PATH that finds the binaries under test first).
async fn run_script(name: &str, env: &[(&str, String)]) -> Output {
    let path = format!("{}:{}", bin_dir().display(), std::env::var("PATH").unwrap_or_default());
    tokio::process::Command::new("bash")
        .arg(repo_file("pipelines/shell").join(name))
        .env_clear()
        .env("PATH", path)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .await
        .unwrap()
}

fn console_env(console: &Console, dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("CANARY_CONSOLE", console.url()),
        ("CANARY_AUTH_TOKEN", TOKEN.to_owned()),
        ("CANARY_STATE_FILE", dir.join("state.json").display().to_string()),
        ("TMPDIR", dir.display().to_string()),
    ]
}

/// The console's variables plus the local sink as Sekoia's intake, with its key.
fn sekoia_env(console: &Console, sink: &Sink, dir: &Path) -> Vec<(&'static str, String)> {
    let mut env = console_env(console, dir);
    env.push(("SEKOIA_INTAKE_URL", sink.intake_url()));
    env.push(("SEKOIA_INTAKE_KEY", INTAKE_KEY.to_owned()));
    env
}

fn lines_of(text: &[String]) -> Vec<Value> {
    text.iter().map(|l| serde_json::from_str(l).expect("every line is JSON")).collect()
}

fn ids(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| e["event"]["id"].as_str().unwrap().to_owned()).collect()
}

fn assert_no_secret(output: &Output, secrets: &[&str]) {
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), stderr(output));
    for secret in secrets {
        assert!(!text.contains(secret), "a secret was printed: {text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn to_sekoia_sends_every_event_once_gzipped_with_the_intake_key() {
    let console = console().await;
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = sekoia_env(&console, &sink, dir.path());
    // Small batches: the events go in several requests.
    env.push(("CANARY_BATCH_BYTES", "20000".to_owned()));

    let run = run_script("to-sekoia.sh", &env).await;
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(run.stdout.is_empty(), "the script writes no data to stdout");
    assert_no_secret(&run, &[INTAKE_KEY, TOKEN]);

    let expected = expected_events(&console).await;
    {
        let received = sink.received();
        assert!(received.requests.len() > 1, "several batches");
        for request in &received.requests {
            assert_eq!(request.path, "/plain/batch");
            assert_eq!(request.header("x-sekoiaio-intake-key"), Some(INTAKE_KEY));
            assert_eq!(request.header("content-encoding"), Some("gzip"));
            assert_eq!(request.header("content-type"), Some("text/plain"));
            assert!(request.body.len() <= 20_000, "a batch within CANARY_BATCH_BYTES");
            assert!(request.sent_bytes < request.body.len(), "the body is compressed");
        }
        assert_eq!(lines_of(&received.intake_lines), expected, "every event once, in order");
    }
    assert_eq!(watermark(&dir.path().join("state.json")), console.last_id());

    // Nothing new: no request at all, and success.
    let again = run_script("to-sekoia.sh", &env).await;
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stderr(&again).contains("nothing new"));
    assert_eq!(sink.received().intake_lines.len(), expected.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn to_sekoia_moves_no_state_until_the_intake_accepted_everything() {
    let console = console().await;
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let mut env = sekoia_env(&console, &sink, dir.path());
    env.push(("CANARY_BATCH_BYTES", "20000".to_owned()));
    env.push(("CANARY_CURL_RETRIES", "0".to_owned()));
    let expected = ids(&expected_events(&console).await);

    // The first batch is accepted, the second refused.
    sink.received().planned.extend([Plan::Normal, Plan::Refuse(StatusCode::SERVICE_UNAVAILABLE)]);
    let failed = run_script("to-sekoia.sh", &env).await;
    assert_eq!(failed.status.code(), Some(75), "{}", stderr(&failed));
    assert!(stderr(&failed).contains("state not moved"), "{}", stderr(&failed));
    assert!(!state.exists());
    let first_batch = ids(&lines_of(&sink.received().intake_lines));
    assert!(!first_batch.is_empty() && first_batch.len() < expected.len());

    // A wrong key is a refusal too.
    let mut wrong_key = env.clone();
    wrong_key.retain(|(k, _)| *k != "SEKOIA_INTAKE_KEY");
    wrong_key.push(("SEKOIA_INTAKE_KEY", "not-the-key".to_owned()));
    let refused = run_script("to-sekoia.sh", &wrong_key).await;
    assert_eq!(refused.status.code(), Some(75));
    assert!(!state.exists());

    // A transient failure is retried by curl; then everything goes, again.
    sink.received().planned.push_back(Plan::Refuse(StatusCode::SERVICE_UNAVAILABLE));
    let mut retrying = env.clone();
    retrying.retain(|(k, _)| *k != "CANARY_CURL_RETRIES");
    retrying.push(("CANARY_CURL_RETRIES", "1".to_owned()));
    let succeeded = run_script("to-sekoia.sh", &retrying).await;
    assert!(succeeded.status.success(), "{}", stderr(&succeeded));
    assert_eq!(watermark(&state), console.last_id());

    // At least once: every event arrived, and only the batch accepted before
    // the failure arrived twice (event.id lets the SIEM drop the repeats).
    let arrived = ids(&lines_of(&sink.received().intake_lines));
    assert_eq!(arrived.len(), expected.len() + first_batch.len());
    assert_eq!(arrived[first_batch.len()..], expected[..]);
}

#[tokio::test(flavor = "multi_thread")]
async fn to_sekoia_batches_whole_lines_and_sends_a_line_over_the_budget_alone() {
    const BUDGET: usize = 2000;
    let console = console().await;
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = sekoia_env(&console, &sink, dir.path());
    // Smaller than the demo's longest ECS lines (2.6 KB), larger than two
    // of its shortest.
    env.push(("CANARY_BATCH_BYTES", BUDGET.to_string()));

    let run = run_script("to-sekoia.sh", &env).await;
    assert!(run.status.success(), "{}", stderr(&run));
    let expected = expected_events(&console).await;
    let received = sink.received();
    let bodies: Vec<&str> =
        received.requests.iter().map(|r| std::str::from_utf8(&r.body).unwrap()).collect();
    for body in &bodies {
        assert!(body.ends_with('\n'), "a request ends with a whole line: {body:?}");
        for line in body.lines() {
            let event: Value = serde_json::from_str(line).expect("each line a whole event");
            assert!(event.is_object());
        }
        // Over the budget only when one line is.
        assert!(body.len() <= BUDGET || body.lines().count() == 1, "{} bytes", body.len());
    }
    // Each request as full as the budget allows: the next line did not fit.
    for pair in bodies.windows(2) {
        let next = pair[1].lines().next().unwrap().len() + 1;
        assert!(pair[0].len() + next > BUDGET, "a request left room for the next line");
    }
    assert!(bodies.iter().any(|b| b.len() > BUDGET), "a line over the budget was sent");
    assert!(bodies.iter().any(|b| b.lines().count() > 1), "short lines share a request");
    assert_eq!(lines_of(&received.intake_lines), expected, "every event once, whole, in order");
    assert_eq!(watermark(&dir.path().join("state.json")), console.last_id());
}

#[tokio::test(flavor = "multi_thread")]
async fn to_sekoia_refuses_a_batch_size_that_is_not_a_byte_count() {
    let console = console().await;
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let env = sekoia_env(&console, &sink, dir.path());
    for size in ["9M", "0", "-5", "1e6"] {
        let mut env = env.clone();
        env.push(("CANARY_BATCH_BYTES", size.to_owned()));
        let run = run_script("to-sekoia.sh", &env).await;
        assert_eq!(run.status.code(), Some(2), "{size:?}: {}", stderr(&run));
        assert!(stderr(&run).contains("CANARY_BATCH_BYTES"), "{}", stderr(&run));
    }
    assert!(sink.received().requests.is_empty());
    assert!(!dir.path().join("state.json").exists());
}

fn es_env(console: &Console, sink: &Sink, dir: &Path) -> Vec<(&'static str, String)> {
    let mut env = console_env(console, dir);
    env.push(("ES_URL", sink.base.clone()));
    env.push(("ES_BULK_DOCS", "10".to_owned()));
    env.push(("CANARY_CURL_RETRIES", "0".to_owned()));
    env
}

#[tokio::test(flavor = "multi_thread")]
async fn to_elasticsearch_creates_every_event_with_its_id() {
    let console = console().await;
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = es_env(&console, &sink, dir.path());
    env.push(("ES_API_KEY", ES_API_KEY.to_owned()));

    let run = run_script("to-elasticsearch.sh", &env).await;
    assert!(run.status.success(), "{}", stderr(&run));
    assert_no_secret(&run, &[ES_API_KEY, TOKEN]);
    let expected = expected_events(&console).await;
    {
        let received = sink.received();
        assert!(received.requests.len() > 1, "10 events per request");
        for request in &received.requests {
            assert_eq!(
                request.header("authorization"),
                Some(format!("ApiKey {ES_API_KEY}").as_str())
            );
            assert_eq!(request.header("content-type"), Some("application/x-ndjson"));
            assert_eq!(request.header("content-encoding"), Some("gzip"));
            let text = String::from_utf8(request.body.clone()).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            // ES_BULK_DOCS events, each an action line and its source.
            assert!(lines.len().is_multiple_of(2) && lines.len() <= 20, "{} lines", lines.len());
            for pair in lines.chunks(2) {
                let action: Value = serde_json::from_str(pair[0]).unwrap();
                let event: Value = serde_json::from_str(pair[1]).unwrap();
                assert_eq!(action["create"]["_index"], ES_INDEX);
                assert_eq!(action["create"]["_id"], event["event"]["id"]);
            }
        }
        let stored: Vec<&Value> = received.stored.values().collect();
        let mut want: Vec<&Value> = expected.iter().collect();
        want.sort_by_key(|e| e["event"]["id"].as_str().unwrap().to_owned());
        assert_eq!(stored, want, "every event stored, as canary-source maps it");
    }
    assert_eq!(watermark(&dir.path().join("state.json")), console.last_id());

    let again = run_script("to-elasticsearch.sh", &env).await;
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stderr(&again).contains("nothing new"));
}

#[tokio::test(flavor = "multi_thread")]
async fn to_elasticsearch_fails_on_rejected_items_and_commits_only_when_all_are_stored() {
    let console = console().await;
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let mut env = es_env(&console, &sink, dir.path());
    env.push(("ES_USER", ES_USER.to_owned()));
    env.push(("ES_PASSWORD", ES_PASSWORD.to_owned()));
    let expected: HashSet<String> = ids(&expected_events(&console).await).into_iter().collect();

    // A request that fails as a whole.
    sink.received().planned.push_back(Plan::Refuse(StatusCode::INTERNAL_SERVER_ERROR));
    let failed = run_script("to-elasticsearch.sh", &env).await;
    assert_eq!(failed.status.code(), Some(75), "{}", stderr(&failed));
    assert!(!state.exists());

    // A 200 reply with one item refused: the run fails and names it.
    let refused = expected.iter().next().unwrap().clone();
    sink.received().reject_once.insert(refused.clone());
    let rejected = run_script("to-elasticsearch.sh", &env).await;
    assert_eq!(rejected.status.code(), Some(65), "{}", stderr(&rejected));
    let log = stderr(&rejected);
    assert!(log.contains("mapper_parsing_exception") && log.contains(&refused), "{log}");
    assert!(!state.exists());
    assert_no_secret(&rejected, &[ES_PASSWORD, TOKEN]);
    assert_eq!(sink.received().stored.len(), expected.len() - 1);

    // Everything again: what was stored is a conflict, which counts as done.
    let succeeded = run_script("to-elasticsearch.sh", &env).await;
    assert!(succeeded.status.success(), "{}", stderr(&succeeded));
    assert_eq!(watermark(&state), console.last_id());
    let received = sink.received();
    let stored: HashSet<String> = received.stored.keys().cloned().collect();
    assert_eq!(stored, expected, "each event stored once");
    assert_eq!(received.conflicts, expected.len() - 1);
}

/// Runs to-elasticsearch.sh (10 events per request) against a sink that
/// answers its first requests as `plans` say with a 200 that is not a bulk
/// reply for what was sent, and checks that the run fails as for a refused
/// request: exit 75 at that reply, nothing sent after it, no state, and one
/// line that says `reason`.
async fn to_elasticsearch_fails_on(plans: &[Plan], reason: &str) {
    let console = console().await;
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let mut env = es_env(&console, &sink, dir.path());
    env.push(("ES_API_KEY", ES_API_KEY.to_owned()));
    sink.received().planned.extend(plans);

    let run = run_script("to-elasticsearch.sh", &env).await;
    let log = stderr(&run);
    assert_eq!(run.status.code(), Some(75), "{log}");
    assert!(!state.exists(), "the state was committed: {log}");
    assert_eq!(sink.received().requests.len(), plans.len(), "it stops at that reply: {log}");
    let said: Vec<&str> = log.lines().filter(|l| l.starts_with("to-elasticsearch:")).collect();
    assert_eq!(said.len(), 1, "{log}");
    assert!(said[0].contains(reason) && said[0].contains("state not moved"), "{log}");
    assert!(!log.contains("jq:") && !log.contains("parse error"), "{log}");
    assert_no_secret(&run, &[ES_API_KEY, TOKEN]);
}

#[tokio::test(flavor = "multi_thread")]
async fn to_elasticsearch_fails_on_a_bulk_reply_without_items() {
    // The second request: what the first stored does not make it a success.
    to_elasticsearch_fails_on(&[Plan::Normal, Plan::NoItems], "0 items for 10 events").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn to_elasticsearch_fails_on_a_bulk_reply_missing_an_item() {
    to_elasticsearch_fails_on(&[Plan::LastItemMissing], "9 items for 10 events").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn to_elasticsearch_fails_on_a_bulk_reply_that_is_not_json() {
    to_elasticsearch_fails_on(&[Plan::NotJson], "not JSON").await;
    // Empty after a good reply: the first reply must not be read again.
    to_elasticsearch_fails_on(&[Plan::Normal, Plan::Empty], "empty").await;
}

/// syslog-ng, or `None` (with a note) where it is not installed and this
/// is not CI, which installs it.
fn syslog_ng() -> Option<PathBuf> {
    // Debian installs it in /usr/sbin, which a user's PATH may lack.
    let found = ["syslog-ng", "/usr/sbin/syslog-ng"].into_iter().find(|path| {
        let run = std::process::Command::new(path).arg("--version").output();
        run.is_ok_and(|output| output.status.success())
    });
    match found {
        Some(path) => Some(PathBuf::from(path)),
        _ if std::env::var_os("CI").is_some() => {
            panic!("syslog-ng is missing; .ci/run installs it")
        }
        _ => {
            note(
                "syslog-ng is not installed, so the syslog-ng pipeline was not run \
                 (apt-get install syslog-ng-core syslog-ng-mod-http)",
            );
            None
        }
    }
}

/// Tells whoever runs the tests what was skipped: written to stderr itself,
/// which the test harness does not capture, so it shows in a passing run.
fn note(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "NOTE: {text}.");
}

/// The shipped configuration with its `@define`s pointed at the test's
/// files and sink; everything else is used as it is.
fn syslog_ng_config(dir: &Path, sink: &Sink) -> String {
    let shipped =
        std::fs::read_to_string(repo_file("pipelines/syslog-ng/canary-pipe.conf")).unwrap();
    let values = [
        ("canary_source", SOURCE.to_owned()),
        ("canary_options", "--emit ecs --max-backoff-secs 1".to_owned()),
        ("canary_state", dir.join("state.json").display().to_string()),
        ("canary_log", dir.join("canary-source.log").display().to_string()),
        ("canary_archive", dir.join("archive/events.ndjson").display().to_string()),
        ("canary_buffer_dir", dir.display().to_string()),
        ("sekoia_url", sink.intake_url()),
    ];
    let mut replaced = HashSet::new();
    let lines: Vec<String> = shipped
        .lines()
        .map(|line| {
            let name =
                line.strip_prefix("@define ").and_then(|rest| rest.split_whitespace().next());
            match values.iter().find(|(n, _)| Some(*n) == name) {
                Some((name, value)) => {
                    replaced.insert(*name);
                    format!("@define {name} \"{value}\"")
                }
                None => line.to_owned(),
            }
        })
        .collect();
    assert_eq!(replaced.len(), values.len(), "the shipped file defines every setting");
    let included = dir.join("canary-pipe.conf");
    std::fs::write(&included, lines.join("\n")).unwrap();
    // What Debian's syslog-ng.conf does for conf.d, reduced to the version.
    format!("@version: 3.38\n@include \"{}\"\n", included.display())
}

#[tokio::test(flavor = "multi_thread")]
async fn syslog_ng_runs_canary_source_into_the_intake_and_a_file() {
    let Some(syslog_ng) = syslog_ng() else { return };
    let console = console().await;
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("syslog-ng.conf");
    std::fs::write(&config, syslog_ng_config(dir.path(), &sink)).unwrap();
    let expected = expected_events(&console).await;

    let mut daemon = tokio::process::Command::new(syslog_ng)
        .arg("--foreground")
        .arg("--cfgfile")
        .arg(&config)
        .arg("--persist-file")
        .arg(dir.path().join("syslog-ng.persist"))
        .arg("--pidfile")
        .arg(dir.path().join("syslog-ng.pid"))
        .arg("--control")
        .arg(dir.path().join("syslog-ng.ctl"))
        .env("CANARY_CONSOLE", console.url())
        .env("CANARY_AUTH_TOKEN", TOKEN)
        .env("SEKOIA_INTAKE_KEY", INTAKE_KEY)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    // A bound on a hang, not a pause: the events arrive well before.
    let arrived =
        tokio::time::timeout(Duration::from_secs(120), sink.wait_for(expected.len())).await;
    let pid = daemon.id().unwrap().to_string();
    // SIGTERM: syslog-ng stops canary-source with SIGTERM, then flushes.
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let stopped = tokio::time::timeout(Duration::from_secs(60), daemon.wait()).await;
    let log = std::fs::read_to_string(dir.path().join("canary-source.log")).unwrap_or_default();
    assert!(arrived.is_ok(), "not every event reached the sink; canary-source said:\n{log}");
    assert!(stopped.expect("syslog-ng stops on SIGTERM").unwrap().success());

    let received = sink.received();
    assert_eq!(lines_of(&received.intake_lines), expected, "every event once, nothing else");
    for request in &received.requests {
        assert_eq!(request.header("x-sekoiaio-intake-key"), Some(INTAKE_KEY));
    }
    let archive = std::fs::read_to_string(dir.path().join("archive/events.ndjson")).unwrap();
    let archived: Vec<String> = archive.lines().map(String::from).collect();
    assert_eq!(lines_of(&archived), expected, "the file holds the same events and nothing else");

    // canary-source got the signal through syslog-ng, saved and said so.
    assert!(log.contains("Stopping on signal"), "{log}");
    assert!(!log.contains(TOKEN));
    assert_eq!(watermark(&dir.path().join("state.json")), console.last_id());
}
