// The JSON API client: the bearer token lives in sessionStorage (this tab only).

const TOKEN = "reasonflow.token";
const ACCOUNT = "reasonflow.account";

export class ApiError extends Error {
  constructor(status, body, retryAfter = null) {
    super(body?.detail ?? `HTTP ${status}`);
    this.status = status;
    this.detail = body?.detail ?? "";
    this.extra = body?.extra ?? null;
    this.retryAfter = retryAfter;
  }
}

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN);
  },
  get account() {
    return sessionStorage.getItem(ACCOUNT) ?? "";
  },
  save(token, account) {
    sessionStorage.setItem(TOKEN, token);
    sessionStorage.setItem(ACCOUNT, account);
  },
  clear() {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(ACCOUNT);
  },
};

let onUnauthorized = () => {};

/** Called once when a signed-in call answers 401 (expired or revoked token). */
export function whenUnauthorized(callback) {
  onUnauthorized = callback;
}

/** fetch() with the token; resolves to the Response whatever its status. */
export async function send(path, { method = "GET", body, signal, accept = "application/json", headers: extra = {} } = {}) {
  const headers = { Accept: accept, ...extra };
  const token = session.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      cache: "no-store",
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, { detail: "The server cannot be reached. Check that it is running and try again." });
  }
  if (response.status === 401 && token) onUnauthorized();
  return response;
}

/** A JSON call: the parsed body, or an ApiError carrying the API's error body. */
export async function call(path, options = {}) {
  const response = await send(path, options);
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body, response.headers.get("Retry-After"));
  return body;
}

const BATCH = "/api/v1/emails/batch";

function newKey() {
  // crypto.randomUUID needs a secure context; getRandomValues works on plain http too.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export const api = {
  login: (email, password) => call("/api/v1/auth/login", { method: "POST", body: { email, password } }),
  emails({ status, intent, limit, cursor, threadId, order }) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (status) query.set("status", status);
    if (intent) query.set("intent", intent);
    if (cursor) query.set("cursor", cursor);
    if (threadId) query.set("thread_id", threadId);
    if (order) query.set("order", order);
    return call(`/api/v1/emails?${query}`);
  },
  email: (id) => call(`/api/v1/emails/${encodeURIComponent(id)}`),
  /** approve (with the edited draft), reject or send: the email as it is now. */
  review: (id, action, draft) =>
    call(`/api/v1/emails/${encodeURIComponent(id)}/${action}`, {
      method: "POST",
      body: draft === undefined ? undefined : { draft },
    }),
  /** A new key per submission: a replayed request returns the first job, not a second one. */
  submit: (kind, ids) =>
    call(`${BATCH}/${kind}`, { method: "POST", body: { email_ids: ids }, headers: { "Idempotency-Key": newKey() } }),
  status: (jobId, signal) => call(`${BATCH}/status/${encodeURIComponent(jobId)}`, { signal }),
  stream: (jobId, signal) =>
    send(`${BATCH}/status/${encodeURIComponent(jobId)}/stream`, { signal, accept: "text/event-stream" }),
  cancel: (jobId) => call(`${BATCH}/${encodeURIComponent(jobId)}/cancel`, { method: "POST" }),
  retry: (jobId) => call(`${BATCH}/${encodeURIComponent(jobId)}/retry`, { method: "POST" }),
};
