#!/usr/bin/env bash
# Makes sure a local model server answers and prints the settings that point codingworker at it, for `eval`:
#   eval "$(scripts/model-server.sh)"
# Ollama on 127.0.0.1:11434 is used when it already runs; otherwise the llama.cpp server (installed and cached by
# scripts/setup-model.sh) is started on 127.0.0.1:8089 and left running for the next command.
# CODINGWORKER_MODEL_CTX sets its context in tokens (default 8192, enough for the built-in agent; the OpenHands
# backend needs 16384 or more: 32768). A server this script started with a smaller context is restarted.
set -euo pipefail

CACHE="${CODINGWORKER_CACHE:-$HOME/.cache/codingworker}"
PORT="${CODINGWORKER_MODEL_PORT:-8089}"
CTX="${CODINGWORKER_MODEL_CTX:-8192}"
case "$CTX" in ''|*[!0-9]*) printf '[model-server] CODINGWORKER_MODEL_CTX must be a number of tokens, got %s\n' "$CTX" >&2; exit 2 ;; esac
ALIAS="qwen2.5-coder:1.5b"
say() { printf '[model-server] %s\n' "$*" >&2; }
here="$(cd "$(dirname "$0")" && pwd)"

answers() { python3 - "$1" <<'PY' 2>/dev/null
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=2).read()
PY
}

if [ -z "${CODINGWORKER_SKIP_OLLAMA:-}" ] && answers "http://127.0.0.1:11434/api/tags"; then
  say "Ollama answers on 127.0.0.1:11434; using it (run \`ollama pull $ALIAS\` if the model is missing)"
  echo "export CODINGWORKER_LLM_PROTOCOL=ollama CODINGWORKER_LLM_BASE_URL=http://127.0.0.1:11434 CODINGWORKER_LLM_MODEL=$ALIAS"
  exit 0
fi

port_taken() { python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2).close()
PY
}

# A running server answers nothing while it generates (one request at a time): wait for it rather than start a
# second one on the same port.
if ! answers "http://127.0.0.1:$PORT/v1/models" && port_taken "$PORT"; then
  say "something listens on 127.0.0.1:$PORT but does not answer yet (busy generating?); waiting up to 10 minutes"
  for _ in $(seq 1 300); do
    if answers "http://127.0.0.1:$PORT/v1/models"; then break; fi
    sleep 2
  done
  answers "http://127.0.0.1:$PORT/v1/models" || { say "127.0.0.1:$PORT is taken and does not answer; free the port or set CODINGWORKER_MODEL_PORT"; exit 1; }
fi

# The context this script last started the server with (llama-cpp-python does not report it).
started_ctx="$(cat "$CACHE/model-server.ctx" 2>/dev/null || echo 0)"
if answers "http://127.0.0.1:$PORT/v1/models" && [ "$started_ctx" -lt "$CTX" ] && [ -s "$CACHE/model-server.pid" ] \
  && kill -0 "$(cat "$CACHE/model-server.pid")" 2>/dev/null; then
  say "restarting the model server with a context of $CTX tokens (it runs with $started_ctx)"
  kill "$(cat "$CACHE/model-server.pid")"
  for _ in $(seq 1 30); do port_taken "$PORT" || break; sleep 1; done
fi

if ! answers "http://127.0.0.1:$PORT/v1/models"; then
  model="$("$here/setup-model.sh")"
  log="$CACHE/model-server.log"
  say "starting the llama.cpp server on 127.0.0.1:$PORT (log: $log)"
  nohup "$CACHE/venv/bin/python" -m llama_cpp.server --model "$model" --model_alias "$ALIAS" \
    --host 127.0.0.1 --port "$PORT" --n_ctx "$CTX" --n_threads "$(nproc)" --n_threads_batch "$(nproc)" \
    >"$log" 2>&1 &
  echo $! >"$CACHE/model-server.pid"
  echo "$CTX" >"$CACHE/model-server.ctx"
  for _ in $(seq 1 120); do
    if answers "http://127.0.0.1:$PORT/v1/models"; then break; fi
    if ! kill -0 "$(cat "$CACHE/model-server.pid")" 2>/dev/null; then
      say "the model server exited; last lines of $log:"; tail -20 "$log" >&2; exit 1
    fi
    sleep 1
  done
  answers "http://127.0.0.1:$PORT/v1/models" || { say "the model server did not answer within 120 s (see $log)"; exit 1; }
fi
say "model server ready on 127.0.0.1:$PORT"
echo "export CODINGWORKER_LLM_PROTOCOL=openai CODINGWORKER_LLM_BASE_URL=http://127.0.0.1:$PORT CODINGWORKER_LLM_MODEL=$ALIAS"
