"""The API on Lambda: Mangum + the real app answer API Gateway v2 and ALB events.

What the fakes can't show: that the real Litestar app, built by ``make_handler`` on a real
migrated database, answers Lambda-shaped events; and that the password lookup talks to
Secrets Manager the way boto3 (moto) accepts.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sqlalchemy.engine import make_url

from api.lambda_handler import LazyHandler, make_handler, with_secret_password
from config.settings import Settings

needs_app = pytest.mark.skipif(
    importlib.util.find_spec("api.app") is None,
    reason="api/app.py (create_app) is not written yet",
)


def _settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path,
        database_url=sqlite_url,
        artifacts_url=(tmp_path / "artifacts").as_uri(),
    )


def http_api_event(method: str, path: str) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, the shape Function URLs send too."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "abc.lambda-url.eu-west-1.on.aws", "accept": "application/json"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc",
            "domainName": "abc.lambda-url.eu-west-1.on.aws",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "10.0.0.1",
                "userAgent": "pytest",
            },
            "requestId": "req-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "25/Nov/2026:09:00:00 +0000",
            "timeEpoch": 1795597200000,
        },
        "isBase64Encoded": False,
    }


def alb_event(method: str, path: str) -> dict[str, Any]:
    """An Application Load Balancer target-group event (the hybrid example's default)."""
    return {
        "requestContext": {
            "elb": {
                "targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:"
                "targetgroup/proctor-api/0123456789abcdef"
            }
        },
        "httpMethod": method,
        "path": path,
        "queryStringParameters": {},
        "headers": {
            "host": "internal-proctor-123.eu-west-1.elb.amazonaws.com",
            "accept": "application/json",
            "x-forwarded-for": "10.0.0.1",
            "x-forwarded-port": "80",
            "x-forwarded-proto": "http",
        },
        "body": "",
        "isBase64Encoded": False,
    }


@needs_app
@pytest.mark.parametrize("event", [http_api_event, alb_event], ids=["http-api-v2", "alb"])
def test_handler_serves_healthz(event: Any, sqlite_url: str, tmp_path: Path) -> None:
    handler = make_handler(_settings(sqlite_url, tmp_path))
    response = handler(event("GET", "/healthz"), None)
    assert response["statusCode"] == 200, response


@needs_app
def test_the_app_has_no_lifespan_work_that_lifespan_off_would_skip(
    sqlite_url: str, tmp_path: Path
) -> None:
    from api.app import create_app

    app = create_app(_settings(sqlite_url, tmp_path))
    assert (app.on_startup, app.on_shutdown, app._lifespan_managers) == ([], [], []), (
        "the app gained lifespan hooks: make_handler must run them once per execution "
        "environment (Mangum's lifespan='auto' would run them around every invocation)"
    )


@needs_app
def test_handler_keeps_the_app_between_invocations(sqlite_url: str, tmp_path: Path) -> None:
    builds: list[int] = []

    def build() -> Any:
        builds.append(1)
        return make_handler(_settings(sqlite_url, tmp_path))

    handler = LazyHandler(build)
    assert builds == []  # nothing is built before the first event
    for _ in range(3):
        assert handler(http_api_event("GET", "/healthz"), None)["statusCode"] == 200
    assert builds == [1]


@needs_app
def test_protected_route_needs_a_token_through_lambda(sqlite_url: str, tmp_path: Path) -> None:
    handler = make_handler(_settings(sqlite_url, tmp_path))
    response = handler(alb_event("GET", "/api/test-runs"), None)
    assert response["statusCode"] == 401, response


@mock_aws
def test_password_comes_from_the_managed_secret() -> None:
    client = boto3.client("secretsmanager", region_name="eu-west-1")
    arn = client.create_secret(
        Name="rds!cluster-1234",
        SecretString=json.dumps({"username": "proctor", "password": "p@ss/w:rd"}),
    )["ARN"]
    settings = Settings(database_url="postgresql+psycopg://proctor@db.internal:5432/proctor")

    resolved = with_secret_password(settings, {"DATABASE_SECRET_ARN": arn}, client)

    url = make_url(resolved.database_url)
    assert url.password == "p@ss/w:rd"
    assert (url.host, url.port, url.database) == ("db.internal", 5432, "proctor")


def test_url_with_a_password_or_no_secret_is_left_alone() -> None:
    settings = Settings(database_url="postgresql+psycopg://u:given@db:5432/p")
    assert with_secret_password(settings, {"DATABASE_SECRET_ARN": "arn"}, object()) is settings
    bare = Settings(database_url="postgresql+psycopg://u@db:5432/p")
    assert with_secret_password(bare, {}, object()) is bare
