"""Fixtures: one real server process and one headless Chromium for the package,
a fresh browser context and a fresh account (over the HTTP API) per test."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, expect, sync_playwright

from tests.browser.support import Account, ServerUnderTest
from tests.e2e.server import ServerProcess, server_env

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Every provider call takes DELAY seconds, SLOW_DELAY with a "[slow]" marker.
DELAY = 0.2
SLOW_DELAY = 1.5

expect.set_options(timeout=10_000)


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerUnderTest]:
    workdir = tmp_path_factory.mktemp("browser-server")
    env = server_env(
        workdir,
        # Two jobs at once, each one email at a time: a job advances in order.
        REASONFLOW_LLM_MAX_CONCURRENCY="2",
        REASONFLOW_JOB_MAX_CONCURRENCY="1",
        # A refused reply reads send_failed at its first failure.
        REASONFLOW_DISPATCH_MAX_ATTEMPTS="1",
    )
    argv = [sys.executable, "-m", "tests.browser.app_server"]
    process = ServerProcess(
        [*argv, "--delay", str(DELAY), "--slow-delay", str(SLOW_DELAY)], env, workdir
    )
    try:
        process.wait_ready()
        with httpx.Client(base_url=process.url, timeout=10) as client:
            yield ServerUnderTest(process.url, client, workdir)
    finally:
        process.stop()


# Package scope, not session: the sync API keeps an event loop of its own that
# breaks pytest-asyncio tests collected after this package while it lives.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/browser.sh (make test does)")
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser, server: ServerUnderTest) -> Iterator[Page]:
    """A fresh tab; the test fails on any script error or CSP violation in it."""
    context = browser.new_context(
        base_url=server.url,
        viewport={"width": 1280, "height": 860},
        locale="en-US",
        timezone_id="UTC",
        color_scheme="light",
    )
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    def console(message: ConsoleMessage) -> None:
        # A failed fetch (a 404/409 the UI handles) logs "Failed to load resource".
        if message.type == "error" and "Failed to load resource" not in message.text:
            problems.append(f"console error: {message.text}")

    tab.on("console", console)
    yield tab
    context.close()
    assert not problems, problems


@pytest.fixture
def account(server: ServerUnderTest) -> Account:
    """A new user with an empty inbox."""
    return server.register(f"user-{uuid.uuid4().hex[:10]}@example.com")
