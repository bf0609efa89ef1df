//! The polling loop: drain the feed from the watermark, write every incident
//! out, then move the checkpoint.
//!
//! One drain asks for `incidents_since=<watermark>` and follows `cursor.next`
//! until the last page. The new watermark is the running maximum of every
//! incident's `updated_id` and every page's `max_updated_id`. It is saved
//! only after the lines it covers are written and flushed: after each page
//! while the feed has come in ascending `updated_id` order (so a long backfill
//! that is interrupted resumes where it was), otherwise once at the end of
//! the drain. Failed requests are retried with exponential backoff and jitter.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use simd_json::prelude::*;
use tokio_util::sync::CancellationToken;

use crate::console::{ApiError, Client, Filters, Page, PageRequest};
use crate::dedup::{self, Seen};
use crate::exit;
use crate::flatten::{self, Kind};
use crate::state::{State, StateError};

/// The feed name recorded in the state file.
pub const FEED: &str = "incidents";

/// What the source writes per incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Emit {
    /// The flattened records Sekoia's intake parses: one per incident, one per event.
    Events,
    /// Each incident object exactly as the console sent it.
    Incidents,
}

#[derive(Clone, Debug)]
pub struct Options {
    /// Names the console in the state file: its base URL, or `demo` for the
    /// demo console whose port changes every run.
    pub console_name: String,
    pub page_size: u32,
    pub interval: Duration,
    pub once: bool,
    pub emit: Emit,
    pub state_file: Option<PathBuf>,
    pub max_backoff: Duration,
    /// Attempts per request before a `--once` run gives up; polling forever
    /// never gives up on a console that may come back.
    pub once_attempts: usize,
    pub filters: Filters,
    /// Incidents remembered for skipping events already written.
    pub remember: usize,
}

/// Counters reported at exit.
#[derive(Debug, Default)]
pub struct Summary {
    pub pages: u64,
    pub incidents: u64,
    pub records: u64,
    /// Events not written again because an earlier run or page wrote them.
    pub repeats_skipped: u64,
    pub retries: u64,
}

/// Why a run ended early.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Auth(ApiError),
    #[error("giving up after repeated failures: {0}")]
    Unavailable(ApiError),
    #[error("{0}")]
    Console(ApiError),
    #[error("cannot write to stdout: {0}")]
    Output(io::Error),
    #[error(transparent)]
    State(#[from] StateError),
}

impl RunError {
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Auth(_) => exit::AUTH,
            RunError::Unavailable(_) => exit::UNAVAILABLE,
            RunError::Output(_) => exit::OUTPUT,
            RunError::Console(_) | RunError::State(_) => exit::FAILURE,
        }
    }
}

/// Polls until `--once` is done, the run is cancelled, or a fatal error.
pub async fn run<W: Write>(
    client: &Client,
    options: &Options,
    out: W,
    stop: CancellationToken,
) -> Result<Summary, RunError> {
    let console = &options.console_name;
    let state = match &options.state_file {
        Some(path) => State::load(path, console, FEED)?,
        None => None,
    };
    let state = state.unwrap_or_else(|| State::new(console, FEED));
    tracing::info!(console = %client.console(), watermark = state.watermark, "Starting.");

    let mut poller = Poller {
        client,
        options,
        out,
        state,
        summary: Summary::default(),
        retries: AtomicU64::new(0),
    };
    loop {
        match poller.drain(&stop).await {
            Ok(()) => {}
            // Polling forever outlives a console that misbehaves for a while;
            // only a rejected token or a broken output ends it.
            Err(RunError::Console(err) | RunError::Unavailable(err)) if !options.once => {
                tracing::error!(kind = err.kind(), error = %err, "Poll failed; trying again at the next interval.");
            }
            Err(err) => return Err(err),
        }
        if options.once || stop.is_cancelled() {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(options.interval) => {}
            _ = stop.cancelled() => break,
        }
    }
    poller.summary.retries = poller.retries.load(Ordering::Relaxed);
    Ok(poller.summary)
}

struct Poller<'a, W> {
    client: &'a Client,
    options: &'a Options,
    out: W,
    state: State,
    summary: Summary,
    retries: AtomicU64,
}

