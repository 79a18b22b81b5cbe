// Renders one email into the detail panel. Everything from the API goes in as
// text (textContent): an HTML or script body shows as the characters it is.

import { $, el, plural } from "./dom.js";
import { INTENTS, STATUSES, percent, receivedLabel } from "./format.js";
import { allowed } from "./review.js";

const HINTS = {
  pending: "Not processed yet: process it to get a draft.",
  processing: "A job is working on this email now.",
  drafted: "Edit the reply if needed, then approve it, or reject it (no reply is sent).",
  needs_review: "This email needs a person: check the reply (write one if there is none), then approve or reject it.",
  approved: "Approved: Send delivers this reply.",
  sending: "Sending\u2026",
  sent: "Sent: this reply went out.",
  send_failed: "Sending failed (the reason is below): send it again, or edit and approve it, or reject it.",
  rejected: "Rejected: no reply will be sent.",
};

/** Statuses whose `last_error` is about delivering the reply, not about a job. */
const DELIVERY = new Set(["sending", "send_failed"]);

export function statusLabel(status) {
  return STATUSES[status] ?? status;
}

/** Fill the panel with `email`; `draft` is the text to show (an unsaved edit wins). */
export function renderEmail(email, draft) {
  $("detail-done").hidden = true;
  $("detail-email").hidden = false;
  $("detail-subject").textContent = email.subject || "(no subject)";
  $("detail-sender").textContent = email.sender;
  const received = receivedLabel(email.received_at);
  const time = $("detail-received");
  time.textContent = received.long;
  time.dateTime = email.received_at;
  $("detail-intent").replaceChildren(intentText(email));
  renderState(email);
  $("detail-body").textContent = email.body;
  const box = $("detail-draft");
  box.value = draft ?? email.draft ?? "";
  // Only the last failure (of a job, or of delivering the reply): a later success clears it.
  const failure = $("detail-failure");
  failure.hidden = !email.last_error;
  failure.querySelector(".detail-failure-title").textContent = DELIVERY.has(email.status)
    ? "Sending this reply failed"
    : "The last job failed on this email";
  $("detail-failure-text").textContent = email.last_error ?? "";
  renderThread(null);
}

/** The parts that change with the email's status (after an action). */
export function renderState(email, { busy = null } = {}) {
  $("detail-status").replaceChildren(
    el("span", { class: `badge status-${email.status}`, text: statusLabel(email.status) }),
  );
  const can = allowed(email.status);
  const box = $("detail-draft");
  box.readOnly = !can.edit || Boolean(busy);
  $("detail-draft-hint").textContent = HINTS[email.status] ?? "";
  for (const action of ["approve", "reject", "send"]) {
    $(`detail-${action}`).disabled = !can[action] || Boolean(busy);
  }
  const send = $("detail-send");
  send.textContent = email.status === "sending" || busy === "send" ? "Sending\u2026" : "Send";
  $("detail-approve").textContent = busy === "approve" ? "Approving\u2026" : "Approve";
  $("detail-reject").textContent = busy === "reject" ? "Rejecting\u2026" : "Reject";
}

function intentText(email) {
  if (!email.intent) return el("span", { class: "muted", text: "Not classified" });
  const name = INTENTS[email.intent] ?? email.intent;
  if (email.confidence === null || email.confidence === undefined) return el("span", { text: name });
  return el("span", { text: `${name} \u00b7 ${percent(email.confidence, 1)}% confidence` });
}

/** The thread's earlier emails (`null` while loading or unknown). */
export function renderThread(emails) {
  const list = $("detail-thread");
  list.replaceChildren();
  $("detail-thread-section").hidden = !emails?.length;
  if (!emails?.length) return;
  $("detail-thread-title").textContent = `Earlier in this thread (${plural(emails.length, "email")})`;
  for (const email of emails) {
    const received = receivedLabel(email.received_at);
    const summary = el("summary", {}, [
      el("span", { class: "thread-sender", text: email.sender }),
      el("time", { text: received.short, attrs: { datetime: email.received_at, title: received.long } }),
      el("span", { class: "thread-subject", text: email.subject || "(no subject)" }),
    ]);
    const body = el("div", { class: "detail-body thread-body", text: email.body });
    list.append(el("li", {}, [el("details", {}, [summary, body])]));
  }
}

/** The queue's end: nothing (left) to review. */
export function renderDone(reviewed) {
  $("detail-email").hidden = true;
  $("detail-done").hidden = false;
  $("detail-subject").textContent = "Review queue";
  $("detail-done-text").textContent = reviewed
    ? `Done: you went through ${plural(reviewed, "email")}. Nothing else is waiting for review.`
    : "Nothing to review: no email is drafted or waiting for review.";
  for (const action of ["approve", "reject", "send"]) $(`detail-${action}`).disabled = true;
}

export function showMessage(text) {
  const box = $("detail-message");
  box.replaceChildren();
  if (text) box.append(el("p", { text }));
}
