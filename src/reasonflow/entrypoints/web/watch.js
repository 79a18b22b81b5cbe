// Follows one batch job: the event stream first, polling every 2 s as fallback.
// Nothing is requested once the job has finished, after 5 minutes of polling,
// or while the page is hidden; `resume()` picks up again if it still runs.
// A stream that drops mid-job is opened again with Last-Event-ID (no email
// event twice, none missed); polling starts only when it cannot be reopened.

import { api } from "./api.js";
import { readEvents } from "./sse.js";

export const FINISHED = new Set(["completed", "failed", "cancelled"]);
export const POLL_INTERVAL_MS = 2000;
export const POLL_LIMIT_MS = 5 * 60 * 1000;
/** A dropped stream is reopened after the server's `retry` (2 s), this many times in a row. */
export const STREAM_REOPENS = 3;
const REOPEN_DELAY_MS = 2000;

export class JobWatcher {
  /**
   * @param {string} jobId
   * @param {{onStatus: Function, onEmail: Function, onGone: Function, onTimeout: Function}} handlers
   *   `onEmail({email_id, outcome, intent, status, error})` runs once per finished email.
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
    this.lastEventId = "";
    this.reopens = 0;
    this.streamed = false;
  }

  start() {
    if (this.finished || this.running) return;
    this.running = true;
    this.paused = false;
    this.reopens = 0;
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

  #deliver(status, polled = false) {
    if (this.finished) return;
    if (FINISHED.has(status.status)) {
      this.finished = true;
      this.stop();
      // Polled to the end after the stream dropped: fetch the email events missed meanwhile.
      if (polled && this.streamed) this.#catchUp();
    }
    this.handlers.onStatus(status);
  }

  #event(event) {
    if (event.id) this.lastEventId = event.id;
    if (event.type === "email") {
      this.reopens = 0;
      this.handlers.onEmail?.(JSON.parse(event.data));
    } else if (event.type === "progress") {
      this.reopens = 0;
      this.#deliver(JSON.parse(event.data));
    }
  }

  /** Open the stream (resuming after `lastEventId`); false when the server offers none. */
  async #read(signal, onEvent) {
    const response = await api.stream(this.jobId, signal, this.lastEventId);
    const type = response.headers.get("Content-Type") ?? "";
    if (!response.ok || !type.startsWith("text/event-stream")) {
      response.body?.cancel().catch(() => {});
      return false;
    }
    this.streamed = true;
    await readEvents(response.body, onEvent, signal);
    return true;
  }

  async #stream(signal) {
    let opened = false;
    try {
      opened = await this.#read(signal, (event) => this.#event(event));
    } catch (error) {
      // A network error: the same as a stream that cut off.
      opened = this.streamed;
    }
    if (signal.aborted || this.finished) return;
    if (opened && this.reopens < STREAM_REOPENS) {
      this.reopens += 1;
      this.timer = setTimeout(() => this.#stream(signal), REOPEN_DELAY_MS);
      return;
    }
    this.#startPolling(signal);
  }

  /** One more stream read of a finished job: only its email events are still news. */
  async #catchUp() {
    const controller = new AbortController();
    try {
      await this.#read(controller.signal, (event) => {
        if (event.id) this.lastEventId = event.id;
        if (event.type === "email") this.handlers.onEmail?.(JSON.parse(event.data));
      });
    } catch {
      // Nothing more to learn: the counts and the errors are already shown.
    }
  }

  #startPolling(signal) {
    this.deadline = Date.now() + POLL_LIMIT_MS;
    this.#poll(signal);
  }

  async #poll(signal) {
    this.timer = null;
    try {
      this.#deliver(await api.status(this.jobId, signal), true);
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
