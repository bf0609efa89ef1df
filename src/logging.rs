//! Diagnostics for both programs: `tracing` to stderr, as text or JSON lines.
//! stdout carries data only.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Sends logs to stderr. The level comes from `CANARY_LOG` (e.g. `debug`,
/// `warn`), `info` by default.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("CANARY_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let installed = match format {
        LogFormat::Text => builder.with_target(false).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    // A second call (tests) keeps the first subscriber.
    drop(installed);
}
