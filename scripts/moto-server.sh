#!/usr/bin/env bash
# Makes sure moto's SQS emulation answers on 127.0.0.1 and prints the setting the SQS tests read, for `eval`:
#   eval "$(scripts/moto-server.sh)"
# moto is installed once into ~/.cache/codingworker/moto-venv and left running for the next command.
set -euo pipefail

CACHE="${CODINGWORKER_CACHE:-$HOME/.cache/codingworker}"
PORT="${CODINGWORKER_MOTO_PORT:-5000}"
VENV="$CACHE/moto-venv"
MOTO="moto[server]==5.2.5"
say() { printf '[moto] %s\n' "$*" >&2; }

answers() { python3 - "http://127.0.0.1:$PORT/moto-api/" <<'PY' 2>/dev/null
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=2).read()
PY
}

if ! answers; then
  if [ ! -x "$VENV/bin/moto_server" ]; then
    say "installing $MOTO into $VENV (once)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "$MOTO"
  fi
  log="$CACHE/moto-server.log"
  say "starting moto on 127.0.0.1:$PORT (log: $log)"
  nohup "$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$log" 2>&1 &
  echo $! >"$CACHE/moto-server.pid"
  for _ in $(seq 1 60); do
    if answers; then break; fi
    if ! kill -0 "$(cat "$CACHE/moto-server.pid")" 2>/dev/null; then
      say "moto exited; last lines of $log:"; tail -20 "$log" >&2; exit 1
    fi
    sleep 0.5
  done
  answers || { say "moto did not answer within 30 s (see $log)"; exit 1; }
fi
say "moto ready on 127.0.0.1:$PORT"
echo "export CODINGWORKER_TEST_SQS_ENDPOINT=http://127.0.0.1:$PORT"
