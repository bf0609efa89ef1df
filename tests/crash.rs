//! At-least-once, proven: a 10,000-incident backfill killed with SIGKILL at
//! random points and restarted each time still delivers every event, and
//! repeats only records written after the last saved state.

use std::collections::{HashMap, HashSet};

use canary_pipe::console::Token;
use canary_pipe::demo::{Console, generate};
use canary_pipe::flatten;
use serde_json::Value;
use simd_json::prelude::ValueAsObject;
use tokio::io::AsyncBufReadExt;

mod common;
use common::{spawn_source, watermark};

const TOKEN: &str = "crash-test-token";
const INCIDENTS: usize = 10_000;

/// The record ids of every event the console holds.
fn expected_event_ids(incidents: &[Value]) -> HashSet<String> {
    let mut ids = HashSet::new();
    for incident in incidents {
        let mut bytes = serde_json::to_vec(incident).unwrap();
        let value = simd_json::to_borrowed_value(&mut bytes).unwrap();
        for record in flatten::incident_records(value.as_object().unwrap()).unwrap() {
            if record.kind() == flatten::Kind::Event {
                ids.insert(flatten::record_id(&record));
            }
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_at_random_points_loses_nothing() {
    let incidents = generate::incidents(INCIDENTS, 7);
    let expected = expected_event_ids(&incidents);
    assert!(expected.len() >= 30_000, "{} events", expected.len());
    let console = Console::start(Token::new(TOKEN).unwrap(), incidents).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");

    let seed =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let mut rng = fastrand::Rng::with_seed(seed);
    let total = INCIDENTS + expected.len();
    let mut kill_points: Vec<usize> = (0..4).map(|_| rng.usize(1..total / 3)).collect();
    kill_points.push(usize::MAX); // the last run finishes

    // Every record ever written, with how many times.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (run, kill_after) in kill_points.iter().copied().enumerate() {
        let saved_before = watermark(&state);
        let state_arg = state.to_str().unwrap();
        let args = ["--once", "--page-size", "250", "--state-file", state_arg];
        let mut child = spawn_source(&console.url(), TOKEN, &args);
        let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap());
        let mut read = 0;
        let mut line = Vec::new();
        loop {
            line.clear();
            if stdout.read_until(b'\n', &mut line).await.unwrap() == 0 {
                break;
            }
            if line.last() != Some(&b'\n') {
                // Killed in the middle of a write: the last line is cut. A
                // reader drops it; it was never delivered.
                assert!(kill_after != usize::MAX, "only a killed run cuts a line");
                break;
            }
            read += 1;
            if read == kill_after {
                child.start_kill().unwrap(); // SIGKILL
            }
            let record: Value = serde_json::from_slice(&line).expect("a whole JSON line");
            let id = record["record_id"].as_str().unwrap().to_owned();
            let count = seen.entry(id).or_default();
            *count += 1;
            if *count > 1 {
                // A repeat must come from beyond the state saved before
                // this run: the records written after the last save.
                let updated_id = record["updated_id"].as_u64().unwrap();
                assert!(
                    updated_id > saved_before,
                    "run {run} (seed {seed}) repeated a record of updated_id {updated_id}, saved up to {saved_before}"
                );
            }
        }
        let status = child.wait().await.unwrap();
        if kill_after == usize::MAX {
            assert!(status.success());
        }
    }

    let missing: Vec<&String> = expected.iter().filter(|id| !seen.contains_key(*id)).collect();
    assert!(missing.is_empty(), "seed {seed}: {} events never arrived", missing.len());
    assert_eq!(watermark(&state), console.last_id());
}
