terraform {
  # 1.10 brings S3-native state locking (use_lockfile), so no DynamoDB table is needed.
  required_version = ">= 1.10"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.81, < 7.0"
    }
  }

  # First apply runs with local state (this bucket does not exist yet); then uncomment, fill in the bucket
  # name from the `state_bucket` output and run `terraform init -migrate-state`.
  # backend "s3" {
  #   bucket       = "codingworker-state-123456789012"
  #   key          = "foundation/terraform.tfstate"
  #   region       = "eu-west-1"
  #   encrypt      = true
  #   use_lockfile = true
  # }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = { Project = "codingworker", Layer = "foundation" }
  }
}
