//! Input framing for canary-transform: NDJSON lines and pretty-printed
//! multi-line documents, in one stream.
//!
//! A line whose last non-blank byte closes an object or array is a document
//! by itself (the fast path: no scanning). A line that opens one without
//! closing it starts a multi-line document, which runs until its brackets
//! balance. An unindented line opening a new document while one is still open
//! means the open one was cut short: it is reported and the new one starts, so
//! one truncated line never swallows the rest of the input.

use std::io::{self, BufRead, BufReader, Read};

/// Largest multi-line document accepted, so a stream that never closes its
/// brackets cannot take all memory.
pub const MAX_DOCUMENT: usize = 256 << 20;

/// What the reader found next.
pub enum Item<'a> {
    /// A document to parse, starting at `line` (1-based).
    Document { line: u64, bytes: &'a mut Vec<u8> },
    /// Input that cannot be a document, starting at `line`.
    Malformed { line: u64, reason: &'static str, snippet: String },
}

pub struct Reader<R> {
    inner: BufReader<R>,
    line_no: u64,
    line: Vec<u8>,
    /// The open multi-line document and where it started.
    doc: Vec<u8>,
    doc_start: u64,
    scan: Scan,
    /// A line read while closing a cut document, to handle next.
    held: bool,
    /// Skipping the rest of an oversized document.
    skipping: bool,
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
        }
    }

    /// Whether everything read so far has been handed out, so the next read
    /// may wait for the writer upstream: the moment to flush output.
    pub fn input_paused(&self) -> bool {
        !self.held && self.inner.buffer().is_empty()
    }

    pub fn next_item(&mut self) -> io::Result<Option<Item<'_>>> {
        loop {
            if !self.held {
                self.line.clear();
                if self.inner.read_until(b'\n', &mut self.line)? == 0 {
                    return Ok(self.finish());
                }
                self.line_no += 1;
            }
            self.held = false;

            if !self.doc.is_empty() || self.skipping {
                if starts_document(&self.line) && !self.skipping {
                    // The open document was cut short; handle this line afresh.
                    self.held = true;
                    return Ok(Some(self.cut("document is not closed before the next one starts")));
                }
                if self.skipping {
                    if self.scan.feed(&self.line) {
                        self.skipping = false;
                        self.scan = Scan::default();
                    }
                    continue;
                }
                self.doc.extend_from_slice(&self.line);
                if self.scan.feed(&self.line) {
                    self.scan = Scan::default();
                    std::mem::swap(&mut self.doc, &mut self.line);
                    self.doc.clear();
                    return Ok(Some(Item::Document {
                        line: self.doc_start,
                        bytes: &mut self.line,
                    }));
                }
                if self.doc.len() > MAX_DOCUMENT {
                    self.skipping = true;
                    return Ok(Some(self.cut("document is larger than 256 MiB")));
                }
                continue;
            }

            let Some(last) = self.line.iter().rposition(|b| !b.is_ascii_whitespace()) else {
                continue; // blank line
            };
            let first = self.line.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(0);
            let opens = matches!(self.line[first], b'{' | b'[');
            let closes = matches!(self.line[last], b'}' | b']');
            if opens && !closes && !self.scan.clone().feed(&self.line) {
                self.doc_start = self.line_no;
                self.scan.feed(&self.line);
                std::mem::swap(&mut self.doc, &mut self.line);
                continue;
            }
            return Ok(Some(Item::Document { line: self.line_no, bytes: &mut self.line }));
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

/// Bracket depth across lines, outside strings.
#[derive(Clone, Default)]
struct Scan {
    depth: i64,
    in_string: bool,
    escaped: bool,
    started: bool,
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
        }
        self.started && self.depth <= 0
    }
}

/// The start of some input, fit for a one-line message: at most 60
/// characters, control characters escaped.
pub fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(240)]);
    let text = text.trim();
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == 60 {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(input: &str) -> Vec<(u64, Result<String, &'static str>)> {
        let mut reader = Reader::new(input.as_bytes());
        let mut out = Vec::new();
        while let Some(item) = reader.next_item().unwrap() {
            out.push(match item {
                Item::Document { line, bytes } => {
                    (line, Ok(String::from_utf8(bytes.clone()).unwrap().trim().to_owned()))
                }
                Item::Malformed { line, reason, .. } => (line, Err(reason)),
            });
        }
        out
    }

    #[test]
    fn lines_and_pretty_documents_mix() {
        let input = "{\"a\":1}\n\n{\n  \"b\": [\n    1\n  ]\n}\n[{\"c\":\"}\"}]\nnot json\n";
        let got = items(input);
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
        let got = items("{\"a\": \"x\n{\"b\":2}\n{\"c\":\n");
        assert_eq!(got[0], (1, Err("document is not closed before the next one starts")));
        assert_eq!(got[1], (2, Ok("{\"b\":2}".into())));
        assert_eq!(got[2], (3, Err("document is not closed at the end of the input")));
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn brackets_inside_strings_do_not_count() {
        let got = items("{\n \"k\": \"{[\\\"\"\n}\n");
        assert_eq!(got.len(), 1);
        assert!(got[0].1.is_ok());
    }

    #[test]
    fn snippets_are_short_and_printable() {
        assert_eq!(snippet(b"  a\tb  "), "a\\tb");
        assert_eq!(snippet(&[b'x'; 100]).len(), 63);
    }
}
