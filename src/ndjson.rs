//! Input framing for canary-transform: NDJSON lines and pretty-printed
//! multi-line documents, in one stream.
//!
//! A line whose last non-blank byte closes an object or array is a document
//! by itself (the fast path: no scanning). A line that opens one without
//! closing it starts a multi-line document, which runs until its brackets
//! balance. An unindented line opening an object or array ends an open
//! document as cut short (it is reported and the new one starts) unless it
//! can continue it, so that one truncated line never swallows a good one:
//!
//! - Pretty printers break lines only after `{`, `[` or `,`; after any other
//!   last byte (or inside a string) nothing new may start a line.
//! - Inside an object, a member starts with its key, never with `{` or `[`.
//! - Inside an array, after `[` or `,`, a line opening an object or array
//!   is the next element (`[`, `{"a":1},`, `{"b":2}`, `]` is an array).
//!   One that balances by itself is ambiguous: the array's last element, or
//!   a whole record after a line cut after a comma. The next line settles
//!   it: only `]` or `,` may follow a last element, so anything else means
//!   the array was cut and the line is a document of its own. Such a line is
//!   handed out only once the line after it is read (or the input ends).
//!
//! The reader also says when the input pauses (nothing buffered, the next
//! read would wait), even in the middle of a line, so output can be flushed
//! then; it drops a UTF-8 byte order mark at the start, and caps lines and
//! documents at [`MAX_DOCUMENT`] bytes.

use std::io::{self, BufRead, BufReader, Read};

/// Largest line or multi-line document accepted, so input that never ends a
/// line or never closes its brackets cannot take all memory.
pub const MAX_DOCUMENT: usize = 256 << 20;

const BOM: &[u8] = b"\xef\xbb\xbf";

