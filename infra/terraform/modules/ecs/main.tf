# ECS for Proctor: the cluster and its Fargate capacity providers, the runner task
# definition the controller launches (one task per run attempt), the API/controller
# service behind the internal ALB, the one-off migration task, and their log groups.
# IAM roles are in iam.tf, the ALB and security groups in network.tf.
#
# Every PROCTOR_* variable the processes need in production is set here, in
# local.service_environment (API, controller, migrations) and local.runner_environment;
# tests/infra checks both against config.settings.Settings.

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  region         = data.aws_region.current.region
  account_id     = data.aws_caller_identity.current.account_id
  partition      = data.aws_partition.current.partition
  alb_subnet_ids = var.alb_subnet_ids != null ? var.alb_subnet_ids : var.subnet_ids

  runner_family    = "${var.name}-runner"
  runner_container = "runner"
  api_port         = 8000
  # What the ALB forwards to the API: the proxy's `/api/*` plus the probes.
  api_paths = ["/api/*", "/healthz", "/readyz"]
  api_url          = coalesce(var.api_url, "http://${aws_lb.this.dns_name}")
  trusted_proxies = (
    var.trusted_proxies != null
    ? var.trusted_proxies
    : concat([for subnet in data.aws_subnet.alb : subnet.cidr_block], var.proxy_cidr_blocks)
  )

  # What the API, the controller and `proctor db upgrade` read (DESIGN.md, Configuration).
  service_environment = merge(var.extra_environment, {
    AWS_REGION                     = local.region
    PROCTOR_DATABASE_URL           = var.database_url
    PROCTOR_ARTIFACTS_URL          = var.artifacts_url
    PROCTOR_LAUNCHER               = "ecs"
    PROCTOR_API_URL                = local.api_url
    PROCTOR_ECS_CLUSTER            = aws_ecs_cluster.this.name
    PROCTOR_ECS_TASK_DEFINITION    = local.runner_family
    PROCTOR_ECS_CONTAINER          = local.runner_container
    PROCTOR_ECS_SUBNETS            = join(",", var.subnet_ids)
    PROCTOR_ECS_SECURITY_GROUPS    = aws_security_group.runner.id
    PROCTOR_ECS_CAPACITY_PROVIDER  = var.runner_capacity_provider
    PROCTOR_ECS_ASSIGN_PUBLIC_IP   = tostring(var.runner_assign_public_ip)
    PROCTOR_TRUSTED_PROXIES        = join(",", local.trusted_proxies)
    PROCTOR_CORS_ORIGINS           = join(",", var.cors_origins)
    PROCTOR_ALLOWED_HOSTS          = join(",", var.allowed_hosts)
    PROCTOR_MAX_CONCURRENT_RUNS    = tostring(var.max_concurrent_runs)
    PROCTOR_RUN_TIMEOUT_SECONDS    = tostring(var.run_timeout_seconds)
    PROCTOR_LAUNCH_TIMEOUT_SECONDS = tostring(var.launch_timeout_seconds)
    PROCTOR_AUTH                   = "enabled"
  })

  # libpq reads PGPASSWORD when the URL carries no password: the password never appears
  # in the task definition, the URL or the Terraform state.
  service_secrets = [
    { name = "PGPASSWORD", valueFrom = "${var.database_secret_arn}:password::" },
  ]

  # The runner's defaults; the controller's RunTask overrides add the run-scoped token
  # (PROCTOR_RUNNER_TOKEN), TRACEPARENT and the command `--run-id ID`.
  runner_environment = {
    AWS_REGION            = local.region
    PROCTOR_API_URL       = local.api_url
    PROCTOR_ARTIFACTS_URL = var.artifacts_url
  }

  service_log_group = aws_cloudwatch_log_group.service.name

  api_container = {
    name        = "api"
    image       = var.controller_image
    essential   = true
    command     = ["api", "--host", "0.0.0.0", "--port", tostring(local.api_port)]
    environment = [for key, value in local.service_environment : { name = key, value = value }]
    secrets     = local.service_secrets
    portMappings = [
      { containerPort = local.api_port, protocol = "tcp" },
    ]
    healthCheck = {
      command = [
        "CMD", "python", "-c",
        "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${local.api_port}/healthz', timeout=4)",
      ]
      interval    = 30
      timeout     = 5
      retries     = 3
      startPeriod = 30
    }
    linuxParameters = { initProcessEnabled = true }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = local.service_log_group
        awslogs-region        = local.region
        awslogs-stream-prefix = "api"
      }
    }
  }

  controller_container = {
    name        = "controller"
    image       = var.controller_image
    essential   = true
    command     = ["controller"]
    environment = [for key, value in local.service_environment : { name = key, value = value }]
    secrets     = local.service_secrets
    # Time to finish the tick in progress and release claims on SIGTERM.
    stopTimeout     = 60
    linuxParameters = { initProcessEnabled = true }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = local.service_log_group
        awslogs-region        = local.region
        awslogs-stream-prefix = "controller"
      }
    }
  }
}

