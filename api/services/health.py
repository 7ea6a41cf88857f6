"""Readiness: the API is ready when it can reach its database."""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from .errors import Unavailable


def check_database(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as err:
        raise Unavailable(f"the database is not reachable ({type(err).__name__})") from err
