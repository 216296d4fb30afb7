variable "region" {
  description = "AWS region for the queues, the state bucket and the alarms, e.g. eu-west-1."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of every resource name; project queues are named <prefix>-<project>."
  type        = string
  default     = "codingworker"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name_prefix))
    error_message = "name_prefix must be 2-31 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "alarm_email" {
  description = "E-mail address that receives alarm notifications (confirm the subscription mail). Empty: no e-mail."
  type        = string
  default     = ""
}

variable "heartbeat_missing_minutes" {
  description = "Alarm when the worker has sent no heartbeat for this many minutes (the machine is off or the worker stopped)."
  type        = number
  default     = 30
  validation {
    condition     = var.heartbeat_missing_minutes >= 5 && var.heartbeat_missing_minutes <= 1440
    error_message = "heartbeat_missing_minutes must be between 5 and 1440."
  }
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub OIDC identity provider. Set false if the account already has one (there can be only one per URL)."
  type        = bool
  default     = true
}
