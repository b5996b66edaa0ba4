// Being in rooms: join and resume, leave or be removed, history pages, the rooms list.

import { toast } from "./util.js";
import { state, room, roomLabel, CATCH_UP_PAGE, PAGE_SIZE } from "./state.js";
import { request, setConn } from "./net.js";
import { storeKey } from "./auth.js";
import { addMessage, advanceSeen } from "./messages.js";
import { flushPending } from "./send.js";
import { showRoom, renderRooms, renderOnline, maybeLoadOlder, scrollToBottom, updateTitle } from "./view.js";
import { closeThreadOf } from "./thread.js";
import { refreshMembers } from "./members.js";
import { markRead } from "./reads.js";

/** The rooms the user was in, from the last visit. */
export function savedRooms() {
  try { return JSON.parse(localStorage.getItem(storeKey("rooms")) || "[]"); } catch { return []; }
}

export function saveRooms() {
  const names = [...state.rooms.values()].filter((r) => r.want && !r.name.startsWith("dm:")).map((r) => r.name);
  localStorage.setItem(storeKey("rooms"), JSON.stringify(names));
}

/** Joins `name` (resuming when it was joined before), and shows it when `show`. */
export function join(name, show) {
  const r = room(name);
  r.want = true;
  if (show) showRoom(name);
  if (r.joined || r.joining) return;
  const frame = { type: "join", room: name };
  if (r.everJoined) frame.resume_after = r.seen;
  r.joining = request(frame, { room: name, show }) !== null;
  renderRooms();
}

/** Leaves `name` (the user's own choice). */
export function leave(name) {
  if (!name) return;
  const r = state.rooms.get(name);
  if (r && r.joined) request({ type: "leave", room: name }, { room: name });
  else if (r) dropRoom(name);
}

export function onJoined(ev, req) {
  const r = room(ev.room);
  const resumed = r.everJoined;
  r.kind = ev.kind;
  r.joined = true;
  r.joining = false;
  r.want = true;
  r.everJoined = true;
  state.invites.delete(ev.room);
  for (const t of document.querySelectorAll(".toast[data-code=invitation]")) if (t.dataset.room === ev.room) t.remove();
  r.online = new Set(ev.online);
  r.count = null;  // an `online_count` follows in a large room
  const currentTo = ev.current_to || ev.last_seq;
  for (const m of ev.history || []) addMessage(r, m, false, currentTo);
  if (!resumed) {
    r.seen = Math.max(r.seen, ev.last_seq);
    if (r.oldest === Infinity) r.oldest = ev.last_seq + 1;
    r.hasOlder = r.oldest > 1;
  }
  advanceSeen(r);
  if (resumed && r.seen < ev.last_seq) {
    // `complete: false`: more was missed than fits in `joined`; page the rest.
    r.catchUpTo = ev.last_seq;
    catchUp(r);
  }
  renderTop(r);
  saveRooms();
  if (!state.current || (req && req.show)) showRoom(r.name);
  flushPending(r);
  refreshMembers(r.name);
  renderRooms();
  renderOnline();
  setConn(state.conn, document.getElementById("conn").textContent);
  if (state.current === r.name) { markRead(r); maybeLoadOlder(); }
}

function catchUp(r) {
  if (r.seen >= r.catchUpTo) return;
  request(
    { type: "history", room: r.name, after: r.seen, before: r.catchUpTo + 1, limit: CATCH_UP_PAGE },
    { room: r.name, catchUp: true },
  );
}

/**
 * `left`: the answer to our `leave` (with its id), or the server removed us (without one):
 * a kick, a ban, or a deleted room. Either way the room leaves the list; a removal says so.
 */
export function onLeft(ev, req) {
  const r = state.rooms.get(ev.room);
  if (!r) return;
  if (!req) {
    const why = r.deletedBy
      ? `${roomLabel(ev.room)} was deleted by ${r.deletedBy}.`
      : `You were removed from ${roomLabel(ev.room)}.`;
    toast(why, "removed", true);
    // A private room is no longer ours to read: forget its listing until invited again.
    state.listed = state.listed.filter((x) => x.name !== ev.room || x.kind === "public");
  }
  dropRoom(ev.room);
}

function dropRoom(name) {
  const r = state.rooms.get(name);
  if (!r) return;
  r.want = false;
  r.joined = false;
  r.root.remove();
  clearTimeout(r.readTimer);
  state.rooms.delete(name);
  closeThreadOf(name);
  saveRooms();
  if (state.current === name) {
    state.current = null;
    const next = [...state.rooms.values()].find((x) => x.want);
    showRoom(next ? next.name : null);
  }
  renderRooms();
  updateTitle();
}

export function onHistory(ev, req) {
  const r = state.rooms.get(ev.room);
  if (!r) return;
  const scroller = document.getElementById("scroller");
  const shown = r.name === state.current;
  const fromBottom = scroller.scrollHeight - scroller.scrollTop;
  const currentTo = ev.current_to || 0;
  for (const m of ev.messages) addMessage(r, m, false, currentTo);
  advanceSeen(r);
  if (req && req.catchUp) {
    if (ev.messages.length > 0 && r.seen < r.catchUpTo) catchUp(r);
    if (shown) { scrollToBottom(); markRead(r); }
  } else {
    r.loadingOlder = false;
    r.hasOlder = ev.has_more && r.oldest > 1;
    // Keep the view on the message that was at the top before older ones came in.
    if (shown) scroller.scrollTop = scroller.scrollHeight - fromBottom;
  }
  renderTop(r);
}

/** Asks for the page before the oldest message held. */
export function loadOlder(r) {
  if (!r.joined || r.loadingOlder || !r.hasOlder) return;
  r.loadingOlder = true;
  renderTop(r);
  const id = request({ type: "history", room: r.name, before: r.oldest, limit: PAGE_SIZE }, { room: r.name });
  if (id === null) r.loadingOlder = false;
}

export function renderTop(r) {
  r.topEl.textContent = r.loadingOlder
    ? "Loading older messages…"
    : r.hasOlder ? "Scroll up for older messages" : `This is the beginning of ${roomLabel(r.name)}.`;
}

/** The `rooms` answer: the listing, with the server's unread badges for rooms not shown. */
export function onRoomsList(ev) {
  state.listed = ev.rooms || [];
  for (const x of state.listed) {
    const r = state.rooms.get(x.name);
    if (r && r.everJoined && (x.name !== state.current || document.hidden)) r.unread = x.unread || 0;
  }
  renderRooms();
  updateTitle();
}
