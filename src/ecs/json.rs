//! The ECS documents written as JSON straight into the output buffer.
//!
//! Each document type writes its members, in output order, through
//! [`Object`], which leaves out the members that have nothing to say: `None`,
//! empty lists, and groups none of whose members were written. Through serde,
//! writing was a third of the mapping's time, much of it escaping the static
//! member names byte by byte and comparing groups with their default to
//! decide whether to skip them; here names are copied as they are, a group is
//! dropped once it turns out empty, and strings are escaped eight bytes at a
//! time. The bytes are the ones serde_json writes (the tests compare both).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::IpAddr;

/// A value that can be a member of an ECS document.
pub trait Json {
    /// Appends the value's JSON to `out` and says whether it is worth a
    /// member: `false` for an empty list or group (whose `[]` or `{}` was
    /// written), and for `None`, which writes nothing.
    fn write(&self, out: &mut Vec<u8>) -> bool;

    /// Whether the value is known to have nothing to say before it is
    /// written: most members of a document are `None`, and this spares
    /// writing their names only to take them back.
    fn absent(&self) -> bool {
        false
    }
}

/// `,"name":`, what [`Object`] writes before a member's value, made at
/// compile time.
macro_rules! name {
    ($name:literal) => {
        concat!(",\"", $name, "\":")
    };
}
pub(crate) use name;

/// Writes a JSON object member by member.
pub struct Object<'o> {
    out: &'o mut Vec<u8>,
    empty: bool,
}

impl<'o> Object<'o> {
    pub fn new(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        Object { out, empty: true }
    }

    /// Writes `"name":value`, unless the value has nothing to say. `name`
    /// is what [`name!`] makes of the member's name, which needs no escaping.
    #[inline(always)]
    pub fn member(&mut self, name: &'static str, value: &(impl Json + ?Sized)) {
        if value.absent() {
            return;
        }
        let mark = self.out.len();
        self.name(name);
        if value.write(self.out) {
            self.empty = false;
        } else {
            self.out.truncate(mark);
        }
    }

    /// Writes `"name":value` even when the value is an empty list or group.
    /// Not for an `Option`, whose `None` writes nothing.
    #[inline(always)]
    pub fn always(&mut self, name: &'static str, value: &(impl Json + ?Sized)) {
        self.name(name);
        value.write(self.out);
        self.empty = false;
    }

    #[inline(always)]
    fn name(&mut self, name: &'static str) {
        debug_assert!(name.starts_with(",\"") && name.ends_with("\":"), "{name}");
        // The first member has no comma before it.
        let name = if self.empty { &name[1..] } else { name };
        self.out.extend_from_slice(name.as_bytes());
    }

    /// Closes the object; says whether it has members.
    pub fn end(self) -> bool {
        self.out.push(b'}');
        !self.empty
    }
}

