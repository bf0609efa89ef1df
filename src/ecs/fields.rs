//! One pass over a record's fields before mapping it.
//!
//! The mapping asks for some sixty keys, most of them absent, and a record
//! answers each by scanning its event and then its incident's description:
//! that was a fifth of the mapping's time. [`Fields`] walks the record once,
//! keeps the values of the keys the mapping reads in an array, and answers
//! from it; any other key, and records whose lookups translate names
//! (OpenCanary lines, incident summaries), go to the record as before.

use std::ops::Deref;

use simd_json::BorrowedValue as Value;

use crate::flatten::{Kind, Origin, Record};

/// The record keys the mapping reads, sorted for binary search. `incident_id`,
/// `event_type` and `record_id` are not here: records answer them otherwise.
const KEYS: [&str; 69] = [
    "APPNAME",
    "AUDITACTION",
    "CHANNEL",
    "CMD",
    "DN",
    "DOMAIN",
    "DOMAINNAME",
    "FILENAME",
    "HEADERS",
    "HOST",
    "HOSTNAME",
    "METHOD",
    "NTP_CMD",
    "OFFSET",
    "OPCODE",
    "PATH",
    "PROTO",
    "REMOTENAME",
    "REPO",
    "RESPONSE",
    "SHARENAME",
    "SIZE",
    "SMBARCH",
    "SMBVER",
    "URL",
    "USER",
    "USERAGENT",
    "USERNAME",
    "WATCHED_CREDENTIALS",
    "WORKSTATION",
    "acknowledged",
    "action",
    "canarytoken",
    "cmd",
    "created",
    "db",
    "description",
    "dst_host",
    "dst_host_public_ip",
    "dst_port",
    "events_count",
    "flock_id",
    "flock_name",
    "geoip",
    "headers",
    "honeycred",
    "hostname",
    "ip_address",
    "ip_blocklist",
    "logtype",
    "mac_address",
    "matched_annotations",
    "memo",
    "name",
    "node_id",
    "notified",
    "ports",
    "request_args",
    "src_host",
    "src_host_reverse",
    "src_port",
    "summary",
    "timestamp",
    "type",
    "url",
    "user",
    "windows_desktopini_access_computer_name",
    "windows_desktopini_access_domain",
    "windows_desktopini_access_username",
];

/// Where `key` is in [`KEYS`]. A `match` compiles to a switch on the length
/// and a few comparisons, cheaper than searching the array; inlined into
/// [`Fields::get`], a literal key folds to its index at compile time.
#[inline(always)]
fn slot(key: &str) -> Option<usize> {
    Some(match key {
        "APPNAME" => 0,
        "AUDITACTION" => 1,
        "CHANNEL" => 2,
        "CMD" => 3,
        "DN" => 4,
        "DOMAIN" => 5,
        "DOMAINNAME" => 6,
        "FILENAME" => 7,
        "HEADERS" => 8,
        "HOST" => 9,
        "HOSTNAME" => 10,
        "METHOD" => 11,
        "NTP_CMD" => 12,
        "OFFSET" => 13,
        "OPCODE" => 14,
        "PATH" => 15,
        "PROTO" => 16,
        "REMOTENAME" => 17,
        "REPO" => 18,
        "RESPONSE" => 19,
        "SHARENAME" => 20,
        "SIZE" => 21,
        "SMBARCH" => 22,
        "SMBVER" => 23,
        "URL" => 24,
        "USER" => 25,
        "USERAGENT" => 26,
        "USERNAME" => 27,
        "WATCHED_CREDENTIALS" => 28,
        "WORKSTATION" => 29,
        "acknowledged" => 30,
        "action" => 31,
        "canarytoken" => 32,
        "cmd" => 33,
        "created" => 34,
        "db" => 35,
        "description" => 36,
        "dst_host" => 37,
        "dst_host_public_ip" => 38,
        "dst_port" => 39,
        "events_count" => 40,
        "flock_id" => 41,
        "flock_name" => 42,
        "geoip" => 43,
        "headers" => 44,
        "honeycred" => 45,
        "hostname" => 46,
        "ip_address" => 47,
        "ip_blocklist" => 48,
        "logtype" => 49,
        "mac_address" => 50,
        "matched_annotations" => 51,
        "memo" => 52,
        "name" => 53,
        "node_id" => 54,
        "notified" => 55,
        "ports" => 56,
        "request_args" => 57,
        "src_host" => 58,
        "src_host_reverse" => 59,
        "src_port" => 60,
        "summary" => 61,
        "timestamp" => 62,
        "type" => 63,
        "url" => 64,
        "user" => 65,
        "windows_desktopini_access_computer_name" => 66,
        "windows_desktopini_access_domain" => 67,
        "windows_desktopini_access_username" => 68,
        _ => return None,
    })
}

