#!/usr/bin/env bash
# zonectl's main job end to end, with no account: the zone kept as a file in
# examples/zones/ is planned and applied to the `zonefile` provider (a directory of zone
# files), and a second plan shows that nothing is left to change.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p zonectl
zonectl="$PWD/target/release/zonectl"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/zonectl.toml" <<TOML
[providers.live]
kind = "zonefile"
directory = "live"

[[zone]]
name = "example.com"
source = "$PWD/examples/zones/example.com.zone"
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
run record add example.com hand TXT '"added by hand"'
run record list example.com --type TXT
