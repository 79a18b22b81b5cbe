"""The progress modal: a run seen to advance, failures and Retry Failed, cancel,
and following a job without a request too many."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.support import (
    Account,
    RequestLog,
    checked_subjects,
    dialog,
    progress_seen,
    progressbar,
    record_progress,
    rows,
    select_all,
    selection_count,
    settle_requests,
    sign_in,
)

pytestmark = pytest.mark.e2e

FIVE_MINUTES_MS = 5 * 60 * 1000


def no_stream(page: Page) -> None:
    """Answer the event stream as a server without it would: the UI must poll."""

    def not_found(route: Route) -> None:
        route.fulfill(status=404, json={"status_code": 404, "detail": "Not Found"})

    page.route(re.compile(r"/status/[^/]+/stream$"), not_found)


def start_classify(page: Page) -> None:
    select_all(page).check()
    page.get_by_role("button", name="Classify Selected").click()
    expect(dialog(page)).to_be_visible()


def test_a_ten_email_classify_run_advances_to_completion(page: Page, account: Account) -> None:
    subjects = [f"Question about pricing #{n}" for n in range(1, 11)]
    account.add(subjects)
    sign_in(page, account)
    expect(rows(page).get_by_text("Not classified")).to_have_count(10)
    record_progress(page)

    start_classify(page)
    modal = dialog(page)
    expect(modal.get_by_role("heading")).to_have_text("Classifying 10 emails")
    expect(modal.get_by_role("button", name="Close")).to_be_disabled()
    expect(modal.get_by_role("button", name="Cancel job")).to_be_enabled()
    expect(modal.locator("#modal-status")).to_have_text(
        re.compile(r"Processing [1-9] of 10 emails\.\.\.")
    )
    expect(progressbar(page)).to_have_attribute("aria-valuemin", "0")
    expect(progressbar(page)).to_have_attribute("aria-valuemax", "100")
    expect(modal.get_by_role("button", name="Close")).to_be_disabled()

    expect(modal.locator("#modal-status")).to_have_text("Done: all 10 emails succeeded.")
    expect(progressbar(page)).to_have_attribute("aria-valuenow", "100")
    expect(modal.locator("#progress-percent")).to_have_text("100%")
    expect(modal.locator("#count-succeeded")).to_have_text("10")
    expect(modal.locator("#count-failed")).to_have_text("0")
    expect(modal.get_by_role("button", name="Cancel job")).to_be_hidden()
    expect(modal.get_by_role("button", name="Retry Failed")).to_be_hidden()
    expect(modal.get_by_role("button", name="Close")).to_be_enabled()

    seen = progress_seen(page)
    assert seen == sorted(seen), seen  # never goes back
    assert any(0 < value < 100 for value in seen), seen  # seen mid-way, not only at the end
    assert seen[-1] == 100

    # The inbox was refreshed when the job ended: every email now has an intent.
    expect(rows(page).get_by_text("Not classified")).to_have_count(0)
    modal.get_by_role("button", name="Close").click()
    expect(modal).to_be_hidden()


def test_failures_are_listed_and_retry_failed_reselects_exactly_them(
    page: Page, account: Account
) -> None:
    account.add(
        [
            "Invoice question",
            "Upload failed again [fail]",
            "Meeting next week?",
            "Where is my refund? [fail]",
            "Thanks for the demo",
            "Pricing for 40 seats",
        ]
    )
    sign_in(page, account)
    start_classify(page)
    modal = dialog(page)
    expect(modal.locator("#modal-status")).to_have_text("Done: 4 of 6 emails succeeded, 2 failed.")
    expect(modal.locator("#count-succeeded")).to_have_text("4")
    expect(modal.locator("#count-failed")).to_have_text("2")

    errors = modal.locator("#error-list li")
    expect(errors.first).to_be_hidden()  # collapsed until asked for
    modal.get_by_text("2 errors: show which emails failed").click()
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("\u201cUpload failed again [fail]\u201d")
    expect(errors.nth(0)).to_contain_text("Classification failed: API rate limit exceeded")
    expect(errors.nth(1)).to_contain_text("\u201cWhere is my refund? [fail]\u201d")

    with page.expect_request(re.compile(r"/batch/[^/]+/retry$")):
        modal.get_by_role("button", name="Retry Failed").click()
    expect(modal.get_by_role("heading")).to_have_text("Retrying 2 failed emails")
    expect(selection_count(page)).to_have_text("2 emails selected")
    assert checked_subjects(page) == ["Upload failed again [fail]", "Where is my refund? [fail]"]

    # The provider still fails them: the retry fails as a whole, and can be retried again.
    expect(modal.locator("#modal-status")).to_have_text(
        "Failed: none of the 2 emails went through."
    )
    expect(modal.get_by_role("button", name="Retry Failed")).to_be_visible()
    modal.get_by_role("button", name="Close").click()
    expect(modal).to_be_hidden()
    assert checked_subjects(page) == ["Upload failed again [fail]", "Where is my refund? [fail]"]


def test_cancel_stops_a_running_job(page: Page, account: Account) -> None:
    account.add([f"Slow question #{n} [slow]" for n in range(1, 9)])
    sign_in(page, account)
    start_classify(page)
    modal = dialog(page)
    expect(modal.locator("#modal-status")).to_have_text(re.compile(r"^Processing \d of 8 emails"))
    expect(modal.get_by_role("button", name="Close")).to_be_disabled()

    with page.expect_request(re.compile(r"/batch/[^/]+/cancel$")):
        modal.get_by_role("button", name="Cancel job").click()
    expect(modal.locator("#modal-status")).to_have_text(
        re.compile(r"^Cancelled: [0-2] of 8 emails done, [6-8] not started\.$")
    )
    expect(modal.locator("#cancelled-wrap")).to_be_visible()
    expect(modal.get_by_role("button", name="Cancel job")).to_be_hidden()
    expect(modal.get_by_role("button", name="Close")).to_be_enabled()
    expect(progressbar(page)).to_have_attribute("data-state", "cancelled")
    modal.get_by_role("button", name="Close").click()
    expect(rows(page).get_by_text("Not classified")).not_to_have_count(0)


@pytest.mark.parametrize("transport", ["stream", "polling"])
def test_no_status_request_once_the_job_has_finished(
    page: Page, account: Account, transport: str
) -> None:
    page.clock.install()
    if transport == "polling":
        no_stream(page)
    log = RequestLog(page)
    account.add(["First question", "Second question", "Third question [slow]"])
    sign_in(page, account)
    start_classify(page)
    expect(dialog(page).locator("#modal-status")).to_have_text("Done: all 3 emails succeeded.")
    settle_requests(page)
    made = len(log)
    if transport == "stream":
        assert [url.rsplit("/", 1)[-1] for url in log.urls] == ["stream"], log.urls
    else:
        assert made >= 3, log.urls  # the stream attempt, then polls every 2 s

    page.clock.run_for(FIVE_MINUTES_MS + 60_000)  # every timer for six minutes fires
    settle_requests(page)
    assert len(log) == made, log.urls[made:]


def test_polling_pauses_while_the_page_is_hidden(page: Page, account: Account) -> None:
    page.clock.install()
    no_stream(page)
    log = RequestLog(page)
    account.add([f"Hidden-tab question #{n} [slow]" for n in range(1, 3)])
    sign_in(page, account)
    start_classify(page)
    expect(dialog(page).locator("#modal-status")).to_have_text(re.compile("^Processing"))

    set_visibility(page, "hidden")
    settle_requests(page)
    made = len(log)
    page.clock.run_for(30_000)
    settle_requests(page)
    assert len(log) == made, log.urls[made:]

    with page.expect_request(re.compile(r"/batch/status/")):
        set_visibility(page, "visible")
    expect(dialog(page).locator("#modal-status")).to_have_text("Done: all 2 emails succeeded.")


def test_polling_gives_up_after_five_minutes(page: Page, account: Account) -> None:
    page.clock.install()
    no_stream(page)
    log = RequestLog(page)
    account.add([f"Long job question #{n} [slow]" for n in range(1, 3)])
    sign_in(page, account)
    start_classify(page)
    modal = dialog(page)
    expect(modal.locator("#modal-status")).to_have_text(re.compile("^Processing"))

    page.clock.run_for(FIVE_MINUTES_MS + 2_000)
    expect(modal.get_by_role("status")).to_contain_text("stopped checking")
    expect(modal.get_by_role("button", name="Close")).to_be_enabled()
    settle_requests(page)
    made = len(log)
    page.clock.run_for(60_000)
    settle_requests(page)
    assert len(log) == made, log.urls[made:]

    modal.get_by_role("button", name="Check again").click()
    expect(modal.locator("#modal-status")).to_have_text("Done: all 2 emails succeeded.")


def set_visibility(page: Page, state: str) -> None:
    page.evaluate(
        """state => {
            const define = (name, get) =>
                Object.defineProperty(document, name, {configurable: true, get});
            define('visibilityState', () => state);
            define('hidden', () => state === 'hidden');
            document.dispatchEvent(new Event('visibilitychange'));
        }""",
        state,
    )
