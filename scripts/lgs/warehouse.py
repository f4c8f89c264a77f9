"""`lgs warehouse start|stop|status|url` for each target.

`url` prints how the owner connects (on `dev`: the superuser over the Unix socket, no
password); `url --bi` what a BI tool needs (the BI role, where its password is, the
schema it reads), never the password itself unless `--show-password` asks for it.

`--port N` (the managed `dev` target only) is the port for this one command: the server starts
on N, the raw tables are created there and the URL printed is N's. dbt and every later
`lgs` command read `LGS_PG_PORT` (default 54329), so when N is not that port the
command says to `export LGS_PG_PORT=N`. `status` and `url` name the port the server
really runs on, and say so when it is not the one `LGS_PG_PORT` gives.
"""

from __future__ import annotations

import os

from lgs import embedded, settings, targets
from lgs.errors import WarehouseError
from lgs.targets import Target


def ensure_running(target: str | Target = targets.DEFAULT) -> None:
    """Make the target usable: start the server lgs manages, create the raw tables."""
    from lgs.load import ensure_raw_schema

    target = targets.get(target)
    target.start()
    ensure_raw_schema(target)


def command(
    action: str,
    target: str | Target,
    *,
    port: int | None = None,
    bi: bool = False,
    show_password: bool = False,
) -> int:
    target = targets.get(target)
    # the port dbt and later lgs commands use, read before --port changes it
    configured = _configured_port(port) if target.managed else None
    if port is not None:
        if not target.managed:
            raise WarehouseError(
                f"--port applies to the embedded `{targets.managed()}` warehouse only"
            )
        if not 0 < port < 65536:
            raise WarehouseError(f"--port {port}: expected a port number (1-65535)")
        os.environ[_port_variable()] = str(port)  # this process: server, raw tables, URL
    if action == "start":
        if target.managed:
            before = embedded.status()
            state = embedded.start(port)
            verb = "already running" if before.running else "started"
            print(
                f"embedded PostgreSQL {verb}: pid {state.pid}, port {state.port}, "
                f"data {state.pgdata}"
            )
        from lgs.load import ensure_raw_schema

        ensure_raw_schema(target)
        _print_url(target)
        if port is not None and port != configured:
            print(_export_note(port, configured))
        return 0
    if action == "stop":
        if not target.managed:
            print(f"the {target} warehouse is not managed by lgs; nothing to stop")
            return 0
        stopped = embedded.stop()
        print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
        return 0
    if action == "status":
        return _status(target, configured)
    if action == "url":
        if not target.managed:
            _print_url(target, bi=bi, show_password=show_password)
            return 0
        state = embedded.status()
        used = state.port if state.running and state.port else target.settings().port
        with settings.overridden({_port_variable(): str(used)}):
            _print_url(target, bi=bi, show_password=show_password)
        if not state.running:
            print(
                "note: the embedded PostgreSQL is not running; `lgs warehouse start` "
                f"starts it on port {used}"
            )
        elif used != configured:
            print(_export_note(used, configured))
        return 0
    raise WarehouseError(f"unknown action {action!r}")


def _port_variable() -> str:
    """The variable profiles.yml reads the managed server's port from (LGS_PG_PORT)."""
    return targets.variables(targets.managed().raw_output().get("port"))[0]


def _configured_port(port: int | None) -> int | None:
    """LGS_PG_PORT (or its default); None when it is invalid but --port replaces it."""
    try:
        return targets.managed().settings().port
    except ValueError:
        if port is None:
            raise
        return None


def _export_note(port: int, configured: int | None) -> str:
    """What to do when the server's port is not the one dbt and lgs will read."""
    now = configured if configured is not None else "not a valid port now"
    variable = _port_variable()
    return (
        f"note: the server listens on port {port}, but dbt and later lgs commands read "
        f"{variable} ({now}); `export {variable}={port}` so that they reach it"
    )


def _print_url(target: Target, *, bi: bool = False, show_password: bool = False) -> None:
    info = target.describe_bi(show_password=show_password) if bi else target.describe()
    for key, value in info.items():
        print(f"{key:>9}: {value}")


def _status(target: Target, configured: int | None) -> int:
    overrides: dict[str, str] = {}
    if target.managed:
        state = embedded.status()
        if state.running:
            print(
                f"running: pid {state.pid}, 127.0.0.1:{state.port} and socket "
                f"{embedded.socket_dir()}, database "
                f"{targets.managed().settings().database}, data {state.pgdata} "
                f"({embedded.server_version()})"
            )
            if state.port is not None and state.port != configured:
                print(_export_note(state.port, configured))
                overrides[_port_variable()] = str(state.port)  # count its loads all the same
        else:
            note = (
                " (a stale postmaster.pid will be cleared at start)" if state.stale_pid_file else ""
            )
            init = (
                "half-initialised by an interrupted initdb: start initialises it again"
                if state.half_initialized
                else "initialised"
                if state.initialized
                else "not initialised yet"
            )
            print(
                f"stopped{note}: data {state.pgdata} ({init}); `lgs warehouse start` starts it "
                f"on port {targets.managed().settings().port}"
            )
            return 3
    try:
        with settings.overridden(overrides), target.connection(read_only=True) as conn:
            cur = conn.cursor()
            cur.execute(
                "select count(*), coalesce(sum(rows_loaded), 0) from raw.loads "
                "where status = 'loaded'"
            )
            loads, rows = cur.fetchone()
            print(f"{target}: {loads} load(s), {rows:,} raw invoice lines")
    except WarehouseError:
        raise
    except Exception as exc:  # no raw schema yet
        print(f"{target}: reachable, no raw data loaded yet ({str(exc).splitlines()[0]})")
    return 0
