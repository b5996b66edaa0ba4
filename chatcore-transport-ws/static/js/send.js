// Sending: pending copies until the ack, retries with the same nonce, typing, slash commands.

import { $, el, formatTime, makeNonce, senderColor, toast, utf8Bytes } from "./util.js";
import { state, room, TYPING_IDLE_MS, TYPING_REFRESH_MS } from "./state.js";
import { request, fire } from "./net.js";
import { join, leave } from "./rooms.js";
import { showRoom, scrollToBottom } from "./view.js";

/** What the composer sends: a message, or a slash command. */
export function sendText(raw) {
  const text = raw.replace(/\s+$/, "");
  if (!text.trim()) return;
  if (text.startsWith("/") && !text.startsWith("//")) return command(text);
  const body = text.startsWith("//") ? text.slice(1) : text;
  if (!state.current) { toast("Join a room first.", "no_room"); return; }
  queueSend(room(state.current), body, "text");
}

function command(text) {
  const [cmd, ...rest] = text.slice(1).split(/\s+/);
  const arg = text.slice(1 + cmd.length).trim();
  switch (cmd.toLowerCase()) {
    case "join": case "j":
      if (!rest[0]) return toast("Usage: /join ROOM", "usage");
      return join(rest[0], true);
    case "leave": case "part":
      return leave(rest[0] || state.current);
    case "me":
      if (!state.current || !arg) return toast("Usage: /me ACTION (in a room)", "usage");
      return queueSend(room(state.current), arg, "emote");
    case "dm": case "msg": {
      const to = rest[0];
      const body = arg.slice((to || "").length).trim();
      if (!to || !body) return toast("Usage: /dm USER MESSAGE", "usage");
      return request({ type: "dm", to, text: body, nonce: makeNonce() }, { to });
    }
    case "who":
      if (state.current) request({ type: "who", room: state.current }, { room: state.current });
      return;
    case "help": default:
      return toast("Commands: /join ROOM · /leave · /me ACTION · /dm USER TEXT · /who · //text sends a text starting with /", "help", true);
  }
}

/** Shows `text` as pending in room `r` and sends it; `replyTo` makes it a thread reply. */
export function queueSend(r, text, kind, replyTo) {
  if (utf8Bytes(text) > state.maxTextBytes) {
    toast(`Message too long: ${utf8Bytes(text)} bytes, the limit is ${state.maxTextBytes}.`, "too_large");
    return;
  }
  const p = { nonce: makeNonce(), text, kind, replyTo, reqId: null, acked: null, failed: false, node: null };
  p.node = el("div", { class: "msg mine pending" },
    el("span", { class: "time" }, formatTime(Date.now())),
    el("span", { class: "sender", color: senderColor(state.user || "") }, state.user || ""),
    el("span", { class: "text" }, kind === "emote" ? `${state.user} ${text}` : text,
      el("span", { class: "status" }, "sending…")));
  if (kind === "emote") p.node.classList.add("emote");
  r.pending.push(p);
  r.pendingEl.append(p.node);
  stopTyping();
  transmit(r, p);
  if (r.name === state.current) scrollToBottom();
}

function transmit(r, p) {
  if (p.reqId !== null || p.acked !== null || !r.pending.includes(p)) return;
  p.failed = false;
  if (!r.joined) { setPendingStatus(p, "waiting for connection…"); return; }
  const frame = { type: "send", room: r.name, text: p.text, nonce: p.nonce };
  if (p.kind !== "text") frame.kind = p.kind;
  if (p.replyTo) frame.reply_to = p.replyTo;
  p.reqId = request(frame, { room: r.name, nonce: p.nonce });
  setPendingStatus(p, p.reqId === null ? "waiting for connection…" : "sending…");
}

/** Resends every unacknowledged message with its original nonce: never stored twice. */
export function flushPending(r) {
  for (const p of r.pending) if (!p.failed) transmit(r, p);
}

export function setPendingStatus(p, text) {
  const status = p.node.querySelector(".status");
  status.replaceChildren(text);
  p.node.classList.toggle("failed", p.failed);
  if (p.failed) {
    const r = [...state.rooms.values()].find((x) => x.pending.includes(p));
    status.append(
      el("button", { type: "button", onclick: () => { p.failed = false; if (r) transmit(r, p); } }, "Retry"),
      el("button", { type: "button", onclick: () => { if (r) dropPending(r, (x) => x === p); } }, "Discard"),
    );
  }
}

export function dropPending(r, pred) {
  r.pending = r.pending.filter((p) => {
    if (!pred(p)) return true;
    p.node.remove();
    return false;
  });
}

/** An `ack`: a send is stored (its pending copy goes), or a change was accepted. */
export function onAck(ev, req) {
  const r = state.rooms.get(ev.room);
  if (!r) return;
  if (req && req.type === "dm") { showRoom(ev.room); return; }
  if (req && req.done) req.done(ev);
  const p = req && req.nonce ? r.pending.find((x) => x.nonce === req.nonce) : null;
  if (!p) return;
  p.acked = ev.seq;
  // Normally the message itself arrived just before its ack; if not, it comes with the
  // next resume (it is stored), so the pending copy stays until then.
  if (r.msgs.has(ev.seq)) dropPending(r, (x) => x === p);
  else setPendingStatus(p, "sent");
}

/** An error answering a `send`; true when handled here. */
export function onSendError(ev, req) {
  const r = state.rooms.get(req.room);
  const p = r && r.pending.find((x) => x.nonce === req.nonce);
  if (!p) return false;
  p.reqId = null;
  if (ev.code === "rate_limited" || ev.code === "unavailable") {
    // Nothing was stored; the same nonce makes the retry safe in any case.
    setPendingStatus(p, "server busy, retrying…");
    setTimeout(() => transmit(r, p), Math.max(ev.retry_after_ms || 0, 1000 + Math.random() * 2000));
    return true;
  }
  p.failed = true;
  setPendingStatus(p, `not sent: ${ev.message || ev.code}`);
  return true;
}

/** A keystroke in the composer: typing:on, refreshed every few seconds. */
export function onTypingInput() {
  if (!state.current) return;
  const r = room(state.current);
  if (!r.joined) return;
  const now = Date.now();
  if (state.typingRoom !== r.name || now - state.typingSentAt > TYPING_REFRESH_MS) {
    if (state.typingRoom && state.typingRoom !== r.name) stopTyping();
    fire({ type: "typing", room: r.name, on: true });
    state.typingSentAt = now;
    state.typingRoom = r.name;
  }
  clearTimeout(state.typingIdle);
  state.typingIdle = setTimeout(stopTyping, TYPING_IDLE_MS);
}

export function stopTyping() {
  clearTimeout(state.typingIdle);
  if (state.typingRoom) {
    const r = state.rooms.get(state.typingRoom);
    if (r && r.joined) fire({ type: "typing", room: state.typingRoom, on: false });
  }
  state.typingRoom = null;
  state.typingSentAt = 0;
}

/** The composer's height and byte counter. */
export function autosize() {
  const t = $("text");
  t.style.height = "auto";
  t.style.height = Math.min(t.scrollHeight + 2, 160) + "px";
  const bytes = utf8Bytes(t.value);
  const c = $("counter");
  c.textContent = bytes > state.maxTextBytes * 0.8 ? `${bytes}/${state.maxTextBytes}` : "";
  c.classList.toggle("over", bytes > state.maxTextBytes);
}
