#!/usr/bin/env bash
# canary-source draining a local console (examples/demo-console.rs), 500
# incidents a page:
#
# - speed: 100,000 incidents, against curl fetching the same pages one
#   after another (the HTTP path's limit): at most 1.5 times curl's
#   transfer time;
# - memory: 20,000 and 200,000 incidents. The source holds two pages at most
#   (the one written, the next fetched ahead) and remembers at most
#   --remember-incidents (10,000) incidents to skip repeated events, so its
#   memory grows with the backlog up to 10,000 incidents and no further;
#   both sizes are past that, and ten times the backlog must peak within
#   1.20 times the memory (the run fails otherwise).
#
# Prints one JSON line per drain (records written, seconds, peak RSS, and
# for the speed drain curl's times and the source's relative to them), then
# one line for each check.
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

if ! [ -x /usr/bin/time ]; then
    echo "source-memory: needs GNU time at /usr/bin/time (Debian: apt-get install time)" >&2
    exit 1
fi
for tool in grep curl; do
    command -v "$tool" >/dev/null || { echo "source-memory: needs $tool" >&2; exit 1; }
done

cargo build --quiet --release --bin canary-source --example demo-console
# shellcheck source=benches/release-dir.sh
. benches/release-dir.sh
target=$(release_dir)

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

# Drains a console of $1 incidents with canary-source, and with curl too
# when $2 is "curl"; prints the JSON line and leaves the peak RSS in
# $work/peak-$1 and the seconds in $work/speed-$1.
measure() {
    local incidents=$1 with=${2:-} url records seconds peak pages curl_wall curl_transfer
    coproc CONSOLE {
        CANARY_AUTH_TOKEN=$TOKEN exec "$target/examples/demo-console" --incidents "$incidents" --seed 1
    }
    # shellcheck disable=SC2153 # CONSOLE_PID is set by coproc.
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
    if [ "$with" = curl ]; then
        read -r pages curl_wall curl_transfer < <(curl_pages "$url")
    fi

    # Closing its stdin stops the console.
    eval "exec $console_in>&-"
    wait "$console_pid" || true

    printf '{"incidents":%d,"records":%d,"seconds":%s,"peak_rss_kib":%d' \
        "$incidents" "$records" "$seconds" "$peak"
    if [ "$with" = curl ]; then
        printf ',"curl_pages":%d,"curl_seconds":%s,"curl_transfer_seconds":%s,' \
            "$pages" "$curl_wall" "$curl_transfer"
        # Against curl's transfers alone (its process starts and the cursor
        # extraction left out), the stricter of the two.
        awk -v s="$seconds" -v wall="$curl_wall" -v transfer="$curl_transfer" 'BEGIN {
            printf "\"vs_curl_wall\":%.2f,\"vs_curl_transfer\":%.2f", s / wall, s / transfer
        }'
        echo "$seconds $curl_transfer" >"$work/speed-$incidents"
    fi
    echo '}'
}

measure 100000 curl
measure 20000
measure 200000

read -r seconds transfer <"$work/speed-100000"
awk -v s="$seconds" -v transfer="$transfer" -v limit="$CURL_LIMIT" 'BEGIN {
    ratio = s / transfer
    printf "{\"drain_100k_vs_curl_transfer\":%.2f,\"limit\":%.2f,\"met\":%s}\n",
        ratio, limit, (ratio <= limit ? "true" : "false")
}'

small=$(cat "$work/peak-20000")
large=$(cat "$work/peak-200000")
awk -v small="$small" -v large="$large" -v limit="$LIMIT" 'BEGIN {
    ratio = large / small
    printf "{\"peak_ratio_200k_20k\":%.3f,\"limit\":%.2f,\"met\":%s}\n",
        ratio, limit, (ratio <= limit ? "true" : "false")
    exit (ratio <= limit ? 0 : 1)
}'
