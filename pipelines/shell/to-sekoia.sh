#!/usr/bin/env bash
# One poll of a Canary console into Sekoia.io's HTTP intake (/plain/batch),
# for cron or a systemd timer. The state moves only once the intake accepted
# every batch: a failure exits non-zero and the next run sends the same
# events again (event.id lets Sekoia deduplicate them).
#
# Settings, all from the environment (see pipelines/README.md):
#   CANARY_CONSOLE, CANARY_AUTH_TOKEN or CANARY_AUTH_TOKEN_FILE   the console
#   SEKOIA_INTAKE_KEY            the intake key (never on a command line)
#   SEKOIA_INTAKE_URL            default https://intake.sekoia.io/plain/batch
#   CANARY_STATE_FILE            default /var/lib/canary-pipe/state.json
#   CANARY_EMIT                  ecs (default) or events: Sekoia's "Thinkst
#                                Canary" format parses the flat records itself
#   CANARY_SOURCE_ARGS           more canary-source options, e.g. "--flock-id X"
#   CANARY_BATCH_BYTES           uncompressed bytes per request (default 9 MB),
#                                whole lines only: a longer line goes alone
#   CANARY_CURL_RETRIES          curl's retries of a failed request (default 3)
set -euo pipefail

: "${SEKOIA_INTAKE_KEY:?set SEKOIA_INTAKE_KEY to the intake key}"
url=${SEKOIA_INTAKE_URL:-https://intake.sekoia.io/plain/batch}
state=${CANARY_STATE_FILE:-/var/lib/canary-pipe/state.json}
emit=${CANARY_EMIT:-ecs}
batch_bytes=${CANARY_BATCH_BYTES:-9000000}
retries=${CANARY_CURL_RETRIES:-3}
# A plain count of bytes: awk below would read "9M" as 9 and send each event
# alone, where split -C took it as 9 MiB.
case $batch_bytes in
  '' | *[!0-9]* | 0*)
    echo "to-sekoia: CANARY_BATCH_BYTES must be a number of bytes, not '$batch_bytes'" >&2
    exit 2
    ;;
esac
read -r -a extra <<<"${CANARY_SOURCE_ARGS:-}"
if [ -n "${CANARY_AUTH_TOKEN_FILE:-}" ]; then
  extra+=(--auth-token-file "$CANARY_AUTH_TOKEN_FILE")
fi
# Sekoia's connector drops events over 250,000 bytes; canary-source writes a
# longer ECS event shorter instead (a later --max-line-bytes in
# CANARY_SOURCE_ARGS wins).
if [ "$emit" = ecs ]; then
  extra=(--max-line-bytes 250000 "${extra[@]}")
fi

# The batch holds attack data and the header file the key: only we read them.
umask 077
spool=$(mktemp -d "${TMPDIR:-/tmp}/canary-to-sekoia.XXXXXX")
trap 'rm -rf "$spool"' EXIT

# Two runs at once would race on moving the state into place.
exec 9>>"$state.pipe.lock"
if ! flock -n 9; then
  echo "to-sekoia: another run holds $state.pipe.lock; leaving this one out" >&2
  exit 75
fi

# Phase one: the new state goes to state.next; state.json stays as it was.
canary-source --once --emit "$emit" --state-file "$state" --state-out "$state.next" \
  "${extra[@]}" >"$spool/batch.ndjson"

if [ ! -s "$spool/batch.ndjson" ]; then
  mv "$state.next" "$state"
  echo "to-sekoia: nothing new" >&2
  exit 0
fi

# Requests stay under the intake's size limit, cut between lines only: a
# line is one event, and a piece of a line is an invalid event (split -C cuts
# any line longer than its size). A line over the budget goes alone. Lengths
# in bytes: LC_ALL=C. The prefix through ENVIRON, as awk -v would read
# backslashes in TMPDIR as escapes.
prefix="$spool/part." LC_ALL=C awk -v budget="$batch_bytes" '
  {
    size = length($0) + 1
    if (used > 0 && used + size > budget) {
      close(part)
      used = 0
    }
    if (used == 0) part = sprintf("%s%06d", ENVIRON["prefix"], parts++)
    print > part
    used += size
  }' "$spool/batch.ndjson"
printf 'X-SEKOIAIO-INTAKE-KEY: %s\n' "$SEKOIA_INTAKE_KEY" >"$spool/headers"
sent=0
for part in "$spool"/part.*; do
  gzip -n "$part"
  # curl retries timeouts, 408, 429 and 5xx (honouring Retry-After); any
  # other refusal fails at once.
  if ! curl -sS --fail-with-body --retry "$retries" --connect-timeout 10 --max-time 300 \
    -H @"$spool/headers" -H 'Content-Type: text/plain' -H 'Content-Encoding: gzip' \
    --data-binary @"$part.gz" -o "$spool/reply" "$url"; then
    echo "to-sekoia: the intake refused a batch after $sent events were accepted; state not moved" >&2
    head -c 500 "$spool/reply" >&2 2>/dev/null && echo >&2
    exit 75
  fi
  sent=$((sent + $(gzip -dc "$part.gz" | wc -l)))
done

# Phase two: every batch was accepted.
mv "$state.next" "$state"
echo "to-sekoia: $sent events sent" >&2
