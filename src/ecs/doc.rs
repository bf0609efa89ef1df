//! The shape of the ECS document: plain structs that borrow their text from
//! the record (or from the mapper's caches) and write themselves straight
//! into the output buffer ([`super::json`]). Each type's `write` gives the
//! output names and order; unset fields and empty groups are left out.

use std::net::IpAddr;

use serde::Serialize;

use super::json::{Json, Object, Verbatim, name};
use super::time::Rfc3339;
use super::value::{Few, Text};

pub struct Document<'a> {
    pub timestamp: Option<Rfc3339>,
    /// The text of an OpenCanary daemon message (logtype 1001).
    pub message: Option<&'a str>,
    pub event: Event<'a>,
    pub observer: Observer<'a>,
    pub source: Endpoint<'a>,
    pub destination: Endpoint<'a>,
    pub network: Network,
    pub user: User<'a>,
    pub user_agent: UserAgent<'a>,
    pub url: Url<'a>,
    pub http: Http<'a>,
    pub tls: Tls,
    pub process: Process<'a>,
    pub file: File<'a>,
    pub action: Action<'a>,
    pub rule: Rule<'a>,
    pub related: Related<'a>,
    /// Matched annotations and the source's reputation flags.
    pub tags: Vec<&'a str>,
    pub thinkst_canary: Canary<'a>,
}

impl Json for Document<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("@timestamp"), &self.timestamp);
        o.member(name!("message"), &self.message);
        o.always(name!("event"), &self.event);
        o.always(name!("observer"), &self.observer);
        o.member(name!("source"), &self.source);
        o.member(name!("destination"), &self.destination);
        o.member(name!("network"), &self.network);
        o.member(name!("user"), &self.user);
        o.member(name!("user_agent"), &self.user_agent);
        o.member(name!("url"), &self.url);
        o.member(name!("http"), &self.http);
        o.member(name!("tls"), &self.tls);
        o.member(name!("process"), &self.process);
        o.member(name!("file"), &self.file);
        o.member(name!("action"), &self.action);
        o.member(name!("rule"), &self.rule);
        o.member(name!("related"), &self.related);
        o.member(name!("tags"), &self.tags);
        o.always(name!("thinkst_canary"), &self.thinkst_canary);
        o.end()
    }
}

pub struct Event<'a> {
    pub id: String,
    /// Only with `--keep-original`: the record, credentials redacted.
    pub original: Option<String>,
    pub kind: &'static str,
    pub category: Few<&'static str, 4>,
    pub types: Few<&'static str, 4>,
    pub outcome: Option<&'static str>,
    pub severity: Option<u8>,
    pub risk_score: Option<u8>,
    pub module: &'static str,
    pub code: Option<Text<'a>>,
    pub dataset: Option<Text<'a>>,
    pub action: Option<Text<'a>>,
    pub reason: Option<Text<'a>>,
    pub start: Option<Rfc3339>,
}

impl Json for Event<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.always(name!("id"), &self.id);
        o.member(name!("original"), &self.original);
        o.always(name!("kind"), &self.kind);
        o.always(name!("category"), &self.category);
        o.always(name!("type"), &self.types);
        o.member(name!("outcome"), &self.outcome);
        o.member(name!("severity"), &self.severity);
        o.member(name!("risk_score"), &self.risk_score);
        o.always(name!("module"), &self.module);
        o.member(name!("code"), &self.code);
        o.member(name!("dataset"), &self.dataset);
        o.member(name!("action"), &self.action);
        o.member(name!("reason"), &self.reason);
        o.member(name!("start"), &self.start);
        o.end()
    }
}

#[derive(Default, PartialEq)]
pub struct Network {
    pub protocol: Option<&'static str>,
    pub transport: Option<&'static str>,
}

impl Json for Network {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("protocol"), &self.protocol);
        o.member(name!("transport"), &self.transport);
        o.end()
    }
}

