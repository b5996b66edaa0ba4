// Read positions: `read` when a room is seen, unread badges, and "seen by" from receipts.

import { state, READ_DELAY_MS } from "./state.js";
import { request } from "./net.js";
import { isMessage } from "./messages.js";
import { renderRooms, updateTitle } from "./view.js";

/** The shown room is seen up to its newest seq: clear its badge and tell the server (coalesced). */
export function markRead(r) {
  if (document.hidden || state.current !== r.name) return;
  if (r.unread) { r.unread = 0; renderRooms(); updateTitle(); }
  if (!r.joined || r.maxSeq <= r.readSent || r.readTimer) return;
  r.readTimer = setTimeout(() => flushRead(r), READ_DELAY_MS);
}

/** Leaving the shown room: a `read` still waiting for its coalescing delay goes now, so a
 *  room list asked for next counts the room from where the user left it. */
export function flushRead(r) {
  if (!r.readTimer) return;
  clearTimeout(r.readTimer);
  r.readTimer = null;
  if (!r.joined || r.maxSeq <= r.readSent) return;
  if (request({ type: "read", room: r.name, seq: r.maxSeq }, { room: r.name, quiet: true }) !== null) r.readSent = r.maxSeq;
}

/** `read`: the user's position, from this session's `read` or another of their devices. */
export function onReadPosition(ev) {
  const r = state.rooms.get(ev.room);
  if (!r) {
    const listed = state.listed.find((x) => x.name === ev.room);
    if (listed) { listed.unread = 0; renderRooms(); }
    return;
  }
  r.readSent = Math.max(r.readSent, ev.seq);
  let unread = 0;
  for (const m of r.msgs.values()) if (m.seq > ev.seq && isMessage(m) && m.sender !== state.user) unread += 1;
  r.unread = Math.min(r.unread, unread);
  renderRooms();
  updateTitle();
}

/** `receipts`: the members who read further in the last second, each with their position. */
export function onReceipts(ev) {
  const r = state.rooms.get(ev.room);
  if (!r) return;
  for (const { user, seq } of ev.reads) r.receipts.set(user, Math.max(seq, r.receipts.get(user) || 0));
  renderSeenBy(r);
}

/** "Seen by ann, bob" under the room's newest message: others whose receipt reached it. */
export function renderSeenBy(r) {
  let newest = 0;
  for (const m of r.msgs.values()) if (isMessage(m) && m.seq > newest) newest = m.seq;
  const who = [...r.receipts].filter(([u, seq]) => u !== state.user && newest && seq >= newest).map(([u]) => u).sort();
  r.seenEl.textContent = who.length ? `Seen by ${who.join(", ")}` : "";
}
