//! Lenient readers for record values, and the small output types they feed.
//!
//! Canary sends the same field as a string on one endpoint and a number on
//! another, and a record may hold anything at all. Every reader here answers
//! `None` for a value it cannot use, so the mapping never fails on odd input;
//! an empty string counts as absent everywhere.

use std::borrow::Cow;
use std::net::IpAddr;

use simd_json::BorrowedValue as Value;
use simd_json::prelude::*;

use super::json::{self, Json};
use crate::flatten::Record;

/// A keyword value written as a JSON string, whatever JSON type it came as.
#[derive(Clone, Debug, PartialEq)]
pub enum Text<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    UInt(u64),
    Float(f64),
    Ip(IpAddr),
}

impl Json for Text<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        match self {
            Text::Str(s) => json::string(out, s),
            Text::Int(n) => json::quoted_integer(out, *n),
            Text::UInt(n) => json::quoted_integer(out, *n),
            Text::Float(n) => json::displayed(out, n),
            Text::Ip(ip) => return ip.write(out),
        }
        true
    }
}

impl<'a> From<&'a str> for Text<'a> {
    fn from(s: &'a str) -> Self {
        Text::Str(Cow::Borrowed(s))
    }
}

/// A non-empty string value.
pub fn string<'a>(value: &'a Value<'_>) -> Option<&'a str> {
    value.as_str().filter(|s| !s.is_empty())
}

/// A non-empty string or a finite number; objects, arrays, booleans and null
/// have no keyword form.
pub fn text<'a>(value: &'a Value<'_>) -> Option<Text<'a>> {
    if let Some(s) = value.as_str() {
        return (!s.is_empty()).then(|| Text::from(s));
    }
    if let Some(n) = value.as_i64() {
        return Some(Text::Int(n));
    }
    if let Some(n) = value.as_u64() {
        return Some(Text::UInt(n));
    }
    value.as_f64().filter(|f| f.is_finite()).map(Text::Float)
}

/// A non-negative integer from a number or a string of digits. Floats count
/// only when they hold a whole number exactly.
pub fn count(value: &Value<'_>) -> Option<u64> {
    if let Some(s) = value.as_str() {
        return s.trim().parse().ok().filter(|n| *n <= i64::MAX as u64);
    }
    if let Some(n) = value.as_u64() {
        // Elasticsearch's `long` ends at i64::MAX; larger is not a count.
        return (n <= i64::MAX as u64).then_some(n);
    }
    let f = value.as_f64()?;
    // 2^53: above it an f64 no longer holds every integer.
    ((0.0..=9_007_199_254_740_992.0).contains(&f) && f.fract() == 0.0).then_some(f as u64)
}

/// A TCP/UDP port. Port 0 is kept: Sekoia's output keeps it for tokens.
pub fn port(value: &Value<'_>) -> Option<u16> {
    count(value).and_then(|n| u16::try_from(n).ok())
}

/// A finite float from a number or a numeric string.
pub fn float(value: &Value<'_>) -> Option<f64> {
    let f = match value.as_str() {
        Some(s) => s.trim().parse().ok()?,
        None => value.cast_f64()?,
    };
    f.is_finite().then_some(f)
}

/// An IP address from a string, surrounding blanks ignored.
pub fn ip(value: &Value<'_>) -> Option<IpAddr> {
    value.as_str()?.trim().parse().ok()
}

/// What values are looked up in: a record, or its fields read once.
pub trait Lookup<'a, 'v: 'a> {
    fn lookup(&self, key: &str) -> Option<&'a Value<'v>>;
}

impl<'a, 'v> Lookup<'a, 'v> for Record<'a, 'v> {
    fn lookup(&self, key: &str) -> Option<&'a Value<'v>> {
        self.get(key)
    }
}

impl<'a, 'v> Lookup<'a, 'v> for super::fields::Fields<'a, 'v> {
    fn lookup(&self, key: &str) -> Option<&'a Value<'v>> {
        self.get(key)
    }
}

/// The first of `keys` whose value `read` accepts.
pub fn first<'a, 'v: 'a, T>(
    record: &impl Lookup<'a, 'v>,
    keys: &[&str],
    read: impl Fn(&'a Value<'v>) -> Option<T>,
) -> Option<T> {
    keys.iter().find_map(|key| record.lookup(key).and_then(&read))
}

/// A deduplicating list with room for `N` items, kept on the stack: the
/// `related.*` lists are short and built once per record.
#[derive(Clone, Debug, PartialEq)]
pub struct Few<T, const N: usize> {
    items: [Option<T>; N],
}

impl<T: PartialEq, const N: usize> Few<T, N> {
    /// Adds `item` unless it is already there; a full list ignores it.
    pub fn push(&mut self, item: T) {
        if self.iter().any(|known| *known == item) {
            return;
        }
        if let Some(slot) = self.items.iter_mut().find(|slot| slot.is_none()) {
            *slot = Some(item);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter().flatten()
    }
}

impl<T, const N: usize> Default for Few<T, N> {
    fn default() -> Self {
        Few { items: [const { None }; N] }
    }
}

impl<T: Json + PartialEq, const N: usize> Json for Few<T, N> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        json::list(out, self.iter())
    }

    fn absent(&self) -> bool {
        self.items[0].is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_value as parse;

    #[test]
    fn ports_come_from_strings_or_numbers_and_keep_zero() {
        assert_eq!(port(&parse(r#""53804""#)), Some(53804));
        assert_eq!(port(&parse("53")), Some(53));
        assert_eq!(port(&parse(r#""0""#)), Some(0));
        assert_eq!(port(&parse("-1")), None);
        assert_eq!(port(&parse("70000")), None);
        assert_eq!(port(&parse("22.0")), Some(22));
        assert_eq!(port(&parse("22.5")), None);
        assert_eq!(port(&parse(r#""""#)), None);
        assert_eq!(port(&parse("{}")), None);
    }

    #[test]
    fn text_accepts_scalars_only() {
        assert_eq!(text(&parse(r#""x""#)), Some(Text::from("x")));
        assert_eq!(text(&parse("2000")), Some(Text::Int(2000)));
        assert_eq!(text(&parse("18446744073709551615")), Some(Text::UInt(u64::MAX)));
        assert_eq!(text(&parse(r#""""#)), None);
        assert_eq!(text(&parse("[1]")), None);
        assert_eq!(text(&parse("true")), None);
    }

    #[test]
    fn few_deduplicates_and_drops_overflow() {
        let mut few: Few<u8, 2> = Few::default();
        few.push(1);
        few.push(1);
        few.push(2);
        few.push(3);
        let mut out = Vec::new();
        assert!(few.write(&mut out));
        assert_eq!(out, b"[1,2]");
    }
}
