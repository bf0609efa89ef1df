//! What the source remembers of each incident it wrote, so that an incident
//! coming back (new events, an acknowledgement) sends only what is new.
//!
//! Per incident it keeps the `updated_id` written, the latest event timestamp
//! written and the ids of the events at that timestamp, plus the ids of
//! events that carry no timestamp. Events of one incident are recorded in
//! time order, so an event older than the latest one written was written
//! too. The memory holds at most a fixed number of incidents and forgets the
//! least recently updated first; a forgotten incident that comes back sends
//! all its events again, which is a repeat, never a loss.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Event ids kept per incident for events without a timestamp.
const UNTIMED_KEPT: usize = 64;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// The incident's `updated_id` when it was last written.
    pub updated_id: u64,
    /// The latest event timestamp written, epoch seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_event: Option<i64>,
    /// Ids of the events written at `last_event`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub at_last_event: Vec<String>,
    /// Ids of written events without a timestamp, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub untimed: Vec<String>,
    /// The incident is acknowledged on the console (seen in the feed, or
    /// acknowledged by this source), so `--acknowledge` leaves it alone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub acknowledged: bool,
}

impl Seen {
    /// Whether the event with this timestamp and id was written before.
    pub fn has_event(&self, timestamp: Option<i64>, id: &str) -> bool {
        match (timestamp, self.last_event) {
            (None, _) => self.untimed.iter().any(|s| s == id),
            (Some(_), None) => false,
            (Some(t), Some(last)) => {
                t < last || (t == last && self.at_last_event.iter().any(|s| s == id))
            }
        }
    }

    pub fn add_event(&mut self, timestamp: Option<i64>, id: String) {
        match timestamp {
            None => {
                if self.untimed.len() == UNTIMED_KEPT {
                    self.untimed.remove(0);
                }
                self.untimed.push(id);
            }
            Some(t) if self.last_event.is_none_or(|last| t > last) => {
                self.last_event = Some(t);
                self.at_last_event = vec![id];
            }
            Some(t) if Some(t) == self.last_event => self.at_last_event.push(id),
            Some(_) => {}
        }
    }
}

/// Forgets the least recently updated incidents beyond `capacity`.
pub fn evict(incidents: &mut BTreeMap<String, Seen>, capacity: usize) {
    if incidents.len() <= capacity {
        return;
    }
    let mut by_age: Vec<(u64, String)> =
        incidents.iter().map(|(key, seen)| (seen.updated_id, key.clone())).collect();
    by_age.sort_unstable();
    let excess = incidents.len() - capacity;
    for (_, key) in by_age.into_iter().take(excess) {
        incidents.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_events_are_new_earlier_ones_are_not() {
        let mut seen = Seen::default();
        assert!(!seen.has_event(Some(10), "a"));
        seen.add_event(Some(10), "a".into());
        seen.add_event(Some(10), "b".into());
        assert!(seen.has_event(Some(10), "a") && seen.has_event(Some(10), "b"));
        assert!(!seen.has_event(Some(10), "c"), "same second, other event");
        assert!(seen.has_event(Some(9), "z"));
        assert!(!seen.has_event(Some(11), "a"));
        seen.add_event(Some(11), "d".into());
        assert_eq!(seen.at_last_event, ["d"]);
        assert!(!seen.has_event(None, "u"));
        seen.add_event(None, "u".into());
        assert!(seen.has_event(None, "u"));
    }

    #[test]
    fn eviction_drops_the_least_recently_updated() {
        let mut incidents: BTreeMap<String, Seen> = (1..=5)
            .map(|i| (format!("i{i}"), Seen { updated_id: 10 - i, ..Seen::default() }))
            .collect();
        evict(&mut incidents, 3);
        let kept: Vec<&str> = incidents.keys().map(String::as_str).collect();
        assert_eq!(kept, ["i1", "i2", "i3"]);
    }
}
