//! Flat Canary records mapped to ECS, one JSON line each.
//!
//! The output holds every field Sekoia's `thinkst-canary` intake (parser plus
//! platform enrichment) produces for the same record, so either can feed the
//! same rules, and adds what Sekoia drops: geo details, device identity, the
//! token memo, parsed URLs and LDAP users. Credentials (`PASSWORD`,
//! `CLIENT_HASH`, `SALT`, `KEY`, `COMMUNITY_STRING`, URL passwords) are never
//! copied.
//!
//! This is the per-record hot path: the document borrows its text from the
//! record, is serialized straight into the caller's buffer, and the costly
//! user-agent parsing is cached in the [`Mapper`].

mod audit;
mod dn;
mod doc;
mod domain;
mod fields;
mod fit;
mod json;
mod key;
pub use fit::Fit;
pub mod logtype;
mod time;
mod user_agent;
mod value;
mod web;

/// Appends a JSON string escaped exactly as serde_json escapes it.
pub(crate) use json::string as json_string;

/// A URL (or a path with a query) with its secrets redacted, when it has any.
pub fn redact_url(text: &str) -> Option<String> {
    web::redact(text)
}

use std::borrow::Cow;
use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use simd_json::BorrowedValue as Value;
use simd_json::borrowed::Object;
use simd_json::prelude::*;

use crate::flatten::{Kind, Origin, Record};
use doc::{
    Action, ActionProperties, AgentDevice, AgentOs, Canary, Client, Document, Endpoint, Event,
    File, Flock, Geo, Http, HttpRequest, HttpResponse, Location, Nat, Network, Observer, Process,
    Related, Rule, Smb, Tls, Url, User, UserAgent,
};
use domain::Host;
use fields::Fields;
use logtype::{Info, Level};
use user_agent::{Agents, Parsed};
use value::{Few, Text, count, first, float, port, string, text};
use web::Link;

/// Sekoia's vendor and product name, both.
const VENDOR: &str = "Thinkst Canary";

/// Maps records to ECS lines, keeping caches from one record to the next.
#[derive(Default)]
pub struct Mapper {
    agents: Agents,
    options: Options,
    /// Logtypes already reported as unknown, so each is reported once;
    /// shared by the mappers of parallel workers.
    unknown: Arc<Mutex<HashSet<(Origin, String)>>>,
}

/// What [`Mapper::map`] wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapped {
    /// The event has an `@timestamp`.
    pub has_time: bool,
    /// Whether the line had to be made smaller to fit `--max-line-bytes`.
    pub fit: Fit,
}

/// How records are mapped; the same options for canary-transform and for
/// canary-source's mapped output.
#[derive(Clone, Copy, Debug, clap::Args)]
pub struct Options {
    /// Field choices: `sekoia` keeps every field Sekoia's intake gives (a
    /// superset of it); `ecs` uses ECS semantics where Sekoia's differ.
    #[arg(long, value_enum, default_value_t = Profile::Sekoia)]
    pub profile: Profile,

    /// Add event.original: the record as read, with passwords, password
    /// hashes, SNMP communities and keys redacted.
    #[arg(long)]
    pub keep_original: bool,

    /// Keep those credentials under thinkst_canary.credentials (they never
    /// go to other ECS fields).
    #[arg(long)]
    pub keep_credentials: bool,

    /// Longest ECS line written, newline included (at least 4096). A longer
    /// event loses event.original, then has its longest strings cut, and
    /// says so in thinkst_canary.truncated; collectors cut or drop lines
    /// over their buffer, so size it to theirs.
    #[arg(long, default_value_t = DEFAULT_LINE, value_name = "BYTES",
        // A wrapper script's default can be overridden by a later one.
        overrides_with = "max_line_bytes",
        value_parser = clap::builder::TypedValueParser::map(
            clap::value_parser!(u64).range(MIN_LINE as u64..), |n| n as usize))]
    pub max_line_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            profile: Profile::default(),
            keep_original: false,
            keep_credentials: false,
            max_line_bytes: DEFAULT_LINE,
        }
    }
}

/// `--max-line-bytes` unless given: 1 MiB, far above any real event (a few
/// KB) and within every collector's configurable buffer.
pub const DEFAULT_LINE: usize = 1 << 20;

/// The smallest `--max-line-bytes`: room for an event's identity.
pub const MIN_LINE: usize = 4096;

/// Which conventions the output follows where Sekoia's and ECS's differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// Sekoia's field values (event.type denied, vendor "Thinkst Canary"),
    /// so rules written for its intake keep working.
    #[default]
    Sekoia,
    /// ECS semantics: event.type info, vendor Thinkst, product Canary or
    /// Canarytokens, attacker-supplied values out of host and process fields.
    Ecs,
}

