"""Start ``reasonflow serve`` processes fast: fork them from a process that has
imported the server once.

Importing the app costs 1.5 s of CPU per process, which 200 crash-and-restart
runs cannot afford on a small machine. This helper imports it once and, on
request, forks a child that becomes a fresh ``reasonflow serve`` (its own
session, environment, working directory and log, then ``cli.main``): a real
server process, killed with SIGKILL like any other. Nothing runs in the forking
process but imports (no event loop, no thread), so forking it is safe.

Protocol on stdin/stdout, one JSON object a line: ``{"argv", "env", "cwd",
"log"}`` in, ``{"pid"}`` out.
"""

from __future__ import annotations

import json
import os
import signal
import sys


def _serve(request: dict[str, object]) -> None:
    from reasonflow.entrypoints import cli

    os.setsid()  # its own process group, as ServerProcess starts servers
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    log = os.open(str(request["log"]), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.chdir(str(request["cwd"]))
    env = request["env"]
    assert isinstance(env, dict)
    os.environ.clear()
    os.environ.update(env)
    argv = request["argv"]
    assert isinstance(argv, list)
    try:
        code = cli.main([str(a) for a in argv])
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _warm() -> None:
    """Import what ``reasonflow serve`` imports before it listens, including what
    building the app imports lazily (Litestar's plugins): an app is built and
    dropped. Building one opens nothing (no file, connection, loop or thread)."""
    import tempfile

    import uvicorn  # noqa: F401

    import reasonflow.entrypoints.cli  # noqa: F401
    from reasonflow.entrypoints.http.app import create_app
    from reasonflow.entrypoints.settings import Settings

    with tempfile.TemporaryDirectory() as scratch:
        create_app(
            Settings(
                database_url="sqlite+aiosqlite:///:memory:",
                var_dir=scratch,
                jwt_secret="warm-up-only-" + "x" * 32,
            )
        )


def main() -> None:
    _warm()

    # Children are reaped by the kernel: the test watches them by pid and port.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _serve(request)
        print(json.dumps({"pid": pid}), flush=True)


if __name__ == "__main__":
    main()
