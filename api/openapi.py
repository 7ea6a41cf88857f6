"""The served OpenAPI document, made exact where Litestar's generator is lossy.

Litestar's schemas for pydantic models drop constraints that clients and schemathesis
rely on (``pattern``, ranges inside optional fields, ``additionalProperties: false`` of
``extra="forbid"``), and it marks every request body required. So after Litestar built
the document, each component that is one of our pydantic models is replaced by
pydantic's own JSON Schema (the same rules that validate the request), and the bodies
that may be left out are marked optional, and file downloads say what they return.
The document is built once per app.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

import schemas.models
from api.problems import Problem

#: Routes whose JSON body may be left out.
OPTIONAL_BODIES = (
    ("/api/test-runs/execute/{test_set_id}", "post"),
    ("/api/test-runs/execute-all", "post"),
)


MAX_ATTEMPT = 2**31 - 1

#: Successful bodies that are files, not our JSON shapes.
FILE_RESPONSES: dict[str, dict[str, Any]] = {
    # Any file: JSON, XML, PNG, WebM, ZIP, logs (its own content type).
    "/api/test-runs/{run_id}/artifacts/{key}": {"*/*": {"schema": {}}},
    "/api/test-runs/{run_id}/report.json": {
        "application/json": {
            "schema": {"type": "array", "items": {"type": "object"}, "title": "Cucumber JSON"},
        }
    },
    "/api/test-runs/{run_id}/junit.xml": {"application/xml": {"schema": {"type": "string"}}},
    "/api/test-runs/{run_id}/report.pdf": {
        "application/pdf": {"schema": {"type": "string", "format": "binary"}}
    },
}


def _models() -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = [Problem]
    for value in vars(schemas.models).values():
        if isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel:
            found.append(value)
    return found


def exact_document(app: Litestar) -> dict[str, Any]:
    """Patch the app's cached OpenAPI document in place and return it."""
    document = app.plugins.get(OpenAPIPlugin).provide_openapi_schema()
    components = document.setdefault("components", {}).setdefault("schemas", {})
    models = [model for model in _models() if model.__name__ in components]
    _, top = models_json_schema(
        [(model, "validation") for model in models],
        by_alias=True,
        ref_template="#/components/schemas/{model}",
    )
    components.update(top.get("$defs", {}))
    for path, method in OPTIONAL_BODIES:
        body = document["paths"][path][method].get("requestBody")
        if body is not None:
            body["required"] = False
    for parameter in document["paths"]["/api/test-runs/{run_id}/steps"]["get"]["parameters"]:
        if parameter["name"] == "attempt":  # Litestar drops the bounds of an optional int
            parameter["schema"] = {"type": "integer", "minimum": 0, "maximum": MAX_ATTEMPT}
    for path, content in FILE_RESPONSES.items():
        document["paths"][path]["get"]["responses"]["200"]["content"] = content
    return document
