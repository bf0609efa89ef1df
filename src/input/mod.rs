//! What kind of record canary-transform was given, and the readers of the
//! kinds that are not Console API records.
//!
//! An OpenCanary line is read in place: [`crate::flatten::Record`] answers
//! the console's key names from it through [`opencanary`]. The console's
//! webhook bodies and RFC 5424 syslog lines are converted into a flat
//! record in its own vocabulary ([`webhook`], [`syslog`]), so one ECS
//! mapping reads them all.

pub mod opencanary;
pub mod syslog;
pub mod webhook;
