// The review queue (the emails a person must look at, oldest first) and the
// review actions on one email, under the API's rules.

import { api } from "./api.js";
import { STATUSES } from "./format.js";

/** Statuses a person can approve or reject from; the queue walks exactly these. */
export const REVIEWABLE = new Set(["needs_review", "drafted"]);
const QUEUE_PAGE = 100;
/** After a send answered `sending` (the outbox delivers it a moment later). */
const SEND_POLL_MS = 500;
const SEND_POLL_LIMIT_MS = 30_000;

const byReceived = (a, b) => a.received_at.localeCompare(b.received_at) || a.id.localeCompare(b.id);

/**
 * The oldest reviewable emails, oldest first. One page per status, merged; when
 * a status has more than a page, the merge stops where that page ends, so no
 * older email is ever skipped (the next call picks up the rest).
 */
export async function loadQueue() {
  const pages = await Promise.all(
    [...REVIEWABLE].map((status) => api.emails({ status, limit: QUEUE_PAGE, order: "oldest" })),
  );
  const ends = pages.filter((page) => page.next_cursor).map((page) => page.items.at(-1));
  const cutoff = ends.sort(byReceived)[0] ?? null;
  return pages
    .flatMap((page) => page.items)
    .filter((email) => !cutoff || byReceived(email, cutoff) <= 0)
    .sort(byReceived);
}

/** The thread's emails received before `email`, oldest first (none without a thread). */
export async function earlierInThread(email) {
  if (!email.thread_id) return [];
  const page = await api.emails({ threadId: email.thread_id, limit: QUEUE_PAGE, order: "oldest" });
  return page.items.filter((other) => other.id !== email.id && byReceived(other, email) < 0);
}

/** A reply whose delivery gave up: send it again, or edit and approve it, or reject it. */
const SEND_FAILED = "send_failed";

/** What a person may do with an email in `status`. */
export function allowed(status) {
  const review = REVIEWABLE.has(status) || status === SEND_FAILED;
  return {
    approve: review,
    reject: review,
    send: status === "approved" || status === SEND_FAILED,
    edit: review,
  };
}

/** Why an action is not offered now, in one sentence. */
export function refusal(action, status) {
  const label = (STATUSES[status] ?? status).toLowerCase();
  if (action === "send") return `Only an approved reply (or one that failed to send) can be sent; this email is ${label}.`;
  const done = action === "approve" ? "approved" : "rejected";
  return `Only a drafted email, one that needs review or one that failed to send can be ${done}; this email is ${label}.`;
}

/**
 * Send an approved reply. The API answers `sent`, or `sending` when its outbox
 * delivers a moment later: then re-read the email until it is no longer
 * `sending`, for at most 30 s. `onSending(email)` sees the intermediate state.
 */
export async function sendReply(id, onSending) {
  let email = await api.review(id, "send");
  const deadline = Date.now() + SEND_POLL_LIMIT_MS;
  if (email.status === "sending") onSending(email);
  while (email.status === "sending" && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, SEND_POLL_MS));
    email = await api.email(id);
  }
  return email;
}

/** A 409's message names the email's state now; other failures say what happened. */
export function actionError(error) {
  if (error.status === 409 || error.status === 400) return error.detail || `The server answered HTTP ${error.status}.`;
  if (error.status === 404) return "This email no longer exists.";
  if (error.status === 0) return error.detail;
  return error.detail || `That did not work: the server answered HTTP ${error.status}.`;
}
