"""Selecting emails: rows, select-all, the count, the toolbar and the limits."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import (
    Account,
    ServerUnderTest,
    checkbox,
    checked_subjects,
    dialog,
    rows,
    select_all,
    selection_count,
    sign_in,
)

pytestmark = pytest.mark.e2e

SUBJECTS = [f"Question about pricing #{n}" for n in range(1, 6)]


def is_indeterminate(page: Page) -> bool:
    value: bool = select_all(page).evaluate("box => box.indeterminate")
    return value


def test_row_and_select_all_selection_drive_the_count_and_toolbar(
    page: Page, account: Account
) -> None:
    account.add(SUBJECTS)
    sign_in(page, account)
    toolbar = page.get_by_role("toolbar", name="Bulk actions")
    expect(toolbar).to_be_hidden()
    expect(page.get_by_text("Select emails to classify or process them in bulk.")).to_be_visible()

    checkbox(page, SUBJECTS[1]).check()
    expect(toolbar).to_be_visible()
    expect(selection_count(page)).to_have_text("1 email selected")
    expect(toolbar.get_by_role("button", name="Classify Selected")).to_be_enabled()
    expect(toolbar.get_by_role("button", name="Process Selected")).to_be_enabled()
    expect(select_all(page)).not_to_be_checked()
    assert is_indeterminate(page)

    # A click anywhere on a row but its subject (which opens it) toggles it, like its checkbox.
    rows(page).nth(3).locator(".col-received").click()
    expect(selection_count(page)).to_have_text("2 emails selected")
    assert checked_subjects(page) == [SUBJECTS[1], SUBJECTS[3]]

    select_all(page).click()  # from indeterminate: select the whole page
    expect(selection_count(page)).to_have_text("5 emails selected")
    expect(select_all(page)).to_be_checked()
    assert not is_indeterminate(page)
    assert checked_subjects(page) == SUBJECTS

    checkbox(page, SUBJECTS[0]).uncheck()
    expect(selection_count(page)).to_have_text("4 emails selected")
    assert is_indeterminate(page)

    select_all(page).click()
    select_all(page).click()  # all, then none
    expect(selection_count(page)).to_have_text("0 emails selected")
    expect(toolbar).to_be_hidden()
    assert checked_subjects(page) == []

    checkbox(page, SUBJECTS[2]).check()
    toolbar.get_by_role("button", name="Clear selection").click()
    expect(toolbar).to_be_hidden()


def test_shift_click_selects_a_range(page: Page, account: Account) -> None:
    account.add(SUBJECTS)
    sign_in(page, account)
    checkbox(page, SUBJECTS[0]).click()
    checkbox(page, SUBJECTS[3]).click(modifiers=["Shift"])
    expect(selection_count(page)).to_have_text("4 emails selected")
    assert checked_subjects(page) == SUBJECTS[:4]


@pytest.fixture(scope="module")
def big_inbox(server: ServerUnderTest) -> Account:
    """101 emails: two full pages of 50 and one more."""
    account = server.register("big-inbox@example.com")
    account.add([f"Bulk email {n:03d}" for n in range(1, 102)])
    return account


def test_limits_warn_from_90_percent_and_disable_above(page: Page, big_inbox: Account) -> None:
    sign_in(page, big_inbox)
    classify = page.get_by_role("button", name="Classify Selected")
    process = page.get_by_role("button", name="Process Selected")
    classify_reason = page.locator("#classify-reason")
    process_reason = page.locator("#process-reason")
    expect(rows(page)).to_have_count(50)

    select_all(page).check()
    for n in range(1, 6):
        checkbox(page, f"Bulk email {n:03d}").uncheck()
    expect(selection_count(page)).to_have_text("45 emails selected")
    expect(process_reason).to_have_text("Nearing the process limit: 45 of 50 emails selected.")
    expect(process).to_be_enabled()
    checkbox(page, "Bulk email 006").uncheck()  # 44 = 88 %: no warning
    expect(selection_count(page)).to_have_text("44 emails selected")
    expect(process_reason).to_be_hidden()
    expect(classify_reason).to_be_hidden()

    select_all(page).check()
    expect(selection_count(page)).to_have_text("50 emails selected")
    expect(process_reason).to_have_text("Nearing the process limit: 50 of 50 emails selected.")
    expect(process).to_be_enabled()

    # Selection persists across pages: the 51st comes from page 2.
    page.get_by_role("button", name="Next").click()
    expect(rows(page).first.locator(".subject")).to_have_text("Bulk email 051")
    checkbox(page, "Bulk email 051").check()
    expect(selection_count(page)).to_have_text("51 emails selected")
    expect(page.locator("#selection-elsewhere")).to_have_text("50 on other pages")
    expect(process).to_be_disabled()
    expect(process_reason).to_have_text(
        "Process Selected is off: a process job takes at most 50 emails. Deselect 1 email."
    )
    expect(process).to_have_accessible_description(process_reason.inner_text())
    expect(classify).to_be_enabled()
    expect(classify_reason).to_be_hidden()

    with page.expect_request("**/api/v1/**") as nothing_sent:  # the sentinel below, not a job
        process.click(force=True)
        page.evaluate("() => fetch('/api/v1/emails?limit=1')")
    assert "batch" not in nothing_sent.value.url
    expect(dialog(page)).to_be_hidden()

    select_all(page).check()  # 100: classify warns, still allowed
    expect(selection_count(page)).to_have_text("100 emails selected")
    expect(classify_reason).to_have_text("Nearing the classify limit: 100 of 100 emails selected.")
    expect(classify).to_be_enabled()

    page.get_by_role("button", name="Next").click()
    expect(rows(page)).to_have_count(1)
    checkbox(page, "Bulk email 101").check()
    expect(selection_count(page)).to_have_text("101 emails selected")
    expect(classify).to_be_disabled()
    expect(classify_reason).to_have_text(
        "Classify Selected is off: a classify job takes at most 100 emails. Deselect 1 email."
    )
    expect(process_reason).to_contain_text("Deselect 51 emails.")

    page.get_by_role("button", name="Previous").click()
    page.get_by_role("button", name="Previous").click()
    expect(rows(page)).to_have_count(50)
    expect(select_all(page)).to_be_checked()  # still selected after paging back
    checkbox(page, "Bulk email 001").uncheck()
    expect(selection_count(page)).to_have_text("100 emails selected")
    expect(classify).to_be_enabled()


def test_keyboard_only_selects_a_row_and_runs_the_modal(page: Page, account: Account) -> None:
    account.add(["Keyboard question [slow]", "Another question"])
    sign_in(page, account)
    expect(page.get_by_role("heading", name="Inbox")).to_be_focused()

    for _ in range(12):  # past the filters and the header checkbox to the first row
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.classList.contains('row-check')"):
            break
    first = checkbox(page, "Keyboard question [slow]")
    expect(first).to_be_focused()
    page.keyboard.press("Space")
    expect(first).to_be_checked()
    expect(selection_count(page)).to_have_text("1 email selected")

    classify = page.get_by_role("button", name="Classify Selected")
    for _ in range(6):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("() => document.activeElement.id === 'classify-selected'"):
            break
    expect(classify).to_be_focused()
    page.keyboard.press("Enter")

    modal = dialog(page)
    expect(modal).to_be_visible()
    expect(modal).to_have_attribute("aria-modal", "true")
    expect(modal.get_by_role("heading", name="Classifying 1 email")).to_be_focused()
    expect(modal.get_by_role("button", name="Close")).to_be_disabled()

    # Focus stays inside the modal, and Escape does not close a running job.
    for _ in range(4):
        page.keyboard.press("Tab")
        assert page.evaluate(
            "() => document.getElementById('progress-modal').contains(document.activeElement)"
        )
    page.keyboard.press("Escape")
    expect(modal).to_be_visible()
    expect(modal.get_by_role("status")).to_contain_text("The job is still running")

    expect(modal.get_by_role("button", name="Close")).to_be_focused()  # once it finishes
    page.keyboard.press("Escape")
    expect(modal).to_be_hidden()
    expect(classify).to_be_focused()

    page.keyboard.press("Enter")  # again, closing with Enter on Close this time
    expect(modal).to_be_visible()
    expect(modal.get_by_role("button", name="Close")).to_be_focused()
    page.keyboard.press("Enter")
    expect(modal).to_be_hidden()
