//! The polling loop: drain a feed from the watermark, write every new record
//! out, then move the checkpoint.
//!
//! One drain of the incident feed asks for `incidents_since=<watermark>` and
//! follows `cursor.next` until the last page. The new watermark is the running
//! maximum of every incident's `updated_id` and every page's `max_updated_id`.
//! It is saved only after the lines it covers are written and flushed: every
//! couple of seconds of a long drain while the feed comes in ascending
//! `updated_id` order (so an interrupted backfill resumes near where it was),
//! otherwise once at the end. A
//! cursor that stops working restarts the drain from what was saved; what
//! [`crate::dedup`] remembers keeps that from repeating events.
//!
//! The audit trail comes newest first, so its drain reads back to the last
//! entry written and saves its watermark (the highest entry `id`) at the end.
//!
//! Requests are retried with exponential backoff and jitter, honouring
//! `Retry-After`; every failure is one warning naming its kind.

use std::collections::HashSet;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use simd_json::BorrowedValue as Value;
use simd_json::prelude::*;
use tokio_util::sync::CancellationToken;

use crate::console::{ApiError, Client, Filters, Page, PageRequest};
use crate::dedup::{self, Seen};
use crate::ecs::Mapper;
use crate::exit;
use crate::flatten::{self, Kind, NotARecord, Record};
use crate::state::{State, StateError};

/// Which console feed to pull.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Feed {
    /// `/api/v1/incidents/all`: every incident, acknowledged or not.
    Incidents,
    /// `/api/v1/audit_trail/fetch`: who did what on the console.
    Audit,
}

impl Feed {
    /// The feed name recorded in the state file.
    pub fn name(self) -> &'static str {
        match self {
            Feed::Incidents => "incidents",
            Feed::Audit => "audit",
        }
    }
}

/// What the source writes per incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Emit {
    /// The flattened records Sekoia's intake parses: one per incident, one per event.
    Events,
    /// Each incident object exactly as the console sent it.
    Incidents,
    /// The flattened records mapped to ECS, as canary-transform would write
    /// them: one program for a collector to run instead of a shell pipe.
    Ecs,
}

#[derive(Clone, Debug)]
pub struct Options {
    /// Names the console in the state file: its base URL, or `demo` for the
    /// demo console whose port changes every run.
    pub console_name: String,
    pub feed: Feed,
    pub page_size: u32,
    pub interval: Duration,
    pub once: bool,
    pub emit: Emit,
    /// How `Emit::Ecs` maps records; the other outputs ignore it.
    pub mapping: crate::ecs::Options,
    pub state_file: Option<PathBuf>,
    /// Where to write the new state instead of `state_file`, for pipelines
    /// that commit it only once the sink accepted the data.
    pub state_out: Option<PathBuf>,
    pub max_backoff: Duration,
    /// Attempts per request before a `--once` run gives up; polling forever
    /// never gives up on a console that may come back.
    pub once_attempts: usize,
    pub filters: Filters,
    /// Incidents remembered for skipping events already written.
    pub remember: usize,
    /// Acknowledge each incident once its records are written and saved.
    pub acknowledge: bool,
    /// Where a first run without state starts: incidents created after this.
    pub since: Option<jiff::Timestamp>,
}

/// Counters reported at exit.
#[derive(Debug, Default)]
pub struct Summary {
    pub pages: u64,
    pub incidents: u64,
    pub records: u64,
    /// Events not written again because an earlier run or page wrote them.
    pub repeats_skipped: u64,
    pub acknowledged: u64,
    /// Feed entries that were not incident objects, and events that were
    /// not objects: logged and left out.
    pub skipped: u64,
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
    /// A follow-up page failed in a way its cursor will not recover from.
    #[error("the console no longer accepts the paging cursor: {0}")]
    CursorLost(ApiError),
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
            RunError::Console(_) | RunError::CursorLost(_) | RunError::State(_) => exit::FAILURE,
        }
    }
}

