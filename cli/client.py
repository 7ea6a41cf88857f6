"""A small HTTP client for the CLI commands that talk to a running Proctor.

The address and token come from ``PROCTOR_URL``/``PROCTOR_TOKEN`` or, failing those, from
``$PROCTOR_HOME/credentials`` that ``proctor up`` writes, so commands on the same machine
just work. Problem+json errors become one readable line and a non-zero exit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import httpx

from config import Settings


class ApiError(click.ClickException):
    """An error answer or an unreachable API, shown to the user without a traceback."""

    exit_code = 2


def read_credentials(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    values = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            values[key.strip()] = value.strip()
    return values


def write_credentials(path: Path, url: str, token: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(
        "# Written by `proctor up`: where the proctor CLI finds the API on this machine.\n"
        f"PROCTOR_URL={url}\nPROCTOR_TOKEN={token}\n"
    )
    tmp.chmod(0o600)
    tmp.replace(path)


class Client:
    def __init__(self, url: str, token: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    @classmethod
    def from_settings(cls, settings: Settings) -> Client:
        saved = read_credentials(settings.credentials_path)
        url = settings.url or saved.get("PROCTOR_URL", "")
        token = settings.token or saved.get("PROCTOR_TOKEN", "")
        if not url:
            raise ApiError(
                f"no API address: set PROCTOR_URL and PROCTOR_TOKEN, or start `proctor up` "
                f"(it writes {settings.credentials_path})"
            )
        return cls(url, token)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as err:
            raise ApiError(f"cannot reach Proctor at {self.url}: {err}") from err
        if response.status_code >= 400:
            raise ApiError(_describe_error(method, path, response))
        return response

    def get_json(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs).json()

    def exists(self, path: str) -> bool:
        try:
            response = self._http.get(path)
        except httpx.HTTPError as err:
            raise ApiError(f"cannot reach Proctor at {self.url}: {err}") from err
        if response.status_code == 404:
            return False
        if response.status_code >= 400:
            raise ApiError(_describe_error("GET", path, response))
        return True


def _describe_error(method: str, path: str, response: httpx.Response) -> str:
    detail = response.text[:500]
    if "json" in response.headers.get("content-type", ""):
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            detail = str(body.get("detail") or body.get("title") or body)
            extra = body.get("extra") or body.get("errors")
            if extra:
                detail += f" ({extra})"
    return f"{method} {path} → {response.status_code}: {detail}"
