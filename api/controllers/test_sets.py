"""``/api/test-sets``: test set definitions (list, create, read, replace, delete)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, PathParameter

from api.context import EngineDep
from api.problems import problem_responses
from api.services import test_sets
from schemas.models import SLUG, TestSetBody, TestSetCreate, TestSetRead


class TestSetsController(Controller):
    __test__ = False  # not a pytest class

    path = "/api/test-sets"
    tags = ["test sets"]

    @get(
        "/", opt={"scope": "read"}, sync_to_thread=True, responses=problem_responses(400, 401, 403)
    )
    def list_test_sets(self, engine: EngineDep) -> list[TestSetRead]:
        """Every test set, by id."""
        return test_sets.list_test_sets(engine)

    @post(
        "/",
        opt={"scope": "admin"},
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 409, 413, 415, 422),
    )
    def create_test_set(self, engine: EngineDep, data: JSONBody[TestSetCreate]) -> TestSetRead:
        """Create a test set; 409 when the id is taken (PUT replaces)."""
        return test_sets.create_test_set(engine, data)

    @get(
        "/{test_set_id:str}",
        opt={"scope": "read"},
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 404),
    )
    def get_test_set(self, engine: EngineDep, test_set_id: FromPath[str]) -> TestSetRead:
        return test_sets.get_test_set(engine, test_set_id)

    @put(
        "/{test_set_id:str}",
        opt={"scope": "admin"},
        sync_to_thread=True,
        responses={
            201: ResponseSpec(TestSetRead, description="Created (there was none)"),
            **problem_responses(400, 401, 403, 413, 415, 422),
        },
    )
    def replace_test_set(
        self,
        engine: EngineDep,
        test_set_id: Annotated[str, PathParameter(pattern=SLUG.pattern, max_length=64)],
        data: JSONBody[TestSetBody],
    ) -> Response[TestSetRead]:
        """Replace the definition (200), or create it when there is none (201)."""
        test_set, created = test_sets.replace_test_set(engine, test_set_id, data)
        return Response(test_set, status_code=201 if created else 200)

    @delete(
        "/{test_set_id:str}",
        opt={"scope": "admin"},
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 404, 409),
    )
    def delete_test_set(self, engine: EngineDep, test_set_id: FromPath[str]) -> None:
        """Delete a test set that has no runs (409 otherwise: disable it instead)."""
        test_sets.delete_test_set(engine, test_set_id)
