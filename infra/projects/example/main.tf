# An example project stack: one repository's queue, dead-letter queue, Actions role and alarms.
# Copy this directory per project, change `project` and `github_repository`, and give each its own state key.
terraform {
  required_version = ">= 1.10"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.81, < 7.0"
    }
  }
  backend "s3" {
    # bucket = the foundation's state_bucket output (pass with -backend-config="bucket=...")
    key          = "projects/example/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = { Project = "codingworker", Layer = "project", CodingWorkerProject = "example" }
  }
}

variable "region" {
  description = "The foundation's region."
  type        = string
}

variable "github_oidc_provider_arn" {
  description = "The foundation's github_oidc_provider_arn output."
  type        = string
}

variable "worker_group_name" {
  description = "The foundation's worker_group_name output."
  type        = string
  default     = "codingworker-worker"
}

variable "alarm_topic_arn" {
  description = "The foundation's alarm_topic_arn output."
  type        = string
}

module "project" {
  source = "../../modules/project"

  project                  = "example"
  github_repository        = "acme-tools/report-lib"
  github_oidc_provider_arn = var.github_oidc_provider_arn
  worker_group_name        = var.worker_group_name
  alarm_topic_arn          = var.alarm_topic_arn
  task_budget_seconds      = 3600
}

output "queue_url" {
  description = "For the worker's queue.sqs.queue_urls and the repository variable CODINGWORKER_QUEUE_URL."
  value       = module.project.queue_url
}

output "actions_role_arn" {
  description = "For the repository variable CODINGWORKER_ROLE_ARN."
  value       = module.project.actions_role_arn
}

output "dead_letter_queue_url" {
  description = "Where failed tasks are parked."
  value       = module.project.dead_letter_queue_url
}
