"""The README's curl walk-through runs as printed against a real server."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.server import REPO, ServerProcess, reasonflow_cli, server_env

pytestmark = pytest.mark.e2e


def walkthrough() -> str:
    readme = (REPO / "README.md").read_text()
    match = re.search(
        r"<!-- walkthrough:start -->\s*```bash\n(.*?)```\s*<!-- walkthrough:end -->", readme, re.S
    )
    assert match, "README has no walk-through block"
    return match.group(1)


def test_readme_walkthrough_against_a_real_server(tmp_path: Path) -> None:
    assert shutil.which("curl") and shutil.which("jq"), "the walk-through needs curl and jq"
    env = server_env(tmp_path)
    seeded = subprocess.run(
        [*reasonflow_cli(), "demo"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert seeded.returncode == 0, seeded.stderr
    added = re.search(r"emails added:\s+(\d+)", seeded.stdout)
    assert added and 50 <= int(added.group(1)) <= 70, seeded.stdout
    again = subprocess.run(
        [*reasonflow_cli(), "demo"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert re.search(r"emails added:\s+0\b", again.stdout), "seeding twice adds nothing"

    server = ServerProcess([*reasonflow_cli(), "serve"], env, tmp_path)
    try:
        server.wait_ready()
        script = walkthrough().replace("http://127.0.0.1:8000", server.url)
        run = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        out = run.stdout
        assert re.search(r"classify job: cls_[0-9a-f]{16}", out)
        assert re.search(r"process job: prc_[0-9a-f]{16}", out)
        assert out.count('"status":"completed"') == 2, out
        assert '"succeeded":10' in out and '"succeeded":5' in out
        assert re.search(r"^(drafted|needs_review|rejected)\t", out, re.M), out
    finally:
        assert server.stop() in (0, -15), server.log()
