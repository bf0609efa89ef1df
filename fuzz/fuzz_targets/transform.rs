//! Arbitrary bytes through canary-transform: the reader's framing, the
//! recognition of each input kind, the JSON parser and the ECS mapping, on
//! one thread and on workers. Nothing may panic, every record read is written
//! or rejected, and every line written is a JSON object with an `event.id`
//! (or, in a `_bulk` body, its action line).
//!
//! Run it with `-detect_leaks=0`: a worker thread's thread-local storage is
//! freed after the run that joined it has returned, and the leak checker,
//! looking in between, reports it (not reproducibly) as a leak.

#![no_main]

use canary_pipe::ecs::{Options, Profile};
use canary_pipe::input::Input;
use canary_pipe::transform::{Counts, Format, Transformer};
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    // The default output, the input framed as canary-transform frames stdin.
    let mut plain = Transformer::new();
    let out = run(&mut plain, data);
    let events = lines(&out);
    assert_eq!(events.len() as u64, plain.counts().written);
    for event in &events {
        event_id(event);
    }

    // Every option at once, as an Elasticsearch `_bulk` body, on two worker
    // threads: the kept original and credentials, and the other profile, see
    // every value, and the workers' batches must come out in order. The
    // smallest line cap, so that long records are cut (which keeps their ids).
    let options = Options {
        profile: Profile::Ecs,
        keep_original: true,
        keep_credentials: true,
        max_line_bytes: canary_pipe::ecs::MIN_LINE,
    };
    let format = Format::es_bulk("fuzz").expect("a valid index name");
    let mut bulk = Transformer::with(format, options).with_workers(2);
    let out = run(&mut bulk, data);
    let body = lines(&out);
    assert_eq!(body.len() as u64, 2 * bulk.counts().written);
    for line in out.split_inclusive(|b| *b == b'\n') {
        assert!(line.len() <= canary_pipe::ecs::MIN_LINE, "a line over --max-line-bytes");
    }
    // A `_bulk` body also rejects records without a time, so its events are
    // the plain output's, in the same order, less some.
    let mut plain_ids = events.iter().map(event_id);
    for pair in body.chunks(2) {
        let id = event_id(&pair[1]);
        assert_eq!(pair[0]["create"]["_id"].as_str(), Some(id));
        assert!(
            plain_ids.any(|plain| plain == id),
            "{id}: not in the plain output, or not in its order"
        );
        assert!(pair[1].get("@timestamp").is_some(), "a bulk event without a time");
        if let Some(original) = pair[1]["event"].get("original") {
            let original = original.as_str().expect("event.original is a string");
            assert!(parse(original.as_bytes()).is_object(), "event.original is an object");
        }
    }
    assert_eq!(plain.counts().read, bulk.counts().read, "the options read the same records");

    // One kind of input forced, chosen by the input's length so that every
    // input is also read as every kind over a run.
    let kinds = [Input::Api, Input::OpenCanary, Input::Webhook, Input::Syslog];
    let mut forced = Transformer::new().with_input(kinds[data.len() % kinds.len()]);
    let out = run(&mut forced, data);
    assert_eq!(lines(&out).len() as u64, forced.counts().written);

    // The whole input as one document, unframed; records mapped this way
    // count as written only once a run delivers them, so only rejections
    // and the absence of a panic are checked.
    let mut whole = Transformer::new();
    whole.document("fuzz", 1, &mut data.to_vec());
    assert!(whole.counts().rejected <= whole.counts().read);
});

fn run(transformer: &mut Transformer, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    transformer.run("fuzz", data, &mut out).expect("a slice reads and a Vec takes every byte");
    let counts: Counts = transformer.counts();
    assert_eq!(counts.read, counts.written + counts.rejected, "{counts:?}");
    assert!(out.is_empty() || out.ends_with(b"\n"), "the last line ends");
    out
}

/// Every line of `out`, each a JSON object.
fn lines(out: &[u8]) -> Vec<Value> {
    out.split_inclusive(|b| *b == b'\n')
        .map(|line| {
            let value = parse(line);
            assert!(value.is_object(), "not an object: {}", String::from_utf8_lossy(line));
            value
        })
        .collect()
}

fn parse(text: &[u8]) -> Value {
    let mut parser = serde_json::Deserializer::from_slice(text);
    parser.disable_recursion_limit();
    let value = Value::deserialize(&mut parser);
    let value = value.and_then(|v| parser.end().map(|()| v));
    value.unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(text)))
}

fn event_id(event: &Value) -> &str {
    let id = event["event"]["id"].as_str().unwrap_or_default();
    assert!(!id.is_empty(), "no event.id: {event}");
    id
}
