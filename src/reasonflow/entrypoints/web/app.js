// Entry point: sign-in, the inbox, bulk submissions and following their jobs.

import { api, session, whenUnauthorized } from "./api.js";
import { DetailPanel } from "./detail.js";
import { $, announce, plural } from "./dom.js";
import { Inbox } from "./inbox.js";
import { describeError } from "./messages.js";
import { ProgressModal } from "./modal.js";
import { hideNotice, showNotice } from "./notice.js";
import { Selection } from "./selection.js";
import { isOff, renderToolbar } from "./toolbar.js";
import { FINISHED, JobWatcher } from "./watch.js";

/** The job the modal follows, so a reload of the tab picks it up again. */
const ACTIVE_JOB = "reasonflow.job";
const TITLES = { classify: "Classifying", process: "Processing" };

const selection = new Selection();
const inbox = new Inbox(selection, { onError: showError, onRender: refreshToolbar, onOpen: openEmail });
const detail = new DetailPanel({ onChange: emailChanged, rowButton: (id) => inbox.rowButton(id) });
const modal = new ProgressModal({ onCancel: cancelJob, onRetry: retryFailed, onClose: jobClosed, subjectOf, lookup });
let watcher = null;
let submitting = false;

function subjectOf(id) {
  return inbox.subjectOf(id);
}

async function lookup(id) {
  try {
    const email = await api.email(id);
    inbox.known.set(id, email);
    return email.subject || "(no subject)";
  } catch {
    return "";
  }
}

/** Open an email in the detail panel; next and previous walk the inbox page. */
function openEmail(id) {
  if (!session.token || !id) return;
  detail.open(id, inbox.items.map((email) => email.id));
}

function emailChanged(email) {
  inbox.known.set(email.id, email);
  inbox.load();
}

function refreshToolbar() {
  renderToolbar(selection, inbox.selectedHere(), submitting);
}

function showError(error) {
  showNotice(describeError(error, subjectOf), { onAction: (ids) => selection.remove(ids) });
}

// --- views ------------------------------------------------------------------

function showSignIn(message = "") {
  $("inbox-view").hidden = true;
  $("account").hidden = true;
  $("signin-view").hidden = false;
  $("signin-error").textContent = message;
  $("signin-error").hidden = !message;
  document.title = "Sign in \u00b7 ReasonFlow Batch";
  $("signin-email").focus();
}

function showInbox() {
  $("signin-view").hidden = true;
  $("inbox-view").hidden = false;
  $("account").hidden = false;
  $("account-email").textContent = session.account;
  document.title = "Inbox \u00b7 ReasonFlow Batch";
  refreshToolbar();
  $("inbox-title").focus();
  inbox.load();
  resumeActiveJob();
}

function signOut(message = "") {
  watcher?.stop();
  watcher = null;
  detail.close();
  modal.dismiss();
  sessionStorage.removeItem(ACTIVE_JOB);
  session.clear();
  selection.clear();
  hideNotice();
  showSignIn(message);
}

async function signIn(event) {
  event.preventDefault();
  const address = $("signin-email").value.trim();
  const password = $("signin-password").value;
  const error = $("signin-error");
  if (!address || !password) {
    error.textContent = "Enter your email address and password.";
    error.hidden = false;
    return;
  }
  const button = $("signin-submit");
  button.disabled = true;
  button.textContent = "Signing in\u2026";
  try {
    const token = await api.login(address, password);
    session.save(token.access_token, address.toLowerCase());
    $("signin-password").value = "";
    error.hidden = true;
    showInbox();
  } catch (failure) {
    error.textContent =
      failure.status === 401 || failure.status === 400
        ? "That email address and password do not match an account."
        : describeError(failure, subjectOf).text;
    error.hidden = false;
    $("signin-password").select();
  } finally {
    button.disabled = false;
    button.textContent = "Sign in";
  }
}

// --- jobs -------------------------------------------------------------------

async function submit(kind) {
  const button = $(`${kind}-selected`);
  if (isOff(button)) {
    const reason = $(`${kind}-reason`).textContent;
    if (reason) announce(reason);
    return;
  }
  if (submitting || selection.size === 0) return;
  hideNotice();
  submitting = true;
  refreshToolbar();
  try {
    const accepted = await api.submit(kind, selection.ids());
    follow(accepted, kind, `${TITLES[kind]} ${plural(accepted.total, "email")}`);
  } catch (error) {
    showError(error);
  } finally {
    submitting = false;
    refreshToolbar();
  }
}

