// The selection: email ids (with what we know of each) kept across pages and filters.

export const LIMITS = { classify: 100, process: 50 };
/** Warn from this share of a limit. */
export const WARN_FROM = 0.9;

export class Selection {
  #emails = new Map();
  #listeners = new Set();

  get size() {
    return this.#emails.size;
  }

  has(id) {
    return this.#emails.has(id);
  }

  ids() {
    return [...this.#emails.keys()];
  }

  /** Emails as `{id, subject, sender}`, in the order they were selected. */
  emails() {
    return [...this.#emails.values()];
  }

  onChange(listener) {
    this.#listeners.add(listener);
  }

  set(emails, selected) {
    for (const email of emails) {
      if (selected) this.#emails.set(email.id, pick(email));
      else this.#emails.delete(email.id);
    }
    this.#changed();
  }

  toggle(email) {
    this.set([email], !this.has(email.id));
  }

  remove(ids) {
    for (const id of ids) this.#emails.delete(id);
    this.#changed();
  }

  /** Select exactly `emails`, nothing else. */
  replace(emails) {
    this.#emails.clear();
    this.set(emails, true);
  }

  clear() {
    this.#emails.clear();
    this.#changed();
  }

  #changed() {
    for (const listener of this.#listeners) listener(this);
  }
}

function pick(email) {
  return { id: email.id, subject: email.subject ?? "", sender: email.sender ?? "" };
}

/**
 * Where `count` stands against `kind`'s limit: `over` disables the action,
 * `near` (from 90 % up to the limit) warns.
 */
export function limitState(kind, count) {
  const limit = LIMITS[kind];
  return {
    kind,
    limit,
    count,
    over: count > limit,
    near: count <= limit && count >= Math.ceil(limit * WARN_FROM),
    excess: Math.max(0, count - limit),
  };
}
