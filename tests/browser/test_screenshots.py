"""The screenshots in docs/ui.md (inbox, progress modal, detail panel, review
queue), taken from a real run over the demo inbox.

The data and the moment are fixed so that a new run gives the same pictures:
emails arrive at fixed times, and the modal is captured while the fifth email
(marked ``[slow]`` at the end of its body, out of sight) holds the job at
"Processing 4 of 8" (the modal's four results so far in ``live-results.png``);
``jobs-panel.png`` shows the two jobs once the second has finished.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from reasonflow.entrypoints.demo_data import DEMO_EMAILS
from tests.browser.support import (
    NewEmail,
    ServerUnderTest,
    dialog,
    rows,
    selection_count,
    sign_in,
    wait_finished,
)

pytestmark = pytest.mark.e2e

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
SHOWN = 14  # emails in the picture's inbox
#: The modal's job: rows 0..7 in this order; row 1 fails, row 4 is slow.
FAILS, SLOW = 1, 4


def demo_emails() -> list[NewEmail]:
    newest_first = sorted(DEMO_EMAILS, key=lambda e: e.minutes_ago)[:SHOWN]
    emails = []
    for index, demo in enumerate(newest_first):
        body = demo.body
        if index == FAILS:
            body += "\n\n" + " " * 200 + "[fail]"
        if index == SLOW:
            body += "\n\n" + " " * 200 + "[slow]"
        emails.append(NewEmail(demo.subject, body, demo.sender, demo.minutes_ago))
    return emails


def test_screenshots_of_the_inbox_and_the_modal(page: Page, server: ServerUnderTest) -> None:
    page.emulate_media(reduced_motion="reduce")  # no transition caught half-way
    account = server.register("demo@reasonflow.local")
    ids = account.add(demo_emails())
    # The older half was processed earlier: the picture shows intents and outcomes.
    wait_finished(account, account.submit("process", ids[8:])["job_id"])
    sign_in(page, account)
    expect(rows(page)).to_have_count(SHOWN)
    expect(rows(page).nth(SHOWN - 1)).not_to_contain_text("Not classified")

    for index in range(8):
        rows(page).nth(index).get_by_role("checkbox").check()
    expect(selection_count(page)).to_have_text("8 emails selected")
    expect(page.locator("#estimate-title")).to_have_text("Estimate for 8 emails (at most)")
    page.mouse.move(0, 0)  # no hover highlight in the picture
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=IMAGES / "inbox-selection.png", animations="disabled")

    page.get_by_role("button", name="Classify Selected").click()
    modal = dialog(page)
    expect(modal.locator("#modal-status")).to_have_text("Processing 4 of 8 emails...")
    expect(modal.locator("#count-failed")).to_have_text("1")
    expect(modal.locator("#result-list li")).to_have_count(4)
    page.screenshot(path=IMAGES / "progress-modal.png", animations="disabled")
    modal.screenshot(path=IMAGES / "live-results.png", animations="disabled")

    expect(modal.locator("#modal-status")).to_have_text("Done: 7 of 8 emails succeeded, 1 failed.")
    modal.get_by_role("button", name="Close").click()
    panel = page.get_by_role("region", name="Recent jobs")
    expect(panel.get_by_role("row").filter(has=page.get_by_role("button"))).to_have_count(2)
    expect(panel).to_contain_text("8 of 8 emails done · 1 failed")
    panel.scroll_into_view_if_needed()
    page.mouse.move(0, 0)
    panel.screenshot(path=IMAGES / "jobs-panel.png", animations="disabled")


def test_screenshots_of_the_detail_panel_and_the_review_queue(
    page: Page, server: ServerUnderTest
) -> None:
    page.emulate_media(reduced_motion="reduce")
    account = server.register("reviewer@reasonflow.local")
    newest_first = sorted(DEMO_EMAILS, key=lambda e: e.minutes_ago)[:SHOWN]
    ids = account.add(
        [NewEmail(e.subject, e.body, e.sender, e.minutes_ago, e.thread_id) for e in newest_first]
    )
    wait_finished(account, account.submit("process", ids)["job_id"])
    sign_in(page, account)
    expect(rows(page)).to_have_count(SHOWN)

    reply = "Re: Initech kickoff: notes for your records"
    rows(page).get_by_role("button", name=reply, exact=True).click()
    detail = page.locator("#detail")
    expect(detail.get_by_role("heading", name=reply)).to_be_focused()
    thread = detail.get_by_role("region", name="Earlier in this thread (1 email)")
    expect(thread).to_contain_text("Initech kickoff: notes for your records")
    expect(detail.get_by_label("Reply draft")).not_to_have_value("")
    page.mouse.move(0, 0)
    page.screenshot(path=IMAGES / "detail-panel.png", animations="disabled")
    page.keyboard.press("Escape")
    expect(detail).to_be_hidden()

    page.get_by_role("button", name="Review queue").click()
    expect(detail.locator("#detail-position")).to_contain_text("Review queue: 1 of ")
    expect(detail.locator("#detail-status")).not_to_be_empty()
    page.mouse.move(0, 0)
    page.screenshot(path=IMAGES / "review-queue.png", animations="disabled")
