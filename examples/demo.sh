#!/usr/bin/env bash
# zonectl's main job end to end, with no account: a zone kept as a file is planned and
# applied to the `zonefile` provider (a directory of zone files), a second plan shows that
# nothing is left to change, and a record is edited by hand.
#
# Runs the `zonectl` on PATH (or $ZONECTL), with the example zone beside this script or
# the one given: `examples/demo.sh [ZONE_FILE]`. From a source tree without an installed
# zonectl, it builds one first.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
zone_file=$(realpath "${1:-$here/zones/example.com.zone}")
zonectl=${ZONECTL:-$(command -v zonectl || true)}
if [ -z "$zonectl" ]; then
    if [ ! -f "$here/../Cargo.toml" ]; then
        echo "demo.sh: no zonectl on PATH; install it, or set ZONECTL=/path/to/zonectl" >&2
        exit 1
    fi
    (cd "$here/.." && cargo build --release -q -p zonectl)
    zonectl="$here/../target/release/zonectl"
fi
zone=$(basename "$zone_file" .zone)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/zonectl.toml" <<TOML
[providers.live]
kind = "zonefile"
directory = "live"

[[zone]]
name = "$zone"
source = "$zone_file"
targets = ["live"]
ignore = [{ name = "_acme-challenge*", type = "TXT" }]
TOML
export ZONECTL_STATE_DIR="$work/state"
run() {
    printf '\n$ zonectl %s\n' "$*"
    "$zonectl" --config "$work/zonectl.toml" "$@"
}
run plan
run apply --yes
run plan --detailed-exitcode
run record add "$zone" hand TXT '"added by hand"'
run record list "$zone" --type TXT
