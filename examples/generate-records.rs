//! Writes generated Canary records as NDJSON, for benchmarks: the flattened
//! records canary-source would write for generated incidents (the built-in
//! incidents' mix: every common logtype, tokens with geoip and headers,
//! brute forces of up to 40 events), deterministic for a seed.
//!
//! ```text
//! cargo run --release --example generate-records -- --records 200000 --seed 1 > records.ndjson
//! ```

use std::io::{BufWriter, Write};

use canary_pipe::demo::generate;
use canary_pipe::flatten;
use clap::Parser;
use simd_json::prelude::*;

/// Prints flattened records of generated incidents on stdout.
#[derive(Parser, Debug)]
struct Args {
    /// Records to write; the last incident is cut short to hit the number.
    #[arg(long, default_value_t = 200_000)]
    records: usize,

    /// Seed of the generator; the same seed writes the same records.
    #[arg(long, default_value_t = 1)]
    seed: u64,

    /// Write whole incidents (one raw incident per line) instead of records,
    /// until at least --records records.
    #[arg(long)]
    incidents: bool,
}

fn main() {
    match write(Args::parse()) {
        Ok(()) => {}
        // A reader that stopped early (`| head`) wanted no more.
        Err(error)
            if error
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) => {}
        Err(error) => {
            eprintln!("generate-records: {error:#}");
            std::process::exit(1);
        }
    }
}

fn write(args: Args) -> anyhow::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut written = 0;
    let mut index = 0;
    let mut line = Vec::with_capacity(1 << 12);
    while written < args.records {
        let incident = generate::incident(index, args.seed);
        index += 1;
        let mut bytes = serde_json::to_vec(&incident)?;
        let value = simd_json::to_borrowed_value(&mut bytes)?;
        let object = value.as_object().expect("generated incidents are objects");
        let records = flatten::incident_records(object)?;
        if args.incidents {
            serde_json::to_writer(&mut out, &incident)?;
            out.write_all(b"\n")?;
            written += records.len();
            continue;
        }
        for record in records.iter().take(args.records - written) {
            line.clear();
            record.write_json(&mut line, Some(&flatten::record_id(record)))?;
            out.write_all(&line)?;
            written += 1;
        }
    }
    out.flush()?;
    Ok(())
}
