//! The console audit trail: paged from the demo console over HTTP by the
//! client, then mapped to ECS by the built `canary-transform`.
//!
//! The public sample entries live outside the repository
//! (`../shared/fixtures/public-samples` next to the crate); when the folder
//! is absent those cases only print a note.

use std::path::{Path, PathBuf};
use std::time::Duration;

use canary_pipe::console::{ApiError, Client, ConsoleUrl, Page, TOKEN_HEADER, Token};
use canary_pipe::demo::{self, Console};
use serde_json::{Value, json};

mod common;

const TOKEN: &str = "test-token-0123456789";

async fn console() -> Console {
    Console::start(Token::new(TOKEN).unwrap(), Vec::new()).await.unwrap()
}

fn client(console: &Console, token: &str) -> Client {
    let url = ConsoleUrl::parse(&console.url()).unwrap();
    Client::new(url, &Token::new(token).unwrap(), Duration::from_secs(10)).unwrap()
}

fn entries(page: &Page) -> Vec<Value> {
    page.items.iter().map(|raw| serde_json::from_str(raw.get()).unwrap()).collect()
}

fn ids(entries: &[Value]) -> Vec<u64> {
    entries.iter().map(|e| e["id"].as_u64().unwrap()).collect()
}

/// Every page of one run, first to last, adding `late` after the first page.
async fn page_through(client: &Client, console: &Console, late: Option<Value>) -> Vec<Vec<Value>> {
    let first = client.audit_page(None, 3).await.unwrap();
    let mut pages = vec![entries(&first)];
    let mut cursor = first.next_cursor;
    if let Some(entry) = late {
        console.add_audit(entry);
    }
    while let Some(next) = cursor {
        let page = client.audit_page(Some(&next), 3).await.unwrap();
        pages.push(entries(&page));
        cursor = page.next_cursor;
    }
    pages
}

#[tokio::test(flavor = "multi_thread")]
async fn the_trail_pages_newest_first_and_holds_still_while_paged() {
    let console = console().await;
    let client = client(&console, TOKEN);
    let builtin = demo::builtin_audit();
    let late = json!({"action_type": "user_login", "message": "late", "user": "late@example.com",
        "timestamp": "2026-11-04 09:00:00 UTC+0000", "user_ip": "192.0.2.99"});

    let pages = page_through(&client, &console, Some(late)).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 3, 1]);
    let seen: Vec<u64> = pages.iter().flat_map(|p| ids(p)).collect();
    let newest_first: Vec<u64> = ids(&builtin).into_iter().rev().collect();
    assert_eq!(seen, newest_first, "the entry added while paging waits for the next run");
    assert_eq!(pages[0][0], builtin[builtin.len() - 1]);

    // The first request names the page size, later ones the cursor alone.
    let requests = console.requests();
    assert_eq!(requests[0], "limit=3&tz=UTC");
    assert_eq!(requests.len(), pages.len());
    for later in &requests[1..] {
        assert!(later.starts_with("cursor=") && later.ends_with("&tz=UTC"), "{later}");
        assert!(!later.contains("limit="), "{later}");
    }

    let next_run = client.audit_page(None, 3).await.unwrap();
    let newest = &entries(&next_run)[0];
    assert_eq!(newest["id"], builtin.len() + 1);
    assert_eq!(newest["message"], "late");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_token_is_an_auth_error() {
    let console = console().await;
    let refused = client(&console, "wrong-token").audit_page(None, 3).await.unwrap_err();
    assert!(matches!(refused, ApiError::Auth { status: 401, .. }), "{refused:?}");
    assert!(!refused.is_transient());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cursor_with_a_limit_is_refused() {
    let console = console().await;
    let cursor = client(&console, TOKEN).audit_page(None, 3).await.unwrap().next_cursor.unwrap();
    let url = format!("{}api/v1/audit_trail/fetch", console.url());
    let answer = reqwest::Client::new()
        .get(url)
        .header(TOKEN_HEADER, TOKEN)
        .query(&[("cursor", cursor.as_str()), ("limit", "3")])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let body: Value = serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap();
    assert_eq!(body["result"], "error");
    assert!(body["message"].as_str().unwrap().contains("limit"), "{body}");
}

/// Each entry as a flat audit record on its own line, mapped; the output
/// comes back in input order.
fn map(entries: &[Value]) -> Vec<Value> {
    let mut input = Vec::new();
    for entry in entries {
        let mut record = entry.clone();
        record["event_type"] = json!("audit");
        serde_json::to_writer(&mut input, &record).unwrap();
        input.push(b'\n');
    }
    let output = common::transform(&[], &input);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let lines = common::json_lines(&output);
    assert_eq!(lines.len(), entries.len());
    lines
}

fn by_action<'a>(documents: &'a [Value], action: &str) -> &'a Value {
    documents.iter().find(|d| d["event"]["action"] == action).unwrap()
}

