# The API on Lambda (Option 3, hybrid): the image of Dockerfile.controller's `lambda`
# stage runs api.lambda_handler.handler, which wraps the same Litestar app with Mangum.
# The internal ALB forwards the API paths to it (a Lambda target group), so the corporate
# proxy and the runner tasks use the same address as in Option 1; a Function URL can be
# added. The controller stays on Fargate (module ecs with serve_api = false).

data "aws_partition" "current" {}

locals {
  artifacts_prefix     = trimsuffix(regex("^s3://[^/]+/?(.*)$", var.artifacts_url)[0], "/")
  artifacts_key_prefix = local.artifacts_prefix == "" ? "" : "${local.artifacts_prefix}/"

  # What the API reads (DESIGN.md, Configuration). It never launches runners, so none of
  # the PROCTOR_ECS_* launcher settings apply here.
  environment = merge(var.extra_environment, {
    PROCTOR_DATABASE_URL    = var.database_url
    PROCTOR_ARTIFACTS_URL   = var.artifacts_url
    PROCTOR_API_URL         = var.api_url
    PROCTOR_TRUSTED_PROXIES = join(",", var.trusted_proxies)
    PROCTOR_CORS_ORIGINS    = join(",", var.cors_origins)
    PROCTOR_ALLOWED_HOSTS   = join(",", var.allowed_hosts)
    PROCTOR_AUTH            = "enabled"
    PROCTOR_HOME            = "/tmp/proctor"
    DATABASE_SECRET_ARN     = var.database_secret_arn
  })
}

resource "aws_cloudwatch_log_group" "this" {
  # checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest with its own key; who reads the logs is governed by IAM, which a CMK would not change.
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-lambda"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "vpc_access" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_iam_role_policy_attachment" "xray" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "ReadDatabasePassword"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.database_secret_arn]
  }

  statement {
    sid       = "DecryptDatabaseSecret"
    actions   = ["kms:Decrypt"]
    resources = [var.database_kms_key_arn]
  }

  statement {
    sid = "ReadAndWriteArtifacts"
    actions = [
      "s3:GetObject", "s3:GetObjectTagging", "s3:PutObject", "s3:PutObjectTagging",
      "s3:AbortMultipartUpload",
    ]
    resources = ["${var.artifacts_bucket_arn}/${local.artifacts_key_prefix}*"]
  }

  statement {
    sid       = "ListArtifacts"
    actions   = ["s3:ListBucket"]
    resources = [var.artifacts_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.artifacts_key_prefix}*"]
    }
  }

  dynamic "statement" {
    for_each = var.artifacts_kms_key_arn == null ? [] : [var.artifacts_kms_key_arn]

    content {
      sid       = "EncryptArtifacts"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "database-secret-and-artifacts"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_security_group" "this" {
  name        = "${var.name}-lambda"
  description = "Proctor API on Lambda: the database and AWS APIs"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_egress_rule" "database" {
  security_group_id            = aws_security_group.this.id
  description                  = "PostgreSQL"
  referenced_security_group_id = var.database_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = var.database_port
  to_port                      = var.database_port
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "aws" {
  security_group_id = aws_security_group.this.id
  description       = "HTTPS to AWS APIs (S3, Secrets Manager)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_116:The ALB and the Function URL invoke synchronously; a dead-letter queue only receives failed asynchronous invocations.
  # checkov:skip=CKV_AWS_173:The environment holds no secret (the database password is read from Secrets Manager at run time); the default service key encrypts it at rest.
  # checkov:skip=CKV_AWS_272:Code signing applies to .zip packages, not to container images; the image is pinned by tag or digest from the account's ECR.
  function_name                  = var.name
  role                           = aws_iam_role.this.arn
  package_type                   = "Image"
  image_uri                      = var.image_uri
  architectures                  = ["x86_64"]
  memory_size                    = var.memory_mb
  timeout                        = var.timeout_seconds
  reserved_concurrent_executions = var.reserved_concurrency
  tags                           = var.tags

  environment {
    variables = local.environment
  }

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = [aws_security_group.this.id]
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  depends_on = [aws_iam_role_policy_attachment.vpc_access]
}

resource "aws_lb_target_group" "this" {
  count = var.listener_arn == null ? 0 : 1

  name        = "${var.name}-lambda"
  target_type = "lambda"
  tags        = var.tags

  health_check {
    enabled             = true
    path                = "/healthz"
    matcher             = "200"
    interval            = 60
    timeout             = 10
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lambda_permission" "alb" {
  count = var.listener_arn == null ? 0 : 1

  statement_id  = "AllowInvokeFromAlb"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "elasticloadbalancing.amazonaws.com"
  source_arn    = aws_lb_target_group.this[0].arn
}

resource "aws_lb_target_group_attachment" "this" {
  count = var.listener_arn == null ? 0 : 1

  target_group_arn = aws_lb_target_group.this[0].arn
  target_id        = aws_lambda_function.this.arn

  depends_on = [aws_lambda_permission.alb]
}

resource "aws_lb_listener_rule" "this" {
  count = var.listener_arn == null ? 0 : 1

  listener_arn = var.listener_arn
  priority     = var.listener_rule_priority
  tags         = var.tags

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this[0].arn
  }

  condition {
    path_pattern {
      values = var.api_paths
    }
  }
}

resource "aws_lambda_function_url" "this" {
  count = var.create_function_url ? 1 : 0

  function_name      = aws_lambda_function.this.function_name
  authorization_type = var.function_url_auth_type
}
