"""A throwaway PostgreSQL server for the platform tests and benchmarks/server_load.py.

``PgServer.start()`` runs ``initdb`` into a fresh temporary directory and ``pg_ctl start``
with the server listening on 127.0.0.1 on a free port (and on a unix socket in the same
directory), fsync off unless ``start(durable=True)``; ``stop()`` stops it and removes the
directory. Each test gets its own database (``new_database()``), so tests never see each
other's rows.

PostgreSQL refuses to run as root: as root, the directory is chowned to the ``postgres``
user (created by the Debian package) and ``initdb`` / ``pg_ctl`` run through
``runuser -u postgres --``. The binaries come from PATH or /usr/lib/postgresql/*/bin;
``scripts/setup-postgres.sh`` installs them (``make setup`` runs it).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SUPERUSER = "podium"
RUN_AS = "postgres"


def find_bindir() -> Path | None:
    """The directory with initdb and pg_ctl, or None when PostgreSQL is not installed."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    def version(initdb: str) -> int:
        name = Path(initdb).parent.parent.name
        return int(name) if name.isdigit() else 0

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="podium-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self._names = itertools.count(1)
        self._prefix: list[str] = []
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam(RUN_AS)
            except KeyError as exc:
                raise RuntimeError(f"running as root and there is no {RUN_AS!r} user to run PostgreSQL as") from exc
            os.chown(self.root, user.pw_uid, user.pw_gid)
            os.chmod(self.root, 0o700)
            self._prefix = ["runuser", "-u", RUN_AS, "--"]

    def _run(self, *args: str, timeout: float = 60) -> None:
        proc = subprocess.run([*self._prefix, *args], capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}\n{log}")

    def start(self, *, durable: bool = False) -> PgServer:
        """Not durable (the tests): fsync, synchronous_commit and full_page_writes off.
        Durable (benchmarks): PostgreSQL's defaults, every commit flushed to disk."""
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
                  "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c max_connections=300"
        if not durable:
            opts += " -F -c synchronous_commit=off -c full_page_writes=off"
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                  "-o", opts, "-w", "-t", "60", "start", timeout=90)
        return self

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A new empty database; its SQLAlchemy URL."""
        import psycopg

        name = f"t{next(self._names)}"
        with psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)