pub struct Observer<'a> {
    pub vendor: &'static str,
    pub product: &'static str,
    pub kind: &'static str,
    pub name: Option<Text<'a>>,
    pub serial_number: Option<Text<'a>>,
    pub ip: Option<IpAddr>,
    /// ECS form: upper case, dash separated.
    pub mac: Option<String>,
}

impl Json for Observer<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.always(name!("vendor"), &self.vendor);
        o.always(name!("product"), &self.product);
        o.always(name!("type"), &self.kind);
        o.member(name!("name"), &self.name);
        o.member(name!("serial_number"), &self.serial_number);
        o.member(name!("ip"), &self.ip);
        o.member(name!("mac"), &self.mac);
        o.end()
    }
}

/// `source` or `destination`.
#[derive(Default, PartialEq)]
pub struct Endpoint<'a> {
    pub address: Option<Text<'a>>,
    pub ip: Option<IpAddr>,
    pub port: Option<u16>,
    pub domain: Option<&'a str>,
    pub registered_domain: Option<&'a str>,
    pub subdomain: Option<&'a str>,
    pub top_level_domain: Option<&'a str>,
    pub geo: Geo<'a>,
    pub nat: Nat,
}

impl Json for Endpoint<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("address"), &self.address);
        o.member(name!("ip"), &self.ip);
        o.member(name!("port"), &self.port);
        o.member(name!("domain"), &self.domain);
        o.member(name!("registered_domain"), &self.registered_domain);
        o.member(name!("subdomain"), &self.subdomain);
        o.member(name!("top_level_domain"), &self.top_level_domain);
        o.member(name!("geo"), &self.geo);
        o.member(name!("nat"), &self.nat);
        o.end()
    }
}

#[derive(Default, PartialEq)]
pub struct Geo<'a> {
    pub city_name: Option<Text<'a>>,
    pub continent_code: Option<Text<'a>>,
    pub country_iso_code: Option<Text<'a>>,
    pub country_name: Option<Text<'a>>,
    pub region_name: Option<Text<'a>>,
    pub timezone: Option<Text<'a>>,
    pub location: Option<Location>,
}

impl Json for Geo<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("city_name"), &self.city_name);
        o.member(name!("continent_code"), &self.continent_code);
        o.member(name!("country_iso_code"), &self.country_iso_code);
        o.member(name!("country_name"), &self.country_name);
        o.member(name!("region_name"), &self.region_name);
        o.member(name!("timezone"), &self.timezone);
        o.member(name!("location"), &self.location);
        o.end()
    }
}

#[derive(Clone, Copy, PartialEq)]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
}

impl Json for Location {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.always(name!("lat"), &self.lat);
        o.always(name!("lon"), &self.lon);
        o.end()
    }
}

#[derive(Default, PartialEq)]
pub struct Nat {
    pub ip: Option<IpAddr>,
}

impl Json for Nat {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("ip"), &self.ip);
        o.end()
    }
}

#[derive(Default, PartialEq)]
pub struct User<'a> {
    pub name: Option<Text<'a>>,
    pub domain: Option<Text<'a>>,
}

impl Json for User<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("name"), &self.name);
        o.member(name!("domain"), &self.domain);
        o.end()
    }
}

#[derive(Default, PartialEq)]
pub struct UserAgent<'a> {
    pub original: Option<&'a str>,
    pub name: Option<&'a str>,
    pub version: Option<&'a str>,
    pub os: AgentOs<'a>,
    pub device: AgentDevice<'a>,
}

impl Json for UserAgent<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("original"), &self.original);
        o.member(name!("name"), &self.name);
        o.member(name!("version"), &self.version);
        o.member(name!("os"), &self.os);
        o.member(name!("device"), &self.device);
        o.end()
    }
}

#[derive(Default, PartialEq)]
pub struct AgentOs<'a> {
    pub name: Option<&'a str>,
    pub version: Option<&'a str>,
    pub full: Option<&'a str>,
}