impl<W: Write> Poller<'_, W> {
    async fn drain(&mut self, stop: &CancellationToken) -> Result<(), RunError> {
        let since = self.state.watermark;
        let mut max = since;
        let mut in_order = true;
        let mut cursor: Option<String> = None;
        let mut lines = Vec::with_capacity(1 << 16);

        loop {
            let request = match &cursor {
                None => PageRequest::First {
                    since,
                    limit: self.options.page_size,
                    filters: &self.options.filters,
                },
                Some(cursor) => PageRequest::Next { cursor },
            };
            let page = tokio::select! {
                page = self.fetch(&request) => page?,
                _ = stop.cancelled() => return Ok(()),
            };

            lines.clear();
            for raw in &page.items {
                match self.write_incident(raw.get(), &mut lines) {
                    Some(id) if id > max => max = id,
                    _ => in_order = false,
                }
            }
            max = max.max(page.max_updated_id.unwrap_or(0));
            self.out.write_all(&lines).and_then(|()| self.out.flush()).map_err(RunError::Output)?;
            self.summary.pages += 1;
            self.summary.incidents += page.items.len() as u64;
            tracing::info!(
                incidents = page.items.len(),
                watermark = max,
                pages = self.summary.pages,
                "Page written."
            );

            if in_order {
                self.save(max)?;
            }
            match next_cursor(page) {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        self.save(max)
    }

    /// Fetches one page, retrying what may pass later.
    async fn fetch(&self, request: &PageRequest<'_>) -> Result<Page, RunError> {
        let mut backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_secs(1))
            .with_max_delay(self.options.max_backoff)
            .with_factor(2.0)
            .with_jitter();
        backoff = if self.options.once {
            backoff.with_max_times(self.options.once_attempts.saturating_sub(1))
        } else {
            backoff.without_max_times()
        };

        let result = (|| self.client.incidents_page(request))
            .retry(backoff)
            .when(ApiError::is_transient)
            .adjust(|err, delay| Some(delay?.max(err.retry_after().unwrap_or_default())))
            .notify(|err, delay| {
                self.retries.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    kind = err.kind(),
                    error = %err,
                    retry_in_secs = delay.as_secs_f64(),
                    "Console request failed; retrying."
                );
            })
            .await;
        result.map_err(|err| match err {
            ApiError::Auth { .. } => RunError::Auth(err),
            err if err.is_transient() => RunError::Unavailable(err),
            err => RunError::Console(err),
        })
    }

    /// Appends the lines of one incident that were not written before and
    /// returns its `updated_id`.
    fn write_incident(&mut self, raw: &str, lines: &mut Vec<u8>) -> Option<u64> {
        let mut scratch = raw.as_bytes().to_vec();
        let parsed = simd_json::to_borrowed_value(&mut scratch);
        let incident = parsed.as_ref().ok().and_then(|v| v.as_object());
        let updated_id = incident
            .and_then(|o| o.get("updated_id"))
            .and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())));
        let key = incident
            .and_then(|o| o.get("id").or_else(|| o.get("hash_id")))
            .and_then(|v| v.as_str());

        // The whole incident at this update was written already (a page read
        // again after a restart).
        let seen = key.and_then(|k| self.state.incidents.get(k));
        if let (Some(seen), Some(id)) = (seen, updated_id)
            && seen.updated_id >= id
        {
            return updated_id;
        }
        let mut seen = seen.cloned().unwrap_or_default();
        seen.updated_id = updated_id.unwrap_or(seen.updated_id);

        match (self.options.emit, incident.map(flatten::incident_records)) {
            (Emit::Events, Some(Ok(records))) => {
                for record in &records {
                    let id = flatten::record_id(record);
                    if record.kind() == Kind::Event {
                        let timestamp = record.timestamp();
                        if seen.has_event(timestamp, &id) {
                            self.summary.repeats_skipped += 1;
                            continue;
                        }
                        seen.add_event(timestamp, id.clone());
                    }
                    record.write_json(lines, Some(&id)).expect("writing to a Vec cannot fail");
                    self.summary.records += 1;
                }
            }
            (Emit::Events, problem) => {
                // The raw incident is still a valid input to canary-transform,
                // so it goes out as it is rather than being dropped.
                let reason = match problem {
                    Some(Err(err)) => err.to_string(),
                    _ => "not a JSON object".into(),
                };
                tracing::warn!(reason, "Incident cannot be flattened; writing it as received.");
                write_raw(raw, lines);
                self.summary.records += 1;
            }
            (Emit::Incidents, _) => {
                write_raw(raw, lines);
                self.summary.records += 1;
            }
        }
        if let Some(key) = key {
            self.remember(key, seen);
        }
        updated_id
    }

    fn remember(&mut self, key: &str, seen: Seen) {
        match self.state.incidents.get_mut(key) {
            Some(slot) => *slot = seen,
            None => {
                self.state.incidents.insert(key.to_owned(), seen);
            }
        }
    }

    fn save(&mut self, watermark: u64) -> Result<(), RunError> {
        if watermark <= self.state.watermark {
            return Ok(());
        }
        self.state.watermark = watermark;
        dedup::evict(&mut self.state.incidents, self.options.remember);
        if let Some(path) = &self.options.state_file {
            self.state.save(path)?;
        }
        Ok(())
    }
}

/// The cursor of the next page, unless this one was the last: no cursor, or
/// an empty page (which would otherwise loop on a console that keeps
/// returning a cursor).
fn next_cursor(page: Page) -> Option<String> {
    if page.items.is_empty() { None } else { page.next_cursor }
}

/// One incident on one line; a console that pretty-prints would otherwise
/// break the line framing.
fn write_raw(raw: &str, lines: &mut Vec<u8>) {
    if raw.contains('\n') {
        let value: serde_json::Value = serde_json::from_str(raw).expect("raw JSON was validated");
        serde_json::to_writer(&mut *lines, &value).expect("writing to a Vec cannot fail");
    } else {
        lines.extend_from_slice(raw.as_bytes());
    }
    lines.push(b'\n');
}
