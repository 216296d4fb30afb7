#!/usr/bin/env bash
# Builds the Python toolchain image the Docker-sandbox end-to-end test runs the demo's tests in:
# Debian bookworm (minbase) with python3 and pytest, imported as codingworker-test-python:1.
# No registry is reachable on the test machines, so the root filesystem comes from Debian's packages via
# debootstrap (root needed), cached as a tarball under ~/.cache/codingworker/images so reruns only import it.
# deploy/sandbox/Dockerfile is the same toolchain for users, built from python:3.12-slim.
set -euo pipefail
IMAGE="${1:-codingworker-test-python:1}"
CACHE="${CODINGWORKER_CACHE:-$HOME/.cache/codingworker}/images"
TARBALL="$CACHE/python-bookworm-rootfs.tar"
# The mirror this machine's apt uses (DEBIAN_MIRROR overrides it).
MIRROR="$("$(dirname "$0")/lib/debian-mirror.sh")"
log() { echo "[sandbox-test-image] $*" >&2; }

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  log "$IMAGE is present"
  exit 0
fi
if [ ! -s "$TARBALL" ]; then
  command -v debootstrap >/dev/null || { log "debootstrap is missing: apt-get install debootstrap"; exit 1; }
  [ "$(id -u)" = 0 ] || { log "debootstrap needs root"; exit 1; }
  mkdir -p "$CACHE"
  root="$(mktemp -d)"
  # debootstrap mounts proc and sys in the root; a run cut short leaves them mounted. After a full run nothing is
  # mounted and umount fails (exit 2), which under `set -e` would become the exit status of a build that worked.
  trap 'umount -lR "$root/proc" "$root/sys" 2>/dev/null || true; rm -rf --one-file-system "$root" || true' EXIT
  log "debootstrap bookworm with python3 and pytest from $MIRROR (about 2 minutes, once)"
  debootstrap --variant=minbase --include=python3,python3-pytest bookworm "$root" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
    || { log "debootstrap failed; see $CACHE/debootstrap.log"; exit 1; }
  # Package caches and docs are not needed to run tests.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc "$root"/usr/share/man
  tar -C "$root" -cf "$TARBALL.part" . && mv "$TARBALL.part" "$TARBALL"
fi
log "importing $TARBALL as $IMAGE"
docker import --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'CMD ["/bin/sh"]' "$TARBALL" "$IMAGE" >/dev/null
log "$IMAGE is ready"
