// The batch progress modal: a bar, counts, the error list and the job's actions.
// Modal for real: the page behind is inert, focus is trapped, and Escape closes
// it only once the job has finished.

import { $, announce, el, plural, quoted } from "./dom.js";
import { percent } from "./format.js";
import { openEmail, ResultsList } from "./results.js";
import { FINISHED } from "./watch.js";

const FOCUSABLE = "button, summary, [href], input, select, textarea, [tabindex]:not([tabindex='-1'])";

export function statusLine(job, cancelling = false) {
  const { status, processed, total, succeeded, failed, cancelled } = job;
  if (status === "queued") return `Waiting for a free slot\u2026 0 of ${plural(total, "email")} started.`;
  if (status === "processing") {
    if (cancelling) return `Cancelling\u2026 ${processed} of ${plural(total, "email")} done so far.`;
    return `Processing ${processed} of ${total} emails...`;
  }
  if (status === "cancelled" && job.cancel_reason === "budget") {
    return `Stopped at its budget: ${processed} of ${plural(total, "email")} done, ${cancelled} not started.`;
  }
  if (status === "cancelled") return `Cancelled: ${processed} of ${plural(total, "email")} done, ${cancelled} not started.`;
  if (status === "failed") return `Failed: none of the ${plural(total, "email")} went through.`;
  if (failed > 0) return `Done: ${succeeded} of ${plural(total, "email")} succeeded, ${failed} failed.`;
  return `Done: all ${plural(total, "email")} succeeded.`;
}

export class ProgressModal {
  /**
   * @param {{onCancel: Function, onRetry: Function, onClose: Function,
   *          subjectOf: Function, lookup: Function}} handlers
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.job = null;
    this.opener = null;
    this.cancelling = false;
    this.detached = false;
    this.shownErrors = 0;
    this.root = $("modal-root");
    this.dialog = $("progress-modal");
    $("modal-close").addEventListener("click", () => this.close());
    $("modal-cancel").addEventListener("click", () => this.#cancel());
    $("modal-retry").addEventListener("click", () => this.#retry());
    this.results = new ResultsList(
      { list: $("result-list"), summary: $("result-summary"), section: $("results") },
      { subjectOf: handlers.subjectOf, lookup: handlers.lookup, onOpen: openEmail },
    );
    document.addEventListener("keydown", (event) => {
      // A dialog shown above this one (the email detail panel) has the keys to itself.
      if (this.isOpen && !event.target.closest?.("dialog[open]")) this.#key(event);
    });
  }

  get isOpen() {
    return !this.root.hidden;
  }

  get finished() {
    return Boolean(this.job && FINISHED.has(this.job.status));
  }

  /** Finished, or no longer followed (see `detach`): the modal may close. */
  get closable() {
    return this.finished || this.detached;
  }

  /** Show the modal for a job just accepted: `{job_id, status, total, processed}`. */
  open(accepted, title) {
    if (!this.isOpen) this.opener = document.activeElement;
    this.job = { succeeded: 0, failed: 0, cancelled: 0, errors: null, ...accepted };
    this.cancelling = false;
    this.detached = false;
    this.shownErrors = 0;
    $("modal-title").textContent = title;
    $("error-list").replaceChildren();
    $("error-details").open = false;
    this.results.reset();
    this.note(null);
    this.#render();
    this.root.hidden = false;
    $("app-shell").inert = true;
    document.body.classList.add("has-modal");
    $("modal-title").focus();
    announce(`${title}. ${statusLine(this.job)}`);
  }

  update(job) {
    if (!this.job || job.job_id !== this.job.job_id) return;
    const wasClosable = this.closable;
    const wasFinished = this.finished;
    this.job = job;
    if (this.finished) this.detached = false;
    this.results.sync(job);
    if (this.finished && !wasFinished) this.results.finish();
    this.#render();
    if (this.finished && !wasClosable) announce(statusLine(job));
    if (!wasClosable && this.closable) this.#focusClose();
  }

  /** One email of the followed job finished: `{email_id, outcome, intent, status, error}`. */
  email(result) {
    if (this.job) this.results.add(result);
  }

  /**
   * Stop presenting the job as followed (polling gave up, or the server forgot
   * it): the modal may close, and `message` says why.
   */
  detach(message, options) {
    if (!this.job || this.finished) return;
    this.detached = true;
    this.#render();
    this.note(message, options);
    this.#focusClose();
  }

  /** Following again after `detach` ("Check again"). */
  reattach() {
    if (!this.job || this.finished) return;
    this.detached = false;
    this.note(null);
    this.#render();
  }

