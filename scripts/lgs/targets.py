"""The warehouses (dbt targets) `lgs` and dbt write to: the one registry of their facts.

A target is a `Target` object, never a bare name: what kind of database it is, whether
`lgs` runs it (`managed`: `dev` is the embedded PostgreSQL `lgs warehouse start` starts),
how to connect to it (read-only or not), what a BI tool needs to reach it (`describe`),
the environment dbt runs in for it, and a fresh empty database of the same kind for the
tests and the bench.

The connection settings and their defaults are written once, in `profiles.yml`, which
plain `dbt` reads: this module renders the same file the way dbt does (its `env_var`
and `as_number`, from the same environment), so `lgs` and `dbt` always reach the same
database. Paths that depend on the working folder (`LGS_STATE_DIR`, `LGS_DUCKDB_PATH`)
are made absolute first, for both.

Adding a target of an existing kind: an output in `profiles.yml` and an entry in
`TARGETS`. Adding a kind (Spark is next): a `Target` subclass here (`connect`,
`describe`, `fresh`) and, to load into it, a writer in `lgs.load`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from lgs import settings
from lgs.errors import LgsError, WarehouseError

PROFILE = "lgs"  # `profile:` in dbt_project.yml
DEFAULT = "dev"
PUBLISHED_SCHEMA = "published"  # what BI tools read (the publish step creates it)
_DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


# --- profiles.yml, rendered as dbt renders it -----------------------------------------------


def pinned_environment() -> dict[str, str]:
    """The variables `lgs` fixes for itself and for dbt: relative state paths made absolute
    (dbt runs in the project folder, `lgs` anywhere)."""
    pinned = {"LGS_STATE_DIR": str(settings.state_dir())}
    duckdb_path = os.environ.get("LGS_DUCKDB_PATH")
    if duckdb_path:
        pinned["LGS_DUCKDB_PATH"] = str(Path(duckdb_path).resolve())
    return pinned


def _raw_outputs() -> dict[str, dict[str, Any]]:
    path = settings.project_dir() / "profiles.yml"
    try:
        return _read_outputs(path, path.stat().st_mtime_ns)
    except OSError as exc:
        raise LgsError(f"{path}: cannot read it: {exc}") from None


@functools.lru_cache(maxsize=4)
def _read_outputs(path: Path, mtime_ns: int) -> dict[str, dict[str, Any]]:
    import yaml

    try:
        return dict(yaml.safe_load(path.read_text())[PROFILE]["outputs"])
    except (KeyError, TypeError, yaml.YAMLError) as exc:
        raise LgsError(f"{path}: cannot read the outputs of profile {PROFILE!r}: {exc}") from None


def _render(template: Any, environ: Mapping[str, str]) -> Any:
    """One value of a profile output: dbt's `env_var(name, default)` from `environ`, and
    `as_number` / `as_bool` as dbt converts them (everything else stays text)."""
    if not isinstance(template, str) or "{{" not in template:
        return template
    import jinja2

    def env_var(name: str, default: str | None = None) -> str:
        if name in environ:
            return environ[name]
        if default is None:
            raise LgsError(f"profiles.yml: the environment variable {name} is not set")
        return default

    jinja = jinja2.Environment(undefined=jinja2.StrictUndefined)
    for marker in ("as_number", "as_bool", "as_text", "as_native"):
        jinja.filters[marker] = lambda value: value
    text = jinja.from_string(template).render(env_var=env_var)
    if re.search(r"\|\s*as_number", template):
        with contextlib.suppress(ValueError):
            return int(text) if re.fullmatch(r"-?\d+", text.strip()) else float(text)
    if re.search(r"\|\s*as_bool", template):
        return text.strip().lower() == "true"
    return text


def variables(template: Any) -> list[str]:
    """The environment variables a profile value reads."""
    return re.findall(r"env_var\(\s*['\"](\w+)['\"]", template if isinstance(template, str) else "")


# --- the targets --------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One warehouse. `str(target)` is its name, as `--target` and dbt spell it."""

    name: str
    about: str  # what it is, for --help and messages
    database_variable: str  # the environment variable naming its database (or file)
    lifecycle: str  # what `lgs run` says at the end about starting or stopping it
    managed: bool = False  # lgs starts and stops it (the embedded PostgreSQL)

    kind: ClassVar[str]

    def __str__(self) -> str:
        return self.name

    def raw_output(self) -> dict[str, Any]:
        """This target's output in profiles.yml, before rendering."""
        outputs = _raw_outputs()
        if self.name not in outputs:
            raise LgsError(f"profiles.yml has no output {self.name!r} in profile {PROFILE!r}")
        return dict(outputs[self.name])

    def output(self, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """This target's output in profiles.yml, rendered with `environ` (default: this
        process's environment and the pinned paths)."""
        if environ is None:
            environ = {**os.environ, **pinned_environment()}
        return {key: _render(value, environ) for key, value in self.raw_output().items()}

    def default(self, key: str) -> Any:
        """A setting's value when none of the variables it reads is set."""
        template = self.raw_output().get(key)
        unset = set(variables(template))
        environ = {k: v for k, v in os.environ.items() if k not in unset}
        return _render(template, {**environ, **pinned_environment()})

    def connect(self, *, read_only: bool = False) -> Any:
        """A DB-API connection (psycopg2 for PostgreSQL, duckdb for DuckDB)."""
        raise NotImplementedError

    @contextlib.contextmanager
    def connection(self, *, read_only: bool = False) -> Iterator[Any]:
        conn = self.connect(read_only=read_only)
        try:
            yield conn
        finally:
            conn.close()

    def describe(self) -> dict[str, str]:
        """What a BI tool, psql or DuckDB needs to reach the target (never a password)."""
        raise NotImplementedError

    def describe_bi(self, *, show_password: bool = False) -> dict[str, str]:
        """What a BI tool needs to read the published marts (`lgs warehouse url --bi`)."""
        raise NotImplementedError

    def fresh(self, name: str, folder: Path) -> dict[str, str]:
        """An empty database of this target called `name` (files in `folder` where the
        kind needs them); returns the environment that points the target at it."""
        raise NotImplementedError

    def start(self) -> None:
        """Make sure the warehouse runs: lgs starts the one it manages."""
        if self.managed:
            from lgs import embedded

            embedded.start()

    def server_pids(self) -> list[int]:
        """Processes of the server lgs runs for this target (none when it runs none)."""
        if not self.managed:
            return []
        from lgs import embedded

        state = embedded.status()
        return [state.pid] if state.running and state.pid else []

    def dbt_target_path(self) -> Path:
        """dbt's artifacts folder for this target: `<DBT_TARGET_PATH or target>/<name>`, one
        per target so that switching targets keeps each one's partial parse."""
        base = Path(os.environ.get("DBT_TARGET_PATH") or "target")
        return (base if base.is_absolute() else settings.project_dir() / base) / self.name

    def dbt_environment(self) -> dict[str, str]:
        """The variables dbt runs with for this target (added to the caller's own)."""
        return {
            "LGS_TARGET": self.name,
            "DBT_TARGET_PATH": str(self.dbt_target_path()),
            **pinned_environment(),
        }


@dataclass(frozen=True)
class PostgresSettings:
    """Connection settings of a PostgreSQL target (no password is ever written to a file)."""

    host: str
    port: int
    user: str
    password: str
    database: str
    connect_timeout: int = 10

    def url(self, *, with_password: bool = False) -> str:
        secret = f":{self.password}" if with_password and self.password else ""
        if self.host.startswith("/"):  # a Unix socket folder (libpq's URI form for it)
            return (
                f"postgresql://{self.user}{secret}@/{self.database}"
                f"?host={self.host}&port={self.port}"
            )
        return f"postgresql://{self.user}{secret}@{self.host}:{self.port}/{self.database}"

    def psql(self) -> str:
        """A psql command line for these settings (never with the password)."""
        return f'psql "host={self.host} port={self.port} dbname={self.database} user={self.user}"'


class PostgresTarget(Target):
    kind = "postgres"

    def settings(self) -> PostgresSettings:
        raw, out = self.raw_output(), self.output()
        port = out.get("port")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            source = "=".join([*variables(raw.get("port"))[:1], repr(str(port))])
            raise ValueError(f"{source}: expected a port number (1-65535)")
        database = str(out.get("dbname") or out.get("database") or "")
        if self.managed and not _DATABASE_NAME.fullmatch(database):
            source = "=".join([*variables(raw.get("dbname"))[:1], repr(database)])
            raise ValueError(f"{source}: expected a lower-case identifier (letters, digits, _)")
        return PostgresSettings(
            host=str(out.get("host") or "localhost"),
            port=port,
            user=str(out.get("user") or ""),
            password=str(out.get("password") or out.get("pass") or ""),
            database=database,
            connect_timeout=int(out.get("connect_timeout") or 10),
        )

    def unreachable_hint(self) -> str:
        if self.managed:
            return "start it with `lgs warehouse start` (or `make run`)"
        names = [name for value in self.raw_output().values() for name in variables(value)]
        return f"check {', '.join(names[:-1])} and {names[-1]}" if names else "check profiles.yml"

    def connect(self, *, read_only: bool = False) -> Any:
        return self._connect(self.settings(), read_only=read_only)

    def _connect(self, conf: PostgresSettings, *, read_only: bool = False) -> Any:
        import psycopg2

        try:
            conn = psycopg2.connect(
                host=conf.host,
                port=conf.port,
                user=conf.user,
                password=conf.password or None,
                dbname=conf.database,
                connect_timeout=conf.connect_timeout,
                application_name="lgs",
            )
        except psycopg2.OperationalError as exc:
            raise WarehouseError(
                f"cannot connect to the {self} warehouse at {conf.url()}: {str(exc).strip()}\n"
                f"{self.unreachable_hint()}"
            ) from exc
        if read_only:
            conn.set_session(readonly=True)
        return conn

    def describe(self) -> dict[str, str]:
        conf = self.settings()
        info = {
            "target": self.name,
            "url": conf.url(),
            "host": conf.host,
            "port": str(conf.port),
            "database": conf.database,
            "user": conf.user,
            "psql": conf.psql(),
            "marts": "schema marts",
            "published": "schema published (for BI tools)",
        }
        if self.managed:
            info["password"] = (
                "(none: the superuser logs in only over the Unix socket in host, as the OS "
                "user who started the server; BI tools: `lgs warehouse url --bi`)"
            )
        return info

    # --- the BI role: a login that reads the published marts (granted elsewhere) ---------

    def bi_role(self) -> str | None:
        """The BI role's name: on `dev` the role `lgs warehouse start` manages (LGS_BI_ROLE,
        default lgs_bi); on a server of the user's own, LGS_BI_ROLE when it is set and the
        role exists there, else None (lgs creates no role on it)."""
        from lgs import access

        if self.managed:
            return access.bi_role_name()
        if not os.environ.get(access.BI_ROLE_VARIABLE):
            return None
        name = access.bi_role_name()
        with self.connection(read_only=True) as conn, conn.cursor() as cur:
            cur.execute("select 1 from pg_roles where rolname = %s", (name,))
            return name if cur.fetchone() else None

    def bi_settings(self) -> PostgresSettings:
        """How a BI tool logs in: on `dev` the BI role over TCP on 127.0.0.1 with the
        password from its file; elsewhere the target's host and port as the BI role
        (its password is the user's: PGPASSFILE, or LGS_BI_PASSWORD for lgs's tests)."""
        from lgs import access

        conf = self.settings()
        role = self.bi_role()
        if role is None:
            raise WarehouseError(
                f"the {self} target has no BI role: set {access.BI_ROLE_VARIABLE} to a role "
                "that exists on that server"
            )
        if self.managed:
            return PostgresSettings(
                host="127.0.0.1",
                port=conf.port,
                user=role,
                password=access.bi_password(create=False),
                database=conf.database,
                connect_timeout=conf.connect_timeout,
            )
        return PostgresSettings(
            host=conf.host,
            port=conf.port,
            user=role,
            password=os.environ.get("LGS_BI_PASSWORD", ""),
            database=conf.database,
            connect_timeout=conf.connect_timeout,
        )

    def connect_bi(self) -> Any:
        """A connection as the BI role (what a BI tool sees)."""
        return self._connect(self.bi_settings())

    def describe_bi(self, *, show_password: bool = False) -> dict[str, str]:
        """What a BI tool needs (`lgs warehouse url --bi`): never the password unless asked."""
        from lgs import access

        conf = self.bi_settings()
        info = {"target": self.name, "host": conf.host, "port": str(conf.port)}
        info |= {"database": conf.database, "user": conf.user, "schema": PUBLISHED_SCHEMA}
        if self.managed:
            path = access.bi_password_file()
            info["password"] = conf.password if show_password else f"in {path} (mode 0600)"
            info["url"] = conf.url()
            info["psql"] = f'PGPASSWORD="$(cat {path})" {conf.psql()}'
        else:
            info["password"] = "yours (PGPASSFILE or your BI tool's settings)"
            info["url"] = conf.url()
            info["psql"] = conf.psql()
        return info

    def fresh(self, name: str, folder: Path) -> dict[str, str]:
        if not _DATABASE_NAME.fullmatch(name):
            raise ValueError(f"{name!r}: expected a lower-case database name")
        with self.connection() as conn:  # its configured database exists already
            conn.autocommit = True
            cur = conn.cursor()
            cur.execute(f'drop database if exists "{name}" with (force)')
            cur.execute(f'create database "{name}"')
            if self.managed:
                from lgs import access

                access.revoke_public(cur, name)
        return {self.database_variable: name}


class DuckDBTarget(Target):
    kind = "duckdb"

    def path(self) -> Path:
        path = Path(str(self.output()["path"]))
        return (path if path.is_absolute() else settings.project_dir() / path).resolve()

    def published_path(self) -> Path:
        """The marts published for BI tools (`lgs.publish`): a file beside the warehouse,
        `<its path without .duckdb>.published.duckdb`."""
        path = self.path()
        stem = path.name.removesuffix(".duckdb")
        return path.with_name(f"{stem}.published.duckdb")

    def connect(self, *, read_only: bool = False) -> Any:
        import duckdb

        path = self.path()
        if read_only and not path.exists():
            raise WarehouseError(f"the DuckDB warehouse {path} does not exist yet; run `make run`")
        settings.private_dir(path.parent)
        try:
            conn = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            raise WarehouseError(
                f"cannot open {path}: {exc}\n(DuckDB allows one writer at a time: is dbt or "
                "another lgs command using it?)"
            ) from exc
        _owner_only(path)
        return conn

    def describe_bi(self, *, show_password: bool = False) -> dict[str, str]:
        """What a BI tool needs: the published file, opened read-only."""
        path = self.published_path()
        return {
            "target": self.name,
            "path": str(path),
            "url": f"duckdb:///{path}?access_mode=read_only",
            "schema": PUBLISHED_SCHEMA,
            "shell": f"duckdb -readonly {path}",
        }

    def describe(self) -> dict[str, str]:
        path = self.path()
        return {
            "target": self.name,
            "url": f"duckdb:///{path}",
            "path": str(path),
            "shell": f"duckdb {path}",
            "marts": "schema marts",
            "published": f"{self.published_path()} (schema published, read-only; for BI tools)",
        }

    def fresh(self, name: str, folder: Path) -> dict[str, str]:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob(f"{name}.duckdb*"):
            stale.unlink()
        return {self.database_variable: str(folder / f"{name}.duckdb")}


def _owner_only(path: Path) -> None:
    """The DuckDB file (and its write-ahead log) readable by its owner only, also when dbt
    created it: it holds every raw line."""
    for file in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(OSError):
            info = file.stat()
            if info.st_uid == os.geteuid() and info.st_mode & 0o077:
                file.chmod(0o600)


TARGETS: dict[str, Target] = {
    target.name: target
    for target in (
        PostgresTarget(
            "dev",
            about="the embedded PostgreSQL that `lgs warehouse start` runs (a Unix socket for "
            "its owner, 127.0.0.1 for the BI role)",
            database_variable="LGS_PG_DATABASE",
            lifecycle="Stop the warehouse with `make stop` (.venv/bin/lgs warehouse stop); "
            "`make run` starts it again.",
            managed=True,
        ),
        PostgresTarget(
            "postgres",
            about="your own PostgreSQL, reached through the libpq variables PGHOST...",
            database_variable="PGDATABASE",
            lifecycle="The postgres warehouse is your own server: lgs neither starts nor stops it.",
        ),
        DuckDBTarget(
            "duckdb",
            about="an in-process DuckDB file",
            database_variable="LGS_DUCKDB_PATH",
            lifecycle="Nothing to stop: DuckDB runs inside each command that opens the file "
            "(one writer at a time).",
        ),
    )
}
NAMES = tuple(TARGETS)


def get(target: str | Target) -> Target:
    """The target called `target` (a Target is returned as it is)."""
    if isinstance(target, Target):
        return target
    if target not in TARGETS:
        raise WarehouseError(f"unknown target {target!r}; expected one of {', '.join(NAMES)}")
    return TARGETS[target]


def default() -> Target:
    """`LGS_TARGET` when set (as plain dbt reads it), else `dev`."""
    return get(os.environ.get("LGS_TARGET") or DEFAULT)


def managed() -> PostgresTarget:
    """The target whose server lgs runs (the embedded PostgreSQL)."""
    (target,) = [t for t in TARGETS.values() if t.managed]
    assert isinstance(target, PostgresTarget)
    return target
