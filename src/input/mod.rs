//! What kind of record canary-transform was given, and the readers of the
//! kinds that are not Console API records.
//!
//! An OpenCanary line is read in place: [`crate::flatten::Record`] answers
//! the console's key names from it through [`opencanary`].

pub mod opencanary;
