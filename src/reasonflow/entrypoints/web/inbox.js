// The inbox table: filters, keyset paging, and a checkbox per row.

import { api } from "./api.js";
import { $, el, plural } from "./dom.js";
import { INTENTS, STATUSES, percent, receivedLabel, splitSender } from "./format.js";

const PREVIEW_CHARS = 90;

export class Inbox {
  /**
   * @param {import("./selection.js").Selection} selection
   * @param {{onError: Function, onRender: Function, onOpen: Function}} handlers
   *   `onOpen(id)` opens an email (its subject is a button).
   */
  constructor(selection, handlers) {
    this.selection = selection;
    this.handlers = handlers;
    /** Every email seen this session, by id: names emails in messages. */
    this.known = new Map();
    this.items = [];
    this.cursors = [null];
    this.page = 0;
    this.nextCursor = null;
    this.loads = 0;
    this.anchor = null; // the last row toggled by a click, for shift-click ranges

    for (const id of ["filter-status", "filter-intent", "page-size"]) {
      $(id).addEventListener("change", () => this.#firstPage());
    }
    $("refresh").addEventListener("click", () => this.load());
    $("prev-page").addEventListener("click", () => this.#turn(-1));
    $("next-page").addEventListener("click", () => this.#turn(1));
    $("select-page").addEventListener("change", () => this.#togglePage());
    $("rows").addEventListener("click", (event) => this.#rowClick(event));
    selection.onChange(() => this.syncSelection());
  }

  subjectOf(id) {
    return this.known.get(id)?.subject ?? this.selection.emails().find((e) => e.id === id)?.subject ?? "";
  }

  /** Emails of the current page that are selected. */
  selectedHere() {
    return this.items.filter((email) => this.selection.has(email.id)).length;
  }

  async load() {
    const load = ++this.loads;
    const table = $("inbox-table");
    table.setAttribute("aria-busy", "true");
    try {
      const page = await api.emails({
        status: $("filter-status").value,
        intent: $("filter-intent").value,
        limit: Number($("page-size").value),
        cursor: this.cursors[this.page],
      });
      if (load !== this.loads) return;
      this.items = page.items;
      this.nextCursor = page.next_cursor;
      for (const email of page.items) this.known.set(email.id, email);
      this.#render();
    } catch (error) {
      if (load === this.loads) this.handlers.onError(error);
    } finally {
      if (load === this.loads) table.removeAttribute("aria-busy");
    }
  }

  #firstPage() {
    this.cursors = [null];
    this.page = 0;
    this.load();
  }

  #turn(step) {
    if (step > 0) {
      if (!this.nextCursor) return;
      this.cursors[this.page + 1] = this.nextCursor;
    } else if (this.page === 0) {
      return;
    }
    this.page += step;
    const button = $(step > 0 ? "next-page" : "prev-page");
    this.load().then(() => {
      // Keep focus on the pager for the next press; on the last page it has nowhere to stay.
      const lost = document.activeElement === button || document.activeElement === document.body;
      if (button.disabled && lost) $("inbox-title").focus();
    });
  }

  /** The button that opens the email's row on this page, if it is shown. */
  rowButton(id) {
    return [...$("rows").rows].find((row) => row.dataset.id === id)?.querySelector(".open-email") ?? null;
  }

  #render() {
    // A reload must not drop the focus of a row's button: it moves to the new one.
    const active = document.activeElement;
    const focusedId = active?.classList.contains("open-email") ? active.closest("tr")?.dataset.id : null;
    const rows = this.items.map((email, index) => this.#row(email, index));
    $("rows").replaceChildren(...rows);
    if (focusedId && !active.isConnected) this.rowButton(focusedId)?.focus();
    $("empty").hidden = this.items.length > 0;
    $("prev-page").disabled = this.page === 0;
    $("next-page").disabled = !this.nextCursor;
    const first = this.page * Number($("page-size").value);
    $("page-status").textContent = this.items.length
      ? `Page ${this.page + 1} \u00b7 emails ${first + 1}\u2013${first + this.items.length}`
      : `Page ${this.page + 1}`;
    this.syncSelection();
    this.handlers.onRender?.();
  }

  #row(email, index) {
    const checkbox = el("input", {
      class: "row-check",
      attrs: { type: "checkbox", "aria-label": `Select email: ${email.subject || "(no subject)"}` },
    });
    checkbox.dataset.index = String(index);
    // "click" (not "change") carries shiftKey; Space on the box fires it too.
    checkbox.addEventListener("click", (event) => this.#check(index, checkbox.checked, event));

    const sender = splitSender(email.sender);
    const received = receivedLabel(email.received_at);
    const preview = (email.body ?? "").replace(/\s+/g, " ").trim().slice(0, PREVIEW_CHARS);

    const row = el("tr", {}, [
      el("td", { class: "col-check" }, [checkbox]),
      el("td", { class: "col-sender" }, [
        el("span", { class: "sender-name", text: sender.name }),
        sender.address ? el("span", { class: "sender-address", text: sender.address }) : null,
      ]),
      el("td", { class: "col-subject" }, [
        openButton(email, () => this.handlers.onOpen?.(email.id)),
        preview ? el("span", { class: "preview", text: preview }) : null,
      ]),
      el("td", { class: "col-received" }, [
        el("time", { text: received.short, attrs: { datetime: email.received_at, title: received.long } }),
      ]),
      el("td", { class: "col-intent" }, [intentBadge(email)]),
      el("td", { class: "col-status" }, [statusBadge(email)]),
    ]);
    row.dataset.id = email.id;
    return row;
  }

  #check(index, checked, event) {
    const email = this.items[index];
    const range = event?.shiftKey && this.anchor !== null ? [this.anchor, index].sort((a, b) => a - b) : null;
    this.anchor = index;
    const emails = range ? this.items.slice(range[0], range[1] + 1) : [email];
    this.selection.set(emails, checked);
  }

  #rowClick(event) {
    // A click anywhere on a row toggles it (mouse comfort); keyboard users have the checkbox.
    if (event.target.closest("input, button, a, label")) return;
    if (window.getSelection()?.toString()) return;
    const checkbox = event.target.closest("tr")?.querySelector(".row-check");
    if (!checkbox) return;
    checkbox.checked = !checkbox.checked;
    this.#check(Number(checkbox.dataset.index), checkbox.checked, event);
  }

  #togglePage() {
    const all = this.items.length > 0 && this.items.every((email) => this.selection.has(email.id));
    this.selection.set(this.items, !all);
  }

