"""Who may log in to the embedded PostgreSQL (`dev`): the superuser over the Unix socket
only (peer authentication, no password exists), the BI role over TCP with its password,
nobody else; what the BI role may not do; what `lgs warehouse url --bi` prints; plain
`dbt` reaching the server through the socket. All on the session's server."""

from __future__ import annotations

import os
import pwd
import re
import stat
import subprocess
import sys
from pathlib import Path

import psutil
import psycopg2
import psycopg2.errors
import pytest
from tests_support import PROJECT_DIR, as_user

from lgs import access, cli, embedded, settings, targets

DEV = targets.get("dev")


def _lgs(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`lgs ARGS` in this process (quicker than a new interpreter): exit code, out, err."""
    capsys.readouterr()
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _tcp(user: str, password: str | None, dbname: str | None = None) -> None:
    conf = DEV.settings()
    conn = psycopg2.connect(
        host="127.0.0.1",
        port=conf.port,
        user=user,
        password=password,
        dbname=dbname or conf.database,
        connect_timeout=5,
    )
    conn.close()


def test_the_superuser_cannot_log_in_over_tcp(pg_server: embedded.ServerStatus) -> None:
    """Without a password, with a wrong one: TCP has no line for the superuser at all."""
    for password in (None, "", "postgres", "wrong"):
        with pytest.raises(psycopg2.OperationalError, match=r'no pg_hba\.conf entry .*"postgres"'):
            _tcp("postgres", password)
    # ... while the owner logs in over the socket, as lgs does
    with DEV.connection() as conn, conn.cursor() as cur:
        cur.execute("select current_user, inet_server_addr() is null")  # null: a Unix socket
        assert cur.fetchone() == ("postgres", True)


def test_the_socket_folder_and_the_password_file_are_private(
    pg_server: embedded.ServerStatus,
) -> None:
    folder = embedded.socket_dir()
    assert DEV.settings().host == str(folder)
    info = folder.stat()
    assert stat.S_IMODE(info.st_mode) == 0o700, oct(info.st_mode)
    server_user = psutil.Process(pg_server.pid).username()
    assert pwd.getpwuid(info.st_uid).pw_name == server_user  # the server creates its socket
    assert embedded.socket_file(pg_server.port).is_socket()
    secret = access.bi_password_file()
    assert secret.parent == settings.state_dir()
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert secret.stat().st_uid == os.geteuid()
    assert len(secret.read_text().strip()) >= 32
    state_mode = stat.S_IMODE(settings.state_dir().stat().st_mode)
    assert state_mode == (0o701 if os.geteuid() == 0 else 0o700), oct(state_mode)
    # the server's copy is a scram-sha-256 verifier, never the password
    with DEV.connection() as conn, conn.cursor() as cur:
        cur.execute("select rolpassword from pg_authid where rolname = %s", (DEV.bi_role(),))
        (verifier,) = cur.fetchone()
    assert verifier.startswith("SCRAM-SHA-256$4096:")
    assert secret.read_text().strip() not in verifier


def test_the_bi_role_logs_in_over_tcp_with_its_password_only(
    pg_server: embedded.ServerStatus,
) -> None:
    role = DEV.bi_role()
    assert role == "lgs_bi"
    with DEV.connect_bi() as conn, conn.cursor() as cur:
        cur.execute("select current_user, inet_server_addr()::text")
        assert cur.fetchone() == ("lgs_bi", "127.0.0.1/32")
    conn.close()
    for password in (None, "", "wrong"):
        with pytest.raises(
            psycopg2.OperationalError, match=r"password authentication failed|no password supplied"
        ):
            _tcp(role, password)
    conf = DEV.settings()
    with pytest.raises(psycopg2.OperationalError, match=r"no pg_hba\.conf entry"):
        psycopg2.connect(
            host=conf.host,
            port=conf.port,
            user=role,
            password=access.bi_password(),
            dbname=conf.database,
        )


@pytest.mark.parametrize("database", ["dev", "postgres"])
def test_what_the_bi_role_may_not_do(pg_server: embedded.ServerStatus, database: str) -> None:
    """No superuser, no server programs or files, no schema, no table, no temp table, in
    the warehouse's database and in `postgres`."""
    conf = DEV.bi_settings()
    dbname = conf.database if database == "dev" else "postgres"
    conn = psycopg2.connect(
        host=conf.host, port=conf.port, user=conf.user, password=conf.password, dbname=dbname
    )
    try:
        cur = conn.cursor()
        cur.execute(
            "select rolsuper, rolcreatedb, rolcreaterole, rolinherit, rolreplication, "
            "rolbypassrls, rolcanlogin from pg_roles where rolname = current_user"
        )
        assert cur.fetchone() == (False, False, False, False, False, False, True)
        cur.execute(
            "select count(*) from pg_auth_members m join pg_roles r on r.oid = m.member "
            "where r.rolname = current_user"
        )
        assert cur.fetchone() == (0,)  # no role membership at all
        refused = {
            "copy (select 1) to program 'id'": "COPY to or from an external program",
            "copy (select 1) to '/tmp/lgs-bi-copy'": "COPY to a file",
            "select pg_read_file('PG_VERSION')": "permission denied for function pg_read_file",
            "create schema bi_own": "permission denied for database",
            "create table public.bi_own (i int)": "permission denied for schema public",
            "create table bi_own (i int)": "permission denied for schema public",
            "create temp table bi_own (i int)": "permission denied to create temporary tables",
        }
        for sql, message in refused.items():
            with pytest.raises(psycopg2.errors.InsufficientPrivilege, match=message):
                cur.execute(sql)
            conn.rollback()
        assert not Path("/tmp/lgs-bi-copy").exists()
    finally:
        conn.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another OS user")
def test_another_os_user_cannot_reach_the_socket(pg_server: embedded.ServerStatus) -> None:
    """`nobody` (a forked child that drops to it) cannot even traverse the socket folder."""
    conf = DEV.settings()

    def connect_as_superuser() -> str:
        try:
            psycopg2.connect(host=conf.host, port=conf.port, user="postgres", dbname="postgres")
            return "connected"
        except psycopg2.OperationalError as exc:
            return str(exc)

    text = as_user("nobody", connect_as_superuser)
    assert "Permission denied" in text, text
    assert str(embedded.socket_file(conf.port)) in text


def test_plain_dbt_reaches_the_server_through_the_socket(
    pg_server: embedded.ServerStatus, tmp_path: Path
) -> None:
    """`dbt debug` from the project root as a user runs it: only LGS_PG_PORT, the
    database and LGS_STATE_DIR (relative, as a user might export it) set; the shell's
    PWD makes the socket folder absolute."""
    state = os.path.relpath(settings.state_dir(), PROJECT_DIR)
    assert not state.startswith("/")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PWD": str(PROJECT_DIR),
        "LGS_PG_PORT": str(pg_server.port),
        "LGS_PG_DATABASE": DEV.settings().database,
        "LGS_STATE_DIR": state,
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    dbt = Path(sys.executable).parent / "dbt"
    result = subprocess.run(
        [str(dbt), "debug", "--connection", "--no-use-colors"],
        env=env,
        cwd=PROJECT_DIR,
        text=True,
        capture_output=True,
        check=False,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (host,) = re.findall(r"^\S+ +host: (.+)$", result.stdout, flags=re.MULTILINE)
    assert host.startswith(f"{PROJECT_DIR}/") and Path(host).resolve() == embedded.socket_dir()
    assert "Connection test: [OK connection ok]" in result.stdout


def test_url_bi_says_what_a_bi_tool_needs_and_never_the_password(
    pg_server: embedded.ServerStatus, capsys: pytest.CaptureFixture[str]
) -> None:
    password = access.bi_password()
    secret = access.bi_password_file()
    code, owner, _ = _lgs(capsys, "warehouse", "url")
    assert code == 0
    assert f"host: {embedded.socket_dir()}" in owner
    assert "user: postgres" in owner and password not in owner
    code, bi, _ = _lgs(capsys, "warehouse", "url", "--bi")
    assert code == 0
    lines = dict(line.strip().split(": ", 1) for line in bi.splitlines())
    port, database = str(pg_server.port), DEV.settings().database
    assert lines["host"] == "127.0.0.1" and lines["port"] == port
    assert lines["user"] == "lgs_bi" and lines["database"] == database
    assert lines["schema"] == "published"
    assert lines["password"] == f"in {secret} (mode 0600)"
    assert lines["url"] == f"postgresql://lgs_bi@127.0.0.1:{port}/{database}"
    assert password not in bi
    # the psql command it prints works as it is
    psql = subprocess.run(
        ["bash", "-c", lines["psql"] + " -XAtc 'select current_user'"],
        env={**os.environ, "PATH": f"{embedded.bin_dir()}:{os.environ['PATH']}"},
        text=True,
        capture_output=True,
        check=False,
        timeout=30,
    )
    assert (psql.returncode, psql.stdout.strip()) == (0, "lgs_bi"), psql.stderr
    _, shown, _ = _lgs(capsys, "warehouse", "url", "--bi", "--show-password")
    assert f"password: {password}\n" in shown
    code, duck, _ = _lgs(capsys, "warehouse", "url", "--bi", "--target", "duckdb")
    assert code == 0
    published = Path(os.environ["LGS_DUCKDB_PATH"]).with_name("lgs.published.duckdb")
    assert f"path: {published}\n" in duck
    assert f"shell: duckdb -readonly {published}\n" in duck
    code, _, err = _lgs(capsys, "warehouse", "start", "--bi")
    assert code == 2 and "--bi and --show-password go with `url` only" in err


def test_a_state_folder_too_deep_for_a_socket_is_refused_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / ("x" * 120) / "state"
    with settings.overridden({"LGS_STATE_DIR": str(state), "LGS_PG_PORT": "54999"}):
        code, out, err = _lgs(capsys, "warehouse", "start")
    assert code == 3, out + err
    socket_path = state / "socket" / ".s.PGSQL.54999"
    room = 107 - len("/socket/.s.PGSQL.54999")
    assert err == (
        f"lgs: error: the server's Unix socket {socket_path} would be "
        f"{len(str(socket_path))} bytes long, more than the 107 a Unix socket path may have; "
        f"set LGS_STATE_DIR to a folder whose path is at most {room} bytes long, e.g. "
        "`export LGS_STATE_DIR=~/.lgs`\n"
    )
    assert not state.exists()


def test_on_a_server_of_your_own_the_bi_role_is_the_one_you_name(
    pg_server: embedded.ServerStatus,
) -> None:
    """The `postgres` target (here the session's server, reached as its owner): lgs
    creates no role; LGS_BI_ROLE names the BI role when it exists there."""
    own = targets.get("postgres")
    libpq = {
        "PGHOST": str(embedded.socket_dir()),
        "PGPORT": str(pg_server.port),
        "PGUSER": "postgres",
        "PGDATABASE": DEV.settings().database,
    }
    with settings.overridden(libpq):
        os.environ.pop("LGS_BI_ROLE", None)
        assert own.bi_role() is None
        with settings.overridden({"LGS_BI_ROLE": "nobody_here"}):
            assert own.bi_role() is None
        with settings.overridden({"LGS_BI_ROLE": "lgs_bi"}):
            assert own.bi_role() == "lgs_bi"
            info = own.describe_bi()
        with own.connection() as conn, conn.cursor() as cur:
            cur.execute("select count(*) from pg_roles where rolname = 'nobody_here'")
            assert cur.fetchone() == (0,)
    assert info["user"] == "lgs_bi" and info["schema"] == "published"
    assert info["host"] == libpq["PGHOST"] and info["password"].startswith("yours")
