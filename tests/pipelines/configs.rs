//! The Vector and Fluent Bit configurations, checked with what runs here:
//! neither collector can be installed on this machine (see
//! pipelines/README.md). Their files are parsed, the settings that matter
//! are checked, the commands they start are run the way each collector runs
//! them, and Vector's VRL programs run in the `vrl` CLI when it is installed.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;

use serde_json::{Value, json};
use serde_yaml::Value as Yaml;

use super::{SOURCE, TOKEN, console, repo_file};
use crate::common::stderr;

/// The line cap every configuration uses: 8 MiB.
const LINE_CAP: usize = 8 << 20;

fn yaml(path: &str) -> Yaml {
    let text = std::fs::read_to_string(repo_file(path)).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn strings(value: &Yaml) -> Vec<String> {
    value.as_sequence().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

/// A command from a configuration, pointed at the binary under test and a
/// state file in `dir`.
fn localized(command: &[String], dir: &Path) -> Vec<String> {
    let mut args: Vec<String> = command.to_vec();
    assert_eq!(args[0], "/usr/local/bin/canary-source");
    args[0] = SOURCE.to_owned();
    let state = args.iter().position(|a| a == "--state-file").expect("a state file") + 1;
    args[state] = dir.join("state.json").display().to_string();
    args
}

/// Where the `vrl` CLI is, or `None` with a note.
fn vrl() -> Option<&'static str> {
    let found = std::process::Command::new("vrl").arg("--help").output();
    match found {
        Ok(output) if output.status.success() => Some("vrl"),
        _ => {
            super::note(
                "the vrl CLI is not installed (cargo install vrl), so the VRL programs of \
                 pipelines/vector were not run",
            );
            None
        }
    }
}

/// Runs a VRL program over events, one JSON object per line, and returns
/// what it makes of each, numbers as floats: the CLI prints a float without
/// a fraction as an integer.
fn run_vrl(vrl: &str, program: &Path, events: &[Value]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("events.ndjson");
    let text: String = events.iter().map(|e| format!("{e}\n")).collect();
    std::fs::write(&input, text).unwrap();
    let output = std::process::Command::new(vrl)
        .arg("--input")
        .arg(&input)
        .arg("--program")
        .arg(program)
        .arg("--print-object")
        .output()
        .unwrap();
    // A failing event is reported on stderr only, with exit code 0.
    assert!(output.status.success() && output.stderr.is_empty(), "vrl: {}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    text.lines()
        .map(|line| floats(serde_json::from_str(line).expect("an object per line")))
        .collect()
}

/// `value` with every number as a float, for comparing with what the vrl
/// CLI prints.
fn floats(value: Value) -> Value {
    match value {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(items) => Value::Array(items.into_iter().map(floats).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, floats(v))).collect()),
        other => other,
    }
}

/// What Vector's exec source makes of a line (legacy namespace): the keys it
/// adds where the event has none.
fn as_vector_reads_it(line: &Value, stream: &str, command: &[String]) -> Value {
    let mut event = line.clone();
    let object = event.as_object_mut().expect("an object");
    let added = [
        ("host", json!("collector-01")),
        ("stream", json!(stream)),
        ("pid", json!(4242)),
        ("command", json!(command)),
        ("timestamp", json!("2026-12-03T12:00:00.123456Z")),
        ("source_type", json!("exec")),
    ];
    for (key, value) in added {
        object.entry(key).or_insert(value);
    }
    event
}

