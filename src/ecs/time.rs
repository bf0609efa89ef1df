//! Canary times (epoch seconds as numbers or strings) as RFC 3339 UTC.
//!
//! Events carry `timestamp` as an integer, incident records carry it (and
//! `created` everywhere) as a string of digits. The output keeps whole
//! seconds as `2024-07-11T07:48:01Z`, the form Sekoia's platform produces.

use jiff::{SignedDuration, Timestamp};
use serde::{Serialize, Serializer};
use simd_json::BorrowedValue as Value;
use simd_json::prelude::*;

/// A point in time written as an RFC 3339 UTC string.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rfc3339(Timestamp);

impl Serialize for Rfc3339 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // jiff prints a timestamp as UTC with a `Z`, and fractional seconds
        // only when there are some; `collect_str` avoids a String.
        serializer.collect_str(&self.0)
    }
}

impl From<Timestamp> for Rfc3339 {
    fn from(time: Timestamp) -> Self {
        Rfc3339(time)
    }
}

/// Epoch seconds at or above this are read as milliseconds: the incident
/// search endpoint lists event times in milliseconds, and 10^11 seconds would
/// be the year 5138.
const MILLISECONDS_FROM: i64 = 100_000_000_000;

/// Reads a time from an epoch number, a string of one, or an RFC 3339 string.
pub fn epoch(value: &Value<'_>) -> Option<Rfc3339> {
    if let Some(text) = value.as_str() {
        return from_text(text.trim());
    }
    if let Some(n) = value.as_i64() {
        return from_integer(n);
    }
    from_float(value.as_f64()?)
}

fn from_text(text: &str) -> Option<Rfc3339> {
    if let Ok(n) = text.parse::<i64>() {
        return from_integer(n);
    }
    if let Ok(f) = text.parse::<f64>() {
        return from_float(f);
    }
    text.parse::<Timestamp>().ok().map(Rfc3339)
}

fn from_integer(n: i64) -> Option<Rfc3339> {
    // Zero and negative times are placeholders, not 1970.
    if n <= 0 {
        return None;
    }
    let time = if n.unsigned_abs() >= MILLISECONDS_FROM.unsigned_abs() {
        Timestamp::from_millisecond(n)
    } else {
        Timestamp::from_second(n)
    };
    time.ok().map(Rfc3339)
}

fn from_float(f: f64) -> Option<Rfc3339> {
    if f.is_nan() || f <= 0.0 {
        return None;
    }
    let seconds = if f.abs() >= MILLISECONDS_FROM as f64 { f / 1000.0 } else { f };
    let duration = SignedDuration::try_from_secs_f64(seconds).ok()?;
    Timestamp::from_duration(duration).ok().map(Rfc3339)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(json: &str) -> Option<String> {
        let bytes: &'static mut [u8] = Box::leak(json.as_bytes().to_vec().into_boxed_slice());
        let value = simd_json::to_borrowed_value(bytes).unwrap();
        epoch(&value).map(|t| serde_json::to_value(t).unwrap().as_str().unwrap().to_owned())
    }

    #[test]
    fn epoch_seconds_from_numbers_and_strings() {
        assert_eq!(render("1720684081").as_deref(), Some("2024-07-11T07:48:01Z"));
        assert_eq!(render(r#""1720684212""#).as_deref(), Some("2024-07-11T07:50:12Z"));
        assert_eq!(render(r#"" 1721315330 ""#).as_deref(), Some("2024-07-18T15:08:50Z"));
        assert_eq!(render("0"), None, "a placeholder, not 1970");
        assert_eq!(render("-1"), None);
    }

    #[test]
    fn fractions_milliseconds_and_rfc3339() {
        assert_eq!(render("1720684081.5").as_deref(), Some("2024-07-11T07:48:01.5Z"));
        assert_eq!(render("1720684081000").as_deref(), Some("2024-07-11T07:48:01Z"));
        assert_eq!(
            render(r#""2024-07-11T09:48:01+02:00""#).as_deref(),
            Some("2024-07-11T07:48:01Z")
        );
    }

    #[test]
    fn junk_and_out_of_range_give_nothing() {
        for json in [r#""""#, r#""soon""#, "1e300", "-1e300", "9223372036854775807", "{}", "[]"] {
            assert_eq!(render(json), None, "{json}");
        }
        assert_eq!(render("18446744073709551615"), None);
    }
}