/// What the reader found next.
pub enum Item<'a> {
    /// A document to parse, starting at `line` (1-based).
    Document { line: u64, bytes: &'a mut Vec<u8> },
    /// Input that cannot be a document, starting at `line`.
    Malformed { line: u64, reason: &'static str, snippet: String },
    /// Everything read so far has been handed out and the next read may
    /// wait for the writer upstream: the moment to flush output.
    Paused,
}

/// How reading one line ended.
enum Line {
    Complete,
    Paused,
    End,
}

pub struct Reader<R> {
    inner: BufReader<R>,
    line_no: u64,
    /// The line being read; kept across a pause.
    line: Vec<u8>,
    /// The number of the line in `line`.
    line_at: u64,
    /// The open multi-line document and where it started.
    doc: Vec<u8>,
    doc_start: u64,
    scan: Scan,
    /// A line read while closing a cut document, to handle next.
    held: bool,
    /// A line kept out of `line` while the next one is read, and its number.
    aside: Vec<u8>,
    aside_at: u64,
    aside_is: Aside,
    /// Skipping the rest of an oversized document (its scan goes on).
    skipping: bool,
    /// Dropping the rest of an oversized line.
    overlong: bool,
    /// A pause was reported and the input has not moved since.
    paused: bool,
    /// The line was handed out and is cleared before the next is read.
    pending_clear: bool,
}

impl<R: Read> Reader<R> {
    pub fn new(inner: R) -> Self {
        Reader {
            inner: BufReader::with_capacity(1 << 18, inner),
            line_no: 0,
            line: Vec::with_capacity(4096),
            line_at: 0,
            doc: Vec::new(),
            doc_start: 0,
            scan: Scan::default(),
            held: false,
            aside: Vec::new(),
            aside_at: 0,
            aside_is: Aside::Empty,
            skipping: false,
            overlong: false,
            paused: false,
            pending_clear: false,
        }
    }

    pub fn next_item(&mut self) -> io::Result<Option<Item<'_>>> {
        loop {
            if self.held {
                self.held = false;
            } else if self.aside_is == Aside::Next {
                // The line read after a candidate that turned out to be a
                // document of its own, which has been handed out by now.
                self.pending_clear = false;
                self.line.clear();
                std::mem::swap(&mut self.line, &mut self.aside);
                self.line_at = self.aside_at;
                self.aside_is = Aside::Empty;
            } else {
                match self.read_line()? {
                    Line::Paused => return Ok(Some(Item::Paused)),
                    Line::End if self.line.is_empty() => return Ok(self.finish()),
                    Line::End | Line::Complete => {}
                }
                self.line_no += 1;
                self.line_at = self.line_no;
                if self.overlong {
                    self.overlong = false;
                    self.line.clear();
                    let reason = "line is longer than 256 MiB";
                    return Ok(Some(Item::Malformed {
                        line: self.line_no,
                        reason,
                        snippet: String::new(),
                    }));
                }
                // Not only on the first line: files concatenated with
                // `cat` carry each one's mark at the start of a line.
                if self.line.starts_with(BOM) {
                    self.line.drain(..BOM.len());
                }
            }

            if self.skipping {
                if self.scan.feed(&self.line) {
                    self.skipping = false;
                    self.scan = Scan::default();
                }
                self.line.clear();
                continue;
            }
            if !self.doc.is_empty() {
                if self.aside_is == Aside::Candidate {
                    let Some(first) = self.line.iter().find(|b| !b.is_ascii_whitespace()) else {
                        self.line.clear();
                        continue; // blank line: no answer yet
                    };
                    if matches!(first, b']' | b',') {
                        // The candidate was an element of the array after all.
                        self.doc.extend_from_slice(&self.aside);
                        self.scan.feed(&self.aside);
                        self.aside.clear();
                        self.aside_is = Aside::Empty;
                    } else {
                        // The array was cut short: the candidate is handled
                        // afresh, then this line.
                        std::mem::swap(&mut self.line, &mut self.aside);
                        std::mem::swap(&mut self.line_at, &mut self.aside_at);
                        self.aside_is = Aside::Next;
                        self.held = true;
                        let reason = "document is not closed before the next one starts";
                        return Ok(Some(self.cut(reason)));
                    }
                }
                if starts_document(&self.line) {
                    if !(self.scan.expects_more() && self.scan.innermost_is_array()) {
                        // The open document was cut short; handle this line afresh.
                        self.held = true;
                        let reason = "document is not closed before the next one starts";
                        return Ok(Some(self.cut(reason)));
                    }
                    if balances_alone(&self.line) {
                        std::mem::swap(&mut self.line, &mut self.aside);
                        self.aside_at = self.line_at;
                        self.aside_is = Aside::Candidate;
                        continue;
                    }
                }
                self.doc.extend_from_slice(&self.line);
                let closed = self.scan.feed(&self.line);
                self.line.clear();
                if closed {
                    self.scan = Scan::default();
                    std::mem::swap(&mut self.doc, &mut self.line);
                    let line = self.doc_start;
                    return Ok(Some(Item::Document { line, bytes: self.take_line() }));
                }
                if self.doc.len() > MAX_DOCUMENT {
                    let scan = self.scan.clone();
                    let item = self.cut_owned("document is larger than 256 MiB");
                    self.scan = scan;
                    self.skipping = true;
                    return Ok(Some(item));
                }
                continue;
            }

            let Some(last) = self.line.iter().rposition(|b| !b.is_ascii_whitespace()) else {
                self.line.clear();
                continue; // blank line
            };
            let first = self.line.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(0);
            let opens = matches!(self.line[first], b'{' | b'[');
            let closes = matches!(self.line[last], b'}' | b']');
            if opens && !closes && !self.scan.clone().feed(&self.line) {
                self.doc_start = self.line_at;
                self.scan.feed(&self.line);
                std::mem::swap(&mut self.doc, &mut self.line);
                self.line.clear();
                continue;
            }
            let line = self.line_at;
            return Ok(Some(Item::Document { line, bytes: self.take_line() }));
        }
    }

    /// Hands out the current line; the next call starts a new one.
    fn take_line(&mut self) -> &mut Vec<u8> {
        self.pending_clear = true;
        &mut self.line
    }

    /// Reads up to the end of the line, stopping early when the input
    /// pauses (once per pause) or ends.
    fn read_line(&mut self) -> io::Result<Line> {
        if std::mem::take(&mut self.pending_clear) {
            self.line.clear();
        }
        loop {
            if self.inner.buffer().is_empty() && !self.paused {
                self.paused = true;
                return Ok(Line::Paused);
            }
            let available = self.inner.fill_buf()?;
            if available.is_empty() {
                return Ok(Line::End);
            }
            self.paused = false;
            let (chunk, done) = match memchr::memchr(b'\n', available) {
                Some(at) => (&available[..=at], true),
                None => (available, false),
            };
            let used = chunk.len();
            if self.overlong || self.line.len() + used > MAX_DOCUMENT {
                self.overlong = true;
                self.line.clear();
            } else {
                self.line.extend_from_slice(chunk);
            }
            self.inner.consume(used);
            if done {
                return Ok(Line::Complete);
            }
        }
    }

    fn finish(&mut self) -> Option<Item<'_>> {
        if self.doc.is_empty() {
            return None;
        }
        if self.aside_is == Aside::Candidate {
            // No `]` came: the candidate is a document of its own.
            self.aside_is = Aside::Next;
        }
        Some(self.cut("document is not closed at the end of the input"))
    }

    /// Reports the open document as malformed and drops it.
    fn cut(&mut self, reason: &'static str) -> Item<'_> {
        self.cut_owned(reason)
    }

    fn cut_owned(&mut self, reason: &'static str) -> Item<'static> {
        let snippet = snippet(&self.doc);
        self.doc.clear();
        self.scan = Scan::default();
        Item::Malformed { line: self.doc_start, reason, snippet }
    }
}

/// What `Reader::aside` holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Aside {
    Empty,
    /// A line that balances by itself, read inside an open array after `[`
    /// or `,`: the array's element or a document of its own, as the next
    /// line will tell.
    Candidate,
    /// A line already read, to handle after the one in `line`.
    Next,
}

