#!/usr/bin/env bash
# Measures the SQS requests an idle worker makes: starts a private moto on 127.0.0.1, runs `codingworker worker`
# against one empty queue for a sample window (default 300 s), counts the requests moto served in that window and
# extrapolates to an hour and a 30-day month, against the 1,000,000 free requests per month.
#   scripts/measure-idle-sqs.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."

SAMPLE="${1:-300}"
CACHE="${CODINGWORKER_CACHE:-$HOME/.cache/codingworker}"
PORT="${CODINGWORKER_MEASURE_PORT:-5055}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
say() { printf '[measure-idle-sqs] %s\n' "$*" >&2; }

# moto on a port of its own, so only this worker's requests are counted (same install as scripts/moto-server.sh).
if [ ! -x "$CACHE/moto-venv/bin/moto_server" ]; then
  python3 -m venv "$CACHE/moto-venv"
  "$CACHE/moto-venv/bin/pip" install --quiet "$(sed -n 's/^MOTO="\(.*\)"$/\1/p' scripts/moto-server.sh)"
fi
work="$(mktemp -d)"
log="$work/moto.log"
"$CACHE/moto-venv/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$log" 2>&1 &
moto_pid=$!
worker_pid=""
cleanup() { [ -n "$worker_pid" ] && kill "$worker_pid" 2>/dev/null; kill "$moto_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 60); do grep -q "Running on" "$log" 2>/dev/null && break; sleep 0.5; done

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
queue_url="$("$CACHE/moto-venv/bin/python" - "$PORT" <<'PY'
import json, sys, boto3
sqs = boto3.client("sqs", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name="us-east-1")
dlq = sqs.create_queue(QueueName="idle-dlq", Attributes={"SqsManagedSseEnabled": "true"})["QueueUrl"]
arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
policy = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 3})
print(sqs.create_queue(QueueName="idle", Attributes={"RedrivePolicy": policy, "SqsManagedSseEnabled": "true"})["QueueUrl"])
PY
)"

eval "$(scripts/model-server.sh)"
cargo build --quiet --bin codingworker
: >"$work/config.toml"
before="$(grep -c '"POST /' "$log" || true)"
say "worker idle on $queue_url for ${SAMPLE}s (queue.wait_secs = 20, the default)"
CODINGWORKER_CONFIG="$work/config.toml" CODINGWORKER_DATA_DIR="$work/data" CODINGWORKER_QUEUE_BACKEND=sqs \
  CODINGWORKER_QUEUE_SQS_QUEUE_URLS="$queue_url" CODINGWORKER_AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" \
  AWS_CONFIG_FILE="$work/none" AWS_SHARED_CREDENTIALS_FILE="$work/none" \
  "$CARGO_TARGET_DIR/debug/codingworker" worker >"$work/worker.log" 2>&1 &
worker_pid=$!
sleep "$SAMPLE"
kill -TERM "$worker_pid"; wait "$worker_pid" || true; worker_pid=""
after="$(grep -c '"POST /' "$log" || true)"
requests=$((after - before))
python3 - "$requests" "$SAMPLE" <<'PY'
import sys
requests, seconds = int(sys.argv[1]), float(sys.argv[2])
per_hour = requests * 3600 / seconds
per_month = per_hour * 24 * 30
print(f"idle worker, one queue: {requests} SQS requests in {seconds:.0f} s (start-up checks included)")
print(f"  = {per_hour:.0f} per hour, {per_month:,.0f} per 30-day month")
print(f"  = {per_month / 1_000_000:.1%} of the SQS free tier (1,000,000 requests/month);"
      f" {int(1_000_000 // per_month) if per_month else 'any number of'} idle queues fit in it")
PY