#[test]
fn audit_records_map_to_ecs() {
    let documents = map(&demo::builtin_audit());

    let login = by_action(&documents, "user_login");
    assert_eq!(login["@timestamp"], "2026-10-30T08:02:11Z");
    assert_eq!(login["event"]["kind"], "event");
    assert_eq!(login["event"]["category"], json!(["iam", "authentication"]));
    assert_eq!(login["event"]["type"], json!(["start"]));
    assert_eq!(login["event"]["module"], "thinkst_canary");
    assert_eq!(login["event"]["dataset"], "thinkst_canary.audit");
    assert!(login["event"].get("outcome").is_none());
    assert_eq!(login["observer"], json!({"vendor": "Thinkst Canary", "product": "Thinkst Canary"}));
    assert_eq!(login["user"]["name"], "alice.admin@example.com");
    assert_eq!(login["source"]["ip"], "192.0.2.40");
    assert_eq!(
        login["related"],
        json!({"ip": ["192.0.2.40"], "user": ["alice.admin@example.com"]})
    );
    assert_eq!(login["user_agent"]["name"], "Chrome");
    assert_eq!(login["user_agent"]["os"]["name"], "Windows");
    assert_eq!(login["message"], "User 'alice.admin@example.com' logged in");
    assert_eq!(login["thinkst_canary"]["audit"]["id"], "1");
    assert_eq!(login["thinkst_canary"]["audit"]["browser_language"], "en-GB,en;q=0.9");
    assert!(login["thinkst_canary"]["audit"].get("flock_id").is_none());
    assert!(login["thinkst_canary"]["audit"].get("additional_information").is_none());

    let failed = by_action(&documents, "user_login_failure");
    assert_eq!(failed["event"]["outcome"], "failure");
    assert_eq!(failed["source"]["ip"], "198.51.100.77");
    assert_eq!(failed["user_agent"]["name"], "Python Requests");
    assert!(failed["thinkst_canary"]["audit"].get("browser_language").is_none());

    let logout = by_action(&documents, "user_logout");
    assert_eq!(logout["event"]["type"], json!(["end"]));

    let token = by_action(&documents, "api_token_create");
    assert_eq!(token["event"]["category"], json!(["iam"]));
    assert_eq!(token["event"]["type"], json!(["creation"]));
    let info = &token["thinkst_canary"]["audit"]["additional_information"];
    assert_eq!(info, &json!({"key_id": "3b1f0a2c", "note": "SIEM pull", "role": "read-only"}));

    let moved = by_action(&documents, "flock_move");
    assert_eq!(moved["event"]["category"], json!(["configuration"]));
    assert_eq!(moved["event"]["type"], json!(["change"]));
    let flock = "flock:0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    assert_eq!(moved["thinkst_canary"]["audit"]["flock_id"], flock);

    let deleted = by_action(&documents, "canarytoken_delete");
    assert_eq!(deleted["event"]["type"], json!(["deletion"]));
}

#[test]
fn event_ids_are_distinct_and_repeatable() {
    let id = |d: &Value| d["event"]["id"].as_str().unwrap().to_owned();
    let first: Vec<String> = map(&demo::builtin_audit()).iter().map(id).collect();
    let again: Vec<String> = map(&demo::builtin_audit()).iter().map(id).collect();
    assert_eq!(first, again);
    let mut unique = first.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), first.len());
    assert!(first.iter().all(|id| id.len() == 32));
}

fn public_sample(name: &str) -> Option<Value> {
    let folder: PathBuf =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/public-samples");
    if !folder.is_dir() {
        eprintln!("note: {} not found, public audit samples skipped", folder.display());
        return None;
    }
    let text = std::fs::read_to_string(folder.join(name)).unwrap();
    Some(serde_json::from_str(&text).unwrap())
}

#[test]
fn the_public_api_sample_entry_maps() {
    let name = "canary_api_audit_trail_entry__elastic_thinkst_canary_pipeline_test.json";
    let Some(entry) = public_sample(name) else { return };
    let document = &map(&[entry])[0];

    assert_eq!(document["@timestamp"], "2020-04-02T18:11:27Z");
    assert_eq!(document["event"]["action"], "device_schedule_reboot");
    assert_eq!(document["event"]["category"], json!(["configuration"]));
    assert_eq!(document["event"]["type"], json!(["info"]));
    assert_eq!(document["source"]["ip"], "192.0.2.40");
    assert_eq!(document["user"]["name"], "jdoe@example.org");
    assert_eq!(document["related"]["user"], json!(["jdoe@example.org"]));
    assert_eq!(document["user_agent"]["original"], "Mozilla/5.0 (placeholder)");
    assert_eq!(document["user_agent"]["name"], "Other");
    let message = "User 'API Token' scheduled the device 0000000000000001 to be rebooted";
    assert_eq!(document["message"], message);
    assert_eq!(
        document["thinkst_canary"]["audit"],
        json!({"id": "74", "flock_id": "flock:default"}),
        "null and empty values are left out"
    );
}

#[test]
fn the_public_webhook_sample_maps_once_given_an_id() {
    let name = "canary_webhook_console_audit__canarytools_docs.json";
    let Some(sample) = public_sample(name) else { return };
    let mut entry = sample["payload"].clone();
    entry["id"] = json!(9001);
    let document = &map(&[entry])[0];

    assert_eq!(document["@timestamp"], "2026-02-02T14:12:34Z");
    assert_eq!(document["event"]["category"], json!(["configuration"]));
    assert_eq!(document["event"]["type"], json!(["creation"]));
    assert_eq!(document["thinkst_canary"]["audit"]["id"], "9001");
    assert_eq!(document["thinkst_canary"]["audit"]["browser_language"], "en-GB ...");
}
