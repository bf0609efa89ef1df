#!/usr/bin/env bash
# Peak memory of canary-source draining a console of 10,000 and then of
# 100,000 generated incidents, 500 a page. The source holds one page at a time
# and remembers at most --remember-incidents incidents, so ten times the feed
# should cost about the same memory: the run fails when the larger peak is
# more than 1.20 times the smaller.
#
# Prints one JSON line per feed size (records written, seconds, peak RSS, and
# as a reference the time curl takes to fetch the same pages one after
# another), then one line with the ratio. Needs GNU time, jq and curl.
#
#   benches/source-memory.sh

set -euo pipefail
cd "$(dirname "$0")/.."

LIMIT=1.20
TOKEN=bench-token-0123456789
target=${CARGO_TARGET_DIR:-target}/release

if ! [ -x /usr/bin/time ]; then
    echo "source-memory: needs GNU time at /usr/bin/time (Debian: apt-get install time)" >&2
    exit 1
fi
for tool in jq curl; do
    command -v "$tool" >/dev/null || { echo "source-memory: needs $tool" >&2; exit 1; }
done

cargo build --quiet --release --bin canary-source --example demo-console

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The token goes to curl in a header file, never on a command line.
printf 'X-Canary-Auth-Token: %s\n' "$TOKEN" >"$work/header"

# Fetches every page of the feed like the source does, one request after the
# other. Prints the pages, the wall seconds (jq included) and the seconds
# curl itself reports for the transfers.
curl_pages() {
    local base=$1 next start end
    local feed="${base}api/v1/incidents/all"
    : >"$work/curl-times"
    start=$(date +%s.%N)
    curl -sSf -H "@$work/header" -o "$work/page.json" -w '%{time_total}\n' \
        "$feed?incidents_since=0&limit=500&shrink=true&tz=UTC" >>"$work/curl-times"
    while next=$(jq -r '.cursor.next // empty' "$work/page.json") && [ -n "$next" ]; do
        curl -sSf -G -H "@$work/header" -o "$work/page.json" -w '%{time_total}\n' \
            --data-urlencode "cursor=$next" -d shrink=true -d tz=UTC "$feed" >>"$work/curl-times"
    done
    end=$(date +%s.%N)
    awk -v start="$start" -v end="$end" \
        '{ sum += $1 } END { printf "%d %.2f %.2f\n", NR, end - start, sum }' "$work/curl-times"
}

# Drains a console of $1 incidents once with canary-source and once with
# curl; prints the JSON line and leaves the peak RSS in $work/peak-$1.
measure() {
    local incidents=$1 url records seconds peak pages curl_wall curl_transfer
    coproc CONSOLE {
        exec "$target/examples/demo-console" --incidents "$incidents" --seed 1 --token "$TOKEN"
    }
    local console_pid=$CONSOLE_PID console_in=${CONSOLE[1]}
    read -r url <&"${CONSOLE[0]}"

    records=$(
        CANARY_AUTH_TOKEN=$TOKEN /usr/bin/time -v -o "$work/time-$incidents" \
            "$target/canary-source" --console "$url" --once --page-size 500 \
            --state-file "$work/state-$incidents.json" 2>"$work/log-$incidents" | wc -l
    )
    seconds=$(awk -F': ' '/Elapsed \(wall clock\)/ {
        n = split($2, part, ":"); s = 0
        for (i = 1; i <= n; i++) s = s * 60 + part[i]
        printf "%.2f", s }' "$work/time-$incidents")
    peak=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time-$incidents")
    echo "$peak" >"$work/peak-$incidents"
    read -r pages curl_wall curl_transfer < <(curl_pages "$url")

    # Closing its stdin stops the console.
    eval "exec $console_in>&-"
    wait "$console_pid" || true

    printf '{"incidents":%d,"records":%d,"seconds":%s,"peak_rss_kib":%d,' \
        "$incidents" "$records" "$seconds" "$peak"
    printf '"curl_pages":%d,"curl_seconds":%s,"curl_transfer_seconds":%s}\n' \
        "$pages" "$curl_wall" "$curl_transfer"
}

measure 10000
measure 100000

small=$(cat "$work/peak-10000")
large=$(cat "$work/peak-100000")
awk -v small="$small" -v large="$large" -v limit="$LIMIT" 'BEGIN {
    ratio = large / small
    printf "{\"peak_ratio_100k_10k\":%.3f,\"limit\":%.2f,\"pass\":%s}\n",
        ratio, limit, (ratio <= limit ? "true" : "false")
    exit (ratio <= limit ? 0 : 1)
}'
