#!/usr/bin/env bash
# canary-transform against what a user would otherwise run, on one generated
# file, in one run: the jq program benches/sekoia.jq (when jq is installed),
# the VRL program benches/sekoia.vrl (when `vrl` is on PATH), and the floor:
# parsing each line and writing it again with serde_json and with simd-json
# (examples/parse-limit.rs). Then canary-transform's peak memory on 100,000
# and on 1,000,000 records.
#
# Prints one JSON line per measure: records, seconds (the median of REPEAT
# runs for the quick measures, one run for jq and VRL), CPU seconds, records
# per second, peak RSS, and `vs_canary_transform`, canary-transform's speed
# divided by the measure's (2.0: canary-transform is twice as fast), with the
# issue's target for it and whether it was met. canary-transform runs with a
# worker per CPU, the others on one thread: compare CPU seconds for the cost
# per record. Timings are reported, not asserted; other work on the machine
# skews them. Needs GNU time (/usr/bin/time).
#
#   benches/compare.sh                # 200,000 records, seed 1, 3 runs
#   RECORDS=500000 SEED=2 REPEAT=5 MEMORY=0 benches/compare.sh
#   VRL=/opt/vrl/bin/vrl benches/compare.sh   # vrl not on PATH

set -euo pipefail

RECORDS=${RECORDS:-200000}
MEMORY=${MEMORY:-1}
SEED=${SEED:-1}
REPEAT=${REPEAT:-3}

fail() {
    echo "compare: $*" >&2
    exit 2
}
case $RECORDS in '' | *[!0-9]*) fail "RECORDS must be a number, not '$RECORDS'" ;; esac
# Fewer records take the bare parsers a few hundredths of a second, too
# near the timer's 0.01 s resolution for a ratio.
[ "$RECORDS" -ge 50000 ] || fail "RECORDS must be at least 50000 (the issue's measure is 200000)"
case $REPEAT in '' | *[!0-9]* | 0) fail "REPEAT must be a positive number, not '$REPEAT'" ;; esac
case $SEED in '' | *[!0-9]*) fail "SEED must be a number, not '$SEED'" ;; esac
if ! [ -x /usr/bin/time ]; then
    fail "needs GNU time at /usr/bin/time (Debian: apt-get install time)"
fi
# VRL as the caller gave it: a name on PATH or a path from where they are.
VRL=${VRL:-$(command -v vrl || true)}
if [ -n "$VRL" ]; then
    resolved=$(command -v "$VRL" || true)
    if [ -z "$resolved" ] || ! [ -x "$resolved" ]; then
        fail "VRL=$VRL is not an executable"
    fi
    VRL=$(realpath "$resolved")
fi

cd "$(dirname "$0")/.."
cargo build --quiet --release --bin canary-transform --example generate-records --example parse-limit
# shellcheck source=benches/release-dir.sh
. benches/release-dir.sh
target=$(release_dir)

work=$(mktemp -d)
running=
# An interrupted run stops the command being measured too, not only itself.
stop() {
    if [ -n "$running" ]; then
        pkill -TERM -P "$running" 2>/dev/null || true
        kill -TERM "$running" 2>/dev/null || true
    fi
    exit 130
}
trap stop INT TERM
trap 'rm -rf "$work"' EXIT
input="$work/records.ndjson"
"$target/examples/generate-records" --records "$RECORDS" --seed "$SEED" >"$input"
bytes=$(stat -c %s "$input")
echo "{\"input\":\"generated records\",\"records\":$RECORDS,\"bytes\":$bytes,\"seed\":$SEED,\"cpus\":$(nproc)}"

