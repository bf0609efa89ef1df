//! Helpers shared by the integration tests. Each test binary uses a part of
//! them, hence the allowance for the rest.
#![allow(dead_code)]

use std::path::Path;
use std::process::Output;

use serde_json::Value;

/// Sekoia's intake test cases (`../shared/fixtures/sekoia-intake`): each
/// file's name and its JSON, in name order. Empty, with a note, when
/// `../shared` is not beside the project; a folder without cases fails.
pub fn sekoia_intake_cases() -> Vec<(String, Value)> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/sekoia-intake");
    let Ok(entries) = std::fs::read_dir(&folder) else {
        eprintln!("note: {} not found, Sekoia intake cases skipped", folder.display());
        return Vec::new();
    };
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no cases in {}", folder.display());
    paths
        .iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(path).unwrap();
            (name, serde_json::from_str(&text).unwrap())
        })
        .collect()
}

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

/// Records read, written and rejected, from canary-transform's last
/// stderr line.
pub fn summary(output: &Output) -> (u64, u64, u64) {
    let log = stderr(output);
    let line = log.lines().find(|l| l.contains("Finished.")).expect("a summary line");
    let field = |name: &str| -> u64 {
        let start = line.find(&format!("{name}=")).unwrap() + name.len() + 1;
        line[start..].split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
    };
    (field("read"), field("written"), field("rejected"))
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

/// Runs canary-transform with `args` on `stdin`, to the end.
pub fn transform(args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write;
    use std::process::{Command, Stdio};

    let mut child = Command::new(env!("CARGO_BIN_EXE_canary-transform"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Written on a thread while the output is read: with both in one
    // thread, an input larger than the pipes would block on a full stdout.
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || input.write_all(&stdin));
    let output = child.wait_with_output().unwrap();
    // The program may stop reading early (a usage error); that is its answer.
    let _ = writer.join().unwrap();
    output
}

/// Starts canary-source against `console` with `args`, stdout piped for the
/// test to read, stderr dropped.
pub fn spawn_source(console: &str, token: &str, args: &[&str]) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_canary-source"))
        .args(["--console", console])
        .args(args)
        .env("CANARY_AUTH_TOKEN", token)
        .env_remove("CANARY_CONSOLE")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}
