"""Replies in the inbox: a sent one, and one the mail server refused (``send_failed``)."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import Account, NewEmail, row, rows, sign_in

pytestmark = pytest.mark.e2e


def _process_approve_send(account: Account, ids: list[str]) -> None:
    job = account.submit("process", ids)
    deadline = time.monotonic() + 20
    while True:
        status = account.client.get(
            f"/api/v1/emails/batch/status/{job['job_id']}", headers=account.headers
        ).json()
        if status["status"] in ("completed", "failed"):
            break
        assert time.monotonic() < deadline, status
        time.sleep(0.05)
    for email_id in ids:
        approved = account.client.post(
            f"/api/v1/emails/{email_id}/approve", json={}, headers=account.headers
        )
        assert approved.status_code == 200, approved.text
        sent = account.client.post(f"/api/v1/emails/{email_id}/send", headers=account.headers)
        assert sent.status_code == 200, sent.text


def test_a_refused_reply_shows_send_failed_with_its_reason_and_can_be_filtered(
    page: Page, account: Account
) -> None:
    ids = account.add(
        [
            NewEmail("Pricing for our team", sender="Bea Bounce <bounce@example.com>"),
            NewEmail("Plans and pricing"),
        ]
    )
    _process_approve_send(account, ids)

    sign_in(page, account)

    failed = row(page, "Pricing for our team").locator(".col-status .badge")
    expect(failed).to_contain_text("Send failed")
    refused = "SMTP delivery failed: the mail server refused the recipient"
    expect(failed.locator(".status-error")).to_have_attribute(
        "title", f"Sending failed after 1 attempt: {refused}"
    )
    expect(row(page, "Plans and pricing").locator(".col-status .badge")).to_have_text("Sent")

    page.locator("#filter-status").select_option("send_failed")
    expect(rows(page)).to_have_count(1)
    expect(row(page, "Pricing for our team")).to_be_visible()


def test_the_detail_panel_offers_to_send_a_failed_reply_again(page: Page, account: Account) -> None:
    (email_id,) = account.add([NewEmail("Refund timing", sender="bounce@example.com")])
    _process_approve_send(account, [email_id])
    sign_in(page, account)

    row(page, "Refund timing").get_by_role("button", name="Refund timing").click()

    detail = page.locator("#detail")
    expect(detail.locator("#detail-status")).to_have_text("Send failed")
    expect(detail.locator(".detail-failure-title")).to_have_text("Sending this reply failed")
    expect(detail.locator("#detail-failure-text")).to_contain_text("refused the recipient")
    expect(detail.get_by_role("button", name="Send")).to_be_enabled()
    expect(detail.get_by_role("button", name="Approve")).to_be_enabled()
