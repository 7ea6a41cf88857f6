"""The artifact store: where runs' reports, screenshots, videos and traces live.

A local folder on one machine (``file://…``), S3 in production (``s3://bucket/prefix``).
The runner writes, the API lists and serves, the controller reads a run's
``cucumber.json`` when the task's own verdict is lost.
"""

from artifacts.store import (
    ArtifactStore,
    InvalidKey,
    StoredObject,
    attempt_prefix,
    content_type_for,
    kind_for,
    open_store,
    safe_key,
)

__all__ = [
    "ArtifactStore",
    "InvalidKey",
    "StoredObject",
    "attempt_prefix",
    "content_type_for",
    "kind_for",
    "open_store",
    "safe_key",
]
