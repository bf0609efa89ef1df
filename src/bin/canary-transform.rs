//! canary-transform: Canary records in, ECS events out, one JSON object per line.

use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use canary_pipe::exit;
use canary_pipe::input::Input;
use canary_pipe::logging::{self, LogFormat};
use canary_pipe::transform::{Failure, Format, Transformer};
use clap::Parser;

/// Reads Thinkst Canary records (flattened records, raw incidents, feed pages,
/// arrays of these; NDJSON or pretty-printed JSON), OpenCanary lines, console
/// webhook payloads and console syslog lines from the files named, or stdin,
/// and writes one ECS event per line to stdout.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Input files; none or "-" means stdin.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,

    /// Exit with 65 if any record was rejected.
    #[arg(long)]
    strict: bool,

    /// Kind of records to read; the others are rejected. `auto` recognises
    /// each record by its shape.
    #[arg(long, value_enum, default_value_t = Input::Auto)]
    input: Input,

    /// Output: one ECS object per line, or an Elasticsearch `_bulk` body
    /// (action and source lines, `_id` = event.id) for --index.
    #[arg(long, value_enum, default_value_t = OutputFormat::Ndjson)]
    format: OutputFormat,

    #[command(flatten)]
    mapping: canary_pipe::ecs::Options,

    /// Index (or data stream) named in the `_bulk` actions.
    #[arg(long, required_if_eq("format", "es-bulk"))]
    index: Option<String>,

    /// Threads that parse and map records (output keeps the input's order);
    /// 0 means one per CPU.
    #[arg(long, default_value_t = 0)]
    workers: usize,

    /// Format of the diagnostics on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum OutputFormat {
    Ndjson,
    EsBulk,
}

fn main() -> ExitCode {
    let args = Args::parse();
    logging::init(args.log_format);
    ExitCode::from(run(&args) as u8)
}

fn run(args: &Args) -> i32 {
    if args.index.is_some() && args.format != OutputFormat::EsBulk {
        tracing::error!("Bad option: --index names the index of `--format es-bulk` actions.");
        return exit::USAGE;
    }
    let format = match (args.format, &args.index) {
        (OutputFormat::EsBulk, Some(index)) => match Format::es_bulk(index) {
            Ok(format) => format,
            Err(err) => {
                tracing::error!(error = %err, "Bad option.");
                return exit::USAGE;
            }
        },
        _ => Format::Ndjson,
    };
    let workers = match args.workers {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    let mut transformer =
        Transformer::with(format, args.mapping).with_input(args.input).with_workers(workers);
    // Written from the writer thread, so not a lock held by this one.
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout());
    let stdin_only = [PathBuf::from("-")];
    let files = if args.files.is_empty() { &stdin_only[..] } else { &args.files[..] };
    let mut code = exit::OK;

    for path in files {
        let result = if path.as_os_str() == "-" {
            transformer.run("stdin", io::stdin().lock(), &mut out)
        } else {
            let name = path.display().to_string();
            match File::open(path) {
                Ok(file) => transformer.run(&name, file, &mut out),
                Err(err) => {
                    tracing::error!(input = %name, error = %err, "Cannot read input file.");
                    code = exit::NO_INPUT;
                    continue;
                }
            }
        };
        match result {
            Ok(()) => {}
            Err(Failure::Input(err)) => {
                let name = path.display().to_string();
                tracing::error!(input = %name, error = %err, "Cannot read input file.");
                code = exit::NO_INPUT;
            }
            Err(err @ Failure::Output(_)) => {
                tracing::error!(error = %err, "Transform stopped.");
                report(&transformer);
                return exit::OUTPUT;
            }
        }
    }

    report(&transformer);
    if code == exit::OK && args.strict && transformer.counts().rejected > 0 {
        code = exit::DATA;
    }
    code
}

fn report(transformer: &Transformer) {
    let counts = transformer.counts();
    tracing::info!(
        read = counts.read,
        written = counts.written,
        rejected = counts.rejected,
        "Finished."
    );
}