impl Mapper {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_options(options: Options) -> Self {
        Mapper { options, ..Self::default() }
    }

    /// Starts building the user-agent parser now, on a thread of its own,
    /// for a caller about to map records; one that may never map any (a
    /// source writing raw records) does not pay its memory.
    pub fn warm_up(self) -> Self {
        user_agent::warm_up();
        self
    }

    pub fn options(&self) -> Options {
        self.options
    }

    /// A mapper for another thread: the same options and the same record of
    /// unknown logtypes, caches of its own.
    pub fn fork(&self) -> Self {
        Mapper {
            options: self.options,
            unknown: Arc::clone(&self.unknown),
            agents: Agents::default(),
        }
    }

    /// Appends one ECS JSON object and a '\n' to `out`, within
    /// `--max-line-bytes`. Never panics on any input.
    pub fn map(&mut self, record: &Record<'_, '_>, out: &mut Vec<u8>) -> Mapped {
        self.map_with_id(record, crate::flatten::record_id(record), out)
    }

    /// [`Mapper::map`] with the record's id (`event.id`) already computed.
    pub fn map_with_id(
        &mut self,
        record: &Record<'_, '_>,
        id: String,
        out: &mut Vec<u8>,
    ) -> Mapped {
        let start = out.len();
        let has_time = self.write_event(record, id, out);
        let fit = fit::fit(out, start, self.options.max_line_bytes.max(MIN_LINE));
        Mapped { has_time, fit }
    }

    /// Writes the event's line, whatever its length; says whether it has
    /// an `@timestamp`.
    fn write_event(&mut self, record: &Record<'_, '_>, id: String, out: &mut Vec<u8>) -> bool {
        if record.kind() == Kind::Audit {
            return audit::map(record, id, self.options, &mut self.agents, out);
        }
        let record = &Fields::new(*record);
        let agent = user_agent_original(record).map(|raw| (raw, self.agents.parse(raw)));
        // Without a URL, a web Canary's request gives one: its Host header
        // (or HOSTNAME), PATH, and https when it came over TLS.
        let built = request_url(record);
        let raw = first(record, &["URL", "url"], string).or(built.as_deref());
        let link = raw.map(|raw| (raw, Link::parse(raw)));

        let agent = agent.as_ref().map(|(raw, parsed)| (*raw, parsed.as_deref()));
        let link = link.as_ref().map(|(raw, parsed)| (*raw, parsed.as_ref()));
        let context = Context {
            profile: self.options.profile,
            origin: record.origin(),
            meaning: self.meaning(record),
        };
        let mut document = document(record, &context, id, agent, link);
        if self.options.keep_original {
            document.event.original = Some(record.redacted_json());
        }
        if self.options.keep_credentials {
            let kept = &mut document.thinkst_canary.credentials;
            record.for_each_credential(|path, value| {
                let text = value.as_str().map_or_else(|| value.encode(), str::to_owned);
                // Lower case, so `PASSWORD` from one logtype and `password`
                // from another are one field to search; a record holding
                // both keeps the second under its own spelling, and any
                // further one under a numbered name: none is dropped.
                let mut key = path.to_ascii_lowercase();
                if kept.contains_key(&key) {
                    key = path.to_owned();
                }
                let mut n = 2;
                while kept.contains_key(&key) {
                    key = format!("{path}#{n}");
                    n += 1;
                }
                kept.insert(key, text);
            });
        }
        write(&document, out);
        document.timestamp.is_some()
    }

    /// What the record's logtype means; an unknown one is reported once per
    /// product and code, and the record is mapped without it.
    fn meaning(&mut self, record: &Fields<'_, '_>) -> Option<&'static Info> {
        let given = record.get("logtype")?;
        let origin = record.origin();
        let code = count(given);
        let found = code.and_then(|code| logtype::lookup(origin, code));
        if origin == Origin::OpenCanary && code == Some(20001) {
            let action = record.get("action").and_then(string);
            return action.and_then(logtype::mongodb_action).or(found);
        }
        if found.is_none() {
            let shown = given.as_str().map_or_else(|| given.encode(), str::to_owned);
            let shown: String = shown.chars().take(40).collect();
            let mut unknown = self.unknown.lock().unwrap_or_else(|e| e.into_inner());
            if unknown.insert((origin, shown.clone())) {
                tracing::warn!(
                    // Quoted and escaped: the value is the sender's text.
                    logtype = ?shown,
                    product = ?origin,
                    "Unknown logtype: generic fields mapped, no category or severity (reported once)."
                );
            }
        }
        found
    }
}

/// What every part of the mapping may need to know about the record.
struct Context {
    profile: Profile,
    origin: Origin,
    meaning: Option<&'static Info>,
}

impl Context {
    fn ecs(&self) -> bool {
        self.profile == Profile::Ecs
    }

