//! A model test of the source: random console changes (new incidents, new
//! events on old incidents, acknowledgements) and runs that crash part-way
//! through their output, against what must come out: every event at least
//! once, no event twice except in the run right after a crash, and a
//! watermark that never moves backwards.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use canary_pipe::console::{Client, ConsoleUrl, Filters, Token};
use canary_pipe::demo::Console;
use canary_pipe::poll::{self, Emit, Feed, Options};
use proptest::prelude::*;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

#[derive(Clone, Debug)]
enum Step {
    NewIncident {
        events: usize,
    },
    NewEvents {
        incident: usize,
        events: usize,
    },
    Acknowledge {
        incident: usize,
    },
    /// A run of the source whose output breaks after this many lines.
    Run {
        crash_after: Option<usize>,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (1..4usize).prop_map(|events| Step::NewIncident { events }),
        2 => (any::<usize>(), 1..3usize).prop_map(|(incident, events)| Step::NewEvents { incident, events }),
        1 => any::<usize>().prop_map(|incident| Step::Acknowledge { incident }),
        2 => prop::option::of(0..12usize).prop_map(|crash_after| Step::Run { crash_after }),
    ]
}

/// stdout that breaks after a number of lines, like a killed process.
struct Breaking {
    lines: Arc<Mutex<Vec<u8>>>,
    left: Option<usize>,
}

impl Write for Breaking {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let take = match self.left {
            None => buf.len(),
            Some(0) => return Err(io::Error::new(io::ErrorKind::BrokenPipe, "crashed")),
            Some(left) => {
                let cut = buf.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(left - 1);
                match cut {
                    Some((at, _)) => {
                        self.left = Some(0);
                        at + 1
                    }
                    None => {
                        self.left = Some(left - buf.iter().filter(|b| **b == b'\n').count());
                        buf.len()
                    }
                }
            }
        };
        self.lines.lock().unwrap().extend_from_slice(&buf[..take]);
        Ok(take)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The console's incidents as the model sees them.
struct Model {
    incidents: Vec<Value>,
    clock: i64,
    /// Every event made: (incident key, USERNAME).
    events: HashSet<(String, String)>,
}

impl Model {
    fn event(&mut self, key: &str) -> Value {
        self.clock += 7;
        let name = format!("user{}", self.events.len());
        self.events.insert((key.to_owned(), name.clone()));
        json!({"USERNAME": name, "timestamp": self.clock, "timestamp_std": "x"})
    }

    fn new_incident(&mut self, events: usize) -> Value {
        let key =
            format!("incident:sshlogin:{:032x}:192.0.2.9:{}", self.incidents.len(), self.clock);
        let list: Vec<Value> = (0..events).map(|_| self.event(&key)).collect();
        let incident = json!({
            "id": key, "hash_id": format!("{:032x}", self.incidents.len()), "summary": "SSH Login Attempt",
            "updated_time": self.clock.to_string(),
            "description": {"logtype": "4002", "acknowledged": "False", "src_host": "192.0.2.9",
                            "created": self.clock.to_string(), "events": list}
        });
        self.incidents.push(incident.clone());
        incident
    }
}

async fn run_case(steps: Vec<Step>) -> Result<(), TestCaseError> {
    let token = Token::new("model-token").unwrap();
    let console = Console::start(token.clone(), Vec::new()).await.unwrap();
    let client =
        Client::new(ConsoleUrl::parse(&console.url()).unwrap(), &token, Duration::from_secs(5))
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        console_name: "model".into(),
        feed: Feed::Incidents,
        page_size: 3,
        interval: Duration::from_secs(1),
        once: true,
        emit: Emit::Events,
        mapping: Default::default(),
        state_file: Some(dir.path().join("state.json")),
        state_out: None,
        max_backoff: Duration::from_secs(1),
        once_attempts: 1,
        filters: Filters::default(),
        remember: 1000,
        acknowledge: false,
        since: None,
    };
    let mut model = Model { incidents: Vec::new(), clock: 1_800_000_000, events: HashSet::new() };
    let mut written: HashMap<(String, String), usize> = HashMap::new();
    let mut crashed_before = false;
    let mut watermark = 0;

    let final_run = Step::Run { crash_after: None };
    for step in steps.into_iter().chain([final_run]) {
        match step {
            Step::NewIncident { events } => {
                let incident = model.new_incident(events);
                console.upsert(incident);
            }
            Step::NewEvents { incident, events } if !model.incidents.is_empty() => {
                let at = incident % model.incidents.len();
                let key = model.incidents[at]["id"].as_str().unwrap().to_owned();
                for _ in 0..events {
                    let event = model.event(&key);
                    model.incidents[at]["description"]["events"]
                        .as_array_mut()
                        .unwrap()
                        .push(event);
                }
                model.incidents[at]["updated_time"] = json!(model.clock.to_string());
                console.upsert(model.incidents[at].clone());
            }
            Step::Acknowledge { incident } if !model.incidents.is_empty() => {
                let at = incident % model.incidents.len();
                model.incidents[at]["description"]["acknowledged"] = json!("True");
                console.upsert(model.incidents[at].clone());
            }
            Step::Run { crash_after } => {
                let lines = Arc::new(Mutex::new(Vec::new()));
                let out = Breaking { lines: lines.clone(), left: crash_after };
                let result = poll::run(&client, &options, out, CancellationToken::new()).await;
                let crashed = result.is_err();
                let text = String::from_utf8(lines.lock().unwrap().clone()).unwrap();
                for line in text.lines() {
                    let record: Value = serde_json::from_str(line).unwrap();
                    if record["event_type"] != "event" {
                        continue;
                    }
                    let event = (
                        record["incident_id"].as_str().unwrap().to_owned(),
                        record["USERNAME"].as_str().unwrap().to_owned(),
                    );
                    let count = written.entry(event.clone()).or_default();
                    *count += 1;
                    prop_assert!(
                        *count == 1 || crashed_before,
                        "{event:?} written again in a run that followed no crash"
                    );
                }
                if let Ok(text) = std::fs::read(dir.path().join("state.json")) {
                    let state: Value = serde_json::from_slice(&text).unwrap();
                    let now = state["watermark"].as_u64().unwrap();
                    prop_assert!(
                        now >= watermark,
                        "watermark moved back from {watermark} to {now}"
                    );
                    watermark = now;
                }
                crashed_before = crashed;
            }
            _ => {}
        }
    }
    for event in &model.events {
        prop_assert!(written.contains_key(event), "{event:?} never written");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn source_against_a_changing_console(steps in prop::collection::vec(step(), 1..30)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(run_case(steps))?;
    }
}
