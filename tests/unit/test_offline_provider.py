"""The offline provider: rule-based classifier, template drafter, their pipeline,
and the demo inbox they are measured on."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reasonflow.adapters.llm.offline import RuleBasedClassifier, TemplateDrafter, rules_pipeline
from reasonflow.adapters.llm.templates import sender_name, topic_of
from reasonflow.domain.model import EmailStatus, Intent, Usage
from reasonflow.domain.pipeline import ReviewPolicy
from reasonflow.entrypoints.demo_data import DEMO_EMAILS, DEMO_RECIPIENT, demo_inbox
from tests.fakes_llm import NOW, ThreadContext, make_email

classifier = RuleBasedClassifier()
drafter = TemplateDrafter()

CLEAR = {
    Intent.INQUIRY: (
        "Question about pricing for 50 seats",
        "Hi, could you tell me how much the Business plan costs for 50 seats? "
        "Do you offer a discount for annual billing?",
        "Ravi Shah <ravi.shah@fieldnote.io>",
    ),
    Intent.MEETING_REQUEST: (
        "Can we schedule a call next week?",
        "Would you be free for a 30-minute video call on Tuesday or Wednesday afternoon? "
        "Send me a calendar invite for whatever time works for you.",
        "Inés Morales <ines.morales@cordillera.cl>",
    ),
    Intent.COMPLAINT: (
        "Charged twice - I want a refund",
        "I was charged twice this month and your support has ignored me for a week. "
        "This is unacceptable and I am extremely disappointed.",
        "Paul Grant <paul.grant@gmail.com>",
    ),
    Intent.FOLLOW_UP: (
        "Following up: any update on the contract?",
        "Just following up on my previous email from last week. Any update on the signed contract?",
        "Mia Hoang <mia.hoang@brightside.vn>",
    ),
    Intent.SPAM: (
        "CONGRATULATIONS WINNER!!! Claim your $1,000,000 prize",
        "Dear friend, you have won our international lottery. Click here and send your "
        "bank details to claim your prize. Act now!",
        "Prize Desk <claims@mega-lotto-prize.xyz>",
    ),
    Intent.OTHER: (
        "Automatic reply: Out of office",
        "I am out of the office until Monday with no access to email. "
        "This is an automated message.",
        "Jon Berg <jon.berg@fjellhus.no>",
    ),
}


def classify(subject: str, body: str = "", sender: str = "someone@example.com") -> Intent:
    return classifier.classify_text(subject, body, sender).intent


# --- classifier ---------------------------------------------------------------


def test_classifies_at_least_90_percent_of_the_demo_inbox() -> None:
    wrong = []
    for email in DEMO_EMAILS:
        result = classifier.classify_text(email.subject, email.body, email.sender)
        if result.intent is not email.expected_intent:
            wrong.append(
                f"{email.subject!r}: expected {email.expected_intent.value}, "
                f"got {result.intent.value} ({result.confidence}) - {result.reasoning}"
            )
    accuracy = 1 - len(wrong) / len(DEMO_EMAILS)
    print(f"demo accuracy {accuracy:.1%}")
    assert accuracy >= 0.9, "misclassified:\n" + "\n".join(wrong)


@pytest.mark.parametrize("intent", list(Intent), ids=str)
def test_a_clear_email_of_each_intent_is_classified_with_confidence(intent: Intent) -> None:
    result = classifier.classify_text(*CLEAR[intent])

    assert result.intent is intent, result.reasoning
    assert result.confidence >= 0.8, result.reasoning


@pytest.mark.parametrize("intent", list(Intent), ids=str)
def test_every_intent_has_a_confident_hit_in_the_demo_inbox(intent: Intent) -> None:
    confidences = [
        result.confidence
        for email in DEMO_EMAILS
        if email.expected_intent is intent
        and (result := classifier.classify_text(email.subject, email.body, email.sender)).intent
        is intent
    ]
    assert max(confidences) >= 0.8


@pytest.mark.parametrize(
    ("subject", "body"),
    [("", ""), ("Hello", "Just some text."), ("Lorem ipsum", "dolor sit amet consectetur")],
)
def test_an_email_without_signal_is_other_with_low_confidence(subject: str, body: str) -> None:
    result = classifier.classify_text(subject, body, "person@example.com")

    assert result.intent is Intent.OTHER
    assert 0.3 <= result.confidence < 0.8
    assert "no clear intent" in result.reasoning


def test_an_ambiguous_email_is_less_confident_than_a_clear_one() -> None:
    clear = classifier.classify_text(*CLEAR[Intent.COMPLAINT])
    mixed = classifier.classify_text(
        "Unacceptable outage - can we schedule a call?",
        "The outage yesterday was unacceptable and we are disappointed. Could we schedule "
        "a meeting next week to go over it? Send a calendar invite for Tuesday.",
        "Paul Grant <paul.grant@gmail.com>",
    )

    assert mixed.intent in (Intent.COMPLAINT, Intent.MEETING_REQUEST)
    assert mixed.confidence < 0.8
    assert mixed.confidence < clear.confidence


def test_reasoning_names_the_matched_cues_and_usage_is_free() -> None:
    result = classifier.classify_text(*CLEAR[Intent.COMPLAINT])

    assert result.reasoning.startswith("complaint:")
    assert "'charged twice' (subject)" in result.reasoning
    assert result.usage == Usage(0, 0, 0.0)


@pytest.mark.parametrize(
    ("subject", "body", "sender", "intent"),
    [
        ("Re: Pricing", "Quick question: do you support SAML?", "a@acme.com", Intent.INQUIRY),
        ("Hi", "I haven't heard back since last week.", "b@acme.com", Intent.FOLLOW_UP),
        ("Your order", "Tracking number 1Z. Do not reply.", "noreply@shop.com", Intent.OTHER),
        ("Hello", "Great deal inside, click here", "x@prize-lotto.xyz", Intent.SPAM),
    ],
)
def test_sender_and_wording_cues(subject: str, body: str, sender: str, intent: Intent) -> None:
    assert classify(subject, body, sender) is intent


def test_quoted_history_does_not_vote() -> None:
    body = (
        "Thanks, could you tell me how much the extra seats cost?\n\n"
        "On Tue, 3 Mar 2026, Paul wrote:\n> This is unacceptable, I want a refund!"
    )
    assert classify("Re: Seats", body) is Intent.INQUIRY


@given(subject=st.text(), body=st.text(), sender=st.text())
def test_any_text_classifies_within_bounds(subject: str, body: str, sender: str) -> None:
    result = classifier.classify_text(subject, body, sender)

    assert isinstance(result.intent, Intent)
    assert 0.0 <= result.confidence <= 1.0
    assert result.reasoning
    assert result.usage == Usage()


@given(subject=st.text(), body=st.text(), sender=st.text())
def test_classification_is_deterministic(subject: str, body: str, sender: str) -> None:
    first = RuleBasedClassifier().classify_text(subject, body, sender)
    assert RuleBasedClassifier().classify_text(subject, body, sender) == first


async def test_classify_reads_the_email() -> None:
    email = make_email(*CLEAR[Intent.MEETING_REQUEST])

    result = await classifier.classify(email)

    assert result == classifier.classify_text(email.subject, email.body, email.sender)
    assert result.intent is Intent.MEETING_REQUEST


# --- drafter ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "name"),
    [
        ("Priya Raman <priya.raman@acmecorp.com>", "Priya"),
        ('"Keller, Martin" <martin.keller@globex.de>', "Martin"),
        ("Dr. Zoë Müller <zoe.mueller@hartmann-audit.de>", "Zoë"),
        ("sam.whitfield97@gmail.com", "Sam"),
        ("Fintrail Talent <talent@fintrail.co>", "Fintrail Talent"),
        ("support@example.com", None),
        ("", None),
    ],
)
def test_sender_name(sender: str, name: str | None) -> None:
    assert sender_name(sender) == name


def test_topic_drops_reply_prefixes() -> None:
    assert topic_of("Re: Fwd: RE:  Renewal   quote") == "Renewal quote"
    assert topic_of("Re:") is None
    assert len(topic_of("x" * 500) or "") <= 80


@given(st.text())
def test_name_and_topic_accept_any_text(text: str) -> None:
    sender_name(text)
    topic_of(text)


async def test_draft_greets_the_sender_and_names_the_topic() -> None:
    email = make_email(*CLEAR[Intent.INQUIRY])

    draft = await drafter.draft(email, Intent.INQUIRY, [])

    assert draft.text.startswith("Hi Ravi,")
    assert '"Question about pricing for 50 seats"' in draft.text
    assert "earlier conversation" not in draft.text
    assert draft.confidence >= 0.85
    assert draft.usage == Usage()


async def test_draft_acknowledges_the_thread_when_context_is_given() -> None:
    first = make_email("Renewal quote", "How much?", thread_id="t-1", minutes_ago=60)
    reply = make_email("Re: Renewal quote", "Any update?", thread_id="t-1")

    draft = await drafter.draft(reply, Intent.FOLLOW_UP, [first])

    assert 'Following up on our earlier conversation about "Renewal quote"' in draft.text
    assert draft.text.startswith("Hi Ada,")


async def test_draft_acknowledges_earlier_mail_outside_the_thread() -> None:
    earlier = make_email("Other topic", minutes_ago=600)

    draft = await drafter.draft(make_email("Hello"), Intent.OTHER, [earlier])

    assert "earlier messages" in draft.text
    assert "earlier conversation" not in draft.text


@pytest.mark.parametrize("intent", list(Intent), ids=str)
async def test_every_intent_has_a_sane_draft(intent: Intent) -> None:
    draft = await drafter.draft(make_email(*CLEAR[intent]), intent, [])

    assert draft.text.strip()
    assert "{" not in draft.text
    assert 0.0 <= draft.confidence <= 1.0


async def test_draft_confidence_is_lower_for_vague_intents() -> None:
    email = make_email("Hello")
    sure = await drafter.draft(email, Intent.MEETING_REQUEST, [])
    vague = await drafter.draft(email, Intent.OTHER, [])

    assert sure.confidence >= 0.85
    assert vague.confidence <= 0.7


# --- pipeline -----------------------------------------------------------------


async def test_pipeline_drafts_a_clear_inquiry() -> None:
    pipeline = rules_pipeline(ThreadContext().as_repository(), ReviewPolicy())

    result = await pipeline.run(make_email(*CLEAR[Intent.INQUIRY]))

    assert (result.intent, result.status) == (Intent.INQUIRY, EmailStatus.DRAFTED)
    assert result.draft
    assert result.draft.startswith("Hi Ravi,")
    assert result.usage == Usage()
    assert result.reply is None


async def test_pipeline_sends_a_complaint_to_review() -> None:
    pipeline = rules_pipeline(ThreadContext().as_repository(), ReviewPolicy())

    result = await pipeline.run(make_email(*CLEAR[Intent.COMPLAINT]))

    assert (result.intent, result.status) == (Intent.COMPLAINT, EmailStatus.NEEDS_REVIEW)
    assert result.draft


async def test_pipeline_rejects_blatant_spam_without_drafting() -> None:
    emails = ThreadContext()
    pipeline = rules_pipeline(emails.as_repository(), ReviewPolicy())

    result = await pipeline.run(make_email(*CLEAR[Intent.SPAM]))

    assert (result.intent, result.status, result.draft) == (Intent.SPAM, EmailStatus.REJECTED, None)
    assert emails.asked == []


async def test_pipeline_queues_the_reply_when_auto_send_is_on() -> None:
    policy = ReviewPolicy(auto_send=True)
    pipeline = rules_pipeline(ThreadContext().as_repository(), policy)
    email = make_email(*CLEAR[Intent.INQUIRY])

    result = await pipeline.run(email)

    assert result.status is EmailStatus.SENDING
    assert result.reply is not None and result.draft
    assert (result.reply.email_id, result.reply.body) == (email.id, result.draft)
    assert result.reply.recipient == email.sender


async def test_pipeline_drafts_with_the_thread_as_context() -> None:
    first = make_email("Renewal quote", "How much for 120 seats?", thread_id="t-9", minutes_ago=90)
    reply = make_email(
        "Re: Renewal quote",
        "Just following up on my previous email: any update on the quote?",
        thread_id="t-9",
    )
    pipeline = rules_pipeline(ThreadContext([first, reply]).as_repository(), ReviewPolicy())

    result = await pipeline.run(reply)

    assert result.intent is Intent.FOLLOW_UP
    assert result.draft
    assert 'earlier conversation about "Renewal quote"' in result.draft


async def test_pipeline_handles_the_whole_demo_inbox() -> None:
    inbox = [
        make_email(e.subject, e.body, e.sender, thread_id=e.thread_id, minutes_ago=e.minutes_ago)
        for e in DEMO_EMAILS
    ]
    pipeline = rules_pipeline(ThreadContext(inbox).as_repository(), ReviewPolicy())

    statuses = Counter([(await pipeline.run(email)).status for email in inbox])

    assert set(statuses) <= {EmailStatus.DRAFTED, EmailStatus.NEEDS_REVIEW, EmailStatus.REJECTED}
    assert statuses[EmailStatus.DRAFTED]
    assert statuses[EmailStatus.REJECTED]


# --- demo inbox ---------------------------------------------------------------


def test_demo_inbox_covers_every_intent() -> None:
    counts = Counter(e.expected_intent for e in DEMO_EMAILS)

    assert 55 <= len(DEMO_EMAILS) <= 70
    assert all(counts[intent] >= 6 for intent in Intent), counts


def test_demo_inbox_has_threads_of_replies() -> None:
    threads: dict[str, list[str]] = {}
    for e in sorted(DEMO_EMAILS, key=lambda e: -e.minutes_ago):
        if e.thread_id:
            threads.setdefault(e.thread_id, []).append(e.subject)

    assert len(threads) >= 5
    for subjects in threads.values():
        assert 2 <= len(subjects) <= 3
        assert not subjects[0].startswith("Re:")
        assert all(s == f"Re: {subjects[0]}" for s in subjects[1:])


def test_demo_inbox_is_stamped_over_the_last_two_weeks() -> None:
    inbox = demo_inbox(NOW)

    assert len(inbox) == len(DEMO_EMAILS)
    assert {e.recipient for e in inbox} == {DEMO_RECIPIENT}
    assert all(e.received_at is not None for e in inbox)
    received = [e.received_at for e in inbox if e.received_at is not None]
    assert min(received) >= NOW - timedelta(days=14)
    assert max(received) < NOW
    assert len(set(received)) == len(received)
