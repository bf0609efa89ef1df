//! RFC 5424 syslog lines from the Canary console.
//!
//! The console writes `<PRI>1 TIMESTAMP HOSTNAME ThinkstCanary PROCID MSGID
//! [SD-ELEMENT]... MSG`, its alert in the structured data: incidents in
//! `BasicIncidentDetails@51136` and `AdditionalIncidentDetails@51136`,
//! audit entries in `AuditTrailDetails@51136`, with the webhook's names
//! ([`super::webhook`] converts both).
//!
//! The parser is strict about the grammar of RFC 5424, with two
//! exceptions for what the console really sends: a space between two
//! SD-ELEMENTs, and no length limits on names (token details have long
//! ones). The crates on crates.io did not fit: `syslog_rfc5424` panics on
//! a cut UTC offset and reads a second, space-separated element as the
//! message, and `syslog_loose` accepts any text and silently drops
//! elements it cannot parse.

use std::borrow::Cow;

use jiff::Timestamp;
use simd_json::BorrowedValue as Value;
use simd_json::borrowed::Object;

use super::webhook::Builder;
use crate::flatten::Kind;

/// The private enterprise number in the console's SD-IDs.
const INCIDENT: &str = "BasicIncidentDetails@51136";
const DETAILS: &str = "AdditionalIncidentDetails@51136";
const AUDIT: &str = "AuditTrailDetails@51136";

/// Longest part of a value quoted in a message.
const QUOTE: usize = 40;

/// One syslog message, borrowing from its line.
#[derive(Debug, PartialEq)]
pub struct Message<'a> {
    pub priority: u8,
    pub timestamp: Option<Timestamp>,
    pub hostname: Option<&'a str>,
    pub app_name: Option<&'a str>,
    pub proc_id: Option<&'a str>,
    pub msg_id: Option<&'a str>,
    pub elements: Vec<Element<'a>>,
    /// The free text after the structured data (a UTF-8 BOM removed).
    pub msg: &'a str,
}

/// An SD-ELEMENT: its SD-ID and parameters, values unescaped.
#[derive(Debug, PartialEq)]
pub struct Element<'a> {
    pub id: &'a str,
    pub params: Vec<(&'a str, Cow<'a, str>)>,
}

/// Why a line is not an RFC 5424 message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    #[error("PRI is not <0> to <191>")]
    Priority,
    #[error("VERSION {0:?} is not 1")]
    Version(String),
    #[error("the header ends before {0}")]
    Missing(&'static str),
    #[error("TIMESTAMP {0:?} is not an RFC 3339 time")]
    Timestamp(String),
    #[error("{0} {1:?} is not printable ASCII")]
    Field(&'static str, String),
    #[error("STRUCTURED-DATA at {0:?}: {1}")]
    StructuredData(String, &'static str),
}

/// Whether `line` starts like a syslog message: `<` and a digit.
pub fn starts_syslog(line: &[u8]) -> bool {
    matches!(line, [b'<', digit, ..] if digit.is_ascii_digit())
}

/// Parses one line (no line end) as an RFC 5424 message.
pub fn parse(line: &str) -> Result<Message<'_>, Error> {
    let (priority, rest) = priority(line)?;
    let (version, rest) = next(rest, "VERSION")?;
    if version != "1" {
        return Err(Error::Version(quote(version)));
    }
    let (time, rest) = next(rest, "TIMESTAMP")?;
    let timestamp = match time {
        "-" => None,
        _ => Some(time.parse().map_err(|_| Error::Timestamp(quote(time)))?),
    };
    let (hostname, rest) = header_field(rest, "HOSTNAME")?;
    let (app_name, rest) = header_field(rest, "APP-NAME")?;
    let (proc_id, rest) = header_field(rest, "PROCID")?;
    let (msg_id, rest) = header_field(rest, "MSGID")?;
    if rest.is_empty() {
        return Err(Error::Missing("STRUCTURED-DATA"));
    }
    let (elements, rest) = structured_data(rest)?;
    let msg = match rest.strip_prefix(' ') {
        Some(msg) => msg.strip_prefix('\u{feff}').unwrap_or(msg),
        None if rest.is_empty() => rest,
        None => return Err(Error::StructuredData(quote(rest), "no space before MSG")),
    };
    Ok(Message { priority, timestamp, hostname, app_name, proc_id, msg_id, elements, msg })
}

fn priority(line: &str) -> Result<(u8, &str), Error> {
    let rest = line.strip_prefix('<').ok_or(Error::Priority)?;
    let (digits, rest) = rest.split_once('>').ok_or(Error::Priority)?;
    let canonical = !digits.is_empty()
        && digits.len() <= 3
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    match digits.parse::<u8>() {
        Ok(priority) if canonical && priority <= 191 => Ok((priority, rest)),
        _ => Err(Error::Priority),
    }
}

/// The text up to the next space (or the end), and what follows that
/// space.
fn next<'a>(rest: &'a str, field: &'static str) -> Result<(&'a str, &'a str), Error> {
    let (value, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    if value.is_empty() {
        return Err(Error::Missing(field));
    }
    Ok((value, rest))
}

/// A header field: `-` (none) or printable ASCII.
fn header_field<'a>(
    rest: &'a str,
    field: &'static str,
) -> Result<(Option<&'a str>, &'a str), Error> {
    let (value, rest) = next(rest, field)?;
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::Field(field, quote(value)));
    }
    Ok(((value != "-").then_some(value), rest))
}

