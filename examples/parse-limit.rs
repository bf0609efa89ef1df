//! The floor for any JSON-lines transformer: parse each line of stdin and
//! write it out again, with serde_json or simd-json, doing nothing else.
//! benches/compare.sh measures canary-transform against it.
//!
//! ```text
//! cargo run --release --example parse-limit -- serde-json < records.ndjson > /dev/null
//! ```

use std::io::{BufRead, BufWriter, Write};

use clap::{Parser, ValueEnum};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Library {
    SerdeJson,
    SimdJson,
}

/// Parses every line of stdin into a value tree and serializes it to stdout.
#[derive(Parser, Debug)]
struct Args {
    library: Library,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut input = std::io::stdin().lock();
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut line = Vec::with_capacity(1 << 16);
    let mut buffers = simd_json::Buffers::new(1 << 16);
    let mut lines = 0u64;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        lines += 1;
        match args.library {
            Library::SerdeJson => {
                let value: serde_json::Value = serde_json::from_slice(&line)?;
                serde_json::to_writer(&mut out, &value)?;
            }
            Library::SimdJson => {
                let value = simd_json::to_borrowed_value_with_buffers(&mut line, &mut buffers)?;
                simd_json::to_writer(&mut out, &value)?;
            }
        }
        out.write_all(b"\n")?;
    }
    out.flush()?;
    eprintln!("{lines} lines");
    Ok(())
}
