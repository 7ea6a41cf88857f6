"""Every PROCTOR_* setting production needs is set by Terraform, and nothing else is.

What the fakes can't show: that the task definitions, the Lambda environment and the
Terraform outputs agree with config.settings.Settings — the contract between the code and
the deployment — and that a URL without password plus PGPASSWORD (how the task
definitions pass the Aurora secret) reaches PostgreSQL through Proctor's own engine.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from config.settings import Settings
from db.engine import make_engine
from tests.infra.terraform_modules import TERRAFORM, environment_keys, hcl_text, load_module

# Every Settings field, sorted by what production does with it. A new field fails
# test_every_setting_is_classified until someone decides where it belongs.

#: No usable production default: the service containers must be given these.
PRODUCTION_REQUIRED = {
    "database_url": "the default is SQLite inside the container",
    "artifacts_url": "the default is a folder inside the container",
    "launcher": "the default 'local' would spawn runners inside the service task",
    "api_url": "the default 127.0.0.1 is the service itself, not reachable from runner tasks",
    "ecs_cluster": "no default",
    "ecs_task_definition": "no default",
    "ecs_subnets": "no default",
    "ecs_security_groups": "no default",
    "trusted_proxies": "empty ignores X-Forwarded-* from the ALB and the corporate proxy",
}

#: Usable defaults, but they must agree with the infrastructure, so Terraform sets them.
SET_BY_TERRAFORM = {
    "ecs_container": "must equal the runner task definition's container name",
    "ecs_capacity_provider": "a Terraform variable (FARGATE or FARGATE_SPOT)",
    "ecs_assign_public_ip": "depends on the subnets Terraform was given",
    "cors_origins": "depends on where the UI is served from",
    "allowed_hosts": "depends on the proxy's host name",
    "max_concurrent_runs": "a Terraform variable",
    "run_timeout_seconds": "a Terraform variable",
    "launch_timeout_seconds": "a Terraform variable",
    "auth": "pinned to 'enabled' so no environment can switch it off by accident",
}

#: The default is right in production (or an image sets it).
DEFAULT_SERVES = {
    "home": "the images set PROCTOR_HOME; only credentials would live there",
    "poll_interval_seconds": "5 s tick as DESIGN.md says",
    "heartbeat_timeout_seconds": "120 s",
    "claim_lease_seconds": "60 s",
    "max_request_bytes": "5 MiB",
    "browser_executable": "the images set it (controller) or Playwright finds its own (runner)",
    "steps_path": "set by a team's derived runner image, if it has project steps",
}

#: Not the services' configuration: given per run by the launcher, or read by the CLI.
NOT_FROM_TERRAFORM = {
    "runner_token": "minted per run attempt; the launcher passes it in the RunTask overrides",
    "url": "CLI only",
    "token": "CLI only",
}

#: What the runner reads from its task definition (the launcher adds the token).
RUNNER_REQUIRED = {"api_url", "artifacts_url"}

#: What the API on Lambda reads: no launcher settings, it never starts runners.
LAMBDA_REQUIRED = {"database_url", "artifacts_url", "api_url", "trusted_proxies"}


def env_name(field: str) -> str:
    return f"PROCTOR_{field.upper()}"


def proctor_names(keys: set[str]) -> set[str]:
    return {key for key in keys if key.startswith("PROCTOR_")}


ECS = load_module(str(TERRAFORM / "modules/ecs"))
LAMBDA = load_module(str(TERRAFORM / "modules/lambda_api"))
SERVICE_ENV = environment_keys(ECS.locals["service_environment"])
RUNNER_ENV = environment_keys(ECS.locals["runner_environment"])
LAMBDA_ENV = environment_keys(LAMBDA.locals["environment"])


def test_every_setting_is_classified() -> None:
    groups = [PRODUCTION_REQUIRED, SET_BY_TERRAFORM, DEFAULT_SERVES, NOT_FROM_TERRAFORM]
    classified = [field for group in groups for field in group]
    assert len(classified) == len(set(classified)), "a field is in two groups"
    fields = set(Settings.model_fields)
    assert set(classified) == fields, (
        "classify the new or renamed Settings fields in tests/infra/test_production_settings.py"
        f" (and set them in infra/terraform/modules/ecs if production needs them): "
        f"unclassified {sorted(fields - set(classified))}, gone {sorted(set(classified) - fields)}"
    )


def test_production_required_fields_really_lack_a_production_default() -> None:
    defaults = Settings(home=Path("/nonexistent"))
    assert defaults.database_url.startswith("sqlite:")
    assert defaults.artifacts_url.startswith("file:")
    assert defaults.launcher == "local"
    assert "127.0.0.1" in defaults.api_url
    for field in ("ecs_cluster", "ecs_task_definition", "ecs_subnets", "ecs_security_groups"):
        assert not getattr(defaults, field), field
    assert defaults.trusted_proxies == []


def test_service_task_definition_sets_every_production_setting() -> None:
    wanted = {env_name(field) for field in {*PRODUCTION_REQUIRED, *SET_BY_TERRAFORM}}
    assert wanted <= SERVICE_ENV, f"missing in local.service_environment: {wanted - SERVICE_ENV}"


def test_runner_task_definition_sets_what_the_runner_reads() -> None:
    wanted = {env_name(field) for field in RUNNER_REQUIRED}
    assert wanted <= RUNNER_ENV, f"missing in local.runner_environment: {wanted - RUNNER_ENV}"
    assert "PROCTOR_DATABASE_URL" not in RUNNER_ENV, "runners never hold database access"


def test_lambda_sets_what_the_api_reads() -> None:
    wanted = {env_name(field) for field in LAMBDA_REQUIRED}
    assert wanted <= LAMBDA_ENV, f"missing in the Lambda environment: {wanted - LAMBDA_ENV}"
    assert "DATABASE_SECRET_ARN" in LAMBDA_ENV  # read by api.lambda_handler


@pytest.mark.parametrize(
    "keys", [SERVICE_ENV, RUNNER_ENV, LAMBDA_ENV], ids=["service", "runner", "lambda"]
)
def test_every_proctor_variable_terraform_sets_is_a_setting(keys: set[str]) -> None:
    known = {env_name(field) for field in Settings.model_fields}
    assert proctor_names(keys) <= known, f"typo or removed setting: {proctor_names(keys) - known}"


def test_containers_are_given_those_environments() -> None:
    api = ECS.locals["api_container"]
    controller = ECS.locals["controller_container"]
    for container in (api, controller):
        assert "local.service_environment" in container["environment"]
        assert container["secrets"] == "${local.service_secrets}"
    assert ECS.locals["service_secrets"][0]["name"] == "PGPASSWORD"
    assert ECS.locals["service_secrets"][0]["valueFrom"] == "${var.database_secret_arn}:password::"
    migrate = hcl_text(
        ECS.resources[("aws_ecs_task_definition", "migrate")]["container_definitions"]
    )
    assert "local.service_environment" in migrate and "local.service_secrets" in migrate
    assert 'command = ["db", "upgrade"]' in migrate
    runner = hcl_text(ECS.resources[("aws_ecs_task_definition", "runner")]["container_definitions"])
    assert "local.runner_environment" in runner
    assert "service_secrets" not in runner
    assert ECS.locals["runner_container"] == "runner"  # what PROCTOR_ECS_CONTAINER says
    assert api["command"][0] == "api"
    assert controller["command"] == ["controller"]


@pytest.mark.parametrize("example", ["fargate", "hybrid"])
def test_example_outputs_map_one_to_one_onto_settings(example: str) -> None:
    module = load_module(str(TERRAFORM / "examples" / example))
    proctor_outputs = {name for name in module.outputs if name.startswith("proctor_")}
    fields = set(Settings.model_fields)
    assert {name.removeprefix("proctor_") for name in proctor_outputs} <= fields
    from_terraform = {
        field for field in {*PRODUCTION_REQUIRED, *SET_BY_TERRAFORM} if field != "auth"
    }
    assert {f"proctor_{field}" for field in from_terraform} <= proctor_outputs
    # Each output names the matching module output, never another setting's.
    for name in proctor_outputs:
        assert module.outputs[name]["value"].endswith(f".{name}}}"), name


def test_rendered_environment_parses_into_the_intended_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The task definition's values as Terraform renders them (lists joined by commas,
    booleans and numbers as strings, empty lists as "") mean what the deployment means."""
    rendered = {
        "PROCTOR_DATABASE_URL": "postgresql+psycopg://proctor@db.cluster-x.eu-west-1"
        ".rds.amazonaws.com:5432/proctor?sslmode=require",
        "PROCTOR_ARTIFACTS_URL": "s3://acme-proctor-artifacts",
        "PROCTOR_LAUNCHER": "ecs",
        "PROCTOR_API_URL": "http://internal-proctor-1.eu-west-1.elb.amazonaws.com",
        "PROCTOR_ECS_CLUSTER": "proctor",
        "PROCTOR_ECS_TASK_DEFINITION": "proctor-runner",
        "PROCTOR_ECS_CONTAINER": "runner",
        "PROCTOR_ECS_SUBNETS": "subnet-0aaa,subnet-0bbb",
        "PROCTOR_ECS_SECURITY_GROUPS": "sg-0123",
        "PROCTOR_ECS_CAPACITY_PROVIDER": "FARGATE_SPOT",
        "PROCTOR_ECS_ASSIGN_PUBLIC_IP": "false",
        "PROCTOR_TRUSTED_PROXIES": "10.0.1.0/24,10.0.2.0/24,10.20.0.0/24",
        "PROCTOR_CORS_ORIGINS": "",
        "PROCTOR_ALLOWED_HOSTS": "",
        "PROCTOR_MAX_CONCURRENT_RUNS": "7",
        "PROCTOR_RUN_TIMEOUT_SECONDS": "3600",
        "PROCTOR_LAUNCH_TIMEOUT_SECONDS": "600",
        "PROCTOR_AUTH": "enabled",
    }
    assert set(rendered) == proctor_names(SERVICE_ENV)
    for key, value in rendered.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.launcher == "ecs"
    assert settings.ecs_subnets == ["subnet-0aaa", "subnet-0bbb"]
    assert settings.ecs_assign_public_ip is False
    assert settings.cors_origins == [] and settings.allowed_hosts == []
    assert settings.trusted_proxies == ["10.0.1.0/24", "10.0.2.0/24", "10.20.0.0/24"]
    assert make_url(settings.database_url).password is None


def test_url_without_password_takes_pgpassword(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The task definitions inject the Aurora secret's password as PGPASSWORD and give a
    URL without one; libpq, under SQLAlchemy and psycopg, must pick it up."""
    url = make_url(pg_url).set(password=None, query={"sslmode": "prefer"})
    monkeypatch.setenv("PGPASSWORD", "from-the-managed-secret")
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            assert dbapi.info.password == "from-the-managed-secret"
    finally:
        engine.dispose()
