//! Input framing for canary-transform: NDJSON lines and pretty-printed
//! multi-line documents, in one stream.
//!
//! A line whose last non-blank byte closes an object or array is a document
//! by itself (the fast path: no scanning). A line that opens one without
//! closing it starts a multi-line document, which runs until its brackets
//! balance. Pretty printers break lines only after `{`, `[` or `,`; so when an
//! open document's last line ends otherwise (or inside a string) and an
//! unindented line opens a new document, the open one was cut short: it is
//! reported and the new one starts, and one truncated line never swallows the
//! rest of the input.
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
    /// The open multi-line document and where it started.
    doc: Vec<u8>,
    doc_start: u64,
    scan: Scan,
    /// A line read while closing a cut document, to handle next.
    held: bool,
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
            doc: Vec::new(),
            doc_start: 0,
            scan: Scan::default(),
            held: false,
            skipping: false,
            overlong: false,
            paused: false,
            pending_clear: false,
        }
    }

    pub fn next_item(&mut self) -> io::Result<Option<Item<'_>>> {
        loop {
            if !self.held {
                match self.read_line()? {
                    Line::Paused => return Ok(Some(Item::Paused)),
                    Line::End if self.line.is_empty() => return Ok(self.finish()),
                    Line::End | Line::Complete => {}
                }
                self.line_no += 1;
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
                if self.line_no == 1 && self.line.starts_with(BOM) {
                    self.line.drain(..BOM.len());
                }
            }
            self.held = false;

            if self.skipping {
                if self.scan.feed(&self.line) {
                    self.skipping = false;
                    self.scan = Scan::default();
                }
                self.line.clear();
                continue;
            }
            if !self.doc.is_empty() {
                if starts_document(&self.line) && !self.scan.expects_more() {
                    // The open document was cut short; handle this line afresh.
                    self.held = true;
                    return Ok(Some(self.cut("document is not closed before the next one starts")));
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
                self.doc_start = self.line_no;
                self.scan.feed(&self.line);
                std::mem::swap(&mut self.doc, &mut self.line);
                self.line.clear();
                continue;
            }
            let line = self.line_no;
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

/// An unindented line opening an object or array.
fn starts_document(line: &[u8]) -> bool {
    matches!(line.first(), Some(b'{' | b'['))
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
}

impl Scan {
    /// Feeds one line; true once the document that started has closed.
    fn feed(&mut self, line: &[u8]) -> bool {
        for &b in line {
            if self.in_string {
                match b {
                    _ if self.escaped => self.escaped = false,
                    b'\\' => self.escaped = true,
                    b'"' => self.in_string = false,
                    _ => {}
                }
                self.last = b;
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => {
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
        self.started && self.depth <= 0
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
