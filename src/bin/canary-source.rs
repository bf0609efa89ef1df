//! canary-source: polls a Thinkst Canary console and writes its incidents to
//! stdout as NDJSON.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use canary_pipe::console::{Client, ConsoleUrl, Filters, Token};
use canary_pipe::logging::{self, LogFormat};
use canary_pipe::poll::{self, Emit, Feed, Options};
use canary_pipe::{demo, exit};
use clap::Parser;
use tokio_util::sync::CancellationToken;

/// Polls a Thinkst Canary console and writes its incidents to stdout, one JSON
/// object per line. The API token is read from CANARY_AUTH_TOKEN or from
/// --auth-token-file, never from the command line.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Console: its domain hash (meaning https://<hash>.canary.tools) or a full
    /// base URL. Plain http is refused except to loopback addresses.
    #[arg(long, env = "CANARY_CONSOLE", required_unless_present = "demo")]
    console: Option<String>,

    /// File holding the API token (instead of CANARY_AUTH_TOKEN).
    #[arg(long, value_name = "PATH")]
    auth_token_file: Option<PathBuf>,

    /// Checkpoint file; without one every run starts from the beginning.
    #[arg(long, value_name = "PATH")]
    state_file: Option<PathBuf>,

    /// Write the new state here instead of --state-file, for a pipeline that
    /// moves it over --state-file only after its sink accepted the data.
    /// Needs --once.
    #[arg(long, value_name = "PATH", requires = "once", conflicts_with = "acknowledge")]
    state_out: Option<PathBuf>,

    /// Which feed to pull; each needs its own state file.
    #[arg(long, value_enum, default_value_t = Feed::Incidents)]
    feed: Feed,

    /// Acknowledge each incident on the console after its records are
    /// written and the state saved. Not with --state-out: the source cannot
    /// know whether the pipe's sink accepted them.
    #[arg(long)]
    acknowledge: bool,

    /// Where a first run (no state file yet) starts: an RFC 3339 time or a
    /// duration back from now such as 24h or 7d. Default: all history.
    #[arg(long, value_name = "TIME", value_parser = parse_since)]
    since: Option<jiff::Timestamp>,

    /// Drain every page once, then exit.
    #[arg(long)]
    once: bool,

    /// Seconds between polls when not --once.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    interval_secs: u64,

    /// Incidents per page.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    page_size: u32,

    /// What to write per incident. `ecs` writes what canary-transform would
    /// make of the `events` records, mapped with the options below.
    #[arg(long, value_enum, default_value_t = Emit::Events)]
    emit: Emit,

    #[command(flatten)]
    mapping: canary_pipe::ecs::Options,

    /// Longest wait between retries of a failing request.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    max_backoff_secs: u64,

    /// Attempts per request before a --once run gives up (exit 69). Without
    /// --once the source retries for as long as it runs.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=1000))]
    max_attempts: u64,

    /// Timeout of one request.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    timeout_secs: u64,

    /// Only incidents of this flock (e.g. flock:default).
    #[arg(long)]
    flock_id: Option<String>,

    /// Only incidents of this Canary or Canarytoken.
    #[arg(long)]
    node_id: Option<String>,

    /// At most this many events embedded per incident.
    #[arg(long)]
    event_limit: Option<u32>,

    /// Incidents remembered (in the state file) so that one coming back with
    /// new events or a new acknowledgement sends only what is new. The least
    /// recently updated are forgotten first.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    remember_incidents: u64,

    /// Serve the built-in demo incidents from a console on 127.0.0.1 and pull
    /// them through the same client.
    /// (CANARY_CONSOLE is ignored then, so the demo runs anywhere.)
    #[arg(long, conflicts_with = "auth_token_file")]
    demo: bool,

    /// Format of the diagnostics on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

fn main() -> ExitCode {
    let args = Args::parse();
    logging::init(args.log_format);
    let code = match run(args) {
        Ok(code) => code,
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "canary-source cannot start.");
            exit::USAGE
        }
    };
    ExitCode::from(code as u8)
}

