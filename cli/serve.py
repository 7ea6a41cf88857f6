"""The long-running processes: ``proctor up``, ``proctor api`` and ``proctor controller``.

``up`` is the embedded default in one process: it migrates, makes sure an admin token
exists and is written to ``$PROCTOR_HOME/credentials``, then serves the API with uvicorn
and runs the controller (with the local launcher, unless settings say otherwise) in a
thread beside it. SIGINT/SIGTERM stop both: the controller finishes its tick first.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import click
import uvicorn
from sqlalchemy import Engine

from api.app import create_app
from api.services.tokens import create_token
from artifacts import open_store
from cli.client import read_credentials, write_credentials
from config import Settings
from controller.service import Controller
from db.engine import make_engine, on_runs_committed
from db.migrate import upgrade

log = logging.getLogger("proctor")


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )


def _token_still_valid(settings: Settings, url: str, token: str) -> bool:
    import hashlib

    from sqlalchemy import select

    from db.tables import api_tokens

    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                select(api_tokens.c.revoked_at).where(
                    api_tokens.c.token_hash == hashlib.sha256(token.encode()).hexdigest()
                )
            ).first()
    finally:
        engine.dispose()
    return row is not None and row.revoked_at is None


def ensure_credentials(settings: Settings, url: str) -> str:
    """Reuse the admin token of an earlier `up` if it is still valid, else make one."""
    saved = read_credentials(settings.credentials_path)
    token = saved.get("PROCTOR_TOKEN", "")
    if not (token and _token_still_valid(settings, url, token)):
        engine = make_engine(settings.database_url)
        try:
            token = create_token(engine, "proctor up (local admin)", ["admin"]).secret
        finally:
            engine.dispose()
    write_credentials(settings.credentials_path, url, token)
    return token


def run_controller(
    settings: Settings, stop: threading.Event, controller: Controller | None = None
) -> None:
    # APScheduler logs every tick at INFO; the controller logs what matters itself.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if controller is not None:
        controller.run_forever(stop)
        return
    engine = make_engine(settings.database_url)
    try:
        Controller(settings, engine, open_store(settings.artifacts_url)).run_forever(stop)
    finally:
        engine.dispose()


def serve_api(
    settings: Settings, host: str, port: int, engine: Engine | None = None
) -> uvicorn.Server:
    app = create_app(settings, engine=engine)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=False,  # X-Forwarded-* is the app's decision (PROCTOR_TRUSTED_PROXIES)
    )
    return uvicorn.Server(config)


def up(settings: Settings, host: str, port: int) -> None:
    settings.home.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    if "api_url" not in settings.model_fields_set:
        settings = settings.model_copy(update={"api_url": url})
    token = ensure_credentials(settings, url)

    # One engine for the API and the controller: on SQLite, where there is no NOTIFY, the
    # API's commit of a new run wakes the controller in this process at once.
    engine = make_engine(settings.database_url)
    controller = Controller(settings, engine, open_store(settings.artifacts_url))
    on_runs_committed(engine, controller.wake_for_new_runs)
    stop = threading.Event()
    thread = threading.Thread(
        target=run_controller, args=(settings, stop, controller), name="controller", daemon=True
    )
    thread.start()
    server = serve_api(settings, host, port, engine)
    click.echo(f"Proctor is up at {url}")
    click.echo(f"  database:  {settings.database_url}")
    click.echo(f"  artifacts: {settings.artifacts_url}")
    click.echo(f"  launcher:  {settings.launcher}")
    click.echo(f"  admin token: {token}")
    click.echo(f"  (saved with the URL in {settings.credentials_path} for the proctor CLI)")
    try:
        server.run()
    finally:
        stop.set()
        thread.join(timeout=60)
        engine.dispose()


def controller_forever(settings: Settings) -> None:
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: finishing the tick and stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    run_controller(settings, stop)
