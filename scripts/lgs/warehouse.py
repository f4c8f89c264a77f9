"""`lgs warehouse start|stop|status|url` for each target."""

from __future__ import annotations

from lgs import embedded, settings, targets
from lgs.errors import WarehouseError


def ensure_running(target: str = "dev") -> None:
    """Make the target usable: start the embedded server, create the raw tables."""
    from lgs.load import ensure_raw_schema

    if target == "dev":
        embedded.start()
    ensure_raw_schema(target)


def command(action: str, target: str, *, port: int | None = None) -> int:
    if port is not None and target != "dev":
        raise WarehouseError("--port applies to the embedded `dev` warehouse only")
    if action == "start":
        if target == "dev":
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
        return 0
    if action == "stop":
        if target != "dev":
            print(f"the {target} warehouse is not managed by lgs; nothing to stop")
            return 0
        stopped = embedded.stop()
        print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
        return 0
    if action == "status":
        return _status(target)
    if action == "url":
        _print_url(target)
        return 0
    raise WarehouseError(f"unknown action {action!r}")


def _print_url(target: str) -> None:
    for key, value in targets.describe(target).items():
        print(f"{key:>9}: {value}")


def _status(target: str) -> int:
    if target == "dev":
        state = embedded.status()
        if state.running:
            print(
                f"running: pid {state.pid}, 127.0.0.1:{state.port}, database "
                f"{settings.pg_database()}, data {state.pgdata} ({embedded.server_version()})"
            )
        else:
            note = (
                " (a stale postmaster.pid will be cleared at start)" if state.stale_pid_file else ""
            )
            init = "initialised" if state.initialized else "not initialised yet"
            print(f"stopped{note}: data {state.pgdata} ({init})")
            return 3
    try:
        with targets.connection(target, read_only=True) as conn:
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
