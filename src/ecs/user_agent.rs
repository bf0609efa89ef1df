//! User agents parsed with uap-core's regexes, the way Sekoia's platform and
//! Elastic's `user_agent` processor fill `user_agent.*`.
//!
//! Building the extractor compiles about a thousand regexes, so it is done
//! once per process, on first use or ahead of it by [`warm_up`]. Parsing one string still runs many of
//! them, and an incident repeats the same agent across its events, so each
//! [`Agents`] keeps the answers for the strings it has seen.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use ua_parser::{Extractor, Regexes};

/// uap-core 0.18.0; see `data/uap-core/README.md`.
const REGEXES: &str = include_str!("../../data/uap-core/regexes.yaml");

/// Enough for any real browser string; the cap bounds the regex work an
/// attacker-chosen header can cause.
const MAX_PARSED_LEN: usize = 2048;

/// Past this many distinct agents the cache starts over rather than grow.
const MAX_CACHED: usize = 4096;

/// What uap calls an agent, OS or device it does not recognise.
const OTHER: &str = "Other";

static EXTRACTOR: LazyLock<Option<Extractor<'static>>> = LazyLock::new(build_extractor);

fn build_extractor() -> Option<Extractor<'static>> {
    let built = serde_yaml::from_str::<Regexes<'static>>(REGEXES)
        .map_err(|e| e.to_string())
        .and_then(|regexes| Extractor::try_from(regexes).map_err(|e| e.to_string()));
    match built {
        Ok(extractor) => Some(extractor),
        Err(error) => {
            // Only a broken embedded file gets here; agents then stay unparsed.
            tracing::error!(%error, "user agent regexes do not load");
            None
        }
    }
}

/// Starts building the extractor on a thread of its own, so the fraction of
/// a second it takes overlaps with reading input rather than stalling the
/// first record with a user agent. Later calls do nothing.
pub fn warm_up() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        let spawned = std::thread::Builder::new().name("ua-regexes".into()).spawn(|| {
            LazyLock::force(&EXTRACTOR);
        });
        // Without a thread the first parse builds it, as before.
        drop(spawned);
    });
}

/// The parsed fields of one user agent string, in ECS terms.
#[derive(Debug, PartialEq)]
pub struct Parsed {
    pub name: Box<str>,
    pub version: Option<Box<str>>,
    pub os_name: Box<str>,
    pub os_version: Option<Box<str>>,
    pub os_full: Option<Box<str>>,
    pub device_name: Box<str>,
}

/// A bounded cache of parsed user agents.
#[derive(Default)]
pub struct Agents {
    parsed: HashMap<Box<str>, Arc<Parsed>>,
}

impl Agents {
    /// The parsed form of `original`; `None` only when the regexes failed to
    /// load.
    pub fn parse(&mut self, original: &str) -> Option<Arc<Parsed>> {
        let key = prefix(original, MAX_PARSED_LEN);
        if let Some(parsed) = self.parsed.get(key) {
            return Some(Arc::clone(parsed));
        }
        let parsed = Arc::new(parse(EXTRACTOR.as_ref()?, key));
        if self.parsed.len() >= MAX_CACHED {
            self.parsed.clear();
        }
        self.parsed.insert(key.into(), Arc::clone(&parsed));
        Some(parsed)
    }
}

fn parse(extractor: &Extractor<'_>, original: &str) -> Parsed {
    let (agent, os, device) = extractor.extract(original);

    let (name, version) = match agent {
        Some(a) => (a.family.into(), dotted([a.major, a.minor, a.patch, a.patch_minor])),
        None => (OTHER.into(), None),
    };
    let (os_name, os_version): (Box<str>, _) = match os {
        Some(o) => {
            let parts = [&o.major, &o.minor, &o.patch, &o.patch_minor].map(|p| p.as_deref());
            (o.os.as_ref().into(), dotted(parts))
        }
        None => (OTHER.into(), None),
    };
    // Elastic writes `os.full` only when there is a version to add to the name.
    let os_full = os_version.as_ref().map(|v| format!("{os_name} {v}").into());
    let device_name = device.map_or_else(|| OTHER.into(), |d| d.device.into());

    Parsed { name, version, os_name, os_version, os_full, device_name }
}

/// `major.minor.patch[.patch_minor]`, stopping at the first missing part.
fn dotted(parts: [Option<&str>; 4]) -> Option<Box<str>> {
    let mut version = String::new();
    for part in parts.into_iter().map_while(|p| p.filter(|p| !p.is_empty())) {
        if !version.is_empty() {
            version.push('.');
        }
        version.push_str(part);
    }
    (!version.is_empty()).then(|| version.into())
}

/// The longest prefix of `text` within `max` bytes that ends on a character.
fn prefix(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
        (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

    fn parse_one(original: &str) -> Arc<Parsed> {
        Agents::default().parse(original).expect("regexes load")
    }

    #[test]
    fn curl_is_known_but_has_no_os_or_device() {
        let parsed = parse_one("curl/8.7.1");
        assert_eq!(&*parsed.name, "curl");
        assert_eq!(parsed.version.as_deref(), Some("8.7.1"));
        assert_eq!(&*parsed.os_name, "Other");
        assert_eq!(parsed.os_full, None);
        assert_eq!(&*parsed.device_name, "Other");
    }

    #[test]
    fn chrome_on_windows() {
        let parsed = parse_one(CHROME_WINDOWS);
        assert_eq!(&*parsed.name, "Chrome");
        assert!(parsed.version.as_deref().is_some_and(|v| v.starts_with("120.0.0")));
        assert_eq!(&*parsed.os_name, "Windows");
        assert_eq!(parsed.os_version.as_deref(), Some("10"));
        assert_eq!(parsed.os_full.as_deref(), Some("Windows 10"));
        assert_eq!(&*parsed.device_name, "Other");
    }

    #[test]
    fn unknown_agents_are_other() {
        let parsed = parse_one("\u{1}");
        assert_eq!((&*parsed.name, &*parsed.os_name), ("Other", "Other"));
    }

    #[test]
    fn the_cache_answers_repeats_and_stays_bounded() {
        let mut agents = Agents::default();
        let first = agents.parse("curl/8.7.1").unwrap();
        assert!(Arc::ptr_eq(&first, &agents.parse("curl/8.7.1").unwrap()));
        for n in 0..MAX_CACHED + 10 {
            agents.parse(&format!("curl/{n}")).unwrap();
        }
        assert!(agents.parsed.len() <= MAX_CACHED);
    }

    #[test]
    fn prefixes_end_on_characters() {
        assert_eq!(prefix("ééé", 3), "é");
        assert_eq!(prefix("abc", 10), "abc");
    }

    #[test]
    fn versions_stop_at_the_first_gap() {
        assert_eq!(dotted([Some("1"), Some("2"), None, Some("4")]).as_deref(), Some("1.2"));
        assert_eq!(dotted([None, Some("2"), None, None]), None);
    }
}