/// An unindented line opening an object or array.
fn starts_document(line: &[u8]) -> bool {
    matches!(line.first(), Some(b'{' | b'['))
}

/// Whether an unindented line is one whole object or array: its first
/// bracket closes at its last non-blank byte.
fn balances_alone(line: &[u8]) -> bool {
    if !starts_document(line) {
        return false;
    }
    let mut scan = Scan::default();
    for (at, &b) in line.iter().enumerate() {
        scan.step(b);
        if scan.depth == 0 {
            return line[at + 1..].iter().all(u8::is_ascii_whitespace);
        }
    }
    false
}

/// Bracket depth across lines, outside strings, and how the last line ended.
#[derive(Clone, Default)]
struct Scan {
    depth: i64,
    in_string: bool,
    escaped: bool,
    started: bool,
    /// The last byte outside whitespace seen so far.
    last: u8,
    /// Which open containers are arrays: bit `d` for the one at depth
    /// `d + 1`. Bits above the depth are stale.
    arrays: Vec<u64>,
}

impl Scan {
    /// Feeds one line; true once the document that started has closed.
    fn feed(&mut self, line: &[u8]) -> bool {
        for &b in line {
            self.step(b);
        }
        self.started && self.depth <= 0
    }

    fn step(&mut self, b: u8) {
        if self.in_string {
            match b {
                _ if self.escaped => self.escaped = false,
                b'\\' => self.escaped = true,
                b'"' => self.in_string = false,
                _ => {}
            }
            self.last = b;
            return;
        }
        match b {
            b'"' => self.in_string = true,
            b'{' | b'[' => {
                if let Ok(at) = usize::try_from(self.depth) {
                    let (word, bit) = (at / 64, 1 << (at % 64));
                    if self.arrays.len() <= word {
                        self.arrays.resize(word + 1, 0);
                    }
                    if b == b'[' {
                        self.arrays[word] |= bit;
                    } else {
                        self.arrays[word] &= !bit;
                    }
                }
                self.depth += 1;
                self.started = true;
            }
            b'}' | b']' => self.depth -= 1,
            _ => {}
        }
        if !b.is_ascii_whitespace() {
            self.last = b;
        }
    }

    /// Whether the innermost open container is an array (not an object).
    fn innermost_is_array(&self) -> bool {
        let Some(at) = usize::try_from(self.depth - 1).ok() else { return false };
        self.arrays.get(at / 64).is_some_and(|word| word & (1 << (at % 64)) != 0)
    }

