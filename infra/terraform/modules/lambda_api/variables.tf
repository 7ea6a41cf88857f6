variable "name" {
  type        = string
  description = "Name of the Lambda function and prefix of its companion resources."
}

variable "image_uri" {
  type        = string
  description = "ECR image built from Dockerfile.controller with --target lambda (repository:tag or @digest)."
}

variable "vpc_id" {
  type        = string
  description = "VPC the function runs in (it reaches the database there)."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets for the function; they need a route to S3 and Secrets Manager (NAT or VPC endpoints)."
}

variable "memory_mb" {
  type        = number
  default     = 1024
  description = "Function memory in MiB (CPU scales with it)."
}

variable "timeout_seconds" {
  type        = number
  default     = 30
  description = "Longest request, in seconds. Keep it below the ALB idle timeout."
}

variable "reserved_concurrency" {
  type        = number
  default     = 50
  description = "Most concurrent executions; each holds its own database connections, so this also caps the connections the API opens."
}

variable "database_url" {
  type        = string
  description = "PROCTOR_DATABASE_URL without a password (module database, output proctor_database_url)."
}

variable "database_secret_arn" {
  type        = string
  description = "Secret whose `password` the handler reads at its first invocation (DATABASE_SECRET_ARN): Lambda cannot inject secrets into the environment."
}

variable "database_kms_key_arn" {
  type        = string
  description = "KMS key the database secret is encrypted with."
}

variable "database_security_group_id" {
  type        = string
  description = "Security group of the database (the function may connect to it)."
}

variable "database_port" {
  type        = number
  default     = 5432
  description = "PostgreSQL port of the database."
}

variable "artifacts_bucket_arn" {
  type        = string
  description = "ARN of the artifacts bucket (downloads, reports)."
}

variable "artifacts_url" {
  type        = string
  description = "PROCTOR_ARTIFACTS_URL: s3://bucket[/prefix]."

  validation {
    condition     = can(regex("^s3://[^/]+", var.artifacts_url))
    error_message = "artifacts_url is s3://bucket or s3://bucket/prefix."
  }
}

variable "artifacts_kms_key_arn" {
  type        = string
  default     = null
  description = "Customer managed key of the artifacts bucket, or null for the AWS managed key."
}

variable "api_url" {
  type        = string
  description = "PROCTOR_API_URL: the API's own address as runners see it (the ALB), for links it hands out."
}

variable "trusted_proxies" {
  type        = list(string)
  description = "PROCTOR_TRUSTED_PROXIES: addresses whose X-Forwarded-* headers the API honours (the ALB's subnets and the corporate proxy)."
}

variable "cors_origins" {
  type        = list(string)
  default     = []
  description = "PROCTOR_CORS_ORIGINS: browser origins allowed to call the API cross-origin."
}

variable "allowed_hosts" {
  type        = list(string)
  default     = []
  description = "PROCTOR_ALLOWED_HOSTS: Host headers the API answers (empty: any)."
}

variable "extra_environment" {
  type        = map(string)
  default     = {}
  description = "More environment variables for the function (OpenTelemetry settings, for example). Cannot replace the ones this module sets."
}

variable "listener_arn" {
  type        = string
  default     = null
  description = "ALB listener (module ecs, output listener_arn) that forwards api_paths to the function; null for a Function URL only."
}

variable "listener_rule_priority" {
  type        = number
  default     = 100
  description = "Priority of the listener rule sending API paths to the function."
}

variable "api_paths" {
  type        = list(string)
  default     = ["/api/*", "/healthz", "/readyz"]
  description = "Path patterns the ALB forwards to the function."
}

variable "create_function_url" {
  type        = bool
  default     = false
  description = "Also expose the function through a Lambda Function URL (for a proxy that can reach it; IAM-authenticated)."
}

variable "function_url_auth_type" {
  type        = string
  default     = "AWS_IAM"
  description = "Function URL authentication: AWS_IAM (callers sign with SigV4). NONE would put the API on the internet with only its own tokens in front."

  validation {
    condition     = contains(["AWS_IAM", "NONE"], var.function_url_auth_type)
    error_message = "function_url_auth_type is AWS_IAM or NONE."
  }
}

variable "log_retention_days" {
  type        = number
  default     = 365
  description = "Days CloudWatch Logs keeps the function's logs."
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags added to every resource of this module."
}