/// Appends `text` as a JSON string, escaped as serde_json escapes it: `"`
/// and `\` with a backslash, `\b \t \n \f \r` by name, other control
/// characters as `\u00xx`, everything else (non-ASCII too) as it is.
pub fn string(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut plain = 0; // start of the bytes not yet copied
    let mut at = 0;
    while at < bytes.len() {
        // The last bytes of a string of eight or more are checked as the
        // last eight, whose start was checked already.
        let (word, next) = match bytes.get(at..at + 8) {
            Some(word) => (Some(word), at + 8),
            None => (bytes.len().checked_sub(8).map(|from| &bytes[from..]), bytes.len()),
        };
        let word = word.map(|word| u64::from_le_bytes(word.try_into().unwrap_or_default()));
        if word.is_some_and(|word| !needs_escape(word)) {
            at = next;
            continue;
        }
        let end = (at + 8).min(bytes.len());
        while at < end {
            let byte = bytes[at];
            let escape: &[u8] = match byte {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x08 => b"\\b",
                0x0c => b"\\f",
                0x00..=0x1f => &[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(byte >> 4)],
                    HEX[usize::from(byte & 0xf)],
                ],
                _ => {
                    at += 1;
                    continue;
                }
            };
            out.extend_from_slice(&bytes[plain..at]);
            out.extend_from_slice(escape);
            at += 1;
            plain = at;
        }
    }
    out.extend_from_slice(&bytes[plain..]);
    out.push(b'"');
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Whether any of the eight bytes of `word` is `"`, `\` or below 0x20.
/// Each test is the classic "has a zero byte" one, which is exact about
/// whether some byte matches (which one does not matter here).
fn needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_in = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    (control | zero_in(word ^ (ONES * u64::from(b'"'))) | zero_in(word ^ (ONES * u64::from(b'\\'))))
        != 0
}

/// An integer, unquoted.
fn integer(out: &mut Vec<u8>, n: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// An integer as a JSON string (a keyword field that came as a number).
pub fn quoted_integer(out: &mut Vec<u8>, n: impl itoa::Integer) {
    out.push(b'"');
    integer(out, n);
    out.push(b'"');
}

/// What a `Display` value prints, as a JSON string. For the values written
/// this way (times, IPv6 addresses, floats as keywords) the text needs no
/// escaping.
pub fn displayed(out: &mut Vec<u8>, value: impl std::fmt::Display) {
    out.push(b'"');
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{value}");
    out.push(b'"');
}

impl<T: Json + ?Sized> Json for &T {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        (**self).write(out)
    }

    fn absent(&self) -> bool {
        (**self).absent()
    }
}

impl<T: Json> Json for Option<T> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        self.as_ref().is_some_and(|value| value.write(out))
    }

    fn absent(&self) -> bool {
        self.as_ref().is_none_or(T::absent)
    }
}

impl Json for str {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        string(out, self);
        true
    }
}

impl Json for String {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        string(out, self);
        true
    }
}

impl Json for Cow<'_, str> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        string(out, self);
        true
    }
}

impl Json for bool {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        out.extend_from_slice(if *self { b"true" } else { b"false" });
        true
    }
}

impl Json for u8 {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        integer(out, *self);
        true
    }
}

impl Json for u16 {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        integer(out, *self);
        true
    }
}

impl Json for u64 {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        integer(out, *self);
        true
    }
}

/// As serde_json writes a float: the shortest form that reads back the same,
/// and `null` for what JSON cannot hold.
impl Json for f64 {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        if self.is_finite() {
            out.extend_from_slice(zmij::Buffer::new().format_finite(*self).as_bytes());
        } else {
            out.extend_from_slice(b"null");
        }
        true
    }
}

impl Json for IpAddr {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        match self {
            // The common case, without the formatting machinery.
            IpAddr::V4(v4) => {
                out.push(b'"');
                for (at, octet) in v4.octets().into_iter().enumerate() {
                    if at > 0 {
                        out.push(b'.');
                    }
                    integer(out, octet);
                }
                out.push(b'"');
            }
            IpAddr::V6(v6) => displayed(out, v6),
        }
        true
    }
}

impl<T: Json> Json for [T] {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        list(out, self.iter())
    }
}

impl<T: Json, const N: usize> Json for [T; N] {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        list(out, self.iter())
    }
}

impl<T: Json> Json for Vec<T> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        list(out, self.iter())
    }

    fn absent(&self) -> bool {
        self.is_empty()
    }
}

/// Writes the items as an array; says whether there were any.
pub fn list<T: Json>(out: &mut Vec<u8>, items: impl Iterator<Item = T>) -> bool {
    out.push(b'[');
    let mut any = false;
    for item in items {
        if any {
            out.push(b',');
        }
        item.write(out);
        any = true;
    }
    out.push(b']');
    any
}

impl Json for BTreeMap<String, String> {
    fn absent(&self) -> bool {
        self.is_empty()
    }

    fn write(&self, out: &mut Vec<u8>) -> bool {
        out.push(b'{');
        for (at, (name, value)) in self.iter().enumerate() {
            if at > 0 {
                out.push(b',');
            }
            string(out, name);
            out.push(b':');
            string(out, value);
        }
        out.push(b'}');
        !self.is_empty()
    }
}

/// A value as read, written by serde_json (rare members that copy part of
/// the record, such as an audit entry's `additional_information`).
pub struct Verbatim<'a, T>(pub &'a T);

impl<T: serde::Serialize> Json for Verbatim<'_, T> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mark = out.len();
        if serde_json::to_writer(&mut *out, self.0).is_err() {
            // No value read from JSON fails to serialize; should one, the
            // member becomes null rather than half a value.
            out.truncate(mark);
            out.extend_from_slice(b"null");
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn escaped(text: &str) -> String {
        let mut out = Vec::new();
        string(&mut out, text);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let every_ascii: String = (0u8..=127).map(char::from).collect();
        for text in [
            "",
            "plain",
            "exactly8",
            "a \"quoted\" \\ path\\",
            "\u{0}\u{1f}\u{7f}\n\r\t\u{8}\u{c}",
            "ünïcödé and 日本語 and 🦀",
            &every_ascii,
            &"x".repeat(8 * 5 + 3),
            &format!("{}\"", "y".repeat(15)),
        ] {
            assert_eq!(escaped(text), serde_json::to_string(text).unwrap(), "{text:?}");
        }
    }

    #[test]
    fn floats_are_written_as_serde_json_writes_them() {
        // serde_json's exponents carry a sign (`e+123`), unlike ryu's.
        for f in
            [-8.242388055619169e123, 1e-7, 52.374, 4.0, -0.0, f64::MAX, f64::NAN, f64::INFINITY]
        {
            let mut out = Vec::new();
            f.write(&mut out);
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(&f).unwrap());
        }
    }

    proptest! {
        #[test]
        fn any_string_is_escaped_as_serde_json_escapes_it(text in any::<String>()) {
            prop_assert_eq!(escaped(&text), serde_json::to_string(&text).unwrap());
        }

        #[test]
        fn ascii_with_specials_is_escaped_as_serde_json_escapes_it(
            text in "[a-z\"\\\\\\x00-\\x1f\\x7f ]{0,40}"
        ) {
            prop_assert_eq!(escaped(&text), serde_json::to_string(&text).unwrap());
        }

        #[test]
        fn numbers_and_addresses_are_written_as_serde_json_writes_them(
            n in any::<u64>(), f in any::<f64>(), v4 in any::<[u8; 4]>(), v6 in any::<[u16; 8]>()
        ) {
            let written = |value: &dyn Fn(&mut Vec<u8>)| {
                let mut out = Vec::new();
                value(&mut out);
                String::from_utf8(out).unwrap()
            };
            prop_assert_eq!(written(&|o| { n.write(o); }), serde_json::to_string(&n).unwrap());
            prop_assert_eq!(written(&|o| { f.write(o); }), serde_json::to_string(&f).unwrap());
            for ip in [IpAddr::from(v4), IpAddr::from(v6)] {
                prop_assert_eq!(written(&|o| { ip.write(o); }), serde_json::to_string(&ip).unwrap());
            }
        }
    }

    #[test]
    fn empty_members_are_left_out() {
        let mut out = Vec::new();
        let mut object = Object::new(&mut out);
        object.member(name!("none"), &None::<u8>);
        object.member(name!("list"), &Vec::<u8>::new());
        object.member(name!("a"), &1u8);
        object.member(name!("empty"), &BTreeMap::new());
        object.always(name!("kept"), &Vec::<u8>::new());
        object.member(name!("b"), "x");
        assert!(object.end());
        assert_eq!(String::from_utf8(out).unwrap(), r#"{"a":1,"kept":[],"b":"x"}"#);

        let mut out = Vec::new();
        let mut object = Object::new(&mut out);
        object.member(name!("none"), &None::<bool>);
        assert!(!object.end());
        assert_eq!(out, b"{}");
    }
}
