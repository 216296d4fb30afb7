"""Properties of the Terraform that matter, read from the parsed HCL (providers cannot be downloaded offline, so
`terraform validate/plan` are not available; checkov and `terraform fmt` run beside these in scripts/check-infra.sh).

Run: python -m unittest discover -s infra/tests   (needs the `hcl2` module, which checkov installs).
"""

import json
import pathlib
import re
import unittest

import hcl2

INFRA = pathlib.Path(__file__).resolve().parent.parent
# Older hcl2 releases (the one checkov ships) wrap every attribute value in a one-element list; newer ones do not.
WRAPPED = isinstance(hcl2.loads("a = 1\n")["a"], list)


def a(body, key):
    """An attribute's value, whichever way the parser wraps it."""
    value = body[key]
    return value[0] if WRAPPED and isinstance(value, list) and len(value) == 1 else value


def load(directory):
    """Merges every .tf file of a directory into one {block type: [blocks]} dict."""
    merged = {}
    for path in sorted((INFRA / directory).glob("*.tf")):
        with open(path, encoding="utf-8") as f:
            for kind, blocks in hcl2.load(f).items():
                merged.setdefault(kind, []).extend(blocks if isinstance(blocks, list) else [blocks])
    return merged


def expr(value):
    """An HCL value as text without the parser's ${...} wrapper, for comparing references."""
    text = value if isinstance(value, str) else json.dumps(value)
    match = re.fullmatch(r"\$\{(.*)\}", text.strip(), re.S)
    return (match.group(1) if match else text).strip().strip('"')


def resources(module, kind):
    found = {}
    for block in module.get("resource", []):
        for name, body in block.get(kind, {}).items():
            found[name] = body
    return found


def data_sources(module, kind):
    found = {}
    for block in module.get("data", []):
        for name, body in block.get(kind, {}).items():
            found[name] = body
    return found


def variables(module):
    """{name: {attribute: value}} with values unwrapped."""
    found = {}
    for block in module.get("variable", []):
        for name, body in block.items():
            found[name] = {k: a(body, k) for k in body if not k.startswith("__")}
    return found


def locals_of(module):
    found = {}
    for block in module.get("locals", []):
        found.update({k: a(block, k) for k in block if not k.startswith("__")})
    return found