impl Json for AgentOs<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("name"), &self.name);
        o.member(name!("version"), &self.version);
        o.member(name!("full"), &self.full);
        o.end()
    }
}

#[derive(Default, PartialEq)]
pub struct AgentDevice<'a> {
    pub name: Option<&'a str>,
}

impl Json for AgentDevice<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("name"), &self.name);
        o.end()
    }
}

#[derive(Default, PartialEq)]
pub struct Url<'a> {
    pub original: Option<&'a str>,
    pub full: Option<&'a str>,
    pub scheme: Option<&'a str>,
    pub username: Option<&'a str>,
    pub domain: Option<&'a str>,
    pub registered_domain: Option<&'a str>,
    pub subdomain: Option<&'a str>,
    pub top_level_domain: Option<&'a str>,
    pub port: Option<u16>,
    pub path: Option<&'a str>,
    pub query: Option<&'a str>,
    pub fragment: Option<&'a str>,
}

impl Json for Url<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("original"), &self.original);
        o.member(name!("full"), &self.full);
        o.member(name!("scheme"), &self.scheme);
        o.member(name!("username"), &self.username);
        o.member(name!("domain"), &self.domain);
        o.member(name!("registered_domain"), &self.registered_domain);
        o.member(name!("subdomain"), &self.subdomain);
        o.member(name!("top_level_domain"), &self.top_level_domain);
        o.member(name!("port"), &self.port);
        o.member(name!("path"), &self.path);
        o.member(name!("query"), &self.query);
        o.member(name!("fragment"), &self.fragment);
        o.end()
    }
}

#[derive(Default, PartialEq)]
pub struct Http<'a> {
    pub request: HttpRequest<'a>,
    pub response: HttpResponse,
}

impl Json for Http<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("request"), &self.request);
        o.member(name!("response"), &self.response);
        o.end()
    }
}

#[derive(Default, PartialEq)]
pub struct HttpRequest<'a> {
    pub method: Option<Text<'a>>,
    pub referrer: Option<std::borrow::Cow<'a, str>>,
}

impl Json for HttpRequest<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("method"), &self.method);
        o.member(name!("referrer"), &self.referrer);
        o.end()
    }
}

#[derive(Default, PartialEq)]
pub struct HttpResponse {
    pub status_code: Option<u64>,
}

impl Json for HttpResponse {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("status_code"), &self.status_code);
        o.end()
    }
}

#[derive(Default, PartialEq)]
pub struct Tls {
    pub established: Option<bool>,
}

impl Json for Tls {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("established"), &self.established);
        o.end()
    }
}

#[derive(Default, PartialEq)]
pub struct Process<'a> {
    pub name: Option<Text<'a>>,
}

impl Json for Process<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("name"), &self.name);
        o.end()
    }
}

#[derive(Default, PartialEq)]
pub struct File<'a> {
    pub name: Option<Text<'a>>,
    pub size: Option<u64>,
}

impl Json for File<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("name"), &self.name);
        o.member(name!("size"), &self.size);
        o.end()
    }
}

/// Sekoia's own `action.properties.*` names, kept for parity.
#[derive(Default, PartialEq)]
pub struct Action<'a> {
    pub properties: ActionProperties<'a>,
}

impl Json for Action<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("properties"), &self.properties);
        o.end()
    }
}

#[derive(Default, PartialEq)]
pub struct ActionProperties<'a> {
    pub share_name: Option<Text<'a>>,
    pub domain: Option<Text<'a>>,
    pub user_name: Option<Text<'a>>,
}

impl Json for ActionProperties<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("ShareName"), &self.share_name);
        o.member(name!("Domain"), &self.domain);
        o.member(name!("UserName"), &self.user_name);
        o.end()
    }
}

