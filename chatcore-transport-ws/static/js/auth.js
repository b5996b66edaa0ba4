// Signing in: accounts (register, login, refresh, logout), tokens and guests.

import { $, base, el, nameProblem } from "./util.js";
import { state } from "./state.js";
import { connect, setConn } from "./net.js";
import { showRoom } from "./view.js";
import { closeThread } from "./thread.js";

/** Renew an access token this long before it expires. */
const REFRESH_EARLY_MS = 60000;
const SESSION_KEY = "chatcore.session";

/** Key of a per-user setting in localStorage. */
export function storeKey(k) { return `chatcore.${state.user || (state.creds && state.creds.name) || ""}.${k}`; }

/** Keeps the credentials for a reload: a guest's name, a token, or an account's tokens. */
export function remember() {
  const c = state.creds;
  if (c.kind === "guest") localStorage.setItem("chatcore.user", c.value);
  else if (c.kind === "token") sessionStorage.setItem("chatcore.token", c.value);
  else sessionStorage.setItem(SESSION_KEY, JSON.stringify({ user: c.name, access: c.value, refresh: c.refresh, expiresAt: c.expiresAt }));
}

/** An account session kept by [`remember`], or null. */
export function savedSession() {
  try { return JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null"); } catch { return null; }
}

/** Shows the sign-in overlay with an error (as the server worded it) or none. */
export function showLogin(error) {
  $("login").classList.remove("hidden");
  $("login-error").textContent = error || "";
  if (state.creds && state.creds.kind !== "token") $("login-name").value = state.creds.name || "";
  $("login-name").focus();
}

export function hideLogin() { $("login").classList.add("hidden"); }

/** Connects with `creds`, dropping everything of other credentials first. */
export function start(creds) {
  if (state.creds && state.creds.value !== creds.value) resetSession();
  state.creds = creds;
  state.everWelcomed = false;
  state.attempt = 0;
  state.refusals = 0;
  scheduleRefresh();
  connect();
}

function resetSession() {
  if (state.ws) { state.ws.onclose = null; state.ws.close(1000); state.ws = null; }
  clearTimeout(state.retryTimer);
  clearTimeout(state.refreshTimer);
  state.retryTimer = null;
  for (const r of state.rooms.values()) r.root.remove();
  state.rooms.clear();
  state.invites.clear();
  state.listed = [];
  state.current = null;
  state.user = null;
  closeThread();
  showRoom(null);
}

/** Forgets the credentials and shows the sign-in overlay with `message`. */
function signOutLocally(message) {
  localStorage.removeItem("chatcore.user");
  sessionStorage.removeItem("chatcore.token");
  sessionStorage.removeItem(SESSION_KEY);
  resetSession();
  state.creds = null;
  $("me").textContent = "";
  $("logout").classList.add("hidden");
  setConn("offline", "Offline");
  showLogin(message);
}

/** "Sign out": an account's session is ended on the server too. */
export async function logout() {
  const c = state.creds;
  signOutLocally("");
  if (c && c.kind === "account") {
    try { await api("logout", {}, c.value); } catch { /* signed out here regardless */ }
  }
}

/** The server closed the socket with 4403: this session was signed out elsewhere. */
export function signedOutByServer(reason) {
  signOutLocally(reason ? `Signed out: ${reason}` : "You were signed out. Sign in again.");
}

/**
 * POSTs `body` to `/api/{path}`. Resolves to the JSON answer; rejects with an Error whose
 * message is the server's own words (a 429 keeps its "retry in N s").
 */
async function api(path, body, token) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(base + "api/" + path, { method: "POST", headers, body: JSON.stringify(body), cache: "no-store" });
  let json = null;
  try { json = await res.json(); } catch { /* not JSON */ }
  if (res.ok && json) return json;
  const err = json && json.error;
  if (res.status === 404 && err && err.code === "not_found") {
    throw new Error("This server has no accounts: continue as a guest, or use a token.");
  }
  throw new Error(err && err.message ? err.message : `${res.status} ${res.statusText}`);
}

/** Credentials from a login, registration or refresh answer. */
function accountCreds(answer) {
  return {
    kind: "account", value: answer.access_token, name: answer.user, refresh: answer.refresh_token,
    expiresAt: Date.now() + answer.expires_in * 1000,
  };
}

/** Renews the access token before it expires; a refusal signs out. */
function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  const c = state.creds;
  if (!c || c.kind !== "account") return;
  const wait = Math.max(0, c.expiresAt - Date.now() - REFRESH_EARLY_MS);
  state.refreshTimer = setTimeout(() => refresh(c), wait);
}

/** Trades the refresh token for a new pair; the open socket stays, the next connect uses it. */
export async function refresh(c) {
  try {
    const next = accountCreds(await api("refresh", { refresh_token: c.refresh }));
    if (state.creds !== c) return;  // signed out meanwhile
    Object.assign(c, next);
    remember();
    scheduleRefresh();
  } catch (e) {
    if (state.creds === c) signOutLocally(`Your session ended: ${e.message}`);
  }
}

/** Resumes a kept account session: refreshed first when its access token ran out. */
export async function resumeSession(saved) {
  const c = { kind: "account", value: saved.access, name: saved.user, refresh: saved.refresh, expiresAt: saved.expiresAt };
  if (c.expiresAt - Date.now() > REFRESH_EARLY_MS) return start(c);
  try {
    start(accountCreds(await api("refresh", { refresh_token: c.refresh })));
  } catch (e) {
    signOutLocally(`Your session ended: ${e.message}`);
  }
}

async function viaAccount(path) {
  const user = $("login-name").value.trim();
  const password = $("login-password").value;
  const problem = nameProblem(user, 32);
  if (problem) { $("login-error").textContent = problem; return; }
  $("login-error").textContent = path === "register" ? "Creating the account…" : "Signing in…";
  try {
    const answer = await api(path, { user, password });
    $("login-password").value = "";
    $("login-error").textContent = "";
    start(accountCreds(answer));
  } catch (e) {
    $("login-error").textContent = e.message;
  }
}

function asGuest() {
  const name = $("login-name").value.trim();
  const problem = nameProblem(name, 32);
  if (problem) { $("login-error").textContent = problem; return; }
  $("login-error").textContent = "";
  start({ kind: "guest", value: name, name });
}

/** Wires the sign-in overlay. Enter without a password continues as a guest. */
export function wireLogin() {
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    if ($("login-password").value) viaAccount("login"); else asGuest();
  });
  $("login-register").addEventListener("click", () => viaAccount("register"));
  $("login-guest").addEventListener("click", asGuest);
  $("login-with-token").addEventListener("click", () => {
    const token = $("login-token").value.trim();
    if (token) start({ kind: "token", value: token, name: "" });
  });
  $("logout").addEventListener("click", logout);
}

/** The header's "Signed in as NAME". */
export function showMe(user) {
  $("me").replaceChildren("Signed in as ", el("b", {}, user));
  $("logout").classList.remove("hidden");
}
