"""Stand-in for `python -m openhands.agent_server`: the calls CodingWorker makes, with the agent-server's shapes
(1.58.2). A request that breaks the container contract is refused with 422 and says how."""
import json, os, re, sys, threading, time, urllib.request, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEY = os.environ.get("OH_SESSION_API_KEYS_0", "")
CONVERSATIONS = {}
LOCK = threading.Lock()


def contract_problems(body):
    """What the worker got wrong about the container or the conversation, if anything."""
    problems = []
    if os.path.exists("/var/run/docker.sock"):
        problems.append("the Docker socket is mounted")
    if os.getuid() == 0:
        problems.append("the server runs as root")
    try:
        open("/etc/standin-probe", "w").close()
        problems.append("the root filesystem is writable")
    except OSError:
        pass
    if not os.access("/workspace", os.W_OK):
        problems.append("/workspace is not mounted writable")
    if not os.access(os.environ.get("HOME", "/nonexistent"), os.W_OK):
        problems.append("HOME is not writable")
    if os.environ.get("LITELLM_LOCAL_MODEL_COST_MAP") != "True":
        problems.append("LITELLM_LOCAL_MODEL_COST_MAP is not True (LiteLLM would try GitHub at start-up)")
    for name in os.environ:
        if re.search(r"TOKEN|SECRET|PASSWORD", name):
            problems.append(f"a secret-like variable {name} reached the container")
    llm = body.get("agent", {}).get("llm", {})
    if not re.match(r"^(openai|ollama_chat)/.+", llm.get("model", "")):
        problems.append(f"llm.model {llm.get('model')!r} is not openai/... or ollama_chat/...")
    if not str(llm.get("base_url", "")).startswith("http://host.docker.internal"):
        problems.append(f"llm.base_url {llm.get('base_url')!r} does not go through host.docker.internal")
    if llm.get("native_tool_calling") is not False:
        problems.append("native_tool_calling is not off (small models write tool calls as text)")
    if not llm.get("api_key"):
        problems.append("llm.api_key is empty (LiteLLM needs a placeholder)")
    if int(llm.get("timeout") or 0) < 600:
        problems.append("llm.timeout is under 600 s")
    if body.get("workspace", {}).get("working_dir") != "/workspace":
        problems.append("workspace.working_dir is not /workspace")
    if body.get("autotitle") is not False:
        problems.append("autotitle is on (one more model call)")
    if not isinstance(body.get("max_iterations"), int):
        problems.append("max_iterations is missing")
    text = first_message(body)
    if "<issue>" not in text:
        problems.append("the issue is not fenced in the first message")
    return problems


def first_message(body):
    content = body.get("initial_message", {}).get("content", [])
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def directive(text, name):
    match = re.search(rf"^\s*standin:\s*{re.escape(name)}(?=\s|$)\s*(.*)$", text, re.M)
    return None if match is None else match.group(1).strip()


def ask_model(llm):
    """One model call through the relay, as the agent would make; returns (answer, usage)."""
    prompt = "Write one short friendly greeting sentence. Reply with the sentence only."
    model = llm["model"].split("/", 1)[1]
    if llm["model"].startswith("openai/"):
        url = llm["base_url"].rstrip("/") + "/chat/completions"
        payload = {"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": 24, "temperature": 0}
    else:
        url = llm["base_url"].rstrip("/") + "/api/chat"
        options = dict(llm.get("litellm_extra_body", {}).get("options", {}), num_predict=24)
        payload = {"model": model, "messages": [{"role": "user", "content": prompt}], "stream": False, "options": options}
    request = urllib.request.Request(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    reply = json.load(urllib.request.urlopen(request, timeout=600))
    if "choices" in reply:
        usage = reply.get("usage", {})
        return reply["choices"][0]["message"]["content"], (usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0))
    return reply["message"]["content"], (reply.get("prompt_eval_count", 0), reply.get("eval_count", 0))