    /// Whether the open document's last line ended where a pretty printer
    /// breaks lines, so the next line continues it. A raw newline inside a
    /// string never does: JSON strings cannot hold one.
    fn expects_more(&self) -> bool {
        !self.in_string && matches!(self.last, b'{' | b'[' | b',')
    }
}

/// The start of some input, fit for a one-line message: at most 60
/// characters. Control characters are left for the log format to escape.
pub fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(240)]);
    let text = text.trim();
    match text.char_indices().nth(60) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(input: &[u8]) -> Vec<(u64, Result<String, &'static str>)> {
        let mut reader = Reader::new(input);
        let mut out = Vec::new();
        while let Some(item) = reader.next_item().unwrap() {
            out.push(match item {
                Item::Document { line, bytes } => {
                    (line, Ok(String::from_utf8(bytes.clone()).unwrap().trim().to_owned()))
                }
                Item::Malformed { line, reason, .. } => (line, Err(reason)),
                Item::Paused => continue,
            });
        }
        out
    }

    #[test]
    fn lines_and_pretty_documents_mix() {
        let input = "{\"a\":1}\n\n{\n  \"b\": [\n    1\n  ]\n}\n[{\"c\":\"}\"}]\nnot json\n";
        let got = items(input.as_bytes());
        assert_eq!(got.len(), 4);
        assert_eq!(got[0], (1, Ok("{\"a\":1}".into())));
        assert_eq!(got[1].0, 3);
        let doc: serde_json::Value = serde_json::from_str(got[1].1.as_ref().unwrap()).unwrap();
        assert_eq!(doc, serde_json::json!({"b": [1]}));
        assert_eq!(got[2], (8, Ok("[{\"c\":\"}\"}]".into())));
        assert_eq!(got[3], (9, Ok("not json".into())));
    }

    #[test]
    fn a_cut_line_does_not_swallow_the_next() {
        let got = items(b"{\"a\": \"x\n{\"b\":2}\n{\"c\":\n");
        assert_eq!(got[0], (1, Err("document is not closed before the next one starts")));
        assert_eq!(got[1], (2, Ok("{\"b\":2}".into())));
        assert_eq!(got[2], (3, Err("document is not closed at the end of the input")));
        assert_eq!(got.len(), 3);
    }

    /// A line cut after `,` or `{` inside an object, then whole lines: the
    /// line after it cannot be a member, so it is a document of its own.
    #[test]
    fn a_line_cut_inside_an_object_does_not_swallow_the_next() {
        let good = r#"{"incident_id":"incident:x:aa:192.0.2.5:1","event_type":"event"}"#;
        for cut in [r#"{"incident_id":"incident:cut:aa:1.2.3.4:1","event_type":"event","#, "{"] {
            let got = items(format!("{good}\n{cut}\n{good}\n{good}\n").as_bytes());
            let closed = "document is not closed before the next one starts";
            assert_eq!(
                got,
                [
                    (1, Ok(good.into())),
                    (2, Err(closed)),
                    (3, Ok(good.into())),
                    (4, Ok(good.into()))
                ]
            );
        }
        // Also when what follows is a pretty-printed document.
        let got = items(b"{\"a\": {\"b\": 1,\n{\n\"c\": 2\n}\n");
        assert_eq!(got[0], (1, Err("document is not closed before the next one starts")));
        assert_eq!(got[1].0, 2);
        assert!(got[1].1.is_ok(), "{got:?}");
        assert_eq!(got.len(), 2);
    }

    /// Inside an array, an unindented object is the next element, whether
    /// it balances by itself or not, and whatever separator layout.
    #[test]
    fn unindented_elements_of_an_array_stay_in_it() {
        for text in [
            "[\n{\"a\":1},\n{\"b\":2}\n]\n",
            "[\n{\"a\":1}\n]\n",
            "[\n{\"a\":1}\n\n  ]\n",
            "[\n{\"a\":1}\n,{\"b\":2}\n]\n",
            "{\"incidents\": [\n{\"a\":1},\n{\"b\":2}\n]}\n",
            "[{\"a\":1},\n{\n\"b\": 2\n}\n]\n",
        ] {
            let got = items(text.as_bytes());
            assert_eq!(got.len(), 1, "{text:?}: {got:?}");
            assert_eq!(got[0].0, 1);
            let doc: serde_json::Value = serde_json::from_str(got[0].1.as_ref().unwrap()).unwrap();
            assert!(doc.is_array() || doc["incidents"].is_array(), "{text:?}");
        }
    }

    /// A line cut after `,` inside an array, then a whole line: an element
    /// only if `]` or `,` follows; here another record follows, or nothing.
    #[test]
    fn a_line_cut_inside_an_array_does_not_swallow_the_next() {
        let cut = r#"{"incidents":[{"id":"incident:x:aa:192.0.2.5:1"},"#;
        let good = r#"{"incident_id":"incident:x:aa:192.0.2.5:1","event_type":"event"}"#;
        let closed = "document is not closed before the next one starts";
        let got = items(format!("{cut}\n{good}\n\n{good}\n").as_bytes());
        assert_eq!(got, [(1, Err(closed)), (2, Ok(good.into())), (4, Ok(good.into()))]);

        let got = items(format!("{cut}\n{good}\n").as_bytes());
        let at_end = "document is not closed at the end of the input";
        assert_eq!(got, [(1, Err(at_end)), (2, Ok(good.into()))]);

        let got = items(format!("{cut}\n{good}").as_bytes());
        assert_eq!(got, [(1, Err(at_end)), (2, Ok(good.into()))], "no newline at the end");

        // Two whole lines in a row: the first settles the array, the second
        // is read as usual.
        let got = items(format!("[\n{good}\n{good}\n{good}\n").as_bytes());
        assert_eq!(
            got,
            [(1, Err(closed)), (2, Ok(good.into())), (3, Ok(good.into())), (4, Ok(good.into()))]
        );
    }

    #[test]
    fn unindented_pretty_documents_are_whole() {
        let text = serde_json::to_string_pretty(
            &serde_json::json!({"incidents": [{"a": {"b": 1}}, {"c": [2]}]}),
        )
        .unwrap();
        let flat: String = text.lines().map(|l| format!("{}\n", l.trim_start())).collect();
        let got = items(flat.as_bytes());
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].1.is_ok());
    }

    #[test]
    fn brackets_inside_strings_do_not_count() {
        let got = items(b"{\n \"k\": \"{[\\\"\"\n}\n");
        assert_eq!(got.len(), 1);
        assert!(got[0].1.is_ok());
    }

    #[test]
    fn a_byte_order_mark_is_dropped() {
        let got = items(b"\xef\xbb\xbf{\"a\":1}\n{\"b\":2}\n");
        assert_eq!(got, [(1, Ok("{\"a\":1}".into())), (2, Ok("{\"b\":2}".into()))]);
    }

    #[test]
    fn byte_order_marks_of_concatenated_files_are_dropped() {
        let got = items(b"{\"a\":1}\n\xef\xbb\xbf{\"b\":2}\n");
        assert_eq!(got, [(1, Ok("{\"a\":1}".into())), (2, Ok("{\"b\":2}".into()))]);
    }

    #[test]
    fn a_pause_is_reported_mid_line() {
        // A reader that hands out the input in two parts, the first ending
        // mid-line, like a pipe whose writer stopped there.
        struct Parts(Vec<Vec<u8>>);
        impl Read for Parts {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() {
                    return Ok(0);
                }
                let part = self.0.remove(0);
                buf[..part.len()].copy_from_slice(&part);
                Ok(part.len())
            }
        }
        let mut reader = Reader::new(Parts(vec![b"{\"a\":1}\n{\"b\"".to_vec(), b":2}\n".to_vec()]));
        let mut kinds = Vec::new();
        while let Some(item) = reader.next_item().unwrap() {
            kinds.push(match item {
                Item::Document { .. } => "doc",
                Item::Malformed { .. } => "bad",
                Item::Paused => "pause",
            });
        }
        assert_eq!(kinds, ["pause", "doc", "pause", "doc", "pause"]);
    }

    #[test]
    fn snippets_are_short() {
        assert_eq!(snippet(b"  a\tb  "), "a\tb");
        assert_eq!(snippet(&[b'x'; 100]).len(), 63);
    }
}
