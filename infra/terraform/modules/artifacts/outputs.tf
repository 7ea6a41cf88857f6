output "bucket_name" {
  description = "Name of the artifacts bucket."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the artifacts bucket."
  value       = aws_s3_bucket.this.arn
}

output "prefix" {
  description = "Key prefix Proctor stores artifacts under (empty for the bucket root)."
  value       = var.prefix
}

output "kms_key_arn" {
  description = "Customer managed key encrypting the bucket, or null for the AWS managed key."
  value       = var.kms_key_arn
}

output "kind_tag" {
  description = "Object tag key whose value (the artifact kind) the lifecycle rules match."
  value       = local.kind_tag
}

output "proctor_artifacts_url" {
  description = "PROCTOR_ARTIFACTS_URL: s3://bucket[/prefix]."
  value       = var.prefix == "" ? "s3://${aws_s3_bucket.this.id}" : "s3://${aws_s3_bucket.this.id}/${var.prefix}"
}
