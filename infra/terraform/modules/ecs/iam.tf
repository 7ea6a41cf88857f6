# Four roles, split the way ECS splits them: an execution role per task kind (pull the
# image, write logs, for the service also read the database secret) and a task role per
# task kind (what the process itself may do).
#
#   runner task role:  write artifacts under <prefix>runs/ — nothing else, no database
#   service task role: RunTask on the runner family only, PassRole on the runner's two
#                      roles only, Describe/Stop/List tasks in this cluster, S3 on the bucket
#   migrate task role: nothing (the database password comes through the execution role)

locals {
  # The key prefix inside PROCTOR_ARTIFACTS_URL (s3://bucket/prefix): IAM grants stop there.
  artifacts_prefix      = trimsuffix(regex("^s3://[^/]+/?(.*)$", var.artifacts_url)[0], "/")
  artifacts_key_prefix  = local.artifacts_prefix == "" ? "" : "${local.artifacts_prefix}/"
  cluster_arn           = aws_ecs_cluster.this.arn
  runner_family_arn     = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task-definition/${local.runner_family}:*"
  cluster_tasks_arn     = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${var.name}/*"
  execution_managed_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# --- runner -----------------------------------------------------------------------------

resource "aws_iam_role" "runner_execution" {
  name               = "${var.name}-runner-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "runner_execution" {
  role       = aws_iam_role.runner_execution.name
  policy_arn = local.execution_managed_arn
}

resource "aws_iam_role" "runner_task" {
  name               = "${var.name}-runner-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "runner_task" {
  statement {
    sid = "WriteRunArtifacts"
    # PutObjectTagging: the store tags each object with its kind for lifecycle retention.
    actions   = ["s3:PutObject", "s3:PutObjectTagging", "s3:AbortMultipartUpload"]
    resources = ["${var.artifacts_bucket_arn}/${local.artifacts_key_prefix}runs/*"]
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

resource "aws_iam_role_policy" "runner_task" {
  name   = "artifacts"
  role   = aws_iam_role.runner_task.id
  policy = data.aws_iam_policy_document.runner_task.json
}

# --- API and controller service (and the migration task's execution role) ----------------

resource "aws_iam_role" "service_execution" {
  name               = "${var.name}-service-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "service_execution" {
  role       = aws_iam_role.service_execution.name
  policy_arn = local.execution_managed_arn
}

data "aws_iam_policy_document" "service_execution" {
  statement {
    sid       = "InjectDatabasePassword"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.database_secret_arn]
  }

  statement {
    sid       = "DecryptDatabaseSecret"
    actions   = ["kms:Decrypt"]
    resources = [var.database_kms_key_arn]
  }
}

resource "aws_iam_role_policy" "service_execution" {
  name   = "database-secret"
  role   = aws_iam_role.service_execution.id
  policy = data.aws_iam_policy_document.service_execution.json
}

resource "aws_iam_role" "service_task" {
  name               = "${var.name}-service-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "service_task" {
  statement {
    sid       = "LaunchRunnersOnly"
    actions   = ["ecs:RunTask"]
    resources = [local.runner_family_arn]

    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [local.cluster_arn]
    }
  }

  statement {
    sid       = "TagRunnerTasksAtLaunch"
    actions   = ["ecs:TagResource"]
    resources = [local.cluster_tasks_arn]

    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RunTask"]
    }
  }

  statement {
    sid       = "FollowAndStopTasksInThisCluster"
    actions   = ["ecs:DescribeTasks", "ecs:StopTask"]
    resources = [local.cluster_tasks_arn]
  }

  statement {
    # ListTasks names no task: on Fargate there is no container instance to scope it to,
    # so the cluster condition is what limits it.
    sid       = "ListTasksInThisCluster"
    actions   = ["ecs:ListTasks"]
    resources = ["*"]

    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [local.cluster_arn]
    }
  }

  statement {
    sid       = "PassOnlyTheRunnerRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.runner_execution.arn, aws_iam_role.runner_task.arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }

  statement {
    sid = "ReadAndWriteArtifacts"
    # Read for downloads and reports, write for rendered PDF reports.
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

resource "aws_iam_role_policy" "service_task" {
  name   = "launch-runners-and-artifacts"
  role   = aws_iam_role.service_task.id
  policy = data.aws_iam_policy_document.service_task.json
}

resource "aws_iam_role" "migrate_task" {
  name               = "${var.name}-migrate-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}
