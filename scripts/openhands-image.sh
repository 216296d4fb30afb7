#!/usr/bin/env bash
# Builds the OpenHands agent-server image the `openhands` backend runs, with no registry: a Debian trixie root
# (its python3 is 3.13; openhands-agent-server needs 3.12 or later) from this machine's apt mirror via
# debootstrap (root needed), the pinned agent-server, SDK and tools from PyPI into /opt/openhands, imported as
# codingworker-openhands:<version>. The root is cached as a tarball under ~/.cache/codingworker/images, so a
# rerun only imports it. deploy/openhands/Dockerfile builds the same image where Docker Hub is reachable.
#   scripts/openhands-image.sh            # prints the image name when it is ready
set -euo pipefail
VERSION="${OPENHANDS_VERSION:-1.58.2}"
IMAGE="${1:-codingworker-openhands:$VERSION}"
CACHE="${CODINGWORKER_CACHE:-$HOME/.cache/codingworker}/images"
# The constraints' hash is in the name: a changed pin builds a new root.
PINS="$(sha256sum "$(dirname "$0")/../deploy/openhands/constraints.txt" | cut -c1-12)"
TARBALL="$CACHE/openhands-$VERSION-$PINS-trixie-rootfs.tar"
log() { echo "[openhands-image] $*" >&2; }

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  log "$IMAGE is present"
  echo "$IMAGE"
  exit 0
fi
if [ ! -s "$TARBALL" ]; then
  command -v debootstrap >/dev/null || { log "debootstrap is missing: apt-get install debootstrap"; exit 1; }
  [ "$(id -u)" = 0 ] || { log "debootstrap and chroot need root"; exit 1; }
  MIRROR="$("$(dirname "$0")/lib/debian-mirror.sh")"
  mkdir -p "$CACHE"
  root="$(mktemp -d)"
  # debootstrap mounts proc and sys in the root; a run cut short leaves them mounted. After a full run nothing is
  # mounted and umount fails (exit 2), which under `set -e` would become the exit status of a build that worked.
  trap 'umount -lR "$root/proc" "$root/sys" 2>/dev/null || true; rm -rf --one-file-system "$root" || true' EXIT
  log "debootstrap trixie with python3, git and tmux from $MIRROR (about 3 minutes, once)"
  debootstrap --variant=minbase --include=python3,python3-venv,git,tmux,ca-certificates trixie "$root" "$MIRROR" \
    >"$CACHE/openhands-debootstrap.log" 2>&1 || { log "debootstrap failed; see $CACHE/openhands-debootstrap.log"; exit 1; }
  # pip in the root reaches PyPI as this machine does: its DNS and its CA bundle (a proxy's CA included), for the
  # build only.
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  cp /etc/ssl/certs/ca-certificates.crt "$root/tmp/host-ca.pem"
  # Every dependency pinned as resolved once (pip freeze): the same image every time, and no backtracking.
  cp "$(dirname "$0")/../deploy/openhands/constraints.txt" "$root/tmp/constraints.txt"
  log "installing openhands-agent-server, openhands-sdk and openhands-tools $VERSION from PyPI (about 3 minutes)"
  chroot "$root" /usr/bin/python3 -m venv /opt/openhands
  env -i PATH=/usr/bin:/bin HOME=/tmp PIP_CERT=/tmp/host-ca.pem PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=180 \
    "$(command -v chroot)" "$root" /opt/openhands/bin/pip install --no-cache-dir -c /tmp/constraints.txt \
      "openhands-agent-server==$VERSION" "openhands-sdk==$VERSION" "openhands-tools==$VERSION" \
      >"$CACHE/openhands-pip.log" 2>&1 || { log "pip install failed; see $CACHE/openhands-pip.log"; exit 1; }
  # The image gets Docker's resolv.conf at run time; caches, docs and the build's CA copy are not needed.
  rm -f "$root/tmp/host-ca.pem" "$root/tmp/constraints.txt" "$root/etc/resolv.conf"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc "$root"/usr/share/man
  mkdir -p "$root/workspace"
  tar -C "$root" -cf "$TARBALL.part" . && mv "$TARBALL.part" "$TARBALL"
fi
log "importing $TARBALL as $IMAGE"
docker import \
  --change 'ENV PATH=/opt/openhands/bin:/usr/local/bin:/usr/bin:/bin' \
  --change 'ENV LITELLM_LOCAL_MODEL_COST_MAP=True' \
  --change 'ENV OPENHANDS_SUPPRESS_BANNER=1' \
  --change 'ENV HOME=/tmp' \
  --change 'ENV OH_CONVERSATIONS_PATH=/tmp/openhands/conversations' \
  --change 'ENV OH_BASH_EVENTS_DIR=/tmp/openhands/bash_events' \
  --change 'ENV OH_WORKSPACE_PATH=/tmp/openhands/project' \
  --change 'ENV OPENHANDS_AGENT_SERVER_CONFIG_PATH=/tmp/openhands/no-config.json' \
  --change 'ENV OH_ENABLE_VSCODE=false' \
  --change 'ENV OH_PRELOAD_TOOLS=false' \
  --change 'ENV OH_ENABLE_BROWSER=false' \
  --change "LABEL io.codingworker.openhands.version=$VERSION" \
  --change 'WORKDIR /workspace' \
  --change 'EXPOSE 8000' \
  --change 'CMD ["python", "-m", "openhands.agent_server", "--host", "0.0.0.0", "--port", "8000"]' \
  "$TARBALL" "$IMAGE" >/dev/null
log "$IMAGE is ready"
echo "$IMAGE"
