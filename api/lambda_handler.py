"""The API on AWS Lambda: the hybrid deployment (DESIGN.md "Deployment", Option 3).

Mangum turns Lambda events — API Gateway v2 and Function URL events, ALB target-group
events — into ASGI calls on the same Litestar app that ``proctor api`` serves, so the
hybrid deployment runs exactly the code of Option 1.

Nothing is built at import time: Lambda imports this module during its init phase, and
tests import it with no ``PROCTOR_*`` environment at all. ``handler`` builds the settings,
the engine and the app at its first invocation and keeps them for the warm execution
environment, so the connection pool outlives one request. Tests call ``make_handler``
with their own settings instead.

The database password. ECS injects it from Aurora's managed secret as ``PGPASSWORD``,
which libpq reads when ``PROCTOR_DATABASE_URL`` carries none; Lambda cannot inject
secrets into the environment, so when ``PROCTOR_DATABASE_URL`` has no password and
``DATABASE_SECRET_ARN`` names the secret, the first invocation reads the password from
Secrets Manager and puts it into the URL (docs/deploy.md, "Database credentials").
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from mangum import Mangum
from sqlalchemy.engine import make_url

from config.settings import Settings

#: Environment variable naming the Secrets Manager secret (Aurora's managed master secret,
#: JSON with "username" and "password") whose password the database URL lacks.
SECRET_ARN_ENV = "DATABASE_SECRET_ARN"

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def make_handler(settings: Settings) -> LambdaHandler:
    """The Lambda entry point for ``settings``: the API app wrapped by Mangum.

    The app owns its engine and store, so they live as long as the execution environment.
    Mangum would run an ASGI lifespan around every invocation; the app has no startup or
    shutdown work, so the lifespan is off.
    """
    from api.app import create_app

    app = create_app(settings)
    # Litestar is an ASGI app; Mangum's protocol type is narrower than Litestar's signature.
    return Mangum(app, lifespan="off")  # type: ignore[arg-type]


def with_secret_password(
    settings: Settings, environ: Mapping[str, str], secrets_client: Any | None = None
) -> Settings:
    """``settings`` with the database password read from ``DATABASE_SECRET_ARN``, if needed.

    A URL that already carries a password, or no secret named, leaves the settings as they
    are. ``secrets_client`` is a boto3 Secrets Manager client (made here when not given).
    """
    secret_arn = environ.get(SECRET_ARN_ENV, "")
    url = make_url(settings.database_url)
    if not secret_arn or url.password is not None:
        return settings
    if secrets_client is None:
        import boto3

        secrets_client = boto3.client("secretsmanager")
    secret = json.loads(secrets_client.get_secret_value(SecretId=secret_arn)["SecretString"])
    with_password = url.set(password=secret["password"]).render_as_string(hide_password=False)
    return settings.model_copy(update={"database_url": with_password})


class LazyHandler:
    """A Lambda handler that builds the real one at its first invocation, once.

    ``build`` is called under a lock, so concurrent first calls (threads in one process;
    Lambda itself sends one event at a time) still build a single app.
    """

    def __init__(self, build: Callable[[], LambdaHandler]) -> None:
        self._build = build
        self._handler: LambdaHandler | None = None
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        if self._handler is None:
            with self._lock:
                if self._handler is None:
                    self._handler = self._build()
        return self._handler(event, context)


def _from_environment() -> LambdaHandler:
    return make_handler(with_secret_password(Settings(), os.environ))


#: What Lambda invokes: ``api.lambda_handler.handler`` (the `lambda` image's command).
handler = LazyHandler(_from_environment)
