"""Reading the marts into pandas, the same way on every target.

The charts, the report and the notebook read the warehouse only through this module, and
only the marts (schema `marts`; their public contracts are the YAML files of the subject
folders, `models/marts/<subject>/_<subject>__models.yml`).
Values come back with the same pandas types on PostgreSQL and DuckDB: exact numerics as
`float64`, dates and timestamps as `datetime64`, integers as `int64` (`Int64` when a column
holds nulls), booleans as `bool` (`boolean` with nulls), text as strings.

    from lgs import marts
    sales = marts.read_mart("duckdb", "monthly_sales", order_by="year_month")

    with marts.MartReader("dev") as reader:     # one connection for several reads
        summary = reader.frame("invoice_amount_summary")
        print(reader.marts_read)                # {'invoice_amount_summary'}
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import re
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from lgs import targets
from lgs.errors import WarehouseError
from lgs.targets import Target

if TYPE_CHECKING:
    import pandas as pd

SCHEMA = "marts"
MART_NAMES = (
    "invoices",
    "invoice_amount_summary",
    "monthly_orders",
    "monthly_sales",
    "monthly_users",
    "customer_rfm",
    "rfm_segments",
    "customers",
    "data_quality",
    "customer_months",
    "cohort_retention",
    "customer_movement",
    "repeat_purchase_summary",
    "monthly_sales_by_customer_type",
    "country_summary",
)
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
_ORDER_TERM = re.compile(r"[a-z_][a-z0-9_]*( (asc|desc))?")


def default_target() -> Target:
    """`LGS_TARGET` when set (the notebook's way to choose), else `dev`."""
    return targets.default()


def _check_mart(name: str) -> str:
    if name not in MART_NAMES:
        raise ValueError(f"{name!r} is not a mart; expected one of {', '.join(MART_NAMES)}")
    return name


def _check_columns(columns: Sequence[str]) -> str:
    for column in columns:
        if not _IDENTIFIER.fullmatch(column):
            raise ValueError(f"column {column!r}: expected a lower-case column name")
    return ", ".join(columns)


def _check_order(order_by: str) -> str:
    terms = [term.strip() for term in order_by.split(",")]
    for term in terms:
        if not _ORDER_TERM.fullmatch(term):
            raise ValueError(f"order_by {order_by!r}: expected `column [asc|desc], ...`")
    return ", ".join(terms)


def _to_pandas(column: list[Any]) -> pd.Series:
    """One column of DB-API values as a pandas series with a type that does not depend on
    the driver (psycopg2 and duckdb both return Decimal, date, datetime, int, bool, str)."""
    import pandas as pd

    values = [v for v in column if v is not None]
    has_null = len(values) < len(column)
    if not values:
        return pd.Series(column, dtype="object")
    first = values[0]
    if isinstance(first, decimal.Decimal | float):
        return pd.Series([float("nan") if v is None else float(v) for v in column], dtype="float64")
    if isinstance(first, bool):
        return pd.Series(column, dtype="boolean" if has_null else "bool")
    if isinstance(first, int):
        return pd.Series(column, dtype="Int64" if has_null else "int64")
    if isinstance(first, dt.datetime | dt.date):
        return pd.Series(pd.to_datetime(pd.Series(column, dtype="object")), dtype="datetime64[us]")
    if isinstance(first, str):
        return pd.Series(column, dtype="string")
    return pd.Series(column, dtype="object")


class MartReader:
    """A read-only connection to the marts of one target; remembers which marts it read
    (the exposures in `models/marts/_marts__exposures.yml` must list exactly those)."""

    def __init__(self, target: str | Target) -> None:
        self.target = targets.get(target)
        self.marts_read: set[str] = set()
        self._conn: Any = None

    def __enter__(self) -> MartReader:
        self._conn = self.target.connect(read_only=True)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def query(self, sql: str, marts: Sequence[str]) -> pd.DataFrame:
        """Run `sql` (which reads `marts`, named as `marts.<name>`) and return a frame."""
        import pandas as pd

        if self._conn is None:
            raise RuntimeError("use MartReader as a context manager: `with MartReader(t) as r:`")
        for mart in marts:
            self.marts_read.add(_check_mart(mart))
        cursor = self._conn.cursor()
        try:
            cursor.execute(sql)
            rows = cursor.fetchall()
            names = [d[0] for d in cursor.description]
        except Exception as exc:  # the driver's own error types differ by target
            self._rollback()
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            raise WarehouseError(
                f"cannot read the marts ({', '.join(marts)}) on target {self.target}: "
                f"{message}\nbuild them first: `dbt build --target {self.target}` "
                f"(or `make run`)"
            ) from exc
        finally:
            cursor.close()
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        return pd.DataFrame(
            {name: _to_pandas(list(values)) for name, values in zip(names, columns, strict=True)},
            columns=names,
        )

    def frame(
        self,
        mart: str,
        columns: Sequence[str] | None = None,
        *,
        where: str | None = None,
        order_by: str | None = None,
    ) -> pd.DataFrame:
        """`select <columns> from marts.<mart> [where ...] [order by ...]` as a frame.
        `where` is SQL written by the caller (never user input)."""
        sql = f"select {_check_columns(columns) if columns else '*'} "
        sql += f"from {SCHEMA}.{_check_mart(mart)}"
        if where:
            sql += f" where {where}"
        if order_by:
            sql += f" order by {_check_order(order_by)}"
        return self.query(sql, [mart])

    def scalar(self, sql: str, marts: Sequence[str]) -> Any:
        frame = self.query(sql, marts)
        return None if frame.empty else frame.iloc[0, 0]

    def _rollback(self) -> None:
        rollback = getattr(self._conn, "rollback", None)
        if rollback is not None:
            with contextlib.suppress(Exception):  # the original error is the one to show
                rollback()


def read_mart(
    target: str | Target | None = None,
    mart: str = "monthly_sales",
    columns: Sequence[str] | None = None,
    *,
    where: str | None = None,
    order_by: str | None = None,
) -> pd.DataFrame:
    """One mart as a frame, on `target` (default: `LGS_TARGET`, else `dev`)."""
    _check_mart(mart)
    with MartReader(target or default_target()) as reader:
        return reader.frame(mart, columns, where=where, order_by=order_by)
