"""The ``reasonflow`` command: serve, migrate, seed the demo, manage users."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from reasonflow.domain.errors import DomainError, EmailTaken
from reasonflow.domain.model import User
from reasonflow.entrypoints.bootstrap import Services, admin_lifecycle, build_adapters, wire
from reasonflow.entrypoints.client import register_client_commands
from reasonflow.entrypoints.demo_data import demo_inbox
from reasonflow.entrypoints.provider_choice import build_provider
from reasonflow.entrypoints.settings import PREFIX, Settings, SettingsError, load_settings

DEMO_ADDRESS = "demo@reasonflow.local"
DEMO_PASSWORD = "reasonflow-demo"  # noqa: S105 - a published demo credential, local data only
#: Demo emails get stable ids so seeding twice adds nothing.
DEMO_NAMESPACE = uuid.UUID("7f1c2a9e-5b1d-4c53-9a51-0c6f0b7f6d10")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if hasattr(args, "run_client"):
        # Client commands talk to a server over HTTP: the server's settings play no part.
        return int(args.run_client(args))
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return 2
    try:
        result: int = args.run(settings, args)
    except SettingsError as exc:
        # Some settings (the provider) are only checked when the app is built.
        print(f"configuration error:\n{exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reasonflow", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP API and the browser UI")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="API processes sharing the port (more than 1: cluster mode only)",
    )
    serve.set_defaults(run=_serve)

    worker = commands.add_parser("worker", help="run the emails of batch jobs (cluster mode)")
    worker.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="emails at a time (default: REASONFLOW_LLM_MAX_CONCURRENCY)",
    )
    worker.set_defaults(run=_worker)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply every migration").set_defaults(run=_db_upgrade)

    demo = commands.add_parser("demo", help="create the demo user and inbox (idempotent)")
    demo.add_argument("--password", default=DEMO_PASSWORD)
    demo.set_defaults(run=_demo)

    user = commands.add_parser("user", help="accounts")
    user_commands = user.add_subparsers(required=True, metavar="ACTION")
    create = user_commands.add_parser("create", help="create an account (asks for a password)")
    create.add_argument("email")
    create.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    create.set_defaults(run=_user_create)

    register_client_commands(commands)
    return parser


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from reasonflow.entrypoints.http.app import create_app

    if args.workers < 1:
        raise SettingsError("--workers: must be at least 1")
    if args.workers > 1 and not settings.cluster:
        raise SettingsError(
            "--workers: API processes share their jobs in the cluster mode only; "
            f"set {PREFIX}JOB_STORE=redis and {PREFIX}QUEUE=saq (or run one process)"
        )
    # A bad model string is a configuration error before anything listens (the
    # app's own start would only log it with a trace, from inside the server).
    asyncio.run(_check_provider(settings))
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_config": None,
        # The app logs every request itself (route template, request id, user).
        "access_log": False,
        "timeout_graceful_shutdown": int(settings.shutdown_grace_seconds) + 5,
    }
    if args.workers == 1:
        uvicorn.run(create_app(settings), **options)
        return 0
    from reasonflow.adapters.auth.tokens import load_or_create_secret

    if settings.jwt_secret is None:
        # Made here, before the processes start, so that all of them sign with it.
        load_or_create_secret(settings.var_path / "jwt_secret")
    # Each process builds its own app from the same environment.
    uvicorn.run(
        "reasonflow.entrypoints.http.app:create_app",
        factory=True,
        workers=args.workers,
        **options,
    )
    return 0


async def _check_provider(settings: Settings) -> None:
    provider = build_provider(settings)
    await provider.start()
    await provider.stop()


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from reasonflow.entrypoints.logs import configure_logging
    from reasonflow.entrypoints.worker import check_cluster, run_worker

    check_cluster(settings)
    if args.concurrency is not None and args.concurrency < 1:
        raise SettingsError("--concurrency: must be at least 1")
    configure_logging(settings.log_format, settings.log_level)
    asyncio.run(_check_provider(settings))
    concurrency = args.concurrency or settings.llm_max_concurrency
    asyncio.run(run_worker(wire(build_adapters(settings), settings), settings, concurrency))
    return 0


def _with_admin(settings: Settings, work: Callable[[Services], Awaitable[int]]) -> int:
    """Run ``work`` with the database migrated and started; no job runs here."""

    async def run() -> int:
        adapters = build_adapters(settings)
        lifecycle = admin_lifecycle(adapters)
        await lifecycle.start()
        try:
            return await work(wire(adapters, settings))
        finally:
            await lifecycle.stop()

    return asyncio.run(run())


def _db_upgrade(settings: Settings, _: argparse.Namespace) -> int:
    async def done(_: Services) -> int:
        print("database is up to date")
        return 0

    return _with_admin(settings, done)


async def _ensure_user(admin: Services, address: str, password: str) -> tuple[User, bool]:
    try:
        return await admin.accounts.register(address, password), True
    except EmailTaken:
        return await admin.accounts.authenticate(address, password), False


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    async def seed(admin: Services) -> int:
        user, _ = await _ensure_user(admin, DEMO_ADDRESS, args.password)
        added = 0
        for index, new in enumerate(demo_inbox(admin.inbox.now())):
            email_id = uuid.uuid5(DEMO_NAMESPACE, f"{user.id}:{index}")
            if await admin.inbox.add_if_absent(user.id, new, email_id):
                added += 1
        print(f"demo user:     {DEMO_ADDRESS}")
        print(f"password:      {args.password}")
        print(f"emails added:  {added} (the demo inbox is seeded once)")
        return 0

    return _with_admin(settings, seed)


def _user_create(settings: Settings, args: argparse.Namespace) -> int:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")

    async def create(admin: Services) -> int:
        user = await admin.accounts.register(args.email, password)
        print(f"created {user.email} ({user.id})")
        return 0

    return _with_admin(settings, create)


if __name__ == "__main__":
    sys.exit(main())
