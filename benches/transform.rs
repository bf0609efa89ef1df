//! Mapping throughput per record kind, on records flattened from the demo
//! incidents. The whole-tool comparison against jq, VRL and bare parsing is
//! a separate command (see the README).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

use canary_pipe::demo;
use canary_pipe::transform::Transformer;

/// The demo incidents flattened to NDJSON records, grouped by logtype.
fn records_by_logtype() -> Vec<(String, Vec<u8>)> {
    let mut groups: Vec<(String, Vec<u8>)> = Vec::new();
    for incident in demo::builtin_incidents() {
        let logtype = incident["description"]["logtype"].as_str().unwrap_or("none").to_owned();
        let mut bytes = serde_json::to_vec(&incident).unwrap();
        let value = simd_json::to_borrowed_value(&mut bytes).unwrap();
        let object = simd_json::prelude::ValueAsObject::as_object(&value).unwrap();
        let mut lines = Vec::new();
        for record in canary_pipe::flatten::incident_records(object).unwrap() {
            record.write_json(&mut lines, None).unwrap();
        }
        match groups.iter_mut().find(|(name, _)| *name == logtype) {
            Some((_, existing)) => existing.extend_from_slice(&lines),
            None => groups.push((logtype, lines)),
        }
    }
    groups
}

fn mapping(c: &mut Criterion) {
    let mut group = c.benchmark_group("map");
    for (logtype, lines) in records_by_logtype() {
        let count = lines.iter().filter(|b| **b == b'\n').count() as u64;
        group.throughput(Throughput::Elements(count));
        let mut transformer = Transformer::new();
        let mut out = Vec::with_capacity(1 << 20);
        group.bench_function(format!("logtype_{logtype}"), |b| {
            b.iter(|| {
                out.clear();
                transformer.run("bench", black_box(&lines[..]), &mut out).unwrap();
            })
        });
    }
    group.finish();
}

/// One document of each input kind, repeated: flattened records, raw API
/// incidents, an audit trail page, OpenCanary lines, webhook bodies and
/// syslog lines (the last two from the project's own test data).
fn inputs_by_kind() -> Vec<(&'static str, Vec<u8>)> {
    let incidents = demo::builtin_incidents();
    let mut raw = Vec::new();
    for incident in &incidents {
        serde_json::to_writer(&mut raw, incident).unwrap();
        raw.push(b'\n');
    }
    let flat: Vec<u8> = records_by_logtype().into_iter().flat_map(|(_, lines)| lines).collect();
    let audit = serde_json::to_vec(&serde_json::json!({"audit_trail": demo::builtin_audit()}))
        .map(|mut page| {
            page.push(b'\n');
            page
        })
        .unwrap();
    let opencanary = concat!(
        r#"{"dst_host": "10.0.0.5", "dst_port": 22, "local_time": "2026-01-05 10:00:00.100000", "#,
        r#""local_time_adjusted": "2026-01-05 11:00:00.100000", "logdata": {"LOCALVERSION": "#,
        r#""SSH-2.0-OpenSSH_5.1p1 Debian-4", "PASSWORD": "hunter2", "REMOTEVERSION": "#,
        r#""SSH-2.0-libssh2_1.11.0", "USERNAME": "root"}, "logtype": 4002, "node_id": "oc-1", "#,
        r#""src_host": "192.0.2.44", "src_port": 51000, "utc_time": "2026-01-05 10:00:00.100000"}"#,
        "\n",
    )
    .repeat(20)
    .into_bytes();
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");
    let webhook = std::fs::read(format!("{data}webhooks.ndjson")).unwrap();
    let syslog = std::fs::read(format!("{data}syslog.log")).unwrap();
    vec![
        ("flat_records", flat),
        ("raw_incidents", raw),
        ("audit_page", audit),
        ("opencanary", opencanary),
        ("webhook", webhook),
        ("syslog", syslog),
    ]
}

fn kinds(c: &mut Criterion) {
    let mut group = c.benchmark_group("kind");
    for (kind, input) in inputs_by_kind() {
        let mut transformer = Transformer::new();
        let mut out = Vec::with_capacity(1 << 20);
        transformer.run("bench", &input[..], &mut out).unwrap();
        let records = transformer.counts().written;
        group.throughput(Throughput::Elements(records));
        group.bench_function(kind, |b| {
            b.iter(|| {
                out.clear();
                transformer.run("bench", black_box(&input[..]), &mut out).unwrap();
            })
        });
    }
    group.finish();
}

criterion_group!(benches, mapping, kinds);
criterion_main!(benches);
