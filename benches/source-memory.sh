#!/usr/bin/env bash
# Peak memory of canary-source draining a console of 10,000 and then of
# 100,000 generated incidents, 500 a page. The source holds two pages at most
# (the one written, the next fetched ahead) and remembers at most
# --remember-incidents incidents, so ten times the feed
# should cost about the same memory: the run fails when the larger peak is
# more than 1.20 times the smaller.
#
# Prints one JSON line per feed size (records written, seconds, peak RSS, the
# time curl takes to fetch the same pages one after another, and the source's
# time relative to it), then one line comparing the 100,000-incident drain
# with curl's transfers (at most 1.5 times) and one with the memory ratio.
# Needs GNU time, grep and curl.
#
#   benches/source-memory.sh

set -euo pipefail
cd "$(dirname "$0")/.."

LIMIT=1.20
# Draining 100,000 incidents may take at most this many times curl's
# transfers of the same pages.
CURL_LIMIT=1.5
TOKEN=bench-token-0123456789
target=${CARGO_TARGET_DIR:-target}/release

if ! [ -x /usr/bin/time ]; then
    echo "source-memory: needs GNU time at /usr/bin/time (Debian: apt-get install time)" >&2
    exit 1
fi
for tool in grep curl; do
    command -v "$tool" >/dev/null || { echo "source-memory: needs $tool" >&2; exit 1; }
done

cargo build --quiet --release --bin canary-source --example demo-console

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The token goes to curl in a header file, never on a command line.
printf 'X-Canary-Auth-Token: %s\n' "$TOKEN" >"$work/header"

# Fetches every page of the feed like the source does, one request after the
# other: the HTTP path's limit. The next cursor is cut out of each page with
# grep (the demo console writes the cursor first), which costs next to
# nothing; jq, which parses the whole page, took three times as long as the
# transfers. Prints the pages, the wall seconds and the seconds curl itself
# reports for the transfers.
curl_pages() {
    local base=$1 next start end
    local feed="${base}api/v1/incidents/all"
    : >"$work/curl-times"
    start=$(date +%s.%N)
    curl -sSf -H "@$work/header" -o "$work/page.json" -w '%{time_total}\n' \
        "$feed?incidents_since=0&limit=500&shrink=true&tz=UTC" >>"$work/curl-times"
    while next=$(grep -o -m1 '"cursor":{"next":"[^"]*"' "$work/page.json" | cut -d'"' -f6) &&
        [ -n "$next" ]; do
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
        CANARY_AUTH_TOKEN=$TOKEN exec "$target/examples/demo-console" --incidents "$incidents" --seed 1
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
    printf '"curl_pages":%d,"curl_seconds":%s,"curl_transfer_seconds":%s,' \
        "$pages" "$curl_wall" "$curl_transfer"
    # Against curl's transfers alone (its process starts and the cursor
    # extraction left out), the stricter of the two.
    awk -v s="$seconds" -v wall="$curl_wall" -v transfer="$curl_transfer" 'BEGIN {
        printf "\"vs_curl_wall\":%.2f,\"vs_curl_transfer\":%.2f}\n", s / wall, s / transfer
    }'
    echo "$seconds $curl_transfer" >"$work/speed-$incidents"
}

measure 10000
measure 100000

read -r seconds transfer <"$work/speed-100000"
awk -v s="$seconds" -v transfer="$transfer" -v limit="$CURL_LIMIT" 'BEGIN {
    ratio = s / transfer
    printf "{\"drain_100k_vs_curl_transfer\":%.2f,\"limit\":%.2f,\"met\":%s}\n",
        ratio, limit, (ratio <= limit ? "true" : "false")
}'

small=$(cat "$work/peak-10000")
large=$(cat "$work/peak-100000")
awk -v small="$small" -v large="$large" -v limit="$LIMIT" 'BEGIN {
    ratio = large / small
    printf "{\"peak_ratio_100k_10k\":%.3f,\"limit\":%.2f,\"pass\":%s}\n",
        ratio, limit, (ratio <= limit ? "true" : "false")
    exit (ratio <= limit ? 0 : 1)
}'
