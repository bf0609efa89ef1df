//! Helpers shared by the integration tests. Each test binary uses a part of
//! them, hence the allowance for the rest.
#![allow(dead_code)]

use std::path::Path;
use std::process::Output;

use serde_json::Value;

/// Every line of a program's stdout, parsed; panics on a line that is not JSON.
pub fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("every output line is JSON"))
        .collect()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// How many records the built-in demo incidents flatten to: one per incident
/// and one per event.
pub fn demo_record_count() -> usize {
    canary_pipe::demo::builtin_incidents()
        .iter()
        .map(|i| 1 + i["description"]["events"].as_array().map_or(0, Vec::len))
        .sum()
}

/// The watermark of a state file, 0 when there is none yet.
pub fn watermark(path: &Path) -> u64 {
    std::fs::read(path)
        .map(|text| serde_json::from_slice::<Value>(&text).unwrap()["watermark"].as_u64().unwrap())
        .unwrap_or(0)
}
