// The bulk toolbar: the selection count, the two actions and their limits.

import { $, plural } from "./dom.js";
import { limitState } from "./selection.js";

const ACTIONS = {
  classify: { button: "classify-selected", reason: "classify-reason", verb: "classify" },
  process: { button: "process-selected", reason: "process-reason", verb: "process" },
};

/** What to say about `kind` for the selection size, and whether it blocks. */
export function limitMessage(state) {
  const { verb } = ACTIONS[state.kind];
  if (state.over) {
    return {
      tone: "blocked",
      text: `${capitalize(verb)} Selected is off: a ${verb} job takes at most ${state.limit} emails. Deselect ${plural(state.excess, "email")}.`,
    };
  }
  if (state.near) {
    return {
      tone: "warning",
      text: `Nearing the ${verb} limit: ${state.count} of ${state.limit} emails selected.`,
    };
  }
  return null;
}

/**
 * Show or hide the toolbar for `selection`; `selectedHere` is how many of the
 * selected emails are on the current page. `busy` disables both actions.
 */
export function renderToolbar(selection, selectedHere, busy = false) {
  const count = selection.size;
  $("bulkbar").hidden = count === 0;
  $("selection-hint").hidden = count > 0;
  $("selection-count").textContent = `${plural(count, "email")} selected`;
  const elsewhere = count - selectedHere;
  $("selection-elsewhere").textContent = elsewhere > 0 ? `${elsewhere} on other pages` : "";

  for (const [kind, ids] of Object.entries(ACTIONS)) {
    const button = $(ids.button);
    const reason = $(ids.reason);
    const message = limitMessage(limitState(kind, count));
    reason.textContent = message?.text ?? "";
    reason.className = message ? `limit limit-${message.tone}` : "limit";
    reason.hidden = !message;
    // aria-disabled keeps the button focusable, so its reason is read on focus.
    const off = busy || Boolean(message && message.tone === "blocked");
    button.setAttribute("aria-disabled", String(off));
    if (message) button.setAttribute("aria-describedby", ids.reason);
    else button.removeAttribute("aria-describedby");
  }
}

export function isOff(button) {
  return button.getAttribute("aria-disabled") === "true";
}

function capitalize(word) {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
