output "cluster_identifier" {
  description = "Aurora cluster identifier."
  value       = aws_rds_cluster.this.cluster_identifier
}

output "endpoint" {
  description = "Writer endpoint host name."
  value       = aws_rds_cluster.this.endpoint
}

output "port" {
  description = "PostgreSQL port."
  value       = aws_rds_cluster.this.port
}

output "database_name" {
  description = "Database the migrations create Proctor's tables in."
  value       = aws_rds_cluster.this.database_name
}

output "master_username" {
  description = "Master user name (its password is in master_user_secret_arn)."
  value       = aws_rds_cluster.this.master_username
}

output "master_user_secret_arn" {
  description = "Secrets Manager secret (JSON: username, password) that RDS manages and rotates."
  value       = aws_rds_cluster.this.master_user_secret[0].secret_arn
}

output "kms_key_arn" {
  description = "Key encrypting the cluster and its secret; whoever reads the secret needs kms:Decrypt on it."
  value       = aws_kms_key.this.arn
}

output "security_group_id" {
  description = "Security group of the cluster (ingress from client_security_group_ids only)."
  value       = aws_security_group.this.id
}

output "proctor_database_url" {
  description = "PROCTOR_DATABASE_URL without the password: libpq takes it from PGPASSWORD, which the task definitions inject from master_user_secret_arn. TLS required."
  value       = "postgresql+psycopg://${aws_rds_cluster.this.master_username}@${aws_rds_cluster.this.endpoint}:${aws_rds_cluster.this.port}/${aws_rds_cluster.this.database_name}?sslmode=require"
}
