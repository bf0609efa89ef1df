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

criterion_group!(benches, mapping);
criterion_main!(benches);
