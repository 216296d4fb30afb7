locals {
  queue_name = "${var.name_prefix}-${var.project}"
  # Every attempt may use the whole budget, plus the retry delays between them: keep messages long enough that
  # the last attempt can still happen, and never less than SQS's 4-day default.
  retention_seconds = max(345600, min(1209600, var.max_receive_count * (var.task_budget_seconds + 3600)))
  # The subject GitHub puts in the workflow's OIDC token for an issue event on the default branch.
  oidc_subject = "repo:${var.github_repository}:ref:refs/heads/${var.workflow_branch}"
}

resource "aws_sqs_queue" "dead_letter" {
  name                      = "${local.queue_name}-dlq"
  sqs_managed_sse_enabled   = true
  message_retention_seconds = 1209600
}

resource "aws_sqs_queue" "tasks" {
  name                       = local.queue_name
  sqs_managed_sse_enabled    = true
  visibility_timeout_seconds = var.visibility_timeout_seconds
  message_retention_seconds  = local.retention_seconds
  receive_wait_time_seconds  = 20
  max_message_size           = 262144
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = var.max_receive_count
  })
}

resource "aws_sqs_queue_redrive_allow_policy" "dead_letter" {
  queue_url = aws_sqs_queue.dead_letter.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.tasks.arn]
  })
}

# Task text is untrusted input but still private: refuse plain-HTTP access to both queues.
resource "aws_sqs_queue_policy" "tls_only" {
  for_each  = { tasks = aws_sqs_queue.tasks, dead_letter = aws_sqs_queue.dead_letter }
  queue_url = each.value.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "sqs:*"
      Resource  = each.value.arn
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}

# --- The role the repository's workflow assumes: only that repository, only its default-branch workflow runs,
# and only to send to this queue.

data "aws_iam_policy_document" "actions_trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.github_oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = [local.oidc_subject]
    }
  }
}

resource "aws_iam_role" "actions_sender" {
  name                 = "${local.queue_name}-actions"
  description          = "Assumed by ${var.github_repository}'s CodingWorker workflow to queue labelled issues."
  assume_role_policy   = data.aws_iam_policy_document.actions_trust.json
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "actions_send" {
  name = "send-tasks"
  role = aws_iam_role.actions_sender.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "SendToThisProjectQueueOnly"
      Effect   = "Allow"
      Action   = "sqs:SendMessage"
      Resource = aws_sqs_queue.tasks.arn
    }]
  })
}

# --- The worker may receive and settle this project's tasks and park them in its dead-letter queue.

resource "aws_iam_group_policy" "worker_queue" {
  name  = "${local.queue_name}-queue"
  group = var.worker_group_name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "WorkTasks"
        Effect = "Allow"
        Action = [
          "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
          "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage",
        ]
        Resource = aws_sqs_queue.tasks.arn
      },
      {
        Sid      = "ParkAndInspectDeadLetters"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
        Resource = aws_sqs_queue.dead_letter.arn
      }
    ]
  })
}

# --- Alarms: anything dead-lettered needs a human; an old message means nothing is being worked.

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  alarm_name          = "${local.queue_name}-dead-letters"
  alarm_description   = "A ${var.project} task was parked in ${aws_sqs_queue.dead_letter.name}; `codingworker status` shows why."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dead_letter.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "oldest_task" {
  alarm_name          = "${local.queue_name}-oldest-task-age"
  alarm_description   = "A ${var.project} task has waited over ${var.oldest_message_alarm_seconds} s: the worker is off or stuck."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.tasks.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.oldest_message_alarm_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
}
