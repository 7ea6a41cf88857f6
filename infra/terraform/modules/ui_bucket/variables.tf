variable "bucket_name" {
  type        = string
  description = "Name of the bucket holding the React UI build (globally unique)."
}

variable "reader_cidr_blocks" {
  type        = list(string)
  default     = []
  description = "Public egress addresses (CIDR) of the corporate proxy, for a proxy that reaches S3 over the internet. Only these may read the UI."
}

variable "reader_vpc_endpoint_ids" {
  type        = list(string)
  default     = []
  description = "S3 VPC endpoint IDs (vpce-…) the corporate proxy reaches S3 through, for a proxy inside the VPC. Only requests through these may read the UI."
}

variable "noncurrent_version_retention_days" {
  type        = number
  default     = 90
  description = "Days a replaced UI file version is kept, so a rollback can restore an earlier build."
}

variable "access_log_bucket" {
  type        = string
  default     = null
  description = "Bucket receiving S3 server access logs for this bucket; null leaves access logging off."
}

variable "force_destroy" {
  type        = bool
  default     = false
  description = "Allow terraform destroy to delete the bucket while it still holds files."
}

variable "tags" {
  type        = map(string)
  default     = {}
  description = "Tags added to every resource of this module."
}