/// The longest `Retry-After` obeyed: a console (or a proxy) asking for more
/// would stall the source for good.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Least time between two saves in the middle of a drain. Every save writes
/// and fsyncs the whole state; during a long backfill saving after every page
/// would cost more than the pages. The end of a drain always saves.
const SAVE_EVERY: Duration = Duration::from_secs(2);

/// Restarts of one drain after lost cursors before the drain fails.
const CURSOR_RESTARTS: u32 = 3;

/// Polls until `--once` is done, the run is cancelled, or a fatal error.
pub async fn run<W: Write>(
    client: &Client,
    options: &Options,
    out: W,
    stop: CancellationToken,
) -> Result<Summary, RunError> {
    let console = &options.console_name;
    let feed = options.feed.name();
    // Held for the whole run: one source per state file.
    let _locks = options
        .state_out
        .iter()
        .chain(options.state_file.iter())
        .map(|path| crate::state::lock(path))
        .collect::<Result<Vec<_>, _>>()?;
    let state = match &options.state_file {
        Some(path) => State::load(path, console, feed)?,
        None => None,
    };
    let scope = options.filters.scope();
    let fresh = state.is_none();
    let mut state = state.unwrap_or_else(|| State::new(console, feed));
    if fresh {
        state.scope = scope.clone();
        state.since = options.since.map(|t| t.as_second());
    } else if state.scope != scope {
        let path = options.state_file.clone().unwrap_or_default();
        return Err(StateError::OtherScope { path, found: state.scope, expected: scope }.into());
    }
    tracing::info!(console = %client.console(), feed, watermark = state.watermark, "Starting.");

    let mut poller = Poller {
        client,
        options,
        fetcher: Fetcher {
            client: client.clone(),
            max_backoff: options.max_backoff,
            attempts: options.once.then_some(options.once_attempts),
            page_size: options.page_size,
            retries: Arc::new(AtomicU64::new(0)),
        },
        out,
        state,
        summary: Summary::default(),
        progress: progress_bar(),
        staged: Vec::new(),
        scratch: Vec::new(),
        // Only mapped output needs the user-agent parser (some 30 MB).
        mapper: match options.emit {
            Emit::Ecs => Mapper::with_options(options.mapping).warm_up(),
            Emit::Events | Emit::Incidents => Mapper::with_options(options.mapping),
        },
    };
    loop {
        match poller.drain(&stop).await {
            Ok(()) => {}
            // Polling forever outlives a console that misbehaves for a while;
            // only a rejected token, the state or a broken output ends it.
            Err(
                RunError::Console(err) | RunError::Unavailable(err) | RunError::CursorLost(err),
            ) if !options.once => {
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
    // A pipeline commits the state file it was promised, changed or not.
    if options.state_out.is_some() {
        poller.write_state()?;
    }
    if let Some(bar) = &poller.progress {
        bar.finish_and_clear();
    }
    poller.summary.retries = poller.fetcher.retries.load(Ordering::Relaxed);
    Ok(poller.summary)
}

/// A spinner with counts when stderr is a terminal; otherwise each page is
/// one log line.
fn progress_bar() -> Option<indicatif::ProgressBar> {
    if !io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

struct Poller<'a, W> {
    client: &'a Client,
    options: &'a Options,
    /// Fetches pages, here or on a task of its own.
    fetcher: Fetcher,
    out: W,
    state: State,
    summary: Summary,
    progress: Option<indicatif::ProgressBar>,
    /// What the page being written adds to the state's memory of incidents.
    staged: Vec<(String, Seen)>,
    /// A copy of the incident being parsed.
    scratch: Vec<u8>,
    /// Maps records for `Emit::Ecs`, keeping its caches across pages.
    mapper: Mapper,
}

impl<W: Write> Poller<'_, W> {
    async fn drain(&mut self, stop: &CancellationToken) -> Result<(), RunError> {
        if self.options.feed == Feed::Audit {
            return self.drain_audit(stop).await;
        }
        self.acknowledge_pending(stop).await?;
        let mut restarts = 0;
        loop {
            let result = self.drain_incidents(stop).await;
            if result.is_err() {
                // Whatever failed, what was written is saved, so the next
                // run repeats as little as possible.
                if let Err(err) = self.write_state() {
                    tracing::error!(error = %err, "Cannot save the state.");
                }
            }
            match result {
                Err(RunError::CursorLost(err)) if restarts < CURSOR_RESTARTS => {
                    restarts += 1;
                    tracing::warn!(
                        kind = err.kind(),
                        error = %err,
                        watermark = self.state.watermark,
                        "Paging cursor stopped working; restarting from the saved watermark."
                    );
                }
                other => return other,
            }
        }
    }

    async fn drain_incidents(&mut self, stop: &CancellationToken) -> Result<(), RunError> {
        let since = self.state.watermark;
        let mut max = since;
        let mut page_max = 0;
        let mut in_order = true;
        let mut cursor: Option<String> = None;
        let mut cursors_seen = HashSet::new();
        let mut prefetched: Option<Prefetch> = None;
        let mut last_save = std::time::Instant::now();
        let mut lines = Vec::with_capacity(1 << 16);
        // `--since` holds until the feed has given a watermark.
        let created_after = (since == 0)
            .then_some(self.state.since)
            .flatten()
            .and_then(|t| jiff::Timestamp::from_second(t).ok())
            .map(|t| t.strftime("%Y-%m-%d-%H:%M:%S").to_string());

        loop {
            let (limit, filters) = (self.options.page_size, &self.options.filters);
            let request = match (&cursor, &created_after) {
                (Some(cursor), _) => PageRequest::Next { cursor },
                (None, Some(time)) => {
                    PageRequest::CreatedAfter { time: time.clone(), limit, filters }
                }
                (None, None) => PageRequest::First { since, limit, filters },
            };
            let page = tokio::select! {
                page = self.fetcher.next(prefetched.take(), &request) => page?,
                // What was written is remembered even where the watermark
                // cannot move yet, so the next run does not repeat it.
                _ = stop.cancelled() => return self.write_state(),
            };
            // The next page is asked for now rather than once this one is
            // written: the console's time to answer overlaps the writing.
            // A cursor seen before ends the drain below, unfetched.
            if let Some(next) = page.next_cursor.as_deref()
                && !page.items.is_empty()
                && !cursors_seen.contains(next)
            {
                prefetched = Some(Prefetch::start(&self.fetcher, next));
            }

            lines.clear();
            self.staged.clear();
            let mut to_acknowledge: Vec<String> = Vec::new();
            for raw in &page.items {
                let written = self.write_incident(raw.get(), &mut lines);
                match written.updated_id {
                    Some(id) if id > max => max = id,
                    _ => in_order = false,
                }
                to_acknowledge.extend(written.acknowledge);
            }
            // Whether `max_updated_id` is the page's or the whole result's is
            // not documented: it moves the watermark only once every page
            // has been written.
            page_max = page_max.max(page.max_updated_id.unwrap_or(0));
            self.out.write_all(&lines).and_then(|()| self.out.flush()).map_err(RunError::Output)?;
            // Only now is the page's memory of what was written true.
            for (key, seen) in self.staged.drain(..) {
                self.state.incidents.insert(key, seen);
            }
            self.page_done(page.items.len(), max);

            // Incidents to acknowledge are queued in the state saved with
            // the page, and acknowledged once the drain is over: changing
            // incidents while paging could shift the pages still to come.
            for key in to_acknowledge {
                if !self.state.pending_acks.contains(&key) {
                    self.state.pending_acks.push(key);
                }
            }
            if in_order {
                self.advance(max);
            }
            let first_page = self.summary.pages == 1;
            if first_page
                || last_save.elapsed() >= SAVE_EVERY
                || !self.state.pending_acks.is_empty()
            {
                self.write_state()?;
                last_save = std::time::Instant::now();
            }
            match next_cursor(page) {
                // A console handing out a cursor it gave before would page
                // forever.
                Some(next) if !cursors_seen.insert(next.clone()) => {
                    tracing::warn!("Console repeated a paging cursor; ending this drain.");
                    break;
                }
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        self.advance(max.max(page_max));
        if self.state.watermark > 0 {
            self.state.since = None;
        }
        self.write_state()?;
        self.acknowledge_pending(stop).await
    }

    async fn drain_audit(&mut self, stop: &CancellationToken) -> Result<(), RunError> {
        let since = self.state.watermark;
        let mut max = since;
        let mut cursor: Option<String> = None;
        let mut lines = Vec::with_capacity(1 << 16);

        loop {
            let page = tokio::select! {
                page = self.fetcher.audit(cursor.as_deref()) => page?,
                _ = stop.cancelled() => return Ok(()),
            };
            lines.clear();
            let mut reached_written = false;
            for raw in &page.items {
                match self.write_audit(raw.get(), since, &mut lines) {
                    Some(id) => max = max.max(id),
                    None => reached_written = true,
                }
            }
            self.out.write_all(&lines).and_then(|()| self.out.flush()).map_err(RunError::Output)?;
            self.page_done(page.items.len(), max);
            match next_cursor(page) {
                Some(next) if !reached_written => cursor = Some(next),
                _ => break,
            }
        }
        self.advance(max);
        self.write_state()
    }

    fn page_done(&mut self, items: usize, watermark: u64) {
        self.summary.pages += 1;
        self.summary.incidents += items as u64;
        match &self.progress {
            Some(bar) => bar.set_message(format!(
                "{} pages, {} items, {} records, watermark {watermark}",
                self.summary.pages, self.summary.incidents, self.summary.records
            )),
            None => tracing::info!(
                items,
                records = self.summary.records,
                watermark,
                pages = self.summary.pages,
                "Page written."
            ),
        }
    }

    /// Appends the lines of one incident that were not written before.
    fn write_incident(&mut self, raw: &str, lines: &mut Vec<u8>) -> Written {
        // Parsing rewrites its input, and the raw text must stay as received;
        // the copy goes to a buffer kept from one incident to the next.
        let mut scratch = std::mem::take(&mut self.scratch);
        let written = self.write_parsed_incident(raw, &mut scratch, lines);
        self.scratch = scratch;
        written
    }

    fn write_parsed_incident(
        &mut self,
        raw: &str,
        scratch: &mut Vec<u8>,
        lines: &mut Vec<u8>,
    ) -> Written {
        scratch.clear();
        scratch.extend_from_slice(raw.as_bytes());
        let parsed = simd_json::to_borrowed_value(scratch);
        let incident = parsed.as_ref().ok().and_then(|v| v.as_object());
        let updated_id = incident.and_then(|o| o.get("updated_id")).and_then(as_id);
        let key = incident
            .and_then(|o| o.get("id").or_else(|| o.get("hash_id")))
            .and_then(|v| v.as_str())
            .filter(|k| !k.is_empty());
        let mut written = Written { updated_id, acknowledge: None };
        if incident.is_none() {
            let value = crate::ndjson::snippet(raw.as_bytes());
            tracing::warn!(value, "Feed entry is not an incident object; skipping it.");
            self.summary.skipped += 1;
            return written;
        }

        // The whole incident at this update was written already (a page read
        // again after a restart).
        // The page may list an incident twice: what it already staged counts.
        let seen = key.and_then(|k| {
            let staged = self.staged.as_slice().iter().rev().find(|(staged, _)| staged == k);
            staged.map(|(_, seen)| seen).or_else(|| self.state.incidents.get(k))
        });
        if let (Some(seen), Some(id)) = (seen, updated_id)
            && seen.updated_id >= id
        {
            return written;
        }
        let mut seen = seen.cloned().unwrap_or_default();
        seen.updated_id = updated_id.unwrap_or(seen.updated_id);

        match (self.options.emit, incident.map(flatten::incident_records)) {
            (Emit::Events | Emit::Ecs, Some(Ok(records))) => {
                self.write_new_records(&records, &mut seen, lines)
            }
            (Emit::Ecs, problem) => {
                // canary-transform would reject the raw incident with the
                // same reason: nothing to map it to.
                let reason = match problem {
                    Some(Err(err)) => err.to_string(),
                    _ => "not an object".into(),
                };
                let value = crate::ndjson::snippet(raw.as_bytes());
                tracing::warn!(reason, value, "Incident cannot be flattened; skipping it.");
                self.summary.skipped += 1;
            }
            (Emit::Events, problem) => {
                // The raw incident is still a valid input to canary-transform,
                // so it goes out as it is rather than being dropped.
                let reason = match problem {
                    Some(Err(err)) => err.to_string(),
                    _ => "not an object".into(),
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

        let on_console = incident
            .and_then(|o| o.get("description"))
            .and_then(|d| d.get("acknowledged"))
            .is_some_and(is_true);
        seen.acknowledged |= on_console;
        if let Some(key) = key {
            if self.options.acknowledge && !seen.acknowledged {
                written.acknowledge = Some(key.to_owned());
            }
            self.remember(key, seen);
        }
        written
    }

    fn write_new_records(
        &mut self,
        records: &[Record<'_, '_>],
        seen: &mut Seen,
        lines: &mut Vec<u8>,
    ) {
        if let Some(incident) = records.first() {
            for event in flatten::non_object_events(incident) {
                let value = flatten::short(event);
                tracing::warn!(
                    value,
                    incident = incident.incident_id(),
                    "Event is not an object; skipping it."
                );
                self.summary.skipped += 1;
            }
        }
        let mut new_events = Vec::new();
        {
            let written = seen.written();
            for record in records {
                let id = flatten::record_id(record);
                if record.kind() == Kind::Event {
                    let timestamp = record.timestamp();
                    if written.contains(timestamp, &id) {
                        self.summary.repeats_skipped += 1;
                        continue;
                    }
                    new_events.push((timestamp, id.clone()));
                }
                self.write_record(record, id, lines);
            }
        }
        for (timestamp, id) in new_events {
            seen.add_event(timestamp, id);
        }
    }

    /// Appends one audit entry newer than `since` as a record and returns
    /// its id; `None` once the entries reach what was written before.
    fn write_audit(&mut self, raw: &str, since: u64, lines: &mut Vec<u8>) -> Option<u64> {
        let mut scratch = raw.as_bytes().to_vec();
        let value = match simd_json::to_borrowed_value(&mut scratch) {
            Ok(value) => value,
            Err(err) => {
                tracing::warn!(error = %err, "Audit entry is not JSON; skipping it.");
                return Some(since);
            }
        };
        let Some(id) = value.get("id").and_then(as_id) else {
            // Without a number it cannot be placed against the watermark:
            // written on every poll, or never. It is logged and counted.
            let value = crate::ndjson::snippet(raw.as_bytes());
            tracing::warn!(value, "Audit entry has no numeric id; skipping it.");
            self.summary.skipped += 1;
            return Some(since);
        };
        if id <= since {
            return None;
        }
        let record =
            value.as_object().ok_or(NotARecord::NoAuditId).and_then(Record::from_audit_entry);
        match record {
            Ok(record) => {
                let record_id = flatten::record_id(&record);
                self.write_record(&record, record_id, lines);
            }
            Err(err) => tracing::warn!(reason = %err, "Audit entry skipped."),
        }
        Some(id)
    }

    /// Appends one record as the output asks: flat, or mapped to ECS with
    /// the same id as `event.id` and within `--max-line-bytes`.
    // TODO: Cap flat records' and raw incidents' lines too; today only ECS
    // lines have a cap, and the others are as long as the console's data
    // makes them, bounded by the 256 MiB cap on one console response.
    fn write_record(&mut self, record: &Record<'_, '_>, id: String, lines: &mut Vec<u8>) {
        if self.options.emit == Emit::Ecs {
            let mapped = self.mapper.map_with_id(record, id, lines);
            if let Some(kept) = mapped.fit.kept() {
                let incident = record.incident_id().unwrap_or_default();
                tracing::warn!(
                    incident,
                    kept,
                    max = self.mapper.options().max_line_bytes,
                    "Event longer than --max-line-bytes written shorter."
                );
            }
        } else {
            record.write_json(lines, Some(&id)).expect("writing to a Vec cannot fail");
        }
        self.summary.records += 1;
    }

    /// Notes what this page writes of an incident; it goes into the state
    /// once the page is flushed.
    fn remember(&mut self, key: &str, seen: Seen) {
        self.staged.push((key.to_owned(), seen));
    }

    /// Acknowledges the incidents queued in the state, which were written and
    /// saved before they were queued. One that fails stays queued for the
    /// next poll, so none is lost or acknowledged twice.
    async fn acknowledge_pending(&mut self, stop: &CancellationToken) -> Result<(), RunError> {
        if !self.options.acknowledge || self.state.pending_acks.is_empty() {
            return Ok(());
        }
        for key in self.state.pending_acks.clone() {
            let attempt = (|| self.client.acknowledge(&key))
                .retry(ExponentialBuilder::default().with_max_times(2).with_jitter())
                .when(ApiError::is_transient)
                .notify(|err, delay| self.fetcher.retried(err, delay));
            // A stop leaves the rest queued in the state for the next run.
            let result = tokio::select! {
                result = attempt => result,
                _ = stop.cancelled() => break,
            };
            match result {
                Ok(()) => {
                    self.summary.acknowledged += 1;
                    self.state.pending_acks.retain(|k| *k != key);
                    if let Some(seen) = self.state.incidents.get_mut(&key) {
                        seen.acknowledged = true;
                    }
                }
                Err(err @ ApiError::Auth { .. }) => {
                    self.write_state()?;
                    return Err(RunError::Auth(err));
                }
                Err(err) => {
                    tracing::warn!(kind = err.kind(), error = %err, incident = %key, "Acknowledgement failed; will try again at the next poll.");
                }
            }
        }
        self.write_state()
    }

    /// Moves the watermark forward in memory, once the lines it covers are
    /// written and flushed; [`Poller::write_state`] makes it last.
    fn advance(&mut self, watermark: u64) {
        if watermark > self.state.watermark {
            self.state.watermark = watermark;
            dedup::evict(&mut self.state.incidents, self.options.remember);
        }
    }

    fn write_state(&mut self) -> Result<(), RunError> {
        if let Some(path) = self.options.state_out.as_ref().or(self.options.state_file.as_ref()) {
            self.state.save(path)?;
        }
        Ok(())
    }
}

/// What fetching a page takes, owned, so that the next page can be fetched
/// on a task of its own while the current one is written.
#[derive(Clone)]
struct Fetcher {
    client: Client,
    max_backoff: Duration,
    /// Attempts per request before giving up (`--once`); `None`: forever.
    attempts: Option<usize>,
    page_size: u32,
    retries: Arc<AtomicU64>,
}

impl Fetcher {
    fn backoff(&self) -> ExponentialBuilder {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_secs(1))
            .with_max_delay(self.max_backoff)
            .with_factor(2.0);
        match self.attempts {
            Some(attempts) => backoff.with_max_times(attempts.saturating_sub(1)),
            None => backoff.without_max_times(),
        }
    }

    /// The wait before the next attempt: the backoff's step with jitter,
    /// never above `--max-backoff-secs`, but at least what `Retry-After`
    /// asked for. `None` when the attempts are used up.
    fn delay(&self, err: &ApiError, backoff: Option<Duration>) -> Option<Duration> {
        // Jitter between half and all of the step, so that sources started
        // together spread out even once they reach the cap; never below a
        // second (unless the cap is lower): no hot loop.
        let step = backoff?.min(self.max_backoff);
        let floor = Duration::from_secs(1).min(self.max_backoff);
        let delay = step.mul_f64(0.5 + fastrand::f64() / 2.0).max(floor);
        let asked = err.retry_after().unwrap_or_default().min(MAX_RETRY_AFTER);
        Some(delay.max(asked))
    }

    fn retried(&self, err: &ApiError, delay: Duration) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            kind = err.kind(),
            error = %err,
            retry_in_secs = delay.as_secs_f64(),
            "Console request failed; retrying."
        );
    }

    /// The page `request` asks for: the one fetched ahead when there is one
    /// (it was started for the same request), else fetched now.
    async fn next(
        &self,
        prefetched: Option<Prefetch>,
        request: &PageRequest<'_>,
    ) -> Result<Page, RunError> {
        if let Some(mut prefetched) = prefetched {
            match (&mut prefetched.0).await {
                Ok(page) => return page,
                // A panic: the task is aborted only when its Prefetch is
                // dropped. The page is asked for again, here.
                Err(err) => tracing::warn!(error = %err, "Fetching ahead failed; fetching again."),
            }
        }
        self.incidents(request).await
    }

    /// Fetches one page, retrying what may pass later. On a cursor, only
    /// network and HTTP faults are retried: an answer about the request
    /// itself means the cursor is gone.
    async fn incidents(&self, request: &PageRequest<'_>) -> Result<Page, RunError> {
        let on_cursor = matches!(request, PageRequest::Next { .. });
        let result = (|| self.client.incidents_page(request))
            .retry(self.backoff())
            .when(|err| if on_cursor { err.is_transport() } else { err.is_transient() })
            .adjust(|err, delay| self.delay(err, delay))
            .notify(|err, delay| self.retried(err, delay))
            .await;
        result.map_err(|err| match err {
            ApiError::Auth { .. } => RunError::Auth(err),
            err if on_cursor && !err.is_transport() => RunError::CursorLost(err),
            err if err.is_transient() => RunError::Unavailable(err),
            err => RunError::Console(err),
        })
    }

    async fn audit(&self, cursor: Option<&str>) -> Result<Page, RunError> {
        let result = (|| self.client.audit_page(cursor, self.page_size))
            .retry(self.backoff())
            .when(ApiError::is_transient)
            .adjust(|err, delay| self.delay(err, delay))
            .notify(|err, delay| self.retried(err, delay))
            .await;
        result.map_err(|err| match err {
            ApiError::Auth { .. } => RunError::Auth(err),
            err if err.is_transient() => RunError::Unavailable(err),
            err => RunError::Console(err),
        })
    }
}

/// The next page of a drain, asked for as soon as the cursor is known, so
/// that the console prepares and sends it while the current page is
/// written. Dropping it cancels the request.
struct Prefetch(tokio::task::JoinHandle<Result<Page, RunError>>);

impl Prefetch {
    fn start(fetcher: &Fetcher, cursor: &str) -> Self {
        let (fetcher, cursor) = (fetcher.clone(), cursor.to_owned());
        Prefetch(tokio::spawn(async move {
            fetcher.incidents(&PageRequest::Next { cursor: &cursor }).await
        }))
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What writing one incident found.
struct Written {
    updated_id: Option<u64>,
    /// The incident key to acknowledge, with `--acknowledge`.
    acknowledge: Option<String>,
}

/// An id sent either as a number or as a digit string.
fn as_id(value: &Value<'_>) -> Option<u64> {
    value.as_u64().or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
}

/// The console's booleans are the strings "True" and "False".
fn is_true(value: &Value<'_>) -> bool {
    value.as_bool().unwrap_or(false)
        || value.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"))
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
    if memchr::memchr(b'\n', raw.as_bytes()).is_none() {
        lines.extend_from_slice(raw.as_bytes());
    } else {
        // Drop the whitespace between tokens, nothing else: key order and
        // number spelling stay as the console sent them.
        let mut in_string = false;
        let mut escaped = false;
        for &b in raw.as_bytes() {
            if in_string {
                in_string = escaped || b != b'"';
                escaped = !escaped && b == b'\\';
            } else if b == b'"' {
                in_string = true;
            } else if b.is_ascii_whitespace() {
                continue;
            }
            lines.push(b);
        }
    }
    lines.push(b'\n');
}
