#!/usr/bin/env bash
# One poll of a Canary console into an Elasticsearch data stream through
# _bulk, for cron or a systemd timer. Every event is a `create` with
# _id = event.id, so an event sent twice is refused as a conflict (409),
# which counts as stored. The state moves only when every item of every
# request was stored; otherwise the run exits non-zero and the next one sends
# the same events again.
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
stored=0
rejected=0
for part in "$spool"/part.*; do
  gzip -n "$part"
  # curl retries timeouts, 408, 429 and 5xx (honouring Retry-After); any
  # other refusal fails at once, and so does the run.
  if ! curl -sS --fail-with-body --retry "$retries" --connect-timeout 10 --max-time 300 \
    "${tls[@]}" -H @"$spool/headers" --data-binary @"$part.gz" -o "$spool/reply" \
    "${ES_URL%/}/_bulk"; then
    echo "to-elasticsearch: a bulk request failed after $stored events were stored; state not moved" >&2
    head -c 500 "$spool/reply" >&2 2>/dev/null && echo >&2
    exit 75
  fi
  # The reply is 200 even when items fail, so each item is checked. A 409
  # is an event that an earlier run stored. The other parts still go: what
  # they store now is a 409 next time.
  failed=$(jq '[.items[] | to_entries[0].value | select(.status >= 300 and .status != 409)]' \
    "$spool/reply")
  count=$(jq 'length' <<<"$failed")
  if [ "$count" != 0 ]; then
    rejected=$((rejected + count))
    jq -r '.[] | "to-elasticsearch: rejected: \(.status) _id=\(._id) \(.error.type // "?"): \(.error.reason // "")"' \
      <<<"$failed" | head -n 5 >&2 || true
  fi
  stored=$((stored + $(jq '.items | length' "$spool/reply") - count))
done

if [ "$rejected" != 0 ]; then
  echo "to-elasticsearch: $rejected events rejected ($stored stored); state not moved" >&2
  exit 65
fi
# Phase two: every event is in the index.
mv "$state.next" "$state"
echo "to-elasticsearch: $stored events stored" >&2
