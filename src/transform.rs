//! canary-transform's driver: documents in, ECS lines out, every record
//! accounted for.
//!
//! A document may be a flattened record, a raw incident, a feed page
//! (`{"incidents": [...]}`), an audit trail page (`{"audit_trail": [...]}`)
//! or entry, an `/incident/fetch` body (`{"incident": {...}}`), an
//! OpenCanary line, a webhook payload, or an array of any of these; a
//! line starting with `<digits>` is a syslog line ([`crate::input`] tells
//! them apart). Incidents are flattened first, so the unit counted is
//! always the flattened record: each one read is either written or
//! rejected with a reason on stderr.

use std::io::{self, Read, Write};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

use simd_json::BorrowedValue as Value;
use simd_json::borrowed::Object;
use simd_json::prelude::*;

use crate::ecs::Mapper;
use crate::flatten::{self, NotARecord, Record};
use crate::input::{self, Input, Shape, opencanary, syslog, webhook};
use crate::ndjson::{self, Item, Reader};

/// Output is handed to the writer in chunks of about this size.
const CHUNK: usize = 1 << 16;

/// Why a run stopped: the input could not be read (the next input may
/// still be), or the output could not be written (nothing more can be).
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("cannot read input: {0}")]
    Input(io::Error),
    #[error("cannot write to stdout: {0}")]
    Output(io::Error),
}

/// Records read, written and rejected so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub read: u64,
    pub written: u64,
    pub rejected: u64,
}

/// How mapped events are written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// One ECS object per line.
    #[default]
    Ndjson,
    /// Elasticsearch `_bulk` body: a `create` action naming the index and
    /// `_id` = `event.id`, then the event. `create` is what data streams
    /// accept, and an event sent again is refused as a conflict (409)
    /// instead of stored twice.
    EsBulk { index: String },
}

/// Why an Elasticsearch index name is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "index name {0:?} is not valid for Elasticsearch (lowercase, no spaces or \\/*?\"<>|,#:, not starting with -_+, not . or ..)"
)]
pub struct BadIndex(pub String);

impl Format {
    pub fn es_bulk(index: &str) -> Result<Format, BadIndex> {
        let bad = index.is_empty()
            || index.len() > 255
            || index == "."
            || index == ".."
            || index.starts_with(['-', '_', '+'])
            || index
                .chars()
                .any(|c| c.is_uppercase() || c.is_whitespace() || "\\/*?\"<>|,#:".contains(c));
        if bad {
            return Err(BadIndex(index.to_owned()));
        }
        Ok(Format::EsBulk { index: index.to_owned() })
    }
}

pub struct Transformer {
    mapper: Mapper,
    /// Threads that parse and map; 1 does everything on the caller's.
    workers: usize,
    /// Records mapped into `out` and not yet handed to the writer.
    mapped: u64,
    format: Format,
    /// The `_bulk` action line up to the `_id` value, made once.
    bulk_action: Vec<u8>,
    buffers: simd_json::Buffers,
    counts: Counts,
    out: Vec<u8>,
    /// The start of the document being parsed, for messages.
    head: Vec<u8>,
    /// Which kinds of record are read.
    input: Input,
    /// JSON found inside text (a syslog line, an envelope's `message`),
    /// copied here to be parsed in place.
    inner: Vec<u8>,
    /// The input and line of the document being mapped, for records
    /// refused after mapping.
    at: (String, u64),
    /// On a worker: what to log, kept for the writer, which logs it in
    /// input order with the batch's output. Elsewhere logged at once.
    notes: Option<Vec<Note>>,
}

