output "state_bucket" {
  description = "S3 bucket for remote state: put it in the backend blocks of this and the project stacks."
  value       = aws_s3_bucket.state.bucket
}

output "github_oidc_provider_arn" {
  description = "ARN of the GitHub Actions OIDC identity provider; pass it to every project stack."
  value       = var.create_github_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : data.aws_iam_openid_connect_provider.github[0].arn
}

output "worker_group_name" {
  description = "IAM group of the worker; project stacks grant it access to their queues."
  value       = aws_iam_group.worker.name
}

output "worker_user_name" {
  description = "IAM user the worker runs as; create its access key with `aws iam create-access-key --user-name <this>`."
  value       = aws_iam_user.worker.name
}

output "worker_log_group" {
  description = "CloudWatch Logs group the worker writes to (log.cloudwatch_group in its config)."
  value       = aws_cloudwatch_log_group.worker.name
}

output "alarm_topic_arn" {
  description = "SNS topic every alarm notifies; pass it to every project stack."
  value       = aws_sns_topic.alarms.arn
}

output "metric_namespace" {
  description = "CloudWatch namespace of the worker's metrics."
  value       = local.metric_namespace
}
