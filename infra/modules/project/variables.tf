variable "name_prefix" {
  description = "Prefix of resource names, as in the foundation (default codingworker)."
  type        = string
  default     = "codingworker"
}

variable "project" {
  description = "Short project name; the queue is <name_prefix>-<project>, its dead-letter queue <name_prefix>-<project>-dlq."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,40}$", var.project))
    error_message = "project must be 1-41 lowercase letters, digits or hyphens."
  }
}

variable "github_repository" {
  description = "The repository whose workflow may send tasks, as owner/name."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be owner/name."
  }
}

variable "workflow_branch" {
  description = "Branch the trigger workflow runs on: issue events run on the default branch, which is what GitHub's OIDC token names in its subject."
  type        = string
  default     = "main"
}

variable "github_oidc_provider_arn" {
  description = "The foundation's github_oidc_provider_arn output."
  type        = string
}

variable "worker_group_name" {
  description = "The foundation's worker_group_name output: this group may receive and settle the project's tasks."
  type        = string
}

variable "alarm_topic_arn" {
  description = "The foundation's alarm_topic_arn output."
  type        = string
}

variable "task_budget_seconds" {
  description = "The worker's agent.time_budget_secs: the longest one attempt may run."
  type        = number
  default     = 3600
  validation {
    condition     = var.task_budget_seconds >= 60 && var.task_budget_seconds <= 43200
    error_message = "task_budget_seconds must be between 60 and 43200 (SQS keeps a message invisible for at most 12 hours)."
  }
}

variable "visibility_timeout_seconds" {
  description = "How long a received task stays hidden. Shorter than the task budget on purpose: the worker's heartbeat extends it while it works, so a crashed worker's task reappears within this time instead of after the whole budget. Match the worker's queue.visibility_timeout_secs."
  type        = number
  default     = 900
  validation {
    condition     = var.visibility_timeout_seconds >= 60 && var.visibility_timeout_seconds <= 43200
    error_message = "visibility_timeout_seconds must be between 60 and 43200."
  }
}

variable "max_receive_count" {
  description = "Receives before SQS moves a task to the dead-letter queue (attempts per task)."
  type        = number
  default     = 3
  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 10
    error_message = "max_receive_count must be between 1 and 10."
  }
}

variable "oldest_message_alarm_seconds" {
  description = "Alarm when the oldest waiting task is older than this (the worker is not keeping up or not running)."
  type        = number
  default     = 7200
}