/// A record with the values of [`KEYS`] looked up once.
pub struct Fields<'a, 'v> {
    record: Record<'a, 'v>,
    slots: Option<[Option<&'a Value<'v>>; KEYS.len()]>,
}

impl<'a, 'v> Fields<'a, 'v> {
    pub fn new(record: Record<'a, 'v>) -> Self {
        // Incident summaries answer few keys, some renamed; OpenCanary lines
        // translate names. Both are looked up directly.
        let direct = record.kind() == Kind::Incident || record.origin() == Origin::OpenCanary;
        if direct {
            return Fields { record, slots: None };
        }
        let mut slots = [None; KEYS.len()];
        record.for_each_field(|key, value| {
            if let Some(at) = slot(key) {
                // The first of duplicate keys, as a lookup finds it.
                slots[at].get_or_insert(value);
            }
        });
        Fields { record, slots: Some(slots) }
    }

    /// What [`Record::get`] answers, from the array when the key is in it.
    #[inline(always)]
    pub fn get(&self, key: &str) -> Option<&'a Value<'v>> {
        match (&self.slots, slot(key)) {
            (Some(slots), Some(at)) => slots[at],
            _ => self.record.get(key),
        }
    }
}

impl<'a, 'v> Deref for Fields<'a, 'v> {
    type Target = Record<'a, 'v>;

    fn deref(&self) -> &Record<'a, 'v> {
        &self.record
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use simd_json::prelude::*;

    #[test]
    fn keys_are_sorted_and_distinct() {
        assert!(KEYS.windows(2).all(|w| w[0] < w[1]));
        for (at, key) in KEYS.iter().enumerate() {
            assert_eq!(slot(key), Some(at), "{key}");
        }
    }

    /// Every key answers as the record does, for flat records and for the
    /// events of a raw incident, where event keys hide description keys.
    #[test]
    fn answers_match_the_record() {
        let mut flat = br#"{"incident_id":"i","event_type":"event","USERNAME":"a","logtype":2000,
            "name":"n","src_host":"192.0.2.1","record_id":"r","timestamp":5,"user":"u"}"#
            .to_vec();
        let mut raw = br#"{"id":"incident:x:h:192.0.2.9:1","hash_id":"h","updated_id":4,
            "description":{"logtype":"4002","name":"bird","USERNAME":"desc","events_count":2,
            "src_host":"192.0.2.9","events":[{"USERNAME":"ev","timestamp":7},{"PATH":"/x"}]}}"#
            .to_vec();
        let flat = simd_json::to_borrowed_value(&mut flat).unwrap();
        let raw = simd_json::to_borrowed_value(&mut raw).unwrap();
        let mut records = vec![Record::from_flat(flat.as_object().unwrap()).unwrap()];
        records.extend(crate::flatten::incident_records(raw.as_object().unwrap()).unwrap());
        for record in &records {
            let fields = Fields::new(*record);
            for key in KEYS.iter().chain(&["record_id", "hash_id", "nope"]) {
                assert_eq!(fields.get(key), record.get(key), "{key}");
            }
        }
        assert_eq!(Fields::new(records[2]).get("USERNAME").and_then(|v| v.as_str()), Some("ev"));
    }
}
