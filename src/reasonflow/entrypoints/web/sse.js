// A small Server-Sent Events parser for fetch() bodies. EventSource cannot send
// an Authorization header, so the status stream is read with fetch + a reader.

/** Feed text chunks; `onEvent({type, data, id})` runs for each complete event. */
export function createParser(onEvent) {
  let buffer = "";
  let type = "";
  let data = [];
  let id = "";

  function line(text) {
    if (text === "") {
      if (data.length) onEvent({ type: type || "message", data: data.join("\n"), id });
      type = "";
      data = [];
      return;
    }
    if (text.startsWith(":")) return; // a comment, e.g. the keep-alive
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") data.push(value);
    else if (field === "event") type = value;
    else if (field === "id") id = value;
    // "retry" only matters to EventSource's own reconnects; we fall back to polling.
  }

  return {
    feed(chunk) {
      buffer += chunk;
      for (;;) {
        const match = /\r\n|\r|\n/.exec(buffer);
        if (!match) return;
        // A trailing "\r" may be half of a "\r\n" split across chunks: wait for more.
        if (match[0] === "\r" && match.index === buffer.length - 1) return;
        line(buffer.slice(0, match.index));
        buffer = buffer.slice(match.index + match[0].length);
      }
    },
  };
}

/** Read every event of a response body until it ends or `signal` aborts. */
export async function readEvents(body, onEvent, signal) {
  const parser = createParser(onEvent);
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const abort = () => reader.cancel().catch(() => {});
  signal?.addEventListener("abort", abort, { once: true });
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      parser.feed(value);
    }
  } finally {
    signal?.removeEventListener("abort", abort);
  }
}
