// The bulk toolbar: the selection count, the two actions and their limits, what
// they would cost (estimates) and the budget a submission carries.

import { $, plural } from "./dom.js";
import { describeError } from "./messages.js";
import { limitState } from "./selection.js";

/** The selection must stay unchanged this long before its estimate is fetched. */
export const ESTIMATE_DELAY_MS = 350;

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

const count = new Intl.NumberFormat("en");

/** "≤ $0.0028", "$0.00", "cost unknown": an estimate's cost is an upper bound. */
export function costLabel(cost) {
  if (cost === null || cost === undefined) return "cost unknown (no known price)";
  if (cost === 0) return "$0.00";
  return `≤ $${cost < 0.01 ? cost.toFixed(4) : cost.toFixed(2)}`;
}

export function secondsLabel(seconds) {
  if (seconds < 1) return "under 1 s";
  if (seconds < 90) return `~${Math.round(seconds)} s`;
  return `~${Math.round(seconds / 60)} min`;
}

/** One line of the estimate panel, e.g. "Classify: 12 model calls, 4,380 + ≤3,600 tokens, ≤ $0.0028, ~4 s". */
export function estimateLine(kind, answer) {
  const name = capitalize(kind);
  if (answer.over) return `${name}: over the limit of ${limitState(kind, 0).limit} emails`;
  if (answer.error) return `${name}: ${describeError(answer.error, () => "").title}`;
  const e = answer.estimate;
  const calls = e.llm_calls ? plural(e.llm_calls, "model call") : "no model calls";
  const tokens = e.llm_calls
    ? `, ${count.format(e.prompt_tokens)} + ≤${count.format(e.completion_tokens)} tokens`
    : "";
  return `${name}: ${calls}${tokens}, ${costLabel(e.cost_usd)}, ${secondsLabel(e.seconds)}`;
}

/**
 * The estimate panel: fetched once the selection has settled (no change for
 * `delay` ms); an answer for an older selection is dropped, and its request aborted.
 * `fetchEstimate(kind, ids, signal)` resolves to the API's estimate.
 */
export class EstimatePanel {
  #timer = null;
  #seq = 0;
  #abort = null;

  constructor(fetchEstimate, delay = ESTIMATE_DELAY_MS) {
    this.fetchEstimate = fetchEstimate;
    this.delay = delay;
  }

  update(ids) {
    clearTimeout(this.#timer);
    this.#abort?.abort();
    const seq = ++this.#seq;
    const panel = $("estimate");
    panel.hidden = ids.length === 0;
    if (!ids.length) return;
    panel.setAttribute("aria-busy", "true");
    $("estimate-title").textContent = `Estimating ${plural(ids.length, "email")}…`;
    this.#timer = setTimeout(() => this.#fetch(seq, [...ids]), this.delay);
  }

  async #fetch(seq, ids) {
    const abort = new AbortController();
    this.#abort = abort;
    const answers = await Promise.all(
      Object.keys(ACTIONS).map(async (kind) => {
        if (limitState(kind, ids.length).over) return { kind, over: true };
        try {
          return { kind, estimate: await this.fetchEstimate(kind, ids, abort.signal) };
        } catch (error) {
          return { kind, error };
        }
      }),
    );
    if (seq !== this.#seq) return; // the selection changed meanwhile
    $("estimate-title").textContent = `Estimate for ${plural(ids.length, "email")} (at most)`;
    for (const answer of answers) $(`estimate-${answer.kind}`).textContent = estimateLine(answer.kind, answer);
    $("estimate").removeAttribute("aria-busy");
    const unpriced = answers.some((a) => a.estimate && a.estimate.cost_usd === null);
    const budget = $("budget");
    budget.disabled = unpriced;
    $("budget-help").textContent = unpriced
      ? "No budget: the model has no known price."
      : "Stops starting emails once the job has spent this much.";
  }
}

/**
 * The budget typed in the toolbar: a number above 0, null when empty, or
 * undefined (after saying why) when it is not a valid amount.
 */
export function readBudget() {
  const input = $("budget");
  const text = input.value.trim();
  input.setCustomValidity("");
  if (input.disabled || text === "") return null;
  const amount = Number(text);
  if (!(amount > 0) || !Number.isFinite(amount)) {
    input.setCustomValidity("Enter an amount above 0 in US dollars, or leave it empty.");
    input.reportValidity();
    return undefined;
  }
  return amount;
}