  /** Reflect the selection in the checkboxes, row highlights and the header box. */
  syncSelection() {
    for (const row of $("rows").rows) {
      const selected = this.selection.has(row.dataset.id);
      row.classList.toggle("is-selected", selected);
      row.querySelector(".row-check").checked = selected;
    }
    const here = this.selectedHere();
    const header = $("select-page");
    header.disabled = this.items.length === 0;
    header.checked = here > 0 && here === this.items.length;
    header.indeterminate = here > 0 && here < this.items.length;
    header.setAttribute(
      "aria-label",
      `Select all ${plural(this.items.length, "email")} on this page`,
    );
  }
}

function openButton(email, onOpen) {
  // Its name is the subject; the description says what it does.
  const button = el("button", {
    class: "open-email subject",
    text: email.subject || "(no subject)",
    attrs: { type: "button", title: "Open this email" },
  });
  button.addEventListener("click", onOpen);
  return button;
}

function intentBadge(email) {
  if (!email.intent) return el("span", { class: "badge badge-none", text: "Not classified" });
  const badge = el("span", { class: `badge intent-${email.intent}` }, [
    el("span", { text: INTENTS[email.intent] ?? email.intent }),
  ]);
  if (email.confidence !== null && email.confidence !== undefined) {
    badge.append(
      el("span", { class: "confidence", attrs: { title: "Classifier confidence" } }, [
        el("span", { class: "visually-hidden", text: "confidence " }),
        `${percent(email.confidence, 1)}%`,
      ]),
    );
  }
  return badge;
}

function statusBadge(email) {
  const badge = el("span", { class: `badge status-${email.status}`, text: STATUSES[email.status] ?? email.status });
  if (email.last_error) {
    badge.append(
      el("span", { class: "status-error", attrs: { title: email.last_error } }, [
        el("span", { attrs: { "aria-hidden": "true" }, text: "!" }),
        el("span", { class: "visually-hidden", text: ` (last error: ${email.last_error})` }),
      ]),
    );
  }
  return badge;
}