/// A warning about one record.
enum Note {
    Rejected { input: String, line: u64, reason: String, value: String },
    Cut { input: String, line: u64, incident: String, kept: &'static str, max: usize },
}

impl Note {
    fn log(&self) {
        match self {
            Note::Rejected { input, line, reason, value } => {
                tracing::warn!(input, line, reason, value, "Record rejected.");
            }
            Note::Cut { input, line, incident, kept, max } => {
                tracing::warn!(
                    input,
                    line,
                    incident,
                    kept,
                    max,
                    "Event longer than --max-line-bytes written shorter."
                );
            }
        }
    }
}

impl Default for Transformer {
    fn default() -> Self {
        Self::new()
    }
}

impl Transformer {
    pub fn new() -> Self {
        Self::with(Format::Ndjson, crate::ecs::Options::default())
    }

    pub fn with(format: Format, mapping: crate::ecs::Options) -> Self {
        let mut bulk_action = Vec::new();
        if let Format::EsBulk { index } = &format {
            bulk_action.extend_from_slice(b"{\"create\":{\"_index\":");
            flatten::write_str(&mut bulk_action, index).expect("writing to a Vec cannot fail");
            bulk_action.extend_from_slice(b",\"_id\":");
        }
        Self::assemble(Mapper::with_options(mapping).warm_up(), format, bulk_action, Input::Auto)
    }

    /// A transformer with fresh working state around these settings.
    fn assemble(mapper: Mapper, format: Format, bulk_action: Vec<u8>, input: Input) -> Self {
        Transformer {
            mapper,
            workers: 1,
            mapped: 0,
            format,
            bulk_action,
            buffers: simd_json::Buffers::new(1 << 16),
            counts: Counts::default(),
            out: Vec::with_capacity(CHUNK * 2),
            head: Vec::with_capacity(240),
            input,
            inner: Vec::new(),
            at: (String::new(), 0),
            notes: None,
        }
    }

    /// Reads only records of one kind (`--input`), rejecting the others.
    pub fn with_input(mut self, input: Input) -> Self {
        self.input = input;
        self
    }

    /// Parses and maps on `workers` threads (at least 1) while the calling
    /// thread reads; output keeps the input's order.
    pub fn with_workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// A transformer for a worker thread: the same settings, state of its own.
    fn fork(&self) -> Transformer {
        let (format, action) = (self.format.clone(), self.bulk_action.clone());
        let mut worker = Self::assemble(self.mapper.fork(), format, action, self.input);
        worker.notes = Some(Vec::new());
        worker
    }

    /// Reads every document of `input` (named `name` in messages) and writes
    /// the ECS lines to `out`, flushing whenever the input pauses.
    pub fn run<R: Read, W: Write + Send>(
        &mut self,
        name: &str,
        input: R,
        out: &mut W,
    ) -> Result<(), Failure> {
        if self.workers > 1 {
            return self.run_parallel(name, input, out);
        }
        let mut reader = Reader::new(input);
        loop {
            if self.out.len() >= CHUNK {
                self.deliver(out, false)?;
            }
            match reader.next_item().map_err(Failure::Input)? {
                None => break,
                Some(Item::Paused) => self.deliver(out, true)?,
                Some(Item::Document { line, bytes }) => self.document(name, line, bytes),
                Some(Item::Malformed { line, reason, snippet }) => {
                    self.reject(name, line, reason, &snippet);
                }
            }
        }
        self.deliver(out, true)
    }

    /// Hands the mapped lines to `out`, and flushes it when asked. Records
    /// count as written once `out` took them.
    fn deliver<W: Write>(&mut self, out: &mut W, flush: bool) -> Result<(), Failure> {
        out.write_all(&self.out).map_err(Failure::Output)?;
        self.out.clear();
        self.counts.written += std::mem::take(&mut self.mapped);
        if flush {
            out.flush().map_err(Failure::Output)?;
        }
        Ok(())
    }

