# The React UI's static build. The corporate proxy serves it at `/` (and sends `/api/*` to
# the ALB), so the bucket is readable by that proxy only: anonymous GetObject limited by
# aws:SourceIp (a proxy on the internet) or aws:SourceVpce (a proxy inside the VPC). S3
# does not count a policy restricted that way as public, so Block Public Access stays on.

locals {
  # SSE-KMS objects cannot be read by unsigned requests, which is how a proxy fetches a
  # static site: the UI (public JavaScript and HTML, no data) uses SSE-S3.
  sse_algorithm = "AES256"
}

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_145:The proxy reads with unsigned requests, which SSE-KMS refuses; the UI build holds no data (SSE-S3 still encrypts at rest).
  # checkov:skip=CKV_AWS_144:The UI is rebuilt from source by CI; cross-region replication adds nothing.
  # checkov:skip=CKV2_AWS_62:Nothing consumes events of a static UI bucket.
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags

  lifecycle {
    precondition {
      condition     = length(var.reader_cidr_blocks) + length(var.reader_vpc_endpoint_ids) > 0
      error_message = "Name the proxy: reader_cidr_blocks or reader_vpc_endpoint_ids."
    }
  }
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = local.sse_algorithm
    }
  }
}

resource "aws_s3_bucket_logging" "this" {
  count = var.access_log_bucket == null ? 0 : 1

  bucket        = aws_s3_bucket.this.id
  target_bucket = var.access_log_bucket
  target_prefix = "s3/${var.bucket_name}/"
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "expire-old-builds"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_retention_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  dynamic "statement" {
    for_each = length(var.reader_cidr_blocks) > 0 ? [var.reader_cidr_blocks] : []

    content {
      sid       = "ProxyReadsFromItsAddresses"
      effect    = "Allow"
      actions   = ["s3:GetObject"]
      resources = ["${aws_s3_bucket.this.arn}/*"]

      principals {
        type        = "*"
        identifiers = ["*"]
      }

      condition {
        test     = "IpAddress"
        variable = "aws:SourceIp"
        values   = statement.value
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.reader_vpc_endpoint_ids) > 0 ? [var.reader_vpc_endpoint_ids] : []

    content {
      sid       = "ProxyReadsThroughItsEndpoints"
      effect    = "Allow"
      actions   = ["s3:GetObject"]
      resources = ["${aws_s3_bucket.this.arn}/*"]

      principals {
        type        = "*"
        identifiers = ["*"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceVpce"
        values   = statement.value
      }
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.bucket.json

  depends_on = [aws_s3_bucket_public_access_block.this]
}
