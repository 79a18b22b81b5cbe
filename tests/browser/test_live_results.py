"""Per-email results in the progress modal as they land, a job found again after
a reload or in a new tab, and the jobs panel."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Locator, Page, Route, expect

from tests.browser.support import Account, ServerUnderTest, dialog, rows, select_all, sign_in

pytestmark = pytest.mark.e2e

RESULT_ERROR = "Classification failed: API rate limit exceeded"


def results(page: Page) -> Locator:
    return dialog(page).get_by_role("list", name="Results").get_by_role("listitem")


def status_line(page: Page) -> Locator:
    return dialog(page).locator("#modal-status")


def jobs_panel(page: Page) -> Locator:
    return page.get_by_role("region", name="Recent jobs")


def record_opened_emails(page: Page) -> None:
    """Keep the ids of every ``rf:open-email`` the page dispatches in ``window.opened``."""
    page.evaluate(
        """() => {
            window.opened = [];
            document.addEventListener('rf:open-email', e => window.opened.push(e.detail.id));
        }"""
    )


def test_the_modal_lists_each_email_as_it_lands_and_failures_first_at_the_end(
    page: Page, account: Account
) -> None:
    account.add(
        [
            "Pricing for 40 seats",
            "Upload failed again [fail]",
            "Meeting next week?",
            "Where is my refund? [fail]",
            "Still waiting on the quote [slow]",
            "One more thing [slow]",
        ]
    )
    sign_in(page, account)
    record_opened_emails(page)
    select_all(page).check()
    page.get_by_role("button", name="Classify Selected").click()
    modal = dialog(page)

    # Four emails have landed while the two slow ones still run.
    expect(results(page)).to_have_count(4)
    expect(status_line(page)).to_have_text(re.compile(r"^Processing [45] of 6 emails"))
    expect(modal.get_by_role("button", name="Close")).to_be_disabled()
    first = results(page).nth(0)
    expect(first.get_by_role("button", name="\u201cPricing for 40 seats\u201d")).to_be_visible()
    expect(first).to_contain_text("Succeeded")
    expect(first).to_contain_text("Inquiry \u00b7 Pending")
    failed = results(page).nth(1)
    expect(failed).to_contain_text("\u201cUpload failed again [fail]\u201d")
    expect(failed).to_contain_text("Failed")
    expect(failed).to_contain_text(RESULT_ERROR)

    expect(status_line(page)).to_have_text("Done: 4 of 6 emails succeeded, 2 failed.")
    expect(results(page)).to_have_count(6)
    expect(modal.locator("#result-summary")).to_have_text("6 emails finished.")
    # Finished: the failures come first, then the rest in the order they landed.
    subjects = results(page).locator(".result-open")
    expect(subjects).to_have_text(
        [
            "\u201cUpload failed again [fail]\u201d",
            "\u201cWhere is my refund? [fail]\u201d",
            "\u201cPricing for 40 seats\u201d",
            "\u201cMeeting next week?\u201d",
            "\u201cStill waiting on the quote [slow]\u201d",
            "\u201cOne more thing [slow]\u201d",
        ]
    )

    # A result opens its email in the detail panel, above the modal.
    meeting = results(page).get_by_role("button", name="\u201cMeeting next week?\u201d")
    meeting.click()
    assert page.evaluate("() => window.opened") == [account.ids["Meeting next week?"]]
    panel = page.get_by_role("dialog", name="Meeting next week?")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("heading", name="Meeting next week?")).to_be_focused()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(modal).to_be_visible()
    expect(meeting).to_be_focused()


def test_when_polling_the_failures_are_listed_and_the_rest_counted(
    page: Page, account: Account
) -> None:
    def not_found(route: Route) -> None:
        route.fulfill(status=404, json={"status_code": 404, "detail": "Not Found"})

    page.route(re.compile(r"/status/[^/]+/stream$"), not_found)
    account.add(["Invoice question", "Broken upload [fail]", "Thanks for the demo"])
    sign_in(page, account)
    select_all(page).check()
    page.get_by_role("button", name="Classify Selected").click()

    expect(status_line(page)).to_have_text("Done: 2 of 3 emails succeeded, 1 failed.")
    expect(results(page)).to_have_count(1)
    expect(results(page).first).to_contain_text("\u201cBroken upload [fail]\u201d")
    expect(results(page).first).to_contain_text(RESULT_ERROR)
    expect(dialog(page).locator("#result-summary")).to_have_text(
        "1 email listed; 2 more finished (their results show in the inbox)."
    )


def twenty_emails(account: Account) -> list[str]:
    """Twenty emails whose job takes about 9 s: the last four are slow."""
    return account.add(
        [f"Order question #{n}" for n in range(1, 17)]
        + [f"Slow order question #{n} [slow]" for n in range(17, 21)]
    )


def test_a_reload_while_a_20_email_job_runs_offers_the_job_again_to_the_end(
    page: Page, account: Account
) -> None:
    twenty_emails(account)
    sign_in(page, account)
    select_all(page).check()
    page.get_by_role("button", name="Classify Selected").click()
    expect(status_line(page)).to_have_text(re.compile(r"^Processing [1-9] of 20 emails"))

    page.reload()

    modal = dialog(page)
    expect(modal.get_by_role("heading")).to_have_text("Classifying 20 emails")
    expect(status_line(page)).to_have_text(re.compile(r"^Processing \d+ of 20 emails"))
    expect(modal.get_by_role("button", name="Close")).to_be_disabled()
    expect(results(page).first).to_be_visible()  # the emails done before the reload
    expect(status_line(page)).to_have_text("Done: all 20 emails succeeded.", timeout=30_000)
    expect(results(page)).to_have_count(20)  # each once
    expect(jobs_panel(page).get_by_role("row", name=re.compile("Classify"))).to_contain_text(
        "Completed"
    )


def test_a_job_running_without_a_tab_following_it_is_offered_and_can_be_shown(
    browser: Browser, server: ServerUnderTest, account: Account
) -> None:
    ids = twenty_emails(account)
    job = account.submit("classify", ids)
    context = browser.new_context(base_url=server.url, locale="en-US", timezone_id="UTC")
    try:
        page = context.new_page()
        sign_in(page, account)
        notice = page.get_by_role("alert")
        expect(notice).to_contain_text("A job is still running")
        expect(notice).to_contain_text(re.compile(r"Classifying 20 emails: \d+ of 20 done so far"))
        row = jobs_panel(page).get_by_role("row", name=re.compile("Classify \u00b7 20 emails"))
        expect(row).to_contain_text("Running")
        expect(row).to_contain_text("just now")

        notice.get_by_role("button", name="Show progress").click()
        modal = dialog(page)
        expect(modal.get_by_role("heading")).to_have_text("Classifying 20 emails")
        expect(notice).to_be_hidden()
        expect(status_line(page)).to_have_text("Done: all 20 emails succeeded.", timeout=30_000)
        expect(results(page)).to_have_count(20)
        expect(row).to_contain_text("Completed")
        expect(row).to_contain_text("20 of 20 emails done")
        assert job["job_id"]
    finally:
        context.close()


def test_the_jobs_panel_lists_recent_jobs_and_shows_a_finished_ones_results(
    page: Page, account: Account
) -> None:
    ids = account.add(["Refund please [fail]", "Pricing question", "Meeting on Friday"])
    sign_in(page, account)
    panel = jobs_panel(page)
    expect(panel).to_contain_text("No jobs yet")

    page.get_by_role("checkbox", name=re.compile("Pricing question")).check()
    page.get_by_role("button", name="Process Selected").click()
    expect(status_line(page)).to_have_text("Done: all 1 email succeeded.")
    dialog(page).get_by_role("button", name="Close").click()
    select_all(page).check()
    page.get_by_role("checkbox", name=re.compile("Pricing question")).uncheck()
    page.get_by_role("button", name="Classify Selected").click()
    expect(status_line(page)).to_have_text("Done: 1 of 2 emails succeeded, 1 failed.")
    dialog(page).get_by_role("button", name="Close").click()

    listed = panel.get_by_role("row").filter(has=page.get_by_role("button"))
    expect(listed).to_have_count(2)
    expect(listed.nth(0)).to_contain_text("Classify \u00b7 2 emails")
    expect(listed.nth(0)).to_contain_text("2 of 2 emails done \u00b7 1 failed")
    expect(listed.nth(0)).to_contain_text("Completed")
    expect(listed.nth(1)).to_contain_text("Process \u00b7 1 email")
    expect(rows(page).filter(has_text="Pricing question")).to_contain_text("Drafted")

    panel.get_by_role("button", name="Show results: Process \u00b7 1 email").click()
    expect(dialog(page).get_by_role("heading")).to_have_text("Processing 1 email")
    expect(results(page)).to_have_count(1)
    expect(results(page).first).to_contain_text("\u201cPricing question\u201d")
    expect(results(page).first).to_contain_text(re.compile(r"Drafted|Needs review|Sent"))
    assert ids
