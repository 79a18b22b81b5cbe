// Turns API errors into messages a person can act on.

import { plural } from "./dom.js";

function conflictTitle(count, states) {
  const one = count === 1;
  const why = states.map((state) => {
    if (state === "processing") return `${one ? "is" : "are"} already being processed by another job`;
    if (state === "sent") return `${one ? "was" : "were"} already sent`;
    if (state === "sending") return `${one ? "is" : "are"} being sent`;
    return `${one ? "is" : "are"} ${state.replace("_", " ")}`;
  });
  return `${one ? "This email" : `These ${count} emails`} ${why.join(" or ")}`;
}

/**
 * A message for a failed submission (or retry/cancel):
 * `{title, text, emails: [{id, subject}], action: {label, ids} | null}`.
 * `subjectOf(id)` names an email from what the page knows.
 */
export function describeError(error, subjectOf) {
  const named = (ids) => ids.map((id) => ({ id, subject: subjectOf(id) }));
  if (error.status === 404 && Array.isArray(error.extra?.email_ids)) {
    const ids = error.extra.email_ids;
    return {
      title: `${plural(ids.length, "selected email")} no longer ${ids.length === 1 ? "exists" : "exist"}`,
      text: "They may have been deleted. Deselect them and try again.",
      emails: named(ids),
      action: { label: "Deselect them", ids },
    };
  }
  if (error.status === 409 && error.extra?.conflicts) {
    const ids = Object.keys(error.extra.conflicts);
    const states = [...new Set(Object.values(error.extra.conflicts))].sort();
    return {
      title: conflictTitle(ids.length, states),
      text:
        states.includes("processing")
          ? "Wait for that job to finish, or deselect them and process the rest."
          : "Deselect them and process the rest.",
      emails: named(ids),
      action: { label: "Deselect them", ids },
    };
  }
  if (error.status === 429) {
    const wait = Number.parseInt(error.retryAfter ?? "", 10);
    return {
      title: "Too many batch jobs at once",
      text: `${error.detail || "Slow down."} ${Number.isFinite(wait) ? `Try again in ${plural(wait, "second")}.` : "Try again shortly."}`,
      emails: [],
      action: null,
    };
  }
  if (error.status === 503) {
    return {
      title: "The server is restarting",
      text: "Try again in a few seconds.",
      emails: [],
      action: null,
    };
  }
  if (error.status === 0) {
    return { title: "No connection", text: error.detail, emails: [], action: null };
  }
  return {
    title: "That did not work",
    text: error.detail || `The server answered HTTP ${error.status}.`,
    emails: [],
    action: null,
  };
}
