// The email detail panel: one email at a time in a modal <dialog>, with the
// review actions, next/previous without closing, and the review queue's walk.

import { api } from "./api.js";
import { renderDone, renderEmail, renderState, renderThread, showMessage } from "./detail-view.js";
import { $, announce, plural, quoted } from "./dom.js";
import { actionError, allowed, earlierInThread, loadQueue, refusal, sendReply } from "./review.js";

const TYPING = "textarea, input, select, [contenteditable]";
const ACTIONS = ["approve", "reject", "send"];
const DONE = { approve: "Approved", reject: "Rejected", send: "Sent" };

export class DetailPanel {
  /**
   * @param {{onChange: Function, rowButton: Function}} handlers `onChange(email)`
   *   after an action changed an email; `rowButton(id)` finds its inbox row's button.
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.dialog = $("detail");
    this.ids = [];
    this.index = 0;
    this.queue = false;
    this.email = null;
    this.opener = null;
    this.busy = null;
    this.loads = 0;
    this.reviewed = 0;
    this.lockedScroll = false;
    this.fromInbox = false;
    /** Unsaved edits of drafts, by email id: closing or moving on keeps them. */
    this.edits = new Map();

    $("detail-close").addEventListener("click", () => this.close());
    $("detail-prev").addEventListener("click", () => this.step(-1));
    $("detail-next").addEventListener("click", () => this.step(1));
    for (const action of ACTIONS) $(`detail-${action}`).addEventListener("click", () => this.act(action));
    $("detail-recheck").addEventListener("click", () => this.#recheck());
    $("detail-draft").addEventListener("input", (event) => {
      if (this.email) this.edits.set(this.email.id, event.target.value);
    });
    this.dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      this.close();
    });
    this.dialog.addEventListener("close", () => this.#closed());
    // Capture phase: while the panel is open its keys are its own, and the
    // progress modal it may cover never sees them.
    document.addEventListener("keydown", (event) => this.isOpen && this.#key(event), true);
  }

  get isOpen() {
    return this.dialog.open;
  }

  /** Open on one email; next and previous walk `ids` (the inbox page) when it is among them. */
  open(id, ids = []) {
    this.queue = false;
    this.ids = ids.includes(id) ? [...ids] : [id];
    this.index = this.ids.indexOf(id);
    this.#show();
    this.#load();
  }

  /** The review queue: needs-review and drafted emails, oldest first, one after another. */
  async openQueue() {
    this.queue = true;
    this.ids = [];
    this.index = 0;
    this.reviewed = 0;
    this.email = null;
    this.#show();
    $("detail-position").textContent = "Review queue: loading\u2026";
    $("detail-subject").textContent = "Review queue";
    const load = ++this.loads;
    try {
      const emails = await loadQueue();
      if (load !== this.loads) return;
      this.ids = emails.map((email) => email.id);
    } catch (error) {
      if (load === this.loads) showMessage(actionError(error));
      return;
    }
    if (this.ids.length) this.#load();
    else this.#done();
  }

  close() {
    if (this.isOpen) this.dialog.close();
  }

  /** Next (+1) or previous (-1); past the queue's end, look for more. */
  step(delta) {
    const next = this.index + delta;
    if (next < 0 || this.busy) return;
    if (next >= this.ids.length) {
      if (this.queue && this.index < this.ids.length) this.#recheck();
      return;
    }
    this.index = next;
    this.#load();
  }

  async act(action) {
    const email = this.email;
    if (!email || this.busy) return;
    if (!allowed(email.status)[action]) {
      showMessage(refusal(action, email.status));
      return;
    }
    let draft;
    if (action === "approve") {
      draft = $("detail-draft").value;
      if (!draft.trim()) {
        showMessage("Write a reply before approving: there is no draft to send.");
        $("detail-draft").focus();
        return;
      }
    }
    this.busy = action;
    showMessage(null);
    renderState(email, { busy: action });
    let result;
    try {
      result =
        action === "send"
          ? await sendReply(email.id, (sending) => this.#apply(sending))
          : await api.review(email.id, action, draft);
    } catch (error) {
      this.busy = null;
      showMessage(actionError(error));
      // The email may have moved on meanwhile: show where it stands now.
      this.#apply(await api.email(email.id).catch(() => email));
      return;
    }
    this.busy = null;
    if (action === "approve") this.edits.delete(email.id);
    this.#apply(result);
    if (result.status === "sending") {
      showMessage("Still sending after 30 seconds: the outbox delivers it in the background.");
      return;
    }
    announce(`${DONE[action]}: ${quoted(email.subject)}.`);
    if (this.queue && action !== "send" && this.email?.id === email.id) {
      this.reviewed += 1;
      this.step(1);
    } else if (this.email?.id === email.id) {
      (action === "approve" ? $("detail-send") : $("detail-subject")).focus();
    }
  }

  #show() {
    if (!this.isOpen) {
      this.opener = document.activeElement;
      // Rows are rebuilt when the inbox reloads: remember where the opener was.
      this.fromInbox = $("app-shell").contains(this.opener);
      this.lockedScroll = !document.body.classList.contains("has-modal");
      this.dialog.showModal();
      if (this.lockedScroll) document.body.classList.add("has-modal");
    }
    showMessage(null);
    $("detail-subject").focus();
  }

  #position() {
    const where = `${this.index + 1} of ${this.ids.length}`;
    let text = "";
    if (this.queue) {
      text = this.index < this.ids.length ? `Review queue: ${where}, oldest first` : "Review queue";
    } else if (this.ids.length > 1) {
      text = `Email ${where} on this page`;
    }
    $("detail-position").textContent = text;
    $("detail-prev").disabled = this.index === 0;
    $("detail-next").disabled = this.queue ? this.index >= this.ids.length : this.index >= this.ids.length - 1;
  }

  async #load() {
    const id = this.ids[this.index];
    const load = ++this.loads;
    this.email = null;
    this.#position();
    showMessage(null);
    for (const action of ACTIONS) $(`detail-${action}`).disabled = true;
    let email;
    try {
      email = await api.email(id);
    } catch (error) {
      if (load === this.loads) showMessage(actionError(error));
      return;
    }
    if (load !== this.loads || !this.isOpen) return;
    this.email = email;
    renderEmail(email, this.edits.get(id));
    $("detail-subject").focus();
    const earlier = await earlierInThread(email).catch(() => null);
    if (load === this.loads) renderThread(earlier);
  }

  /** The email as the server answered: the row and, if still shown, the panel follow. */
  #apply(email) {
    this.handlers.onChange(email);
    if (this.email?.id !== email.id) return;
    this.email = email;
    renderState(email, { busy: this.busy });
    if (!this.edits.has(email.id)) $("detail-draft").value = email.draft ?? "";
    if (email.status === "sending") announce("Sending\u2026");
  }

  async #recheck() {
    let fresh;
    try {
      fresh = await loadQueue();
    } catch (error) {
      showMessage(actionError(error));
      return;
    }
    const seen = new Set(this.ids);
    const added = fresh.map((email) => email.id).filter((id) => !seen.has(id));
    if (!added.length) {
      this.#done();
      return;
    }
    this.index = this.ids.length;
    this.ids.push(...added);
    announce(`${plural(added.length, "more email")} to review.`);
    this.#load();
  }

  #done() {
    this.loads += 1;
    this.index = this.ids.length;
    this.email = null;
    this.#position();
    renderDone(this.reviewed);
    $("detail-subject").focus();
    announce($("detail-done-text").textContent);
  }

  #closed() {
    this.loads += 1;
    if (this.lockedScroll) document.body.classList.remove("has-modal");
    const target = this.#returnTarget();
    this.email = null;
    target?.focus();
  }

  /** Back to the row of the email last shown, else to whatever opened the panel. */
  #returnTarget() {
    const opener = this.opener;
    if (!this.queue && this.email && this.fromInbox) {
      const row = this.handlers.rowButton(this.email.id);
      if (row) return row;
    }
    if (opener?.isConnected && !opener.closest("[inert]")) return opener;
    return $("inbox-title");
  }

  #key(event) {
    event.stopPropagation();
    if (event.key === "Escape") {
      event.preventDefault();
      this.close();
      return;
    }
    if (event.target.closest?.(TYPING)) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        this.act("approve");
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    const commands = {
      j: () => this.step(1),
      ArrowRight: () => this.step(1),
      k: () => this.step(-1),
      ArrowLeft: () => this.step(-1),
      e: () => this.email && $("detail-draft").focus(),
      a: () => this.act("approve"),
      r: () => this.act("reject"),
      s: () => this.act("send"),
    };
    if (!commands[key]) return;
    event.preventDefault();
    commands[key]();
  }
}
