# Option 3 (hybrid): the API on Lambda through Mangum (api.lambda_handler), behind the same
# internal ALB (a Lambda target group) or a Function URL; the controller as a small Fargate
# service; runner tasks on Fargate; Aurora and S3 as in Option 1.

provider "aws" {
  region = var.region

  default_tags {
    tags = var.tags
  }
}

module "artifacts" {
  source = "../../modules/artifacts"

  bucket_name    = var.artifacts_bucket_name
  retention_days = var.artifact_retention_days
}

module "ui_bucket" {
  source = "../../modules/ui_bucket"

  bucket_name             = var.ui_bucket_name
  reader_cidr_blocks      = var.ui_reader_cidr_blocks
  reader_vpc_endpoint_ids = var.ui_reader_vpc_endpoint_ids
}

module "database" {
  source = "../../modules/database"

  name       = var.name
  vpc_id     = var.vpc_id
  subnet_ids = var.private_subnet_ids
  client_security_group_ids = [
    module.ecs.service_security_group_id,
    module.lambda_api.security_group_id,
  ]
}

module "ecs" {
  source = "../../modules/ecs"

  name             = var.name
  vpc_id           = var.vpc_id
  subnet_ids       = var.private_subnet_ids
  alb_subnet_ids   = var.alb_subnet_ids
  controller_image = var.controller_image
  migrate_image    = var.migrate_image
  runner_image     = var.runner_image
  # The service runs the controller only; the API answers from Lambda.
  serve_api             = false
  service_desired_count = var.service_desired_count
  service_cpu           = 512
  service_memory        = 1024

  database_url               = module.database.proctor_database_url
  database_secret_arn        = module.database.master_user_secret_arn
  database_kms_key_arn       = module.database.kms_key_arn
  database_security_group_id = module.database.security_group_id
  database_port              = module.database.port

  artifacts_bucket_arn  = module.artifacts.bucket_arn
  artifacts_url         = module.artifacts.proctor_artifacts_url
  artifacts_kms_key_arn = module.artifacts.kms_key_arn

  proxy_cidr_blocks        = var.proxy_cidr_blocks
  cors_origins             = var.cors_origins
  runner_capacity_provider = var.runner_capacity_provider
  max_concurrent_runs      = var.max_concurrent_runs
}

module "lambda_api" {
  source = "../../modules/lambda_api"

  name                 = "${var.name}-api"
  image_uri            = var.lambda_image_uri
  vpc_id               = var.vpc_id
  subnet_ids           = var.private_subnet_ids
  reserved_concurrency = var.lambda_reserved_concurrency

  database_url               = module.database.proctor_database_url
  database_secret_arn        = module.database.master_user_secret_arn
  database_kms_key_arn       = module.database.kms_key_arn
  database_security_group_id = module.database.security_group_id
  database_port              = module.database.port

  artifacts_bucket_arn  = module.artifacts.bucket_arn
  artifacts_url         = module.artifacts.proctor_artifacts_url
  artifacts_kms_key_arn = module.artifacts.kms_key_arn

  api_url         = module.ecs.proctor_api_url
  trusted_proxies = module.ecs.trusted_proxies
  cors_origins    = var.cors_origins

  listener_arn        = module.ecs.listener_arn
  api_paths           = module.ecs.api_paths
  create_function_url = var.create_function_url
}