/** Open the modal on a job and follow it until it finishes. */
function follow(job, kind, title) {
  watcher?.stop();
  watcher = null;
  modal.open(job, title);
  if (FINISHED.has(job.status)) {
    jobFinished(job);
    return;
  }
  sessionStorage.setItem(ACTIVE_JOB, JSON.stringify({ job_id: job.job_id, kind, title }));
  watch(job.job_id);
}

function watch(jobId) {
  watcher = new JobWatcher(jobId, {
    onStatus: (status) => {
      modal.update(status);
      if (FINISHED.has(status.status)) jobFinished(status);
    },
    onGone: () => {
      sessionStorage.removeItem(ACTIVE_JOB);
      modal.detach({
        title: "The server no longer knows this job.",
        text: "It expired, or the server restarted. The inbox shows where each email stands.",
      });
      inbox.load();
    },
    onTimeout: () => {
      modal.detach(
        {
          title: "Still running after 5 minutes: stopped checking.",
          text: "The job carries on at the server.",
          actionLabel: "Check again",
        },
        {
          onAction: () => {
            modal.reattach();
            watcher?.start();
          },
        },
      );
    },
  });
  watcher.start();
}

let finishedJob = null;

function jobFinished(job) {
  if (finishedJob === job.job_id) return;
  finishedJob = job.job_id;
  watcher?.stop();
  sessionStorage.removeItem(ACTIVE_JOB);
  inbox.load();
}

async function cancelJob(jobId) {
  try {
    const status = await api.cancel(jobId);
    modal.update(status);
    if (FINISHED.has(status.status)) jobFinished(status);
  } catch (error) {
    if (error.status === 409) return; // it finished meanwhile: the watcher tells
    modal.note(describeError(error, subjectOf));
    throw error;
  }
}

async function retryFailed(job, ids) {
  // Exactly the failed emails become the selection, then they are resubmitted.
  selection.replace(ids.map((id) => ({ id, subject: subjectOf(id) })));
  modal.note(null);
  let accepted;
  try {
    accepted = await api.retry(job.job_id);
  } catch (error) {
    if (error.status !== 404 && error.status !== 405) {
      modal.note(describeError(error, subjectOf));
      return;
    }
    // The job expired (or the server has no retry route): submit the same emails anew.
    try {
      accepted = await api.submit(job.kind, ids);
    } catch (failure) {
      modal.note(describeError(failure, subjectOf));
      return;
    }
  }
  follow(accepted, job.kind, `Retrying ${plural(accepted.total, "failed email")}`);
}

function jobClosed() {
  watcher?.stop();
  watcher = null;
  sessionStorage.removeItem(ACTIVE_JOB);
  refreshToolbar();
}

/** After a reload: reopen the modal on the job this tab was following. */
async function resumeActiveJob() {
  const saved = JSON.parse(sessionStorage.getItem(ACTIVE_JOB) ?? "null");
  if (!saved?.job_id) return;
  try {
    const status = await api.status(saved.job_id);
    follow(status, saved.kind, saved.title);
  } catch {
    sessionStorage.removeItem(ACTIVE_JOB);
  }
}

// --- wiring -----------------------------------------------------------------

whenUnauthorized(() => {
  if (session.token) signOut("Your session has expired. Sign in again.");
});
selection.onChange(refreshToolbar);
$("signin-form").addEventListener("submit", signIn);
$("sign-out").addEventListener("click", () => signOut());
$("open-queue").addEventListener("click", () => detail.openQueue());
// Any part of the page (the progress modal's per-email links) opens an email so.
document.addEventListener("rf:open-email", (event) => openEmail(event.detail?.id));
$("classify-selected").addEventListener("click", () => submit("classify"));
$("process-selected").addEventListener("click", () => submit("process"));
$("clear-selection").addEventListener("click", () => {
  selection.clear();
  announce("Selection cleared");
  $("inbox-title").focus();
});

// Follow a job only while the page is shown: hidden tabs make no requests.
document.addEventListener("visibilitychange", () => {
  if (!watcher) return;
  if (document.hidden) watcher.pause();
  else watcher.resume();
});
window.addEventListener("pagehide", () => watcher?.pause());
window.addEventListener("pageshow", (event) => {
  if (event.persisted && !document.hidden) watcher?.resume();
});

if (session.token) showInbox();
else showSignIn();
