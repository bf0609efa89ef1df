//! The checkpoint: what has been written out, saved so a restart resumes there.
//!
//! The file is versioned JSON, replaced atomically (temporary file in the same
//! folder, fsync, rename, fsync of the folder), so a crash leaves either the old
//! state or the new one. The polling loop saves it only after the lines it
//! covers have been written and flushed.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dedup::Seen;

/// The only layout this version reads and writes.
pub const VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    /// Base URL of the console the watermark belongs to. A watermark from
    /// another console would silently skip or repeat incidents.
    pub console: String,
    /// Which feed the watermark counts in (`incidents`).
    pub feed: String,
    /// The highest `updated_id` whose incident has been written out; the next
    /// poll asks for `incidents_since` this value.
    pub watermark: u64,
    /// When this state was saved, RFC 3339 UTC; for people reading the file.
    pub saved_at: String,
    /// What was written of each recent incident, by incident key.
    #[serde(default)]
    pub incidents: BTreeMap<String, Seen>,
    /// Incidents written out whose acknowledgement (`--acknowledge`) has not
    /// succeeded yet; tried again on every poll.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_acks: Vec<String>,
    /// `--since` of the first run, as epoch seconds, kept until the feed has
    /// given a watermark: a console with nothing recent must not turn the
    /// next poll into a pull of all history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<i64>,
    /// The feed filters (`--flock-id`, `--node-id`) the watermark was made
    /// with; another scope would skip incidents the watermark never covered.
    #[serde(default)]
    pub scope: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read state file {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("state file {path} is not valid state JSON: {source}")]
    Parse { path: PathBuf, source: serde_json::Error },
    #[error("state file {path} has version {found}; this build reads version {VERSION}")]
    Version { path: PathBuf, found: u32 },
    #[error(
        "state file {path} belongs to console {found:?} and feed {feed:?}, not {expected:?}; use another state file"
    )]
    OtherConsole { path: PathBuf, found: String, feed: String, expected: String },
    #[error("cannot write state file {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error(
        "state file {path} was made for the feed filters {found:?}, not {expected:?}; use another state file"
    )]
    OtherScope { path: PathBuf, found: String, expected: String },
    #[error("state file {path} is in use by another canary-source")]
    Locked { path: PathBuf },
}

impl State {
    pub fn new(console: &str, feed: &str) -> State {
        State {
            version: VERSION,
            console: console.to_owned(),
            feed: feed.to_owned(),
            watermark: 0,
            saved_at: String::new(),
            incidents: BTreeMap::new(),
            pending_acks: Vec::new(),
            since: None,
            scope: String::new(),
        }
    }

    /// Reads the state at `path`, or `None` when there is no file yet.
    /// A state for another console or feed is an error, not a fresh start.
    pub fn load(path: &Path, console: &str, feed: &str) -> Result<Option<State>, StateError> {
        let text = match fs::read(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StateError::Read { path: path.into(), source }),
        };
        let version: Versioned = serde_json::from_slice(&text)
            .map_err(|source| StateError::Parse { path: path.into(), source })?;
        if version.version != VERSION {
            return Err(StateError::Version { path: path.into(), found: version.version });
        }
        let state: State = serde_json::from_slice(&text)
            .map_err(|source| StateError::Parse { path: path.into(), source })?;
        if state.console != console || state.feed != feed {
            return Err(StateError::OtherConsole {
                path: path.into(),
                found: state.console,
                feed: state.feed,
                expected: console.to_owned(),
            });
        }
        Ok(Some(state))
    }

    /// Replaces the file at `path` with this state, atomically and durably.
    pub fn save(&mut self, path: &Path) -> Result<(), StateError> {
        self.saved_at =
            jiff::Timestamp::now().round(jiff::Unit::Second).unwrap_or_default().to_string();
        write_atomically(path, self)
            .map_err(|source| StateError::Write { path: path.into(), source })
    }
}

fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Temporary files of one state file start with this, so that those a
/// killed run left behind can be found and removed.
fn temp_prefix(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    format!(".{name}.tmp")
}

/// Holds the state file for one run: a second canary-source on the same
/// file would write over what this one saves.
pub struct Lock {
    _file: fs::File,
}

/// Takes the state file's lock (a `.lock` file beside it), checks that the
/// folder can be written, rather than finding out after the first page went
/// out, and removes temporary files a killed run left behind.
pub fn lock(path: &Path) -> Result<Lock, StateError> {
    let write_error = |source| StateError::Write { path: path.into(), source };
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(write_error)?;
    if let Err(err) = file.try_lock() {
        return Err(match err {
            fs::TryLockError::WouldBlock => StateError::Locked { path: path.into() },
            fs::TryLockError::Error(source) => write_error(source),
        });
    }
    let prefix = temp_prefix(path);
    for entry in fs::read_dir(folder(path)).map_err(write_error)?.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = fs::remove_file(entry.path());
        }
    }
    tempfile::Builder::new().prefix(&prefix).tempfile_in(folder(path)).map_err(write_error)?;
    Ok(Lock { _file: file })
}

#[derive(Deserialize)]
struct Versioned {
    version: u32,
}

fn write_atomically(path: &Path, state: &State) -> io::Result<()> {
    let dir = folder(path);
    let mut file = tempfile::Builder::new().prefix(&temp_prefix(path)).tempfile_in(dir)?;
    serde_json::to_writer(&mut file, state)?;
    file.write_all(b"\n")?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    // The rename is durable only once the folder entry is on disk.
    fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_exact_shape() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert_eq!(State::load(&path, "https://a.canary.tools/", "incidents").unwrap(), None);

        let mut state = State::new("https://a.canary.tools/", "incidents");
        state.watermark = 152;
        state.save(&path).unwrap();

        let on_disk: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        let keys: Vec<&str> = on_disk.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(
            keys,
            ["console", "feed", "incidents", "saved_at", "scope", "version", "watermark"]
        );
        assert_eq!(on_disk["version"], 1);
        assert_eq!(on_disk["watermark"], 152);
        assert_eq!(on_disk["console"], "https://a.canary.tools/");
        assert_eq!(on_disk["feed"], "incidents");

        let loaded = State::load(&path, "https://a.canary.tools/", "incidents").unwrap().unwrap();
        assert_eq!(loaded, state);
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");

        let _held = lock(&path).unwrap();
        assert!(matches!(lock(&path), Err(StateError::Locked { .. })), "one run per state file");
    }

    #[test]
    fn refuses_other_console_other_version_and_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        State::new("https://a.canary.tools/", "incidents").save(&path).unwrap();
        let err = State::load(&path, "https://b.canary.tools/", "incidents").unwrap_err();
        assert!(matches!(err, StateError::OtherConsole { .. }), "{err}");

        fs::write(&path, r#"{"version": 9}"#).unwrap();
        let err = State::load(&path, "https://a.canary.tools/", "incidents").unwrap_err();
        assert!(matches!(err, StateError::Version { found: 9, .. }), "{err}");

        fs::write(&path, "{").unwrap();
        let err = State::load(&path, "https://a.canary.tools/", "incidents").unwrap_err();
        assert!(matches!(err, StateError::Parse { .. }), "{err}");
    }
}
