variable "name" {
  type        = string
  description = "Name of the Aurora cluster and prefix of its companion resources."
}

variable "vpc_id" {
  type        = string
  description = "VPC the database lives in."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets (at least two Availability Zones) for the DB subnet group."

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "Aurora needs subnets in at least two Availability Zones."
  }
}

variable "client_security_group_ids" {
  type        = list(string)
  description = "Security groups allowed to connect on the PostgreSQL port: the API/controller service, the migration task and (hybrid) the API Lambda. Never the runners."
}

variable "engine_version" {
  type        = string
  default     = "16.6"
  description = "Aurora PostgreSQL engine version (one that supports Serverless v2)."
}

variable "database_name" {
  type        = string
  default     = "proctor"
  description = "Name of the database Proctor's migrations create their tables in."
}

variable "master_username" {
  type        = string
  default     = "proctor"
  description = "Master user name. RDS generates its password and keeps it in a Secrets Manager secret it manages."
}

variable "password_rotation_days" {
  type        = number
  default     = 30
  description = "Days between automatic rotations of the managed master password (RDS default is 7). Services read the password when their tasks start; see docs/deploy.md."

  validation {
    condition     = var.password_rotation_days >= 1 && var.password_rotation_days <= 365
    error_message = "password_rotation_days must be between 1 and 365."
  }
}

variable "min_capacity" {
  type        = number
  default     = 0.5
  description = "Smallest Serverless v2 capacity, in Aurora capacity units (ACU). 0 lets an idle cluster pause (first connection then waits for it to resume)."
}

variable "max_capacity" {
  type        = number
  default     = 4
  description = "Largest Serverless v2 capacity, in ACU."
}

variable "instance_count" {
  type        = number
  default     = 2
  description = "Serverless v2 instances: 1 writer plus readers in other Availability Zones that take over on failure."

  validation {
    condition     = var.instance_count >= 1
    error_message = "instance_count must be at least 1."
  }
}

variable "backup_retention_days" {
  type        = number
  default     = 14
  description = "Days of automated backups (point-in-time recovery window)."

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 1 and 35."
  }
}

variable "preferred_backup_window" {
  type        = string
  default     = "02:00-03:00"
  description = "Daily UTC window for automated backups (hh24:mi-hh24:mi)."
}

variable "preferred_maintenance_window" {
  type        = string
  default     = "sun:03:30-sun:04:30"
  description = "Weekly UTC window for maintenance (ddd:hh24:mi-ddd:hh24:mi)."
}

variable "deletion_protection" {
  type        = bool
  default     = true
  description = "Refuse to delete the cluster (turn off deliberately, in its own apply, before a destroy)."
}

variable "log_retention_days" {
  type        = number
  default     = 365
  description = "Days the exported PostgreSQL logs are kept in CloudWatch Logs."
}

variable "slow_query_ms" {
  type        = number
  default     = 1000
  description = "Statements slower than this many milliseconds are logged (log_min_duration_statement)."
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags added to every resource of this module."
}
