"""A PostgreSQL cluster of a test's own, which it may stop and start at will.

The shared server on 5432 is used by everyone on the machine and must never be
restarted; a test that takes the database away starts its own cluster instead:
``initdb`` into a fresh folder owned by the ``postgres`` OS user, trust
authentication, a free port, its socket in that folder. Missing binaries are an
error, never a skip.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.e2e.server import free_port

BINARIES_GLOB = "/usr/lib/postgresql/*/bin"
OS_USER = "postgres"


def postgres_bin() -> Path:
    """The newest installed server's ``bin`` folder holding ``initdb`` and ``pg_ctl``."""
    override = os.environ.get("REASONFLOW_TEST_PG_BIN")
    candidates = [Path(override)] if override else []
    candidates += sorted(
        (Path(p) for p in glob.glob(BINARIES_GLOB)),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise RuntimeError(
        f"initdb and pg_ctl not found under {BINARIES_GLOB} (or REASONFLOW_TEST_PG_BIN): "
        "install the PostgreSQL server package (make services does)"
    )


class PrivateCluster:
    """``initdb`` + ``pg_ctl`` on a free port; ``stop()`` and ``start()`` as often as needed."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        try:
            self._owner = pwd.getpwnam(OS_USER)
        except KeyError as exc:
            raise RuntimeError(f"the {OS_USER!r} OS user is missing") from exc
        self.port = free_port()
        # /tmp rather than pytest's tmp_path: its parents are private to root.
        self.root = Path(tempfile.mkdtemp(prefix="rf-pg-"))
        os.chown(self.root, self._owner.pw_uid, self._owner.pw_gid)
        self.data = self.root / "data"
        self.log_path = self.root / "server.log"
        #: For asyncpg (``dsn``) and for the server (``url``, SQLAlchemy's form).
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.url = self.dsn.replace("postgresql://", "postgresql+asyncpg://", 1)

    def _run(self, *argv: str, timeout: float = 60) -> None:
        command = ["runuser", "-u", OS_USER, "--", *argv]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
                f"\n{self.log()}"
            )

    def init(self) -> PrivateCluster:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log_path),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def destroy(self) -> None:
        """Stop the server if it runs and remove every file."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PrivateCluster:
        try:
            self.init()
            self.start()
        except BaseException:
            self.destroy()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.destroy()
