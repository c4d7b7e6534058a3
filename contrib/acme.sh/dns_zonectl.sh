#!/usr/bin/env sh
# shellcheck disable=SC2034
dns_zonectl_info='zonectl: DNS-01 through any provider zonectl is configured for
Site: zonectl
Options:
 ZONECTL Path of the zonectl binary (default: zonectl on PATH)
 ZONECTL_CONFIG Path of zonectl.toml (default: ./zonectl.toml)
'

# acme.sh DNS API script. Install: copy to ~/.acme.sh/dnsapi/ and issue with `--dns dns_zonectl`.
# zonectl finds the zone among its configured providers, adds the value without touching other
# records, and waits until every authoritative name server shows it; so `--dnssleep 0` is safe.

# Usage: dns_zonectl_add _acme-challenge.www.example.com "XKrxpRBosdIKFzxW_CT3KLZNf6q0HG9i01zxXp5CPBs"
dns_zonectl_add() {
  fulldomain="$1"
  txtvalue="$2"
  _dns_zonectl_save
  _info "Adding the TXT record at $fulldomain through zonectl"
  "${ZONECTL:-zonectl}" acme present "$fulldomain" "$txtvalue"
}

# Usage: dns_zonectl_rm _acme-challenge.www.example.com "XKrxpRBosdIKFzxW_CT3KLZNf6q0HG9i01zxXp5CPBs"
dns_zonectl_rm() {
  fulldomain="$1"
  txtvalue="$2"
  _dns_zonectl_save
  _info "Removing the TXT record at $fulldomain through zonectl"
  "${ZONECTL:-zonectl}" acme cleanup "$fulldomain" "$txtvalue"
}

# Remembers where zonectl and its configuration are, for renewals run by cron.
_dns_zonectl_save() {
  if command -v _readaccountconf_mutable >/dev/null 2>&1; then
    ZONECTL="${ZONECTL:-$(_readaccountconf_mutable ZONECTL)}"
    ZONECTL_CONFIG="${ZONECTL_CONFIG:-$(_readaccountconf_mutable ZONECTL_CONFIG)}"
    [ -n "$ZONECTL" ] && _saveaccountconf_mutable ZONECTL "$ZONECTL"
    [ -n "$ZONECTL_CONFIG" ] && _saveaccountconf_mutable ZONECTL_CONFIG "$ZONECTL_CONFIG"
  fi
  if [ -n "$ZONECTL_CONFIG" ]; then
    export ZONECTL_CONFIG
  fi
}
