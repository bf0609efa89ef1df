#!/usr/bin/env bash
# canary-transform against what a user would otherwise run, on one generated
# file, in one run: the jq program benches/sekoia.jq (when jq is installed),
# the VRL program benches/sekoia.vrl (when `vrl` is on PATH), and the floor:
# parsing each line and writing it again with serde_json and with simd-json
# (examples/parse-limit.rs). Then canary-transform's peak memory on 100,000
# and on 1,000,000 records.
#
# Prints one JSON line per measure: records, seconds, records per second,
# peak RSS, and `vs_canary_transform`, canary-transform's speed divided by
# the measure's (2.0: canary-transform is twice as fast), with the issue's
# target for it and whether it was met. Timings are reported, not asserted.
# Needs GNU time (/usr/bin/time).
#
#   benches/compare.sh                # 200,000 records
#   RECORDS=500000 MEMORY=0 benches/compare.sh
#   VRL=/opt/vrl/bin/vrl benches/compare.sh   # vrl not on PATH

set -euo pipefail
cd "$(dirname "$0")/.."

RECORDS=${RECORDS:-200000}
MEMORY=${MEMORY:-1}
SEED=${SEED:-1}
target=${CARGO_TARGET_DIR:-target}/release

if ! [ -x /usr/bin/time ]; then
    echo "compare: needs GNU time at /usr/bin/time (Debian: apt-get install time)" >&2
    exit 1
fi

cargo build --quiet --release --bin canary-transform --example generate-records --example parse-limit

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
input="$work/records.ndjson"
"$target/examples/generate-records" --records "$RECORDS" --seed "$SEED" >"$input"
bytes=$(stat -c %s "$input")
echo "{\"input\":\"generated records\",\"records\":$RECORDS,\"bytes\":$bytes,\"seed\":$SEED}"

# Runs a command with the input on stdin and the output in $work/out; leaves
# "seconds peak_kb" in $work/measure-<name>; fails if the output does not
# hold one line per record.
run() {
    local name=$1
    shift
    /usr/bin/time -f '%e %M' -o "$work/measure-$name" "$@" <"$input" >"$work/out" 2>"$work/err-$name" || {
        echo "compare: $name failed:" >&2
        tail -5 "$work/err-$name" >&2
        return 1
    }
    local lines
    lines=$(wc -l <"$work/out")
    if [ "$lines" -ne "$RECORDS" ]; then
        echo "compare: $name wrote $lines lines for $RECORDS records" >&2
        return 1
    fi
    tail -1 "$work/measure-$name" >"$work/measure-$name.last"
}

# Prints the JSON line of a measure; $2 is the speed canary-transform must
# reach relative to it (empty: none).
report() {
    local name=$1 target=$2 note=${3:-}
    read -r seconds peak_kb <"$work/measure-$name.last"
    read -r ct_seconds _ <"$work/measure-canary-transform.last"
    awk -v name="$name" -v records="$RECORDS" -v s="$seconds" -v kb="$peak_kb" \
        -v ct="$ct_seconds" -v target="$target" -v note="$note" 'BEGIN {
        rate = s > 0 ? records / s : 0
        ct_rate = ct > 0 ? records / ct : 0
        vs = rate > 0 ? ct_rate / rate : 0
        printf "{\"measure\":\"%s\",\"records\":%d,\"seconds\":%.2f,\"records_per_sec\":%d,\"peak_rss_mb\":%.1f,\"vs_canary_transform\":%.2f", name, records, s, rate, kb / 1024, vs
        if (target != "") printf ",\"target\":%s,\"met\":%s", target, (vs >= target ? "true" : "false")
        if (note != "") printf ",\"note\":\"%s\"", note
        print "}"
    }'
}

run canary-transform "$target/canary-transform"
report canary-transform ""
run serde-json "$target/examples/parse-limit" serde-json
report serde-json 1.0 "bare parse and re-serialize"
run simd-json "$target/examples/parse-limit" simd-json
report simd-json 0.7 "bare parse and re-serialize"
VRL=${VRL:-$(command -v vrl || true)}
if [ -n "$VRL" ]; then
    # vrl reads its whole input before it starts, so its peak memory grows
    # with the file.
    run vrl "$VRL" --input "$input" --program benches/sekoia.vrl --print-object --quiet
    report vrl 6 "vrl command line (cargo install vrl), whole file in memory"
else
    echo '{"measure":"vrl","skipped":"no vrl on PATH and VRL unset (cargo install vrl --locked, about 18 min to build here)"}'
fi
if command -v jq >/dev/null; then
    run jq jq -c -f benches/sekoia.jq
    report jq 50 "$(jq --version)"
else
    echo '{"measure":"jq","skipped":"jq is not installed"}'
fi

if [ "$MEMORY" = 1 ]; then
    # Peak memory must not grow with the input: 1M records within 20% of 100k.
    for records in 100000 1000000; do
        "$target/examples/generate-records" --records "$records" --seed "$SEED" >"$input"
        /usr/bin/time -f '%e %M' -o "$work/memory-$records" \
            "$target/canary-transform" <"$input" >/dev/null 2>"$work/err-memory"
    done
    read -r small_s small_kb < <(tail -1 "$work/memory-100000")
    read -r large_s large_kb < <(tail -1 "$work/memory-1000000")
    awk -v a="$small_kb" -v b="$large_kb" -v as="$small_s" -v bs="$large_s" 'BEGIN {
        ratio = b / a
        printf "{\"measure\":\"canary-transform memory\",\"peak_rss_mb_100k\":%.1f,\"seconds_100k\":%.2f,\"peak_rss_mb_1m\":%.1f,\"seconds_1m\":%.2f,\"ratio\":%.3f,\"limit\":1.20,\"met\":%s}\n", a / 1024, as, b / 1024, bs, ratio, (ratio <= 1.20 ? "true" : "false")
    }'
fi
