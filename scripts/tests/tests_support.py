"""Helpers shared by the tests: isolated warehouses, generated data, mart comparison."""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lgs import settings, targets
from lgs.dbt import run_dbt
from lgs.load import LoadResult, load_file
from lgs.targets import Target

PROJECT_DIR = settings.project_dir()
REAL_DATA_DIR = Path(os.environ.get("LGS_REAL_DATA_DIR") or PROJECT_DIR.parent / "shared" / "data")

MART_KEYS = {
    "invoices": ["invoice_no"],
    "invoice_amount_summary": ["population"],
    "monthly_orders": ["year_month"],
    "monthly_sales": ["year_month"],
    "monthly_users": ["year_month"],
    "customer_rfm": ["customer_id"],
    "rfm_segments": ["segment"],
    "customers": ["customer_id"],
    "data_quality": ["metric"],
    "customer_months": ["customer_id", "year_month"],
    "cohort_retention": ["cohort_year_month", "months_since_first"],
    "customer_movement": ["year_month"],
    "repeat_purchase_summary": ["population"],
    "monthly_sales_by_customer_type": ["year_month", "customer_type"],
    "country_summary": ["country"],
}
# the marts the oracle computes (data_quality describes the load; its figures are checked
# against the oracle's counts by the tests that read it)
MARTS = tuple(name for name in MART_KEYS if name != "data_quality")
# money and means: to the penny; percentages and other ratios: to 1e-6
MONEY_COLUMNS = {
    "amount",
    "positive_amount",
    "min_amount",
    "mean_amount",
    "median_amount",
    "mode_amount",
    "max_amount",
    "p85_amount",
    "net_sales",
    "gross_sales",
    "cancelled_sales",
    "monetary",
    "mean_monetary",
    "total_monetary",
    "net_revenue",
    "net_sales_in_month",
    "lifetime_net_sales",
    "cumulative_net_sales",
    "net_sales_per_cohort_customer",
    "new_net_sales",
    "retained_net_sales",
    "reactivated_net_sales",
}
RATIO_COLUMNS = {
    "sales_growth_pct",
    "share_pct",
    "mean_recency_days",
    "mean_frequency",
    "retention_pct",
    "repeat_rate_pct",
    "share_of_net_sales_pct",
    "median_days_to_second_purchase",
    "mean_days_to_second_purchase",
    "mean_units_per_purchase",
}


@dataclass(frozen=True)
class GeneratedData:
    path: Path
    rows: int
    seed: int


def generate_small(folder: Path, rows: int, seed: int) -> GeneratedData:
    from lgs.generate import generate

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"generated_{rows}_seed{seed}.csv"
    if not path.exists():
        generate(rows, seed, path)
    return GeneratedData(path, rows, seed)


environment = settings.overridden


