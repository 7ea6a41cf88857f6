# The artifacts bucket: cucumber.json, JUnit XML, screenshots, videos, traces, runner logs
# and PDF reports under runs/{run_id}/attempt-{n}/. Private, encrypted, versioned, reachable
# over TLS only, and each artifact kind expires on its own schedule.
#
# Keys start with the run, not the kind, so lifecycle rules cannot match kinds by prefix:
# the artifact store tags every object with proctor-kind=<kind> (artifacts.store.kind_for)
# and the rules below filter on that tag.

locals {
  kind_tag = "proctor-kind"

  # retention_days group -> the kind_for() values it covers.
  kinds_by_group = {
    videos      = ["video"]
    screenshots = ["screenshot"]
    traces      = ["trace"]
    reports     = ["cucumber_json", "junit_xml", "pdf"]
    logs        = ["log"]
  }

  expiration_rules = merge([
    for group, kinds in local.kinds_by_group : {
      for kind in kinds : kind => var.retention_days[group]
      if var.retention_days[group] > 0
    }
  ]...)

  data_prefix = var.prefix == "" ? "" : "${var.prefix}/"
}

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_144:Artifacts are reproducible test evidence with a retention of weeks; cross-region replication would double storage cost for data a re-run recreates.
  # checkov:skip=CKV2_AWS_62:Nothing consumes bucket events; the runner reports each artifact to the API itself.
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
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
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_logging" "this" {
  count = var.access_log_bucket == null ? 0 : 1

  bucket        = aws_s3_bucket.this.id
  target_bucket = var.access_log_bucket
  target_prefix = "s3/${var.bucket_name}/"
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
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.bucket.json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  # checkov:skip=CKV_AWS_300:The first rule aborts failed uploads for the whole prefix; S3 rejects that action in the tag-filtered expiration rules, which checkov inspects too.
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "abort-incomplete-uploads-and-old-versions"
    status = "Enabled"

    filter {
      prefix = local.data_prefix
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_retention_days
    }

    expiration {
      expired_object_delete_marker = true
    }
  }

  dynamic "rule" {
    for_each = local.expiration_rules

    content {
      id     = "expire-${rule.key}"
      status = "Enabled"

      # S3 takes a lone tag as `tag`, a prefix and a tag together as `and`.
      filter {
        dynamic "tag" {
          for_each = local.data_prefix == "" ? [rule.key] : []
          content {
            key   = local.kind_tag
            value = tag.value
          }
        }

        dynamic "and" {
          for_each = local.data_prefix == "" ? [] : [rule.key]
          content {
            prefix = local.data_prefix
            tags   = { (local.kind_tag) = and.value }
          }
        }
      }

      expiration {
        days = rule.value
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}
