//! The shape of the ECS document: plain structs that borrow their text from
//! the record (or from the mapper's caches) and serialize straight into the
//! output buffer. Field order here is the output order; unset fields and
//! empty groups are left out.

use std::net::IpAddr;

use serde::Serialize;

use super::time::Rfc3339;
use super::value::{Few, Text, is_default};

#[derive(Serialize)]
pub struct Document<'a> {
    #[serde(rename = "@timestamp", skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Rfc3339>,
    pub event: Event<'a>,
    pub observer: Observer<'a>,
    #[serde(skip_serializing_if = "is_default")]
    pub source: Endpoint<'a>,
    #[serde(skip_serializing_if = "is_default")]
    pub destination: Endpoint<'a>,
    #[serde(skip_serializing_if = "is_default")]
    pub network: Network,
    #[serde(skip_serializing_if = "is_default")]
    pub user: User<'a>,
    #[serde(skip_serializing_if = "is_default")]
    pub user_agent: UserAgent<'a>,
    #[serde(skip_serializing_if = "is_default")]
    pub url: Url<'a>,
    #[serde(skip_serializing_if = "is_default")]
    pub http: Http<'a>,
    #[serde(skip_serializing_if = "is_default")]
    pub tls: Tls,
    #[serde(skip_serializing_if = "is_default")]
    pub process: Process<'a>,
    #[serde(skip_serializing_if = "is_default")]
    pub file: File<'a>,
    #[serde(skip_serializing_if = "is_default")]
    pub action: Action<'a>,
    #[serde(skip_serializing_if = "is_default")]
    pub rule: Rule<'a>,
    #[serde(skip_serializing_if = "is_default")]
    pub related: Related<'a>,
    /// Matched annotations and the source's reputation flags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<&'a str>,
    pub thinkst_canary: Canary<'a>,
}

#[derive(Serialize)]
pub struct Event<'a> {
    pub id: String,
    /// Only with `--keep-original`: the record, credentials redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
    pub kind: &'static str,
    pub category: Few<&'static str, 4>,
    #[serde(rename = "type")]
    pub types: Few<&'static str, 4>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_score: Option<u8>,
    pub module: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<Rfc3339>,
}

#[derive(Default, PartialEq, Serialize)]
pub struct Network {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<&'static str>,
}

#[derive(Serialize)]
pub struct Observer<'a> {
    pub vendor: &'static str,
    pub product: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    /// ECS form: upper case, dash separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
}

/// `source` or `destination`.
#[derive(Default, PartialEq, Serialize)]
pub struct Endpoint<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered_domain: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subdomain: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_level_domain: Option<&'a str>,
    #[serde(skip_serializing_if = "is_default")]
    pub geo: Geo<'a>,
    #[serde(skip_serializing_if = "is_default")]
    pub nat: Nat,
}

#[derive(Default, PartialEq, Serialize)]
pub struct Geo<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city_name: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continent_code: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_iso_code: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_name: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_name: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

#[derive(Clone, Copy, PartialEq, Serialize)]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
}

#[derive(Default, PartialEq, Serialize)]
pub struct Nat {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
}

#[derive(Default, PartialEq, Serialize)]
pub struct User<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<Text<'a>>,
}

#[derive(Default, PartialEq, Serialize)]
pub struct UserAgent<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'a str>,
    #[serde(skip_serializing_if = "is_default")]
    pub os: AgentOs<'a>,
    #[serde(skip_serializing_if = "is_default")]
    pub device: AgentDevice<'a>,
}

#[derive(Default, PartialEq, Serialize)]
pub struct AgentOs<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full: Option<&'a str>,
}

#[derive(Default, PartialEq, Serialize)]
pub struct AgentDevice<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
}

#[derive(Default, PartialEq, Serialize)]
pub struct Url<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered_domain: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subdomain: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_level_domain: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fragment: Option<&'a str>,
}

#[derive(Default, PartialEq, Serialize)]
pub struct Http<'a> {
    #[serde(skip_serializing_if = "is_default")]
    pub request: HttpRequest<'a>,
    #[serde(skip_serializing_if = "is_default")]
    pub response: HttpResponse,
}

#[derive(Default, PartialEq, Serialize)]
pub struct HttpRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referrer: Option<std::borrow::Cow<'a, str>>,
}

#[derive(Default, PartialEq, Serialize)]
pub struct HttpResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u64>,
}

#[derive(Default, PartialEq, Serialize)]
pub struct Tls {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub established: Option<bool>,
}

#[derive(Default, PartialEq, Serialize)]
pub struct Process<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Text<'a>>,
}

