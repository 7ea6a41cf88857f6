# Option 1 (recommended): API and controller in one Fargate service behind an internal
# ALB, runner tasks on Fargate, Aurora PostgreSQL Serverless v2, S3 for artifacts and UI.
# The corporate proxy terminates HTTPS and routes `/` to the UI bucket, `/api/*` to the ALB.

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

  name                      = var.name
  vpc_id                    = var.vpc_id
  subnet_ids                = var.private_subnet_ids
  client_security_group_ids = [module.ecs.service_security_group_id]
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
  serve_api        = true

  service_desired_count = var.service_desired_count

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
