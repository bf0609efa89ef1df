//! A demo console serving generated incidents, for benchmarks and manual
//! runs against a feed of realistic size.
//!
//! It prints its base URL as the only line on stdout, then serves until it
//! is killed, interrupted, or its stdin closes; the last lets a script that
//! holds the pipe end it without knowing its pid.
//!
//! ```text
//! cargo run --release --example demo-console -- --incidents 100000 --seed 1 --token T
//! ```

use std::io::Write;

use anyhow::Context;
use canary_pipe::console::Token;
use canary_pipe::demo::{Console, generate};
use clap::Parser;

/// Serves generated incidents on 127.0.0.1 and prints the base URL.
#[derive(Parser, Debug)]
struct Args {
    /// Incidents to generate.
    #[arg(long, default_value_t = 10_000)]
    incidents: usize,

    /// Seed of the generator; the same seed serves the same incidents.
    #[arg(long, default_value_t = 1)]
    seed: u64,

    /// Token the console accepts in `X-Canary-Auth-Token`.
    #[arg(long)]
    token: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let token = Token::new(&args.token).context("unusable --token")?;
    let incidents = generate::incidents(args.incidents, args.seed);
    let console = Console::start(token, incidents).await.context("cannot start the console")?;

    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", console.url()).and_then(|()| stdout.flush())?;
    drop(stdout);

    tokio::select! {
        _ = stdin_closed() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}

/// Resolves when stdin reaches its end or fails. A plain thread reads it:
/// a blocked read would keep the runtime from shutting down after Ctrl-C.
async fn stdin_closed() {
    let (closed, on_close) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = closed.send(());
    });
    let _ = on_close.await;
}
