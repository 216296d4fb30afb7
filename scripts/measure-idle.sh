#!/usr/bin/env bash
# Measures an idle worker's footprint: starts `codingworker worker` (release build) on embedded defaults with its
# dashboard, an empty queue and the model server if one answers, lets it idle for a sample window (default 300 s)
# while a probe reads /readyz and /metrics every 15 s like a monitoring system would, and reports its resident
# memory (VmRSS) and CPU use from /proc over the window.
#   scripts/measure-idle.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."

SAMPLE="${1:-300}"
CACHE="${CODINGWORKER_CACHE:-$HOME/.cache/codingworker}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
say() { printf '[measure-idle] %s\n' "$*" >&2; }

cargo build --release --locked --bin codingworker >&2
cw="$CARGO_TARGET_DIR/release/codingworker"
work="$(mktemp -d)"
worker_pid=""
cleanup() { [ -n "$worker_pid" ] && kill "$worker_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
CODINGWORKER_CONFIG=/dev/null CODINGWORKER_DATA_DIR="$work/data" CODINGWORKER_SANDBOX_MODE=host \
  CODINGWORKER_WEB_BIND="127.0.0.1:$port" CODINGWORKER_LLM_PROTOCOL="${CODINGWORKER_LLM_PROTOCOL:-openai}" \
  CODINGWORKER_LLM_BASE_URL="${CODINGWORKER_LLM_BASE_URL:-http://127.0.0.1:8089}" \
  "$cw" worker >"$work/worker.log" 2>&1 &
worker_pid=$!
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "http://127.0.0.1:$port/healthz" >/dev/null || { say "the worker did not start:"; cat "$work/worker.log" >&2; exit 1; }

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$worker_pid/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$worker_pid/status"; }
# Settle for a few seconds first: start-up (config, store, model check) is not idling.
sleep 5
start_ticks=$(cpu_ticks)
start=$(date +%s)
samples=()
say "sampling for ${SAMPLE}s (pid $worker_pid, dashboard 127.0.0.1:$port)"
while [ $(( $(date +%s) - start )) -lt "$SAMPLE" ]; do
  samples+=("$(rss_kib)")
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || true
  curl -fs "http://127.0.0.1:$port/metrics" >/dev/null || true
  sleep 15
done
samples+=("$(rss_kib)")
elapsed=$(( $(date +%s) - start ))
used_ticks=$(( $(cpu_ticks) - start_ticks ))
printf '%s\n' "${samples[@]}" | sort -n | awk -v n="${#samples[@]}" -v ticks="$used_ticks" -v hz="$ticks" -v secs="$elapsed" '
  { v[NR] = $1 }
  END {
    printf "idle worker over %d s (%d samples, probed every 15 s): RSS min %.1f MiB, median %.1f MiB, max %.1f MiB; ", secs, n, v[1]/1024, v[int((n+1)/2)]/1024, v[n]/1024
    printf "CPU %.2f s = %.3f%% of one core\n", ticks/hz, 100*ticks/hz/secs
  }'
