#!/usr/bin/env bash
# README command 2: formatting, lints, the infra checks and every test, including the end-to-end tests with the
# real model and the SQS tests against moto.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/codingworker/target}"

echo "== cargo fmt --check" >&2
cargo fmt --all --check
echo "== cargo clippy -D warnings" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== infra: terraform fmt, checkov, HCL properties, actionlint, message builder" >&2
scripts/check-infra.sh

echo "== moto (SQS and CloudWatch Logs) for the AWS-path tests" >&2
eval "$(scripts/moto-server.sh)"

if [ -z "${CODINGWORKER_SKIP_DOCKER_TESTS:-}" ]; then
  echo "== sandbox test image (Debian + python3 + pytest, cached)" >&2
  scripts/sandbox-test-image.sh
  echo "== OpenHands agent-server image (Debian trixie + openhands-agent-server from PyPI, cached)" >&2
  scripts/openhands-image.sh >/dev/null
fi

echo "== model server (32k context: the real OpenHands agent's first request is ~7,600 tokens)" >&2
eval "$(CODINGWORKER_MODEL_CTX=32768 scripts/model-server.sh)"
export CODINGWORKER_TEST_LLM_URL="$CODINGWORKER_LLM_BASE_URL"
export CODINGWORKER_TEST_LLM_PROTOCOL="$CODINGWORKER_LLM_PROTOCOL"
export CODINGWORKER_TEST_LLM_MODEL="$CODINGWORKER_LLM_MODEL"
# Tests configure codingworker explicitly; the settings above must not leak into them.
unset CODINGWORKER_LLM_BASE_URL CODINGWORKER_LLM_PROTOCOL CODINGWORKER_LLM_MODEL
# pytest from the model's venv, so the agent's test detection sees a real pytest too.
export PATH="$HOME/.cache/codingworker/venv/bin:$PATH"

echo "== cargo test (including the ignored real-model tests)" >&2
cargo test --workspace --locked -- --include-ignored

echo "== soak, shortened (2 minutes of bursts and idle gaps; docs/reliability.md has the long run)" >&2
python3 scripts/soak.py --minutes 2 --gap 20 --debug
