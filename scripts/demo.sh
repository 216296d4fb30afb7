#!/usr/bin/env bash
# README command 1: the whole flow on embedded defaults, with the real local model.
# Sets up the model server (cached under ~/.cache/codingworker), makes a local "remote" from examples/demo/repo,
# queues its issue, lets the worker fix it, and checks that the pushed branch passes the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
CACHE="${CODINGWORKER_CACHE:-$HOME/.cache/codingworker}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
say() { printf '\n== %s\n' "$*" >&2; }

say "building codingworker"
cargo build --release --locked --bin codingworker
cw="$CARGO_TARGET_DIR/release/codingworker"

say "model server"
eval "$(scripts/model-server.sh)"
# pytest from the model's venv, when present, so the agent runs the tests the way most projects do.
[ -x "$CACHE/venv/bin/pytest" ] && export PATH="$CACHE/venv/bin:$PATH"

say "sandbox"
mkdir -p "$CACHE"
# The agent's commands run in a locked-down container per attempt when Docker is here; the image is built once from
# deploy/sandbox (it needs Docker Hub's python image). Without either, the demo runs its tests on this machine: its
# repository is this project's own example, the one case host mode is meant for.
sandbox_image="${CODINGWORKER_SANDBOX_IMAGE:-codingworker-sandbox:latest}"
if command -v docker >/dev/null && docker info >/dev/null 2>&1 \
  && { docker image inspect "$sandbox_image" >/dev/null 2>&1 \
       || docker build -q -t "$sandbox_image" deploy/sandbox >/dev/null 2>"$CACHE/sandbox-build.log"; }; then
  export CODINGWORKER_SANDBOX_MODE=docker CODINGWORKER_SANDBOX_IMAGE="$sandbox_image"
  echo "tests run in Docker ($sandbox_image)" >&2
else
  export CODINGWORKER_SANDBOX_MODE=host
  echo "Docker or the sandbox image is not available (see $CACHE/sandbox-build.log): the demo's tests run on this" \
    "machine (sandbox.mode = host), fine for this example repository, not for untrusted ones" >&2
fi

demo="$CACHE/demo"
say "fresh demo remote at $demo/remote.git (a bare git repository standing in for GitHub)"
rm -rf "$demo" && mkdir -p "$demo"
git init --quiet --initial-branch=main "$demo/seed"
cp -R examples/demo/repo/. "$demo/seed/"
git -C "$demo/seed" add --all
git -C "$demo/seed" -c user.name=Demo -c user.email=demo@localhost commit --quiet -m "stats: mean and median"
git clone --quiet --bare "$demo/seed" "$demo/remote.git"
export CODINGWORKER_DATA_DIR="$demo/data"

say "the bug: the example's tests fail before the fix"
(cd "$demo/seed" && python3 -m unittest 2>&1 | tail -1) || true

say "queueing the issue (examples/demo/issue.md)"
task="$("$cw" submit --repo "$demo/remote.git" --name demo/stats --issue 1 --issue-file examples/demo/issue.md)"
echo "task $task"

say "worker: taking the task from the queue"
start=$(date +%s)
"$cw" worker --until-idle
elapsed=$(( $(date +%s) - start ))

say "task record"
"$cw" show "$task"

say "checking the pushed branch"
branch="$(git -C "$demo/remote.git" for-each-ref --format='%(refname:short)' 'refs/heads/codingworker/*' | head -1)"
if [ -z "$branch" ]; then
  echo "no branch was pushed; see the task record above" >&2
  exit 1
fi
git clone --quiet --branch "$branch" "$demo/remote.git" "$demo/check"
git -C "$demo/check" log -1 --format='commit %h by %an: %s'
git -C "$demo/check" --no-pager diff --stat origin/main HEAD
tests_ok=0
(cd "$demo/check" && python3 -m unittest -v >"$demo/check-tests.log" 2>&1) || tests_ok=$?
tail -3 "$demo/check-tests.log"
"$cw" show "$task" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
attempts = d["attempts"]
calls = sum(a["llm_calls"] for a in attempts)
prompt = sum(a["prompt_tokens"] for a in attempts)
completion = sum(a["completion_tokens"] for a in attempts)
verdict = next((a["verdict"] for a in reversed(attempts) if a.get("verdict")), None)
print("attempts: %d, LLM calls: %d, prompt tokens: %d, completion tokens: %d, verdict: %s"
      % (len(attempts), calls, prompt, completion, (verdict or "none").replace("_", " ")))
'
echo "wall time of the worker: ${elapsed}s"
if [ "$tests_ok" -ne 0 ]; then
  echo "branch $branch in $demo/remote.git FAILS the tests (see above); its pull request is a draft" >&2
  exit 1
fi
echo "branch $branch in $demo/remote.git passes the tests"
