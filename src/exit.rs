//! Exit codes shared by both programs, listed in the README.

/// Everything asked was done.
pub const OK: i32 = 0;
/// A failure with no more specific code, e.g. the state file cannot be written.
pub const FAILURE: i32 = 1;
/// Bad options or configuration (clap uses 2 as well).
pub const USAGE: i32 = 2;
/// The console rejected the auth token.
pub const AUTH: i32 = 3;
/// `canary-transform --strict` rejected at least one record (sysexits `EX_DATAERR`).
pub const DATA: i32 = 65;
/// An input file named on the command line cannot be read (sysexits
/// `EX_NOINPUT`); the other files are still transformed.
pub const NO_INPUT: i32 = 66;
/// The console stayed unreachable or failing after every retry of a `--once` run
/// (sysexits `EX_UNAVAILABLE`).
pub const UNAVAILABLE: i32 = 69;
/// stdout was closed or failed (downstream gone); nothing past the last written
/// line was checkpointed (sysexits `EX_IOERR`).
pub const OUTPUT: i32 = 74;
