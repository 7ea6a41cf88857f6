output "cluster_name" {
  description = "ECS cluster name."
  value       = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  description = "ECS cluster ARN."
  value       = aws_ecs_cluster.this.arn
}

output "service_name" {
  description = "Name of the API/controller service (aws ecs update-service --force-new-deployment restarts it)."
  value       = aws_ecs_service.this.name
}

output "service_task_definition_arn" {
  description = "Task definition revision the service runs."
  value       = aws_ecs_task_definition.service.arn
}

output "runner_task_definition_arn" {
  description = "Latest runner task definition revision (the controller launches the family's latest ACTIVE revision)."
  value       = aws_ecs_task_definition.runner.arn
}

output "migrate_task_definition_arn" {
  description = "Task definition of the one-off `proctor db upgrade`."
  value       = aws_ecs_task_definition.migrate.arn
}

output "migrate_command" {
  description = "AWS CLI command that runs the migrations as a one-off task (before every upgrade)."
  value = join(" ", [
    "aws ecs run-task",
    "--cluster ${aws_ecs_cluster.this.name}",
    "--task-definition ${aws_ecs_task_definition.migrate.family}",
    "--capacity-provider-strategy capacityProvider=FARGATE,weight=1",
    "--network-configuration 'awsvpcConfiguration={subnets=[${join(",", var.subnet_ids)}],securityGroups=[${aws_security_group.service.id}],assignPublicIp=DISABLED}'",
  ])
}

output "service_security_group_id" {
  description = "Security group of the service and migration tasks (give it access to the database)."
  value       = aws_security_group.service.id
}

output "runner_security_group_id" {
  description = "Security group of runner tasks."
  value       = aws_security_group.runner.id
}

output "alb_security_group_id" {
  description = "Security group of the ALB."
  value       = aws_security_group.alb.id
}

output "alb_arn" {
  description = "ARN of the internal ALB."
  value       = aws_lb.this.arn
}

output "alb_dns_name" {
  description = "DNS name of the internal ALB: the corporate proxy's upstream for `/api/*`."
  value       = aws_lb.this.dns_name
}

output "listener_arn" {
  description = "HTTP listener of the ALB (module lambda_api adds its rule here)."
  value       = aws_lb_listener.http.arn
}

output "api_paths" {
  description = "Path patterns that belong to the API on the ALB."
  value       = local.api_paths
}

output "trusted_proxies" {
  description = "Addresses whose X-Forwarded-* headers the API honours, as a list (for the Lambda API)."
  value       = local.trusted_proxies
}

output "service_log_group" {
  description = "CloudWatch log group of the API, controller and migration containers."
  value       = aws_cloudwatch_log_group.service.name
}

output "runner_log_group" {
  description = "CloudWatch log group of the runner tasks."
  value       = aws_cloudwatch_log_group.runner.name
}

# One output per PROCTOR_* variable the services read from Terraform (DESIGN.md,
# Configuration): output proctor_x is the value of PROCTOR_X in the task definitions.

output "proctor_launcher" {
  description = "PROCTOR_LAUNCHER."
  value       = local.service_environment["PROCTOR_LAUNCHER"]
}

output "proctor_api_url" {
  description = "PROCTOR_API_URL: where runner tasks reach the API."
  value       = local.api_url
}

output "proctor_ecs_cluster" {
  description = "PROCTOR_ECS_CLUSTER."
  value       = aws_ecs_cluster.this.name
}

output "proctor_ecs_task_definition" {
  description = "PROCTOR_ECS_TASK_DEFINITION: the runner family (latest ACTIVE revision)."
  value       = aws_ecs_task_definition.runner.family
}

output "proctor_ecs_container" {
  description = "PROCTOR_ECS_CONTAINER: the runner's container name."
  value       = local.runner_container
}

output "proctor_ecs_subnets" {
  description = "PROCTOR_ECS_SUBNETS (comma-separated)."
  value       = local.service_environment["PROCTOR_ECS_SUBNETS"]
}

output "proctor_ecs_security_groups" {
  description = "PROCTOR_ECS_SECURITY_GROUPS (comma-separated)."
  value       = local.service_environment["PROCTOR_ECS_SECURITY_GROUPS"]
}

output "proctor_ecs_capacity_provider" {
  description = "PROCTOR_ECS_CAPACITY_PROVIDER."
  value       = var.runner_capacity_provider
}

output "proctor_ecs_assign_public_ip" {
  description = "PROCTOR_ECS_ASSIGN_PUBLIC_IP."
  value       = var.runner_assign_public_ip
}

output "proctor_trusted_proxies" {
  description = "PROCTOR_TRUSTED_PROXIES (comma-separated)."
  value       = local.service_environment["PROCTOR_TRUSTED_PROXIES"]
}

output "proctor_cors_origins" {
  description = "PROCTOR_CORS_ORIGINS (comma-separated)."
  value       = local.service_environment["PROCTOR_CORS_ORIGINS"]
}

output "proctor_allowed_hosts" {
  description = "PROCTOR_ALLOWED_HOSTS (comma-separated)."
  value       = local.service_environment["PROCTOR_ALLOWED_HOSTS"]
}

output "proctor_max_concurrent_runs" {
  description = "PROCTOR_MAX_CONCURRENT_RUNS."
  value       = var.max_concurrent_runs
}

output "proctor_run_timeout_seconds" {
  description = "PROCTOR_RUN_TIMEOUT_SECONDS."
  value       = var.run_timeout_seconds
}

output "proctor_launch_timeout_seconds" {
  description = "PROCTOR_LAUNCH_TIMEOUT_SECONDS."
  value       = var.launch_timeout_seconds
}
