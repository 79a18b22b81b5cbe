// Labels and formats for values from the API (all rendered as text).

export const INTENTS = {
  inquiry: "Inquiry",
  meeting_request: "Meeting request",
  complaint: "Complaint",
  follow_up: "Follow-up",
  spam: "Spam",
  other: "Other",
};

export const STATUSES = {
  pending: "Pending",
  processing: "Processing",
  drafted: "Drafted",
  needs_review: "Needs review",
  approved: "Approved",
  sending: "Sending",
  sent: "Sent",
  send_failed: "Send failed",
  rejected: "Rejected",
};

const time = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const day = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const dayYear = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

/** A short date for the table ("14:05" today, "Nov 27" this year) and a full one. */
export function receivedLabel(iso, now = new Date()) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return { short: iso, long: iso };
  let short;
  if (date.toDateString() === now.toDateString()) short = time.format(date);
  else if (date.getFullYear() === now.getFullYear()) short = day.format(date);
  else short = dayYear.format(date);
  return { short, long: full.format(date) };
}

/** "Lena Fischer <lena@example.org>" → {name: "Lena Fischer", address: "lena@example.org"}. */
export function splitSender(sender) {
  const match = /^(.*?)\s*<([^<>]+)>\s*$/.exec(sender ?? "");
  const name = match?.[1].trim().replace(/^"(.*)"$/, "$1");
  if (name) return { name, address: match[2] };
  return { name: sender ?? "", address: "" };
}

export function percent(part, whole) {
  if (!whole) return 0;
  return part >= whole ? 100 : Math.floor((part / whole) * 100);
}