#[tokio::test(flavor = "multi_thread")]
async fn vector_sources_run_canary_source_as_exec_does_and_the_remaps_restore_its_events() {
    let pipeline = yaml("pipelines/vector/pipeline.yaml");
    let console = console().await;
    let mut state_files = Vec::new();
    let vrl = vrl();

    for (file, mode) in [
        ("pipelines/vector/streaming.yaml", "streaming"),
        ("pipelines/vector/scheduled.yaml", "scheduled"),
    ] {
        let config = yaml(file);
        let sources = config["sources"].as_mapping().unwrap();
        assert_eq!(sources.len(), 1, "{file}: one source per console");
        let (id, source) = sources.iter().next().unwrap();
        assert!(id.as_str().unwrap().starts_with("canary_source_"), "matched by pipeline.yaml");
        assert_eq!(source["type"], "exec");
        assert_eq!(source["mode"], mode);
        assert_eq!(source["decoding"]["codec"], "json");
        assert_eq!(source["framing"]["method"], "newline_delimited");
        assert_eq!(
            source["framing"]["newline_delimited"]["max_length"].as_u64(),
            Some(LINE_CAP as u64)
        );
        assert_eq!(source["include_stderr"], true, "stderr is routed on purpose");
        let command = strings(&source["command"]);
        let joined = command.join(" ");
        assert!(joined.contains("--emit ecs") && joined.contains("--log-format json"), "{joined}");
        assert!(!joined.contains("token"), "no secret in argv: Vector copies it into every event");
        let state = command.iter().position(|a| a == "--state-file").unwrap() + 1;
        state_files.push(command[state].clone());

        // As Vector runs it: argv without a shell, stdin closed, the
        // environment inherited. The streaming one is cut to one drain.
        let dir = tempfile::tempdir().unwrap();
        let mut args = localized(&command, dir.path());
        if mode == "streaming" {
            args.push("--once".into());
        }
        let output = tokio::process::Command::new(&args[0])
            .args(&args[1..])
            .env("CANARY_CONSOLE", console.url())
            .env("CANARY_AUTH_TOKEN", TOKEN)
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        let events = crate::common::json_lines(&output);
        assert_eq!(events, super::expected_events(&console).await);
        assert!(output.stdout.split(|b| *b == b'\n').all(|l| l.len() < LINE_CAP));
        // stderr decodes with the same codec: each line is a JSON object.
        let diagnostics: Vec<Value> = String::from_utf8(output.stderr.clone())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON log line"))
            .collect();
        assert!(!diagnostics.is_empty());

        let Some(vrl) = vrl else { continue };
        let read: Vec<Value> =
            events.iter().map(|e| as_vector_reads_it(e, "stdout", &command)).collect();
        let cleaned = run_vrl(vrl, &repo_file("pipelines/vector/events.vrl"), &read);
        let events: Vec<Value> = events.into_iter().map(floats).collect();
        assert_eq!(cleaned, events, "the remap leaves canary-source's events exactly");
        let with_ids = run_vrl(vrl, &repo_file("pipelines/vector/es-id.vrl"), &cleaned);
        assert_eq!(with_ids.len(), events.len());
        let id_key = pipeline["sinks"]["elasticsearch"]["id_key"].as_str().unwrap();
        for (event, with_id) in events.iter().zip(&with_ids) {
            assert_eq!(with_id[id_key], event["event"]["id"]);
            let mut without = with_id.clone();
            without.as_object_mut().unwrap().remove(id_key);
            assert_eq!(&without, event, "the sink's id_key removes only the copy");
        }
    }
    assert_ne!(state_files[0], state_files[1], "one state file per source");

    // pipeline.yaml: every input exists, the programs are the files here,
    // and the sinks are set as Sekoia and Elasticsearch need.
    let transforms = pipeline["transforms"].as_mapping().unwrap();
    let sinks = pipeline["sinks"].as_mapping().unwrap();
    let mut outputs: Vec<String> = Vec::new();
    for (id, transform) in transforms {
        let id = id.as_str().unwrap();
        outputs.push(id.to_owned());
        if let Some(routes) = transform["route"].as_mapping() {
            outputs.extend(routes.keys().map(|r| format!("{id}.{}", r.as_str().unwrap())));
        }
        if let Some(file) = transform["file"].as_str() {
            let name = Path::new(file).file_name().unwrap();
            assert!(repo_file("pipelines/vector").join(name).exists(), "{file} is shipped");
        }
    }
    for component in transforms.values().chain(sinks.values()) {
        for input in strings(&component["inputs"]) {
            let known = outputs.contains(&input) || input == "canary_source_*";
            assert!(known, "unknown input {input}");
        }
    }
    let sekoia = &pipeline["sinks"]["sekoia"];
    assert_eq!(sekoia["type"], "http");
    assert!(sekoia["uri"].as_str().unwrap().contains("/plain/batch"));
    assert_eq!(sekoia["compression"], "gzip");
    assert_eq!(sekoia["framing"]["method"], "newline_delimited");
    assert_eq!(sekoia["request"]["headers"]["X-SEKOIAIO-INTAKE-KEY"], "${SEKOIA_INTAKE_KEY}");
    let es = &pipeline["sinks"]["elasticsearch"];
    assert_eq!(es["mode"], "data_stream");
    assert_eq!(es["auth"]["password"], "${ES_PASSWORD}");
    let routes = &pipeline["transforms"]["canary_streams"]["route"];
    assert_eq!(routes["diagnostics"], ".stream == \"stderr\"");
    assert_eq!(pipeline["sinks"]["canary_diagnostics"]["inputs"][0], "canary_streams.diagnostics");
}

