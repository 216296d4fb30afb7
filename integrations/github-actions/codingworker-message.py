#!/usr/bin/env python3
"""Builds a CodingWorker task message (v1, docs/task-message.v1.schema.json) from a GitHub event: an `issues`
event that added the trigger label, or an `issue_comment` starting with `/codingworker` on a CodingWorker pull
request (a follow-up round on its branch).

Run by the workflow; reads the event payload from $GITHUB_EVENT_PATH and writes the message to stdout. Every value comes from the payload file or the environment, never from text spliced into a script, so
a hostile issue title or body is only ever data. Exits 2 with a reason on stderr when the event must not become a
task (wrong label, untrusted issue author, sender without write access).

Environment:
  GITHUB_EVENT_PATH         the event payload (set by Actions)
  GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT   make the task id unique per run (set by Actions)
  CODINGWORKER_LABEL        the trigger label (default: codingworker)
  CODINGWORKER_TRUSTED_AUTHORS   issue author associations whose text may reach the agent
                            (default: OWNER,MEMBER,COLLABORATOR)
  SENDER_PERMISSION         the labeller's permission on the repository (admin, maintain, write, ...), as
                            `gh api repos/{repo}/collaborators/{login}/permission` reports it
  CODINGWORKER_AGENT, CODINGWORKER_MODEL, CODINGWORKER_BASE_BRANCH   optional per-task overrides
  GH_TOKEN, GITHUB_API_URL, GITHUB_REPOSITORY   for a follow-up: read the pull request and its issue (set by Actions)
"""

import datetime
import json
import os
import re
import sys
import urllib.request

SCHEMA_VERSION = 1
# The worker takes an issue body of up to 64 KiB (GitHub's own cap is 65,536 characters, which can be more bytes);
# keep room for the truncation note.
MAX_BODY_BYTES = 65536 - 256
MAX_TITLE_CHARS = 256
# Control characters other than line breaks and tabs are refused by the worker; they carry no meaning in an issue.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
WRITERS = {"admin", "maintain", "write"}
TASK_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class Refused(Exception):
    """The event is valid but must not become a task."""


def env(name, default=""):
    value = os.environ.get(name, "").strip()
    return value or default


def truncate_utf8(text, limit):
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    cut = data[:limit].decode("utf-8", errors="ignore")
    return cut + "\n\n[issue body truncated by CodingWorker: it was longer than %d bytes]" % limit


def build(event, environ=None):
    """The message for `event` (a parsed payload), or raises Refused / ValueError."""
    get = (lambda name, default="": (environ or {}).get(name, default) or default) if environ is not None else env
    label = get("CODINGWORKER_LABEL", "codingworker")
    if event.get("action") != "labeled":
        raise Refused("event action is %r, not 'labeled'" % event.get("action"))
    if (event.get("label") or {}).get("name") != label:
        raise Refused("the label added is not %r" % label)
    issue = event.get("issue") or {}
    if issue.get("pull_request"):
        raise Refused("the label was added to a pull request, not an issue")
    trusted = {a.strip().upper() for a in get("CODINGWORKER_TRUSTED_AUTHORS", "OWNER,MEMBER,COLLABORATOR").split(",")}
    association = issue.get("author_association", "NONE")
    if association not in trusted:
        raise Refused(
            "the issue's author is %s, not one of %s; a maintainer can restate the issue, or widen "
            "CODINGWORKER_TRUSTED_AUTHORS" % (association, ", ".join(sorted(trusted)))
        )
    permission = get("SENDER_PERMISSION").lower()
    sender = (event.get("sender") or {}).get("login", "")
    if permission not in WRITERS:
        raise Refused("%s added the label but has %r permission; write access is needed" % (sender, permission or "no"))

    repo = event.get("repository") or {}
    owner = (repo.get("owner") or {}).get("login") or repo.get("full_name", "/").split("/")[0]
    for field, value in (("repository.name", repo.get("name")), ("repository.owner", owner),
                         ("repository.clone_url", repo.get("clone_url")), ("issue.number", issue.get("number")),
                         ("issue.title", issue.get("title")), ("sender.login", sender)):
        if value in (None, ""):
            raise ValueError("the event has no %s" % field)

    run_id, attempt = get("GITHUB_RUN_ID", "local"), get("GITHUB_RUN_ATTEMPT", "1")
    task_id = TASK_ID_UNSAFE.sub("-", "gh-%s-%s-%s-%s" % (repo.get("id", repo["name"]), issue["number"], run_id, attempt))
    overrides = {}
    for key, name in (("agent", "CODINGWORKER_AGENT"), ("model", "CODINGWORKER_MODEL"),
                      ("base_branch", "CODINGWORKER_BASE_BRANCH")):
        if get(name):
            overrides[key] = get(name)
    message = {
        "schema_version": SCHEMA_VERSION,
        "task_id": task_id[:100],
        "repository": {"owner": owner, "name": repo["name"], "clone_url": repo["clone_url"]},
        "issue": {
            "number": issue["number"],
            "title": CONTROL.sub("", issue["title"]).replace("\n", " ").replace("\r", " ").replace("\t", " ")[:MAX_TITLE_CHARS],
            "body": truncate_utf8(CONTROL.sub("", issue.get("body") or ""), MAX_BODY_BYTES),
            "labels": [CONTROL.sub("", l["name"])[:100] for l in (issue.get("labels") or [])[:100] if l.get("name")],
            "author_association": association,
            "url": issue.get("html_url"),
        },
        "sender": {"login": sender},
        # The labelling's own time (GitHub updates the issue when a label is added): a re-run of the workflow or a
        # second delivery of the event carries the same time, so the worker recognises the duplicate.
        "requested_at": issue.get("updated_at") or now(),
    }
    if overrides:
        message["overrides"] = overrides
    return message


