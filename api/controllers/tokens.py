"""``/api/tokens``: API tokens, for admins (the CLI's ``proctor tokens`` does the same)."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody

from api.context import EngineDep
from api.problems import problem_responses
from api.services import tokens
from api.services.errors import NotFound
from schemas.models import CreatedToken, TokenCreate, TokenInfo


class TokensController(Controller):
    path = "/api/tokens"
    tags = ["tokens"]

    @get(
        "/", opt={"scope": "admin"}, sync_to_thread=True, responses=problem_responses(400, 401, 403)
    )
    def list_tokens(self, engine: EngineDep) -> list[TokenInfo]:
        """Every token, never its secret."""
        return tokens.list_tokens(engine)

    @post(
        "/",
        opt={"scope": "admin"},
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 413, 415, 422),
    )
    def create_token(self, engine: EngineDep, data: JSONBody[TokenCreate]) -> CreatedToken:
        """Create a token; the answer holds its secret, shown this once."""
        return tokens.create_token(engine, data.name, [str(scope) for scope in data.scopes])

    @delete(
        "/{token_id:str}",
        opt={"scope": "admin"},
        sync_to_thread=True,
        responses=problem_responses(400, 401, 403, 404),
    )
    def revoke_token(self, engine: EngineDep, token_id: FromPath[str]) -> None:
        """Revoke a token; it stops working at once."""
        if not tokens.revoke_token(engine, token_id):
            raise NotFound(f"no active token with id {token_id!r}")