#[derive(Default, PartialEq)]
pub struct Rule<'a> {
    pub id: Option<Text<'a>>,
    /// `canary`, `canarytoken` or `opencanary`: whose logtype `id` is.
    pub ruleset: Option<&'static str>,
    pub name: Option<Text<'a>>,
    pub description: Option<Text<'a>>,
}

impl Json for Rule<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("id"), &self.id);
        o.member(name!("ruleset"), &self.ruleset);
        o.member(name!("name"), &self.name);
        o.member(name!("description"), &self.description);
        o.end()
    }
}

/// Room for every address, host and user one record can name.
#[derive(Default, PartialEq)]
pub struct Related<'a> {
    // TODO: A consolidated scan of more than 16 addresses lists them all in
    // thinkst_canary.scan.targets but only the first 16 here.
    pub ip: Few<IpAddr, 16>,
    pub hosts: Few<&'a str, 4>,
    pub user: Few<Text<'a>, 3>,
}

impl Json for Related<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("ip"), &self.ip);
        o.member(name!("hosts"), &self.hosts);
        o.member(name!("user"), &self.user);
        o.end()
    }
}

/// Vendor fields without an ECS home.
#[derive(Default, PartialEq)]
pub struct Canary<'a> {
    pub incident_id: Option<&'a str>,
    /// Only with `--keep-credentials`: credential values by their path in
    /// the record, in lower case (see `Mapper::map_with_id`).
    pub credentials: std::collections::BTreeMap<String, String>,
    pub canary_token: Option<Text<'a>>,
    pub memo: Option<Text<'a>>,
    /// The token kind (`http`, `dns`, `aws-id`); Sekoia's profile also puts
    /// it in `event.dataset`.
    pub token_type: Option<Text<'a>>,
    /// What the attacker asked the service to do: a database or Redis
    /// command, an SMB audit action, a TFTP opcode, an NTP command.
    pub operation: Option<Text<'a>>,
    /// `low`, `medium`, `high` or `critical`: `event.severity` in words.
    pub severity: Option<&'static str>,
    /// The SSH login used credentials planted as a breadcrumb, or an
    /// OpenCanary honey credential.
    pub watched_credentials: Option<bool>,
    /// Names the client gave for itself: attacker-supplied, so not a host field.
    pub client: Client<'a>,
    pub smb: Smb,
    pub smbarch: Option<Text<'a>>,
    pub smbver: Option<Text<'a>>,
    pub db: Option<Text<'a>>,
    pub repo: Option<Text<'a>>,
    pub ports: Option<Text<'a>>,
    pub flock: Flock<'a>,
    pub node_id: Option<Text<'a>>,
    /// The request headers a web Canary or an HTTP token saw, login
    /// headers and URL secrets redacted.
    pub headers: Option<Headers<'a>>,
    pub acknowledged: Option<bool>,
    pub notified: Option<bool>,
    pub events_count: Option<u64>,
    pub matched_annotations: Vec<&'a str>,
    pub ip_blocklist: Blocklist,
    pub scan: Scan,
}

impl Json for Canary<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("incident_id"), &self.incident_id);
        o.member(name!("credentials"), &self.credentials);
        o.member(name!("canary_token"), &self.canary_token);
        o.member(name!("memo"), &self.memo);
        o.member(name!("token_type"), &self.token_type);
        o.member(name!("operation"), &self.operation);
        o.member(name!("severity"), &self.severity);
        o.member(name!("watched_credentials"), &self.watched_credentials);
        o.member(name!("client"), &self.client);
        o.member(name!("smb"), &self.smb);
        o.member(name!("smbarch"), &self.smbarch);
        o.member(name!("smbver"), &self.smbver);
        o.member(name!("db"), &self.db);
        o.member(name!("repo"), &self.repo);
        o.member(name!("ports"), &self.ports);
        o.member(name!("flock"), &self.flock);
        o.member(name!("node_id"), &self.node_id);
        o.member(name!("headers"), &self.headers);
        o.member(name!("acknowledged"), &self.acknowledged);
        o.member(name!("notified"), &self.notified);
        o.member(name!("events_count"), &self.events_count);
        o.member(name!("matched_annotations"), &self.matched_annotations);
        o.member(name!("ip_blocklist"), &self.ip_blocklist);
        o.member(name!("scan"), &self.scan);
        o.end()
    }
}