    /// A login to MSSQL, whose HOSTNAME and APPNAME the client chose.
    fn mssql(&self) -> bool {
        self.meaning.is_some_and(|m| m.protocol == Some("mssql"))
    }
}

fn write(document: &impl json::Json, out: &mut Vec<u8>) {
    document.write(out);
    out.push(b'\n');
}

/// A raw user agent or URL, with what parsing made of it.
type Given<'a, T> = Option<(&'a str, Option<&'a T>)>;

fn document<'a>(
    record: &Fields<'a, '_>,
    context: &Context,
    id: String,
    agent: Given<'a, Parsed>,
    link: Given<'a, Link>,
) -> Document<'a> {
    let shared = Shared::read(record);
    let token = context.origin == Origin::Console
        && (record.get("canarytoken").is_some()
            || record.get("logtype").and_then(count).is_some_and(|c| (16000..18000).contains(&c)));
    let mut document = Document {
        // Some events (a consolidated port scan) carry no time of their own;
        // the incident's creation is the closest there is. OpenCanary gives
        // its time as text of its own format, which the record parses.
        timestamp: record
            .event_time()
            .map(time::Rfc3339::from)
            .or_else(|| record.get("timestamp").and_then(time::epoch))
            .or_else(|| record.get("created").and_then(time::epoch)),
        message: daemon_message(record, context),
        event: event(record, context, id, &shared),
        observer: observer(record, context, token),
        source: source(record),
        destination: destination(record, context),
        network: Network {
            protocol: context.meaning.and_then(|m| m.protocol),
            transport: record.get("PROTO").and_then(string).and_then(transport),
        },
        user: user(record),
        user_agent: agent.map(user_agent).unwrap_or_default(),
        url: url(record, link),
        http: http(record),
        tls: Tls { established: tls(record) },
        process: Process { name: get_text(record, "APPNAME").filter(|_| !context.ecs()) },
        file: file(record, context),
        action: action(record),
        rule: rule(&shared, context, token),
        related: Related::default(),
        tags: Vec::new(),
        thinkst_canary: canary(record, context, &shared),
    };
    document.tags = tags(&document.thinkst_canary);
    document.related = related(&document);
    let level = level(record, context, &document);
    document.event.severity = level.map(Level::score);
    document.event.risk_score = level.map(Level::score);
    document.thinkst_canary.severity = level.map(Level::name);
    document
}

/// What an OpenCanary daemon message (logtype 1001) says, in
/// `logdata.msg.logdata`: which services started, or why one did not.
fn daemon_message<'a>(record: &Fields<'a, '_>, context: &Context) -> Option<&'a str> {
    if context.origin != Origin::OpenCanary || record.get("logtype").and_then(count) != Some(1001) {
        return None;
    }
    record.get("msg")?.get("logdata").and_then(string)
}

/// `event.severity`: the logtype's level (high for a logtype not in the
/// tables), raised to critical when planted credentials were used, and
/// lowered one step for a known scanner or for an internet-facing Canary
/// probed from the internet, where background noise is expected.
fn level(record: &Fields<'_, '_>, context: &Context, document: &Document<'_>) -> Option<Level> {
    // Without a logtype (Sekoia's incident records) there is nothing to grade.
    record.get("logtype").and_then(text)?;
    let mut level = context.meaning.map_or(Level::High, |m| m.level);
    if context.meaning.is_some_and(|m| m.login)
        && document.thinkst_canary.watched_credentials == Some(true)
    {
        level = Level::Critical;
    }
    let scanner = document
        .thinkst_canary
        .matched_annotations
        .iter()
        .any(|a| crate::flatten::contains_ignore_case(a, "scan"));
    let exposed =
        document.destination.nat.ip.is_some() && document.source.ip.is_some_and(is_public);
    if scanner || exposed {
        level = level.lower();
    }
    Some(level)
}

/// Whether an address is routed on the internet (not private, loopback,
/// link-local, shared or unspecified).
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let shared = v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64;
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || shared)
        }
        IpAddr::V6(v6) => {
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_unique_local()
                || v6.is_unicast_link_local())
        }
    }
}

/// NMAP scan packets name their protocol in capitals.
fn transport(proto: &str) -> Option<&'static str> {
    ["tcp", "udp", "icmp", "icmpv6"].into_iter().find(|t| proto.eq_ignore_ascii_case(t))
}

fn get_text<'a>(record: &Fields<'a, '_>, key: &str) -> Option<Text<'a>> {
    record.get(key).and_then(text)
}

/// Values that feed more than one group, looked up once: a lookup scans the
/// record's keys, and there are some sixty per record.
struct Shared<'a> {
    logtype: Option<Text<'a>>,
    summary: Option<Text<'a>>,
    description: Option<Text<'a>>,
    memo: Option<Text<'a>>,
}

