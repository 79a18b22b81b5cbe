"""Helpers for the browser tests: accounts seeded over the HTTP API, and the
page operations every test repeats (sign in, find a row, record requests)."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Locator, Page, Request, expect

PASSWORD = "correct horse battery"
#: Seeded emails arrive a minute apart, newest first, before this moment, so
#: the inbox order (and the screenshots) do not depend on the clock.
NEWEST = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
STATUS_PATH = re.compile(r"/api/v1/emails/batch/status/")


@dataclass(frozen=True)
class NewEmail:
    subject: str
    body: str = "Hello, could you tell me more about your plans and pricing? Thanks."
    sender: str = "Customer <customer@example.com>"
    #: Minutes before NEWEST; by default each email is a minute older than the last.
    minutes_ago: int | None = None
    thread_id: str | None = None


@dataclass
class Account:
    address: str
    client: httpx.Client
    headers: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)  # subject -> id

    def add(self, emails: Sequence[NewEmail | str]) -> list[str]:
        """Create emails, the first one newest; returns their ids in order."""
        start = len(self.ids)
        created = []
        for offset, email in enumerate(emails):
            email = NewEmail(email) if isinstance(email, str) else email
            response = self.client.post(
                "/api/v1/emails",
                json={
                    "subject": email.subject,
                    "body": email.body,
                    "sender": email.sender,
                    "received_at": (
                        NEWEST
                        - timedelta(
                            minutes=start + offset
                            if email.minutes_ago is None
                            else email.minutes_ago
                        )
                    ).isoformat(),
                    "thread_id": email.thread_id,
                },
                headers=self.headers,
            )
            assert response.status_code == 201, response.text
            self.ids[email.subject] = response.json()["id"]
            created.append(response.json()["id"])
        return created

    def submit(self, kind: str, ids: Sequence[str]) -> dict[str, Any]:
        response = self.client.post(
            f"/api/v1/emails/batch/{kind}", json={"email_ids": list(ids)}, headers=self.headers
        )
        assert response.status_code == 202, response.text
        body: dict[str, Any] = response.json()
        return body


@dataclass
class ServerUnderTest:
    url: str
    client: httpx.Client
    #: The server's working directory (its SQLite database: the dev mailer's mailbox).
    workdir: Path | None = None

    def outbox(self) -> list[str]:
        """The bodies of the replies the server delivered (the dev mailer's table)."""
        assert self.workdir is not None
        with closing(sqlite3.connect(self.workdir / "reasonflow.db")) as db:
            return [body for (body,) in db.execute("SELECT body FROM dev_mailbox")]

    def register(self, address: str) -> Account:
        creds = {"email": address, "password": PASSWORD}
        response = self.client.post("/api/v1/auth/register", json=creds)
        assert response.status_code == 201, response.text
        token = self.client.post("/api/v1/auth/login", json=creds).json()["access_token"]
        return Account(address, self.client, {"Authorization": f"Bearer {token}"})


def sign_in(page: Page, account: Account) -> None:
    page.goto("/")
    page.get_by_label("Email address").fill(account.address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    if account.ids:
        expect(rows(page).first).to_be_visible()


def rows(page: Page) -> Locator:
    return page.locator("#rows tr")


def row(page: Page, subject: str) -> Locator:
    return rows(page).filter(
        has=page.locator(".subject", has_text=re.compile(f"^{re.escape(subject)}$"))
    )


def checkbox(page: Page, subject: str) -> Locator:
    return row(page, subject).get_by_role("checkbox")


def select_all(page: Page) -> Locator:
    return page.locator("#select-page")


def selection_count(page: Page) -> Locator:
    return page.locator("#selection-count")


def dialog(page: Page) -> Locator:
    return page.get_by_role("dialog")


def progressbar(page: Page) -> Locator:
    return dialog(page).get_by_role("progressbar")


def checked_subjects(page: Page) -> list[str]:
    """Subjects of the rows whose checkbox is ticked, in table order."""
    result: list[str] = page.eval_on_selector_all(
        "#rows tr",
        """rows => rows.filter(r => r.querySelector('.row-check').checked)
                       .map(r => r.querySelector('.subject').textContent)""",
    )
    return result


class RequestLog:
    """Every status request (poll or stream) the page makes, in order."""

    def __init__(self, page: Page) -> None:
        self.urls: list[str] = []
        page.on("request", self._record)

    def _record(self, request: Request) -> None:
        if STATUS_PATH.search(request.url):
            self.urls.append(request.url)

    def __len__(self) -> int:
        return len(self.urls)


def settle_requests(page: Page) -> None:
    """Make one request of our own and wait for it: any request the page had
    started before is reported by then (Playwright delivers events in order)."""
    with page.expect_request("**/health"):
        page.evaluate("() => fetch('/health').then(r => r.status)")


def record_progress(page: Page) -> None:
    """Keep every value the progress bar shows in ``window.progressSeen``."""
    page.evaluate(
        """() => {
            window.progressSeen = [];
            const bar = document.getElementById('progress');
            new MutationObserver(() => window.progressSeen.push(
                Number(bar.getAttribute('aria-valuenow')))
            ).observe(bar, {attributes: true, attributeFilter: ['aria-valuenow']});
        }"""
    )


def progress_seen(page: Page) -> list[int]:
    seen: list[int] = page.evaluate("() => window.progressSeen")
    return seen


def wait_finished(account: Account, job_id: str, timeout: float = 20.0) -> None:
    """Poll the job's status over the API until it has finished (or fail at ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        status = account.client.get(
            f"/api/v1/emails/batch/status/{job_id}", headers=account.headers
        ).json()
        if status["status"] in ("completed", "failed", "cancelled"):
            return
        assert time.monotonic() < deadline, status
        time.sleep(0.05)
