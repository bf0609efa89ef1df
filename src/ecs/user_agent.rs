//! User agents parsed with uap-core's regexes, the way Sekoia's platform and
//! Elastic's `user_agent` processor fill `user_agent.*`.
//!
//! Building the extractor compiles about 1,200 regexes, so it is done once
//! per process, on first use or ahead of it by [`warm_up`], in parts on
//! several threads. Parsing one string still runs many of them, and an
//! incident repeats the same agent across its events, so each [`Agents`]
//! keeps the answers for the strings it has seen.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use ua_parser::{Regexes, device, os, user_agent};

/// uap-core 0.18.0; see `data/uap-core/README.md`.
const REGEXES: &str = include_str!("../../data/uap-core/regexes.yaml");

/// Enough for any real browser string; the cap bounds the regex work an
/// attacker-chosen header can cause.
const MAX_PARSED_LEN: usize = 2048;

/// Past this many distinct agents the cache starts over rather than grow.
const MAX_CACHED: usize = 4096;

/// What uap calls an agent, OS or device it does not recognise.
const OTHER: &str = "Other";

static EXTRACTOR: LazyLock<Option<Extractors>> = LazyLock::new(build_extractors);

/// Parsers compiled by one thread. Workers wait for the regexes at their
/// first user agent, so the build is time in which little else runs: the
/// sets are cut in parts of this many parsers, compiled side by side (about
/// 0.1 s of CPU in all; the device set alone is 60% of it).
const PART: usize = 128;

/// uap-core's three regex sets, each in parts. Asking the parts in order and
/// taking the first answer is asking the whole set: a set answers with its
/// first matching parser, and a matching parser always gives an answer.
struct Extractors {
    agents: Vec<user_agent::Extractor<'static>>,
    systems: Vec<os::Extractor<'static>>,
    devices: Vec<device::Extractor<'static>>,
}

fn build_extractors() -> Option<Extractors> {
    let built = serde_yaml::from_str::<Regexes<'static>>(REGEXES)
        .map_err(|e| e.to_string())
        .and_then(|regexes| {
            std::thread::scope(|scope| {
                let agents = spawn_parts(scope, regexes.user_agent_parsers, |part| {
                    let builder = user_agent::Builder::new().push_all(part);
                    builder.map_err(|e| e.to_string())?.build().map_err(|e| e.to_string())
                });
                let systems = spawn_parts(scope, regexes.os_parsers, |part| {
                    let builder = os::Builder::new().push_all(part);
                    builder.map_err(|e| e.to_string())?.build().map_err(|e| e.to_string())
                });
                let devices = spawn_parts(scope, regexes.device_parsers, |part| {
                    let builder = device::Builder::new().push_all(part);
                    builder.map_err(|e| e.to_string())?.build().map_err(|e| e.to_string())
                });
                Ok(Extractors {
                    agents: join_parts(agents)?,
                    systems: join_parts(systems)?,
                    devices: join_parts(devices)?,
                })
            })
        });
    match built {
        Ok(extractors) => Some(extractors),
        Err(error) => {
            // Only a broken embedded file, or a system out of threads, gets
            // here; agents then stay unparsed.
            tracing::error!(%error, "user agent regexes do not load");
            None
        }
    }
}

/// A part being compiled on a thread, or compiled already.
enum Part<'scope, E> {
    Thread(std::thread::ScopedJoinHandle<'scope, Result<E, String>>),
    Done(Result<E, String>),
}

/// Starts compiling `parsers` in parts of [`PART`], a thread each.
fn spawn_parts<'scope, P: Send + 'scope, E: Send + 'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    parsers: Vec<P>,
    build: fn(Vec<P>) -> Result<E, String>,
) -> Vec<Part<'scope, E>> {
    let mut parsers = parsers.into_iter().peekable();
    let mut parts = Vec::new();
    while parsers.peek().is_some() {
        let part: Vec<P> = parsers.by_ref().take(PART).collect();
        let thread = std::thread::Builder::new().name("ua-regexes".into());
        parts.push(match thread.spawn_scoped(scope, move || build(part)) {
            Ok(thread) => Part::Thread(thread),
            Err(err) => Part::Done(Err(format!("cannot start a thread: {err}"))),
        });
    }
    parts
}

/// The compiled parts, in the parsers' order.
fn join_parts<E>(parts: Vec<Part<'_, E>>) -> Result<Vec<E>, String> {
    let panicked = |_| Err("a thread compiling user agent regexes panicked".to_owned());
    let joined = |part| match part {
        Part::Thread(thread) => thread.join().unwrap_or_else(panicked),
        Part::Done(done) => done,
    };
    parts.into_iter().map(joined).collect()
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

type Found<'a> =
    (Option<user_agent::ValueRef<'a>>, Option<os::ValueRef<'a>>, Option<device::ValueRef<'a>>);

/// What the first matching parser of each set makes of `original`.
fn extract<'a>(extractors: &'a Extractors, original: &'a str) -> Found<'a> {
    (
        extractors.agents.iter().find_map(|part| part.extract(original)),
        extractors.systems.iter().find_map(|part| part.extract(original)),
        extractors.devices.iter().find_map(|part| part.extract(original)),
    )
}

fn parse(extractors: &Extractors, original: &str) -> Parsed {
    let (agent, os, device) = extract(extractors, original);

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

    /// The parts, asked in order, answer as one extractor of the whole sets.
    #[test]
    fn parts_answer_as_the_whole_sets() {
        let regexes: Regexes<'static> = serde_yaml::from_str(REGEXES).unwrap();
        let whole = ua_parser::Extractor::try_from(regexes).unwrap();
        let parts = EXTRACTOR.as_ref().unwrap();
        assert!(parts.devices.len() > 1 && parts.agents.len() > 1, "the sets are cut in parts");
        let agents = [
            CHROME_WINDOWS,
            "curl/8.7.1",
            "python-requests/2.31.0",
            "Go-http-client/1.1",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
             (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/126.0.0.0 Mobile Safari/537.36",
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/125.0.0.0 Mobile Safari/537.36",
            "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) \
             CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko)",
            "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) \
             SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36",
            "Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko",
            "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
            "Dalvik/2.1.0 (Linux; U; Android 9; Redmi Note 7 MIUI/V11.0.5.0.PFGMIXM)",
            "Mozilla/5.0 (Nintendo Switch; WifiWebBrowser) AppleWebKit/606.4 (KHTML, like Gecko) \
             NF/6.0.1.15.4 NintendoBrowser/5.1.0.20393",
            "Wget/1.21.4",
            "sqlmap/1.7.2#stable (https://sqlmap.org)",
            "Nmap Scripting Engine; https://nmap.org/book/nse.html",
            "masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
            "zgrab/0.x",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) \
             Version/17.5 Safari/605.1.15",
            "Mozilla/5.0 (Linux; Android 13; Pixel 7 Pro) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/120.0.0.0 Mobile Safari/537.36 EdgA/120.0.2210.115",
            "BlackBerry9700/5.0.0.351 Profile/MIDP-2.1 Configuration/CLDC-1.1 VendorID/123",
            "",
            "\u{1}",
        ];
        for agent in agents {
            assert_eq!(extract(parts, agent), whole.extract(agent), "{agent}");
        }
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