    /// [`Transformer::run`] on worker threads. The calling thread frames
    /// documents into batches and deals them to the workers in turn; a
    /// writer thread takes the workers' output in the same turn, so lines
    /// come out in input order. A batch ends when the input pauses (and the
    /// writer then flushes) or grows past [`BATCH`]. When the writer fails,
    /// the channels close behind it and everyone stops.
    fn run_parallel<R: Read, W: Write + Send>(
        &mut self,
        name: &str,
        input: R,
        out: &mut W,
    ) -> Result<(), Failure> {
        let workers: Vec<Transformer> = (0..self.workers).map(|_| self.fork()).collect();
        let (read, written) = std::thread::scope(|scope| {
            let mut batches: Vec<SyncSender<Batch>> = Vec::new();
            let mut results: Vec<(Receiver<Mapped>, Sender<Vec<u8>>)> = Vec::new();
            // Buffers go round (input: reader, worker, writer, reader;
            // output: worker, writer, worker) instead of being allocated and
            // faulted in again for every batch.
            let (spent, free) = channel::<Batch>();
            for mut worker in workers {
                let (to_worker, batches_in) = sync_channel::<Batch>(2);
                let (mapped_out, from_worker) = sync_channel::<Mapped>(2);
                let (written_out, outs) = channel::<Vec<u8>>();
                batches.push(to_worker);
                results.push((from_worker, written_out));
                scope.spawn(move || {
                    for batch in batches_in {
                        if let Ok(out) = outs.try_recv() {
                            worker.out = out;
                        }
                        if mapped_out.send(worker.batch(name, batch)).is_err() {
                            break;
                        }
                    }
                });
            }
            let writer = scope.spawn(move || write_in_turn(&results, &spent, out));
            let read = deal(input, &batches, &free);
            drop(batches);
            let written = writer.join().unwrap_or_else(|_| {
                Err((Counts::default(), Failure::Output(io::Error::other("writer panicked"))))
            });
            (read, written)
        });
        let (counts, result) = match written {
            Ok(counts) => (counts, read),
            // The output failing is what stopped the reading too.
            Err((counts, failure)) => (counts, Err(failure)),
        };
        self.counts.read += counts.read;
        self.counts.written += counts.written;
        self.counts.rejected += counts.rejected;
        result
    }

    /// Maps one batch of documents; a worker's job.
    fn batch(&mut self, name: &str, mut batch: Batch) -> Mapped {
        let before = self.counts;
        let mut start = 0;
        for entry in &batch.entries {
            match entry {
                Entry::Document { line, end } => {
                    self.document(name, *line, &mut batch.bytes[start..*end]);
                    start = *end;
                }
                Entry::Malformed { line, reason, snippet } => {
                    self.reject(name, *line, reason, snippet);
                }
            }
        }
        let counts = Counts {
            read: self.counts.read - before.read,
            written: std::mem::take(&mut self.mapped),
            rejected: self.counts.rejected - before.rejected,
        };
        batch.bytes.clear();
        batch.entries.clear();
        let notes = self.notes.as_mut().map(std::mem::take).unwrap_or_default();
        Mapped {
            out: std::mem::take(&mut self.out),
            counts,
            notes,
            flush: batch.flush,
            spent: batch,
        }
    }

    /// Maps one document; `bytes` is parsed in place.
    pub fn document(&mut self, name: &str, line: u64, bytes: &mut [u8]) {
        if self.at.0 != name {
            self.at.0 = name.to_owned();
        }
        self.at.1 = line;
        let text = bytes.trim_ascii();
        if syslog::starts_syslog(text) {
            return self.syslog(name, line, text);
        }
        if self.input == Input::Syslog {
            let start = ndjson::snippet(text);
            return self.reject(name, line, "not a syslog line (--input syslog)", &start);
        }
        // Parsing rewrites escaped strings in place, so keep the start of the
        // text for a message first.
        self.head.clear();
        self.head.extend_from_slice(&bytes[..bytes.len().min(240)]);
        let parsed = simd_json::to_borrowed_value_with_buffers(bytes, &mut self.buffers);
        if let Err(err) = &parsed
            && *err.error() == simd_json::ErrorType::InvalidUtf8
        {
            // simd-json checks UTF-8 for the whole text at once and says
            // "at character 0"; where the bad byte is helps more. The text
            // is as read: strings are rewritten only after the check.
            drop(parsed);
            let at = std::str::from_utf8(bytes).err().map_or(0, |bad| bad.valid_up_to());
            let reason = match bytes.get(at) {
                Some(byte) => format!("not UTF-8: byte 0x{byte:02x} at offset {at}"),
                None => "not UTF-8".to_owned(),
            };
            let start = ndjson::snippet(&self.head);
            return self.reject(name, line, &reason, &start);
        }
        let value = match parsed {
            Ok(value) => value,
            Err(err) => {
                let reason = format!("not JSON: {err}");
                let start = ndjson::snippet(&self.head);
                return self.reject(name, line, &reason, &start);
            }
        };
        match &value {
            Value::Array(items) => {
                for item in items.iter() {
                    self.item(name, line, item);
                }
            }
            other => self.item(name, line, other),
        }
    }

