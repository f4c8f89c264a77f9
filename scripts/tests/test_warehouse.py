"""The embedded PostgreSQL: idempotent start, recovery after a kill, a taken port,
`status`/`url`, and running as root (through a system user) or as an ordinary user."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import psutil
import psycopg2
import pytest
from tests_support import PROJECT_DIR, Warehouse, as_user, environment

from lgs import embedded, settings, targets
from lgs.errors import WarehouseError


def _lgs(
    *args: str, env: dict[str, str] | None = None, user: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lgs.cli", *args],
        env={**os.environ, **(env or {})},
        text=True,
        capture_output=True,
        check=False,
        cwd=PROJECT_DIR,
        user=user,
        timeout=180,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def own_server(tmp_path: Path):
    """A second embedded server with its own state folder and port."""
    env = {
        "LGS_STATE_DIR": str(tmp_path / "state"),
        "LGS_PG_PORT": str(_free_port()),
        "LGS_PG_DATABASE": "lgs",
    }
    yield env
    with environment(env):
        embedded.stop()


def test_start_is_idempotent_and_url_describes_it(own_server: dict[str, str]) -> None:
    first = _lgs("warehouse", "start", env=own_server)
    assert first.returncode == 0, first.stderr
    assert "started" in first.stdout
    # the state folder is the owner's: no group or others' rights but, as root, the
    # traverse bit the server's user needs, which start says it gave
    state = Path(own_server["LGS_STATE_DIR"])
    mode = stat.S_IMODE(state.stat().st_mode)
    if os.geteuid() == 0:
        assert mode == 0o701, oct(mode)
        assert "gave others traverse-only access (o+x, no listing) to " in first.stderr
        assert str(state) in first.stderr.split("(o+x, no listing) to ", 1)[1]
    else:
        assert mode == 0o700, oct(mode)
        assert "o+x" not in first.stderr
    second = _lgs("warehouse", "start", env=own_server)
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stdout
    url = _lgs("warehouse", "url", env=own_server)
    socket_dir = state / "socket"
    assert (
        f"url: postgresql://postgres@/lgs?host={socket_dir}&port={own_server['LGS_PG_PORT']}"
        in url.stdout
    )
    assert f"host: {socket_dir}\n" in url.stdout
    status = _lgs("warehouse", "status", env=own_server)
    assert (
        status.returncode == 0 and "running" in status.stdout and "(PostgreSQL) 18" in status.stdout
    )
    with environment(own_server), targets.get("dev").connection() as conn:
        cur = conn.cursor()
        cur.execute("select current_database(), current_setting('server_version_num')::int")
        assert cur.fetchone() == ("lgs", pytest.approx(180000, abs=9999))
        # crash recovery stays short: the write-ahead log between checkpoints is bounded
        cur.execute("select current_setting('max_wal_size'), current_setting('checkpoint_timeout')")
        assert cur.fetchone() == ("1GB", "5min")
    stop = _lgs("warehouse", "stop", env=own_server)
    assert stop.returncode == 0 and "stopped" in stop.stdout
    again = _lgs("warehouse", "status", env=own_server)
    assert again.returncode == 3 and "stopped" in again.stdout


def test_start_with_port_uses_that_port_and_says_how_to_keep_it(
    own_server: dict[str, str],
) -> None:
    """`--port N` starts the server on N, creates the raw tables there and prints N's URL;
    as dbt and later commands read LGS_PG_PORT, it says to export it; status and url
    without --port name the port the server really runs on."""
    port = _free_port()
    assert str(port) != own_server["LGS_PG_PORT"]
    started = _lgs("warehouse", "start", "--port", str(port), env=own_server)
    assert started.returncode == 0, started.stderr
    assert "embedded PostgreSQL started: pid " in started.stdout
    assert f", port {port}, data " in started.stdout
    socket_dir = Path(own_server["LGS_STATE_DIR"]) / "socket"
    assert f"url: postgresql://postgres@/lgs?host={socket_dir}&port={port}\n" in started.stdout
    note = (
        f"note: the server listens on port {port}, but dbt and later lgs commands read "
        f"LGS_PG_PORT ({own_server['LGS_PG_PORT']}); `export LGS_PG_PORT={port}`"
    )
    assert note in started.stdout
    with (
        environment(own_server | {"LGS_PG_PORT": str(port)}),
        targets.get("dev").connection() as conn,
    ):
        cur = conn.cursor()
        cur.execute("select count(*) from raw.loads")
        assert cur.fetchone() == (0,)
        cur.execute(
            "select current_setting('port')::int, to_regclass('raw.invoice_lines') is not null"
        )
        assert cur.fetchone() == (port, True)
    url = _lgs("warehouse", "url", env=own_server)
    assert url.returncode == 0, url.stderr
    assert f"url: postgresql://postgres@/lgs?host={socket_dir}&port={port}\n" in url.stdout
    assert note in url.stdout
    status = _lgs("warehouse", "status", env=own_server)
    assert status.returncode == 0, status.stderr
    assert (
        f"running: pid {embedded_pid(own_server)}, 127.0.0.1:{port} and socket {socket_dir},"
        in status.stdout
    )
    assert note in status.stdout and "dev: 0 load(s), 0 raw invoice lines" in status.stdout
    exported = _lgs("warehouse", "url", env=own_server | {"LGS_PG_PORT": str(port)})
    assert f"&port={port}\n" in exported.stdout and "note:" not in exported.stdout
    invalid = _lgs("warehouse", "url", "--port", str(port), env=own_server | {"LGS_PG_PORT": "x"})
    assert invalid.returncode == 0, invalid.stderr
    assert "read LGS_PG_PORT (not a valid port now); `export LGS_PG_PORT=" in invalid.stdout
    # a command without --port and without the export is told which port to use
    load = _lgs("warehouse", "start", env=own_server)
    assert load.returncode == 3
    assert f"already runs on port {port}, not {own_server['LGS_PG_PORT']}" in load.stderr


def embedded_pid(env: dict[str, str]) -> int | None:
    with environment(env):
        return embedded.status().pid


def test_start_recovers_after_the_server_was_killed(own_server: dict[str, str]) -> None:
    assert _lgs("warehouse", "start", env=own_server).returncode == 0
    with environment(own_server):
        state = embedded.status()
        assert state.running and state.pid
        os.kill(state.pid, signal.SIGKILL)
        psutil.Process(state.pid).wait(10) if psutil.pid_exists(state.pid) else None
        stale = embedded.status()
        assert not stale.running and stale.stale_pid_file
    restarted = _lgs("warehouse", "start", env=own_server)
    assert restarted.returncode == 0, restarted.stderr
    with environment(own_server), targets.get("dev").connection() as conn:
        cur = conn.cursor()
        cur.execute("select 1")
        assert cur.fetchone() == (1,)


def _as_before_the_access_rules(state: Path) -> None:
    """Make the cluster look as lgs left it before it wrote access rules: `trust` for
    every local connection, no socket folder."""
    data = state / "postgres"
    owner = data.stat()
    for name, text in {
        "pg_hba.conf": "local all all trust\nhost all all 127.0.0.1/32 trust\n",
        "pg_ident.conf": "",
    }.items():
        (data / name).write_text(text)
        os.chown(data / name, owner.st_uid, owner.st_gid)
    shutil.rmtree(state / "socket", ignore_errors=True)


def _superuser_over_tcp(port: str) -> None:
    psycopg2.connect(
        host="127.0.0.1", port=port, user="postgres", dbname="lgs", connect_timeout=5
    ).close()


def test_a_cluster_from_before_the_access_rules_is_upgraded_at_start(
    own_server: dict[str, str],
) -> None:
    """A data folder made when the server trusted every connection on 127.0.0.1 keeps
    working, with the new rules: stopped (the next start writes them) and still running
    (start restarts it, as its owner could not log in over TCP any more)."""
    state, port = Path(own_server["LGS_STATE_DIR"]), own_server["LGS_PG_PORT"]
    assert _lgs("warehouse", "start", env=own_server).returncode == 0
    assert _lgs("warehouse", "stop", env=own_server).returncode == 0
    hba = state / "postgres" / "pg_hba.conf"
    _as_before_the_access_rules(state)
    started = _lgs("warehouse", "start", env=own_server)
    assert started.returncode == 0, started.stderr
    assert "trust" not in hba.read_text()
    with pytest.raises(psycopg2.OperationalError, match=r"no pg_hba\.conf entry"):
        _superuser_over_tcp(port)

    assert _lgs("warehouse", "stop", env=own_server).returncode == 0
    _as_before_the_access_rules(state)
    with environment(own_server):  # started as lgs did before: no socket, trust
        log = str(embedded.log_file())
        old = embedded._server_command(
            ["pg_ctl", "start", "-D", str(embedded.pgdata()), "-l", log, "-w", "-o", f"-p {port}"]
        )
        assert old.returncode == 0, old.stderr
    _superuser_over_tcp(port)  # the old rules hold while it runs
    again = _lgs("warehouse", "start", env=own_server)
    assert again.returncode == 0, again.stderr
    assert again.stderr == (
        "lgs: restarting the embedded PostgreSQL to apply its new access rules "
        "(superuser over a Unix socket only)\n"
    )
    assert "trust" not in hba.read_text()
    with pytest.raises(psycopg2.OperationalError, match=r"no pg_hba\.conf entry"):
        _superuser_over_tcp(port)
    with environment(own_server), targets.get("dev").connection() as conn:
        cur = conn.cursor()
        cur.execute("select count(*) from raw.loads")
        assert cur.fetchone() == (0,)


def test_start_after_a_run_killed_during_initdb(own_server: dict[str, str]) -> None:
    """`lgs warehouse start` killed (with its initdb) once initdb has written PG_VERSION
    leaves a half-made cluster; the next start says so and initialises it again."""
    data = Path(own_server["LGS_STATE_DIR"]) / "postgres"
    first = subprocess.Popen(
        [sys.executable, "-m", "lgs.cli", "warehouse", "start"],
        env={**os.environ, **own_server},
        cwd=PROJECT_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not (data / "PG_VERSION").exists():
        assert first.poll() is None, "lgs ended before initdb wrote PG_VERSION"
        assert time.monotonic() < deadline, "initdb never wrote PG_VERSION"
        time.sleep(0.002)
    os.killpg(first.pid, signal.SIGKILL)  # lgs, initdb and its bootstrap backend
    first.wait(10)
    conf = data / "postgresql.conf"
    assert not (conf.exists() and embedded.SERVER_CONF_MARK in conf.read_text()), "too late"
    with environment(own_server):
        assert embedded.status().half_initialized
    status = _lgs("warehouse", "status", env=own_server)
    assert status.returncode == 3 and "half-initialised by an interrupted initdb" in status.stdout

    again = _lgs("warehouse", "start", env=own_server)
    assert again.returncode == 0, again.stderr
    assert again.stderr == (
        f"lgs: {data} was left half-initialised (an earlier initdb was interrupted): "
        "initialising it again\n"
    )
    assert "embedded PostgreSQL started" in again.stdout
    assert embedded.SERVER_CONF_MARK in conf.read_text()
    with environment(own_server):
        assert not embedded.initdb_marker().exists()
        with targets.get("dev").connection() as conn:
            cur = conn.cursor()
            cur.execute("select count(*) from raw.loads")
            assert cur.fetchone() == (0,)
    assert _lgs("warehouse", "stop", env=own_server).returncode == 0
    restarted = _lgs("warehouse", "start", env=own_server)  # a complete cluster is kept
    assert restarted.returncode == 0 and restarted.stderr == "", restarted.stderr


def test_an_initdb_stopped_before_pg_version_is_redone_and_foreign_files_are_kept(
    own_server: dict[str, str],
) -> None:
    state = Path(own_server["LGS_STATE_DIR"])
    data = state / "postgres"
    (data / "global").mkdir(parents=True)  # initdb makes the folders, then PG_VERSION
    (state / "postgres.initdb-incomplete").write_text("initdb started by pid 1\n")
    result = _lgs("warehouse", "start", env=own_server)
    assert result.returncode == 0, result.stderr
    assert "was left half-initialised (an earlier initdb was interrupted)" in result.stderr
    assert (data / "PG_VERSION").read_text().strip() == "18"
    assert _lgs("warehouse", "stop", env=own_server).returncode == 0

    # files lgs did not write (no marker, no PG_VERSION) are never removed
    other = Path(own_server["LGS_STATE_DIR"]) / "e"  # short: its socket path must fit
    (other / "postgres").mkdir(parents=True)
    (other / "postgres" / "notes.txt").write_text("mine")
    foreign = _lgs("warehouse", "start", env=own_server | {"LGS_STATE_DIR": str(other)})
    assert foreign.returncode == 3
    assert "is not empty but holds no PostgreSQL data folder (no PG_VERSION)" in foreign.stderr
    assert (other / "postgres" / "notes.txt").read_text() == "mine"


def test_a_taken_port_gives_a_clear_message(own_server: dict[str, str]) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", int(own_server["LGS_PG_PORT"])))
        blocker.listen()
        result = _lgs("warehouse", "start", env=own_server)
    assert result.returncode == 3
    assert f"port {own_server['LGS_PG_PORT']} on 127.0.0.1 is already in use" in result.stderr
    assert "LGS_PG_PORT=" in result.stderr
    assert "Traceback" not in result.stderr


def _unprivileged_port_start() -> int:
    sysctl = Path("/proc/sys/net/ipv4/ip_unprivileged_port_start")
    return int(sysctl.read_text()) if sysctl.exists() else 1024


@pytest.mark.skipif(_unprivileged_port_start() <= 1, reason="port 1 is not privileged here")
def test_a_privileged_port_is_not_reported_as_in_use(tmp_path: Path) -> None:
    """Port 1 needs privileges: a message of its own, not "already in use", and no data
    folder made for nothing. As root the server would run as the system user, who may
    not listen there; an ordinary user's bind fails with EACCES (checked in a child that
    drops to `nobody` when the tests run as root)."""
    state = tmp_path / "state"
    env = {"LGS_STATE_DIR": str(state), "LGS_PG_PORT": "1", "LGS_PG_DATABASE": "lgs"}
    result = _lgs("warehouse", "start", env=env)
    assert result.returncode == 3, result.stdout
    assert result.stderr.startswith(
        "lgs: error: port 1 on 127.0.0.1 cannot be used: permission denied ("
    ), result.stderr
    limit = _unprivileged_port_start()
    assert f"ports below {limit} are privileged" in result.stderr
    assert f"choose a port from {limit} to 65535" in result.stderr
    assert "already in use" not in result.stderr and "Traceback" not in result.stderr
    assert not (state / "postgres").exists()
    if os.geteuid() != 0:
        assert "this user may not listen on it" in result.stderr
        return
    assert f"the server runs as the system user '{embedded.SYSTEM_USER}'" in result.stderr
    nobody = pwd.getpwnam("nobody")
    child_state = tmp_path / "nobody-state"
    child_state.mkdir()
    os.chown(child_state, nobody.pw_uid, nobody.pw_gid)
    for folder in [tmp_path, *tmp_path.parents]:
        folder.chmod(folder.stat().st_mode | 0o001)

    def start_on_port_1() -> str:
        try:
            embedded.start(1)
            return "started"
        except WarehouseError as exc:
            return str(exc)

    text = as_user("nobody", start_on_port_1, env | {"LGS_STATE_DIR": str(child_state)})
    assert text.startswith(
        "port 1 on 127.0.0.1 cannot be used: permission denied (this user may not listen on it; "
        f"ports below {limit} are privileged"
    ), text


def test_stopped_warehouse_is_named_in_the_error(
    pg_server: embedded.ServerStatus, base_dir: Path, tmp_path: Path
) -> None:
    """A good file into a `postgres` target whose server is not running: a non-zero exit
    and one message naming the host and port, no traceback. The same file loads into a
    running server (the refusal is the server's, not the file's)."""
    path = tmp_path / "good.csv"
    path.write_text(
        "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
        "489434,85048,15CM CHRISTMAS GLASS BALL,12,2009-12-01 07:45:00,6.95,13085.0,"
        "United Kingdom\n"
    )
    closed = _free_port()  # nothing listens there
    libpq = {"PGHOST": "127.0.0.1", "PGUSER": "postgres", "PGPASSWORD": ""}
    stopped = libpq | {"PGPORT": str(closed), "PGDATABASE": "lgs"}
    result = _lgs("load", str(path), "--target", "postgres", env=stopped)
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"lgs: error: cannot connect to the postgres warehouse at "
        f"postgresql://postgres@127.0.0.1:{closed}/lgs: "
    ), result.stderr
    assert f"port {closed} failed: Connection refused" in result.stderr
    assert "check PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE" in result.stderr
    assert "Traceback" not in result.stderr

    database = Warehouse.fresh("dev", "stopped_warehouse_control", base_dir)
    running = libpq | {
        "PGHOST": str(embedded.socket_dir()),  # the superuser's only way in
        "PGPORT": str(pg_server.port),
        "PGDATABASE": database.env["LGS_PG_DATABASE"],
    }
    loaded = _lgs("load", str(path), "--target", "postgres", env=running)
    assert loaded.returncode == 0, loaded.stderr
    assert "1 of 1 rows loaded" in loaded.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch users")
def test_runs_as_an_ordinary_user(tmp_path: Path) -> None:
    """As root the server runs as the system user `embedded_postgres`; as any other user
    it runs as that user. A forked child drops to `nobody` (the interpreter itself may
    live where `nobody` cannot exec it, hence no new process) and starts, checks and
    stops a server of its own."""
    import psycopg2  # noqa: F401  (imported before the fork: the child cannot read root's files)

    state = tmp_path / "nobody-state"
    state.mkdir()
    nobody = pwd.getpwnam("nobody")
    os.chown(state, nobody.pw_uid, nobody.pw_gid)
    for folder in [tmp_path, *tmp_path.parents]:
        folder.chmod(folder.stat().st_mode | 0o001)
    env = {"LGS_STATE_DIR": str(state), "LGS_PG_PORT": str(_free_port()), "LGS_PG_DATABASE": "lgs"}

    def start_check_stop() -> str:
        started = embedded.start()
        owner = psutil.Process(started.pid).username()
        with targets.get("dev").connection() as conn:
            cur = conn.cursor()
            cur.execute("select current_user, current_database()")
            who = cur.fetchone()
        return f"{owner} {who} {embedded.stop()}"

    text = as_user("nobody", start_check_stop, env)
    assert text == "nobody ('postgres', 'lgs') True"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root needs the system user")
def test_as_root_the_server_runs_as_the_system_user(pg_server: embedded.ServerStatus) -> None:
    assert psutil.Process(pg_server.pid).username() == embedded.SYSTEM_USER


def test_the_duckdb_file_and_its_folder_are_the_owners_only(tmp_path: Path) -> None:
    """The DuckDB warehouse holds every raw line: its folder is created 0700 and the file
    0600, also when another program (dbt) created it with the umask's 0644."""
    path = tmp_path / "state" / "warehouse" / "lgs.duckdb"
    with settings.overridden(
        {"LGS_STATE_DIR": str(tmp_path / "state"), "LGS_DUCKDB_PATH": str(path)}
    ):
        targets.get("duckdb").connect().close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700
    path.chmod(0o644)
    with settings.overridden(
        {"LGS_STATE_DIR": str(tmp_path / "state"), "LGS_DUCKDB_PATH": str(path)}
    ):
        targets.get("duckdb").connect(read_only=True).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
