# Outputs named proctor_x are the values of PROCTOR_X in the task definitions, one to one
# (run `terraform output` to see what the services were given). The rest is what an
# operator needs: where to upload the UI, what the proxy points at, how to migrate.

output "proctor_database_url" {
  description = "PROCTOR_DATABASE_URL (no password: PGPASSWORD comes from database_secret_arn)."
  value       = module.database.proctor_database_url
}

output "proctor_artifacts_url" {
  description = "PROCTOR_ARTIFACTS_URL."
  value       = module.artifacts.proctor_artifacts_url
}

output "proctor_launcher" {
  description = "PROCTOR_LAUNCHER."
  value       = module.ecs.proctor_launcher
}

output "proctor_api_url" {
  description = "PROCTOR_API_URL: where runner tasks reach the API (the internal ALB)."
  value       = module.ecs.proctor_api_url
}

output "proctor_ecs_cluster" {
  description = "PROCTOR_ECS_CLUSTER."
  value       = module.ecs.proctor_ecs_cluster
}

output "proctor_ecs_task_definition" {
  description = "PROCTOR_ECS_TASK_DEFINITION."
  value       = module.ecs.proctor_ecs_task_definition
}

output "proctor_ecs_container" {
  description = "PROCTOR_ECS_CONTAINER."
  value       = module.ecs.proctor_ecs_container
}

output "proctor_ecs_subnets" {
  description = "PROCTOR_ECS_SUBNETS."
  value       = module.ecs.proctor_ecs_subnets
}

output "proctor_ecs_security_groups" {
  description = "PROCTOR_ECS_SECURITY_GROUPS."
  value       = module.ecs.proctor_ecs_security_groups
}

output "proctor_ecs_capacity_provider" {
  description = "PROCTOR_ECS_CAPACITY_PROVIDER."
  value       = module.ecs.proctor_ecs_capacity_provider
}

output "proctor_ecs_assign_public_ip" {
  description = "PROCTOR_ECS_ASSIGN_PUBLIC_IP."
  value       = module.ecs.proctor_ecs_assign_public_ip
}

output "proctor_trusted_proxies" {
  description = "PROCTOR_TRUSTED_PROXIES."
  value       = module.ecs.proctor_trusted_proxies
}

output "proctor_cors_origins" {
  description = "PROCTOR_CORS_ORIGINS."
  value       = module.ecs.proctor_cors_origins
}

output "proctor_allowed_hosts" {
  description = "PROCTOR_ALLOWED_HOSTS."
  value       = module.ecs.proctor_allowed_hosts
}

output "proctor_max_concurrent_runs" {
  description = "PROCTOR_MAX_CONCURRENT_RUNS."
  value       = module.ecs.proctor_max_concurrent_runs
}

output "proctor_run_timeout_seconds" {
  description = "PROCTOR_RUN_TIMEOUT_SECONDS."
  value       = module.ecs.proctor_run_timeout_seconds
}

output "proctor_launch_timeout_seconds" {
  description = "PROCTOR_LAUNCH_TIMEOUT_SECONDS."
  value       = module.ecs.proctor_launch_timeout_seconds
}

output "database_secret_arn" {
  description = "Aurora-managed secret holding the database password (injected as PGPASSWORD)."
  value       = module.database.master_user_secret_arn
}

output "alb_dns_name" {
  description = "The corporate proxy's upstream for `/api/*`."
  value       = module.ecs.alb_dns_name
}

output "ui_bucket_name" {
  description = "Where CI uploads the React build (aws s3 sync build/ s3://NAME/ --delete)."
  value       = module.ui_bucket.bucket_name
}

output "ui_bucket_domain_name" {
  description = "The corporate proxy's upstream for `/`."
  value       = module.ui_bucket.bucket_regional_domain_name
}

output "migrate_command" {
  description = "Runs `proctor db upgrade` as a one-off task; run it before each service deployment."
  value       = module.ecs.migrate_command
}

output "service_name" {
  description = "The API/controller service."
  value       = module.ecs.service_name
}

output "cluster_name" {
  description = "The ECS cluster."
  value       = module.ecs.cluster_name
}

output "lambda_function_name" {
  description = "The API function."
  value       = module.lambda_api.function_name
}

output "lambda_function_url" {
  description = "The API's Function URL (IAM-authenticated), when create_function_url is true."
  value       = module.lambda_api.function_url
}