impl<'a> Shared<'a> {
    fn read(record: &Fields<'a, '_>) -> Self {
        Shared {
            logtype: get_text(record, "logtype"),
            summary: get_text(record, "summary"),
            description: get_text(record, "description"),
            memo: get_text(record, "memo"),
        }
    }
}

fn event<'a>(
    record: &Fields<'a, '_>,
    context: &Context,
    id: String,
    shared: &Shared<'a>,
) -> Event<'a> {
    let meaning = context.meaning;
    let mut category = Few::default();
    category.push("intrusion_detection");
    let mut types = Few::default();
    // Sekoia calls every event "denied"; nothing was denied, the decoy
    // answered, so the ECS profile says "info".
    types.push(if context.ecs() { "info" } else { "denied" });
    if let Some(meaning) = meaning {
        meaning.categories.iter().for_each(|c| category.push(c));
        meaning.types.iter().for_each(|t| types.push(t));
        let written = record
            .get("OPCODE")
            .and_then(string)
            .is_some_and(|op| op.eq_ignore_ascii_case("write"));
        if meaning.categories.contains(&"file") && written {
            types.push("change");
        }
    }
    let slug = meaning.map(|m| Text::from(m.action));
    Event {
        original: None,
        // The source's id when the record carries one, else the same value
        // computed (`flatten::record_id`), so a SIEM can drop events it
        // already holds.
        id,
        // Sekoia marks only incident records as alerts; every Canary record
        // is one, but for notices about the Canaries themselves.
        kind: if meaning.is_some_and(|m| m.notice) { "event" } else { "alert" },
        category,
        types,
        // A decoy accepts no login, whatever was typed.
        outcome: meaning.filter(|m| m.login).map(|_| "failure"),
        severity: None,
        risk_score: None,
        module: "thinkst_canary",
        code: shared.logtype.clone(),
        dataset: if context.ecs() {
            Some(Text::from(match context.origin {
                Origin::Console => "thinkst_canary.events",
                Origin::OpenCanary => "thinkst_canary.opencanary",
            }))
        } else {
            get_text(record, "type")
        },
        // Sekoia's event.action is the command or SMB action when there is
        // one; the logtype's name is stable across records, so rules can
        // match on it.
        action: if context.ecs() { slug } else { operation(record).or(slug) },
        reason: shared.summary.clone().or_else(|| shared.description.clone()),
        start: record.get("created").and_then(time::epoch),
    }
}

fn operation<'a>(record: &Fields<'a, '_>) -> Option<Text<'a>> {
    first(record, &["cmd", "AUDITACTION", "CMD", "OPCODE", "NTP_CMD"], text)
}

fn observer<'a>(record: &Fields<'a, '_>, context: &Context, token: bool) -> Observer<'a> {
    // Tokens have no device; their `name` is "N/A".
    let name = get_text(record, "name").filter(|n| *n != Text::from("N/A"));
    let name_given = name.is_some();
    let (vendor, product) = match (context.origin, context.profile, token) {
        (Origin::OpenCanary, ..) => ("Thinkst", "OpenCanary"),
        (Origin::Console, Profile::Sekoia, _) => (VENDOR, VENDOR),
        (Origin::Console, Profile::Ecs, false) => ("Thinkst", "Canary"),
        (Origin::Console, Profile::Ecs, true) => ("Thinkst", "Canarytokens"),
    };
    Observer {
        vendor,
        product,
        kind: "honeypot",
        name,
        serial_number: get_text(record, "node_id"),
        ip: record.get("ip_address").and_then(value::ip).or_else(|| {
            // A Canary's own address is where it was attacked; a token's
            // `dst_host` is the token service, not a device.
            name_given.then(|| record.get("dst_host").and_then(value::ip)).flatten()
        }),
        mac: record.get("mac_address").and_then(string).and_then(ecs_mac),
    }
}

/// A MAC address in ECS form (`00-11-22-AA-BB-CC`), from colons, dashes or
/// dots in any case.
fn ecs_mac(text: &str) -> Option<String> {
    let hex: String = text.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let separators_only = text.chars().all(|c| c.is_ascii_hexdigit() || ":-.".contains(c));
    if hex.len() != 12 || !separators_only {
        return None;
    }
    let upper = hex.to_ascii_uppercase();
    Some(
        upper
            .as_bytes()
            .chunks(2)
            .map(|p| std::str::from_utf8(p).unwrap_or(""))
            .collect::<Vec<_>>()
            .join("-"),
    )
}

