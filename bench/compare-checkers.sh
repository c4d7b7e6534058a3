#!/usr/bin/env bash
# Times `zonectl check` against Knot's `kzonecheck` and BIND's `named-checkzone` on the
# same generated zone, written in zone order and shuffled, one core each, and prints a
# Markdown table (median of RUNS wall times, and the peak memory).
#
#   bench/compare-checkers.sh [RECORDS] [RUNS]        (defaults: 1000000 5)
#
# Needs kzonecheck (Debian knot-dnssecutils) and named-checkzone (bind9-utils). The
# shuffle is `shuf` with a fixed random source, so every run measures the same file.
set -euo pipefail
records=${1:-1000000}
runs=${2:-5}
cd "$(dirname "$0")/.."
cargo build --release -q -p zonectl -p zonectl-core --features zonectl-core/generate --example gen-zone
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
target/release/examples/gen-zone "$records" 1 --no-url >"$work/sorted.zone"
{ head -n 2 "$work/sorted.zone"; tail -n +3 "$work/sorted.zone" | shuf --random-source=<(yes); } >"$work/shuffled.zone"
origin=bench.example

# median wall seconds and max KB over $runs runs of "$@"
measure() {
    local times=() kb=0
    for _ in $(seq "$runs"); do
        /usr/bin/time -f '%e %M' -o "$work/time" taskset -c 0 "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
        read -r t m <"$work/time"
        times+=("$t")
        (( m > kb )) && kb=$m
    done
    printf '%s %s\n' "$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")" "$(( kb / 1024 ))"
}

echo "| $records records | zonectl check | kzonecheck | named-checkzone |"
echo "|---|---|---|---|"
for order in sorted shuffled; do
    file="$work/$order.zone"
    read -r zt zm < <(measure target/release/zonectl check --origin "$origin" "$file")
    read -r kt km < <(measure kzonecheck -o "$origin" "$file")
    read -r bt bm < <(measure named-checkzone -q "$origin" "$file")
    echo "| $order | ${zt} s, ${zm} MB | ${kt} s, ${km} MB | ${bt} s, ${bm} MB |"
done