data "aws_subnet" "alb" {
  count = length(local.alb_subnet_ids)
  id    = local.alb_subnet_ids[count.index]
}

resource "aws_ecs_cluster" "this" {
  name = var.name
  tags = var.tags

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    base              = 1
    weight            = 1
  }
}

resource "aws_cloudwatch_log_group" "service" {
  # checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest with its own key; who reads the logs is governed by IAM, which a CMK would not change.
  name              = "/proctor/${var.name}/service"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_cloudwatch_log_group" "runner" {
  # checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest with its own key; who reads the logs is governed by IAM, which a CMK would not change.
  name              = "/proctor/${var.name}/runner"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_ecs_task_definition" "runner" {
  # checkov:skip=CKV_AWS_336:Chromium and Playwright write profiles, caches, videos and traces under $HOME and /tmp; the task is short-lived and holds no credential but its run token.
  family                   = local.runner_family
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.runner_cpu
  memory                   = var.runner_memory
  execution_role_arn       = aws_iam_role.runner_execution.arn
  task_role_arn            = aws_iam_role.runner_task.arn
  tags                     = var.tags

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  ephemeral_storage {
    size_in_gib = var.runner_ephemeral_storage_gib
  }

  container_definitions = jsonencode([
    {
      name        = local.runner_container
      image       = var.runner_image
      essential   = true
      environment = [for key, value in local.runner_environment : { name = key, value = value }]
      # ECS sends SIGTERM, then SIGKILL after stopTimeout: 120 s (the Fargate maximum) lets
      # the runner save cucumber.json, the video and the trace, and exit 3.
      stopTimeout     = 120
      linuxParameters = { initProcessEnabled = true }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.runner.name
          awslogs-region        = local.region
          awslogs-stream-prefix = "runner"
        }
      }
    },
  ])
}

resource "aws_ecs_task_definition" "service" {
  # checkov:skip=CKV_AWS_336:Chromium renders PDF reports and writes its profile under $HOME and /tmp.
  family                   = "${var.name}-service"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.service_cpu
  memory                   = var.service_memory
  execution_role_arn       = aws_iam_role.service_execution.arn
  task_role_arn            = aws_iam_role.service_task.arn
  tags                     = var.tags

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode(
    var.serve_api ? [local.api_container, local.controller_container] : [local.controller_container]
  )
}

resource "aws_ecs_task_definition" "migrate" {
  # checkov:skip=CKV_AWS_336:A one-off `proctor db upgrade`; Python and Alembic write caches under $HOME.
  family                   = "${var.name}-migrate"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = aws_iam_role.service_execution.arn
  # The migration needs only the database, whose password comes through the execution
  # role; its task role grants nothing.
  task_role_arn = aws_iam_role.migrate_task.arn
  tags          = var.tags

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([
    {
      name        = "migrate"
      image       = coalesce(var.migrate_image, var.controller_image)
      essential   = true
      command     = ["db", "upgrade"]
      environment = [for key, value in local.service_environment : { name = key, value = value }]
      secrets     = local.service_secrets
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = local.service_log_group
          awslogs-region        = local.region
          awslogs-stream-prefix = "migrate"
        }
      }
    },
  ])
}

resource "aws_ecs_service" "this" {
  name                               = "${var.name}-service"
  cluster                            = aws_ecs_cluster.this.id
  task_definition                    = aws_ecs_task_definition.service.arn
  desired_count                      = var.service_desired_count
  platform_version                   = "LATEST"
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = var.serve_api ? 60 : null
  enable_execute_command             = false
  propagate_tags                     = "SERVICE"
  tags                               = var.tags

  capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.service.id]
    assign_public_ip = false
  }

  # A deployment whose tasks never become healthy rolls back to the previous revision.
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  dynamic "load_balancer" {
    for_each = var.serve_api ? [aws_lb_target_group.api[0].arn] : []

    content {
      target_group_arn = load_balancer.value
      container_name   = "api"
      container_port   = local.api_port
    }
  }

  depends_on = [aws_lb_listener_rule.api, aws_ecs_cluster_capacity_providers.this]
}