/// The token service's reputation flags for the source address.
#[derive(Default, PartialEq)]
pub struct Blocklist {
    pub is_proxy: Option<bool>,
    pub is_tor: Option<bool>,
    pub is_vpn: Option<bool>,
}

impl Json for Blocklist {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("is_proxy"), &self.is_proxy);
        o.member(name!("is_tor"), &self.is_tor);
        o.member(name!("is_vpn"), &self.is_vpn);
        o.end()
    }
}

/// Port scans: the ports as integers, and for a consolidated scan the
/// Canaries' addresses that were scanned.
#[derive(Default, PartialEq)]
pub struct Scan {
    pub ports: Vec<u16>,
    pub targets: Vec<IpAddr>,
}

impl Json for Scan {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("ports"), &self.ports);
        o.member(name!("targets"), &self.targets);
        o.end()
    }
}

#[derive(Default, PartialEq)]
pub struct Flock<'a> {
    pub id: Option<Text<'a>>,
    pub name: Option<Text<'a>>,
}

impl Json for Flock<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("id"), &self.id);
        o.member(name!("name"), &self.name);
        o.end()
    }
}

#[derive(Default, PartialEq)]
pub struct Client<'a> {
    /// MSSQL's HOSTNAME, WinRM's WORKSTATION, SMB's REMOTENAME.
    pub hostname: Option<&'a str>,
    /// MSSQL's APPNAME: the attacker's client program.
    pub application: Option<Text<'a>>,
}

impl Json for Client<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("hostname"), &self.hostname);
        o.member(name!("application"), &self.application);
        o.end()
    }
}

/// An SMB read: SIZE is the bytes read, not the size of the file.
#[derive(Default, PartialEq)]
pub struct Smb {
    pub read_size: Option<u64>,
    pub read_offset: Option<u64>,
}

impl Json for Smb {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        let mut o = Object::new(out);
        o.member(name!("read_size"), &self.read_size);
        o.member(name!("read_offset"), &self.read_offset);
        o.end()
    }
}

/// A header map, written with the values of credential headers
/// (`Authorization`, `Cookie`, API keys) replaced at any depth, and URLs (a
/// `Referer`) without their passwords and secret parameters.
#[derive(Clone, Copy, PartialEq)]
pub struct Headers<'a>(pub &'a simd_json::BorrowedValue<'a>);

impl Json for Headers<'_> {
    fn write(&self, out: &mut Vec<u8>) -> bool {
        Verbatim(&Redacted(self.0)).write(out)
    }
}

/// A value written with credential members redacted, recursively.
struct Redacted<'a>(&'a simd_json::BorrowedValue<'a>);

impl Serialize for Redacted<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        use simd_json::prelude::*;
        if let Some(members) = self.0.as_object() {
            let mut map = serializer.serialize_map(Some(members.len()))?;
            for (name, value) in members.iter() {
                if crate::flatten::is_credential(name) {
                    map.serialize_entry(name, crate::flatten::REDACTED)?;
                } else {
                    map.serialize_entry(name, &Redacted(value))?;
                }
            }
            return map.end();
        }
        if let Some(items) = self.0.as_array() {
            let mut seq = serializer.serialize_seq(Some(items.len()))?;
            for item in items.iter() {
                seq.serialize_element(&Redacted(item))?;
            }
            return seq.end();
        }
        match self.0.as_str().and_then(super::redact_url) {
            Some(redacted) => serializer.serialize_str(&redacted),
            None => self.0.serialize(serializer),
        }
    }
}