  #focusClose() {
    const focus = document.activeElement;
    if (!this.dialog.contains(focus) || focus === $("modal-title") || focus.hidden || focus.disabled) {
      $("modal-close").focus();
    }
  }

  /** A message inside the modal (`null` clears it): `{title, text, action}` or a string. */
  note(message, { onAction = null } = {}) {
    const box = $("modal-note");
    box.replaceChildren();
    if (!message) return;
    const { title, text } = typeof message === "string" ? { title: message, text: "" } : message;
    box.append(el("p", { class: "note-title", text: title }));
    if (text) box.append(el("p", { text }));
    if (onAction) {
      const button = el("button", { class: "btn btn-small", text: message.actionLabel, attrs: { type: "button" } });
      button.addEventListener("click", () => onAction());
      box.append(button);
    }
  }

  close() {
    if (!this.isOpen || !this.closable) return;
    this.root.hidden = true;
    $("app-shell").inert = false;
    document.body.classList.remove("has-modal");
    const back = this.opener && document.contains(this.opener) ? this.opener : $("inbox-title");
    back.focus();
    this.job = null;
    this.handlers.onClose();
  }

  /** Close without waiting (sign-out or an expired session). */
  dismiss() {
    this.root.hidden = true;
    $("app-shell").inert = false;
    document.body.classList.remove("has-modal");
    this.job = null;
  }

  #render() {
    const job = this.job;
    const done = percent(job.processed, job.total);
    const bar = $("progress");
    bar.setAttribute("aria-valuenow", String(done));
    bar.setAttribute("aria-valuetext", `${done}% (${job.processed} of ${plural(job.total, "email")})`);
    $("progress-fill").style.width = `${done}%`;
    bar.dataset.state = job.status;
    $("progress-percent").textContent = `${done}%`;
    $("modal-status").textContent = statusLine(job, this.cancelling);
    $("count-succeeded").textContent = String(job.succeeded);
    $("count-failed").textContent = String(job.failed);
    $("count-cancelled").textContent = String(job.cancelled);
    $("cancelled-wrap").hidden = !job.cancelled;
    this.#renderErrors(job.errors ?? []);

    const finished = this.finished;
    const cancel = $("modal-cancel");
    cancel.hidden = finished;
    cancel.disabled = this.cancelling;
    cancel.textContent = this.cancelling ? "Cancelling\u2026" : "Cancel job";
    $("modal-retry").hidden = !(finished && job.failed > 0 && (job.errors ?? []).length > 0);
    const close = $("modal-close");
    close.disabled = !this.closable;
    if (this.closable) close.removeAttribute("aria-describedby");
    else close.setAttribute("aria-describedby", "close-hint");
    $("close-hint").hidden = this.closable;
  }

  #renderErrors(errors) {
    $("error-details").hidden = errors.length === 0;
    $("error-summary").textContent = `${plural(errors.length, "error")}: show which emails failed`;
    const list = $("error-list");
    for (const error of errors.slice(this.shownErrors)) {
      const subject = el("span", { class: "error-subject", text: quoted(this.handlers.subjectOf(error.email_id)) });
      if (!this.handlers.subjectOf(error.email_id)) {
        this.handlers.lookup(error.email_id).then((found) => {
          if (found) subject.textContent = quoted(found);
        });
      }
      list.append(el("li", {}, [subject, el("span", { class: "error-text", text: error.error })]));
    }
    this.shownErrors = Math.max(this.shownErrors, errors.length);
  }

  #cancel() {
    if (this.finished || this.cancelling) return;
    this.cancelling = true;
    this.#render();
    this.handlers.onCancel(this.job.job_id).catch(() => {
      this.cancelling = false;
      if (this.job) this.#render();
    });
  }

  #retry() {
    const retry = $("modal-retry");
    if (retry.disabled) return;
    const ids = [...new Set((this.job.errors ?? []).map((error) => error.email_id))];
    retry.disabled = true;
    this.handlers.onRetry(this.job, ids).finally(() => {
      retry.disabled = false;
    });
  }

  #key(event) {
    if (event.key === "Escape") {
      event.preventDefault();
      if (this.closable) this.close();
      else this.note("The job is still running: wait for it to finish, or cancel it.");
      return;
    }
    if (event.key !== "Tab") return;
    const items = [...this.dialog.querySelectorAll(FOCUSABLE)].filter(
      (node) => !node.disabled && node.getClientRects().length > 0,
    );
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    const active = document.activeElement;
    if (event.shiftKey && (active === first || !items.includes(active))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (active === last || !items.includes(active))) {
      event.preventDefault();
      first.focus();
    }
  }
}
