// Tiny DOM helpers. Text goes in with textContent only: nothing here parses HTML.

/**
 * Create an element. `props.class` sets the class, `props.text` the text,
 * `props.attrs` plain attributes (values are never parsed as markup).
 */
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.text !== undefined && props.text !== null) node.textContent = String(props.text);
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

export const $ = (id) => document.getElementById(id);

export function show(node, visible = true) {
  node.hidden = !visible;
}

/** "1 email", "3 emails". */
export function plural(count, noun, nouns = `${noun}s`) {
  return `${count} ${count === 1 ? noun : nouns}`;
}

/** “Subject”, with a placeholder for an empty one. */
export function quoted(subject) {
  const text = subject && subject.trim() ? subject.trim() : "(no subject)";
  return `\u201c${text}\u201d`;
}

/** Announce a short message to screen readers through the polite live region. */
export function announce(message) {
  const region = $("announcer");
  region.textContent = "";
  // A new text node on the next frame makes repeated messages announce again.
  requestAnimationFrame(() => {
    region.textContent = message;
  });
}
