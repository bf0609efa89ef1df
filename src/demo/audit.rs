//! The demo console's audit trail: `GET /api/v1/audit_trail/fetch`, as
//! documented, for `canary-source --feed audit` and the tests.
//!
//! Entries come newest first. The first request may give `limit` and
//! `after_id`; later ones give only the opaque cursor, which carries those
//! plus the highest id at the first request. That bound keeps the pages of a
//! run from shifting when entries are added while a client pages through them:
//! the new entries wait for the next run.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Data, Shared};
use crate::console::as_id;

/// Entries per page when the first request names no `limit`, as documented.
const DEFAULT_LIMIT: usize = 100;

/// What a cursor carries from the first request to the later ones.
#[derive(Clone, Copy, Serialize, Deserialize)]
struct Cursor {
    /// Only entries with a higher id.
    after_id: u64,
    /// Only entries up to this id: the newest one when paging started.
    upper: u64,
    offset: usize,
    limit: usize,
}

impl Cursor {
    fn encode(&self) -> String {
        BASE64.encode(serde_json::to_vec(self).expect("cursor serializes"))
    }

    /// A cursor this console could have written: its pages hold one entry or more.
    fn decode(text: &str) -> Option<Cursor> {
        let cursor: Cursor = serde_json::from_slice(&BASE64.decode(text).ok()?).ok()?;
        (cursor.limit > 0).then_some(cursor)
    }
}

pub(crate) async fn fetch(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    uri: Uri,
) -> Response {
    let mut data = shared.data.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    data.requests.push(uri.query().unwrap_or("").to_owned());
    if let Some(denied) = super::authorize(&shared, &headers, &query) {
        return denied;
    }
    if let Some(fault) = super::take_fault(&mut data.faults, query.contains_key("cursor")) {
        return super::fault_response(fault);
    }

    // `tz` is accepted and ignored: the demo keeps and answers times in UTC.
    match read_cursor(&query, &data) {
        Ok(cursor) => axum::Json(page(&data.audit, cursor)).into_response(),
        Err(message) => super::error(StatusCode::BAD_REQUEST, &message),
    }
}

/// The cursor a request names, or a new one from its `limit` and `after_id`;
/// the error is the message of a 400 answer.
fn read_cursor(query: &HashMap<String, String>, data: &Data) -> Result<Cursor, String> {
    if let Some(text) = query.get("cursor") {
        // A cursor already holds these; the console refuses them together.
        for name in ["limit", "after_id"] {
            if query.contains_key(name) {
                return Err(format!("{name} cannot be used with cursor"));
            }
        }
        return Cursor::decode(text).ok_or_else(|| "Invalid cursor".to_owned());
    }

    let number = |name: &str| match query.get(name) {
        None => Ok(None),
        Some(value) => value
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| format!("Parameter {name} was invalid.")),
    };
    let limit =
        number("limit")?.map_or(DEFAULT_LIMIT, |l| usize::try_from(l.max(1)).unwrap_or(usize::MAX));
    let upper = data.audit.last().map_or(0, entry_id);
    Ok(Cursor { after_id: number("after_id")?.unwrap_or(0), upper, offset: 0, limit })
}

/// One page of `entries` (held oldest first) as the console answers it.
fn page(entries: &[Value], cursor: Cursor) -> Value {
    let bounds = cursor.after_id.saturating_add(1)..=cursor.upper;
    let total = entries.iter().filter(|e| bounds.contains(&entry_id(e))).count();
    let items: Vec<&Value> = entries
        .iter()
        .rev()
        .filter(|e| bounds.contains(&entry_id(e)))
        .skip(cursor.offset)
        .take(cursor.limit)
        .collect();

    let end = cursor.offset.saturating_add(cursor.limit);
    let next = (end < total).then(|| Cursor { offset: end, ..cursor }.encode());
    json!({
        "audit_trail": items,
        "cursor": {"next": next, "prev": null},
        "page_count": total.div_ceil(cursor.limit).max(1),
        "page_number": cursor.offset / cursor.limit + 1,
        "result": "success",
    })
}

/// An entry's `id`; entries are kept in ascending id order.
pub(super) fn entry_id(entry: &Value) -> u64 {
    entry.get("id").and_then(as_id).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(count: u64) -> Vec<Value> {
        (1..=count).map(|id| json!({"id": id, "action_type": "user_login"})).collect()
    }

    fn ids(page: &Value) -> Vec<u64> {
        page["audit_trail"].as_array().unwrap().iter().map(entry_id).collect()
    }

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn data(count: u64) -> Data {
        Data { audit: entries(count), ..Data::default() }
    }

    #[test]
    fn pages_run_newest_first_and_the_last_has_no_next() {
        let data = data(5);
        let first = page(&data.audit, read_cursor(&query(&[("limit", "2")]), &data).unwrap());
        assert_eq!(ids(&first), [5, 4]);
        assert_eq!(
            (first["page_count"].as_u64(), first["page_number"].as_u64()),
            (Some(3), Some(1))
        );

        let next = first["cursor"]["next"].as_str().unwrap();
        let second = page(&data.audit, Cursor::decode(next).unwrap());
        assert_eq!(ids(&second), [3, 2]);
        let next = second["cursor"]["next"].as_str().unwrap();
        let third = page(&data.audit, Cursor::decode(next).unwrap());
        assert_eq!(ids(&third), [1]);
        assert_eq!(third["page_number"], 3);
        assert!(third["cursor"]["next"].is_null());
    }

    #[test]
    fn after_id_and_the_default_limit() {
        let data = data(120);
        let all = page(&data.audit, read_cursor(&query(&[]), &data).unwrap());
        assert_eq!(ids(&all).len(), DEFAULT_LIMIT);
        let recent = page(&data.audit, read_cursor(&query(&[("after_id", "117")]), &data).unwrap());
        assert_eq!(ids(&recent), [120, 119, 118]);
        assert_eq!(recent["page_count"], 1);
    }

    #[test]
    fn cursors_refuse_other_parameters_and_junk() {
        let data = data(3);
        let cursor = Cursor { after_id: 0, upper: 3, offset: 1, limit: 1 }.encode();
        for other in ["limit", "after_id"] {
            let err = read_cursor(&query(&[("cursor", &cursor), (other, "1")]), &data);
            assert_eq!(err.err().unwrap(), format!("{other} cannot be used with cursor"));
        }
        assert!(read_cursor(&query(&[("cursor", "not base64!")]), &data).is_err());
        let no_limit = Cursor { limit: 0, ..Cursor::decode(&cursor).unwrap() }.encode();
        assert!(read_cursor(&query(&[("cursor", &no_limit)]), &data).is_err());
        assert!(read_cursor(&query(&[("limit", "ten")]), &data).is_err());
        assert!(read_cursor(&query(&[("after_id", "-1")]), &data).is_err());
    }

    #[test]
    fn an_empty_trail_is_one_empty_page() {
        let data = data(0);
        let empty = page(&data.audit, read_cursor(&query(&[("limit", "0")]), &data).unwrap());
        assert_eq!(empty["audit_trail"], json!([]));
        assert_eq!(empty["page_count"], 1);
        assert!(empty["cursor"]["next"].is_null());
    }
}
