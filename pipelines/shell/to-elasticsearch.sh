#!/usr/bin/env bash
# One poll of a Canary console into an Elasticsearch data stream through
# _bulk, for cron or a systemd timer. Every event is a `create` with
# _id = event.id, so an event sent twice is refused as a conflict (409),
# which counts as stored. The state moves only when every request got a bulk
# reply with one stored item per event; otherwise the run exits non-zero (65
# items rejected, 75 a request refused or answered with no bulk reply) and
# the next one sends the same events again.
#
# Settings, all from the environment (see pipelines/README.md):
#   CANARY_CONSOLE, CANARY_AUTH_TOKEN or CANARY_AUTH_TOKEN_FILE   the console
#   ES_URL                       e.g. https://es.example.org:9200 (required)
#   ES_API_KEY                   an API key (the base64 "id:key" form), or
#   ES_USER and ES_PASSWORD      basic authentication; never on a command line
#   ES_INDEX                     default logs-thinkst_canary.alert-default
#   ES_CA_CERT                   a CA file for a private certificate authority
#   CANARY_STATE_FILE            default /var/lib/canary-pipe/state.json
#   CANARY_SOURCE_ARGS           more canary-source options
#   CANARY_TRANSFORM_ARGS        canary-transform mapping options, e.g. "--profile ecs"
#   ES_BULK_DOCS                 events per request (default 2000)
#   CANARY_CURL_RETRIES          curl's retries of a failed request (default 3)
set -euo pipefail

: "${ES_URL:?set ES_URL to the Elasticsearch base URL}"
index=${ES_INDEX:-logs-thinkst_canary.alert-default}
state=${CANARY_STATE_FILE:-/var/lib/canary-pipe/state.json}
docs=${ES_BULK_DOCS:-2000}
retries=${CANARY_CURL_RETRIES:-3}
read -r -a extra <<<"${CANARY_SOURCE_ARGS:-}"
read -r -a mapping <<<"${CANARY_TRANSFORM_ARGS:-}"
if [ -n "${CANARY_AUTH_TOKEN_FILE:-}" ]; then
  extra+=(--auth-token-file "$CANARY_AUTH_TOKEN_FILE")
fi
tls=()
if [ -n "${ES_CA_CERT:-}" ]; then
  tls=(--cacert "$ES_CA_CERT")
fi

umask 077
spool=$(mktemp -d "${TMPDIR:-/tmp}/canary-to-es.XXXXXX")
trap 'rm -rf "$spool"' EXIT

exec 9>>"$state.pipe.lock"
if ! flock -n 9; then
  echo "to-elasticsearch: another run holds $state.pipe.lock; leaving this one out" >&2
  exit 75
fi

# Credentials go to curl in a header file, never in its arguments.
{
  echo 'Content-Type: application/x-ndjson'
  echo 'Content-Encoding: gzip'
  if [ -n "${ES_API_KEY:-}" ]; then
    printf 'Authorization: ApiKey %s\n' "$ES_API_KEY"
  elif [ -n "${ES_USER:-}" ]; then
    printf 'Authorization: Basic %s\n' "$(printf '%s:%s' "$ES_USER" "${ES_PASSWORD:-}" | base64 -w0)"
  fi
} >"$spool/headers"

# Phase one: the new state goes to state.next; state.json stays as it was.
canary-source --once --state-file "$state" --state-out "$state.next" "${extra[@]}" \
  | canary-transform --format es-bulk --index "$index" "${mapping[@]}" >"$spool/bulk.ndjson"

if [ ! -s "$spool/bulk.ndjson" ]; then
  mv "$state.next" "$state"
  echo "to-elasticsearch: nothing new" >&2
  exit 0
fi

# An action line and its event stay together: an even number of lines per part.
split -l $((docs * 2)) -d -a 6 "$spool/bulk.ndjson" "$spool/part."

# What a reply says about the request it answers, as one JSON object: {"bad":
# why} when it is no _bulk reply for it, else {"failed": [items not stored]}.
# ES answers 200 when items fail, and so may a proxy or another service at
# ES_URL, so the 200 alone proves nothing: there must be one item per action
# (ES answers them in order), and an item counts as stored only with a 2xx
# status or 409 (a `create` of an _id an earlier run stored). Read with -s so
# that an empty reply is an empty array, not a silent no-output success.
# shellcheck disable=SC2016 # $sent is jq's variable, not the shell's
check='
  if length == 0 then {bad: "is empty"}
  elif length > 1 then {bad: "is not one JSON value"}
  elif (.[0] | type) != "object" or (.[0].items | type) != "array" then
    {bad: "has no items array"}
  elif (.[0].items | length) != $sent then
    {bad: "has \(.[0].items | length) items for \($sent) events sent"}
  else {failed: [.[0].items[]
    | (objects | to_entries[0].value | objects) // {}
    | select((.status | type) != "number" or .status < 200
        or (.status >= 300 and .status != 409))
    | {status: (.status // "no status"), id: (._id // "?"),
       type: ((.error | objects | .type) // "?"),
       reason: ((.error | objects | .reason) // (.error | strings) // "")}]}
  end'
stored=0
rejected=0
for part in "$spool"/part.*; do
  sent=$(($(wc -l <"$part") / 2))
  gzip -n "$part"
  # curl leaves the file alone when the body is empty: emptied first, so an
  # earlier request's reply is never read as this one's.
  : >"$spool/reply"
  # curl retries timeouts, 408, 429 and 5xx (honouring Retry-After); any
  # other refusal fails at once, and so does the run.
  if ! curl -sS --fail-with-body --retry "$retries" --connect-timeout 10 --max-time 300 \
    "${tls[@]}" -H @"$spool/headers" --data-binary @"$part.gz" -o "$spool/reply" \
    "${ES_URL%/}/_bulk"; then
    echo "to-elasticsearch: a bulk request failed after $stored events were stored; state not moved" >&2
    head -c 500 "$spool/reply" >&2 2>/dev/null && echo >&2
    exit 75
  fi
  if ! verdict=$(jq -sc --argjson sent "$sent" "$check" "$spool/reply" 2>/dev/null); then
    verdict='{"bad": "is not JSON"}'
  fi
  bad=$(jq -r '.bad // empty' <<<"$verdict")
  if [ -n "$bad" ]; then
    # Which of this request's events were stored is unknown: a refused
    # request, and the sink that gave it gets no more.
    begins=$(head -c 100 "$spool/reply" | LC_ALL=C tr -c '[:print:]' ' ')
    echo "to-elasticsearch: the bulk reply $bad${begins:+ (it begins: $begins)};" \
      "$stored events stored before it; state not moved" >&2
    exit 75
  fi
  # The other parts still go: what they store now is a 409 next time.
  count=$(jq '.failed | length' <<<"$verdict")
  if [ "$count" != 0 ]; then
    rejected=$((rejected + count))
    jq -r '.failed[] | "to-elasticsearch: rejected: \(.status) _id=\(.id) \(.type): \(.reason)"' \
      <<<"$verdict" | head -n 5 >&2 || true
  fi
  stored=$((stored + sent - count))
done

if [ "$rejected" != 0 ]; then
  echo "to-elasticsearch: $rejected events rejected ($stored stored); state not moved" >&2
  exit 65
fi
# Phase two: every event is in the index.
mv "$state.next" "$state"
echo "to-elasticsearch: $stored events stored" >&2