    /// One object, of any kind `--input` accepts.
    fn item(&mut self, name: &str, line: u64, value: &Value<'_>) {
        let Some(object) = value.as_object() else {
            return self.reject(name, line, "not a JSON object", &flatten::short(value));
        };
        let shape = input::shape(object);
        if let Some(reason) = shape.kind().and_then(|kind| self.input.refusal(kind)) {
            return self.reject(name, line, &reason, &flatten::short(value));
        }
        match shape {
            Shape::Api => self.api(name, line, object, value),
            Shape::Unknown if self.input.accepts(Input::Api) => self.api(name, line, object, value),
            Shape::Unknown => {
                let reason =
                    format!("not {} (--input {})", self.input.describe(), self.input.name());
                self.reject(name, line, &reason, &flatten::short(value));
            }
            Shape::OpenCanary => match Record::from_opencanary(object) {
                Ok(record) => self.write(&record),
                Err(err) => {
                    let reason = match opencanary::bad_logdata(object) {
                        Some(kind) => {
                            format!("an OpenCanary line whose \"logdata\" is {kind}, not an object")
                        }
                        None => format!("not an OpenCanary line: {err}"),
                    };
                    self.reject(name, line, &reason, &flatten::short(value));
                }
            },
            Shape::Envelope(text) => {
                let why = "\"message\" holds no OpenCanary line";
                self.embedded(name, line, text, text.as_bytes(), why);
            }
            Shape::Webhook(Ok(payload)) => {
                let (kind, object) = webhook::convert(payload);
                self.write(&Record::from_converted(&object, kind));
            }
            Shape::Webhook(Err(err)) => {
                let reason = format!("not a Canary webhook payload: {err}");
                self.reject(name, line, &reason, &flatten::short(value));
            }
        }
    }

    /// A syslog line: the console's RFC 5424 alert, or an OpenCanary line
    /// after a syslog header.
    fn syslog(&mut self, name: &str, line: u64, bytes: &[u8]) {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return self.reject(name, line, "syslog line is not UTF-8", &ndjson::snippet(bytes));
        };
        let message = match syslog::parse(text) {
            Ok(message) => message,
            Err(err) => {
                // Forwarded OpenCanary lines often have an RFC 3164 header.
                let why = format!("not an RFC 5424 syslog line ({err}) nor an OpenCanary one");
                return self.embedded(name, line, text, bytes, &why);
            }
        };
        match message.canary_record() {
            Some((kind, object)) => match self.input.refusal(Input::Syslog) {
                Some(reason) => self.reject(name, line, &reason, &ndjson::snippet(bytes)),
                None => self.write(&Record::from_converted(&object, kind)),
            },
            None => {
                let why = format!(
                    "syslog message from APP-NAME {} (MSGID {}) is neither a Canary alert nor an OpenCanary line",
                    message.app_name.unwrap_or("-"),
                    message.msg_id.unwrap_or("-"),
                );
                self.embedded(name, line, message.msg, bytes, &why);
            }
        }
    }

