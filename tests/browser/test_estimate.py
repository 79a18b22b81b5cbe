"""The toolbar's estimate for the selection, and the budget a submission carries."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Request, expect

from tests.browser.support import Account, checkbox, dialog, select_all, sign_in

pytestmark = pytest.mark.e2e

SUBJECTS = [f"Invoice question #{n}" for n in range(1, 5)]
ESTIMATE_PATH = re.compile(r"/api/v1/emails/batch/(classify|process)/estimate$")


def test_the_estimate_follows_the_selection_once_it_settles(page: Page, account: Account) -> None:
    account.add(SUBJECTS)
    estimates: list[Request] = []
    page.on("request", lambda r: estimates.append(r) if ESTIMATE_PATH.search(r.url) else None)
    sign_in(page, account)
    panel = page.locator("#estimate")
    expect(panel).to_be_hidden()

    checkbox(page, SUBJECTS[0]).check()
    checkbox(page, SUBJECTS[1]).check()
    checkbox(page, SUBJECTS[2]).check()

    expect(page.locator("#estimate-title")).to_have_text("Estimate for 3 emails (at most)")
    # The offline provider calls no model and costs nothing.
    expect(page.locator("#estimate-classify")).to_have_text(
        "Classify: no model calls, $0.00, under 1 s"
    )
    expect(page.locator("#estimate-process")).to_have_text(
        "Process: no model calls, $0.00, under 1 s"
    )
    bodies = [r.post_data_json for r in estimates]
    assert bodies[-1]["email_ids"] == [account.ids[s] for s in SUBJECTS[:3]]
    # Three quick changes, one estimate per action for the settled selection (at
    # most one more each if the machine was slow between two clicks).
    assert len(estimates) <= 4

    select_all(page).click()
    select_all(page).click()  # all, then none
    expect(panel).to_be_hidden()


def test_an_answer_for_an_older_selection_is_dropped(page: Page, account: Account) -> None:
    sign_in(page, account)
    shown = page.evaluate(
        """async () => {
            const { EstimatePanel } = await import('/assets/toolbar.js');
            const pending = [];
            const panel = new EstimatePanel(
                (kind, ids) => new Promise(resolve => pending.push({ kind, ids, resolve })), 0);
            const free = { llm_calls: 0, prompt_tokens: 0, completion_tokens: 0, seconds: 0 };
            const tick = () => new Promise(r => setTimeout(r, 20));
            panel.update(['a']);
            await tick();
            panel.update(['a', 'b']);
            await tick();
            // The newer selection's answers land first, the older ones after.
            for (const p of pending.filter(p => p.ids.length === 2))
                p.resolve({ ...free, emails: 2, llm_calls: 2, prompt_tokens: 900,
                            completion_tokens: 600, cost_usd: 0.00051, seconds: 3.2 });
            await tick();
            for (const p of pending.filter(p => p.ids.length === 1))
                p.resolve({ ...free, emails: 1, cost_usd: 0 });
            await tick();
            return [document.getElementById('estimate-title').textContent,
                    document.getElementById('estimate-classify').textContent];
        }"""
    )
    assert shown == [
        "Estimate for 2 emails (at most)",
        "Classify: 2 model calls, 900 + \u2264600 tokens, \u2264 $0.0005, ~3 s",
    ]


def test_a_budget_is_sent_with_the_submission(page: Page, account: Account) -> None:
    account.add(SUBJECTS[:2])
    sign_in(page, account)
    checkbox(page, SUBJECTS[0]).check()
    checkbox(page, SUBJECTS[1]).check()
    budget = page.get_by_label("Budget")
    classify = page.get_by_role("button", name="Classify Selected")

    budget.fill("0")
    classify.click()
    assert budget.evaluate("input => input.validationMessage") != ""
    expect(dialog(page)).to_be_hidden()  # nothing was submitted

    budget.fill("0.25")
    with page.expect_request(re.compile(r"/api/v1/emails/batch/classify$")) as submitted:
        classify.click()
    assert submitted.value.post_data_json == {
        "email_ids": [account.ids[s] for s in SUBJECTS[:2]],
        "max_cost_usd": 0.25,
    }
    expect(page.locator("#modal-status")).to_have_text("Done: all 2 emails succeeded.")
