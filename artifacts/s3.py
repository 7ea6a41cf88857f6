"""The S3 artifact store (``s3://bucket/prefix``).

boto3 finds its endpoint and region the usual way (``AWS_ENDPOINT_URL``, ``AWS_REGION``),
so the same code talks to AWS, a moto server or LocalStack. Uploads and reads are retried
by botocore's standard retry mode (exponential backoff with jitter).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from artifacts.store import StoredObject, content_type_for, kind_for, safe_key

#: Object tag carrying the artifact kind: the bucket's lifecycle rules expire each kind on
#: its own schedule by this tag (infra/terraform/modules/artifacts), since keys start with
#: the run, not the kind.
KIND_TAG = "proctor-kind"

_RETRIES = Config(retries={"max_attempts": 8, "mode": "standard"}, signature_version="s3v4")


def _kind_tagging(key: str) -> str:
    return f"{KIND_TAG}={kind_for(key)}"


class S3Store:
    def __init__(self, bucket: str, prefix: str = "", client: Any = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}" if self.prefix else f"s3://{bucket}"
        self._client = client or boto3.client("s3", config=_RETRIES)

    def _object_key(self, key: str) -> str:
        key = safe_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _store_key(self, object_key: str) -> str:
        return object_key[len(self.prefix) + 1 :] if self.prefix else object_key

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> StoredObject:
        content_type = content_type or content_type_for(key)
        self._client.put_object(
            Bucket=self.bucket,
            Key=self._object_key(key),
            Body=data,
            ContentType=content_type,
            Tagging=_kind_tagging(key),
        )
        return StoredObject(key, len(data), content_type)

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> StoredObject:
        content_type = content_type or content_type_for(key)
        self._client.upload_file(
            str(path),
            self.bucket,
            self._object_key(key),
            ExtraArgs={"ContentType": content_type, "Tagging": _kind_tagging(key)},
        )
        return StoredObject(key, path.stat().st_size, content_type)

    def get_bytes(self, key: str) -> bytes | None:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=self._object_key(key))
        except ClientError as err:
            if err.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise
        return response["Body"].read()  # type: ignore[no-any-return]

    def stream(self, key: str, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        response = self._client.get_object(Bucket=self.bucket, Key=self._object_key(key))
        yield from response["Body"].iter_chunks(chunk_size)

    def list(self, prefix: str) -> list[StoredObject]:
        found = []
        paginator = self._client.get_paginator("list_objects_v2")
        full_prefix = self._object_key(prefix.rstrip("/")) + "/" if prefix.strip("/") else (
            self.prefix + "/" if self.prefix else ""
        )
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full_prefix):
            for item in page.get("Contents", []):
                key = self._store_key(item["Key"])
                found.append(StoredObject(key, item["Size"], content_type_for(key)))
        return found

    def presigned_url(self, key: str, expires_seconds: int = 300) -> str | None:
        return self._client.generate_presigned_url(  # type: ignore[no-any-return]
            "get_object",
            Params={"Bucket": self.bucket, "Key": self._object_key(key)},
            ExpiresIn=expires_seconds,
        )
