"""The UI's pure modules, run in the browser as the page loads them."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

pytestmark = pytest.mark.e2e


def run(page: Page, script: str, arg: Any = None) -> Any:
    page.goto("/")
    return page.evaluate(script, arg)


def test_the_sse_parser_survives_any_chunking(page: Page) -> None:
    stream = (
        "retry: 2000\r\n"
        ": keep-alive\r\n\r\n"
        'event: progress\r\nid: 3\r\ndata: {"processed":1}\r\n\r\n'
        "data: first line\ndata: second line\n\n"
        "event: progress\rdata:no-space\r\r"
        "data: unfinished"
    )
    events = run(
        page,
        """async text => {
            const { createParser } = await import('/assets/sse.js');
            const results = [];
            for (let size = 1; size <= text.length; size++) {
                const seen = [];
                const parser = createParser(e => seen.push(e));
                for (let i = 0; i < text.length; i += size) parser.feed(text.slice(i, i + size));
                results.push(JSON.stringify(seen));
            }
            return results;
        }""",
        stream,
    )
    assert len(set(events)) == 1, "the same events whatever the chunk size"
    assert events[0] == (
        '[{"type":"progress","data":"{\\"processed\\":1}","id":"3"},'
        '{"type":"message","data":"first line\\nsecond line","id":"3"},'
        '{"type":"progress","data":"no-space","id":"3"}]'
    )


def test_the_watcher_reopens_a_dropped_stream_where_it_left_off(page: Page) -> None:
    """A stream cut after one email is opened again with Last-Event-ID; the second
    answer repeats nothing, and the job is followed to its end without polling."""
    seen = run(
        page,
        """async () => {
            const { JobWatcher } = await import('/assets/watch.js');
            const email = (id, seq) =>
                `id: ${seq}\\nevent: email\\ndata: {"email_id":"${id}","outcome":"succeeded",` +
                `"intent":"inquiry","status":"pending","error":null}\\n\\n`;
            const progress = (seq, rev, status) =>
                `id: ${seq}-${rev}\\nevent: progress\\n` +
                `data: {"job_id":"cls_x","status":"${status}"}\\n\\n`;
            const answers = [
                'retry: 2000\\n\\n' + progress(0, 1, 'processing') + email('a', 1),
                email('b', 2) + progress(2, 3, 'completed'),
            ];
            const requests = [];
            window.fetch = async (url, options) => {
                const lastEventId = options.headers['Last-Event-ID'] ?? null;
                requests.push({ url: String(url), lastEventId });
                const text = answers.shift() ?? '';
                const body = new ReadableStream({
                    start(controller) {
                        controller.enqueue(new TextEncoder().encode(text));
                        controller.close();  // the connection drops here
                    },
                });
                return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } });
            };
            const emails = [];
            const statuses = [];
            await new Promise((resolve, reject) => {
                const watcher = new JobWatcher('cls_x', {
                    onEmail: (result) => emails.push(result.email_id),
                    onStatus: (status) => {
                        statuses.push(status.status);
                        if (status.status === 'completed') resolve();
                    },
                    onGone: () => reject(new Error('gone')),
                    onTimeout: () => reject(new Error('timeout')),
                });
                watcher.start();
            });
            return { emails, statuses, requests };
        }""",
    )
    assert seen["emails"] == ["a", "b"]
    assert seen["statuses"] == ["processing", "completed"]
    assert [r["lastEventId"] for r in seen["requests"]] == [None, "1"]
    assert all(r["url"].endswith("/status/cls_x/stream") for r in seen["requests"])


def test_a_job_polled_to_its_end_after_its_stream_dropped_catches_up_its_emails(
    page: Page,
) -> None:
    """The stream cannot be reopened (404): polling follows the job to its end,
    then one stream read with Last-Event-ID brings the email events missed."""
    seen = run(
        page,
        """async () => {
            const { JobWatcher } = await import('/assets/watch.js');
            const email = (id, seq) =>
                `id: ${seq}\\nevent: email\\ndata: {"email_id":"${id}","outcome":"failed",` +
                `"intent":null,"status":"needs_review","error":"x"}\\n\\n`;
            const sse = (text) => new Response(
                new ReadableStream({
                    start(controller) {
                        controller.enqueue(new TextEncoder().encode(text));
                        controller.close();
                    },
                }),
                { headers: { 'Content-Type': 'text/event-stream' } },
            );
            const json = (status, body) => new Response(JSON.stringify(body), {
                status, headers: { 'Content-Type': 'application/json' },
            });
            const answers = [
                () => sse(email('a', 1)),
                () => json(404, { detail: 'Not Found' }),
                () => json(200, { job_id: 'prc_x', status: 'completed' }),
                () => sse(email('b', 2) + 'id: 2-3\\nevent: progress\\ndata: {}\\n\\n'),
            ];
            const requests = [];
            window.fetch = async (url, options) => {
                const path = String(url).replace(/^.*\\/batch\\//, '');
                requests.push([path, options.headers['Last-Event-ID'] ?? null]);
                return answers.shift()();
            };
            const emails = [];
            await new Promise((resolve, reject) => {
                const watcher = new JobWatcher('prc_x', {
                    onEmail: (result) => {
                        emails.push(result.email_id);
                        if (emails.length === 2) resolve();
                    },
                    onStatus: () => {},
                    onGone: () => reject(new Error('gone')),
                    onTimeout: () => reject(new Error('timeout')),
                });
                watcher.start();
            });
            return { emails, requests };
        }""",
    )
    assert seen["emails"] == ["a", "b"]
    assert seen["requests"] == [
        ["status/prc_x/stream", None],
        ["status/prc_x/stream", "1"],
        ["status/prc_x", None],
        ["status/prc_x/stream", "1"],
    ]


def test_limits_warn_from_90_percent(page: Page) -> None:
    states = run(
        page,
        """async () => {
            const { limitState } = await import('/assets/selection.js');
            const at = (kind, n) => { const s = limitState(kind, n); return [s.near, s.over]; };
            return {
                process: [44, 45, 50, 51].map(n => at('process', n)),
                classify: [89, 90, 100, 101].map(n => at('classify', n)),
            };
        }""",
    )
    expected = [[False, False], [True, False], [True, False], [False, True]]
    assert states == {"process": expected, "classify": expected}


def test_conflict_messages_name_the_emails(page: Page) -> None:
    message = run(
        page,
        """async () => {
            const { describeError } = await import('/assets/messages.js');
            const { ApiError } = await import('/assets/api.js');
            const error = new ApiError(409, {
                detail: 'Some emails cannot be processed now: already processing or sent',
                extra: { conflicts: { a: 'processing', b: 'sent' } },
            });
            return describeError(error, id => ({ a: 'Alpha', b: 'Beta' })[id]);
        }""",
    )
    assert message["title"] == (
        "These 2 emails are already being processed by another job or were already sent"
    )
    assert message["emails"] == [{"id": "a", "subject": "Alpha"}, {"id": "b", "subject": "Beta"}]
    assert message["action"] == {"label": "Deselect them", "ids": ["a", "b"]}
