#!/usr/bin/env python3
"""Writes a zone of about RECORDS records shaped as zones written by hand and by other
tools are, not as zonectl's own generator writes them: records grouped by name, the names
in no particular order; relative and absolute owners, blank owners continuing the previous
one; comments; multi-line records in parentheses (SOA, DKIM keys, long SPF); TXT split into
several strings; an SRV/MX/CAA/TLSA mix beside A and AAAA; TTLs written and inherited.

    bench/foreign-zone.py RECORDS [SEED] > zone

Deterministic for a seed (Python's `random` with it), so every run measures the same file.
"""
import random
import sys

records = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 7)
origin = "bench.example."
out = sys.stdout
write = out.write

write(f"$ORIGIN {origin}\n$TTL 3600\n")
write("@ IN SOA ns1.bench.example. hostmaster.bench.example. (\n"
      "        2026120601 ; serial\n        7200       ; refresh\n        3600       ; retry\n"
      "        1209600    ; expire\n        300 )      ; minimum\n")
write("@ IN NS ns1\n  IN NS ns2.dns-provider.example.net.\nns1 IN A 192.0.2.53\n")
count = 5

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
sites = ["fra", "ams", "lon", "par", "nyc", "sfo", "sin", "syd"]
roles = ["web", "api", "mail", "db", "cache", "edge", "vpn", "git", "ci", "mon"]

def key(n):
    return "".join(rng.choice(B64) for _ in range(n))

names = []
i = 0
while count < records:
    kind = rng.random()
    host = f"{rng.choice(roles)}{i}"
    i += 1
    lines = []
    if kind < 0.45:
        # A host in a site: addresses, sometimes an SPF and a CAA.
        owner = f"{host}.{rng.choice(sites)}"
        lines.append(f"{owner} {rng.choice(['', '300 ', '60 '])}IN A 10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}")
        lines.append(f"    AAAA 2001:db8:{rng.randrange(65536):x}::{rng.randrange(65536):x}")
        if rng.random() < 0.5:
            lines.append(f"    IN TXT \"v=spf1 ip4:10.{rng.randrange(256)}.0.0/16 include:_spf.example.net ~all\"")
        if rng.random() < 0.3:
            lines.append(f"    CAA 0 issue \"letsencrypt.org\"")
    elif kind < 0.60:
        # Mail: MX set, DKIM key over several strings in parentheses, DMARC.
        owner = f"{host}.mail"
        lines.append(f"{owner}.{origin} 3600 IN MX 10 mx1.{owner}.{origin}")
        lines.append(f"    IN MX 20 mx2.mail-provider.example.net.")
        dkim = key(rng.choice([216, 392]))
        parts = [dkim[j:j + 200] for j in range(0, len(dkim), 200)]
        body = "\n        ".join(f"\"{p}\"" for p in parts)
        lines.append(f"s{i}._domainkey.{owner} 3600 IN TXT ( \"v=DKIM1; k=rsa; p=\"\n        {body} )")
        lines.append(f"_dmarc.{owner} IN TXT \"v=DMARC1; p=quarantine; rua=mailto:dmarc@{owner}.{origin}\"")
    elif kind < 0.75:
        # Services.
        owner = f"_sip._tcp.{host}"
        lines.append(f"{owner} 86400 IN SRV 10 60 5060 sip1.{host}")
        lines.append(f"    86400 SRV 20 40 5060 sip2.{host}")
        lines.append(f"_443._tcp.{host} IN TLSA 3 1 1 {''.join(rng.choice('0123456789abcdef') for _ in range(64))}")
    elif kind < 0.88:
        # Aliases and their targets.
        lines.append(f"{host} IN CNAME {rng.choice(roles)}{rng.randrange(max(i, 1))}.{rng.choice(sites)}")
        lines.append(f"{host}-v6 IN AAAA 2001:db8::{rng.randrange(65536):x}")
    else:
        # A long verification TXT set, one string per line.
        lines.append(f"{host} 300 IN TXT ( \"google-site-verification={key(43)}\" ) ; added by hand")
        lines.append(f"    300 TXT \"ms={key(12)}\"")
        lines.append(f"    300 IN TXT \"{key(250)}\" \"{key(120)}\"")
    count += sum(1 for line in lines)
    names.append("\n".join(lines))

rng.shuffle(names)
for group in names:
    write(group)
    write("\n")
