"""Importing mail over HTTP: an mbox, a single message, idempotency and bad input."""

from __future__ import annotations

from tests.conftest import Api

IMPORT = "/api/v1/emails/import"

MBOX = b"""From alice@example.com Mon Jan  5 09:00:00 2026
Message-ID: <root@example.com>
From: Alice Martin <alice@example.com>
To: demo@reasonflow.local
Subject: =?utf-8?q?Caf=C3=A9_order?=
Date: Mon, 05 Jan 2026 09:00:00 +0000

Could you send the price list?

From bob@example.com Mon Jan  5 10:00:00 2026
Message-ID: <reply@example.com>
In-Reply-To: <root@example.com>
References: <root@example.com>
From: bob@example.com
To: demo@reasonflow.local
Subject: Re: Cafe order
Date: Mon, 05 Jan 2026 10:00:00 +0000
Content-Type: text/html; charset=utf-8

<p>Following <b>up</b> on this &amp; that.</p>

From nobody Mon Jan  5 11:00:00 2026
Subject: no sender at all

This message has no From header.
"""


async def test_an_mbox_imports_with_threads_and_reports_bad_messages(alice: Api) -> None:
    response = await alice.client.post(
        IMPORT, content=MBOX, headers=alice.headers | {"content-type": "application/mbox"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["imported"], body["duplicates"]) == (2, 0)
    assert len(body["problems"]) == 1 and body["problems"][0]["position"] == 3
    inbox = (await alice.get("/api/v1/emails")).json()["items"]
    by_subject = {e["subject"]: e for e in inbox}
    assert set(by_subject) == {"Café order", "Re: Cafe order"}
    assert by_subject["Re: Cafe order"]["thread_id"] == by_subject["Café order"]["thread_id"]
    assert "Following up on this & that." in by_subject["Re: Cafe order"]["body"]
    assert by_subject["Café order"]["received_at"] == "2026-01-05T09:00:00+00:00"

    again = await alice.client.post(
        IMPORT, content=MBOX, headers=alice.headers | {"content-type": "application/mbox"}
    )
    assert (again.json()["imported"], again.json()["duplicates"]) == (0, 2)
    assert len((await alice.get("/api/v1/emails")).json()["items"]) == 2


async def test_a_single_message_and_other_users(alice: Api, bob: Api) -> None:
    message = MBOX.split(b"\n\nFrom bob")[0].split(b"\n", 1)[1]
    for user in (alice, bob):
        response = await user.client.post(
            IMPORT, content=message, headers=user.headers | {"content-type": "message/rfc822"}
        )
        assert response.json()["imported"] == 1, "idempotency is per user"


async def test_unsupported_content_is_415_and_changes_nothing(alice: Api) -> None:
    response = await alice.client.post(
        IMPORT, content=b"{}", headers=alice.headers | {"content-type": "application/json"}
    )
    assert response.status_code == 415
    assert (await alice.get("/api/v1/emails")).json()["items"] == []


async def test_import_needs_a_token(alice: Api) -> None:
    response = await alice.client.post(
        IMPORT, content=MBOX, headers={"content-type": "application/mbox"}
    )
    assert response.status_code == 401
