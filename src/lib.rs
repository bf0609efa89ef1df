//! canary-pipe brings Thinkst Canary incidents into a SIEM.
//!
//! Data moves through the modules in this order:
//!
//! - [`console`]: the Console API client (URL, token, feed pages, errors);
//! - [`poll`], [`state`] and [`dedup`]: the polling loop, the checkpoint it
//!   saves, and what it remembers of each incident written;
//! - [`flatten`]: incidents viewed as the flat records Sekoia's intake expects;
//! - [`ecs`]: those records mapped to ECS;
//! - [`ndjson`]: framing of input documents and buffered line output;
//! - [`input`]: what kind each record is (Console API, OpenCanary, webhook,
//!   syslog), and the readers of the kinds that are not API records.
//!
//! [`demo`] is a small console that follows the documented API, used by
//! `canary-source --demo` and by the tests. The two binaries only parse
//! options and wire these modules together.

pub mod console;
pub mod dedup;
pub mod demo;
pub mod ecs;
pub mod exit;
pub mod flatten;
pub mod input;
pub mod logging;
pub mod ndjson;
pub mod poll;
pub mod state;
pub mod transform;

/// Parses JSON text for a unit test; the leaked buffer lets the value
/// outlive the call.
#[cfg(test)]
pub(crate) fn test_value(text: &str) -> simd_json::BorrowedValue<'static> {
    let bytes: &'static mut [u8] = Box::leak(text.as_bytes().to_vec().into_boxed_slice());
    simd_json::to_borrowed_value(bytes).unwrap()
}
