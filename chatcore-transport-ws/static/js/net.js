// The socket: connect, reconnect with backoff, resume, requests and their ids.

import { $, base, toast } from "./util.js";
import { state, room, roomLabel, SUBPROTOCOL, BACKOFF_BASE_MS, BACKOFF_MAX_MS } from "./state.js";
import { onEvent } from "./events.js";
import { setPendingStatus } from "./send.js";
import { renderOnline, renderTyping } from "./view.js";
import { showLogin, signedOutByServer } from "./auth.js";

// Close codes saying the client did something wrong: retrying the same thing cannot help,
// so the page waits for the user (PROTOCOL.md, "Close codes").
const FATAL_CLOSE_CODES = new Set([1002, 1007, 1008, 1009]);
/** The session was signed out (logout elsewhere, a reused refresh token, a deleted account). */
const SIGNED_OUT = 4403;

function wsUrl() {
  const q = new URLSearchParams();
  if (state.creds.kind === "guest") q.set("user", state.creds.value);
  else q.set("token", state.creds.value);
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${base}ws?${q}`;
}

/** Shows the connection state in the header pill and the composer. */
export function setConn(conn, text) {
  state.conn = conn;
  const pill = $("conn");
  pill.className = "conn " + conn;
  pill.textContent = text;
  $("reconnect").classList.toggle("hidden", conn !== "offline" || !state.creds);
  const usable = conn === "online" && state.current && room(state.current).joined;
  $("text").disabled = !state.current;
  $("send").disabled = !state.current;
  $("text").placeholder = state.current
    ? `Message ${roomLabel(state.current)}${usable ? "" : " (sent when connected)"}`
    : "Join a room first";
}

/** Opens a socket with the current credentials, closing any previous one. */
export function connect() {
  clearTimeout(state.retryTimer);
  state.retryTimer = null;
  if (state.ws) { state.ws.onclose = null; state.ws.close(); }
  setConn("connecting", state.attempt ? `Reconnecting (attempt ${state.attempt + 1})…` : "Connecting…");
  let ws;
  try {
    ws = new WebSocket(wsUrl(), [SUBPROTOCOL]);
  } catch (e) {
    toast(String(e), "connect");
    setConn("offline", "Offline");
    return;
  }
  state.ws = ws;
  let opened = false;
  ws.onopen = () => { opened = true; };
  ws.onmessage = (e) => {
    if (typeof e.data !== "string") return;
    let ev;
    try { ev = JSON.parse(e.data); } catch { console.warn("unreadable frame", e.data); return; }
    try { onEvent(ev); } catch (err) { console.error("while handling", ev, err); }
  };
  ws.onclose = (e) => onClosed(ws, e, opened);
  ws.onerror = () => {};  // onclose follows and says everything a page can know
}

/**
 * The connection is silently dead (no pong): a close handshake would wait on it, so give it
 * up at once and reconnect.
 */
export function abandon() {
  const ws = state.ws;
  if (!ws) return;
  ws.onclose = null;
  ws.close();
  onClosed(ws, { code: 1006, reason: "" }, true);
}

function onClosed(ws, e, opened) {
  if (ws !== state.ws) return;
  state.ws = null;
  clearInterval(state.pingTimer);
  clearTimeout(state.pongTimer);
  clearInterval(state.roomsTimer);
  for (const r of state.rooms.values()) {
    r.joined = false;
    r.joining = false;
    r.loadingOlder = false;
    r.online.clear();  // unknown while disconnected; `joined` brings it back
    for (const t of r.typing.values()) clearTimeout(t);
    r.typing.clear();
    for (const p of r.pending) {
      p.reqId = null;
      if (!p.failed && p.acked === null) setPendingStatus(p, "waiting for connection…");
    }
  }
  state.requests.clear();
  renderTyping();
  renderOnline();
  if (!state.creds) { setConn("offline", "Offline"); return; }
  if (!opened) { handshakeFailed(); return; }
  const reason = e.reason ? `: ${e.reason}` : "";
  if (e.code === SIGNED_OUT) { signedOutByServer(e.reason); return; }
  if (FATAL_CLOSE_CODES.has(e.code)) {
    setConn("offline", `Disconnected (${e.code})`);
    toast(`The server closed the connection${reason}`, `close ${e.code}`);
    return;
  }
  scheduleReconnect(e.code === 1000 || e.code === 1001 ? `Connection closed${reason}` : "Connection lost");
}

/**
 * The WebSocket never opened. A page cannot see the HTTP status of a refused handshake, so
 * ask /health: a server that answers it but refused us did not like the credentials.
 */
async function handshakeFailed() {
  const creds = state.creds;
  let healthy = false;
  try { healthy = (await fetch(base + "health", { cache: "no-store" })).ok; } catch { /* unreachable */ }
  if (state.creds !== creds || state.ws) return;  // signed out or reconnected meanwhile
  if (healthy) {
    state.refusals += 1;
    if (!state.everWelcomed || state.refusals >= 3) {
      setConn("offline", "Offline");
      showLogin(creds.kind === "guest"
        ? `The server refused to let you in as "${creds.value}". It may require an account.`
        : "The server refused this token (invalid or expired). Sign in again.");
      return;
    }
  }
  scheduleReconnect(healthy ? "Connection refused" : "Server unreachable");
}

function scheduleReconnect(why) {
  const exp = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** state.attempt);
  const delay = Math.max(Math.round(exp / 2 + Math.random() * exp / 2), state.offlineUntil - Date.now());
  state.attempt += 1;
  state.retryAt = Date.now() + delay;
  state.retryTimer = setTimeout(connect, delay);
  const timer = state.retryTimer;
  const tick = () => {
    if (state.retryTimer !== timer) return;  // reconnecting (or signed out) already
    const s = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
    setConn("offline", `${why}. Reconnecting in ${s} s…`);
    if (s > 0) setTimeout(tick, 500);
  };
  tick();
}

/** Sends a command with a fresh request id; `meta` is kept for its answer. Null when offline. */
export function request(frame, meta) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return null;
  const id = state.nextId++;
  state.requests.set(id, Object.assign({ type: frame.type }, meta || {}));
  state.ws.send(JSON.stringify(Object.assign({ id }, frame)));
  return id;
}

/** Sends a frame that expects no answer (typing). */
export function fire(frame) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(frame));
}
