variable "name" {
  type        = string
  description = "Name of the ECS cluster and prefix of every resource of this module."
}

variable "vpc_id" {
  type        = string
  description = "VPC the cluster's tasks and the ALB live in."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets for the API/controller service, the migration task and the runner tasks (PROCTOR_ECS_SUBNETS). They need a route to ECR, CloudWatch Logs, S3, Secrets Manager and ECS (NAT gateway or VPC endpoints), and runners to the sites under test."
}

variable "alb_subnet_ids" {
  type        = list(string)
  default     = null
  description = "Subnets of the internal ALB the corporate proxy talks to; null uses subnet_ids."
}

variable "controller_image" {
  type        = string
  description = "Image built from Dockerfile.controller (repository:tag or @digest) for `proctor api`, `proctor controller` and `proctor db upgrade`."
}

variable "migrate_image" {
  type        = string
  default     = null
  description = "Image of the one-off migration task; null uses controller_image. During an upgrade, apply the new image here first, run the migration, then move controller_image (docs/deploy.md, Upgrades)."
}

variable "runner_image" {
  type        = string
  description = "Image built from Dockerfile.runner, or a team image derived from it (examples/runner-image)."
}

variable "serve_api" {
  type        = bool
  default     = true
  description = "Run the API as a container beside the controller in the service, behind the ALB (Option 1). False when the API runs on Lambda (Option 3, module lambda_api)."
}

variable "service_desired_count" {
  type        = number
  default     = 2
  description = "Tasks of the API/controller service. Controllers need no leader, so each task runs both safely."
}

variable "service_cpu" {
  type        = number
  default     = 1024
  description = "CPU units of one service task (1024 = 1 vCPU), shared by the API and controller containers."
}

variable "service_memory" {
  type        = number
  default     = 2048
  description = "Memory of one service task, in MiB (Chromium renders PDF reports in it)."
}

variable "runner_cpu" {
  type        = number
  default     = 2048
  description = "CPU units of one runner task (1024 = 1 vCPU)."
}

variable "runner_memory" {
  type        = number
  default     = 4096
  description = "Memory of one runner task, in MiB."
}

variable "runner_ephemeral_storage_gib" {
  type        = number
  default     = 30
  description = "Ephemeral storage of one runner task, in GiB (21 to 200): videos and traces are written here before upload."

  validation {
    condition     = var.runner_ephemeral_storage_gib >= 21 && var.runner_ephemeral_storage_gib <= 200
    error_message = "runner_ephemeral_storage_gib must be between 21 and 200."
  }
}

variable "runner_capacity_provider" {
  type        = string
  default     = "FARGATE"
  description = "Capacity provider runner tasks start on (PROCTOR_ECS_CAPACITY_PROVIDER): FARGATE, or FARGATE_SPOT for about 70% less at the risk of an interrupted run (retried as an infrastructure failure)."

  validation {
    condition     = contains(["FARGATE", "FARGATE_SPOT"], var.runner_capacity_provider)
    error_message = "runner_capacity_provider is FARGATE or FARGATE_SPOT."
  }
}

variable "runner_assign_public_ip" {
  type        = bool
  default     = false
  description = "Give runner tasks a public IP (PROCTOR_ECS_ASSIGN_PUBLIC_IP); only for subnets with an internet gateway and no NAT."
}

variable "runner_egress_cidr_blocks" {
  type        = list(string)
  default     = ["0.0.0.0/0"]
  description = "Where runner tasks may open HTTP(S) connections: the sites under test, plus S3, ECR and CloudWatch Logs. Narrow it to your applications' and endpoints' ranges where you can."
}

variable "database_url" {
  type        = string
  description = "PROCTOR_DATABASE_URL without a password (module database, output proctor_database_url)."
}

variable "database_secret_arn" {
  type        = string
  description = "Secrets Manager secret whose `password` key ECS injects as PGPASSWORD (the Aurora-managed master secret)."
}

