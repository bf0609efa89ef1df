//! Canary times (epoch seconds as numbers or strings) as RFC 3339 UTC.
//!
//! Events carry `timestamp` as an integer, incident records carry it (and
//! `created` everywhere) as a string of digits. The output keeps whole
//! seconds as `2024-07-11T07:48:01Z`, the form Sekoia's platform produces.

use jiff::{SignedDuration, Timestamp};
use simd_json::BorrowedValue as Value;

use super::json::{self, Json};
use simd_json::prelude::*;

/// A point in time written as an RFC 3339 UTC string.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rfc3339(Timestamp);

impl Json for Rfc3339 {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let time = jiff::tz::Offset::UTC.to_datetime(self.0);
        if time.subsec_nanosecond() != 0 || !(1000..=9999).contains(&time.year()) {
            // jiff prints a timestamp as UTC with a `Z`, and fractional
            // seconds only when there are some.
            json::displayed(out, self.0);
            return true;
        }
        // What jiff prints for whole seconds of years with four digits,
        // without its formatting machinery (half a microsecond a time).
        let digits = |out: &mut Vec<u8>, n: i8| out.extend_from_slice(&two_digits(n));
        out.push(b'"');
        out.extend_from_slice(itoa::Buffer::new().format(time.year()).as_bytes());
        out.push(b'-');
        digits(out, time.month());
        out.push(b'-');
        digits(out, time.day());
        out.push(b'T');
        digits(out, time.hour());
        out.push(b':');
        digits(out, time.minute());
        out.push(b':');
        digits(out, time.second());
        out.extend_from_slice(b"Z\"");
        true
    }
}

/// A month, day, hour, minute or second as two digits.
fn two_digits(n: i8) -> [u8; 2] {
    let n = n.unsigned_abs();
    [b'0' + n / 10 % 10, b'0' + n % 10]
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
        epoch(&value).map(|t| {
            let mut out = Vec::new();
            t.write(&mut out);
            serde_json::from_slice::<String>(&out).unwrap()
        })
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

    proptest::proptest! {
        /// The written form is jiff's, with and without fractions, in any year.
        #[test]
        fn written_as_jiff_prints_it(
            second in Timestamp::MIN.as_second()..=Timestamp::MAX.as_second(),
            whole in proptest::bool::ANY,
            nanosecond in 0..1_000_000_000i32,
        ) {
            let nanosecond = if whole { 0 } else { nanosecond };
            let Ok(time) = Timestamp::new(second, nanosecond) else { return Ok(()) };
            let mut out = Vec::new();
            Rfc3339(time).write(&mut out);
            proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), format!("\"{time}\""));
        }

        #[test]
        fn recent_times_written_as_jiff_prints_them(second in 0..4_102_444_800i64) {
            let time = Timestamp::from_second(second).unwrap();
            let mut out = Vec::new();
            Rfc3339(time).write(&mut out);
            proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), format!("\"{time}\""));
        }
    }

    #[test]
    fn junk_and_out_of_range_give_nothing() {
        for json in [r#""""#, r#""soon""#, "1e300", "-1e300", "9223372036854775807", "{}", "[]"] {
            assert_eq!(render(json), None, "{json}");
        }
        assert_eq!(render("18446744073709551615"), None);
    }
}
