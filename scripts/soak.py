#!/usr/bin/env python3
"""Compressed soak of the real worker: many short tasks against a fast local model, with idle gaps between bursts.

Starts a scripted OpenAI-compatible model on 127.0.0.1 (it answers the demo's fix at once), a local bare "remote" of
the demo repository, and `codingworker worker` (release build, embedded queue, host sandbox so the run measures the
worker, not Docker). Then, for the given duration, it submits bursts of tasks separated by idle gaps, and every few
seconds samples the worker's resident memory (VmRSS) and open file descriptors from /proc. At the end it checks that
every task succeeded exactly once (no loss, no duplicate pull request) and writes a report with the curves.

    scripts/soak.py --minutes 30 --out bench/results        # the report: bench/results/soak-<time>.md
    scripts/soak.py --minutes 2 --gap 20 --debug            # the shortened form scripts/test.sh runs
"""

import argparse
import http.server
import json
import os
import pathlib
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIX = (
    "stats.py\n<<<<<<< SEARCH\n    middle = len(ordered) // 2\n    return ordered[middle]\n=======\n"
    "    middle = len(ordered) // 2\n    if len(ordered) % 2 == 0:\n"
    "        return (ordered[middle - 1] + ordered[middle]) / 2\n    return ordered[middle]\n>>>>>>> REPLACE\n"
)