/// The attacker: `src_host`, else the token's geoip address, else the
/// address inside the incident key (incident records have nothing else).
fn source<'a>(record: &Fields<'a, '_>) -> Endpoint<'a> {
    let geoip = record.get("geoip").and_then(|g| g.as_object());
    let given = record.get("src_host").and_then(string).and_then(domain::host);
    let ip = ip_of(given)
        .or_else(|| geoip.and_then(|g| g.get("ip")).and_then(value::ip))
        .or_else(|| record.incident_id().and_then(key::source_ip));
    let reverse = record.get("src_host_reverse").and_then(string).and_then(domain::host);
    let name = name_of(reverse).or(name_of(given));

    let mut endpoint = endpoint(ip, name, record.get("src_port").and_then(port));
    endpoint.geo = geoip.map(geo).unwrap_or_default();
    endpoint
}

/// The Canary, and the name the client asked for when it sent one.
fn destination<'a>(record: &Fields<'a, '_>, context: &Context) -> Endpoint<'a> {
    // MSSQL's HOSTNAME names the client, not the Canary: Sekoia puts it here,
    // the ECS profile only under thinkst_canary.client.
    let keys: &[&str] = if context.ecs() && context.mssql() {
        &["HOST", "hostname"]
    } else {
        &["HOST", "hostname", "HOSTNAME"]
    };
    let asked = first(record, keys, |v| string(v).and_then(domain::host));
    let given = record.get("dst_host").and_then(string).and_then(domain::host);
    let ip = ip_of(given).or(ip_of(asked));
    let name = name_of(asked).or(name_of(given));

    let mut endpoint = endpoint(ip, name, record.get("dst_port").and_then(port));
    endpoint.nat = Nat { ip: record.get("dst_host_public_ip").and_then(value::ip) };
    endpoint
}

fn ip_of(host: Option<Host<'_>>) -> Option<IpAddr> {
    match host? {
        Host::Ip(ip) => Some(ip),
        Host::Name(_) => None,
    }
}

fn name_of(host: Option<Host<'_>>) -> Option<&str> {
    match host? {
        Host::Name(name) => Some(name),
        Host::Ip(_) => None,
    }
}

/// An endpoint whose `address` is its name when it has one, else its IP.
fn endpoint<'a>(ip: Option<IpAddr>, name: Option<&'a str>, port: Option<u16>) -> Endpoint<'a> {
    let parts = name.and_then(domain::parts);
    Endpoint {
        address: name.map(Text::from).or(ip.map(Text::Ip)),
        ip,
        port,
        domain: name,
        registered_domain: parts.map(|p| p.registered_domain),
        subdomain: parts.and_then(|p| p.subdomain),
        top_level_domain: parts.map(|p| p.top_level_domain),
        ..Endpoint::default()
    }
}

fn geo<'a>(geoip: &'a Object<'_>) -> Geo<'a> {
    let field = |key: &str| geoip.get(key).and_then(text);
    // The timezone is an object on tokens; accept a plain name as well.
    let timezone = geoip.get("timezone").and_then(|tz| tz.get("id").and_then(text).or(text(tz)));
    Geo {
        city_name: field("city"),
        continent_code: field("continent_code"),
        country_iso_code: field("country_code"),
        country_name: field("country"),
        region_name: field("region"),
        timezone,
        location: location(geoip),
    }
}

fn location(geoip: &Object<'_>) -> Option<Location> {
    let lat = geoip.get("latitude").and_then(float).filter(|l| l.abs() <= 90.0)?;
    let lon = geoip.get("longitude").and_then(float).filter(|l| l.abs() <= 180.0)?;
    Some(Location { lat, lon })
}

fn user<'a>(record: &Fields<'a, '_>) -> User<'a> {
    let bind = record.get("DN").and_then(string).map(dn::parse).unwrap_or_default();
    User {
        // A Windows folder token names who opened the folder, and where.
        name: first(
            record,
            &["USERNAME", "user", "USER", "windows_desktopini_access_username"],
            text,
        )
        .or(bind.user.map(Text::Str)),
        domain: bind.domain.map(Text::Str).or_else(|| {
            first(record, &["DOMAIN", "DOMAINNAME", "windows_desktopini_access_domain"], text)
        }),
    }
}

/// `USERAGENT`, else a `User-Agent` header in any letter case.
/// A header of `headers` or `HEADERS`, whatever the case of its name.
fn header<'a>(record: &Fields<'a, '_>, name: &str) -> Option<&'a str> {
    first(record, &["headers", "HEADERS"], |headers: &'a Value<'_>| {
        let (_, value) = headers.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))?;
        // SIP headers come as lists of values; the first one counts.
        string(value).or_else(|| value.as_array()?.iter().find_map(string))
    })
}

