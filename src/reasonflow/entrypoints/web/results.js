// The progress modal's per-email results: one row per finished email as it
// lands (from the stream's `email` events, or from a status body's errors when
// polling), failures first once the job has finished. Each subject is a button
// that asks the page to open the email (`rf:open-email`, detail `{id}`).

import { el, plural, quoted } from "./dom.js";
import { INTENTS, STATUSES } from "./format.js";

export const OPEN_EMAIL = "rf:open-email";
const OUTCOMES = { succeeded: "Succeeded", failed: "Failed", cancelled: "Not started" };
const ORDER = { failed: 0, succeeded: 1, cancelled: 2 };

/** Ask whoever shows emails (the detail panel) to open this one. */
export function openEmail(id) {
  document.dispatchEvent(new CustomEvent(OPEN_EMAIL, { detail: { id } }));
}

export class ResultsList {
  /**
   * @param {{list: HTMLElement, summary: HTMLElement, section: HTMLElement}} nodes
   * @param {{subjectOf: Function, lookup: Function, onOpen: Function}} handlers
   */
  constructor(nodes, handlers) {
    this.nodes = nodes;
    this.handlers = handlers;
    this.reset();
  }

  reset() {
    this.entries = new Map();
    this.arrival = 0;
    this.done = 0;
    this.finished = false;
    this.nodes.list.replaceChildren();
    this.#summarise();
  }

  get size() {
    return this.entries.size;
  }

  /** One email's outcome `{email_id, outcome, intent, status, error}`; a repeat only fills gaps. */
  add(result) {
    const known = this.entries.get(result.email_id);
    if (known) {
      const merged = { ...known.result };
      for (const [key, value] of Object.entries(result)) merged[key] ??= value;
      known.result = merged;
      this.#fill(known);
      return;
    }
    const list = this.nodes.list;
    const atEnd = list.scrollTop + list.clientHeight >= list.scrollHeight - 8;
    const entry = { result: { ...result }, order: this.arrival++, node: el("li") };
    this.entries.set(result.email_id, entry);
    this.#fill(entry);
    list.append(entry.node);
    if (this.finished) this.#sort();
    else if (atEnd) list.scrollTop = list.scrollHeight; // follow the newest unless the user scrolled up
    this.#summarise();
  }

  /** A status body: its failures count as results, its counts say what is still unlisted. */
  sync(job) {
    for (const error of job.errors ?? []) {
      this.add({ email_id: error.email_id, outcome: "failed", intent: null, status: null, error: error.error });
    }
    this.done = job.processed + job.cancelled;
    this.#summarise();
  }

  /** The job has finished: failures first, then the rest in the order they landed. */
  finish() {
    this.finished = true;
    this.#summarise();
    this.#sort();
  }

  #sort() {
    const entries = [...this.entries.values()].sort(
      (a, b) => ORDER[a.result.outcome] - ORDER[b.result.outcome] || a.order - b.order,
    );
    const focused = document.activeElement;
    this.nodes.list.replaceChildren(...entries.map((entry) => entry.node));
    if (focused && this.nodes.list.contains(focused)) focused.focus();
    this.nodes.list.scrollTop = 0;
  }

  #fill(entry) {
    const { email_id: id, outcome, intent, status, error } = entry.result;
    const subject = this.handlers.subjectOf(id);
    const open = el("button", {
      class: "result-open",
      text: quoted(subject),
      attrs: { type: "button", title: "Open this email" },
    });
    if (!subject) {
      this.handlers.lookup(id).then((found) => {
        if (found) open.textContent = quoted(found);
      });
    }
    open.addEventListener("click", () => this.handlers.onOpen(id));
    const facts = [INTENTS[intent], STATUSES[status]].filter(Boolean).join(" \u00b7 ");
    entry.node.className = `result result-${outcome}`;
    const parts = [
      open,
      el("span", { class: `badge outcome outcome-${outcome}`, text: OUTCOMES[outcome] ?? outcome }),
    ];
    if (facts) parts.push(el("span", { class: "result-facts", text: facts }));
    if (error) parts.push(el("span", { class: "result-error", text: error }));
    entry.node.replaceChildren(...parts);
  }

  #summarise() {
    const { section, summary } = this.nodes;
    const unlisted = this.done - this.entries.size;
    section.hidden = this.entries.size === 0 && unlisted <= 0;
    summary.textContent =
      unlisted > 0
        ? `${plural(this.entries.size, "email")} listed; ${unlisted} more finished (their results show in the inbox).`
        : `${plural(this.entries.size, "email")} finished${this.finished ? "" : " so far"}.`;
  }
}