# Runs a command $2 times with the input on stdin and the output in
# $work/out; leaves "seconds cpu_seconds peak_kb" (median times, highest
# peak) in $work/measure-<name>; fails if the output does not hold one line
# per record.
run() {
    local name=$1 times=$2
    shift 2
    : >"$work/runs-$name"
    for _ in $(seq "$times"); do
        /usr/bin/time -f '%e %U %S %M' -o "$work/time-$name" "$@" <"$input" >"$work/out" 2>"$work/err-$name" &
        running=$!
        wait "$running" || {
            echo "compare: $name failed:" >&2
            tail -5 "$work/err-$name" >&2
            return 1
        }
        running=
        local lines
        lines=$(wc -l <"$work/out")
        if [ "$lines" -ne "$RECORDS" ]; then
            echo "compare: $name wrote $lines lines for $RECORDS records" >&2
            return 1
        fi
        tail -1 "$work/time-$name" >>"$work/runs-$name"
    done
    sort -n "$work/runs-$name" | awk '{ s[NR] = $1; c[NR] = $2 + $3; if ($4 > kb) kb = $4 }
        END { m = int((NR + 1) / 2); print s[m], c[m], kb, NR }' >"$work/measure-$name"
}

# Prints the JSON line of a measure; $2 is the speed canary-transform must
# reach relative to it (empty: none).
report() {
    local name=$1 goal=$2 note=${3:-}
    read -r seconds cpu peak_kb runs <"$work/measure-$name"
    read -r ct_seconds _ <"$work/measure-canary-transform"
    awk -v name="$name" -v records="$RECORDS" -v s="$seconds" -v cpu="$cpu" -v kb="$peak_kb" \
        -v runs="$runs" -v ct="$ct_seconds" -v target="$goal" -v note="$note" 'BEGIN {
        rate = s > 0 ? records / s : 0
        ct_rate = ct > 0 ? records / ct : 0
        vs = rate > 0 ? ct_rate / rate : 0
        printf "{\"measure\":\"%s\",\"records\":%d,\"runs\":%d,\"seconds\":%.2f,\"cpu_seconds\":%.2f,\"records_per_sec\":%d,\"peak_rss_mb\":%.1f,\"vs_canary_transform\":%.2f", name, records, runs, s, cpu, rate, kb / 1024, vs
        if (target != "") printf ",\"target\":%s,\"met\":%s", target, (vs >= target ? "true" : "false")
        if (note != "") printf ",\"note\":\"%s\"", note
        print "}"
    }'
}

run canary-transform "$REPEAT" "$target/canary-transform"
report canary-transform "" "$(nproc) workers, one per CPU"
run serde-json "$REPEAT" "$target/examples/parse-limit" serde-json
report serde-json 1.0 "bare parse and re-serialize"
run simd-json "$REPEAT" "$target/examples/parse-limit" simd-json
report simd-json 0.7 "bare parse and re-serialize"
if [ -n "$VRL" ]; then
    # vrl reads its whole input before it starts, so its peak memory grows
    # with the file.
    run vrl 1 "$VRL" --input "$input" --program benches/sekoia.vrl --print-object --quiet
    report vrl 6 "vrl command line (cargo install vrl), whole file in memory"
else
    echo '{"measure":"vrl","skipped":"no vrl on PATH and VRL unset (cargo install vrl --version 0.38.0 --locked --features cli, about 12 min to build here)"}'
fi
if command -v jq >/dev/null; then
    run jq 1 jq -c -f benches/sekoia.jq
    report jq 50 "$(jq --version)"
else
    echo '{"measure":"jq","skipped":"jq is not installed"}'
fi

if [ "$MEMORY" = 1 ]; then
    # Peak memory must not grow with the input: 1M records within 20% of 100k.
    for records in 100000 1000000; do
        "$target/examples/generate-records" --records "$records" --seed "$SEED" >"$input"
        RECORDS=$records run "memory-$records" 1 "$target/canary-transform"
    done
    read -r small_s _ small_kb _ <"$work/measure-memory-100000"
    read -r large_s _ large_kb _ <"$work/measure-memory-1000000"
    awk -v a="$small_kb" -v b="$large_kb" -v as="$small_s" -v bs="$large_s" 'BEGIN {
        ratio = b / a
        printf "{\"measure\":\"canary-transform memory\",\"peak_rss_mb_100k\":%.1f,\"seconds_100k\":%.2f,\"peak_rss_mb_1m\":%.1f,\"seconds_1m\":%.2f,\"ratio\":%.3f,\"limit\":1.20,\"met\":%s}\n", a / 1024, as, b / 1024, bs, ratio, (ratio <= 1.20 ? "true" : "false")
    }'
fi