variable "database_kms_key_arn" {
  type        = string
  description = "KMS key the database secret is encrypted with (the execution role decrypts it)."
}

variable "database_security_group_id" {
  type        = string
  description = "Security group of the database; the service and migration tasks may connect to it, runners may not."
}

variable "database_port" {
  type        = number
  default     = 5432
  description = "PostgreSQL port of the database."
}

variable "artifacts_bucket_arn" {
  type        = string
  description = "ARN of the artifacts bucket (module artifacts)."
}

variable "artifacts_url" {
  type        = string
  description = "PROCTOR_ARTIFACTS_URL: s3://bucket[/prefix] (module artifacts, output proctor_artifacts_url)."

  validation {
    condition     = can(regex("^s3://[^/]+", var.artifacts_url))
    error_message = "artifacts_url is s3://bucket or s3://bucket/prefix."
  }
}

variable "artifacts_kms_key_arn" {
  type        = string
  default     = null
  description = "Customer managed key of the artifacts bucket, or null for the AWS managed key (no KMS permissions needed)."
}

variable "proxy_cidr_blocks" {
  type        = list(string)
  description = "Addresses of the corporate proxy as the ALB sees them; the only clients the ALB admits besides runner tasks."
}

variable "trusted_proxies" {
  type        = list(string)
  default     = null
  description = "PROCTOR_TRUSTED_PROXIES: addresses whose X-Forwarded-* headers the API honours. Null means the ALB's subnets plus proxy_cidr_blocks."
}

variable "cors_origins" {
  type        = list(string)
  default     = []
  description = "PROCTOR_CORS_ORIGINS: browser origins allowed to call the API cross-origin. Empty when the UI is served by the same proxy host (the usual case)."
}

variable "allowed_hosts" {
  type        = list(string)
  default     = []
  description = "PROCTOR_ALLOWED_HOSTS: Host headers the API answers (empty: any)."
}

variable "api_url" {
  type        = string
  default     = null
  description = "PROCTOR_API_URL: the address runner tasks reach the API at. Null means http://<ALB DNS name>, the private path through the internal ALB."
}

variable "max_concurrent_runs" {
  type        = number
  default     = 7
  description = "PROCTOR_MAX_CONCURRENT_RUNS: runs launching or running at once, across all controllers."
}

variable "run_timeout_seconds" {
  type        = number
  default     = 3600
  description = "PROCTOR_RUN_TIMEOUT_SECONDS: seconds a run may take when its test set sets none."
}

variable "launch_timeout_seconds" {
  type        = number
  default     = 600
  description = "PROCTOR_LAUNCH_TIMEOUT_SECONDS: seconds a runner task may stay PROVISIONING/PENDING before the attempt counts as failed to start."
}

variable "extra_environment" {
  type        = map(string)
  default     = {}
  description = "More environment variables for the API, controller and migration containers (OpenTelemetry exporter settings, for example). Cannot replace the PROCTOR_* variables this module sets."
}

variable "health_check_path" {
  type        = string
  default     = "/readyz"
  description = "Path the ALB checks on the API containers: /readyz also checks the database, so a task that lost it is replaced."
}

variable "listener_rule_priority" {
  type        = number
  default     = 100
  description = "Priority of the ALB listener rule sending API paths to the service."
}

variable "alb_deletion_protection" {
  type        = bool
  default     = true
  description = "Refuse to delete the ALB (turn off in its own apply before a destroy)."
}

variable "alb_access_log_bucket" {
  type        = string
  default     = null
  description = "Bucket for ALB access logs (its policy must admit the regional ELB account); null leaves them off."
}

variable "log_retention_days" {
  type        = number
  default     = 365
  description = "Days CloudWatch Logs keeps the service's and the runners' logs (runner.log is also an artifact with its own retention)."
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags added to every resource of this module (and propagated to tasks)."
}
