"""One small interface over a local folder and S3.

Keys are relative, ``/``-separated paths (``runs/{run_id}/attempt-{n}/cucumber.json``).
Every key passes ``safe_key`` before it touches a path or a bucket, so a key that came
from a request can never escape the store (no ``..``, no absolute paths).
"""

from __future__ import annotations

import mimetypes
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import unquote, urlparse


class InvalidKey(ValueError):
    """A key that is not a plain relative path inside the store."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    content_type: str


_CONTENT_TYPES = {
    ".json": "application/json",
    ".xml": "application/xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".webm": "video/webm",
    ".zip": "application/zip",
    ".log": "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".pdf": "application/pdf",
    ".html": "text/html; charset=utf-8",
}


def content_type_for(key: str) -> str:
    suffix = PurePosixPath(key).suffix.lower()
    return _CONTENT_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def kind_for(key: str) -> str:
    """The artifact kind (DESIGN.md, "artifacts") of a key inside an attempt's folder."""
    path = PurePosixPath(key)
    name = path.name
    if name == "cucumber.json":
        return "cucumber_json"
    if name == "junit.xml":
        return "junit_xml"
    if name.endswith(".pdf"):
        return "pdf"
    if name.endswith("trace.zip"):
        return "trace"
    if name.endswith(".log"):
        return "log"
    if "screenshots" in path.parts:
        return "screenshot"
    if "videos" in path.parts:
        return "video"
    return "other"


def safe_key(key: str) -> str:
    parts = key.split("/")
    if (
        not key
        or key.startswith("/")
        or "\\" in key
        or "\x00" in key
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise InvalidKey(f"not a valid artifact key: {key!r}")
    return key


def attempt_prefix(run_id: str, attempt: int) -> str:
    return f"runs/{safe_key(run_id)}/attempt-{attempt}/"


class ArtifactStore(Protocol):
    url: str

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> StoredObject: ...

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> StoredObject: ...

    def get_bytes(self, key: str) -> bytes | None:
        """The object's content, or None when there is no such object."""
        ...

    def stream(self, key: str, chunk_size: int = 64 * 1024) -> Iterator[bytes]: ...

    def list(self, prefix: str) -> list[StoredObject]: ...

    def presigned_url(self, key: str, expires_seconds: int = 300) -> str | None:
        """A time-limited GET URL (S3), or None when the API must stream it itself."""
        ...


class LocalStore:
    """A folder on this machine: the embedded default."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.url = self.root.as_uri()

    def _path(self, key: str) -> Path:
        path = (self.root / safe_key(key)).resolve()
        if not path.is_relative_to(self.root):
            raise InvalidKey(f"not a valid artifact key: {key!r}")
        return path

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> StoredObject:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
        return StoredObject(key, len(data), content_type or content_type_for(key))

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> StoredObject:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.resolve() != target:
            tmp = target.with_name(target.name + ".part")
            shutil.copyfile(path, tmp)
            tmp.replace(target)
        return StoredObject(key, target.stat().st_size, content_type or content_type_for(key))

    def get_bytes(self, key: str) -> bytes | None:
        path = self._path(key)
        return path.read_bytes() if path.is_file() else None

    def stream(self, key: str, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        with self._path(key).open("rb") as handle:
            while chunk := handle.read(chunk_size):
                yield chunk

    def list(self, prefix: str) -> list[StoredObject]:
        base = self._path(prefix.rstrip("/")) if prefix.strip("/") else self.root
        if not base.is_dir():
            return []
        found = []
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.endswith(".part"):
                key = path.relative_to(self.root).as_posix()
                found.append(StoredObject(key, path.stat().st_size, content_type_for(key)))
        return found

    def presigned_url(self, key: str, expires_seconds: int = 300) -> str | None:
        return None

    def local_path(self, key: str) -> Path:
        return self._path(key)


def open_store(url: str) -> ArtifactStore:
    """``file:///abs/path`` or ``s3://bucket/prefix``."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalStore(Path(unquote(parsed.path)))
    if parsed.scheme == "s3":
        from artifacts.s3 import S3Store

        if not parsed.netloc:
            raise ValueError(f"artifact URL {url!r} names no bucket")
        return S3Store(bucket=parsed.netloc, prefix=parsed.path.strip("/"))
    raise ValueError(f"artifact URL {url!r} must start with file:// or s3://")
