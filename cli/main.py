"""``proctor``: one console script for every process and every user command (DESIGN.md).

Settings are built once here, from the environment, and passed down. Heavy modules are
imported inside the commands so that ``proctor runner`` does not load the API and
``proctor --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from pydantic import ValidationError

from config import Settings

SCOPES = ("read", "execute", "admin")


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as err:
        problems = "; ".join(
            f"PROCTOR_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in err.errors()
        )
        raise click.ClickException(f"invalid configuration: {problems}") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Proctor runs browser test suites (Gherkin + Playwright) on demand and in batches."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def up(host: str, port: int) -> None:
    """Migrate, then serve the API and run the controller (the embedded default)."""
    from cli.serve import configure_logging
    from cli.serve import up as serve_up
    from config.tracing import configure_tracing

    configure_logging("WARNING")
    configure_tracing("proctor")
    serve_up(_settings(), host, port)


@cli.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def api(host: str, port: int) -> None:
    """Serve the HTTP API (the controller image's `api` command)."""
    from cli.serve import configure_logging, serve_api
    from config.tracing import configure_tracing

    configure_logging()
    configure_tracing("proctor-api")
    serve_api(_settings(), host, port).run()


@cli.command()
def controller() -> None:
    """Run the reconciliation controller until SIGTERM."""
    from cli.serve import configure_logging, controller_forever
    from config.tracing import configure_tracing

    configure_logging()
    configure_tracing("proctor-controller")
    controller_forever(_settings())


@cli.command()
@click.option("--run-id", required=True, help="The run to execute.")
def runner(run_id: str) -> None:
    """Execute one run's features in Chromium (the runner image's entrypoint)."""
    from config.tracing import configure_tracing, shutdown_tracing
    from runner.main import main as runner_main

    configure_tracing("proctor-runner")
    try:
        code = runner_main(run_id, _settings())
    finally:
        shutdown_tracing()  # flush the last steps' spans before the process ends
    sys.exit(code)


@cli.group()
def db() -> None:
    """Database schema and data."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the Alembic migrations to PROCTOR_DATABASE_URL."""
    from db.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}: {_redact(settings.database_url)}")


@db.command("copy")
@click.option("--from", "source", required=True, help="SQLAlchemy URL to copy from.")
@click.option("--to", "target", required=True, help="SQLAlchemy URL to copy into (migrated).")
def db_copy(source: str, target: str) -> None:
    """Copy every row from one database to another (SQLite → PostgreSQL)."""
    from cli.dbcopy import copy_database

    counts = copy_database(source, target)
    for table, count in counts.items():
        click.echo(f"{table:<20} {count:>8} rows")


@cli.group("test-sets")
def test_sets() -> None:
    """Test set definitions."""


@test_sets.command("sync")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--base-url", help="Base URL the test sets' relative paths open against.")
def test_sets_sync(directory: Path, base_url: str | None) -> None:
    """Create or update one test set per sub-folder of DIRECTORY."""
    from cli.client import Client
    from cli.testsets import sync

    client = Client.from_settings(_settings())
    for test_set_id, what in sync(client, directory, base_url):
        click.echo(f"{what:<8} {test_set_id}")


@test_sets.command("list")
def test_sets_list() -> None:
    """List the test sets."""
    from cli.client import Client

    client = Client.from_settings(_settings())
    page = client.get_json("/api/test-sets")
    items = page["items"] if isinstance(page, dict) else page
    for item in items:
        state = "enabled" if item.get("enabled", True) else "disabled"
        click.echo(f"{item['id']:<24} {state:<9} {len(item['features'])} features  {item['name']}")


@cli.command()
@click.argument("test_set_ids", nargs=-1)
@click.option("--all", "run_all", is_flag=True, help="Every enabled test set, as one batch.")
@click.option("--wait/--no-wait", default=False, help="Follow the runs until they finish.")
@click.option("--base-url", help="Run against this base URL instead of the test set's.")
@click.option("--tags", help="Only scenarios matching this tag expression.")
@click.option("--label", help="A label for the batch.")
@click.option("--junit", "junit", type=click.Path(path_type=Path), help="Write JUnit XML here.")
@click.option("--timeout", type=float, help="Give up waiting after this many seconds.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between polls.")
def run(
    test_set_ids: tuple[str, ...],
    run_all: bool,
    wait: bool,
    base_url: str | None,
    tags: str | None,
    label: str | None,
    junit: Path | None,
    timeout: float | None,
    interval: float,
) -> None:
    """Run test sets; with --wait, exit 0 only when everything passed."""
    from cli.client import Client
    from cli.runs import follow, print_summary, trigger, write_junit

    if bool(test_set_ids) == run_all:
        raise click.UsageError("name one or more test sets, or give --all")
    settings = _settings()
    client = Client.from_settings(settings)
    batch = trigger(client, test_set_ids, run_all, base_url, tags, label)
    run_ids = [run["id"] for run in batch["runs"]]
    if batch.get("id"):
        click.echo(f"batch {batch['id']}: {len(run_ids)} runs")
    else:
        click.echo(f"run {run_ids[0]}")
    if not wait and junit is None:
        return
    runs = follow(client, run_ids, interval, timeout)
    hint = settings.artifacts_url if settings.artifacts_url.startswith("file://") else None
    print_summary(client, runs, hint.removeprefix("file://") if hint else None)
    if junit is not None:
        write_junit(client, runs, junit)
        click.echo(f"JUnit XML written to {junit}")
    sys.exit(0 if all(run["status"] == "passed" for run in runs) else 1)


@cli.command()
@click.argument("ident")
def status(ident: str) -> None:
    """Show a run or a batch."""
    import json

    from cli.client import Client
    from cli.runs import show_status

    click.echo(json.dumps(show_status(Client.from_settings(_settings()), ident), indent=2))


@cli.command()
@click.argument("run_id")
@click.option("--pdf", "pdf", type=click.Path(path_type=Path), required=True)
def report(run_id: str, pdf: Path) -> None:
    """Download a run's PDF report."""
    from cli.client import Client

    response = Client.from_settings(_settings()).request(
        "GET", f"/api/test-runs/{run_id}/report.pdf", timeout=120
    )
    pdf.write_bytes(response.content)
    click.echo(f"{pdf} ({len(response.content)} bytes)")


@cli.group()
def tokens() -> None:
    """API tokens (works on the database directly; for operators)."""


@tokens.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(SCOPES), required=True)
def tokens_create(name: str, scopes: tuple[str, ...]) -> None:
    """Create a token; its secret is shown once."""
    from api.services.tokens import create_token
    from db.engine import make_engine

    engine = make_engine(_settings().database_url)
    created = create_token(engine, name, list(scopes))
    click.echo(f"id:     {created.id}\ntoken:  {created.secret}")


@tokens.command("revoke")
@click.argument("token_id")
def tokens_revoke(token_id: str) -> None:
    """Revoke a token by id."""
    from api.services.tokens import revoke_token
    from db.engine import make_engine

    if not revoke_token(make_engine(_settings().database_url), token_id):
        raise click.ClickException(f"no active token with id {token_id!r}")
    click.echo(f"revoked {token_id}")


@tokens.command("list")
def tokens_list() -> None:
    """List tokens (never their secrets)."""
    from api.services.tokens import list_tokens
    from db.engine import make_engine

    for info in list_tokens(make_engine(_settings().database_url)):
        data = info.model_dump() if hasattr(info, "model_dump") else vars(info)
        revoked = " revoked" if data.get("revoked_at") else ""
        click.echo(f"{data['id']}  {data['name']:<32} {','.join(data['scopes'])}{revoked}")


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