    /// An OpenCanary line as JSON text inside `text`, from its first `{`
    /// on; rejected for `why`, quoting `whole`, when there is none.
    fn embedded(&mut self, name: &str, line: u64, text: &str, whole: &[u8], why: &str) {
        let mut inner = std::mem::take(&mut self.inner);
        inner.clear();
        {
            let json = text.find('{').map(|at| text[at..].trim_end());
            inner.extend_from_slice(json.unwrap_or("").as_bytes());
            let parsed = simd_json::to_borrowed_value_with_buffers(&mut inner, &mut self.buffers);
            match parsed.as_ref().ok().and_then(|v| v.as_object()) {
                Some(object) if opencanary::is_line(object) => {
                    match (self.input.refusal(Input::OpenCanary), Record::from_opencanary(object)) {
                        (None, Ok(record)) => self.write(&record),
                        (Some(reason), _) => {
                            self.reject(name, line, &reason, &ndjson::snippet(whole))
                        }
                        (_, Err(err)) => {
                            let reason = format!("not an OpenCanary line: {err}");
                            self.reject(name, line, &reason, &ndjson::snippet(whole));
                        }
                    }
                }
                _ => self.reject(name, line, why, &ndjson::snippet(whole)),
            }
        }
        self.inner = inner;
    }

    /// A feed page, an audit page, a raw incident, an `/incident/fetch`
    /// body, an audit trail entry or a flattened record.
    fn api(&mut self, name: &str, line: u64, object: &Object<'_>, value: &Value<'_>) {
        if let Some(incidents) = object.get("incidents").and_then(|i| i.as_array()) {
            for incident in incidents.iter() {
                match incident.as_object() {
                    Some(o) if flatten::is_raw_incident(o) => self.incident(name, line, o),
                    // TODO: Map `/incidents/search` results once a whole
                    // example shows what their `logdata` entries hold and
                    // which key names the incident (`key` or `id`); the
                    // reference lists their fields but not their content.
                    Some(o) if input::is_search_result(o) => self.reject(
                        name,
                        line,
                        "an /incidents/search result (a flat incident with a \"logdata\" list, \
                         not a \"description\" with \"events\"), which is not read yet",
                        &flatten::short(incident),
                    ),
                    _ => self.reject(
                        name,
                        line,
                        "feed page entry is not an incident",
                        &flatten::short(incident),
                    ),
                }
            }
        } else if let Some(entries) = object.get("audit_trail").and_then(|a| a.as_array()) {
            for entry in entries.iter() {
                match entry.as_object().map(Record::from_audit_entry) {
                    Some(Ok(record)) => self.write(&record),
                    _ => self.reject(
                        name,
                        line,
                        "audit page entry has no id",
                        &flatten::short(entry),
                    ),
                }
            }
        } else if flatten::is_raw_incident(object) {
            self.incident(name, line, object);
        } else if let Some(incident) = input::fetched_incident(object) {
            self.fetched(name, line, incident);
        } else if input::is_audit_entry(object) {
            match Record::from_audit_entry(object) {
                Ok(record) => self.write(&record),
                Err(err) => {
                    let reason = format!("not an audit trail entry: {err}");
                    self.reject(name, line, &reason, &flatten::short(value));
                }
            }
        } else {
            match Record::from_flat(object) {
                Ok(record) => self.write(&record),
                Err(err) => {
                    let reason = match object.get("incident_id") {
                        Some(id) if err == NotARecord::NoIncidentId => {
                            format!(
                                "not a Canary record: \"incident_id\" is {}, not a string",
                                flatten::short(id)
                            )
                        }
                        _ => format!("not a Canary record: {err}"),
                    };
                    self.reject(name, line, &reason, &flatten::short(value));
                }
            }
        }
    }