def run(conversation_id, body, message=None):
    """One run of the agent: on the first message, or on a later user message (`message`)."""
    conversation = CONVERSATIONS[conversation_id]
    text = first_message(body)
    events = conversation["events"]

    def event(kind, **fields):
        events.append(dict(id=str(uuid.uuid4()), kind=kind, timestamp=time.strftime("%Y-%m-%dT%H:%M:%S"), **fields))

    def finish(status, error=None):
        if error:
            event("ConversationErrorEvent", source="environment", code=error[0], detail=error[1])
        conversation["execution_status"] = status

    conversation["execution_status"] = "running"
    said = text if message is None else message
    event("MessageEvent", source="user", llm_message={"role": "user", "content": [{"type": "text", "text": said}]})
    if directive(text, "sleep"):
        for _ in range(int(directive(text, "sleep")) * 10):
            if conversation["execution_status"] != "running":
                return
            time.sleep(0.1)
    try:
        answer, (prompt_tokens, completion_tokens) = ask_model(body["agent"]["llm"])
    except Exception as error:  # noqa: BLE001 - reported as the agent-server reports it
        return finish("error", ("LLMServiceUnavailableError", f"stand-in: no answer from the model: {error}"))
    metrics = conversation["stats"]["usage_to_metrics"]["agent"]
    metrics["token_usages"].append({"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens})
    total = metrics["accumulated_token_usage"]
    total["prompt_tokens"] += prompt_tokens
    total["completion_tokens"] += completion_tokens
    # `write-after-nudge F`: like a small model, finish having changed nothing until a later message asks again.
    target = directive(text, "write") or (directive(text, "write-after-nudge") if message is not None else None)
    if target:
        event("ActionEvent", source="agent", tool_name="file_editor", action={"command": "create", "path": target})
        with open(os.path.join("/workspace", target), "w") as out:
            out.write(answer.strip() + "\n")
    if directive(text, "error"):
        return finish("error", (directive(text, "error"), "stand-in: asked to fail"))
    if directive(text, "stuck") is not None:
        return finish("stuck")
    event("ActionEvent", source="agent", tool_name="finish", action={"message": answer})
    finish("finished")


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def authorised(self):
        if self.path.startswith("/api/") and (not KEY or self.headers.get("X-Session-API-Key") != KEY):
            self.reply(401, {"detail": "Unauthorized"})
            return False
        return True

    def conversation(self):
        match = re.match(r"^/api/conversations/([0-9a-f-]+)", self.path)
        return None if match is None else CONVERSATIONS.get(match.group(1))

    def info(self, conversation):
        return {key: conversation[key] for key in ("id", "execution_status", "stats")}

    def do_GET(self):
        if self.path in ("/alive", "/health"):
            return self.reply(200, {"status": "ok"})
        if self.path == "/ready":
            return self.reply(200, {"status": "ready"})
        if not self.authorised():
            return
        conversation = self.conversation()
        if conversation is None:
            return self.reply(404, {"detail": "Not Found"})
        if "/events/search" in self.path:
            return self.reply(200, {"items": conversation["events"], "next_page_id": None})
        return self.reply(200, self.info(conversation))

    def do_POST(self):
        if not self.authorised():
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if self.path == "/api/conversations":
            problems = contract_problems(body)
            if problems:
                return self.reply(422, {"detail": "stand-in: contract violated: " + "; ".join(problems)})
            conversation_id = str(uuid.uuid4())
            usage = {"prompt_tokens": 0, "completion_tokens": 0, "cache_read_tokens": 0}
            CONVERSATIONS[conversation_id] = {
                "id": conversation_id, "execution_status": "idle", "events": [], "body": body,
                "stats": {"usage_to_metrics": {"agent": {"accumulated_token_usage": usage, "token_usages": []}}},
            }
            threading.Thread(target=run, args=(conversation_id, body), daemon=True).start()
            return self.reply(201, self.info(CONVERSATIONS[conversation_id]))
        conversation = self.conversation()
        if conversation is None:
            return self.reply(404, {"detail": "Not Found"})
        if self.path.endswith("/interrupt"):
            conversation["execution_status"] = "paused"
            return self.reply(200, {"success": True})
        if self.path.endswith("/events"):
            text = "".join(part.get("text", "") for part in body.get("content", []) if isinstance(part, dict))
            if body.get("role") != "user" or not text:
                return self.reply(422, {"detail": "stand-in: a message needs role user and text content"})
            if body.get("run") is True:
                threading.Thread(target=run, args=(conversation["id"], conversation["body"], text), daemon=True).start()
            return self.reply(200, {"success": True})
        return self.reply(404, {"detail": "Not Found"})

    def do_DELETE(self):
        if not self.authorised():
            return
        conversation = self.conversation()
        if conversation is None:
            return self.reply(404, {"detail": "Not Found"})
        conversation["execution_status"] = "deleting"
        del CONVERSATIONS[conversation["id"]]
        return self.reply(200, {"success": True})

    def log_message(self, format, *args):
        sys.stderr.write("stand-in: " + (format % args) + "\n")


def main():
    args = sys.argv[1:]
    host = args[args.index("--host") + 1] if "--host" in args else "127.0.0.1"
    port = int(args[args.index("--port") + 1]) if "--port" in args else 8000
    print(f"stand-in agent-server on {host}:{port}", flush=True)
    ThreadingHTTPServer((host, port), Handler).serve_forever()


main()
