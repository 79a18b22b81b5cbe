"""``reasonflow serve --workers N``: several API processes on one port (DESIGN §7),
allowed in the cluster mode only, where they share every job through Redis."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.cluster import User, running_cluster
from tests.e2e.server import ServerProcess, reasonflow_cli, server_env

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


def test_several_api_processes_refused_outside_the_cluster_mode(tmp_path: Path) -> None:
    done = subprocess.run(
        [*reasonflow_cli(), "serve", "--workers", "2", "--port", "0"],
        env=server_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--workers" in done.stderr and "cluster mode" in done.stderr
    assert "Traceback" not in done.stderr


def test_api_processes_on_one_port_serve_every_job_with_one_secret(tmp_path: Path) -> None:
    with running_cluster(tmp_path, apis=0, workers=1) as cluster:
        # No JWT secret given: the one made before the processes start is shared.
        env = {k: v for k, v in cluster.env.items() if k != "REASONFLOW_JWT_SECRET"}
        env["REASONFLOW_VAR_DIR"] = str(tmp_path / "var")
        api = ServerProcess([*reasonflow_cli(), "serve", "--workers", "2"], env, tmp_path)
        try:
            api.wait_ready()
            deadline = time.monotonic() + 30
            while len(set(re.findall(r"Started server process \[(\d+)\]", api.log()))) < 2:
                assert time.monotonic() < deadline, api.log()
                time.sleep(0.1)

            ann = User.sign_up(api.url, "ann@example.com")
            job_id = ann.submit("classify", ann.add_emails(12)).json()["job_id"]
            # Each request on a new connection: either process may answer it.
            for _ in range(20):
                assert ann.request("GET", "/api/v1/emails").status_code == 200
            done = ann.finished(job_id)
            assert done["succeeded"] == 12, done
        finally:
            assert api.stop() in (0, -15), api.log()