COMMAND = "/codingworker"


def github_api(path, environ=None):
    """GET a path of the repository's REST API with the workflow's token (GH_TOKEN)."""
    get = environ.get if environ is not None else os.environ.get
    request = urllib.request.Request(
        "%s/repos/%s%s" % (get("GITHUB_API_URL", "https://api.github.com"), get("GITHUB_REPOSITORY", ""), path),
        headers={"Authorization": "Bearer %s" % get("GH_TOKEN", ""), "Accept": "application/vnd.github+json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def build_follow_up(event, environ=None, fetch=github_api):
    """The message for a `/codingworker` review comment on a CodingWorker pull request, or raises Refused."""
    get = (lambda name, default="": (environ or {}).get(name, default) or default) if environ is not None else env
    if event.get("action") != "created":
        raise Refused("comment action is %r, not 'created'" % event.get("action"))
    comment = event.get("comment") or {}
    text = (comment.get("body") or "").strip()
    if not text.startswith(COMMAND):
        raise Refused("the comment does not start with %s" % COMMAND)
    pull = event.get("issue") or {}
    if not pull.get("pull_request"):
        raise Refused("%s was written on an issue; write it on the pull request" % COMMAND)
    trusted = {a.strip().upper() for a in get("CODINGWORKER_TRUSTED_AUTHORS", "OWNER,MEMBER,COLLABORATOR").split(",")}
    association = comment.get("author_association", "NONE")
    if association not in trusted:
        raise Refused("the commenter is %s, not one of %s" % (association, ", ".join(sorted(trusted))))
    sender = (event.get("sender") or {}).get("login", "")
    permission = get("SENDER_PERMISSION").lower()
    if permission not in WRITERS:
        raise Refused("%s wrote the command but has %r permission; write access is needed" % (sender, permission or "no"))
    number = pull["number"]
    details = fetch("/pulls/%d" % number, environ)
    branch = (details.get("head") or {}).get("ref", "")
    if not branch.startswith("codingworker/"):
        raise Refused("pull request #%d is not CodingWorker's (branch %r)" % (number, branch))
    named = re.search(r"(?:Closes|Refs) #(\d+)", details.get("body") or "")
    if not named:
        raise Refused("pull request #%d does not name its issue (Closes #N or Refs #N)" % number)
    issue = fetch("/issues/%s" % named.group(1), environ)
    earlier = fetch("/issues/%d/comments?per_page=100" % number, environ)
    rounds = sum(1 for c in earlier if (c.get("body") or "").strip().startswith(COMMAND))
    event = {
        "action": "labeled",
        "label": {"name": get("CODINGWORKER_LABEL", "codingworker")},
        "issue": issue,
        "repository": event.get("repository"),
        "sender": event.get("sender"),
    }
    # The same checks as a label: the issue's text reaches the model again, so its author must be trusted too.
    message = build(event, environ)
    message["follow_up"] = {
        "pull_request": number,
        "branch": branch,
        "comment": truncate_utf8(CONTROL.sub("", text[len(COMMAND):].strip()), MAX_BODY_BYTES),
        # The comment being answered is among the listed ones once GitHub has stored it.
        "round": max(rounds, 1),
    }
    message["task_id"] = message["task_id"].replace("gh-", "gh-pr%d-" % number, 1)[:100]
    # The comment's time identifies this request among repeats of it.
    message["requested_at"] = comment.get("created_at") or now()
    return message


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    path = env("GITHUB_EVENT_PATH")
    if not path:
        print("GITHUB_EVENT_PATH is not set: run this inside GitHub Actions or set it to a payload file",
              file=sys.stderr)
        return 1
    try:
        with open(path, encoding="utf-8") as f:
            event = json.load(f)
        message = build_follow_up(event) if "comment" in event else build(event)
    except Refused as e:
        print("not queued: %s" % e, file=sys.stderr)
        return 2
    except (OSError, ValueError) as e:
        print("cannot build the task message from %s: %s" % (path, e), file=sys.stderr)
        return 1
    json.dump(message, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
