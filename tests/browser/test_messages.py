"""What the inbox says when a submission is refused (404, 409, 429)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.support import Account, dialog, row, select_all, selection_count, sign_in

pytestmark = pytest.mark.e2e


def test_a_409_names_the_emails_already_processing(page: Page, account: Account) -> None:
    busy = [f"Busy question #{n} [slow]" for n in range(1, 4)]
    ids = account.add([*busy, "Free question"])
    account.submit("process", ids[:3])  # another job holds the three busy ones
    sign_in(page, account)
    expect(row(page, busy[0])).to_contain_text("Processing")

    select_all(page).check()
    page.get_by_role("button", name="Process Selected").click()
    alert = page.locator("#notice")
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_contain_text("These 3 emails are already being processed by another job")
    expect(alert).to_contain_text("Wait for that job to finish, or deselect them")
    for subject in busy:
        expect(alert.get_by_role("listitem").filter(has_text=subject)).to_have_count(1)
    expect(dialog(page)).to_be_hidden()

    alert.get_by_role("button", name="Deselect them").click()
    expect(selection_count(page)).to_have_text("1 email selected")
    expect(alert).to_be_empty()
    page.get_by_role("button", name="Process Selected").click()
    expect(dialog(page).get_by_role("heading")).to_have_text("Processing 1 email")
    expect(dialog(page).locator("#modal-status")).to_have_text("Done: all 1 email succeeded.")


def answer(page: Page, status: int, body: dict[str, object], headers: dict[str, str]) -> None:
    def refuse(route: Route) -> None:
        route.fulfill(status=status, json=body, headers=headers)

    page.route(re.compile(r"/api/v1/emails/batch/classify$"), refuse)


def test_a_404_names_the_missing_emails(page: Page, account: Account) -> None:
    ids = account.add(["Still here", "Deleted meanwhile"])
    sign_in(page, account)
    answer(
        page,
        404,
        {
            "status_code": 404,
            "detail": "Some emails were not found",
            "extra": {"email_ids": [ids[1]]},
        },
        {},
    )
    select_all(page).check()
    page.get_by_role("button", name="Classify Selected").click()
    alert = page.locator("#notice")
    expect(alert).to_contain_text("1 selected email no longer exists")
    expect(alert.get_by_role("listitem")).to_have_text("\u201cDeleted meanwhile\u201d")
    alert.get_by_role("button", name="Deselect them").click()
    expect(selection_count(page)).to_have_text("1 email selected")


def test_a_429_says_when_to_try_again(page: Page, account: Account) -> None:
    account.add(["A question"])
    sign_in(page, account)
    detail = "You already have 10 unfinished batch jobs; wait for one to finish"
    answer(page, 429, {"status_code": 429, "detail": detail}, {"Retry-After": "30"})
    select_all(page).check()
    page.get_by_role("button", name="Classify Selected").click()
    alert = page.locator("#notice")
    expect(alert).to_contain_text("Too many batch jobs at once")
    expect(alert).to_contain_text(f"{detail} Try again in 30 seconds.")
    alert.get_by_role("button", name="Dismiss message").click()
    expect(alert).to_be_empty()
    expect(selection_count(page)).to_have_text("1 email selected")  # nothing lost
