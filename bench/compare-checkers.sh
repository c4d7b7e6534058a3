#!/usr/bin/env bash
# Times `zonectl check` against Knot's `kzonecheck` and BIND's `named-checkzone` on three
# shapes of zone that zonectl did not write for itself, and prints a Markdown table: the
# median wall time of RUNS runs, the peak memory, and zonectl's time as a share of Knot's.
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

# median wall seconds and max MB over $runs runs of "$@"
measure() {
    local times=() kb=0
    for _ in $(seq "$runs"); do
        /usr/bin/time -f '%e %M' -o "$work/time" "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
        read -r t m <"$work/time"
        times+=("$t")
        (( m > kb )) && kb=$m
    done
    printf '%s %s\n' "$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")" "$(( kb / 1024 ))"
}

echo "| $records records | zonectl check | kzonecheck | named-checkzone | zonectl / kzonecheck |"
echo "|---|---|---|---|---|"
for shape in shuffled foreign signed; do
    file="$work/$shape.zone"
    # --max-records: the default budget is 1,000,000 and the zones are a few records over.
    zonectl=(target/release/zonectl check --max-records 5000000 --origin "$origin" "$file")
    count=$("${zonectl[@]}" 2>&1 | sed -n 's/.* OK, \([0-9]*\) records.*/\1/p')
    knot_args=(-o "$origin")
    [ "$shape" = signed ] && knot_args+=(--dnssec off)
    read -r zt zm < <(measure "${zonectl[@]}")
    read -r kt km < <(measure kzonecheck "${knot_args[@]}" "$file")
    read -r bt bm < <(measure named-checkzone -q -i local "$origin" "$file")
    ratio=$(awk -v z="$zt" -v k="$kt" 'BEGIN { printf "%.2f", z / k }')
    echo "| $shape ($count records, $(( $(stat -c %s "$file") / 1048576 )) MB) | ${zt} s, ${zm} MB | ${kt} s, ${km} MB | ${bt} s, ${bm} MB | ${ratio} |"
done
