# The internal ALB the corporate proxy sends `/api/*` to, and the security groups that say
# who talks to whom:
#
#   corporate proxy ──80──▶ ALB ──8000──▶ service (API) ──5432──▶ database
#   runner tasks ─────80──▶ ALB                (runners never reach the database)
#   runner tasks ──80/443─▶ sites under test, S3, ECR, CloudWatch Logs

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "Proctor ALB: the corporate proxy and runner tasks"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "alb_from_proxy" {
  count = length(var.proxy_cidr_blocks)

  security_group_id = aws_security_group.alb.id
  description       = "HTTP from the corporate proxy (HTTPS ends there)"
  cidr_ipv4         = var.proxy_cidr_blocks[count.index]
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  tags              = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "alb_from_runners" {
  # checkov:skip=CKV_AWS_260:The source is the runner security group, not 0.0.0.0/0; checkov reads a rule without cidr_ipv4 as open.
  security_group_id            = aws_security_group.alb.id
  description                  = "HTTP from runner tasks reporting steps to the API"
  referenced_security_group_id = aws_security_group.runner.id
  ip_protocol                  = "tcp"
  from_port                    = 80
  to_port                      = 80
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "alb_to_service" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the API containers"
  referenced_security_group_id = aws_security_group.service.id
  ip_protocol                  = "tcp"
  from_port                    = local.api_port
  to_port                      = local.api_port
  tags                         = var.tags
}

resource "aws_security_group" "service" {
  name        = "${var.name}-service"
  description = "Proctor API, controller and migration tasks"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "service_from_alb" {
  security_group_id            = aws_security_group.service.id
  description                  = "API port from the ALB"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = local.api_port
  to_port                      = local.api_port
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "service_to_database" {
  security_group_id            = aws_security_group.service.id
  description                  = "PostgreSQL"
  referenced_security_group_id = var.database_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = var.database_port
  to_port                      = var.database_port
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "service_to_aws" {
  security_group_id = aws_security_group.service.id
  description       = "HTTPS to AWS APIs (ECS, S3, Secrets Manager, ECR, CloudWatch Logs)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  tags              = var.tags
}

resource "aws_security_group" "runner" {
  # checkov:skip=CKV2_AWS_5:The controller attaches this group to runner tasks through ECS RunTask (PROCTOR_ECS_SECURITY_GROUPS), which Terraform does not see.
  name        = "${var.name}-runner"
  description = "Proctor runner tasks: no ingress; the API through the ALB and the sites under test"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_egress_rule" "runner_to_alb" {
  security_group_id            = aws_security_group.runner.id
  description                  = "The API through the internal ALB"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = 80
  to_port                      = 80
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "runner_https" {
  count = length(var.runner_egress_cidr_blocks)

  security_group_id = aws_security_group.runner.id
  description       = "HTTPS to the sites under test, S3, ECR and CloudWatch Logs"
  cidr_ipv4         = var.runner_egress_cidr_blocks[count.index]
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "runner_http" {
  count = length(var.runner_egress_cidr_blocks)

  security_group_id = aws_security_group.runner.id
  description       = "HTTP to the sites under test"
  cidr_ipv4         = var.runner_egress_cidr_blocks[count.index]
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  tags              = var.tags
}

resource "aws_lb" "this" {
  # checkov:skip=CKV2_AWS_28:Internal ALB reachable only from the corporate proxy and runner tasks; the proxy is the place for a WAF.
  # checkov:skip=CKV2_AWS_20:Redirecting to HTTPS would break the proxy and the runners, which speak HTTP to this internal ALB by design (TLS ends at the proxy).
  # checkov:skip=CKV_AWS_91:Access logging is optional (alb_access_log_bucket): it needs a bucket whose policy admits the regional ELB account, which the account provides.
  name                       = var.name
  internal                   = true
  load_balancer_type         = "application"
  subnets                    = local.alb_subnet_ids
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  desync_mitigation_mode     = "strictest"
  enable_deletion_protection = var.alb_deletion_protection
  # Server-Sent Events (live run progress) hold a connection open between events.
  idle_timeout = 300
  tags         = var.tags

  dynamic "access_logs" {
    for_each = var.alb_access_log_bucket == null ? [] : [var.alb_access_log_bucket]

    content {
      bucket  = access_logs.value
      prefix  = "alb/${var.name}"
      enabled = true
    }
  }
}

resource "aws_lb_listener" "http" {
  # checkov:skip=CKV_AWS_2:HTTPS terminates at the corporate proxy (DESIGN.md, Deployment); this internal listener serves the proxy and runner tasks inside the VPC.
  # checkov:skip=CKV_AWS_103:No TLS on this listener, see CKV_AWS_2.
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"
  tags              = var.tags

  # Paths other than the API's are not Proctor's: the proxy serves the UI from its bucket.
  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = "application/problem+json"
      message_body = jsonencode({ title = "Not Found", status = 404 })
      status_code  = "404"
    }
  }
}

resource "aws_lb_target_group" "api" {
  # checkov:skip=CKV_AWS_378:Plain HTTP between the internal ALB and the API containers inside the VPC; TLS ends at the corporate proxy.
  count = var.serve_api ? 1 : 0

  name                 = "${var.name}-api"
  vpc_id               = var.vpc_id
  target_type          = "ip"
  protocol             = "HTTP"
  port                 = local.api_port
  deregistration_delay = 30
  tags                 = var.tags

  health_check {
    enabled             = true
    path                = var.health_check_path
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 4
  }
}

resource "aws_lb_listener_rule" "api" {
  count = var.serve_api ? 1 : 0

  listener_arn = aws_lb_listener.http.arn
  priority     = var.listener_rule_priority
  tags         = var.tags

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.api[0].arn
  }

  condition {
    path_pattern {
      values = local.api_paths
    }
  }
}
