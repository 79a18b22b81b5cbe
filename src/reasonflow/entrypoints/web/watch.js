// Follows one batch job: the event stream first, polling every 2 s as fallback.
// Nothing is requested once the job has finished, after 5 minutes of polling,
// or while the page is hidden; `resume()` picks up again if it still runs.

import { api } from "./api.js";
import { readEvents } from "./sse.js";

export const FINISHED = new Set(["completed", "failed", "cancelled"]);
export const POLL_INTERVAL_MS = 2000;
export const POLL_LIMIT_MS = 5 * 60 * 1000;

export class JobWatcher {
  /**
   * @param {string} jobId
   * @param {{onStatus: Function, onGone: Function, onTimeout: Function}} handlers
   */
  constructor(jobId, handlers) {
    this.jobId = jobId;
    this.handlers = handlers;
    this.finished = false;
    this.running = false;
    this.paused = false;
    this.controller = null;
    this.timer = null;
    this.deadline = 0;
  }

  start() {
    if (this.finished || this.running) return;
    this.running = true;
    this.paused = false;
    this.controller = new AbortController();
    this.#stream(this.controller.signal);
  }

  /** Stop every request and timer for good (finished, gave up, modal closed). */
  stop() {
    this.running = false;
    this.paused = false;
    this.controller?.abort();
    this.controller = null;
    clearTimeout(this.timer);
    this.timer = null;
  }

  /** The page is hidden or left: stop asking, but remember to pick up again. */
  pause() {
    if (!this.running) return;
    this.stop();
    this.paused = true;
  }

  /** The page is shown again: follow the job again if it was paused. */
  resume() {
    if (this.paused) this.start();
  }

  #deliver(status) {
    if (this.finished) return;
    if (FINISHED.has(status.status)) {
      this.finished = true;
      this.stop();
    }
    this.handlers.onStatus(status);
  }

  async #stream(signal) {
    try {
      const response = await api.stream(this.jobId, signal);
      const type = response.headers.get("Content-Type") ?? "";
      if (!response.ok || !type.startsWith("text/event-stream")) {
        response.body?.cancel().catch(() => {});
        throw new Error(`no stream (HTTP ${response.status})`);
      }
      await readEvents(
        response.body,
        (event) => {
          if (event.type === "progress") this.#deliver(JSON.parse(event.data));
        },
        signal,
      );
      if (signal.aborted || this.finished) return;
      throw new Error("the stream ended before the job finished");
    } catch (error) {
      if (signal.aborted || this.finished) return;
      this.#startPolling(signal);
    }
  }

  #startPolling(signal) {
    this.deadline = Date.now() + POLL_LIMIT_MS;
    this.#poll(signal);
  }

  async #poll(signal) {
    this.timer = null;
    try {
      this.#deliver(await api.status(this.jobId, signal));
    } catch (error) {
      if (signal.aborted) return;
      if (error.status === 404) {
        this.finished = true;
        this.stop();
        this.handlers.onGone();
        return;
      }
      // A network error or a 5xx: keep trying until the deadline.
    }
    if (signal.aborted || this.finished) return;
    if (Date.now() >= this.deadline) {
      this.stop();
      this.handlers.onTimeout();
      return;
    }
    this.timer = setTimeout(() => this.#poll(signal), POLL_INTERVAL_MS);
  }
}