    /// The incident of an `/incident/fetch` body. The console sends it flat:
    /// the keys a feed incident keeps in `description`, plus its key as
    /// `id` (and, with `extended_details`, maybe `hash_id`, `updated_id` and
    /// the like). It is rebuilt in the feeds' shape, so that it gives the
    /// records, and the event records the ids, that a feed page would.
    fn fetched(&mut self, name: &str, line: u64, incident: &Object<'_>) {
        if flatten::is_raw_incident(incident) {
            return self.incident(name, line, incident);
        }
        let Some(id) = incident.get("id").filter(|id| id.is_str()) else {
            let value = Value::Object(Box::new(incident.clone()));
            let reason = "/incident/fetch body whose incident has no \"id\" string";
            return self.reject(name, line, reason, &flatten::short(&value));
        };
        // TODO: Give the incident record of a fetched incident a time when
        // the body has no `updated_time` (the documented one has none); it
        // is written without `@timestamp` until then.
        const TOP: [&str; 6] =
            ["hash_id", "summary", "updated", "updated_id", "updated_std", "updated_time"];
        let mut raw = Object::default();
        let mut description = Object::default();
        raw.insert("id".into(), id.clone());
        for (key, value) in incident.iter().filter(|(key, _)| *key != "id") {
            let into = if TOP.contains(&key.as_ref()) { &mut raw } else { &mut description };
            into.insert(key.clone(), value.clone());
        }
        raw.insert("description".into(), Value::Object(Box::new(description)));
        self.incident(name, line, &raw);
    }

    fn incident(&mut self, name: &str, line: u64, incident: &Object<'_>) {
        match flatten::incident_records(incident) {
            Ok(records) => {
                records.iter().for_each(|r| self.write(r));
                for event in flatten::non_object_events(&records[0]) {
                    self.reject(name, line, "event is not an object", &flatten::short(event));
                }
            }
            Err(err) => {
                let reason = format!("not a Canary incident: {err}");
                let value = Value::Object(Box::new(incident.clone()));
                self.reject(name, line, &reason, &flatten::short(&value));
            }
        }
    }

    fn write(&mut self, record: &Record<'_, '_>) {
        let mapped = match self.format {
            Format::Ndjson => self.mapper.map(record, &mut self.out),
            Format::EsBulk { .. } => {
                let start = self.out.len();
                let id = flatten::record_id(record);
                self.out.extend_from_slice(&self.bulk_action);
                flatten::write_str(&mut self.out, &id).expect("writing to a Vec cannot fail");
                self.out.extend_from_slice(b"}}\n");
                // Data streams refuse a document without @timestamp, and a
                // bulk body is sent again whole after any refusal: better
                // one record rejected here than the pipeline stuck.
                let mapped = self.mapper.map_with_id(record, id, &mut self.out);
                if !mapped.has_time {
                    self.out.truncate(start);
                    let (name, line) = std::mem::take(&mut self.at);
                    let reason = "no time for @timestamp, which Elasticsearch data streams require";
                    let which = record.incident_id().unwrap_or("the record").to_owned();
                    self.reject(&name, line, reason, &which);
                    self.at = (name, line);
                    return;
                }
                mapped
            }
        };
        if let Some(kept) = mapped.fit.kept() {
            self.note(Note::Cut {
                input: self.at.0.clone(),
                line: self.at.1,
                incident: record.incident_id().unwrap_or_default().to_owned(),
                kept,
                max: self.mapper.options().max_line_bytes,
            });
        }
        self.counts.read += 1;
        self.mapped += 1;
    }

    fn reject(&mut self, name: &str, line: u64, reason: &str, value: &str) {
        self.counts.read += 1;
        self.counts.rejected += 1;
        self.note(Note::Rejected {
            input: name.to_owned(),
            line,
            reason: reason.to_owned(),
            value: value.to_owned(),
        });
    }

    fn note(&mut self, note: Note) {
        match &mut self.notes {
            Some(notes) => notes.push(note),
            None => note.log(),
        }
    }
}

