"""Which emails a batch command selects, and how they are cut into batches."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reasonflow.domain.model import EmailStatus
from reasonflow.entrypoints.client.api import ApiClient
from reasonflow.entrypoints.client.commands import EMAIL_STATUSES
from reasonflow.entrypoints.client.selection import by_status, name_emails, split, unique_ids
from tests.unit.test_client_api import TOKEN, URL, FakeServer


@given(st.lists(st.integers(), max_size=400), st.integers(min_value=1, max_value=120))
def test_batches_keep_every_id_once_in_order_within_the_size(ids: list[int], size: int) -> None:
    text = [str(i) for i in ids]
    batches = split(text, size)
    assert [i for batch in batches for i in batch] == text
    assert all(1 <= len(batch) <= size for batch in batches)
    assert all(len(batch) == size for batch in batches[:-1]), "only the last is short"


def test_exactly_at_the_limit_is_one_batch_and_one_more_is_two() -> None:
    assert [len(b) for b in split([str(n) for n in range(100)], 100)] == [100]
    assert [len(b) for b in split([str(n) for n in range(101)], 100)] == [100, 1]
    assert [len(b) for b in split([str(n) for n in range(120)], 50)] == [50, 50, 20]
    assert split([], 50) == []
    with pytest.raises(ValueError, match="at least one"):
        split(["a"], 0)


def test_ids_given_twice_are_sent_once_in_canonical_form() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    given_ids = [str(first).upper(), str(second), str(first), first.hex]
    assert unique_ids(given_ids) == [str(first), str(second)]


def test_the_client_knows_every_email_status_the_server_has() -> None:
    assert set(EMAIL_STATUSES) == {status.value for status in EmailStatus}


async def test_a_status_selection_reads_every_page_of_a_hundred() -> None:
    server = FakeServer([f"Question {n}" for n in range(250)])
    server.emails[7]["status"] = "drafted"
    async with ApiClient(URL, TOKEN, server.transport()) as api:
        selection = await by_status(api, "pending")
    pages = [r.url.params for r in server.requests]
    assert [p.get("cursor") for p in pages] == [None, "100", "200"]
    assert {p["limit"] for p in pages} == {"100"} and {p["status"] for p in pages} == {"pending"}
    expected = [e["id"] for e in server.emails if e["status"] == "pending"]
    assert selection.ids == expected and len(expected) == 249
    assert selection.subjects[expected[0]] == "Question 0"


async def test_an_empty_inbox_selects_nothing_in_one_request() -> None:
    server = FakeServer()
    async with ApiClient(URL, TOKEN, server.transport()) as api:
        assert (await by_status(api, "pending")).ids == []
    assert len(server.requests) == 1


async def test_failures_are_named_from_what_is_known_else_read_from_the_server() -> None:
    server = FakeServer(["Known", "Looked up"])
    known, looked_up = server.ids()
    gone = str(uuid.uuid4())
    async with ApiClient(URL, TOKEN, server.transport()) as api:
        names = await name_emails(api, [known, looked_up, gone], {known: "Known subject"})
    assert names == {known: "Known subject", looked_up: "Looked up"}
    assert {r.url.path for r in server.requests} == {
        f"/api/v1/emails/{looked_up}",
        f"/api/v1/emails/{gone}",
    }