/// The SD-ELEMENTs at the start of `rest` (or `-`), and what follows them.
fn structured_data(rest: &str) -> Result<(Vec<Element<'_>>, &str), Error> {
    if let Some(after) = rest.strip_prefix('-') {
        return Ok((Vec::new(), after));
    }
    let mut elements = Vec::new();
    let mut rest = rest;
    loop {
        let (parsed, after) = element(rest)?;
        elements.push(parsed);
        rest = after;
        if rest.starts_with('[') {
            continue;
        }
        // The console puts a space between elements, which RFC 5424 does
        // not. After a space, text in brackets is an element when its SD-ID
        // has an enterprise number, as every console element does, and the
        // start of the message otherwise.
        match rest.strip_prefix(' ').filter(|r| looks_enterprise(r)) {
            Some(candidate) => rest = candidate,
            None => return Ok((elements, rest)),
        }
    }
}

/// Whether `candidate` starts with `[` and an SD-ID like `name@51136`.
fn looks_enterprise(candidate: &str) -> bool {
    let Some(inner) = candidate.strip_prefix('[') else {
        return false;
    };
    let id = inner.split([' ', ']']).next().unwrap_or("");
    id.split_once('@').is_some_and(|(_, number)| number.starts_with(|c: char| c.is_ascii_digit()))
}

fn element(rest: &str) -> Result<(Element<'_>, &str), Error> {
    let sd_error = |at: &str, why| Error::StructuredData(quote(at), why);
    let body = rest.strip_prefix('[').ok_or_else(|| sd_error(rest, "expected '[' or '-'"))?;
    let id_end = body.find([' ', ']']).ok_or_else(|| sd_error(rest, "element is not closed"))?;
    let id = &body[..id_end];
    if !is_name(id) {
        return Err(sd_error(rest, "SD-ID is not a name"));
    }
    let mut params = Vec::new();
    let mut rest = &body[id_end..];
    loop {
        if let Some(after) = rest.strip_prefix(']') {
            return Ok((Element { id, params }, after));
        }
        let at = rest.strip_prefix(' ').ok_or_else(|| sd_error(rest, "expected ' ' or ']'"))?;
        let (name, after) =
            at.split_once("=\"").ok_or_else(|| sd_error(at, "parameter without =\"value\""))?;
        if !is_name(name) {
            return Err(sd_error(at, "PARAM-NAME is not a name"));
        }
        let (value, after) =
            param_value(after).ok_or_else(|| sd_error(at, "value is not closed"))?;
        params.push((name, value));
        rest = after;
    }
}

/// An SD-NAME: printable ASCII but `=`, `]` and `"`.
fn is_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && !b"=]\"".contains(&b))
}