/// The URL a web Canary was asked for, when the record names a host and a
/// path; the token's request arguments become the query.
fn request_url(record: &Fields<'_, '_>) -> Option<String> {
    let path = record.get("PATH").and_then(string)?;
    let host = header(record, "host").or_else(|| record.get("HOSTNAME").and_then(string))?;
    if !path.starts_with('/') || host.contains(['/', '@', ' ']) {
        return None;
    }
    let tls = record.get("CHANNEL").and_then(string) == Some("TLS");
    let mut url = format!("{}://{host}{path}", if tls { "https" } else { "http" });
    let arguments =
        record.get("request_args").and_then(|a| a.as_object()).filter(|a| !a.is_empty());
    if let (Some(arguments), false) = (arguments, path.contains('?')) {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in arguments.iter() {
            // A login form's password, sent as an argument, is a credential too.
            let value = if crate::flatten::is_credential(key) {
                crate::flatten::REDACTED.to_owned()
            } else {
                value.as_str().map_or_else(|| value.encode(), str::to_owned)
            };
            query.append_pair(key, &value);
        }
        url.push('?');
        url.push_str(&query.finish());
    }
    Some(url)
}

fn user_agent_original<'a>(record: &Fields<'a, '_>) -> Option<&'a str> {
    record.get("USERAGENT").and_then(string).or_else(|| header(record, "user-agent"))
}

fn user_agent<'a>((original, parsed): (&'a str, Option<&'a Parsed>)) -> UserAgent<'a> {
    let Some(parsed) = parsed else {
        return UserAgent { original: Some(original), ..UserAgent::default() };
    };
    UserAgent {
        original: Some(original),
        name: Some(&parsed.name),
        version: parsed.version.as_deref(),
        os: AgentOs {
            name: Some(&parsed.os_name),
            version: parsed.os_version.as_deref(),
            full: parsed.os_full.as_deref(),
        },
        device: AgentDevice { name: Some(&parsed.device_name) },
    }
}

fn url<'a>(record: &Fields<'a, '_>, link: Given<'a, Link>) -> Url<'a> {
    // PATH is the request target: its query (which may hold a password)
    // belongs in url.query, redacted, not in url.path.
    let path = record
        .get("PATH")
        .and_then(string)
        .map(|p| p.split(['?', '#']).next().unwrap_or(p))
        .filter(|p| !p.is_empty());
    let Some((raw, parsed)) = link else {
        return Url { path, ..Url::default() };
    };
    let Some(link) = parsed else {
        let original = Some(raw).filter(|raw| !web::may_hold_credentials(raw));
        return Url { original, path, ..Url::default() };
    };
    let parts = link.domain().filter(|_| link.has_domain_name()).and_then(domain::parts);
    Url {
        original: Some(link.original(raw)),
        full: link.full(),
        scheme: link.scheme(),
        username: link.username(),
        domain: link.domain(),
        registered_domain: parts.map(|p| p.registered_domain),
        subdomain: parts.and_then(|p| p.subdomain),
        top_level_domain: parts.map(|p| p.top_level_domain),
        port: link.port(),
        path: path.or(link.path()),
        query: link.query(),
        fragment: link.fragment(),
    }
}

fn http<'a>(record: &Fields<'a, '_>) -> Http<'a> {
    Http {
        request: HttpRequest {
            method: get_text(record, "METHOD"),
            referrer: header(record, "referer")
                .or_else(|| header(record, "referrer"))
                .map(|r| redact_url(r).map_or(Cow::Borrowed(r), Cow::Owned)),
        },
        response: HttpResponse {
            // Only what can be an HTTP status.
            status_code: record.get("RESPONSE").and_then(count).filter(|c| (100..=599).contains(c)),
        },
    }
}

fn tls(record: &Fields<'_, '_>) -> Option<bool> {
    let channel = record.get("CHANNEL").and_then(string)?;
    channel.eq_ignore_ascii_case("TLS").then_some(true)
}

fn file<'a>(record: &Fields<'a, '_>, context: &Context) -> File<'a> {
    // SMB's SIZE is the bytes read, not the file's size: Sekoia's profile
    // keeps it as file.size, both keep it under thinkst_canary.smb.
    let size = if context.ecs() { None } else { record.get("SIZE").and_then(count) };
    File { name: get_text(record, "FILENAME"), size }
}

fn action<'a>(record: &Fields<'a, '_>) -> Action<'a> {
    Action {
        properties: ActionProperties {
            share_name: get_text(record, "SHARENAME"),
            domain: get_text(record, "DOMAIN"),
            user_name: get_text(record, "USER"),
        },
    }
}

fn rule<'a>(shared: &Shared<'a>, context: &Context, token: bool) -> Rule<'a> {
    let catalogued = context.meaning.map(|m| Text::from(m.name));
    Rule {
        id: shared.logtype.clone(),
        ruleset: shared.logtype.as_ref().map(|_| match (context.origin, token) {
            (Origin::OpenCanary, _) => "opencanary",
            (Origin::Console, true) => "canarytoken",
            (Origin::Console, false) => "canary",
        }),
        name: shared.description.clone().or_else(|| shared.summary.clone()).or(catalogued),
        description: shared.memo.clone(),
    }
}

