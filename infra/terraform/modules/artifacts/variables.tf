variable "bucket_name" {
  type        = string
  description = "Name of the artifacts bucket (globally unique)."
}

variable "prefix" {
  type        = string
  default     = ""
  description = "Key prefix under which Proctor stores artifacts (no leading or trailing slash; empty for the bucket root). Part of PROCTOR_ARTIFACTS_URL."

  validation {
    condition     = !startswith(var.prefix, "/") && !endswith(var.prefix, "/")
    error_message = "prefix takes no leading or trailing slash."
  }
}

variable "kms_key_arn" {
  type        = string
  default     = null
  description = "Customer managed KMS key for SSE-KMS. Null uses the AWS managed key aws/s3 (no key policy to maintain; task roles need no kms permissions)."
}

variable "retention_days" {
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
  description = "Days each artifact kind is kept after upload; 0 keeps it forever. videos, screenshots, traces, logs (runner.log) and reports (cucumber.json, junit.xml, PDF reports). Objects are matched by their proctor-kind tag."

  validation {
    condition = alltrue([
      for days in values(var.retention_days) : days >= 0 && floor(days) == days
    ])
    error_message = "retention_days values are whole days, 0 or more."
  }
}

variable "noncurrent_version_retention_days" {
  type        = number
  default     = 7
  description = "Days an overwritten or deleted object version is kept before it is removed (versioning protects against accidental deletes for this long)."

  validation {
    condition     = var.noncurrent_version_retention_days >= 1
    error_message = "noncurrent_version_retention_days must be at least 1."
  }
}

variable "access_log_bucket" {
  type        = string
  default     = null
  description = "Bucket receiving S3 server access logs for this bucket; null leaves access logging off."
}

variable "force_destroy" {
  type        = bool
  default     = false
  description = "Allow terraform destroy to delete a bucket that still holds artifacts. Keep false outside experiments."
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags added to every resource of this module."
}
