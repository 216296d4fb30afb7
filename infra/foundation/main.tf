data "aws_caller_identity" "current" {}

locals {
  account_id       = data.aws_caller_identity.current.account_id
  github_oidc_url  = "token.actions.githubusercontent.com"
  metric_namespace = "CodingWorker"
}

# --- GitHub Actions identity provider: lets a workflow exchange its OIDC token for a role, with no stored keys.

resource "aws_iam_openid_connect_provider" "github" {
  count          = var.create_github_oidc_provider ? 1 : 0
  url            = "https://${local.github_oidc_url}"
  client_id_list = ["sts.amazonaws.com"]
  # AWS validates GitHub's certificate itself; these are GitHub's published thumbprints, kept for older providers.
  thumbprint_list = ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4d2df264fcd"]
}

data "aws_iam_openid_connect_provider" "github" {
  count = var.create_github_oidc_provider ? 0 : 1
  url   = "https://${local.github_oidc_url}"
}

# --- Remote state for the project stacks (and, after migration, this one), locked with S3's own lock file.

resource "aws_s3_bucket" "state" {
  # checkov:skip=CKV_AWS_144: Cross-region replication doubles cost for a few kilobytes of state; versioning covers mistakes.
  # checkov:skip=CKV_AWS_18: Access logging needs a second bucket; CloudTrail already records who touched the state.
  # checkov:skip=CKV2_AWS_62: Nothing reacts to state changes, so event notifications have no consumer.
  # checkov:skip=CKV_AWS_145: SSE-S3 (AES256) encrypts the state at no cost; a KMS key adds $1/month for no extra protection here.
  bucket = "${var.name_prefix}-state-${local.account_id}"
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    id     = "expire-old-state-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 90
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_policy" "state_tls_only" {
  bucket = aws_s3_bucket.state.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}

# --- The worker's identity: an IAM user in a group. Project stacks grant the group access to their queues,
# so the worker can touch nothing else. Its access key is created outside Terraform (docs/setup-aws.md) so the
# secret never lands in the state file.

resource "aws_iam_group" "worker" {
  name = "${var.name_prefix}-worker"
}

resource "aws_iam_user" "worker" {
  # checkov:skip=CKV_AWS_273: The worker runs on a home machine without IAM Identity Center; a user with one key in the OS keychain is the practical identity. It holds no console password.
  name = "${var.name_prefix}-worker"
}

resource "aws_iam_user_group_membership" "worker" {
  user   = aws_iam_user.worker.name
  groups = [aws_iam_group.worker.name]
}

# Metrics and the worker's log stream; nothing else account-wide.
resource "aws_iam_group_policy" "worker_telemetry" {
  name  = "telemetry"
  group = aws_iam_group.worker.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "PutMetricsInOwnNamespace"
        Effect   = "Allow"
        Action   = "cloudwatch:PutMetricData"
        Resource = "*"
        Condition = {
          StringEquals = { "cloudwatch:namespace" = local.metric_namespace }
        }
      },
      {
        Sid      = "WriteOwnLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
        Resource = ["${aws_cloudwatch_log_group.worker.arn}:*"]
      }
    ]
  })
}

resource "aws_cloudwatch_log_group" "worker" {
  # checkov:skip=CKV_AWS_158: Logs carry task events, never the GitHub token; the service-owned key encrypts them at no cost.
  # checkov:skip=CKV_AWS_338: One year of logs costs more than the free tier allows for a hobby worker; 30 days is enough to debug a task.
  name              = "/${var.name_prefix}/worker"
  retention_in_days = 30
}

# --- Alarms go to one topic; an e-mail subscription is optional.

resource "aws_sns_topic" "alarms" {
  # checkov:skip=CKV_AWS_26: Alarm notices carry no secrets, and CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key; a customer key would cost $1/month.
  name = "${var.name_prefix}-alarms"
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count     = var.alarm_email == "" ? 0 : 1
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# The worker publishes Heartbeat=1 every minute while it runs; missing data means the machine is off.
resource "aws_cloudwatch_metric_alarm" "worker_heartbeat_missing" {
  alarm_name          = "${var.name_prefix}-worker-heartbeat-missing"
  alarm_description   = "No heartbeat from the CodingWorker worker for ${var.heartbeat_missing_minutes} minutes: the machine is off or the worker stopped. Queued issues wait until it is back."
  namespace           = local.metric_namespace
  metric_name         = "Heartbeat"
  statistic           = "SampleCount"
  period              = 300
  evaluation_periods  = ceil(var.heartbeat_missing_minutes / 5)
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}
