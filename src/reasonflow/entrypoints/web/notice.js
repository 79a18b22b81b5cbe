// The message area above the inbox: errors from submissions, with an action.

import { $, el, quoted } from "./dom.js";

const MAX_NAMED = 5;

/** Render `{title, text, emails, action}` into `container`; `onAction(ids)` runs the action. */
export function renderMessage(container, message, onAction = null) {
  container.replaceChildren();
  container.append(el("p", { class: "notice-title", text: message.title }));
  if (message.text) container.append(el("p", { class: "notice-text", text: message.text }));
  if (message.emails?.length) {
    const list = el("ul", { class: "notice-emails" });
    for (const email of message.emails.slice(0, MAX_NAMED)) {
      list.append(el("li", { text: quoted(email.subject) }));
    }
    const more = message.emails.length - MAX_NAMED;
    if (more > 0) list.append(el("li", { class: "muted", text: `and ${more} more` }));
    container.append(list);
  }
  if (message.action && onAction) {
    const button = el("button", { class: "btn btn-small", text: message.action.label, attrs: { type: "button" } });
    button.addEventListener("click", () => onAction(message.action.ids));
    container.append(button);
  }
}

/**
 * The inbox notice, with a dismiss button. `#notice` is a permanent role="alert"
 * region: filling it is what screen readers announce.
 */
export function showNotice(message, { tone = "error", onAction = null } = {}) {
  const body = el("div", { class: "notice-body" });
  renderMessage(body, message, (ids) => {
    hideNotice();
    onAction?.(ids);
  });
  const dismiss = el("button", {
    class: "btn btn-ghost btn-icon",
    text: "\u00d7",
    attrs: { type: "button", "aria-label": "Dismiss message" },
  });
  dismiss.addEventListener("click", hideNotice);
  $("notice").replaceChildren(el("div", { class: `notice notice-${tone}` }, [body, dismiss]));
}

export function hideNotice() {
  $("notice").replaceChildren();
}