/// A PARAM-VALUE up to its closing quote, with `\"`, `\\` and `\]`
/// unescaped (a backslash before anything else stays, as RFC 5424 says),
/// and the text after the quote.
fn param_value(text: &str) -> Option<(Cow<'_, str>, &str)> {
    let bytes = text.as_bytes();
    let mut owned: Option<String> = None;
    // Quotes and backslashes are ASCII, so every index used to slice is a
    // character boundary.
    let (mut start, mut at) = (0, 0);
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                let value = match owned {
                    Some(mut value) => {
                        value.push_str(&text[start..at]);
                        Cow::Owned(value)
                    }
                    None => Cow::Borrowed(&text[..at]),
                };
                return Some((value, &text[at + 1..]));
            }
            b'\\' if matches!(bytes.get(at + 1), Some(b'"' | b'\\' | b']')) => {
                owned.get_or_insert_with(String::new).push_str(&text[start..at]);
                start = at + 1;
                at += 2;
            }
            _ => at += 1,
        }
    }
    None
}

/// At most [`QUOTE`] characters of `text`, for a message.
fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_owned(),
    }
}

impl<'a> Message<'a> {
    fn element(&self, id: &str) -> Option<&Element<'a>> {
        self.elements.iter().find(|e| e.id == id)
    }

    /// The Canary alert or audit entry the message holds, as a flat record
    /// in the console's vocabulary; `None` when it holds neither (another
    /// program's line, an rsyslog `-- MARK --`).
    pub fn canary_record(&self) -> Option<(Kind, Object<'a>)> {
        let text = |value: &Cow<'a, str>| Value::String(value.clone());
        if let Some(basic) = self.element(INCIDENT) {
            let mut builder = Builder::new(Kind::Event);
            for (name, value) in &basic.params {
                builder.field(Cow::Borrowed(*name), text(value));
            }
            for details in self.elements.iter().filter(|e| e.id == DETAILS) {
                for (name, value) in &details.params {
                    builder.detail(Cow::Borrowed(*name), text(value));
                }
            }
            if let Some(time) = self.timestamp {
                builder.fill("timestamp", Value::from(time.as_second()));
            }
            if !self.msg.is_empty() {
                builder.fill("Intro", Value::from(self.msg));
            }
            return Some((Kind::Event, builder.finish()));
        }
        let audit = self.element(AUDIT)?;
        let mut builder = Builder::new(Kind::Audit);
        for (name, value) in &audit.params {
            builder.keep(Cow::Borrowed(*name), text(value));
        }
        if let Some(time) = self.timestamp {
            builder.fill("timestamp", Value::from(time.to_string()));
        }
        if !self.msg.is_empty() {
            builder.fill("message", Value::from(self.msg));
        }
        Some((Kind::Audit, builder.finish()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INCIDENT_LINE: &str = r#"<130>1 2024-05-01T10:15:31.123456+00:00 console-example ThinkstCanary 4242 newincident [BasicIncidentDetails@51136 eventid="4002" CanaryName="fileserver-01" Description="SSH Login Attempt" CanaryPort="22" Timestamp="2024-05-01 10:15:30 (UTC)" CanaryIP="192.0.2.10" IncidentHash="0123456789abcdef0123456789abcdef" CanaryLocation="Rack 3" SourceIP="192.0.2.55" ReverseDNS="host55.example[.]org" CanaryID="00000000aabbccdd"] [AdditionalIncidentDetails@51136 Username="admin" Password="example-pass"] SSH Login Attempt has been detected against one of your Canaries (fileserver-01) at 192.0.2.10."#;

    #[test]
    fn the_console_example_parses() {
        let message = parse(INCIDENT_LINE).unwrap();
        assert_eq!(message.priority, 130);
        assert_eq!(message.timestamp.unwrap().to_string(), "2024-05-01T10:15:31.123456Z");
        assert_eq!(message.hostname, Some("console-example"));
        assert_eq!(message.app_name, Some("ThinkstCanary"));
        assert_eq!(message.proc_id, Some("4242"));
        assert_eq!(message.msg_id, Some("newincident"));
        assert_eq!(message.elements.len(), 2);
        assert_eq!(message.elements[1].params[1], ("Password", Cow::Borrowed("example-pass")));
        assert!(message.msg.starts_with("SSH Login Attempt has been detected"));

        let (kind, record) = message.canary_record().unwrap();
        assert_eq!(kind, Kind::Event);
        let record: serde_json::Value =
            serde_json::from_str(&simd_json::prelude::Writable::encode(&Value::from(record)))
                .unwrap();
        assert_eq!(record["logtype"], "4002");
        assert_eq!(record["timestamp"], 1714558530, "the event's time, not the message's");
        assert_eq!(record["src_host_reverse"], "host55.example.org");
        assert_eq!(record["USERNAME"], "admin");
        assert_eq!(record["incident_id"], "0123456789abcdef0123456789abcdef");
        assert!(record["Intro"].as_str().unwrap().ends_with("at 192.0.2.10."));
    }

    #[test]
    fn escapes_are_undone_and_elements_may_touch() {
        let line = r#"<14>1 - - - - audittrail [AuditTrailDetails@51136 message="said \"hi\" \\ [x\] é" user="a"][timeQuality tzKnown="1"] tail"#;
        let message = parse(line).unwrap();
        assert_eq!(message.timestamp, None);
        assert_eq!(message.elements[0].params[0].1, r#"said "hi" \ [x] é"#);
        assert_eq!(message.elements[1].id, "timeQuality");
        assert_eq!(message.msg, "tail");

        let line = r#"<14>1 - - - - - [a@1 v="back\slash \n"]"#;
        assert_eq!(parse(line).unwrap().elements[0].params[0].1, r#"back\slash \n"#);
    }

    #[test]
    fn a_message_may_start_with_a_bracket() {
        let message = parse("<14>1 - h app - - [x@1 a=\"1\"] [note] text").unwrap();
        assert_eq!(message.elements.len(), 1);
        assert_eq!(message.msg, "[note] text");
        let err = parse("<14>1 - h app - - [x@1 a=\"1\"] [y@51136 Password=\"cut").unwrap_err();
        assert!(matches!(err, Error::StructuredData(_, "value is not closed")), "{err}");
    }

    #[test]
    fn lines_that_break_the_grammar_say_where() {
        let cases = [
            ("<192>1 - - - - - -", Error::Priority),
            ("<01>1 - - - - - -", Error::Priority),
            ("<12>opencanaryd[9]: {\"a\":1}", Error::Version("opencanaryd[9]:".into())),
            ("<12>1 yesterday h a p m -", Error::Timestamp("yesterday".into())),
            ("<12>1 2024-05-01T10:15:31+0", Error::Timestamp("2024-05-01T10:15:31+0".into())),
            ("<12>1", Error::Missing("TIMESTAMP")),
            ("<12>1 - h a p", Error::Missing("MSGID")),
            ("<12>1 - h a p m", Error::Missing("STRUCTURED-DATA")),
            ("<12>1 - h  p m -", Error::Missing("APP-NAME")),
            ("<12>1 - h\u{7f} a p m -", Error::Field("HOSTNAME", "h\u{7f}".into())),
            ("<12>1 - h a p m x", Error::StructuredData("x".into(), "expected '[' or '-'")),
            (
                "<12>1 - h a p m [a b]",
                Error::StructuredData("b]".into(), "parameter without =\"value\""),
            ),
            ("<12>1 - h a p m -x", Error::StructuredData("x".into(), "no space before MSG")),
        ];
        for (line, expected) in cases {
            assert_eq!(parse(line).err(), Some(expected), "{line}");
        }
    }

    #[test]
    fn other_programs_messages_are_not_canary_records() {
        let mark = parse("<46>1 2024-05-01T10:20:00Z host rsyslogd - - - -- MARK --").unwrap();
        assert_eq!(mark.msg, "-- MARK --");
        assert!(mark.canary_record().is_none());
    }

    #[test]
    fn starts_needs_a_digit_after_the_bracket() {
        assert!(starts_syslog(b"<1"));
        assert!(!starts_syslog(b"<a"));
        assert!(!starts_syslog(b"{"));
        assert!(!starts_syslog(b"<"));
    }
}
