"""The email detail panel and the review queue: read, edit, approve, reject, send."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Dialog, Locator, Page, Route, expect

from tests.browser.support import (
    Account,
    NewEmail,
    ServerUnderTest,
    dialog,
    row,
    select_all,
    sign_in,
    wait_finished,
)

pytestmark = pytest.mark.e2e

INQUIRIES = [
    "Pricing for 40 seats",
    "Do you offer an annual plan?",
    "Question about invoices",
    "Is there a student discount?",
    "Can I export my data?",
]
COMPLAINTS = [
    NewEmail(
        "Damaged chair, I want a refund",
        "The chair arrived broken. This is unacceptable, I want a refund.",
        minutes_ago=30,
    ),
    NewEmail(
        "Late delivery [fail]",
        "My order is three weeks late and nobody answers.",
        minutes_ago=20,
    ),
    NewEmail(
        "Invoice charged twice",
        "You charged my card twice for the same invoice. Please fix this and refund me.",
        minutes_ago=10,
    ),
]


def panel(page: Page) -> Locator:
    return page.locator("#detail")


def email_of(account: Account, subject: str) -> dict[str, object]:
    response = account.client.get(f"/api/v1/emails/{account.ids[subject]}", headers=account.headers)
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


def process_all(page: Page) -> None:
    select_all(page).check()
    page.get_by_role("button", name="Process Selected").click()
    modal = dialog(page)
    expect(modal.get_by_role("button", name="Close")).to_be_enabled(timeout=20_000)
    modal.get_by_role("button", name="Close").click()
    expect(modal).to_be_hidden()


def test_open_a_drafted_email_edit_approve_and_send(
    page: Page, account: Account, server: ServerUnderTest
) -> None:
    account.add(INQUIRIES)
    sign_in(page, account)
    process_all(page)
    subject = INQUIRIES[2]
    expect(row(page, subject)).to_contain_text("Drafted")

    opener = row(page, subject).get_by_role("button", name=subject)
    opener.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name=subject)).to_be_visible()
    detail = panel(page)
    expect(detail.get_by_role("heading", name=subject)).to_be_focused()
    expect(detail).to_contain_text("Customer <customer@example.com>")
    expect(detail).to_contain_text("Email 3 of 5 on this page")
    expect(detail.locator("#detail-received")).to_have_attribute(
        "datetime", re.compile("^2026-03-02T09:2")
    )
    expect(detail.locator("#detail-body")).to_have_text(
        "Hello, could you tell me more about your plans and pricing? Thanks."
    )
    intent = re.compile(r"^Inquiry · \d+% confidence$")
    expect(detail.locator("#detail-intent")).to_have_text(intent)
    expect(detail.locator("#detail-status")).to_have_text("Drafted")
    expect(detail.get_by_role("button", name="Send")).to_be_disabled()

    # j and k walk the page without closing; typed into the reply they are text.
    page.keyboard.press("j")
    expect(detail.get_by_role("heading", name=INQUIRIES[3])).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(detail.get_by_role("heading", name=subject)).to_be_focused()
    reply = detail.get_by_label("Reply draft")
    expect(reply).not_to_have_value("")
    edited = f"Thanks for asking: invoices are under Settings. Ref {uuid.uuid4().hex[:8]}"
    reply.fill(edited)
    reply.press("j")
    expect(detail.get_by_role("heading", name=subject)).to_be_visible()
    expect(reply).to_have_value(edited + "j")
    reply.press("Backspace")

    detail.get_by_role("button", name="Approve").click()
    expect(detail.locator("#detail-status")).to_have_text("Approved")
    expect(detail.get_by_role("button", name="Send")).to_be_focused()
    expect(reply).to_have_attribute("readonly", "")
    expect(row(page, subject)).to_contain_text("Approved")

    detail.get_by_role("button", name="Send").click()
    expect(detail.locator("#detail-status")).to_have_text("Sent")
    expect(row(page, subject)).to_contain_text("Sent")
    assert edited in server.outbox()
    assert email_of(account, subject)["draft"] == edited

    page.keyboard.press("Escape")
    expect(detail).to_be_hidden()
    expect(row(page, subject).get_by_role("button", name=subject)).to_be_focused()


def test_a_conflict_shows_the_apis_message_and_the_state_now(page: Page, account: Account) -> None:
    account.add(INQUIRIES[:1])
    sign_in(page, account)
    process_all(page)
    subject = INQUIRIES[0]
    row(page, subject).get_by_role("button", name=subject).click()
    detail = page.get_by_role("dialog", name=subject)
    expect(detail.locator("#detail-status")).to_have_text("Drafted")

    # Rejected elsewhere (another tab, the API) while the panel shows it.
    rejected = account.client.post(
        f"/api/v1/emails/{account.ids[subject]}/reject", headers=account.headers
    )
    assert rejected.status_code == 200
    detail.get_by_role("button", name="Approve").click()
    expect(detail.get_by_role("alert")).to_have_text("Cannot approve an email that is rejected")
    expect(detail.locator("#detail-status")).to_have_text("Rejected")
    expect(detail.get_by_role("button", name="Approve")).to_be_disabled()

    page.keyboard.press("s")  # a shortcut for an action the state does not allow says why
    expect(detail.get_by_role("alert")).to_have_text(
        "Only an approved reply (or one that failed to send) can be sent; this email is rejected."
    )


def test_the_review_queue_walks_oldest_first_with_the_keyboard_alone(
    page: Page, account: Account
) -> None:
    ids = account.add([*COMPLAINTS, NewEmail("Pricing for 40 seats", minutes_ago=40)])
    wait_finished(account, account.submit("process", ids)["job_id"])
    sign_in(page, account)
    for email in COMPLAINTS:
        expect(row(page, email.subject)).to_contain_text("Needs review")
    expect(page.get_by_role("heading", name="Inbox")).to_be_focused()

    queue = page.get_by_role("button", name="Review queue")
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id === 'open-queue'"):
            break
    expect(queue).to_be_focused()
    page.keyboard.press("Enter")

    # Oldest first: the drafted inquiry (40 min ago), then the three complaints.
    detail = panel(page)
    expect(detail.get_by_role("heading", name="Pricing for 40 seats")).to_be_focused()
    expect(detail.locator("#detail-position")).to_have_text("Review queue: 1 of 4, oldest first")
    page.keyboard.press("j")  # skip it

    first = COMPLAINTS[0].subject
    expect(detail.get_by_role("heading", name=first)).to_be_focused()
    expect(detail.locator("#detail-position")).to_have_text("Review queue: 2 of 4, oldest first")
    page.keyboard.press("e")
    reply = detail.get_by_label("Reply draft")
    expect(reply).to_be_focused()
    page.keyboard.press("Control+End")
    page.keyboard.type(" A replacement ships today.")
    page.keyboard.press("Control+Enter")  # approve, and on to the next

    second = COMPLAINTS[1].subject
    expect(detail.get_by_role("heading", name=second)).to_be_focused()
    expect(detail.get_by_text("The last job failed on this email")).to_be_visible()
    expect(detail.locator("#detail-failure-text")).to_contain_text("API rate limit exceeded")
    page.keyboard.press("r")

    third = COMPLAINTS[2].subject
    expect(detail.get_by_role("heading", name=third)).to_be_focused()
    page.keyboard.press("ArrowRight")  # past the end: nothing else is waiting
    expect(detail.get_by_role("heading", name="Review queue")).to_be_focused()
    expect(detail).to_contain_text("Done: you went through 2 emails.")
    page.keyboard.press("k")
    expect(detail.get_by_role("heading", name=third)).to_be_focused()
    page.keyboard.press("Escape")
    expect(detail).to_be_hidden()
    expect(queue).to_be_focused()

    approved = email_of(account, first)
    assert approved["status"] == "approved"
    assert str(approved["draft"]).endswith(" A replacement ships today.")
    assert email_of(account, second)["status"] == "rejected"
    assert email_of(account, third)["status"] == "needs_review"
    expect(row(page, first)).to_contain_text("Approved")
    expect(row(page, second)).to_contain_text("Rejected")


#: The policy as it was before the panel: the panel needs nothing more.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
MARKUP = '<script>window.pwned = 1</script><img src="x" onerror="window.pwned = 2"><b>bold</b>'


def test_markup_in_an_email_and_its_thread_renders_as_text(
    page: Page, account: Account, server: ServerUnderTest
) -> None:
    dialogs: list[str] = []

    def on_dialog(prompt: Dialog) -> None:
        dialogs.append(prompt.message)
        prompt.dismiss()

    page.on("dialog", on_dialog)
    account.add(
        [
            NewEmail("Re: markup", f"Latest reply {MARKUP}", thread_id="t-markup"),
            NewEmail(f"Markup {MARKUP}", MARKUP, sender=f"{MARKUP} <x@example.com>",
                     thread_id="t-markup"),
        ]
    )  # fmt: skip
    sign_in(page, account)

    # The progress modal's links open an email with this event; so can anything.
    page.evaluate(
        "id => document.dispatchEvent(new CustomEvent('rf:open-email', {detail: {id}}))",
        account.ids["Re: markup"],
    )
    detail = panel(page)
    expect(detail.get_by_role("heading", name="Re: markup")).to_be_focused()
    expect(detail.locator("#detail-body")).to_have_text(f"Latest reply {MARKUP}")
    thread = detail.get_by_role("region", name="Earlier in this thread (1 email)")
    thread.get_by_text(f"Markup {MARKUP}").click()
    expect(thread.locator(".thread-body")).to_have_text(MARKUP)
    expect(thread.locator(".thread-sender")).to_have_text(f"{MARKUP} <x@example.com>")

    page.keyboard.press("j")  # next on the page: the older email itself
    expect(detail.get_by_role("heading", name=f"Markup {MARKUP}")).to_be_focused()
    expect(detail.locator("#detail-body")).to_have_text(MARKUP)
    expect(detail.locator("#detail-sender")).to_have_text(f"{MARKUP} <x@example.com>")
    expect(detail.get_by_role("region", name=re.compile("Earlier in this thread"))).to_be_hidden()

    expect(page.locator("#detail script, #detail img, #detail b")).to_have_count(0)
    assert page.evaluate("() => window.pwned") is None
    assert dialogs == []
    for path in ("/", "/assets/detail.js"):
        assert server.client.get(path).headers["content-security-policy"] == CSP


def test_a_send_answered_sending_shows_sending_until_the_outbox_delivers(
    page: Page, account: Account, server: ServerUnderTest
) -> None:
    """A transactional outbox answers `sending` and delivers a moment later."""
    subject = INQUIRIES[1]
    ids = account.add([subject])
    wait_finished(account, account.submit("process", ids)["job_id"])
    approved = account.client.post(
        f"/api/v1/emails/{ids[0]}/approve", json={}, headers=account.headers
    )
    assert approved.status_code == 200
    reads_while_sending = [2]  # the next two reads of the email still say `sending`

    def sending(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        if route.request.method == "POST" or reads_while_sending[0] > 0:
            if route.request.method == "GET":
                reads_while_sending[0] -= 1
            body["status"] = "sending"
        route.fulfill(response=response, json=body)

    page.route(f"**/api/v1/emails/{ids[0]}/send", sending)
    sign_in(page, account)
    row(page, subject).get_by_role("button", name=subject).click()
    detail = panel(page)
    expect(detail.locator("#detail-status")).to_have_text("Approved")
    page.route(f"**/api/v1/emails/{ids[0]}", sending)
    page.keyboard.press("s")
    expect(detail.locator("#detail-status")).to_have_text("Sending")
    expect(detail.get_by_role("button", name="Sending…")).to_be_disabled()
    expect(detail.locator("#detail-status")).to_have_text("Sent")
    expect(detail.get_by_role("button", name="Send")).to_be_disabled()
    expect(row(page, subject)).to_contain_text("Sent")
    assert reads_while_sending == [0]
    assert approved.json()["draft"] in server.outbox()


def test_the_queue_merge_never_skips_an_older_email_past_a_full_page(page: Page) -> None:
    """needs_review has more than a page: drafted emails newer than that page's
    last one wait for the next fetch, so nothing older is ever left behind."""

    def email(id_: str, minute: int, status: str) -> dict[str, object]:
        return {"id": id_, "received_at": f"2026-03-02T09:{minute:02d}:00+00:00", "status": status}

    pages = {
        "needs_review": {
            "items": [email("n1", 1, "needs_review"), email("n2", 3, "needs_review")],
            "next_cursor": "more",
        },
        "drafted": {
            "items": [email("d1", 2, "drafted"), email("d2", 4, "drafted")],
            "next_cursor": None,
        },
    }
    asked: list[str] = []

    def answer(route: Route) -> None:
        asked.append(route.request.url)
        status = re.search(r"status=(\w+)", route.request.url)
        assert status is not None
        route.fulfill(json=pages[status.group(1)])

    page.goto("/")
    page.route("**/api/v1/emails?*", answer)
    ids = page.evaluate(
        """async () => {
            const { loadQueue } = await import('/assets/review.js');
            return (await loadQueue()).map(e => e.id);
        }"""
    )
    assert ids == ["n1", "d1", "n2"]
    assert all("order=oldest" in url for url in asked) and len(asked) == 2


def test_from_the_progress_modal_to_a_sent_reply(
    page: Page, account: Account, server: ServerUnderTest
) -> None:
    """Issue 12's path end to end: process 5, open a drafted one from the modal's
    results, edit its draft, approve, send; the mailer gets the edited text."""
    account.add(INQUIRIES)
    sign_in(page, account)
    select_all(page).check()
    page.get_by_role("button", name="Process Selected").click()
    modal = dialog(page)
    expect(modal.get_by_role("button", name="Close")).to_be_enabled(timeout=20_000)
    subject = INQUIRIES[1]
    result = (
        modal.get_by_role("list", name="Results").get_by_role("listitem").filter(has_text=subject)
    )
    expect(result).to_contain_text("Drafted")
    result.get_by_role("button", name=f"\u201c{subject}\u201d").click()

    detail = page.get_by_role("dialog", name=subject)
    expect(detail).to_be_visible()
    expect(detail.get_by_role("heading", name=subject)).to_be_focused()
    edited = f"Yes: annual plans save two months. Ref {uuid.uuid4().hex[:8]}"
    detail.get_by_label("Reply draft").fill(edited)
    detail.get_by_role("button", name="Approve").click()
    expect(detail.locator("#detail-status")).to_have_text("Approved")
    detail.get_by_role("button", name="Send").click()
    expect(detail.locator("#detail-status")).to_have_text("Sent")
    assert edited in server.outbox()

    page.keyboard.press("Escape")
    expect(detail).to_be_hidden()
    modal.get_by_role("button", name="Close").click()
    expect(modal).to_be_hidden()
    expect(row(page, subject)).to_contain_text("Sent")
