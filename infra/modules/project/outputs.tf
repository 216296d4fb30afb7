output "queue_url" {
  description = "The task queue: put it in the worker's queue.sqs.queue_urls and the repository variable CODINGWORKER_QUEUE_URL."
  value       = aws_sqs_queue.tasks.id
}

output "queue_arn" {
  description = "ARN of the task queue."
  value       = aws_sqs_queue.tasks.arn
}

output "dead_letter_queue_url" {
  description = "Where tasks that failed every attempt, or can never succeed, are parked with their reason."
  value       = aws_sqs_queue.dead_letter.id
}

output "actions_role_arn" {
  description = "Role the workflow assumes: the repository variable CODINGWORKER_ROLE_ARN."
  value       = aws_iam_role.actions_sender.arn
}