class ProjectModule(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.module = load("modules/project")
        cls.queues = resources(cls.module, "aws_sqs_queue")
        cls.vars = variables(cls.module)

    def test_both_queues_are_encrypted_at_rest(self):
        self.assertEqual(set(self.queues), {"tasks", "dead_letter"})
        for name, queue in self.queues.items():
            encrypted = queue.get("sqs_managed_sse_enabled") is not None and a(queue, "sqs_managed_sse_enabled") is True
            encrypted = encrypted or "kms_master_key_id" in queue
            self.assertTrue(encrypted, f"queue {name} must use SSE")

    def test_redrive_goes_to_the_dead_letter_queue_after_three_receives(self):
        policy = expr(a(self.queues["tasks"], "redrive_policy")).replace("'", '"')
        self.assertIn("aws_sqs_queue.dead_letter.arn", policy)
        self.assertRegex(policy, r'"?maxReceiveCount"?\s*[:=]\s*"?(\$\{)?var\.max_receive_count')
        self.assertEqual(self.vars["max_receive_count"]["default"], 3)

    def test_visibility_timeout_is_shorter_than_the_task_budget_and_a_heartbeat_can_keep_it(self):
        self.assertEqual(expr(a(self.queues["tasks"], "visibility_timeout_seconds")), "var.visibility_timeout_seconds")
        visibility = self.vars["visibility_timeout_seconds"]["default"]
        budget = self.vars["task_budget_seconds"]["default"]
        self.assertGreaterEqual(visibility, 60, "the worker heartbeats every third of it; under a minute is noise")
        self.assertLess(visibility, budget, "a crashed worker's task must come back before a whole budget passes")
        self.assertEqual(expr(a(self.queues["tasks"], "receive_wait_time_seconds")), "20", "long polling")

    def test_messages_outlive_every_attempt(self):
        retention = expr(locals_of(self.module)["retention_seconds"])
        self.assertRegex(retention, r"var\.max_receive_count \* \(?var\.task_budget_seconds")
        self.assertEqual(expr(a(self.queues["tasks"], "message_retention_seconds")), "local.retention_seconds")
        self.assertEqual(a(self.queues["dead_letter"], "message_retention_seconds"), 1209600)

    def test_the_actions_role_trusts_only_this_repositorys_workflow_via_oidc(self):
        trust = data_sources(self.module, "aws_iam_policy_document")["actions_trust"]
        statements = trust["statement"]
        self.assertEqual(len(statements), 1)
        statement = statements[0]
        self.assertEqual(a(statement, "actions"), ["sts:AssumeRoleWithWebIdentity"])
        principal = statement["principals"][0]
        self.assertEqual(len(statement["principals"]), 1)
        self.assertEqual(a(principal, "type"), "Federated")
        self.assertEqual([expr(v) for v in a(principal, "identifiers")], ["var.github_oidc_provider_arn"])
        conditions = {a(c, "variable"): c for c in statement["condition"]}
        sub = conditions["token.actions.githubusercontent.com:sub"]
        self.assertEqual(a(sub, "test"), "StringEquals", "an exact subject, never a StringLike wildcard")
        self.assertEqual([expr(v) for v in a(sub, "values")], ["local.oidc_subject"])
        subject = expr(locals_of(self.module)["oidc_subject"])
        self.assertEqual(subject, "repo:${var.github_repository}:ref:refs/heads/${var.workflow_branch}")
        self.assertNotIn("*", subject)
        aud = conditions["token.actions.githubusercontent.com:aud"]
        self.assertEqual((a(aud, "test"), a(aud, "values")), ("StringEquals", ["sts.amazonaws.com"]))

    def test_the_actions_role_may_only_send_to_this_projects_queue(self):
        policy = expr(a(resources(self.module, "aws_iam_role_policy")["actions_send"], "policy"))
        self.assertIn('"sqs:SendMessage"', policy.replace("'", '"'))
        self.assertIn("aws_sqs_queue.tasks.arn", policy)
        self.assertNotIn("*", re.sub(r"\bsqs:\w+", "", policy).replace("Resource", ""), "no wildcard action or resource")
        self.assertNotIn("dead_letter", policy)

    def test_alarms_watch_the_dead_letter_queue_and_the_oldest_task(self):
        alarms = resources(self.module, "aws_cloudwatch_metric_alarm")
        dlq = alarms["dead_letters"]
        self.assertEqual(a(dlq, "metric_name"), "ApproximateNumberOfMessagesVisible")
        self.assertIn("aws_sqs_queue.dead_letter.name", json.dumps(a(dlq, "dimensions")))
        self.assertEqual((a(dlq, "comparison_operator"), a(dlq, "threshold")), ("GreaterThanThreshold", 0))
        oldest = alarms["oldest_task"]
        self.assertEqual(a(oldest, "metric_name"), "ApproximateAgeOfOldestMessage")
        self.assertIn("aws_sqs_queue.tasks.name", json.dumps(a(oldest, "dimensions")))
        for alarm in alarms.values():
            self.assertEqual([expr(v) for v in a(alarm, "alarm_actions")], ["var.alarm_topic_arn"])


class Foundation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.module = load("foundation")

    def test_github_oidc_provider_is_for_sts(self):
        provider = resources(self.module, "aws_iam_openid_connect_provider")["github"]
        self.assertEqual(expr(a(provider, "url")), "https://${local.github_oidc_url}")
        self.assertEqual(locals_of(self.module)["github_oidc_url"], "token.actions.githubusercontent.com")
        self.assertEqual(a(provider, "client_id_list"), ["sts.amazonaws.com"])

    def test_state_is_versioned_encrypted_private_and_tls_only(self):
        versioning = resources(self.module, "aws_s3_bucket_versioning")["state"]
        self.assertEqual(a(versioning["versioning_configuration"][0], "status"), "Enabled")
        sse = resources(self.module, "aws_s3_bucket_server_side_encryption_configuration")["state"]
        self.assertIn("AES256", json.dumps(sse))
        block = resources(self.module, "aws_s3_bucket_public_access_block")["state"]
        for key in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
            self.assertIs(a(block, key), True, key)
        policy = a(resources(self.module, "aws_s3_bucket_policy")["state_tls_only"], "policy")
        self.assertIn("aws:SecureTransport", expr(policy))

    def test_the_worker_may_publish_only_its_own_metrics_and_logs(self):
        policy = expr(a(resources(self.module, "aws_iam_group_policy")["worker_telemetry"], "policy"))
        self.assertIn("cloudwatch:namespace", policy)
        self.assertIn("local.metric_namespace", policy)
        self.assertEqual(locals_of(self.module)["metric_namespace"], "CodingWorker")
        self.assertNotIn("sqs:", policy, "queue access is granted per project, not account-wide")

    def test_a_missing_heartbeat_raises_the_alarm(self):
        alarm = resources(self.module, "aws_cloudwatch_metric_alarm")["worker_heartbeat_missing"]
        self.assertEqual(a(alarm, "metric_name"), "Heartbeat")
        self.assertEqual(expr(a(alarm, "namespace")), "local.metric_namespace")
        self.assertEqual(a(alarm, "treat_missing_data"), "breaching", "no data at all is exactly the machine being off")


class ExampleProject(unittest.TestCase):
    def test_the_example_uses_the_module_with_remote_locked_state(self):
        stack = load("projects/example")
        module = stack["module"][0]["project"]
        self.assertEqual(a(module, "source"), "../../modules/project")
        self.assertRegex(a(module, "github_repository"), r"^[\w.-]+/[\w.-]+$")
        visibility = variables(load("modules/project"))["visibility_timeout_seconds"]["default"]
        self.assertGreater(a(module, "task_budget_seconds"), visibility)
        s3 = stack["terraform"][0]["backend"][0]["s3"]
        self.assertIs(a(s3, "use_lockfile"), True)
        self.assertIs(a(s3, "encrypt"), True)


if __name__ == "__main__":
    unittest.main()
