"""A real PostgreSQL server for the tests: initdb + pg_ctl in a temporary folder, on a
Unix socket only (no TCP port to collide with), fsync off. As root (CI), the server runs
as the `postgres` system user, since initdb refuses to run as root."""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

REQUIRED = os.environ.get("KETAPLAN_REQUIRE_POSTGRES") == "1"
_names = itertools.count()


def bindir() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(candidate, "initdb")):
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


class Server:
    def __init__(self) -> None:
        bins = bindir()
        if bins is None:
            raise RuntimeError("no PostgreSQL server binaries (apt-get install postgresql)")
        self.bins = bins
        self.root = Path(tempfile.mkdtemp(prefix="ketaplan-pg-"))
        self.data = self.root / "data"
        self.socket = self.root / "socket"
        self.socket.mkdir()
        self.user = None
        if os.geteuid() == 0:
            self.user = "postgres"
            shutil.chown(self.root, self.user)
            shutil.chown(self.socket, self.user)
            os.chmod(self.root, 0o755)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        options = (
            f"-c listen_addresses='' -c unix_socket_directories={self.socket} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")
        self.admin("CREATE DATABASE ketaplan_template")
        self.url_of("ketaplan_template")
        import psycopg

        with psycopg.connect(self.url_of("ketaplan_template"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION btree_gist")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bins / tool), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.root)

    def url_of(self, db: str, user: str = "postgres") -> str:
        return f"postgresql://{user}@/{db}?host={self.socket}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url_of("postgres"), autocommit=True) as conn:
            conn.execute(sql)

    def new_database(self) -> str:
        """A fresh, empty database (btree_gist already in it); its URL."""
        name = f"t{os.getpid()}_{next(_names)}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE ketaplan_template")
        return self.url_of(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
