output "bucket_name" {
  description = "Name of the UI bucket (CI uploads the React build here: aws s3 sync build/ s3://NAME/ --delete)."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the UI bucket."
  value       = aws_s3_bucket.this.arn
}

output "bucket_regional_domain_name" {
  description = "Host name the corporate proxy sends `/` to (S3 REST endpoint; the proxy maps `/` and unknown UI routes to /index.html)."
  value       = aws_s3_bucket.this.bucket_regional_domain_name
}