fn canary<'a>(record: &Fields<'a, '_>, context: &Context, shared: &Shared<'a>) -> Canary<'a> {
    let client =
        if context.mssql() { first(record, &["HOSTNAME", "WORKSTATION"], string) } else { None };
    Canary {
        token_type: get_text(record, "type"),
        operation: operation(record),
        severity: None,
        watched_credentials: first(record, &["WATCHED_CREDENTIALS", "honeycred"], flag),
        client: Client {
            hostname: client.or_else(|| {
                first(
                    record,
                    &["WORKSTATION", "REMOTENAME", "windows_desktopini_access_computer_name"],
                    string,
                )
            }),
            application: get_text(record, "APPNAME"),
        },
        smb: Smb {
            read_size: record.get("SIZE").and_then(count),
            read_offset: record.get("OFFSET").and_then(count),
        },
        node_id: get_text(record, "node_id"),
        headers: record
            .get("headers")
            .or_else(|| record.get("HEADERS"))
            .filter(|h| h.is_object())
            .map(doc::Headers),
        acknowledged: record.get("acknowledged").and_then(boolean),
        notified: record.get("notified").and_then(boolean),
        events_count: record.get("events_count").and_then(count),
        matched_annotations: record
            .get("matched_annotations")
            .and_then(|a| a.as_object())
            .map(|a| a.keys().map(|k| k.as_ref()).collect())
            .unwrap_or_default(),
        ip_blocklist: record.get("ip_blocklist").map(blocklist).unwrap_or_default(),
        scan: scan(record),
        credentials: Default::default(),
        incident_id: record.incident_id().filter(|id| !id.is_empty()),
        canary_token: get_text(record, "canarytoken"),
        memo: shared.memo.clone(),
        smbarch: get_text(record, "SMBARCH"),
        smbver: get_text(record, "SMBVER"),
        db: get_text(record, "db"),
        repo: get_text(record, "REPO"),
        ports: get_text(record, "ports"),
        flock: Flock { id: get_text(record, "flock_id"), name: get_text(record, "flock_name") },
    }
}

/// Every address, host name and user the document names, once each.
/// A flag that may come as a boolean, "True"/"False", a number, or a list
/// of what was matched (true when not empty).
fn flag(value: &Value<'_>) -> Option<bool> {
    if let Some(b) = boolean(value) {
        return Some(b);
    }
    if let Some(items) = value.as_array() {
        return Some(!items.is_empty());
    }
    if let Some(n) = count(value) {
        return Some(n != 0);
    }
    value.as_str().map(|s| !s.is_empty())
}

/// The console's booleans: "True"/"False" strings, or real booleans.
fn boolean(value: &Value<'_>) -> Option<bool> {
    match value.as_str() {
        Some(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Some(s) if s.eq_ignore_ascii_case("false") => Some(false),
        Some(_) => None,
        None => value.as_bool(),
    }
}

fn blocklist(value: &Value<'_>) -> doc::Blocklist {
    let flag = |name| value.get(name).and_then(boolean);
    doc::Blocklist { is_proxy: flag("is_proxy"), is_tor: flag("is_tor"), is_vpn: flag("is_vpn") }
}

/// `ports` ("23,80,443") as integers; a consolidated scan's event, whose
/// keys are ports and values the Canaries scanned, as ports and targets.
fn scan(record: &Fields<'_, '_>) -> doc::Scan {
    let mut scan = doc::Scan::default();
    if let Some(ports) = record.get("ports").and_then(string) {
        scan.ports = ports.split(',').filter_map(|p| p.trim().parse().ok()).collect();
    }
    let consolidated = record.get("logtype").and_then(count) == Some(5007);
    if consolidated {
        record.for_each_field(|key, value| {
            let (Ok(port), Some(targets)) = (key.parse::<u16>(), value.as_array()) else {
                return;
            };
            scan.ports.push(port);
            for target in targets.iter().filter_map(value::ip) {
                if !scan.targets.contains(&target) {
                    scan.targets.push(target);
                }
            }
        });
        scan.ports.sort_unstable();
    }
    scan
}

fn tags<'a>(canary: &Canary<'a>) -> Vec<&'a str> {
    let mut tags = canary.matched_annotations.clone();
    let flags = &canary.ip_blocklist;
    for (flag, tag) in [(flags.is_tor, "tor"), (flags.is_vpn, "vpn"), (flags.is_proxy, "proxy")] {
        if flag == Some(true) {
            tags.push(tag);
        }
    }
    tags
}

