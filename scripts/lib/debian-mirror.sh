#!/usr/bin/env bash
# Prints the Debian mirror this machine's apt uses (the first non-security source), for debootstrap:
#   MIRROR="$(scripts/lib/debian-mirror.sh)"
# DEBIAN_MIRROR overrides it (APT_DIR reads another apt directory than /etc/apt); http://deb.debian.org/debian when apt names none (not a Debian machine).
set -euo pipefail
if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; exit 0; fi
APT_DIR="${APT_DIR:-/etc/apt}" python3 - <<'PY'
import glob, os, re

apt = os.environ["APT_DIR"]

def deb822(path):
    # Stanzas of `Key: value` lines; URIs and Suites may list several values.
    for stanza in re.split(r"\n\s*\n", open(path, encoding="utf-8", errors="replace").read()):
        fields = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            key, value = line.split(":", 1)
            fields[key.strip().lower()] = value.split()
        if "deb" in fields.get("types", []) and fields.get("enabled", ["yes"])[0] != "no":
            for uri in fields.get("uris", []):
                yield uri, fields.get("suites", [])

def one_line(path):
    for line in open(path, encoding="utf-8", errors="replace"):
        parts = re.sub(r"\[[^\]]*\]", "", line.split("#", 1)[0]).split()
        if len(parts) >= 3 and parts[0] == "deb":
            yield parts[1], [parts[2]]

sources = []
for path in [f"{apt}/sources.list"] + sorted(glob.glob(f"{apt}/sources.list.d/*.list")):
    try:
        sources += list(one_line(path))
    except OSError:
        pass
for path in sorted(glob.glob(f"{apt}/sources.list.d/*.sources")):
    try:
        sources += list(deb822(path))
    except OSError:
        pass
for uri, suites in sources:
    # The security archive and third-party repositories carry no full distribution for debootstrap.
    if "security" in uri or any("security" in s for s in suites) or not re.search(r"/debian/?$", uri):
        continue
    print(uri.rstrip("/"))
    break
else:
    print("http://deb.debian.org/debian")
PY
