"""Who may log in to the embedded PostgreSQL (`dev`), and the BI role.

- The superuser `postgres` logs in only over the server's Unix socket, in the 0700
  folder `<state>/socket`, with `peer` authentication: the kernel says which OS user
  connects, and `pg_ident.conf` maps the one who runs lgs (and the server's own user)
  to `postgres`. No password exists for it, so none can leak; plain `dbt build` works
  for its owner with nothing set; other OS users cannot even reach the socket.
- The BI role (`LGS_BI_ROLE`, default `lgs_bi`) logs in over TCP on 127.0.0.1 with a
  scram-sha-256 password that lgs generates once into `<state>/bi.password` (0600).
  It is a plain login (no superuser, no CREATEDB/CREATEROLE, no inheritance, no
  server-file or server-program role): what it may read is granted elsewhere.
- No other login is accepted: `pg_hba.conf` has no other line.

`rules` is written into the data folder at each start (a cluster made before, with
`trust`, gets it too); `ensure_bi_role` and `revoke_public` run at each start.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any

from lgs import settings
from lgs.errors import LgsError

BI_ROLE_VARIABLE = "LGS_BI_ROLE"
DEFAULT_BI_ROLE = "lgs_bi"
IDENT_MAP = "lgs"
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# memberships that would let a role read or write the server's files or run programs
_DANGEROUS_ROLES = ("pg_execute_server_program", "pg_read_server_files", "pg_write_server_files")


def bi_role_name() -> str:
    """The BI role's name: `LGS_BI_ROLE`, default `lgs_bi`."""
    name = os.environ.get(BI_ROLE_VARIABLE) or DEFAULT_BI_ROLE
    if not _ROLE_NAME.fullmatch(name) or name.startswith("pg_") or name == "postgres":
        raise LgsError(
            f"{BI_ROLE_VARIABLE}={name!r}: expected a lower-case role name (letters, digits, _), "
            "not postgres nor pg_..."
        )
    return name


def bi_password_file() -> Path:
    """Where the dev BI role's password is kept (the state folder, mode 0600)."""
    return settings.state_dir() / "bi.password"


def bi_password(*, create: bool = True) -> str:
    """The dev BI role's password, generated into its file (0600) the first time."""
    path = bi_password_file()
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        if not create:
            raise LgsError(
                f"{path} does not exist yet: `lgs warehouse start` creates the BI role and "
                "its password"
            ) from None
    settings.private_dir(path.parent)
    password = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another start wrote it meanwhile
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(password + "\n")
    return password


def rules(*, owner: str, server_user: str, bi_role: str) -> dict[str, str]:
    """pg_hba.conf and pg_ident.conf: who may log in, how (nothing else is accepted)."""
    users = list(dict.fromkeys([owner, server_user]))
    hba = (
        "# written by lgs at each start (scripts/lgs/access.py): edits are replaced\n"
        "# TYPE  DATABASE  USER  ADDRESS  METHOD\n"
        f"local   all   postgres   peer map={IDENT_MAP}\n"
        f"host    all   {bi_role}   127.0.0.1/32   scram-sha-256\n"
    )
    ident = (
        "# written by lgs at each start (scripts/lgs/access.py): edits are replaced\n"
        "# MAPNAME  SYSTEM-USERNAME  PG-USERNAME\n"
        + "".join(f"{IDENT_MAP}   {user}   postgres\n" for user in users)
    )
    return {"pg_hba.conf": hba, "pg_ident.conf": ident}


def ensure_bi_role(cur: Any, role: str, password: str) -> None:
    """Create the BI role, or set it back to what it must be: a plain login with this
    password (sent as a scram-sha-256 verifier: the server never sees the password)."""
    from psycopg2.extensions import encrypt_password

    verifier = encrypt_password(password, role, cur.connection, "scram-sha-256")
    cur.execute("select 1 from pg_roles where rolname = %s", (role,))
    verb = "alter" if cur.fetchone() else "create"
    cur.execute(
        f'{verb} role "{role}" with login nosuperuser nocreatedb nocreaterole noinherit '
        "noreplication nobypassrls password %s",
        (verifier,),
    )
    cur.execute(
        "select g.rolname from pg_auth_members m join pg_roles g on g.oid = m.roleid "
        "join pg_roles r on r.oid = m.member where r.rolname = %s and g.rolname = any(%s)",
        (role, list(_DANGEROUS_ROLES)),
    )
    for (granted,) in cur.fetchall():
        cur.execute(f'revoke "{granted}" from "{role}"')


def revoke_public(cur: Any, database: str) -> None:
    """What PostgreSQL grants every role on a database and a BI role must not have:
    creating schemas and temporary tables. (Since PostgreSQL 15, schema `public` no
    longer lets every role create in it.)"""
    cur.execute(f'revoke create, temporary on database "{database}" from public')