fn related<'a>(document: &Document<'a>) -> Related<'a> {
    let mut related = Related::default();
    let ips = [document.source.ip, document.destination.ip, document.destination.nat.ip];
    let targets = document.thinkst_canary.scan.targets.iter().copied();
    for ip in ips.into_iter().flatten().chain(targets) {
        related.ip.push(ip);
    }
    let client = document.thinkst_canary.client.hostname;
    for name in [document.source.domain, document.destination.domain, client].into_iter().flatten()
    {
        related.hosts.push(name);
    }
    match document.url.domain.and_then(domain::host) {
        Some(Host::Name(name)) => related.hosts.push(name),
        Some(Host::Ip(ip)) => related.ip.push(ip),
        None => {}
    }
    let users = [&document.user.name, &document.action.properties.user_name];
    for user in users.into_iter().flatten() {
        related.user.push(user.clone());
    }
    related
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Maps one flat record given as JSON text.
    fn map(json: &str) -> serde_json::Value {
        let mut bytes = json.as_bytes().to_vec();
        let value = simd_json::to_borrowed_value(&mut bytes).unwrap();
        let record = Record::from_flat(value.as_object().unwrap()).unwrap();
        let mut out = Vec::new();
        Mapper::new().map(&record, &mut out);
        assert_eq!(out.last(), Some(&b'\n'));
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn empty_strings_are_absent() {
        let doc = map(r#"{"incident_id":"i","event_type":"event","src_host":"","HOST":"",
            "hostname":"h.example.com","USERNAME":"","user":"mongo","dst_host_public_ip":"",
            "name":"","logtype":""}"#);
        assert_eq!(doc["destination"]["domain"], "h.example.com");
        assert_eq!(doc["user"]["name"], "mongo");
        assert!(doc.get("source").is_none());
        assert!(doc["observer"].get("name").is_none());
        assert!(doc["event"].get("code").is_none());
    }

    #[test]
    fn wrong_types_are_dropped_not_fatal() {
        let doc = map(
            r#"{"incident_id":"incident:x:h:192.0.2.1:1","event_type":"event","src_host":{"a":1},
            "dst_port":-5,"src_port":1e300,"timestamp":"later","created":[1],"logtype":4002,
            "SIZE":-1,"RESPONSE":"OK","geoip":"FR","USERAGENT":7,"headers":[1],"DN":{},
            "URL":"not a url @ all","CHANNEL":1,"memo":null,"ports":[23]}"#,
        );
        assert_eq!(doc["source"]["ip"], "192.0.2.1");
        assert_eq!(doc["event"]["code"], "4002");
        assert!(doc.get("@timestamp").is_none());
        assert!(doc["destination"].get("port").is_none());
        assert!(doc.get("url").is_none(), "an unparsed URL with '@' may hide a password");
        assert!(doc.get("user_agent").is_none());
        assert!(doc.get("file").is_none());
    }

    #[test]
    fn host_names_that_are_ips_fill_the_ip() {
        let doc = map(r#"{"incident_id":"i","event_type":"event","HOSTNAME":"192.0.2.80:8080"}"#);
        assert_eq!(doc["destination"]["ip"], "192.0.2.80");
        assert_eq!(doc["destination"]["address"], "192.0.2.80");
        assert!(doc["destination"].get("domain").is_none());
    }

    #[test]
    fn geo_location_and_details() {
        let doc = map(
            r#"{"incident_id":"i","event_type":"event","geoip":{"ip":"198.51.100.7","city":"Lyon",
            "country":"France","country_code":"FR","region":"Auvergne-Rhone-Alpes",
            "latitude":45.75,"longitude":"4.85","timezone":"Europe/Paris"}}"#,
        );
        let source = &doc["source"];
        assert_eq!(source["ip"], "198.51.100.7");
        assert_eq!(source["geo"]["country_iso_code"], "FR");
        assert_eq!(source["geo"]["country_name"], "France");
        assert_eq!(source["geo"]["region_name"], "Auvergne-Rhone-Alpes");
        assert_eq!(source["geo"]["timezone"], "Europe/Paris");
        assert_eq!(source["geo"]["location"], serde_json::json!({"lat": 45.75, "lon": 4.85}));
    }

    #[test]
    fn secrets_never_reach_the_output() {
        let mut bytes = br#"{"incident_id":"i","event_type":"event","PASSWORD":"s3cret-a",
            "password":"s3cret-b","CLIENT_HASH":"s3cret-c","SALT":"s3cret-d","KEY":"s3cret-e",
            "COMMUNITY_STRING":"s3cret-f","URL":"http://u:s3cret-g@example.com/"}"#
            .to_vec();
        let value = simd_json::to_borrowed_value(&mut bytes).unwrap();
        let record = Record::from_flat(value.as_object().unwrap()).unwrap();
        let mut out = Vec::new();
        Mapper::new().map(&record, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("s3cret"), "{text}");
    }
}
