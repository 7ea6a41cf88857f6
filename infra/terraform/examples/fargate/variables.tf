variable "region" {
  type        = string
  description = "AWS region to deploy into."
}

variable "name" {
  type        = string
  default     = "proctor"
  description = "Name of the deployment; prefixes every resource."
}

variable "vpc_id" {
  type        = string
  description = "Existing VPC to deploy into."
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "Existing private subnets (two or more Availability Zones) with a route to AWS APIs and the sites under test."
}

variable "alb_subnet_ids" {
  type        = list(string)
  default     = null
  description = "Subnets for the internal ALB; null uses private_subnet_ids."
}

variable "proxy_cidr_blocks" {
  type        = list(string)
  description = "Addresses of the corporate proxy as the ALB sees them (it forwards `/api/*` to the ALB)."
}

variable "ui_reader_cidr_blocks" {
  type        = list(string)
  default     = []
  description = "Public addresses the corporate proxy reads the UI bucket from (when it reaches S3 over the internet)."
}

variable "ui_reader_vpc_endpoint_ids" {
  type        = list(string)
  default     = []
  description = "S3 VPC endpoints the corporate proxy reads the UI bucket through (when it is inside the VPC)."
}

variable "controller_image" {
  type        = string
  description = "Image built from Dockerfile.controller, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/proctor-controller:1.4.0."
}

variable "migrate_image" {
  type        = string
  default     = null
  description = "Image the one-off migration task runs; null means controller_image. Set it to the new image first during an upgrade."
}

variable "service_desired_count" {
  type        = number
  default     = 2
  description = "Tasks of the API/controller service; 0 for the first apply, before the database is migrated."
}

variable "runner_image" {
  type        = string
  description = "Image built from Dockerfile.runner (or a team image derived from it)."
}

variable "artifacts_bucket_name" {
  type        = string
  description = "Name of the artifacts bucket to create (globally unique)."
}

variable "ui_bucket_name" {
  type        = string
  description = "Name of the UI bucket to create (globally unique)."
}

variable "artifact_retention_days" {
  type = object({
    videos      = number
    screenshots = number
    traces      = number
    reports     = number
    logs        = number
  })
  default = {
    videos      = 30
    screenshots = 90
    traces      = 30
    reports     = 365
    logs        = 90
  }
  description = "Days each artifact kind is kept (0 keeps it forever); see docs/deploy.md, Retention."
}

variable "runner_capacity_provider" {
  type        = string
  default     = "FARGATE"
  description = "FARGATE, or FARGATE_SPOT for cheaper runner tasks that may be interrupted (and are then retried)."
}

variable "max_concurrent_runs" {
  type        = number
  default     = 7
  description = "Runs launching or running at once."
}

variable "cors_origins" {
  type        = list(string)
  default     = []
  description = "Browser origins allowed to call the API cross-origin (none when the UI comes through the same proxy host)."
}

variable "tags" {
  type        = map(string)
  default     = { application = "proctor" }
  description = "Tags on every resource (provider default_tags)."
}
