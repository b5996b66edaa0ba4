// Entry point: wires the page's controls and signs in from the URL or what was kept.

import { $, nameProblem, toast } from "./util.js";
import { state, room, params } from "./state.js";
import { connect, setConn } from "./net.js";
import { resumeSession, savedSession, showLogin, start, wireLogin } from "./auth.js";
import { join, leave } from "./rooms.js";
import { isNearBottom, maybeLoadOlder, scrollToBottom } from "./view.js";
import { autosize, onTypingInput, sendText, stopTyping } from "./send.js";
import { createRoom, inviteUser } from "./members.js";
import { markRead } from "./reads.js";
import { closeThread, sendThreadReply } from "./thread.js";
import { closeSearch, search } from "./search.js";

/** Enter submits `form` (also where a key event carries no text), Shift+Enter makes a new line. */
function enterSubmits(field, form) {
  field.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
}

wireLogin();

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const t = $("text");
  sendText(t.value);
  t.value = "";
  autosize();
});
enterSubmits($("text"), $("composer"));
$("text").addEventListener("input", () => {
  autosize();
  if ($("text").value.trim() && !$("text").value.startsWith("/")) onTypingInput();
  else stopTyping();
});

$("join-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const name = $("join-name").value.trim();
  const problem = nameProblem(name, 64);
  if (problem) return toast(problem, "invalid");
  $("join-name").value = "";
  join(name, true);
});
$("create-form").addEventListener("submit", (e) => { e.preventDefault(); createRoom(); });
$("invite-form").addEventListener("submit", (e) => { e.preventDefault(); inviteUser(); });
$("thread-form").addEventListener("submit", (e) => { e.preventDefault(); sendThreadReply(); });
enterSubmits($("thread-text"), $("thread-form"));
$("thread-close").addEventListener("click", closeThread);
$("search-form").addEventListener("submit", (e) => { e.preventDefault(); search(null); });
enterSubmits($("search-q"), $("search-form"));
$("search-close").addEventListener("click", closeSearch);

$("leave").addEventListener("click", () => leave(state.current));
$("reconnect").addEventListener("click", () => { state.attempt = Math.max(0, state.attempt - 1); connect(); });
$("new-below").addEventListener("click", scrollToBottom);
$("scroller").addEventListener("scroll", () => {
  if (isNearBottom()) $("new-below").classList.add("hidden");
  maybeLoadOlder();
}, { passive: true });
window.addEventListener("online", () => { if (state.creds && !state.ws) connect(); });
document.addEventListener("visibilitychange", () => {
  if (!document.hidden && state.current) markRead(room(state.current));
});

/** A small handle for debugging in the console and for the browser tests. */
window.chatcore = {
  state,
  /**
   * Drops the connection as a network failure would, staying offline for at least
   * `offlineMs`; the client then reconnects and resumes.
   */
  drop(offlineMs = 0) {
    state.offlineUntil = Date.now() + offlineMs;
    if (state.ws) state.ws.close();
  },
  send(text) { sendText(text); },
  /** Messages and events held for a room, in seq order. */
  messages(name) {
    const r = state.rooms.get(name || state.current);
    return r ? [...r.msgs.values()].sort((a, b) => a.seq - b.seq) : [];
  },
};

const initialToken = params.get("token") || sessionStorage.getItem("chatcore.token");
const initialUser = params.get("user") || localStorage.getItem("chatcore.user");
const session = savedSession();
if (params.get("token")) start({ kind: "token", value: params.get("token"), name: "" });
else if (params.get("user") && !nameProblem(params.get("user"), 32)) start({ kind: "guest", value: initialUser, name: initialUser });
else if (session) resumeSession(session);
else if (initialToken) start({ kind: "token", value: initialToken, name: "" });
else if (initialUser && !nameProblem(initialUser, 32)) start({ kind: "guest", value: initialUser, name: initialUser });
else showLogin(params.get("user") ? nameProblem(params.get("user"), 32) : "");
if (!state.creds) setConn("offline", "Offline");
