#!/usr/bin/env bash
# Times `zonectl check` against Knot's `kzonecheck` and BIND's `named-checkzone` on three
# shapes of zone that zonectl did not write for itself, and prints a Markdown table: the
# median wall time of RUNS runs (the tools taking turns), the peak memory, and zonectl's
# time as a share of Knot's.
#
#   bench/compare-checkers.sh [RECORDS] [RUNS]        (defaults: 1000000 5)
#
# The shapes:
#   shuffled  zonectl's generator (every type, long and multi-string TXT), its record lines
#             in random order (`shuf` with a fixed random source);
#   foreign   bench/foreign-zone.py: grouped by name, the names in random order, relative
#             and blank owners, comments, multi-line records in parentheses (SOA, DKIM),
#             TXT over several strings, an SRV/MX/CAA/TLSA mix;
#   signed    the generator's zone of RECORDS/10 records signed by BIND's dnssec-signzone
#             (ECDSA P-256, NSEC; RRSIGs over several lines), about RECORDS/3 records in all.
#             kzonecheck runs with `--dnssec off` there: it would otherwise verify every
#             signature, which neither of the others does.
#
# named-checkzone runs with `-i local`: its default looks up the addresses of MX and SRV
# targets outside the zone in the DNS, which on a machine without a network waits out a
# timeout per name (the foreign shape has thousands).
#
# Needs kzonecheck (Debian knot-dnssecutils), named-checkzone and dnssec-signzone
# (bind9-utils), python3. Every tool runs as users run it, on this machine's cores.
set -euo pipefail
# A decimal point in $EPOCHREALTIME, whatever the locale.
export LC_ALL=C
records=${1:-1000000}
runs=${2:-5}
cd "$(dirname "$0")/.."
cargo build --release -q -p zonectl
cargo build --release -q -p zonectl-core --features generate --example gen-zone
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
origin=bench.example

target/release/examples/gen-zone "$records" 1 --no-url >"$work/sorted.zone"
{ head -n 2 "$work/sorted.zone"; tail -n +3 "$work/sorted.zone" | shuf --random-source=<(yes); } >"$work/shuffled.zone"
rm "$work/sorted.zone"
python3 bench/foreign-zone.py "$records" >"$work/foreign.zone"
target/release/examples/gen-zone $((records / 10)) 2 --no-url >"$work/unsigned.zone"
dnssec-keygen -q -K "$work" -a ECDSAP256SHA256 "$origin" >/dev/null
dnssec-keygen -q -K "$work" -a ECDSAP256SHA256 -f KSK "$origin" >/dev/null
dnssec-signzone -q -S -P -K "$work" -d "$work" -o "$origin" -f "$work/signed.zone" "$work/unsigned.zone" >/dev/null

# One run of "$@": its wall time in seconds, from bash's clock (microseconds: `time -f %e`
# counts hundredths, a tenth of the signed shape's time), and its peak memory in KB.
run_once() {
    local start=$EPOCHREALTIME
    /usr/bin/time -f '%M' -o "$work/time" "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
    local end=$EPOCHREALTIME
    echo "$start $end $(cat "$work/time")" | awk '{ printf "%.4f %d\n", $2 - $1, $3 }'
}

# The median of the first column of a file of runs, and the largest of the second in MB.
summary() {
    sort -n "$1" | awk -v n="$runs" '{ t[NR] = $1; if ($2 > m) m = $2 }
        END { printf "%.3f %d\n", t[int((n + 1) / 2)], m / 1024 }'
}

echo "| $records records | zonectl check | kzonecheck | named-checkzone | zonectl / kzonecheck |"
echo "|---|---|---|---|---|"
for shape in shuffled foreign signed; do
    file="$work/$shape.zone"
    # --max-records: the default budget is 1,000,000 and the zones are a few records over.
    zonectl=(target/release/zonectl check --max-records 5000000 --origin "$origin" "$file")
    count=$("${zonectl[@]}" 2>&1 | sed -n 's/.* OK, \([0-9]*\) records.*/\1/p')
    knot=(kzonecheck -o "$origin")
    [ "$shape" = signed ] && knot+=(--dnssec off)
    bind=(named-checkzone -q -i local "$origin" "$file")
    # The tools take turns, a run each: the VM's speed drifts over minutes, and a slow
    # stretch then falls on all of them alike.
    : >"$work/z"; : >"$work/k"; : >"$work/b"
    for _ in $(seq "$runs"); do
        run_once "${zonectl[@]}" >>"$work/z"
        run_once "${knot[@]}" "$file" >>"$work/k"
        run_once "${bind[@]}" >>"$work/b"
    done
    read -r zt zm < <(summary "$work/z")
    read -r kt km < <(summary "$work/k")
    read -r bt bm < <(summary "$work/b")
    ratio=$(awk -v z="$zt" -v k="$kt" 'BEGIN { printf "%.3f", z / k }')
    echo "| $shape ($count records, $(( $(stat -c %s "$file") / 1048576 )) MB) | ${zt} s, ${zm} MB | ${kt} s, ${km} MB | ${bt} s, ${bm} MB | ${ratio} |"
done
