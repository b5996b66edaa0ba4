// The thread panel: a root message and its replies (`thread` pages, then live replies and
// changes), and a composer that sends with `reply_to` set.

import { $, el, toast } from "./util.js";
import { state, CHANGE_KINDS } from "./state.js";
import { request } from "./net.js";
import { applyChange } from "./messages.js";
import { renderMessage } from "./render.js";
import { queueSend } from "./send.js";

/** Opens the thread of message `root` in room `name`. */
export function openThread(name, root) {
  const r = state.rooms.get(name);
  if (!r) return;
  state.thread = { room: name, root, msgs: new Map() };
  $("thread").classList.remove("hidden");
  $("thread").dataset.room = name;
  $("thread").dataset.root = String(root);
  drawThread();
  request({ type: "thread", room: name, root }, { room: name });
  $("thread-text").focus();
}

export function closeThread() {
  state.thread = null;
  $("thread").classList.add("hidden");
  $("thread-list").replaceChildren();
}

/** Closes the panel when it shows a thread of room `name` (left or removed). */
export function closeThreadOf(name) {
  if (state.thread && state.thread.room === name) closeThread();
}

/** A `thread` page: replies with current state; asks for the next page while there is one. */
export function onThread(ev) {
  const t = state.thread;
  if (!t || t.room !== ev.room || t.root !== ev.root) return;
  const currentTo = ev.current_to || 0;
  for (const m of ev.messages) {
    const held = t.msgs.get(m.seq);
    if (held && held.currentTo >= currentTo) continue;
    t.msgs.set(m.seq, Object.assign({}, m, { currentTo }));
  }
  drawThread();
  const last = ev.messages.length ? ev.messages[ev.messages.length - 1].seq : null;
  if (ev.has_more && last !== null) request({ type: "thread", room: ev.room, root: ev.root, after: last }, { room: ev.room });
}

/** A live (or resumed) event of room `r`: a new reply, or a change of a message shown here. */
export function threadSees(r, m) {
  const t = state.thread;
  if (!t || t.room !== r.name) return;
  if (CHANGE_KINDS.has(m.kind)) {
    const copy = t.msgs.get(m.target);
    if (copy) applyChange(copy, m);
    if (copy || m.target === t.root) drawThread();
  } else if (m.reply_to === t.root && !t.msgs.has(m.seq)) {
    t.msgs.set(m.seq, Object.assign({}, m, { currentTo: m.seq }));
    drawThread();
  }
}

function drawThread() {
  const t = state.thread;
  const r = t && state.rooms.get(t.room);
  if (!r) return;
  const root = r.msgs.get(t.root);
  const replies = [...t.msgs.values()].sort((a, b) => a.seq - b.seq);
  $("thread-list").replaceChildren(
    el("div", { class: "root" }, root ? renderMessage(r, root) : el("div", { class: "system" }, `Message #${t.root}`)),
    el("div", { class: "system", id: "thread-count" }, replies.length === 1 ? "1 reply" : `${replies.length} replies`),
    ...replies.map((m) => renderMessage(r, m)));
}

/** The panel's composer. */
export function sendThreadReply() {
  const t = state.thread;
  const r = t && state.rooms.get(t.room);
  const text = $("thread-text").value.replace(/\s+$/, "");
  if (!r || !text.trim()) return;
  if (!r.joined) return toast("Not connected.", "offline");
  queueSend(r, text, "text", t.root);
  $("thread-text").value = "";
}
