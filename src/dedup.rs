//! What the source remembers of each incident it wrote, so that an incident
//! coming back (new events, an acknowledgement) sends only what is new.
//!
//! Per incident it keeps the `updated_id` written and the ids of the events
//! written, with their timestamps, in any order the console lists them. An
//! incident keeps at most [`EVENTS_KEPT`] event ids: past that, the oldest are
//! dropped and `floor` says that every event up to the time of the dropped
//! ones was written (brute-force incidents grow by new events, not old ones). The
//! memory holds at most a fixed number of incidents and forgets the least
//! recently updated first; a forgotten incident that comes back sends all its
//! events again, which is a repeat, never a loss.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

/// Event ids kept per incident.
pub const EVENTS_KEPT: usize = 2048;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// The incident's `updated_id` when it was last written.
    pub updated_id: u64,
    /// Events at or before this time (epoch seconds) were written, some of
    /// them forgotten.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<i64>,
    /// The events written: timestamp (when the event has one) and id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<(Option<i64>, String)>,
    /// The incident is acknowledged on the console (seen in the feed, or
    /// acknowledged by this source), so `--acknowledge` leaves it alone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub acknowledged: bool,
}

/// The events of one incident already written, for checking a new copy of it.
pub struct Written<'a> {
    floor: Option<i64>,
    ids: HashSet<&'a str>,
}

impl Seen {
    pub fn written(&self) -> Written<'_> {
        Written { floor: self.floor, ids: self.events.iter().map(|(_, id)| id.as_str()).collect() }
    }

    pub fn add_event(&mut self, timestamp: Option<i64>, id: String) {
        self.events.push((timestamp, id));
        if self.events.len() > EVENTS_KEPT {
            self.forget_oldest();
        }
    }

    /// Keeps the newest [`EVENTS_KEPT`] events and raises `floor` past the
    /// ones dropped. Events without a time count as the oldest.
    fn forget_oldest(&mut self) {
        self.events.sort_by_key(|(timestamp, _)| timestamp.unwrap_or(i64::MIN));
        let excess = self.events.len() - EVENTS_KEPT;
        let dropped_up_to = self.events[..excess].iter().filter_map(|(t, _)| *t).max();
        self.events.drain(..excess);
        if let Some(t) = dropped_up_to {
            self.floor = Some(self.floor.map_or(t, |f| f.max(t)));
        }
    }
}

impl Written<'_> {
    /// Whether the event with this timestamp and id was written before.
    pub fn contains(&self, timestamp: Option<i64>, id: &str) -> bool {
        let below_floor = matches!((timestamp, self.floor), (Some(t), Some(floor)) if t <= floor);
        below_floor || self.ids.contains(id)
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
    fn events_are_known_by_id_in_any_order() {
        let mut seen = Seen::default();
        seen.add_event(Some(20), "late".into());
        seen.add_event(Some(10), "early".into());
        seen.add_event(None, "untimed".into());
        let written = seen.written();
        assert!(written.contains(Some(20), "late"));
        assert!(written.contains(Some(10), "early"));
        assert!(written.contains(None, "untimed"));
        assert!(!written.contains(Some(5), "older-but-new"), "an older event is still new");
        assert!(!written.contains(None, "other"));
    }

    #[test]
    fn past_the_cap_the_oldest_are_covered_by_the_floor() {
        let mut seen = Seen::default();
        for i in 0..(EVENTS_KEPT as i64 + 10) {
            seen.add_event(Some(1000 + i), format!("e{i}"));
        }
        assert_eq!(seen.events.len(), EVENTS_KEPT);
        assert_eq!(seen.floor, Some(1009));
        let written = seen.written();
        assert!(written.contains(Some(1000), "e0"), "dropped, under the floor");
        assert!(written.contains(Some(1009), "e9"), "dropped, under the floor");
        assert!(written.contains(Some(1010), "e10"), "kept");
        assert!(!written.contains(Some(1010), "same-second-new"));
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
