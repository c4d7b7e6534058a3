#!/bin/sh
# dehydrated's HOOK (one executable path): deploy_challenge and clean_challenge go to zonectl,
# HOOK_CHAIN=yes included; every other handler exits 0 without a word, as dehydrated requires.
# zonectl reads its usual configuration (ZONECTL_CONFIG or ./zonectl.toml); set ZONECTL to
# the binary's path when it is not on PATH.
exec "${ZONECTL:-zonectl}" acme dehydrated "$@"