/// Input handed to a worker: documents back to back in `bytes`.
struct Batch {
    bytes: Vec<u8>,
    entries: Vec<Entry>,
    /// The input paused after this batch: flush the output once it is written.
    flush: bool,
}

enum Entry {
    /// A document ending at `end` in the batch's bytes.
    Document {
        line: u64,
        end: usize,
    },
    Malformed {
        line: u64,
        reason: &'static str,
        snippet: String,
    },
}

/// A worker's output for one batch.
struct Mapped {
    out: Vec<u8>,
    /// The batch's buffers, emptied, for the reader to fill again.
    spent: Batch,
    /// `written` holds the records mapped into `out`.
    counts: Counts,
    /// Warnings about the batch's records, in input order.
    notes: Vec<Note>,
    flush: bool,
}

/// Input bytes past which a batch is handed out without waiting for a pause.
const BATCH: usize = 1 << 18;

/// Frames `input` into batches and deals them to `workers` in turn.
fn deal<R: Read>(
    input: R,
    workers: &[SyncSender<Batch>],
    free: &Receiver<Batch>,
) -> Result<(), Failure> {
    let mut reader = Reader::new(input);
    let mut turn = 0;
    let fresh = || Batch { bytes: Vec::with_capacity(BATCH), entries: Vec::new(), flush: false };
    let mut batch = fresh();
    let mut send = |batch: &mut Batch, flush: bool| -> bool {
        batch.flush = flush;
        let full = std::mem::replace(batch, free.try_recv().unwrap_or_else(|_| fresh()));
        let sent = workers[turn % workers.len()].send(full).is_ok();
        turn += 1;
        sent
    };
    loop {
        let item = match reader.next_item() {
            Ok(item) => item,
            Err(err) => {
                // What was read before the failure is still mapped and written.
                send(&mut batch, true);
                return Err(Failure::Input(err));
            }
        };
        let more = match item {
            None => break,
            // Handing out even an empty batch lets the writer flush in turn.
            Some(Item::Paused) => send(&mut batch, true),
            Some(Item::Document { line, bytes }) => {
                batch.bytes.extend_from_slice(bytes);
                batch.entries.push(Entry::Document { line, end: batch.bytes.len() });
                batch.bytes.len() < BATCH || send(&mut batch, false)
            }
            Some(Item::Malformed { line, reason, snippet }) => {
                batch.entries.push(Entry::Malformed { line, reason, snippet });
                true
            }
        };
        if !more {
            // The writer stopped; it reports why.
            return Ok(());
        }
    }
    send(&mut batch, true);
    Ok(())
}

/// Writes the workers' output in the order the batches were dealt, and
/// counts what was written.
fn write_in_turn<W: Write>(
    workers: &[(Receiver<Mapped>, Sender<Vec<u8>>)],
    spent: &Sender<Batch>,
    out: &mut W,
) -> Result<Counts, (Counts, Failure)> {
    let mut counts = Counts::default();
    let mut turn = 0;
    // A worker's channel closes once it has mapped its last batch, and the
    // batches went out in turn, so the first closed one in turn is the end.
    loop {
        let (results, outs) = &workers[turn % workers.len()];
        let Ok(mut mapped) = results.recv() else { break };
        turn += 1;
        counts.read += mapped.counts.read;
        counts.rejected += mapped.counts.rejected;
        // Batches come in input order, so their warnings do too.
        mapped.notes.iter().for_each(Note::log);
        let written = out
            .write_all(&mapped.out)
            .and_then(|()| if mapped.flush { out.flush() } else { Ok(()) });
        if let Err(err) = written {
            return Err((counts, Failure::Output(err)));
        }
        counts.written += mapped.counts.written;
        mapped.out.clear();
        // Whoever stopped listening no longer needs buffers.
        let _ = outs.send(mapped.out);
        let _ = spent.send(mapped.spent);
    }
    out.flush().map_err(|err| (counts, Failure::Output(err)))?;
    Ok(counts)
}
