//! Properties of the transformer on arbitrary input: it never panics, every
//! record read is written or rejected, and every line written is one JSON
//! object.

use canary_pipe::transform::Transformer;
use proptest::prelude::*;
use serde_json::Value;

fn run(input: &[u8]) -> (Vec<u8>, canary_pipe::transform::Counts) {
    let mut transformer = Transformer::new();
    let mut out = Vec::new();
    transformer.run("prop", input, &mut out).unwrap();
    (out, transformer.counts())
}

fn check(input: &[u8]) {
    let (out, counts) = run(input);
    assert_eq!(counts.read, counts.written + counts.rejected);
    let written = out.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count() as u64;
    assert_eq!(written, counts.written);
    for line in out.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let value: Value = serde_json::from_slice(line).expect("output lines are JSON");
        assert!(value.is_object());
    }
}

/// JSON values biased towards Canary-looking keys and values.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("incident_id".to_owned()),
        Just("event_type".to_owned()),
        Just("src_host".to_owned()),
        Just("dst_port".to_owned()),
        Just("timestamp".to_owned()),
        Just("created".to_owned()),
        Just("description".to_owned()),
        Just("events".to_owned()),
        Just("incidents".to_owned()),
        Just("id".to_owned()),
        Just("headers".to_owned()),
        Just("USERAGENT".to_owned()),
        Just("DN".to_owned()),
        Just("URL".to_owned()),
        Just("geoip".to_owned()),
        Just("logtype".to_owned()),
        Just("logdata".to_owned()),
        Just("AlertType".to_owned()),
        Just("AdditionalDetails".to_owned()),
        Just("Timestamp".to_owned()),
        Just("message".to_owned()),
        "[a-zA-Z_]{1,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        Just(Value::from("event")),
        Just(Value::from("incident")),
        Just(Value::from("2001:db8::1")),
        Just(Value::from("incident:x:ab:2001:db8::1:17")),
        ".{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// Pieces of syslog lines that a parser can trip on.
fn syslog_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            " ",
            "[",
            "]",
            "\"",
            "\\",
            "=",
            "-",
            "@51136",
            "BasicIncidentDetails@51136",
            "AdditionalIncidentDetails@51136",
            "AuditTrailDetails@51136",
            "eventid=\"4002\"",
            "2024-05-01T10:15:31.5+00:00",
            "{\"logtype\":1,\"logdata\":{}}",
            "\u{feff}",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z0-9é]{0,4}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_bytes(input in prop::collection::vec(any::<u8>(), 0..512)) {
        check(&input);
    }

    #[test]
    fn arbitrary_json(values in prop::collection::vec(json_value(), 1..6)) {
        let mut input = Vec::new();
        for value in &values {
            serde_json::to_writer(&mut input, value).unwrap();
            input.push(b'\n');
        }
        check(&input);
    }

    #[test]
    fn syslog_like_lines(pieces in prop::collection::vec(syslog_piece(), 0..24)) {
        check(format!("<130>1 {}\n", pieces.concat()).as_bytes());
    }

    #[test]
    fn output_is_deterministic(value in json_value()) {
        let input = serde_json::to_vec(&value).unwrap();
        prop_assert_eq!(run(&input).0, run(&input).0);
    }
}