class Warehouse:
    """One empty database (PostgreSQL) or file (DuckDB) of the test session."""

    def __init__(self, target: str | Target, env: dict[str, str]) -> None:
        self.target = targets.get(target)
        self.env = env

    @classmethod
    def fresh(cls, target: str | Target, name: str, base: Path) -> Warehouse:
        slug = re.sub(r"[^a-z0-9_]+", "_", name.lower())[:40].strip("_") or "t"
        target = targets.get(target)
        return cls(target, target.fresh(f"t_{slug}", base / "warehouses"))

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        with environment(self.env):
            yield

    def load(self, path: Path | str, **kwargs: Any) -> LoadResult:
        with self.active():
            return load_file(path, self.target, **kwargs)

    def lgs(self, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        """Run the `lgs` command line in this warehouse."""
        env = {**os.environ, **self.env}
        result = subprocess.run(
            [sys.executable, "-m", "lgs.cli", *args, "--target", self.target.name],
            env=env,
            text=True,
            capture_output=True,
            check=False,
            cwd=PROJECT_DIR,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"lgs {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def dbt(
        self, *args: str, vars: dict[str, Any] | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = [*args, *(["--vars", json.dumps(vars)] if vars else [])]
        with self.active():
            result = run_dbt(command, self.target, capture=True, check=False)
        if check and result.returncode != 0:
            tail = "\n".join(result.stdout.splitlines()[-60:])
            raise AssertionError(
                f"dbt {' '.join(args)} failed on {self.target}:\n{tail}\n{result.stderr[-2000:]}"
            )
        return result

    def query(self, sql: str) -> pd.DataFrame:
        with self.active(), self.target.connection() as conn:
            if self.target.kind == "duckdb":
                return conn.execute(sql).df()
            cur = conn.cursor()
            cur.execute(sql)
            columns = [d[0] for d in cur.description]
            return pd.DataFrame(cur.fetchall(), columns=columns)

    def execute(self, sql: str) -> None:
        """Run a statement that changes the warehouse (committed)."""
        with self.active(), self.target.connection() as conn:
            if self.target.kind == "duckdb":
                conn.execute(sql)
                return
            conn.cursor().execute(sql)
            conn.commit()

    def scalar(self, sql: str) -> Any:
        frame = self.query(sql)
        return None if frame.empty else frame.iloc[0, 0]

    def mart(self, name: str) -> pd.DataFrame:
        return self.query(f"select * from marts.{name}")


# --- comparing marts with the oracle ------------------------------------------------------------


def _as_float(series: pd.Series) -> np.ndarray:
    return np.array([np.nan if v is None or v is pd.NA else float(v) for v in series], dtype=float)


def _as_timestamp(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).astype("datetime64[us]")


def compare_mart(name: str, actual: pd.DataFrame, expected: pd.DataFrame) -> list[str]:
    """Differences between a mart read from the warehouse and the oracle's frame:
    exact for keys, counts, scores, segments and timestamps, to the penny for money."""
    keys = MART_KEYS[name]
    problems: list[str] = []
    missing = [c for c in expected.columns if c not in actual.columns]
    if missing:
        return [f"{name}: columns missing from the mart: {missing}"]
    if len(actual) != len(expected):
        problems.append(f"{name}: {len(actual)} rows, oracle has {len(expected)}")
    left = actual[list(expected.columns)].copy()
    right = expected.copy()
    for key in keys:
        if name in ("customer_rfm", "customers") or key == "year_month":
            left[key] = left[key].astype("int64")
            right[key] = right[key].astype("int64")
        else:
            left[key] = left[key].astype(str)
            right[key] = right[key].astype(str)
    merged = left.merge(right, on=keys, how="outer", suffixes=("", "__oracle"), indicator=True)
    only = merged[merged["_merge"] != "both"]
    if not only.empty:
        problems.append(
            f"{name}: keys only on one side:\n{only[[*keys, '_merge']].head(10).to_string()}"
        )
    both = merged[merged["_merge"] == "both"]
    for column in expected.columns:
        if column in keys:
            continue
        ours, theirs = both[column], both[f"{column}__oracle"]
        if column in MONEY_COLUMNS or column in RATIO_COLUMNS:
            tolerance = 0.005 if column in MONEY_COLUMNS else 1e-6
            a, b = _as_float(ours), _as_float(theirs)
            bad = ~((np.isnan(a) & np.isnan(b)) | (np.abs(a - b) <= tolerance))
        elif pd.api.types.is_datetime64_any_dtype(theirs) or column.endswith(
            ("_at", "month_start")
        ):
            a_ts, b_ts = _as_timestamp(ours), _as_timestamp(theirs)
            bad = ~((a_ts.isna() & b_ts.isna()) | (a_ts == b_ts)).to_numpy()
        else:
            a_obj = [_normalise(v) for v in ours]
            b_obj = [_normalise(v) for v in theirs]
            bad = np.array([x != y for x, y in zip(a_obj, b_obj, strict=True)], dtype=bool)
        if bad.any():
            sample = both.loc[bad, [*keys, column, f"{column}__oracle"]].head(8)
            problems.append(
                f"{name}.{column}: {int(bad.sum())} row(s) differ:\n{sample.to_string()}"
            )
    return problems


def _normalise(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer | int):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if not hasattr(value, "item") else value.item()


def assert_marts_match_oracle(wh: Warehouse, expected: dict[str, pd.DataFrame]) -> None:
    problems: list[str] = []
    for name in MARTS:
        problems += compare_mart(name, wh.mart(name), expected[name])
    assert not problems, f"marts on {wh.target} differ from the pandas oracle:\n" + "\n".join(
        problems
    )


def as_user(user: str, action: Callable[[], str], env: Mapping[str, str] | None = None) -> str:
    """What `action()` returns when run by OS user `user` (the tests run as root): a forked
    child drops to the user, sets `env`, runs it and sends its text back through a pipe
    (no file the user must be able to write). The interpreter itself may live where the
    user cannot exec it, hence a fork and no new process. An exception in the child fails
    the test with its repr."""
    entry = pwd.getpwnam(user)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(read)
        code = 1
        try:
            os.setgroups([])
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)
            os.environ.update(env or {})
            text = action()
            code = 0
        except BaseException as exc:
            text = f"error: {exc!r}"
        with os.fdopen(write, "w") as pipe:
            pipe.write(text)
        os._exit(code)
    os.close(write)
    with os.fdopen(read) as pipe:
        text = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, text
    return text


# --- the BI login ---------------------------------------------------------------------------


def bi_credentials(wh: Warehouse) -> tuple[str, str]:
    """The BI role's name and password on a PostgreSQL warehouse: on `dev` the login that
    `lgs warehouse start` manages (its password is in the state folder)."""
    with wh.active():
        conf = wh.target.bi_settings()  # type: ignore[attr-defined]
    return conf.user, conf.password


def bi_connect(wh: Warehouse) -> Any:
    """A psycopg2 connection to the warehouse as the BI role (autocommit), as a BI tool
    logs in: over TCP with its password."""
    with wh.active():
        conn = wh.target.connect_bi()  # type: ignore[attr-defined]
    conn.autocommit = True
    return conn