/// Fluent Bit's classic format: `[SECTION]` headers, then `Key Value` lines.
fn classic(path: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let text = std::fs::read_to_string(repo_file(path)).unwrap();
    let mut sections: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            sections.push((name.to_owned(), BTreeMap::new()));
            continue;
        }
        let (key, value) = line.split_once(char::is_whitespace).expect("a key and a value");
        let (_, entries) = sections.last_mut().expect("inside a section");
        // Header may repeat, once per header name; the others not at all.
        let (key, value) = match (key, value.trim()) {
            ("Header", header) => {
                let (name, value) = header.split_once(char::is_whitespace).unwrap();
                (format!("Header {name}"), value.trim())
            }
            (key, value) => (key.to_owned(), value),
        };
        assert!(entries.insert(key.clone(), value.to_owned()).is_none(), "{key} twice");
    }
    sections
}

fn section<'a>(
    sections: &'a [(String, BTreeMap<String, String>)],
    name: &str,
) -> &'a BTreeMap<String, String> {
    let found: Vec<_> = sections.iter().filter(|(n, _)| n == name).collect();
    assert_eq!(found.len(), 1, "one [{name}]");
    &found[0].1
}

/// Fluent Bit's size values: a number with an optional k, m or g suffix.
fn size(text: &str) -> usize {
    let lower = text.to_ascii_lowercase();
    let (digits, unit) = match lower.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => lower.split_at(i),
        None => (lower.as_str(), ""),
    };
    let n: usize = digits.parse().unwrap();
    match unit {
        "" => n,
        "k" | "kb" => n << 10,
        "m" | "mb" => n << 20,
        "g" | "gb" => n << 30,
        other => panic!("unit {other}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fluent_bit_runs_canary_source_as_exec_does_and_its_parser_fits_the_lines() {
    let config = classic("pipelines/fluent-bit/fluent-bit.conf");
    let parsers = classic("pipelines/fluent-bit/parsers.conf");
    let service = section(&config, "SERVICE");
    let input = section(&config, "INPUT");
    let output = section(&config, "OUTPUT");
    assert_eq!(service["Parsers_File"], "parsers.conf");
    assert_eq!(input["Name"], "exec");
    assert_eq!(input["Threaded"], "On");
    let interval: u64 = input["Interval_Sec"].parse().unwrap();
    assert!(interval >= 30, "not the 1 s default");
    let buf_size = size(&input["Buf_Size"]);
    assert_eq!(buf_size, LINE_CAP);
    let parser = section(&parsers, "PARSER");
    assert_eq!(parser["Name"], input["Parser"]);
    assert_eq!(parser["Format"], "json");
    assert_eq!(parser["Time_Key"], "@timestamp");
    assert_eq!(parser["Time_Format"], "%Y-%m-%dT%H:%M:%S%z");
    assert_eq!(parser["Time_Keep"], "On");
    assert_eq!(output["Name"], "http");
    assert_eq!(output["Match"], input["Tag"]);
    assert_eq!(output["URI"], "/plain/batch");
    assert_eq!(output["Format"], "json_lines");
    assert_eq!(output["json_date_key"], "false");
    assert_eq!(output["compress"], "gzip");
    assert_eq!(output["Header X-SEKOIAIO-INTAKE-KEY"], "${SEKOIA_INTAKE_KEY}");

    // As in_exec runs it: /bin/sh -c with the collector's environment.
    let console = console().await;
    let dir = tempfile::tempdir().unwrap();
    let words: Vec<String> = input["Command"].split_whitespace().map(String::from).collect();
    assert_eq!(words[0], "exec", "the shell gives way to canary-source");
    let command = localized(&words[1..], dir.path()).join(" ");
    assert!(!command.contains("token"));
    let run = tokio::process::Command::new("/bin/sh")
        .args(["-c", &format!("exec {command}")])
        .env("CANARY_CONSOLE", console.url())
        .env("CANARY_AUTH_TOKEN", TOKEN)
        .output()
        .await
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    let events = crate::common::json_lines(&run);
    assert_eq!(events, super::expected_events(&console).await);
    for line in run.stdout.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        // fgets keeps at most Buf_Size - 1 bytes, the newline included.
        assert!(line.len() + 1 < buf_size);
    }
    // What %Y-%m-%dT%H:%M:%S%z reads: whole seconds, then Z or an offset.
    for event in &events {
        let time = event["@timestamp"].as_str().expect("every event has a time");
        let parsed: jiff::Timestamp = time.parse().unwrap();
        assert_eq!(time, format!("{}", parsed.strftime("%Y-%m-%dT%H:%M:%SZ")), "{time}");
    }
    // stderr is Fluent Bit's, not read as records; it is JSON all the same.
    assert!(
        String::from_utf8(run.stderr)
            .unwrap()
            .lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok())
    );
}