class Model(http.server.BaseHTTPRequestHandler):
    """Answers every chat request with the fix, and lists one model."""

    def _send(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._send({"data": [{"id": "qwen2.5-coder:1.5b"}]})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._send({
            "id": "soak", "object": "chat.completion", "created": 0, "model": "qwen2.5-coder:1.5b",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": FIX}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 600, "completion_tokens": 90, "total_tokens": 690},
        })

    def log_message(self, *args):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def git(*args, cwd=None):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def sample(pid):
    status = pathlib.Path(f"/proc/{pid}/status").read_text()
    rss_kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss_kib, fds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--burst", type=int, default=8, help="tasks per burst")
    parser.add_argument("--gap", type=float, default=60, help="idle seconds between bursts")
    parser.add_argument("--interval", type=float, default=5, help="seconds between samples")
    parser.add_argument("--out", type=pathlib.Path, help="directory for the report (default: print only)")
    parser.add_argument("--debug", action="store_true", help="use the debug build (the one the tests built)")
    args = parser.parse_args()

    cache = pathlib.Path(os.environ.get("CODINGWORKER_CACHE", pathlib.Path.home() / ".cache/codingworker"))
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", cache / "target"))
    profile = [] if args.debug else ["--release"]
    subprocess.run(["cargo", "build", *profile, "--locked", "--bin", "codingworker"], cwd=ROOT, check=True)
    binary = target / ("debug" if args.debug else "release") / "codingworker"

    work = pathlib.Path(tempfile.mkdtemp(prefix="codingworker-soak-"))
    model_port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", model_port), Model)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    seed = work / "seed"
    shutil.copytree(ROOT / "examples/demo/repo", seed)
    git("init", "--quiet", "--initial-branch=main", cwd=seed)
    git("add", "--all", cwd=seed)
    git("-c", "user.name=Soak", "-c", "user.email=soak@localhost", "commit", "--quiet", "-m", "seed", cwd=seed)
    git("clone", "--quiet", "--bare", str(seed), str(work / "remote.git"))

    env = {k: v for k, v in os.environ.items() if not k.startswith("CODINGWORKER_")}
    env.update({
        "CODINGWORKER_CONFIG": "/dev/null",
        "CODINGWORKER_DATA_DIR": str(work / "data"),
        "CODINGWORKER_SANDBOX_MODE": "host",
        "CODINGWORKER_WEB_ENABLED": "false",
        "CODINGWORKER_LLM_PROTOCOL": "openai",
        "CODINGWORKER_LLM_BASE_URL": f"http://127.0.0.1:{model_port}",
        "CODINGWORKER_QUEUE_WAIT_SECS": "5",
        "CODINGWORKER_AGENT_TEST_COMMAND": '["python3", "-m", "unittest"]',
    })
    log = open(work / "worker.log", "w")
    worker = subprocess.Popen([str(binary), "worker"], env=env, stdout=log, stderr=subprocess.STDOUT)
    time.sleep(2)

    started = time.time()
    deadline = started + args.minutes * 60
    samples = []  # (elapsed s, rss KiB, fds, tasks submitted)
    submitted = []
    next_burst = started
    number = 0
    try:
        while time.time() < deadline:
            now = time.time()
            if now >= next_burst:
                for _ in range(args.burst):
                    number += 1
                    out = subprocess.run(
                        [str(binary), "submit", "--repo", str(work / "remote.git"), "--name", "soak/stats",
                         "--issue", str(number), "--issue-file", str(ROOT / "examples/demo/issue.md")],
                        env=env, check=True, capture_output=True, text=True)
                    submitted.append(out.stdout.strip())
                next_burst = now + args.gap
            if worker.poll() is not None:
                sys.exit(f"the worker exited with {worker.returncode}; see {work / 'worker.log'}")
            rss, fds = sample(worker.pid)
            samples.append((time.time() - started, rss, fds, len(submitted)))
            time.sleep(args.interval)
        # Let the last burst finish.
        store = sqlite3.connect(work / "data/store.db")
        for _ in range(300):
            waiting = store.execute(
                "SELECT COUNT(*) FROM tasks WHERE state IN ('queued', 'running', 'retrying')").fetchone()[0]
            if waiting == 0:
                break
            time.sleep(1)
        rss, fds = sample(worker.pid)
        samples.append((time.time() - started, rss, fds, len(submitted)))
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
        server.shutdown()

    store = sqlite3.connect(work / "data/store.db")
    states = dict(store.execute("SELECT state, COUNT(*) FROM tasks GROUP BY state").fetchall())
    prs = store.execute("SELECT task_id, COUNT(*) FROM pull_requests GROUP BY task_id").fetchall()
    durations = [
        (finished - started_at) / 1000.0
        for started_at, finished in store.execute(
            "SELECT started_at, finished_at FROM attempts WHERE finished_at IS NOT NULL ORDER BY started_at")
    ]
    attempts = store.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
    succeeded = states.get("succeeded", 0)
    lost = len(submitted) - sum(states.values())
    duplicates = sum(1 for _, count in prs if count > 1)
    quarter = max(1, len(durations) // 4)
    latency_quarters = [statistics.median(durations[i:i + quarter]) for i in range(0, len(durations), quarter)][:4]
    first, last = samples[0], samples[-1]
    peak_rss = max(s[1] for s in samples)
    peak_fds = max(s[2] for s in samples)

    lines = [
        f"# Soak run, {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(started))}",
        "",
        f"Command: `scripts/soak.py --minutes {args.minutes:g} --burst {args.burst} --gap {args.gap:g}` "
        f"({'debug' if args.debug else 'release'} build, embedded queue, host sandbox, a scripted model answering "
        "at once).",
        "",
        f"- duration {last[0] / 60:.1f} min; tasks submitted {len(submitted)}, succeeded {succeeded}, "
        f"other states {dict((k, v) for k, v in states.items() if k != 'succeeded')}; attempts {attempts}",
        f"- lost tasks: {lost}; tasks with more than one pull request: {duplicates}",
        f"- resident memory: first {first[1] / 1024:.1f} MiB, last {last[1] / 1024:.1f} MiB, peak {peak_rss / 1024:.1f} MiB",
        f"- open file descriptors: first {first[2]}, last {last[2]}, peak {peak_fds}",
        "- median task latency (s) by quarter of the run: " + ", ".join(f"{q:.2f}" for q in latency_quarters),
        "",
        "| elapsed min | RSS MiB | open fds | tasks submitted |",
        "|---:|---:|---:|---:|",
    ]
    step = max(1, len(samples) // 30)
    for elapsed, rss, fds, count in samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else []):
        lines.append(f"| {elapsed / 60:.1f} | {rss / 1024:.1f} | {fds} | {count} |")
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / f"soak-{time.strftime('%Y-%m-%dT%H%M%SZ', time.gmtime(started))}.md"
        path.write_text(report)
        print(f"report: {path}", file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)
    if lost or duplicates or succeeded != len(submitted):
        sys.exit("the soak lost tasks, duplicated pull requests, or left tasks unfinished")


if __name__ == "__main__":
    main()
