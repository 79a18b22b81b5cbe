// The jobs panel: the user's recent batch jobs from the API, newest first, each
// with its kind, counts, status and age; a running job reopens in the progress
// modal, a finished one shows its results there. Nothing is kept in storage.

import { api } from "./api.js";
import { $, el, plural } from "./dom.js";
import { FINISHED } from "./watch.js";

export const KINDS = { classify: "Classify", process: "Process" };
const STATES = {
  queued: "Waiting",
  processing: "Running",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};
const LIMIT = 10;
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** "just now", "3 minutes ago", "yesterday". */
export function age(iso, now = Date.now()) {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  if (Number.isNaN(seconds)) return "";
  if (seconds > -45) return "just now";
  for (const [unit, size] of [["day", 86400], ["hour", 3600], ["minute", 60]]) {
    if (-seconds >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return relative.format(-1, "minute");
}

/** "12 of 20 done · 1 failed · 3 not started". */
export function progressText(job) {
  const parts = [`${job.processed} of ${plural(job.total, "email")} done`];
  if (job.failed) parts.push(`${job.failed} failed`);
  if (job.cancelled) parts.push(`${job.cancelled} not started`);
  return parts.join(" \u00b7 ");
}

export class JobsPanel {
  /** @param {{onOpen: Function}} handlers `onOpen(job)` shows the job in the progress modal. */
  constructor(handlers) {
    this.handlers = handlers;
    this.jobs = [];
    this.loading = null;
    this.pending = null;
    $("jobs-refresh").addEventListener("click", () => this.load());
  }

  /**
   * Fetch the recent jobs and show them; resolves to the list (empty on failure).
   * A call while a fetch is in flight waits for it and then fetches once more,
   * so a job submitted meanwhile is never missing.
   */
  load() {
    if (this.loading) {
      this.pending ??= this.loading.then(() => {
        this.pending = null;
        return this.load();
      });
      return this.pending;
    }
    this.loading = api
      .jobs(LIMIT)
      .then((page) => {
        this.jobs = page.items;
        this.#render();
        return this.jobs;
      })
      .catch(() => {
        this.#render("Your jobs could not be loaded. Try Reload jobs.");
        return [];
      })
      .finally(() => {
        this.loading = null;
      });
    return this.loading;
  }

  /** A newer status of a listed job (from the watcher), without a request. */
  update(status) {
    const index = this.jobs.findIndex((job) => job.job_id === status.job_id);
    if (index === -1) return;
    this.jobs[index] = { ...this.jobs[index], ...status };
    this.#render();
  }

  clear() {
    this.jobs = [];
    this.#render();
  }

  #render(problem = "") {
    const rows = this.jobs.map((job) => this.#row(job));
    $("jobs-rows").replaceChildren(...rows);
    $("jobs-table").hidden = rows.length === 0;
    const message = $("jobs-message");
    message.textContent = problem || "No jobs yet: select emails and classify or process them.";
    message.hidden = !problem && rows.length > 0;
  }

  #row(job) {
    const running = !FINISHED.has(job.status);
    const name = `${KINDS[job.kind] ?? job.kind} \u00b7 ${plural(job.total, "email")}`;
    const open = el("button", {
      class: "btn btn-small",
      text: running ? "Show progress" : "Show results",
      attrs: { type: "button", "aria-label": `${running ? "Show progress" : "Show results"}: ${name}` },
    });
    open.addEventListener("click", () => this.handlers.onOpen(job));
    const started = el("time", {
      text: age(job.created_at),
      attrs: { datetime: job.created_at, title: full.format(new Date(job.created_at)) },
    });
    return el("tr", { attrs: { "data-job": job.job_id } }, [
      el("th", { text: name, attrs: { scope: "row" } }),
      el("td", { class: "jobs-progress", text: progressText(job) }),
      el("td", {}, [el("span", { class: `badge job-${job.status}`, text: STATES[job.status] ?? job.status })]),
      el("td", {}, [started]),
      el("td", { class: "jobs-action" }, [open]),
    ]);
  }
}
