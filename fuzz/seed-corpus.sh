#!/usr/bin/env bash
# Builds the fuzzer's starting corpus, fuzz/corpus/transform/, from the demo
# data: each built-in incident (compact, and one pretty-printed), a feed page
# of them all, the audit trail page and one audit record, the flattened
# records of an incident, and lines the reader has to cut or skip.
# Needs jq. The corpus is not committed: the fuzzer grows it.
set -euo pipefail
cd "$(dirname "$0")"
demo=../src/demo
out=corpus/transform
mkdir -p "$out"

jq -c '.[]' "$demo/incidents.json" | split -l 1 -d -a 2 - "$out/incident-"
jq '.[1]' "$demo/incidents.json" >"$out/incident-pretty"
jq -c '{incidents: ., cursor: {next: null}}' "$demo/incidents.json" >"$out/feed-page"
jq -c '{audit_trail: .}' "$demo/audit.json" >"$out/audit-page"
jq -c '.[0] + {event_type: "audit"}' "$demo/audit.json" >"$out/audit-record"
# An incident as canary-source writes it: the incident record, then one
# record per event with the description's keys.
jq -c '.[] | select(.description.events | length > 1) | . as $i
  | ({incident_id: $i.id, event_type: "incident", hash_id: $i.hash_id,
      updated_id: $i.updated_id, summary: $i.summary, timestamp: $i.updated_time}),
    ($i.description.events[] | ($i.description | del(.events, .events_count, .events_list))
      + . + {incident_id: $i.id, event_type: "event"})' \
  "$demo/incidents.json" | head -n 40 >"$out/records"
printf '\xef\xbb\xbf{"event_type":"event","incident_id":"i","src_host":"192.0.2.1"}\r\nnot json\r\n\r\n[{"event_type":"incident","incident_id":"i"},7]\n{"a":\n{"event_type":"event","incident_id":"i"}\n{"b": [\n' \
  >"$out/framing"
ls "$out" | wc -l | xargs echo "seed files in $out:"
