output "function_name" {
  description = "Name of the API function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the API function."
  value       = aws_lambda_function.this.arn
}

output "security_group_id" {
  description = "Security group of the function (give it access to the database)."
  value       = aws_security_group.this.id
}

output "function_url" {
  description = "Function URL, when create_function_url is true; else null."
  value       = var.create_function_url ? aws_lambda_function_url.this[0].function_url : null
}

output "log_group" {
  description = "CloudWatch log group of the function."
  value       = aws_cloudwatch_log_group.this.name
}
