//! A demo console serving generated incidents, for benchmarks and manual
//! runs against a feed of realistic size.
//!
//! It prints its base URL as the only line on stdout, then serves until it
//! is killed, interrupted, or its stdin closes; the last lets a script that
//! holds the pipe end it without knowing its pid.
//!
//! ```text
//! CANARY_AUTH_TOKEN=T cargo run --release --example demo-console -- --incidents 100000 --seed 1
//! ```
//!
//! The token it accepts comes from `CANARY_AUTH_TOKEN`, as canary-source's
//! does, so the same variable serves both and no token is on a command line.

use std::io::Write;

use anyhow::Context;
use canary_pipe::console::Token;
use canary_pipe::demo::{Console, generate};
use clap::Parser;

/// Serves generated incidents on 127.0.0.1 and prints the base URL. The
/// token it accepts is read from CANARY_AUTH_TOKEN.
#[derive(Parser, Debug)]
struct Args {
    /// Incidents to generate.
    #[arg(long, default_value_t = 10_000)]
    incidents: usize,

    /// Seed of the generator; the same seed serves the same incidents.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[tokio::main]
async fn main() {
    // One line, without anyhow's backtrace, like the programs' own errors.
    if let Err(error) = serve(Args::parse()).await {
        eprintln!("demo-console: {error:#}");
        std::process::exit(1);
    }
}

async fn serve(args: Args) -> anyhow::Result<()> {
    let token = std::env::var("CANARY_AUTH_TOKEN")
        .context("set CANARY_AUTH_TOKEN to the token the console should accept")?;
    let token = Token::new(&token).context("unusable CANARY_AUTH_TOKEN")?;
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
