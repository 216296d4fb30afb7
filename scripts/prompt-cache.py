#!/usr/bin/env python3
"""Cached prompt tokens per bench task, from the llama.cpp server's own log.

llama-cpp-python's server reports no cached prompt tokens, but its log prints for every call the prompt tokens it
evaluated (`prompt eval time = ... / N tokens`); the rest of the prompt the agent reports came from the server's
prefix cache. `codingworker bench` sends a one-token probe before each agent's task, which splits the log by task.

    python3 scripts/prompt-cache.py ~/.cache/codingworker/model-server.log FIRST_LINE bench/results/STAMP.json

FIRST_LINE: the log's line count when the run started (`wc -l < model-server.log`), 0 for a log of that run alone.
Prints per task the calls seen, reported prompt tokens, evaluated and cached ones, and per agent the means.
"""
import json
import re
import sys

PROMPT = re.compile(r"prompt eval time =\s+[\d.]+ ms /\s+(\d+) tokens")
EVAL = re.compile(r"\beval time =\s+[\d.]+ ms /\s+(\d+) runs")


def calls(lines):
    """(evaluated prompt tokens, generated tokens) of each call, in order."""
    out, evaluated = [], None
    for line in lines:
        m = PROMPT.search(line)
        if m:
            evaluated = int(m.group(1))
            continue
        m = EVAL.search(line)
        if m and evaluated is not None:
            out.append((evaluated, int(m.group(1))))
            evaluated = None
    return out


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    log, first, results = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(log, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()[first:]
    segments, current = [], None
    for evaluated, generated in calls(lines):
        # The probe: "ok" and one token out; an agent call (hundreds of tokens allowed out) almost never is.
        if generated <= 1 and evaluated <= 40:
            current = []
            segments.append(current)
        elif current is not None:
            current.append(evaluated)
    with open(results, encoding="utf-8") as f:
        report = json.load(f)
    if len(segments) < len(report["results"]):
        sys.exit(f"{len(segments)} probes in the log for {len(report['results'])} results: wrong FIRST_LINE?")
    totals, mismatched = {}, 0
    for result, segment in zip(report["results"], segments):
        mismatched += len(segment) != result["llm_calls"]
        evaluated = sum(segment)
        cached = result["prompt_tokens"] - evaluated
        agent = totals.setdefault(result["agent"], [0, 0, 0])
        agent[0] += 1
        agent[1] += result["prompt_tokens"]
        agent[2] += evaluated
        note = "" if len(segment) == result["llm_calls"] else f"  (calls: {result['llm_calls']} reported)"
        print(f"{result['task']:<36} {result['agent']:<13} calls {len(segment):>3}  prompt {result['prompt_tokens']:>6}"
              f"  evaluated {evaluated:>6}  cached {cached:>6}{note}")
    # CodingWorker counts every call exactly, so mismatches on its tasks mean FIRST_LINE is off (aider's own count
    # can be short).
    print(f"{mismatched} of {len(report['results'])} tasks with another call count in the log than reported")
    for agent, (n, prompt, evaluated) in totals.items():
        share = (prompt - evaluated) / prompt if prompt else 0.0
        print(f"{agent}: {n} tasks, per task {prompt / n:,.0f} prompt tokens, {evaluated / n:,.0f} evaluated, "
              f"{(prompt - evaluated) / n:,.0f} cached ({share:.0%})")


if __name__ == "__main__":
    main()
