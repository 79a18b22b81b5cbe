"""Emails, accounts and operations endpoints over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.testing import AsyncTestClient

from tests.conftest import Api, AppFactory, sign_in

PROCESS = "/api/v1/emails/batch/process"


async def test_register_login_and_wrong_passwords(client: AsyncTestClient[Any]) -> None:
    creds = {"email": "Carol@Example.com", "password": "long enough pw"}
    created = await client.post("/api/v1/auth/register", json=creds)
    assert created.status_code == 201
    assert created.json()["email"] == "carol@example.com"
    taken = await client.post("/api/v1/auth/register", json=creds)
    assert taken.status_code == 409
    short = await client.post("/api/v1/auth/register", json={"email": "d@e.io", "password": "x"})
    assert short.status_code == 400
    login = await client.post("/api/v1/auth/login", json=creds)
    assert login.status_code == 200
    body = login.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 1800
    assert body["access_token"].count(".") == 2
    wrong = await client.post("/api/v1/auth/login", json={**creds, "password": "nope nope"})
    unknown = await client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": "whatever1"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_create_list_and_get_emails(alice: Api, bob: Api) -> None:
    created = await alice.post(
        "/api/v1/emails",
        {
            "subject": "Invoice",
            "body": "Please find attached",
            "sender": "acct@vendor.com",
            "received_at": "2026-01-02T03:04:05+00:00",
            "thread_id": "t-1",
        },
    )
    assert created.status_code == 201
    email = created.json()
    assert email["status"] == "pending" and email["intent"] is None
    assert email["received_at"] == "2026-01-02T03:04:05+00:00"
    assert (await alice.get(f"/api/v1/emails/{email['id']}")).json() == email
    assert (await bob.get(f"/api/v1/emails/{email['id']}")).status_code == 404
    assert (await bob.get("/api/v1/emails")).json() == {"items": [], "next_cursor": None}


async def test_inbox_pages_newest_first_without_gaps(alice: Api) -> None:
    ids = []
    for day in range(1, 8):
        response = await alice.post(
            "/api/v1/emails",
            {"subject": f"d{day}", "body": "b", "sender": "s@x.io",
             "received_at": f"2026-01-0{day}T00:00:00+00:00"},
        )  # fmt: skip
        ids.append(response.json()["id"])
    seen: list[str] = []
    cursor = None
    while True:
        query = "/api/v1/emails?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = (await alice.get(query)).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    bad = await alice.get("/api/v1/emails?cursor=%%%")
    assert bad.status_code == 400
    assert (await alice.get("/api/v1/emails?status=bogus")).status_code == 400
    assert (await alice.get("/api/v1/emails?limit=0")).status_code == 400


async def test_a_thread_lists_oldest_first_and_only_the_callers_emails(
    alice: Api, bob: Api
) -> None:
    async def add(who: Api, subject: str, day: int, thread: str) -> str:
        response = await who.post(
            "/api/v1/emails",
            {"subject": subject, "body": "b", "sender": "s@x.io", "thread_id": thread,
             "received_at": f"2026-01-0{day}T00:00:00+00:00"},
        )  # fmt: skip
        assert response.status_code == 201
        return str(response.json()["id"])

    first = await add(alice, "first", 1, "t-1")
    second = await add(alice, "second", 2, "t-1")
    await add(alice, "elsewhere", 3, "t-2")
    await add(bob, "bob's", 4, "t-1")

    newest = (await alice.get("/api/v1/emails?thread_id=t-1")).json()
    assert [e["id"] for e in newest["items"]] == [second, first]
    oldest = (await alice.get("/api/v1/emails?thread_id=t-1&order=oldest&limit=1")).json()
    assert [e["id"] for e in oldest["items"]] == [first]
    cursor = oldest["next_cursor"]
    after = await alice.get(f"/api/v1/emails?thread_id=t-1&order=oldest&cursor={cursor}")
    assert [e["id"] for e in after.json()["items"]] == [second]
    assert after.json()["next_cursor"] is None
    assert (await bob.get("/api/v1/emails?thread_id=t-2")).json()["items"] == []
    for bad in ("order=sideways", "thread_id=", f"thread_id={'x' * 256}"):
        response = await alice.get(f"/api/v1/emails?{bad}")
        assert response.status_code == 400, bad
        assert response.json()["extra"][0]["key"] == bad.partition("=")[0]


async def test_bad_email_bodies_are_400_and_change_nothing(alice: Api) -> None:
    for body in (
        {"subject": "s", "body": "b"},
        {"subject": "s", "body": "b", "sender": "a@b.io", "admin": True},
        {"subject": "s", "body": "b", "sender": "a@b.io", "received_at": "yesterday"},
    ):
        assert (await alice.post("/api/v1/emails", body)).status_code == 400
    assert (await alice.get("/api/v1/emails")).json()["items"] == []


async def test_malformed_email_id_in_the_path_is_rejected(alice: Api) -> None:
    response = await alice.get("/api/v1/emails/not-a-uuid")
    assert response.status_code == 400
    assert response.json()["extra"][0]["key"] == "email_id"
    assert (await alice.get(f"/api/v1/emails/{uuid.uuid4()}")).status_code == 404


async def test_review_then_send_through_the_dev_mailer(app_client: AppFactory) -> None:
    alice = await sign_in(await app_client())
    (email_id,) = await alice.add_emails(1)
    early = await alice.post(f"/api/v1/emails/{email_id}/approve", {})
    assert early.status_code == 409
    job = await alice.post(PROCESS, {"email_ids": [email_id]})
    await alice.finished_job(job.json()["job_id"])
    email = (await alice.get(f"/api/v1/emails/{email_id}")).json()
    assert email["status"] == "drafted" and email["draft"]
    not_yet = await alice.post(f"/api/v1/emails/{email_id}/send")
    assert not_yet.status_code == 409
    approved = await alice.post(f"/api/v1/emails/{email_id}/approve", {"draft": "Edited reply"})
    assert approved.json()["status"] == "approved"
    assert approved.json()["draft"] == "Edited reply"
    sent = await alice.post(f"/api/v1/emails/{email_id}/send")
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    assert (await alice.post(f"/api/v1/emails/{email_id}/reject")).status_code == 409


async def test_reject_a_drafted_email(alice: Api) -> None:
    (email_id,) = await alice.add_emails(1)
    job = await alice.post(PROCESS, {"email_ids": [email_id]})
    await alice.finished_job(job.json()["job_id"])
    rejected = await alice.post(f"/api/v1/emails/{email_id}/reject")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"


async def test_health_ready_and_openapi(client: AsyncTestClient[Any]) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    assert (await client.get("/ready")).json() == {"status": "ready"}
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/emails/batch/classify" in schema["paths"]
    assert "BearerToken" in schema["components"]["securitySchemes"]


async def test_a_timestamp_without_offset_is_400(alice: Api) -> None:
    body = {"subject": "s", "body": "b", "sender": "a@b.io", "received_at": "2026-01-01T00:00:00"}
    response = await alice.post("/api/v1/emails", body)
    assert response.status_code == 400
    assert (await alice.get("/api/v1/emails")).json()["items"] == []


async def test_a_401_carries_a_bearer_challenge(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/api/v1/emails")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    malformed = await client.get("/api/v1/emails/not-a-uuid")
    assert malformed.status_code == 401, "authentication comes before validation"