/// Returns the exit code; `Err` is for bad configuration.
fn run(args: Args) -> anyhow::Result<i32> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        // The demo console must live as long as the run.
        let (console, token, _demo) = if args.demo {
            let token = Token::new("demo-token").expect("valid token");
            let server = demo::Console::start(token.clone(), demo::builtin_incidents())
                .await
                .context("cannot start the demo console")?;
            (ConsoleUrl::parse(&server.url())?, token, Some(server))
        } else {
            let console = ConsoleUrl::parse(args.console.as_deref().unwrap_or_default())?;
            let token = Token::load(
                args.auth_token_file.as_deref(),
                std::env::var("CANARY_AUTH_TOKEN").ok(),
            )?;
            (console, token, None)
        };

        if args.since.is_some() && args.feed == Feed::Audit {
            anyhow::bail!("--since applies to the incident feed only; the audit trail starts at its oldest entry");
        }
        let mapping = &args.mapping;
        let maps = mapping.keep_original
            || mapping.keep_credentials
            || mapping.profile != canary_pipe::ecs::Profile::default()
            || mapping.max_line_bytes != canary_pipe::ecs::DEFAULT_LINE;
        if maps && args.emit != Emit::Ecs {
            anyhow::bail!(
                "--profile, --keep-original, --keep-credentials and --max-line-bytes apply to --emit ecs only"
            );
        }
        let console_name = if args.demo { "demo".to_owned() } else { console.to_string() };
        let options = Options {
            console_name,
            feed: args.feed,
            state_out: args.state_out,
            acknowledge: args.acknowledge,
            since: args.since,
            page_size: args.page_size,
            interval: Duration::from_secs(args.interval_secs),
            once: args.once,
            emit: args.emit,
            mapping: args.mapping,
            state_file: args.state_file,
            max_backoff: Duration::from_secs(args.max_backoff_secs),
            once_attempts: args.max_attempts as usize,
            filters: Filters {
                flock_id: args.flock_id,
                node_id: args.node_id,
                event_limit: args.event_limit,
            },
            remember: args.remember_incidents as usize,
        };
        let client = Client::new(console, &token, Duration::from_secs(args.timeout_secs))
            .context("cannot build the HTTP client")?;

        let stop = CancellationToken::new();
        tokio::spawn(stop_on_signal(stop.clone()));
        let out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        Ok(finish(poll::run(&client, &options, out, stop).await))
    })
}

fn finish(result: Result<poll::Summary, poll::RunError>) -> i32 {
    match result {
        Ok(summary) => {
            tracing::info!(
                pages = summary.pages,
                incidents = summary.incidents,
                records = summary.records,
                repeats_skipped = summary.repeats_skipped,
                acknowledged = summary.acknowledged,
                skipped = summary.skipped,
                retries = summary.retries,
                "Finished."
            );
            let _ = std::io::stdout().flush();
            exit::OK
        }
        Err(err) => {
            tracing::error!(error = %err, "canary-source stopped.");
            err.exit_code()
        }
    }
}

/// SIGINT or SIGTERM ends the run after the page being written.
// TODO: Writes to stdout are blocking; a signal that arrives while the
// downstream does not read waits for that write, so a collector's stop
// timeout may end in SIGKILL (safe, but the last page is repeated).
async fn stop_on_signal(stop: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) =
        (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        tracing::warn!("Cannot listen for signals; SIGTERM will end the run abruptly.");
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    tracing::info!("Stopping on signal.");
    stop.cancel();
}

/// `--since`: an RFC 3339 time, or a duration back from now ("24h", "7d",
/// "90m"); days count as 24 hours.
fn parse_since(text: &str) -> Result<jiff::Timestamp, String> {
    if let Ok(time) = text.parse::<jiff::Timestamp>() {
        return Ok(time);
    }
    let span: jiff::Span = text.parse().map_err(|_| {
        format!("{text:?} is neither an RFC 3339 time nor a duration like 24h or 7d")
    })?;
    let back = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|err| format!("{text:?}: {err}"))?;
    jiff::Timestamp::now()
        .checked_sub(back.abs())
        .map_err(|err| format!("{text:?} reaches too far back: {err}"))
}
