"""Test set-up: an isolated state folder, an embedded PostgreSQL of its own, helpers.

Nothing the tests do touches the developer's `warehouse/`, `output/` or dbt's `target/`:
every setting points into one temporary folder, and the embedded server runs on a free
port with its own data folder. The real UCI files are used when `../shared/data` (or
`LGS_REAL_DATA_DIR`) holds them; otherwise those tests are skipped and the generated
data covers the same checks.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

_BASE = Path(tempfile.mkdtemp(prefix="lgs-tests-"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Settings are read from the environment at each call, by lgs and by dbt (profiles.yml);
# set them before anything else is imported.
os.environ.update(
    {
        "LGS_STATE_DIR": str(_BASE / "state"),
        "LGS_OUTPUT_DIR": str(_BASE / "output"),
        "LGS_PG_PORT": str(_free_port()),
        "LGS_PG_DATABASE": "lgs_test",
        "LGS_DUCKDB_PATH": str(_BASE / "state" / "lgs.duckdb"),
        "DBT_TARGET_PATH": str(_BASE / "dbt-target"),
        "DBT_LOG_PATH": str(_BASE / "dbt-logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
)

from tests_support import (  # noqa: E402
    REAL_DATA_DIR,
    GeneratedData,
    Warehouse,
    generate_small,
)

from lgs import embedded, targets  # noqa: E402
from lgs.targets import Target  # noqa: E402

# the loader tests' input files (fixtures shared by the test_load_* modules)
pytest_plugins = ["load_support"]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    try:
        embedded.stop()
    finally:
        shutil.rmtree(_BASE, ignore_errors=True)


@pytest.fixture(scope="session")
def base_dir() -> Path:
    return _BASE


@pytest.fixture(scope="session")
def pg_server() -> embedded.ServerStatus:
    """The embedded PostgreSQL of the test session (started once)."""
    return embedded.start()


@pytest.fixture(scope="session")
def small_data() -> GeneratedData:
    """A small generated file with every edge case (two overlapping extracts...)."""
    return generate_small(_BASE / "data", rows=4_000, seed=7)


def _real_file(name: str) -> Path:
    path = REAL_DATA_DIR / name
    if not path.exists():
        pytest.skip(f"real data not present ({path})")
    return path


@pytest.fixture(scope="session")
def real_ii() -> Path:
    """The real UCI file (both years, layout II)."""
    return _real_file("online_retail_II.csv.gz")


@pytest.fixture(scope="session")
def real_i() -> Path:
    """The older real UCI file (2010-12..2011-12, layout I)."""
    return _real_file("online_retail.csv.gz")


@pytest.fixture(params=["dev", "duckdb"])
def target(request: pytest.FixtureRequest) -> Target:
    """Each test runs on the embedded PostgreSQL (started once) and on DuckDB."""
    target = targets.get(request.param)
    if target.managed:
        request.getfixturevalue("pg_server")
    return target


@pytest.fixture
def warehouse(target: Target, request: pytest.FixtureRequest) -> Warehouse:
    """An empty warehouse of its own for one test, on `target`."""
    return Warehouse.fresh(target, request.node.name, _BASE)


_BUILT: dict[Target, Warehouse] = {}


@pytest.fixture(scope="session")
def build_small(small_data: GeneratedData) -> Callable[[str | Target], Warehouse]:
    """`build_small(target)`: a warehouse holding `small_data`, built once per target with
    the default vars and shared by the tests that only read it (do not change it: use
    `warehouse` for that)."""

    def build(name: str | Target) -> Warehouse:
        target = targets.get(name)
        if target not in _BUILT:
            target.start()
            wh = Warehouse.fresh(target, f"built_small_{target}", _BASE)
            wh.load(small_data.path)
            wh.dbt("build")
            _BUILT[target] = wh
        return _BUILT[target]

    return build


@pytest.fixture
def built_small(target: Target, build_small: Callable[[str | Target], Warehouse]) -> Warehouse:
    """The shared built warehouse of `target` (see `build_small`)."""
    return build_small(target)
