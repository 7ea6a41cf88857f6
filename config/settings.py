"""Every ``PROCTOR_*`` variable in one place (DESIGN.md, "Configuration").

Built once at an entry point (``Settings()``) and passed down; nothing reads the
environment behind its back. Each field says its unit. Defaults are the embedded
default: SQLite, a local artifact folder and the local launcher under ``PROCTOR_HOME``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


CsvList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PROCTOR_", extra="ignore")

    home: Path = Field(
        default=Path(".proctor"),
        description="Folder of the embedded default: database, artifacts, credentials.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL. Default sqlite:///$PROCTOR_HOME/proctor.db; "
        "production postgresql+psycopg://… (Aurora).",
    )
    artifacts_url: str = Field(
        default="",
        description="Artifact store: file://… (default $PROCTOR_HOME/artifacts) or s3://bucket/prefix.",
    )
    launcher: Literal["local", "ecs"] = Field(
        default="local", description="How runner tasks start: child processes or ECS RunTask."
    )
    max_concurrent_runs: int = Field(
        default=7, ge=1, description="Runs in launching/running across all controllers."
    )
    poll_interval_seconds: float = Field(
        default=5.0, gt=0, description="Seconds between reconcile ticks (the safety net)."
    )
    run_timeout_seconds: int = Field(
        default=3600, ge=1, description="Seconds a run may take when its test set sets none."
    )
    launch_timeout_seconds: int = Field(
        default=600, ge=1, description="Seconds a task may stay PROVISIONING/PENDING."
    )
    heartbeat_timeout_seconds: int = Field(
        default=120, ge=5, description="Seconds without a runner heartbeat before the run is lost."
    )
    claim_lease_seconds: int = Field(
        default=60, ge=5, description="Seconds a controller's claim on a launching run is valid."
    )
    api_url: str = Field(
        default="http://127.0.0.1:8000", description="Address runners use to reach the API."
    )
    auth: Literal["enabled", "disabled"] = Field(
        default="enabled", description="'disabled' is for local experiments only."
    )
    trusted_proxies: CsvList = Field(
        default_factory=list, description="Proxy addresses whose X-Forwarded-* are honoured."
    )
    cors_origins: CsvList = Field(
        default_factory=list, description="Origins allowed to call the API from a browser."
    )
    allowed_hosts: CsvList = Field(
        default_factory=list, description="Host headers the API answers (empty: any)."
    )
    max_request_bytes: int = Field(
        default=5 * 1024 * 1024, ge=1024, description="Largest request body, in bytes."
    )

    ecs_cluster: str = Field(default="", description="ECS cluster name or ARN.")
    ecs_task_definition: str = Field(
        default="", description="Runner task definition family[:revision] (owned by Terraform)."
    )
    ecs_container: str = Field(default="runner", description="Container name in the task def.")
    ecs_subnets: CsvList = Field(default_factory=list, description="Subnets for awsvpc.")
    ecs_security_groups: CsvList = Field(
        default_factory=list, description="Security groups for awsvpc."
    )
    ecs_capacity_provider: str = Field(
        default="FARGATE", description="FARGATE or FARGATE_SPOT ('' uses launchType FARGATE)."
    )
    ecs_assign_public_ip: bool = Field(default=False, description="Give runner tasks public IPs.")

    browser_executable: str = Field(
        default="",
        description="Chromium to launch; default Playwright's own browser, else /usr/bin/chromium.",
    )
    steps_path: CsvList = Field(
        default_factory=list, description="Folders or modules with project step definitions."
    )

    runner_token: str = Field(
        default="", description="The runner's run-scoped token (set by the launcher)."
    )

    url: str = Field(default="", description="Where the CLI finds the API (else credentials).")
    token: str = Field(default="", description="The CLI's API token (else credentials).")

    @field_validator(
        "trusted_proxies",
        "cors_origins",
        "allowed_hosts",
        "ecs_subnets",
        "ecs_security_groups",
        "steps_path",
        mode="before",
    )
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split_csv(value)

    @model_validator(mode="after")
    def _embedded_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.home / 'proctor.db').resolve()}"
        if not self.artifacts_url:
            self.artifacts_url = (self.home / "artifacts").resolve().as_uri()
        return self

    @property
    def credentials_path(self) -> Path:
        return self.home / "credentials"
