"""The SQL the loader runs, kept in `lgs/sql/*.sql` (sqlfluff lints them: `lgs lint`).

A file holds statements, each starting at a line `-- name: <name>`; comment lines right
after it describe the statement. Statements are Jinja templates:

- `{{ x }}` writes into the SQL what the loader computed (a load id in a table name,
  the extracts' first rows);
- `{{ bind(value) }}` passes a value as a parameter of the driver (`?` for DuckDB,
  `%s` for psycopg2), in the order of the text;
- `{{ inline(query) }}` writes another rendered statement in, with its parameters.

    q = queries.render("raw", "previous_loads", style="%s", sha256=digest)
    cursor.execute(q.sql, q.params)
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).with_name("sql")
_NAME = re.compile(r"^-- name: (\w+)[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class Query:
    sql: str
    params: list[Any]


@functools.cache
def _statements(file: str) -> dict[str, str]:
    """The statements of `sql/<file>.sql` by name, without their leading comments and
    their final semicolon."""
    parts = _NAME.split((FOLDER / f"{file}.sql").read_text(encoding="utf-8"))
    found = {}
    for name, text in zip(parts[1::2], parts[2::2], strict=True):
        lines = text.strip().splitlines()
        while lines and lines[0].startswith("--"):
            lines.pop(0)
        found[name] = "\n".join(lines).strip().removesuffix(";")
    return found


@functools.cache
def _template(file: str, name: str) -> Any:
    import jinja2

    statements = _statements(file)
    if name not in statements:
        raise KeyError(f"no statement {name!r} in {FOLDER / file}.sql")
    jinja = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False)
    return jinja.from_string(statements[name])


def render(file: str, name: str, *, style: str = "?", **context: Any) -> Query:
    """Statement `name` of `sql/<file>.sql` with `context`; `style` is the driver's
    placeholder (`?` or `%s`)."""
    params: list[Any] = []

    def bind(value: Any) -> str:
        params.append(value)
        return style

    def inline(query: Query) -> str:
        params.extend(query.params)
        return query.sql

    sql = _template(file, name).render(bind=bind, inline=inline, **context)
    return Query(sql, params)


def names(file: str) -> list[str]:
    """The statements of a file, in their order."""
    return list(_statements(file))
