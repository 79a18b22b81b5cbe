"""The page itself: its security headers, signing in and out, and email text
that must never become markup."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.browser.support import (
    PASSWORD,
    Account,
    NewEmail,
    ServerUnderTest,
    checkbox,
    dialog,
    row,
    rows,
    sign_in,
)

pytestmark = pytest.mark.e2e

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
XSS = "<img src=x onerror=alert(1)>"


def test_the_page_and_its_assets_carry_the_security_headers(server: ServerUnderTest) -> None:
    page = httpx.get(server.url + "/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == CSP
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-cache"
    assert "<script" not in page.text.replace('<script type="module" src="/assets/app.js">', "")
    assert " style=" not in page.text

    module = httpx.get(server.url + "/assets/app.js")
    assert module.status_code == 200
    assert module.headers["content-type"] == "text/javascript; charset=utf-8"
    assert module.headers["content-security-policy"] == CSP
    assert module.headers["x-content-type-options"] == "nosniff"
    assert httpx.get(server.url + "/assets/app.css").headers["content-type"].startswith("text/css")

    again = httpx.get(
        server.url + "/assets/app.js", headers={"If-None-Match": module.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize(
    "path", ["/assets/nope.js", "/assets/..%2Fhttp%2Fweb.py", "/assets/.hidden.js", "/assets/a.py"]
)
def test_only_the_ui_files_are_served(server: ServerUnderTest, path: str) -> None:
    assert httpx.get(server.url + path).status_code == 404


def test_sign_in_shows_the_inbox_and_sign_out_returns(page: Page, account: Account) -> None:
    account.add(["Question about pricing", "Can we meet on Friday?"])
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Email address")).to_be_focused()

    page.get_by_label("Email address").fill(account.address)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(
        "That email address and password do not match an account."
    )

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    expect(page.locator("#account-email")).to_have_text(account.address)
    expect(rows(page)).to_have_count(2)
    expect(rows(page).first.locator(".subject")).to_have_text("Question about pricing")
    expect(row(page, "Question about pricing")).to_contain_text("Not classified")
    expect(row(page, "Question about pricing")).to_contain_text("Pending")

    page.reload()  # the token lives in sessionStorage: a reload stays signed in
    expect(rows(page)).to_have_count(2)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.evaluate("() => sessionStorage.length") == 0


def test_an_expired_session_goes_back_to_sign_in(page: Page, account: Account) -> None:
    account.add(["Question about pricing"])
    sign_in(page, account)
    page.evaluate("() => sessionStorage.setItem('reasonflow.token', 'expired')")
    page.get_by_role("button", name="Refresh").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("#signin-error")).to_have_text("Your session has expired. Sign in again.")


def test_an_email_subject_with_markup_is_shown_as_text(page: Page, account: Account) -> None:
    dialogs: list[str] = []

    def on_dialog(prompt: Dialog) -> None:
        dialogs.append(prompt.message)
        prompt.dismiss()

    page.on("dialog", on_dialog)
    account.add(
        [
            NewEmail(XSS, body=XSS, sender=f"{XSS} <x@example.com>"),
            NewEmail(f"{XSS} [fail]", body="<b>bold?</b>"),
        ]
    )
    sign_in(page, account)
    expect(row(page, XSS).locator(".subject")).to_have_text(XSS)
    expect(row(page, XSS).locator(".preview")).to_have_text(XSS)
    expect(row(page, XSS).locator(".sender-name")).to_have_text(XSS)
    expect(checkbox(page, XSS)).to_have_attribute("aria-label", f"Select email: {XSS}")

    # The error list of the modal names the failed email by its subject, as text too.
    checkbox(page, f"{XSS} [fail]").check()
    page.get_by_role("button", name="Classify Selected").click()
    expect(dialog(page).get_by_role("button", name="Close")).to_be_enabled()
    dialog(page).get_by_text("1 error").click()
    expect(dialog(page).locator(".error-subject")).to_have_text(f"\u201c{XSS} [fail]\u201d")

    expect(page.locator("img[src='x']")).to_have_count(0)
    expect(page.locator("#rows b")).to_have_count(0)
    assert dialogs == []
