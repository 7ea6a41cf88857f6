"""``proctor db copy``: move the embedded default's data into PostgreSQL (Aurora).

The target is migrated first, then every table is copied in dependency order in one
transaction; a target that already holds runs is refused rather than merged.
"""

from __future__ import annotations

import click
from sqlalchemy import Integer, func, select

from db.engine import make_engine
from db.migrate import upgrade
from db.tables import metadata, signing_keys, test_runs


def copy_database(source_url: str, target_url: str, batch_size: int = 1000) -> dict[str, int]:
    upgrade(target_url)
    source, target = make_engine(source_url), make_engine(target_url)
    counts: dict[str, int] = {}
    try:
        with source.connect() as src, target.begin() as dst:
            if dst.execute(select(func.count()).select_from(test_runs)).scalar_one():
                raise click.ClickException("the target already holds runs; copy into an empty one")
            for table in metadata.sorted_tables:
                if table is signing_keys:
                    # Keep the source's key so runner tokens minted before the move stay valid.
                    dst.execute(signing_keys.delete())
                rows = [dict(row._mapping) for row in src.execute(select(table))]
                for start in range(0, len(rows), batch_size):
                    dst.execute(table.insert(), rows[start : start + batch_size])
                counts[table.name] = len(rows)
            if dst.dialect.name == "postgresql":
                # Copied explicit ids leave the sequences behind; move them past the rows.
                for table in metadata.sorted_tables:
                    column = table.c.get("id")
                    if (
                        column is not None
                        and column.primary_key
                        and isinstance(column.type, Integer)
                    ):
                        dst.exec_driver_sql(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
                        )
    finally:
        source.dispose()
        target.dispose()
    return counts