#[derive(Default, PartialEq, Serialize)]
pub struct File<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// Sekoia's own `action.properties.*` names, kept for parity.
#[derive(Default, PartialEq, Serialize)]
pub struct Action<'a> {
    #[serde(skip_serializing_if = "is_default")]
    pub properties: ActionProperties<'a>,
}

#[derive(Default, PartialEq, Serialize)]
pub struct ActionProperties<'a> {
    #[serde(rename = "ShareName", skip_serializing_if = "Option::is_none")]
    pub share_name: Option<Text<'a>>,
    #[serde(rename = "Domain", skip_serializing_if = "Option::is_none")]
    pub domain: Option<Text<'a>>,
    #[serde(rename = "UserName", skip_serializing_if = "Option::is_none")]
    pub user_name: Option<Text<'a>>,
}

#[derive(Default, PartialEq, Serialize)]
pub struct Rule<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Text<'a>>,
    /// `canary`, `canarytoken` or `opencanary`: whose logtype `id` is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ruleset: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<Text<'a>>,
}

/// Room for every address, host and user one record can name.
#[derive(Default, PartialEq, Serialize)]
pub struct Related<'a> {
    #[serde(skip_serializing_if = "is_default")]
    // TODO: A consolidated scan of more than 16 addresses lists them all in
    // thinkst_canary.scan.targets but only the first 16 here.
    pub ip: Few<IpAddr, 16>,
    #[serde(skip_serializing_if = "is_default")]
    pub hosts: Few<&'a str, 4>,
    #[serde(skip_serializing_if = "is_default")]
    pub user: Few<Text<'a>, 3>,
}

/// Vendor fields without an ECS home.
#[derive(Default, PartialEq, Serialize)]
pub struct Canary<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<&'a str>,
    /// Only with `--keep-credentials`: credential values by lowercase key.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub credentials: std::collections::BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canary_token: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memo: Option<Text<'a>>,
    /// The token kind (`http`, `dns`, `aws-id`); Sekoia's profile also puts
    /// it in `event.dataset`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<Text<'a>>,
    /// What the attacker asked the service to do: a database or Redis
    /// command, an SMB audit action, a TFTP opcode, an NTP command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<Text<'a>>,
    /// `low`, `medium`, `high` or `critical`: `event.severity` in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<&'static str>,
    /// The SSH login used credentials planted as a breadcrumb, or an
    /// OpenCanary honey credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watched_credentials: Option<bool>,
    /// Names the client gave for itself: attacker-supplied, so not a host field.
    #[serde(skip_serializing_if = "is_default")]
    pub client: Client<'a>,
    #[serde(skip_serializing_if = "is_default")]
    pub smb: Smb,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smbarch: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smbver: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ports: Option<Text<'a>>,
    #[serde(skip_serializing_if = "is_default")]
    pub flock: Flock<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_id: Option<Text<'a>>,
    /// The request headers a web Canary or an HTTP token saw, login
    /// headers and URL secrets redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<Headers<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events_count: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matched_annotations: Vec<&'a str>,
    #[serde(skip_serializing_if = "is_default")]
    pub ip_blocklist: Blocklist,
    #[serde(skip_serializing_if = "is_default")]
    pub scan: Scan,
}

/// The token service's reputation flags for the source address.
#[derive(Default, PartialEq, Serialize)]
pub struct Blocklist {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_proxy: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_tor: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_vpn: Option<bool>,
}

/// Port scans: the ports as integers, and for a consolidated scan the
/// Canaries' addresses that were scanned.
#[derive(Default, PartialEq, Serialize)]
pub struct Scan {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<u16>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<IpAddr>,
}

#[derive(Default, PartialEq, Serialize)]
pub struct Flock<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Text<'a>>,
}

#[derive(Default, PartialEq, Serialize)]
pub struct Client<'a> {
    /// MSSQL's HOSTNAME, WinRM's WORKSTATION, SMB's REMOTENAME.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<&'a str>,
    /// MSSQL's APPNAME: the attacker's client program.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<Text<'a>>,
}

/// An SMB read: SIZE is the bytes read, not the size of the file.
#[derive(Default, PartialEq, Serialize)]
pub struct Smb {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_offset: Option<u64>,
}

/// A header map, written with the values of credential headers
/// (`Authorization`, `Cookie`, API keys) replaced at any depth, and URLs (a
/// `Referer`) without their passwords and secret parameters.
#[derive(Clone, Copy, PartialEq)]
pub struct Headers<'a>(pub &'a simd_json::BorrowedValue<'a>);

impl Serialize for Headers<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Redacted(self.0).serialize(serializer)
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
